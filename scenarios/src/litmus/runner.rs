//! Running a litmus test many times on some executor and judging the outcomes
//! against herd7's x86-TSO verdict.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rayon::prelude::*;
use serde::Serialize;
use sim_core::mem::Memory;

use super::ast::LitmusTest;
use super::state::{FinalState, Observation, Verdict};
use super::translate::LitmusProgram;

/// What one execution leaves behind: every thread's registers and the memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalMachineState {
    /// Final general registers of each thread (core), indexed by `Gpr::index`.
    pub regs: Vec<[u64; 16]>,
    /// Final memory.
    pub memory: Memory,
}

/// Something that can run a translated litmus test once: the out-of-order machine,
/// the sequentially consistent reference executor, ...
pub trait LitmusExecutor: Sync {
    /// Run `program` once; `seed` picks the timing (or interleaving), so equal seeds
    /// must give equal results. An `Err` describes a run that did not finish.
    fn execute(&self, program: &LitmusProgram, seed: u64) -> Result<FinalMachineState, String>;
}

/// One distinct final state and how often it occurred.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The state over all observed locations.
    pub state: FinalState,
    /// Number of runs that ended in it.
    pub count: usize,
    /// Whether it satisfies the condition's proposition P.
    pub satisfies_condition: bool,
}

/// A run that failed, with the seed that reproduces it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunError {
    /// The run's seed.
    pub seed: u64,
    /// The executor's message.
    pub message: String,
}

/// The result of running one test many times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LitmusReport {
    /// The test's name.
    pub test: String,
    /// Number of runs attempted.
    pub runs: usize,
    /// Run `i` used seed `seed + i`.
    pub seed: u64,
    /// Distinct final states, in state order.
    pub outcomes: Vec<Outcome>,
    /// Whether some run ended in a state satisfying P.
    pub condition_observed: bool,
    /// The final condition, as herd7 prints it.
    pub condition: String,
    /// Whether the quantified condition holds over the observed states.
    pub condition_holds: bool,
    /// herd7's observation of P under x86-TSO; `None` without a verdict.
    pub herd_observation: Option<Observation>,
    /// Observed states x86-TSO forbids (herd7 never reaches them); `None` without a verdict.
    pub forbidden_states: Option<Vec<FinalState>>,
    /// States x86-TSO allows that no run reached; `None` without a verdict.
    pub missing_allowed: Option<Vec<FinalState>>,
    /// Runs that did not finish.
    pub errors: Vec<RunError>,
}

/// Run `test` `runs` times on `executor` (in parallel; run `i` with seed `seed + i`) and
/// compare the final states with herd7's `verdict`, if given.
pub fn run_test<E: LitmusExecutor + ?Sized>(
    test: &LitmusTest,
    runs: usize,
    seed: u64,
    executor: &E,
    verdict: Option<&Verdict>,
) -> LitmusReport {
    let program = LitmusProgram::new(test);
    let results: Vec<(u64, Result<FinalMachineState, String>)> = (0..runs as u64)
        .into_par_iter()
        .map(|i| {
            let s = seed.wrapping_add(i);
            (s, executor.execute(&program, s))
        })
        .collect();
    let mut histogram: BTreeMap<FinalState, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for (seed, result) in results {
        match result {
            Ok(end) => {
                *histogram
                    .entry(program.final_state(&end.regs, &end.memory))
                    .or_default() += 1
            }
            Err(message) => errors.push(RunError { seed, message }),
        }
    }
    let satisfies = |s: &FinalState| test.condition.prop.eval(test.arch, s).unwrap_or(false);
    let outcomes: Vec<Outcome> = histogram
        .into_iter()
        .map(|(state, count)| Outcome {
            satisfies_condition: satisfies(&state),
            state,
            count,
        })
        .collect();
    let condition_holds = test
        .condition
        .holds(test.arch, outcomes.iter().map(|o| &o.state))
        .unwrap_or(false);
    let (forbidden_states, missing_allowed) = match verdict {
        Some(v) => {
            let forbidden = outcomes
                .iter()
                .filter(|o| !v.allows(&o.state))
                .map(|o| o.state.clone())
                .collect();
            let keys = v.state_keys();
            let seen: BTreeSet<FinalState> = outcomes
                .iter()
                .map(|o| o.state.project(keys.iter().copied()))
                .collect();
            let missing = v
                .allowed_states_full
                .iter()
                .filter(|s| !seen.contains(*s))
                .cloned()
                .collect();
            (Some(forbidden), Some(missing))
        }
        None => (None, None),
    };
    LitmusReport {
        test: test.name.clone(),
        runs,
        seed,
        condition_observed: outcomes.iter().any(|o| o.satisfies_condition),
        condition: test.condition.to_herd_string(test.arch),
        condition_holds,
        herd_observation: verdict.map(|v| v.herd_observation),
        outcomes,
        forbidden_states,
        missing_allowed,
        errors,
    }
}

