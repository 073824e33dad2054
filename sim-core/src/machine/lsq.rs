//! The memory side of a core: executing loads (forwarding from older stores, reading
//! coherent memory), locked read-modify-writes, draining the store buffer, and reacting
//! to other cores' stores (memory-ordering machine clears, I-cache invalidation).

use isa::reg::Width;
use isa::uop::{FenceKind, Loc, MemAccess};

use super::config::IfetchCoherence;
use super::core::{Core, Flush, FlushCause, LoadStart};
use super::memsys::{Acquire, Read, lines_of};
use super::rob::{Inputs, RobEntry, Wait};
use super::shared::{Shared, VisibleStore};
use super::store_buffer::{Overlap, overlap};
use super::trace::{ClearReason, MemEvent, Stage, TraceEvent};
use crate::mem::Memory;

/// Whether a store of `width` at `addr` shares no byte with `access`.
fn disjoint(addr: u64, width: Width, access: MemAccess) -> bool {
    overlap(addr, width, 0, access.addr, access.width) == Overlap::Disjoint
}

/// How many store-buffer entries behind the head ask for line ownership early.
const RFO_AHEAD: usize = 4;

impl Core {
    /// Start load `seq`: forwarded from an older store of this core, or requested from
    /// coherent memory (read when the line arrives, see [`Core::complete_loads`]).
    pub(super) fn perform_load(
        &mut self,
        seq: u64,
        access: MemAccess,
        now: u64,
        sh: &mut Shared,
    ) -> Result<LoadStart, Wait> {
        let (first, second) = lines_of(access.addr, access.width.bytes());
        let locked = self.rob.get(seq).is_some_and(|e| e.q.uop.locked);
        if locked {
            return self.perform_locked_load(seq, access, now, sh);
        }
        for &store_seq in self.store_queue.iter().rev().filter(|&&s| s < seq) {
            let store = self
                .rob
                .get(store_seq)
                .expect("store queue entries are in the ROB");
            let Some(st) = store.mem else {
                // Not executed: its address may still be known (address and data are
                // separate on real cores), which is enough to rule out an overlap.
                let width = store.q.uop.width;
                match self.store_address(store, now) {
                    Some(addr) if disjoint(addr, width, access) => continue,
                    Some(_) => return Err(Wait::OlderStoreData),
                    None => return Err(Wait::OlderStoreAddress),
                }
            };
            match overlap(
                st.addr,
                st.width,
                st.store_data.unwrap_or(0),
                access.addr,
                access.width,
            ) {
                Overlap::Disjoint => {}
                Overlap::Covers(v) => {
                    return Ok(LoadStart::Value(v, now + self.config.forward_latency));
                }
                Overlap::Partial => return Err(Wait::PartialForward),
            }
        }
        match self.sb.forward(access.addr, access.width) {
            Overlap::Covers(v) => {
                return Ok(LoadStart::Value(v, now + self.config.forward_latency));
            }
            Overlap::Partial => return Err(Wait::PartialForward),
            Overlap::Disjoint => {}
        }
        let mut ready = now;
        for line in std::iter::once(first).chain(second) {
            match sh.memsys.read(self.id, line, now) {
                Read::Ready(t) => ready = ready.max(t),
                Read::Busy { holder } => return Err(Wait::LineBusy { line, holder }),
            }
        }
        Ok(LoadStart::Memory(ready))
    }

    /// Address of the store `e` if the registers it is computed from are ready at `now`.
    fn store_address(&self, e: &RobEntry, now: u64) -> Option<u64> {
        let mem = e.q.uop.mem?;
        let mut inputs = Inputs::new();
        for &(loc, producer) in &e.srcs[..usize::from(e.n_srcs)] {
            let is_address =
                matches!(loc, Loc::Reg(r) if Some(r) == mem.base || Some(r) == mem.index);
            if is_address {
                if self.rob.get(producer).is_some_and(|p| !p.is_done(now)) {
                    return None;
                }
                inputs.push(loc, self.source(loc, producer));
            }
        }
        Some(isa::semantics::effective_address(&mem, &inputs))
    }

