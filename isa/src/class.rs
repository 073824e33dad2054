//! Instruction classes: the properties the machine model cares about.
//!
//! [`classify`] derives them from a decoded instruction; the rules for
//! `SERIALIZING` follow the Intel SDM Vol. 3A §9.3 ("Serializing Instructions").
//! Memory access comes from iced's instruction-info tables, independently of
//! [`crate::crack`], so tests can check the two agree.

use bitflags::bitflags;
use iced_x86::{
    FlowControl, Instruction, InstructionInfoFactory, Mnemonic, OpAccess, OpKind, Register,
};

bitflags! {
    /// What kind of instruction this is, as far as ordering and control flow go.
    #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
    pub struct InstClass: u32 {
        /// Reads data memory.
        const LOAD = 1 << 0;
        /// Writes data memory.
        const STORE = 1 << 1;
        /// Atomic read-modify-write (`lock` prefix, or `xchg` with memory).
        const LOCKED = 1 << 2;
        /// `mfence`.
        const MFENCE = 1 << 3;
        /// `lfence`.
        const LFENCE = 1 << 4;
        /// `sfence`.
        const SFENCE = 1 << 5;
        /// A jump, call or return (cracks to a branch uop). Mode changes (`syscall`,
        /// `iret`, `int`...) are `MODE_CHANGE` instead: the machine model, not the
        /// branch unit, decides where they go.
        const BRANCH = 1 << 6;
        /// Conditional branch.
        const COND_BRANCH = 1 << 7;
        /// Target comes from a register or memory.
        const INDIRECT = 1 << 8;
        /// `call`.
        const CALL = 1 << 9;
        /// `ret`.
        const RET = 1 << 10;
        /// Architecturally serializing (SDM §9.3). `wrmsr` carries it conditionally:
        /// see `wrmsr_serializes`.
        const SERIALIZING = 1 << 11;
        /// Faults with #GP at CPL 3.
        const PRIVILEGED = 1 << 12;
        /// Changes privilege level or stack (syscall/sysret/sysenter/sysexit/iret/int).
        const MODE_CHANGE = 1 << 13;
        /// `wrmsr`, whose serialization depends on the MSR written.
        const WRMSR = 1 << 14;
        /// `hlt`: the core sleeps until an interrupt.
        const HALT = 1 << 15;
    }
}

/// The classes of `instr` (see [`InstClass`] for what each bit promises).
pub fn classify(instr: &Instruction) -> InstClass {
    let mut c = memory_class(instr);
    let m = instr.mnemonic();
    if instr.has_lock_prefix()
        || (m == Mnemonic::Xchg && c.intersects(InstClass::LOAD | InstClass::STORE))
    {
        // SDM Vol. 3A §9.1.2.2: XCHG with memory asserts LOCK regardless of the prefix.
        c |= InstClass::LOCKED;
    }
    let near = matches!(m, Mnemonic::Jmp | Mnemonic::Call | Mnemonic::Ret);
    c |= match instr.flow_control() {
        // iced also reports syscall, far transfers etc. as calls and branches.
        _ if !near && instr.flow_control() != FlowControl::ConditionalBranch => InstClass::empty(),
        FlowControl::UnconditionalBranch => InstClass::BRANCH,
        FlowControl::ConditionalBranch => InstClass::BRANCH | InstClass::COND_BRANCH,
        FlowControl::IndirectBranch => InstClass::BRANCH | InstClass::INDIRECT,
        FlowControl::Call => InstClass::BRANCH | InstClass::CALL,
        FlowControl::IndirectCall => InstClass::BRANCH | InstClass::CALL | InstClass::INDIRECT,
        FlowControl::Return => InstClass::BRANCH | InstClass::RET | InstClass::INDIRECT,
        _ => InstClass::empty(),
    };
    c | by_mnemonic(instr)
}

/// Whether `wrmsr` to `msr` serializes. SDM Vol. 3A §9.3: WRMSR is serializing
/// except to IA32_TSC_DEADLINE (0x6E0) and the x2APIC MSRs (the SDM lists
/// 0x802–0x83F; synclab exempts the whole x2APIC range 0x800–0xBFF). So a `wrmsr`
/// to the APIC (e.g. an IPI through the ICR, 0x830) does not order earlier stores:
/// code needs an `mfence` first.
pub fn wrmsr_serializes(msr: u32) -> bool {
    !(msr == 0x6E0 || (0x800..=0xBFF).contains(&msr))
}