impl LitmusReport {
    /// Whether every run finished and none ended in a state x86-TSO forbids (always
    /// `true` for the latter without a verdict).
    pub fn tso_consistent(&self) -> bool {
        self.errors.is_empty() && self.forbidden_states.as_ref().is_none_or(Vec::is_empty)
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // A report holds only strings, integers, booleans, sequences and string-keyed
        // maps, which always serialise.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl fmt::Display for LitmusReport {
    /// A herd7-like summary: one line per final state (`*` marks states satisfying
    /// P), then the condition and the x86-TSO check.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let states = self.outcomes.len();
        writeln!(
            f,
            "Test {}: {} runs from seed {}, {states} final states",
            self.test, self.runs, self.seed
        )?;
        for o in &self.outcomes {
            writeln!(
                f,
                "{:>9}{} {}",
                o.count,
                if o.satisfies_condition { '*' } else { ':' },
                o.state
            )?;
        }
        let observed = self
            .outcomes
            .iter()
            .filter(|o| o.satisfies_condition)
            .map(|o| o.count)
            .sum::<usize>();
        writeln!(
            f,
            "Condition {}: P observed in {observed} of {} runs; condition {}{}",
            self.condition,
            self.runs,
            if self.condition_holds {
                "holds"
            } else {
                "does not hold"
            },
            match self.herd_observation {
                Some(o) => format!(" (herd7 under x86-TSO: P {o:?})"),
                None => String::new(),
            }
        )?;
        if let (Some(forbidden), Some(missing)) = (&self.forbidden_states, &self.missing_allowed) {
            writeln!(
                f,
                "x86-TSO: {} forbidden states observed, {} allowed states not seen",
                forbidden.len(),
                missing.len()
            )?;
            for s in forbidden {
                writeln!(f, "  FORBIDDEN {s}")?;
            }
            for s in missing {
                writeln!(f, "  not seen  {s}")?;
            }
        }
        for e in &self.errors {
            writeln!(f, "  run with seed {} failed: {}", e.seed, e.message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litmus::{HerdVerdict, Observation, parse};

    const SB: &str = "X86 SB
{ }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
 MOV EAX,[y] | MOV EAX,[x] ;
exists (0:EAX=0 /\\ 1:EAX=0)";

    /// Pretends both stores happened; odd seeds let both loads miss them, seed 7 fails.
    struct Fake;

    impl LitmusExecutor for Fake {
        fn execute(&self, p: &LitmusProgram, seed: u64) -> Result<FinalMachineState, String> {
            if seed == 7 {
                return Err("watchdog".to_string());
            }
            let mut memory = p.image()?;
            for addr in p.locations.values() {
                memory.write(*addr, isa::reg::Width::B4, 1);
            }
            let mut regs = vec![[0; 16]; 2];
            regs[0][0] = (seed + 1) % 2;
            regs[1][0] = 1;
            Ok(FinalMachineState { regs, memory })
        }
    }

    fn state(eax0: i64, eax1: i64) -> FinalState {
        let keys = ["0:EAX", "1:EAX", "[x]", "[y]"];
        FinalState(
            keys.iter()
                .map(|k| k.to_string())
                .zip([eax0, eax1, 1, 1])
                .collect(),
        )
    }

    #[test]
    fn histogram_condition_and_herd_comparison() {
        let test = parse("sb.litmus", SB).unwrap_or_else(|e| panic!("{e}"));
        let verdict = Verdict {
            file: "sb.litmus".into(),
            name: "SB".into(),
            arch: test.arch,
            threads: 2,
            condition: String::new(),
            quantifier: test.condition.quantifier,
            herd_condition: String::new(),
            herd_verdict: HerdVerdict::Allow,
            herd_observation: Observation::Sometimes,
            herd_condition_validated: true,
            allowed_states: Vec::new(),
            full_locations: ["0:EAX", "1:EAX", "[x]", "[y]"].map(String::from).to_vec(),
            allowed_states_full: vec![state(0, 1), state(1, 0), state(1, 1)],
        };
        let report = run_test(&test, 10, 0, &Fake, Some(&verdict));
        assert_eq!(
            report.errors,
            [RunError {
                seed: 7,
                message: "watchdog".into()
            }]
        );
        let counts: Vec<(FinalState, usize)> = report
            .outcomes
            .iter()
            .map(|o| (o.state.clone(), o.count))
            .collect();
        assert_eq!(counts, [(state(0, 1), 4), (state(1, 1), 5)]);
        assert!(!report.condition_observed && !report.condition_holds);
        assert_eq!(report.forbidden_states, Some(Vec::new()));
        assert_eq!(report.missing_allowed, Some(vec![state(1, 0)]));
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap_or_default();
        assert_eq!(json["outcomes"][0]["state"]["0:EAX"], 0);
        assert_eq!(json["outcomes"][1]["count"], 5);
        assert_eq!(json["condition"], "exists (0:EAX=0 /\\ 1:EAX=0)");
        let text = report.to_string();
        assert!(
            text.contains("        5: 0:EAX=1; 1:EAX=1; [x]=1; [y]=1;\n"),
            "{text}"
        );
        let condition = "P observed in 0 of 10 runs; condition does not hold (herd7 under x86-TSO: P Sometimes)";
        assert!(text.contains(condition), "{text}");
    }
}
