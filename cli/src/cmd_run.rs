//! `synclab run`: run a program and print each core's final state.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use isa::flags::Flags;
use isa::reg::Gpr;
use scenarios::program::{self, LoadedProgram};
use sim_core::reference::{Interpreter, Stop};

use crate::cmd_asm::assemble_file;
use crate::diagnostics::CliError;

/// Which model executes the program.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Model {
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
    #[arg(long, value_enum, default_value_t = Model::Reference)]
    pub model: Model,
    /// Stop after this many instructions (per core) if the program has not halted.
    #[arg(long, default_value_t = 10_000_000, value_name = "N")]
    pub max_instructions: u64,
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
        Model::Reference => run_reference(args, loaded),
    }
}

fn run_reference(args: &RunArgs, loaded: LoadedProgram) -> Result<ExitCode, CliError> {
    let [core] = loaded.cores.as_slice() else {
        return Err(CliError::bad_input(
            format!(
                "the reference model runs one core; this program has {}",
                loaded.cores.len()
            ),
            "run multicore programs on the out-of-order model",
        ));
    };
    let mut interp = Interpreter::new(loaded.memory, core.rip);
    interp.regs = core.regs;
    let stop = interp
        .run(args.max_instructions)
        .map_err(|fault| CliError::Failed(miette::miette!("core 0: {fault}")))?;
    println!(
        "core 0 (reference model): {} instructions retired",
        interp.retired
    );
    print_registers(&interp.regs, interp.flags, interp.rip);
    if stop == Stop::StepLimit {
        println!(
            "stopped after --max-instructions {} without reaching `hlt`",
            args.max_instructions
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Print general registers four to a line, then RIP and the status flags.
pub fn print_registers(regs: &[u64; 16], flags: Flags, rip: u64) {
    for row in Gpr::ALL.chunks(4) {
        let cells: Vec<String> = row
            .iter()
            .map(|g| format!("{:>3} = {:#018x}", g.name(), regs[g.index()]))
            .collect();
        println!("  {}", cells.join("  "));
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
    println!("  rip = {rip:#018x}  flags = [{}]", set.join(" "));
}
