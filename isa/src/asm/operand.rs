//! Instruction operands: registers, memory references and values.

use super::error::{Span, SpanError, SpanResult};
use super::expr::{BinOp, Cursor, Expr, UnOp, constant_value, eval};
use super::lexer::{Tok, Token};
use super::table;
use iced_x86::Register;

/// A value operand: immediate, branch target, or (GNU rule) a bare address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Value {
    pub expr: Expr,
    /// The value, when it only involves numbers and constants defined earlier.
    pub constant: Option<i128>,
    /// GNU's Intel syntax reads a bare `label` or `label+4` (but not `b-a`, nor
    /// `offset label`) as a memory reference.
    pub is_address: bool,
}

/// A memory reference `size ptr seg:[base + index*scale + disp]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Memory {
    /// Size in bytes from a `byte ptr`-style keyword.
    pub size: Option<usize>,
    pub segment: Register,
    pub base: Register,
    pub index: Register,
    pub scale: u32,
    pub displacement: Option<Value>,
}

impl Memory {
    /// A memory reference to the absolute address `value`.
    pub(crate) fn absolute(value: Value) -> Memory {
        Memory {
            size: None,
            segment: Register::None,
            base: Register::None,
            index: Register::None,
            scale: 1,
            displacement: Some(value),
        }
    }
}

/// What an operand is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OperandKind {
    Reg(Register),
    Mem(Memory),
    Value(Value),
}

/// One parsed operand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Operand {
    pub span: Span,
    pub kind: OperandKind,
}

/// What is known about symbols at this point of the source.
pub(crate) trait SymbolFacts {
    /// The value of a symbol defined earlier as a constant.
    fn constant(&self, name: &str) -> Option<i128>;
    /// How many addresses the symbol's value adds in: 1 for labels and names not
    /// defined yet, 0 for constants and differences of labels (`len = . - msg`),
    /// `None` when it is not linear in addresses.
    fn address_weight(&self, name: &str) -> Option<i64>;
}

const SIZE_KEYWORDS: &[(&str, usize)] = &[
    ("byte", 1),
    ("word", 2),
    ("dword", 4),
    ("fword", 6),
    ("qword", 8),
    ("tbyte", 10),
    ("oword", 16),
    ("xmmword", 16),
    ("ymmword", 32),
    ("zmmword", 64),
];

/// Builds a [`Value`] from `expr`, classifying it with what is known so far.
pub(crate) fn value(expr: Expr, facts: &dyn SymbolFacts, is_offset: bool) -> Value {
    let constant = constant_value(&expr, &|name| facts.constant(name));
    let weight = expr.address_weight(&|name| facts.address_weight(name));
    Value {
        is_address: !is_offset && constant.is_none() && weight != Some(0),
        constant,
        expr,
    }
}

/// Parses one operand, stopping before a `,` or the end of the line.
pub(crate) fn parse_operand(
    cursor: &mut Cursor<'_>,
    facts: &dyn SymbolFacts,
) -> SpanResult<Operand> {
    let start = cursor.here_span();
    let size = parse_size_keyword(cursor);
    if cursor.eat_keyword("offset") {
        let expr = cursor.expr(false)?;
        let span = start.to(cursor.prev_span());
        return Ok(Operand {
            span,
            kind: OperandKind::Value(value(expr, facts, true)),
        });
    }
    let segment = parse_segment_override(cursor);
    if matches!(
        cursor.peek(),
        Some(Token {
            tok: Tok::Punct('['),
            ..
        })
    ) {
        let mut memory = parse_bracket(cursor, facts)?;
        memory.size = size;
        memory.segment = segment;
        let span = start.to(cursor.prev_span());
        return Ok(Operand {
            span,
            kind: OperandKind::Mem(memory),
        });
    }
    if let Some(Token {
        tok: Tok::Ident(name),
        span,
    }) = cursor.peek()
        && let Some(reg) = table::register(name)
        && size.is_none()
        && segment == Register::None
        && is_operand_end(cursor.peek_at(1))
    {
        cursor.next();
        return Ok(Operand {
            span: *span,
            kind: OperandKind::Reg(reg),
        });
    }
    let expr = cursor.expr(false)?;
    let span = start.to(cursor.prev_span());
    let value = value(expr, facts, false);
    let kind = if size.is_some() || segment != Register::None {
        OperandKind::Mem(Memory {
            size,
            segment,
            ..Memory::absolute(value)
        })
    } else {
        OperandKind::Value(value)
    };
    Ok(Operand { span, kind })
}

