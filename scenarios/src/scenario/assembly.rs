//! The scenario's program: inline `Asm("...")` strings and `Include("file.s")`
//! files assembled together in order, with a variant's defines first and, for
//! kernel scenarios, inside the bundled kernel's prologue and epilogue; every
//! assembly error is mapped back to the file, line and column it came from (an
//! error in the kernel's own text is traced to the scenario line that caused
//! it, or reported as a kernel bug).

use std::collections::BTreeMap;
use std::path::Path;

use isa::asm::{AsmError, Program};

use super::document::Document;
use super::error::{ScenarioError, SourceFile};
use super::kernel_asm;
use super::ron_tree::Step;
use super::schema::{Source, TaskSpec};
use crate::kernel::KernelImage;

/// One piece of the program with its text (files are read once, at load).
#[derive(Clone, Debug)]
pub(crate) enum Piece {
    /// `program[index]` is `Asm(text)`.
    Inline {
        /// Position in `program`.
        index: usize,
        /// The string's value.
        text: String,
    },
    /// `program[index]` is `Include(..)`, read from `file`.
    File {
        /// The file's name and text.
        file: SourceFile,
    },
}

/// Read the pieces of `program`, resolving includes relative to `dir`.
pub(crate) fn read_pieces(
    doc: &Document,
    program: &[Source],
    dir: &Path,
) -> Result<Vec<Piece>, ScenarioError> {
    program
        .iter()
        .enumerate()
        .map(|(index, source)| match source {
            Source::Asm(text) => Ok(Piece::Inline {
                index,
                text: text.clone(),
            }),
            Source::Include(name) => {
                let path = dir.join(name);
                match std::fs::read_to_string(&path) {
                    Ok(text) => Ok(Piece::File {
                        file: SourceFile::new(path.display().to_string(), text),
                    }),
                    Err(e) => Err(doc.error(
                        &[Step::Field("program"), Step::Index(index), Step::Index(0)],
                        match e.kind() {
                            std::io::ErrorKind::NotFound => {
                                format!("included file \"{name}\" not found")
                            }
                            _ => format!("cannot read included file \"{name}\": {e}"),
                        },
                        Some("include paths are relative to the scenario file's directory".into()),
                    )),
                }
            }
        })
        .collect()
}

/// Where a stretch of the assembled text came from.
#[derive(Clone, Copy)]
pub(super) enum Origin<'p> {
    /// The `.set` lines of `variants[variant].defines`, one per define in order.
    Defines {
        variant: usize,
        names: &'p BTreeMap<String, i64>,
    },
    /// A piece of the program.
    Piece(&'p Piece),
    /// The bundled kernel's prologue or epilogue (or a stand-in label).
    Kernel,
}

/// The bundled kernel around the scenario's program, for kernel scenarios.
#[derive(Clone, Copy)]
pub(crate) struct KernelText<'k> {
    /// The kernel built for the configuration's options, tasks and CPUs.
    pub image: &'k KernelImage,
    /// The scenario's tasks (their entries are labels the kernel refers to).
    pub tasks: &'k [TaskSpec],
}

/// One configuration's assembly input: its program pieces, defines and kernel.
#[derive(Clone, Copy)]
pub(crate) struct Input<'p> {
    /// The pieces of `program`, in order.
    pub pieces: &'p [Piece],
    /// The defines of variant number `.0`, if it has any.
    pub defines: Option<(usize, &'p BTreeMap<String, i64>)>,
    /// The kernel, for kernel scenarios.
    pub kernel: Option<KernelText<'p>>,
    /// The variant being assembled, named in messages.
    pub variant: Option<&'p str>,
}

/// The combined text and where each stretch of it came from.
#[derive(Default)]
pub(super) struct Combined<'p> {
    pub(super) text: String,
    /// (lines before this stretch, its line count, origin)
    stretches: Vec<(usize, usize, Origin<'p>)>,
}

impl<'p> Combined<'p> {
    fn push(&mut self, body: &str, origin: Origin<'p>) {
        let before = self.text.lines().count();
        self.text.push_str(body);
        if !body.is_empty() && !body.ends_with('\n') {
            self.text.push('\n');
        }
        self.stretches
            .push((before, self.text.lines().count() - before, origin));
    }

    /// The stretch holding 1-based `line` (the last one for lines past the end),
    /// with the lines before it.
    pub(super) fn origin(&self, line: usize) -> Option<(usize, Origin<'p>)> {
        self.stretches
            .iter()
            .find(|(before, count, _)| line > *before && line <= before + count)
            .or(self.stretches.last())
            .map(|&(before, _, origin)| (before, origin))
    }
}

/// In which order the kernel's text surrounds the program.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    /// Prologue, defines, program, epilogue: how kernel scenarios assemble.
    ProgramThenKernel,
    /// Prologue, defines, epilogue, program: used only to find which line of the
    /// program clashes with the kernel when the first order fails in kernel text.
    KernelThenProgram,
}

