//! Unit tests of the system model, driving [`execute_sys`] on a bare core.

use isa::flags::Flags;
use isa::reg::Gpr;
use isa::uop::SysOp;

use super::msr::*;
use super::*;
use crate::mem::Memory;

const RIP: u64 = 0x40_1000;
const LEN: u64 = 2;
const KSTACK: u64 = 0x9000;
const USTACK: u64 = 0x7_0008;
/// Linux's IA32_STAR: SYSRET base __USER32_CS (0x23), SYSCALL base __KERNEL_CS.
const STAR: u64 = (0x23 << 48) | (0x10 << 32);

/// One core's architectural state, outside any interpreter.
struct Core {
    regs: [u64; 16],
    flags: Flags,
    sys: SystemState,
    mem: Memory,
    rip: u64,
}

impl Core {
    fn kernel() -> Core {
        let mut sys = SystemState::new(SystemConfig::default(), 0);
        sys.set_kernel_stack(KSTACK);
        Core {
            regs: [0; 16],
            flags: Flags::empty(),
            sys,
            mem: Memory::new(),
            rip: RIP,
        }
    }

    fn user() -> Core {
        let mut c = Core::kernel();
        c.sys.enter_user_mode();
        c.flags = Flags::IF | Flags::ZF;
        c.set(Gpr::Rsp, USTACK);
        c
    }

    fn get(&self, r: Gpr) -> u64 {
        self.regs[r.index()]
    }

    fn set(&mut self, r: Gpr, v: u64) {
        self.regs[r.index()] = v;
    }

    /// Execute `inst` at `self.rip`; on success `self.rip` is where execution goes.
    fn exec(&mut self, inst: impl Into<SysInst>) -> Result<SysEffect, Exception> {
        let mut ctx = SysContext {
            regs: &mut self.regs,
            flags: &mut self.flags,
            rip: self.rip,
            next_rip: self.rip + LEN,
            tsc: 1234,
            sys: &mut self.sys,
            mem: &mut self.mem,
        };
        let r = execute_sys(inst.into(), &mut ctx);
        let next = ctx.next_rip;
        if r.is_ok() {
            self.rip = next;
        }
        r
    }

    fn wrmsr(&mut self, msr: u32, value: u64) -> Result<SysEffect, Exception> {
        self.set(Gpr::Rcx, msr.into());
        self.set(Gpr::Rax, value & 0xFFFF_FFFF);
        self.set(Gpr::Rdx, value >> 32);
        self.exec(SysOp::Wrmsr)
    }

    /// The `n` quadwords at and above RSP.
    fn stack(&self, n: u64) -> Vec<u64> {
        let sp = self.get(Gpr::Rsp);
        (0..n)
            .map(|i| self.mem.read(sp + 8 * i, isa::reg::Width::B8))
            .collect()
    }

    fn snapshot(&self) -> ([u64; 16], Flags, SystemState, Memory, u64) {
        (
            self.regs,
            self.flags,
            self.sys.clone(),
            self.mem.clone(),
            self.rip,
        )
    }
}

#[test]
fn syscall_saves_return_state_and_masks_flags() {
    // SDM Vol. 2 SYSCALL: RCX ← RIP of the next instruction, R11 ← RFLAGS,
    // RFLAGS ← RFLAGS AND NOT(IA32_FMASK), CS ← STAR[47:32] & FFFCh, SS ← +8.
    let mut c = Core::kernel();
    c.wrmsr(IA32_STAR, STAR).unwrap();
    c.wrmsr(IA32_LSTAR, 0xffff_ffff_8100_0000).unwrap();
    c.wrmsr(IA32_FMASK, (Flags::IF | Flags::TF | Flags::DF).bits())
        .unwrap();
    c.sys.enter_user_mode();
    c.rip = RIP;
    c.flags = Flags::IF | Flags::DF | Flags::CF;
    assert_eq!(c.exec(SysOp::Syscall), Ok(SysEffect::Continue));
    assert_eq!(c.get(Gpr::Rcx), RIP + LEN);
    assert_eq!(
        c.get(Gpr::R11),
        (Flags::IF | Flags::DF | Flags::CF).bits() | 2
    );
    assert_eq!(c.flags, Flags::CF);
    assert_eq!((c.sys.cpl(), c.sys.cs(), c.sys.ss()), (0, 0x10, 0x18));
    assert_eq!(c.rip, 0xffff_ffff_8100_0000);
}

