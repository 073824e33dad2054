//! Coherence bookkeeping for data lines: who may read and who may write each 64-byte
//! line, and what it costs to change that.
//!
//! The globally visible *values* live in the shared [`crate::mem::Memory`] image; this
//! module only decides *when* a core may read a line or write it (MESI-style: one owner
//! with write permission, or any number of sharers). Ownership moves one transfer at a
//! time per line, and a grant is handed over only when the requester comes to collect
//! it, so two cores fighting for a line always alternate instead of live-locking. L1
//! capacity is not modelled: a core keeps a line until another core takes it.

use super::addr_map::AddrMap;
use super::config::MemConfig;
use super::jitter::Jitter;

/// Cache-line size in bytes.
pub const LINE: u64 = 64;

/// The line containing `addr`.
pub fn line_of(addr: u64) -> u64 {
    addr & !(LINE - 1)
}

/// Lines touched by an access of `len` bytes at `addr` (one or two).
pub fn lines_of(addr: u64, len: usize) -> (u64, Option<u64>) {
    let first = line_of(addr);
    let last = line_of(addr.wrapping_add(len as u64 - 1));
    (first, (last != first).then_some(last))
}

#[derive(Clone, Debug, Default)]
struct LineState {
    /// Core holding the line with write permission (Modified/Exclusive).
    owner: Option<usize>,
    /// Cores holding a readable copy (bit per core; includes the owner).
    sharers: u64,
    /// Ownership transfer in flight: (requesting core, cycle it is granted).
    transfer: Option<(usize, u64)>,
    /// Core performing a locked read-modify-write on this line.
    locked_by: Option<usize>,
}

/// Result of asking for write permission on a line.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// The core owns the line now and may write it this cycle.
    Owned,
    /// The transfer to this core completes at the given cycle; ask again then.
    Pending(u64),
    /// Another core holds the line locked or has a transfer in flight; retry later.
    Busy {
        /// The core in the way.
        holder: usize,
    },
}

/// Result of asking to read a line.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// The data is available at this cycle.
    Ready(u64),
    /// Another core holds the line locked; retry later.
    Busy {
        /// The core in the way.
        holder: usize,
    },
}

/// What the watchdog says about a line.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LineView {
    /// Core with write permission.
    pub owner: Option<usize>,
    /// Core the line is being transferred to, and when.
    pub transfer: Option<(usize, u64)>,
    /// Core holding the line locked.
    pub locked_by: Option<usize>,
}

/// The coherence state of every data line touched so far.
#[derive(Debug)]
pub struct MemSys {
    config: MemConfig,
    lines: AddrMap<LineState>,
    jitter: Jitter,
}

impl MemSys {
    /// An empty memory system: every line in DRAM only.
    pub fn new(config: MemConfig, jitter: Jitter) -> MemSys {
        MemSys {
            config,
            lines: AddrMap::default(),
            jitter,
        }
    }

    /// Ask to read `line` for a load on `core` at cycle `now`. A miss makes the core a
    /// sharer (downgrading a remote owner) immediately; the data arrives at the returned cycle.
    pub fn read(&mut self, core: usize, line: u64, now: u64) -> Read {
        let bit = 1u64 << core;
        let state = self.lines.entry(line).or_default();
        if let Some(holder) = state.locked_by.filter(|&h| h != core) {
            return Read::Busy { holder };
        }
        let base = if state.sharers & bit != 0 {
            self.config.l1_latency
        } else if state.owner.is_some() {
            self.config.remote_latency
        } else if state.sharers != 0 || state.transfer.is_some() {
            self.config.l2_latency
        } else {
            self.config.memory_latency
        };
        if state.owner != Some(core) {
            state.owner = None;
        }
        state.sharers |= bit;
        Read::Ready(now + self.jitter.stretch(base))
    }

    /// Ask for write permission on `line` for `core` at cycle `now`; starts a transfer
    /// when none is in flight. Call again each cycle until [`Acquire::Owned`].
    pub fn acquire(&mut self, core: usize, line: u64, now: u64) -> Acquire {
        let state = self.lines.entry(line).or_default();
        if state.owner == Some(core) {
            return Acquire::Owned;
        }
        if let Some(holder) = state.locked_by.filter(|&h| h != core) {
            return Acquire::Busy { holder };
        }
        match state.transfer {
            Some((to, ready)) if to == core => {
                if now < ready {
                    return Acquire::Pending(ready);
                }
                state.transfer = None;
                state.owner = Some(core);
                state.sharers = 1 << core;
                Acquire::Owned
            }
            Some((holder, _)) => Acquire::Busy { holder },
            None => {
                let base = if state.owner.is_some() {
                    self.config.remote_latency
                } else if state.sharers & !(1 << core) == 0 && state.sharers != 0 {
                    self.config.l1_latency
                } else if state.sharers != 0 {
                    self.config.upgrade_latency
                } else {
                    self.config.memory_latency
                };
                let ready = now + self.jitter.stretch(base);
                state.transfer = Some((core, ready));
                Acquire::Pending(ready)
            }
        }
    }

