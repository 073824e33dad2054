//! Privilege transfers: SYSCALL/SYSRETQ, SYSENTER/SYSEXITQ, event delivery through
//! the IDT (INT n, exceptions, external interrupts) and IRETQ, each following the
//! 64-bit-mode operation of its SDM Vol. 2 page and Vol. 3A §6.12/§6.14.

use isa::flags::Flags;
use isa::reg::Gpr;

use super::msr::{
    EFER_SCE, IA32_EFER, IA32_FMASK, IA32_LSTAR, IA32_STAR, IA32_SYSENTER_CS, IA32_SYSENTER_EIP,
    IA32_SYSENTER_ESP,
};
use super::state::{GateKind, KERNEL_CS};
use super::{Exception, Fault, SerializeReason, StackMemory, SysContext, SysEffect, is_canonical};

/// RFLAGS bits SYSRET restores from R11 (SDM Vol. 2 SYSRET: `R11 AND 3C7FD7H`).
const SYSRET_FLAGS: u64 = 0x3C_7FD7;
/// RFLAGS bit 1, reserved and always set in every RFLAGS image.
const FLAGS_FIXED: u64 = 1 << 1;

/// Something delivered through the IDT.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Event {
    /// `int n`: gate DPL checked against CPL, returns after the instruction.
    Software(u8),
    /// An exception raised by the instruction at `rip`, which it returns to.
    Fault(Fault),
    /// A maskable external interrupt at the boundary before `next_rip`.
    External(u8),
}