#[test]
fn sysret_returns_to_user_mode_without_serializing() {
    // SDM Vol. 2 SYSRET (REX.W): RIP ← RCX, RFLAGS ← (R11 & 3C7FD7h) | 2,
    // CS ← (STAR[63:48] + 16) | 3, SS ← (STAR[63:48] + 8) | 3. SDM Vol. 3A §9.3
    // does not list SYSRET as serializing: no Serialize effect.
    let mut c = Core::kernel();
    c.wrmsr(IA32_STAR, STAR).unwrap();
    c.set(Gpr::Rcx, 0x40_2000);
    // IOPL bits and bit 1 in R11 are not restored into the modelled flags.
    c.set(Gpr::R11, (Flags::IF | Flags::SF).bits() | 0x3002);
    assert_eq!(c.exec(SysOp::Sysret), Ok(SysEffect::Continue));
    assert_eq!(c.rip, 0x40_2000);
    assert_eq!(c.flags, Flags::IF | Flags::SF);
    assert_eq!((c.sys.cpl(), c.sys.cs(), c.sys.ss()), (3, USER_CS, USER_SS));
}

#[test]
fn sysret_faults_at_cpl3_and_on_non_canonical_rcx() {
    // SDM Vol. 2 SYSRET: #GP(0) if CPL ≠ 0 or RCX is not canonical; #UD if
    // IA32_EFER.SCE = 0 (checked first).
    let mut c = Core::user();
    let e = c.exec(SysOp::Sysret).unwrap_err();
    assert_eq!((e.fault, e.rip), (Some(Fault::gp(0)), RIP));
    let mut c = Core::kernel();
    c.set(Gpr::Rcx, 0x0000_8000_0000_0000);
    assert_eq!(c.exec(SysOp::Sysret).unwrap_err().fault, Some(Fault::gp(0)));
    c.wrmsr(IA32_EFER, 0xD00).unwrap();
    assert_eq!(c.exec(SysOp::Sysret).unwrap_err().fault, Some(Fault::ud()));
    assert_eq!(c.exec(SysOp::Syscall).unwrap_err().fault, Some(Fault::ud()));
}

#[test]
fn sysenter_and_sysexit_use_the_sysenter_msrs() {
    // SDM Vol. 2 SYSENTER: RSP ← IA32_SYSENTER_ESP, RIP ← IA32_SYSENTER_EIP,
    // CS ← SYSENTER_CS & FFFCh, SS ← CS + 8, IF ← 0. SYSEXIT (REX.W): RSP ← RCX,
    // RIP ← RDX, CS ← (SYSENTER_CS + 32) | 3, SS ← (SYSENTER_CS + 40) | 3.
    let mut c = Core::kernel();
    c.set(Gpr::Rcx, USTACK);
    c.set(Gpr::Rdx, 0x40_3000);
    assert_eq!(
        c.exec(SysOp::Sysexit).unwrap_err().fault,
        Some(Fault::gp(0))
    );
    c.wrmsr(IA32_SYSENTER_CS, 0x10).unwrap();
    c.wrmsr(IA32_SYSENTER_ESP, KSTACK).unwrap();
    c.wrmsr(IA32_SYSENTER_EIP, 0x50_0000).unwrap();
    c.set(Gpr::Rcx, USTACK);
    c.set(Gpr::Rdx, 0x40_3000);
    assert_eq!(c.exec(SysOp::Sysexit), Ok(SysEffect::Continue));
    assert_eq!(
        (c.rip, c.get(Gpr::Rsp), c.sys.cs(), c.sys.ss()),
        (0x40_3000, USTACK, 0x33, 0x3b)
    );
    c.flags = Flags::IF;
    assert_eq!(c.exec(SysOp::Sysenter), Ok(SysEffect::Continue));
    assert_eq!(
        (c.rip, c.get(Gpr::Rsp), c.sys.cs(), c.sys.ss()),
        (0x50_0000, KSTACK, 0x10, 0x18)
    );
    assert_eq!(c.flags, Flags::empty());
}

