//! One out-of-order core: rename into the ROB, schedule and execute uops, and recover
//! from mispredictions and machine clears. Loads and the store buffer are in `lsq`,
//! retirement in `retire`.

use std::collections::VecDeque;

use isa::class::InstClass;
use isa::uop::{AluOp, FenceKind, Loc, SysOp, UopKind};

use crate::system::{SystemConfig, SystemState};

use super::config::{CoreConfig, IfetchCoherence};
use super::decode_cache::DecodeCache;
use super::frontend::Frontend;
use super::jitter::Jitter;
use super::predictor::RasCheckpoint;
use super::rob::{ARCH, Inputs, MAX_SRCS, N_LOCS, NOT_YET, Rob, RobEntry, Wait, loc_index};
use super::scheduler::Scheduler;
use super::shared::Shared;
use super::store_buffer::StoreBuffer;
use super::trace::{ClearReason, InstRecord, Stage, TraceEvent};
use super::{CoreInit, CoreStats};

/// Why a core throws away in-flight work.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FlushCause {
    /// The branch at this address went elsewhere than predicted.
    Mispredict {
        /// Address of the branch instruction.
        ip: u64,
    },
    /// A machine clear.
    Clear(ClearReason),
    /// An interrupt is taken at the boundary: everything in flight is younger.
    Interrupt {
        /// Vector.
        vector: u8,
    },
}

/// A pending pipeline flush: squash every instruction after `keep_upto`, then fetch
/// from `restart` once the cycle `at` is reached.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Flush {
    /// Youngest instruction kept (`None`: squash everything in flight).
    pub keep_upto: Option<u64>,
    /// Where fetch restarts.
    pub restart: u64,
    /// Cycle the flush takes effect.
    pub at: u64,
    /// Return-stack position to restore.
    pub ras: RasCheckpoint,
    /// Why.
    pub cause: FlushCause,
}

/// Something younger instructions must wait for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Barrier {
    /// The fence or locked instruction.
    pub inst_seq: u64,
    /// `Mfence` (also locked instructions) holds back later loads, `Lfence` everything.
    pub kind: FenceKind,
    /// A trace event was emitted for it.
    pub reported: bool,
}

/// One out-of-order core.
#[derive(Debug)]
pub struct Core {
    /// Core number.
    pub id: usize,
    pub(super) config: CoreConfig,
    pub(super) ifetch: IfetchCoherence,
    /// Fetch and decode.
    pub frontend: Frontend,
    pub(super) rob: Rob,
    rat: [u64; N_LOCS],
    /// Retired register, temporary and flag values.
    pub arch: [u64; N_LOCS],
    /// Renamed uops not yet issued, oldest first.
    pub(super) scheduler: Scheduler,
    pub(super) load_queue: VecDeque<u64>,
    pub(super) store_queue: VecDeque<u64>,
    pub(super) barriers: VecDeque<Barrier>,
    /// Loads waiting for their line; they read memory when it arrives.
    pub(super) loads_in_flight: Vec<InFlightLoad>,
    /// Retired stores not yet visible.
    pub sb: StoreBuffer,
    pub(super) sb_next_drain: u64,
    /// A renamed instruction younger ones may not be renamed past until it retires:
    /// serializing instructions, and system instructions writing several registers.
    pub(super) rename_blocked_by: Option<u64>,
    pub(super) pending_flush: Option<Flush>,
    /// Locked instruction holding lines: (instruction, lines).
    pub(super) held_lock: Option<(u64, u64, Option<u64>)>,
    /// The core retired `hlt` and sleeps until an interrupt.
    pub halted: bool,
    /// Privilege level, MSRs, IDT, local APIC.
    pub sys: SystemState,
    /// Address of the next instruction to retire (where an interrupt returns to).
    pub arch_rip: u64,
    /// Cycle of the last serialization (`NEVER_SERIALIZED` before the first).
    pub serialized_at: u64,
    /// Counters.
    pub stats: CoreStats,
    pub(super) jitter: Jitter,
    /// Instruction-side invalidations from other cores not applied yet: (cycle, line).
    pub(super) pending_invalidations: VecDeque<(u64, u64)>,
    pub(super) sb_full_reported: bool,
    /// Cycle the core last retired an instruction.
    pub last_retire: u64,
    /// What the cycle-attribution counters remember between events.
    pub(super) cost: super::cost::CostTracker,
}

