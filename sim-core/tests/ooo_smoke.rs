//! End-to-end runs of tiny hand-encoded programs on the out-of-order machine.

use sim_core::machine::{CoreConfig, CoreInit, Machine, MachineConfig, StopReason};
use sim_core::mem::Memory;

fn run(code: &[u8], config: MachineConfig) -> Machine {
    let mut mem = Memory::new();
    mem.load_bytes(0x1000, code);
    let mut m = Machine::new(
        config,
        mem,
        vec![CoreInit {
            rip: 0x1000,
            regs: [0; 16],
        }],
    );
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted, "{out:?}");
    m
}

#[test]
fn straight_line_code_runs_to_hlt() {
    // mov eax, 5; mov ebx, 7; add eax, ebx; mov [0x2000], eax; mov ecx, [0x2000]; hlt
    let code = [
        0xb8, 5, 0, 0, 0, 0xbb, 7, 0, 0, 0, 0x01, 0xd8, 0x89, 0x04, 0x25, 0x00, 0x20, 0, 0, 0x8b,
        0x0c, 0x25, 0x00, 0x20, 0, 0, 0xf4,
    ];
    let m = run(&code, MachineConfig::default());
    let r = m.regs(0);
    assert_eq!((r[0], r[3], r[1]), (12, 7, 12));
    assert_eq!(m.memory().read(0x2000, isa::reg::Width::B4), 12);
}

#[test]
fn degenerate_sizes_are_raised_to_workable_ones() {
    let core = CoreConfig {
        prefetch_depth: 0,
        decode_width: 0,
        uop_queue: 0,
        rename_width: 0,
        rob_size: 0,
        scheduler_size: 0,
        issue_width: 0,
        load_ports: 0,
        store_ports: 0,
        retire_width: 0,
        load_queue: 0,
        store_queue: 0,
        store_buffer: 0,
        ..CoreConfig::default()
    };
    // push/pop and call/ret crack into several uops each.
    let code = [0x50, 0x5b, 0xe8, 0x01, 0, 0, 0, 0xf4, 0xc3];
    let mut mem = Memory::new();
    mem.load_bytes(0x1000, &code);
    let mut regs = [0; 16];
    regs[0] = 9;
    regs[4] = 0x8000;
    let config = MachineConfig {
        core,
        ..MachineConfig::default()
    };
    let mut m = Machine::new(config, mem, vec![CoreInit { rip: 0x1000, regs }]);
    assert_eq!(m.run().stop, StopReason::AllHalted);
    assert_eq!(m.regs(0)[3], 9);
}
