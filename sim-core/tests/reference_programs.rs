//! The reference interpreter on small whole programs. The first ones are encoded by
//! GNU `as` (listing in each test), so they do not depend on our assembler; the rest
//! are assembled by `isa::asm`.

use isa::flags::Flags;
use isa::reg::{Gpr, Width};
use sim_core::mem::Memory;
use sim_core::reference::{Interpreter, Step, Stop};

const BASE: u64 = 0x1000;

fn load(hex: &str) -> Interpreter {
    let bytes: Vec<u8> = hex
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let mut mem = Memory::new();
    mem.load_bytes(BASE, &bytes);
    Interpreter::new(mem, BASE)
}

#[test]
fn counted_loop_sums() {
    // mov ecx, 10; xor eax, eax; 1: add eax, ecx; dec ecx; jne 1b;
    // mov qword ptr [0x2000], rax; hlt
    let mut cpu = load("b9 0a 00 00 00 31 c0 01 c8 ff c9 75 fa 48 89 04 25 00 20 00 00 f4");
    assert_eq!(cpu.run(1000), Ok(Stop::Halted));
    assert_eq!(cpu.reg(Gpr::Rax), 55);
    assert_eq!(cpu.mem.read(0x2000, Width::B8), 55);
    // 2 + 10 * 3 + 2 instructions, hlt included; RIP is past the hlt.
    assert_eq!(cpu.retired, 34);
    assert_eq!(cpu.rip, BASE + 0x16);
    // The last `dec ecx` reached zero.
    assert!(cpu.flags.contains(Flags::ZF));
}

#[test]
fn self_modifying_code_and_calls() {
    //      mov ecx, 3
    // p:   mov eax, 1              ; its immediate is patched to 5 below
    //      add ebx, eax
    //      mov byte ptr [rip+p+1], 5
    //      dec ecx
    //      jne p
    //      mov rsp, 0x8000
    //      call f
    //      rdtsc
    //      hlt
    // f:   mov edx, 42; push rdx; pop rsi; ret
    let mut cpu = load(
        "b9 03 00 00 00 b8 01 00 00 00 01 c3 c6 05 f3 ff ff ff 05 ff c9 75 ee \
         48 c7 c4 00 80 00 00 e8 03 00 00 00 0f 31 f4 ba 2a 00 00 00 52 5e c3",
    );
    assert_eq!(cpu.run(1000), Ok(Stop::Halted));
    // The first iteration ran the original immediate, the next two the patched one.
    assert_eq!(cpu.reg(Gpr::Rbx), 1 + 5 + 5);
    assert_eq!(cpu.reg(Gpr::Rsi), 42);
    assert_eq!(cpu.reg(Gpr::Rsp), 0x8000);
    // The return address was pushed just below the initial stack pointer.
    assert_eq!(cpu.mem.read(0x8000 - 8, Width::B8), BASE + 0x23);
    // rdtsc read the retired count before it: 1 + 5*3 + (mov rsp, call) + 4 in f.
    assert_eq!(cpu.reg(Gpr::Rax), 22);
}

#[test]
fn faults_leave_state_before_the_instruction() {
    // mov eax, 1; syscall
    let mut cpu = load("b8 01 00 00 00 0f 05");
    assert_eq!(cpu.step(), Ok(Step::Retired));
    let fault = cpu.step().unwrap_err();
    assert_eq!((fault.rip, cpu.rip, cpu.retired), (BASE + 5, BASE + 5, 1));
    assert!(fault.reason.contains("syscall"), "{fault}");
    // ud2, a privileged wrmsr, and bytes that do not decode.
    for (hex, what) in [("0f 0b", "#UD"), ("0f 30", "#GP"), ("06", "invalid")] {
        let fault = load(hex).step().unwrap_err();
        assert!(fault.reason.contains(what), "{hex}: {fault}");
    }
    // A valid but unmodelled instruction names itself.
    assert!(load("f3 a4").step().unwrap_err().reason.contains("movsb"));
}

#[test]
fn step_limit_stops_an_endless_loop() {
    let mut cpu = load("eb fe"); // jmp .
    assert_eq!(cpu.run(100), Ok(Stop::StepLimit));
    assert_eq!((cpu.retired, cpu.rip), (100, BASE));
}

/// Run Intel-syntax `src` (assembled by `isa::asm` at its default base) to `hlt`.
fn run_asm(src: &str) -> Interpreter {
    let program = isa::asm::assemble(src).unwrap();
    let mut mem = Memory::new();
    for s in &program.sections {
        mem.load_bytes(s.base, &s.bytes);
    }
    let mut cpu = Interpreter::new(mem, program.sections[0].base);
    assert_eq!(cpu.run(1000), Ok(Stop::Halted));
    cpu
}

#[test]
fn stack_pointer_edge_cases() {
    // SDM Vol. 2 PUSH: "pushes the value of the RSP register as it existed before the
    // instruction was executed"; POP: "POP RSP increments the stack pointer before
    // data at the old top of stack is written into the destination".
    let cpu = run_asm(
        "mov rsp, 0x8000
         push rsp
         pop rax
         push 0x5000
         pop rsp
         hlt",
    );
    assert_eq!((cpu.reg(Gpr::Rax), cpu.reg(Gpr::Rsp)), (0x8000, 0x5000));
}

#[test]
fn indirect_calls_and_jumps() {
    // call qword ptr [rsp+8] reads its target before pushing the return address.
    let cpu = run_asm(
        "    mov rsp, 0x8000
             lea rax, [rip+target]
             push rax
             push 0
             call qword ptr [rsp+8]
             hlt
         target:
             lea rbx, [rip+done]
             mov qword ptr [0x9000], rbx
             jmp qword ptr [0x9000]
             ud2
         done:
             mov ecx, 7
             ret",
    );
    assert_eq!(cpu.reg(Gpr::Rcx), 7);
    assert_eq!(cpu.reg(Gpr::Rsp), 0x8000 - 16);
}