impl Core {
    /// A core starting at `rip` with registers `regs`, after `start` cycles of skew.
    pub fn new(
        id: usize,
        config: &CoreConfig,
        ifetch: IfetchCoherence,
        init: &CoreInit,
        system: SystemConfig,
        start: u64,
        jitter: Jitter,
    ) -> Core {
        let config = &config.workable();
        let mut arch = [0; N_LOCS];
        arch[..16].copy_from_slice(&init.regs);
        Core {
            id,
            config: config.clone(),
            ifetch,
            frontend: Frontend::new(config, init.rip, start),
            rob: Rob::new(config.rob_size),
            rat: [ARCH; N_LOCS],
            arch,
            scheduler: Scheduler::with_capacity(config.scheduler_size),
            load_queue: VecDeque::with_capacity(config.load_queue),
            store_queue: VecDeque::with_capacity(config.store_queue),
            barriers: VecDeque::new(),
            loads_in_flight: Vec::with_capacity(config.load_queue),
            sb: StoreBuffer::new(config.store_buffer),
            sb_next_drain: 0,
            rename_blocked_by: None,
            pending_flush: None,
            held_lock: None,
            halted: false,
            sys: SystemState::new(system, id as u32),
            arch_rip: init.rip,
            serialized_at: super::NEVER_SERIALIZED,
            stats: CoreStats::default(),
            jitter,
            pending_invalidations: VecDeque::new(),
            sb_full_reported: false,
            last_retire: start,
            cost: super::cost::CostTracker::default(),
        }
    }

    /// Advance one cycle; `serializing_interrupts` makes taking an interrupt
    /// serialize. Returns the address and message of a fault of the oldest instruction.
    pub fn step(
        &mut self,
        now: u64,
        serializing_interrupts: bool,
        sh: &mut Shared,
    ) -> Option<(u64, String)> {
        self.apply_invalidations(now);
        if self.pending_flush.is_some_and(|f| f.at <= now) {
            let flush = self.pending_flush.take().expect("checked");
            self.flush(flush, now, sh);
        }
        self.drain_store_buffer(now, sh);
        self.complete_loads(now, sh.memory);
        if let Some(fault) = self.take_interrupt(now, serializing_interrupts, sh) {
            return Some((self.arch_rip, fault));
        }
        if self.halted {
            return None;
        }
        if let Some((ip, fault)) = self.retire(now, sh) {
            return Some((ip, fault));
        }
        self.issue(now, sh);
        self.rename(now);
        self.frontend.decode(now, sh.cache);
        self.frontend.fetch(now, sh.memsys, sh.memory, &self.sb);
        None
    }

    /// Retired RFLAGS.
    pub fn arch_flags(&self) -> isa::flags::Flags {
        isa::flags::Flags::from_bits_retain(self.arch[loc_index(Loc::Flags)])
    }

    /// Request a flush; the one squashing the most (oldest) wins.
    pub(super) fn request_flush(&mut self, flush: Flush) {
        let older = |a: Option<u64>, b: Option<u64>| {
            a.map_or(-1, |v| v as i128) < b.map_or(-1, |v| v as i128)
        };
        match self.pending_flush {
            Some(p) if !older(flush.keep_upto, p.keep_upto) => {}
            _ => self.pending_flush = Some(flush),
        }
    }

