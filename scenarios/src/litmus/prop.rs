//! Propositions over final states (`0:EAX=1 /\ ~([x]=2 \/ true)`), locations and values.

use isa::reg::Gpr;

use super::ast::{Arch, Location};
use super::error::{LitmusError, Source};
use super::instr::gpr_by_name;
use super::state::FinalState;

/// A proposition P over a final state. `~` binds tighter than `/\`, which binds
/// tighter than `\/`; both binary operators associate to the right, as in herd7.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prop {
    /// `true`.
    True,
    /// `false`.
    False,
    /// `loc=value`.
    Atom {
        /// The location compared.
        loc: Location,
        /// The value it must hold.
        value: i64,
    },
    /// `~P`.
    Not(Box<Prop>),
    /// `P /\ Q`.
    And(Box<Prop>, Box<Prop>),
    /// `P \/ Q`.
    Or(Box<Prop>, Box<Prop>),
}

impl Prop {
    /// Evaluate over `state`, whose keys are spelled as [`Location::key`] for `arch`.
    /// `None` if the state lacks a location the proposition reads.
    pub fn eval(&self, arch: Arch, state: &FinalState) -> Option<bool> {
        Some(match self {
            Prop::True => true,
            Prop::False => false,
            Prop::Atom { loc, value } => state.get(&loc.key(arch))? == *value,
            Prop::Not(p) => !p.eval(arch, state)?,
            Prop::And(p, q) => p.eval(arch, state)? && q.eval(arch, state)?,
            Prop::Or(p, q) => p.eval(arch, state)? || q.eval(arch, state)?,
        })
    }

    /// herd7's spelling of the proposition: atoms `key=value` (decimal), `a /\ b`,
    /// `a \/ b`, `~a`, with parentheses only where precedence needs them.
    pub fn to_herd_string(&self, arch: Arch) -> String {
        // Binding strength: `\/` 1, `/\` 2, `~` and atoms 3.
        let strength = |p: &Prop| match p {
            Prop::Or(..) => 1,
            Prop::And(..) => 2,
            _ => 3,
        };
        let operand = |p: &Prop, min: u8| {
            let text = p.to_herd_string(arch);
            if strength(p) < min {
                format!("({text})")
            } else {
                text
            }
        };
        match self {
            Prop::True => "true".to_string(),
            Prop::False => "false".to_string(),
            Prop::Atom { loc, value } => format!("{}={value}", loc.key(arch)),
            Prop::Not(p) => format!("~{}", operand(p, 3)),
            Prop::And(p, q) => format!("{} /\\ {}", operand(p, 3), operand(q, 2)),
            Prop::Or(p, q) => format!("{} \\/ {}", operand(p, 2), operand(q, 1)),
        }
    }

    /// Every location the proposition reads, in order of appearance (with repeats).
    pub fn locations(&self) -> Vec<&Location> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'p>(&'p self, out: &mut Vec<&'p Location>) {
        match self {
            Prop::True | Prop::False => {}
            Prop::Atom { loc, .. } => out.push(loc),
            Prop::Not(p) => p.collect(out),
            Prop::And(p, q) | Prop::Or(p, q) => {
                p.collect(out);
                q.collect(out);
            }
        }
    }
}

/// Parse an integer: decimal or `0x` hexadecimal, optionally negative. Values up to
/// `u64::MAX` are accepted and kept as their two's-complement bit pattern.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None if digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse::<u64>().ok()?,
        None => return None,
    };
    Some(if neg {
        (magnitude as i64).wrapping_neg()
    } else {
        magnitude as i64
    })
}

