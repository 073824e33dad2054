//! The bundled kernel's text around a kernel scenario's program: when assembly
//! fails inside it, which line of the scenario caused it (a task entry the
//! program lacks, a name the kernel already defines, a block left open), or
//! else a kernel bug; and the check that the program does not redefine the
//! kernel's constants.

use std::ops::Range;

use isa::asm::{AsmError, Program};

use super::assembly::{Input, KernelText, Order, Origin, Piece, locate};
use super::document::Document;
use super::error::ScenarioError;
use super::resolve::{program_labels, unknown_label};
use super::ron_tree::Step;

/// An assembly error inside the kernel's text. The kernel assembles on its own,
/// so the scenario caused it unless this is a bug: a task entry the program does
/// not define, or a program that redefines a kernel name (or leaves a block
/// open), which assembling the program after the kernel pins to its own line.
pub(super) fn kernel_text_error(
    doc: &Document,
    input: &Input,
    kernel: KernelText,
    error: AsmError,
) -> ScenarioError {
    if let Some(e) = missing_task_entry(doc, input, kernel, &error) {
        return e;
    }
    let reordered = input.combine(Order::KernelThenProgram, &[]);
    if let Err(e) = isa::asm::assemble(&reordered.text)
        && let Some((_, origin)) = reordered.origin(e.line)
        && !matches!(origin, Origin::Kernel)
    {
        let mut e = input.in_variant(e);
        if e.message.contains("already defined") || e.message.starts_with("duplicate") {
            e.hint = Some(
                "the bundled kernel defines this name (docs/scenario-format.md lists \
                     its labels); choose another"
                    .to_string(),
            );
        }
        return locate(doc, &reordered, &e);
    }
    doc.error(
        &[Step::Field("kernel")],
        format!(
            "the bundled kernel does not assemble: {} (line {} of the kernel's text)",
            error.message, error.line
        ),
        Some(
            "this is a bug in synclab's kernel (scenarios/kernel/*.s or its builder), \
             not in the scenario: please report it"
                .to_string(),
        ),
    )
}

/// The error for a task whose entry label the program does not define (the
/// kernel's task table refers to it, so assembly fails in the kernel's text):
/// reassembled with stand-ins for the missing entries, the hint names the
/// nearest real label.
fn missing_task_entry(
    doc: &Document,
    input: &Input,
    kernel: KernelText,
    error: &AsmError,
) -> Option<ScenarioError> {
    let entry_of = |e: &AsmError| {
        kernel
            .tasks
            .iter()
            .map(|t| t.entry.as_str())
            .find(|entry| e.message == format!("undefined symbol `{entry}`"))
    };
    let mut missing = vec![entry_of(error)?];
    let program = loop {
        match isa::asm::assemble(&input.combine(Order::ProgramThenKernel, &missing).text) {
            Ok(program) => break program,
            Err(e) => match entry_of(&e) {
                Some(entry) if !missing.contains(&entry) => missing.push(entry),
                _ => return None,
            },
        }
    };
    let (index, task) = kernel
        .tasks
        .iter()
        .enumerate()
        .find(|(_, t)| missing.contains(&t.entry.as_str()))?;
    let path = [
        Step::Field("tasks"),
        Step::Index(index),
        Step::Field("entry"),
    ];
    let labels = program_labels(&program).filter(|l| !missing.contains(l));
    Some(unknown_label(
        doc,
        &task.entry,
        &path,
        input.variant,
        labels,
    ))
}

/// A scenario that redefines one of the kernel's constants (`abi.s` and the
/// options), by a define or a `.set` in its program, would silently change the
/// kernel it runs: an error at the define, or at the program's `.set` line.
pub(super) fn check_kernel_constants(
    doc: &Document,
    input: &Input,
    kernel: KernelText,
    program: &Program,
) -> Result<(), ScenarioError> {
    let constants = isa::asm::assemble(&kernel.image.prologue).map_err(|e| {
        doc.error(
            &[Step::Field("kernel")],
            format!("the bundled kernel's constants do not assemble: {e}"),
            Some("this is a bug in synclab's kernel: please report it".to_string()),
        )
    })?;
    let Some((name, _)) = constants
        .symbols
        .iter()
        .find(|(name, value)| program.symbol(name) != Some(**value))
    else {
        return Ok(());
    };
    let message = format!("`{name}` is a constant of the bundled kernel and cannot be redefined");
    let hint = Some(
        "kernel options are changed with `kernel: (...)` (in a variant too); \
         choose another name for your own constant"
            .to_string(),
    );
    if let Some((variant, names)) = input.defines
        && names.contains_key(name)
    {
        let path = [
            Step::Field("variants"),
            Step::Index(variant),
            Step::Field("defines"),
            Step::Key(name),
        ];
        return Err(doc.error(&path, message, hint));
    }
    Err(match find_definition(input.pieces, name) {
        Some((Piece::File { file }, span)) => file.error(span, message, hint),
        Some((Piece::Inline { index, text: _ }, span)) => doc.string_error(
            &[Step::Field("program"), Step::Index(*index), Step::Index(0)],
            span,
            message,
            hint,
        ),
        None => doc.error(&[Step::Field("program")], message, hint),
    })
}

