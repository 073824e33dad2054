//! Write the stage cycles of every instruction record in a `.synctrace` file as JSON,
//! straight from the records (no exporter involved): the reference that
//! `scripts/client-test` holds Konata's reading of our Kanata log to.
//!
//! `cargo run --release -p trace-format --example stage_cycles -- TRACE OUT.json`
//!
//! The output: `{"retired": N, "records": [...]}`, where `retired` is the machine's
//! own count (the metadata's `per_core[].retired`, summed) and each record, in the
//! Kanata log's order (fetch cycle, core, sequence number), is `{"core", "seq",
//! "squashed", "fetch", "decode", "rename", "issue", "complete", "retire",
//! "sb_enter", "sb_drain"}` with `null` for a stage never reached.

use std::process::ExitCode;

use serde_json::{Value, json};
use sim_core::machine::{InstRecord, Stage};
use trace_format::meta::TraceMeta;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [trace, out] = args.as_slice() else {
        eprintln!("usage: stage_cycles TRACE.synctrace OUT.json");
        return ExitCode::from(2);
    };
    match run(trace, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stage_cycles: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(trace: &str, out: &str) -> Result<(), Box<dyn std::error::Error>> {
    let file = trace_format::read_trace(std::fs::File::open(trace)?)?;
    let records = trace_format::kanata::records_in_log_order(&file.events);
    let meta = TraceMeta::parse(&file.header.metadata);
    let retired: u64 = meta.run["per_core"]
        .as_array()
        .ok_or("the trace's metadata has no per_core counters")?
        .iter()
        .filter_map(|core| core["retired"].as_u64())
        .sum();
    let records: Vec<Value> = records.into_iter().map(record).collect();
    let json = json!({ "retired": retired, "records": records });
    std::fs::write(out, serde_json::to_vec(&json)?)?;
    Ok(())
}

fn record(r: &InstRecord) -> Value {
    json!({
        "core": r.core,
        "seq": r.seq,
        "squashed": r.squashed,
        "fetch": r.fetch,
        "decode": r.at(Stage::Decode),
        "rename": r.at(Stage::Rename),
        "issue": r.at(Stage::Issue),
        "complete": r.at(Stage::Complete),
        "retire": r.at(Stage::Retire),
        "sb_enter": r.at(Stage::SbEnter),
        "sb_drain": r.at(Stage::SbDrain),
    })
}
