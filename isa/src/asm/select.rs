//! Chooses the encoding (`iced_x86::Code`) for a parsed instruction, the way
//! GNU `as` does: the shortest encoding that fits the operands; on a tie the
//! narrowest immediate, then the first in iced's opcode-table order (which puts
//! `89 /r` before `8b /r`, as GNU does); no 16-bit operand-size prefix unless an
//! operand asks for 16 bits; and the 8-bit branch displacement while the target
//! is in reach (decided later, by relaxation).

use super::encode::{EncodeRequest, encode, imm_fits};
use super::error::{Span, SpanError, SpanResult, nearest};
use super::operand::{Memory, Operand, OperandKind};
use super::parse::Instruction;
use super::table;
use iced_x86::{Code, OpCodeOperandKind as K, OpKind, Register};

/// One encoding of an instruction: the code, the operands in the order the
/// code expects them, and its length in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Form {
    pub code: Code,
    pub operands: Vec<Operand>,
    pub len: usize,
}

/// The chosen encodings of an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    /// The encoding used unless `short` applies.
    pub near: Form,
    /// The 8-bit-displacement branch form, used while its target is in reach.
    pub short: Option<Form>,
}

impl Selection {
    /// The form in use given the relaxation state.
    pub(crate) fn form(&self, use_near: bool) -> &Form {
        match &self.short {
            Some(short) if !use_near => short,
            _ => &self.near,
        }
    }
}

fn is_branch_kind(kind: K) -> bool {
    matches!(kind, K::br64_1 | K::br64_4)
}

fn is_memory_kind(kind: K) -> bool {
    matches!(
        kind,
        K::mem
            | K::mem_offs
            | K::r8_or_mem
            | K::r16_or_mem
            | K::r32_or_mem
            | K::r64_or_mem
            | K::mm_or_mem
            | K::xmm_or_mem
    )
}

fn register_fits(kind: K, reg: Register) -> bool {
    match kind {
        K::r8_or_mem | K::r8_reg | K::r8_opcode => reg.is_gpr8(),
        K::r16_or_mem | K::r16_reg | K::r16_rm | K::r16_opcode | K::r16_reg_mem => reg.is_gpr16(),
        K::r32_or_mem | K::r32_reg | K::r32_rm | K::r32_opcode | K::r32_reg_mem => reg.is_gpr32(),
        K::r64_or_mem | K::r64_reg | K::r64_rm | K::r64_opcode | K::r64_reg_mem => reg.is_gpr64(),
        K::seg_reg => reg.is_segment_register(),
        K::cr_reg => reg.is_cr(),
        K::dr_reg => reg.is_dr(),
        K::tr_reg => reg.is_tr(),
        K::mm_reg | K::mm_rm | K::mm_or_mem => reg.is_mm(),
        K::xmm_reg | K::xmm_rm | K::xmm_or_mem => reg.is_xmm(),
        K::es => reg == Register::ES,
        K::cs => reg == Register::CS,
        K::ss => reg == Register::SS,
        K::ds => reg == Register::DS,
        K::fs => reg == Register::FS,
        K::gs => reg == Register::GS,
        K::al => reg == Register::AL,
        K::cl => reg == Register::CL,
        K::ax => reg == Register::AX,
        K::dx => reg == Register::DX,
        K::eax => reg == Register::EAX,
        K::rax => reg == Register::RAX,
        _ => false,
    }
}

/// What the mnemonic being matched allows beyond the operand kinds.
#[derive(Copy, Clone)]
struct MatchRules {
    /// `movabs`: only the 64-bit immediate and 64-bit absolute address forms.
    movabs: bool,
    /// A branch mnemonic reads a bare label as its target, never as memory.
    branch: bool,
    /// Check immediate ranges (off when diagnosing "value out of range").
    check_ranges: bool,
}

fn memory_fits(kind: K, memory: &Memory, code: Code, rules: MatchRules) -> bool {
    if !is_memory_kind(kind) {
        return false;
    }
    let absolute = memory.base == Register::None && memory.index == Register::None;
    if (kind == K::mem_offs) != rules.movabs || (rules.movabs && !absolute) {
        return false;
    }
    let expected = code.op_code().memory_size().size();
    memory
        .size
        .is_none_or(|size| expected == 0 || expected == size)
}

/// Codes that read a 16-bit selector from a 32-bit register field: GNU encodes
/// a 16-bit register source with them, without the `66` prefix.
const SELECTOR_SOURCES: [Code; 6] = [
    Code::Mov_Sreg_r32m16,
    Code::Lldt_r32m16,
    Code::Ltr_r32m16,
    Code::Verr_r32m16,
    Code::Verw_r32m16,
    Code::Lmsw_r32m16,
];

