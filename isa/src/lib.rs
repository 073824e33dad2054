//! `isa`: the x86-64 subset synclab understands.
//!
//! - [`asm`]: Intel-syntax (GNU `as -msyntax=intel -mnaked-reg` dialect) assembler.
//! - [`decode`]: bytes to instructions with `iced-x86`, and a disassembler.
//! - [`class`]: instruction classes (serializing, fences, locked, branches...).
//! - [`crack`]: instructions to [`uop::Uop`]s.
//! - [`semantics`]: the architectural effect of each uop, defined once for every model.
//! - [`suggest`]: the nearest known name, for "did you mean" hints.

pub mod asm;
pub mod class;
pub mod crack;
pub mod decode;
pub mod flags;
pub mod reg;
pub mod semantics;
pub mod suggest;
pub mod uop;
