//! The architectural effect of each uop, defined once.
//!
//! [`execute`] is a pure function of a uop and the values of its inputs: it returns
//! the new destination value (partial-register writes already merged), the new
//! flags, the memory access to perform and, for branches, the redirect. Loads finish
//! with [`complete_load`] once the machine has the bytes. The reference interpreter
//! and the out-of-order core both call these, so the two models can only disagree on
//! *when* things happen, never on *what* an instruction computes.
//!
//! Flags follow the SDM exactly where it defines them. Where it says "undefined", the
//! value chosen here is documented in the `alu` submodule and reported by
//! [`undefined_flags`] so comparisons against hardware can mask it.

use iced_x86::{Instruction, Mnemonic, OpKind};

use crate::flags::Flags;
use crate::uop::{AluOp, Loc, MemAccess, MemRef, Operand, Outcome, Uop, UopInputs, UopKind};

mod alu;
#[cfg(test)]
mod tests;

/// Execute `uop` with the input values `inputs` provides.
///
/// ALU uops produce `dst`/`flags`; loads produce only the access (finish them with
/// [`complete_load`]); stores produce the access with its data; branches produce
/// `redirect` when taken. Fences, system uops and nops have no effect here: their
/// meaning is in the machine model.
///
/// A flag-writing uop's `Outcome::flags` is `inputs.flags()` with the
/// `flags_written` bits replaced. For uops whose [`Uop::reads_flags`] is false those
/// are all six status flags, so only the non-status bits (TF, IF, DF) come from the
/// input: a model that does not supply the real old flags to such uops must keep
/// only the `flags_written` bits of the result.
pub fn execute(uop: &Uop, inputs: &impl UopInputs) -> Outcome {
    match uop.kind {
        UopKind::Alu(op) => execute_alu(uop, op, inputs),
        UopKind::Load { .. } => Outcome {
            mem: Some(MemAccess {
                addr: address(uop, inputs),
                width: uop.width,
                store_data: None,
            }),
            ..Outcome::default()
        },
        UopKind::Store => {
            let data = operand_value(uop.srcs[0], inputs) & uop.width.mask();
            Outcome {
                mem: Some(MemAccess {
                    addr: address(uop, inputs),
                    width: uop.width,
                    store_data: Some(data),
                }),
                ..Outcome::default()
            }
        }
        UopKind::Branch { cond } => {
            let taken = cond.is_none_or(|c| c.eval(inputs.flags()));
            Outcome {
                redirect: taken.then(|| operand_value(uop.srcs[0], inputs)),
                ..Outcome::default()
            }
        }
        UopKind::Fence(_) | UopKind::Sys(_) | UopKind::Nop => Outcome::default(),
    }
}

/// Finish a load: extend the `uop.width` bytes `loaded` (zero- or sign-, per the
/// uop) and merge them into the destination register view.
pub fn complete_load(uop: &Uop, inputs: &impl UopInputs, loaded: u64) -> (Loc, u64) {
    let raw = loaded & uop.width.mask();
    let value = match uop.kind {
        UopKind::Load { sign: true } => uop.width.sign_extend(raw),
        _ => raw,
    };
    write_dst(uop.dst, inputs, value).expect("a load uop has a destination")
}

/// `base + index*scale + disp`, wrapping like the 64-bit address adder.
pub fn effective_address(mem: &MemRef, inputs: &impl UopInputs) -> u64 {
    let base = mem.base.map_or(0, |r| inputs.reg(r));
    let index = mem
        .index
        .map_or(0, |r| inputs.reg(r).wrapping_mul(u64::from(mem.scale)));
    base.wrapping_add(index).wrapping_add(mem.disp as u64)
}

