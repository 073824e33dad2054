//! Whole kernel + user programs on the reference interpreter with the system model:
//! system calls, interrupts, exceptions and IPIs as the SDM defines them.

use std::collections::BTreeMap;

use isa::flags::Flags;
use isa::reg::{Gpr, Width};
use sim_core::mem::Memory;
use sim_core::reference::{Interpreter, Stop};
use sim_core::system::{
    Fault, IdtGate, Ipi, IpiDest, SerializeReason, SysEffect, SystemConfig, SystemState, USER_CS,
    VECTOR_GP, msr,
};

const KSTACK: u64 = 0x9_0000;
const USTACK: u64 = 0x7_0000;

/// Assemble `src` and start a core at its `start` symbol, at CPL 0, with the
/// kernel stack (TSS.RSP0) at [`KSTACK`] and IDT gates from `gates` (vector,
/// handler symbol, user-invocable). Also returns the symbol table.
fn boot(src: &str, config: SystemConfig, gates: &[(u8, &str, bool)]) -> (Interpreter, Symbols) {
    let program = isa::asm::assemble(src).unwrap_or_else(|e| panic!("{e}"));
    let mut mem = Memory::new();
    for s in &program.sections {
        mem.load_bytes(s.base, &s.bytes);
    }
    let sym = |name: &str| program.symbol(name).unwrap_or_else(|| panic!("no {name}"));
    let mut sys = SystemState::new(config, 0);
    sys.set_kernel_stack(KSTACK);
    for &(vector, handler, user) in gates {
        let gate = IdtGate::interrupt(sym(handler));
        sys.set_idt_gate(vector, Some(if user { gate.user() } else { gate }));
    }
    let mut cpu = Interpreter::new(mem, sym("start")).with_system(sys);
    cpu.set_reg(Gpr::Rsp, KSTACK);
    (cpu, Symbols(program.symbols))
}

/// A program's symbols.
struct Symbols(BTreeMap<String, u64>);

impl Symbols {
    fn get(&self, name: &str) -> u64 {
        self.0[name]
    }
}

fn sys(cpu: &Interpreter) -> &SystemState {
    cpu.sys.as_ref().unwrap()
}

/// The addresses at which the log recorded a `Serialize`.
fn serializations(cpu: &Interpreter) -> Vec<SerializeReason> {
    cpu.sys_log
        .iter()
        .filter_map(|(_, e)| match e {
            SysEffect::Serialize(r) => Some(*r),
            _ => None,
        })
        .collect()
}

/// A kernel that sets up SYSCALL the way Linux does and `sysretq`s to `user`;
/// system call 60 halts, any other returns `rax + 100`.
const SYSCALL_KERNEL: &str = "
.section .kernel
.base 0x100000
start:
    mov ecx, 0xC0000081         # IA32_STAR: SYSRET base 0x23, SYSCALL base 0x10
    xor eax, eax
    mov edx, 0x00230010
    wrmsr
    mov ecx, 0xC0000082         # IA32_LSTAR
    mov eax, offset entry
    xor edx, edx
    wrmsr
    mov ecx, 0xC0000084         # IA32_FMASK: IF, DF, TF
    mov eax, 0x700
    wrmsr
    mov rcx, offset user
    mov r11d, 0x202             # user RFLAGS: IF
    sysretq
entry:
    mov qword ptr [0x200000], r11
    mov qword ptr [0x200008], rcx
    cmp rax, 60
    je exit
    add rax, 100
    sysretq
exit:
    hlt
";

#[test]
fn syscall_and_sysret_round_trip_between_cpl0_and_cpl3() {
    // SDM Vol. 2 SYSCALL/SYSRET: RCX and R11 carry RIP and RFLAGS across, CS/SS
    // come from IA32_STAR, the entry point from IA32_LSTAR, and FMASK clears IF.
    let src = format!(
        "{SYSCALL_KERNEL}
.text
user:
    mov eax, 7
    syscall
    mov qword ptr [0x600000], rax
    mov eax, 60
    syscall
done:
"
    );
    let (mut cpu, sym) = boot(&src, SystemConfig::default(), &[]);
    assert_eq!(cpu.run(1000), Ok(Stop::Halted));
    assert_eq!(cpu.mem.read(0x600000, Width::B8), 107);
    // The last SYSCALL saved the user RFLAGS (IF set by SYSRET from R11) and the
    // RIP after it, and entered the kernel with IF cleared by FMASK.
    assert_eq!(cpu.mem.read(0x200000, Width::B8), 0x202);
    assert_eq!(cpu.mem.read(0x200008, Width::B8), sym.get("done"));
    assert_eq!(sys(&cpu).cpl(), 0);
    assert!(!cpu.flags.contains(Flags::IF));
    // SDM Vol. 3A §9.3: the three WRMSRs serialize, neither SYSRETQ does.
    assert_eq!(
        serializations(&cpu),
        [msr::IA32_STAR, msr::IA32_LSTAR, msr::IA32_FMASK].map(SerializeReason::Wrmsr)
    );
}

