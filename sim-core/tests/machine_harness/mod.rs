//! Building machines for the system tests: one assembled program, `coreN:`
//! entries, CPL 0 kernels with their stacks, SYSCALL and IDT set up.

#![allow(dead_code)] // each test binary uses its own subset

use sim_core::machine::{Contract, IfetchCoherence, Machine, MachineConfig, MemConfig};
use sim_core::mem::Memory;
use sim_core::system::{IdtGate, msr};

/// Top of core `i`'s kernel stack (TSS.RSP0) is `KSTACK - i * 0x1000`.
pub const KSTACK: u64 = 0x9_0000;

/// Assemble `src` (one program, `coreN:` labels for entries) into a machine: every
/// core at CPL 0 with its kernel stack as RSP and TSS.RSP0, SYSCALL entering at
/// `syscall_entry` if the program has it (IA32_STAR as Linux sets it), and IDT
/// gates `(vector, handler label)`.
pub fn machine(src: &str, cores: usize, gates: &[(u8, &str)], config: MachineConfig) -> Machine {
    let program = isa::asm::assemble(src).unwrap_or_else(|e| panic!("{e}"));
    let mut memory = Memory::new();
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    let sym = |name: &str| program.symbol(name).unwrap_or_else(|| panic!("no {name}"));
    let inits = (0..cores)
        .map(|i| {
            let mut regs = [0; 16];
            regs[4] = KSTACK - i as u64 * 0x1000;
            sim_core::machine::CoreInit {
                rip: sym(&format!("core{i}")),
                regs,
            }
        })
        .collect();
    let mut m = Machine::new(MachineConfig { cores, ..config }, memory, inits);
    for i in 0..cores {
        let sys = m.system_mut(i);
        sys.set_kernel_stack(KSTACK - i as u64 * 0x1000);
        if let Some(entry) = program.symbol("syscall_entry") {
            sys.set_msr(msr::IA32_LSTAR, entry);
            sys.set_msr(msr::IA32_STAR, (0x23 << 48) | (0x10 << 32));
        }
        for &(vector, handler) in gates {
            sys.set_idt_gate(vector, Some(IdtGate::interrupt(sym(handler))));
        }
    }
    if let Some(point) = program.symbol("sync_point.patched") {
        m.add_contract(Contract {
            name: "patched".into(),
            sync_point: point,
        });
    }
    m
}

pub fn jittered(seed: u64, ifetch_coherence: IfetchCoherence) -> MachineConfig {
    MachineConfig {
        seed,
        timing_jitter: 60,
        mem: MemConfig {
            ifetch_coherence,
            ..MemConfig::default()
        },
        ..MachineConfig::default()
    }
}
