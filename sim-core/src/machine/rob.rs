//! The reorder buffer and register renaming.
//!
//! Renaming is value-capturing: each ROB entry holds the result of its uop, and the
//! rename table maps every [`Loc`] to the sequence number of its youngest in-flight
//! producer. A consumer reads its producer's entry while the producer is in flight and
//! the retired (architectural) value once it has retired: no younger writer of the
//! same location can have retired in between, so that value is still the producer's.

use std::collections::VecDeque;

use isa::flags::Flags;
use isa::reg::Gpr;
use isa::uop::{Loc, MAX_TEMPS, MemAccess, UopInputs};

use super::frontend::QueuedUop;

/// Locations tracked by renaming: 16 registers, the temporaries, RFLAGS.
pub const N_LOCS: usize = 16 + MAX_TEMPS as usize + 1;
/// Most locations one uop reads (base, index, two sources, merged destination, flags).
pub const MAX_SRCS: usize = 6;
/// "No in-flight producer: read the architectural value".
pub const ARCH: u64 = u64::MAX;
/// A cycle that has not happened (yet).
pub const NOT_YET: u64 = u64::MAX;

/// Index of `loc` in rename and architectural tables.
pub fn loc_index(loc: Loc) -> usize {
    match loc {
        Loc::Reg(g) => g.index(),
        Loc::Temp(t) => 16 + usize::from(t),
        Loc::Flags => N_LOCS - 1,
    }
}

/// What an issued uop is (or was last) waiting for; explains stalls to the watchdog.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Wait {
    /// Not tried yet, or its source values are not computed yet.
    #[default]
    Nothing,
    /// An older fence or locked instruction (instruction sequence number).
    Fence(u64),
    /// Must be the oldest instruction in flight.
    OlderInstructions,
    /// The store buffer must drain first.
    StoreBufferDrain,
    /// An older store's address is unknown.
    OlderStoreAddress,
    /// An older store to the same bytes has no data yet.
    OlderStoreData,
    /// An older store overlaps the load partially (waits until it reaches memory).
    PartialForward,
    /// The line is locked by another core's atomic instruction.
    LineBusy {
        /// The line.
        line: u64,
        /// The core holding it.
        holder: usize,
    },
    /// Waiting for ownership of a line (locked instructions).
    Ownership {
        /// The line.
        line: u64,
    },
}

/// One uop in the reorder buffer.
#[derive(Clone, Debug)]
pub struct RobEntry {
    /// The uop and its instruction's front-end information.
    pub q: QueuedUop,
    /// Uop sequence number (contiguous in the ROB).
    pub seq: u64,
    /// Source locations and their producers ([`ARCH`] when none in flight).
    pub srcs: [(Loc, u64); MAX_SRCS],
    /// Number of valid `srcs`.
    pub n_srcs: u8,
    /// Cycle renamed.
    pub renamed: u64,
    /// Cycle issued, or [`NOT_YET`].
    pub issued: u64,
    /// Cycle the result is available, or [`NOT_YET`].
    pub done: u64,
    /// Value written to the destination location.
    pub result: u64,
    /// Flags written, if the uop writes flags.
    pub flags: Flags,
    /// Memory access (known once executed).
    pub mem: Option<MemAccess>,
    /// A load that has read its value: other cores' stores to its line now clear it.
    pub performed: bool,
    /// Resolved next instruction address (branches).
    pub actual_next: u64,
    /// What it waited for last.
    pub wait: Wait,
}

impl RobEntry {
    /// Whether the result is available at `now`.
    pub fn is_done(&self, now: u64) -> bool {
        self.done <= now
    }
}

/// Ring buffer of in-flight uops addressed by sequence number.
#[derive(Debug)]
pub struct Rob {
    entries: VecDeque<RobEntry>,
    capacity: usize,
    next_seq: u64,
    /// Per uop (slot `seq % capacity`): scheduled uops waiting for its completion cycle.
    waiters: Vec<Vec<u64>>,
}

impl Rob {
    /// An empty ROB of `capacity` uops.
    pub fn new(capacity: usize) -> Rob {
        Rob {
            entries: VecDeque::with_capacity(capacity),
            capacity,
            next_seq: 0,
            waiters: vec![Vec::new(); capacity],
        }
    }

    /// Whether another uop fits.
    pub fn has_room(&self) -> bool {
        self.entries.len() < self.capacity
    }

    /// Sequence number the next pushed uop gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Append a uop (its `seq` must be [`Rob::next_seq`]).
    pub fn push(&mut self, entry: RobEntry) {
        debug_assert_eq!(entry.seq, self.next_seq);
        self.next_seq += 1;
        let slot = self.slot(entry.seq);
        self.waiters[slot].clear();
        self.entries.push_back(entry);
    }

