//! Writing a trace and reading it back gives the same header and events.

mod common;

use isa::uop::FenceKind;
use proptest::prelude::*;
use sim_core::machine::{
    ClearReason, InstRecord, MemEvent, SerializeReason, Stage, StaleExecution, TraceEvent,
};
use trace_format::{TraceFile, TraceHeader, read_trace, write_trace};

fn round_trip(header: &TraceHeader, events: &[TraceEvent]) -> TraceFile {
    let mut bytes = Vec::new();
    write_trace(&mut bytes, header, events).expect("writing to memory");
    read_trace(bytes.as_slice()).expect("reading back what was written")
}

#[test]
fn a_real_run_round_trips() {
    for run in [common::xmc(), common::handoff()] {
        let kinds: std::collections::BTreeSet<usize> =
            run.events.iter().map(common::variant).collect();
        assert!(
            kinds.len() >= 3,
            "a run reports several kinds of event: {kinds:?}"
        );
        let file = round_trip(&run.header, &run.events);
        assert_eq!(file.header, run.header);
        assert_eq!(file.events, run.events);
    }
}

#[test]
fn the_xmc_trace_holds_its_stale_executions() {
    let run = common::xmc();
    let file = round_trip(&run.header, &run.events);
    let stale = file
        .events
        .iter()
        .filter(|e| matches!(e, TraceEvent::StaleExecution(_)))
        .count();
    assert_eq!(stale, run.stale_count);
}

#[test]
fn one_event_of_every_kind_round_trips() {
    let events = common::one_of_each();
    let file = round_trip(&common::small_header(), &events);
    assert_eq!(file.events, events);
    assert_eq!(file.header, common::small_header());
}

#[test]
fn an_empty_trace_round_trips() {
    let file = round_trip(&TraceHeader::default(), &[]);
    assert_eq!(file, TraceFile::default());
}

fn arb_stale() -> impl Strategy<Value = StaleExecution> {
    (
        any::<u16>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        0u8..=15,
        any::<[u8; 15]>(),
        any::<[u8; 15]>(),
        any::<u16>(),
        (any::<u64>(), any::<u64>()),
    )
        .prop_map(
            |(
                core,
                ip,
                cycle,
                inst_seq,
                len,
                stale,
                current,
                writer,
                (visible_at, serialized_at),
            )| {
                StaleExecution {
                    core,
                    ip,
                    cycle,
                    inst_seq,
                    len,
                    stale,
                    current,
                    writer,
                    visible_at,
                    serialized_at,
                }
            },
        )
}

fn arb_inst() -> impl Strategy<Value = InstRecord> {
    (
        any::<u16>(),
        0u8..=15,
        any::<bool>(),
        any::<[u8; 15]>(),
        any::<u64>(),
        any::<u64>(),
        0..=u64::MAX - u64::from(u32::MAX),
        any::<[u32; Stage::COUNT]>(),
    )
        .prop_map(
            |(core, len, squashed, bytes, seq, ip, fetch, stages)| InstRecord {
                core,
                len,
                squashed,
                bytes,
                seq,
                ip,
                fetch,
                stages,
            },
        )
}

fn arb_serialize_reason() -> impl Strategy<Value = SerializeReason> {
    prop_oneof![
        Just(SerializeReason::Cpuid),
        Just(SerializeReason::Serialize),
        Just(SerializeReason::Iret),
        any::<u8>().prop_map(SerializeReason::MovToCr),
        any::<u8>().prop_map(SerializeReason::MovToDr),
        any::<u32>().prop_map(SerializeReason::Wrmsr),
        Just(SerializeReason::Invlpg),
        Just(SerializeReason::Wbinvd),
        Just(SerializeReason::Invd),
        Just(SerializeReason::DescriptorLoad),
        Just(SerializeReason::PtiCr3Switch),
        Just(SerializeReason::InterruptDelivery),
    ]
}

fn arb_clear_reason() -> impl Strategy<Value = ClearReason> {
    prop_oneof![
        (any::<u64>(), any::<u16>())
            .prop_map(|(line, by_core)| ClearReason::MemoryOrdering { line, by_core }),
        any::<u64>().prop_map(|addr| ClearReason::SelfModifyingCode { addr }),
    ]
}

fn arb_fence() -> impl Strategy<Value = FenceKind> {
    prop_oneof![
        Just(FenceKind::Mfence),
        Just(FenceKind::Lfence),
        Just(FenceKind::Sfence),
    ]
}

