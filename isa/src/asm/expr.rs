//! Integer expressions over symbols: parsing and evaluation.
//!
//! Values are computed in `i128` so that both `-1` and `0xffff_ffff_ffff_ffff`
//! are representable; each use site decides which range it accepts.

use super::error::{Span, SpanError, SpanResult};
use super::lexer::{Tok, Token};
use super::table;
use iced_x86::Register;

/// A binary operator.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Shl,
    Shr,
    And,
    Or,
    Xor,
    /// Comparisons give -1 for true and 0 for false, as in GNU `as`.
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    /// `&&` and `||` give 1 for true and 0 for false, as in GNU `as`.
    LogicalAnd,
    LogicalOr,
}

/// A unary operator.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum UnOp {
    Neg,
    Not,
    /// `!`: 1 when the operand is 0, else 0.
    LogicalNot,
}

/// The binding level (0 binds loosest) and meaning of a binary operator token.
/// The levels are GNU `as`'s: `* / % << >>` bind tightest, then `| ^ &`, then
/// `+ -`, then the comparisons, then `&&`, then `||`.
fn binary_operator(tok: &Tok) -> Option<(usize, BinOp)> {
    let operator = match tok {
        Tok::Op("||") => (0, BinOp::LogicalOr),
        Tok::Op("&&") => (1, BinOp::LogicalAnd),
        Tok::Op("==") => (2, BinOp::Eq),
        Tok::Op("!=" | "<>") => (2, BinOp::Ne),
        Tok::Op("<") => (2, BinOp::Lt),
        Tok::Op(">") => (2, BinOp::Gt),
        Tok::Op("<=") => (2, BinOp::Le),
        Tok::Op(">=") => (2, BinOp::Ge),
        Tok::Punct('+') => (3, BinOp::Add),
        Tok::Punct('-') => (3, BinOp::Sub),
        Tok::Punct('|') => (4, BinOp::Or),
        Tok::Punct('^') => (4, BinOp::Xor),
        Tok::Punct('&') => (4, BinOp::And),
        Tok::Punct('*') => (5, BinOp::Mul),
        Tok::Punct('/') => (5, BinOp::Div),
        Tok::Punct('%') => (5, BinOp::Rem),
        Tok::Punct('<') => (5, BinOp::Shl),
        Tok::Punct('>') => (5, BinOp::Shr),
        _ => return None,
    };
    Some(operator)
}

/// The tightest binding level of [`binary_operator`].
const TIGHTEST_LEVEL: usize = 5;

/// An expression tree. Registers only appear inside memory operands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Expr {
    Num(i128, Span),
    Symbol(String, Span),
    /// `.`: the address of the current statement.
    Here(Span),
    Reg(Register, Span),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// The span of the first leaf, for error messages about the whole expression.
    pub(crate) fn span(&self) -> Span {
        match self {
            Expr::Num(_, span) | Expr::Symbol(_, span) | Expr::Here(span) | Expr::Reg(_, span) => {
                *span
            }
            Expr::Unary(_, inner) => inner.span(),
            Expr::Binary(_, lhs, rhs) => lhs.span().to(rhs.span()),
        }
    }

    /// Calls `visit` for every symbol name in the expression.
    pub(crate) fn for_each_symbol<'a>(&'a self, visit: &mut dyn FnMut(&'a str, Span)) {
        match self {
            Expr::Symbol(name, span) => visit(name, *span),
            Expr::Unary(_, inner) => inner.for_each_symbol(visit),
            Expr::Binary(_, lhs, rhs) => {
                lhs.for_each_symbol(visit);
                rhs.for_each_symbol(visit);
            }
            Expr::Num(..) | Expr::Here(_) | Expr::Reg(..) => {}
        }
    }

    /// Whether the expression mentions `.`.
    pub(crate) fn mentions_here(&self) -> bool {
        match self {
            Expr::Here(_) => true,
            Expr::Unary(_, inner) => inner.mentions_here(),
            Expr::Binary(_, lhs, rhs) => lhs.mentions_here() || rhs.mentions_here(),
            Expr::Num(..) | Expr::Symbol(..) | Expr::Reg(..) => false,
        }
    }

    /// How many times an address is added in: `label` and `label+4` count 1,
    /// `b-a` counts 0. `weight_of` gives each symbol's own weight (`None` when
    /// it is not linear in addresses). `None` for non-linear uses.
    pub(crate) fn address_weight(&self, weight_of: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
        match self {
            Expr::Num(..) | Expr::Reg(..) => Some(0),
            Expr::Here(_) => Some(1),
            Expr::Symbol(name, _) => weight_of(name),
            Expr::Unary(UnOp::Neg, inner) => inner.address_weight(weight_of).map(|w| -w),
            Expr::Unary(UnOp::Not | UnOp::LogicalNot, inner) => {
                (inner.address_weight(weight_of)? == 0).then_some(0)
            }
            Expr::Binary(op, lhs, rhs) => {
                let (l, r) = (
                    lhs.address_weight(weight_of)?,
                    rhs.address_weight(weight_of)?,
                );
                match op {
                    BinOp::Add => Some(l + r),
                    BinOp::Sub => Some(l - r),
                    _ => (l == 0 && r == 0).then_some(0),
                }
            }
        }
    }
}

