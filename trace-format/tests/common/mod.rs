//! Traces for the tests: real runs of example programs, and one event of every kind.

#![allow(dead_code)] // each test file uses part of this module

use std::path::Path;

use isa::uop::FenceKind;
use sim_core::machine::{
    ClearReason, IfetchCoherence, InstRecord, MachineConfig, MemConfig, MemEvent, RunOutcome,
    SerializeReason, Stage, StaleExecution, StopReason, TraceEvent,
};
use trace_format::TraceHeader;

/// A traced run: what the machine reported and its own counters.
pub struct Recorded {
    pub header: TraceHeader,
    pub events: Vec<TraceEvent>,
    pub outcome: RunOutcome,
    /// `Machine::stale_executions().len()`, recorded with or without tracing.
    pub stale_count: usize,
}

/// Run `source` on the out-of-order machine with tracing on.
pub fn record(name: &str, source: &str, ifetch: IfetchCoherence) -> Recorded {
    let program = isa::asm::assemble(source).unwrap_or_else(|e| panic!("{name}: {e}"));
    let loaded = scenarios::program::load(&program).unwrap();
    let cores = loaded.cores.len() as u16;
    let mut machine = loaded.into_machine(MachineConfig {
        mem: MemConfig {
            ifetch_coherence: ifetch,
            ..MemConfig::default()
        },
        seed: 3,
        trace: true,
        ..MachineConfig::default()
    });
    let outcome = machine.run();
    assert_eq!(outcome.stop, StopReason::AllHalted, "{name}");
    Recorded {
        header: TraceHeader {
            cores,
            seed: 3,
            metadata: format!(r#"{{"program":"{name}"}}"#),
        },
        events: machine.take_trace(),
        stale_count: machine.stale_executions().len(),
        outcome,
    }
}

/// `examples/xmc.s` with lazy instruction fetch: it executes stale code.
pub fn xmc() -> Recorded {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/xmc.s");
    let source = std::fs::read_to_string(path).expect("examples/xmc.s");
    let run = record("examples/xmc.s", &source, IfetchCoherence::Lazy);
    assert!(run.stale_count > 0, "xmc.s must execute stale code");
    run
}

/// Two cores passing a flag through memory, with a fence and serializing
/// instructions: store-buffer traffic, fence stalls and serializations.
pub fn handoff() -> Recorded {
    let source = "
        core0:
            mov ecx, 20
        .Lwrite:
            mov dword ptr [rip+data], ecx
            mov dword ptr [rip+data+64], ecx
            mfence
            dec ecx
            jnz .Lwrite
            mov dword ptr [rip+flag], 1
            cpuid
            hlt
        core1:
        .Lwait:
            mov eax, dword ptr [rip+flag]
            test eax, eax
            jz .Lwait
            cpuid
            mov ebx, dword ptr [rip+data]
            serialize
            hlt
        .data
        flag: .long 0
        .align 64
        data: .zero 128
    ";
    let run = record("handoff", source, IfetchCoherence::Snoop);
    let serializations: u64 = run.outcome.per_core.iter().map(|c| c.serializations).sum();
    assert!(serializations >= 3, "{serializations}");
    run
}

/// Which variant an event is. Adding a variant makes this match (and so the test
/// that every variant round-trips) fail to compile until it is listed.
pub fn variant(e: &TraceEvent) -> usize {
    match e {
        TraceEvent::Inst(_) => 0,
        TraceEvent::MachineClear { .. } => 1,
        TraceEvent::Mispredict { .. } => 2,
        TraceEvent::SbFull { .. } => 3,
        TraceEvent::FenceStall { .. } => 4,
        TraceEvent::StaleExecution(_) => 5,
        TraceEvent::Serialize { .. } => 6,
        TraceEvent::IpiSent { .. } => 7,
        TraceEvent::InterruptTaken { .. } => 8,
        TraceEvent::Exception { .. } => 9,
        TraceEvent::PrivilegeChange { .. } => 10,
        TraceEvent::Sleep { .. } => 11,
        TraceEvent::SyncPoint { .. } => 12,
        TraceEvent::ContractViolation { .. } => 13,
        TraceEvent::StoreBuffered(_) => 14,
        TraceEvent::StoreVisible { .. } => 15,
        TraceEvent::LoadRetired(_) => 16,
        TraceEvent::Syscall { .. } => 17,
    }
}

/// Number of variants [`variant`] knows.
pub const VARIANTS: usize = 18;

/// The store of [`one_of_each`]'s store instruction, at `cycle`.
fn store_access(cycle: u64) -> MemEvent {
    MemEvent {
        core: 0,
        cycle,
        inst_seq: 4,
        addr: 0x600000,
        width: 4,
        value: 0xdead_beef,
    }
}

/// A stale execution of `mov edi, 1` where memory holds `mov edi, 2`.
pub fn stale_mov() -> StaleExecution {
    let mut stale = [0; 15];
    stale[..5].copy_from_slice(&[0xbf, 1, 0, 0, 0]);
    let mut current = stale;
    current[1] = 2;
    StaleExecution {
        core: 1,
        ip: 0x401000,
        cycle: 90,
        inst_seq: 7,
        len: 5,
        stale,
        current,
        writer: 0,
        visible_at: 60,
        serialized_at: 20,
    }
}

/// One event of every variant, on two cores.
pub fn one_of_each() -> Vec<TraceEvent> {
    let mut store = InstRecord::new(0, 4, 0x401000, &[0x89, 0x07], 10);
    for (stage, cycle) in [
        (Stage::Decode, 12),
        (Stage::Rename, 13),
        (Stage::Issue, 14),
        (Stage::Complete, 15),
        (Stage::Retire, 16),
        (Stage::SbEnter, 16),
        (Stage::SbDrain, 30),
    ] {
        store.mark(stage, cycle);
    }
    let events = vec![
        TraceEvent::Inst(store),
        TraceEvent::MachineClear {
            core: 1,
            cycle: 20,
            inst_seq: 9,
            reason: ClearReason::MemoryOrdering {
                line: 0x600040,
                by_core: 0,
            },
        },
        TraceEvent::Mispredict {
            core: 0,
            cycle: 21,
            inst_seq: 5,
            ip: 0x401002,
        },
        TraceEvent::SbFull { core: 0, cycle: 22 },
        TraceEvent::FenceStall {
            core: 0,
            cycle: 23,
            inst_seq: 6,
            kind: FenceKind::Sfence,
        },
        TraceEvent::StaleExecution(stale_mov()),
        TraceEvent::Serialize {
            core: 1,
            cycle: 25,
            inst_seq: 8,
            reason: SerializeReason::Wrmsr(0xc000_0080),
        },
        TraceEvent::IpiSent {
            core: 0,
            cycle: 26,
            to: 1,
            vector: 0xf0,
            arrives: 66,
        },
        TraceEvent::InterruptTaken {
            core: 1,
            cycle: 66,
            vector: 0xf0,
            ip: 0x401010,
            woke: true,
        },
        TraceEvent::Exception {
            core: 1,
            cycle: 70,
            vector: 13,
            ip: 0x401020,
        },
        TraceEvent::PrivilegeChange {
            core: 1,
            cycle: 71,
            cpl: 3,
            ip: 0x402000,
        },
        TraceEvent::Sleep { core: 0, cycle: 72 },
        TraceEvent::SyncPoint {
            core: 1,
            cycle: 73,
            contract: 2,
        },
        TraceEvent::ContractViolation {
            contract: 2,
            stale: stale_mov(),
        },
        TraceEvent::StoreBuffered(store_access(16)),
        TraceEvent::StoreVisible {
            store: store_access(30),
            buffered: true,
        },
        TraceEvent::LoadRetired(MemEvent {
            core: 1,
            cycle: 74,
            inst_seq: 10,
            addr: 0x600000,
            width: 8,
            value: 0xdead_beef,
        }),
        TraceEvent::Syscall {
            core: 1,
            cycle: 75,
            inst_seq: 11,
            ip: 0x401030,
            number: 324,
            args: [32, 0, 0],
        },
    ];
    let mut seen: Vec<usize> = events.iter().map(variant).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), VARIANTS, "one_of_each must list every variant");
    events
}

/// The header used with [`one_of_each`].
pub fn small_header() -> TraceHeader {
    TraceHeader {
        cores: 2,
        seed: 42,
        metadata: r#"{"scenario":"all events","ünïcode":true}"#.into(),
    }
}

/// [`small_header`] with the contract names a recorder lists in the metadata: index
/// 2, the one [`one_of_each`] breaks, is the seed scenario's.
pub fn named_header() -> TraceHeader {
    TraceHeader {
        metadata:
            r#"{"scenario":"all events","contracts":["a","b","membarrier(SYNC_CORE) returned"]}"#
                .into(),
        ..small_header()
    }
}
