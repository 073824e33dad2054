//! The constants of the `.synctrace` byte layout, and the codes of the small enums
//! inside events, kept side by side so encoder and decoder cannot disagree.
//!
//! Compatibility rule: a new [`TraceEvent`](sim_core::machine::TraceEvent) variant gets
//! a new tag (files without it stay readable, the version does not change); changing
//! the fields of an existing tag bumps [`FORMAT_VERSION`].

use isa::uop::FenceKind;
use sim_core::machine::{ClearReason, SerializeReason};

/// The first eight bytes of every `.synctrace` file. The trailing newline makes a
/// file mangled by a text-mode transfer fail the check instead of misparsing.
pub const MAGIC: [u8; 8] = *b"SYNCTRC\n";

/// The layout version this crate writes and reads (2: stale executions carry
/// the cycle their core last serialized).
pub const FORMAT_VERSION: u32 = 2;

/// The smallest event record (tag, core, cycle): bounds how many events the rest of
/// a file can hold, so a corrupt count cannot make the reader allocate wildly.
pub(crate) const MIN_RECORD_LEN: usize = 1 + 2 + 8;

/// Record tags, one per event variant. 0 is never used, so zeroed bytes are rejected.
pub(crate) mod tag {
    /// `TraceEvent::Inst`.
    pub const INST: u8 = 1;
    /// `TraceEvent::MachineClear`.
    pub const MACHINE_CLEAR: u8 = 2;
    /// `TraceEvent::Mispredict`.
    pub const MISPREDICT: u8 = 3;
    /// `TraceEvent::SbFull`.
    pub const SB_FULL: u8 = 4;
    /// `TraceEvent::FenceStall`.
    pub const FENCE_STALL: u8 = 5;
    /// `TraceEvent::StaleExecution`.
    pub const STALE_EXECUTION: u8 = 6;
    /// `TraceEvent::Serialize`.
    pub const SERIALIZE: u8 = 7;
    /// `TraceEvent::IpiSent`.
    pub const IPI_SENT: u8 = 8;
    /// `TraceEvent::InterruptTaken`.
    pub const INTERRUPT_TAKEN: u8 = 9;
    /// `TraceEvent::Exception`.
    pub const EXCEPTION: u8 = 10;
    /// `TraceEvent::PrivilegeChange`.
    pub const PRIVILEGE_CHANGE: u8 = 11;
    /// `TraceEvent::Sleep`.
    pub const SLEEP: u8 = 12;
    /// `TraceEvent::SyncPoint`.
    pub const SYNC_POINT: u8 = 13;
    /// `TraceEvent::ContractViolation`.
    pub const CONTRACT_VIOLATION: u8 = 14;
    /// `TraceEvent::StoreBuffered`.
    pub const STORE_BUFFERED: u8 = 15;
    /// `TraceEvent::StoreVisible`.
    pub const STORE_VISIBLE: u8 = 16;
    /// `TraceEvent::LoadRetired`.
    pub const LOAD_RETIRED: u8 = 17;
    /// `TraceEvent::Syscall`.
    pub const SYSCALL: u8 = 18;
}

/// A [`FenceKind`] as one byte.
pub(crate) fn fence_code(kind: FenceKind) -> u8 {
    match kind {
        FenceKind::Mfence => 0,
        FenceKind::Lfence => 1,
        FenceKind::Sfence => 2,
    }
}

/// The [`FenceKind`] of a byte written by [`fence_code`].
pub(crate) fn fence_from(code: u8) -> Option<FenceKind> {
    match code {
        0 => Some(FenceKind::Mfence),
        1 => Some(FenceKind::Lfence),
        2 => Some(FenceKind::Sfence),
        _ => None,
    }
}

/// A [`SerializeReason`] as a kind byte and an argument (register number or MSR).
pub(crate) fn serialize_code(reason: SerializeReason) -> (u8, u32) {
    match reason {
        SerializeReason::Cpuid => (0, 0),
        SerializeReason::Serialize => (1, 0),
        SerializeReason::Iret => (2, 0),
        SerializeReason::MovToCr(n) => (3, u32::from(n)),
        SerializeReason::MovToDr(n) => (4, u32::from(n)),
        SerializeReason::Wrmsr(msr) => (5, msr),
        SerializeReason::Invlpg => (6, 0),
        SerializeReason::Wbinvd => (7, 0),
        SerializeReason::Invd => (8, 0),
        SerializeReason::DescriptorLoad => (9, 0),
        SerializeReason::PtiCr3Switch => (10, 0),
        SerializeReason::InterruptDelivery => (11, 0),
    }
}

/// The [`SerializeReason`] written by [`serialize_code`]; `None` for an unknown kind
/// or an argument out of range.
pub(crate) fn serialize_from(kind: u8, arg: u32) -> Option<SerializeReason> {
    Some(match kind {
        0 => SerializeReason::Cpuid,
        1 => SerializeReason::Serialize,
        2 => SerializeReason::Iret,
        3 => SerializeReason::MovToCr(u8::try_from(arg).ok()?),
        4 => SerializeReason::MovToDr(u8::try_from(arg).ok()?),
        5 => SerializeReason::Wrmsr(arg),
        6 => SerializeReason::Invlpg,
        7 => SerializeReason::Wbinvd,
        8 => SerializeReason::Invd,
        9 => SerializeReason::DescriptorLoad,
        10 => SerializeReason::PtiCr3Switch,
        11 => SerializeReason::InterruptDelivery,
        _ => return None,
    })
}

/// A [`ClearReason`] as a kind byte, an address and a core.
pub(crate) fn clear_code(reason: ClearReason) -> (u8, u64, u16) {
    match reason {
        ClearReason::MemoryOrdering { line, by_core } => (0, line, by_core),
        ClearReason::SelfModifyingCode { addr } => (1, addr, 0),
    }
}

/// The [`ClearReason`] written by [`clear_code`]; `None` for an unknown kind.
pub(crate) fn clear_from(kind: u8, addr: u64, core: u16) -> Option<ClearReason> {
    match kind {
        0 => Some(ClearReason::MemoryOrdering {
            line: addr,
            by_core: core,
        }),
        1 => Some(ClearReason::SelfModifyingCode { addr }),
        _ => None,
    }
}
