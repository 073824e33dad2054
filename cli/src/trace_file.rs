//! `synclab run --trace`: saving a machine run's trace, with metadata saying what was
//! run and how it went, as a `.synctrace` file (`trace-format`).

use std::path::Path;

use serde_json::json;
use sim_core::machine::{IfetchCoherence, Machine, RunOutcome, StopReason};
use trace_format::TraceHeader;

use crate::cmd_run::RunArgs;
use crate::diagnostics::CliError;

/// Write the trace `machine` recorded to `path`, and say so.
pub fn save(
    path: &Path,
    args: &RunArgs,
    machine: &mut Machine,
    outcome: &RunOutcome,
) -> Result<(), CliError> {
    let events = machine.take_trace();
    let header = TraceHeader {
        cores: u16::try_from(outcome.per_core.len()).unwrap_or(u16::MAX),
        seed: args.seed,
        metadata: metadata(args, outcome).to_string(),
    };
    let file = std::fs::File::create(path).map_err(|e| {
        CliError::bad_input(
            format!("cannot write the trace to {}: {e}", path.display()),
            "check that the directory exists and is writable",
        )
    })?;
    trace_format::write_trace(file, &header, &events).map_err(|e| {
        CliError::Failed(miette::miette!(
            "writing the trace to {} failed: {e}",
            path.display()
        ))
    })?;
    out!(
        "trace: {} events written to {} (view it: synclab export {} --to kanata|chrome)",
        events.len(),
        path.display(),
        path.display()
    );
    Ok(())
}

/// What was run and the run's summary, for viewers and for reproducing it.
fn metadata(args: &RunArgs, outcome: &RunOutcome) -> serde_json::Value {
    let stop = match &outcome.stop {
        StopReason::AllHalted => "all cores halted".to_string(),
        StopReason::CycleLimit => format!("--max-cycles {} reached", args.max_cycles),
        StopReason::Watchdog(report) => format!("watchdog: {report}"),
        StopReason::Fault { core, rip, message } => {
            format!("core {core}: fault at {rip:#x}: {message}")
        }
    };
    let per_core: Vec<serde_json::Value> = outcome
        .per_core
        .iter()
        .map(|c| {
            json!({
                "retired": c.retired,
                "cycles": c.cycles,
                "ipc": c.ipc,
                "mispredicts": c.mispredicts,
                "machine_clears": c.machine_clears,
                "squashed_uops": c.squashed_uops,
                "sb_full_stalls": c.sb_full_stalls,
                "serializations": c.serializations,
                "stale_executions": c.stale_executions,
            })
        })
        .collect();
    json!({
        "program": args.file.display().to_string(),
        "model": "ooo",
        "seed": args.seed,
        "jitter": args.jitter,
        "ifetch": ifetch_name(args.ifetch),
        "max_cycles": args.max_cycles,
        "cycles": outcome.cycles,
        "stop": stop,
        "per_core": per_core,
    })
}

/// The policy as `--ifetch` spells it.
fn ifetch_name(policy: IfetchCoherence) -> String {
    match policy {
        IfetchCoherence::Lazy => "lazy".to_string(),
        IfetchCoherence::Snoop => "snoop".to_string(),
        IfetchCoherence::Delayed { cycles } => format!("delayed:{cycles}"),
    }
}
