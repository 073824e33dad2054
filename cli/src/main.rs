//! `synclab`: the command-line front end. A thin layer: argument parsing here, one
//! module per subcommand, all real work in the library crates.

/// `println!` for reports: a closed pipe (`synclab ... | head`) ends the program
/// quietly instead of panicking, as command-line tools are expected to.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

mod cmd_asm;
mod cmd_bench;
mod cmd_disasm;
mod cmd_explore;
mod cmd_export;
mod cmd_litmus;
mod cmd_plot;
mod cmd_run;
mod cmd_run_scenario;
mod cmd_sweep;
mod diagnostics;
mod interrupt;
mod plot_data;
mod report_checks;
mod report_explore;
mod report_run;
mod trace_file;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostics::CliError;

/// How reports are printed (`--format`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// JSON for programs (each command's `--help` describes its layout).
    Json,
}

/// synclab: a cycle-approximate multicore x86 simulator for memory-ordering and
/// instruction-fetch synchronisation (cross-modifying code, membarrier, SYSRET vs IRET).
#[derive(Parser, Debug)]
#[command(name = "synclab", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Assemble an Intel-syntax source file (GNU `as -msyntax=intel -mnaked-reg` dialect).
    Asm(cmd_asm::AsmArgs),
    /// Disassemble a flat binary file to Intel syntax.
    Disasm(cmd_disasm::DisasmArgs),
    /// Run a program (`.s`) or a scenario (`.ron`) once: per-core counters, IPIs,
    /// stale executions and broken contracts, final state, expectations.
    Run(cmd_run::RunArgs),
    /// Run every configuration of a scenario over many seeds in parallel: the
    /// outcomes with their shortest witnesses, and each expectation PASS/FAIL.
    Explore(cmd_explore::ExploreArgs),
    /// Run herd7 litmus tests many times and check the outcomes against x86-TSO.
    Litmus(cmd_litmus::LitmusArgs),
    /// Measure simulation speed (simulated MIPS, tracing off and on).
    Bench(cmd_bench::BenchArgs),
    /// Export a `.synctrace` trace (from `run --trace`) for a viewer: a Kanata log for
    /// the Konata pipeline viewer, or Chrome trace-event JSON for Perfetto.
    Export(cmd_export::ExportArgs),
    /// Run a scenario over the cartesian product of parameter values (a sweep
    /// file or `--param`), one row of statistics per point into a CSV or JSON
    /// Lines file; `sweep merge` joins the outputs of shards.
    Sweep(cmd_sweep::SweepArgs),
    /// Plot columns of sweep results (CSV or JSON Lines) as lines with error
    /// bars into an SVG or PNG file.
    Plot(cmd_plot::PlotArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Asm(args) => cmd_asm::run(&args),
        Command::Disasm(args) => cmd_disasm::run(&args),
        Command::Run(args) => cmd_run::run(&args),
        Command::Explore(args) => cmd_explore::run(&args),
        Command::Litmus(args) => cmd_litmus::run(&args),
        Command::Bench(args) => cmd_bench::run(&args),
        Command::Export(args) => cmd_export::run(&args),
        Command::Sweep(args) => cmd_sweep::run(&args),
        Command::Plot(args) => cmd_plot::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(CliError::BadInput(report)) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(report)) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}
