//! Micro-operations: the one vocabulary every model executes.
//!
//! An x86 instruction is cracked (see `crack`) into a short list of [`Uop`]s. The
//! reference interpreter runs them in order; the out-of-order core renames and
//! schedules them. Both evaluate them with [`crate::semantics::execute`], so the
//! architectural effect of every instruction is defined exactly once.
//!
//! Storage a uop can name ([`Loc`]): the 16 general registers, a few per-instruction
//! temporaries (dead after the instruction retires), and RFLAGS.

use crate::flags::{Cond, Flags};
use crate::reg::{Gpr, RegRef, Width};

/// Number of temporaries an instruction's uops may use (`Temp(0..MAX_TEMPS)`).
pub const MAX_TEMPS: u8 = 4;

/// A storage location a uop reads or writes; the unit of register renaming.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    /// A general-purpose register (always the whole 64 bits).
    Reg(Gpr),
    /// An instruction-local temporary.
    Temp(u8),
    /// The RFLAGS status bits.
    Flags,
}

/// A uop operand.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Operand {
    /// Not used.
    #[default]
    None,
    /// A register view (`eax`, `ah`, `r9`...).
    Reg(RegRef),
    /// A temporary, read as a full 64-bit value.
    Temp(u8),
    /// An immediate, already sign- or zero-extended as the instruction specifies.
    Imm(u64),
}

impl Operand {
    /// The location this operand reads, if any.
    pub fn loc(self) -> Option<Loc> {
        match self {
            Operand::Reg(r) => Some(Loc::Reg(r.gpr)),
            Operand::Temp(t) => Some(Loc::Temp(t)),
            Operand::None | Operand::Imm(_) => None,
        }
    }
}

/// A memory address: `base + index*scale + disp`. RIP-relative operands are
/// resolved to an absolute `disp` when the instruction is cracked.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct MemRef {
    /// Base register.
    pub base: Option<Gpr>,
    /// Index register.
    pub index: Option<Gpr>,
    /// 1, 2, 4 or 8.
    pub scale: u8,
    /// Displacement (absolute address for RIP-relative and absolute operands).
    pub disp: i64,
}

/// Two-input integer operations. Flags written are given by [`Uop::flags_written`];
/// with an empty mask the flags the operation would compute are discarded.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `a + b`.
    Add,
    /// `a + b + CF`.
    Adc,
    /// `a - b` (also `cmp` with no destination).
    Sub,
    /// `a - b - CF`.
    Sbb,
    /// `a & b` (also `test` with no destination).
    And,
    /// `a | b`.
    Or,
    /// `a ^ b`.
    Xor,
    /// `a + 1`, CF unchanged.
    Inc,
    /// `a - 1`, CF unchanged.
    Dec,
    /// `0 - a`.
    Neg,
    /// `!a`, no flags.
    Not,
    /// `a << (b & mask)`; a zero count leaves the flags unchanged.
    Shl,
    /// Logical `a >> (b & mask)`.
    Shr,
    /// Arithmetic `a >> (b & mask)`.
    Sar,
    /// Truncated signed multiply (`imul r, r/m[, imm]`): CF=OF=overflow.
    Imul,
    /// Copy `a` (`mov`).
    Mov,
    /// Zero-extend `a` from the given width (`movzx`).
    Zext(Width),
    /// Sign-extend `a` from the given width (`movsx`, `movsxd`).
    Sext(Width),
    /// `a` if the condition holds else `b`, as a full 64-bit value; never merges.
    Select(Cond),
    /// `cmovcc`: `a` if the condition holds else the old destination. A 32-bit
    /// destination is zero-extended either way (SDM Vol. 2 CMOVcc).
    Cmov(Cond),
    /// `setcc`: 1 if the condition holds else 0.
    Setcc(Cond),
    /// The effective address of [`Uop::mem`] (`lea`, address arithmetic).
    Lea,
}

/// Memory-ordering instructions that are not serializing.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FenceKind {
    /// Later loads and stores wait for all earlier ones, store buffer drained.
    Mfence,
    /// Later instructions do not execute until earlier ones complete locally.
    Lfence,
    /// Earlier stores are ordered before later stores.
    Sfence,
}

/// Instructions whose effect is on machine state outside the register file and
/// memory image; the machine model (not the ALU) carries them out.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum SysOp {
    Syscall,
    Sysret,
    Sysenter,
    Sysexit,
    Iret,
    /// `int n` (`int3` is `Int(3)`).
    Int(u8),
    Hlt,
    Ud2,
    Cpuid,
    Rdtsc,
    Rdtscp,
    Rdmsr,
    Wrmsr,
    /// `mov crN, reg` (source in [`Uop::srcs`]`[0]`).
    MovToCr(u8),
    /// `mov reg, crN` (destination in [`Uop::dst`]).
    MovFromCr(u8),
    /// `mov drN, reg`.
    MovToDr(u8),
    Invlpg,
    Wbinvd,
    Invd,
    Serialize,
    Swapgs,
    /// `sti`: set RFLAGS.IF (CPL 0 only here: IOPL is always 0).
    Sti,
    /// `cli`: clear RFLAGS.IF.
    Cli,
    Pause,
    Clflush,
    /// LGDT, LIDT, LLDT, LTR, INVPCID and other descriptor-table loads: only their
    /// serializing effect is modelled.
    DescriptorLoad,
}

