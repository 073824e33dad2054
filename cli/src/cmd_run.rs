//! `synclab run`: run an assembly program or a RON scenario once and report what
//! happened. The file's extension decides: `.ron` is a scenario
//! (`cmd_run_scenario`), anything else assembly.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use scenarios::program::{self, LoadedProgram};
use scenarios::scenario::RunReport;
use serde_json::json;
use sim_core::machine::{IfetchCoherence, MachineConfig, MemConfig, StopReason};
use sim_core::reference::{Interpreter, Stop};

use crate::Format;
use crate::cmd_asm::assemble_file;
use crate::diagnostics::CliError;
use crate::interrupt;
use crate::report_run::{self, print_registers};

/// Which model executes the program.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Model {
    /// The out-of-order multicore machine (store buffers, prefetch, coherence).
    Ooo,
    /// The in-order reference interpreter (single core only): the golden model.
    Reference,
}

/// Arguments of `synclab run`.
#[derive(Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct RunArgs {
    /// An assembly program (any extension but `.ron`) or a scenario (`.ron`, see
    /// docs/scenario-format.md). In a program, labels `core0:`, `core1:`, ...
    /// mark each core's entry (otherwise execution starts at `_start` or at the
    /// first byte of `.text`), a core ends at `hlt`, and every `.sync_point NAME`
    /// is a contract: after the writer passes it, no core may execute bytes older
    /// than the writer's stores before it.
    pub file: PathBuf,
    /// Scenario only: the variant to run (default: the first one the scenario lists).
    #[arg(long, value_name = "NAME", conflicts_with = "all_variants")]
    pub variant: Option<String>,
    /// Scenario only: run every configuration (each variant, or the base), one
    /// after another, with the same seed.
    #[arg(long)]
    pub all_variants: bool,
    /// Seed of the timing jitter: the same seed gives the same run, so a witness
    /// seed from `synclab explore` replays here. Default: the scenario's
    /// `machine.seed`, or 0 for a program.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Report format: `text` for people; `json` prints one object per run (an
    /// array of them with --all-variants) with every counter, IPI, stale
    /// execution, contract violation, final-state condition and expectation.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Record every instruction's pipeline stages and every machine event into
    /// this `.synctrace` file (out-of-order model, one run), with what was run,
    /// the seed and the run's summary in its metadata; `synclab export` turns it
    /// into a Konata or Perfetto trace.
    #[arg(long, value_name = "OUT.synctrace")]
    pub trace: Option<PathBuf>,
    /// Program only: the execution model.
    #[arg(long, value_enum, default_value_t = Model::Ooo)]
    pub model: Model,
    /// Program only (a scenario sets `machine.jitter`): timing jitter in percent
    /// (0 = none, the default). Latencies and store-buffer drains are stretched by
    /// a random 0..=J percent, core starts skewed.
    #[arg(long, value_name = "J")]
    pub jitter: Option<u32>,
    /// Program only (a scenario sets `machine.ifetch_coherence`): what a core's
    /// fetched code bytes do when another core's store to them becomes visible:
    /// `lazy` (kept until the core serializes: the worst case the SDM allows; the
    /// default), `snoop` (the I-cache line is invalidated at once), `delayed:N`
    /// (invalidated N cycles later).
    #[arg(long, value_parser = parse_ifetch, value_name = "POLICY")]
    pub ifetch: Option<IfetchCoherence>,
    /// Program only (a scenario sets `machine.max_cycles`): stop after this many
    /// cycles (out-of-order model; default 100000000).
    #[arg(long, value_name = "N")]
    pub max_cycles: Option<u64>,
    /// Program only: stop after this many instructions (reference model).
    #[arg(long, default_value_t = 10_000_000, value_name = "N")]
    pub max_instructions: u64,
}

const AFTER_HELP: &str = "\
Exit status: 0 when the run ended with every core halted (and, for a scenario, no
expectation failed); 1 when it stopped otherwise (watchdog, fault, cycle limit),
a program's contract broke, or a scenario's expectation failed; 2 for bad input
(with file:line:col and a hint); 130 when stopped with Ctrl-C (the report then
shows the state at that cycle; a second Ctrl-C quits at once). On a terminal, a
spinner on standard error counts the simulated cycles of long runs.

