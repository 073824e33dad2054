//! Address assignment, branch relaxation and byte emission.
//!
//! Layout runs in passes over the parsed statements. Every branch starts in its
//! short (rel8) form; after each pass, branches whose target is out of reach (or
//! in another section, or at a constant address) switch to the near (rel32)
//! form, never back, so the passes converge as in GNU `as`. Symbols defined
//! later in the text take their value from the previous pass. The final pass
//! reports errors and emits bytes.

use super::encode::{EncodeRequest, as_i64, encode};
use super::error::{AsmError, Span, SpanError, SpanResult, nearest, signed_hex};
use super::expr::{EvalError, Expr, eval};
use super::fill::{code_padding, data_value_bytes, fill_bytes};
use super::operand::{OperandKind, Value};
use super::parse::{AlignUnit, Item, ItemKind, LOCAL_LABEL_MARKER, display_symbol};
use super::select::Selection;
use super::{ListingEntry, Section};
use std::collections::HashMap;

/// Default load address of `.text`.
pub const TEXT_BASE: u64 = 0x40_0000;
/// Default load address of `.data`.
pub const DATA_BASE: u64 = 0x60_0000;
/// Largest section the assembler will build, so hostile input cannot exhaust memory.
const MAX_SECTION_SIZE: u64 = 16 << 20;
/// Largest alignment accepted by `.align`-style directives.
const MAX_ALIGNMENT: u64 = 1 << 24;

/// A section being laid out.
#[derive(Clone, Debug)]
struct SectionState {
    name: String,
    base: Option<u64>,
    /// Offset of the location counter from the base.
    offset: u64,
    /// Whether any byte (or gap) has been placed.
    started: bool,
    /// Line of its first byte, for overlap errors.
    first_line: usize,
    /// Whether alignment pads with NOPs (code) rather than zeros.
    is_code: bool,
    bytes: Vec<u8>,
}

impl SectionState {
    /// A new section; code sections are those flagged `x` and, as in GNU `as`,
    /// `.text`, `.text.*`, `.init` and `.fini`.
    fn new(name: &str, base: Option<u64>, executable: bool) -> Self {
        let code_by_name =
            matches!(name, ".text" | ".init" | ".fini") || name.starts_with(".text.");
        SectionState {
            name: name.to_string(),
            base,
            offset: 0,
            started: false,
            first_line: 0,
            is_code: executable || code_by_name,
            bytes: Vec::new(),
        }
    }
}

/// What one pass computed.
#[derive(Clone, Debug, Default)]
pub(crate) struct PassOutput {
    pub symbols: HashMap<String, i128>,
    /// Section index of every label.
    label_sections: HashMap<String, usize>,
    /// Bases set by `.base`, by section name.
    bases: HashMap<String, u64>,
    /// Address and section of every statement.
    placements: Vec<(u64, usize)>,
    sections: Vec<SectionState>,
    pub listing: Vec<ListingEntry>,
}

impl PassOutput {
    /// The sections that hold bytes, in order of first appearance.
    pub(crate) fn sections(&self) -> Vec<Section> {
        self.sections
            .iter()
            .filter(|s| !s.bytes.is_empty())
            .map(|s| Section {
                name: s.name.clone(),
                base: s.base.unwrap_or(0),
                bytes: s.bytes.clone(),
            })
            .collect()
    }

    /// The section name of every label (labels of sections that stayed empty too).
    pub(crate) fn label_section_names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.label_sections.iter().filter_map(|(label, &index)| {
            Some((label.as_str(), self.sections.get(index)?.name.as_str()))
        })
    }
}

/// Whether a pass only measures (and tolerates unresolved values) or emits.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Mode {
    Measure,
    Emit,
}

/// The assembly of one source text after parsing.
pub(crate) struct Layout<'a> {
    pub items: &'a [Item],
    pub lines: &'a [&'a str],
    /// The chosen encodings, for instruction items.
    pub selections: &'a [Option<Selection>],
}

