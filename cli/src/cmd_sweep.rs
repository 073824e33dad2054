//! `synclab sweep`: run a scenario over the cartesian product of parameter values
//! (a sweep file or `--param` arguments), one row per point appended to a CSV or
//! JSON Lines file; `synclab sweep merge` joins the files of shards.
//!
//! Ctrl-C stops starting runs; every finished point is already in the file, and
//! `--resume` continues from there.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use scenarios::scenario;
use scenarios::sweep::{self, Output, OutputError, Shard, Sweep, SweepError};

use crate::cmd_explore::progress_bar;
use crate::diagnostics::CliError;
use crate::interrupt;

/// Arguments of `synclab sweep`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, after_long_help = AFTER_HELP)]
pub struct SweepArgs {
    /// `merge`: join shard outputs.
    #[command(subcommand)]
    pub merge: Option<SweepCommand>,
    /// A sweep file (`scenarios/sweeps/*.ron`, see docs/sweeps.md) or a scenario
    /// (`.ron`) to sweep with `--param`.
    pub file: Option<PathBuf>,
    /// A parameter and its values, `PATH=V1,V2,...` or `PATH=FROM..TO:STEP`
    /// (integers, TO included); repeat for more. PATH is `cpus`,
    /// `machine.FIELD`, `machine.core.NAME`, `machine.mem.NAME`, `kernel.OPTION`
    /// or `defines.NAME`, as the scenario format names them. Only with a
    /// scenario (a sweep file lists its own).
    #[arg(long = "param", value_name = "PATH=VALUES")]
    pub params: Vec<String>,
    /// Cross only this variant of the scenario (repeat for more); default:
    /// every configuration.
    #[arg(long = "variant", value_name = "NAME")]
    pub variants: Vec<String>,
    /// Seeds per point: seeds 0 to N-1 (default: the sweep file's `seeds`, or
    /// the scenario's `explore.seeds`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: Option<u64>,
    /// Threads running in parallel; 0 means one per CPU. The rows do not depend on it.
    #[arg(long, default_value_t = 0, value_name = "J")]
    pub jobs: usize,
    /// Run only the points whose number is I modulo N (0 <= I < N), for a job
    /// array; join the outputs with `synclab sweep merge`.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// The results file: `.csv`, or `.jsonl` for JSON Lines.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Continue OUT: skip the points it holds (it must be this sweep's).
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Replace OUT if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Subcommands of `synclab sweep`.
#[derive(Subcommand, Debug)]
pub enum SweepCommand {
    /// Join the outputs of a sweep's shards into OUT, rows in point order,
    /// exactly as one run of the whole sweep writes them. Refuses files of
    /// different sweeps; exit 1 when points are missing.
    Merge {
        /// The merged file (`.csv` or `.jsonl`, as the parts).
        out: PathBuf,
        /// The shards' outputs.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
    },
}

const AFTER_HELP: &str = "\
The points are the cartesian product of the variants and the parameter values,
numbered with the variant first and the last parameter fastest. Each point runs
every seed; its row (one line of OUT, appended and flushed when the point is
done, in point order) holds the point (sweep id, point, points, variant, each
parameter) and: runs, halted; cycles (mean with its 95% interval as _lo/_hi,
_median, _p99) and cpu_cycles per CPU; membarrier_calls and membarrier_cycles
(syscall entry to return of the EXPEDITED and SYNC_CORE commands); ipis and
ipi_cycles (send to handler entry); fence_drain_cycles (MFENCE and locked
instructions waiting for the store buffer); per serialization reason (serialize,
cpuid, iretq, mov_cr3, wrmsr, pti_cr3, interrupt, other) the count per run,
_cycles (cycles attributed per serialization: store-buffer drain wait plus the
refetch until the next retirement) and _drain_cycles; stale and violation
runs with their rate and 95% Wilson interval; each expectation's verdict.
docs/sweeps.md describes every column.

Results are the same whatever --jobs or --shard: a merge of shards is
byte-identical to the single run's file. Progress (with ETA) is shown on stderr
when it is a terminal. Ctrl-C stops; --resume continues. A sweep whose scenario,
variants, parameters or seeds changed is refused by --resume and by merge.

Exit status: 0 done; 130 interrupted; 1 a run could not be made or points are
missing from a merge; 2 bad input.

Examples:
  synclab sweep scenarios/sweeps/serialization-cost.ron -o cost.csv
  synclab sweep scenarios/library/seed-kthread-switch.ron --variant sysret \\
      --param machine.ipi_latency=50..800:50 --param machine.ifetch_coherence=Lazy,Snoop \\
      --seeds 100 --jobs 2 -o stale.csv
  synclab sweep SWEEP.ron --shard 0/4 -o part0.csv   (then 1/4, 2/4, 3/4)
  synclab sweep merge all.csv part0.csv part1.csv part2.csv part3.csv
  scripts/slurm/sweep.sbatch and docs/sweeps.md: Slurm job arrays, GNU parallel";

/// Run `synclab sweep`.
pub fn run(args: &SweepArgs) -> Result<ExitCode, CliError> {
    if let Some(SweepCommand::Merge { out, parts }) = &args.merge {
        return merge(out, parts);
    }
    let Some(file) = &args.file else {
        return Err(CliError::bad_input(
            "no sweep given",
            "synclab sweep SWEEP.ron -o OUT.csv, or SCENARIO.ron --param PATH=VALUES -o OUT.csv",
        ));
    };
    let Some(out) = &args.output else {
        return Err(CliError::bad_input(
            "no results file given",
            "add -o OUT.csv (or OUT.jsonl)",
        ));
    };
    let sweep = load(args, file)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let mut output = Output::open(out, &sweep, args.resume, args.force).map_err(|e| match e {
        OutputError::Exists(path) => CliError::bad_input(
            format!("{} exists", path.display()),
            "--resume continues it, --force replaces it",
        ),
        other => CliError::Failed(miette::miette!("{other}")),
    })?;
    let points: Vec<u64> = (0..sweep.points())
        .filter(|&p| shard.holds(p) && !output.done.contains(&p))
        .collect();
    eprintln!(
        "sweep {} ({}): {} points x {} seeds{}; {} to run{}",
        sweep.name,
        sweep.id,
        sweep.points(),
        sweep.seeds,
        match shard.count {
            1 => String::new(),
            n => format!(", shard {}/{n}", shard.index),
        },
        points.len(),
        match output.done.len() {
            0 => String::new(),
            n => format!(" ({n} already in {})", out.display()),
        },
    );
    interrupt::catch_ctrl_c(
        "stopping: finished points are in the results file, --resume continues",
    );
    let bar = progress_bar(points.len() as u64 * sweep.seeds, &sweep.name);
    let result = sweep::run(
        &sweep,
        &points,
        args.jobs,
        interrupt::flag(),
        &|| bar.inc(1),
        &mut |cells| output.append(cells),
    );
    bar.finish_and_clear();
    let written = result.map_err(|e| match e {
        SweepError::Point { point, error } => CliError::Failed(
            miette::miette!("point {point} of the sweep cannot run").wrap_err(error.to_string()),
        ),
        other => CliError::Failed(miette::miette!("{other}")),
    })?;
    eprintln!("{written} rows written to {}", out.display());
    Ok(match interrupt::interrupted() {
        true => ExitCode::from(130),
        false => ExitCode::SUCCESS,
    })
}

/// The sweep `file` defines, or the sweep of scenario `file` over `--param`s.
fn load(args: &SweepArgs, file: &Path) -> Result<Sweep, CliError> {
    let text = scenario::read(file)?;
    if !Sweep::is_sweep_text(&text) {
        return Ok(Sweep::from_args(
            file,
            &args.params,
            &args.variants,
            args.seeds,
        )?);
    }
    if !args.params.is_empty() {
        return Err(CliError::bad_input(
            format!(
                "{} is a sweep file, which lists its parameters",
                file.display()
            ),
            "add them to its `params`, or pass the scenario itself with --param",
        ));
    }
    let mut sweep = Sweep::load(file)?;
    if args.seeds.is_some() || !args.variants.is_empty() {
        // The command line narrows or extends what the file says.
        let params: Vec<String> = sweep
            .params
            .iter()
            .map(|p| format!("{}={}", p.path, p.values.join(",")))
            .collect();
        let variants: Vec<String> = match args.variants.is_empty() {
            true => sweep.configurations.iter().flatten().cloned().collect(),
            false => args.variants.clone(),
        };
        let seeds = args.seeds.or(Some(sweep.seeds));
        let name = sweep.name.clone();
        sweep = Sweep::from_args(&sweep.scenario_path, &params, &variants, seeds)?;
        sweep.name = name;
    }
    Ok(sweep)
}

/// `synclab sweep merge OUT PARTS...`.
fn merge(out: &Path, parts: &[PathBuf]) -> Result<ExitCode, CliError> {
    let merged = sweep::merge(out, parts).map_err(|e| CliError::Failed(miette::miette!("{e}")))?;
    eprintln!(
        "{} of {} points merged into {}",
        merged.rows,
        merged.points,
        out.display()
    );
    if merged.missing.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let shown: Vec<String> = merged.missing.iter().take(20).map(u64::to_string).collect();
    let more = merged.missing.len().saturating_sub(shown.len());
    eprintln!(
        "missing points: {}{}",
        shown.join(", "),
        match more {
            0 => String::new(),
            n => format!(" and {n} more"),
        }
    );
    Ok(ExitCode::from(1))
}