#[test]
fn a_pti_return_path_serializes_through_its_cr3_write() {
    // PTI is kernel code, not a model switch: the return path's MOV to CR3
    // serializes (SDM Vol. 3A §9.3), right before the SYSRETQ that does not.
    let pti = SYSCALL_KERNEL.replace(
        "    add rax, 100\n    sysretq",
        "    add rax, 100\n    mov rdx, cr3\n    mov cr3, rdx\npti_ret:\n    sysretq",
    );
    let src = format!("{pti}\n.text\nuser:\n    syscall\n    mov eax, 60\n    syscall\n");
    let (mut cpu, sym) = boot(&src, SystemConfig::default(), &[]);
    assert_eq!(cpu.run(1000), Ok(Stop::Halted));
    let cr3_write = sym.get("pti_ret") - 3;
    let serialize = SysEffect::Serialize(SerializeReason::MovToCr(3));
    assert!(
        cpu.sys_log.contains(&(cr3_write, serialize)),
        "{:?}",
        cpu.sys_log
    );
    assert!(
        cpu.sys_log
            .iter()
            .all(|(rip, _)| *rip != sym.get("pti_ret"))
    );
}

/// Kernel prologue that enters `user` at CPL 3 with IF set through an IRETQ frame
/// (SS, RSP, RFLAGS, CS, RIP), and an `int 0x80` handler: system call 60 halts,
/// any other returns `rax + 100`.
const IRET_KERNEL: &str = "
.section .kernel
.base 0x100000
start:
    push 0x2b
    push 0x70000
    push 0x202
    push 0x33
    push offset user
    iretq
int80:
    mov qword ptr [0x200000], rsp
    cmp rax, 60
    je exit
    add rax, 100
    iretq
exit:
    hlt
";

#[test]
fn int_0x80_and_iretq_round_trip() {
    // SDM Vol. 3A §6.14.2: INT n from CPL 3 switches to RSP0 and pushes a 5-word
    // frame; SDM Vol. 2 IRET pops it and returns to CPL 3 on the user stack.
    // SDM Vol. 3A §9.3: every IRETQ serializes, unless configured not to.
    let src = format!(
        "{IRET_KERNEL}
.text
user:
    mov eax, 1
    int 0x80
    mov qword ptr [0x600000], rax
    mov qword ptr [0x600008], rsp
    mov eax, 60
    int 0x80
"
    );
    for iret_serializing in [true, false] {
        let config = SystemConfig {
            iret_serializing,
            ..SystemConfig::default()
        };
        let (mut cpu, _) = boot(&src, config, &[(0x80, "int80", true)]);
        assert_eq!(cpu.run(1000), Ok(Stop::Halted));
        assert_eq!(cpu.mem.read(0x600000, Width::B8), 101);
        assert_eq!(cpu.mem.read(0x600008, Width::B8), USTACK);
        assert_eq!(cpu.mem.read(0x200000, Width::B8), KSTACK - 40);
        assert_eq!(sys(&cpu).cpl(), 0);
        // An interrupt gate: the handler runs with IF clear.
        assert!(!cpu.flags.contains(Flags::IF));
        let expected = if iret_serializing { 2 } else { 0 };
        assert_eq!(serializations(&cpu), vec![SerializeReason::Iret; expected]);
    }
}

#[test]
fn int_0x80_through_a_kernel_only_gate_raises_gp() {
    // SDM Vol. 2 INT n: a gate with DPL < CPL raises #GP(vector·8 + 2); without a
    // #GP gate the run stops with a report naming both.
    let src = format!("{IRET_KERNEL}\n.text\nuser:\n    int 0x80\n");
    let (mut cpu, sym) = boot(&src, SystemConfig::default(), &[(0x80, "int80", false)]);
    let fault = cpu.run(100).unwrap_err();
    assert_eq!(fault.rip, sym.get("user"));
    assert!(fault.reason.contains("#GP(0x402)"), "{fault}");
    assert!(fault.reason.contains("DPL 0"), "{fault}");
    assert_eq!(sys(&cpu).cpl(), 3);
}

/// A #GP handler that records the error code, RIP and CS of the fault, then halts.
const GP_HANDLER: &str = "
gp:
    mov rax, qword ptr [rsp]
    mov qword ptr [0x200000], rax
    mov rax, qword ptr [rsp + 8]
    mov qword ptr [0x200008], rax
    mov rax, qword ptr [rsp + 16]
    mov qword ptr [0x200010], rax
    hlt
