//! The herd7 litmus file layout: header, init block, thread table, `locations`, condition.

use super::ast::{
    Arch, Condition, Init, Instr, LitmusTest, Location, MemInit, MemType, Quantifier,
};
use super::error::{LitmusError, Source};
use super::instr::parse_instr;
use super::prop::{is_ident, parse_int, parse_location, parse_prop, register};

/// Parse the litmus test in `text`; `file` is only used in error messages.
pub fn parse(file: &str, text: &str) -> Result<LitmusTest, LitmusError> {
    let src = Source::new(file, text)?;
    Parser { src: &src }.test()
}

/// Words that end the thread table.
const CLAUSES: [&str; 5] = ["locations", "~exists", "exists", "forall", "filter"];

/// Everything the thread table needs to know about a register initialisation, so
/// that thread numbers can be checked once the number of threads is known.
struct RegInit<'s> {
    thread: usize,
    item: &'s str,
    reg: &'s str,
    value: i64,
}

struct Parser<'s, 'a> {
    src: &'s Source<'a>,
}

impl<'s> Parser<'s, '_> {
    fn text(&self) -> &'s str {
        &self.src.text
    }

    /// Empty slice at the end of the text.
    fn eof(&self) -> &'s str {
        &self.text()[self.text().len()..]
    }

    /// The rest of the text from byte offset `at`, split into lines.
    fn lines_from(&self, at: usize) -> impl Iterator<Item = &'s str> {
        self.text()[at..].lines()
    }

    /// Offset just past `line`.
    fn after(&self, part: &str) -> usize {
        self.src.offset(part) + part.len()
    }

    fn test(&self) -> Result<LitmusTest, LitmusError> {
        let Some(header) = self.lines_from(0).find(|l| !l.trim().is_empty()) else {
            return Err(self.src.error(
                self.eof(),
                "empty litmus file",
                "a litmus test starts with `X86 NAME` or `X86_64 NAME`",
            ));
        };
        let mut words = header.split_whitespace();
        let arch_word = words.next().unwrap_or(header);
        let arch = match arch_word {
            "X86" => Arch::X86,
            "X86_64" => Arch::X86_64,
            _ => {
                return Err(self.src.error(
                    arch_word,
                    "unsupported architecture",
                    "the first line must be `X86 NAME` or `X86_64 NAME`",
                ));
            }
        };
        let name = words.next().ok_or_else(|| {
            self.src.error(
                header.trim_end(),
                "missing test name",
                "the first line must be `ARCH NAME`, e.g. `X86 SB`",
            )
        })?;
        if let Some(extra) = words.next() {
            return Err(self.src.error(
                extra,
                "unexpected text after the test name",
                "test names contain no spaces",
            ));
        }
        let brace = self.preamble(self.after(header))?;
        let (init_items, table_start) = self.init_block(brace)?;
        let mut init = Init::default();
        let mut reg_inits = Vec::new();
        for item in init_items {
            self.init_item(item, &mut init, &mut reg_inits)?;
        }
        let (threads, clause) = self.table(arch, table_start)?;
        for r in reg_inits {
            if r.thread >= threads.len() {
                return Err(self.src.error(
                    r.item,
                    format!("thread {} does not exist", r.thread),
                    format!("this test has threads 0..{}", threads.len() - 1),
                ));
            }
            init.regs
                .insert((r.thread, register(self.src, r.reg)?), r.value);
        }
        let (locations, cond_start) = self.locations(clause, threads.len())?;
        let condition = self.condition(cond_start, threads.len())?;
        Ok(LitmusTest {
            name: name.to_string(),
            arch,
            init,
            threads,
            locations,
            condition,
        })
    }

    /// Skip quoted descriptions and `Key=Value` lines; return the offset of `{`.
    fn preamble(&self, from: usize) -> Result<usize, LitmusError> {
        for line in self.lines_from(from) {
            let t = line.trim();
            if t.starts_with('{') {
                return Ok(self.src.offset(t));
            }
            if t.is_empty() || (t.starts_with('"') && t.len() > 1 && t.ends_with('"')) {
                continue;
            }
            if t.starts_with('"') {
                return Err(self.src.error(
                    t,
                    "unterminated quoted line",
                    "close the description with `\"`",
                ));
            }
            if t.split_once('=').is_some_and(|(k, _)| is_ident(k.trim())) {
                continue;
            }
            return Err(self.src.error(
                t,
                "unexpected line before the init block",
                "expected `{`, a quoted description or a `Key=Value` line",
            ));
        }
        Err(self.src.error(
            self.eof(),
            "missing init block",
            "add `{ }` (initial values) before the thread table",
        ))
    }

    /// The `;`-separated items of the init block at `open`, and the offset after `}`.
    fn init_block(&self, open: usize) -> Result<(Vec<&'s str>, usize), LitmusError> {
        let body_start = open + 1;
        let Some(len) = self.text()[body_start..].find('}') else {
            return Err(self.src.error_at(
                open,
                1,
                "unterminated init block",
                "close the init block with `}`",
            ));
        };
        let body = &self.text()[body_start..body_start + len];
        let items = body
            .split(';')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .collect();
        Ok((items, body_start + len + 1))
    }

    /// One init item: `x=1`, `[x]=1`, `0:EAX=1`, `int x`, `uint64_t x=1`.
    fn init_item(
        &self,
        item: &'s str,
        init: &mut Init,
        regs: &mut Vec<RegInit<'s>>,
    ) -> Result<(), LitmusError> {
        let (lhs, value) = match item.split_once('=') {
            Some((lhs, rhs)) => {
                let rhs = rhs.trim();
                let v = parse_int(rhs).ok_or_else(|| {
                    self.src.error(
                        rhs,
                        "expected an integer",
                        "initial values are integers, e.g. `x=1` or `0:EAX=0x10`",
                    )
                })?;
                (lhs.trim(), v)
            }
            None => (item, 0),
        };
        let mut words = lhs.split_whitespace();
        let (ty, target) = match (words.next(), words.next(), words.next()) {
            (Some(t), Some(name), None) => {
                let ty = MemType::from_name(t).ok_or_else(|| {
                    self.src.error(
                        t,
                        "unknown type",
                        "known types: int, uint64_t, int64_t, uint32_t, int32_t, ...",
                    )
                })?;
                (Some(ty), name)
            }
            (Some(only), None, None) if item.contains('=') => (None, only),
            _ => {
                return Err(self.src.error(
                    item,
                    "bad init item",
                    "write `x=0`, `[x]=0`, `0:EAX=1` or a declaration such as `int x`",
                ));
            }
        };
        if let Some((t, reg)) = target.split_once(':') {
            let thread = t.parse().map_err(|_| {
                self.src.error(
                    target,
                    "bad thread number in register location",
                    "write registers as `T:REG`, e.g. `0:EAX`",
                )
            })?;
            if ty.is_some() {
                return Err(self.src.error(
                    item,
                    "registers cannot be declared with a type",
                    "write `0:EAX=1`",
                ));
            }
            register(self.src, reg)?;
            regs.push(RegInit {
                thread,
                item,
                reg,
                value,
            });
            return Ok(());
        }
        match parse_location(self.src, target, 0)? {
            Location::Mem(name) => {
                init.memory.insert(
                    name,
                    MemInit {
                        ty: ty.unwrap_or(MemType::INT),
                        value,
                    },
                );
                Ok(())
            }
            Location::Reg { .. } => Err(self.src.error(
                target,
                "expected a memory location",
                "write `x=0` or `[x]=0`",
            )),
        }
    }

    /// The thread table from `from`; returns the threads and the offset of the clause
    /// that ends the table.
    fn table(&self, arch: Arch, from: usize) -> Result<(Vec<Vec<Instr>>, usize), LitmusError> {
        let mut threads: Option<Vec<Vec<Instr>>> = None;
        for line in self.lines_from(from) {
            let row = line.trim();
            if row.is_empty() {
                continue;
            }
            if CLAUSES.iter().any(|c| starts_with_word(row, c)) {
                return match threads {
                    Some(t) => Ok((t, self.src.offset(row))),
                    None => Err(self.src.error(
                        row,
                        "missing thread table",
                        "add a header row such as `P0 | P1 ;` and one row per instruction",
                    )),
                };
            }
            let Some(body) = row.strip_suffix(';') else {
                return Err(self.src.error(
                    row,
                    "table row must end with `;`",
                    "end every row of the thread table, including the `P0 | P1` header, with `;`",
                ));
            };
            let cells: Vec<&str> = body.split('|').map(str::trim).collect();
            match threads.as_mut() {
                None => {
                    for (i, cell) in cells.iter().enumerate() {
                        if *cell != format!("P{i}") {
                            return Err(self.src.error(
                                cell,
                                format!("expected thread header `P{i}`"),
                                "the first table row names the threads in order: `P0 | P1 | ... ;`",
                            ));
                        }
                    }
                    threads = Some(vec![Vec::new(); cells.len()]);
                }
                Some(threads) => {
                    if cells.len() != threads.len() {
                        return Err(self.src.error(body, format!("row has {} columns but the test has {} threads", cells.len(), threads.len()), "separate one cell per thread with `|`; leave a cell blank if the thread has nothing there"));
                    }
                    for (thread, cell) in threads.iter_mut().zip(cells) {
                        if !cell.is_empty() {
                            thread.push(parse_instr(self.src, arch, cell)?);
                        }
                    }
                }
            }
        }
        Err(self.src.error(
            self.eof(),
            "missing final condition",
            "end the test with `exists (...)`, `~exists (...)` or `forall (...)`",
        ))
    }

    /// An optional `locations [a; 0:EAX;]` clause at `at`; returns it and where the condition starts.
    fn locations(&self, at: usize, threads: usize) -> Result<(Vec<Location>, usize), LitmusError> {
        let rest = &self.text()[at..];
        if !starts_with_word(rest, "locations") {
            return Ok((Vec::new(), at));
        }
        let after = rest["locations".len()..].trim_start();
        let list = after
            .strip_prefix('[')
            .and_then(|l| l.find(']').map(|end| &l[..end]))
            .ok_or_else(|| {
                self.src.error(
                    &rest[.."locations".len()],
                    "bad locations clause",
                    "write `locations [x; 0:EAX;]`",
                )
            })?;
        let locations = list
            .split(';')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| parse_location(self.src, l, threads))
            .collect::<Result<_, _>>()?;
        let end = self.after(list) + 1;
        let next = self.text()[end..].trim_start();
        Ok((locations, self.src.offset(next)))
    }

    fn condition(&self, at: usize, threads: usize) -> Result<Condition, LitmusError> {
        let rest = &self.text()[at..];
        let quantifier = [
            ("~exists", Quantifier::NotExists),
            ("exists", Quantifier::Exists),
            ("forall", Quantifier::Forall),
        ]
        .into_iter()
        .find(|(w, _)| starts_with_word(rest, w));
        let Some((word, quantifier)) = quantifier else {
            let first = rest.split_whitespace().next().unwrap_or(rest);
            return Err(self.src.error(first, "expected the final condition", "write `exists (...)`, `~exists (...)` or `forall (...)`; `filter` clauses are not supported"));
        };
        let prop = parse_prop(self.src, &rest[word.len()..], threads)?;
        Ok(Condition { quantifier, prop })
    }
}

/// Whether `s` starts with the keyword `word` (not merely a longer word).
fn starts_with_word(s: &str, word: &str) -> bool {
    s.strip_prefix(word)
        .is_some_and(|r| !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}
