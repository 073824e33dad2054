//! Name tables: registers, mnemonics (from iced's `Code` table) and GNU aliases.

use iced_x86::{Code, EncodingKind, Register};
use std::collections::HashMap;
use std::sync::LazyLock;

/// GNU spellings that iced names differently: `(gnu, iced)`.
const MNEMONIC_ALIASES: &[(&str, &str)] = &[
    ("iret", "iretd"),
    ("pushf", "pushfq"),
    ("popf", "popfq"),
    ("sal", "shl"),
    ("movabs", "mov"),
    ("sysretd", "sysret"),
    ("sysexitd", "sysexit"),
    ("retq", "ret"),
];

/// Mnemonics that take a condition-code suffix.
const CONDITION_PREFIXES: [&str; 3] = ["j", "set", "cmov"];

/// Condition-code aliases, completed with the [`CONDITION_PREFIXES`].
const CONDITION_ALIASES: &[(&str, &str)] = &[
    ("z", "e"),
    ("nz", "ne"),
    ("c", "b"),
    ("nae", "b"),
    ("nc", "ae"),
    ("nb", "ae"),
    ("na", "be"),
    ("nbe", "a"),
    ("pe", "p"),
    ("po", "np"),
    ("nge", "l"),
    ("nl", "ge"),
    ("ng", "le"),
    ("nle", "g"),
];

static REGISTERS: LazyLock<HashMap<String, Register>> = LazyLock::new(|| {
    let mut names: HashMap<String, Register> = Register::values()
        .filter(|&reg| reg != Register::None)
        .map(|reg| (format!("{reg:?}").to_ascii_lowercase(), reg))
        .collect();
    // GNU's names for the low bytes of r8..r15 (iced calls them r8l..r15l).
    for n in 8..16 {
        if let Some(&reg) = names.get(&format!("r{n}l")) {
            names.insert(format!("r{n}b"), reg);
        }
    }
    names
});

/// The register named `name` (case-insensitive), GNU spelling.
pub(crate) fn register(name: &str) -> Option<Register> {
    REGISTERS.get(&name.to_ascii_lowercase()).copied()
}

/// Every encodable 64-bit-mode legacy-encoded code, by lower-case iced mnemonic.
static CODES_BY_MNEMONIC: LazyLock<HashMap<String, Vec<Code>>> = LazyLock::new(|| {
    let mut table: HashMap<String, Vec<Code>> = HashMap::new();
    for code in Code::values() {
        let info = code.op_code();
        let usable = info.is_instruction()
            && info.mode64()
            && info.encoding() == EncodingKind::Legacy
            && info.decoder_option() == iced_x86::DecoderOptions::NONE;
        if usable {
            table
                .entry(format!("{:?}", code.mnemonic()).to_ascii_lowercase())
                .or_default()
                .push(code);
        }
    }
    table
});

/// The iced mnemonic that GNU's `name` (already lower-case) stands for.
pub(crate) fn canonical_mnemonic(name: &str) -> String {
    if let Some(&(_, iced)) = MNEMONIC_ALIASES.iter().find(|(gnu, _)| *gnu == name) {
        return iced.to_string();
    }
    for prefix in CONDITION_PREFIXES {
        if let Some(condition) = name.strip_prefix(prefix)
            && let Some(&(_, canonical)) = CONDITION_ALIASES
                .iter()
                .find(|(alias, _)| *alias == condition)
        {
            return format!("{prefix}{canonical}");
        }
    }
    name.to_string()
}

/// The codes a (canonical) mnemonic may encode to, in iced's table order.
pub(crate) fn codes(canonical: &str) -> Option<&'static [Code]> {
    CODES_BY_MNEMONIC.get(canonical).map(Vec::as_slice)
}

/// Every mnemonic the assembler accepts, for "did you mean" hints.
static ALL_MNEMONICS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let conditional = CONDITION_PREFIXES.iter().flat_map(|prefix| {
        CONDITION_ALIASES
            .iter()
            .map(move |(alias, _)| format!("{prefix}{alias}"))
    });
    let aliases = MNEMONIC_ALIASES.iter().map(|(gnu, _)| gnu.to_string());
    let mut names: Vec<String> = CODES_BY_MNEMONIC
        .keys()
        .cloned()
        .chain(aliases)
        .chain(conditional)
        .collect();
    names.sort();
    names
});

/// Every mnemonic the assembler accepts, for "did you mean" hints.
pub(crate) fn all_mnemonics() -> impl Iterator<Item = &'static str> {
    ALL_MNEMONICS.iter().map(String::as_str)
}

/// Directives accepted and ignored (symbol visibility, file metadata).
pub(crate) const IGNORED_DIRECTIVES: &[&str] = &[
    ".globl", ".global", ".type", ".size", ".file", ".ident", ".local", ".weak", ".hidden",
    ".code64",
];

/// Every directive, for "did you mean" hints.
pub(crate) const DIRECTIVES: &[&str] = &[
    ".intel_syntax",
    ".text",
    ".data",
    ".bss",
    ".section",
    ".base",
    ".org",
    ".align",
    ".balign",
    ".p2align",
    ".byte",
    ".word",
    ".short",
    ".value",
    ".long",
    ".int",
    ".quad",
    ".2byte",
    ".4byte",
    ".8byte",
    ".ascii",
    ".asciz",
    ".string",
    ".zero",
    ".fill",
    ".rept",
    ".endr",
    ".if",
    ".ifdef",
    ".ifndef",
    ".elseif",
    ".else",
    ".endif",
    ".skip",
    ".space",
    ".equ",
    ".set",
    ".sync_point",
];