/// LOAD/STORE from iced's memory-usage tables. Cache-line flushes and TLB
/// invalidations name an address but move no data, so they are neither.
fn memory_class(instr: &Instruction) -> InstClass {
    if matches!(
        instr.mnemonic(),
        Mnemonic::Clflush | Mnemonic::Invlpg | Mnemonic::Nop | Mnemonic::Lea
    ) {
        return InstClass::empty();
    }
    let mut factory = InstructionInfoFactory::new();
    let mut c = InstClass::empty();
    for used in factory.info(instr).used_memory() {
        c |= match used.access() {
            OpAccess::Read | OpAccess::CondRead => InstClass::LOAD,
            OpAccess::Write | OpAccess::CondWrite => InstClass::STORE,
            OpAccess::ReadWrite | OpAccess::ReadCondWrite => InstClass::LOAD | InstClass::STORE,
            _ => InstClass::empty(),
        };
    }
    c
}

/// Fences, serialization (SDM Vol. 3A §9.3), privilege (instructions that #GP at
/// CPL 3), mode changes and `hlt`.
fn by_mnemonic(instr: &Instruction) -> InstClass {
    use InstClass as C;
    let serializing_priv = C::SERIALIZING | C::PRIVILEGED;
    match instr.mnemonic() {
        Mnemonic::Mfence => C::MFENCE,
        Mnemonic::Lfence => C::LFENCE,
        Mnemonic::Sfence => C::SFENCE,
        Mnemonic::Cpuid | Mnemonic::Serialize => C::SERIALIZING,
        // IRET is serializing and changes mode but works at any CPL.
        Mnemonic::Iret | Mnemonic::Iretd | Mnemonic::Iretq => C::SERIALIZING | C::MODE_CHANGE,
        Mnemonic::Rsm => C::SERIALIZING,
        Mnemonic::Invd
        | Mnemonic::Wbinvd
        | Mnemonic::Invlpg
        | Mnemonic::Invpcid
        | Mnemonic::Invept
        | Mnemonic::Invvpid
        | Mnemonic::Lgdt
        | Mnemonic::Lidt
        | Mnemonic::Lldt
        | Mnemonic::Ltr => serializing_priv,
        Mnemonic::Wrmsr => C::WRMSR | C::PRIVILEGED,
        // STI/CLI #GP above CPL 0 when IOPL is 0, as it always is here.
        Mnemonic::Rdmsr | Mnemonic::Swapgs | Mnemonic::Sti | Mnemonic::Cli => C::PRIVILEGED,
        Mnemonic::Hlt => C::HALT | C::PRIVILEGED,
        // SYSRET/SYSEXIT are *not* serializing (SDM §9.3 does not list them).
        Mnemonic::Sysret | Mnemonic::Sysretq | Mnemonic::Sysexit | Mnemonic::Sysexitq => {
            C::MODE_CHANGE | C::PRIVILEGED
        }
        Mnemonic::Syscall
        | Mnemonic::Sysenter
        | Mnemonic::Int
        | Mnemonic::Int3
        | Mnemonic::Int1
        | Mnemonic::Into => C::MODE_CHANGE,
        Mnemonic::Mov => mov_special(instr),
        _ => C::empty(),
    }
}

/// MOV to/from CRn/DRn is privileged; MOV *to* CR0/CR2/CR3/CR4 and to any DR is
/// serializing, MOV to CR8 (the task-priority register) is not (SDM Vol. 3A §9.3).
fn mov_special(instr: &Instruction) -> InstClass {
    let special = |r: Register| {
        (Register::CR0..=Register::CR15).contains(&r)
            || (Register::DR0..=Register::DR15).contains(&r)
    };
    let dst = (instr.op0_kind() == OpKind::Register).then(|| instr.op0_register());
    let src = (instr.op1_kind() == OpKind::Register).then(|| instr.op1_register());
    match (dst, src) {
        (Some(d), _) if special(d) => {
            let serializing = (Register::DR0..=Register::DR15).contains(&d)
                || matches!(
                    d,
                    Register::CR0 | Register::CR2 | Register::CR3 | Register::CR4
                );
            let c = InstClass::PRIVILEGED;
            if serializing {
                c | InstClass::SERIALIZING
            } else {
                c
            }
        }
        (_, Some(s)) if special(s) => InstClass::PRIVILEGED,
        _ => InstClass::empty(),
    }
}

#[cfg(test)]
mod tests;