#[test]
fn int_n_from_user_pushes_a_frame_on_the_kernel_stack_and_iret_returns() {
    // SDM Vol. 3A §6.14.2: on a privilege change the processor loads RSP0, aligns
    // it to 16, pushes SS, RSP, RFLAGS, CS, RIP; an interrupt gate clears IF;
    // SS becomes null. SDM Vol. 2 IRET (IA-32e): pops all five; serializing.
    let mut c = Core::user();
    c.sys
        .set_idt_gate(0x80, Some(IdtGate::interrupt(0x50_0080).user()));
    assert_eq!(c.exec(SysOp::Int(0x80)), Ok(SysEffect::Continue));
    assert_eq!(
        (c.rip, c.sys.cpl(), c.sys.cs(), c.sys.ss()),
        (0x50_0080, 0, KERNEL_CS, 0)
    );
    assert_eq!(c.get(Gpr::Rsp), KSTACK - 40);
    let user_flags = (Flags::IF | Flags::ZF).bits() | 2;
    assert_eq!(
        c.stack(5),
        [
            RIP + LEN,
            u64::from(USER_CS),
            user_flags,
            USTACK,
            u64::from(USER_SS)
        ]
    );
    assert!(!c.flags.contains(Flags::IF));
    assert_eq!(
        c.exec(SysOp::Iret),
        Ok(SysEffect::Serialize(SerializeReason::Iret))
    );
    assert_eq!(
        (c.rip, c.get(Gpr::Rsp), c.sys.cpl()),
        (RIP + LEN, USTACK, 3)
    );
    assert_eq!(c.flags, Flags::IF | Flags::ZF);
}

#[test]
fn kernel_mode_events_stay_on_the_aligned_current_stack() {
    // SDM Vol. 3A §6.14.2: without a privilege change the stack is not switched,
    // but RSP is still aligned to 16 and SS:RSP are pushed; a trap gate keeps IF.
    let mut c = Core::kernel();
    c.set(Gpr::Rsp, 0x8008);
    c.flags = Flags::IF;
    c.sys.set_idt_gate(3, Some(IdtGate::trap(0x50_0003)));
    assert_eq!(c.exec(SysOp::Int(3)), Ok(SysEffect::Continue));
    assert_eq!(c.get(Gpr::Rsp), 0x8000 - 40);
    assert_eq!(c.stack(5)[3..], [0x8008, u64::from(KERNEL_SS)]);
    assert_eq!((c.sys.ss(), c.flags), (KERNEL_SS, Flags::IF));
}

#[test]
fn int_n_checks_the_gate_dpl_and_presence() {
    // SDM Vol. 2 INT n: gate DPL < CPL raises #GP(n·8 + 2); a not-present gate
    // raises #NP(n·8 + 2). Neither pushes anything for INT n itself.
    let mut c = Core::user();
    c.sys
        .set_idt_gate(0x80, Some(IdtGate::interrupt(0x50_0080)));
    let before = c.snapshot();
    let e = c.exec(SysOp::Int(0x80)).unwrap_err();
    assert_eq!(e.fault, Some(Fault::gp(0x80 * 8 + 2)));
    assert!(
        e.reason.contains("DPL 0") && e.reason.contains("vector 0xd"),
        "{e}"
    );
    assert!(c.snapshot() == before, "a failed instruction changed state");
    let e = c.exec(SysOp::Int(0x81)).unwrap_err();
    assert!(e.reason.contains("not present"), "{e}");
    // With a #GP handler the #GP is delivered, error code on top of the frame,
    // returning to the `int` itself (a fault).
    c.sys
        .set_idt_gate(VECTOR_GP, Some(IdtGate::interrupt(0x50_000d)));
    assert_eq!(
        c.exec(SysOp::Int(0x80)),
        Ok(SysEffect::Exception(Fault::gp(0x402)))
    );
    assert_eq!(c.stack(2), [0x402, RIP]);
}