/// The mutable state of one pass.
struct Pass<'p> {
    mode: Mode,
    previous: &'p PassOutput,
    use_near: &'p [bool],
    out: PassOutput,
    current: usize,
}

impl Pass<'_> {
    fn lookup(&self, name: &str) -> Option<i128> {
        self.out
            .symbols
            .get(name)
            .or_else(|| self.previous.symbols.get(name))
            .copied()
    }

    fn eval(&self, expr: &Expr, here: u64) -> SpanResult<i128> {
        match eval(expr, &|name| self.lookup(name), i128::from(here)) {
            Ok(value) => Ok(value),
            Err(EvalError::Invalid(error)) => Err(error),
            Err(EvalError::Undefined(_, _)) if self.mode == Mode::Measure => Ok(0),
            Err(EvalError::Undefined(name, span)) => {
                // The previous pass saw every definition, including later ones.
                let known = self
                    .previous
                    .symbols
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !k.contains(LOCAL_LABEL_MARKER));
                let error = SpanError::new(
                    span,
                    format!("undefined symbol `{}`", display_symbol(&name)),
                );
                Err(match nearest(&name, known) {
                    Some(near) => error.with_hint(format!("did you mean `{near}`?")),
                    None => error.with_hint("define it as a label (`name:`) or with `.equ`"),
                })
            }
        }
    }

    fn section(&self) -> &SectionState {
        &self.out.sections[self.current]
    }

    fn address(&self) -> u64 {
        let section = self.section();
        section.base.unwrap_or(0).wrapping_add(section.offset)
    }

    fn require_base(&self, span: Span) -> SpanResult<()> {
        if self.section().base.is_some() || self.mode == Mode::Measure {
            return Ok(());
        }
        let name = &self.section().name;
        Err(
            SpanError::new(span, format!("section `{name}` has no load address"))
                .with_hint(format!("add `.base ADDRESS` right after `.section {name}`")),
        )
    }

    fn switch_section(&mut self, name: &str, executable: bool) {
        let position = self.out.sections.iter().position(|s| s.name == name);
        self.current = position.unwrap_or_else(|| {
            let default = match name {
                ".text" => Some(TEXT_BASE),
                ".data" => Some(DATA_BASE),
                _ => None,
            };
            let base = self.previous.bases.get(name).copied().or(default);
            self.out
                .sections
                .push(SectionState::new(name, base, executable));
            self.out.sections.len() - 1
        });
    }

    /// Places `bytes` (or, when measuring, just `len` bytes) at the location counter.
    fn place(
        &mut self,
        span: Span,
        line: usize,
        len: u64,
        bytes: Option<Vec<u8>>,
        source: &str,
    ) -> SpanResult<()> {
        self.require_base(span)?;
        let address = self.address();
        let section = &mut self.out.sections[self.current];
        let end = section.offset.saturating_add(len);
        let past_address_space =
            u128::from(section.base.unwrap_or(0)) + u128::from(end) > u128::from(u64::MAX) + 1;
        if past_address_space {
            return Err(SpanError::new(
                span,
                format!(
                    "section `{}` would extend past the end of the address space",
                    section.name
                ),
            ));
        }
        if end > MAX_SECTION_SIZE {
            return Err(SpanError::new(
                span,
                format!(
                    "section `{}` would exceed {MAX_SECTION_SIZE} bytes",
                    section.name
                ),
            ));
        }
        if !section.started && len > 0 {
            section.started = true;
            section.first_line = line;
        }
        if let Some(bytes) = bytes {
            section
                .bytes
                .resize(usize::try_from(section.offset).unwrap_or(0), 0);
            section.bytes.extend_from_slice(&bytes);
            // A trailing `.org` gap still belongs to the section.
            section.bytes.resize(usize::try_from(end).unwrap_or(0), 0);
            if !bytes.is_empty() {
                let source = source.trim().to_string();
                self.out.listing.push(ListingEntry {
                    addr: address,
                    bytes,
                    line: line + 1,
                    source,
                });
            }
        }
        self.out.sections[self.current].offset = end;
        Ok(())
    }

    fn emit_bytes(&mut self, item: &Item, source: &str, bytes: Vec<u8>) -> SpanResult<()> {
        let len = bytes.len() as u64;
        let emitted = (self.mode == Mode::Emit).then_some(bytes);
        self.place(item.span, item.line, len, emitted, source)
    }

    fn count(&self, expr: &Expr, what: &str) -> SpanResult<u64> {
        let value = self.eval(expr, self.address())?;
        u64::try_from(value)
            .ok()
            .filter(|&v| v <= MAX_SECTION_SIZE)
            .ok_or_else(|| SpanError::new(expr.span(), format!("{what} {value} is out of range")))
    }
}

