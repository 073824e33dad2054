//! Instructions in both herd7 x86 dialects: `X86` (Intel order, `[x]`, `$1`, `EAX`) and
//! `X86_64` (AT&T order, `(x)`, `$1`, `%eax`, width suffixes).

use isa::reg::{Gpr, RegRef, Width};

use super::ast::{Arch, Instr, Operand, RmwOp};
use super::error::{LitmusError, Source};
use super::prop::{is_ident, parse_int};

const HINT_X86: &str = "X86 instructions are MOV, MFENCE, XCHG, CMPXCHG and ADD/XOR/INC/DEC on memory, optionally with LOCK";
const HINT_X86_64: &str = "X86_64 instructions are movl/movq, mfence, xchgl, cmpxchgl and addl/xorl/incl/decl on memory, optionally with lock";

/// The register named `name` (case-insensitive, any width: `rax`, `EAX`, `ax`, `al`),
/// with the width that name implies.
pub(crate) fn gpr_by_name(name: &str) -> Option<(Gpr, Width)> {
    let lower = name.to_ascii_lowercase();
    Gpr::ALL.iter().find_map(|&g| {
        [Width::B8, Width::B4, Width::B2, Width::B1]
            .into_iter()
            .find(|&w| RegRef::new(g, w).to_string() == lower)
            .map(|w| (g, w))
    })
}

/// An operand with its source text, for error messages.
struct Arg<'s> {
    op: Operand,
    /// Register width implied by the register's name.
    reg_width: Option<Width>,
    text: &'s str,
}

/// Parse one table cell (already trimmed, non-empty) in the syntax of `arch`.
pub(crate) fn parse_instr(src: &Source, arch: Arch, cell: &str) -> Result<Instr, LitmusError> {
    let hint = match arch {
        Arch::X86 => HINT_X86,
        Arch::X86_64 => HINT_X86_64,
    };
    let (first, rest) = split_word(cell);
    let (lock, mnemonic, operands) = if first.eq_ignore_ascii_case("lock") {
        let (m, r) = split_word(rest);
        (true, m, r)
    } else {
        (false, first, rest)
    };
    if mnemonic.is_empty() {
        return Err(src.error(cell, "`lock` without an instruction", hint));
    }
    let lower = mnemonic.to_ascii_lowercase();
    let (base, suffix) = split_suffix(arch, &lower)
        .ok_or_else(|| src.error(mnemonic, "unknown instruction", hint))?;
    let mut args = Vec::new();
    if !operands.is_empty() {
        for text in operands.split(',') {
            args.push(parse_operand(src, arch, text.trim())?);
        }
    }
    if arch == Arch::X86_64 {
        // AT&T order is source first; herd also accepts either order for the
        // memory/register pair of xchg and cmpxchg, which `build` handles.
        args.reverse();
    }
    let width = operand_width(src, arch, cell, suffix, &args)?;
    build(src, cell, lock, base, width, args, hint)
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

const MNEMONICS: [&str; 8] = [
    "mov", "mfence", "xchg", "cmpxchg", "add", "xor", "inc", "dec",
];

/// Split an X86_64 width suffix (`movl` → `mov`, 4 bytes). X86 mnemonics have none.
fn split_suffix(arch: Arch, lower: &str) -> Option<(&'static str, Option<Width>)> {
    if let Some(m) = MNEMONICS.iter().find(|m| **m == lower) {
        return Some((m, None));
    }
    if arch == Arch::X86 {
        return None;
    }
    let suffix = lower.chars().last()?;
    let stem = &lower[..lower.len() - suffix.len_utf8()];
    let width = match suffix {
        'b' => Width::B1,
        'w' => Width::B2,
        'l' => Width::B4,
        'q' => Width::B8,
        _ => return None,
    };
    MNEMONICS
        .iter()
        .find(|m| **m == stem && **m != "mfence")
        .map(|m| (*m, Some(width)))
}

fn parse_operand<'s>(src: &Source, arch: Arch, text: &'s str) -> Result<Arg<'s>, LitmusError> {
    let (mem, reg_prefix, mem_hint) = match arch {
        Arch::X86 => (
            text.strip_prefix('[').and_then(|t| t.strip_suffix(']')),
            Some(text),
            "memory operands are written `[x]`",
        ),
        Arch::X86_64 => (
            text.strip_prefix('(').and_then(|t| t.strip_suffix(')')),
            text.strip_prefix('%'),
            "memory operands are written `(x)`, registers `%eax`",
        ),
    };
    let arg = |op, reg_width| {
        Ok(Arg {
            op,
            reg_width,
            text,
        })
    };
    if let Some(name) = mem {
        let name = name.trim();
        if is_ident(name) && gpr_by_name(name).is_none() {
            return arg(Operand::Mem(name.to_string()), None);
        }
        return Err(src.error(text, "bad memory operand", "a memory operand names a location, e.g. `x`; register-indirect addressing is not supported"));
    }
    if let Some(imm) = text.strip_prefix('$') {
        return match parse_int(imm) {
            Some(v) => arg(Operand::Imm(v), None),
            None => Err(src.error(
                text,
                "bad immediate",
                "immediates are integers, e.g. `$1` or `$0x10`",
            )),
        };
    }
    if let Some((g, w)) = reg_prefix.and_then(gpr_by_name) {
        return arg(Operand::Reg(g), Some(w));
    }
    Err(src.error(
        text,
        "bad operand",
        format!("expected a register, an immediate `$n` or a memory operand; {mem_hint}"),
    ))
}

