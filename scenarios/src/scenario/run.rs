//! One run of a scenario configuration: everything it showed, gathered into one
//! [`RunReport`] that `synclab run` prints and exploration summarises.
//!
//! A run that ends by the watchdog, a fault or the cycle limit is an outcome like
//! any other: its [`StopReason`] (with the watchdog's per-core report) is in the
//! report, and judging it is the expectations' business, not a panic.

use std::fmt;

use isa::flags::Flags;
use sim_core::machine::{
    ContractViolation, CoreStats, IpiRecord, Machine, RunOutcome, StaleExecution, StopReason,
    TraceEvent,
};

use super::condition::FinalStateCondition;
use super::error::ScenarioError;
use super::load::LoadedScenario;

/// Everything one run showed.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The variant run (`None`: the base configuration, or a plain program).
    pub variant: Option<String>,
    /// The seed of the timing jitter: the same seed replays the same run.
    pub seed: u64,
    /// Why the run stopped.
    pub stop: StopReason,
    /// Cycles simulated.
    pub cycles: u64,
    /// Per-core counters.
    pub per_core: Vec<CoreStats>,
    /// Each core's final general registers (RAX..R15).
    pub registers: Vec<[u64; 16]>,
    /// Each core's final RFLAGS.
    pub flags: Vec<Flags>,
    /// Every instruction retired from bytes memory no longer held, in retirement order.
    pub stale: Vec<StaleExecution>,
    /// The names of the machine's contracts, by the index events carry.
    pub contracts: Vec<String>,
    /// The stale executions that broke a declared contract, with its name.
    pub violations: Vec<NamedViolation>,
    /// Every IPI, with its send, arrival and handler-entry cycles.
    pub ipis: Vec<IpiRecord>,
    /// Each final-state condition of the configuration and whether it held.
    pub conditions: Vec<ConditionResult>,
    /// The recorded trace (empty unless the run was traced).
    pub trace: Vec<TraceEvent>,
}

/// A contract violation with the contract's name, so a report can say which
/// promise was broken without the machine at hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedViolation {
    /// The contract's name (a scenario's `name`, or its sync point's).
    pub contract: String,
    /// The violation.
    pub violation: ContractViolation,
}

/// A final-state condition's value at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionResult {
    /// The condition as written.
    pub text: String,
    /// Whether it held.
    pub holds: bool,
}

/// How a run stopped, without the details: part of an [`Outcome`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StopKind {
    /// Every core halted (the only normal end).
    AllHalted,
    /// The machine's `max_cycles` was reached.
    CycleLimit,
    /// No core retired for `watchdog_cycles`.
    Watchdog,
    /// A core's oldest instruction could not execute.
    Fault,
    /// Stopped on request (Ctrl-C) before it ended.
    Interrupted,
}

impl StopKind {
    /// The kind of `stop`.
    pub fn of(stop: &StopReason) -> StopKind {
        match stop {
            StopReason::AllHalted => StopKind::AllHalted,
            StopReason::CycleLimit => StopKind::CycleLimit,
            StopReason::Watchdog(_) => StopKind::Watchdog,
            StopReason::Fault { .. } => StopKind::Fault,
            StopReason::Interrupted => StopKind::Interrupted,
        }
    }

    /// Short name for reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            StopKind::AllHalted => "halted",
            StopKind::CycleLimit => "cycle-limit",
            StopKind::Watchdog => "watchdog",
            StopKind::Fault => "fault",
            StopKind::Interrupted => "interrupted",
        }
    }
}

/// What kind of run this was, for the histogram of an exploration: how it stopped,
/// whether stale code ran, whether a contract broke, and each final-state
/// condition's truth (in the configuration's order).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Outcome {
    /// How the run stopped.
    pub stop: StopKind,
    /// At least one stale execution.
    pub stale: bool,
    /// At least one contract violation.
    pub violation: bool,
    /// Each condition's truth.
    pub conditions: Vec<bool>,
}

impl fmt::Display for Outcome {
    /// `halted, stale code, contract broken, conditions T F`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stop.name())?;
        f.write_str(if self.stale {
            ", stale code"
        } else {
            ", no stale code"
        })?;
        if self.violation {
            f.write_str(", contract broken")?;
        }
        if !self.conditions.is_empty() {
            f.write_str(", conditions")?;
            for &holds in &self.conditions {
                f.write_str(if holds { " T" } else { " F" })?;
            }
        }
        Ok(())
    }
}

