//! `synclab explore`: run every configuration of a scenario over many seeds in
//! parallel, print what was seen and judge the expectations.
//!
//! Ctrl-C (see [`crate::interrupt`]) cancels: no new run starts, runs in progress
//! are interrupted and left out, and everything finished is reported.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use scenarios::scenario::{self, Configuration, check, explore};
use serde_json::json;

use crate::Format;
use crate::cmd_run_scenario::named_configuration;
use crate::diagnostics::CliError;
use crate::interrupt;
use crate::report_checks::{Replay, any_failed};
use crate::report_explore;

/// Arguments of `synclab explore`.
#[derive(Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct ExploreArgs {
    /// The scenario (`.ron`, see docs/scenario-format.md).
    pub file: PathBuf,
    /// Seeds per configuration: runs use seeds 0 to N-1. Default: the scenario's
    /// `explore.seeds` (200 when it does not say).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: Option<u64>,
    /// Threads running seeds in parallel; 0 means one per CPU. The results do not
    /// depend on it.
    #[arg(long, default_value_t = 0, value_name = "J")]
    pub jobs: usize,
    /// Explore only this variant (default: every configuration, each variant or
    /// the base).
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Report format: `text` for people (a table of outcomes per configuration);
    /// `json` prints one object with every configuration's outcomes, counts,
    /// witnesses and expectations.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

const AFTER_HELP: &str = "\
An outcome is how a run stopped (halted, cycle-limit, watchdog, fault), whether
stale code ran, whether a contract broke, and each final-state condition's truth
(T/F, in the order the configuration lists them). Each outcome comes with its
shortest run: its seed replays it with `synclab run FILE --variant V --seed S`.

Expectations: `Possible` passes when seen in a run, `Impossible` when seen in
none, `Always` when seen in every run; `max_cycles` when every run halts within
it. Every run must halt (reach `hlt` on every core): a run stopped by the
watchdog, a fault or the cycle limit fails the configuration, and its stop
report is printed. Final-state conditions are judged over the runs that halted.

Progress is shown on stderr when it is a terminal. Ctrl-C stops starting runs
and reports the finished ones (what they cannot settle is OPEN); press it
again to quit at once.

JSON (--format json): {scenario, path, seeds, cancelled, passed, configurations:
[{variant, seeds: {start, end}, runs, complete, stale_runs, violation_runs,
unfinished_runs, outcomes: [{stop, stale, violation, conditions: [{condition,
holds}], runs, witness}], expectations: [{expectation (runs_halt,
stale_execution, contract_violation, final_state with condition, max_cycles
with limit), verdict, status (PASS, FAIL, OPEN), seen, runs, witness}]}]};
a witness is {seed, cycles, first_stale, first_violation} (cycles or null).

Exit status: 0 when every expectation of every configuration passes; 1 when one
fails; 130 when cancelled with nothing failed; 2 for bad input.

Examples:
  synclab explore scenario.ron
  synclab explore scenario.ron --seeds 2000 --jobs 2 --variant no-sync
  synclab explore scenario.ron --format json > results.json";

/// Run `synclab explore`.
pub fn run(args: &ExploreArgs) -> Result<ExitCode, CliError> {
    if args.file.extension().is_none_or(|e| e != "ron") {
        return Err(CliError::bad_input(
            format!("{} is not a scenario (`.ron`)", args.file.display()),
            "explore runs scenarios; for a program try `synclab run FILE --seed S` with a few seeds",
        ));
    }
    let scenario = scenario::load(&args.file)?;
    let configurations: Vec<&Configuration> = match &args.variant {
        Some(name) => vec![named_configuration(&scenario, &args.file, name)?],
        None => scenario.configurations().iter().collect(),
    };
    let seeds = args.seeds.unwrap_or(scenario.scenario.explore.seeds);
    interrupt::catch_ctrl_c("cancelling: the runs finished so far will be reported");
    let mut failed = false;
    let mut reports = Vec::new();
    for configuration in configurations {
        let variant = configuration.variant.as_deref();
        let label = format!("{} ({})", scenario.name, configuration.name());
        let bar = progress_bar(seeds, &label);
        let exploration = explore(
            &scenario,
            variant,
            0..seeds,
            args.jobs,
            &|_| bar.inc(1),
            interrupt::flag(),
        )?;
        bar.finish_and_clear();
        let checks = check(configuration, &exploration);
        failed |= any_failed(&checks);
        match args.format {
            Format::Text => {
                let replay = Replay {
                    path: &args.file,
                    variant,
                };
                report_explore::print_text(&label, &exploration, &checks, &replay);
            }
            Format::Json => reports.push(report_explore::json(&exploration, &checks)),
        }
    }
    let cancelled = interrupt::interrupted();
    if args.format == Format::Json {
        let all = json!({
            "scenario": scenario.name,
            "path": args.file.display().to_string(),
            "seeds": seeds,
            "cancelled": cancelled,
            "passed": !failed,
            "configurations": reports,
        });
        out!("{all:#}");
    }
    Ok(match (failed, cancelled) {
        (true, _) => ExitCode::from(1),
        (false, true) => ExitCode::from(130),
        (false, false) => ExitCode::SUCCESS,
    })
}

/// A bar on stderr counting finished runs, hidden when stderr is not a terminal
/// (also `synclab sweep`'s).
pub(crate) fn progress_bar(seeds: u64, label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(seeds);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{wide_bar}] {pos}/{len} runs, {elapsed} (eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_string());
    bar
}
