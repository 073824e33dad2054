//! Feeds the source lines to the parser, expanding `.rept N` ... `.endr` blocks
//! (nested blocks too) and skipping the branches of conditional blocks
//! (`.if`... `.endif`, see [`super::conditional`]) that are not taken. Repeated
//! statements keep their source line numbers.

use super::conditional::{Condition, Conditionals};
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
    Rept {
        span: Span,
        count: Expr,
    },
    Endr {
        span: Span,
    },
    /// `.if`, `.ifdef`, `.ifndef`.
    If {
        span: Span,
        condition: Condition,
    },
    /// `.elseif` (with a condition) or `.else`.
    Branch {
        span: Span,
        directive: String,
        condition: Option<Condition>,
    },
    Endif {
        span: Span,
    },
    Statement,
}

/// The directive a line starts with, lower-cased, and its span; lines that do
/// not lex have none (the parser reports them, unless they are skipped).
fn leading_directive(text: &str) -> Option<(String, Span, Vec<Token>)> {
    let mut tokens = tokenize(text).ok()?;
    match tokens.first() {
        Some(Token {
            tok: Tok::Ident(word),
            span,
        }) if word.starts_with('.') => {
            let (word, span) = (word.to_ascii_lowercase(), *span);
            tokens.remove(0);
            Some((word, span, tokens))
        }
        _ => None,
    }
}

/// Whether `directive` opens a conditional block.
fn opens_conditional(directive: &str) -> bool {
    matches!(directive, ".if" | ".ifdef" | ".ifndef")
}

/// Classifies `text`.
fn block_of(text: &str) -> Result<Block, SpanError> {
    let Some((word, span, rest)) = leading_directive(text) else {
        return Ok(Block::Statement);
    };
    let mut cursor = Cursor::new(&rest, text.len());
    if opens_conditional(&word) {
        let condition = Condition::parse(&word, &mut cursor)?;
        return Ok(Block::If { span, condition });
    }
    if word == ".elseif" || word == ".else" {
        let condition = match word.as_str() {
            ".elseif" => Some(Condition::parse(&word, &mut cursor)?),
            _ => None,
        };
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of statement"));
        }
        return Ok(Block::Branch {
            span,
            directive: word,
            condition,
        });
    }
    if word == ".endif" {
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of statement"));
        }
        return Ok(Block::Endif { span });
    }
    if word == ".rept" {
        let count = cursor.expr(false)?;
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of statement"));
        }
        return Ok(Block::Rept { span, count });
    }
    if word == ".endr" {
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of statement"));
        }
        return Ok(Block::Endr { span });
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
        let mut conditionals = Conditionals::default();
        let mut line = range.start;
        while line < range.end {
            let text = self.lines.get(line).copied().unwrap_or("");
            self.spend(line, Span::new(0, text.len()))?;
            if !conditionals.assembling() {
                self.skip_line(line, text, &mut conditionals)?;
                line += 1;
                continue;
            }
            let on_line = |error: SpanError| error.on_line(line + 1, text);
            match block_of(text).map_err(on_line)? {
                Block::Statement => {
                    self.parser.parse_line(line, text).map_err(on_line)?;
                }
                Block::If { span, condition } => {
                    let parser = &self.parser;
                    conditionals
                        .open(line, span, || condition.holds(parser))
                        .map_err(on_line)?;
                }
                Block::Branch {
                    span,
                    directive,
                    condition,
                } => {
                    let parser = &self.parser;
                    let holds = condition.as_ref().map(|c| move || c.holds(parser));
                    let holds = holds.as_ref().map(|h| h as &dyn Fn() -> _);
                    conditionals
                        .branch(&directive, span, holds)
                        .map_err(on_line)?;
                }
                Block::Endif { span } => conditionals.close(span).map_err(on_line)?,
                Block::Endr { span } => {
                    return Err(on_line(SpanError::new(span, "`.endr` without `.rept`")));
                }
                Block::Rept { span, count } => {
                    line = self.repeat(line, span, &count, range.end, nesting)?;
                }
            }
            line += 1;
        }
        match conditionals.unterminated() {
            Some((line, error)) => Err(self.error(line, error)),
            None => Ok(()),
        }
    }

    /// A line inside a branch that is not assembled: only conditional directives
    /// matter (to find where the branch ends); nothing else is parsed.
    fn skip_line(
        &self,
        line: usize,
        text: &str,
        conditionals: &mut Conditionals,
    ) -> Result<(), AsmError> {
        let Some((word, span, rest)) = leading_directive(text) else {
            return Ok(());
        };
        let on_line = |error: SpanError| error.on_line(line + 1, text);
        if opens_conditional(&word) {
            conditionals.open(line, span, || Ok(false)).map_err(on_line)
        } else if word == ".endif" {
            conditionals.close(span).map_err(on_line)
        } else if word == ".elseif" || word == ".else" {
            let parser = &self.parser;
            let condition = || {
                let mut cursor = Cursor::new(&rest, text.len());
                Condition::parse(&word, &mut cursor)?.holds(parser)
            };
            let holds = (word == ".elseif").then_some(&condition as &dyn Fn() -> _);
            conditionals.branch(&word, span, holds).map_err(on_line)
        } else {
            Ok(())
        }
    }

    /// Expands the `.rept` on `line`; returns the line of its `.endr`.
    fn repeat(
        &mut self,
        line: usize,
        span: Span,
        count: &Expr,
        end: usize,
        nesting: usize,
    ) -> Result<usize, AsmError> {
        let endr = self
            .matching_endr(line + 1, end)
            .ok_or_else(|| self.error(line, SpanError::new(span, "`.rept` without `.endr`")))?;
        if nesting >= MAX_NESTING {
            let message = format!("`.rept` blocks nest deeper than {MAX_NESTING}");
            return Err(self.error(line, SpanError::new(span, message)));
        }
        let repetitions = self
            .parser
            .constant_value(count)
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
            self.parse_range(line + 1..endr, nesting + 1)?;
        }
        Ok(endr)
    }
}
