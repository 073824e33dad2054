//! Where each value of a RON text is: a syntax tree of byte spans, built beside the
//! serde parse (which keeps no positions), so that semantic errors point at the
//! offending value and assembly errors inside strings at the right character.
//!
//! The tree is built only from text `ron` has already accepted, but it never
//! panics on any input: it returns `None` for text it cannot follow.

use std::ops::Range;

/// Deepest nesting followed (`ron`'s own default limit is 128).
const MAX_DEPTH: usize = 256;

/// One value and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    /// Bytes of the whole value.
    pub span: Range<usize>,
    /// What kind of value.
    pub kind: Kind,
}

/// The shapes of RON values that matter for finding things.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A number, boolean, character, unit or bare identifier (`None`, `Sysret`).
    Atom,
    /// A string literal.
    Str(StrLit),
    /// `Name(field: value, ...)` or `(field: value, ...)`.
    Struct(Vec<Field>),
    /// `Name(value, ...)` or `(value, ...)`; `name` is `Some` for `Some(x)` etc.
    Tuple {
        /// The identifier before `(`, if any.
        name: Option<String>,
        /// The values.
        items: Vec<Node>,
    },
    /// `[value, ...]`.
    Seq(Vec<Node>),
    /// `{key: value, ...}`.
    Map(Vec<(Node, Node)>),
}

/// `name: value` inside a struct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    /// The field name.
    pub name: String,
    /// The name as a node (an atom spanning the name), so paths can end on it.
    pub key: Node,
    /// The value.
    pub value: Node,
}

/// A string literal: where its contents are and how they are escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StrLit {
    /// Bytes between the quotes.
    pub content: Range<usize>,
    /// `r"..."`/`r#"..."#`: no escapes, contents verbatim.
    pub raw: bool,
}

impl StrLit {
    /// The byte offset in `text` of byte `decoded` of the string's value: the
    /// place an editor should put the cursor for that character.
    pub(crate) fn source_offset(&self, text: &str, decoded: usize) -> usize {
        let content = text.get(self.content.clone()).unwrap_or("");
        if self.raw {
            return self.content.start + decoded.min(content.len());
        }
        let mut produced = 0;
        let mut chars = content.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if produced >= decoded {
                return self.content.start + at;
            }
            produced += if c == '\\' {
                escape_len(&mut chars)
            } else {
                c.len_utf8()
            };
        }
        self.content.end
    }
}

/// Consumes one escape sequence after its `\`; returns the decoded length in bytes.
fn escape_len(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> usize {
    match chars.next().map(|(_, c)| c) {
        Some('u') => {
            let mut hex = String::new();
            for (_, c) in chars.by_ref() {
                if c == '}' {
                    break;
                }
                if c != '{' {
                    hex.push(c);
                }
            }
            u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)
                .map_or(1, char::len_utf8)
        }
        Some('x') => {
            let hex: String = (0..2)
                .filter_map(|_| chars.next().map(|(_, c)| c))
                .collect();
            u8::from_str_radix(&hex, 16).map_or(1, |b| char::from(b).len_utf8())
        }
        _ => 1,
    }
}

