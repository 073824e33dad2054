//! Bytes to instructions: decoding with `iced-x86`, the [`DecodedInst`] bundle every
//! model caches, and a GNU/objdump-style disassembler for traces and the UI.

use iced_x86::{
    Decoder, DecoderError, DecoderOptions, Formatter, Instruction, IntelFormatter, MemorySize,
    MemorySizeOptions,
};
use thiserror::Error;

use crate::class::{InstClass, classify};
use crate::crack::{CrackError, crack};
use crate::uop::Uop;

/// Longest legal x86 instruction, in bytes.
pub const MAX_INST_LEN: usize = 15;

/// Why bytes at an address are not something synclab can execute.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The bytes are not a valid x86-64 instruction (a real CPU raises #UD).
    #[error("invalid instruction at {ip:#x}: bytes {bytes:02x?}")]
    Invalid {
        /// Address of the first byte.
        ip: u64,
        /// The bytes examined (up to 15).
        bytes: Vec<u8>,
    },
    /// The buffer ends in the middle of an instruction.
    #[error("instruction at {ip:#x} is cut short after {len} bytes")]
    Truncated {
        /// Address of the first byte.
        ip: u64,
        /// Bytes that were available.
        len: usize,
    },
    /// A valid instruction outside the modelled subset.
    #[error("at {ip:#x}: {source}")]
    Unsupported {
        /// Address of the instruction.
        ip: u64,
        /// What is unsupported.
        source: CrackError,
    },
}

/// Decode one 64-bit-mode instruction at the start of `bytes`, which sit at address
/// `ip` (needed for RIP-relative operands and branch targets).
pub fn decode(bytes: &[u8], ip: u64) -> Result<Instruction, DecodeError> {
    let mut decoder = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let instr = decoder.decode();
    match decoder.last_error() {
        DecoderError::None => Ok(instr),
        DecoderError::NoMoreBytes => Err(DecodeError::Truncated {
            ip,
            len: bytes.len(),
        }),
        _ => Err(DecodeError::Invalid {
            ip,
            bytes: bytes[..bytes.len().min(MAX_INST_LEN)].to_vec(),
        }),
    }
}

/// A decoded instruction with everything a model needs to execute it, computed once
/// so pipelines can cache it by address (and re-check `bytes` to catch code changes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedInst {
    /// Address of the first byte.
    pub ip: u64,
    /// Length in bytes.
    pub len: u8,
    /// The instruction's bytes (`len` of them), zero-padded.
    pub bytes: [u8; MAX_INST_LEN],
    /// Ordering and control-flow classes.
    pub class: InstClass,
    /// The uops, in program order.
    pub uops: Vec<Uop>,
    /// The iced instruction, for formatting and anything not captured above.
    pub instr: Instruction,
}

impl DecodedInst {
    /// Address of the next sequential instruction.
    pub fn next_ip(&self) -> u64 {
        self.ip.wrapping_add(u64::from(self.len))
    }

    /// The instruction's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Decode, classify and crack one instruction. Instructions outside the modelled
/// subset are an error naming the mnemonic.
pub fn decode_inst(bytes: &[u8], ip: u64) -> Result<DecodedInst, DecodeError> {
    let instr = decode(bytes, ip)?;
    let uops = crack(&instr).map_err(|source| DecodeError::Unsupported { ip, source })?;
    let len = instr.len();
    let mut buf = [0u8; MAX_INST_LEN];
    buf[..len].copy_from_slice(&bytes[..len]);
    Ok(DecodedInst {
        ip,
        len: len as u8,
        bytes: buf,
        class: classify(&instr),
        uops,
        instr,
    })
}

/// Intel-syntax text as GNU objdump prints it, in lower case: `mov eax, dword ptr
/// [rbx+0x8]`, hex with `0x`, branch targets as absolute addresses. The text is
/// valid input for [`crate::asm::assemble`].
pub fn format_intel(instr: &Instruction) -> String {
    let mut out = String::new();
    format_with(&mut formatter(), instr, &mut out);
    out
}

/// Format with `f`, which [`formatter`] configured. Like objdump, descriptor-table
/// operands (`lgdt [rax]`) get no size keyword: GNU knows no `fword` for them.
fn format_with(f: &mut IntelFormatter, instr: &Instruction, out: &mut String) {
    let sizes = match instr.memory_size() {
        MemorySize::Fword6 | MemorySize::Fword10 => MemorySizeOptions::Never,
        _ => MemorySizeOptions::Always,
    };
    f.options_mut().set_memory_size_options(sizes);
    f.format(instr, out);
}

fn formatter() -> IntelFormatter {
    let mut f = IntelFormatter::new();
    let o = f.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_small_hex_numbers_in_decimal(false);
    o.set_space_after_operand_separator(true);
    o.set_first_operand_char_index(0);
    o.set_rip_relative_addresses(true);
    o.set_always_show_scale(true);
    o.set_branch_leading_zeros(false);
    o.set_show_branch_size(false);
    f
}

/// One line of a disassembly listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisasmLine {
    /// Address of the first byte.
    pub addr: u64,
    /// The instruction's bytes (one byte for an undecodable one).
    pub bytes: Vec<u8>,
    /// Formatted instruction, or `.byte 0x..` for bytes that do not decode.
    pub text: String,
}

/// `bytes` as space-separated lower-case hex pairs (`bf 01 00`), as listings print them.
pub fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Disassemble `bytes` loaded at `base` linearly. Bytes that do not decode are
/// shown one at a time as `.byte 0x..` and decoding resumes at the next byte, as
/// objdump does.
pub fn disassemble(bytes: &[u8], base: u64) -> Vec<DisasmLine> {
    let mut fmt = formatter();
    let mut lines = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let addr = base.wrapping_add(pos as u64);
        let line = match decode(&bytes[pos..], addr) {
            Ok(instr) => {
                let mut text = String::new();
                format_with(&mut fmt, &instr, &mut text);
                DisasmLine {
                    addr,
                    bytes: bytes[pos..pos + instr.len()].to_vec(),
                    text,
                }
            }
            Err(_) => DisasmLine {
                addr,
                bytes: vec![bytes[pos]],
                text: format!(".byte 0x{:02x}", bytes[pos]),
            },
        };
        pos += line.bytes.len();
        lines.push(line);
    }
    lines
}

/// Also home of the hex helpers other modules' tests use.
#[cfg(test)]
pub(crate) mod tests;
