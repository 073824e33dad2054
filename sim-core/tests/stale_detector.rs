//! The stale-code detector against an independent account of the same run: from the
//! instruction trace alone (when the writer's patch drained, when and with which
//! bytes the reader retired the patched instruction) we know which retirements ran
//! bytes memory no longer held; the detector must report exactly those, naming both
//! instructions and the writer. Code nobody rewrites, and a core's own
//! (self-modifying) stores, never count as stale (SDM Vol. 3A §9.1.3).

use sim_core::machine::{
    CoreInit, IfetchCoherence, InstRecord, Machine, MachineConfig, MemConfig, RunOutcome, Stage,
    StopReason, TraceEvent,
};
use sim_core::mem::Memory;

const PATCH: u64 = 0x2000;

/// Core 0 rewrites `mov edi, 1` at `PATCH` into `mov edi, 2`, then sets a flag; core 1
/// loops over the patched instruction until it sees the flag, with no serializing
/// instruction in between.
fn cross_modify(config: MachineConfig) -> (Machine, RunOutcome) {
    let src = format!(
        ".section .writer\n.base 0x1000\n\
         mov byte ptr [{PATCH:#x} + 1], 2\n mov dword ptr [0x10040], 1\n hlt\n\
         .section .reader\n.base {PATCH:#x}\n\
         patch:\n mov edi, 1\n mov esi, dword ptr [0x10040]\n test esi, esi\n jz patch\n hlt\n"
    );
    let program = isa::asm::assemble(&src).expect("assembles");
    assert_eq!(program.symbol("patch"), Some(PATCH));
    let mut memory = Memory::new();
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    let cores = vec![
        CoreInit {
            rip: 0x1000,
            regs: [0; 16],
        },
        CoreInit {
            rip: PATCH,
            regs: [0; 16],
        },
    ];
    let mut m = Machine::new(MachineConfig { cores: 2, ..config }, memory, cores);
    let outcome = m.run();
    assert_eq!(outcome.stop, StopReason::AllHalted);
    (m, outcome)
}

fn lazy(seed: u64) -> MachineConfig {
    MachineConfig {
        seed,
        timing_jitter: 50,
        mem: MemConfig {
            ifetch_coherence: IfetchCoherence::Lazy,
            ..MemConfig::default()
        },
        ..MachineConfig::default()
    }
}

/// The cycles at which core 1 retired `mov edi, 1` at `PATCH` although core 0's patch
/// had already drained to memory, worked out from the instruction trace alone.
fn stale_cycles_from_trace(trace: &[TraceEvent]) -> Vec<u64> {
    let records = trace.iter().filter_map(|e| match e {
        TraceEvent::Inst(r) if !r.squashed => Some(r),
        _ => None,
    });
    let (writer, reader): (Vec<&InstRecord>, Vec<&InstRecord>) = records.partition(|r| r.core == 0);
    let patch_visible = writer
        .iter()
        .find(|r| r.ip == 0x1000)
        .and_then(|r| r.at(Stage::SbDrain))
        .expect("the patch store drained");
    reader
        .iter()
        .filter(|r| r.ip == PATCH && r.inst_bytes() == OLD.as_slice())
        .filter_map(|r| r.at(Stage::Retire))
        .filter(|&retired| retired >= patch_visible)
        .collect()
}

/// `mov edi, 1`.
const OLD: [u8; 5] = [0xbf, 1, 0, 0, 0];

#[test]
fn detector_reports_exactly_the_stale_retirements_the_trace_shows() {
    let mut stale_runs = 0;
    for seed in 0..16 {
        let (mut m, outcome) = cross_modify(MachineConfig {
            trace: true,
            ..lazy(seed)
        });
        let reported: Vec<u64> = m.stale_executions().iter().map(|s| s.cycle).collect();
        assert_eq!(outcome.per_core[1].stale_executions, reported.len() as u64);
        assert_eq!(
            outcome.per_core[0].stale_executions, 0,
            "the writer runs unmodified code"
        );
        for s in m.stale_executions() {
            assert_eq!((s.core, s.writer, s.ip), (1, 0, PATCH));
            assert_eq!(s.stale_disassembly(), "mov edi, 0x1");
            assert_eq!(s.current_disassembly(), "mov edi, 0x2");
            assert!(s.visible_at <= s.cycle, "{s}");
        }
        let expected = stale_cycles_from_trace(&m.take_trace());
        assert_eq!(reported, expected, "seed {seed}");
        stale_runs += usize::from(!reported.is_empty());
    }
    assert!(
        stale_runs > 0,
        "under Lazy the reader keeps running the old bytes for a while"
    );
}

#[test]
fn self_modifying_and_unmodified_code_is_never_stale() {
    let src = "mov ecx, 3\np: mov eax, 1\n add ebx, eax\n mov byte ptr [p + 1], 5\n\
               mov dword ptr [0x10000], ebx\n dec ecx\n jne p\n hlt";
    let program = isa::asm::assemble(src).expect("assembles");
    let mut memory = Memory::new();
    for s in &program.sections {
        memory.load_bytes(s.base, &s.bytes);
    }
    let entry = program.sections[0].base;
    let mut m = Machine::new(
        MachineConfig::default(),
        memory,
        vec![CoreInit {
            rip: entry,
            regs: [0; 16],
        }],
    );
    assert_eq!(m.run().stop, StopReason::AllHalted);
    assert_eq!(m.regs(0)[3], 11, "1 + 5 + 5: the patch took effect");
    assert!(
        m.stale_executions().is_empty(),
        "{:?}",
        m.stale_executions()
    );
}
