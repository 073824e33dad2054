//! Single runs, seeded exploration and expectation checking on small bare-metal
//! scenarios whose truth is known: store buffering is observable without a fence
//! and not with one, a spinning core never halts, an IPI has its configured latency.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use scenarios::scenario::schema::Verdict;
use scenarios::scenario::{
    Check, Expectation, Exploration, LoadedScenario, Status, StopKind, check, check_run, explore,
    load, run_once,
};
use sim_core::machine::StopReason;

fn valid(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenario_data/valid")
        .join(name)
}

fn load_valid(name: &str) -> LoadedScenario {
    load(&valid(name)).unwrap_or_else(|e| panic!("{:?}", e.to_report()))
}

fn explore_all(
    scenario: &LoadedScenario,
    variant: Option<&str>,
    seeds: u64,
    jobs: usize,
) -> Exploration {
    explore(
        scenario,
        variant,
        0..seeds,
        jobs,
        &|_| {},
        &AtomicBool::new(false),
    )
    .unwrap()
}

/// The relaxed store-buffering outcome, both loads 0.
const RELAXED: &str = r"0:rax=0 /\ 1:rax=0";

#[test]
fn exploration_is_the_same_with_one_or_two_threads() {
    let scenario = load_valid("sb.ron");
    let one = explore_all(&scenario, Some("relaxed"), 40, 1);
    let two = explore_all(&scenario, Some("relaxed"), 40, 2);
    assert_eq!(one, two);
    let seeds: Vec<u64> = one.runs.iter().map(|r| r.seed).collect();
    assert_eq!(seeds, (0..40).collect::<Vec<_>>(), "every seed, in order");
    let histogram = one.histogram();
    assert_eq!(histogram.iter().map(|o| o.runs).sum::<u64>(), 40);
    assert!(
        histogram.len() > 1,
        "jitter gives relaxed SB several outcomes: {histogram:?}"
    );
}

/// Every outcome's witness is its shortest run (lowest seed among equals) and
/// replays to the same outcome, cycles and first stale/violation cycles.
fn check_witnesses(name: &str, variant: &str) -> Exploration {
    let scenario = load_valid(name);
    let exploration = explore_all(&scenario, Some(variant), 12, 2);
    for entry in exploration.histogram() {
        let same: Vec<_> = exploration
            .runs
            .iter()
            .filter(|r| r.outcome == entry.outcome)
            .collect();
        assert_eq!(same.len() as u64, entry.runs);
        let shortest = same.iter().map(|r| (r.cycles, r.seed)).min();
        assert_eq!(shortest, Some((entry.witness.cycles, entry.witness.seed)));
        let replay = run_once(&scenario, Some(variant), Some(entry.witness.seed), false).unwrap();
        assert_eq!(replay.outcome(), entry.outcome);
        assert_eq!(replay.cycles, entry.witness.cycles);
        assert_eq!(
            replay.stale.first().map(|s| s.cycle),
            entry.witness.first_stale
        );
        assert_eq!(
            replay.violations.first().map(|v| v.violation.stale.cycle),
            entry.witness.first_violation
        );
        assert_eq!(entry.witness.first_stale.is_some(), entry.outcome.stale);
    }
    exploration
}

#[test]
fn each_witness_is_the_shortest_run_and_replays_to_its_outcome() {
    // Jitter makes runs of one outcome differ in length, so "shortest" matters.
    let sb = check_witnesses("sb.ron", "relaxed");
    let lengths: std::collections::BTreeSet<u64> = sb.runs.iter().map(|r| r.cycles).collect();
    assert!(lengths.len() > 2, "{lengths:?}");
    // Cross-modifying code: witnesses carry the first stale and violation cycles.
    let xmc = check_witnesses("xmc.ron", "no-sync");
    assert!(
        xmc.histogram()
            .iter()
            .any(|o| o.witness.first_violation.is_some()),
        "no-sync breaks its contract in some run: {:?}",
        xmc.histogram()
    );
}

#[test]
fn cancelling_keeps_every_finished_run() {
    let scenario = load_valid("sb.ron");
    let full = explore_all(&scenario, Some("relaxed"), 30, 1);
    let cancel = AtomicBool::new(false);
    let finished = AtomicUsize::new(0);
    let stop_after_five = |_: &_| {
        if finished.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
            cancel.store(true, Ordering::SeqCst);
        }
    };
    let partial = explore(
        &scenario,
        Some("relaxed"),
        0..30,
        1,
        &stop_after_five,
        &cancel,
    )
    .unwrap();
    assert_eq!(
        partial.runs.len(),
        5,
        "one thread starts nothing after the flag"
    );
    assert!(!partial.complete());
    for run in &partial.runs {
        assert_eq!(Some(run), full.run(run.seed), "seed {}", run.seed);
    }
    // What five runs cannot settle stays open rather than passing.
    let configuration = scenario.configuration(Some("relaxed")).unwrap();
    let always = check(configuration, &partial)
        .into_iter()
        .find(|c| c.expectation == Expectation::FinalState(r"[x]=1 /\ [y]=1".into()))
        .unwrap();
    assert_eq!(
        (always.status, always.seen, always.runs),
        (Status::Open, 5, 5)
    );
}

fn find<'a>(checks: &'a [Check], expectation: &Expectation, verdict: Verdict) -> &'a Check {
    checks
        .iter()
        .find(|c| &c.expectation == expectation && c.verdict == verdict)
        .unwrap_or_else(|| panic!("no {expectation} {verdict:?} in {checks:?}"))
}