    /// Loads whose line arrived read memory now: from here on, another core's store to
    /// the line before the load retires clears it.
    pub(super) fn complete_loads(&mut self, now: u64, memory: &Memory) {
        let mut i = 0;
        while i < self.loads_in_flight.len() {
            if self.loads_in_flight[i].ready > now {
                i += 1;
                continue;
            }
            let load = self.loads_in_flight.swap_remove(i);
            let e = self
                .rob
                .get_mut(load.seq)
                .expect("in-flight loads are in the ROB");
            let loaded = memory.read(load.access.addr, load.access.width);
            e.result = isa::semantics::complete_load(&e.q.uop, &load.inputs, loaded).1;
            e.performed = true;
            e.done = now;
            self.scheduler.wake(load.seq, &mut self.rob);
        }
    }

    /// The load of a locked instruction: oldest in flight, store buffer empty (checked by
    /// the scheduler); take ownership, lock the lines until the instruction retires.
    fn perform_locked_load(
        &mut self,
        seq: u64,
        access: MemAccess,
        now: u64,
        sh: &mut Shared,
    ) -> Result<LoadStart, Wait> {
        let (first, second) = lines_of(access.addr, access.width.bytes());
        for line in std::iter::once(first).chain(second) {
            match sh.memsys.acquire(self.id, line, now) {
                Acquire::Owned => {}
                Acquire::Pending(_) => return Err(Wait::Ownership { line }),
                Acquire::Busy { holder } => return Err(Wait::LineBusy { line, holder }),
            }
        }
        let inst_seq = self.rob.get(seq).map_or(0, |e| e.q.inst_seq);
        for line in std::iter::once(first).chain(second) {
            sh.memsys.lock(self.id, line);
        }
        self.held_lock = Some((inst_seq, first, second));
        Ok(LoadStart::Value(
            sh.memory.read(access.addr, access.width),
            now + sh.memsys.config().l1_latency,
        ))
    }

    /// Write a locked instruction's store straight to memory at retirement (the store
    /// buffer is empty and the lines are locked), then release the lock.
    pub(super) fn commit_locked_store(
        &mut self,
        access: MemAccess,
        inst_seq: u64,
        now: u64,
        sh: &mut Shared,
    ) {
        let store = VisibleStore {
            core: self.id,
            inst_seq,
            addr: access.addr,
            len: access.width.bytes() as u64,
        };
        let data = access.store_data.unwrap_or(0);
        self.write_visible(store, data, sh);
        sh.emit(TraceEvent::StoreVisible {
            store: MemEvent {
                core: self.id as u16,
                cycle: now,
                inst_seq,
                addr: access.addr,
                width: access.width.bytes() as u8,
                value: data,
            },
            buffered: false,
        });
    }

    /// Release the lines of a retired locked instruction.
    pub(super) fn release_lock(&mut self, sh: &mut Shared) {
        if let Some((_, a, b)) = self.held_lock.take() {
            sh.memsys.unlock(self.id, a);
            if let Some(b) = b {
                sh.memsys.unlock(self.id, b);
            }
        }
    }

    fn write_visible(&mut self, store: VisibleStore, data: u64, sh: &mut Shared) {
        let width =
            isa::reg::Width::from_bytes(store.len as usize).expect("store widths are 1, 2, 4 or 8");
        sh.memory.write(store.addr, width, data);
        sh.visible.push(store);
    }

