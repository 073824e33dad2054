//! End-to-end check against herd7: run every corpus test a few times under
//! sequential consistency (parser → translation → assembler → reference interpreter →
//! final-state extraction). SC is stronger than x86-TSO, so every final state must be
//! one herd7 allows.

mod litmus_data;

use scenarios::litmus::{Quantifier, ScExecutor};

/// Runs per test: enough to see several interleavings, few enough for debug builds.
const RUNS: usize = 6;

#[test]
fn sc_final_states_are_allowed_by_x86_tso() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    let run = corpus.run(RUNS, 1, &ScExecutor::default());
    assert!(run.failures().is_empty(), "{run}");
    for (entry, (_, report)) in corpus.entries.iter().zip(&run.reports) {
        if entry.test.condition.quantifier == Quantifier::Forall {
            assert!(
                report.condition_holds,
                "{}: forall fails under SC:\n{report}",
                entry.key
            );
        }
    }
    let (seen, _) = run.coverage();
    assert!(
        seen > corpus.entries.len(),
        "SC runs should show more than one state per test"
    );
    println!("SC: {run}");
}
