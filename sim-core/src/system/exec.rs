//! [`execute_sys`]: one system instruction's architectural step, and the simple
//! instructions that need no module of their own.

use isa::reg::Gpr;
use isa::uop::SysOp;

use super::msr::{IA32_GS_BASE, IA32_KERNEL_GS_BASE, IA32_TSC_AUX};
use super::state::CR4_TSD;
use super::transfer::Event;
use super::{Exception, Fault, SerializeReason, StackMemory, SysContext, SysEffect, SysInst};
use crate::reference::CPUID_VENDOR;

/// Carry out one system instruction on `ctx` and say what else the machine must do.
///
/// An architectural exception the instruction raises (#GP for a privileged
/// instruction above CPL 0, #UD...) is delivered through the IDT when it has a gate
/// for the vector: the result is then [`SysEffect::Exception`] and `ctx.next_rip` is
/// the handler. Otherwise, and for what the model does not cover, the error leaves
/// `ctx` exactly as it was.
pub fn execute_sys<M: StackMemory>(
    inst: SysInst,
    ctx: &mut SysContext<'_, M>,
) -> Result<SysEffect, Exception> {
    let err = match ctx.step(inst) {
        Ok(effect) => return Ok(effect),
        Err(e) => e,
    };
    let Some(fault) = err.fault else {
        return Err(err);
    };
    match ctx.deliver(Event::Fault(fault)) {
        Ok(()) => Ok(SysEffect::Exception(fault)),
        Err(e) => Err(Exception {
            reason: format!("{}; {}", err.reason, e.reason),
            ..e
        }),
    }
}

/// Instructions that raise #GP(0) above CPL 0 before anything else is checked
/// (`InstClass::PRIVILEGED`; SYSRET checks EFER.SCE first and does its own).
fn privileged(op: SysOp) -> bool {
    matches!(
        op,
        SysOp::Hlt
            | SysOp::Rdmsr
            | SysOp::Wrmsr
            | SysOp::MovToCr(_)
            | SysOp::MovFromCr(_)
            | SysOp::MovToDr(_)
            | SysOp::Invlpg
            | SysOp::Wbinvd
            | SysOp::Invd
            | SysOp::DescriptorLoad
            | SysOp::Swapgs
            | SysOp::Sysexit
            | SysOp::Sti
            | SysOp::Cli
    )
}

