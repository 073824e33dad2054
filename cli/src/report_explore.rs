//! Printing an exploration of one configuration: the histogram of outcomes with
//! their smallest witnesses, the counts, and each expectation judged.

use scenarios::scenario::{Check, Exploration, describe_stop, shortest};
use serde_json::{Value, json};

use crate::report_checks::{Replay, check_json, print_checks, witness_json, witness_text};

/// Print `exploration` of configuration `name` and its `checks` as text.
pub fn print_text(name: &str, exploration: &Exploration, checks: &[Check], replay: &Replay) {
    let seeds = &exploration.seeds;
    let asked = seeds.end.saturating_sub(seeds.start);
    let done = exploration.runs.len();
    let state = if exploration.complete() {
        format!("{done} seeds ({}..{})", seeds.start, seeds.end)
    } else {
        format!(
            "cancelled after {done} of {asked} seeds ({}..{})",
            seeds.start, seeds.end
        )
    };
    out!("{name}: {state}");
    let conditions: Vec<String> = exploration
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| format!("c{} `{c}`", i + 1))
        .collect();
    if !conditions.is_empty() {
        out!("  final-state conditions: {}", conditions.join(", "));
    }
    let columns: String = (1..=exploration.conditions.len())
        .map(|i| format!(" {:<3}", format!("c{i}")))
        .collect();
    out!(
        "  {:>6}  {:<11} {:<5} {:<6}{columns}  shortest run",
        "runs",
        "stop",
        "stale",
        "broken"
    );
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    for entry in exploration.histogram() {
        let truths: String = entry
            .outcome
            .conditions
            .iter()
            .map(|&holds| format!(" {:<3}", if holds { "T" } else { "F" }))
            .collect();
        out!(
            "  {:>6}  {:<11} {:<5} {:<6}{truths}  {}",
            entry.runs,
            entry.outcome.stop.name(),
            yes_no(entry.outcome.stale),
            yes_no(entry.outcome.violation),
            witness_text(&entry.witness)
        );
    }
    out!(
        "  stale code ran in {} runs; a contract broke in {}; {} did not halt",
        exploration.stale_runs(),
        exploration.violation_runs(),
        exploration.unfinished_runs()
    );
    if let Some(run) = shortest(exploration.runs.iter().filter(|r| !r.halted())) {
        out!(
            "  shortest run that did not halt, seed {}: {}",
            run.seed,
            describe_stop(&run.stop, run.cycles).replace('\n', "\n    ")
        );
    }
    out!("  expectations:");
    print_checks(checks, replay, false, "    ");
    out!("");
}

/// `exploration` and its `checks` as one JSON object.
pub fn json(exploration: &Exploration, checks: &[Check]) -> Value {
    let outcomes: Vec<Value> = exploration
        .histogram()
        .iter()
        .map(|entry| {
            let conditions: Vec<Value> = exploration
                .conditions
                .iter()
                .zip(&entry.outcome.conditions)
                .map(|(text, holds)| json!({"condition": text, "holds": holds}))
                .collect();
            json!({
                "stop": entry.outcome.stop.name(),
                "stale": entry.outcome.stale,
                "violation": entry.outcome.violation,
                "conditions": conditions,
                "runs": entry.runs,
                "witness": witness_json(&entry.witness),
            })
        })
        .collect();
    json!({
        "variant": exploration.variant,
        "seeds": {"start": exploration.seeds.start, "end": exploration.seeds.end},
        "runs": exploration.runs.len(),
        "complete": exploration.complete(),
        "stale_runs": exploration.stale_runs(),
        "violation_runs": exploration.violation_runs(),
        "unfinished_runs": exploration.unfinished_runs(),
        "outcomes": outcomes,
        "expectations": checks.iter().map(check_json).collect::<Vec<_>>(),
    })
}
