//! End-to-end tests of the `synclab` binary: exit codes, error reports, outputs.

mod common;

use common::{synclab, temp_dir, temp_file, workspace};

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

/// Sum of "core N: K instructions retired" over the cores of a `run` report.
fn retired_in_report(stdout: &str) -> u64 {
    stdout
        .lines()
        .filter(|l| l.starts_with("core ") && l.contains(" instructions retired"))
        .map(|l| {
            let after_colon = l.split_once(": ").unwrap().1;
            after_colon
                .split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum()
}

#[test]
fn run_trace_then_export_to_both_formats() {
    let dir = temp_dir();
    let trace = dir.join("xmc.synctrace");
    let out = synclab(&[
        "run",
        "examples/xmc.s",
        "--ifetch",
        "lazy",
        "--seed",
        "5",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let retired = retired_in_report(&stdout);
    assert!(retired > 0, "{stdout}");

    let file = trace_format::read_trace(std::fs::File::open(&trace).unwrap()).unwrap();
    assert_eq!((file.header.cores, file.header.seed), (2, 5));
    let metadata: serde_json::Value = serde_json::from_str(&file.header.metadata).unwrap();
    assert_eq!(metadata["program"], "examples/xmc.s");
    assert_eq!(metadata["ifetch"], "lazy");
    let stale_in_report: u64 = metadata["per_core"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["stale_executions"].as_u64().unwrap())
        .sum();
    assert!(
        stdout.contains(&format!("\n{stale_in_report} stale executions")),
        "{stdout}"
    );

    // Kanata to the default path beside the trace.
    let out = synclab(&["export", trace.to_str().unwrap(), "--to", "kanata"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(dir.join("xmc.kanata.log")).unwrap();
    assert!(log.starts_with("Kanata\t0004\n"));
    let retired_rows = log
        .lines()
        .filter(|l| l.starts_with("R\t") && l.ends_with("\t0"))
        .count();
    assert_eq!(retired_rows as u64, retired);

    // Chrome to standard output.
    let out = synclab(&[
        "export",
        trace.to_str().unwrap(),
        "--to",
        "chrome",
        "-o",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let events = json["traceEvents"].as_array().unwrap();
    let slices = events.iter().filter(|e| e["ph"] == "X").count();
    assert_eq!(slices as u64, retired);
    let stale = events
        .iter()
        .filter(|e| e["name"] == "stale execution")
        .count();
    assert_eq!(stale as u64, stale_in_report);
    assert_eq!(json["otherData"]["metadata"]["seed"], 5);
}

#[test]
fn export_rejects_what_is_not_a_trace() {
    let not_a_trace = temp_file("notes.synctrace", "just some text\n");
    let out = synclab(&["export", not_a_trace.to_str().unwrap(), "--to", "chrome"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a synctrace file"), "{stderr}");
    assert!(stderr.contains("--trace"), "hint missing: {stderr}");

    let out = synclab(&["export", "no/such.synctrace", "--to", "kanata"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no/such.synctrace"));

    let out = synclab(&["export", not_a_trace.to_str().unwrap(), "--to", "svg"]);
    assert_eq!(out.status.code(), Some(2), "an unknown format is bad input");
}

#[test]
fn trace_needs_the_out_of_order_model() {
    let trace = temp_file("ref.synctrace", "");
    let out = synclab(&[
        "run",
        "examples/hello.s",
        "--model",
        "reference",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--trace records the out-of-order machine")
    );
}

/// Ctrl-C (SIGINT) stops a long run, which still reports its state at that cycle
/// and exits with 130.
#[cfg(unix)]
#[test]
fn ctrl_c_interrupts_a_run_and_keeps_its_report() {
    use std::process::{Command, Stdio};
    let program = temp_file(
        "long.s",
        "core0:\n mov rcx, 4000000000\n0: dec rcx\n jnz 0b\n hlt\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(["run", program.to_str().expect("utf-8 path")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the synclab binary runs");
    // Long enough for the handler to be installed and the run to be under way.
    std::thread::sleep(std::time::Duration::from_millis(3000));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("synclab exits");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{text}");
    assert!(text.contains("stopped: interrupted at cycle"), "{text}");
    assert!(text.contains("instructions retired"), "{text}");
}
