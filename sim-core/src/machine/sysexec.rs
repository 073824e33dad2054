//! System instructions and interrupts on the out-of-order core.
//!
//! Both happen at an instruction boundary, when everything older has retired:
//! a system instruction blocks the renaming of younger instructions until it
//! retires, so it always executes on the architectural state, through the same
//! [`crate::system::execute_sys`] the reference interpreter uses. This module adds
//! only what is about the pipeline: which instructions wait for the store buffer to
//! drain first (the serializing ones, SDM Vol. 3A §9.3), where fetch restarts, and
//! whether the fetched and cached instruction bytes are thrown away (serialization)
//! or kept (SYSRET, SYSEXIT, non-serializing IRET, interrupt delivery by default —
//! the cases where stale code can survive a privilege change).

use isa::flags::Flags;
use isa::reg::{Gpr, Width};
use isa::uop::SysOp;

use super::core::{Core, Flush, FlushCause};
use super::rob::loc_index;
use super::shared::{CoreSignal, Shared};
use super::store_buffer::{Overlap, SbEntry, StoreBuffer};
use super::trace::TraceEvent;
use crate::mem::Memory;
use crate::system::{SerializeReason, StackMemory, SysContext, SysEffect, SysInst, execute_sys};

/// The stack as a system instruction sees it at retirement: reads see this core's
/// own buffered stores first (a kernel may build an IRET frame with `push`es that
/// have not drained), writes enter the store buffer like any retired store.
struct SbStack<'a> {
    sb: &'a mut StoreBuffer,
    memory: &'a Memory,
    inst_seq: u64,
}

impl StackMemory for SbStack<'_> {
    fn read_u64(&mut self, addr: u64) -> u64 {
        (0..8u64).fold(0, |value, i| {
            let a = addr.wrapping_add(i);
            let byte = match self.sb.forward(a, Width::B1) {
                Overlap::Covers(b) => b,
                _ => u64::from(self.memory.read_u8(a)),
            };
            value | byte << (8 * i)
        })
    }

    fn write_u64(&mut self, addr: u64, value: u64) {
        self.sb.push_frame(SbEntry {
            addr,
            width: Width::B8,
            data: value,
            inst_seq: self.inst_seq,
            record: None,
        });
    }
}

/// How retiring a system instruction ends.
pub(super) enum SysFlow {
    /// Keep retiring younger instructions this cycle (nothing changed the flow).
    Continue,
    /// Fetch was redirected or the core sleeps: stop retiring this cycle.
    Redirected,
    /// The instruction could not complete: stop the run with this message.
    Fault(String),
}

impl Core {
    /// Whether the system instruction `inst` must wait at retirement for every
    /// older store to become visible (the SDM's drain before serializing) in the
    /// cases its instruction class cannot tell at issue, where the class-serializing
    /// ones already waited: WRMSR, serializing or not by ECX, and returns to user
    /// mode that go through PTI's CR3 switch.
    pub(super) fn drains_before(&self, inst: SysInst) -> bool {
        match inst.op {
            SysOp::Iret | SysOp::Sysret | SysOp::Sysexit => self.sys.config().pti,
            SysOp::Wrmsr => {
                isa::class::wrmsr_serializes(self.arch[Gpr::Rcx.index()] as u32)
                    && self.sys.cpl() == 0
            }
            _ => false,
        }
    }

    /// A system context over this core's architectural state at the boundary
    /// before `rip`, with `next_rip` the fall-through; runs `f` on it and writes the
    /// registers and flags back.
    fn with_context<R>(
        &mut self,
        rip: u64,
        next_rip: u64,
        inst_seq: u64,
        now: u64,
        memory: &Memory,
        f: impl FnOnce(&mut SysContext<'_, SbStack<'_>>) -> R,
    ) -> (R, u64) {
        let mut regs = [0u64; 16];
        regs.copy_from_slice(&self.arch[..16]);
        let mut flags = self.arch_flags();
        let mut stack = SbStack {
            sb: &mut self.sb,
            memory,
            inst_seq,
        };
        let mut ctx = SysContext {
            regs: &mut regs,
            flags: &mut flags,
            rip,
            next_rip,
            tsc: now,
            sys: &mut self.sys,
            mem: &mut stack,
        };
        let result = f(&mut ctx);
        let next = ctx.next_rip;
        self.arch[..16].copy_from_slice(&regs);
        self.arch[loc_index(isa::uop::Loc::Flags)] = flags.bits();
        (result, next)
    }

    /// Trace the stores a system instruction or an interrupt pushed (its frame):
    /// every store-buffer entry after the first `before`.
    fn report_frame_stores(&self, before: usize, now: u64, sh: &mut Shared) {
        if sh.trace.is_some() {
            for entry in self.sb.iter().skip(before) {
                sh.emit(TraceEvent::StoreBuffered(entry.event(self.id, now)));
            }
        }
    }