/// The 32-bit register GNU puts in the 32-bit register field of a selector
/// instruction for `reg`: a 16-bit selector source (`lldt ax`, `mov ds, ax`)
/// without `66`, and a 64-bit destination of `mov rax, ds` without `REX.W`.
pub(crate) fn selector_register(code: Code, kind: K, reg: Register) -> Option<Register> {
    let narrowed = kind == K::r32_or_mem
        && ((reg.is_gpr16() && SELECTOR_SOURCES.contains(&code))
            || (reg.is_gpr64() && code == Code::Mov_r32m16_Sreg));
    narrowed.then(|| reg.full_register32())
}

fn operand_fits(kind: K, operand: &Operand, code: Code, rules: MatchRules) -> bool {
    match &operand.kind {
        OperandKind::Reg(reg) => {
            register_fits(kind, *reg) || selector_register(code, kind, *reg).is_some()
        }
        OperandKind::Mem(memory) => memory_fits(kind, memory, code, rules),
        OperandKind::Value(_) if is_branch_kind(kind) => rules.branch,
        OperandKind::Value(value) if value.is_address && !rules.branch => {
            memory_fits(kind, &Memory::absolute(value.clone()), code, rules)
        }
        OperandKind::Value(value) if value.is_address => false,
        OperandKind::Value(value) => match value.constant {
            Some(constant) => {
                imm_fits(kind, constant) || (!rules.check_ranges && imm_fits(kind, 0))
            }
            // Values that depend on addresses get a full-width field, as in GNU as.
            None => matches!(kind, K::imm16 | K::imm32 | K::imm32sex64 | K::imm64),
        },
    }
}

/// The memory operand of a string instruction, addressed by `rsi` or `rdi`,
/// or `[rbx + al]` for `xlatb` (iced's plain memory operand).
fn string_memory_kind(kind: K) -> Option<OpKind> {
    match kind {
        K::seg_rSI => Some(OpKind::MemorySegRSI),
        K::es_rDI => Some(OpKind::MemoryESRDI),
        K::seg_rDI => Some(OpKind::MemorySegRDI),
        K::seg_rBX_al => Some(OpKind::Memory),
        _ => None,
    }
}

/// The register an operand kind stands for, when it stands for exactly one.
fn fixed_register(kind: K) -> Option<Register> {
    Some(match kind {
        K::al => Register::AL,
        K::ax => Register::AX,
        K::eax => Register::EAX,
        K::rax => Register::RAX,
        K::dx => Register::DX,
        _ => return None,
    })
}

/// For string instructions (`movsb`, `rep stosq`, `lodsd`...), which GNU writes
/// without operands: how each operand is set, or `None` for other codes.
pub(crate) fn implicit_string_operands(code: Code) -> Option<Vec<(OpKind, Register)>> {
    let kinds = code.op_code().op_kinds();
    if !kinds.iter().any(|&kind| string_memory_kind(kind).is_some()) {
        return None;
    }
    let implicit = |kind: K| match (string_memory_kind(kind), fixed_register(kind)) {
        (Some(memory), _) => Some((memory, Register::None)),
        (None, Some(reg)) => Some((OpKind::Register, reg)),
        (None, None) => None,
    };
    kinds.iter().map(|&kind| implicit(kind)).collect()
}

fn code_fits(code: Code, operands: &[Operand], rules: MatchRules) -> bool {
    let info = code.op_code();
    let kinds = info.op_kinds();
    if let Some(implicit) = implicit_string_operands(code) {
        return operands.is_empty() && !implicit.is_empty();
    }
    if kinds.len() != operands.len() {
        return false;
    }
    if rules.movabs && !kinds.iter().any(|&k| k == K::imm64 || k == K::mem_offs) {
        return false;
    }
    kinds
        .iter()
        .zip(operands)
        .all(|(&kind, operand)| operand_fits(kind, operand, code, rules))
}

/// The operand orders to try: as written, plus GNU's extra spellings.
fn operand_variants(canonical: &str, operands: &[Operand]) -> Vec<Vec<Operand>> {
    let mut variants = vec![operands.to_vec()];
    match (canonical, operands) {
        // `xchg` is symmetric and GNU accepts `test reg, mem`.
        ("xchg" | "test", [first, second]) => variants.push(vec![second.clone(), first.clone()]),
        // `imul reg, imm` is `imul reg, reg, imm`.
        ("imul", [first, second]) if matches!(second.kind, OperandKind::Value(_)) => {
            variants.push(vec![first.clone(), first.clone(), second.clone()]);
        }
        _ => {}
    }
    variants
}

