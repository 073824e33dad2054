//! Source text to a flat list of statements ([`Item`]s).

use super::error::{Span, SpanError, SpanResult, nearest};
use super::expr::{self, Cursor, Expr};
use super::lexer::{Tok, Token, is_local_label_reference, tokenize};
use super::operand::{Operand, SymbolFacts, parse_operand};
use super::table;
use std::collections::HashMap;

/// An instruction prefix written before the mnemonic.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    Lock,
    Rep,
    Repne,
}

/// An instruction statement as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Instruction {
    /// Lower-case mnemonic as written (`jz`, `movabs`, ...).
    pub mnemonic: String,
    pub mnemonic_span: Span,
    pub prefixes: Vec<(Prefix, Span)>,
    pub operands: Vec<Operand>,
}

/// How `.align`-style directives measure the boundary.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum AlignUnit {
    Bytes,
    PowerOfTwo,
}

/// One statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Label(String),
    /// `.equ`/`.set`/`name = expr`.
    Assign {
        name: String,
        value: Expr,
    },
    /// Switch to a section; `executable` when its flags contain `x` (then
    /// alignment pads with NOPs, as for `.text`).
    Section {
        name: String,
        executable: bool,
    },
    Base(Expr),
    Org(Expr),
    Align {
        boundary: Expr,
        unit: AlignUnit,
        fill: Option<Expr>,
        max_skip: Option<Expr>,
    },
    Data {
        width: usize,
        values: Vec<Expr>,
    },
    Ascii(Vec<u8>),
    /// `count` repetitions of `value` stored in `unit` bytes (1 unless given).
    Fill {
        count: Expr,
        unit: Option<Expr>,
        value: Option<Expr>,
    },
    Instruction(Instruction),
}

/// A statement, the 0-based line it is on and the span of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub line: usize,
    pub span: Span,
    pub kind: ItemKind,
}

/// Prefix of the symbols recorded by `.sync_point`.
pub const SYNC_POINT_PREFIX: &str = "sync_point.";

/// Marks the unique names given to local numeric labels; such names cannot be
/// written in source and are left out of [`super::Program::symbols`].
pub(crate) const LOCAL_LABEL_MARKER: char = '\u{1}';

/// The unique name of the `instance`-th definition of local label `number`.
fn local_label_name(number: i128, instance: usize) -> String {
    format!("{number}{LOCAL_LABEL_MARKER}{instance}")
}

/// How a local label instance is written in source, for messages.
pub(crate) fn display_symbol(name: &str) -> String {
    match name.split_once(LOCAL_LABEL_MARKER) {
        Some((number, _)) => format!("{number}f"),
        None => name.to_string(),
    }
}

/// Parses a whole source text. Keeps the constants defined so far, so that
/// operands can be classified the way GNU `as` does in its single pass.
pub(crate) struct Parser {
    constants: HashMap<String, i128>,
    /// Address weight of symbols assigned values that depend on addresses.
    address_weights: HashMap<String, Option<i64>>,
    /// Label name to the 0-based line defining it.
    labels: HashMap<String, usize>,
    /// How many times each local numeric label `N:` has been defined so far.
    local_labels: HashMap<i128, usize>,
    pub items: Vec<Item>,
}

impl Parser {
    pub(crate) fn new() -> Self {
        Parser {
            constants: HashMap::new(),
            address_weights: HashMap::new(),
            labels: HashMap::new(),
            local_labels: HashMap::new(),
            items: Vec::new(),
        }
    }

    /// Whether `name` is a label, constant or assigned symbol defined so far (`.ifdef`).
    pub(crate) fn is_defined(&self, name: &str) -> bool {
        self.labels.contains_key(name)
            || self.constants.contains_key(name)
            || self.address_weights.contains_key(name)
    }

    /// The names of the constants defined so far, for "did you mean" hints.
    pub(crate) fn constant_names(&self) -> impl Iterator<Item = &str> {
        self.constants.keys().map(String::as_str)
    }

    /// The value of `expr` if it only involves numbers and constants defined so far.
    pub(crate) fn constant_value(&self, value: &Expr) -> Option<i128> {
        expr::constant_value(value, &|name| self.constant(name))
    }

