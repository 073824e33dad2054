//! Builds an `iced_x86::Instruction` for a chosen code and encodes it.

use super::error::{Span, SpanError, SpanResult, signed_hex};
use super::operand::{Memory, Operand, OperandKind, Value};
use super::parse::Prefix;
use super::select::{implicit_string_operands, selector_register};
use iced_x86::{Code, Encoder, Instruction, OpCodeOperandKind as K, OpKind, Register};

/// Everything needed to encode one instruction at one address.
pub(crate) struct EncodeRequest<'a> {
    pub code: Code,
    /// Operands in the order `code` expects them.
    pub operands: &'a [Operand],
    pub prefixes: &'a [(Prefix, Span)],
    /// Address of the instruction.
    pub ip: u64,
    /// Length of the instruction (for `[rip + constant]`); 0 while unknown.
    pub len: usize,
}

/// Resolves a value to a number at encoding time.
pub(crate) type Resolve<'a> = &'a dyn Fn(&Value) -> SpanResult<i128>;

/// Whether `value` is `bits` wide once truncated, and its truncation sign-extends from 8 bits.
fn sign_extends_from_8(value: i128, bits: u32) -> bool {
    let modulus = 1i128 << bits;
    if value < -(modulus / 2) || value >= modulus {
        return false;
    }
    let truncated = value.rem_euclid(modulus);
    let signed = if truncated >= modulus / 2 {
        truncated - modulus
    } else {
        truncated
    };
    (-128..=127).contains(&signed)
}

/// `value` reinterpreted as a 64-bit two's-complement number, if it has 64 bits.
pub(crate) fn as_i64(value: i128) -> Option<i64> {
    i64::try_from(value)
        .ok()
        .or_else(|| u64::try_from(value).ok().map(|v| v as i64))
}

/// Whether `value` can be encoded in an immediate of kind `kind`.
pub(crate) fn imm_fits(kind: K, value: i128) -> bool {
    match kind {
        K::imm8 => (-128..=255).contains(&value),
        K::imm8_const_1 => value == 1,
        K::imm8sex16 => sign_extends_from_8(value, 16),
        K::imm8sex32 => sign_extends_from_8(value, 32),
        K::imm8sex64 => sign_extends_from_8(value, 64),
        K::imm16 => (-0x8000..=0xffff).contains(&value),
        K::imm32 => (-0x8000_0000..=0xffff_ffff).contains(&value),
        K::imm32sex64 => as_i64(value).is_some_and(|v| i32::try_from(v).is_ok()),
        K::imm64 => as_i64(value).is_some(),
        _ => false,
    }
}

fn set_immediate(
    instruction: &mut Instruction,
    index: u32,
    kind: K,
    value: i128,
    second_imm8: bool,
) {
    let bits = value as i64;
    let op_kind = match kind {
        K::imm8 | K::imm8_const_1 if second_imm8 => {
            instruction.set_immediate8_2nd(bits as u8);
            OpKind::Immediate8_2nd
        }
        K::imm8 | K::imm8_const_1 => {
            instruction.set_immediate8(bits as u8);
            OpKind::Immediate8
        }
        K::imm8sex16 => {
            instruction.set_immediate8to16(i16::from(bits as i8));
            OpKind::Immediate8to16
        }
        K::imm8sex32 => {
            instruction.set_immediate8to32(i32::from(bits as i8));
            OpKind::Immediate8to32
        }
        K::imm8sex64 => {
            instruction.set_immediate8to64(i64::from(bits as i8));
            OpKind::Immediate8to64
        }
        K::imm16 => {
            instruction.set_immediate16(bits as u16);
            OpKind::Immediate16
        }
        K::imm32 => {
            instruction.set_immediate32(bits as u32);
            OpKind::Immediate32
        }
        K::imm32sex64 => {
            instruction.set_immediate32to64(i64::from(bits as i32));
            OpKind::Immediate32to64
        }
        _ => {
            instruction.set_immediate64(bits as u64);
            OpKind::Immediate64
        }
    };
    instruction.set_op_kind(index, op_kind);
}

/// Address of the next instruction (as iced computes relative targets).
fn next_ip(request: &EncodeRequest<'_>) -> i128 {
    i128::from(request.ip) + request.len as i128
}

/// Signed distance from the next instruction to `target`, in the 64-bit
/// address space (wrapping, as the processor adds it).
fn distance_from_next_ip(request: &EncodeRequest<'_>, target: i128) -> i64 {
    target.wrapping_sub(next_ip(request)) as i64
}