/// What a uop does.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum UopKind {
    /// `dst = op(srcs[0], srcs[1])`.
    Alu(AluOp),
    /// `dst = extend([mem])`; `sign` selects sign- instead of zero-extension from `width`.
    Load {
        /// Sign-extend instead of zero-extend.
        sign: bool,
    },
    /// `[mem] = srcs[0]` (low `width` bytes).
    Store,
    /// Jump to `srcs[0]` if `cond` holds (always when `None`).
    Branch {
        /// Condition, or `None` for unconditional.
        cond: Option<Cond>,
    },
    /// A memory fence.
    Fence(FenceKind),
    /// A system instruction for the machine model.
    Sys(SysOp),
    /// No operation (`nop`, prefetch hints).
    Nop,
}

/// One micro-operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Uop {
    /// The operation.
    pub kind: UopKind,
    /// Operand width: of the ALU result, of the memory access for loads/stores.
    pub width: Width,
    /// Destination (register view or temporary), or `Operand::None`.
    pub dst: Operand,
    /// Up to two value inputs.
    pub srcs: [Operand; 2],
    /// Memory address for loads, stores, `Lea` and `Clflush`/`Invlpg`.
    pub mem: Option<MemRef>,
    /// Flags this uop writes (others keep their value).
    pub flags_written: Flags,
    /// Part of a `lock`ed read-modify-write (or `xchg` with memory): the machine
    /// must perform the load..store of this instruction atomically, as a full fence.
    pub locked: bool,
}

impl Uop {
    /// A uop of `kind` at `width` with nothing else set; fill the fields you need.
    pub fn new(kind: UopKind, width: Width) -> Uop {
        Uop {
            kind,
            width,
            dst: Operand::None,
            srcs: [Operand::None; 2],
            mem: None,
            flags_written: Flags::empty(),
            locked: false,
        }
    }

    /// Whether this uop reads RFLAGS: condition evaluation, carry-in, partial flag
    /// updates (which merge with the old flags), and shifts (a zero count keeps them).
    pub fn reads_flags(&self) -> bool {
        let cond_reads = matches!(
            self.kind,
            UopKind::Alu(
                AluOp::Adc
                    | AluOp::Sbb
                    | AluOp::Shl
                    | AluOp::Shr
                    | AluOp::Sar
                    | AluOp::Select(_)
                    | AluOp::Cmov(_)
                    | AluOp::Setcc(_)
            ) | UopKind::Branch { cond: Some(_) }
        );
        cond_reads || (!self.flags_written.is_empty() && !self.flags_written.contains(Flags::ARITH))
    }

    /// Whether the destination's old value is an input (partial-register writes and
    /// `cmovcc`, which keeps the old value when the condition fails).
    pub fn dst_is_input(&self) -> bool {
        match self.dst {
            Operand::Reg(r) => {
                r.write_merges() || matches!(self.kind, UopKind::Alu(AluOp::Cmov(_)))
            }
            _ => false,
        }
    }

    /// Every location this uop reads, for dependency tracking (may repeat a location).
    pub fn reads(&self) -> impl Iterator<Item = Loc> + '_ {
        let mem = self
            .mem
            .iter()
            .flat_map(|m| [m.base, m.index])
            .flatten()
            .map(Loc::Reg);
        let srcs = self.srcs.iter().filter_map(|s| s.loc());
        let dst = self.dst_is_input().then(|| self.dst.loc()).flatten();
        let flags = self.reads_flags().then_some(Loc::Flags);
        mem.chain(srcs).chain(dst).chain(flags)
    }

    /// The location this uop writes a value to, if any (flags are separate).
    pub fn writes(&self) -> Option<Loc> {
        self.dst.loc()
    }

    /// Whether the uop accesses data memory (loads, stores).
    pub fn is_mem(&self) -> bool {
        matches!(self.kind, UopKind::Load { .. } | UopKind::Store)
    }
}

/// Read access to the values a uop's inputs hold when it executes.
pub trait UopInputs {
    /// Full 64-bit value of a general register.
    fn reg(&self, gpr: Gpr) -> u64;
    /// Value of a temporary.
    fn temp(&self, t: u8) -> u64;
    /// Current RFLAGS.
    fn flags(&self) -> Flags;
}

/// A data-memory access a uop asks for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemAccess {
    /// Linear address.
    pub addr: u64,
    /// Access width.
    pub width: Width,
    /// For stores, the value (low `width` bytes); `None` for loads.
    pub store_data: Option<u64>,
}

/// The effect of executing one uop (see [`crate::semantics::execute`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Location and its complete new 64-bit value (partial writes already merged).
    pub dst: Option<(Loc, u64)>,
    /// The complete new flags value, if the uop writes flags.
    pub flags: Option<Flags>,
    /// Memory access to perform (loads: then call [`crate::semantics::complete_load`]).
    pub mem: Option<MemAccess>,
    /// For branches: the address execution continues at when taken.
    pub redirect: Option<u64>,
}
