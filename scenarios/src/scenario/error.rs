//! Scenario errors: a message and a hint located at `file:line:col`, renderable by
//! `miette` with the offending text underlined.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

use crate::litmus::floor_char_boundary;

/// A file an error can point into: the scenario itself or an included `.s` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The file's path as shown in messages.
    pub name: String,
    /// Its full text.
    pub text: Arc<str>,
}

impl SourceFile {
    /// A file named `name` holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset);
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (
            before.matches('\n').count() + 1,
            before[line_start..].chars().count() + 1,
        )
    }

    /// Byte offset of 1-based `line`:`col` (columns count characters), clamped to
    /// the text.
    pub fn offset(&self, line: usize, col: usize) -> usize {
        let mut start = 0;
        for (i, text) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                let body = text.trim_end_matches('\n');
                let in_line: usize = body
                    .chars()
                    .take(col.saturating_sub(1))
                    .map(char::len_utf8)
                    .sum();
                return start + in_line;
            }
            start += text.len();
        }
        self.text.len()
    }

    /// An error underlining the bytes `span` of this file.
    pub fn error(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> ScenarioError {
        let start = floor_char_boundary(&self.text, span.start);
        let end = floor_char_boundary(&self.text, span.end).max(start);
        let (line, col) = self.line_col(start);
        ScenarioError {
            file: self.name.clone(),
            line,
            col,
            message: message.into(),
            hint,
            location: Some(Box::new(Location {
                source: NamedSource::new(&self.name, Arc::clone(&self.text)),
                span: (start, end - start).into(),
            })),
        }
    }
}

/// Why a scenario cannot be loaded or built.
///
/// `line` and `col` are 1-based (columns count characters); both are 0 when the
/// error has no place in a file (an unreadable file, an unknown variant name).
/// [`ScenarioError::to_report`] renders it like a compiler error, with the file's
/// text and the offending part underlined.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The file the error is in, as given to the loader (or resolved for includes).
    pub file: String,
    /// 1-based line, 0 if not located.
    pub line: usize,
    /// 1-based column in characters, 0 if not located.
    pub col: usize,
    /// What is wrong, saying what was expected.
    pub message: String,
    /// How to fix it, e.g. the nearest known name.
    pub hint: Option<String>,
    /// The file's text and the underlined part (boxed: errors travel in `Result`s).
    location: Option<Box<Location>>,
}

/// The text an error underlines.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Location {
    source: NamedSource<Arc<str>>,
    span: SourceSpan,
}

/// How a [`ScenarioError`] renders through `miette`: the message as the title,
/// `file:line:col` as the label under the offending text, like the CLI's errors.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
struct Rendered {
    message: String,
    #[source_code]
    source_code: Option<NamedSource<Arc<str>>>,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    hint: Option<String>,
}

impl ScenarioError {
    /// An error about `file` as a whole (it cannot be read, a name given by the
    /// caller does not exist).
    pub fn unlocated(
        file: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> ScenarioError {
        ScenarioError {
            file: file.into(),
            line: 0,
            col: 0,
            message: message.into(),
            hint,
            location: None,
        }
    }

    /// The error as a `miette` report: the message, the file's text with the
    /// offending part underlined and labelled `file:line:col`, and the hint.
    pub fn to_report(&self) -> miette::Report {
        let (message, label) = match self.line {
            0 => (format!("{}: {}", self.file, self.message), String::new()),
            line => (
                self.message.clone(),
                format!("{}:{line}:{}", self.file, self.col),
            ),
        };
        miette::Report::new(Rendered {
            message,
            source_code: self.location.as_ref().map(|l| l.source.clone()),
            span: self.location.as_ref().map(|l| l.span),
            label,
            hint: self.hint.clone(),
        })
    }

    /// Byte range of the underlined text in its file, if located.
    pub fn span(&self) -> Option<Range<usize>> {
        self.location
            .as_ref()
            .map(|l| l.span.offset()..l.span.offset() + l.span.len())
    }
}

impl fmt::Display for ScenarioError {
    /// `file:line:col: message` (just `file: message` when not located); the hint
    /// is in `hint` and in [`ScenarioError::to_report`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

pub use isa::suggest::nearest;

/// A hint for an unknown `name`: the nearest of `known` (`did you mean "x"?`), or
/// else the list of what is allowed (`expected one of: a, b`).
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str> + Clone) -> String {
    match nearest(name, known.clone()) {
        Some(near) => format!("did you mean \"{near}\"?"),
        None => {
            let all: Vec<&str> = known.into_iter().collect();
            if all.is_empty() {
                "nothing is defined by that kind of name here".to_string()
            } else {
                format!("expected one of: {}", all.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_round_trip_over_multibyte_text() {
        let file = SourceFile::new("f.ron", "ab\ncdé f\n");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(3 + 5), (2, 5)); // after the two-byte 'é'
        assert_eq!(file.offset(2, 5), 3 + 5);
        assert_eq!(file.offset(9, 1), file.text.len());
    }

    #[test]
    fn hints_name_the_nearest_or_list_all() {
        let known = ["ifetch_coherence", "jitter", "seed"];
        assert_eq!(
            did_you_mean("ifetch_coherance", known),
            "did you mean \"ifetch_coherence\"?"
        );
        assert_eq!(
            did_you_mean("zzzzzz", known),
            "expected one of: ifetch_coherence, jitter, seed"
        );
    }

    #[test]
    fn errors_display_their_location_and_render_with_miette() {
        let file = SourceFile::new("s.ron", "(\n  bad: 1,\n)\n");
        let e = file.error(4..7, "unknown field \"bad\"", Some("remove it".into()));
        assert_eq!(e.to_string(), "s.ron:2:3: unknown field \"bad\"");
        assert_eq!(e.span(), Some(4..7));
        let rendered = format!("{:?}", e.to_report());
        assert!(rendered.contains("remove it"), "{rendered}");
        assert!(rendered.contains("bad: 1"), "{rendered}");
    }
}