    /// Parses line `line` (0-based) and appends its statements.
    pub(crate) fn parse_line(&mut self, line: usize, text: &str) -> SpanResult<()> {
        let tokens = self.resolve_local_labels(tokenize(text)?)?;
        let mut cursor = Cursor::new(&tokens, text.len());
        while let (
            Some(Token {
                tok: Tok::Ident(name),
                span,
            }),
            Some(Token {
                tok: Tok::Punct(':'),
                ..
            }),
        ) = (cursor.peek(), cursor.peek_at(1))
        {
            cursor.next();
            cursor.next();
            self.define_label(line, name, *span)?;
        }
        let Some(first) = cursor.peek() else {
            return Ok(());
        };
        let start = first.span;
        let kind = match &first.tok {
            Tok::Ident(name)
                if matches!(
                    cursor.peek_at(1),
                    Some(Token {
                        tok: Tok::Punct('='),
                        ..
                    })
                ) =>
            {
                cursor.next();
                cursor.next();
                let value = cursor.expr(false)?;
                Some(self.assign(name, start, value)?)
            }
            Tok::Ident(name) if name.starts_with('.') && name.len() > 1 => {
                cursor.next();
                self.directive(&name.to_ascii_lowercase(), start, &mut cursor, line)?
            }
            Tok::Ident(_) => Some(ItemKind::Instruction(self.instruction(&mut cursor)?)),
            _ => return Err(cursor.unexpected("a label, directive or instruction")),
        };
        if !cursor.at_end() {
            return Err(cursor.unexpected("end of statement"));
        }
        if let Some(kind) = kind {
            self.items.push(Item {
                line,
                span: start.to(cursor.prev_span()),
                kind,
            });
        }
        Ok(())
    }

    /// Renames local numeric labels: the definition `N:` and the references
    /// `Nb` (the latest `N:` so far) and `Nf` (the next `N:`) become unique names.
    fn resolve_local_labels(&mut self, mut tokens: Vec<Token>) -> SpanResult<Vec<Token>> {
        let mut at_line_start = true;
        for i in 0..tokens.len() {
            let next_is_colon = matches!(
                tokens.get(i + 1),
                Some(Token {
                    tok: Tok::Punct(':'),
                    ..
                })
            );
            // Labels are `name:` pairs at the start of the line.
            let defines_label = at_line_start && i % 2 == 0 && next_is_colon;
            at_line_start = at_line_start && (i % 2 == 1 || next_is_colon);
            let Some(token) = tokens.get_mut(i) else {
                break;
            };
            match &token.tok {
                Tok::Num(number) if defines_label => {
                    let count = self.local_labels.entry(*number).or_default();
                    token.tok = Tok::Ident(local_label_name(*number, *count));
                    *count += 1;
                }
                Tok::Ident(name) if is_local_label_reference(name) => {
                    let (digits, direction) = name.split_at(name.len() - 1);
                    let number = digits.parse::<i128>().map_err(|_| {
                        SpanError::new(token.span, format!("invalid local label `{name}`"))
                    })?;
                    let defined = self.local_labels.get(&number).copied().unwrap_or(0);
                    let instance = match direction {
                        "f" => defined,
                        _ => defined.checked_sub(1).ok_or_else(|| {
                            SpanError::new(
                                token.span,
                                format!("no local label `{digits}:` before `{name}`"),
                            )
                        })?,
                    };
                    token.tok = Tok::Ident(local_label_name(number, instance));
                }
                _ => {}
            }
        }
        Ok(tokens)
    }

    fn define_label(&mut self, line: usize, name: &str, span: Span) -> SpanResult<()> {
        if table::register(name).is_some() {
            return Err(SpanError::new(
                span,
                format!("`{name}` is a register name and cannot be a label"),
            ));
        }
        if let Some(previous) = self.labels.get(name) {
            return Err(
                SpanError::new(span, format!("duplicate label `{name}`")).with_hint(format!(
                    "`{name}` is already defined on line {}",
                    previous + 1
                )),
            );
        }
        if self.constants.contains_key(name) {
            return Err(SpanError::new(
                span,
                format!("`{name}` is already defined as a constant"),
            ));
        }
        self.labels.insert(name.to_string(), line);
        self.items.push(Item {
            line,
            span,
            kind: ItemKind::Label(name.to_string()),
        });
        Ok(())
    }

