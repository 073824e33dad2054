//! Turning input errors into rustc-style reports (file:line:col, caret, hint).
//!
//! Every error caused by what the user gave us (a source file, a flag value) becomes
//! a [`BadInput`], which `main` prints with `miette` and turns into exit code 2.

use miette::{Diagnostic, NamedSource, SourceSpan};

/// An error in user input, pointing into the text it came from.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct SourceError {
    message: String,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    hint: Option<String>,
}

impl SourceError {
    /// An error at 1-based `line`:`col` of `text` (the contents of `file`), `len` chars wide.
    pub fn at(
        file: &str,
        text: &str,
        (line, col, len): (usize, usize, usize),
        message: impl Into<String>,
        hint: Option<String>,
    ) -> SourceError {
        let offset = byte_offset(text, line, col);
        let message = message.into();
        SourceError {
            label: format!("{file}:{line}:{col}"),
            message,
            source_code: NamedSource::new(file, text.to_string()),
            span: (offset, len.max(1)).into(),
            hint,
        }
    }
}

/// Byte offset of 1-based `line`:`col` (columns count characters), clamped to the text.
fn byte_offset(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let in_line: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + in_line.min(l.trim_end_matches('\n').len());
        }
        offset += l.len();
    }
    text.len()
}

/// What went wrong in a subcommand: bad input (exit 2) or a failure of the run (exit 1).
#[derive(Debug)]
pub enum CliError {
    /// The user's input is wrong; the report says where and what to do.
    BadInput(miette::Report),
    /// The input was fine but the run failed or an expectation did not hold.
    Failed(miette::Report),
}

impl CliError {
    /// A bad-input error with just a message and a hint (no source to point into).
    pub fn bad_input(message: impl Into<String>, hint: impl Into<String>) -> CliError {
        CliError::BadInput(miette::miette!(help = hint.into(), "{}", message.into()))
    }
}

impl From<SourceError> for CliError {
    fn from(e: SourceError) -> CliError {
        CliError::BadInput(miette::Report::new(e))
    }
}

impl From<scenarios::scenario::ScenarioError> for CliError {
    /// A scenario that does not load (or names a variant it lacks) is bad input,
    /// rendered by the loader with the offending text underlined.
    fn from(e: scenarios::scenario::ScenarioError) -> CliError {
        CliError::BadInput(e.to_report())
    }
}

/// Read a file named on the command line, as a bad-input error if it can't be read.
pub fn read_input(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| {
        CliError::bad_input(
            format!("cannot read {}: {e}", path.display()),
            "check the path; it is relative to the current directory",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters_from_one() {
        let text = "ab\ncdé f\n";
        assert_eq!(byte_offset(text, 1, 1), 0);
        assert_eq!(byte_offset(text, 2, 1), 3);
        assert_eq!(byte_offset(text, 2, 5), 3 + 5); // 'é' is two bytes
        assert_eq!(byte_offset(text, 9, 1), text.len());
    }
}
