//! The architectural system model: privilege levels, MSRs, control registers, the
//! IDT, SYSCALL/SYSRET, SYSENTER/SYSEXIT, INT n / IRETQ, SWAPGS and the x2APIC
//! ICR/EOI registers of one x86-64 core.
//!
//! Everything here is pure architectural semantics, defined once: the reference
//! interpreter calls [`execute_sys`] for every [`isa::uop::UopKind::Sys`] uop, and the
//! out-of-order core can call it at retirement with its architectural register file.
//! The model never decides *timing*: it reports what else has to happen as a
//! [`SysEffect`] (serialize, send an IPI, sleep...) and the caller carries that out
//! with whatever latency it models.
//!
//! ```
//! use isa::flags::Flags;
//! use isa::reg::Gpr;
//! use isa::uop::SysOp;
//! use sim_core::mem::Memory;
//! use sim_core::system::{SysContext, SysEffect, SystemConfig, SystemState, execute_sys};
//!
//! // A core at CPL 3; IA32_LSTAR is still 0, so SYSCALL enters the kernel at 0.
//! let (mut regs, mut flags, mut mem) = ([0u64; 16], Flags::IF, Memory::new());
//! let mut sys = SystemState::new(SystemConfig::default(), 0);
//! sys.enter_user_mode();
//! let mut ctx = SysContext {
//!     regs: &mut regs,
//!     flags: &mut flags,
//!     rip: 0x400000,      // the `syscall`...
//!     next_rip: 0x400002, // ...and the instruction after it
//!     tsc: 0,
//!     sys: &mut sys,
//!     mem: &mut mem,
//! };
//! assert_eq!(execute_sys(SysOp::Syscall.into(), &mut ctx), Ok(SysEffect::Continue));
//! assert_eq!((ctx.next_rip, ctx.reg(Gpr::Rcx), ctx.sys.cpl()), (0, 0x400002, 0));
//! // Back to user mode: SYSRETQ is not serializing, IRETQ would be.
//! assert_eq!(execute_sys(SysOp::Sysret.into(), &mut ctx), Ok(SysEffect::Continue));
//! assert_eq!((ctx.next_rip, ctx.sys.cpl()), (0x400002, 3));
//! ```
//!
//! # Conventions
//! - The core is always in 64-bit mode (IA-32e, CS.L = 1): legacy and compatibility
//!   modes, segmentation beyond the CS/SS selectors, paging and the TSS are not
//!   modelled. CPL is CS.RPL.
//! - `sysret` and `sysexit` are executed as their REX.W forms (`sysretq`,
//!   `sysexitq`), the ones a 64-bit kernel uses; the uop does not say which form
//!   was decoded.
//! - The IDT is a table of [`IdtGate`]s (handler address, gate type, DPL) set by the
//!   scenario; every handler runs in the kernel code segment [`KERNEL_CS`]. The
//!   kernel stack used on a CPL 3 → 0 transition ([`SystemState::set_kernel_stack`])
//!   plays the role of TSS.RSP0; the interrupt-stack table is not modelled.
//! - Serialization (SDM Vol. 3A §9.3) is reported, never performed: CPUID, SERIALIZE,
//!   IRET (unless [`SystemConfig::iret_serializing`] is off), MOV to CR0/2/3/4 and
//!   DRn, WRMSR except to the x2APIC range and IA32_TSC_DEADLINE
//!   ([`isa::class::wrmsr_serializes`]), INVLPG, WBINVD, INVD and the descriptor-table
//!   loads. SYSRET and SYSEXIT never serialize, nor does event delivery.
//! - Page-table isolation (PTI): a kernel may write its own CR3 switch before
//!   `sysretq` (`mov cr3, rax` reports `Serialize(MovToCr(3))`), or the scenario
//!   sets [`SystemConfig::pti`] and every return to CPL 3 reports
//!   `Serialize(PtiCr3Switch)`, as if the kernel's exit path had done so.
//! - Architectural exceptions (#GP, #UD) raised by a system instruction are
//!   delivered through the IDT when it has a gate for the vector; otherwise (and for
//!   features synclab does not model) the instruction fails with an [`Exception`]
//!   describing it, and the caller decides what to do (usually stop the run).
//!   Double faults are not modelled: a fault while delivering a fault fails too.
//! - IF changes through STI/CLI (CPL 0 only: IOPL is always 0), SYSCALL (FMASK),
//!   SYSRET (R11), IRET and event delivery. STI that sets IF keeps interrupts off
//!   until the next instruction completes (the STI shadow: `sti; hlt` is atomic);
//!   callers end it with [`SystemState::end_interrupt_shadow`] before each
//!   instruction. POPF and MOV SS are outside the ISA subset.
//! - The local APIC is x2APIC-only and minimal: fixed-mode physical-destination IPIs
//!   through the ICR (with the self / all / all-but-self shorthands, and logical
//!   cluster destinations) or the SELF IPI register, an IRR/ISR pair and EOI. TPR
//!   is CR8. The APIC timer exists only in TSC-deadline mode, advanced by the
//!   caller through [`SystemState::tick`].

