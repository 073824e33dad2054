//! The trace's data accesses: every store entering and leaving the store buffer
//! and every retired load, with address, width and value, checked against what
//! the instruction records, the final memory and the registers say; and tracing
//! them changes no timing.

use std::collections::BTreeMap;

use sim_core::machine::{CoreInit, Machine, MachineConfig, MemEvent, Stage, TraceEvent};
use sim_core::mem::Memory;

/// Core 0 stores a pattern (one locked add among them), core 1 polls and loads.
const WRITER: &str = "mov qword ptr [0x10000], 0x11\nmov dword ptr [0x10008], 0x2222\n\
    mov word ptr [0x1000c], 0x333\nlock add qword ptr [0x10010], 5\nmov byte ptr [0x10018], 0x44\n\
    mov qword ptr [0x10040], 1";
const READER: &str = "1: cmp qword ptr [0x10040], 0\nje 1b\nmov rbx, qword ptr [0x10000]\n\
    mov ecx, dword ptr [0x10008]\nmovzx edx, word ptr [0x1000c]\nmov rsi, qword ptr [0x10010]";

fn machine(trace: bool, seed: u64) -> Machine {
    let src = format!(
        ".data\n.base 0x10000\n.skip 0x10\n.quad 7\n.skip 0x100\n\
         .section .core0\n.base 0x1000\n{WRITER}\nhlt\n.section .core1\n.base 0x2000\n{READER}\nhlt\n"
    );
    let program = isa::asm::assemble(&src).expect("assembles");
    let mut memory = Memory::new();
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    let cores = [0x1000, 0x2000].map(|rip| CoreInit { rip, regs: [0; 16] });
    let config = MachineConfig {
        cores: 2,
        seed,
        timing_jitter: 50,
        trace,
        ..MachineConfig::default()
    };
    Machine::new(config, memory, cores.to_vec())
}

#[test]
fn stores_leave_the_buffer_in_order_with_the_values_memory_ends_with() {
    for seed in 0..8 {
        let mut m = machine(true, seed);
        m.run();
        let trace = m.take_trace();
        let mut buffered: Vec<MemEvent> = Vec::new();
        let mut drained: Vec<MemEvent> = Vec::new();
        let mut locked: Vec<MemEvent> = Vec::new();
        for e in &trace {
            match *e {
                TraceEvent::StoreBuffered(s) if s.core == 0 => buffered.push(s),
                TraceEvent::StoreVisible {
                    store,
                    buffered: true,
                } if store.core == 0 => drained.push(store),
                TraceEvent::StoreVisible { store, .. } if store.core == 0 => locked.push(store),
                _ => {}
            }
        }
        let fields = |s: &MemEvent| (s.inst_seq, s.addr, s.width, s.value);
        assert_eq!(
            buffered.iter().map(fields).collect::<Vec<_>>(),
            drained.iter().map(fields).collect::<Vec<_>>(),
            "seed {seed}: FIFO"
        );
        let stores: Vec<(u64, u8, u64)> = buffered
            .iter()
            .map(|s| (s.addr, s.width, s.value))
            .collect();
        assert_eq!(
            stores,
            [
                (0x10000, 8, 0x11),
                (0x10008, 4, 0x2222),
                (0x1000c, 2, 0x333),
                (0x10018, 1, 0x44),
                (0x10040, 8, 1)
            ]
        );
        assert_eq!(
            locked
                .iter()
                .map(|s| (s.addr, s.width, s.value))
                .collect::<Vec<_>>(),
            [(0x10010, 8, 12)]
        );
        // The instruction records say the same cycles.
        let records: BTreeMap<u64, (u64, u64)> = trace
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Inst(r) if r.core == 0 && !r.squashed => {
                    Some((r.seq, (r.at(Stage::SbEnter)?, r.at(Stage::SbDrain)?)))
                }
                _ => None,
            })
            .collect();
        for (b, d) in buffered.iter().zip(&drained) {
            assert!(b.cycle < d.cycle, "{b:?} {d:?}");
            assert_eq!(records[&b.inst_seq], (b.cycle, d.cycle), "{b:?}");
        }
        for s in &drained {
            let bytes: Vec<u8> = (0..u64::from(s.width))
                .map(|i| m.memory().read_u8(s.addr + i))
                .collect();
            let mut word = [0; 8];
            word[..bytes.len()].copy_from_slice(&bytes);
            assert_eq!(u64::from_le_bytes(word), s.value, "{s:?}");
        }
    }
}

#[test]
fn retired_loads_carry_the_values_the_registers_got() {
    let mut m = machine(true, 3);
    m.run();
    let trace = m.take_trace();
    let loads: Vec<(u64, u8, u64)> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::LoadRetired(l) if l.core == 1 && l.addr != 0x10040 => {
                Some((l.addr, l.width, l.value))
            }
            _ => None,
        })
        .collect();
    let regs = m.regs(1);
    assert_eq!(
        loads,
        [
            (0x10000, 8, regs[3]),
            (0x10008, 4, regs[1]),
            (0x1000c, 2, regs[2]),
            (0x10010, 8, regs[6])
        ]
    );
    assert_eq!(
        [regs[3], regs[1], regs[2], regs[6]],
        [0x11, 0x2222, 0x333, 12]
    );
    let polls: Vec<u64> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::LoadRetired(l) if l.core == 1 && l.addr == 0x10040 => Some(l.value),
            _ => None,
        })
        .collect();
    assert_eq!(
        polls.last(),
        Some(&1),
        "the poll that ended the loop saw the flag"
    );
    assert!(
        polls[..polls.len() - 1].iter().all(|&v| v == 0),
        "{polls:?}"
    );
}

#[test]
fn tracing_the_accesses_changes_no_timing() {
    for seed in 0..8 {
        let plain = machine(false, seed).run();
        let traced = machine(true, seed).run();
        assert_eq!(plain, traced, "seed {seed}");
    }
}