fn is_16_bit_operand(operand: &Operand) -> bool {
    match &operand.kind {
        OperandKind::Reg(reg) => reg.is_gpr16(),
        OperandKind::Mem(memory) => memory.size == Some(2),
        OperandKind::Value(_) => false,
    }
}

/// Size of the memory operand of `code` (0 when it has none or it is unsized).
fn memory_size(code: Code) -> usize {
    code.op_code().memory_size().size()
}

/// Drops candidates the way GNU disambiguates, or fails when the size is ambiguous.
fn resolve_sizes(
    instruction: &Instruction,
    candidates: Vec<(Code, Vec<Operand>)>,
) -> SpanResult<Vec<(Code, Vec<Operand>)>> {
    let wants_16_bit = instruction.operands.iter().any(is_16_bit_operand);
    let mut candidates: Vec<_> = candidates
        .into_iter()
        .filter(|(code, _)| wants_16_bit || code.op_code().operand_size() != 16)
        .collect();
    let unsized_memory = instruction
        .operands
        .iter()
        .find(|operand| match &operand.kind {
            OperandKind::Mem(memory) => memory.size.is_none(),
            OperandKind::Value(value) => value.is_address,
            OperandKind::Reg(_) => false,
        });
    let Some(unsized_memory) = unsized_memory else {
        return Ok(candidates);
    };
    let mut sizes: Vec<usize> = candidates
        .iter()
        .map(|(code, _)| memory_size(*code))
        .filter(|&s| s != 0)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.len() <= 1 {
        return Ok(candidates);
    }
    // Stack and branch instructions default to 64-bit operands in 64-bit mode.
    let default_64 =
        |code: &Code| code.op_code().default_op_size64() || code.op_code().force_op_size64();
    if candidates.iter().any(|(code, _)| default_64(code)) {
        candidates.retain(|(code, _)| default_64(code) && memory_size(*code) == 8);
        if !candidates.is_empty() {
            return Ok(candidates);
        }
    }
    let keywords: Vec<&str> = sizes
        .iter()
        .filter_map(|&size| size_keyword(size))
        .collect();
    Err(SpanError::new(
        unsized_memory.span,
        format!("ambiguous operand size for `{}`", instruction.mnemonic),
    )
    .with_hint(format!("say which size with {}", keywords.join(", "))))
}

fn size_keyword(size: usize) -> Option<&'static str> {
    Some(match size {
        1 => "`byte ptr`",
        2 => "`word ptr`",
        4 => "`dword ptr`",
        6 => "`fword ptr`",
        8 => "`qword ptr`",
        10 => "`tbyte ptr`",
        16 => "`xmmword ptr`",
        _ => return None,
    })
}

fn describe_operand(operand: &Operand) -> String {
    match &operand.kind {
        OperandKind::Reg(reg) if reg.is_gpr() => format!("r{}", reg.size() * 8),
        OperandKind::Reg(reg) if reg.is_segment_register() => "sreg".to_string(),
        OperandKind::Reg(reg) => format!("{reg:?}").to_ascii_lowercase(),
        OperandKind::Mem(Memory {
            size: Some(size), ..
        }) => format!("m{}", size * 8),
        OperandKind::Mem(_) => "m".to_string(),
        OperandKind::Value(value) if value.is_address => "m".to_string(),
        OperandKind::Value(value) if value.constant.is_some() => "imm".to_string(),
        OperandKind::Value(_) => "label".to_string(),
    }
}

/// The span of all operands, or of the mnemonic when there are none.
pub(crate) fn operands_span(instruction: &Instruction) -> Span {
    match (instruction.operands.first(), instruction.operands.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => instruction.mnemonic_span,
    }
}

fn no_form_error(instruction: &Instruction, codes: &[Code]) -> SpanError {
    let described: Vec<String> = instruction.operands.iter().map(describe_operand).collect();
    let mut forms: Vec<&str> = codes
        .iter()
        .map(|code| code.op_code().instruction_string())
        .collect();
    forms.dedup();
    SpanError::new(
        operands_span(instruction),
        format!(
            "`{}` has no form taking ({})",
            instruction.mnemonic,
            described.join(", ")
        ),
    )
    .with_hint(format!("the forms are: {}", forms.join("; ")))
}

fn out_of_range_error(instruction: &Instruction) -> SpanError {
    let operand = instruction.operands.iter().find(|operand| {
        matches!(&operand.kind, OperandKind::Value(value) if value.constant.is_some() && !value.is_address)
    });
    let (span, value) = match operand.map(|o| (o.span, &o.kind)) {
        Some((span, OperandKind::Value(value))) => (span, value.constant.unwrap_or_default()),
        _ => (operands_span(instruction), 0),
    };
    SpanError::new(
        span,
        format!(
            "value {value} is out of range for `{}`",
            instruction.mnemonic
        ),
    )
    .with_hint("use a smaller value or a wider register")
}

