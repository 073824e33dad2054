//! `synclab asm`: assemble a source file, write a flat binary or print a listing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use isa::asm::{AsmError, Program};

use crate::diagnostics::{CliError, SourceError, read_input};

/// Arguments of `synclab asm`.
#[derive(Args, Debug)]
pub struct AsmArgs {
    /// Source file (Intel syntax, `#` or `;` comments, `.text`/`.data`/`.section`, `.base ADDR`).
    pub file: PathBuf,
    /// Write the bytes of one section as a flat binary to this file.
    #[arg(short, long, value_name = "OUT.bin")]
    pub output: Option<PathBuf>,
    /// Section written by `--output`.
    #[arg(long, default_value = ".text", value_name = "NAME")]
    pub section: String,
    /// Print address, bytes and source line of every instruction and datum.
    #[arg(long)]
    pub listing: bool,
}

/// Assemble `path`, turning assembler errors into rustc-style reports.
pub fn assemble_file(path: &Path) -> Result<(String, Program), CliError> {
    let text = read_input(path)?;
    match isa::asm::assemble(&text) {
        Ok(program) => Ok((text, program)),
        Err(e) => Err(asm_error(path, &text, e).into()),
    }
}

fn asm_error(path: &Path, text: &str, e: AsmError) -> SourceError {
    SourceError::at(
        &path.display().to_string(),
        text,
        (e.line, e.col, e.len),
        e.message,
        e.hint,
    )
}

/// Run `synclab asm`.
pub fn run(args: &AsmArgs) -> Result<ExitCode, CliError> {
    let (_, program) = assemble_file(&args.file)?;
    if args.listing {
        for entry in &program.listing {
            out!(
                "{:#010x}  {:<30} {:>5}  {}",
                entry.addr,
                isa::decode::hex_bytes(&entry.bytes),
                entry.line,
                entry.source
            );
        }
    }
    if let Some(out) = &args.output {
        let Some(section) = program.sections.iter().find(|s| s.name == args.section) else {
            let names: Vec<&str> = program.sections.iter().map(|s| s.name.as_str()).collect();
            return Err(CliError::bad_input(
                format!(
                    "no section named `{}` in {}",
                    args.section,
                    args.file.display()
                ),
                format!("sections present: {}", names.join(", ")),
            ));
        };
        std::fs::write(out, &section.bytes).map_err(|e| {
            CliError::bad_input(
                format!("cannot write {}: {e}", out.display()),
                "check the directory exists and is writable",
            )
        })?;
        eprintln!(
            "wrote {} bytes of {} (base {:#x}) to {}",
            section.bytes.len(),
            section.name,
            section.base,
            out.display()
        );
    }
    if !args.listing && args.output.is_none() {
        for s in &program.sections {
            out!(
                "{:<12} base {:#010x}  {} bytes",
                s.name,
                s.base,
                s.bytes.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