";

#[test]
fn privileged_mov_cr3_at_cpl3_raises_gp_to_the_handler() {
    // SDM Vol. 2 MOV CR: #GP(0) if CPL ≠ 0. SDM Vol. 3A §6.14.2: the frame holds
    // the error code, then the RIP of the faulting instruction and the user CS.
    let src = format!("{IRET_KERNEL}{GP_HANDLER}\n.text\nuser:\n    mov cr3, rax\n");
    let (mut cpu, sym) = boot(&src, SystemConfig::default(), &[(VECTOR_GP, "gp", false)]);
    assert_eq!(cpu.run(100), Ok(Stop::Halted));
    let frame = [0x200000, 0x200008, 0x200010].map(|a| cpu.mem.read(a, Width::B8));
    assert_eq!(frame, [0, sym.get("user"), u64::from(USER_CS)]);
    assert_eq!(sys(&cpu).cr3(), 0, "the faulting write must not happen");
    let fault = Fault::gp(0);
    assert!(
        cpu.sys_log
            .contains(&(sym.get("user"), SysEffect::Exception(fault)))
    );
    // Without a handler the run stops at the instruction, with a readable reason.
    let (mut cpu, sym) = boot(&src, SystemConfig::default(), &[]);
    let fault = cpu.run(100).unwrap_err();
    assert_eq!((fault.rip, cpu.rip), (sym.get("user"), sym.get("user")));
    assert!(fault.to_string().contains("#GP(0x0)"), "{fault}");
    assert!(fault.to_string().contains("mov cr3, rax"), "{fault}");
}

#[test]
fn swapgs_exchanges_gs_base_and_kernel_gs_base() {
    // SDM Vol. 2 SWAPGS: GS.base ↔ IA32_KERNEL_GS_BASE; RDMSR reads both back.
    let src = "
.section .kernel
.base 0x100000
start:
    mov ecx, 0xC0000101
    mov eax, 0x1111
    xor edx, edx
    wrmsr
    mov ecx, 0xC0000102
    mov eax, 0x2222
    wrmsr
    swapgs
    mov ecx, 0xC0000101
    rdmsr
    mov r8, rax
    mov ecx, 0xC0000102
    rdmsr
    mov r9, rax
    hlt
";
    let (mut cpu, _) = boot(src, SystemConfig::default(), &[]);
    assert_eq!(cpu.run(100), Ok(Stop::Halted));
    assert_eq!((cpu.reg(Gpr::R8), cpu.reg(Gpr::R9)), (0x2222, 0x1111));
    assert_eq!(sys(&cpu).gs_base(), 0x2222);
}

#[test]
fn sysenter_and_sysexit_round_trip() {
    // SDM Vol. 2 SYSENTER/SYSEXIT (REX.W): the kernel entry and stack come from
    // the SYSENTER MSRs; SYSEXITQ returns to RDX with RSP = RCX at CPL 3.
    let src = "
.section .kernel
.base 0x100000
start:
    xor edx, edx
    mov ecx, 0x174
    mov eax, 0x10
    wrmsr
    mov ecx, 0x175
    mov eax, 0x90000
    wrmsr
    mov ecx, 0x176
    mov eax, offset entry
    wrmsr
    mov rcx, 0x70000
    mov rdx, offset user
    sysexitq
entry:
    mov qword ptr [0x200000], rsp
    cmp rax, 60
    je exit
    add rax, 100
    sysexitq
exit:
    hlt
.text
user:
    mov eax, 2
    mov rcx, rsp
    mov rdx, offset back
    sysenter
back:
    mov qword ptr [0x600000], rax
    mov qword ptr [0x600008], rsp
    mov eax, 60
    sysenter
";
    let (mut cpu, _) = boot(src, SystemConfig::default(), &[]);
    assert_eq!(cpu.run(1000), Ok(Stop::Halted));
    assert_eq!(cpu.mem.read(0x600000, Width::B8), 102);
    assert_eq!(cpu.mem.read(0x600008, Width::B8), USTACK);
    assert_eq!(cpu.mem.read(0x200000, Width::B8), KSTACK);
    assert_eq!(sys(&cpu).cpl(), 0);
}