/// Whether `s` is a valid location name (`x`, `z0`, `_a`).
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parse a location: `[x]`, `x` or `T:REG` (register names are case-insensitive and
/// any width alias, `eax` or `rax`, names the same register). `threads` bounds `T`.
pub(crate) fn parse_location(
    src: &Source,
    s: &str,
    threads: usize,
) -> Result<Location, LitmusError> {
    if let Some((t, reg)) = s.split_once(':') {
        let thread = t.parse::<usize>().map_err(|_| {
            src.error(
                s,
                "bad thread number in register location",
                "write registers as `T:REG`, e.g. `0:EAX` or `1:rax`",
            )
        })?;
        if thread >= threads {
            return Err(src.error(
                s,
                format!("thread {thread} does not exist"),
                format!("this test has threads 0..{}", threads.saturating_sub(1)),
            ));
        }
        let reg = gpr_by_name(reg)
            .map(|(g, _)| g)
            .ok_or_else(|| unknown_register(src, s))?;
        return Ok(Location::Reg { thread, reg });
    }
    let name = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    if is_ident(name) && gpr_by_name(name).is_none() {
        Ok(Location::Mem(name.to_string()))
    } else {
        Err(src.error(
            s,
            "expected a location",
            "write `[x]`, `x` or `T:REG`, e.g. `0:EAX`",
        ))
    }
}

fn unknown_register(src: &Source, s: &str) -> LitmusError {
    src.error(
        s,
        "unknown register",
        "x86 registers are EAX, EBX, ECX, EDX, ESI, EDI (or rax, rbx, ... in X86_64)",
    )
}

/// The register named by `name`, for callers that already split off `T:`.
pub(crate) fn register(src: &Source, name: &str) -> Result<Gpr, LitmusError> {
    gpr_by_name(name)
        .map(|(g, _)| g)
        .ok_or_else(|| unknown_register(src, name))
}

/// Parse a whole proposition from `text` (a sub-slice of `src.text`).
pub(crate) fn parse_prop(src: &Source, text: &str, threads: usize) -> Result<Prop, LitmusError> {
    parse_prop_with(src, text, &|s| parse_location(src, s, threads))
}

/// Parse a whole proposition from `text` (a sub-slice of `src.text`), reading each
/// location token with `location` (so other formats can name locations their way).
pub(crate) fn parse_prop_with<'s>(
    src: &'s Source,
    text: &'s str,
    location: &dyn Fn(&'s str) -> Result<Location, LitmusError>,
) -> Result<Prop, LitmusError> {
    let tokens = tokenize(text);
    let mut p = PropParser {
        src,
        tokens,
        pos: 0,
        end: &text[text.len()..],
        location,
    };
    let prop = p.or()?;
    match p.peek() {
        None => Ok(prop),
        Some(t) => Err(src.error(
            t,
            "unexpected text after the condition",
            "combine atoms with `/\\` and `\\/`; check the parentheses",
        )),
    }
}

fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        let c = bytes[i];
        let len = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if text[i..].starts_with("/\\") || text[i..].starts_with("\\/") {
            2
        } else if b"()~=".contains(&c) {
            1
        } else {
            text[i..]
                .find(|ch: char| ch.is_whitespace() || "()~=/\\".contains(ch))
                .map_or(text.len() - i, |n| n.max(1))
        };
        tokens.push(&text[i..i + len]);
        i += len;
    }
    tokens
}

struct PropParser<'s, 'a, 'l> {
    src: &'s Source<'a>,
    tokens: Vec<&'s str>,
    pos: usize,
    /// Empty slice at the end of the proposition, for "unexpected end" errors.
    end: &'s str,
    /// Reads one location token.
    location: &'l dyn Fn(&'s str) -> Result<Location, LitmusError>,
}

