//! The public error type and the internal, span-based error used while assembling.

use std::fmt;

/// Why a source text could not be assembled, and where.
///
/// `line` and `col` are 1-based; `col` and `len` count characters of the
/// offending text on that line, so an editor can underline it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    /// 1-based source line.
    pub line: usize,
    /// 1-based column (in characters) where the offending text starts.
    pub col: usize,
    /// Length (in characters) of the offending text; at least 1.
    pub len: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is a useful suggestion.
    pub hint: Option<String>,
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AsmError {}

/// A byte range inside one source line.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub(crate) fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// An error located by byte span on a line not yet known to the code raising it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SpanError {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}

impl SpanError {
    pub(crate) fn new(span: Span, message: impl Into<String>) -> Self {
        SpanError {
            span,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Places the error on `line` (1-based) whose text is `text`, converting
    /// byte offsets to character columns.
    pub(crate) fn on_line(self, line: usize, text: &str) -> AsmError {
        let start = self.span.start.min(text.len());
        let end = self.span.end.clamp(start, text.len());
        let chars_before = text.get(..start).map_or(start, |s| s.chars().count());
        let chars_inside = text
            .get(start..end)
            .map_or(end - start, |s| s.chars().count());
        AsmError {
            line,
            col: chars_before + 1,
            len: chars_inside.max(1),
            message: self.message,
            hint: self.hint,
        }
    }
}

/// Result of an operation that fails with a located error.
pub(crate) type SpanResult<T> = Result<T, SpanError>;

pub(crate) use crate::suggest::nearest;

/// `value` in hex with its sign (`-0x10`, not a 128-bit two's complement).
pub(crate) fn signed_hex(value: i128) -> String {
    if value < 0 {
        format!("-{:#x}", value.unsigned_abs())
    } else {
        format!("{value:#x}")
    }
}

#[cfg(test)]
mod nearest_tests {
    use super::nearest;

    #[test]
    fn swapped_neighbours_count_as_one_edit() {
        assert_eq!(nearest("mvo", ["movd", "mov", "xor"]), Some("mov"));
        assert_eq!(
            nearest("lfecne", ["lfence", "mfence", "sfence"]),
            Some("lfence")
        );
        assert_eq!(nearest("zzzz", ["mov"]), None);
    }
}
