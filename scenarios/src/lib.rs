//! `scenarios`: test programs for the simulator and the oracles that judge its runs.
//!
//! - [`kernel`]: the bundled Linux-like kernel and its builder for a scenario's
//!   tasks and runqueues.
//! - [`litmus`]: herd7 x86 litmus tests, translated to synclab programs and checked
//!   against herd7's x86-TSO verdicts.
//! - [`program`]: loading an assembled program: memory image and per-core entry points.
//! - [`scenario`]: the RON scenario format.

pub mod kernel;
pub mod litmus;
pub mod program;
pub mod scenario;
pub mod sweep;