#[test]
fn privileged_instructions_at_cpl3_raise_gp() {
    // SDM Vol. 2 (MOV CR, WRMSR, SWAPGS, HLT...): #GP(0) if CPL ≠ 0. Delivered
    // with error code 0 and the faulting RIP (SDM Vol. 3A §6.14.2, Figure 6-9).
    let mut c = Core::user();
    let before = c.snapshot();
    let mov_cr3 = SysInst {
        op: SysOp::MovToCr(3),
        gpr: Some(Gpr::Rax),
    };
    let e = c.exec(mov_cr3).unwrap_err();
    assert_eq!(e.fault, Some(Fault::gp(0)));
    assert!(e.to_string().starts_with("#GP(0x0): MovToCr(3)"), "{e}");
    assert!(c.snapshot() == before);
    for op in [
        SysOp::Hlt,
        SysOp::Swapgs,
        SysOp::Wrmsr,
        SysOp::Rdmsr,
        SysOp::Invlpg,
    ] {
        let mut c = Core::user();
        c.sys
            .set_idt_gate(VECTOR_GP, Some(IdtGate::interrupt(0x50_000d)));
        assert_eq!(c.exec(op), Ok(SysEffect::Exception(Fault::gp(0))), "{op:?}");
        assert_eq!((c.rip, c.sys.cpl()), (0x50_000d, 0));
        assert_eq!(c.stack(3), [0, RIP, u64::from(USER_CS)]);
    }
}

#[test]
fn iret_checks_the_returned_selectors() {
    // SDM Vol. 2 IRET: return CS RPL < CPL is #GP(selector); a null SS returning
    // to CPL 3 is #GP(0); a non-canonical RIP is #GP(0).
    let frame = |c: &mut Core, rip: u64, cs: u16, ss: u16| {
        for (i, v) in [rip, cs.into(), 0x202, USTACK, ss.into()]
            .into_iter()
            .enumerate()
        {
            c.mem.write(0x8000 + 8 * i as u64, isa::reg::Width::B8, v);
        }
        c.set(Gpr::Rsp, 0x8000);
    };
    let mut c = Core::user();
    frame(&mut c, 0x40_0000, KERNEL_CS, KERNEL_SS);
    assert_eq!(
        c.exec(SysOp::Iret).unwrap_err().fault,
        Some(Fault::gp(0x10))
    );
    let mut c = Core::kernel();
    frame(&mut c, 0x40_0000, USER_CS, 0);
    assert_eq!(c.exec(SysOp::Iret).unwrap_err().fault, Some(Fault::gp(0)));
    frame(&mut c, 1 << 47, USER_CS, USER_SS);
    assert_eq!(c.exec(SysOp::Iret).unwrap_err().fault, Some(Fault::gp(0)));
    // A CPL 3 IRET (to CPL 3) may not change IF (IOPL is 0).
    let mut c = Core::user();
    frame(&mut c, 0x40_0000, USER_CS, USER_SS);
    c.flags = Flags::empty();
    assert!(c.exec(SysOp::Iret).is_ok());
    assert_eq!(c.flags, Flags::empty());
}

#[test]
fn iret_serialization_is_configurable_and_sysret_never_serializes() {
    // SDM Vol. 3A §9.3 lists IRET as serializing; `iret_serializing: false`
    // models a core where it is not. SYSRET is not serializing either way.
    let mut c = Core::user();
    let config = SystemConfig {
        iret_serializing: false,
        ..SystemConfig::default()
    };
    c.sys = SystemState::new(config, 0);
    c.sys.set_kernel_stack(KSTACK);
    c.sys.enter_user_mode();
    c.sys
        .set_idt_gate(0x80, Some(IdtGate::trap(0x50_0080).user()));
    c.exec(SysOp::Int(0x80)).unwrap();
    assert_eq!(c.exec(SysOp::Iret), Ok(SysEffect::Continue));
    assert_eq!(c.sys.cpl(), 3);
}