#[test]
fn self_ipi_through_the_icr_is_taken_then_eoid() {
    // SDM Vol. 3A §11.12.9: an ICR write with shorthand "self" (bits 19:18 = 01)
    // and vector 0xf0 sends the IPI; the WRMSR does not serialize (§9.3). The
    // interrupt is taken at the next boundary once IF = 1 (enabled here by an
    // IRETQ to self, Linux's sync_core idiom), pushes the RIP after the WRMSR, and
    // EOI (0x80B) retires it. An IPI to APIC 1 leaves this core alone.
    let src = "
.section .kernel
.base 0x100000
start:
    mov rax, rsp
    push 0x18
    push rax
    push 0x202
    push 0x10
    push offset enabled
    iretq
enabled:
    mov ecx, 0x830
    mov edx, 1
    mov eax, 0xf1
    wrmsr
    xor edx, edx
    mov eax, 0x400f0
    wrmsr
sent:
    hlt
ipi:
    mov rax, qword ptr [rsp]
    mov qword ptr [0x200000], rax
    mov ecx, 0x80b
    xor eax, eax
    xor edx, edx
    wrmsr
    iretq
";
    let (mut cpu, sym) = boot(src, SystemConfig::default(), &[(0xf0, "ipi", false)]);
    assert_eq!(cpu.run(100), Ok(Stop::Halted));
    assert_eq!(cpu.mem.read(0x200000, Width::B8), sym.get("sent"));
    assert_eq!(cpu.rip, sym.get("sent") + 1);
    assert_eq!(sys(&cpu).in_service(), None);
    let effects: Vec<SysEffect> = cpu.sys_log.iter().map(|(_, e)| *e).collect();
    let ipi = |dest, vector| SysEffect::SendIpi(Ipi { dest, vector });
    let iret = SysEffect::Serialize(SerializeReason::Iret);
    assert_eq!(
        effects,
        [
            iret,
            ipi(IpiDest::Apic(1), 0xf1),
            ipi(IpiDest::SelfOnly, 0xf0),
            SysEffect::Eoi(Some(0xf0)),
            iret,
            SysEffect::Halt,
        ]
    );
}

#[test]
fn tsc_deadline_timer_interrupts_a_spinning_kernel() {
    // SDM Vol. 3A §11.5.4.1: LVT timer in TSC-deadline mode (0x400ec: mode 10b,
    // vector 0xec), IA32_TSC_DEADLINE = 50: the interrupt arrives at the first
    // boundary with TSC ≥ 50 (the interpreter's TSC is its retired count).
    let src = "
.section .kernel
.base 0x100000
start:
    mov ecx, 0x832
    mov eax, 0x400ec
    xor edx, edx
    wrmsr
    mov ecx, 0x6e0
    mov eax, 50
    wrmsr
    mov rax, rsp
    push 0x18
    push rax
    push 0x202
    push 0x10
    push offset spin
    iretq
spin:
    inc rbx
    jmp spin
tick:
    mov rax, qword ptr [rsp]
    mov qword ptr [0x200000], rax
    hlt
";
    let (mut cpu, sym) = boot(src, SystemConfig::default(), &[(0xec, "tick", false)]);
    assert_eq!(cpu.run(1000), Ok(Stop::Halted));
    // 14 set-up instructions, then 18 `inc; jmp` pairs reach TSC 50.
    assert_eq!(cpu.reg(Gpr::Rbx), 18);
    assert_eq!(cpu.mem.read(0x200000, Width::B8), sym.get("spin"));
    assert_eq!(sys(&cpu).in_service(), Some(0xec));
    assert_eq!(sys(&cpu).msr(msr::IA32_TSC_DEADLINE), Some(0));
}

/// Handler for the STI-shadow tests: record RBX and RCX as the interrupt found them.
const RECORD_RBX_RCX: &str = "
ipi:
    mov qword ptr [0x200000], rbx
    mov qword ptr [0x200008], rcx
    mov ecx, 0x80b
    xor eax, eax
    xor edx, edx
    wrmsr
    iretq
";

#[test]
fn sti_holds_a_pending_interrupt_off_for_one_instruction() {
    // SDM Vol. 2 STI: with IF clear, STI sets it but the processor recognises
    // interrupts only after the next instruction completes (so `sti; hlt` cannot
    // miss a wakeup).
    let src = format!(
        "
.section .kernel
.base 0x100000
start:
    sti
    mov ebx, 1
    mov ecx, 2
    hlt
{RECORD_RBX_RCX}"
    );
    let (mut cpu, _) = boot(&src, SystemConfig::default(), &[(0xf0, "ipi", false)]);
    cpu.sys.as_mut().unwrap().post_interrupt(0xf0);
    assert_eq!(cpu.run(100), Ok(Stop::Halted));
    assert_eq!(cpu.mem.read(0x200000, Width::B8), 1, "after `mov ebx, 1`");
    assert_eq!(cpu.mem.read(0x200008, Width::B8), 0, "before `mov ecx, 2`");
}