/// Any event of any variant (keep in step with `common::variant`).
fn arb_event() -> impl Strategy<Value = TraceEvent> {
    let (c, t) = (any::<u16>(), any::<u64>());
    prop_oneof![
        arb_inst().prop_map(TraceEvent::Inst),
        (c, t, any::<u64>(), arb_clear_reason()).prop_map(|(core, cycle, inst_seq, reason)| {
            TraceEvent::MachineClear {
                core,
                cycle,
                inst_seq,
                reason,
            }
        }),
        (c, t, any::<u64>(), any::<u64>()).prop_map(|(core, cycle, inst_seq, ip)| {
            TraceEvent::Mispredict {
                core,
                cycle,
                inst_seq,
                ip,
            }
        }),
        (c, t).prop_map(|(core, cycle)| TraceEvent::SbFull { core, cycle }),
        (c, t, any::<u64>(), arb_fence()).prop_map(|(core, cycle, inst_seq, kind)| {
            TraceEvent::FenceStall {
                core,
                cycle,
                inst_seq,
                kind,
            }
        }),
        arb_stale().prop_map(TraceEvent::StaleExecution),
        (c, t, any::<u64>(), arb_serialize_reason()).prop_map(|(core, cycle, inst_seq, reason)| {
            TraceEvent::Serialize {
                core,
                cycle,
                inst_seq,
                reason,
            }
        }),
        (c, t, any::<u16>(), any::<u8>(), any::<u64>()).prop_map(
            |(core, cycle, to, vector, arrives)| TraceEvent::IpiSent {
                core,
                cycle,
                to,
                vector,
                arrives
            }
        ),
        (c, t, any::<u8>(), any::<u64>(), any::<bool>()).prop_map(
            |(core, cycle, vector, ip, woke)| TraceEvent::InterruptTaken {
                core,
                cycle,
                vector,
                ip,
                woke
            }
        ),
        (c, t, any::<u8>(), any::<u64>()).prop_map(|(core, cycle, vector, ip)| {
            TraceEvent::Exception {
                core,
                cycle,
                vector,
                ip,
            }
        }),
        (c, t, any::<u8>(), any::<u64>()).prop_map(|(core, cycle, cpl, ip)| {
            TraceEvent::PrivilegeChange {
                core,
                cycle,
                cpl,
                ip,
            }
        }),
        (c, t).prop_map(|(core, cycle)| TraceEvent::Sleep { core, cycle }),
        (c, t, any::<u16>()).prop_map(|(core, cycle, contract)| TraceEvent::SyncPoint {
            core,
            cycle,
            contract
        }),
        (any::<u16>(), arb_stale())
            .prop_map(|(contract, stale)| TraceEvent::ContractViolation { contract, stale }),
        arb_mem().prop_map(TraceEvent::StoreBuffered),
        (arb_mem(), any::<bool>())
            .prop_map(|(store, buffered)| TraceEvent::StoreVisible { store, buffered }),
        arb_mem().prop_map(TraceEvent::LoadRetired),
        (
            c,
            t,
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<[u64; 3]>()
        )
            .prop_map(
                |(core, cycle, inst_seq, ip, number, args)| TraceEvent::Syscall {
                    core,
                    cycle,
                    inst_seq,
                    ip,
                    number,
                    args
                }
            ),
    ]
}

/// Any data access (widths 1, 2, 4, 8).
fn arb_mem() -> impl Strategy<Value = MemEvent> {
    (
        any::<(u16, u64, u64, u64, u64)>(),
        prop_oneof![Just(1u8), Just(2), Just(4), Just(8)],
    )
        .prop_map(|((core, cycle, inst_seq, addr, value), width)| MemEvent {
            core,
            cycle,
            inst_seq,
            addr,
            width,
            value,
        })
}

proptest! {
    #[test]
    fn arbitrary_events_round_trip(
        events in proptest::collection::vec(arb_event(), 0..64),
        cores in any::<u16>(),
        seed in any::<u64>(),
        metadata in ".{0,40}",
    ) {
        let header = TraceHeader { cores, seed, metadata };
        let file = round_trip(&header, &events);
        prop_assert_eq!(file.header, header);
        prop_assert_eq!(file.events, events);
    }
}

#[test]
fn each_record_has_the_size_docs_trace_format_md_gives() {
    // Tag order of `common::variant`; sizes include the tag byte.
    const SIZES: [usize; common::VARIANTS] = [
        72, 30, 27, 11, 20, 76, 24, 22, 21, 20, 20, 11, 13, 78, 36, 37, 36, 59,
    ];
    let header = TraceHeader::default();
    let mut empty = Vec::new();
    write_trace(&mut empty, &header, &[]).unwrap();
    assert_eq!(empty.len(), 34, "fixed header");
    for event in common::one_of_each() {
        let mut bytes = Vec::new();
        write_trace(&mut bytes, &header, &[event]).unwrap();
        assert_eq!(
            bytes.len() - empty.len(),
            SIZES[common::variant(&event)],
            "{event:?}"
        );
        assert_eq!(
            bytes[empty.len()] as usize,
            common::variant(&event) + 1,
            "tag of {event:?}"
        );
    }
}