#[test]
fn wrmsr_serializes_except_for_the_apic_and_tsc_deadline() {
    // SDM Vol. 3A §9.3: WRMSR is serializing, except to IA32_TSC_DEADLINE and the
    // x2APIC MSRs (800H–BFFH).
    let mut c = Core::kernel();
    let ser = |msr| Ok(SysEffect::Serialize(SerializeReason::Wrmsr(msr)));
    assert_eq!(c.wrmsr(IA32_LSTAR, 0x1000), ser(IA32_LSTAR));
    assert_eq!(c.wrmsr(IA32_GS_BASE, 0x2000), ser(IA32_GS_BASE));
    assert_eq!(
        c.wrmsr(X2APIC_LVT_TIMER, 2 << 17 | 0xec),
        Ok(SysEffect::Continue)
    );
    assert_eq!(c.wrmsr(IA32_TSC_DEADLINE, 5000), Ok(SysEffect::Continue));
    assert!(matches!(
        c.wrmsr(X2APIC_ICR, 0x3_0000_00f0),
        Ok(SysEffect::SendIpi(_))
    ));
    assert_eq!(c.wrmsr(X2APIC_EOI, 0), Ok(SysEffect::Eoi(None)));
    // Reads come back through EDX:EAX.
    c.set(Gpr::Rcx, IA32_TSC_DEADLINE.into());
    assert_eq!(c.exec(SysOp::Rdmsr), Ok(SysEffect::Continue));
    assert_eq!((c.get(Gpr::Rdx), c.get(Gpr::Rax)), (0, 5000));
    assert_eq!(c.sys.msr(X2APIC_ICR), Some(0x3_0000_00f0));
}

#[test]
fn tsc_deadline_timer_fires_once_when_the_tsc_reaches_it() {
    // SDM Vol. 3A §11.5.4.1: with the LVT timer in TSC-deadline mode (bits 18:17
    // = 10b), a WRMSR to IA32_TSC_DEADLINE arms the timer; when TSC ≥ deadline it
    // requests the LVT vector and disarms (the MSR reads 0). In other modes the
    // writes are ignored. A masked LVT entry disarms without an interrupt.
    let mut c = Core::kernel();
    c.wrmsr(IA32_TSC_DEADLINE, 100).unwrap();
    assert_eq!(c.sys.msr(IA32_TSC_DEADLINE), Some(0));
    c.wrmsr(X2APIC_LVT_TIMER, (2 << 17) | 0xec).unwrap();
    c.wrmsr(IA32_TSC_DEADLINE, 100).unwrap();
    assert_eq!(c.sys.tick(99), None);
    assert_eq!(c.sys.tick(100), Some(0xec));
    assert_eq!(
        (c.sys.msr(IA32_TSC_DEADLINE), c.sys.tick(200)),
        (Some(0), None)
    );
    c.flags = Flags::IF;
    c.sys
        .set_idt_gate(0xec, Some(IdtGate::interrupt(0x50_00ec)));
    let mut ctx = SysContext {
        regs: &mut c.regs,
        flags: &mut c.flags,
        rip: RIP,
        next_rip: RIP,
        tsc: 0,
        sys: &mut c.sys,
        mem: &mut c.mem,
    };
    assert_eq!(ctx.take_interrupt(), Ok(Some(0xec)));
    c.wrmsr(X2APIC_LVT_TIMER, (1 << 16) | (2 << 17) | 0xec)
        .unwrap();
    c.wrmsr(IA32_TSC_DEADLINE, 300).unwrap();
    assert_eq!(
        (c.sys.tick(300), c.sys.msr(IA32_TSC_DEADLINE)),
        (None, Some(0))
    );
    // Reserved bits are #GP(0); the one-shot and periodic counters are not modelled.
    assert_eq!(
        c.wrmsr(X2APIC_LVT_TIMER, 3 << 17).unwrap_err().fault,
        Some(Fault::gp(0))
    );
    assert_eq!(c.wrmsr(X2APIC_LVT_TIMER, 0x20).unwrap_err().fault, None);
}

#[test]
fn wrmsr_rejects_bad_values_and_unknown_msrs() {
    // SDM Vol. 2 WRMSR: #GP(0) for a non-canonical address in an address MSR, a
    // non-zero x2APIC EOI, or a write to the read-only x2APIC ID; RDMSR of the
    // write-only EOI is #GP(0). MSRs the model does not know are reported.
    let mut c = Core::kernel();
    assert_eq!(c.wrmsr(0x10, 0).unwrap_err().fault, None);
    for (msr, value) in [
        (IA32_LSTAR, 0x8000_0000_0000),
        (X2APIC_EOI, 1),
        (X2APIC_ID, 7),
        (IA32_EFER, 0),
    ] {
        let e = c.wrmsr(msr, value).unwrap_err();
        assert_eq!(e.fault, Some(Fault::gp(0)), "{msr:#x}: {e}");
    }
    c.set(Gpr::Rcx, X2APIC_EOI.into());
    assert_eq!(c.exec(SysOp::Rdmsr).unwrap_err().fault, Some(Fault::gp(0)));
}

