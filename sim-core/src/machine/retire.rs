//! Retirement: whole instructions leave the ROB in program order, update the
//! architectural state, and hand their stores to the store buffer.

use isa::class::InstClass;
use isa::uop::{Loc, UopKind};

use super::core::{Core, Flush, FlushCause, record_of};
use super::decode_cache::InstId;
use super::memsys::{LINE, line_of};
use super::rob::loc_index;
use super::shared::{CoreSignal, Shared};
use super::stale::{self, Retiring};
use super::store_buffer::SbEntry;
use super::sysexec::SysFlow;
use super::trace::{ClearReason, MemEvent, Stage, TraceEvent};
use crate::system::SysInst;

impl Core {
    /// Number of uops of the head instruction, if all of them are renamed and done.
    fn head_instruction_ready(&self, now: u64) -> Option<usize> {
        let mut n = 0;
        loop {
            let e = self.rob.nth(n)?;
            if !e.is_done(now) {
                return None;
            }
            n += 1;
            if e.q.last {
                return Some(n);
            }
        }
    }

    /// Retire up to `retire_width` uops of complete instructions. Returns the address
    /// and a message when the oldest instruction cannot be executed.
    pub(super) fn retire(&mut self, now: u64, sh: &mut Shared) -> Option<(u64, String)> {
        let mut budget = self.config.retire_width;
        while let Some(n) = self.head_instruction_ready(now) {
            if n > budget && budget < self.config.retire_width {
                return None;
            }
            let head = self.rob.head().expect("ready");
            let ip = head.q.ip;
            let Some(id) = head.q.inst else {
                let why = self.frontend.fault.clone();
                return Some((ip, why.unwrap_or_else(|| "undecodable instruction".into())));
            };
            let stores = (0..n)
                .filter_map(|i| self.rob.nth(i))
                .filter(|e| e.q.uop.kind == UopKind::Store && !e.q.uop.locked)
                .count();
            // Serializing instructions execute once every older store is visible.
            if SysInst::from_uop(&head.q.uop).is_some_and(|sys| self.drains_before(sys)) {
                let seq = head.seq;
                if !self.sb.is_empty() {
                    self.drain_waiting(seq, now);
                    return None;
                }
                self.drained(seq, true, now);
            }
            if !self.sb.has_room(stores) {
                if !std::mem::replace(&mut self.sb_full_reported, true) {
                    self.stats.sb_full_stalls += 1;
                    sh.emit(TraceEvent::SbFull {
                        core: self.id as u16,
                        cycle: now,
                    });
                }
                return None;
            }
            self.sb_full_reported = false;
            budget = budget.saturating_sub(n);
            match self.retire_instruction(n, now, sh) {
                // An interrupt is taken at the first boundary that allows it
                // (the next cycle starts with it).
                SysFlow::Continue if self.interrupt_ready() => return None,
                SysFlow::Continue => {}
                SysFlow::Redirected => return None,
                SysFlow::Fault(message) => {
                    let text = isa::decode::format_intel(&sh.cache.get(id).instr);
                    return Some((ip, format!("`{text}`: {message}")));
                }
            }
        }
        None
    }

