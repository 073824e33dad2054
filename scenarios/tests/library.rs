//! The scenario library (`scenarios/library/*.ron`): every variant of every
//! scenario meets its expectations over its `explore.seeds`, judged by the same
//! exploration and expectation checks as `synclab explore`; every file follows
//! the library's conventions (a header naming each variant's expected verdict,
//! expectations on every variant); and a flipped verdict is caught.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use scenarios::scenario::{LoadedScenario, Status, check, explore, load, load_str};

fn library_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("library")
}

/// Every scenario file of the library, sorted.
fn library() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(library_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    files
}

fn load_library(path: &Path) -> LoadedScenario {
    load(path).unwrap_or_else(|e| panic!("{:?}", e.to_report()))
}

/// Every expectation of every configuration that does not pass over the
/// scenario's seeds, described.
fn failures(scenario: &LoadedScenario) -> Vec<String> {
    let seeds = 0..scenario.scenario.explore.seeds;
    let mut failed = Vec::new();
    for configuration in scenario.configurations() {
        let variant = configuration.variant.as_deref();
        let exploration = explore(
            scenario,
            variant,
            seeds.clone(),
            0,
            &|_| {},
            &AtomicBool::new(false),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for c in check(configuration, &exploration) {
            if c.status != Status::Pass {
                failed.push(format!(
                    "{} / {}: {} expected {:?}, seen in {} of {} runs ({})",
                    scenario.name,
                    configuration.name(),
                    c.expectation,
                    c.verdict,
                    c.seen,
                    c.runs,
                    c.status.name()
                ));
            }
        }
    }
    failed
}

#[test]
fn every_library_scenario_meets_its_expectations() {
    let files = library();
    assert!(files.len() >= 9, "the library shrank: {files:?}");
    let failed: Vec<String> = files
        .iter()
        .flat_map(|path| failures(&load_library(path)))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn every_file_has_a_header_and_every_variant_expectations() {
    for path in library() {
        let text = std::fs::read_to_string(&path).unwrap();
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let name = path.display();
        assert!(header.contains("Expected verdicts"), "{name}: no header");
        let scenario = load_library(&path);
        assert!(
            !scenario.scenario.variants.is_empty(),
            "{name}: no variants"
        );
        for configuration in scenario.configurations() {
            let variant = configuration.name();
            assert!(
                header.contains(variant),
                "{name}: the header does not name variant {variant}"
            );
            let expect = &configuration.expect;
            let judged = expect.stale_execution.is_some()
                || expect.contract_violation.is_some()
                || !configuration.final_state.is_empty();
            assert!(judged, "{name} / {variant}: no expectations");
        }
    }
}

/// `file` of the library with `from` replaced by `to` (which must occur),
/// loaded as if it were the file (so its includes resolve).
fn edited(file: &str, from: &str, to: &str) -> LoadedScenario {
    let path = library_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    load_str(&text.replacen(from, to, 1), &path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_flipped_verdict_fails() {
    // The seed's hole, claimed closed: its stale execution is found.
    let flipped = edited(
        "seed-kthread-switch.ron",
        "stale_execution: Possible",
        "stale_execution: Impossible",
    );
    let failed = failures(&flipped);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with("seed-kthread-switch / sysret: stale execution expected Impossible"),
        "{}",
        failed[0]
    );
    // A fix claimed to leave the hole open: nothing shows it.
    let flipped = edited(
        "idle-only-skip.ron",
        r#"final_state: [(condition: "[result]=2", verdict: Always)]"#,
        r#"final_state: [(condition: "[result]=1", verdict: Possible)]"#,
    );
    let failed = failures(&flipped);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("all-but-idle: final state `[result]=1` expected Possible"));
}
