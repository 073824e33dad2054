//! `synclab bench`: simulated MIPS of the out-of-order machine on the benchmark
//! workloads, tracing off and on, measured in one process so the ratios hold even
//! on a noisy machine.

use std::process::ExitCode;

use clap::Args;
use synclab_benches::{Workload, measure};

use crate::diagnostics::CliError;

/// Arguments of `synclab bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Loop iterations per core (each iteration is about ten instructions).
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    pub iterations: u64,
    /// Measure each configuration this many times and keep the fastest.
    #[arg(long, default_value_t = 3, value_name = "K")]
    pub repeat: u32,
}

/// Run `synclab bench`.
pub fn run(args: &BenchArgs) -> Result<ExitCode, CliError> {
    if args.repeat == 0 || args.iterations == 0 {
        return Err(CliError::bad_input(
            "--repeat and --iterations must be at least 1",
            "try the defaults",
        ));
    }
    out!(
        "{:<18} {:>14} {:>12} {:>12} {:>10}",
        "workload",
        "instructions",
        "MIPS (off)",
        "MIPS (on)",
        "on/off"
    );
    for workload in Workload::ALL {
        let best = |trace| {
            (0..args.repeat)
                .map(|_| measure(workload, args.iterations, trace))
                .max_by(|a, b| a.mips().total_cmp(&b.mips()))
                .expect("repeat >= 1")
        };
        let off = best(false);
        let on = best(true);
        out!(
            "{:<18} {:>14} {:>12.2} {:>12.2} {:>10.2}",
            workload.name(),
            off.instructions,
            off.mips(),
            on.mips(),
            on.mips() / off.mips()
        );
    }
    Ok(ExitCode::SUCCESS)
}
