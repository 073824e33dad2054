//! The exports agree with the run's own counters, and keep their formats' rules.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sim_core::machine::{Stage, TraceEvent};
use trace_format::chrome::write_chrome;

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
    assert_eq!(
        violation["contract"], "contract 2",
        "no names in the metadata"
    );
    assert_eq!(violation["executed"], "mov edi, 0x1");
}

#[test]
fn chrome_contracts_appear_by_name() {
    let mut out = Vec::new();
    write_chrome(&mut out, &common::named_header(), &common::one_of_each()).unwrap();
    let json: Value = serde_json::from_slice(&out).unwrap();
    for kind in ["contract violation", "sync point"] {
        let args = &instants(&json, kind)[0]["args"];
        assert_eq!(args["contract"], "membarrier(SYNC_CORE) returned", "{kind}");
        assert_eq!(args["contract_index"], 2, "{kind}");
    }
}

#[test]
fn chrome_time_unit_agrees_with_cycles_written_as_microseconds() {
    let json = chrome(&common::xmc());
    // `ts` is in microseconds, one per cycle; "ns" would show cycle 120 as 120 000 ns.
    assert_ne!(json.get("displayTimeUnit"), Some(&Value::from("ns")));
    let unit = json["otherData"]["time_unit"].as_str().unwrap();
    assert!(unit.contains("1 us") && unit.contains("1 cycle"), "{unit}");
}

#[test]
fn chrome_every_core_has_a_store_buffer_counter() {
    // In examples/xmc.s core 1 never stores: its counter is there, at zero.
    let run = common::xmc();
    let json = chrome(&run);
    for core in 0..run.header.cores {
        let levels: Vec<i64> = with_ph(&json, "C")
            .into_iter()
            .filter(|e| e["name"] == format!("core {core} store buffer"))
            .map(|e| e["args"]["stores"].as_i64().unwrap())
            .collect();
        assert!(!levels.is_empty(), "core {core} has no counter");
        if core == 1 {
            assert!(levels.iter().all(|&l| l == 0), "{levels:?}");
        }
    }
}

#[test]
fn chrome_pipeline_threads_are_as_few_as_overlapping_instructions_need() {
    for run in [common::xmc(), common::handoff()] {
        let json = chrome(&run);
        for core in 0..run.header.cores {
            // The most retired instructions of this core in flight (fetch to
            // retirement) at one cycle, from the records.
            let mut edges: Vec<(u64, i64)> = run
                .events
                .iter()
                .filter_map(|e| match e {
                    TraceEvent::Inst(r) if r.core == core && !r.squashed => Some(r),
                    _ => None,
                })
                .flat_map(|r| [(r.fetch, 1), (r.at(Stage::Retire).unwrap(), -1)])
                .collect();
            edges.sort_unstable();
            let mut in_flight = 0;
            let mut most = 0;
            for (_, delta) in edges {
                in_flight += delta;
                most = most.max(in_flight);
            }
            let prefix = format!("core {core} pipeline ");
            let threads = with_ph(&json, "M")
                .into_iter()
                .filter(|e| e["name"] == "thread_name")
                .filter(|e| e["args"]["name"].as_str().unwrap().starts_with(&prefix))
                .count();
            assert_eq!(threads as i64, most, "core {core}");
        }
    }
}
