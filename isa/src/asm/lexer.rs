//! Splits one source line into tokens.
//!
//! Both `#` and `;` start a comment that runs to the end of the line (outside
//! string literals). GNU `as` treats `;` as a statement separator on x86; synclab
//! takes it as a comment because one statement per line is all it needs and
//! `;` comments are what Intel-syntax listings use.

use super::error::{Span, SpanError, SpanResult};

/// One lexical element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A name: mnemonic, register, directive, symbol or `.` (current address).
    Ident(String),
    /// An integer literal (decimal, `0x` hex, `0b` binary, leading-`0` octal,
    /// `h`-suffixed hex, or a `'c'` character).
    Num(i128),
    /// A `"..."` string literal with escapes decoded.
    Str(Vec<u8>),
    /// Punctuation; `<` stands for `<<` and `>` for `>>`.
    Punct(char),
    /// A comparison or logical operator: `==`, `!=`, `<>`, `<`, `>`, `<=`, `>=`,
    /// `&&`, `||`.
    Op(&'static str),
}

/// Operators that are not single punctuation characters, longest first so that
/// `<=` is not read as `<` followed by `=`.
const OPERATORS: &[&str] = &["==", "!=", "<>", "<=", ">=", "&&", "||", "<", ">"];

/// A token and where it is on its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '.' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'
}

/// Tokenizes `line`, dropping comments.
pub(crate) fn tokenize(line: &str) -> SpanResult<Vec<Token>> {
    let bytes: Vec<(usize, char)> = line.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let offset_of = |idx: usize| bytes.get(idx).map_or(line.len(), |&(offset, _)| offset);
    while let Some(&(start, c)) = bytes.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' || c == ';' {
            break;
        }
        if is_ident_start(c) {
            let mut j = i + 1;
            while bytes.get(j).is_some_and(|&(_, c)| is_ident_char(c)) {
                j += 1;
            }
            let end = offset_of(j);
            tokens.push(Token {
                tok: Tok::Ident(line[start..end].to_string()),
                span: Span::new(start, end),
            });
            i = j;
        } else if c.is_ascii_digit() {
            let mut j = i + 1;
            while bytes
                .get(j)
                .is_some_and(|&(_, c)| c.is_ascii_alphanumeric())
            {
                j += 1;
            }
            let end = offset_of(j);
            let span = Span::new(start, end);
            let text = &line[start..end];
            let tok = if is_local_label_reference(text) {
                Tok::Ident(text.to_string())
            } else {
                Tok::Num(parse_number(text, span)?)
            };
            tokens.push(Token { tok, span });
            i = j;
        } else if c == '"' {
            let (value, j) = lex_string(&bytes, i, line.len())?;
            tokens.push(Token {
                tok: Tok::Str(value),
                span: Span::new(start, offset_of(j)),
            });
            i = j;
        } else if c == '\'' {
            let (value, j) = lex_char(&bytes, i, line.len())?;
            tokens.push(Token {
                tok: Tok::Num(value),
                span: Span::new(start, offset_of(j)),
            });
            i = j;
        } else if (c == '<' || c == '>') && bytes.get(i + 1).is_some_and(|&(_, n)| n == c) {
            tokens.push(Token {
                tok: Tok::Punct(c),
                span: Span::new(start, offset_of(i + 2)),
            });
            i += 2;
        } else if let Some(op) = OPERATORS.iter().find(|op| line[start..].starts_with(**op)) {
            tokens.push(Token {
                tok: Tok::Op(op),
                span: Span::new(start, offset_of(i + op.len())),
            });
            i += op.len();
        } else if "+-*/%()[],:~&|^=!@".contains(c) {
            tokens.push(Token {
                tok: Tok::Punct(c),
                span: Span::new(start, offset_of(i + 1)),
            });
            i += 1;
        } else {
            return Err(SpanError::new(
                Span::new(start, offset_of(i + 1)),
                format!("unexpected character `{c}`"),
            ));
        }
    }
    Ok(tokens)
}

