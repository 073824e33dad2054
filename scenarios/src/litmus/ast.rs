//! The parsed form of a herd7 x86 litmus test.

use std::collections::BTreeMap;
use std::fmt;

use isa::reg::{Gpr, RegRef, Width};

use super::prop::Prop;
use super::state::FinalState;

/// Which herd7 x86 dialect a test is written in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Arch {
    /// `X86`: Intel operand order, 32-bit registers, `$n` immediates.
    #[serde(rename = "X86")]
    X86,
    /// `X86_64`: AT&T operand order, `%reg`, width suffixes.
    #[serde(rename = "X86_64")]
    X86_64,
}

impl Arch {
    /// The spelling of `reg` in `T:REG` locations, as herd7 prints it:
    /// `EAX` for `X86`, `rax` for `X86_64`.
    pub fn reg_name(self, reg: Gpr) -> String {
        match self {
            Arch::X86 => RegRef::new(reg, Width::B4).to_string().to_uppercase(),
            Arch::X86_64 => reg.name().to_string(),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arch::X86 => "X86",
            Arch::X86_64 => "X86_64",
        })
    }
}

/// Something whose final value a litmus test can observe.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// Register `reg` of thread `thread`, written `T:REG`.
    Reg {
        /// Thread index (`P0` is 0).
        thread: usize,
        /// The 64-bit register (any width alias names the same location).
        reg: Gpr,
    },
    /// A shared memory location, written `x` or `[x]`.
    Mem(String),
}

impl Location {
    /// The key herd7 (and `verdicts.json`) uses for this location: `0:EAX`, `1:rax`, `[x]`.
    pub fn key(&self, arch: Arch) -> String {
        match self {
            Location::Reg { thread, reg } => format!("{thread}:{}", arch.reg_name(*reg)),
            Location::Mem(name) => format!("[{name}]"),
        }
    }
}

/// The C type of a memory location: how wide it is and how herd7 prints it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemType {
    /// Size in memory.
    pub width: Width,
    /// Whether values are printed sign-extended.
    pub signed: bool,
}

impl MemType {
    /// herd7's default type for undeclared locations and for registers: `int`.
    pub const INT: MemType = MemType {
        width: Width::B4,
        signed: true,
    };

    /// The type named by a C type keyword in an init block, if it is one we know.
    pub fn from_name(name: &str) -> Option<MemType> {
        let (width, signed) = match name {
            "char" | "int8_t" => (Width::B1, true),
            "uint8_t" => (Width::B1, false),
            "short" | "int16_t" => (Width::B2, true),
            "uint16_t" => (Width::B2, false),
            "int" | "int32_t" => (Width::B4, true),
            "uint32_t" | "unsigned" => (Width::B4, false),
            "long" | "int64_t" => (Width::B8, true),
            "uint64_t" => (Width::B8, false),
            _ => return None,
        };
        Some(MemType { width, signed })
    }

    /// The value herd7 prints for raw bits `bits` of this type.
    pub fn observe(self, bits: u64) -> i64 {
        let bits = bits & self.width.mask();
        if self.signed {
            self.width.sign_extend(bits) as i64
        } else {
            bits as i64
        }
    }
}

/// A memory location's declaration: type and initial value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemInit {
    /// Declared (or default `int`) type.
    pub ty: MemType,
    /// Initial value (0 unless the init block says otherwise).
    pub value: i64,
}

/// The init block `{ ... }`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Init {
    /// Memory locations the init block declares or initialises (see
    /// [`LitmusTest::memory`] for all locations).
    pub memory: BTreeMap<String, MemInit>,
    /// Initial register values by `(thread, register)`; unlisted registers start at 0.
    pub regs: BTreeMap<(usize, Gpr), i64>,
}

/// An instruction operand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A register (its width is the instruction's width).
    Reg(Gpr),
    /// An immediate.
    Imm(i64),
    /// A named memory location.
    Mem(String),
}

/// The read-modify-write operations herd7 accepts (with or without `lock`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RmwOp {
    /// `add [x], src`.
    Add(Operand),
    /// `xor [x], src`.
    Xor(Operand),
    /// `inc [x]`.
    Inc,
    /// `dec [x]`.
    Dec,
}

/// One instruction of one thread, independent of the dialect it was written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Instr {
    /// `mov dst, src`: a store (memory destination), a load (memory source) or a
    /// register move; never memory to memory, never to an immediate.
    Mov {
        /// Operand size.
        width: Width,
        /// Destination (register or memory).
        dst: Operand,
        /// Source (register, immediate or memory).
        src: Operand,
    },
    /// `mfence`.
    Mfence,
    /// `xchg [loc], reg` (always locked on x86).
    Xchg {
        /// Operand size.
        width: Width,
        /// Memory operand.
        loc: String,
        /// Register operand.
        reg: Gpr,
    },
    /// `add`/`xor`/`inc`/`dec` on memory.
    Rmw {
        /// Whether it carries the `lock` prefix.
        lock: bool,
        /// Operation and source operand.
        op: RmwOp,
        /// Operand size.
        width: Width,
        /// Memory operand.
        loc: String,
    },
    /// `cmpxchg [loc], reg`: compare with the accumulator, store `reg` if equal,
    /// otherwise load into the accumulator.
    Cmpxchg {
        /// Whether it carries the `lock` prefix.
        lock: bool,
        /// Operand size.
        width: Width,
        /// Memory operand.
        loc: String,
        /// The value stored on success.
        reg: Gpr,
    },
}