/// Width of the narrowest immediate of `code`: between equally long encodings
/// GNU prefers the sign-extended 8-bit immediate (`66 83 c0 01` for `add ax, 1`).
fn immediate_width(code: Code) -> u8 {
    let widths = code.op_code().op_kinds().iter().map(|kind| match kind {
        K::imm8 | K::imm8_const_1 | K::imm8sex16 | K::imm8sex32 | K::imm8sex64 => 1,
        K::imm16 => 2,
        K::imm32 | K::imm32sex64 => 4,
        K::imm64 => 8,
        _ => u8::MAX,
    });
    widths.min().unwrap_or(u8::MAX)
}

/// GNU encodes `int 3` as the one-byte `int3`.
fn is_int3(instruction: &Instruction) -> bool {
    let is_three =
        |operand: &Operand| matches!(&operand.kind, OperandKind::Value(v) if v.constant == Some(3));
    instruction.mnemonic == "int"
        && matches!(instruction.operands.as_slice(), [only] if is_three(only))
}

/// Chooses the encodings for `instruction`.
pub(crate) fn select(instruction: &Instruction) -> SpanResult<Selection> {
    let canonical = if is_int3(instruction) {
        "int3".to_string()
    } else {
        table::canonical_mnemonic(&instruction.mnemonic)
    };
    let Some(codes) = table::codes(&canonical) else {
        let error = SpanError::new(
            instruction.mnemonic_span,
            format!("unknown mnemonic `{}`", instruction.mnemonic),
        );
        return Err(
            match nearest(&instruction.mnemonic, table::all_mnemonics()) {
                Some(near) => error.with_hint(format!("did you mean `{near}`?")),
                None => error,
            },
        );
    };
    let branch = codes
        .iter()
        .any(|code| code.op_code().op_kinds().iter().any(|&k| is_branch_kind(k)));
    let rules = MatchRules {
        movabs: instruction.mnemonic == "movabs",
        branch,
        check_ranges: true,
    };
    let variants = if is_int3(instruction) {
        vec![Vec::new()]
    } else {
        operand_variants(&canonical, &instruction.operands)
    };
    let matching = |rules: MatchRules| -> Vec<(Code, Vec<Operand>)> {
        variants
            .iter()
            .flat_map(|ops| {
                codes
                    .iter()
                    .filter(|&&code| code_fits(code, ops, rules))
                    .map(|&code| (code, ops.clone()))
            })
            .collect()
    };
    let candidates = matching(rules);
    if candidates.is_empty() {
        let ignoring_ranges = matching(MatchRules {
            check_ranges: false,
            ..rules
        });
        return Err(if ignoring_ranges.is_empty() {
            no_form_error(instruction, codes)
        } else {
            out_of_range_error(instruction)
        });
    }
    let candidates = resolve_sizes(instruction, candidates)?;
    let mut shortest: [Option<Form>; 2] = [None, None];
    let mut first_error = None;
    for (code, operands) in candidates {
        // `xchg eax, eax` must not become `90`, which is `nop` in 64-bit mode.
        let accumulator_swap = matches!(
            code,
            Code::Xchg_r32_EAX | Code::Xchg_r64_RAX | Code::Xchg_r16_AX
        ) && matches!(operands.first().map(|o| &o.kind), Some(OperandKind::Reg(r)) if r.full_register() == Register::RAX);
        if accumulator_swap {
            continue;
        }
        let request = EncodeRequest {
            code,
            operands: &operands,
            prefixes: &instruction.prefixes,
            ip: 0,
            len: 0,
        };
        match encode(&request, &|value| Ok(value.constant.unwrap_or(0))) {
            Ok(bytes) => {
                let is_short = code.op_code().op_kinds().contains(&K::br64_1);
                let slot = &mut shortest[usize::from(is_short)];
                let better = slot.as_ref().is_none_or(|best| {
                    (bytes.len(), immediate_width(code)) < (best.len, immediate_width(best.code))
                });
                if better {
                    *slot = Some(Form {
                        code,
                        operands,
                        len: bytes.len(),
                    });
                }
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match shortest {
        [Some(near), short] => Ok(Selection { near, short }),
        [None, Some(short_only)] => Ok(Selection {
            near: short_only,
            short: None,
        }),
        [None, None] => Err(first_error.unwrap_or_else(|| no_form_error(instruction, codes))),
    }
}
