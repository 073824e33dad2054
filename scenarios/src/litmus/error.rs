//! Errors with positions, and the source text they point into.

use std::fmt;

/// A problem with a litmus file (or with a test's translation), located in the source.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LitmusError {
    /// File name as given to the parser.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// The offending source text (empty at end of input).
    pub text: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for LitmusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )?;
        if self.text.is_empty() {
            f.write_str(" (at end of input)")?;
        } else {
            write!(f, ": `{}`", self.text)?;
        }
        write!(f, "\n  hint: {}", self.hint)
    }
}

/// A litmus file's text with comments blanked out, so that every sub-slice can be
/// mapped back to a line and column of the original.
pub(crate) struct Source<'a> {
    file: &'a str,
    original: &'a str,
    /// Same length as `original`; `(* ... *)` replaced by spaces (newlines kept).
    pub(crate) text: String,
}

impl<'a> Source<'a> {
    /// Blank out comments; fails on an unterminated `(*`.
    pub(crate) fn new(file: &'a str, original: &'a str) -> Result<Source<'a>, LitmusError> {
        let mut src = Source {
            file,
            original,
            text: String::with_capacity(original.len()),
        };
        let mut rest = original;
        while let Some(open) = rest.find("(*") {
            src.text.push_str(&rest[..open]);
            let Some(close) = rest[open + 2..].find("*)") else {
                let at = original.len() - rest.len() + open;
                return Err(src.error_at(
                    at,
                    2,
                    "unterminated comment",
                    "close the comment with `*)`",
                ));
            };
            let comment = &rest[open..open + 2 + close + 2];
            for c in comment.chars() {
                // One space per byte keeps offsets aligned with `original`.
                let blank = if c == '\n' {
                    "\n"
                } else {
                    &"    "[..c.len_utf8()]
                };
                src.text.push_str(blank);
            }
            rest = &rest[open + 2 + close + 2..];
        }
        src.text.push_str(rest);
        Ok(src)
    }

    /// Byte offset of `part`, which must be a sub-slice of `self.text`.
    pub(crate) fn offset(&self, part: &str) -> usize {
        (part.as_ptr() as usize)
            .saturating_sub(self.text.as_ptr() as usize)
            .min(self.text.len())
    }

    /// An error pointing at `part` (a sub-slice of `self.text`).
    pub(crate) fn error(
        &self,
        part: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> LitmusError {
        self.error_at(self.offset(part), part.len(), message, hint)
    }

    /// An error pointing at `len` bytes from byte offset `at`.
    pub(crate) fn error_at(
        &self,
        at: usize,
        len: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> LitmusError {
        let at = floor_char_boundary(self.original, at);
        let before = &self.original[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.original[line_start..at].chars().count() + 1;
        let end = floor_char_boundary(self.original, (at + len).min(self.original.len()));
        let text = self.original[at..end]
            .lines()
            .next()
            .unwrap_or("")
            .trim_end()
            .to_string();
        LitmusError {
            file: self.file.to_string(),
            line,
            col,
            message: message.into(),
            text,
            hint: hint.into(),
        }
    }
}

/// The largest char boundary of `s` at or before byte `i` (clamped to its length),
/// so a span computed in bytes never splits a character.
pub(crate) fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use crate::litmus::parse;

    #[test]
    fn positions_count_characters_and_survive_comments() {
        let text = "X86 t (* é → ü *) oops\n{ }\n";
        let e = parse("f.litmus", text)
            .err()
            .map(|e| (e.line, e.col, e.text));
        assert_eq!(e, Some((1, 19, "oops".to_string())));
        let text = "X86 t\n(* a\nmulti-line ü comment *) { x=0; }\n P0 ;\n FOO ;\nexists (x=0)";
        let e = parse("f.litmus", text)
            .err()
            .map(|e| (e.line, e.col, e.text));
        assert_eq!(e, Some((5, 2, "FOO".to_string())));
    }
}
