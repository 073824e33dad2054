//! The scenario's program: inline `Asm("...")` strings and `Include("file.s")`
//! files assembled together in order, with a variant's defines first, and every
//! assembly error mapped back to the file, line and column it came from.

use std::collections::BTreeMap;
use std::path::Path;

use isa::asm::{AsmError, Program};

use super::document::Document;
use super::error::{ScenarioError, SourceFile};
use super::ron_tree::Step;
use super::schema::Source;

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
enum Origin<'p> {
    /// The `.set` lines of `variants[variant].defines`, one per define in order.
    Defines { variant: usize, names: Vec<&'p str> },
    /// A piece of the program.
    Piece(&'p Piece),
}

/// Assemble `pieces` after the `.set` lines of `defines` (from variant number
/// `variant`), reporting errors where the offending text is written; `for_variant`
/// names the configuration being assembled in messages.
pub(crate) fn assemble(
    doc: &Document,
    pieces: &[Piece],
    defines: Option<(usize, &BTreeMap<String, i64>)>,
    for_variant: Option<&str>,
) -> Result<Program, ScenarioError> {
    let mut text = String::new();
    // (lines before this stretch, its line count, origin)
    let mut stretches: Vec<(usize, usize, Origin)> = Vec::new();
    let mut push = |text: &mut String, body: &str, origin| {
        let before = text.lines().count();
        text.push_str(body);
        if !body.is_empty() && !body.ends_with('\n') {
            text.push('\n');
        }
        stretches.push((before, text.lines().count() - before, origin));
    };
    if let Some((variant, defines)) = defines.filter(|(_, d)| !d.is_empty()) {
        let lines: String = defines
            .iter()
            .map(|(name, value)| format!(".set {name}, {value}\n"))
            .collect();
        let names = defines.keys().map(String::as_str).collect();
        push(&mut text, &lines, Origin::Defines { variant, names });
    }
    for piece in pieces {
        let body = match piece {
            Piece::Inline { text, .. } => text.as_str(),
            Piece::File { file } => &file.text,
        };
        push(&mut text, body, Origin::Piece(piece));
    }
    isa::asm::assemble(&text).map_err(|mut e| {
        if let Some(variant) = for_variant {
            e.message = format!("{} (assembling variant \"{variant}\")", e.message);
        }
        locate(doc, &stretches, &e)
    })
}

/// The assembly error `e` (a line of the combined text) in its own file.
fn locate(doc: &Document, stretches: &[(usize, usize, Origin)], e: &AsmError) -> ScenarioError {
    let found = stretches
        .iter()
        .find(|(before, count, _)| e.line > *before && e.line <= before + count)
        .or(stretches.last());
    let Some((before, _, origin)) = found else {
        return doc.error(&[Step::Field("program")], &e.message, e.hint.clone());
    };
    let line = e.line - before;
    let span_in = |text: &str| {
        let file = SourceFile::new("", text);
        file.offset(line, e.col)..file.offset(line, e.col + e.len)
    };
    match origin {
        Origin::Defines { variant, names } => {
            let name = names.get(line - 1).copied().unwrap_or_default();
            let path = [
                Step::Field("variants"),
                Step::Index(*variant),
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
        assemble(&doc, &pieces, None, None)
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
