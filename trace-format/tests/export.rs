//! The exports agree with the run's own counters, and keep their formats' rules.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sim_core::machine::TraceEvent;
use trace_format::chrome::write_chrome;
use trace_format::kanata::write_kanata;

use common::Recorded;

fn chrome(run: &Recorded) -> Value {
    let mut out = Vec::new();
    write_chrome(&mut out, &run.header, &run.events).unwrap();
    serde_json::from_slice(&out).expect("the export is JSON")
}

fn total(run: &Recorded, counter: impl Fn(&sim_core::machine::CoreStats) -> u64) -> usize {
    run.outcome.per_core.iter().map(counter).sum::<u64>() as usize
}

fn with_ph<'a>(json: &'a Value, ph: &str) -> Vec<&'a Value> {
    json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == ph)
        .collect()
}

fn instants<'a>(json: &'a Value, name: &str) -> Vec<&'a Value> {
    with_ph(json, "i")
        .into_iter()
        .filter(|e| e["name"] == name)
        .collect()
}

#[test]
fn chrome_export_counts_match_the_runs_counters() {
    for run in [common::xmc(), common::handoff()] {
        let json = chrome(&run);
        assert_eq!(
            with_ph(&json, "X").len(),
            total(&run, |c| c.retired),
            "one slice per retired instruction"
        );
        assert_eq!(instants(&json, "stale execution").len(), run.stale_count);
        assert_eq!(
            instants(&json, "stale execution").len(),
            total(&run, |c| c.stale_executions)
        );
        assert_eq!(
            instants(&json, "serialize").len(),
            total(&run, |c| c.serializations)
        );
        assert_eq!(
            instants(&json, "machine clear").len(),
            total(&run, |c| c.machine_clears)
        );
        assert_eq!(
            instants(&json, "mispredict").len(),
            total(&run, |c| c.mispredicts)
        );
        assert_eq!(
            instants(&json, "store buffer full").len(),
            total(&run, |c| c.sb_full_stalls)
        );
        assert_eq!(json["otherData"]["seed"], run.header.seed);
        assert!(
            json["otherData"]["time_unit"]
                .as_str()
                .unwrap()
                .contains("cycles"),
            "says what the time unit is"
        );
        assert_eq!(
            json["otherData"]["metadata"]["program"],
            serde_json::from_str::<Value>(&run.header.metadata).unwrap()["program"]
        );
    }
}

#[test]
fn chrome_stale_instants_carry_both_disassemblies_and_the_writer() {
    let run = common::xmc();
    let json = chrome(&run);
    let stale = instants(&json, "stale execution");
    assert!(!stale.is_empty());
    for s in stale {
        let args = &s["args"];
        // xmc.s: core 0 rewrites `mov edi, 1` into `mov edi, 2`, core 1 runs it.
        assert_eq!(args["executed"], "mov edi, 0x1");
        assert_eq!(args["memory"], "mov edi, 0x2");
        assert_eq!(args["writer_core"], 0);
        assert_eq!(s["tid"], thread_named(&json, "core 1"));
    }
    let handoff = chrome(&common::handoff());
    let serialize = instants(&handoff, "serialize");
    assert!(serialize.iter().any(|e| e["args"]["reason"] == "cpuid"));
    assert!(serialize.iter().any(|e| e["args"]["reason"] == "serialize"));
}

fn thread_named(json: &Value, name: &str) -> Value {
    with_ph(json, "M")
        .into_iter()
        .find(|e| e["name"] == "thread_name" && e["args"]["name"] == name)
        .unwrap_or_else(|| panic!("no thread {name}"))["tid"]
        .clone()
}

#[test]
fn chrome_slices_of_one_thread_never_overlap_and_sit_on_their_core() {
    let run = common::handoff();
    let json = chrome(&run);
    let names: BTreeMap<u64, String> = with_ph(&json, "M")
        .into_iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut by_tid: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    for x in with_ph(&json, "X") {
        let tid = x["tid"].as_u64().unwrap();
        by_tid
            .entry(tid)
            .or_default()
            .push((x["ts"].as_u64().unwrap(), x["dur"].as_u64().unwrap()));
    }
    let mut pipelines_per_core: BTreeMap<&str, usize> = BTreeMap::new();
    for (tid, mut slices) in by_tid {
        let name = &names[&tid];
        let core = name.split(" pipeline ").next().unwrap();
        assert!(
            name.starts_with("core ") && name.contains(" pipeline "),
            "{name}"
        );
        *pipelines_per_core.entry(core).or_default() += 1;
        slices.sort_unstable();
        for pair in slices.windows(2) {
            assert!(
                pair[0].0 + pair[0].1 <= pair[1].0,
                "{name}: {pair:?} overlap"
            );
        }
    }
    // A pipelined core has several instructions in flight, so needs several threads.
    assert!(
        pipelines_per_core.values().all(|&n| n > 1),
        "{pipelines_per_core:?}"
    );
}

#[test]
fn chrome_store_buffer_counter_returns_to_zero() {
    let run = common::handoff();
    let json = chrome(&run);
    let counter: Vec<&Value> = with_ph(&json, "C")
        .into_iter()
        .filter(|e| e["name"] == "core 0 store buffer")
        .collect();
    let levels: Vec<i64> = counter
        .iter()
        .map(|e| e["args"]["stores"].as_i64().unwrap())
        .collect();
    assert!(levels.iter().all(|&l| l >= 0), "{levels:?}");
    assert!(levels.iter().any(|&l| l > 0), "core 0 stores: {levels:?}");
    assert_eq!(
        levels.last(),
        Some(&0),
        "every store drained before the run ended"
    );
    let ts: Vec<u64> = counter.iter().map(|e| e["ts"].as_u64().unwrap()).collect();
    assert!(
        ts.windows(2).all(|w| w[0] < w[1]),
        "one sample per cycle, in order"
    );
}