    fn assign(&mut self, name: &str, span: Span, value: Expr) -> SpanResult<ItemKind> {
        if self.labels.contains_key(name) {
            return Err(SpanError::new(
                span,
                format!("`{name}` is already defined as a label"),
            ));
        }
        if table::register(name).is_some() {
            return Err(SpanError::new(
                span,
                format!("`{name}` is a register name and cannot be a symbol"),
            ));
        }
        match self.constant_value(&value) {
            Some(v) => {
                self.constants.insert(name.to_string(), v);
                self.address_weights.remove(name);
            }
            None => {
                let weight = value.address_weight(&|symbol| self.address_weight(symbol));
                self.constants.remove(name);
                self.address_weights.insert(name.to_string(), weight);
            }
        }
        Ok(ItemKind::Assign {
            name: name.to_string(),
            value,
        })
    }

    fn instruction(&self, cursor: &mut Cursor<'_>) -> SpanResult<Instruction> {
        let mut prefixes = Vec::new();
        loop {
            let Some(Token {
                tok: Tok::Ident(word),
                span,
            }) = cursor.next()
            else {
                return Err(cursor.unexpected("a mnemonic"));
            };
            let lower = word.to_ascii_lowercase();
            let prefix = match lower.as_str() {
                "lock" => Prefix::Lock,
                "rep" | "repe" | "repz" => Prefix::Rep,
                "repne" | "repnz" => Prefix::Repne,
                _ => {
                    let mut operands = Vec::new();
                    if !cursor.at_end() {
                        loop {
                            operands.push(parse_operand(cursor, self)?);
                            if !cursor.eat_punct(',') {
                                break;
                            }
                        }
                    }
                    return Ok(Instruction {
                        mnemonic: lower,
                        mnemonic_span: *span,
                        prefixes,
                        operands,
                    });
                }
            };
            prefixes.push((prefix, *span));
            if cursor.at_end() {
                // A prefix alone on its line applies to nothing we could encode.
                return Err(SpanError::new(
                    *span,
                    format!("`{lower}` must be followed by an instruction on the same line"),
                )
                .with_hint(format!(
                    "put the instruction after `{lower}` on this line \
                     (`;` starts a comment; it does not separate statements)"
                )));
            }
        }
    }