/// The segment used when none is written: `ss` for `rbp`/`rsp` bases, else `ds`.
fn default_segment(base: Register) -> Register {
    match base.full_register() {
        Register::RBP | Register::RSP => Register::SS,
        _ => Register::DS,
    }
}

fn set_memory(
    instruction: &mut Instruction,
    index: u32,
    memory: &Memory,
    request: &EncodeRequest<'_>,
    resolve: Resolve<'_>,
    span: Span,
) -> SpanResult<()> {
    instruction.set_op_kind(index, OpKind::Memory);
    instruction.set_memory_base(memory.base);
    instruction.set_memory_index(memory.index);
    instruction.set_memory_index_scale(memory.scale);
    // Like GNU, drop an explicit override of the default segment.
    if memory.segment != default_segment(memory.base) {
        instruction.set_segment_prefix(memory.segment);
    }
    let displacement = match &memory.displacement {
        Some(value) => resolve(value)?,
        None => 0,
    };
    let relocatable = memory
        .displacement
        .as_ref()
        .is_some_and(|value| value.constant.is_none());
    if memory.base == Register::RIP {
        // `[rip + label]` addresses the label; `[rip + 8]` is 8 past the next instruction.
        let target = if relocatable {
            displacement
        } else {
            next_ip(request).saturating_add(displacement)
        };
        let distance = distance_from_next_ip(request, target);
        if i32::try_from(distance).is_err() && request.len > 0 {
            return Err(SpanError::new(
                span,
                format!("`rip`-relative target is {distance} bytes away, out of range"),
            )
            .with_hint("`[rip + label]` reaches +-2 GiB; load the address with `movabs` instead"));
        }
        let target = as_i64(target)
            .ok_or_else(|| SpanError::new(span, "address does not fit in 64 bits"))?;
        instruction.set_memory_displacement64(target as u64);
        instruction.set_memory_displ_size(8);
        return Ok(());
    }
    let full_width: u32 = if memory.base.is_gpr32() || memory.index.is_gpr32() {
        4
    } else {
        8
    };
    let displ_size = if request.code.op_code().op_kinds().contains(&K::mem_offs) {
        8
    } else if relocatable || (memory.base == Register::None && memory.index == Register::None) {
        full_width
    } else if displacement == 0 {
        0
    } else if (-128..=127).contains(&displacement) {
        1
    } else {
        full_width
    };
    let is_moffs = request.code.op_code().op_kinds().contains(&K::mem_offs);
    let fits = match displ_size {
        8 if is_moffs => as_i64(displacement).is_some(),
        4 => (-0x8000_0000..=0xffff_ffff).contains(&displacement),
        _ => as_i64(displacement).is_some_and(|v| i32::try_from(v).is_ok()),
    };
    if !fits {
        let (bits, hint) = if is_moffs {
            (64, "addresses have 64 bits")
        } else {
            (
                32,
                "use `movabs` with a 64-bit absolute address, or `[rip + label]`",
            )
        };
        let message = format!(
            "displacement {} does not fit in {bits} bits",
            signed_hex(displacement)
        );
        return Err(SpanError::new(span, message).with_hint(hint));
    }
    instruction.set_memory_displacement64(displacement as u64);
    instruction.set_memory_displ_size(displ_size);
    Ok(())
}

fn check_prefixes(instruction: &mut Instruction, request: &EncodeRequest<'_>) -> SpanResult<()> {
    let info = request.code.op_code();
    let has_memory = (0..instruction.op_count()).any(|i| instruction.op_kind(i) == OpKind::Memory);
    for &(prefix, span) in request.prefixes {
        let (allowed, name) = match prefix {
            Prefix::Lock => (info.can_use_lock_prefix() && has_memory, "lock"),
            Prefix::Rep => (info.can_use_rep_prefix(), "rep"),
            Prefix::Repne => (info.can_use_repne_prefix(), "repne"),
        };
        if !allowed {
            let hint = match prefix {
                Prefix::Lock => {
                    "`lock` needs a read-modify-write instruction with a memory destination"
                }
                Prefix::Rep | Prefix::Repne => "`rep` prefixes apply to string instructions",
            };
            return Err(SpanError::new(
                span,
                format!(
                    "`{name}` cannot be used with `{}`",
                    info.instruction_string()
                ),
            )
            .with_hint(hint));
        }
        match prefix {
            Prefix::Lock => instruction.set_has_lock_prefix(true),
            Prefix::Rep => instruction.set_has_rep_prefix(true),
            Prefix::Repne => instruction.set_has_repne_prefix(true),
        }
    }
    Ok(())
}