A single run settles only part of a scenario's expectations: a `Possible` seen
passes, an `Impossible` seen or an `Always` missed fails, the rest stays OPEN
(use `synclab explore` to judge them over many seeds).

JSON (--format json): {run (what was run: program and flags, or scenario, path,
variant), seed, stop: {kind (halted, cycle-limit, watchdog, fault), description},
cycles, per_core: [{retired, cycles, ipc, mispredicts, machine_clears,
serializations, serializations_by_reason: {reason: count}, ipis_sent,
ipis_received, interrupts, exceptions, stale_executions, contract_violations,
registers: {rax: value, ...}, ...}], ipis: [{from, to, vector, sent, arrived,
taken}], stale_executions: [{core, ip, cycle, executed, memory, writer,
visible_at, serialized_at (null: never), contracts_broken: [name]}], contract_violations: [{contract, core,
ip, cycle, passed_at}], final_state: [{condition, holds}]}, and for a scenario
expectations: [...] as `synclab explore --help` describes.

Examples:
  synclab run examples/xmc.s --ifetch lazy
  synclab run examples/sb.s --jitter 400 --seed 1 --format json
  synclab run scenario.ron --variant no-sync --seed 7 --trace run.synctrace
  synclab run scenario.ron --all-variants";

/// Default of `--max-cycles`.
const DEFAULT_MAX_CYCLES: u64 = 100_000_000;

/// Run `synclab run`.
pub fn run(args: &RunArgs) -> Result<ExitCode, CliError> {
    if args.file.extension().is_some_and(|e| e == "ron") {
        return crate::cmd_run_scenario::run(args);
    }
    if let Some(flag) = scenario_only_flag(args) {
        return Err(CliError::bad_input(
            format!(
                "{flag} selects a configuration of a scenario; {} is a program",
                args.file.display()
            ),
            "scenarios are `.ron` files (docs/scenario-format.md); drop the flag for a program",
        ));
    }
    let (_, program) = assemble_file(&args.file)?;
    let loaded = program::load(&program).map_err(|e| {
        CliError::bad_input(
            format!("{}: {e}", args.file.display()),
            "label each core's entry `core0:`, `core1:`, ... or give one `_start:`",
        )
    })?;
    match args.model {
        Model::Ooo => run_machine(args, loaded, &program),
        Model::Reference => run_reference(args, loaded),
    }
}

fn scenario_only_flag(args: &RunArgs) -> Option<&'static str> {
    if args.variant.is_some() {
        Some("--variant")
    } else if args.all_variants {
        Some("--all-variants")
    } else {
        None
    }
}

/// The first flag given that only applies to programs, if any.
pub fn program_only_flag(args: &RunArgs) -> Option<&'static str> {
    if args.model != Model::Ooo {
        Some("--model")
    } else if args.jitter.is_some() {
        Some("--jitter")
    } else if args.ifetch.is_some() {
        Some("--ifetch")
    } else if args.max_cycles.is_some() {
        Some("--max-cycles")
    } else {
        None
    }
}

fn run_machine(
    args: &RunArgs,
    loaded: LoadedProgram,
    program: &isa::asm::Program,
) -> Result<ExitCode, CliError> {
    let seed = args.seed.unwrap_or(0);
    let ifetch = args.ifetch.unwrap_or(IfetchCoherence::Lazy);
    let max_cycles = args.max_cycles.unwrap_or(DEFAULT_MAX_CYCLES);
    let config = MachineConfig {
        mem: MemConfig {
            ifetch_coherence: ifetch,
            ..MemConfig::default()
        },
        seed,
        timing_jitter: args.jitter.unwrap_or(0),
        max_cycles,
        trace: args.trace.is_some(),
        ..MachineConfig::default()
    };
    let mut machine = loaded.into_machine(config);
    for contract in program::sync_point_contracts(program) {
        machine.add_contract(contract);
    }
    interrupt::catch_ctrl_c("stopping the run: the report of its state so far follows");
    let progress = interrupt::RunProgress::new("running");
    let outcome = machine.run_observed(|cycle| progress.observe(cycle));
    drop(progress);
    let report = RunReport::collect(&mut machine, outcome, seed, []);
    let what = json!({
        "program": args.file.display().to_string(),
        "model": "ooo",
        "jitter": args.jitter.unwrap_or(0),
        "ifetch": ifetch_name(ifetch),
        "max_cycles": max_cycles,
    });
    match args.format {
        Format::Text => report_run::print_text(&report, true),
        Format::Json => out!("{:#}", report_run::run_json(&report, what.clone())),
    }
    if let Some(path) = &args.trace {
        crate::trace_file::save(path, &report, what)?;
    }
    program_verdict(&report)
}