#[test]
fn chrome_export_has_an_instant_for_every_other_event_kind() {
    let events = common::one_of_each();
    let mut out = Vec::new();
    write_chrome(&mut out, &common::small_header(), &events).unwrap();
    let json: Value = serde_json::from_slice(&out).unwrap();
    let names: BTreeSet<&str> = with_ph(&json, "i")
        .into_iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    // Data accesses have no instants (the store-buffer counter shows them).
    let others = events
        .iter()
        .filter(|e| {
            !matches!(
                e,
                TraceEvent::Inst(_)
                    | TraceEvent::StoreBuffered(_)
                    | TraceEvent::StoreVisible { .. }
                    | TraceEvent::LoadRetired(_)
            )
        })
        .count();
    assert_eq!(names.len(), others, "{names:?}");
    let ipi = &instants(&json, "IPI sent")[0]["args"];
    assert_eq!(
        (ipi["to_core"].as_u64(), ipi["arrives"].as_u64()),
        (Some(1), Some(66))
    );
    let violation = &instants(&json, "contract violation")[0]["args"];
    assert_eq!(violation["contract"], 2);
    assert_eq!(violation["executed"], "mov edi, 0x1");
}

/// A parsed Kanata log.
#[derive(Default)]
struct Kanata {
    started: usize,
    retired: usize,
    flushed: usize,
    stale_labels: usize,
}

/// Parse `log`, checking the rules Konata relies on as it goes.
fn parse_kanata(log: &str) -> Kanata {
    let mut lines = log.lines();
    assert_eq!(lines.next(), Some("Kanata\t0004"));
    let mut k = Kanata::default();
    let mut cycle: Option<u64> = None;
    let mut live: BTreeSet<u64> = BTreeSet::new();
    let mut next_retire_id = 0;
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let num = |i: usize| f[i].parse::<u64>().unwrap_or_else(|_| panic!("{line}"));
        match f[0] {
            "C=" => {
                assert_eq!(cycle, None, "C= comes once, first");
                // Konata ignores `C=` and counts from 0: only 0 means the same to both.
                assert_eq!(num(1), 0, "{line}");
                cycle = Some(0);
            }
            "C" => {
                assert!(num(1) > 0, "time moves forward: {line}");
                cycle = Some(cycle.expect("C= first") + num(1));
            }
            "I" => {
                assert_eq!(num(1), k.started as u64, "ids are assigned in order");
                assert_eq!(f.len(), 4, "{line}");
                live.insert(num(1));
                k.started += 1;
            }
            "L" => {
                assert!(live.contains(&num(1)), "{line}");
                if f[2] == "0" && f[3].contains("STALE") {
                    k.stale_labels += 1;
                }
            }
            "S" | "E" => {
                assert!(live.contains(&num(1)), "{line}");
                assert_eq!(f[2], "0", "lane 0");
                assert!(
                    ["F", "D", "Rn", "Is", "Cm", "Rt", "Sb"].contains(&f[3]),
                    "{line}"
                );
            }
            "R" => {
                assert!(live.remove(&num(1)), "retired once: {line}");
                match f[3] {
                    "0" => {
                        assert_eq!(num(2), next_retire_id, "retire ids count up");
                        next_retire_id += 1;
                        k.retired += 1;
                    }
                    "1" => k.flushed += 1,
                    other => panic!("retire type {other}"),
                }
            }
            other => panic!("unknown command {other}: {line}"),
        }
    }
    assert!(live.is_empty(), "every instruction ends: {live:?}");
    k
}

#[test]
fn kanata_log_has_one_instruction_per_record_and_matching_retirements() {
    for run in [common::xmc(), common::handoff()] {
        let mut out = Vec::new();
        write_kanata(&mut out, &run.events).unwrap();
        let k = parse_kanata(std::str::from_utf8(&out).unwrap());
        let records: Vec<bool> = run
            .events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Inst(r) => Some(r.squashed),
                _ => None,
            })
            .collect();
        assert_eq!(k.started, records.len());
        assert_eq!(k.retired, total(&run, |c| c.retired));
        assert_eq!(k.flushed, records.iter().filter(|&&s| s).count());
        assert_eq!(k.stale_labels, run.stale_count);
    }
}

#[test]
fn kanata_stages_follow_the_record() {
    // `one_of_each` holds one store: F at 10, D 12, Rn 13, Is 14, Cm 15, Rt and Sb
    // at 16, drained at 30.
    let mut out = Vec::new();
    write_kanata(&mut out, &common::one_of_each()).unwrap();
    let log = String::from_utf8(out).unwrap();
    let mut cycle = 0;
    let mut starts = Vec::new();
    let mut end = None;
    for line in log.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "C=" => cycle = f[1].parse().unwrap(),
            "C" => cycle += f[1].parse::<u64>().unwrap(),
            "S" => starts.push((f[3].to_owned(), cycle)),
            "R" => end = Some(cycle),
            _ => {}
        }
    }
    let expected = [
        ("F", 10),
        ("D", 12),
        ("Rn", 13),
        ("Is", 14),
        ("Cm", 15),
        ("Rt", 16),
        ("Sb", 16),
    ];
    let expected: Vec<(String, u64)> = expected.iter().map(|&(s, c)| (s.to_owned(), c)).collect();
    assert_eq!(starts, expected);
    assert_eq!(end, Some(30));
}
