//! Intel-syntax assembler: the GNU `as -msyntax=intel -mnaked-reg` dialect to bytes.
//!
//! ```
//! let program = isa::asm::assemble("
//!     mov eax, 1
//! spin:
//!     pause
//!     jmp spin
//! ").unwrap();
//! assert_eq!(program.symbol("spin"), Some(0x400005));
//! assert_eq!(program.sections[0].bytes, [0xb8, 1, 0, 0, 0, 0xf3, 0x90, 0xeb, 0xfc]);
//! ```
//!
//! # Syntax
//! - One statement per line, after any number of `label:` definitions. Local
//!   numeric labels `1:` are referred to as `1b` (latest before) and `1f`
//!   (next). Both `#` and `;` start a comment (GNU reads `;` as a statement
//!   separator instead).
//! - Instructions: any legacy-encoded x86-64 instruction iced-x86 knows, with
//!   GNU's choice of encoding (shortest form; 8-bit branches when in reach), the
//!   GNU aliases (`jz`, `jnae`, `setnz`, `cmovc`, `sal`, `iret`, `pushf`,
//!   `movabs`...) and the `lock`, `rep`/`repe`/`repz`, `repne`/`repnz` prefixes.
//!   `sysret`/`sysexit` without suffix are the 32-bit (`sysretd`) forms.
//!   String instructions are written without operands (`rep movsb`, `lodsq`).
//!   VEX/EVEX-encoded (AVX) instructions and x87 register operands are not
//!   supported.
//! - Operands: registers, `size ptr seg:[base + index*scale + disp]` (size keyword
//!   and segment optional), `[rip + label]`, `[label]`, `offset label`, and
//!   expressions. As in GNU Intel syntax, a bare `label` or `label+8` operand is a
//!   memory reference; `offset label`, constants and `b - a` are immediates.
//! - Expressions: numbers (decimal, `0x` hex, `0b` binary, `0`-octal, `h`-suffixed
//!   hex, `'c'`), symbols, `.`, `+ - * / % << >> & | ^ ~`, the comparisons
//!   `== != <> < > <= >=` (-1 when true, 0 when false), `&& || !` (1 or 0) and
//!   parentheses, with GNU's precedence: `* / % << >>` bind tightest, then
//!   `| ^ &`, then `+ -`, then the comparisons, then `&&`, then `||`. Values
//!   that depend on labels always get 32-bit immediates/displacements, as GNU
//!   gives them when it cannot resolve them in its first pass.
//!
//! # Directives
//! `.text`, `.data`, `.bss`, `.section NAME[,"flags",@type]`, `.base ADDR` (synclab:
//! load address of the current section, before its first byte), `.org`,
//! `.align`/`.balign` (bytes), `.p2align` (power of two), each with optional fill
//! and max-skip, `.byte`, `.word`/`.short`/`.value`/`.2byte`, `.long`/`.int`/`.4byte`,
//! `.quad`/`.8byte`, `.ascii`, `.asciz`/`.string`, `.zero`, `.skip`/`.space`,
//! `.fill COUNT[,SIZE[,VALUE]]`, `.rept N` ... `.endr` (nestable),
//! `.if EXPR`/`.ifdef NAME`/`.ifndef NAME` ... `.elseif EXPR` ... `.else` ... `.endif`
//! (nestable; decided on the constants and symbols defined on earlier lines, as
//! in GNU's single pass), `.equ`/`.set`/`NAME = expr`, `.sync_point NAME` (records the symbol
//! `sync_point.NAME`, emits nothing), and, ignored, `.intel_syntax noprefix`,
//! `.globl`, `.global`, `.type`, `.size`, `.file`, `.ident`, `.local`, `.weak`,
//! `.hidden`, `.code64`.
//!
//! # Sections and addresses
//! `.text` loads at 0x400000 and `.data` at 0x600000 unless `.base` says otherwise;
//! any other section must set `.base` before its first byte. `.org` takes an
//! offset from the section start (or an address, when it involves labels).
//! Symbols are absolute addresses. Sections must not overlap. Alignment pads
//! with GNU's NOP sequences in code sections (`.text`, `.text.*`, `.init`,
//! `.fini`, or flagged `"x"` in `.section`) and with zeros elsewhere.

mod conditional;
mod encode;
mod error;
mod expr;
mod fill;
mod layout;
mod lexer;
mod operand;
mod parse;
mod repeat;
mod select;
mod table;

pub use error::AsmError;
pub use layout::{DATA_BASE, TEXT_BASE};
pub use parse::SYNC_POINT_PREFIX;

use std::collections::BTreeMap;

/// An assembled program: its sections, symbols and a listing.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Program {
    /// Sections that received bytes, in order of first appearance.
    pub sections: Vec<Section>,
    /// Every label, `.equ`/`.set` constant and sync point, by name; labels are
    /// absolute addresses.
    pub symbols: BTreeMap<String, u64>,
    /// The section of every label (not of `.set` constants), by label name: what
    /// tells an address from a number among the symbols, and kernel from user code.
    pub labels: BTreeMap<String, String>,
    /// One entry per statement that emitted bytes, in emission order.
    pub listing: Vec<ListingEntry>,
}

impl Program {
    /// The value of symbol `name` (a label's absolute address), if defined.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols.get(name).copied()
    }
}

/// A contiguous block of bytes loaded at `base`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Section name as written (`.text`, `.data`, `.kernel`...).
    pub name: String,
    /// Load address of the first byte.
    pub base: u64,
    /// Contents; gaps left by `.org` are zero-filled.
    pub bytes: Vec<u8>,
}

/// The bytes one source statement produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingEntry {
    /// Address of the first byte.
    pub addr: u64,
    /// The bytes emitted.
    pub bytes: Vec<u8>,
    /// 1-based source line.
    pub line: usize,
    /// The source line, trimmed.
    pub source: String,
}

/// Assembles Intel-syntax `src` into a [`Program`].
///
/// Never panics; the first error (in source order, or in layout order for
/// errors only found once addresses are known) is returned.
pub fn assemble(src: &str) -> Result<Program, AsmError> {
    let lines: Vec<&str> = src.lines().collect();
    let items = repeat::parse_source(&lines)?;
    let selections = items
        .iter()
        .map(|item| match &item.kind {
            parse::ItemKind::Instruction(instruction) => {
                select::select(instruction).map(Some).map_err(|error| {
                    error.on_line(item.line + 1, lines.get(item.line).copied().unwrap_or(""))
                })
            }
            _ => Ok(None),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let layout = layout::Layout {
        items: &items,
        lines: &lines,
        selections: &selections,
    };
    let output = layout.run()?;
    let symbols = output
        .symbols
        .iter()
        .filter(|(name, _)| !name.contains(parse::LOCAL_LABEL_MARKER))
        .map(|(name, &value)| {
            (
                name.clone(),
                encode::as_i64(value).map_or(value as u64, |v| v as u64),
            )
        })
        .collect();
    let labels = output
        .label_section_names()
        .filter(|(name, _)| !name.contains(parse::LOCAL_LABEL_MARKER))
        .map(|(name, section)| (name.to_string(), section.to_string()))
        .collect();
    Ok(Program {
        sections: output.sections(),
        symbols,
        labels,
        listing: output.listing,
    })
}
