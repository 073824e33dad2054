//! Whole-machine behaviour: determinism, tracing, faults, the watchdog, self- and
//! cross-modifying code, serialization.

use sim_core::machine::{
    ClearReason, CoreInit, IfetchCoherence, Machine, MachineConfig, MemConfig, Stage, StopReason,
    TraceEvent,
};
use sim_core::mem::Memory;
use sim_core::reference::Interpreter;

/// Assemble one program per core (core `i` at `0x1000 * (i + 1)`); `data` lines go in `.data`.
fn machine(programs: &[&str], data: &str, config: MachineConfig) -> Machine {
    let mut memory = Memory::new();
    let mut cores = Vec::new();
    let mut src = format!(".data\n.base 0x10000\n{data}\n");
    for (i, body) in programs.iter().enumerate() {
        let base = 0x1000 * (i as u64 + 1);
        src.push_str(&format!(
            ".section .core{i}\n.base {base:#x}\n{body}\nhlt\n"
        ));
        cores.push(CoreInit {
            rip: base,
            regs: [0; 16],
        });
    }
    let program = isa::asm::assemble(&src).expect("assembles");
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    Machine::new(
        MachineConfig {
            cores: programs.len(),
            ..config
        },
        memory,
        cores,
    )
}

fn traced(seed: u64) -> MachineConfig {
    MachineConfig {
        seed,
        timing_jitter: 50,
        trace: true,
        ..MachineConfig::default()
    }
}

const SB0: &str = "mov dword ptr [0x10000], 1\nmov eax, dword ptr [0x10040]";
const SB1: &str = "mov dword ptr [0x10040], 1\nmov eax, dword ptr [0x10000]";

#[test]
fn same_seed_gives_identical_trace_and_different_seeds_differ() {
    let run = |seed| {
        let mut m = machine(&[SB0, SB1], "", traced(seed));
        let out = m.run();
        (out, m.take_trace())
    };
    let (a, ta) = run(7);
    let (b, tb) = run(7);
    assert_eq!(a, b);
    assert!(!ta.is_empty());
    assert_eq!(ta, tb);
    let differs = (8..16).any(|seed| run(seed).1 != ta);
    assert!(differs, "jitter must change timing");
}

#[test]
fn trace_records_every_retired_instruction_with_ordered_stages() {
    let mut m = machine(&[SB0, SB1], "", traced(1));
    assert_eq!(m.run().stop, StopReason::AllHalted);
    let trace = m.take_trace();
    let retired: Vec<_> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Inst(r) if !r.squashed => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(retired.len(), 6, "three instructions per core");
    for r in &retired {
        let stages: Vec<u64> = [
            Stage::Decode,
            Stage::Rename,
            Stage::Issue,
            Stage::Complete,
            Stage::Retire,
        ]
        .iter()
        .map(|s| r.at(*s).expect("reached"))
        .collect();
        assert!(
            r.fetch <= stages[0] && stages.windows(2).all(|w| w[0] <= w[1]),
            "{r:?}"
        );
    }
    let store = retired
        .iter()
        .find(|r| r.ip == 0x1000)
        .expect("store traced");
    assert!(
        store.at(Stage::SbDrain).expect("drained") >= store.at(Stage::SbEnter).expect("entered")
    );
    assert_eq!(store.disassembly(), "mov dword ptr [0x10000], 0x1");
}

#[test]
fn undecodable_or_unsupported_instruction_faults_only_when_reached() {
    let mut m = machine(
        &["jmp over\nud2\nover:\nmov eax, 1"],
        "",
        MachineConfig::default(),
    );
    assert_eq!(m.run().stop, StopReason::AllHalted);
    assert_eq!(m.regs(0)[0], 1);
    let mut m = machine(&["mov eax, 1\nud2"], "", MachineConfig::default());
    match m.run().stop {
        StopReason::Fault {
            core: 0,
            rip,
            message,
        } => {
            assert_eq!(rip, 0x1005);
            assert!(
                message.contains("`ud2`") && message.contains("#UD"),
                "{message}"
            );
        }
        other => panic!("expected a fault, got {other:?}"),
    }
    assert_eq!(m.regs(0)[0], 1, "older instructions retired");
}

#[test]
fn watchdog_explains_what_the_oldest_instruction_waits_for() {
    let config = MachineConfig {
        watchdog_cycles: 250,
        ..MachineConfig::default()
    };
    let mut m = machine(&["mov eax, dword ptr [0x10000]"], "", config);
    match m.run().stop {
        StopReason::Watchdog(report) => {
            let text = report.to_string();
            assert!(
                text.contains("core 0: rob head #0 `mov eax, dword ptr [0x10000]` at 0x1000 waiting for line 0x10000 until cycle"),
                "{text}"
            );
        }
        other => panic!("expected the watchdog, got {other:?}"),
    }
    let config = MachineConfig {
        max_cycles: 500,
        ..MachineConfig::default()
    };
    let mut m = machine(&["spin:\njmp spin"], "", config);
    assert_eq!(m.run().stop, StopReason::CycleLimit);
}