    /// Squash every instruction after `flush.keep_upto` and restart fetch.
    pub(super) fn flush(&mut self, flush: Flush, now: u64, sh: &mut Shared) {
        let keeps = |inst_seq: u64| flush.keep_upto.is_some_and(|k| inst_seq <= k);
        let penalty = match flush.cause {
            FlushCause::Mispredict { ip } => {
                self.stats.mispredicts += 1;
                let inst_seq = flush.keep_upto.unwrap_or(0);
                sh.emit(TraceEvent::Mispredict {
                    core: self.id as u16,
                    cycle: now,
                    inst_seq,
                    ip,
                });
                self.config.mispredict_penalty
            }
            FlushCause::Clear(reason) => {
                self.stats.machine_clears += 1;
                let inst_seq = flush.keep_upto.map_or(0, |k| k + 1);
                sh.emit(TraceEvent::MachineClear {
                    core: self.id as u16,
                    cycle: now,
                    inst_seq,
                    reason,
                });
                self.config.machine_clear_penalty
            }
            FlushCause::Interrupt { .. } => self.config.machine_clear_penalty,
        };
        while let Some(tail) = self.rob.tail() {
            if keeps(tail.q.inst_seq) {
                break;
            }
            let e = self.rob.pop_tail().expect("tail exists");
            self.stats.squashed_uops += 1;
            if e.q.first && sh.trace.is_some() {
                let mut r = record_of(self.id, &e, sh.cache);
                r.squashed = true;
                r.mark(Stage::Retire, now);
                sh.emit(TraceEvent::Inst(r));
            }
        }
        let next = self.rob.next_seq();
        self.scheduler.squash(next);
        self.loads_in_flight.retain(|l| l.seq < next);
        while self.load_queue.back().is_some_and(|&s| s >= next) {
            self.load_queue.pop_back();
        }
        while self.store_queue.back().is_some_and(|&s| s >= next) {
            self.store_queue.pop_back();
        }
        while self.barriers.back().is_some_and(|b| !keeps(b.inst_seq)) {
            self.barriers.pop_back();
        }
        self.rename_blocked_by = self.rename_blocked_by.filter(|&s| keeps(s));
        if self.held_lock.is_some_and(|h| !keeps(h.0)) {
            self.release_lock(sh);
        }
        self.pending_flush = self
            .pending_flush
            .filter(|p| keeps(p.keep_upto.map_or(0, |k| k + 1)));
        self.rat = [ARCH; N_LOCS];
        for e in self.rob.iter() {
            if let Some(loc) = e.q.uop.writes() {
                self.rat[loc_index(loc)] = e.seq;
            }
            if !e.q.uop.flags_written.is_empty() {
                self.rat[loc_index(Loc::Flags)] = e.seq;
            }
        }
        self.frontend
            .redirect(flush.restart, now + penalty, Some(flush.ras));
    }

    /// Move decoded uops into the ROB, capturing their producers.
    fn rename(&mut self, now: u64) {
        for _ in 0..self.config.rename_width {
            if self.rename_blocked_by.is_some() {
                return;
            }
            let Some(q) = self.frontend.queue.front() else {
                return;
            };
            let is_load = matches!(q.uop.kind, UopKind::Load { .. });
            let is_store = matches!(q.uop.kind, UopKind::Store);
            if q.decoded > now
                || !self.rob.has_room()
                || self.scheduler.len() >= self.config.scheduler_size
                || (is_load && self.load_queue.len() >= self.config.load_queue)
                || (is_store && self.store_queue.len() >= self.config.store_queue)
            {
                return;
            }
            let q = self.frontend.queue.pop_front().expect("checked");
            let seq = self.rob.next_seq();
            let mut srcs = [(Loc::Flags, ARCH); MAX_SRCS];
            let mut n = 0;
            for loc in q.uop.reads() {
                if n < MAX_SRCS && !srcs[..n].iter().any(|s| s.0 == loc) {
                    srcs[n] = (loc, self.rat[loc_index(loc)]);
                    n += 1;
                }
            }
            if let Some(loc) = q.uop.writes() {
                self.rat[loc_index(loc)] = seq;
            }
            if !q.uop.flags_written.is_empty() {
                self.rat[loc_index(Loc::Flags)] = seq;
            }
            if is_load {
                self.load_queue.push_back(seq);
            }
            if is_store {
                self.store_queue.push_back(seq);
            }
            if q.first {
                let fence = match q.uop.kind {
                    UopKind::Fence(k @ (FenceKind::Mfence | FenceKind::Lfence)) => Some(k),
                    _ if q.class.contains(InstClass::LOCKED) => Some(FenceKind::Mfence),
                    _ => None,
                };
                if let Some(kind) = fence {
                    self.barriers.push_back(Barrier {
                        inst_seq: q.inst_seq,
                        kind,
                        reported: false,
                    });
                }
            }
            if q.last
                && (q.class.contains(InstClass::SERIALIZING)
                    || writes_registers_at_retire(q.uop.kind))
            {
                self.rename_blocked_by = Some(q.inst_seq);
            }
            self.rob.push(RobEntry {
                q,
                seq,
                srcs,
                n_srcs: n as u8,
                renamed: now,
                issued: NOT_YET,
                done: NOT_YET,
                result: 0,
                flags: isa::flags::Flags::empty(),
                mem: None,
                performed: false,
                actual_next: 0,
                wait: Wait::Nothing,
            });
            self.scheduler.push(seq, &mut self.rob);
        }
    }