mod apic;
mod exec;
pub mod msr;
mod state;
mod transfer;

#[cfg(test)]
mod tests;

use std::fmt;

use isa::flags::Flags;
use isa::reg::Gpr;
use isa::uop::{Operand, SysOp, Uop, UopKind};

use crate::mem::Memory;

pub use apic::{Ipi, IpiDest};
pub use exec::execute_sys;
pub use state::{GateKind, IdtGate, KERNEL_CS, KERNEL_SS, SystemState, USER_CS, USER_SS};

/// Vector of the invalid-opcode exception (#UD).
pub const VECTOR_UD: u8 = 6;
/// Vector of the segment-not-present exception (#NP; here: IDT gate missing).
pub const VECTOR_NP: u8 = 11;
/// Vector of the general-protection exception (#GP).
pub const VECTOR_GP: u8 = 13;

/// Options of the system model that select between architecturally allowed (or
/// hypothetical) behaviours, so scenarios can show what each choice breaks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SystemConfig {
    /// Whether IRET serializes. The SDM says it does (default `true`); `false`
    /// models the kernels-of-the-future the 2020 membarrier thread worried about.
    pub iret_serializing: bool,
    /// Page-table isolation: every return to user mode (SYSRET, SYSEXIT, IRET to
    /// CPL 3) first switches CR3 to the user page tables, which serializes. Models
    /// Linux with `pti=on` without writing the CR3 switch into each scenario.
    pub pti: bool,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            iret_serializing: true,
            pti: false,
        }
    }
}

/// What made the core serialize, for trace events and summaries.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SerializeReason {
    /// `cpuid`.
    Cpuid,
    /// `serialize`.
    Serialize,
    /// `iretq`.
    Iret,
    /// `mov crN, reg` (N ≠ 8).
    MovToCr(u8),
    /// `mov drN, reg`.
    MovToDr(u8),
    /// `wrmsr` to an MSR outside the non-serializing set.
    Wrmsr(u32),
    /// `invlpg`.
    Invlpg,
    /// `wbinvd`.
    Wbinvd,
    /// `invd`.
    Invd,
    /// `lgdt`, `lidt`, `lldt`, `ltr`, `invpcid`.
    DescriptorLoad,
    /// The CR3 write of a PTI return to user mode ([`SystemConfig::pti`]).
    PtiCr3Switch,
    /// Delivery of an interrupt, when the machine is configured to serialize on it
    /// (the SDM does not list event delivery as serializing).
    InterruptDelivery,
}