/// GNU's order of legacy prefixes: segment, `67`, `66`, `f2`/`f3`, `f0`.
fn prefix_rank(byte: u8) -> Option<u8> {
    match byte {
        0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 => Some(0),
        0x67 => Some(1),
        0x66 => Some(2),
        0xf2 | 0xf3 => Some(3),
        0xf0 => Some(4),
        _ => None,
    }
}

/// Reorders the leading legacy prefixes of an encoding into GNU's order.
fn gnu_prefix_order(mut bytes: Vec<u8>) -> Vec<u8> {
    let count = bytes
        .iter()
        .take_while(|&&b| prefix_rank(b).is_some())
        .count();
    bytes[..count].sort_by_key(|&b| prefix_rank(b));
    bytes
}

/// Encodes `request`, resolving values with `resolve`.
pub(crate) fn encode(request: &EncodeRequest<'_>, resolve: Resolve<'_>) -> SpanResult<Vec<u8>> {
    let mut instruction = Instruction::default();
    instruction.set_code(request.code);
    let kinds = request.code.op_code().op_kinds();
    for (index, (op_kind, reg)) in
        (0u32..).zip(implicit_string_operands(request.code).unwrap_or_default())
    {
        instruction.set_op_kind(index, op_kind);
        if op_kind == OpKind::Memory {
            // `xlatb` reads `[rbx + al]`.
            instruction.set_memory_base(Register::RBX);
            instruction.set_memory_index(Register::AL);
            instruction.set_memory_index_scale(1);
        } else {
            instruction.set_op_register(index, reg);
        }
    }
    // A second immediate (`enter 16, 0`) goes into iced's `Immediate8_2nd`.
    let mut seen_immediate = false;
    for ((index, &kind), operand) in (0u32..).zip(kinds).zip(request.operands) {
        match &operand.kind {
            OperandKind::Reg(reg) => {
                let reg = selector_register(request.code, kind, *reg).unwrap_or(*reg);
                instruction.set_op_kind(index, OpKind::Register);
                instruction.set_op_register(index, reg);
            }
            OperandKind::Mem(memory) => set_memory(
                &mut instruction,
                index,
                memory,
                request,
                resolve,
                operand.span,
            )?,
            OperandKind::Value(value) if matches!(kind, K::br64_1 | K::br64_4) => {
                let target = resolve(value)?;
                if as_i64(target).is_none() {
                    let message = format!(
                        "branch target {} does not fit in 64 bits",
                        signed_hex(target)
                    );
                    return Err(SpanError::new(operand.span, message));
                }
                let distance = distance_from_next_ip(request, target);
                let in_reach = if kind == K::br64_1 {
                    i8::try_from(distance).is_ok()
                } else {
                    i32::try_from(distance).is_ok()
                };
                if !in_reach && request.len > 0 {
                    let hint = if kind == K::br64_1 {
                        "this instruction only has an 8-bit displacement (-128..127)"
                    } else {
                        "near branches reach +-2 GiB; use an indirect jump through a register"
                    };
                    return Err(SpanError::new(
                        operand.span,
                        format!("branch target is {distance} bytes away, out of range"),
                    )
                    .with_hint(hint));
                }
                instruction.set_op_kind(index, OpKind::NearBranch64);
                instruction.set_near_branch64(as_i64(target).unwrap_or(0) as u64);
            }
            OperandKind::Value(value) if value.is_address => {
                let memory = Memory::absolute(value.clone());
                set_memory(
                    &mut instruction,
                    index,
                    &memory,
                    request,
                    resolve,
                    operand.span,
                )?;
            }
            OperandKind::Value(value) => {
                let number = resolve(value)?;
                if !imm_fits(kind, number) {
                    return Err(SpanError::new(operand.span, format!("value {} does not fit in this immediate", signed_hex(number)))
                        .with_hint("addresses used as immediates must fit in 32 bits, sign-extended; use `movabs`"));
                }
                set_immediate(&mut instruction, index, kind, number, seen_immediate);
                seen_immediate = true;
            }
        }
    }
    check_prefixes(&mut instruction, request)?;
    let mut encoder = Encoder::new(64);
    let span = request
        .operands
        .iter()
        .map(|o| o.span)
        .reduce(Span::to)
        .unwrap_or_default();
    match encoder.encode(&instruction, request.ip) {
        Ok(_) => Ok(gnu_prefix_order(encoder.take_buffer())),
        Err(error) => Err(SpanError::new(
            span,
            format!("cannot encode this instruction: {error}"),
        )),
    }
}
