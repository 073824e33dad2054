//! Conditional assembly: `.if EXPR`, `.ifdef NAME`, `.ifndef NAME`, `.elseif EXPR`,
//! `.else`, `.endif`, nestable, evaluated like GNU `as` on the constants and
//! symbols defined on earlier lines.
//!
//! [`Conditionals`] is the stack of open blocks of one source range (a `.rept`
//! body has its own, so a block cannot straddle a repetition boundary).

use super::error::{Span, SpanError, SpanResult, nearest};
use super::expr::{self, Cursor, EvalError, Expr};
use super::lexer::{Tok, Token};
use super::operand::SymbolFacts;
use super::parse::Parser;

/// What a conditional directive tests.
pub(crate) enum Condition {
    /// `.if EXPR` / `.elseif EXPR`: the expression is not zero.
    NonZero(Expr),
    /// `.ifdef NAME` (`defined: true`) / `.ifndef NAME` (`defined: false`).
    Defined { name: String, defined: bool },
}

impl Condition {
    /// Parses the operand of `directive` (`.if`, `.elseif`, `.ifdef`, `.ifndef`).
    pub(crate) fn parse(directive: &str, cursor: &mut Cursor<'_>) -> SpanResult<Condition> {
        let condition = match directive {
            ".ifdef" | ".ifndef" => match cursor.next() {
                Some(Token {
                    tok: Tok::Ident(name),
                    ..
                }) => Condition::Defined {
                    name: name.clone(),
                    defined: directive == ".ifdef",
                },
                _ => {
                    return Err(SpanError::new(
                        cursor.prev_span(),
                        format!("`{directive}` needs a symbol name"),
                    ));
                }
            },
            _ => Condition::NonZero(cursor.expr(false)?),
        };
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of statement"));
        }
        Ok(condition)
    }

    /// Whether the condition holds, given what `parser` has defined so far.
    pub(crate) fn holds(&self, parser: &Parser) -> SpanResult<bool> {
        match self {
            Condition::Defined { name, defined } => Ok(parser.is_defined(name) == *defined),
            Condition::NonZero(value) => {
                if let Some(span) = here_span(value) {
                    return Err(SpanError::new(span, "a condition cannot use `.`")
                        .with_hint("conditions are decided before addresses are known"));
                }
                match expr::eval(value, &|name| parser.constant(name), 0) {
                    Ok(result) => Ok(result != 0),
                    Err(EvalError::Invalid(error)) => Err(error),
                    Err(EvalError::Undefined(name, span)) => {
                        let error = SpanError::new(
                            span,
                            format!("`{name}` is not a constant defined before this line"),
                        );
                        Err(match nearest(&name, parser.constant_names()) {
                            Some(near) => error.with_hint(format!("did you mean `{near}`?")),
                            None => error.with_hint(
                                "conditions may only use numbers and constants set earlier \
                                 with `.set`/`.equ` (labels have no value yet)",
                            ),
                        })
                    }
                }
            }
        }
    }
}

/// The span of a `.` in `value`, if any.
fn here_span(value: &Expr) -> Option<Span> {
    match value {
        Expr::Here(span) => Some(*span),
        Expr::Unary(_, inner) => here_span(inner),
        Expr::Binary(_, lhs, rhs) => here_span(lhs).or_else(|| here_span(rhs)),
        Expr::Num(..) | Expr::Symbol(..) | Expr::Reg(..) => None,
    }
}

/// One open `.if` block.
struct Block {
    /// 0-based line and span of the opening directive, for "unterminated" errors.
    line: usize,
    span: Span,
    /// Whether the current branch is assembled.
    active: bool,
    /// Whether some branch was (or, inside a skipped block, counts as) taken, so
    /// later `.elseif`/`.else` branches are skipped.
    taken: bool,
    /// Whether `.else` was seen (no branch may follow it).
    in_else: bool,
}

/// The open conditional blocks of one source range.
#[derive(Default)]
pub(crate) struct Conditionals {
    blocks: Vec<Block>,
}

impl Conditionals {
    /// Whether statements at this point are assembled.
    pub(crate) fn assembling(&self) -> bool {
        self.blocks.last().is_none_or(|block| block.active)
    }

    /// Opens a block; `holds` is evaluated only when the enclosing code is assembled
    /// (GNU does not look at the conditions of skipped blocks).
    pub(crate) fn open(
        &mut self,
        line: usize,
        span: Span,
        holds: impl FnOnce() -> SpanResult<bool>,
    ) -> SpanResult<()> {
        let (active, taken) = if self.assembling() {
            let holds = holds()?;
            (holds, holds)
        } else {
            (false, true)
        };
        self.blocks.push(Block {
            line,
            span,
            active,
            taken,
            in_else: false,
        });
        Ok(())
    }

    /// `.elseif` (with its condition) or `.else` (`holds` is `None`).
    pub(crate) fn branch(
        &mut self,
        directive: &str,
        span: Span,
        holds: Option<&dyn Fn() -> SpanResult<bool>>,
    ) -> SpanResult<()> {
        let Some(block) = self.blocks.last_mut() else {
            return Err(SpanError::new(span, format!("`{directive}` without `.if`"))
                .with_hint("open the block with `.if`, `.ifdef` or `.ifndef` first"));
        };
        if block.in_else {
            return Err(SpanError::new(span, format!("`{directive}` after `.else`"))
                .with_hint("`.else` must be the last branch of its `.if` block"));
        }
        block.active = match holds {
            _ if block.taken => false,
            Some(holds) => holds()?,
            None => true,
        };
        block.taken |= block.active;
        block.in_else = holds.is_none();
        Ok(())
    }

    /// `.endif`.
    pub(crate) fn close(&mut self, span: Span) -> SpanResult<()> {
        self.blocks.pop().map(|_| ()).ok_or_else(|| {
            SpanError::new(span, "`.endif` without `.if`")
                .with_hint("remove it, or open the block with `.if` first")
        })
    }

    /// The innermost block still open at the end of the range: its line and the
    /// error to report there.
    pub(crate) fn unterminated(&self) -> Option<(usize, SpanError)> {
        self.blocks.last().map(|block| {
            (
                block.line,
                SpanError::new(block.span, "`.if` without `.endif`")
                    .with_hint("close the block with `.endif` (inside the same `.rept` body)"),
            )
        })
    }
}