    /// Issue ready uops, oldest first, within the issue width and port limits. Only
    /// candidates whose sources are available are tried: the others would fail anyway.
    fn issue(&mut self, now: u64, sh: &mut Shared) {
        let mut ports = Ports {
            total: self.config.issue_width,
            loads: self.config.load_ports,
            stores: self.config.store_ports,
        };
        let mut i = 0;
        while ports.total > 0 {
            let Some((seq, ready_at)) = self.scheduler.candidate(i) else {
                break;
            };
            if ready_at <= now && self.try_issue(seq, now, sh, &mut ports) {
                self.scheduler.remove_candidate(i);
                ports.total -= 1;
            } else {
                i += 1;
            }
        }
    }

    /// Value of `loc` produced by uop `producer` (which must have completed).
    pub(super) fn source(&self, loc: Loc, producer: u64) -> u64 {
        match self.rob.get(producer) {
            Some(p) if loc == Loc::Flags => p.flags.bits(),
            Some(p) => p.result,
            None => self.arch[loc_index(loc)],
        }
    }

    /// The youngest-first barrier older than instruction `inst_seq` that blocks it.
    fn blocking_barrier(&mut self, inst_seq: u64, is_load: bool) -> Option<&mut Barrier> {
        self.barriers
            .iter_mut()
            .take_while(|b| b.inst_seq < inst_seq)
            .find(|b| b.kind == FenceKind::Lfence || (is_load && b.kind == FenceKind::Mfence))
    }

    fn try_issue(&mut self, seq: u64, now: u64, sh: &mut Shared, ports: &mut Ports) -> bool {
        let e = self.rob.get(seq).expect("scheduled uops are in the ROB");
        let kind = e.q.uop.kind;
        let is_load = matches!(kind, UopKind::Load { .. });
        if (is_load && ports.loads == 0) || (kind == UopKind::Store && ports.stores == 0) {
            return false;
        }
        // The common case, checked before copying anything: a source is not ready yet.
        let srcs = &e.srcs[..usize::from(e.n_srcs)];
        if !srcs
            .iter()
            .all(|&(_, p)| self.rob.get(p).is_none_or(|p| p.is_done(now)))
        {
            return false;
        }
        let mut inputs = Inputs::new();
        for &(loc, producer) in srcs {
            inputs.push(loc, self.source(loc, producer));
        }
        let uop = e.q.uop;
        let inst_seq = e.q.inst_seq;
        let serializing = e.q.class.contains(InstClass::SERIALIZING)
            && (kind != UopKind::Sys(SysOp::Iret) || self.sys.config().iret_serializing);
        let head_inst = self.rob.head().map(|h| h.q.inst_seq) == Some(inst_seq);
        if let Some(b) = self.blocking_barrier(inst_seq, is_load) {
            let (barrier, kind) = (b.inst_seq, b.kind);
            if !std::mem::replace(&mut b.reported, true) {
                sh.emit(TraceEvent::FenceStall {
                    core: self.id as u16,
                    cycle: now,
                    inst_seq: barrier,
                    kind,
                });
            }
            return self.set_wait(seq, Wait::Fence(barrier));
        }
        let needs_drained =
            serializing || uop.locked || uop.kind == UopKind::Fence(FenceKind::Mfence);
        let needs_oldest = needs_drained || uop.kind == UopKind::Fence(FenceKind::Lfence);
        if needs_oldest && !head_inst {
            return self.set_wait(seq, Wait::OlderInstructions);
        }
        if needs_drained && !self.sb.is_empty() {
            self.drain_waiting(seq, now);
            return self.set_wait(seq, Wait::StoreBufferDrain);
        }
        if needs_drained {
            self.drained(seq, serializing, now);
        }
        let outcome = isa::semantics::execute(&uop, &inputs);
        let mut latency = self.config.alu_latency;
        let e = self.rob.get_mut(seq).expect("in ROB");
        e.mem = outcome.mem;
        match uop.kind {
            UopKind::Load { .. } => {
                let Some(access) = outcome.mem else {
                    return self.set_wait(seq, Wait::Nothing);
                };
                match self.perform_load(seq, access, now, sh) {
                    Ok(LoadStart::Value(loaded, ready)) => {
                        let (_, value) = isa::semantics::complete_load(&uop, &inputs, loaded);
                        let e = self.rob.get_mut(seq).expect("in ROB");
                        e.result = value;
                        e.performed = true;
                        latency = ready - now;
                        ports.loads -= 1;
                    }
                    Ok(LoadStart::Memory(ready)) => {
                        ports.loads -= 1;
                        let e = self.rob.get_mut(seq).expect("in ROB");
                        e.issued = now;
                        e.wait = Wait::Nothing;
                        self.loads_in_flight.push(InFlightLoad {
                            seq,
                            ready,
                            access,
                            inputs,
                        });
                        return true;
                    }
                    Err(wait) => return self.set_wait(seq, wait),
                }
            }
            UopKind::Store => ports.stores -= 1,
            UopKind::Alu(AluOp::Imul) => latency = self.config.mul_latency,
            UopKind::Branch { .. } => {
                latency = self.config.branch_latency;
                let actual = outcome.redirect.unwrap_or(e.q.next_ip);
                e.actual_next = actual;
                if actual != e.q.predicted_next {
                    let flush = Flush {
                        keep_upto: Some(inst_seq),
                        restart: actual,
                        at: now + latency,
                        ras: e.q.ras,
                        cause: FlushCause::Mispredict { ip: e.q.ip },
                    };
                    self.request_flush(flush);
                }
            }
            UopKind::Sys(SysOp::Pause) => latency = self.config.pause_latency,
            UopKind::Alu(_) | UopKind::Fence(_) | UopKind::Sys(_) | UopKind::Nop => {}
        }
        let e = self.rob.get_mut(seq).expect("in ROB");
        if let Some((_, v)) = outcome.dst.filter(|_| !is_load) {
            e.result = v;
        }
        if let Some(f) = outcome.flags {
            e.flags = f;
        }
        e.issued = now;
        e.done = now + latency;
        e.wait = Wait::Nothing;
        self.scheduler.wake(seq, &mut self.rob);
        true
    }

