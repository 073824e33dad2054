//! The Kanata export tells the machine's story: every instruction's stages at the
//! cycles its record holds, retirement at the retire cycle, retire ids in each core's
//! program order, contracts by name; and it keeps the rules Konata relies on.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use sim_core::machine::{InstRecord, Stage, TraceEvent};
use trace_format::TraceHeader;
use trace_format::kanata::{records_in_log_order as records, write_kanata};

/// One instruction of a parsed Kanata log.
#[derive(Debug, Default)]
struct Op {
    seq: u64,
    thread: u64,
    /// Left-pane label (type 0) and mouse-over text (type 1).
    label: String,
    hover: String,
    /// Lane-0 stages: name, first cycle, cycle it ended.
    stages: Vec<(String, u64, u64)>,
    /// Cycle of its `R` command, retire id and whether it was flushed.
    end: u64,
    retire_id: u64,
    flushed: bool,
}

/// Parse `log`, checking the rules Konata relies on as it goes: the header, `C=` 0
/// first, time moving forward, ids assigned in order, commands only for live ids,
/// lane 0, one `R` per instruction.
fn parse(log: &str) -> Vec<Op> {
    let mut lines = log.lines();
    assert_eq!(lines.next(), Some("Kanata\t0004"));
    let mut cycle: Option<u64> = None;
    let mut ops: Vec<Op> = Vec::new();
    let mut live: BTreeSet<usize> = BTreeSet::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let num = |i: usize| f[i].parse::<u64>().unwrap_or_else(|_| panic!("{line}"));
        let now = || cycle.expect("C= first");
        let id = || num(1) as usize;
        if !matches!(f[0], "C=" | "C" | "I") {
            assert!(live.contains(&id()), "command for a dead id: {line}");
        }
        match f[0] {
            "C=" => {
                assert_eq!(cycle, None, "C= comes once, first");
                // Konata ignores `C=` and counts from 0: only 0 means the same to both.
                assert_eq!(num(1), 0, "{line}");
                cycle = Some(0);
            }
            "C" => {
                assert!(num(1) > 0, "time moves forward: {line}");
                cycle = Some(now() + num(1));
            }
            "I" => {
                assert_eq!(id(), ops.len(), "ids are assigned in order");
                assert_eq!(f.len(), 4, "{line}");
                live.insert(id());
                ops.push(Op {
                    seq: num(2),
                    thread: num(3),
                    ..Op::default()
                });
            }
            "L" => match f[2] {
                "0" => ops[id()].label.push_str(f[3]),
                "1" => ops[id()].hover.push_str(f[3]),
                other => panic!("label type {other}: {line}"),
            },
            "S" => {
                assert_eq!(f[2], "0", "lane 0: {line}");
                let t = now();
                let stages = &mut ops[id()].stages;
                if let Some(open) = stages.last_mut().filter(|s| s.2 == u64::MAX) {
                    open.2 = t;
                }
                stages.push((f[3].to_owned(), t, u64::MAX));
            }
            "E" => {
                assert_eq!(f[2], "0", "lane 0: {line}");
                let t = now();
                let open = ops[id()].stages.last_mut().expect("E after S");
                assert_eq!(open.0, f[3], "E closes the open stage: {line}");
                open.2 = t;
            }
            "R" => {
                assert!(live.remove(&id()), "retired once: {line}");
                let t = now();
                let op = &mut ops[id()];
                if let Some(open) = op.stages.last_mut().filter(|s| s.2 == u64::MAX) {
                    open.2 = t;
                }
                op.end = t;
                op.retire_id = num(2);
                op.flushed = match f[3] {
                    "0" => false,
                    "1" => true,
                    other => panic!("retire type {other}"),
                };
            }
            other => panic!("unknown command {other}: {line}"),
        }
    }
    assert!(live.is_empty(), "every instruction ends: {live:?}");
    ops
}

fn export(header: &TraceHeader, events: &[TraceEvent]) -> Vec<Op> {
    let mut out = Vec::new();
    write_kanata(&mut out, header, events).unwrap();
    parse(std::str::from_utf8(&out).unwrap())
}

fn is_store(r: &InstRecord) -> bool {
    !r.squashed && r.at(Stage::SbEnter).is_some()
}

/// What the log must say of `r`, straight from its record: each stage it reached
/// from its cycle until the next one's, ending where the instruction leaves the
/// pipeline: at retirement, a store's drain, or a squash.
fn expected_life(r: &InstRecord) -> (Vec<(String, u64, u64)>, u64) {
    let mut starts = vec![("F", r.fetch)];
    for (stage, name) in [
        (Stage::Decode, "D"),
        (Stage::Rename, "Rn"),
        (Stage::Issue, "Is"),
        (Stage::Complete, "Cm"),
        (Stage::SbEnter, "Sb"),
    ] {
        starts.extend(r.at(stage).map(|cycle| (name, cycle)));
    }
    starts.sort_by_key(|&(_, cycle)| cycle);
    let end = if is_store(r) {
        r.at(Stage::SbDrain)
    } else {
        r.at(Stage::Retire)
    }
    .expect("the record says when the instruction left");
    let ends = starts.iter().skip(1).map(|s| s.1).chain([end]);
    let stages = starts
        .iter()
        .zip(ends)
        .map(|(&(name, start), end)| (name.to_owned(), start, end))
        .collect();
    (stages, end)
}