impl Layout<'_> {
    /// Runs measuring passes until the layout is stable, then the emitting pass.
    pub(crate) fn run(&self) -> Result<PassOutput, AsmError> {
        let mut use_near = vec![false; self.items.len()];
        let mut previous = PassOutput::default();
        for _ in 0..self.items.len() + 3 {
            let measured = self.pass(Mode::Measure, &previous, &use_near)?;
            // Addresses are provisional until the section bases are known.
            let bases_known = measured.bases == previous.bases;
            let relaxed = bases_known && self.relax(&measured, &mut use_near);
            let stable = bases_known && measured.symbols == previous.symbols;
            previous = measured;
            if !relaxed && stable {
                let emitted = self.pass(Mode::Emit, &previous, &use_near)?;
                self.check_overlaps(&emitted)?;
                return Ok(emitted);
            }
        }
        Err(AsmError {
            line: 1,
            col: 1,
            len: 1,
            message: "the layout does not converge".to_string(),
            hint: None,
        })
    }

    fn error(&self, line: usize, error: SpanError) -> AsmError {
        error.on_line(line + 1, self.lines.get(line).copied().unwrap_or(""))
    }

    fn pass(
        &self,
        mode: Mode,
        previous: &PassOutput,
        use_near: &[bool],
    ) -> Result<PassOutput, AsmError> {
        let mut pass = Pass {
            mode,
            previous,
            use_near,
            out: PassOutput::default(),
            current: 0,
        };
        pass.switch_section(".text", true);
        for (index, item) in self.items.iter().enumerate() {
            pass.out.placements.push((pass.address(), pass.current));
            if let Err(error) = self.item(&mut pass, index, item)
                && mode == Mode::Emit
            {
                return Err(self.error(item.line, error));
            }
        }
        Ok(pass.out)
    }

    fn item(&self, pass: &mut Pass<'_>, index: usize, item: &Item) -> SpanResult<()> {
        let source = self.lines.get(item.line).copied().unwrap_or("");
        match &item.kind {
            ItemKind::Label(name) => {
                pass.require_base(item.span)?;
                pass.out
                    .symbols
                    .insert(name.clone(), i128::from(pass.address()));
                pass.out.label_sections.insert(name.clone(), pass.current);
            }
            ItemKind::Assign { name, value } => {
                let value = pass.eval(value, pass.address())?;
                pass.out.symbols.insert(name.clone(), value);
            }
            ItemKind::Section { name, executable } => pass.switch_section(name, *executable),
            ItemKind::Base(expr) => self.base(pass, item.span, expr)?,
            ItemKind::Org(expr) => {
                let value = pass.eval(expr, pass.address())?;
                let mut absolute = expr.mentions_here();
                expr.for_each_symbol(&mut |name, _| {
                    absolute |= pass.out.label_sections.contains_key(name)
                });
                let base = i128::from(pass.section().base.unwrap_or(0));
                let target = if absolute {
                    value.saturating_sub(base)
                } else {
                    value
                };
                let offset = i128::from(pass.section().offset);
                if target < offset {
                    return Err(SpanError::new(
                        item.span,
                        "`.org` cannot move the location counter backwards",
                    )
                    .with_hint(format!(
                        "the location counter is already at offset {offset:#x}"
                    )));
                }
                let gap = u64::try_from(target.saturating_sub(offset)).unwrap_or(u64::MAX);
                pass.place(
                    item.span,
                    item.line,
                    gap,
                    (pass.mode == Mode::Emit).then(Vec::new),
                    source,
                )?;
            }
            ItemKind::Align {
                boundary,
                unit,
                fill,
                max_skip,
            } => {
                let boundary = pass.eval(boundary, pass.address())?;
                let bytes = match unit {
                    AlignUnit::PowerOfTwo => u32::try_from(boundary)
                        .ok()
                        .and_then(|n| 1u64.checked_shl(n)),
                    AlignUnit::Bytes => u64::try_from(boundary).ok().map(|b| b.max(1)),
                };
                let boundary = bytes
                    .filter(|b| b.is_power_of_two() && *b <= MAX_ALIGNMENT)
                    .ok_or_else(|| {
                        SpanError::new(item.span, "alignment must be a power of two up to 2^24")
                    })?;
                let pad = boundary.wrapping_sub(pass.address() % boundary) % boundary;
                let max_skip = match max_skip {
                    Some(expr) => pass.eval(expr, pass.address())?,
                    None => i128::from(pad),
                };
                let pad = if i128::from(pad) > max_skip { 0 } else { pad };
                let fill = match fill {
                    Some(expr) => Some(pass.eval(expr, pass.address())? as u8),
                    None => None,
                };
                let len = usize::try_from(pad).unwrap_or(0);
                let bytes = match fill {
                    Some(byte) => vec![byte; len],
                    None if pass.section().is_code => code_padding(len),
                    None => vec![0; len],
                };
                pass.emit_bytes(item, source, bytes)?;
            }
            ItemKind::Data { width, values } => {
                let mut bytes = Vec::with_capacity(width * values.len());
                for value in values {
                    let here = pass.address().wrapping_add(bytes.len() as u64);
                    let number = pass.eval(value, here)?;
                    bytes.extend(data_value_bytes(number, *width).ok_or_else(|| {
                        SpanError::new(
                            value.span(),
                            format!(
                                "value {} does not fit in {width} byte(s)",
                                signed_hex(number)
                            ),
                        )
                    })?);
                }
                pass.emit_bytes(item, source, bytes)?;
            }
            ItemKind::Ascii(bytes) => pass.emit_bytes(item, source, bytes.clone())?,
            ItemKind::Fill { count, unit, value } => {
                let count = pass.count(count, "fill count")?;
                let unit = match unit {
                    Some(expr) => pass.count(expr, "fill size")?,
                    None => 1,
                };
                let value = match value {
                    Some(expr) => pass.eval(expr, pass.address())?,
                    None => 0,
                };
                let bytes = fill_bytes(count, unit, value).ok_or_else(|| {
                    SpanError::new(
                        item.span,
                        "a fill must be at most 16 MiB of units of 0 to 8 bytes",
                    )
                })?;
                pass.emit_bytes(item, source, bytes)?;
            }
            ItemKind::Instruction(instruction) => {
                let Some(selection) = self.selections.get(index).and_then(Option::as_ref) else {
                    return Ok(());
                };
                let form = selection.form(pass.use_near.get(index).copied().unwrap_or(true));
                if pass.mode == Mode::Measure {
                    return pass.place(item.span, item.line, form.len as u64, None, source);
                }
                let ip = pass.address();
                let request = EncodeRequest {
                    code: form.code,
                    operands: &form.operands,
                    prefixes: &instruction.prefixes,
                    ip,
                    len: form.len,
                };
                let bytes = encode(&request, &|value: &Value| pass.eval(&value.expr, ip))?;
                if bytes.len() != form.len {
                    return Err(SpanError::new(
                        item.span,
                        "instruction length changed between passes",
                    )
                    .with_hint("this is an assembler bug; please report it"));
                }
                pass.emit_bytes(item, source, bytes)?;
            }
        }
        Ok(())
    }

    fn base(&self, pass: &mut Pass<'_>, span: Span, expr: &Expr) -> SpanResult<()> {
        let value = pass.eval(expr, pass.address())?;
        let base = as_i64(value).map(|v| v as u64).ok_or_else(|| {
            SpanError::new(
                expr.span(),
                format!("address {} does not fit in 64 bits", signed_hex(value)),
            )
        })?;
        let section = pass.section();
        let name = section.name.clone();
        if section.started {
            return Err(SpanError::new(
                span,
                format!("`.base` must come before the first byte of section `{name}`"),
            )
            .with_hint(format!(
                "move `.base` right after `.section {name}`, before any instruction or data"
            )));
        }
        if let Some(&earlier) = pass.out.bases.get(&name)
            && earlier != base
        {
            return Err(SpanError::new(
                span,
                format!("section `{name}` already has base {earlier:#x}"),
            ));
        }
        pass.out.bases.insert(name, base);
        pass.out.sections[pass.current].base = Some(base);
        Ok(())
    }

    /// Switches short branches whose target is out of reach to the near form.
    /// Returns whether anything changed.
    fn relax(&self, measured: &PassOutput, use_near: &mut [bool]) -> bool {
        let mut changed = false;
        for (index, selection) in self.selections.iter().enumerate() {
            let Some(Selection {
                short: Some(short), ..
            }) = selection
            else {
                continue;
            };
            if use_near[index] {
                continue;
            }
            let Some(&(address, section)) = measured.placements.get(index) else {
                continue;
            };
            let target = short
                .operands
                .iter()
                .find_map(|operand| match &operand.kind {
                    OperandKind::Value(value) => Some(&value.expr),
                    _ => None,
                });
            let reachable = target.is_some_and(|expr| {
                let mut labels = 0;
                let mut same_section = true;
                expr.for_each_symbol(&mut |name, _| {
                    let label_section = measured.label_sections.get(name);
                    labels += usize::from(label_section.is_some());
                    same_section &= label_section.is_none_or(|&s| s == section);
                });
                let lookup = |name: &str| measured.symbols.get(name).copied();
                let distance = eval(expr, &lookup, i128::from(address))
                    .map(|target| target.saturating_sub(i128::from(address) + short.len as i128));
                (labels > 0 || expr.mentions_here())
                    && same_section
                    && distance.is_ok_and(|d| (-128..=127).contains(&d))
            });
            if !reachable {
                use_near[index] = true;
                changed = true;
            }
        }
        changed
    }

    fn check_overlaps(&self, output: &PassOutput) -> Result<(), AsmError> {
        let ranges: Vec<(&SectionState, u64, u64)> = output
            .sections
            .iter()
            .filter(|s| !s.bytes.is_empty())
            .map(|s| {
                let base = s.base.unwrap_or(0);
                (s, base, base.saturating_add(s.bytes.len() as u64))
            })
            .collect();
        for (i, &(later, start, end)) in ranges.iter().enumerate() {
            for &(earlier, other_start, other_end) in &ranges[..i] {
                if start < other_end && other_start < end {
                    let error = SpanError::new(Span::new(0, usize::MAX), format!(
                        "section `{}` ({start:#x}..{end:#x}) overlaps section `{}` ({other_start:#x}..{other_end:#x})",
                        later.name, earlier.name
                    ))
                    .with_hint("give one of them another address with `.base`");
                    return Err(self.error(later.first_line, error));
                }
            }
        }
        Ok(())
    }
}