#[test]
fn store_buffering_claims_are_judged_with_witnesses() {
    let scenario = load_valid("sb_claims.ron");
    let relaxed_state = Expectation::FinalState(RELAXED.into());

    let relaxed = scenario.configuration(Some("relaxed")).unwrap();
    let exploration = explore_all(&scenario, Some("relaxed"), 20, 2);
    let checks = check(relaxed, &exploration);
    let possible = find(&checks, &relaxed_state, Verdict::Possible);
    let impossible = find(&checks, &relaxed_state, Verdict::Impossible);
    assert_eq!(possible.status, Status::Pass);
    assert_eq!(impossible.status, Status::Fail);
    assert!(possible.seen > 0 && possible.seen < 20, "{possible:?}");
    assert_eq!(possible.witness, impossible.witness);
    let witness = impossible.witness.expect("a failed Impossible names a run");
    let replay = run_once(&scenario, Some("relaxed"), Some(witness.seed), false).unwrap();
    assert!(
        replay.conditions[0].holds,
        "the witness shows the relaxed outcome"
    );
    assert_eq!(
        find(&checks, &Expectation::RunsHalt, Verdict::Always).status,
        Status::Pass
    );

    let fenced = scenario.configuration(Some("fenced")).unwrap();
    let exploration = explore_all(&scenario, Some("fenced"), 20, 2);
    let checks = check(fenced, &exploration);
    let impossible = find(&checks, &relaxed_state, Verdict::Impossible);
    assert_eq!(
        (impossible.status, impossible.seen, impossible.runs),
        (Status::Pass, 0, 20)
    );
    assert_eq!(impossible.witness, None);
    let within = find(&checks, &Expectation::MaxCycles(100_000), Verdict::Always);
    assert_eq!((within.status, within.seen), (Status::Pass, 20));
}

#[test]
fn a_single_run_settles_only_what_one_run_can() {
    let scenario = load_valid("sb_claims.ron");
    let relaxed = scenario.configuration(Some("relaxed")).unwrap();
    let exploration = explore_all(&scenario, Some("relaxed"), 20, 2);
    let showing = exploration
        .runs
        .iter()
        .find(|r| r.outcome.conditions[0])
        .unwrap();
    let hiding = exploration
        .runs
        .iter()
        .find(|r| !r.outcome.conditions[0])
        .unwrap();
    let state = Expectation::FinalState(RELAXED.into());
    let statuses = |seed| {
        let report = run_once(&scenario, Some("relaxed"), Some(seed), false).unwrap();
        let checks = check_run(relaxed, &report);
        [Verdict::Possible, Verdict::Impossible].map(|v| find(&checks, &state, v).status)
    };
    assert_eq!(statuses(showing.seed), [Status::Pass, Status::Fail]);
    assert_eq!(statuses(hiding.seed), [Status::Open, Status::Open]);
}

#[test]
fn runs_that_never_halt_fail_with_their_stop_report() {
    let scenario = load_valid("spin.ron");
    let report = run_once(&scenario, None, Some(1), false).unwrap();
    assert_eq!(report.stop, StopReason::CycleLimit);
    assert_eq!(report.outcome().stop, StopKind::CycleLimit);
    let exploration = explore_all(&scenario, None, 4, 2);
    assert_eq!(exploration.unfinished_runs(), 4);
    let checks = check(scenario.configuration(None).unwrap(), &exploration);
    let halts = find(&checks, &Expectation::RunsHalt, Verdict::Always);
    assert_eq!((halts.status, halts.seen, halts.runs), (Status::Fail, 0, 4));
    let witness = halts.witness.unwrap();
    assert_eq!(
        exploration.run(witness.seed).unwrap().stop,
        StopReason::CycleLimit
    );
    let within = find(&checks, &Expectation::MaxCycles(5000), Verdict::Always);
    assert_eq!(within.status, Status::Fail, "cut short is not finished");
    let state = find(
        &checks,
        &Expectation::FinalState("[flag]=0".into()),
        Verdict::Always,
    );
    assert_eq!(
        (state.status, state.runs),
        (Status::Open, 0),
        "no final state without halting"
    );
}

#[test]
fn a_run_report_names_contracts_and_times_ipis() {
    let scenario = load_valid("xmc.ron");
    let exploration = explore_all(&scenario, Some("no-sync"), 12, 2);
    let seed = exploration
        .runs
        .iter()
        .find(|r| r.outcome.violation)
        .unwrap()
        .seed;
    let report = run_once(&scenario, Some("no-sync"), Some(seed), true).unwrap();
    assert_eq!(report.variant.as_deref(), Some("no-sync"));
    assert_eq!(report.violations[0].contract, "patch published");
    assert!(!report.trace.is_empty(), "traced on request");
    let untraced = run_once(&scenario, Some("no-sync"), Some(seed), false).unwrap();
    assert!(untraced.trace.is_empty());
    assert_eq!(
        untraced.cycles, report.cycles,
        "tracing does not change the run"
    );

    let scenario = load_valid("ipi.ron");
    let report = run_once(&scenario, None, None, false).unwrap();
    assert!(report.halted(), "{:?}", report.stop);
    let [ipi] = report.ipis.as_slice() else {
        panic!("one IPI: {:?}", report.ipis)
    };
    assert_eq!((ipi.from, ipi.to, ipi.vector), (0, 1, 0xf0));
    assert_eq!(ipi.arrived, Some(ipi.sent + 50), "machine.ipi_latency");
    assert_eq!(
        (
            report.per_core[0].ipis_sent,
            report.per_core[1].ipis_received
        ),
        (1, 1)
    );
    assert!(report.conditions[0].holds, "{:?}", report.conditions);
}