    /// Lock an owned line for a locked read-modify-write: no other core reads it or takes
    /// it until [`MemSys::unlock`]. Returns false when `core` does not own the line.
    pub fn lock(&mut self, core: usize, line: u64) -> bool {
        let state = self.lines.entry(line).or_default();
        if state.owner != Some(core) {
            return false;
        }
        state.locked_by = Some(core);
        true
    }

    /// Release a lock taken with [`MemSys::lock`].
    pub fn unlock(&mut self, core: usize, line: u64) {
        if let Some(state) = self.lines.get_mut(&line)
            && state.locked_by == Some(core)
        {
            state.locked_by = None;
        }
    }

    /// Latency of filling an instruction-cache line (instruction fetch is not part of
    /// the data coherence protocol).
    pub fn code_fill_latency(&mut self, line: u64) -> u64 {
        let base = match self.lines.entry(line) {
            std::collections::hash_map::Entry::Occupied(_) => self.config.l2_latency,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(LineState::default());
                self.config.memory_latency
            }
        };
        self.jitter.stretch(base)
    }

    /// The coherence state of `line`, for diagnostics.
    pub fn view(&self, line: u64) -> LineView {
        let s = self.lines.get(&line).cloned().unwrap_or_default();
        LineView {
            owner: s.owner,
            transfer: s.transfer,
            locked_by: s.locked_by,
        }
    }

    /// The memory configuration.
    pub fn config(&self) -> &MemConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memsys() -> MemSys {
        MemSys::new(MemConfig::default(), Jitter::new(0, 0, 0))
    }

    #[test]
    fn read_latency_depends_on_where_the_line_is() {
        let c = MemConfig::default();
        let mut m = memsys();
        assert_eq!(m.read(0, 0x1000, 0), Read::Ready(c.memory_latency));
        assert_eq!(m.read(0, 0x1000, 10), Read::Ready(10 + c.l1_latency));
        assert_eq!(m.read(1, 0x1000, 10), Read::Ready(10 + c.l2_latency));
        assert_eq!(m.read(1, 0x1000, 20), Read::Ready(20 + c.l1_latency));
    }

    #[test]
    fn ownership_transfers_one_at_a_time_and_downgrades_on_read() {
        let c = MemConfig::default();
        let mut m = memsys();
        let Acquire::Pending(t0) = m.acquire(0, 0x40, 0) else {
            panic!()
        };
        assert_eq!(m.acquire(1, 0x40, 1), Acquire::Busy { holder: 0 });
        assert_eq!(m.acquire(0, 0x40, t0 - 1), Acquire::Pending(t0));
        assert_eq!(m.acquire(0, 0x40, t0), Acquire::Owned);
        // Core 1 now pays a remote transfer, and only core 1 may collect it.
        let Acquire::Pending(t1) = m.acquire(1, 0x40, t0) else {
            panic!()
        };
        assert_eq!(t1, t0 + c.remote_latency);
        assert_eq!(
            m.acquire(0, 0x40, t0 + 1),
            Acquire::Owned,
            "owner keeps writing until the grant"
        );
        assert_eq!(m.acquire(1, 0x40, t1), Acquire::Owned);
        assert_eq!(
            m.acquire(0, 0x40, t1),
            Acquire::Pending(t1 + c.remote_latency)
        );
        // A read by a third core downgrades the owner.
        let mut m = memsys();
        let Acquire::Pending(t) = m.acquire(0, 0x80, 0) else {
            panic!()
        };
        assert_eq!(m.acquire(0, 0x80, t), Acquire::Owned);
        assert_eq!(m.read(2, 0x80, t), Read::Ready(t + c.remote_latency));
        assert_eq!(m.view(0x80).owner, None);
    }

    #[test]
    fn locked_lines_block_other_cores() {
        let mut m = memsys();
        let Acquire::Pending(t) = m.acquire(0, 0x40, 0) else {
            panic!()
        };
        assert_eq!(m.acquire(0, 0x40, t), Acquire::Owned);
        assert!(m.lock(0, 0x40));
        assert!(!m.lock(1, 0x40));
        assert_eq!(m.read(1, 0x40, t), Read::Busy { holder: 0 });
        assert_eq!(m.acquire(1, 0x40, t), Acquire::Busy { holder: 0 });
        m.unlock(0, 0x40);
        assert!(matches!(m.read(1, 0x40, t), Read::Ready(_)));
    }

    #[test]
    fn split_accesses_touch_two_lines() {
        assert_eq!(lines_of(0x3e, 4), (0x00, Some(0x40)));
        assert_eq!(lines_of(0x38, 8), (0x38 & !63, None));
    }
}