    fn set_wait(&mut self, seq: u64, wait: Wait) -> bool {
        if let Some(e) = self.rob.get_mut(seq) {
            e.wait = wait;
        }
        false
    }
}

/// How a load got going.
pub enum LoadStart {
    /// Its bytes are known (forwarded, or a locked load): `(loaded, ready cycle)`.
    Value(u64, u64),
    /// Its line arrives at this cycle; memory is read then.
    Memory(u64),
}

/// A load waiting for its line.
#[derive(Debug)]
pub struct InFlightLoad {
    /// The load uop.
    pub seq: u64,
    /// Cycle the line arrives.
    pub ready: u64,
    /// What it reads.
    pub access: isa::uop::MemAccess,
    /// Its source values (for merging into a partial destination register).
    pub inputs: Inputs,
}

/// Issue slots left this cycle.
struct Ports {
    total: usize,
    loads: usize,
    stores: usize,
}

/// System uops execute at retirement on the architectural state (registers, flags,
/// privilege level): younger instructions are renamed only after them, so they
/// read the results. `pause` and `clflush` change nothing a younger one reads.
fn writes_registers_at_retire(kind: UopKind) -> bool {
    matches!(kind, UopKind::Sys(op) if !matches!(op, SysOp::Pause | SysOp::Clflush))
}

/// Trace record of the instruction whose first uop is `e` (timing so far).
pub(super) fn record_of(core: usize, e: &RobEntry, cache: &DecodeCache) -> InstRecord {
    let bytes = e.q.inst.map_or(&[][..], |id| cache.get(id).bytes());
    let mut r = InstRecord::new(core, e.q.inst_seq, e.q.ip, bytes, e.q.fetched);
    r.mark(Stage::Decode, e.q.decoded);
    r.mark(Stage::Rename, e.renamed);
    if e.issued != NOT_YET {
        r.mark(Stage::Issue, e.issued);
    }
    r
}