    /// Execute the retiring system instruction `inst` at `ip` (fall-through
    /// `next_ip`) and carry out its effect on the pipeline.
    pub(super) fn retire_system(
        &mut self,
        inst: SysInst,
        ip: u64,
        next_ip: u64,
        inst_seq: u64,
        now: u64,
        sh: &mut Shared,
    ) -> SysFlow {
        let cpl = self.sys.cpl();
        if inst.op == SysOp::Syscall {
            let reg = |gpr: Gpr| self.arch[gpr.index()];
            sh.emit(TraceEvent::Syscall {
                core: self.id as u16,
                cycle: now,
                inst_seq,
                ip,
                number: reg(Gpr::Rax),
                args: [reg(Gpr::Rdi), reg(Gpr::Rsi), reg(Gpr::Rdx)],
            });
        }
        let buffered = self.sb.len();
        let (result, next) = self.with_context(ip, next_ip, inst_seq, now, sh.memory, |ctx| {
            execute_sys(inst, ctx)
        });
        self.report_frame_stores(buffered, now, sh);
        let effect = match result {
            Ok(effect) => effect,
            Err(e) => return SysFlow::Fault(e.to_string()),
        };
        self.arch_rip = next;
        self.cost_system(inst.op, cpl, now);
        let core = self.id as u16;
        if self.sys.cpl() != cpl {
            sh.emit(TraceEvent::PrivilegeChange {
                core,
                cycle: now,
                cpl: self.sys.cpl(),
                ip: next,
            });
        }
        match effect {
            SysEffect::Halt => {
                self.sleep(now, sh);
                return SysFlow::Redirected;
            }
            SysEffect::Serialize(reason) => {
                self.serialize(reason, inst_seq, next, now, sh);
                return SysFlow::Redirected;
            }
            SysEffect::SendIpi(ipi) => {
                self.stats.ipis_sent += 1;
                sh.signals.push(CoreSignal::Ipi {
                    from: self.id,
                    ipi,
                    cycle: now,
                });
            }
            SysEffect::Exception(fault) => {
                self.stats.exceptions += 1;
                sh.emit(TraceEvent::Exception {
                    core,
                    cycle: now,
                    vector: fault.vector,
                    ip,
                });
            }
            SysEffect::Continue | SysEffect::Eoi(_) => {}
        }
        if next == next_ip && !self.frontend.is_stopped() {
            return SysFlow::Continue;
        }
        self.frontend.redirect(next, now + 1, None);
        SysFlow::Redirected
    }

    /// Serialize after instruction `inst_seq` (already retired, store buffer
    /// drained): drop fetched and cached instruction bytes per the coherence policy
    /// and refetch from `next`.
    fn serialize(
        &mut self,
        reason: SerializeReason,
        inst_seq: u64,
        next: u64,
        now: u64,
        sh: &mut Shared,
    ) {
        self.stats.serializations += 1;
        self.serialized_at = now;
        self.cost_serialized(reason, now);
        *self
            .stats
            .serializations_by_reason
            .entry(reason)
            .or_default() += 1;
        sh.emit(TraceEvent::Serialize {
            core: self.id as u16,
            cycle: now,
            inst_seq,
            reason,
        });
        self.serialize_ifetch();
        self.frontend.redirect(next, now + 1, None);
    }

    /// `hlt` retired: sleep until an interrupt is taken.
    fn sleep(&mut self, now: u64, sh: &mut Shared) {
        self.halted = true;
        self.stats.cycles = now;
        self.frontend.halt();
        sh.emit(TraceEvent::Sleep {
            core: self.id as u16,
            cycle: now,
        });
    }

    /// Whether an interrupt would be taken at the current instruction boundary:
    /// RFLAGS.IF set, no STI shadow, a vector above the processor priority.
    pub(super) fn interrupt_ready(&self) -> bool {
        self.arch_flags().contains(Flags::IF) && self.sys.deliverable_interrupt().is_some()
    }

    /// Take the highest-priority pending interrupt at the current instruction
    /// boundary if RFLAGS.IF allows it: squash everything in flight, push the
    /// interrupt frame through the store buffer and fetch the handler. Returns a
    /// fault message when the vector cannot be delivered.
    pub(super) fn take_interrupt(
        &mut self,
        now: u64,
        serializing: bool,
        sh: &mut Shared,
    ) -> Option<String> {
        if !self.interrupt_ready() {
            return None;
        }
        if serializing && !self.sb.is_empty() {
            return None;
        }
        let woke = std::mem::replace(&mut self.halted, false);
        let (ip, cpl) = (self.arch_rip, self.sys.cpl());
        let inst_seq = self.rob.head().map_or(u64::MAX, |h| h.q.inst_seq);
        let buffered = self.sb.len();
        let (taken, handler) =
            self.with_context(ip, ip, inst_seq, now, sh.memory, |ctx| ctx.take_interrupt());
        self.report_frame_stores(buffered, now, sh);
        let vector = match taken {
            Ok(Some(vector)) => vector,
            Ok(None) => return None,
            Err(e) => return Some(format!("interrupt at {ip:#x}: {e}")),
        };
        self.stats.interrupts += 1;
        let core = self.id as u16;
        sh.emit(TraceEvent::InterruptTaken {
            core,
            cycle: now,
            vector,
            ip,
            woke,
        });
        if self.sys.cpl() != cpl {
            sh.emit(TraceEvent::PrivilegeChange {
                core,
                cycle: now,
                cpl: self.sys.cpl(),
                ip: handler,
            });
        }
        sh.signals.push(CoreSignal::InterruptTaken {
            core: self.id,
            vector,
            cycle: now,
        });
        let ras = self
            .rob
            .head()
            .map_or_else(|| self.frontend.predictor.checkpoint(), |h| h.q.ras);
        self.flush(
            Flush {
                keep_upto: None,
                restart: handler,
                at: now,
                ras,
                cause: FlushCause::Interrupt { vector },
            },
            now,
            sh,
        );
        self.arch_rip = handler;
        if serializing {
            self.serialize(
                SerializeReason::InterruptDelivery,
                inst_seq,
                handler,
                now,
                sh,
            );
        }
        None
    }
}