impl fmt::Display for SerializeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SerializeReason::Cpuid => f.write_str("cpuid"),
            SerializeReason::Serialize => f.write_str("serialize"),
            SerializeReason::Iret => f.write_str("iretq"),
            SerializeReason::MovToCr(n) => write!(f, "mov cr{n}"),
            SerializeReason::MovToDr(n) => write!(f, "mov dr{n}"),
            SerializeReason::Wrmsr(msr) => write!(f, "wrmsr {msr:#x}"),
            SerializeReason::Invlpg => f.write_str("invlpg"),
            SerializeReason::Wbinvd => f.write_str("wbinvd"),
            SerializeReason::Invd => f.write_str("invd"),
            SerializeReason::DescriptorLoad => f.write_str("descriptor-table load"),
            SerializeReason::PtiCr3Switch => f.write_str("pti cr3 switch"),
            SerializeReason::InterruptDelivery => f.write_str("interrupt delivery"),
        }
    }
}

/// What the machine has to do after a system instruction retired, beyond
/// continuing at [`SysContext::next_rip`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SysEffect {
    /// Nothing more.
    Continue,
    /// `hlt`: sleep until an interrupt is accepted.
    Halt,
    /// Serialize: drain, and refetch from `next_rip` (SDM Vol. 3A §9.3).
    Serialize(SerializeReason),
    /// A `wrmsr` to the x2APIC ICR: send this IPI (not serializing; the write may
    /// overtake earlier stores still in the store buffer).
    SendIpi(Ipi),
    /// A `wrmsr` to the x2APIC EOI register retired this in-service vector (`None`
    /// if nothing was in service).
    Eoi(Option<u8>),
    /// The instruction faulted and the exception was delivered through the IDT;
    /// `next_rip` is the handler.
    Exception(Fault),
}

/// One line for traces and run summaries: `serialize (iretq)`, `IPI 0xf0 -> APIC 1`.
impl fmt::Display for SysEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysEffect::Continue => f.write_str("continue"),
            SysEffect::Halt => f.write_str("halt"),
            SysEffect::Serialize(reason) => write!(f, "serialize ({reason})"),
            SysEffect::SendIpi(ipi) => write!(f, "{ipi}"),
            SysEffect::Eoi(Some(v)) => write!(f, "EOI {v:#x}"),
            SysEffect::Eoi(None) => f.write_str("EOI (nothing in service)"),
            SysEffect::Exception(fault) => write!(f, "{fault} delivered"),
        }
    }
}

/// An architectural exception: vector and, for those that push one, error code.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// IDT vector (13 for #GP...).
    pub vector: u8,
    /// Error code pushed on the handler's stack, if this exception has one.
    pub error_code: Option<u32>,
}

impl Fault {
    /// `#GP(code)`.
    pub fn gp(code: u32) -> Fault {
        Fault {
            vector: VECTOR_GP,
            error_code: Some(code),
        }
    }

    /// `#NP(code)`.
    pub fn np(code: u32) -> Fault {
        Fault {
            vector: VECTOR_NP,
            error_code: Some(code),
        }
    }

    /// `#UD` (no error code).
    pub fn ud() -> Fault {
        Fault {
            vector: VECTOR_UD,
            error_code: None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.vector {
            VECTOR_UD => "#UD".to_string(),
            VECTOR_NP => "#NP".to_string(),
            VECTOR_GP => "#GP".to_string(),
            v => format!("exception {v}"),
        };
        match self.error_code {
            Some(code) => write!(f, "{name}({code:#x})"),
            None => f.write_str(&name),
        }
    }
}

/// Why a system instruction could not complete: an architectural exception with no
/// IDT gate to deliver it to, or something synclab does not model. Architectural
/// state is as before the instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// Address of the instruction.
    pub rip: u64,
    /// The architectural exception, or `None` when the model lacks the feature.
    pub fault: Option<Fault>,
    /// What happened, for people.
    pub reason: String,
}

impl Exception {
    /// An architectural exception raised by the instruction at `rip`.
    pub(crate) fn raise(rip: u64, fault: Fault, reason: impl Into<String>) -> Exception {
        Exception {
            rip,
            fault: Some(fault),
            reason: reason.into(),
        }
    }