/// Why an expression has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EvalError {
    Undefined(String, Span),
    Invalid(SpanError),
}

/// Evaluates `expr`; `lookup` resolves symbols, `here` is the value of `.`.
pub(crate) fn eval(
    expr: &Expr,
    lookup: &dyn Fn(&str) -> Option<i128>,
    here: i128,
) -> Result<i128, EvalError> {
    let overflow =
        |span: Span| EvalError::Invalid(SpanError::new(span, "arithmetic overflow in expression"));
    match expr {
        Expr::Num(value, _) => Ok(*value),
        Expr::Here(_) => Ok(here),
        Expr::Symbol(name, span) => {
            lookup(name).ok_or_else(|| EvalError::Undefined(name.clone(), *span))
        }
        Expr::Reg(_, span) => Err(EvalError::Invalid(
            SpanError::new(*span, "a register cannot be used here")
                .with_hint("registers may only appear inside `[...]`"),
        )),
        Expr::Unary(op, inner) => {
            let value = eval(inner, lookup, here)?;
            Ok(match op {
                UnOp::Neg => value.checked_neg().ok_or_else(|| overflow(inner.span()))?,
                UnOp::Not => !value,
                UnOp::LogicalNot => i128::from(value == 0),
            })
        }
        Expr::Binary(op, lhs, rhs) => {
            let (l, r) = (eval(lhs, lookup, here)?, eval(rhs, lookup, here)?);
            let span = lhs.span().to(rhs.span());
            let shift = |r: i128| {
                u32::try_from(r)
                    .ok()
                    .filter(|&s| s < 128)
                    .ok_or_else(|| overflow(span))
            };
            let result = match op {
                BinOp::Add => l.checked_add(r),
                BinOp::Sub => l.checked_sub(r),
                BinOp::Mul => l.checked_mul(r),
                BinOp::Div | BinOp::Rem if r == 0 => {
                    return Err(EvalError::Invalid(SpanError::new(span, "division by zero")));
                }
                BinOp::Div => l.checked_div(r),
                BinOp::Rem => l.checked_rem(r),
                BinOp::Shl => l.checked_shl(shift(r)?),
                BinOp::Shr => l.checked_shr(shift(r)?),
                BinOp::And => Some(l & r),
                BinOp::Or => Some(l | r),
                BinOp::Xor => Some(l ^ r),
                BinOp::Eq => Some(comparison(l == r)),
                BinOp::Ne => Some(comparison(l != r)),
                BinOp::Lt => Some(comparison(l < r)),
                BinOp::Gt => Some(comparison(l > r)),
                BinOp::Le => Some(comparison(l <= r)),
                BinOp::Ge => Some(comparison(l >= r)),
                BinOp::LogicalAnd => Some(i128::from(l != 0 && r != 0)),
                BinOp::LogicalOr => Some(i128::from(l != 0 || r != 0)),
            };
            result.ok_or_else(|| overflow(span))
        }
    }
}

/// GNU's value of a comparison: all ones for true.
fn comparison(holds: bool) -> i128 {
    -i128::from(holds)
}

/// The value of `expr` when it does not depend on the address (`.`) and every
/// symbol it uses is resolved by `constants`.
pub(crate) fn constant_value(
    expr: &Expr,
    constants: &dyn Fn(&str) -> Option<i128>,
) -> Option<i128> {
    if expr.mentions_here() {
        return None;
    }
    eval(expr, constants, 0).ok()
}

/// A cursor over the tokens of one line.
pub(crate) struct Cursor<'a> {
    tokens: &'a [Token],
    pos: usize,
    /// Span just past the last token, for "expected ..." errors at end of line.
    end: Span,
    /// Leaves, operators and parentheses the current expression may still contain; bounds
    /// recursion depth and tree size on hostile input.
    budget: usize,
}

/// Most leaves, unary operators and parentheses one expression may contain.
const EXPRESSION_BUDGET: usize = 256;

impl<'a> Cursor<'a> {
    pub(crate) fn new(tokens: &'a [Token], line_len: usize) -> Self {
        Cursor {
            tokens,
            pos: 0,
            end: Span::new(line_len, line_len + 1),
            budget: EXPRESSION_BUDGET,
        }
    }