/// Whether `text` is `Nb` or `Nf`: a reference to the previous or next local
/// numeric label `N:`.
pub(crate) fn is_local_label_reference(text: &str) -> bool {
    text.len() >= 2
        && text[..text.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && (text.ends_with('b') || text.ends_with('f'))
}

/// Parses the text of a numeric literal.
fn parse_number(text: &str, span: Span) -> SpanResult<i128> {
    let lower = text.to_ascii_lowercase();
    let (digits, radix) = if let Some(hex) = lower.strip_prefix("0x") {
        (hex, 16)
    } else if let Some(bin) = lower.strip_prefix("0b") {
        (bin, 2)
    } else if let Some(hex) = lower.strip_suffix('h') {
        (hex, 16)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    let invalid = || {
        SpanError::new(span, format!("invalid number `{text}`")).with_hint(
            "numbers are decimal, 0x-prefixed hex, 0b-prefixed binary, or 0-prefixed octal",
        )
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let value = u128::from_str_radix(digits, radix).map_err(|_| invalid())?;
    if value > u64::MAX as u128 {
        return Err(SpanError::new(
            span,
            format!("number `{text}` does not fit in 64 bits"),
        ));
    }
    Ok(value as i128)
}

/// Decodes one possibly escaped character at `bytes[i]`, returning it and the next index.
fn lex_escaped(bytes: &[(usize, char)], i: usize, line_len: usize) -> SpanResult<(u8, usize)> {
    let at = |idx: usize| bytes.get(idx).map(|&(_, c)| c);
    let start = bytes.get(i).map_or(line_len, |&(o, _)| o);
    let span = Span::new(start, start + 1);
    match at(i) {
        None => Err(SpanError::new(span, "unterminated literal")),
        Some('\\') => {
            let escaped = at(i + 1).ok_or_else(|| SpanError::new(span, "unterminated literal"))?;
            let simple = match escaped {
                'n' => Some(b'\n'),
                't' => Some(b'\t'),
                'r' => Some(b'\r'),
                'b' => Some(8),
                'f' => Some(12),
                'a' => Some(7),
                'v' => Some(11),
                '\\' => Some(b'\\'),
                '"' => Some(b'"'),
                '\'' => Some(b'\''),
                _ => None,
            };
            if let Some(value) = simple {
                return Ok((value, i + 2));
            }
            let (radix, first, max_digits) = match escaped {
                'x' | 'X' => (16, i + 2, 2),
                '0'..='7' => (8, i + 1, 3),
                _ => {
                    return Err(SpanError::new(
                        span,
                        format!("unknown escape `\\{escaped}`"),
                    ));
                }
            };
            let mut value: u32 = 0;
            let mut j = first;
            while j < first + max_digits {
                match at(j).and_then(|c| c.to_digit(radix)) {
                    Some(d) => value = value * radix + d,
                    None => break,
                }
                j += 1;
            }
            if j == first {
                return Err(SpanError::new(span, "escape `\\x` needs hex digits"));
            }
            Ok(((value & 0xff) as u8, j))
        }
        Some(c) if c.is_ascii() => Ok((c as u8, i + 1)),
        Some(c) => Err(
            SpanError::new(span, format!("non-ASCII character `{c}` in literal"))
                .with_hint("write it with `\\x` escapes"),
        ),
    }
}

fn lex_string(
    bytes: &[(usize, char)],
    open: usize,
    line_len: usize,
) -> SpanResult<(Vec<u8>, usize)> {
    let mut value = Vec::new();
    let mut i = open + 1;
    loop {
        match bytes.get(i) {
            None => {
                let start = bytes.get(open).map_or(0, |&(o, _)| o);
                return Err(SpanError::new(
                    Span::new(start, line_len),
                    "unterminated string",
                ));
            }
            Some(&(_, '"')) => return Ok((value, i + 1)),
            Some(_) => {
                let (byte, next) = lex_escaped(bytes, i, line_len)?;
                value.push(byte);
                i = next;
            }
        }
    }
}

fn lex_char(bytes: &[(usize, char)], open: usize, line_len: usize) -> SpanResult<(i128, usize)> {
    let (byte, next) = lex_escaped(bytes, open + 1, line_len)?;
    // GNU accepts both 'c' and the older unterminated 'c form.
    let next = if bytes.get(next).is_some_and(|&(_, c)| c == '\'') {
        next + 1
    } else {
        next
    };
    Ok((i128::from(byte), next))
}