    /// Something the model does not implement.
    pub(crate) fn unmodelled(rip: u64, reason: impl Into<String>) -> Exception {
        Exception {
            rip,
            fault: None,
            reason: reason.into(),
        }
    }
}

/// `#GP(0x0): reason`; the address is left to the caller, which usually prints it
/// with the instruction.
impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fault {
            Some(fault) => write!(f, "{fault}: {}", self.reason),
            None => write!(f, "not modelled: {}", self.reason),
        }
    }
}

impl std::error::Error for Exception {}

/// The stack memory a system instruction reads and writes (interrupt and IRET
/// frames). A trait so the out-of-order core can route the accesses through its
/// store buffer; the reference interpreter uses [`Memory`] directly.
pub trait StackMemory {
    /// Read the 8 bytes at `addr`.
    fn read_u64(&mut self, addr: u64) -> u64;
    /// Write 8 bytes at `addr`.
    fn write_u64(&mut self, addr: u64, value: u64);
}

impl StackMemory for Memory {
    fn read_u64(&mut self, addr: u64) -> u64 {
        self.read(addr, isa::reg::Width::B8)
    }

    fn write_u64(&mut self, addr: u64, value: u64) {
        self.write(addr, isa::reg::Width::B8, value);
    }
}

/// A system uop reduced to what the model needs: the operation and the general
/// register of `mov` to/from a control or debug register.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SysInst {
    /// The operation.
    pub op: SysOp,
    /// Source of `mov crN/drN, reg`, destination of `mov reg, crN`.
    pub gpr: Option<Gpr>,
}

impl SysInst {
    /// The system instruction a [`UopKind::Sys`] uop carries; `None` for other uops.
    pub fn from_uop(uop: &Uop) -> Option<SysInst> {
        let UopKind::Sys(op) = uop.kind else {
            return None;
        };
        let gpr = [uop.srcs[0], uop.dst].into_iter().find_map(|o| match o {
            Operand::Reg(r) => Some(r.gpr),
            _ => None,
        });
        Some(SysInst { op, gpr })
    }
}

impl From<SysOp> for SysInst {
    fn from(op: SysOp) -> SysInst {
        SysInst { op, gpr: None }
    }
}

/// Everything a system instruction may read or change: the core's architectural
/// registers, its [`SystemState`] and a stack-memory port. The caller fills `rip`
/// and `next_rip` (the fall-through address) before a call; afterwards `next_rip` is
/// where execution continues.
pub struct SysContext<'a, M: StackMemory> {
    /// General registers, indexed by [`Gpr::index`].
    pub regs: &'a mut [u64; 16],
    /// RFLAGS.
    pub flags: &'a mut Flags,
    /// Address of the instruction (the return address of a fault).
    pub rip: u64,
    /// In: the next sequential instruction. Out: where execution continues.
    pub next_rip: u64,
    /// The time-stamp counter `rdtsc` reads (the caller's cycle count).
    pub tsc: u64,
    /// The core's system state.
    pub sys: &'a mut SystemState,
    /// Memory for stack frames.
    pub mem: &'a mut M,
}

impl<M: StackMemory> SysContext<'_, M> {
    /// Value of a general register.
    pub fn reg(&self, gpr: Gpr) -> u64 {
        self.regs[gpr.index()]
    }

    /// Set a general register.
    pub fn set_reg(&mut self, gpr: Gpr, value: u64) {
        self.regs[gpr.index()] = value;
    }

    /// An exception raised by the current instruction.
    fn raise(&self, fault: Fault, reason: impl Into<String>) -> Exception {
        Exception::raise(self.rip, fault, reason)
    }
}

/// Whether `addr` is canonical for 48-bit linear addresses (bits 63:47 equal).
pub fn is_canonical(addr: u64) -> bool {
    let top = (addr as i64) >> 47;
    top == 0 || top == -1
}
