//! The system model agrees with the instruction classes of `isa::class` (which
//! cite SDM Vol. 3A §9.3 and the CPL rules of each SDM Vol. 2 page): an instruction
//! is `PRIVILEGED` exactly when the model raises #GP(0) for it at CPL 3, and
//! `SERIALIZING` (or a `wrmsr` that `wrmsr_serializes`) exactly when the model
//! reports a `Serialize` effect at CPL 0.

use isa::class::{InstClass, wrmsr_serializes};
use isa::decode::{DecodedInst, decode_inst};
use isa::flags::Flags;
use isa::reg::{Gpr, Width};
use sim_core::mem::Memory;
use sim_core::system::{
    Exception, Fault, IdtGate, KERNEL_CS, KERNEL_SS, SysContext, SysEffect, SysInst, SystemConfig,
    SystemState, USER_CS, USER_SS, execute_sys, msr,
};

const STACK: u64 = 0x8000;

/// Every system instruction of the modelled subset, with operands that make it
/// architecturally valid at CPL 0 in the set-up of [`run`].
const SYSTEM_INSTRUCTIONS: &[&str] = &[
    "hlt",
    "pause",
    "clflush [rax]",
    "cpuid",
    "serialize",
    "rdtsc",
    "rdtscp",
    "rdmsr",
    "wrmsr",
    "mov cr3, rax",
    "mov cr2, rax",
    "mov cr8, rax",
    "mov rax, cr3",
    "mov dr7, rax",
    "invlpg [rax]",
    "wbinvd",
    "invd",
    "lgdt [rax]",
    "lidt [rax]",
    "lldt ax",
    "ltr ax",
    "invpcid rax, [rbx]",
    "swapgs",
    "syscall",
    "sysretq",
    "sysenter",
    "sysexitq",
    "iretq",
    "int 0x80",
    "int3",
];

fn decode(text: &str) -> DecodedInst {
    let program = isa::asm::assemble(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let section = &program.sections[0];
    decode_inst(&section.bytes, section.base).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Execute the (single) system uop of `inst` at `cpl` on a core with IDT gates for
/// `int 0x80`/`int3`, the SYSCALL and SYSENTER MSRs set, an IRET frame that returns
/// to the same CPL on the stack, RCX = IA32_LSTAR (for rdmsr/wrmsr) and RAX = 0.
fn run(inst: &DecodedInst, cpl: u8) -> Result<SysEffect, Exception> {
    let mut sys = SystemState::new(SystemConfig::default(), 0);
    sys.set_kernel_stack(0x9000);
    for v in [0x80, 3] {
        sys.set_idt_gate(v, Some(IdtGate::trap(0x50_0000).user()));
    }
    let mut regs = [0u64; 16];
    let mut flags = Flags::empty();
    let mut mem = Memory::new();
    let (cs, ss) = if cpl == 0 {
        (KERNEL_CS, KERNEL_SS)
    } else {
        (USER_CS, USER_SS)
    };
    let frame = [0x40_0000, cs.into(), 0x2, STACK, ss.into()];
    for (i, v) in frame.into_iter().enumerate() {
        mem.write(STACK + 8 * i as u64, Width::B8, v);
    }
    regs[Gpr::Rsp.index()] = STACK;
    let mut ctx = SysContext {
        regs: &mut regs,
        flags: &mut flags,
        rip: inst.ip,
        next_rip: inst.next_ip(),
        tsc: 0,
        sys: &mut sys,
        mem: &mut mem,
    };
    for (m, v) in [
        (msr::IA32_LSTAR, 0x50_1000),
        (msr::IA32_SYSENTER_CS, 0x10),
        (msr::IA32_SYSENTER_EIP, 0x50_2000),
    ] {
        ctx.set_reg(Gpr::Rcx, m.into());
        ctx.set_reg(Gpr::Rax, v);
        execute_sys(SysInst::from(isa::uop::SysOp::Wrmsr), &mut ctx).unwrap();
    }
    ctx.set_reg(Gpr::Rcx, msr::IA32_LSTAR.into());
    ctx.set_reg(Gpr::Rax, 0);
    if cpl == 3 {
        ctx.sys.enter_user_mode();
    }
    let sys_uops: Vec<SysInst> = inst.uops.iter().filter_map(SysInst::from_uop).collect();
    assert_eq!(sys_uops.len(), 1, "{:?}", inst.uops);
    execute_sys(sys_uops[0], &mut ctx)
}

#[test]
fn privileged_class_matches_gp_at_cpl3() {
    // SDM Vol. 2, each instruction's "Protected Mode Exceptions": #GP(0) if the
    // current privilege level is not 0.
    for text in SYSTEM_INSTRUCTIONS {
        let inst = decode(text);
        let fault = run(&inst, 3).err().and_then(|e| e.fault);
        let privileged = inst.class.contains(InstClass::PRIVILEGED);
        assert_eq!(fault == Some(Fault::gp(0)), privileged, "{text}: {fault:?}");
        if !privileged {
            assert_eq!(fault, None, "{text}");
        }
    }
}

#[test]
fn serializing_class_matches_serialize_effect_at_cpl0() {
    // SDM Vol. 3A §9.3: the serializing instructions, with WRMSR's exceptions.
    for text in SYSTEM_INSTRUCTIONS {
        let inst = decode(text);
        let effect = run(&inst, 0).unwrap_or_else(|e| panic!("{text}: {e}"));
        let serializing = inst.class.contains(InstClass::SERIALIZING)
            || (inst.class.contains(InstClass::WRMSR) && wrmsr_serializes(msr::IA32_LSTAR));
        let serialized = matches!(effect, SysEffect::Serialize(_));
        assert_eq!(serialized, serializing, "{text}: {effect:?}");
    }
}

#[test]
fn ud2_raises_invalid_opcode_at_any_cpl() {
    // SDM Vol. 2 UD2: raises #UD in all modes.
    let inst = decode("ud2");
    for cpl in [0, 3] {
        assert_eq!(run(&inst, cpl).unwrap_err().fault, Some(Fault::ud()));
    }
}