    /// Write the oldest retired store to memory once its line is owned (at most one per
    /// `sb_drain_interval`), and ask early for the lines of the next few.
    pub(super) fn drain_store_buffer(&mut self, now: u64, sh: &mut Shared) {
        if self.sb.is_empty() {
            return;
        }
        for e in self.sb.iter().skip(1).take(RFO_AHEAD) {
            sh.memsys
                .acquire(self.id, super::memsys::line_of(e.addr), now);
        }
        if now < self.sb_next_drain {
            return;
        }
        let head = self.sb.head().expect("not empty");
        let (first, second) = lines_of(head.addr, head.width.bytes());
        for line in std::iter::once(first).chain(second) {
            if sh.memsys.acquire(self.id, line, now) != Acquire::Owned {
                return;
            }
        }
        let mut entry = self.sb.drain_one().expect("not empty");
        let store = VisibleStore {
            core: self.id,
            inst_seq: entry.inst_seq,
            addr: entry.addr,
            len: entry.width.bytes() as u64,
        };
        self.write_visible(store, entry.data, sh);
        if sh.trace.is_some() {
            sh.emit(TraceEvent::StoreVisible {
                store: entry.event(self.id, now),
                buffered: true,
            });
        }
        let interval = self.jitter.stretch(self.config.sb_drain_interval);
        let extra = self.jitter.delay(u64::from(self.jitter.percent() / 4));
        self.sb_next_drain = now + interval + extra;
        if let Some(mut record) = entry.record.take() {
            record.mark(Stage::SbDrain, now);
            sh.emit(TraceEvent::Inst(*record));
        }
    }

    /// Another core's store to `[addr, addr+len)` became visible: clear the oldest load
    /// that already read one of those lines, and invalidate code copies per policy.
    pub(super) fn snoop(&mut self, store: VisibleStore, now: u64) {
        let (first, second) = lines_of(store.addr, store.len as usize);
        let hits = |line: u64| line == first || Some(line) == second;
        let victim = self.load_queue.iter().find_map(|&seq| {
            let e = self.rob.get(seq)?;
            let access = e.mem?;
            let (a, b) = lines_of(access.addr, access.width.bytes());
            (e.performed && (hits(a) || b.is_some_and(hits))).then_some((
                e.q.inst_seq,
                e.q.ip,
                e.q.ras,
                a,
            ))
        });
        if let Some((inst_seq, ip, ras, line)) = victim {
            let reason = ClearReason::MemoryOrdering {
                line,
                by_core: store.core as u16,
            };
            let flush = Flush {
                keep_upto: inst_seq.checked_sub(1),
                restart: ip,
                at: now,
                ras,
                cause: FlushCause::Clear(reason),
            };
            self.request_flush(flush);
        }
        for line in std::iter::once(first).chain(second) {
            match self.ifetch {
                IfetchCoherence::Lazy => {}
                IfetchCoherence::Snoop => {
                    self.frontend.icache.invalidate(line);
                }
                IfetchCoherence::Delayed { cycles } => {
                    self.pending_invalidations.push_back((now + cycles, line))
                }
            }
        }
    }

    /// Apply delayed I-cache invalidations that are due.
    pub(super) fn apply_invalidations(&mut self, now: u64) {
        while let Some(&(at, line)) = self.pending_invalidations.front() {
            if at > now {
                return;
            }
            self.frontend.icache.invalidate(line);
            self.pending_invalidations.pop_front();
        }
    }

    /// A serializing instruction retired: bring the instruction side up to date with
    /// memory as the SDM guarantees (drop everything per the coherence policy).
    pub(super) fn serialize_ifetch(&mut self) {
        match self.ifetch {
            IfetchCoherence::Lazy => self.frontend.icache.invalidate_all(),
            IfetchCoherence::Snoop => {}
            IfetchCoherence::Delayed { .. } => self.apply_invalidations(u64::MAX),
        }
    }

    /// Whether any fence or locked instruction is in flight (for diagnostics).
    pub(super) fn fence_in_flight(&self) -> Option<(u64, FenceKind)> {
        self.barriers.front().map(|b| (b.inst_seq, b.kind))
    }
}