impl<'p> Input<'p> {
    pub(super) fn combine(&self, order: Order, stand_ins: &[&str]) -> Combined<'p> {
        let mut out = Combined::default();
        if let Some(kernel) = self.kernel {
            out.push(&kernel.image.prologue, Origin::Kernel);
        }
        if let Some((variant, names)) = self.defines.filter(|(_, d)| !d.is_empty()) {
            let lines: String = names
                .iter()
                .map(|(name, value)| format!(".set {name}, {value}\n"))
                .collect();
            out.push(&lines, Origin::Defines { variant, names });
        }
        let epilogue = self.kernel.map(|k| k.image.epilogue.as_str());
        if order == Order::KernelThenProgram {
            out.push(epilogue.unwrap_or_default(), Origin::Kernel);
            out.push(".text", Origin::Kernel);
        }
        for piece in self.pieces {
            let body = match piece {
                Piece::Inline { text, .. } => text.as_str(),
                Piece::File { file } => &file.text,
            };
            out.push(body, Origin::Piece(piece));
        }
        if order == Order::ProgramThenKernel {
            out.push(epilogue.unwrap_or_default(), Origin::Kernel);
        }
        for label in stand_ins {
            out.push(&format!(".text\n{label}:"), Origin::Kernel);
        }
        out
    }

    /// `error` with the variant being assembled named in its message.
    pub(super) fn in_variant(&self, mut error: AsmError) -> AsmError {
        if let Some(variant) = self.variant {
            error.message = format!("{} (assembling variant \"{variant}\")", error.message);
        }
        error
    }
}

/// Assemble `input`: the program's pieces after the `.set` lines of its
/// defines, inside the kernel's prologue and epilogue for kernel scenarios.
/// Errors are reported where the offending text is written.
pub(crate) fn assemble(doc: &Document, input: &Input) -> Result<Program, ScenarioError> {
    let combined = input.combine(Order::ProgramThenKernel, &[]);
    let program = isa::asm::assemble(&combined.text).map_err(|e| {
        let e = input.in_variant(e);
        match (combined.origin(e.line), input.kernel) {
            (Some((_, Origin::Kernel)), Some(kernel)) => {
                kernel_asm::kernel_text_error(doc, input, kernel, e)
            }
            _ => locate(doc, &combined, &e),
        }
    })?;
    if let Some(kernel) = input.kernel {
        kernel_asm::check_kernel_constants(doc, input, kernel, &program)?;
    }
    Ok(program)
}

/// The assembly error `e` (a line of the combined text) in its own file.
pub(super) fn locate(doc: &Document, combined: &Combined, e: &AsmError) -> ScenarioError {
    let Some((before, origin)) = combined.origin(e.line) else {
        return doc.error(&[Step::Field("program")], &e.message, e.hint.clone());
    };
    let line = e.line - before;
    let span_in = |text: &str| {
        let file = SourceFile::new("", text);
        file.offset(line, e.col)..file.offset(line, e.col + e.len)
    };
    match origin {
        Origin::Defines { variant, names } => {
            let name = names
                .keys()
                .nth(line - 1)
                .map(String::as_str)
                .unwrap_or_default();
            let path = [
                Step::Field("variants"),
                Step::Index(variant),
                Step::Field("defines"),
                Step::Key(name),
            ];
            doc.error(
                &path,
                format!("in define `{name}`: {}", e.message),
                e.hint.clone(),
            )
        }
        Origin::Piece(Piece::File { file }) => {
            file.error(span_in(&file.text), &e.message, e.hint.clone())
        }
        Origin::Piece(Piece::Inline { index, text }) => doc.string_error(
            &[Step::Field("program"), Step::Index(*index), Step::Index(0)],
            span_in(text),
            &e.message,
            e.hint.clone(),
        ),
        Origin::Kernel => doc.error(&[Step::Field("kernel")], &e.message, e.hint.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse::parse;

    /// Parse `ron`, write `files` into a fresh directory, assemble the program.
    fn assemble_in(ron: &str, files: &[(&str, &str)]) -> Result<Program, ScenarioError> {
        let dir = std::env::temp_dir().join(format!(
            "synclab-asm-test-{}-{}",
            std::process::id(),
            ron.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let (scenario, doc) = parse(SourceFile::new("t.ron", ron)).unwrap();
        let pieces = read_pieces(&doc, &scenario.program, &dir)?;
        let input = Input {
            pieces: &pieces,
            defines: None,
            kernel: None,
            variant: None,
        };
        assemble(&doc, &input)
    }

    #[test]
    fn pieces_assemble_in_order_into_one_program() {
        let p = assemble_in(
            "(program: [Asm(\"core0:\\n nop\"), Include(\"a.s\"), Asm(r#\"\nend: hlt\"#)])",
            &[("a.s", "mid: nop\n")],
        )
        .unwrap();
        assert_eq!(p.symbol("mid"), Some(p.symbol("core0").unwrap() + 1));
        assert_eq!(p.symbol("end"), Some(p.symbol("core0").unwrap() + 2));
    }

    #[test]
    fn errors_point_into_the_include_or_the_inline_string() {
        let e = assemble_in(
            "(program: [Asm(\"nop\"), Include(\"b.s\")])",
            &[("b.s", "nop\n  movv rax, 1\n")],
        )
        .unwrap_err();
        assert!(e.file.ends_with("b.s"), "{e}");
        assert_eq!((e.line, e.col), (2, 3));
        assert_eq!(e.hint.as_deref(), Some("did you mean `mov`?"));
        // An escaped string: `\t` is one character of the value, two in the file.
        let e = assemble_in("(program: [\n  Asm(\"nop\\n\\tjmp nowhere\"),\n])", &[]).unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.col), ("t.ron", 2, 19));
        // A raw string continues over lines of the file.
        let e = assemble_in("(program: [Asm(r#\"\n  nop\n  foo\"#)])", &[]).unwrap_err();
        assert_eq!((e.line, e.col), (3, 3));
    }

    #[test]
    fn a_missing_include_is_an_error_at_the_include() {
        let e = assemble_in("(program: [\n  Include(\"nope.s\"),\n])", &[]).unwrap_err();
        assert_eq!((e.line, e.col), (2, 11));
        assert_eq!(e.message, "included file \"nope.s\" not found");
    }
}