fn is_operand_end(token: Option<&Token>) -> bool {
    matches!(
        token,
        None | Some(Token {
            tok: Tok::Punct(','),
            ..
        })
    )
}

/// `byte ptr`, `dword ptr`, ... (the `ptr` is optional).
fn parse_size_keyword(cursor: &mut Cursor<'_>) -> Option<usize> {
    let Some(Token {
        tok: Tok::Ident(word),
        ..
    }) = cursor.peek()
    else {
        return None;
    };
    let &(_, size) = SIZE_KEYWORDS
        .iter()
        .find(|(keyword, _)| word.eq_ignore_ascii_case(keyword))?;
    cursor.next();
    cursor.eat_keyword("ptr");
    Some(size)
}

/// `fs:` and friends before a memory reference.
fn parse_segment_override(cursor: &mut Cursor<'_>) -> Register {
    if let Some(Token {
        tok: Tok::Ident(name),
        ..
    }) = cursor.peek()
        && let Some(reg) = table::register(name).filter(|reg| reg.is_segment_register())
        && matches!(
            cursor.peek_at(1),
            Some(Token {
                tok: Tok::Punct(':'),
                ..
            })
        )
    {
        cursor.next();
        cursor.next();
        return reg;
    }
    Register::None
}

/// A register term of an address: `reg` or `reg*scale`.
struct RegisterTerm {
    reg: Register,
    scale: i128,
    span: Span,
}

/// Parses `[...]` into base, index, scale and displacement.
fn parse_bracket(cursor: &mut Cursor<'_>, facts: &dyn SymbolFacts) -> SpanResult<Memory> {
    let open = cursor.here_span();
    cursor.expect_punct('[')?;
    let expr = cursor.expr(true)?;
    cursor.expect_punct(']')?;
    let span = open.to(cursor.prev_span());
    let mut registers = Vec::new();
    let mut displacement = Vec::new();
    split_address(expr, false, facts, &mut registers, &mut displacement)?;
    let (base, index, scale) = assign_registers(&registers, span)?;
    let displacement = displacement
        .into_iter()
        .reduce(|sum, term| Expr::Binary(BinOp::Add, Box::new(sum), Box::new(term)));
    Ok(Memory {
        size: None,
        segment: Register::None,
        base,
        index,
        scale,
        displacement: displacement.map(|expr| value(expr, facts, true)),
    })
}

fn contains_register(expr: &Expr) -> bool {
    match expr {
        Expr::Reg(..) => true,
        Expr::Unary(_, inner) => contains_register(inner),
        Expr::Binary(_, lhs, rhs) => contains_register(lhs) || contains_register(rhs),
        Expr::Num(..) | Expr::Symbol(..) | Expr::Here(_) => false,
    }
}