#[test]
fn icr_writes_decode_destination_and_vector() {
    // SDM Vol. 3A §11.12.9 (x2APIC ICR): vector 7:0, delivery mode 10:8 (fixed
    // = 000), destination mode 11, shorthand 19:18, destination 63:32; reserved
    // bits set are #GP(0).
    let mut c = Core::kernel();
    let ipi = |dest, vector| Ok(SysEffect::SendIpi(Ipi { dest, vector }));
    assert_eq!(
        c.wrmsr(X2APIC_ICR, (5 << 32) | 0xf1),
        ipi(IpiDest::Apic(5), 0xf1)
    );
    assert_eq!(
        c.wrmsr(X2APIC_ICR, (1 << 18) | 0x40),
        ipi(IpiDest::SelfOnly, 0x40)
    );
    assert_eq!(
        c.wrmsr(X2APIC_ICR, (2 << 18) | 0x41),
        ipi(IpiDest::AllIncludingSelf, 0x41)
    );
    assert_eq!(
        c.wrmsr(X2APIC_ICR, (3 << 18) | 0x42),
        ipi(IpiDest::AllExcludingSelf, 0x42)
    );
    assert_eq!(
        c.wrmsr(X2APIC_ICR, (0xffff_ffff << 32) | 0x43),
        ipi(IpiDest::AllIncludingSelf, 0x43)
    );
    let logical = IpiDest::Logical {
        cluster: 2,
        mask: 6,
    };
    assert_eq!(
        c.wrmsr(X2APIC_ICR, (0x2_0006 << 32) | (1 << 11) | 0x44),
        ipi(logical, 0x44)
    );
    assert_eq!(
        c.wrmsr(X2APIC_ICR, (1 << 12) | 0x40).unwrap_err().fault,
        Some(Fault::gp(0))
    );
    // NMI delivery and illegal vectors are reported, not guessed at.
    assert_eq!(
        c.wrmsr(X2APIC_ICR, (4 << 8) | 0x40).unwrap_err().fault,
        None
    );
    assert_eq!(c.wrmsr(X2APIC_ICR, 0x0f).unwrap_err().fault, None);
    // The SELF IPI register (0x83F) is the shorthand's fast path.
    assert_eq!(c.wrmsr(X2APIC_SELF_IPI, 0x45), ipi(IpiDest::SelfOnly, 0x45));
    assert_eq!(
        c.wrmsr(X2APIC_SELF_IPI, 0x145).unwrap_err().fault,
        Some(Fault::gp(0))
    );
    // A failed write leaves the ICR as it was.
    assert_eq!(
        c.sys.msr(X2APIC_ICR),
        Some((0x2_0006 << 32) | (1 << 11) | 0x44)
    );
}