impl<M: StackMemory> SysContext<'_, M> {
    /// RFLAGS as pushed or saved: the modelled bits and the fixed bit 1.
    fn flags_image(&self) -> u64 {
        self.flags.bits() | FLAGS_FIXED
    }

    fn msr(&self, msr: u32) -> u64 {
        self.sys.msrs.get(msr)
    }

    /// #UD unless IA32_EFER.SCE enables SYSCALL/SYSRET.
    fn require_sce(&self, what: &str) -> Result<(), Exception> {
        if self.msr(IA32_EFER) & EFER_SCE == 0 {
            return Err(self.raise(Fault::ud(), format!("{what} with IA32_EFER.SCE = 0")));
        }
        Ok(())
    }

    /// SYSCALL (SDM Vol. 2): RCX ← next RIP, R11 ← RFLAGS, RFLAGS &= ~FMASK,
    /// CS ← STAR[47:32] & FFFCh, SS ← STAR[47:32] + 8, CPL 0, RIP ← LSTAR.
    /// RSP is unchanged: the kernel switches stacks itself.
    pub(super) fn syscall(&mut self) -> Result<SysEffect, Exception> {
        self.require_sce("syscall")?;
        let base = (self.msr(IA32_STAR) >> 32) as u16;
        self.set_reg(Gpr::Rcx, self.next_rip);
        self.set_reg(Gpr::R11, self.flags_image());
        *self.flags = Flags::from_bits_truncate(self.flags.bits() & !self.msr(IA32_FMASK));
        self.sys.cs = base & 0xFFFC;
        self.sys.ss = base.wrapping_add(8);
        self.next_rip = self.msr(IA32_LSTAR);
        Ok(SysEffect::Continue)
    }

    /// SYSRETQ (SDM Vol. 2 SYSRET, 64-bit operand size): #UD without EFER.SCE,
    /// #GP(0) above CPL 0 or for a non-canonical RCX; RIP ← RCX, RFLAGS ←
    /// (R11 & 3C7FD7h) | 2, CS ← (STAR[63:48] + 16) | 3, SS ← (STAR[63:48] + 8) | 3.
    /// Not serializing (SDM Vol. 3A §9.3 does not list it).
    pub(super) fn sysret(&mut self) -> Result<SysEffect, Exception> {
        self.require_sce("sysretq")?;
        self.require_cpl0("sysretq")?;
        let rcx = self.reg(Gpr::Rcx);
        if !is_canonical(rcx) {
            return Err(self.raise(Fault::gp(0), format!("sysretq to non-canonical {rcx:#x}")));
        }
        let base = (self.msr(IA32_STAR) >> 48) as u16;
        *self.flags = Flags::from_bits_truncate(self.reg(Gpr::R11) & SYSRET_FLAGS);
        self.sys.cs = base.wrapping_add(16) | 3;
        self.sys.ss = base.wrapping_add(8) | 3;
        self.next_rip = rcx;
        Ok(self.user_return(SysEffect::Continue))
    }

    /// The IA32_SYSENTER_CS selector, #GP(0) when it is null (SDM Vol. 2
    /// SYSENTER/SYSEXIT: `IA32_SYSENTER_CS[15:2] = 0`).
    fn sysenter_cs(&self, what: &str) -> Result<u16, Exception> {
        let cs = self.msr(IA32_SYSENTER_CS) as u16 & 0xFFFC;
        if cs == 0 {
            return Err(self.raise(Fault::gp(0), format!("{what} with IA32_SYSENTER_CS = 0")));
        }
        Ok(cs)
    }

    /// SYSENTER (SDM Vol. 2, IA-32e mode): IF cleared, RSP ← SYSENTER_ESP, RIP ←
    /// SYSENTER_EIP, CS ← SYSENTER_CS & FFFCh, SS ← CS + 8, CPL 0. Nothing about
    /// the caller is saved.
    pub(super) fn sysenter(&mut self) -> Result<SysEffect, Exception> {
        let cs = self.sysenter_cs("sysenter")?;
        self.flags.remove(Flags::IF);
        self.set_reg(Gpr::Rsp, self.msr(IA32_SYSENTER_ESP));
        self.sys.cs = cs;
        self.sys.ss = cs + 8;
        self.next_rip = self.msr(IA32_SYSENTER_EIP);
        Ok(SysEffect::Continue)
    }

    /// SYSEXITQ (SDM Vol. 2 SYSEXIT, REX.W): #GP(0) above CPL 0, with a null
    /// SYSENTER_CS, or a non-canonical RCX/RDX; RSP ← RCX, RIP ← RDX,
    /// CS ← (SYSENTER_CS + 32) | 3, SS ← (SYSENTER_CS + 40) | 3. Not serializing.
    pub(super) fn sysexit(&mut self) -> Result<SysEffect, Exception> {
        let cs = self.sysenter_cs("sysexitq")?;
        let (rsp, rip) = (self.reg(Gpr::Rcx), self.reg(Gpr::Rdx));
        if !is_canonical(rsp) || !is_canonical(rip) {
            return Err(self.raise(Fault::gp(0), "sysexitq with non-canonical RCX or RDX"));
        }
        self.set_reg(Gpr::Rsp, rsp);
        self.sys.cs = (cs + 32) | 3;
        self.sys.ss = (cs + 40) | 3;
        self.next_rip = rip;
        Ok(self.user_return(SysEffect::Continue))
    }

    /// Deliver `event` through the IDT in 64-bit mode (SDM Vol. 3A §6.14.2–6.14.3):
    /// on a CPL change load the kernel stack (TSS.RSP0); align RSP down to 16;
    /// push SS, RSP, RFLAGS, CS, RIP and, for exceptions that have one, the error
    /// code; clear TF, and IF for an interrupt gate; CS ← [`KERNEL_CS`], SS ← null
    /// on a CPL change; RIP ← handler. `int n` through a gate whose DPL is below
    /// CPL raises #GP(n·8 + 2) instead (SDM Vol. 2 INT n), and a missing gate
    /// #NP(n·8 + 2, + 1 for an external event), both returned for the caller to
    /// deliver; a fault with no gate is undeliverable. An error changes nothing.
    pub(super) fn deliver(&mut self, event: Event) -> Result<(), Exception> {
        let (vector, error_code, ret) = match event {
            Event::Software(v) => (v, None, self.next_rip),
            Event::Fault(f) => (f.vector, f.error_code, self.rip),
            Event::External(v) => (v, None, self.next_rip),
        };
        let external = u32::from(matches!(event, Event::External(_)));
        let Some(gate) = self.sys.idt_gate(vector) else {
            return Err(match event {
                Event::Fault(fault) => {
                    self.raise(fault, format!("no IDT gate for vector {vector:#x}"))
                }
                _ => self.raise(
                    Fault::np(u32::from(vector) * 8 + 2 + external),
                    format!("IDT gate {vector:#x} not present"),
                ),
            });
        };
        let cpl = self.sys.cpl();
        if matches!(event, Event::Software(_)) && gate.dpl < cpl {
            let why = format!("int {vector:#x} through a DPL {} gate", gate.dpl);
            return Err(self.raise(Fault::gp(u32::from(vector) * 8 + 2), why));
        }
        let old_rsp = self.reg(Gpr::Rsp);
        let mut rsp = if cpl > 0 {
            self.sys.kernel_stack
        } else {
            old_rsp
        } & !0xF;
        let frame = [
            u64::from(self.sys.ss),
            old_rsp,
            self.flags_image(),
            u64::from(self.sys.cs),
            ret,
        ];
        for value in frame.into_iter().chain(error_code.map(u64::from)) {
            rsp = rsp.wrapping_sub(8);
            self.mem.write_u64(rsp, value);
        }
        self.set_reg(Gpr::Rsp, rsp);
        self.flags.remove(Flags::TF);
        if gate.kind == GateKind::Interrupt {
            self.flags.remove(Flags::IF);
        }
        if cpl > 0 {
            self.sys.ss = 0;
        }
        self.sys.cs = KERNEL_CS;
        self.next_rip = gate.handler;
        Ok(())
    }

    /// IRETQ (SDM Vol. 2 IRET, IA-32e mode): pop RIP, CS, RFLAGS, RSP, SS; #GP for
    /// a null CS (0) or one whose RPL is below CPL (selector), an SS whose RPL
    /// differs (selector), a null SS when returning to CPL 3 (0), or a
    /// non-canonical RIP (0). IF changes only at CPL 0 (IOPL is 0). CPL ← CS.RPL.
    /// Serializing (SDM Vol. 3A §9.3) unless the configuration says otherwise.
    pub(super) fn iret(&mut self) -> Result<SysEffect, Exception> {
        let sp = self.reg(Gpr::Rsp);
        let [rip, cs, rflags, rsp, ss] =
            [0, 8, 16, 24, 32].map(|off| self.mem.read_u64(sp.wrapping_add(off)));
        let (cs, ss) = (cs as u16, ss as u16);
        let (rpl, cpl) = (cs & 3, u16::from(self.sys.cpl()));
        let bad = if cs & !3 == 0 {
            Some(0)
        } else if rpl < cpl {
            Some(cs & !3)
        } else if ss & !3 != 0 && ss & 3 != rpl {
            Some(ss & !3)
        } else if (ss & !3 == 0 && rpl == 3) || !is_canonical(rip) {
            Some(0)
        } else {
            None
        };
        if let Some(code) = bad {
            let why = format!("iretq to CS {cs:#x} SS {ss:#x} RIP {rip:#x}");
            return Err(self.raise(Fault::gp(code.into()), why));
        }
        let mut flags = Flags::from_bits_truncate(rflags);
        if cpl > 0 {
            flags.set(Flags::IF, self.flags.contains(Flags::IF));
        }
        *self.flags = flags;
        self.set_reg(Gpr::Rsp, rsp);
        self.sys.cs = cs;
        self.sys.ss = ss;
        self.next_rip = rip;
        Ok(if self.sys.config.iret_serializing {
            SysEffect::Serialize(SerializeReason::Iret)
        } else {
            self.user_return(SysEffect::Continue)
        })
    }

    /// The effect of a return instruction that has just loaded CS: with
    /// [`SystemConfig::pti`](super::SystemConfig::pti), a return to CPL 3 went
    /// through the kernel's CR3 switch, which serializes.
    fn user_return(&self, effect: SysEffect) -> SysEffect {
        if self.sys.config.pti && self.sys.cpl() == 3 {
            SysEffect::Serialize(SerializeReason::PtiCr3Switch)
        } else {
            effect
        }
    }

    /// #GP(0) unless at CPL 0.
    pub(super) fn require_cpl0(&self, what: &str) -> Result<(), Exception> {
        if self.sys.cpl() != 0 {
            let why = format!("{what} is privileged (CPL {})", self.sys.cpl());
            return Err(self.raise(Fault::gp(0), why));
        }
        Ok(())
    }
}
