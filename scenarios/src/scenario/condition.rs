//! Final-state conditions of `expect.final_state`: the litmus proposition syntax
//! (`/\`, `\/`, `~`, parentheses, `true`, `false`) over scenario locations.
//!
//! Locations:
//! - `N:reg`: 64-bit general register `reg` (`rax` ... `r15`) of core N, compared
//!   whole (narrower names such as `eax` are refused, to avoid guessing a width);
//! - `[label]`, `[label+8]`, `[label-8]`, `[0x600000]`: the 8 bytes at that address,
//!   little-endian, as one 64-bit value.
//!
//! Values are decimal or `0x` hexadecimal, optionally negative; they compare as
//! 64-bit two's-complement bit patterns (`-1` equals `0xffffffffffffffff`).

use std::collections::BTreeMap;
use std::ops::Range;

use isa::asm::Program;
use isa::reg::{Gpr, Width};
use sim_core::machine::Machine;

use crate::litmus::{Arch, FinalState, LitmusError, Location, Prop};
use crate::litmus::{LitmusSource, parse_int, parse_prop_with};

use super::error::{SourceFile, did_you_mean};

/// A parsed final-state condition, its memory locations resolved to addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalStateCondition {
    /// The condition as written.
    pub text: String,
    /// The proposition.
    pub prop: Prop,
    /// Address of each memory location, by its text between the brackets.
    addresses: BTreeMap<String, u64>,
}

/// Why a condition does not parse: a message and hint about bytes `span` of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConditionError {
    /// Bytes of the condition text at fault.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl FinalStateCondition {
    /// Parse `text` for a machine of `cores` cores running `program`.
    pub(crate) fn parse(
        text: &str,
        cores: usize,
        program: &Program,
    ) -> Result<FinalStateCondition, ConditionError> {
        let source = LitmusSource::new("condition", text).map_err(|e| condition_error(text, &e))?;
        let prop = parse_prop_with(&source, &source.text, &|token| {
            parse_location(&source, token, cores, program)
        })
        .map_err(|e| condition_error(text, &e))?;
        let addresses = prop
            .locations()
            .into_iter()
            .filter_map(|loc| match loc {
                Location::Mem(inner) => Some((inner.clone(), address(inner, program)?)),
                Location::Reg { .. } => None,
            })
            .collect();
        Ok(FinalStateCondition {
            text: text.to_string(),
            prop,
            addresses,
        })
    }

    /// The values the condition reads, from a finished run, keyed `0:rax`,
    /// `[flag+8]`. `machine` must have every core the condition names (machines
    /// built from the same scenario configuration do).
    pub fn observe(&self, machine: &Machine) -> FinalState {
        let read = |loc: &Location| match loc {
            Location::Reg { thread, reg } => machine.regs(*thread)[reg.index()],
            Location::Mem(inner) => {
                let addr = self.addresses.get(inner).copied().unwrap_or_default();
                machine.memory().read(addr, Width::B8)
            }
        };
        FinalState(
            self.prop
                .locations()
                .into_iter()
                .map(|loc| (loc.key(Arch::X86_64), read(loc) as i64))
                .collect(),
        )
    }

    /// Whether the condition holds on the final state of `machine`.
    pub fn holds(&self, machine: &Machine) -> bool {
        self.prop
            .eval(Arch::X86_64, &self.observe(machine))
            .unwrap_or(false)
    }
}

/// The address of `[inner]`: `label`, `label+N`, `label-N` or a number.
fn address(inner: &str, program: &Program) -> Option<u64> {
    if let Some(addr) = parse_int(inner) {
        return Some(addr as u64);
    }
    let split = inner.find(['+', '-']).unwrap_or(inner.len());
    let (label, offset) = inner.split_at(split);
    let base = program.symbol(label)?;
    let offset = match offset.strip_prefix('+') {
        Some(n) => parse_int(n)?,
        None if offset.is_empty() => 0,
        None => parse_int(offset)?,
    };
    Some(base.wrapping_add(offset as u64))
}