    fn slot(&self, seq: u64) -> usize {
        (seq % self.capacity as u64) as usize
    }

    /// Record that `consumer` waits for the completion cycle of `producer` (in flight).
    pub fn wait_for(&mut self, producer: u64, consumer: u64) {
        let slot = self.slot(producer);
        self.waiters[slot].push(consumer);
    }

    /// The uops waiting for `producer`; hand the list back with [`Rob::return_waiters`].
    pub fn take_waiters(&mut self, producer: u64) -> Vec<u64> {
        let slot = self.slot(producer);
        std::mem::take(&mut self.waiters[slot])
    }

    /// Give back a list from [`Rob::take_waiters`], emptied (keeps its allocation).
    pub fn return_waiters(&mut self, producer: u64, mut waiters: Vec<u64>) {
        waiters.clear();
        let slot = self.slot(producer);
        self.waiters[slot] = waiters;
    }

    fn index(&self, seq: u64) -> Option<usize> {
        let head = self.entries.front()?.seq;
        seq.checked_sub(head)
            .map(|i| i as usize)
            .filter(|&i| i < self.entries.len())
    }

    /// The in-flight uop `seq`, if it has neither retired nor been squashed.
    pub fn get(&self, seq: u64) -> Option<&RobEntry> {
        self.index(seq).map(|i| &self.entries[i])
    }

    /// Mutable access to the in-flight uop `seq`.
    pub fn get_mut(&mut self, seq: u64) -> Option<&mut RobEntry> {
        self.index(seq).map(|i| &mut self.entries[i])
    }

    /// When the producers of `srcs` have their results: `Ok(cycle)` once every
    /// producer's completion cycle is known (retired producers count as cycle 0), or
    /// `Err(producer)` naming one whose cycle is not known yet. A known cycle never
    /// changes while the producer is in flight, and a producer retires only once done.
    pub fn sources_ready_at(&self, srcs: &[(Loc, u64)]) -> Result<u64, u64> {
        let mut ready = 0;
        for &(_, p) in srcs {
            match self.get(p) {
                Some(e) if e.done == NOT_YET => return Err(p),
                Some(e) => ready = ready.max(e.done),
                None => {}
            }
        }
        Ok(ready)
    }

    /// The oldest uop.
    pub fn head(&self) -> Option<&RobEntry> {
        self.entries.front()
    }

    /// The `i`-th oldest uop.
    pub fn nth(&self, i: usize) -> Option<&RobEntry> {
        self.entries.get(i)
    }

    /// Remove the oldest uop (retirement).
    pub fn pop_head(&mut self) -> Option<RobEntry> {
        self.entries.pop_front()
    }

    /// Remove the youngest uop (squash); sequence numbers are reused afterwards.
    pub fn pop_tail(&mut self) -> Option<RobEntry> {
        let e = self.entries.pop_back()?;
        self.next_seq = e.seq;
        Some(e)
    }

    /// The youngest uop.
    pub fn tail(&self) -> Option<&RobEntry> {
        self.entries.back()
    }

    /// All uops, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &RobEntry> {
        self.entries.iter()
    }
}

/// The values of a uop's sources, as [`UopInputs`] for the shared semantics.
#[derive(Copy, Clone, Debug)]
pub struct Inputs {
    locs: [Loc; MAX_SRCS],
    vals: [u64; MAX_SRCS],
    n: usize,
}

impl Inputs {
    /// No values yet.
    pub fn new() -> Inputs {
        Inputs {
            locs: [Loc::Flags; MAX_SRCS],
            vals: [0; MAX_SRCS],
            n: 0,
        }
    }

    /// Provide the value of `loc`.
    pub fn push(&mut self, loc: Loc, value: u64) {
        self.locs[self.n] = loc;
        self.vals[self.n] = value;
        self.n += 1;
    }

    /// The semantics read some locations whose value cannot matter (the old flags of
    /// a uop overwriting all of them, the old register under a 32/64-bit write); those
    /// are not in `reads()` and read as 0. The differential test guards the rest.
    fn value(&self, loc: Loc) -> u64 {
        self.locs[..self.n]
            .iter()
            .position(|l| *l == loc)
            .map_or(0, |i| self.vals[i])
    }
}

impl UopInputs for Inputs {
    fn reg(&self, gpr: Gpr) -> u64 {
        self.value(Loc::Reg(gpr))
    }

    fn temp(&self, t: u8) -> u64 {
        self.value(Loc::Temp(t))
    }

    fn flags(&self) -> Flags {
        Flags::from_bits_retain(self.value(Loc::Flags))
    }
}