/// Splits an address expression into register terms and displacement terms.
fn split_address(
    expr: Expr,
    negated: bool,
    facts: &dyn SymbolFacts,
    registers: &mut Vec<RegisterTerm>,
    displacement: &mut Vec<Expr>,
) -> SpanResult<()> {
    if !contains_register(&expr) {
        displacement.push(if negated {
            Expr::Unary(UnOp::Neg, Box::new(expr))
        } else {
            expr
        });
        return Ok(());
    }
    let span = expr.span();
    let bad = || {
        SpanError::new(span, "unsupported address expression")
            .with_hint("addresses have the form [base + index*scale + displacement]")
    };
    match expr {
        Expr::Binary(BinOp::Add, lhs, rhs) => {
            split_address(*lhs, negated, facts, registers, displacement)?;
            split_address(*rhs, negated, facts, registers, displacement)
        }
        Expr::Binary(BinOp::Sub, lhs, rhs) => {
            split_address(*lhs, negated, facts, registers, displacement)?;
            split_address(*rhs, !negated, facts, registers, displacement)
        }
        _ if negated => Err(SpanError::new(
            span,
            "a register cannot be subtracted in an address",
        )),
        Expr::Reg(reg, span) => {
            registers.push(RegisterTerm {
                reg,
                scale: 1,
                span,
            });
            Ok(())
        }
        Expr::Binary(BinOp::Mul, lhs, rhs) => {
            let (reg, reg_span, factor) = match (*lhs, *rhs) {
                (Expr::Reg(reg, span), factor) | (factor, Expr::Reg(reg, span)) => {
                    (reg, span, factor)
                }
                _ => return Err(bad()),
            };
            let scale = eval(&factor, &|name| facts.constant(name), 0).map_err(|_| {
                SpanError::new(span, "the scale must be a constant").with_hint("use 1, 2, 4 or 8")
            })?;
            registers.push(RegisterTerm {
                reg,
                scale,
                span: reg_span.to(span),
            });
            Ok(())
        }
        _ => Err(bad()),
    }
}

fn is_stack_pointer(reg: Register) -> bool {
    reg == Register::RSP || reg == Register::ESP
}

/// Decides which register is the base and which the index.
fn assign_registers(terms: &[RegisterTerm], span: Span) -> SpanResult<(Register, Register, u32)> {
    for term in terms {
        let addressable = term.reg.is_gpr64() || term.reg.is_gpr32() || term.reg == Register::RIP;
        if !addressable {
            return Err(SpanError::new(
                term.span,
                format!("`{:?}` cannot be used in an address", term.reg).to_lowercase(),
            )
            .with_hint("use a 64-bit (or 32-bit) general-purpose register"));
        }
        if ![1, 2, 4, 8].contains(&term.scale) {
            return Err(
                SpanError::new(term.span, format!("invalid scale {}", term.scale))
                    .with_hint("use 1, 2, 4 or 8"),
            );
        }
    }
    let as_scale = |scale: i128| u32::try_from(scale).unwrap_or(1);
    let (base, index, scale) = match terms {
        [] => (Register::None, Register::None, 1),
        [only] if only.scale == 1 => (only.reg, Register::None, 1),
        [only] => (Register::None, only.reg, as_scale(only.scale)),
        // `[rax + rsp]` is `[rsp + rax]`: `rsp` cannot be an index.
        [first, second]
            if first.scale == 1 && second.scale == 1 && is_stack_pointer(second.reg) =>
        {
            (second.reg, first.reg, 1)
        }
        [first, second] if first.scale == 1 => (first.reg, second.reg, as_scale(second.scale)),
        [first, second] if second.scale == 1 => (second.reg, first.reg, as_scale(first.scale)),
        [_, second] => {
            return Err(
                SpanError::new(second.span, "only one register can be scaled")
                    .with_hint("[base + index*scale]"),
            );
        }
        [_, _, third, ..] => {
            return Err(SpanError::new(third.span, "too many registers in address"));
        }
    };
    if index == Register::RIP || (base == Register::RIP && index != Register::None) {
        return Err(
            SpanError::new(span, "`rip` can only be used alone as a base")
                .with_hint("[rip + label]"),
        );
    }
    if is_stack_pointer(index) {
        return Err(SpanError::new(span, "`rsp` cannot be an index register"));
    }
    let sizes_differ =
        base != Register::None && index != Register::None && base.size() != index.size();
    if sizes_differ {
        return Err(SpanError::new(
            span,
            "base and index registers must have the same size",
        ));
    }
    Ok((base, index, scale))
}
