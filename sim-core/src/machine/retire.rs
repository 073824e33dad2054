//! Retirement: whole instructions leave the ROB in program order, update the
//! architectural state, and hand their stores to the store buffer.

use isa::class::InstClass;
use isa::reg::Gpr;
use isa::uop::{Loc, SysOp, UopKind};

use super::core::{Core, Flush, FlushCause, Shared, record_of};
use super::decode_cache::InstId;
use super::memsys::{LINE, line_of};
use super::rob::loc_index;
use super::stale::{self, Retiring};
use super::store_buffer::SbEntry;
use super::trace::{ClearReason, SerializeReason, Stage, TraceEvent};
use crate::reference::CPUID_VENDOR;

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

    /// Retire up to `retire_width` uops of complete instructions. Returns a fault message
    /// when the oldest instruction cannot be executed.
    pub(super) fn retire(&mut self, now: u64, sh: &mut Shared) -> Option<String> {
        let mut budget = self.config.retire_width;
        while let Some(n) = self.head_instruction_ready(now) {
            if n > budget && budget < self.config.retire_width {
                return None;
            }
            let head = self.rob.head().expect("ready");
            let Some(id) = head.q.inst else {
                let why = self.frontend.fault.clone();
                return Some(why.unwrap_or_else(|| "undecodable instruction".into()));
            };
            if let Some(e) = (0..n)
                .filter_map(|i| self.rob.nth(i))
                .find(|e| e.unsupported)
            {
                let text = isa::decode::format_intel(&sh.cache.get(id).instr);
                let kind = e.q.uop.kind;
                return Some(format!(
                    "`{text}` is not modelled by the machine ({kind:?})"
                ));
            }
            let stores = (0..n)
                .filter_map(|i| self.rob.nth(i))
                .filter(|e| e.q.uop.kind == UopKind::Store && !e.q.uop.locked)
                .count();
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
            if self.retire_instruction(n, now, sh) {
                return None;
            }
        }
        None
    }

    /// Retire the `n` uops of the head instruction. Returns true when the instruction
    /// ended the core's work this cycle (halt, serialization, self-modifying code).
    fn retire_instruction(&mut self, n: usize, now: u64, sh: &mut Shared) -> bool {
        let head = self.rob.head().expect("ready");
        let (inst_seq, next_ip, class, ras) =
            (head.q.inst_seq, head.q.next_ip, head.q.class, head.q.ras);
        let (inst_id, ip) = (head.q.inst, head.q.ip);
        let mut record = sh
            .trace
            .is_some()
            .then(|| record_of(self.id, head, sh.cache));
        let mut smc = None;
        let mut sys_op = None;
        let mut stored = false;
        for _ in 0..n {
            let e = self.rob.pop_head().expect("counted");
            let uop = e.q.uop;
            if let Some(loc) = uop.writes() {
                self.arch[loc_index(loc)] = e.result;
            }
            if !uop.flags_written.is_empty() {
                self.arch[loc_index(Loc::Flags)] = e.flags.bits();
            }
            if let Some(r) = record.as_mut() {
                r.mark(Stage::Issue, e.issued);
                r.mark(Stage::Complete, e.done);
            }
            match uop.kind {
                UopKind::Load { .. } => {
                    self.load_queue.pop_front();
                }
                UopKind::Store => {
                    self.store_queue.pop_front();
                    let access = e.mem.expect("executed stores have an address");
                    let len = access.width.bytes() as u64;
                    smc = smc.or(self.code_overlap(access.addr, len).then_some(access.addr));
                    if uop.locked {
                        self.commit_locked_store(access, sh);
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
                        self.sb.push(SbEntry {
                            addr: access.addr,
                            width: access.width,
                            data,
                            inst_seq,
                            record: None,
                        });
                        stored = true;
                    }
                }
                UopKind::Branch { .. } => {
                    if class.contains(InstClass::COND_BRANCH) {
                        self.frontend
                            .predictor
                            .train(e.q.ip, e.actual_next != e.q.next_ip);
                    }
                    if class.intersects(InstClass::INDIRECT | InstClass::RET) {
                        self.frontend.predictor.train_target(e.q.ip, e.actual_next);
                    }
                }
                UopKind::Sys(op) => {
                    sys_op = Some(op);
                    self.write_system_results(op, now);
                }
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
        self.last_retire = now;
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
        if sys_op == Some(SysOp::Hlt) {
            self.halted = true;
            self.stats.cycles = now;
            self.frontend.halt();
            return true;
        }
        if self.rename_blocked_by == Some(inst_seq) {
            self.rename_blocked_by = None;
        }
        if class.contains(InstClass::SERIALIZING) {
            self.stats.serializations += 1;
            let reason = match sys_op {
                Some(SysOp::Cpuid) => SerializeReason::Cpuid,
                _ => SerializeReason::Serialize,
            };
            sh.emit(TraceEvent::Serialize {
                core: self.id as u16,
                cycle: now,
                inst_seq,
                reason,
            });
            self.serialize_ifetch();
            self.frontend.redirect(next_ip, now + 1, None);
            return true;
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
            return true;
        }
        false
    }

    /// Register results of `cpuid`/`rdtsc`/`rdtscp` (values as the reference interpreter
    /// defines them, except that the time stamp counts cycles and TSC_AUX is the core).
    fn write_system_results(&mut self, op: SysOp, now: u64) {
        let mut set32 = |r: Gpr, v: u32| self.arch[r.index()] = u64::from(v);
        match op {
            SysOp::Cpuid => {
                set32(Gpr::Rax, 0);
                set32(Gpr::Rbx, CPUID_VENDOR[0]);
                set32(Gpr::Rdx, CPUID_VENDOR[1]);
                set32(Gpr::Rcx, CPUID_VENDOR[2]);
            }
            SysOp::Rdtsc | SysOp::Rdtscp => {
                set32(Gpr::Rax, now as u32);
                set32(Gpr::Rdx, (now >> 32) as u32);
                if op == SysOp::Rdtscp {
                    set32(Gpr::Rcx, self.id as u32);
                }
            }
            _ => {}
        }
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
        };
        if let Some(stale) = stale::check(&retiring, sh.line_writes, sh.memory, now) {
            self.stats.stale_executions += 1;
            sh.stale.push(stale);
            sh.emit(TraceEvent::StaleExecution(stale));
        }
    }
}
