//! `synclab run` and `synclab explore` on RON scenarios: reports, JSON read back,
//! witnesses replayed, exit codes.

mod common;

use std::process::Output;

use common::{synclab, temp_dir, temp_file};
use serde_json::Value;

const DATA: &str = "scenarios/tests/scenario_data/valid";

fn scenario(name: &str) -> String {
    format!("{DATA}/{name}")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

#[test]
fn run_prints_a_scenario_run_with_its_conditions() {
    let out = synclab(&[
        "run",
        &scenario("sb.ron"),
        "--variant",
        "fenced",
        "--seed",
        "3",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.starts_with("sb (fenced), seed 3:\n"), "{text}");
    assert!(text.contains("\nfinal state:\n"), "{text}");
    // With the fence, one of the loads sees the other core's store.
    assert!(text.contains(r"  holds  0:rax=1 \/ 1:rax=1"), "{text}");
    assert!(text.contains(r"  fails  0:rax=0 /\ 1:rax=0"), "{text}");
    assert!(
        text.contains(r"OPEN  final state `0:rax=0 /\ 1:rax=0` (Impossible): not seen in this run"),
        "{text}"
    );
}

#[test]
fn run_json_names_broken_contracts_and_counts_them_per_core() {
    let path = scenario("xmc.ron");
    let out = synclab(&[
        "run",
        &path,
        "--variant",
        "no-sync",
        "--seed",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = json(&out);
    assert_eq!(run["run"]["variant"], "no-sync");
    assert_eq!(run["seed"], 2);
    assert_eq!(run["stop"]["kind"], "halted");
    let violations = run["contract_violations"].as_array().unwrap();
    assert!(!violations.is_empty(), "{run:#}");
    assert!(
        violations
            .iter()
            .all(|v| v["contract"] == "patch published")
    );
    let per_core: u64 = run["per_core"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contract_violations"].as_u64().unwrap())
        .sum();
    assert_eq!(per_core, violations.len() as u64);
    let stale = &run["stale_executions"][0];
    assert_eq!(stale["executed"], "mov edi, 0x1");
    assert_eq!(stale["memory"], "mov edi, 0x2");
    assert_eq!(stale["contracts_broken"][0], "patch published");

    let out = synclab(&["run", &path, "--all-variants", "--format", "json"]);
    let runs = json(&out);
    let variants: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"]["variant"].as_str().unwrap())
        .collect();
    assert_eq!(variants, ["no-sync", "serialized"]);
}

/// The `expectations` entry of `checks` for `kind` and `verdict`.
fn expectation<'a>(checks: &'a Value, kind: &str, verdict: &str) -> &'a Value {
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["expectation"] == kind && c["verdict"] == verdict)
        .unwrap_or_else(|| panic!("no {kind} {verdict} in {checks:#}"))
}

#[test]
fn explore_judges_claims_and_its_witness_replays_with_run() {
    let path = scenario("sb_claims.ron");
    let out = synclab(&["explore", &path, "--seeds", "20", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "an Impossible claim fails");
    let report = json(&out);
    assert_eq!(report["passed"], false);
    let relaxed = &report["configurations"][0];
    assert_eq!(relaxed["variant"], "relaxed");
    let counted: u64 = relaxed["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["runs"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 20);
    let impossible = expectation(&relaxed["expectations"], "final_state", "Impossible");
    assert_eq!(impossible["status"], "FAIL");
    let possible = expectation(&relaxed["expectations"], "final_state", "Possible");
    assert_eq!(possible["status"], "PASS");
    let fenced = expectation(
        &report["configurations"][1]["expectations"],
        "final_state",
        "Impossible",
    );
    assert_eq!(
        (&fenced["status"], &fenced["seen"]),
        (&"PASS".into(), &0.into())
    );

    let seed = impossible["witness"]["seed"].as_u64().unwrap().to_string();
    let out = synclab(&[
        "run",
        &path,
        "--variant",
        "relaxed",
        "--seed",
        &seed,
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the replay contradicts Impossible"
    );
    let run = json(&out);
    assert_eq!(run["final_state"][0]["holds"], true);
    assert_eq!(run["cycles"], impossible["witness"]["cycles"]);
    let replayed = expectation(&run["expectations"], "final_state", "Impossible");
    assert_eq!(replayed["status"], "FAIL");
}

#[test]
fn explore_text_passes_a_correct_scenario() {
    let out = synclab(&[
        "explore",
        &scenario("sb.ron"),
        "--seeds",
        "20",
        "--jobs",
        "2",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("sb (relaxed): 20 seeds (0..20)"), "{text}");
    assert!(text.contains("sb (fenced): 20 seeds (0..20)"), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(
        text.contains(r"PASS  final state `0:rax=0 /\ 1:rax=0` (Possible): held in "),
        "{text}"
    );
    assert!(
        text.contains(
            "synclab run scenarios/tests/scenario_data/valid/sb.ron --variant relaxed --seed "
        ),
        "the witness comes with its replay command: {text}"
    );
}

#[test]
fn runs_that_do_not_halt_fail_with_their_stop_report() {
    let path = scenario("spin.ron");
    let out = synclab(&["explore", &path, "--seeds", "3"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("3 did not halt"), "{text}");
    assert!(
        text.contains("the cycle limit was reached (3000 cycles)"),
        "{text}"
    );
    assert!(
        text.contains("FAIL  every run halts (Always): halted in 0 of 3 runs"),
        "{text}"
    );
    let out = synclab(&["run", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("FAIL  every run halts (Always): this run did not halt"));
}

#[test]
fn scenario_mistakes_are_bad_input_with_locations() {
    let broken = "scenarios/tests/scenario_data/broken/unknown_field.ron";
    for command in ["run", "explore"] {
        let out = synclab(&[command, broken]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = stderr(&out);
        assert!(err.contains("unknown_field.ron:5:9"), "{err}");
        assert!(err.contains(r#"did you mean "ifetch_coherence"?"#), "{err}");
    }
    let sb = scenario("sb.ron");
    let out = synclab(&["run", &sb]);
    assert!(
        stderr(&out).contains("running variant `relaxed`")
            && stderr(&out).contains("--variant NAME (fenced) or --all-variants"),
        "without --variant the first variant runs, and the others are named"
    );
    assert!(stdout(&out).contains("(relaxed), seed"));
    let out = synclab(&["explore", &sb, "--variant", "fence"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(r#"did you mean "fenced"?"#));
    let out = synclab(&["run", &sb, "--variant", "fenced", "--jitter", "5"]);
    assert_eq!(out.status.code(), Some(2), "program flags are refused");
    assert!(stderr(&out).contains("--jitter applies to assembly programs"));
    let out = synclab(&["explore", &scenario("spin.ron"), "--variant", "fenced"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("spin.ron has no variants"));
    let out = synclab(&["run", "examples/sb.s", "--variant", "relaxed"]);
    assert_eq!(out.status.code(), Some(2));
    let out = synclab(&["explore", &sb, "--seeds", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_programs_sync_points_are_contracts() {
    let code = std::fs::read_to_string(common::workspace().join(DATA).join("xmc.s")).unwrap();
    let program = temp_file("xmc_contract.s", &format!(".set SYNC, 0\n{code}"));
    let out = synclab(&[
        "run",
        program.to_str().unwrap(),
        "--ifetch",
        "lazy",
        "--seed",
        "2",
    ]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a broken contract fails the run: {text}"
    );
    assert!(
        text.contains("contract \"published\" broken: core 0 passed its sync point"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("contract violations"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_traced_scenario_run_says_what_it_ran() {
    let trace = temp_dir().join("xmc-scenario.synctrace");
    let out = synclab(&[
        "run",
        &scenario("xmc.ron"),
        "--variant",
        "no-sync",
        "--seed",
        "4",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let file = trace_format::read_trace(std::fs::File::open(&trace).unwrap()).unwrap();
    assert_eq!((file.header.cores, file.header.seed), (2, 4));
    let metadata: Value = serde_json::from_str(&file.header.metadata).unwrap();
    assert_eq!(metadata["scenario"], "xmc");
    assert_eq!(metadata["variant"], "no-sync");
    assert_eq!(metadata["seed"], 4);
    assert!(!file.events.is_empty());
    let out = synclab(&[
        "run",
        &scenario("xmc.ron"),
        "--all-variants",
        "--trace",
        "x.synctrace",
    ]);
    assert_eq!(out.status.code(), Some(2), "one trace, one run");
}

#[test]
fn a_broken_contract_has_the_same_name_in_the_run_and_both_exports() {
    let dir = temp_dir();
    let trace = dir.join("seed-contract.synctrace");
    let out = synclab(&[
        "run",
        "scenarios/library/seed-kthread-switch.ron",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let name = "membarrier(SYNC_CORE) returned";
    assert!(
        stdout(&out).contains(&format!("contract \"{name}\" broken")),
        "{}",
        stdout(&out)
    );
    let file = trace_format::read_trace(std::fs::File::open(&trace).unwrap()).unwrap();
    let meta = trace_format::meta::TraceMeta::parse(&file.header.metadata);
    assert_eq!(meta.contracts, [name]);

    let log = dir.join("seed-contract.kanata.log");
    let out = synclab(&[
        "export",
        trace.to_str().unwrap(),
        "--to",
        "kanata",
        "-o",
        log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains(&format!("violates contract \"{name}\"")),
        "no named violation in the Kanata log"
    );

    let out = synclab(&[
        "export",
        trace.to_str().unwrap(),
        "--to",
        "chrome",
        "-o",
        "-",
    ]);
    let chrome = json(&out);
    let events = chrome["traceEvents"].as_array().unwrap();
    for kind in ["contract violation", "sync point"] {
        let event = events.iter().find(|e| e["name"] == kind);
        let event = event.unwrap_or_else(|| panic!("no {kind} event"));
        assert_eq!(event["args"]["contract"], name, "{kind}");
    }
}
