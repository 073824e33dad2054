//! Printing judged expectations ([`Check`]) and witnesses, shared by `synclab run`
//! (one run) and `synclab explore` (many): a witness always comes with the command
//! that replays it.

use std::path::Path;

use scenarios::scenario::schema::Verdict;
use scenarios::scenario::{Check, Expectation, Status, Witness};
use serde_json::{Value, json};

/// How to rerun one seed of a configuration from the command line.
pub struct Replay<'a> {
    /// The scenario file, as given on the command line.
    pub path: &'a Path,
    /// The variant (`None`: the base).
    pub variant: Option<&'a str>,
}

impl Replay<'_> {
    /// `synclab run PATH [--variant V] --seed S`.
    pub fn command(&self, seed: u64) -> String {
        let variant = self
            .variant
            .map_or(String::new(), |v| format!(" --variant {v}"));
        format!("synclab run {}{variant} --seed {seed}", self.path.display())
    }
}

/// `seed 4 (812 cycles, first stale execution at cycle 500, ...)`.
pub fn witness_text(witness: &Witness) -> String {
    let mut parts = vec![format!("{} cycles", witness.cycles)];
    if let Some(cycle) = witness.first_stale {
        parts.push(format!("first stale execution at cycle {cycle}"));
    }
    if let Some(cycle) = witness.first_violation {
        parts.push(format!("first contract violation at cycle {cycle}"));
    }
    format!("seed {} ({})", witness.seed, parts.join(", "))
}

/// What a run that shows `expectation` did, for "... in 3 of 40 runs".
fn observed(expectation: &Expectation) -> &'static str {
    match expectation {
        Expectation::RunsHalt => "halted",
        Expectation::StaleExecution => "stale code ran",
        Expectation::ContractViolation => "a contract broke",
        Expectation::FinalState(_) => "held",
        Expectation::MaxCycles(_) => "halted in time",
    }
}

/// One line per check; over many runs (`single_run` false) with counts, and the
/// witness with the command replaying it. For a single run, "every run halts" is
/// shown only when the run did not.
pub fn print_checks(checks: &[Check], replay: &Replay, single_run: bool, indent: &str) {
    for check in checks {
        let counts = match (single_run, check.runs, check.seen) {
            (false, runs, seen) => {
                format!("{} in {seen} of {runs} runs", observed(&check.expectation))
            }
            (true, _, _) if check.expectation == Expectation::RunsHalt => {
                if check.status != Status::Fail {
                    continue;
                }
                "this run did not halt".to_string()
            }
            (true, 0, _) => "not judged: the run did not halt".to_string(),
            (true, _, 0) => "not seen in this run".to_string(),
            (true, _, _) => "seen in this run".to_string(),
        };
        out!(
            "{indent}{}  {} ({:?}): {counts}",
            check.status.name(),
            check.expectation,
            check.verdict
        );
        if let (Some(witness), false) = (&check.witness, single_run) {
            let label = match check.verdict {
                Verdict::Always => "counterexample",
                Verdict::Possible | Verdict::Impossible => "shortest",
            };
            out!(
                "{indent}      {label}: {} — {}",
                witness_text(witness),
                replay.command(witness.seed)
            );
        }
    }
}

/// A witness as JSON.
pub fn witness_json(witness: &Witness) -> Value {
    json!({
        "seed": witness.seed,
        "cycles": witness.cycles,
        "first_stale": witness.first_stale,
        "first_violation": witness.first_violation,
    })
}

/// A check as JSON: `expectation` (`runs_halt`, `stale_execution`,
/// `contract_violation`, `final_state` with `condition`, `max_cycles` with
/// `limit`), `verdict`, `status`, `seen`, `runs`, `witness`.
pub fn check_json(check: &Check) -> Value {
    let mut value = json!({
        "verdict": format!("{:?}", check.verdict),
        "status": check.status.name(),
        "seen": check.seen,
        "runs": check.runs,
        "witness": check.witness.as_ref().map(witness_json),
    });
    let (kind, detail) = match &check.expectation {
        Expectation::RunsHalt => ("runs_halt", None),
        Expectation::StaleExecution => ("stale_execution", None),
        Expectation::ContractViolation => ("contract_violation", None),
        Expectation::FinalState(text) => ("final_state", Some(("condition", json!(text)))),
        Expectation::MaxCycles(limit) => ("max_cycles", Some(("limit", json!(limit)))),
    };
    value["expectation"] = json!(kind);
    if let Some((field, detail)) = detail {
        value[field] = detail;
    }
    value
}

/// Whether any check failed.
pub fn any_failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Fail)
}
