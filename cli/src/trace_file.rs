//! `synclab run --trace`: saving a run's trace, with metadata saying what was run
//! and how it went, as a `.synctrace` file (`trace-format`).

use std::path::Path;

use scenarios::scenario::{RunReport, describe_stop};
use serde_json::{Value, json};
use trace_format::TraceHeader;

use crate::diagnostics::CliError;
use crate::report_run::per_core_json;

/// Write the trace of `report` to `path`, and say so. `what` is a JSON object
/// naming what was run (program and flags, or scenario, variant); the seed and
/// the run's summary are added to it.
pub fn save(path: &Path, report: &RunReport, what: Value) -> Result<(), CliError> {
    let header = TraceHeader {
        cores: u16::try_from(report.per_core.len()).unwrap_or(u16::MAX),
        seed: report.seed,
        metadata: metadata(report, what).to_string(),
    };
    let file = std::fs::File::create(path).map_err(|e| {
        CliError::bad_input(
            format!("cannot write the trace to {}: {e}", path.display()),
            "check that the directory exists and is writable",
        )
    })?;
    trace_format::write_trace(file, &header, &report.trace).map_err(|e| {
        CliError::Failed(miette::miette!(
            "writing the trace to {} failed: {e}",
            path.display()
        ))
    })?;
    // Keep standard output clean for a JSON report: this note goes to stderr.
    eprintln!(
        "trace: {} events written to {} (view it: synclab export {} --to kanata|chrome)",
        report.trace.len(),
        path.display(),
        path.display()
    );
    Ok(())
}

/// `what` plus the seed, the contract names (events carry their index) and the
/// run's summary, for viewers and for reproducing it.
fn metadata(report: &RunReport, what: Value) -> Value {
    let mut metadata = match what {
        Value::Object(fields) => fields,
        other => [("input".to_string(), other)].into_iter().collect(),
    };
    let summary = json!({
        "seed": report.seed,
        "contracts": report.contracts,
        "cycles": report.cycles,
        "stop": describe_stop(&report.stop, report.cycles),
        "per_core": report.per_core.iter().map(per_core_json).collect::<Vec<_>>(),
    });
    if let Value::Object(fields) = summary {
        metadata.extend(fields);
    }
    Value::Object(metadata)
}