/// Run `variant` (`None`: the base) of `scenario` once with `seed` (default: the
/// scenario's `machine.seed`), recording a trace when `trace` is set.
///
/// Errors only when the configuration cannot be built (an unknown variant); how
/// the run itself ended is in the report.
pub fn run_once(
    scenario: &LoadedScenario,
    variant: Option<&str>,
    seed: Option<u64>,
    trace: bool,
) -> Result<RunReport, ScenarioError> {
    run_once_observed(scenario, variant, seed, trace, |_| true)
}

/// [`run_once`] with an observer called every `OBSERVE_EVERY` cycles (see
/// `Machine::run_observed`): progress for long runs, and `false` interrupts the
/// run, whose report then says so.
pub fn run_once_observed(
    scenario: &LoadedScenario,
    variant: Option<&str>,
    seed: Option<u64>,
    trace: bool,
    observe: impl FnMut(u64) -> bool,
) -> Result<RunReport, ScenarioError> {
    let configuration = scenario.configuration(variant)?;
    let seed = seed.unwrap_or(configuration.config.seed);
    let mut machine = scenario.build(variant, Some(seed))?;
    machine.set_tracing(trace);
    let outcome = machine.run_observed(observe);
    let conditions = configuration.final_state.iter().map(|(c, _)| c);
    let mut report = RunReport::collect(&mut machine, outcome, seed, conditions);
    report.variant = configuration.variant.clone();
    Ok(report)
}

impl RunReport {
    /// The report of a finished run of `machine` (any machine, not only a
    /// scenario's: `synclab run FILE.s` uses it too), with `conditions` evaluated
    /// on its final state. Takes the machine's trace.
    pub fn collect<'a>(
        machine: &mut Machine,
        outcome: RunOutcome,
        seed: u64,
        conditions: impl IntoIterator<Item = &'a FinalStateCondition>,
    ) -> RunReport {
        let cores = outcome.per_core.len();
        let names: Vec<String> = machine.contracts().iter().map(|c| c.name.clone()).collect();
        let violations = machine
            .contract_violations()
            .iter()
            .map(|&violation| NamedViolation {
                contract: names.get(violation.contract).cloned().unwrap_or_default(),
                violation,
            })
            .collect();
        let conditions = conditions
            .into_iter()
            .map(|c| ConditionResult {
                text: c.text.clone(),
                holds: c.holds(machine),
            })
            .collect();
        RunReport {
            variant: None,
            seed,
            stop: outcome.stop,
            cycles: outcome.cycles,
            per_core: outcome.per_core,
            registers: (0..cores).map(|core| machine.regs(core)).collect(),
            flags: (0..cores).map(|core| machine.flags(core)).collect(),
            stale: machine.stale_executions().to_vec(),
            contracts: names,
            violations,
            ipis: machine.ipis().to_vec(),
            conditions,
            trace: machine.take_trace(),
        }
    }

    /// The kind of run this was.
    pub fn outcome(&self) -> Outcome {
        Outcome {
            stop: StopKind::of(&self.stop),
            stale: !self.stale.is_empty(),
            violation: !self.violations.is_empty(),
            conditions: self.conditions.iter().map(|c| c.holds).collect(),
        }
    }

    /// Whether the run ended normally, every core halted.
    pub fn halted(&self) -> bool {
        self.stop == StopReason::AllHalted
    }
}

/// One line (or, for the watchdog, one line per core) saying why a run stopped.
pub fn describe_stop(stop: &StopReason, cycles: u64) -> String {
    match stop {
        StopReason::AllHalted => format!("every core halted after {cycles} cycles"),
        StopReason::CycleLimit => format!("the cycle limit was reached ({cycles} cycles)"),
        StopReason::Watchdog(report) => format!("watchdog: {}", report.to_string().trim_end()),
        StopReason::Fault { core, rip, message } => {
            format!("core {core}: fault at {rip:#x}: {message}")
        }
        StopReason::Interrupted => format!("interrupted at cycle {cycles}"),
    }
}
