//! What a core works on and reports during its step: the machine-wide state it
//! borrows (memory, coherence, decoded instructions, trace) and the signals the
//! machine acts on after the step (IPIs, interrupts taken, watched retirements,
//! stale executions).

use super::decode_cache::DecodeCache;
use super::memsys::MemSys;
use super::trace::TraceEvent;
use crate::mem::Memory;
use crate::system::Ipi;

/// A store that became globally visible during a core's step.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VisibleStore {
    /// The core whose store it was.
    pub core: usize,
    /// The storing instruction's sequence number in that core.
    pub inst_seq: u64,
    /// Address.
    pub addr: u64,
    /// Bytes written.
    pub len: u64,
}

/// What a core tells the machine during its step, for the machine to act on after.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CoreSignal {
    /// An ICR write retired: deliver `ipi` to its destinations.
    Ipi {
        /// Sending core.
        from: usize,
        /// Destination and vector.
        ipi: Ipi,
        /// Retirement cycle.
        cycle: u64,
    },
    /// The core took interrupt `vector`.
    InterruptTaken {
        /// The core.
        core: usize,
        /// Vector.
        vector: u8,
        /// Cycle.
        cycle: u64,
    },
    /// The core retired an instruction at a watched address (sync point, trigger).
    Watched {
        /// The core.
        core: usize,
        /// Instruction address.
        ip: u64,
        /// Its sequence number.
        inst_seq: u64,
    },
    /// The core executed stale bytes (for contract checks).
    Stale {
        /// What it executed.
        stale: super::StaleExecution,
        /// Sequence number of the store's instruction in the writing core.
        writer_seq: u64,
    },
}

/// The machine-wide state a core works on during its step.
pub struct Shared<'a> {
    /// Coherence bookkeeping.
    pub memsys: &'a mut MemSys,
    /// The globally visible memory image.
    pub memory: &'a mut Memory,
    /// Decoded instructions.
    pub cache: &'a mut DecodeCache,
    /// Trace events, when tracing.
    pub trace: Option<&'a mut Vec<TraceEvent>>,
    /// Stores that became visible (the machine snoops the other cores with them).
    pub visible: &'a mut Vec<VisibleStore>,
    /// Who last wrote each line, for the stale-code detector.
    pub line_writes: &'a super::stale::LineWrites,
    /// Stale executions found so far.
    pub stale: &'a mut Vec<super::StaleExecution>,
    /// What the core reports to the machine this step.
    pub signals: &'a mut Vec<CoreSignal>,
    /// Instruction addresses whose retirement the machine wants to hear of
    /// ([`CoreSignal::Watched`]), sorted.
    pub watched: &'a [u64],
}

impl Shared<'_> {
    /// Record an event if tracing.
    pub fn emit(&mut self, event: TraceEvent) {
        if let Some(t) = self.trace.as_deref_mut() {
            t.push(event);
        }
    }
}
