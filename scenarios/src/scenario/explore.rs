//! Seeded exploration: one configuration run over a range of seeds in parallel,
//! summarised as a histogram of outcomes, each with its smallest witness (the seed
//! of the shortest run showing it, which `synclab run FILE --seed S` replays).
//!
//! Results never depend on the number of threads or the order runs finish in: each
//! run depends only on its seed, and runs are kept sorted by seed.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use sim_core::machine::StopReason;

use super::error::ScenarioError;
use super::load::LoadedScenario;
use super::run::{Outcome, RunReport, run_once_observed};

/// What exploration keeps of one run: enough to histogram it, judge
/// expectations and point at it as a witness.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Its seed.
    pub seed: u64,
    /// Cycles simulated.
    pub cycles: u64,
    /// The kind of run.
    pub outcome: Outcome,
    /// Retirement cycle of the first stale execution.
    pub first_stale: Option<u64>,
    /// Retirement cycle of the first stale execution that broke a contract.
    pub first_violation: Option<u64>,
    /// How the run stopped, with the watchdog's per-core report or the fault.
    pub stop: StopReason,
}

/// A run that shows something, small enough to print: replay it with its seed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// The seed.
    pub seed: u64,
    /// Cycles the run took.
    pub cycles: u64,
    /// Retirement cycle of its first stale execution.
    pub first_stale: Option<u64>,
    /// Retirement cycle of its first contract violation.
    pub first_violation: Option<u64>,
}

impl RunSummary {
    /// This run as a witness.
    pub fn witness(&self) -> Witness {
        Witness {
            seed: self.seed,
            cycles: self.cycles,
            first_stale: self.first_stale,
            first_violation: self.first_violation,
        }
    }

    /// Whether the run ended normally, every core halted.
    pub fn halted(&self) -> bool {
        self.stop == StopReason::AllHalted
    }
}

impl RunReport {
    /// What exploration keeps of this run.
    pub fn summary(&self) -> RunSummary {
        RunSummary {
            seed: self.seed,
            cycles: self.cycles,
            outcome: self.outcome(),
            first_stale: self.stale.first().map(|s| s.cycle),
            first_violation: self.violations.first().map(|v| v.violation.stale.cycle),
            stop: self.stop.clone(),
        }
    }
}

/// The shortest of `runs` (fewest cycles, then lowest seed): the smallest
/// witness of whatever they share.
pub fn shortest<'a>(runs: impl IntoIterator<Item = &'a RunSummary>) -> Option<&'a RunSummary> {
    runs.into_iter().min_by_key(|r| (r.cycles, r.seed))
}

/// How often one outcome was seen, and its smallest witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeCount {
    /// The outcome.
    pub outcome: Outcome,
    /// Runs that ended in it.
    pub runs: u64,
    /// The shortest of them.
    pub witness: Witness,
}

/// The runs of one configuration over a range of seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Exploration {
    /// The variant explored (`None`: the base).
    pub variant: Option<String>,
    /// The seeds asked for.
    pub seeds: Range<u64>,
    /// The configuration's final-state conditions, in the order of
    /// [`Outcome::conditions`].
    pub conditions: Vec<String>,
    /// Every finished run, sorted by seed (fewer than the seeds when cancelled).
    pub runs: Vec<RunSummary>,
}

impl Exploration {
    /// Whether every seed asked for was run (not cancelled).
    pub fn complete(&self) -> bool {
        self.runs.len() as u64 == self.seeds.end.saturating_sub(self.seeds.start)
    }

    /// The run of `seed`, if it finished.
    pub fn run(&self, seed: u64) -> Option<&RunSummary> {
        let at = self.runs.binary_search_by_key(&seed, |r| r.seed).ok()?;
        self.runs.get(at)
    }

    /// Each outcome seen, in a fixed order (stop kind, stale, violation,
    /// conditions), with its count and smallest witness.
    pub fn histogram(&self) -> Vec<OutcomeCount> {
        let mut by_outcome: BTreeMap<&Outcome, Vec<&RunSummary>> = BTreeMap::new();
        for run in &self.runs {
            by_outcome.entry(&run.outcome).or_default().push(run);
        }
        by_outcome
            .into_iter()
            .filter_map(|(outcome, runs)| {
                Some(OutcomeCount {
                    outcome: outcome.clone(),
                    runs: runs.len() as u64,
                    witness: shortest(runs)?.witness(),
                })
            })
            .collect()
    }

    /// Runs that executed stale code.
    pub fn stale_runs(&self) -> u64 {
        self.count(|r| r.outcome.stale)
    }

    /// Runs that broke a contract.
    pub fn violation_runs(&self) -> u64 {
        self.count(|r| r.outcome.violation)
    }

    /// Runs that did not end with every core halted.
    pub fn unfinished_runs(&self) -> u64 {
        self.count(|r| !r.halted())
    }

    fn count(&self, shows: impl Fn(&RunSummary) -> bool) -> u64 {
        self.runs.iter().filter(|r| shows(r)).count() as u64
    }
}

/// Run `variant` (`None`: the base) of `scenario` once per seed of `seeds`, on a
/// pool of `jobs` threads (0: one per CPU), calling `progress` after each run.
///
/// Setting `cancel` stops starting new runs and interrupts those in progress
/// (they are left out); every finished run is in the result (then
/// [`Exploration::complete`] is false). The result is the same for any `jobs`.
pub fn explore(
    scenario: &LoadedScenario,
    variant: Option<&str>,
    seeds: Range<u64>,
    jobs: usize,
    progress: &(dyn Fn(&RunSummary) + Sync),
    cancel: &AtomicBool,
) -> Result<Exploration, ScenarioError> {
    let configuration = scenario.configuration(variant)?;
    let run = |seed: u64| {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        let go_on = |_| !cancel.load(Ordering::Relaxed);
        let summary =
            run_once_observed(scenario, variant, Some(seed), false, go_on).map(|r| r.summary());
        match &summary {
            Ok(s) if s.stop == StopReason::Interrupted => return None,
            Ok(s) => progress(s),
            Err(_) => {}
        }
        Some(summary)
    };
    let all = || {
        seeds
            .clone()
            .into_par_iter()
            .filter_map(run)
            .collect::<Result<Vec<_>, _>>()
    };
    // Without a pool of its own (the OS refused threads) the global pool runs the
    // same seeds: the result does not depend on the threads.
    let mut runs = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool.install(all),
        Err(_) => all(),
    }?;
    runs.sort_by_key(|r| r.seed);
    Ok(Exploration {
        variant: configuration.variant.clone(),
        seeds,
        conditions: configuration
            .final_state
            .iter()
            .map(|(c, _)| c.text.clone())
            .collect(),
        runs,
    })
}