/// The instruction's operand size: the suffix, else the register operands' width, else
/// (X86 only) 32 bits. All of them must agree.
fn operand_width(
    src: &Source,
    arch: Arch,
    cell: &str,
    suffix: Option<Width>,
    args: &[Arg],
) -> Result<Width, LitmusError> {
    let mut width = suffix;
    for a in args {
        if let Some(w) = a.reg_width {
            match width {
                Some(expected) if expected != w => {
                    return Err(src.error(a.text, format!("register is {} bits but the instruction is {} bits", w.bits(), expected.bits()), "use a register of the instruction's width, e.g. `%eax` with `movl`, `%rax` with `movq`"));
                }
                _ => width = Some(w),
            }
        }
    }
    match (width, arch) {
        (Some(w), _) => Ok(w),
        (None, Arch::X86_64) if !args.is_empty() => Err(src.error(
            cell,
            "operand size unknown",
            "add a size suffix, e.g. `movl` or `incq`",
        )),
        // X86 operands are 32-bit; `mfence` has none.
        (None, _) => Ok(Width::B4),
    }
}

fn build(
    src: &Source,
    cell: &str,
    lock: bool,
    base: &str,
    width: Width,
    args: Vec<Arg<'_>>,
    hint: &str,
) -> Result<Instr, LitmusError> {
    let arity = |n: usize| -> Result<(), LitmusError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(src.error(
                cell,
                format!("`{base}` takes {n} operand(s), found {}", args.len()),
                hint,
            ))
        }
    };
    let no_lock = || -> Result<(), LitmusError> {
        if lock {
            Err(src.error(
                cell,
                format!("`lock` cannot prefix `{base}`"),
                "lock applies to xchg, cmpxchg, add, xor, inc and dec",
            ))
        } else {
            Ok(())
        }
    };
    let mem_reg = |args: &[Arg]| -> Result<(String, Gpr), LitmusError> {
        match (&args[0].op, &args[1].op) {
            (Operand::Mem(m), Operand::Reg(r)) | (Operand::Reg(r), Operand::Mem(m)) => {
                Ok((m.clone(), *r))
            }
            _ => Err(src.error(
                cell,
                format!("`{base}` needs one memory and one register operand"),
                hint,
            )),
        }
    };
    let reg_dst = matches!(
        args.first(),
        Some(Arg {
            op: Operand::Reg(_),
            ..
        })
    );
    if let Some(imm) = args
        .iter()
        .find(|a| matches!(a.op, Operand::Imm(v) if !imm_fits(width, v, reg_dst)))
    {
        return Err(src.error(imm.text, format!("immediate does not fit a {}-bit operand", width.bits()), "64-bit memory operands take sign-extended 32-bit immediates; move larger values through a register"));
    }
    match base {
        "mfence" => {
            arity(0)?;
            no_lock()?;
            Ok(Instr::Mfence)
        }
        "mov" => {
            arity(2)?;
            no_lock()?;
            match (&args[0].op, &args[1].op) {
                (Operand::Mem(_), Operand::Mem(_)) | (Operand::Imm(_), _) => Err(src.error(cell, "invalid `mov` operands", "mov moves between a register and memory, or an immediate into either; never memory to memory")),
                (dst, s) => Ok(Instr::Mov { width, dst: dst.clone(), src: s.clone() }),
            }
        }
        "xchg" => {
            arity(2)?;
            let (loc, reg) = mem_reg(&args)?;
            Ok(Instr::Xchg { width, loc, reg })
        }
        "cmpxchg" => {
            arity(2)?;
            let (loc, reg) = mem_reg(&args)?;
            Ok(Instr::Cmpxchg {
                lock,
                width,
                loc,
                reg,
            })
        }
        "inc" | "dec" => {
            arity(1)?;
            let Operand::Mem(loc) = &args[0].op else {
                return Err(src.error(
                    args[0].text,
                    format!("`{base}` needs a memory operand"),
                    "only memory read-modify-writes are supported",
                ));
            };
            let op = if base == "inc" {
                RmwOp::Inc
            } else {
                RmwOp::Dec
            };
            Ok(Instr::Rmw {
                lock,
                op,
                width,
                loc: loc.clone(),
            })
        }
        _ => {
            arity(2)?;
            match (&args[0].op, &args[1].op) {
                (Operand::Mem(loc), s @ (Operand::Reg(_) | Operand::Imm(_))) => {
                    let op = if base == "add" {
                        RmwOp::Add(s.clone())
                    } else {
                        RmwOp::Xor(s.clone())
                    };
                    Ok(Instr::Rmw {
                        lock,
                        op,
                        width,
                        loc: loc.clone(),
                    })
                }
                _ => Err(src.error(
                    cell,
                    format!("invalid `{base}` operands"),
                    "only memory destinations with a register or immediate source are supported",
                )),
            }
        }
    }
}

/// Whether `v` is encodable as an immediate of an instruction of `width`: any value for
/// a 64-bit register move, a sign-extended 32-bit value for other 64-bit operands, and
/// a signed or unsigned value of the operand's size otherwise.
fn imm_fits(width: Width, v: i64, reg_dst: bool) -> bool {
    match width {
        Width::B8 if reg_dst => true,
        Width::B8 => i32::try_from(v).is_ok(),
        w => {
            let bits = w.bits();
            (-(1i64 << (bits - 1))..(1i64 << bits)).contains(&v)
        }
    }
}
