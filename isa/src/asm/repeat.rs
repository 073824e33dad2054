//! Feeds the source lines to the parser, expanding `.rept N` ... `.endr` blocks
//! (nested blocks too). Repeated statements keep their source line numbers.

use super::error::{AsmError, Span, SpanError};
use super::expr::{Cursor, Expr};
use super::lexer::{Tok, Token, tokenize};
use super::parse::{Item, Parser};
use std::ops::Range;

/// Most statements (and repetitions) an expansion may produce.
const MAX_EXPANDED_LINES: usize = 1 << 20;
/// Deepest nesting of `.rept` blocks.
const MAX_NESTING: usize = 32;

/// What a line means for block structure.
enum Block {
    Rept { span: Span, count: Expr },
    Endr { span: Span },
    Statement,
}

/// Classifies `text`; lines that do not lex are statements (the parser reports them).
fn block_of(text: &str) -> Result<Block, SpanError> {
    let Ok(tokens) = tokenize(text) else {
        return Ok(Block::Statement);
    };
    let Some(Token {
        tok: Tok::Ident(word),
        span,
    }) = tokens.first()
    else {
        return Ok(Block::Statement);
    };
    let rest = tokens.get(1..).unwrap_or_default();
    let mut cursor = Cursor::new(rest, text.len());
    if word.eq_ignore_ascii_case(".rept") {
        let count = cursor.expr(false)?;
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of statement"));
        }
        return Ok(Block::Rept { span: *span, count });
    }
    if word.eq_ignore_ascii_case(".endr") {
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of statement"));
        }
        return Ok(Block::Endr { span: *span });
    }
    Ok(Block::Statement)
}

/// Parses `lines` into statements.
pub(crate) fn parse_source(lines: &[&str]) -> Result<Vec<Item>, AsmError> {
    let mut expansion = Expansion {
        parser: Parser::new(),
        lines,
        budget: MAX_EXPANDED_LINES,
    };
    expansion.parse_range(0..lines.len(), 0)?;
    Ok(expansion.parser.items)
}

struct Expansion<'a> {
    parser: Parser,
    lines: &'a [&'a str],
    /// Statements and repetitions still allowed.
    budget: usize,
}

impl Expansion<'_> {
    fn error(&self, line: usize, error: SpanError) -> AsmError {
        error.on_line(line + 1, self.lines.get(line).copied().unwrap_or(""))
    }

    fn spend(&mut self, line: usize, span: Span) -> Result<(), AsmError> {
        self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            let message = format!("`.rept` expands to more than {MAX_EXPANDED_LINES} statements");
            self.error(line, SpanError::new(span, message))
        })?;
        Ok(())
    }

    /// The line of the `.endr` closing the block whose body starts at `start`.
    fn matching_endr(&self, start: usize, end: usize) -> Option<usize> {
        let mut depth = 0usize;
        for line in start..end {
            match block_of(self.lines.get(line).copied().unwrap_or("")) {
                Ok(Block::Rept { .. }) => depth += 1,
                Ok(Block::Endr { .. }) if depth == 0 => return Some(line),
                Ok(Block::Endr { .. }) => depth -= 1,
                _ => {}
            }
        }
        None
    }

    fn parse_range(&mut self, range: Range<usize>, nesting: usize) -> Result<(), AsmError> {
        let mut line = range.start;
        while line < range.end {
            let text = self.lines.get(line).copied().unwrap_or("");
            match block_of(text).map_err(|error| self.error(line, error))? {
                Block::Statement => {
                    self.spend(line, Span::new(0, text.len()))?;
                    self.parser
                        .parse_line(line, text)
                        .map_err(|error| self.error(line, error))?;
                    line += 1;
                }
                Block::Endr { span } => {
                    return Err(self.error(line, SpanError::new(span, "`.endr` without `.rept`")));
                }
                Block::Rept { span, count } => {
                    let end = self.matching_endr(line + 1, range.end).ok_or_else(|| {
                        self.error(line, SpanError::new(span, "`.rept` without `.endr`"))
                    })?;
                    if nesting >= MAX_NESTING {
                        let message = format!("`.rept` blocks nest deeper than {MAX_NESTING}");
                        return Err(self.error(line, SpanError::new(span, message)));
                    }
                    let repetitions = self
                        .parser
                        .constant_value(&count)
                        .and_then(|n| usize::try_from(n).ok());
                    let repetitions = repetitions.ok_or_else(|| {
                        let error = SpanError::new(
                            count.span(),
                            "the `.rept` count must be a constant of 0 or more",
                        )
                        .with_hint("use a number or a constant defined earlier with `.equ`");
                        self.error(line, error)
                    })?;
                    for _ in 0..repetitions {
                        self.spend(line, span)?;
                        self.parse_range(line + 1..end, nesting + 1)?;
                    }
                    line = end + 1;
                }
            }
        }
        Ok(())
    }
}
