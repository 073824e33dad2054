//! The out-of-order machine judged by herd7: no run may end in a state x86-TSO
//! forbids, and store buffering, which x86-TSO allows and SC does not, must show up.

mod litmus_data;

use scenarios::litmus::{HerdVerdict, MachineExecutor, run_test};

#[test]
fn ooo_final_states_are_allowed_by_x86_tso() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    let run = corpus.run(4, 1, &MachineExecutor::default());
    assert!(run.failures().is_empty(), "{run}");
    println!("OoO: {run}");
}

/// herd7 allows each of these store-buffering outcomes; with timing jitter the
/// machine must reach them (SC never does).
#[test]
fn ooo_shows_store_buffering() {
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