/// A program's run fails when it does not halt or breaks a contract.
fn program_verdict(report: &RunReport) -> Result<ExitCode, CliError> {
    let failure = match &report.stop {
        StopReason::AllHalted if report.violations.is_empty() => return Ok(ExitCode::SUCCESS),
        StopReason::AllHalted => miette::miette!(
            help = "a core executed code older than what the writer had published: add a serializing instruction (cpuid, serialize) before the new code runs",
            "{} contract violations",
            report.violations.len()
        ),
        StopReason::CycleLimit => miette::miette!(
            help = "raise --max-cycles, or check that every core reaches `hlt`",
            "stopped at the cycle limit ({} cycles) before every core halted",
            report.cycles
        ),
        StopReason::Watchdog(_) => miette::miette!(
            help = "a core waits on something that never happens: the report above says what each waits on",
            "stopped by the watchdog"
        ),
        StopReason::Fault { core, rip, message } => {
            miette::miette!("core {core}: fault at {rip:#x}: {message}")
        }
        StopReason::Interrupted => return Ok(ExitCode::from(130)),
    };
    Err(CliError::Failed(failure))
}

fn run_reference(args: &RunArgs, loaded: LoadedProgram) -> Result<ExitCode, CliError> {
    if args.trace.is_some() || args.format == Format::Json {
        return Err(CliError::bad_input(
            "--trace records the out-of-order machine (and --format json reports it); the reference model has no pipeline",
            "drop --model reference (or drop --trace / --format json)",
        ));
    }
    let [core] = loaded.cores.as_slice() else {
        return Err(CliError::bad_input(
            format!(
                "the reference model runs one core; this program has {}",
                loaded.cores.len()
            ),
            "run multicore programs on the out-of-order model (--model ooo)",
        ));
    };
    let mut interp = Interpreter::new(loaded.memory, core.rip);
    interp.regs = core.regs;
    let stop = interp
        .run(args.max_instructions)
        .map_err(|fault| CliError::Failed(miette::miette!("core 0: {fault}")))?;
    out!(
        "core 0 (reference model): {} instructions retired",
        interp.retired
    );
    print_registers(&interp.regs, interp.flags, Some(interp.rip));
    if stop == Stop::StepLimit {
        out!(
            "stopped after --max-instructions {} without reaching `hlt`",
            args.max_instructions
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Parse `lazy`, `snoop` or `delayed:N`.
pub fn parse_ifetch(s: &str) -> Result<IfetchCoherence, String> {
    match s {
        "lazy" => Ok(IfetchCoherence::Lazy),
        "snoop" => Ok(IfetchCoherence::Snoop),
        _ => s
            .strip_prefix("delayed:")
            .and_then(|n| n.parse().ok())
            .map(|cycles| IfetchCoherence::Delayed { cycles })
            .ok_or_else(|| {
                format!("`{s}` is not a policy; use lazy, snoop or delayed:N (N cycles)")
            }),
    }
}

/// The policy as `--ifetch` spells it.
fn ifetch_name(policy: IfetchCoherence) -> String {
    match policy {
        IfetchCoherence::Lazy => "lazy".to_string(),
        IfetchCoherence::Snoop => "snoop".to_string(),
        IfetchCoherence::Delayed { cycles } => format!("delayed:{cycles}"),
    }
}
