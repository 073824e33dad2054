//! Instruction classes: the properties the machine model cares about.
//!
//! `classify` (in this module) derives them from a decoded instruction; the rules
//! for `SERIALIZING` follow the Intel SDM Vol. 3A §9.3 ("Serializing Instructions").

use bitflags::bitflags;

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
        /// Any control transfer.
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
