//! What the machine reports about a run, for viewers and tests: one event enum,
//! fixed-size records (no heap data), cycles stored compactly as offsets.

use isa::uop::FenceKind;

pub use crate::system::SerializeReason;

/// Marker for a pipeline stage an instruction never reached.
pub const NEVER: u32 = u32::MAX;

/// The life of one instruction in one core: when it passed each stage, and whether it
/// retired or was squashed. Cycles after `fetch` are offsets from it ([`NEVER`] if the
/// stage was not reached); use [`InstRecord::at`] to get absolute cycles.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct InstRecord {
    /// Core number.
    pub core: u16,
    /// Instruction length in bytes.
    pub len: u8,
    /// Squashed (wrong path, machine clear) rather than retired.
    pub squashed: bool,
    /// The bytes the core fetched and decoded (may differ from memory: stale code).
    pub bytes: [u8; 15],
    /// Per-core instruction sequence number (program order of the fetched stream).
    pub seq: u64,
    /// Instruction address.
    pub ip: u64,
    /// Cycle the instruction's first byte was fetched.
    pub fetch: u64,
    /// Offsets from `fetch`, indexed by [`Stage`].
    pub stages: [u32; Stage::COUNT],
}

/// Pipeline stages recorded in an [`InstRecord`] (after fetch).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    /// Decoded into the uop queue.
    Decode = 0,
    /// First uop renamed into the ROB.
    Rename,
    /// First uop issued to execution.
    Issue,
    /// Last uop finished executing.
    Complete,
    /// Retired (or squashed: the cycle it was thrown away).
    Retire,
    /// Entered the store buffer (stores only).
    SbEnter,
    /// Last store drained to memory, becoming globally visible.
    SbDrain,
}

impl Stage {
    /// Number of recorded stages.
    pub const COUNT: usize = 7;
}

impl InstRecord {
    /// A record for an instruction fetched at `fetch`, no later stage reached yet.
    pub fn new(core: usize, seq: u64, ip: u64, bytes: &[u8], fetch: u64) -> InstRecord {
        let mut b = [0u8; 15];
        let len = bytes.len().min(15);
        b[..len].copy_from_slice(&bytes[..len]);
        InstRecord {
            core: core as u16,
            len: len as u8,
            squashed: false,
            bytes: b,
            seq,
            ip,
            fetch,
            stages: [NEVER; Stage::COUNT],
        }
    }

    /// Record that `stage` happened at absolute cycle `cycle` (first time only).
    pub fn mark(&mut self, stage: Stage, cycle: u64) {
        let slot = &mut self.stages[stage as usize];
        if *slot == NEVER {
            *slot = u32::try_from(cycle.saturating_sub(self.fetch)).unwrap_or(NEVER - 1);
        }
    }

    /// Absolute cycle of `stage`, if reached.
    pub fn at(&self, stage: Stage) -> Option<u64> {
        let off = self.stages[stage as usize];
        (off != NEVER).then(|| self.fetch + u64::from(off))
    }

    /// The instruction bytes that were executed.
    pub fn inst_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Intel-syntax disassembly of the fetched bytes, produced on demand.
    pub fn disassembly(&self) -> String {
        match isa::decode::decode(self.inst_bytes(), self.ip) {
            Ok(instr) => isa::decode::format_intel(&instr),
            Err(_) => "(bad)".to_string(),
        }
    }
}

/// Why the pipeline of a core was thrown away after an instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClearReason {
    /// Another core's store to a line read by a load that had executed but not retired
    /// became visible: the load (and all younger work) is redone to keep loads ordered.
    MemoryOrdering {
        /// The line written.
        line: u64,
        /// The core whose store became visible.
        by_core: u16,
    },
    /// A store of this core wrote bytes of an instruction already fetched.
    SelfModifyingCode {
        /// Address written.
        addr: u64,
    },
}

/// One data access as the trace reports it: which instruction, where, how wide,
/// what value. Kernel-agnostic: a viewer that knows where a kernel keeps
/// `rq->curr` turns these into context switches.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemEvent {
    /// Core.
    pub core: u16,
    /// Cycle.
    pub cycle: u64,
    /// The accessing instruction's sequence number (of an interrupt or
    /// exception frame: the instruction it interrupted).
    pub inst_seq: u64,
    /// Linear address.
    pub addr: u64,
    /// Bytes accessed: 1, 2, 4 or 8.
    pub width: u8,
    /// The value stored or loaded (the low `width` bytes).
    pub value: u64,
}