/// The first `.set NAME`, `.equ NAME` or `NAME =` line of `pieces`: the piece
/// and the bytes of the name in it.
fn find_definition<'p>(pieces: &'p [Piece], name: &str) -> Option<(&'p Piece, Range<usize>)> {
    pieces.iter().find_map(|piece| {
        let text = match piece {
            Piece::Inline { text, .. } => text.as_str(),
            Piece::File { file } => &file.text,
        };
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let body = line.trim_start();
            let indent = line.len() - body.len();
            let after_directive = [".set", ".equ"]
                .iter()
                .find_map(|d| body.strip_prefix(d))
                .filter(|rest| rest.starts_with([' ', '\t']));
            let at = match after_directive {
                Some(rest) => body.len() - rest.trim_start().len(),
                None => 0,
            };
            let defines = body[at..]
                .strip_prefix(name)
                .is_some_and(|rest| match after_directive {
                    Some(_) => rest.trim_start().starts_with(','),
                    None => rest.trim_start().starts_with('='),
                });
            if defines {
                let start = offset + indent + at;
                return Some((piece, start..start + name.len()));
            }
            offset += line.len();
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{KernelImage, build};
    use crate::scenario::error::SourceFile;
    use crate::scenario::parse::parse;
    use crate::scenario::schema::{CpuSpec, KernelOptions, TaskKind, TaskSpec};

    const RON: &str = "(kernel: (), program: [Asm(\"jit:\\n  mov eax, SYS_EXIT\\n  syscall\")])";

    fn tasks() -> Vec<TaskSpec> {
        vec![TaskSpec {
            name: "jit".into(),
            kind: TaskKind::User { mm: 1 },
            entry: "jit".into(),
        }]
    }

    fn image() -> KernelImage {
        let cpus = [CpuSpec {
            run: vec!["jit".into()],
        }];
        build(&KernelOptions::default(), &tasks(), &cpus).unwrap()
    }

    fn assemble_with(image: &KernelImage) -> Result<Program, ScenarioError> {
        let (scenario, doc) = parse(SourceFile::new("k.ron", RON)).unwrap();
        let pieces = crate::scenario::assembly::read_pieces(&doc, &scenario.program, ".".as_ref())?;
        let tasks = tasks();
        let input = Input {
            pieces: &pieces,
            defines: None,
            kernel: Some(KernelText {
                image,
                tasks: &tasks,
            }),
            variant: None,
        };
        crate::scenario::assembly::assemble(&doc, &input)
    }

    #[test]
    fn the_program_assembles_between_the_kernel_prologue_and_epilogue() {
        let program = assemble_with(&image()).unwrap();
        for label in [
            "jit", "schedule", "task_jit", "mm_1", "percpu_0", "SYS_EXIT",
        ] {
            assert!(program.symbol(label).is_some(), "{label}");
        }
    }

    #[test]
    fn an_error_in_the_kernel_text_is_reported_as_a_kernel_bug() {
        let mut broken = image();
        broken.epilogue.push_str("\n    movv rax, 1\n");
        let e = assemble_with(&broken).unwrap_err();
        assert!(
            e.message
                .starts_with("the bundled kernel does not assemble: unknown mnemonic `movv`"),
            "{e}"
        );
        assert!(e.hint.unwrap().contains("bug in synclab's kernel"));
        // Located at the scenario's `kernel` field.
        assert_eq!((e.line, e.col), (1, 10));
    }

    #[test]
    fn definitions_are_found_by_directive_or_assignment() {
        let piece = |text: &str| Piece::Inline {
            index: 0,
            text: text.to_string(),
        };
        let pieces = [piece("nop\n  .set  X, 1\nY = 2\n.equ Z,3\n.set XY, 4")];
        let found = |name| find_definition(&pieces, name).map(|(_, span)| span);
        assert_eq!(found("X"), Some(12..13));
        assert_eq!(found("Y"), Some(17..18));
        assert_eq!(found("Z"), Some(28..29));
        assert_eq!(found("XY"), Some(37..39));
        assert_eq!(found("W"), None);
    }
}
