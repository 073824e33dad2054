//! `synclab export`: turn a `.synctrace` file into a format an existing viewer opens.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use sim_core::machine::TraceEvent;
use trace_format::{TraceFile, TraceFormatError};

use crate::diagnostics::CliError;

/// The formats `export` writes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Kanata 0004 pipeline log for the Konata viewer: one row per instruction,
    /// retired or squashed, with its stages F D Rn Is Cm, ending at the retire cycle
    /// (a store goes on with Sb until it drains from the store buffer); stale
    /// executions are marked in the label.
    Kanata,
    /// Chrome trace-event JSON for Perfetto or chrome://tracing: per core, instruction
    /// slices, instant events (IPIs, interrupts, serializations, stale code...) and a
    /// store-buffer occupancy counter; timestamps are cycles shown as microseconds.
    Chrome,
}

impl ExportFormat {
    /// What replaces the trace's extension in the default output name.
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Kanata => "kanata.log",
            ExportFormat::Chrome => "json",
        }
    }
}

const AFTER_HELP: &str = "\
Examples:
  synclab run examples/xmc.s --ifetch lazy --trace xmc.synctrace
  synclab export xmc.synctrace --to kanata        # writes xmc.kanata.log
  synclab export xmc.synctrace --to chrome        # writes xmc.json
  synclab export xmc.synctrace --to chrome -o - | head

Viewing:
  kanata  Konata (https://github.com/shioyadan/Konata): File > Open, pick the .kanata.log.
          Rows are instructions in fetch order (thread id = core); squashed ones are
          drawn as flushed. An instruction ends at its retire cycle; a store goes on
          with an Sb stage while it waits in the store buffer. Retire ids follow each
          core's program order (\"Hide flushed ops\" lists retirements in order).
          Hover over an instruction for its core, bytes, retire cycle, and what
          happened to it (contracts by name).
  chrome  Perfetto (https://ui.perfetto.dev): \"Open trace file\", pick the .json
          (chrome://tracing opens it too). Each core has a `core N` track with its
          events and store-buffer counter, and `core N pipeline K` tracks holding one
          slice per retired instruction (several tracks because in-flight instructions
          overlap, and slices of one track must nest: as many as the most instructions
          the core had in flight, tens to about a hundred). Every core has a store-buffer
          counter. 1 us on the time axis is 1 cycle.

Exit status: 0 on success, 2 if the trace cannot be read (missing, not a trace,
another format version, truncated) or the output cannot be created.";

/// Arguments of `synclab export`.
#[derive(Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct ExportArgs {
    /// The trace: a `.synctrace` file written by `synclab run FILE.s --trace TRACE`.
    pub trace: PathBuf,
    /// The format to write.
    #[arg(long = "to", value_enum, value_name = "FORMAT")]
    pub to: ExportFormat,
    /// Where to write it; `-` is standard output. Default: TRACE with its extension
    /// replaced by `.kanata.log` (kanata) or `.json` (chrome), in the same directory.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Run `synclab export`.
pub fn run(args: &ExportArgs) -> Result<ExitCode, CliError> {
    let trace = load(&args.trace)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.trace.with_extension(args.to.extension()));
    if output == Path::new("-") {
        return match export(io::stdout().lock(), args.to, &trace) {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(write_failed(&output, e)),
            _ => Ok(ExitCode::SUCCESS),
        };
    }
    if output == args.trace {
        return Err(CliError::bad_input(
            format!(
                "refusing to overwrite the trace {} with its export",
                output.display()
            ),
            "give another output path with -o",
        ));
    }
    let file = std::fs::File::create(&output).map_err(|e| {
        CliError::bad_input(
            format!("cannot create {}: {e}", output.display()),
            "check that the directory exists and is writable",
        )
    })?;
    export(file, args.to, &trace).map_err(|e| write_failed(&output, e))?;
    let instructions = trace
        .events
        .iter()
        .filter(|e| matches!(e, TraceEvent::Inst(_)))
        .count();
    out!(
        "wrote {}: {instructions} instruction records and {} other events",
        output.display(),
        trace.events.len() - instructions
    );
    Ok(ExitCode::SUCCESS)
}

fn export(w: impl Write, to: ExportFormat, trace: &TraceFile) -> io::Result<()> {
    match to {
        ExportFormat::Kanata => trace_format::kanata::write_kanata(w, &trace.header, &trace.events),
        ExportFormat::Chrome => trace_format::chrome::write_chrome(w, &trace.header, &trace.events),
    }
}

/// Read a trace named on the command line; any problem is bad input.
fn load(path: &Path) -> Result<TraceFile, CliError> {
    let file = std::fs::File::open(path).map_err(|e| {
        CliError::bad_input(
            format!("cannot read {}: {e}", path.display()),
            "check the path; it is relative to the current directory",
        )
    })?;
    trace_format::read_trace(file).map_err(|e| {
        let hint = match e {
            TraceFormatError::Io(_) => "check the file's permissions",
            TraceFormatError::NotATrace { .. } => {
                "traces are written by `synclab run FILE.s --trace OUT.synctrace`"
            }
            TraceFormatError::WrongVersion { .. } => {
                "the trace file format changed since this trace was recorded"
            }
            _ => "the file was cut short or damaged: record it again with `synclab run FILE.s --trace OUT.synctrace`",
        };
        CliError::bad_input(format!("{}: {e}", path.display()), hint)
    })
}

fn write_failed(output: &Path, e: io::Error) -> CliError {
    CliError::Failed(miette::miette!("writing {} failed: {e}", output.display()))
}
