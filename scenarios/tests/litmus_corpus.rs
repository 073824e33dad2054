//! Every test of the herd7 x86 corpus parses, and agrees with herd7's `verdicts.json`
//! on name, dialect, thread count, quantifier, observed locations and the truth of
//! its proposition over herd's allowed states.

mod litmus_data;

use scenarios::litmus::{CorpusEntry, Observation, find_verdict};

#[test]
fn every_test_parses_and_matches_its_verdict() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    assert_eq!(corpus.entries.len(), 738, "README promises 738 tests");
    for CorpusEntry { key, test, verdict } in &corpus.entries {
        assert_eq!(test.name, verdict.name, "{key}: name");
        assert_eq!(test.arch, verdict.arch, "{key}: arch");
        assert_eq!(test.threads.len(), verdict.threads, "{key}: thread count");
        assert_eq!(
            test.condition.to_herd_string(test.arch),
            verdict.herd_condition,
            "{key}: condition as herd7 prints it"
        );
        assert_eq!(
            test.condition.quantifier, verdict.quantifier,
            "{key}: quantifier"
        );
        let ours: Vec<String> = test
            .observed_locations()
            .iter()
            .map(|l| l.key(test.arch))
            .collect();
        let herds: Vec<&str> = verdict.state_keys().into_iter().collect();
        assert_eq!(ours, herds, "{key}: observed locations");
    }
}

/// Every herd full state has the same keys, so projecting onto them is well defined.
#[test]
fn herd_states_are_uniform() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    for CorpusEntry { key, verdict, .. } in &corpus.entries {
        let keys = verdict.state_keys();
        for s in &verdict.allowed_states_full {
            assert!(
                s.0.keys().map(String::as_str).eq(keys.iter().copied()),
                "{key}: {s}"
            );
        }
    }
}

/// An independent check of the proposition parser and evaluator: herd7's observation
/// (Never/Sometimes/Always) must match how many of its allowed states satisfy P, and
/// its `Ok`/`No` must match the quantified condition over those states.
#[test]
fn condition_agrees_with_herd_observation() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    for CorpusEntry { key, test, verdict } in &corpus.entries {
        for states in [&verdict.allowed_states, &verdict.allowed_states_full] {
            let sat: Vec<bool> = states
                .iter()
                .map(|s| {
                    test.condition
                        .prop
                        .eval(test.arch, s)
                        .unwrap_or_else(|| panic!("{key}: {s} lacks a location of P"))
                })
                .collect();
            let expected = match verdict.herd_observation {
                Observation::Never => sat.iter().all(|b| !b),
                Observation::Always => sat.iter().all(|b| *b),
                Observation::Sometimes => sat.iter().any(|b| *b) && sat.iter().any(|b| !b),
            };
            assert!(
                expected,
                "{key}: P over herd's states {sat:?} disagrees with {:?}",
                verdict.herd_observation
            );
        }
        let holds = test.condition.holds(test.arch, &verdict.allowed_states);
        assert_eq!(
            holds,
            Some(verdict.herd_condition_validated),
            "{key}: quantified condition"
        );
    }
}

/// A single file finds its verdict in the `verdicts.json` above it.
#[test]
fn files_find_their_verdicts() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    for key in [
        "gen/X86_64/SB+mfence+rfi-mfence",
        "hand/X86/n4",
        "repo/herd-tests-X86_64/A010",
    ] {
        let entry = corpus.get(key).unwrap_or_else(|| panic!("{key} missing"));
        let found = find_verdict(&corpus.dir.join(&entry.verdict.file));
        assert_eq!(found, Ok(Some(entry.verdict.clone())), "{key}");
    }
    assert_eq!(find_verdict(&corpus.dir.join("README.md")), Ok(None));
    assert!(find_verdict(&corpus.dir.join("no-such.litmus")).is_err());
}
