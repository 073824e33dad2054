//! The out-of-order machine against herd7's x86-TSO verdicts, over the whole corpus:
//! (a) no run ends in a state x86-TSO forbids; (b) every condition herd7 says some
//! x86-TSO execution satisfies (store buffering and its relatives) is actually
//! reached, first within the base budget, else within an escalated one.

mod litmus_data;

use scenarios::litmus::{HerdVerdict, MachineExecutor, run_test};

/// Seeded runs of every test.
const RUNS: usize = 200;
/// Runs for an allowed condition the base budget did not reach.
const ESCALATED_RUNS: usize = 12_000;

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "about 150k machine runs: use a release build (scripts/test), or --ignored"
)]
fn machine_matches_x86_tso_on_the_herd7_corpus() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    let executor = MachineExecutor::default();
    let run = corpus.run(RUNS, 0, &executor);
    assert!(run.failures().is_empty(), "x86-TSO violated:\n{run}");

    let mut escalated = Vec::new();
    let mut unreached = Vec::new();
    let allowed = corpus
        .entries
        .iter()
        .zip(&run.reports)
        .filter(|(e, _)| e.verdict.herd_verdict == HerdVerdict::Allow);
    let mut allowed_count = 0;
    for (entry, (_, report)) in allowed {
        allowed_count += 1;
        if report.condition_observed {
            continue;
        }
        let more = run_test(
            &entry.test,
            ESCALATED_RUNS,
            RUNS as u64,
            &executor,
            Some(&entry.verdict),
        );
        assert!(
            more.errors.is_empty() && more.forbidden_states.as_ref().is_some_and(Vec::is_empty),
            "{}: x86-TSO violated in escalated runs:\n{more}",
            entry.key
        );
        let hits: usize = more
            .outcomes
            .iter()
            .filter(|o| o.satisfies_condition)
            .map(|o| o.count)
            .sum();
        escalated.push(format!("{} ({hits}/{ESCALATED_RUNS})", entry.key));
        if !more.condition_observed {
            unreached.push(entry.key.clone());
        }
    }
    let (seen, total) = run.coverage();
    println!(
        "{} tests x {RUNS} runs: 0 forbidden states; {allowed_count} allowed conditions, {} needed escalation: {escalated:?}; allowed states reached in the base budget: {seen}/{total}",
        corpus.entries.len(),
        escalated.len()
    );
    assert!(allowed_count > 90, "the corpus has 96 allowed conditions");
    assert!(
        unreached.is_empty(),
        "allowed by x86-TSO but never reached: {unreached:?}"
    );
}

/// The debug-build version of the check above: a few runs of every test, none of
/// which may end in a state x86-TSO forbids.
#[test]
fn machine_never_shows_forbidden_states_quick() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    let run = corpus.run(4, 1, &MachineExecutor::default());
    assert!(run.failures().is_empty(), "x86-TSO violated:\n{run}");
}

/// herd7 allows these store-buffering outcomes and SC never shows them; the
/// machine must, within a small budget.
#[test]
fn machine_shows_store_buffering() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    let machine = MachineExecutor::default();
    for key in [
        "repo/catalogue-x86/SB+rfi-pos",
        "repo/catalogue-x86_64/SB+po+rfi-po",
        "repo/catalogue-x86/SB+mfence+po",
    ] {
        let entry = corpus.get(key).unwrap_or_else(|| panic!("{key} missing"));
        assert_eq!(entry.verdict.herd_verdict, HerdVerdict::Allow, "{key}");
        let report = run_test(&entry.test, 200, 0, &machine, Some(&entry.verdict));
        assert!(
            report.condition_observed && report.tso_consistent(),
            "{key}:\n{report}"
        );
    }
}
