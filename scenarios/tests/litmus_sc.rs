//! End-to-end check against herd7: run every corpus test a few times under
//! sequential consistency (parser → translation → assembler → reference interpreter →
//! final-state extraction). SC is stronger than x86-TSO, so every final state must be
//! one herd7 allows.

mod litmus_data;

use scenarios::litmus::{CorpusEntry, Quantifier, ScExecutor, run_test};

/// Runs per test: enough to see several interleavings, few enough for debug builds.
const RUNS: usize = 6;

#[test]
fn sc_final_states_are_allowed_by_x86_tso() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    let executor = ScExecutor::default();
    let mut failures = Vec::new();
    let mut distinct = 0;
    for CorpusEntry { key, test, verdict } in &corpus.entries {
        let report = run_test(test, RUNS, 1, &executor, Some(verdict));
        distinct += report.outcomes.len();
        let forbidden = report.forbidden_states.as_deref().unwrap_or_default();
        if !report.errors.is_empty() || !forbidden.is_empty() {
            failures.push(format!("{key}:\n{report}"));
        }
        if test.condition.quantifier == Quantifier::Forall && !report.condition_holds {
            failures.push(format!("{key}: forall condition fails under SC:\n{report}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "{} tests, {distinct} distinct SC final states",
        corpus.entries.len()
    );
}