    /// Retire the `n` uops of the head instruction; says whether the instruction
    /// ended the core's retirement this cycle (sleep, serialization, a jump of a
    /// system instruction, self-modifying code) or could not complete.
    fn retire_instruction(&mut self, n: usize, now: u64, sh: &mut Shared) -> SysFlow {
        let head = self.rob.head().expect("ready");
        let (inst_seq, next_ip, class, ras) =
            (head.q.inst_seq, head.q.next_ip, head.q.class, head.q.ras);
        let (inst_id, ip) = (head.q.inst, head.q.ip);
        let mut record = sh
            .trace
            .is_some()
            .then(|| record_of(self.id, head, sh.cache));
        let mut smc = None;
        let mut sys = None;
        let mut stored = false;
        let mut next_rip = next_ip;
        for _ in 0..n {
            let e = self.rob.pop_head().expect("counted");
            let uop = e.q.uop;
            if let Some(loc) = uop.writes() {
                self.arch[loc_index(loc)] = e.result;
            }
            if !uop.flags_written.is_empty() {
                // Only the bits the uop writes: IF, DF and TF are not ALU results.
                let written = uop.flags_written.bits();
                let arch = &mut self.arch[loc_index(Loc::Flags)];
                *arch = (*arch & !written) | (e.flags.bits() & written);
            }
            if let Some(r) = record.as_mut() {
                r.mark(Stage::Issue, e.issued);
                r.mark(Stage::Complete, e.done);
            }
            match uop.kind {
                UopKind::Load { .. } => {
                    self.load_queue.pop_front();
                    if let (Some(_), Some(access)) = (&sh.trace, e.mem) {
                        sh.emit(TraceEvent::LoadRetired(MemEvent {
                            core: self.id as u16,
                            cycle: now,
                            inst_seq,
                            addr: access.addr,
                            width: access.width.bytes() as u8,
                            value: e.result & access.width.mask(),
                        }));
                    }
                }
                UopKind::Store => {
                    self.store_queue.pop_front();
                    let access = e.mem.expect("executed stores have an address");
                    let len = access.width.bytes() as u64;
                    smc = smc.or(self.code_overlap(access.addr, len).then_some(access.addr));
                    if uop.locked {
                        self.commit_locked_store(access, inst_seq, now, sh);
                    } else {
                        let data = access.store_data.unwrap_or(0);
                        if self.sb.is_empty() {
                            // Jitter the residence of a store that finds the buffer
                            // empty too, not only the gaps between drains: a core's
                            // only store may then stay buffered past other cores'
                            // whole sequences (litmus tests R, WRW+WR, Z6).
                            let hold = self.jitter.delay(4 * u64::from(self.jitter.percent()));
                            self.sb_next_drain = self.sb_next_drain.max(now + hold);
                        }
                        let entry = SbEntry {
                            addr: access.addr,
                            width: access.width,
                            data,
                            inst_seq,
                            record: None,
                        };
                        if sh.trace.is_some() {
                            sh.emit(TraceEvent::StoreBuffered(entry.event(self.id, now)));
                        }
                        self.sb.push(entry);
                        stored = true;
                    }
                }
                UopKind::Branch { .. } => {
                    next_rip = e.actual_next;
                    if class.contains(InstClass::COND_BRANCH) {
                        self.frontend
                            .predictor
                            .train(e.q.ip, e.actual_next != e.q.next_ip);
                    }
                    if class.intersects(InstClass::INDIRECT | InstClass::RET) {
                        self.frontend.predictor.train_target(e.q.ip, e.actual_next);
                    }
                }
                UopKind::Sys(_) => sys = SysInst::from_uop(&uop),
                _ => {}
            }
        }
        if class.contains(InstClass::LOCKED) {
            self.release_lock(sh);
        }
        if self
            .barriers
            .front()
            .is_some_and(|b| b.inst_seq == inst_seq)
        {
            self.barriers.pop_front();
        }
        self.stats.retired += 1;
        self.cost_retired(now);
        self.last_retire = now;
        self.sys.end_interrupt_shadow();
        self.arch_rip = next_rip;
        if sh.watched.binary_search(&ip).is_ok() {
            sh.signals.push(CoreSignal::Watched {
                core: self.id,
                ip,
                inst_seq,
            });
        }
        if let Some(id) = inst_id {
            self.detect_stale(id, inst_seq, ip, now, sh);
        }
        if let Some(mut r) = record {
            r.mark(Stage::Retire, now);
            match self.sb.tail_mut().filter(|_| stored) {
                Some(tail) => {
                    r.mark(Stage::SbEnter, now);
                    tail.record = Some(Box::new(r));
                }
                None => sh.emit(TraceEvent::Inst(r)),
            }
        }
        if self.rename_blocked_by == Some(inst_seq) {
            self.rename_blocked_by = None;
        }
        if let Some(sys) = sys {
            let flow = self.retire_system(sys, ip, next_ip, inst_seq, now, sh);
            if !matches!(flow, SysFlow::Continue) {
                return flow;
            }
        }
        if let Some(addr) = smc {
            let reason = ClearReason::SelfModifyingCode { addr };
            let flush = Flush {
                keep_upto: Some(inst_seq),
                restart: next_ip,
                at: now,
                ras,
                cause: FlushCause::Clear(reason),
            };
            self.flush(flush, now, sh);
            return SysFlow::Redirected;
        }
        SysFlow::Continue
    }

    /// A store of this core to `[addr, addr+len)` is retiring: drop I-cache copies of
    /// the line and tell whether any fetched instruction bytes are affected.
    fn code_overlap(&mut self, addr: u64, len: u64) -> bool {
        let (first, last) = (line_of(addr), line_of(addr + len - 1));
        let mut cached = false;
        for line in [first, last] {
            cached |= self.frontend.icache.invalidate(line);
        }
        if !cached && !self.frontend.holds_bytes(first, last + LINE - first) {
            return false;
        }
        let overlaps = |ip: u64, next_ip: u64| ip < addr + len && addr < next_ip.max(ip + 1);
        self.frontend.holds_bytes(addr, len)
            || self
                .rob
                .iter()
                .any(|e| e.q.first && overlaps(e.q.ip, e.q.next_ip))
            || self
                .frontend
                .queue
                .iter()
                .any(|q| q.first && overlaps(q.ip, q.next_ip))
    }
}

impl Core {
    /// Run the stale-code detector on the instruction just retired.
    fn detect_stale(&mut self, id: InstId, inst_seq: u64, ip: u64, now: u64, sh: &mut Shared) {
        let inst = sh.cache.get(id);
        let retiring = Retiring {
            core: self.id,
            inst_seq,
            ip,
            bytes: inst.bytes(),
            serialized_at: self.serialized_at,
        };
        if let Some((stale, writer_seq)) = stale::check(&retiring, sh.line_writes, sh.memory, now) {
            self.stats.stale_executions += 1;
            sh.stale.push(stale);
            sh.signals.push(CoreSignal::Stale { stale, writer_seq });
            sh.emit(TraceEvent::StaleExecution(stale));
        }
    }
}
