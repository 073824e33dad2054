//! End-to-end tests of the `synclab` binary: exit codes, error reports, outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn synclab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("the synclab binary runs")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synclab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temp file");
    path
}

#[test]
fn bad_assembly_exits_2_with_location_and_hint() {
    let path = temp_file("typo.s", "mov eax, 1\nmvo ebx, 2\n");
    let out = synclab(&["asm", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("typo.s:2:1"), "location missing: {stderr}");
    assert!(stderr.contains("unknown mnemonic `mvo`"), "{stderr}");
    assert!(stderr.contains("did you mean"), "hint missing: {stderr}");
}

#[test]
fn missing_file_is_bad_input_not_a_panic() {
    let out = synclab(&["run", "no/such/file.s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no/such/file.s"));
}

#[test]
fn hello_example_sums_its_table() {
    let out = synclab(&["run", "examples/hello.s"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The expected total comes from the example's own data line, not from a run.
    let source = std::fs::read_to_string(workspace().join("examples/hello.s")).unwrap();
    let table = source
        .lines()
        .find(|l| l.trim_start().starts_with(".word"))
        .unwrap();
    let sum: u64 = table
        .trim()
        .trim_start_matches(".word")
        .split(',')
        .map(|v| v.trim().parse::<u64>().unwrap())
        .sum();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("rax = {sum:#018x}")), "{stdout}");
}

#[test]
fn asm_then_disasm_round_trips_through_a_flat_binary() {
    let src = temp_file(
        "rt.s",
        "add eax, ebx\nlock xadd qword ptr [rsi+8], rcx\nhlt\n",
    );
    let bin = src.with_extension("bin");
    let out = synclab(&["asm", src.to_str().unwrap(), "-o", bin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let out = synclab(&["disasm", bin.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mnemonics: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth_back(0))
        .collect();
    assert!(text.contains("add eax, ebx"), "{text}");
    assert!(text.contains("lock xadd"), "{text}");
    assert_eq!(mnemonics.last(), Some(&"hlt"));
}

#[test]
fn litmus_json_counts_every_run() {
    let test = workspace().join("../shared/litmus/x86/repo/catalogue-x86/SB+mfences.litmus");
    if !test.is_file() {
        eprintln!("SKIPPED: ../shared/litmus is absent");
        return;
    }
    let out = synclab(&[
        "litmus",
        test.to_str().unwrap(),
        "--runs",
        "40",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let report = &reports[0];
    assert_eq!(report["test"], "SB+mfences");
    assert_eq!(report["runs"], 40);
    let counted: u64 = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 40);
    assert_eq!(
        report["condition_observed"], false,
        "SB with mfences forbids 0/0"
    );
}

#[test]
fn cross_modifying_example_reports_stale_code_readably() {
    let out = synclab(&["run", "examples/xmc.s", "--ifetch", "lazy"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("stale executions (instruction bytes memory no longer held)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("executed  `mov edi, 0x1`  (bf 01 00 00 00)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("memory    `mov edi, 0x2`  (bf 02 00 00 00)"),
        "{stdout}"
    );
    assert!(stdout.contains("written by core 0"), "{stdout}");
    let out = synclab(&["run", "examples/xmc.s", "--ifetch", "sometimes"]);
    assert_eq!(out.status.code(), Some(2), "a bad policy is bad input");
}
