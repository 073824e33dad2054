//! Simulation speed in simulated MIPS (run with `--release -- --ignored --nocapture`).

use std::time::Instant;

use sim_core::machine::{CoreInit, Machine, MachineConfig, StopReason};
use sim_core::mem::Memory;

fn mips(body: &str, iterations: u64) {
    let src = format!(".text\nmov ecx, {iterations}\nagain:\n{body}\ndec ecx\njnz again\nhlt\n");
    let program = isa::asm::assemble(&src).expect("assembles");
    let mut memory = Memory::new();
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    let cores = vec![CoreInit {
        rip: program.sections[0].base,
        regs: [0; 16],
    }];
    let mut m = Machine::new(MachineConfig::default(), memory, cores);
    let start = Instant::now();
    let out = m.run();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(out.stop, StopReason::AllHalted);
    let retired = out.per_core[0].retired;
    println!(
        "{retired} instructions, {} cycles (IPC {:.2}) in {secs:.2} s: {:.2} MIPS",
        out.cycles,
        out.per_core[0].ipc,
        retired as f64 / secs / 1e6
    );
}

#[test]
#[ignore = "measures speed; run in release"]
fn alu_loop_mips() {
    mips(
        "add eax, ebx\nxor edx, eax\nadd esi, 3\nsub edi, esi\nlea r8, [rax + rdx]\nor r9, r8\nand r10, r9\nadd r11, 1",
        1_000_000,
    );
}

#[test]
#[ignore = "measures speed; run in release"]
fn memory_loop_mips() {
    mips(
        "mov dword ptr [0x600000], eax\nadd eax, dword ptr [0x600004]\nmov ebx, dword ptr [0x600000]\nadd esi, ebx",
        1_000_000,
    );
}