/// One step of a path from the root to a value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    /// A struct field by name.
    Field(&'a str),
    /// An element of a list or tuple.
    Index(usize),
    /// A map entry by key (a string key, or a field of struct syntax): the key.
    Key(&'a str),
    /// A map entry by key: the value.
    KeyValue(&'a str),
}

impl Node {
    /// Parse `text` (RON, including `#![enable(...)]` attributes and comments).
    pub(crate) fn parse(text: &str) -> Option<Node> {
        let mut p = Parser { text, pos: 0 };
        p.skip_attributes()?;
        let node = p.value(0)?;
        p.skip_trivia();
        (p.pos == text.len()).then_some(node)
    }

    /// The value at `path`, looking through `Some(...)` wrappers.
    pub(crate) fn find(&self, text: &str, path: &[Step]) -> Option<&Node> {
        let Some((step, rest)) = path.split_first() else {
            return Some(self);
        };
        let node = self.unwrap_some();
        let next = match (step, &node.kind) {
            (Step::Field(name), Kind::Struct(fields)) => {
                &fields.iter().find(|f| f.name == *name)?.value
            }
            (Step::Index(i), Kind::Seq(items) | Kind::Tuple { items, .. }) => items.get(*i)?,
            (Step::Key(key) | Step::KeyValue(key), Kind::Map(entries)) => {
                let (k, v) = entries
                    .iter()
                    .find(|(k, _)| k.string(text).as_deref() == Some(key))?;
                if matches!(step, Step::Key(_)) { k } else { v }
            }
            (Step::Key(key), Kind::Struct(fields)) => &fields.iter().find(|f| f.name == *key)?.key,
            (Step::KeyValue(key), Kind::Struct(fields)) => {
                &fields.iter().find(|f| f.name == *key)?.value
            }
            _ => return None,
        };
        next.find(text, rest)
    }

    /// The span of the value at `path`, or of the deepest value on the way there
    /// (so an error always points somewhere sensible).
    pub(crate) fn span_of(&self, text: &str, path: &[Step]) -> Range<usize> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.find(text, &path[..n]))
            .map_or(0..0, |node| node.span.clone())
    }

    /// The decoded value of a string literal, if this is one.
    pub(crate) fn string(&self, text: &str) -> Option<String> {
        let Kind::Str(lit) = &self.kind else {
            return None;
        };
        let content = text.get(lit.content.clone())?;
        if lit.raw {
            return Some(content.to_string());
        }
        ron::from_str::<String>(text.get(self.span.clone())?).ok()
    }

    /// The innermost struct field whose value contains byte `offset`.
    pub(crate) fn field_at(&self, offset: usize) -> Option<&str> {
        let children: Box<dyn Iterator<Item = (Option<&str>, &Node)>> = match &self.kind {
            Kind::Struct(fields) => {
                Box::new(fields.iter().map(|f| (Some(f.name.as_str()), &f.value)))
            }
            Kind::Tuple { items, .. } | Kind::Seq(items) => {
                Box::new(items.iter().map(|n| (None, n)))
            }
            Kind::Map(entries) => Box::new(entries.iter().map(|(_, v)| (None, v))),
            Kind::Atom | Kind::Str(_) => Box::new(std::iter::empty()),
        };
        for (name, child) in children {
            if child.span.contains(&offset) || child.span.end == offset {
                return child.field_at(offset).or(name);
            }
        }
        None
    }

    /// The value inside `Some(...)` (repeatedly), or this value.
    pub(crate) fn unwrap_some(&self) -> &Node {
        match &self.kind {
            Kind::Tuple {
                name: Some(name),
                items,
            } if name == "Some" && items.len() == 1 => items[0].unwrap_some(),
            _ => self,
        }
    }
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += c.len_utf8();
        }
        found
    }

    /// Skips whitespace and comments (block comments nest, as in RON).
    fn skip_trivia(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if trimmed.starts_with("/*") {
                let mut depth = 0usize;
                let mut i = 0;
                let bytes = trimmed.as_bytes();
                while i < bytes.len() {
                    if trimmed[i..].starts_with("/*") {
                        depth += 1;
                        i += 2;
                    } else if trimmed[i..].starts_with("*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                self.pos += i;
            } else {
                return;
            }
        }
    }

    fn skip_attributes(&mut self) -> Option<()> {
        loop {
            self.skip_trivia();
            if !self.rest().starts_with("#!") {
                return Some(());
            }
            self.pos += self.rest().find(']')? + 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_trivia();
        let start = self.pos;
        let rest = self.rest();
        let c = rest.chars().next()?;
        let kind = if let Some(raw) = raw_string_prefix(rest) {
            self.raw_string(raw)?
        } else if c == '"' || rest.starts_with("b\"") {
            self.pos += rest.find('"')?;
            self.quoted_string()?
        } else if c == '\'' {
            self.quoted_char()?;
            Kind::Atom
        } else if c == '[' {
            self.pos += 1;
            Kind::Seq(self.items(']', depth)?)
        } else if c == '{' {
            self.pos += 1;
            Kind::Map(self.entries(depth)?)
        } else if c == '(' {
            self.pos += 1;
            self.parenthesized(None, depth)?
        } else if c.is_ascii_digit() || "+-.".contains(c) {
            self.number();
            Kind::Atom
        } else {
            let name = self.identifier()?;
            self.skip_trivia();
            if self.eat('(') {
                self.parenthesized(Some(name), depth)?
            } else {
                Kind::Atom
            }
        };
        Some(Node {
            span: start..self.pos,
            kind,
        })
    }

    fn identifier(&mut self) -> Option<String> {
        let rest = self.rest();
        let body = rest.strip_prefix("r#").unwrap_or(rest);
        let prefix = rest.len() - body.len();
        let len = body
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        if len == 0 {
            return None;
        }
        self.pos += prefix + len;
        Some(body[..len].to_string())
    }

    fn number(&mut self) {
        let rest = self.rest();
        let mut prev = ' ';
        let len = rest
            .char_indices()
            .find(|&(i, c)| {
                let part = c.is_ascii_alphanumeric()
                    || c == '_'
                    || c == '.'
                    || (i == 0 && "+-".contains(c))
                    || ("+-".contains(c) && "eE".contains(prev) && !rest.starts_with("0x"));
                prev = c;
                !part
            })
            .map_or(rest.len(), |(i, _)| i);
        self.pos += len.max(1);
    }

    fn quoted_string(&mut self) -> Option<Kind> {
        self.pos += 1; // the opening quote
        let content_start = self.pos;
        let content = content_start..content_start + self.closing_quote('"')?;
        self.pos = content.end + 1;
        Some(Kind::Str(StrLit {
            content,
            raw: false,
        }))
    }

    fn quoted_char(&mut self) -> Option<()> {
        self.pos += 1; // the opening quote
        self.pos += self.closing_quote('\'')? + 1;
        Some(())
    }

    /// Offset in [`Self::rest`] of the unescaped `quote` that closes a literal.
    fn closing_quote(&self, quote: char) -> Option<usize> {
        let mut escaped = false;
        for (i, c) in self.rest().char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == quote {
                return Some(i);
            }
        }
        None
    }

    /// `r##"..."##` with `hashes` `#`s (the prefix `r`/`br` already recognised).
    fn raw_string(&mut self, (prefix_len, hashes): (usize, usize)) -> Option<Kind> {
        self.pos += prefix_len;
        let content_start = self.pos;
        let close = format!("\"{}", "#".repeat(hashes));
        let len = self.rest().find(&close)?;
        self.pos += len + close.len();
        Some(Kind::Str(StrLit {
            content: content_start..content_start + len,
            raw: true,
        }))
    }

    fn items(&mut self, close: char, depth: usize) -> Option<Vec<Node>> {
        let mut items = Vec::new();
        loop {
            self.skip_trivia();
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.value(depth + 1)?);
            self.skip_trivia();
            if !self.eat(',') {
                self.skip_trivia();
                return self.eat(close).then_some(items);
            }
        }
    }

    fn entries(&mut self, depth: usize) -> Option<Vec<(Node, Node)>> {
        let mut entries = Vec::new();
        loop {
            self.skip_trivia();
            if self.eat('}') {
                return Some(entries);
            }
            let key = self.value(depth + 1)?;
            self.skip_trivia();
            if !self.eat(':') {
                return None;
            }
            entries.push((key, self.value(depth + 1)?));
            self.skip_trivia();
            if !self.eat(',') {
                self.skip_trivia();
                return self.eat('}').then_some(entries);
            }
        }
    }

    /// After `(`: struct fields if the first thing is `name:`, else tuple items.
    fn parenthesized(&mut self, name: Option<String>, depth: usize) -> Option<Kind> {
        self.skip_trivia();
        let save = self.pos;
        let is_struct = self.identifier().is_some() && {
            self.skip_trivia();
            self.rest().starts_with(':') && !self.rest().starts_with("::")
        };
        self.pos = save;
        if !is_struct {
            let items = self.items(')', depth)?;
            return Some(Kind::Tuple { name, items });
        }
        let mut fields = Vec::new();
        loop {
            self.skip_trivia();
            if self.eat(')') {
                return Some(Kind::Struct(fields));
            }
            let name_start = self.pos;
            let field = self.identifier()?;
            let key = Node {
                span: name_start..self.pos,
                kind: Kind::Atom,
            };
            self.skip_trivia();
            if !self.eat(':') {
                return None;
            }
            let value = self.value(depth + 1)?;
            fields.push(Field {
                name: field,
                key,
                value,
            });
            self.skip_trivia();
            if !self.eat(',') {
                self.skip_trivia();
                return self.eat(')').then_some(Kind::Struct(fields));
            }
        }
    }
}

/// For a raw string at the start of `s` (`r"`, `r#"`, `br##"`...): the length of
/// its prefix up to and including the opening quote, and its number of `#`s.
fn raw_string_prefix(s: &str) -> Option<(usize, usize)> {
    let after_b = s.strip_prefix('b').unwrap_or(s);
    let after_r = after_b.strip_prefix('r')?;
    let hashes = after_r.len() - after_r.trim_start_matches('#').len();
    after_r[hashes..]
        .starts_with('"')
        .then_some((s.len() - after_r.len() + hashes + 1, hashes))
}
