//! Where synchronisation's cycles go: the counters that let a parameter sweep say
//! what a serializing instruction, a fence or a system call costs.
//!
//! Only counting: nothing here decides when anything happens, so the counters
//! never change a run's timing. A serializing instruction costs the cycles it
//! waits at the head of the ROB for the store buffer to drain, and the cycles
//! from its retirement to the next instruction's (the pipeline behind it was
//! empty and is refetched). MFENCE and locked instructions cost their store
//! buffer drain waits. A system call spans from its `syscall` to the core's
//! next return to user mode.

use isa::reg::Gpr;
use isa::uop::SysOp;

use super::core::Core;
use crate::system::SerializeReason;

/// Cycles attributed to the serializations of one reason.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SerializationCost {
    /// Cycles the serializing instructions waited for the store buffer to drain.
    pub store_buffer_drain: u64,
    /// Cycles from each serialization to the core's next retirement: the
    /// pipeline drained and refetched behind it.
    pub refill: u64,
}

/// One system call: its number and first argument, and when it entered and
/// returned to user mode.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SyscallSpan {
    /// RAX at the `syscall` (the system call number).
    pub number: u64,
    /// RDI at the `syscall` (the first argument, e.g. membarrier's command).
    pub arg: u64,
    /// Cycle the `syscall` retired.
    pub entry: u64,
    /// Cycle of the core's next return to user mode (`sysretq`, `iretq`...).
    pub exit: u64,
}

impl SyscallSpan {
    /// Cycles from entry to return.
    pub fn cycles(&self) -> u64 {
        self.exit - self.entry
    }
}

/// What a core remembers between the events it attributes cycles to.
#[derive(Clone, Debug, Default)]
pub(super) struct CostTracker {
    /// The uop waiting for the store buffer to drain, and since when.
    drain_wait: Option<(u64, u64)>,
    /// Drain cycles of a serializing instruction that has not serialized yet.
    pending_drain: u64,
    /// The last serialization, until the next retirement.
    refill: Option<(SerializeReason, u64)>,
    /// The system call in progress.
    syscall: Option<SyscallSpan>,
}

impl Core {
    /// Uop `seq` cannot go on before the store buffer drains.
    pub(super) fn drain_waiting(&mut self, seq: u64, now: u64) {
        if self.cost.drain_wait.is_none_or(|(s, _)| s != seq) {
            self.cost.drain_wait = Some((seq, now));
        }
    }

    /// Cycles uop `seq` waited for the store buffer (0 if it did not).
    fn drain_waited(&mut self, seq: u64, now: u64) -> u64 {
        match self.cost.drain_wait {
            Some((s, since)) if s == seq => {
                self.cost.drain_wait = None;
                now - since
            }
            _ => 0,
        }
    }

    /// Uop `seq`, which needed an empty store buffer, goes on: its wait counts
    /// for the serialization it will cause or, for a fence or locked
    /// instruction, as a fence drain.
    pub(super) fn drained(&mut self, seq: u64, serializing: bool, now: u64) {
        let waited = self.drain_waited(seq, now);
        if serializing {
            self.cost.pending_drain += waited;
        } else {
            self.stats.fence_drain_cycles += waited;
        }
    }

    /// The core serialized for `reason` at `now`.
    pub(super) fn cost_serialized(&mut self, reason: SerializeReason, now: u64) {
        let drain = std::mem::take(&mut self.cost.pending_drain);
        self.stats
            .serialization_cycles
            .entry(reason)
            .or_default()
            .store_buffer_drain += drain;
        self.cost.refill = Some((reason, now));
    }

    /// An instruction retired at `now`: ends the refill after a serialization.
    pub(super) fn cost_retired(&mut self, now: u64) {
        if let Some((reason, since)) = self.cost.refill.take() {
            let cost = self.stats.serialization_cycles.entry(reason).or_default();
            cost.refill += now - since;
        }
    }

    /// System instruction `op` retired at `now`, the core at privilege `cpl_before`
    /// before it: opens a system call span at `syscall`, closes it at the
    /// return to user mode.
    pub(super) fn cost_system(&mut self, op: SysOp, cpl_before: u8, now: u64) {
        if op == SysOp::Syscall {
            self.cost.syscall = Some(SyscallSpan {
                number: self.arch[Gpr::Rax.index()],
                arg: self.arch[Gpr::Rdi.index()],
                entry: now,
                exit: now,
            });
        } else if cpl_before != 3
            && self.sys.cpl() == 3
            && let Some(mut span) = self.cost.syscall.take()
        {
            span.exit = now;
            self.stats.syscalls.push(span);
        }
    }
}