    pub(crate) fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    pub(crate) fn peek_at(&self, ahead: usize) -> Option<&'a Token> {
        self.tokens.get(self.pos + ahead)
    }

    pub(crate) fn next(&mut self) -> Option<&'a Token> {
        let token = self.tokens.get(self.pos);
        self.pos += usize::from(token.is_some());
        token
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    /// Span of the next token, or just past the end of the line.
    pub(crate) fn here_span(&self) -> Span {
        self.peek().map_or(self.end, |t| t.span)
    }

    /// Span of the previous token.
    pub(crate) fn prev_span(&self) -> Span {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(self.end, |t| t.span)
    }

    /// Consumes the punctuation `c` if it is next.
    pub(crate) fn eat_punct(&mut self, c: char) -> bool {
        let found = matches!(self.peek(), Some(Token { tok: Tok::Punct(p), .. }) if *p == c);
        self.pos += usize::from(found);
        found
    }

    /// Consumes the keyword `word` (case-insensitive) if it is next.
    pub(crate) fn eat_keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Token { tok: Tok::Ident(id), .. }) if id.eq_ignore_ascii_case(word));
        self.pos += usize::from(found);
        found
    }

    pub(crate) fn expect_punct(&mut self, c: char) -> SpanResult<()> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{c}`")))
        }
    }

    /// An "expected X" error at the next token.
    pub(crate) fn unexpected(&self, expected: &str) -> SpanError {
        match self.peek() {
            Some(token) => SpanError::new(
                token.span,
                format!("expected {expected}, found {}", describe(&token.tok)),
            ),
            None => SpanError::new(self.end, format!("expected {expected} at end of line")),
        }
    }

    /// Parses an expression; registers are accepted as leaves when `allow_registers`.
    pub(crate) fn expr(&mut self, allow_registers: bool) -> SpanResult<Expr> {
        self.budget = EXPRESSION_BUDGET;
        self.binary(0, allow_registers)
    }

    fn binary(&mut self, level: usize, allow_registers: bool) -> SpanResult<Expr> {
        if level > TIGHTEST_LEVEL {
            return self.unary(allow_registers);
        }
        let mut lhs = self.binary(level + 1, allow_registers)?;
        loop {
            match self.peek().and_then(|token| binary_operator(&token.tok)) {
                Some((operator_level, op)) if operator_level == level => {
                    self.pos += 1;
                    let rhs = self.binary(level + 1, allow_registers)?;
                    lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn unary(&mut self, allow_registers: bool) -> SpanResult<Expr> {
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or_else(|| SpanError::new(self.here_span(), "expression too complex"))?;
        if self.eat_punct('-') {
            return Ok(Expr::Unary(
                UnOp::Neg,
                Box::new(self.unary(allow_registers)?),
            ));
        }
        if self.eat_punct('~') {
            return Ok(Expr::Unary(
                UnOp::Not,
                Box::new(self.unary(allow_registers)?),
            ));
        }
        if self.eat_punct('!') {
            return Ok(Expr::Unary(
                UnOp::LogicalNot,
                Box::new(self.unary(allow_registers)?),
            ));
        }
        if self.eat_punct('+') {
            return self.unary(allow_registers);
        }
        if self.eat_punct('(') {
            let inner = self.binary(0, allow_registers)?;
            self.expect_punct(')')?;
            return Ok(inner);
        }
        match self.peek() {
            Some(Token {
                tok: Tok::Num(value),
                span,
            }) => {
                self.pos += 1;
                Ok(Expr::Num(*value, *span))
            }
            Some(Token {
                tok: Tok::Ident(name),
                span,
            }) => {
                self.pos += 1;
                if name == "." {
                    return Ok(Expr::Here(*span));
                }
                match table::register(name) {
                    Some(reg) if allow_registers => Ok(Expr::Reg(reg, *span)),
                    Some(_) => Err(SpanError::new(
                        *span,
                        format!("register `{name}` cannot be used in an expression"),
                    )
                    .with_hint("registers may only appear inside `[...]` or as a whole operand")),
                    None => Ok(Expr::Symbol(name.clone(), *span)),
                }
            }
            _ => Err(self.unexpected("an expression")),
        }
    }
}

/// Words for a token in "expected X, found Y" messages.
pub(crate) fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(name) => format!("`{name}`"),
        Tok::Num(value) => format!("number {value}"),
        Tok::Str(_) => "a string".to_string(),
        Tok::Punct('<') => "`<<`".to_string(),
        Tok::Punct('>') => "`>>`".to_string(),
        Tok::Punct(c) => format!("`{c}`"),
        Tok::Op(op) => format!("`{op}`"),
    }
}