#[test]
fn every_instruction_has_its_records_stages_and_ends_where_it_left() {
    for run in [common::xmc(), common::handoff()] {
        let ops = export(&run.header, &run.events);
        let records = records(&run.events);
        assert_eq!(ops.len(), records.len());
        for (op, r) in ops.iter().zip(&records) {
            let (stages, end) = expected_life(r);
            assert_eq!((op.thread, op.seq), (u64::from(r.core), r.seq));
            assert_eq!(op.stages, stages, "core {} seq {}", r.core, r.seq);
            assert_eq!(op.end, end, "core {} seq {}", r.core, r.seq);
            assert_eq!(op.flushed, r.squashed);
        }
        let retired = ops.iter().filter(|op| !op.flushed).count();
        let counted: u64 = run.outcome.per_core.iter().map(|c| c.retired).sum();
        assert_eq!(retired as u64, counted);
        let stale = ops.iter().filter(|op| op.label.contains("STALE")).count();
        assert_eq!(stale, run.stale_count);
    }
}

#[test]
fn an_instruction_retires_at_the_machines_retire_cycle() {
    // examples/xmc.s has no store on core 1: each of its instructions ends (`R`) in
    // the cycle the machine retired it, not one later.
    let run = common::xmc();
    let ops = export(&run.header, &run.events);
    let mut checked = 0;
    for (op, r) in ops.iter().zip(records(&run.events)) {
        if !r.squashed && !is_store(r) {
            assert_eq!(Some(op.end), r.at(Stage::Retire), "{}", op.label);
            checked += 1;
        }
    }
    assert!(checked > 10, "{checked}");
    // And no core's retirements in the log outlast its cycle count.
    for (core, stats) in run.outcome.per_core.iter().enumerate() {
        let last = ops
            .iter()
            .zip(records(&run.events))
            .filter(|(op, r)| op.thread == core as u64 && !r.squashed && !is_store(r))
            .map(|(op, _)| op.end)
            .max();
        assert!(last <= Some(stats.cycles), "core {core}: {last:?}");
    }
}

#[test]
fn a_store_shows_its_retirement_then_its_store_buffer_stage() {
    // `one_of_each` holds one store: F at 10, D 12, Rn 13, Is 14, Cm 15, retired and
    // into the store buffer at 16, drained at 30.
    let ops = export(&common::small_header(), &common::one_of_each());
    let store = &ops[0];
    let stages: Vec<(&str, u64, u64)> = store
        .stages
        .iter()
        .map(|(name, start, end)| (name.as_str(), *start, *end))
        .collect();
    assert_eq!(
        stages,
        [
            ("F", 10, 12),
            ("D", 12, 13),
            ("Rn", 13, 14),
            ("Is", 14, 15),
            ("Cm", 15, 16),
            ("Sb", 16, 30),
        ]
    );
    assert_eq!(store.end, 30, "the row ends when the store is visible");
    assert!(
        store.hover.contains("retired at cycle 16")
            && store.hover.contains("store visible at cycle 30"),
        "{}",
        store.hover
    );
}

#[test]
fn retire_ids_follow_each_cores_program_order() {
    for run in [common::xmc(), common::handoff()] {
        let ops = export(&run.header, &run.events);
        let retired: Vec<&Op> = ops.iter().filter(|op| !op.flushed).collect();
        // One id per retirement, 0..n, as Konata's "hide flushed ops" rows.
        let ids: BTreeSet<u64> = retired.iter().map(|op| op.retire_id).collect();
        assert_eq!(ids, (0..retired.len() as u64).collect());
        let mut by_core: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
        for op in &ops {
            by_core
                .entry(op.thread)
                .or_default()
                .push((op.seq, op.retire_id));
        }
        for (core, mut ids) in by_core {
            ids.sort_unstable();
            assert!(
                ids.windows(2).all(|w| w[0].1 <= w[1].1),
                "core {core}: retire ids out of program order: {ids:?}"
            );
        }
        // Across cores, ids follow the retire cycles.
        let mut by_id: Vec<(u64, u64)> = ops
            .iter()
            .zip(records(&run.events))
            .filter(|(op, _)| !op.flushed)
            .map(|(op, r)| (op.retire_id, r.at(Stage::Retire).unwrap()))
            .collect();
        by_id.sort_unstable();
        assert!(by_id.windows(2).all(|w| w[0].1 <= w[1].1));
    }
}

#[test]
fn a_flushed_instruction_takes_the_retire_id_its_place_would_have() {
    let run = common::handoff();
    let ops = export(&run.header, &run.events);
    let mut flushed = 0;
    for op in ops.iter().filter(|op| op.flushed) {
        let next = ops
            .iter()
            .filter(|o| !o.flushed && o.thread == op.thread && o.seq > op.seq)
            .map(|o| o.retire_id)
            .min();
        let retired = ops.iter().filter(|o| !o.flushed).count() as u64;
        assert_eq!(op.retire_id, next.unwrap_or(retired), "{}", op.label);
        flushed += 1;
    }
    assert!(flushed > 0);
}

#[test]
fn a_contract_violation_names_the_contract() {
    // one_of_each's violation is of contract 2 by core 1, seq 7: give it a record.
    let mut events = common::one_of_each();
    let mut victim = InstRecord::new(1, 7, 0x401000, &[0xbf, 1, 0, 0, 0], 80);
    victim.mark(Stage::Retire, 90);
    events.push(TraceEvent::Inst(victim));
    let ops = export(&common::named_header(), &events);
    let hover = &ops.iter().find(|op| op.seq == 7).unwrap().hover;
    assert!(
        hover.contains("violates contract \"membarrier(SYNC_CORE) returned\""),
        "{hover}"
    );
    // A trace whose recorder listed no contracts still says which one.
    let ops = export(&common::small_header(), &events);
    let hover = &ops.iter().find(|op| op.seq == 7).unwrap().hover;
    assert!(hover.contains("violates contract 2"), "{hover}");
}
