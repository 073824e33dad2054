//! Round-trip properties of the privilege transfers, over arbitrary user state:
//! whatever the kernel masks on entry, the matching return restores the user's
//! registers, flags, stack and CPL exactly (SDM Vol. 2 SYSCALL/SYSRET, INT n/IRET).

use isa::flags::Flags;
use isa::reg::Gpr;
use isa::uop::SysOp;
use proptest::prelude::*;
use sim_core::mem::Memory;
use sim_core::system::{
    IdtGate, SysContext, SysEffect, SysInst, SystemConfig, SystemState, USER_CS, USER_SS,
    execute_sys, msr,
};

/// A core's architectural state outside any interpreter.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Core {
    regs: [u64; 16],
    flags: Flags,
    sys: SystemState,
    mem: Memory,
    rip: u64,
}

impl Core {
    /// Execute `op` as a 2-byte instruction at `rip`.
    fn exec(&mut self, op: SysOp) -> SysEffect {
        let mut ctx = SysContext {
            regs: &mut self.regs,
            flags: &mut self.flags,
            rip: self.rip,
            next_rip: self.rip + 2,
            tsc: 0,
            sys: &mut self.sys,
            mem: &mut self.mem,
        };
        let effect = execute_sys(SysInst::from(op), &mut ctx).unwrap();
        self.rip = ctx.next_rip;
        effect
    }

    fn wrmsr(&mut self, m: u32, value: u64) {
        self.regs[Gpr::Rcx.index()] = m.into();
        self.regs[Gpr::Rax.index()] = value & 0xFFFF_FFFF;
        self.regs[Gpr::Rdx.index()] = value >> 32;
        self.exec(SysOp::Wrmsr);
    }
}

/// A kernel with Linux's STAR, the given FMASK, a trap or interrupt gate for `int 0x80`,
/// a kernel stack; then user mode with `regs`, `flags` at `rip`.
fn user_core(regs: [u64; 16], flags: Flags, fmask: u64, trap_gate: bool, rip: u64) -> Core {
    let mut sys = SystemState::new(SystemConfig::default(), 0);
    sys.set_kernel_stack(0xffff_8000_0001_0000);
    let gate = if trap_gate {
        IdtGate::trap(0xffff_ffff_8100_0080)
    } else {
        IdtGate::interrupt(0xffff_ffff_8100_0080)
    };
    sys.set_idt_gate(0x80, Some(gate.user()));
    let mut c = Core {
        regs: [0; 16],
        flags: Flags::empty(),
        sys,
        mem: Memory::new(),
        rip: 0,
    };
    c.wrmsr(msr::IA32_STAR, (0x23 << 48) | (0x10 << 32));
    c.wrmsr(msr::IA32_LSTAR, 0xffff_ffff_8100_0000);
    c.wrmsr(msr::IA32_FMASK, fmask);
    c.sys.enter_user_mode();
    c.regs = regs;
    c.flags = flags;
    c.rip = rip;
    c
}

fn user_state() -> impl Strategy<Value = ([u64; 16], Flags, u64)> {
    let canonical_user = 0..(1u64 << 47) - 16;
    (
        any::<[u64; 16]>(),
        any::<u64>().prop_map(Flags::from_bits_truncate),
        canonical_user,
    )
}

proptest! {
    #[test]
    fn syscall_then_sysret_restores_the_user(
        (regs, flags, rip) in user_state(),
        fmask in any::<u64>(),
    ) {
        // SDM Vol. 2: SYSCALL saves RIP in RCX and RFLAGS in R11; SYSRETQ restores
        // RIP from RCX and RFLAGS from R11 & 3C7FD7h, which covers every modelled
        // flag. The kernel leaves RCX and R11 alone; RSP is never touched.
        let mut c = user_core(regs, flags, fmask, false, rip);
        let user = c.clone();
        prop_assert_eq!(c.exec(SysOp::Syscall), SysEffect::Continue);
        prop_assert_eq!(c.sys.cpl(), 0);
        prop_assert_eq!(c.flags, flags - Flags::from_bits_truncate(fmask));
        prop_assert_eq!(c.exec(SysOp::Sysret), SysEffect::Continue);
        prop_assert_eq!((c.sys.cs(), c.sys.ss()), (USER_CS, USER_SS));
        prop_assert_eq!(c.rip, rip + 2);
        prop_assert_eq!(c.flags, flags);
        let mut expected = user.regs;
        expected[Gpr::Rcx.index()] = rip + 2;
        expected[Gpr::R11.index()] = flags.bits() | 2;
        prop_assert_eq!(c.regs, expected);
    }

    #[test]
    fn int_then_iret_restores_the_user(
        (regs, flags, rip) in user_state(),
        trap_gate in any::<bool>(),
    ) {
        // SDM Vol. 3A §6.14.2 and Vol. 2 IRET: the frame INT n pushes is exactly
        // what IRETQ pops; the user's registers, stack, flags and CPL come back,
        // and the IRETQ serializes (SDM Vol. 3A §9.3).
        let mut c = user_core(regs, flags, 0, trap_gate, rip);
        let user = c.clone();
        prop_assert_eq!(c.exec(SysOp::Int(0x80)), SysEffect::Continue);
        prop_assert_eq!(c.flags.contains(Flags::IF), trap_gate && flags.contains(Flags::IF));
        prop_assert!(!c.flags.contains(Flags::TF));
        prop_assert!(matches!(c.exec(SysOp::Iret), SysEffect::Serialize(_)));
        prop_assert_eq!(c.rip, rip + 2);
        prop_assert_eq!((c.regs, c.flags), (user.regs, user.flags));
        prop_assert_eq!((c.sys.cs(), c.sys.ss()), (USER_CS, USER_SS));
    }
}