impl<'s> PropParser<'s, '_, '_> {
    fn peek(&self) -> Option<&'s str> {
        self.tokens.get(self.pos).copied()
    }

    fn next(&mut self, what: &str) -> Result<&'s str, LitmusError> {
        let t = self.peek().ok_or_else(|| {
            self.src.error(
                self.end,
                format!("condition ends early, expected {what}"),
                "complete the proposition",
            )
        })?;
        self.pos += 1;
        Ok(t)
    }

    fn or(&mut self) -> Result<Prop, LitmusError> {
        let lhs = self.and()?;
        if self.peek() == Some("\\/") {
            self.pos += 1;
            return Ok(Prop::Or(Box::new(lhs), Box::new(self.or()?)));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Prop, LitmusError> {
        let lhs = self.unary()?;
        if self.peek() == Some("/\\") {
            self.pos += 1;
            return Ok(Prop::And(Box::new(lhs), Box::new(self.and()?)));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Prop, LitmusError> {
        let t = self.next("an atom such as `0:EAX=1`")?;
        match t {
            "~" => Ok(Prop::Not(Box::new(self.unary()?))),
            "true" => Ok(Prop::True),
            "false" => Ok(Prop::False),
            "(" => {
                let inner = self.or()?;
                match self.peek() {
                    Some(")") => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some(other) => Err(self.src.error(
                        other,
                        "expected `)`",
                        "combine atoms with `/\\` and `\\/`",
                    )),
                    None => Err(self.src.error(t, "unclosed `(`", "add the matching `)`")),
                }
            }
            _ => {
                let loc = (self.location)(t)?;
                let eq = self.next("`=`")?;
                if eq != "=" {
                    return Err(self.src.error(
                        eq,
                        "expected `=` after a location",
                        "atoms look like `0:EAX=1` or `[x]=2`",
                    ));
                }
                let v = self.next("a value")?;
                let value = parse_int(v).ok_or_else(|| {
                    self.src.error(
                        v,
                        "expected an integer value",
                        "values are decimal or hexadecimal (`0x..`) integers",
                    )
                })?;
                Ok(Prop::Atom { loc, value })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litmus::parse;

    fn cond(prop: &str) -> Prop {
        let text = format!("X86 t\n{{ }}\n P0 | P1 ;\n MFENCE | MFENCE ;\nexists {prop}");
        parse("t.litmus", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .condition
            .prop
    }

    fn atom(thread: usize, value: i64) -> Prop {
        Prop::Atom {
            loc: Location::Reg {
                thread,
                reg: Gpr::Rax,
            },
            value,
        }
    }

    #[test]
    fn precedence_and_associativity() {
        let b = Box::new;
        assert_eq!(
            cond("0:EAX=1 \\/ 1:EAX=2 /\\ ~0:EAX=3"),
            Prop::Or(
                b(atom(0, 1)),
                b(Prop::And(b(atom(1, 2)), b(Prop::Not(b(atom(0, 3))))))
            )
        );
        assert_eq!(
            cond("~(0:EAX=1 \\/ true)"),
            Prop::Not(b(Prop::Or(b(atom(0, 1)), b(Prop::True))))
        );
        assert_eq!(
            cond("[x] = -1"),
            Prop::Atom {
                loc: Location::Mem("x".into()),
                value: -1
            }
        );
    }

    #[test]
    fn herd_printing_round_trips() {
        for text in [
            "(0:EAX=1 \\/ 1:EAX=2) /\\ ~(0:EAX=3 /\\ [x]=0) \\/ ~true",
            "0:EAX=1 /\\ 1:EAX=2 /\\ [x]=-1",
            "~~(false \\/ [y]=0x10)",
        ] {
            let p = cond(text);
            let printed = p.to_herd_string(Arch::X86);
            assert_eq!(cond(&printed), p, "{text} printed as {printed}");
        }
        assert_eq!(
            cond("(0:EAX=1 /\\ (1:EAX=2))").to_herd_string(Arch::X86),
            "0:EAX=1 /\\ 1:EAX=2"
        );
        assert_eq!(
            cond("~(0:EAX=1 \\/ x=16)").to_herd_string(Arch::X86_64),
            "~(0:rax=1 \\/ [x]=16)"
        );
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int("0x10"), Some(16));
        assert_eq!(parse_int("-3"), Some(-3));
        assert_eq!(parse_int("18446744073709551615"), Some(-1));
        for bad in ["", "-", "1e3", "0x", "18446744073709551616", "+1"] {
            assert_eq!(parse_int(bad), None, "{bad}");
        }
    }

    #[test]
    fn evaluation_needs_every_location() {
        let p = cond("(0:EAX=1 /\\ [x]=0)");
        let state = |pairs: &[(&str, i64)]| {
            FinalState(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
        };
        assert_eq!(
            p.eval(Arch::X86, &state(&[("0:EAX", 1), ("[x]", 0)])),
            Some(true)
        );
        assert_eq!(
            p.eval(Arch::X86, &state(&[("0:EAX", 1), ("[x]", 2)])),
            Some(false)
        );
        assert_eq!(p.eval(Arch::X86, &state(&[("0:EAX", 1)])), None);
        assert_eq!(
            p.eval(Arch::X86_64, &state(&[("0:EAX", 1), ("[x]", 0)])),
            None
        );
    }
}
