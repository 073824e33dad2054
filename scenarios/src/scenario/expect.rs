//! Judging a configuration's expectations against its runs.
//!
//! Each expectation becomes a verdict over a property of a run:
//! `stale_execution` (stale code ran), `contract_violation` (a contract broke),
//! each `final_state` condition (it held when the run ended) and `max_cycles`
//! (the run halted within it, judged `Always`). One more is implicit and always
//! checked: **every run halts**. A run stopped by the watchdog, a fault or the
//! cycle limit has no final state and says nothing a scenario promised, so it
//! fails the configuration, with its stop report; final-state conditions are
//! judged over the runs that halted only.
//!
//! `Possible` passes when seen once; `Impossible` and `Always` fail on the first
//! counterexample. Over an incomplete set of runs (a cancelled exploration, or the
//! single run of `synclab run`) what the runs do not decide is [`Status::Open`].

use std::fmt;

use super::explore::{Exploration, RunSummary, Witness, shortest};
use super::load::Configuration;
use super::run::RunReport;
use super::schema::Verdict;

/// What an expectation is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// Implicit: every run ends with every core halted.
    RunsHalt,
    /// `stale_execution`: stale instruction bytes executed.
    StaleExecution,
    /// `contract_violation`: a declared contract broken.
    ContractViolation,
    /// A `final_state` condition, as written.
    FinalState(String),
    /// `max_cycles`: the run halted within this many cycles.
    MaxCycles(u64),
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expectation::RunsHalt => f.write_str("every run halts"),
            Expectation::StaleExecution => f.write_str("stale execution"),
            Expectation::ContractViolation => f.write_str("contract violation"),
            Expectation::FinalState(text) => write!(f, "final state `{text}`"),
            Expectation::MaxCycles(n) => write!(f, "every run halts within {n} cycles"),
        }
    }
}

/// Whether the runs settle an expectation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// It holds.
    Pass,
    /// The runs contradict it (the witness, if any, shows how).
    Fail,
    /// Not contradicted, but the runs are too few to establish it: a single run,
    /// an exploration cancelled before its last seed, or (final-state
    /// conditions) no run that halted.
    Open,
}

impl Status {
    /// `PASS`, `FAIL` or `OPEN`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Open => "OPEN",
        }
    }
}

/// One expectation judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What it is about.
    pub expectation: Expectation,
    /// How often it must be seen.
    pub verdict: Verdict,
    /// The judgement.
    pub status: Status,
    /// Runs that showed it.
    pub seen: u64,
    /// Runs it was judged over (final-state conditions: the runs that halted).
    pub runs: u64,
    /// The shortest run that decides it: for `Possible` and `Impossible` one that
    /// showed it, for `Always` one that did not.
    pub witness: Option<Witness>,
}

/// Judge `configuration`'s expectations against `runs` (sorted by seed), which
/// are all the runs asked for when `complete`.
pub fn check_runs(
    configuration: &Configuration,
    runs: &[RunSummary],
    complete: bool,
) -> Vec<Check> {
    let all: Vec<&RunSummary> = runs.iter().collect();
    let halted: Vec<&RunSummary> = runs.iter().filter(|r| r.halted()).collect();
    let expect = &configuration.expect;
    let mut checks = vec![judge(
        Expectation::RunsHalt,
        Verdict::Always,
        &all,
        complete,
        RunSummary::halted,
    )];
    if let Some(verdict) = expect.stale_execution {
        checks.push(judge(
            Expectation::StaleExecution,
            verdict,
            &all,
            complete,
            |r| r.outcome.stale,
        ));
    }
    if let Some(verdict) = expect.contract_violation {
        checks.push(judge(
            Expectation::ContractViolation,
            verdict,
            &all,
            complete,
            |r| r.outcome.violation,
        ));
    }
    for (i, (condition, verdict)) in configuration.final_state.iter().enumerate() {
        checks.push(judge(
            Expectation::FinalState(condition.text.clone()),
            *verdict,
            &halted,
            complete,
            |r| r.outcome.conditions.get(i).copied().unwrap_or(false),
        ));
    }
    if let Some(limit) = expect.max_cycles {
        checks.push(judge(
            Expectation::MaxCycles(limit),
            Verdict::Always,
            &all,
            complete,
            |r| r.halted() && r.cycles <= limit,
        ));
    }
    checks
}

/// Judge `configuration`'s expectations against an exploration of it.
pub fn check(configuration: &Configuration, exploration: &Exploration) -> Vec<Check> {
    check_runs(configuration, &exploration.runs, exploration.complete())
}

/// What a single run says about `configuration`'s expectations: contradictions
/// fail, a `Possible` seen passes, the rest stays open.
pub fn check_run(configuration: &Configuration, report: &RunReport) -> Vec<Check> {
    check_runs(configuration, &[report.summary()], false)
}

fn judge(
    expectation: Expectation,
    verdict: Verdict,
    runs: &[&RunSummary],
    complete: bool,
    shows: impl Fn(&RunSummary) -> bool,
) -> Check {
    let seen = runs.iter().filter(|r| shows(r)).count() as u64;
    let total = runs.len() as u64;
    let decides = |r: &&&RunSummary| shows(r) != (verdict == Verdict::Always);
    let witness = shortest(runs.iter().filter(decides).copied()).map(RunSummary::witness);
    // Possible is settled by one run showing it; Impossible and Always by one run
    // contradicting them. Otherwise only the full set of runs decides.
    let (settled_by_one, settled_status) = match verdict {
        Verdict::Possible => (seen > 0, Status::Pass),
        Verdict::Impossible => (seen > 0, Status::Fail),
        Verdict::Always => (seen < total, Status::Fail),
    };
    let status = match (settled_by_one, complete) {
        (true, _) => settled_status,
        // Nothing to judge over (no run halted): the runs' own failure says why.
        (false, _) if total == 0 => Status::Open,
        (false, false) => Status::Open,
        (false, true) if verdict == Verdict::Possible => Status::Fail,
        (false, true) => Status::Pass,
    };
    Check {
        expectation,
        verdict,
        status,
        seen,
        runs: total,
        witness,
    }
}