#[test]
fn external_interrupts_wait_for_if_and_priority_then_eoi() {
    // SDM Vol. 3A §6.8.1: maskable interrupts are taken only with IF = 1;
    // §11.8.4: an accepted vector moves from IRR to ISR; §11.8.5: EOI clears the
    // highest ISR bit. The return RIP is the interrupted boundary (§6.14.2).
    let mut c = Core::user();
    c.sys
        .set_idt_gate(0xf1, Some(IdtGate::interrupt(0x50_00f1)));
    c.sys.post_interrupt(0xf1);
    let take = |c: &mut Core| {
        let mut ctx = SysContext {
            regs: &mut c.regs,
            flags: &mut c.flags,
            rip: c.rip,
            next_rip: c.rip,
            tsc: 0,
            sys: &mut c.sys,
            mem: &mut c.mem,
        };
        let r = ctx.take_interrupt();
        c.rip = ctx.next_rip;
        r
    };
    c.flags.remove(Flags::IF);
    assert_eq!(take(&mut c), Ok(None));
    c.flags.insert(Flags::IF);
    assert_eq!(take(&mut c), Ok(Some(0xf1)));
    assert_eq!(
        (c.rip, c.sys.cpl(), c.sys.in_service()),
        (0x50_00f1, 0, Some(0xf1))
    );
    assert_eq!(c.stack(2), [RIP, u64::from(USER_CS)]);
    // The same vector again stays requested while it is in service.
    c.sys.post_interrupt(0xf1);
    c.flags.insert(Flags::IF);
    assert_eq!(take(&mut c), Ok(None));
    assert_eq!(c.wrmsr(X2APIC_EOI, 0), Ok(SysEffect::Eoi(Some(0xf1))));
    assert_eq!(take(&mut c).map(|v| v.is_some()), Ok(true));
    // A vector without a gate cannot be delivered (once 0xf1 is done: same class).
    c.sys.post_interrupt(0xf2);
    c.flags.insert(Flags::IF);
    assert_eq!(take(&mut c), Ok(None));
    assert_eq!(c.wrmsr(X2APIC_EOI, 0), Ok(SysEffect::Eoi(Some(0xf1))));
    c.flags.insert(Flags::IF);
    assert!(take(&mut c).unwrap_err().reason.contains("0xf2"));
}

#[test]
fn control_registers_and_swapgs() {
    // SDM Vol. 3A §9.3: MOV to CR0/CR3/CR4 serializes, MOV to CR8 does not.
    // SDM Vol. 2 MOV CR: clearing CR0.PG in 64-bit mode is #GP(0); CR1 is #UD.
    // SDM Vol. 2 SWAPGS: exchanges IA32_GS_BASE and IA32_KERNEL_GS_BASE.
    let mut c = Core::kernel();
    let mov = |op, gpr| SysInst { op, gpr: Some(gpr) };
    c.set(Gpr::Rbx, 0x1000);
    assert_eq!(
        c.exec(mov(SysOp::MovToCr(3), Gpr::Rbx)),
        Ok(SysEffect::Serialize(SerializeReason::MovToCr(3)))
    );
    assert_eq!(c.sys.cr3(), 0x1000);
    c.set(Gpr::Rbx, 2);
    assert_eq!(
        c.exec(mov(SysOp::MovToCr(8), Gpr::Rbx)),
        Ok(SysEffect::Continue)
    );
    assert_eq!(
        c.exec(mov(SysOp::MovFromCr(8), Gpr::R9)),
        Ok(SysEffect::Continue)
    );
    assert_eq!(c.get(Gpr::R9), 2);
    c.set(Gpr::Rbx, 0x33);
    let e = c.exec(mov(SysOp::MovToCr(0), Gpr::Rbx)).unwrap_err();
    assert_eq!(e.fault, Some(Fault::gp(0)));
    let e = c.exec(mov(SysOp::MovFromCr(1), Gpr::Rbx)).unwrap_err();
    assert_eq!(e.fault, Some(Fault::ud()));
    c.wrmsr(IA32_GS_BASE, 0x1111).unwrap();
    c.wrmsr(IA32_KERNEL_GS_BASE, 0x2222).unwrap();
    assert_eq!(c.exec(SysOp::Swapgs), Ok(SysEffect::Continue));
    assert_eq!(
        (c.sys.gs_base(), c.sys.msr(IA32_KERNEL_GS_BASE)),
        (0x2222, Some(0x1111))
    );
}

#[test]
fn rdtsc_reads_the_callers_counter_unless_cr4_tsd() {
    // SDM Vol. 2 RDTSC/RDTSCP: EDX:EAX ← TSC, RDTSCP ECX ← IA32_TSC_AUX;
    // #GP(0) if CR4.TSD = 1 and CPL > 0.
    let mut c = Core::user();
    assert_eq!(c.exec(SysOp::Rdtscp), Ok(SysEffect::Continue));
    assert_eq!(
        (c.get(Gpr::Rax), c.get(Gpr::Rdx), c.get(Gpr::Rcx)),
        (1234, 0, 0)
    );
    c.sys.cr4 |= super::state::CR4_TSD;
    assert_eq!(c.exec(SysOp::Rdtsc).unwrap_err().fault, Some(Fault::gp(0)));
}
