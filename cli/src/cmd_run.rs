//! `synclab run`: run a program and print each core's final state.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use isa::flags::Flags;
use isa::reg::Gpr;
use scenarios::program::{self, LoadedProgram};
use sim_core::machine::{IfetchCoherence, MachineConfig, MemConfig, StopReason};
use sim_core::reference::{Interpreter, Stop};

use crate::cmd_asm::assemble_file;
use crate::diagnostics::CliError;

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
pub struct RunArgs {
    /// Assembly source. Multicore programs mark each core's entry with labels
    /// `core0:`, `core1:`, ...; otherwise execution starts at `_start` or at the
    /// first byte of `.text`. A core's program ends when it executes `hlt`.
    pub file: PathBuf,
    /// Execution model.
    #[arg(long, value_enum, default_value_t = Model::Ooo)]
    pub model: Model,
    /// Seed of the timing jitter (out-of-order model): same seed, same run.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,
    /// Timing jitter in percent (out-of-order model; 0 = none). Latencies and
    /// store-buffer drains are stretched by a random 0..=J percent, core starts skewed.
    #[arg(long, default_value_t = 0, value_name = "J")]
    pub jitter: u32,
    /// What a core's fetched code bytes do when another core's store to them becomes
    /// visible (out-of-order model): `lazy` (kept until the core serializes: the
    /// worst case the SDM allows), `snoop` (the I-cache line is invalidated at once),
    /// `delayed:N` (invalidated N cycles later).
    #[arg(long, default_value = "lazy", value_parser = parse_ifetch, value_name = "POLICY")]
    pub ifetch: IfetchCoherence,
    /// Stop after this many cycles (out-of-order model).
    #[arg(long, default_value_t = 100_000_000, value_name = "N")]
    pub max_cycles: u64,
    /// Stop after this many instructions (reference model).
    #[arg(long, default_value_t = 10_000_000, value_name = "N")]
    pub max_instructions: u64,
    /// Record every instruction's pipeline stages and every machine event into this
    /// `.synctrace` file (out-of-order model), with the program, seed and run summary;
    /// `synclab export` turns it into a Konata or Perfetto trace.
    #[arg(long, value_name = "OUT.synctrace")]
    pub trace: Option<PathBuf>,
}

/// Run `synclab run`.
pub fn run(args: &RunArgs) -> Result<ExitCode, CliError> {
    let (_, program) = assemble_file(&args.file)?;
    let loaded = program::load(&program).map_err(|e| {
        CliError::bad_input(
            format!("{}: {e}", args.file.display()),
            "label each core's entry `core0:`, `core1:`, ... or give one `_start:`",
        )
    })?;
    match args.model {
        Model::Ooo => run_machine(args, loaded),
        Model::Reference => run_reference(args, loaded),
    }
}

/// How many stale executions `run` prints in full before skipping to the last one.
const SHOWN_STALE: usize = 3;

fn run_machine(args: &RunArgs, loaded: LoadedProgram) -> Result<ExitCode, CliError> {
    let config = MachineConfig {
        mem: MemConfig {
            ifetch_coherence: args.ifetch,
            ..MemConfig::default()
        },
        seed: args.seed,
        timing_jitter: args.jitter,
        max_cycles: args.max_cycles,
        trace: args.trace.is_some(),
        ..MachineConfig::default()
    };
    let mut machine = loaded.into_machine(config);
    let outcome = machine.run();
    for (i, stats) in outcome.per_core.iter().enumerate() {
        out!(
            "core {i}: {} instructions retired in {} cycles (IPC {:.2}); {} mispredicts, {} machine clears, {} serializations, {} stale executions",
            stats.retired,
            stats.cycles,
            stats.ipc,
            stats.mispredicts,
            stats.machine_clears,
            stats.serializations,
            stats.stale_executions
        );
        print_registers(&machine.regs(i), machine.flags(i), None);
    }
    out!("{} cycles in all", outcome.cycles);
    let stale = machine.stale_executions();
    if !stale.is_empty() {
        out!(
            "\n{} stale executions (instruction bytes memory no longer held):",
            stale.len()
        );
        for s in stale.iter().take(SHOWN_STALE) {
            out!("{s}");
        }
        if let Some(last) = stale.get(SHOWN_STALE..).and_then(<[_]>::last) {
            out!("... {} more; the last:", stale.len() - SHOWN_STALE);
            out!("{last}");
        }
    }
    if let Some(path) = &args.trace {
        crate::trace_file::save(path, args, &mut machine, &outcome)?;
    }
    match outcome.stop {
        StopReason::AllHalted => Ok(ExitCode::SUCCESS),
        StopReason::CycleLimit => Err(CliError::Failed(miette::miette!(
            help = "raise --max-cycles, or check that every core reaches `hlt`",
            "stopped at --max-cycles {} before every core halted",
            args.max_cycles
        ))),
        StopReason::Watchdog(report) => Err(CliError::Failed(miette::miette!(
            help = "a core waits on something that never happens: see what each is waiting on",
            "watchdog: {report}"
        ))),
        StopReason::Fault { core, rip, message } => Err(CliError::Failed(miette::miette!(
            "core {core}: fault at {rip:#x}: {message}"
        ))),
    }
}

fn run_reference(args: &RunArgs, loaded: LoadedProgram) -> Result<ExitCode, CliError> {
    if args.trace.is_some() {
        return Err(CliError::bad_input(
            "--trace records the out-of-order machine; the reference model has no pipeline to trace",
            "drop --model reference (or drop --trace)",
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

/// Print general registers four to a line, then RIP (when known) and the status flags.
pub fn print_registers(regs: &[u64; 16], flags: Flags, rip: Option<u64>) {
    for row in Gpr::ALL.chunks(4) {
        let cells: Vec<String> = row
            .iter()
            .map(|g| format!("{:>3} = {:#018x}", g.name(), regs[g.index()]))
            .collect();
        out!("  {}", cells.join("  "));
    }
    let names = [
        (Flags::CF, "CF"),
        (Flags::PF, "PF"),
        (Flags::AF, "AF"),
        (Flags::ZF, "ZF"),
        (Flags::SF, "SF"),
        (Flags::OF, "OF"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(f, _)| flags.contains(*f))
        .map(|(_, n)| *n)
        .collect();
    let rip = rip
        .map(|r| format!("rip = {r:#018x}  "))
        .unwrap_or_default();
    out!("  {rip}flags = [{}]", set.join(" "));
}
