//! Robustness: `assemble` returns `Ok` or `Err` on any input and never panics.
//!
//! Inputs are random text, soups of assembler tokens, and mutations (deleted,
//! replaced, inserted and duplicated pieces) of a valid program.

use isa::asm::assemble;
use proptest::prelude::*;

/// A valid program exercising most of the syntax; mutated below.
const VALID: &str = include_str!("gas_diff/layout.s");

const EXTRA_VALID: &str = "
.intel_syntax noprefix
.section .kernel, \"ax\"
.base 0xffffffff80000000
entry:
    mov rax, cr3
    mov cr3, rax
    lock cmpxchg qword ptr [rdi+rsi*8+0x10], rcx
    lock xadd dword ptr [rip+counter], eax
    movabs rax, 0x1122334455667788
    movzx eax, byte ptr [rbx]
    .sync_point flush
    wbinvd
    sysretq
.section .kernel_data, \"aw\"
.base 0xffffffff80100000
counter: .long 0
msg: .asciz \"hi\\n\"
len = . - msg
";

/// Fragments that are likely to reach deep parts of the assembler.
const FRAGMENTS: &[&str] = &[
    "mov",
    "add",
    "jmp",
    "je",
    "call",
    "lock",
    "rep",
    "movabs",
    "lea",
    "xchg",
    "imul",
    "nop",
    "push",
    "int",
    ".org",
    ".base",
    ".align",
    ".p2align",
    ".skip",
    ".zero",
    ".byte",
    ".quad",
    ".ascii",
    ".asciz",
    ".equ",
    ".set",
    ".section",
    ".text",
    ".data",
    ".sync_point",
    "label",
    "label:",
    "x:",
    ".",
    "rax",
    "eax",
    "ax",
    "al",
    "ah",
    "r8",
    "r15d",
    "spl",
    "rip",
    "rsp",
    "cr3",
    "dr7",
    "fs",
    "fs:",
    "qword",
    "ptr",
    "byte",
    "offset",
    "[",
    "]",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<<",
    ">>",
    "~",
    "(",
    ")",
    ",",
    ":",
    "=",
    "0",
    "1",
    "8",
    "0x7fffffff",
    "0xffffffffffffffff",
    "<< 63",
    "* 0x7fffffffffffffff",
    "-0x80",
    "4096",
    "99999999999",
    "'a'",
    "\"s\"",
    "\"\\x41\"",
    "#",
    ";",
    "\n",
    "\n",
    " ",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..60).prop_map(|parts| parts.join(" "))
}

/// One edit of a text, at a position given as a fraction of its length.
#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: f64, len: usize },
    Replace { at: f64, with: char },
    Insert { at: f64, fragment: &'static str },
    DuplicateLine { at: f64 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64, 1..12usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (0.0..1.0f64, any::<char>()).prop_map(|(at, with)| Mutation::Replace { at, with }),
        (0.0..1.0f64, prop::sample::select(FRAGMENTS))
            .prop_map(|(at, fragment)| Mutation::Insert { at, fragment }),
        (0.0..1.0f64).prop_map(|at| Mutation::DuplicateLine { at }),
    ]
}

/// The char boundary nearest below `fraction` of `text`'s length.
fn boundary(text: &str, fraction: f64) -> usize {
    let mut at = ((text.len() as f64) * fraction) as usize;
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at.min(text.len())
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut text = text.to_string();
    match mutation {
        Mutation::Delete { at, len } => {
            let start = boundary(&text, *at);
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, "");
        }
        Mutation::Replace { at, with } => {
            let start = boundary(&text, *at);
            let end = text[start..]
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8());
            text.replace_range(start..end, &with.to_string());
        }
        Mutation::Insert { at, fragment } => {
            let start = boundary(&text, *at);
            text.insert_str(start, fragment);
        }
        Mutation::DuplicateLine { at } => {
            let lines: Vec<&str> = text.lines().collect();
            let index = ((lines.len() as f64) * at) as usize;
            if let Some(line) = lines.get(index) {
                let mut with_copy = lines.clone();
                with_copy.insert(index, line);
                return with_copy.join("\n");
            }
        }
    }
    text
}

/// Statement heads whose operand is an expression, to be followed by extreme values.
const VALUE_HEADS: &[&str] = &[
    ".org",
    ".skip",
    ".zero",
    ".byte",
    ".word",
    ".long",
    ".quad",
    ".p2align",
    ".align",
    ".base",
    ".equ X,",
    "jmp",
    "je",
    "loop",
    "call",
    "push",
    "mov rax,",
    "mov eax,",
    "add eax,",
    "mov al,",
    "movabs rax,",
    "lea rax, [rip +",
    "mov eax, [rax +",
    "mov eax, [",
    "int",
    "ret",
    "enter 8,",
    "mov rax, offset",
];

fn extreme_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("{n:#x}")),
        prop::sample::select(
            &[
                "0",
                "-1",
                "1 << 63",
                "1 << 127",
                "-(1 << 126)",
                ".",
                "label",
                "label - ."
            ][..]
        )
        .prop_map(String::from),
    ]
}

fn extreme_statement() -> impl Strategy<Value = String> {
    let operator = prop::sample::select(&["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"][..]);
    (
        prop::sample::select(VALUE_HEADS),
        extreme_number(),
        operator,
        extreme_number(),
    )
        .prop_map(|(head, a, op, b)| {
            let close = if head.contains('[') { "]" } else { "" };
            format!("label:\n{head} {a} {op} {b}{close}\n")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}") {
        let _ = assemble(&text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        let _ = assemble(&text);
    }

    #[test]
    fn extreme_values_never_panic(statements in prop::collection::vec(extreme_statement(), 1..4)) {
        let _ = assemble(&statements.concat().replacen("label:", "", statements.len() - 1));
    }

    #[test]
    fn mutated_programs_never_panic(
        base in prop::sample::select(&[VALID, EXTRA_VALID][..]),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let text = mutations.iter().fold(base.to_string(), |text, m| apply(&text, m));
        if let Err(error) = assemble(&text) {
            // Errors must point inside the text.
            prop_assert!(error.line >= 1 && error.col >= 1 && error.len >= 1);
            prop_assert!(!error.message.is_empty());
        }
    }
}

#[test]
fn the_unmutated_programs_assemble() {
    for program in [VALID, EXTRA_VALID] {
        if let Err(error) = assemble(program) {
            panic!("{error}");
        }
    }
}