/// The status flags the SDM leaves undefined after `instr`, given that it executes
/// (for shifts by `cl` the count is unknown statically, so the answer covers every
/// count). Tests comparing against hardware mask these.
pub fn undefined_flags(instr: &Instruction) -> Flags {
    match instr.mnemonic() {
        // SDM Vol. 2 AND/OR/XOR/TEST: "The state of the AF flag is undefined."
        Mnemonic::And | Mnemonic::Or | Mnemonic::Xor | Mnemonic::Test => Flags::AF,
        // SDM Vol. 2 IMUL: "The SF, ZF, AF, and PF flags are undefined."
        Mnemonic::Imul => Flags::SF | Flags::ZF | Flags::AF | Flags::PF,
        Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr | Mnemonic::Sar => shift_undefined(instr),
        _ => Flags::empty(),
    }
}

/// SAL/SAR/SHL/SHR: AF undefined for a non-zero count, OF for a count other than 1,
/// CF (SHL/SHR only) when the count is at least the operand width; a masked count of
/// zero changes nothing.
fn shift_undefined(instr: &Instruction) -> Flags {
    let bits = if instr.op0_kind() == OpKind::Register {
        instr.op0_register().size() * 8
    } else {
        instr.memory_size().size() * 8
    };
    let mask = if bits == 64 { 63 } else { 31 };
    let max_count = match instr.op1_kind() {
        OpKind::Register => mask,
        _ => usize::from(instr.immediate8()) & mask,
    };
    let mut undefined = Flags::empty();
    if max_count != 0 {
        undefined |= Flags::AF;
    }
    if max_count > 1 {
        undefined |= Flags::OF;
    }
    if instr.mnemonic() != Mnemonic::Sar && max_count >= bits {
        undefined |= Flags::CF;
    }
    undefined
}

fn address(uop: &Uop, inputs: &impl UopInputs) -> u64 {
    effective_address(&uop.mem.expect("memory uop has an address"), inputs)
}

/// The value of an operand: a register view zero-extended, a temp or immediate as is.
fn operand_value(op: Operand, inputs: &impl UopInputs) -> u64 {
    match op {
        Operand::None => 0,
        Operand::Reg(r) => r.read(inputs.reg(r.gpr)),
        Operand::Temp(t) => inputs.temp(t),
        Operand::Imm(v) => v,
    }
}

/// The location and full new value after writing `value` to `dst`.
fn write_dst(dst: Operand, inputs: &impl UopInputs, value: u64) -> Option<(Loc, u64)> {
    match dst {
        Operand::Reg(r) => Some((Loc::Reg(r.gpr), r.write(inputs.reg(r.gpr), value))),
        Operand::Temp(t) => Some((Loc::Temp(t), value)),
        Operand::None | Operand::Imm(_) => None,
    }
}

fn execute_alu(uop: &Uop, op: AluOp, inputs: &impl UopInputs) -> Outcome {
    let w = uop.width;
    let flags = inputs.flags();
    let a = operand_value(uop.srcs[0], inputs);
    let b = operand_value(uop.srcs[1], inputs);
    let (value, computed) = match op {
        AluOp::Lea => (address(uop, inputs) & w.mask(), flags),
        AluOp::Select(c) => {
            // A full 64-bit choice written over the whole register: never merges.
            let v = if c.eval(flags) { a } else { b };
            let dst = match uop.dst {
                Operand::Reg(r) => Some((Loc::Reg(r.gpr), v)),
                d => write_dst(d, inputs, v),
            };
            return Outcome {
                dst,
                flags: flags_out(uop, flags, flags),
                ..Outcome::default()
            };
        }
        AluOp::Cmov(c) => {
            let old = match uop.dst {
                Operand::Reg(r) => r.read(inputs.reg(r.gpr)),
                _ => 0,
            };
            (if c.eval(flags) { a & w.mask() } else { old }, flags)
        }
        op => alu::compute(op, w, a & w.mask(), b & w.mask(), flags),
    };
    Outcome {
        dst: write_dst(uop.dst, inputs, value & w.mask()),
        flags: flags_out(uop, flags, computed),
        ..Outcome::default()
    }
}

/// The complete new flags: the written bits from `computed`, the rest from `old`.
fn flags_out(uop: &Uop, old: Flags, computed: Flags) -> Option<Flags> {
    let w = uop.flags_written;
    (!w.is_empty()).then(|| (old - w) | (computed & w))
}