#[test]
fn self_modifying_code_clears_and_matches_the_reference() {
    // The store rewrites the immediate of an instruction already fetched and decoded.
    let src = "
        mov ecx, 3
    p:  mov eax, 1
        add ebx, eax
        mov byte ptr [p + 1], 5
        dec ecx
        jne p
        hlt";
    let program = isa::asm::assemble(src).expect("assembles");
    let mut memory = Memory::new();
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    let entry = program.sections[0].base;
    let mut reference = Interpreter::new(memory.clone(), entry);
    reference.run(1000).expect("runs");
    let config = MachineConfig {
        trace: true,
        ..MachineConfig::default()
    };
    let mut m = Machine::new(
        config,
        memory,
        vec![CoreInit {
            rip: entry,
            regs: [0; 16],
        }],
    );
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted);
    assert_eq!(m.regs(0), reference.regs);
    assert_eq!(m.regs(0)[3], 11, "1 + 5 + 5");
    let smc = m.take_trace().iter().any(|e| {
        matches!(
            e,
            TraceEvent::MachineClear {
                reason: ClearReason::SelfModifyingCode { .. },
                ..
            }
        )
    });
    assert!(smc, "the store hit fetched bytes");
}

/// Core 1 runs a loop whose `mov edi, imm` core 0 rewrites; core 1 reports the
/// value it saw when it noticed the flag.
fn cross_modify(serialize: &str, config: MachineConfig) -> u64 {
    let writer = "
        mov byte ptr [patch + 1], 2
        mov dword ptr [0x10040], 1";
    let reader = format!(
        "
    again:
        mov esi, dword ptr [0x10040]
        {serialize}
    patch:
        mov edi, 1
        test esi, esi
        jz again"
    );
    let mut m = machine(&[writer, &reader], "", config);
    assert_eq!(m.run().stop, StopReason::AllHalted);
    m.regs(1)[7]
}

#[test]
fn cross_modified_code_can_run_stale_until_serialized() {
    let stale = (0..24).any(|seed| {
        cross_modify(
            "",
            MachineConfig {
                seed,
                timing_jitter: 50,
                ..MachineConfig::default()
            },
        ) == 1
    });
    assert!(
        stale,
        "without serialization the reader can still execute the old bytes"
    );
    for seed in 0..24 {
        let config = MachineConfig {
            seed,
            timing_jitter: 50,
            ..MachineConfig::default()
        };
        assert_eq!(
            cross_modify("cpuid", config),
            2,
            "cpuid after seeing the flag refetches (seed {seed})"
        );
    }
    let policies = [
        IfetchCoherence::Lazy,
        IfetchCoherence::Delayed { cycles: 5000 },
    ];
    for ifetch_coherence in policies {
        let mem = MemConfig {
            ifetch_coherence,
            ..MemConfig::default()
        };
        let config = |seed| MachineConfig {
            seed,
            timing_jitter: 50,
            mem: mem.clone(),
            ..MachineConfig::default()
        };
        let always_stale = (0..8).all(|seed| cross_modify("", config(seed)) == 1);
        assert!(
            always_stale,
            "{ifetch_coherence:?}: the I-cache keeps the old line"
        );
        for seed in 0..8 {
            assert_eq!(
                cross_modify("cpuid", config(seed)),
                2,
                "{ifetch_coherence:?}: serialization refetches"
            );
        }
    }
}

#[test]
fn mispredictions_are_traced_and_counted() {
    let config = MachineConfig {
        trace: true,
        ..MachineConfig::default()
    };
    let mut m = machine(
        &["mov ecx, 20\nagain:\ntest ecx, 3\njz skip\nadd eax, 1\nskip:\ndec ecx\njnz again"],
        "",
        config,
    );
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted);
    assert_eq!(m.regs(0)[0], 15);
    let traced = m
        .take_trace()
        .iter()
        .filter(|e| matches!(e, TraceEvent::Mispredict { .. }))
        .count() as u64;
    assert!(traced > 0);
    assert_eq!(traced, out.per_core[0].mispredicts);
}

#[test]
fn full_store_buffer_and_fences_stall_and_are_traced() {
    let core = sim_core::machine::CoreConfig {
        store_buffer: 2,
        ..Default::default()
    };
    let config = MachineConfig {
        core,
        trace: true,
        ..MachineConfig::default()
    };
    let stores = "mov dword ptr [0x10000], 1\nmov dword ptr [0x10100], 2\nmov dword ptr [0x10200], 3\nmov dword ptr [0x10300], 4";
    let program = format!("{stores}\nmfence\nmov eax, dword ptr [0x10000]");
    let mut m = machine(&[&program], "", config);
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted);
    assert_eq!(m.regs(0)[0], 1);
    assert!(out.per_core[0].sb_full_stalls > 0);
    let trace = m.take_trace();
    assert!(
        trace
            .iter()
            .any(|e| matches!(e, TraceEvent::SbFull { core: 0, .. }))
    );
    assert!(
        trace
            .iter()
            .any(|e| matches!(e, TraceEvent::FenceStall { core: 0, .. }))
    );
}

#[test]
fn machines_can_run_on_other_threads() {
    fn send<T: Send>() {}
    send::<Machine>();
}

#[test]
fn an_observer_sees_progress_and_can_interrupt_a_run() {
    use sim_core::machine::OBSERVE_EVERY;
    let mut m = machine(
        &["mov rcx, 100000000\n0: dec rcx\njnz 0b"],
        "",
        MachineConfig::default(),
    );
    let mut seen = Vec::new();
    let out = m.run_observed(|cycle| {
        seen.push(cycle);
        seen.len() < 4
    });
    assert_eq!(out.stop, StopReason::Interrupted);
    assert_eq!(seen, [0, 1, 2, 3].map(|i| i * OBSERVE_EVERY));
    assert_eq!(out.cycles, 3 * OBSERVE_EVERY);
    let left = m.regs(0)[1];
    assert!(
        left < 100_000_000 && left > 100_000_000 - 4 * OBSERVE_EVERY,
        "the loop ran until the interruption: rcx = {left}"
    );
}