impl<M: StackMemory> SysContext<'_, M> {
    /// Write a 32-bit result (zero-extended, as 32-bit register writes are).
    fn set32(&mut self, gpr: Gpr, value: u64) {
        self.set_reg(gpr, value & 0xFFFF_FFFF);
    }

    /// EDX:EAX ← `value` (RDMSR, RDTSC).
    pub(super) fn set_edx_eax(&mut self, value: u64) {
        self.set32(Gpr::Rax, value);
        self.set32(Gpr::Rdx, value >> 32);
    }

    /// The general register the instruction names (`mov` to/from CRn/DRn).
    fn operand(&self, inst: SysInst) -> Result<Gpr, Exception> {
        inst.gpr.ok_or_else(|| {
            Exception::unmodelled(self.rip, format!("{:?} without a register", inst.op))
        })
    }

    /// The instruction's own effect; an `Err` leaves the context untouched.
    fn step(&mut self, inst: SysInst) -> Result<SysEffect, Exception> {
        let op = inst.op;
        if privileged(op) {
            self.require_cpl0(&format!("{op:?}"))?;
        }
        let serialize = |reason| Ok(SysEffect::Serialize(reason));
        match op {
            SysOp::Hlt => Ok(SysEffect::Halt),
            SysOp::Pause | SysOp::Clflush => Ok(SysEffect::Continue),
            SysOp::Ud2 => Err(self.raise(Fault::ud(), "ud2")),
            SysOp::Cpuid => {
                // The reference interpreter's documented values (any leaf).
                self.set32(Gpr::Rax, 0);
                self.set32(Gpr::Rbx, CPUID_VENDOR[0].into());
                self.set32(Gpr::Rdx, CPUID_VENDOR[1].into());
                self.set32(Gpr::Rcx, CPUID_VENDOR[2].into());
                serialize(SerializeReason::Cpuid)
            }
            SysOp::Serialize => serialize(SerializeReason::Serialize),
            SysOp::Rdtsc | SysOp::Rdtscp => self.rdtsc(op == SysOp::Rdtscp),
            SysOp::Rdmsr => {
                self.rdmsr(self.reg(Gpr::Rcx) as u32)?;
                Ok(SysEffect::Continue)
            }
            SysOp::Wrmsr => {
                let value = (self.reg(Gpr::Rdx) << 32) | (self.reg(Gpr::Rax) & 0xFFFF_FFFF);
                self.wrmsr(self.reg(Gpr::Rcx) as u32, value)
            }
            SysOp::MovToCr(n) => {
                let value = self.reg(self.operand(inst)?);
                self.sys
                    .write_cr(n, value)
                    .map_err(|f| self.raise(f, format!("mov cr{n}, {value:#x}")))?;
                // MOV to CR8 (the TPR) is the one CR write that does not serialize.
                if n == 8 {
                    Ok(SysEffect::Continue)
                } else {
                    serialize(SerializeReason::MovToCr(n))
                }
            }
            SysOp::MovFromCr(n) => {
                let gpr = self.operand(inst)?;
                let value = self
                    .sys
                    .read_cr(n)
                    .map_err(|f| self.raise(f, format!("mov from cr{n}")))?;
                self.set_reg(gpr, value);
                Ok(SysEffect::Continue)
            }
            // Debug registers hold nothing the model uses; only the serialization is.
            SysOp::MovToDr(n) if n > 7 => Err(self.raise(Fault::ud(), format!("mov dr{n}"))),
            SysOp::MovToDr(n) => serialize(SerializeReason::MovToDr(n)),
            SysOp::Invlpg => serialize(SerializeReason::Invlpg),
            SysOp::Wbinvd => serialize(SerializeReason::Wbinvd),
            SysOp::Invd => serialize(SerializeReason::Invd),
            SysOp::DescriptorLoad => serialize(SerializeReason::DescriptorLoad),
            SysOp::Swapgs => {
                // SDM Vol. 2 SWAPGS: exchange IA32_GS_BASE and IA32_KERNEL_GS_BASE.
                let msrs = &mut self.sys.msrs;
                let (gs, kernel) = (msrs.get(IA32_GS_BASE), msrs.get(IA32_KERNEL_GS_BASE));
                msrs.set(IA32_GS_BASE, kernel);
                msrs.set(IA32_KERNEL_GS_BASE, gs);
                Ok(SysEffect::Continue)
            }
            // SDM Vol. 2 STI/CLI with IOPL 0: CPL 0 only (checked above). STI that
            // sets IF holds interrupts off until the next instruction completes.
            SysOp::Sti => {
                self.sys.sti_shadow = !self.flags.contains(isa::flags::Flags::IF);
                self.flags.insert(isa::flags::Flags::IF);
                Ok(SysEffect::Continue)
            }
            SysOp::Cli => {
                self.flags.remove(isa::flags::Flags::IF);
                Ok(SysEffect::Continue)
            }
            SysOp::Syscall => self.syscall(),
            SysOp::Sysret => self.sysret(),
            SysOp::Sysenter => self.sysenter(),
            SysOp::Sysexit => self.sysexit(),
            SysOp::Iret => self.iret(),
            SysOp::Int(n) => {
                self.deliver(Event::Software(n))?;
                Ok(SysEffect::Continue)
            }
        }
    }

    /// RDTSC/RDTSCP (SDM Vol. 2): EDX:EAX ← TSC, RDTSCP also ECX ← IA32_TSC_AUX;
    /// #GP(0) above CPL 0 when CR4.TSD is set.
    fn rdtsc(&mut self, aux: bool) -> Result<SysEffect, Exception> {
        if self.sys.cr4 & CR4_TSD != 0 && self.sys.cpl() > 0 {
            return Err(self.raise(Fault::gp(0), "rdtsc above CPL 0 with CR4.TSD set"));
        }
        self.set_edx_eax(self.tsc);
        if aux {
            self.set32(Gpr::Rcx, self.sys.msrs.get(IA32_TSC_AUX));
        }
        Ok(SysEffect::Continue)
    }
}