    /// Parses a directive; `None` for directives that are accepted and ignored.
    fn directive(
        &mut self,
        name: &str,
        span: Span,
        cursor: &mut Cursor<'_>,
        line: usize,
    ) -> SpanResult<Option<ItemKind>> {
        let data_width = match name {
            ".byte" => Some(1),
            ".word" | ".short" | ".value" | ".2byte" => Some(2),
            ".long" | ".int" | ".4byte" => Some(4),
            ".quad" | ".8byte" => Some(8),
            _ => None,
        };
        if let Some(width) = data_width {
            return Ok(Some(ItemKind::Data {
                width,
                values: expression_list(cursor)?,
            }));
        }
        let kind = match name {
            ".intel_syntax" => {
                if !cursor.eat_keyword("noprefix") && !cursor.at_end() {
                    return Err(cursor.unexpected("`noprefix`"));
                }
                return Ok(None);
            }
            ".att_syntax" => {
                return Err(SpanError::new(span, "AT&T syntax is not supported")
                    .with_hint("write Intel syntax"));
            }
            ".rept" | ".endr" | ".if" | ".ifdef" | ".ifndef" | ".elseif" | ".else" | ".endif" => {
                return Err(SpanError::new(
                    span,
                    format!("`{name}` must be the first word of its line"),
                )
                .with_hint("put the label before it on a line of its own"));
            }
            _ if table::IGNORED_DIRECTIVES.contains(&name) => {
                while cursor.next().is_some() {}
                return Ok(None);
            }
            ".text" | ".data" | ".bss" => ItemKind::Section {
                name: name.to_string(),
                executable: false,
            },
            ".section" => {
                let section = match cursor.next() {
                    Some(Token {
                        tok: Tok::Ident(section),
                        ..
                    }) => section.clone(),
                    Some(Token {
                        tok: Tok::Str(bytes),
                        ..
                    }) => String::from_utf8_lossy(bytes).into_owned(),
                    _ => return Err(cursor.unexpected("a section name")),
                };
                // Of the flags and type after the name, only `x` matters here.
                let mut executable = false;
                if cursor.eat_punct(',') {
                    while let Some(token) = cursor.next() {
                        executable |=
                            matches!(&token.tok, Tok::Str(flags) if flags.contains(&b'x'));
                    }
                }
                ItemKind::Section {
                    name: section,
                    executable,
                }
            }
            ".base" => ItemKind::Base(cursor.expr(false)?),
            ".org" => ItemKind::Org(cursor.expr(false)?),
            ".align" | ".balign" | ".p2align" => {
                let boundary = cursor.expr(false)?;
                let fill = optional_argument(cursor)?;
                let max_skip = optional_argument(cursor)?;
                let unit = if name == ".p2align" {
                    AlignUnit::PowerOfTwo
                } else {
                    AlignUnit::Bytes
                };
                ItemKind::Align {
                    boundary,
                    unit,
                    fill,
                    max_skip,
                }
            }
            ".ascii" | ".asciz" | ".string" => {
                let mut bytes = Vec::new();
                loop {
                    let Some(Token {
                        tok: Tok::Str(text),
                        ..
                    }) = cursor.next()
                    else {
                        return Err(SpanError::new(
                            cursor.prev_span(),
                            "expected a string literal",
                        ));
                    };
                    bytes.extend_from_slice(text);
                    if name != ".ascii" {
                        bytes.push(0);
                    }
                    if !cursor.eat_punct(',') {
                        break;
                    }
                }
                ItemKind::Ascii(bytes)
            }
            ".zero" | ".skip" | ".space" => {
                let count = cursor.expr(false)?;
                let value = if name == ".zero" {
                    None
                } else {
                    optional_argument(cursor)?
                };
                ItemKind::Fill {
                    count,
                    unit: None,
                    value,
                }
            }
            ".fill" => {
                let count = cursor.expr(false)?;
                let unit = optional_argument(cursor)?;
                let value = optional_argument(cursor)?;
                ItemKind::Fill { count, unit, value }
            }
            ".equ" | ".set" => {
                let Some(Token {
                    tok: Tok::Ident(symbol),
                    span,
                }) = cursor.next()
                else {
                    return Err(cursor.unexpected("a symbol name"));
                };
                cursor.expect_punct(',')?;
                let value = cursor.expr(false)?;
                self.assign(symbol, *span, value)?
            }
            ".sync_point" => {
                let Some(Token {
                    tok: Tok::Ident(point),
                    span,
                }) = cursor.next()
                else {
                    return Err(cursor.unexpected("a sync point name"));
                };
                self.define_label(line, &format!("{SYNC_POINT_PREFIX}{point}"), *span)?;
                return Ok(None);
            }
            _ => {
                let error = SpanError::new(span, format!("unknown directive `{name}`"));
                return Err(match nearest(name, table::DIRECTIVES.iter().copied()) {
                    Some(near) => error.with_hint(format!("did you mean `{near}`?")),
                    None => error,
                });
            }
        };
        Ok(Some(kind))
    }
}

impl SymbolFacts for Parser {
    fn constant(&self, name: &str) -> Option<i128> {
        self.constants.get(name).copied()
    }

    fn address_weight(&self, name: &str) -> Option<i64> {
        if self.constants.contains_key(name) {
            return Some(0);
        }
        self.address_weights.get(name).copied().unwrap_or(Some(1))
    }
}

fn expression_list(cursor: &mut Cursor<'_>) -> SpanResult<Vec<Expr>> {
    let mut values = vec![cursor.expr(false)?];
    while cursor.eat_punct(',') {
        values.push(cursor.expr(false)?);
    }
    Ok(values)
}

/// `, expr` if present; an empty argument (`.p2align 4,,7`) counts as absent.
fn optional_argument(cursor: &mut Cursor<'_>) -> SpanResult<Option<Expr>> {
    if !cursor.eat_punct(',') {
        return Ok(None);
    }
    if matches!(
        cursor.peek(),
        None | Some(Token {
            tok: Tok::Punct(','),
            ..
        })
    ) {
        return Ok(None);
    }
    cursor.expr(false).map(Some)
}
