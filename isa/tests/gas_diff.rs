//! Differential test: synclab's assembler against GNU `as`.
//!
//! A generated corpus of instruction forms (every supported mnemonic over
//! register, memory and immediate operands of each size, r8-r15, spl/sil, ah,
//! base/index/scale/disp8/disp32 addressing) and a hand-written layout program
//! (labels, short/near branches both ways, relaxation, data directives) are
//! assembled by both assemblers. GNU's object is linked at synclab's default
//! addresses (`.text` 0x400000, `.data` 0x600000) so absolute references are
//! comparable, and the sections are compared byte for byte; mismatches are
//! reported with both decodings.
//!
//! Every corpus instruction sits in its own 16-byte slot (`.p2align 4`), so a
//! length difference cannot hide behind or shift later comparisons, and the
//! slot padding checks GNU's NOP patterns too.
//!
//! Allowed differences: none; every form must be byte-identical. Inputs where
//! the two dialects differ on purpose stay out of the corpus and are covered by
//! the unit tests: `;` (a comment here, a statement separator in GNU), `.base`
//! and `.sync_point` (synclab directives), `sysret`/`sysexit` without suffix
//! (GNU: ambiguous; synclab: the 32-bit forms) and `[rax + rsp*1]` (GNU rejects
//! the explicit scale; synclab swaps base and index as for `[rax + rsp]`).

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};
use isa::asm::{DATA_BASE, Program, TEXT_BASE, assemble};
use std::path::PathBuf;
use std::process::Command;

#[path = "gas_diff/corpus.rs"]
mod corpus;

use corpus::{corpus, corpus_source};

const LAYOUT_SOURCE: &str = include_str!("gas_diff/layout.s");
const CONDITIONALS_SOURCE: &str = include_str!("gas_diff/conditionals.s");

/// Where the GNU tools are, or why the test cannot run.
fn gnu_tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let search_path = std::env::var_os("PATH").unwrap_or_default();
    let find = |name: &str| {
        std::env::split_paths(&search_path)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    };
    match (find("as"), find("ld"), find("objcopy")) {
        (Some(gas), Some(ld), Some(objcopy)) => Some((gas, ld, objcopy)),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "GNU as/ld/objcopy not found on PATH: install binutils (apt-get install binutils)"
            )
        }
        _ => {
            eprintln!("\n*** SKIPPED: GNU as not found; install binutils ***\n");
            None
        }
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Assembles `source` with GNU as, links it at synclab's default addresses and
/// returns the `.text` and `.data` bytes.
fn gnu_sections(name: &str, source: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let (gas, ld, objcopy) = gnu_tools()?;
    let dir = std::env::temp_dir().join(format!("synclab-gas-diff-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = |ext: &str| dir.join(format!("{name}.{ext}"));
    std::fs::write(file("s"), source).expect("write source");
    run(Command::new(gas)
        .args(["--64", "-msyntax=intel", "-mnaked-reg", "-o"])
        .arg(file("o"))
        .arg(file("s")));
    run(Command::new(ld)
        .args(["-o"])
        .arg(file("elf"))
        .arg(format!("-Ttext={TEXT_BASE:#x}"))
        .arg(format!("-Tdata={DATA_BASE:#x}"))
        .arg(format!("--entry={TEXT_BASE:#x}"))
        .arg(file("o")));
    let section = |section: &str, ext: &str| {
        run(Command::new(&objcopy)
            .args(["-O", "binary", "--only-section", section])
            .arg(file("elf"))
            .arg(file(ext)));
        std::fs::read(file(ext)).expect("read section")
    };
    let sections = (section(".text", "text"), section(".data", "data"));
    std::fs::remove_dir_all(&dir).ok();
    Some(sections)
}

fn synclab(source: &str) -> Program {
    assemble(source).unwrap_or_else(|error| panic!("synclab rejected the source: {error}"))
}

fn section_bytes(program: &Program, name: &str) -> Vec<u8> {
    program
        .sections
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.bytes.clone())
        .unwrap_or_default()
}

fn disassemble(bytes: &[u8], ip: u64) -> String {
    let mut decoder = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::new();
    let mut text = String::new();
    let mut instruction = Instruction::default();
    while decoder.can_decode() {
        decoder.decode_out(&mut instruction);
        let mut line = String::new();
        formatter.format(&instruction, &mut line);
        text.push_str(&format!("{:?} ({line}); ", instruction.code()));
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compares synclab's listing with GNU's bytes; returns one message per mismatch.
fn compare(program: &Program, name: &str, base: u64, gnu: &[u8]) -> Vec<String> {
    let mut mismatches = Vec::new();
    for entry in program
        .listing
        .iter()
        .filter(|e| e.addr >= base && e.addr - base < 0x10_0000)
    {
        let start = usize::try_from(entry.addr - base).unwrap_or(usize::MAX);
        let theirs = gnu.get(start..start + entry.bytes.len()).unwrap_or(&[]);
        if theirs != entry.bytes.as_slice() {
            mismatches.push(format!(
                "{name} line {} `{}` at {:#x}:\n  synclab: {} = {}\n  GNU as:  {} = {}",
                entry.line,
                entry.source,
                entry.addr,
                hex(&entry.bytes),
                disassemble(&entry.bytes, entry.addr),
                hex(theirs),
                disassemble(theirs, entry.addr)
            ));
        }
    }
    let ours = section_bytes(program, if base == TEXT_BASE { ".text" } else { ".data" });
    if mismatches.is_empty() && ours != gnu {
        mismatches.push(format!(
            "{name}: sections differ in size ({} vs {} bytes)",
            ours.len(),
            gnu.len()
        ));
    }
    mismatches
}

#[test]
fn instruction_forms_match_gnu_as() {
    let forms = corpus();
    assert!(forms.len() >= 600, "corpus has only {} forms", forms.len());
    let (source, lines) = corpus_source(&forms);
    let Some((gnu_text, _)) = gnu_sections("corpus", &source) else {
        return;
    };
    let program = synclab(&source);
    for line in lines {
        assert!(
            program.listing.iter().any(|e| e.line == line),
            "no bytes for line {line}"
        );
    }
    let mismatches = compare(&program, "corpus", TEXT_BASE, &gnu_text);
    assert!(
        mismatches.is_empty(),
        "{} of {} forms differ:\n{}",
        mismatches.len(),
        forms.len(),
        mismatches.join("\n")
    );
    println!("{} instruction forms byte-identical to GNU as", forms.len());
}

#[test]
fn labels_branches_and_data_match_gnu_as() {
    let Some((gnu_text, gnu_data)) = gnu_sections("layout", LAYOUT_SOURCE) else {
        return;
    };
    let program = synclab(LAYOUT_SOURCE);
    let mut mismatches = compare(&program, "layout", TEXT_BASE, &gnu_text);
    mismatches.extend(compare(&program, "layout data", DATA_BASE, &gnu_data));
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn conditional_assembly_matches_gnu_as() {
    let Some((gnu_text, gnu_data)) = gnu_sections("conditionals", CONDITIONALS_SOURCE) else {
        return;
    };
    let program = synclab(CONDITIONALS_SOURCE);
    let mut mismatches = compare(&program, "conditionals", TEXT_BASE, &gnu_text);
    mismatches.extend(compare(&program, "conditionals data", DATA_BASE, &gnu_data));
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