/// Everything the machine reports, in the order it happened.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// An instruction retired (stores: once their last store drained) or was squashed.
    Inst(InstRecord),
    /// Younger work than instruction `inst_seq` was squashed and refetched.
    MachineClear {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
        /// First squashed instruction.
        inst_seq: u64,
        /// Why.
        reason: ClearReason,
    },
    /// A branch resolved differently than predicted.
    Mispredict {
        /// Core.
        core: u16,
        /// Cycle it resolved.
        cycle: u64,
        /// The branch instruction.
        inst_seq: u64,
        /// Its address.
        ip: u64,
    },
    /// Retirement stalled because the store buffer was full (first cycle of the stall).
    SbFull {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
    },
    /// A fence (or locked instruction) started holding back later work.
    FenceStall {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
        /// The fence instruction.
        inst_seq: u64,
        /// Which fence; `Mfence` also stands for locked instructions.
        kind: FenceKind,
    },
    /// An instruction retired from bytes that memory no longer held.
    StaleExecution(super::StaleExecution),
    /// A core serialized after instruction `inst_seq`.
    Serialize {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
        /// The serializing instruction.
        inst_seq: u64,
        /// Why.
        reason: SerializeReason,
    },
    /// A core sent an IPI (one event per destination core).
    IpiSent {
        /// Sending core.
        core: u16,
        /// Cycle the ICR write retired.
        cycle: u64,
        /// Destination core.
        to: u16,
        /// Vector.
        vector: u8,
        /// Cycle it reaches the destination's APIC.
        arrives: u64,
    },
    /// A core took an interrupt (IPI, external or timer) at an instruction boundary.
    InterruptTaken {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
        /// Vector.
        vector: u8,
        /// Address the handler returns to (the interrupted instruction).
        ip: u64,
        /// The core was asleep in `hlt`.
        woke: bool,
    },
    /// An instruction raised an exception that was delivered through the IDT.
    Exception {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
        /// Vector (13 for #GP).
        vector: u8,
        /// Address of the faulting instruction.
        ip: u64,
    },
    /// The current privilege level changed (syscall, sysret, interrupt, iretq...).
    PrivilegeChange {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
        /// The new CPL (0 kernel, 3 user).
        cpl: u8,
        /// Where execution continues.
        ip: u64,
    },
    /// A core retired `hlt` and sleeps until an interrupt.
    Sleep {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
    },
    /// A core retired the instruction a sync point marks.
    SyncPoint {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
        /// Index of the contract in the machine's contract list.
        contract: u16,
    },
    /// A stale execution that breaks a declared contract (also reported as
    /// [`TraceEvent::StaleExecution`]).
    ContractViolation {
        /// Index of the contract in the machine's contract list.
        contract: u16,
        /// The stale execution.
        stale: super::StaleExecution,
    },
    /// A retired store (or a store of an interrupt frame) entered the store
    /// buffer: from now on its core sees it, no other core does.
    StoreBuffered(MemEvent),
    /// A store became globally visible: it left the store buffer, or (a locked
    /// instruction's, `buffered` false) was written at retirement.
    StoreVisible {
        /// The store; `cycle` is when it became visible.
        store: MemEvent,
        /// It went through the store buffer (a [`TraceEvent::StoreBuffered`]
        /// came first).
        buffered: bool,
    },
    /// A load retired, with the value it read (low `width` bytes of its
    /// result; loads into `ah`..`bh` report the value shifted into place).
    LoadRetired(MemEvent),
    /// A `syscall` retired: the system call number and first arguments as
    /// the registers held them (RAX; RDI, RSI, RDX).
    Syscall {
        /// Core.
        core: u16,
        /// Cycle.
        cycle: u64,
        /// The `syscall` instruction.
        inst_seq: u64,
        /// Its address.
        ip: u64,
        /// RAX.
        number: u64,
        /// RDI, RSI, RDX.
        args: [u64; 3],
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_compact_and_keep_offsets() {
        assert!(
            std::mem::size_of::<TraceEvent>() <= 96,
            "{}",
            std::mem::size_of::<TraceEvent>()
        );
        let mut r = InstRecord::new(1, 9, 0x1000, &[0x90], 100);
        r.mark(Stage::Retire, 130);
        r.mark(Stage::Retire, 140);
        assert_eq!(r.at(Stage::Retire), Some(130));
        assert_eq!(r.at(Stage::Issue), None);
        assert_eq!(r.inst_bytes(), &[0x90]);
    }
}