fn parse_location(
    source: &LitmusSource,
    token: &str,
    cores: usize,
    program: &Program,
) -> Result<Location, LitmusError> {
    if let Some((core, reg)) = token.split_once(':') {
        let thread: usize = core.parse().map_err(|_| {
            source.error(
                token,
                "bad core number",
                "registers are written `N:reg`, e.g. `1:rax`",
            )
        })?;
        if thread >= cores {
            return Err(source.error(
                token,
                format!("core {thread} does not exist"),
                super::resolve::cores_hint(cores),
            ));
        }
        let names = Gpr::ALL.map(Gpr::name);
        let lower = reg.to_ascii_lowercase();
        let Some(&gpr) = Gpr::ALL.iter().find(|g| g.name() == lower) else {
            let hint = match crate::litmus::gpr_by_name(reg) {
                Some((gpr, _)) => {
                    format!("conditions compare whole registers: write `{thread}:{gpr}`")
                }
                None => did_you_mean(&lower, names),
            };
            return Err(source.error(token, format!("unknown register \"{reg}\""), hint));
        };
        return Ok(Location::Reg { thread, reg: gpr });
    }
    let Some(inner) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
        return Err(source.error(
            token,
            "expected a location",
            "write `N:reg` for a register or `[label]` for memory, e.g. `1:rax=1 /\\ [flag]=0`",
        ));
    };
    if address(inner, program).is_some() {
        return Ok(Location::Mem(inner.to_string()));
    }
    let label = &inner[..inner.find(['+', '-']).unwrap_or(inner.len())];
    let hint = if program.symbol(label).is_some() {
        "offsets are integers: `[label+8]`, `[label-0x10]`".to_string()
    } else {
        did_you_mean(label, program.symbols.keys().map(String::as_str))
    };
    Err(source.error(token, format!("unknown label \"{label}\""), hint))
}

/// A litmus-parser error (1-based line and column in `text`) as a span of `text`.
fn condition_error(text: &str, e: &LitmusError) -> ConditionError {
    let start = SourceFile::new("", text).offset(e.line, e.col);
    ConditionError {
        span: start..start + e.text.len(),
        message: e.message.clone(),
        hint: e.hint.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        isa::asm::assemble(".data\nflag: .quad 0\nother: .quad 0\n").unwrap()
    }

    fn parse(text: &str) -> Result<FinalStateCondition, ConditionError> {
        FinalStateCondition::parse(text, 2, &program())
    }

    #[test]
    fn locations_resolve_to_registers_and_addresses() {
        let c = parse(r"1:rax=2 /\ ~([flag]=1 \/ [flag+8]=-1) /\ [0x600000]=0").unwrap();
        let flag = program().symbol("flag").unwrap();
        assert_eq!(c.addresses.get("flag"), Some(&flag));
        assert_eq!(c.addresses.get("flag+8"), Some(&(flag + 8)));
        assert_eq!(c.addresses.get("0x600000"), Some(&0x600000));
        assert_eq!(
            c.prop.locations()[0],
            &Location::Reg {
                thread: 1,
                reg: Gpr::Rax
            }
        );
    }

    #[test]
    fn errors_point_at_the_bad_token_with_a_hint() {
        let e = parse(r"0:rax=1 /\ [flg]=1").unwrap_err();
        assert_eq!(
            (e.span, e.message.as_str()),
            (11..16, "unknown label \"flg\"")
        );
        assert_eq!(e.hint, "did you mean \"flag\"?");
        let e = parse("2:rax=1").unwrap_err();
        assert_eq!(e.message, "core 2 does not exist");
        let e = parse("0:eax=1").unwrap_err();
        assert_eq!(e.hint, "conditions compare whole registers: write `0:rax`");
        let e = parse("0:rxa=1").unwrap_err();
        assert_eq!(e.hint, "did you mean \"rax\"?");
        let e = parse(r"(0:rax=1 /\ ").unwrap_err();
        assert_eq!(e.span, 12..12);
        let e = parse("flag=1").unwrap_err();
        assert_eq!(e.message, "expected a location");
    }
}