impl Instr {
    /// The memory location the instruction accesses, if any.
    pub fn location(&self) -> Option<&str> {
        match self {
            Instr::Mov {
                dst: Operand::Mem(m),
                ..
            }
            | Instr::Mov {
                src: Operand::Mem(m),
                ..
            } => Some(m),
            Instr::Xchg { loc, .. } | Instr::Rmw { loc, .. } | Instr::Cmpxchg { loc, .. } => {
                Some(loc)
            }
            Instr::Mov { .. } | Instr::Mfence => None,
        }
    }

    /// The registers the instruction names explicitly (not the implicit accumulator
    /// of `cmpxchg`): the registers herd7 reports in its final states.
    pub fn registers(&self) -> Vec<Gpr> {
        let reg = |o: &Operand| match o {
            Operand::Reg(r) => Some(*r),
            Operand::Imm(_) | Operand::Mem(_) => None,
        };
        match self {
            Instr::Mov { dst, src, .. } => reg(dst).into_iter().chain(reg(src)).collect(),
            Instr::Xchg { reg, .. } | Instr::Cmpxchg { reg, .. } => vec![*reg],
            Instr::Rmw {
                op: RmwOp::Add(o) | RmwOp::Xor(o),
                ..
            } => reg(o).into_iter().collect(),
            Instr::Rmw { .. } | Instr::Mfence => Vec::new(),
        }
    }
}

/// The quantifier of the final condition.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Quantifier {
    /// `exists P`: some execution ends in a state satisfying P.
    #[serde(rename = "exists")]
    Exists,
    /// `~exists P`: no execution ends in a state satisfying P.
    #[serde(rename = "~exists")]
    NotExists,
    /// `forall P`: every execution ends in a state satisfying P.
    #[serde(rename = "forall")]
    Forall,
}

impl fmt::Display for Quantifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Quantifier::Exists => "exists",
            Quantifier::NotExists => "~exists",
            Quantifier::Forall => "forall",
        })
    }
}

/// The final clause: a quantifier over a proposition on final states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// `exists`, `~exists` or `forall`.
    pub quantifier: Quantifier,
    /// The proposition P.
    pub prop: Prop,
}

impl Condition {
    /// The condition as herd7 prints it (`herd_condition` in `verdicts.json`):
    /// `exists ([x]=2 /\ 0:EAX=1)`, locations spelled for `arch`, values in decimal.
    pub fn to_herd_string(&self, arch: Arch) -> String {
        format!("{} ({})", self.quantifier, self.prop.to_herd_string(arch))
    }

    /// Whether the quantified condition holds over the final states of a set of runs:
    /// `exists P` if some state satisfies P, `~exists P` if none does, `forall P` if
    /// all do. `None` if a state lacks a location P reads.
    pub fn holds<'s>(
        &self,
        arch: Arch,
        states: impl IntoIterator<Item = &'s FinalState>,
    ) -> Option<bool> {
        let mut some = false;
        let mut all = true;
        for s in states {
            let sat = self.prop.eval(arch, s)?;
            some |= sat;
            all &= sat;
        }
        Some(match self.quantifier {
            Quantifier::Exists => some,
            Quantifier::NotExists => !some,
            Quantifier::Forall => all,
        })
    }
}

/// A parsed litmus test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LitmusTest {
    /// The test name from the header line.
    pub name: String,
    /// The dialect.
    pub arch: Arch,
    /// Initial state.
    pub init: Init,
    /// Each thread's instructions, `P0` first.
    pub threads: Vec<Vec<Instr>>,
    /// Extra locations from a `locations [...]` clause.
    pub locations: Vec<Location>,
    /// The final condition.
    pub condition: Condition,
}

impl LitmusTest {
    /// Every memory location the test mentions anywhere (init block, code,
    /// `locations`, condition) with its type and initial value; locations the init
    /// block does not mention are `int` and start at 0.
    pub fn memory(&self) -> BTreeMap<String, MemInit> {
        let mut all = self.init.memory.clone();
        let in_code = self.threads.iter().flatten().filter_map(Instr::location);
        let observed = self
            .locations
            .iter()
            .chain(self.condition.prop.locations())
            .filter_map(|l| match l {
                Location::Mem(m) => Some(m.as_str()),
                Location::Reg { .. } => None,
            });
        for name in in_code.chain(observed) {
            all.entry(name.to_string()).or_insert(MemInit {
                ty: MemType::INT,
                value: 0,
            });
        }
        all
    }
}
