//! `synclab litmus`: run herd7 litmus tests many times and compare the final states
//! with x86-TSO: herd7's verdict is taken from the nearest `verdicts.json` in a
//! directory above each test file, keyed by the file's path relative to it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use scenarios::litmus::{self, LitmusError, LitmusExecutor, MachineExecutor, ScExecutor};

use crate::Format;
use crate::diagnostics::{CliError, SourceError};

/// Which machine runs the tests.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LitmusModel {
    /// The out-of-order multicore machine with store buffers and timing jitter.
    Ooo,
    /// Sequentially consistent interleaving of the reference interpreter: never
    /// shows x86-TSO's relaxed outcomes; a check of the translation itself.
    Sc,
}

/// Arguments of `synclab litmus`.
#[derive(Args, Debug)]
pub struct LitmusArgs {
    /// herd7 x86 litmus files (`X86` Intel syntax or `X86_64` AT&T syntax).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Runs per test, each with its own seed (run i uses seed S+i), in parallel.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub runs: usize,
    /// First seed.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,
    /// Report format: `text`, a herd7-like histogram per test; `json`, one object
    /// per test in a JSON array.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Execution model.
    #[arg(long, value_enum, default_value_t = LitmusModel::Ooo)]
    pub model: LitmusModel,
}

/// Run `synclab litmus`. Exits 1 when a run shows a state x86-TSO forbids or fails.
pub fn run(args: &LitmusArgs) -> Result<ExitCode, CliError> {
    let ooo = MachineExecutor::default();
    let sc = ScExecutor::default();
    let executor: &dyn LitmusExecutor = match args.model {
        LitmusModel::Ooo => &ooo,
        LitmusModel::Sc => &sc,
    };
    let mut reports = Vec::new();
    for file in &args.files {
        let test = litmus::parse_file(file).map_err(|e| litmus_error(file, e))?;
        let verdict = litmus::find_verdict(file).map_err(|e| {
            CliError::bad_input(
                format!("cannot read the herd7 verdicts for {}: {e}", file.display()),
                "fix or remove the verdicts.json in a directory above the test",
            )
        })?;
        reports.push(litmus::run_test(
            &test,
            args.runs,
            args.seed,
            executor,
            verdict.as_ref(),
        ));
    }
    match args.format {
        Format::Text => reports.iter().for_each(|r| out!("{r}")),
        Format::Json => {
            let all: Vec<serde_json::Value> = reports
                .iter()
                .map(|r| serde_json::from_str(&r.to_json()).unwrap_or_default())
                .collect();
            out!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        }
    }
    let failed = reports.iter().any(|r| !r.tso_consistent());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn litmus_error(file: &Path, e: LitmusError) -> CliError {
    match std::fs::read_to_string(file) {
        Ok(text) if e.line > 0 => SourceError::at(
            &e.file,
            &text,
            (e.line, e.col, e.text.chars().count()),
            e.message,
            Some(e.hint),
        )
        .into(),
        _ => CliError::bad_input(format!("{}: {}", e.file, e.message), e.hint),
    }
}
