//! The post-retirement store buffer: where x86-TSO's one relaxation comes from.
//!
//! Retired stores wait here, in program order, until their line is owned; only then
//! do they write the shared memory image and become visible to other cores. Loads of
//! the same core see them earlier, through forwarding ([`StoreBuffer::forward`]).

use std::collections::VecDeque;

use isa::reg::Width;

use super::trace::{InstRecord, MemEvent};

/// How an older store relates to a younger load.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Overlap {
    /// No byte in common.
    Disjoint,
    /// The store covers every byte of the load: the loaded value (zero-extended).
    Covers(u64),
    /// Some bytes in common but not all: the load must wait for the store to reach memory.
    Partial,
}

/// Compare a store of `store_width` bytes of `data` at `store_addr` with a load.
pub fn overlap(
    store_addr: u64,
    store_width: Width,
    data: u64,
    load_addr: u64,
    load_width: Width,
) -> Overlap {
    let (s0, s1) = (
        store_addr,
        store_addr.wrapping_add(store_width.bytes() as u64),
    );
    let (l0, l1) = (load_addr, load_addr.wrapping_add(load_width.bytes() as u64));
    if l1 <= s0 || s1 <= l0 {
        Overlap::Disjoint
    } else if s0 <= l0 && l1 <= s1 {
        let shift = 8 * (l0 - s0);
        Overlap::Covers((data >> shift) & load_width.mask())
    } else {
        Overlap::Partial
    }
}

/// One retired store waiting to become visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbEntry {
    /// Linear address.
    pub addr: u64,
    /// Bytes written.
    pub width: Width,
    /// Value (low `width` bytes).
    pub data: u64,
    /// Sequence number of the store's instruction, for traces and diagnostics.
    pub inst_seq: u64,
    /// Trace record of the instruction, completed and emitted when this entry drains
    /// (only on the instruction's last store, only when tracing).
    pub record: Option<Box<InstRecord>>,
}

impl SbEntry {
    /// The store as core `core` reports it at `cycle`.
    pub fn event(&self, core: usize, cycle: u64) -> MemEvent {
        MemEvent {
            core: core as u16,
            cycle,
            inst_seq: self.inst_seq,
            addr: self.addr,
            width: self.width.bytes() as u8,
            value: self.data,
        }
    }
}

/// FIFO of retired stores with a fixed capacity (a full buffer stalls retirement).
#[derive(Clone, Debug)]
pub struct StoreBuffer {
    entries: VecDeque<SbEntry>,
    capacity: usize,
}

impl StoreBuffer {
    /// An empty buffer holding at most `capacity` stores (at least 1).
    pub fn new(capacity: usize) -> StoreBuffer {
        StoreBuffer {
            entries: VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    /// Number of stores waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether every retired store has become visible.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `n` more stores fit.
    pub fn has_room(&self, n: usize) -> bool {
        self.entries.len() + n <= self.capacity
    }

    /// Append a retired store (the caller checked [`StoreBuffer::has_room`]).
    pub fn push(&mut self, entry: SbEntry) {
        debug_assert!(self.entries.len() < self.capacity);
        self.entries.push_back(entry);
    }

    /// Append a store of an interrupt or exception frame. Microcoded frame stores
    /// may overfill the buffer (by at most one frame): reserving room for a frame
    /// before every system instruction would stall buffers smaller than a frame.
    pub fn push_frame(&mut self, entry: SbEntry) {
        self.entries.push_back(entry);
    }

    /// The oldest store: the next to drain.
    pub fn head(&self) -> Option<&SbEntry> {
        self.entries.front()
    }

    /// The youngest store (to attach its instruction's trace record).
    pub fn tail_mut(&mut self) -> Option<&mut SbEntry> {
        self.entries.back_mut()
    }

    /// Remove the oldest store once it has been written to memory.
    pub fn drain_one(&mut self) -> Option<SbEntry> {
        self.entries.pop_front()
    }

    /// What a load of `width` at `addr` sees in the buffer: the youngest overlapping
    /// store decides (TSO: a core reads its own stores before others do).
    pub fn forward(&self, addr: u64, width: Width) -> Overlap {
        self.entries
            .iter()
            .rev()
            .map(|e| overlap(e.addr, e.width, e.data, addr, width))
            .find(|o| *o != Overlap::Disjoint)
            .unwrap_or(Overlap::Disjoint)
    }

    /// Whether any waiting store writes a byte in `[addr, addr+len)` (instruction fetch
    /// must not read memory under a pending store of its own core).
    pub fn touches(&self, addr: u64, len: u64) -> bool {
        self.entries
            .iter()
            .any(|e| e.addr < addr + len && addr < e.addr + e.width.bytes() as u64)
    }

    /// The waiting stores, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &SbEntry> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(addr: u64, width: Width, data: u64) -> SbEntry {
        SbEntry {
            addr,
            width,
            data,
            inst_seq: 0,
            record: None,
        }
    }

    #[test]
    fn overlap_classifies_every_case() {
        assert_eq!(
            overlap(0x100, Width::B8, 0x1122_3344_5566_7788, 0x102, Width::B2),
            Overlap::Covers(0x5566)
        );
        assert_eq!(
            overlap(0x100, Width::B4, 0xaabb_ccdd, 0x100, Width::B4),
            Overlap::Covers(0xaabb_ccdd)
        );
        assert_eq!(
            overlap(0x100, Width::B4, 0, 0x104, Width::B4),
            Overlap::Disjoint
        );
        assert_eq!(
            overlap(0x104, Width::B4, 0, 0x100, Width::B4),
            Overlap::Disjoint
        );
        assert_eq!(
            overlap(0x100, Width::B4, 0, 0x102, Width::B4),
            Overlap::Partial
        );
        assert_eq!(
            overlap(0x101, Width::B1, 0, 0x100, Width::B4),
            Overlap::Partial
        );
    }

    #[test]
    fn youngest_store_wins_and_fifo_drains_oldest_first() {
        let mut sb = StoreBuffer::new(3);
        sb.push(store(0x10, Width::B8, 1));
        sb.push(store(0x10, Width::B4, 2));
        assert_eq!(sb.forward(0x10, Width::B4), Overlap::Covers(2));
        assert_eq!(
            sb.forward(0x14, Width::B4),
            Overlap::Covers(0),
            "upper half of the older store"
        );
        assert_eq!(
            sb.forward(0x10, Width::B8),
            Overlap::Partial,
            "youngest overlapping store covers half"
        );
        assert_eq!(sb.forward(0x20, Width::B8), Overlap::Disjoint);
        assert!(sb.has_room(1) && !sb.has_room(2));
        assert!(sb.touches(0x0, 0x11) && !sb.touches(0x18, 8));
        assert_eq!(sb.drain_one().map(|e| e.data), Some(1));
        assert_eq!(sb.head().map(|e| e.data), Some(2));
        assert_eq!(sb.len(), 1);
    }
}
