//! Final states and herd7's verdicts (`verdicts.json`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ast::{Arch, LitmusTest, Location, Quantifier};

/// The final value of each observed location, keyed exactly as herd7 and
/// `verdicts.json` spell locations: `"0:EAX"`, `"1:rax"`, `"[x]"`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FinalState(pub BTreeMap<String, i64>);

impl FinalState {
    /// The value at `key`, if observed.
    pub fn get(&self, key: &str) -> Option<i64> {
        self.0.get(key).copied()
    }

    /// The sub-state over `keys` (keys this state lacks are left out).
    pub fn project<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> FinalState {
        FinalState(
            keys.into_iter()
                .filter_map(|k| Some((k.to_string(), self.get(k)?)))
                .collect(),
        )
    }
}

impl fmt::Display for FinalState {
    /// herd7's style: `0:EAX=1; [x]=2;`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            write!(f, "{}{k}={v};", if i == 0 { "" } else { " " })?;
        }
        Ok(())
    }
}

impl LitmusTest {
    /// The locations whose final values a run reports, as herd7 picks them for its full
    /// states: every register the code names explicitly, every memory location, and
    /// everything named by the condition or a `locations` clause. Sorted by
    /// [`Location::key`], like a [`FinalState`]; no repeats.
    pub fn observed_locations(&self) -> Vec<Location> {
        let code_regs = self.threads.iter().enumerate().flat_map(|(thread, code)| {
            code.iter()
                .flat_map(|i| i.registers())
                .map(move |reg| Location::Reg { thread, reg })
        });
        let memory = self.memory().into_keys().map(Location::Mem);
        let named = self
            .locations
            .iter()
            .chain(self.condition.prop.locations())
            .cloned();
        let all: BTreeSet<Location> = code_regs.chain(memory).chain(named).collect();
        let mut sorted: Vec<Location> = all.into_iter().collect();
        sorted.sort_by_cached_key(|l| l.key(self.arch));
        sorted
    }
}

/// herd7's verdict for P: whether some x86-TSO execution satisfies it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HerdVerdict {
    /// Some execution satisfies P.
    Allow,
    /// No execution satisfies P.
    Forbid,
}

/// herd7's `Observation` for P, over all x86-TSO executions.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observation {
    /// No final state satisfies P.
    Never,
    /// Some, not all, do.
    Sometimes,
    /// All do.
    Always,
}

/// One entry of `verdicts.json` (the fields this crate uses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Path of the test relative to the data directory.
    pub file: String,
    /// The test's header name.
    pub name: String,
    /// Its dialect.
    pub arch: Arch,
    /// Its thread count.
    pub threads: usize,
    /// The final clause with whitespace collapsed.
    pub condition: String,
    /// The condition's quantifier.
    pub quantifier: Quantifier,
    /// herd7's normalised print of the condition.
    pub herd_condition: String,
    /// Whether some execution satisfies P.
    pub herd_verdict: HerdVerdict,
    /// Whether no, some or all executions satisfy P.
    pub herd_observation: Observation,
    /// Whether the quantified condition holds under x86-TSO.
    pub herd_condition_validated: bool,
    /// Every reachable final state projected onto the condition's locations.
    pub allowed_states: Vec<FinalState>,
    /// The locations of herd's full states (the code's registers and all memory).
    pub full_locations: Vec<String>,
    /// Every reachable final state over all observed locations.
    pub allowed_states_full: Vec<FinalState>,
}

impl Verdict {
    /// The keys of herd's full states: `full_locations` plus whatever the condition
    /// adds (e.g. the implicit `rax` of `cmpxchg`). Compare states over these.
    pub fn state_keys(&self) -> BTreeSet<&str> {
        let in_states = self.allowed_states_full.iter().flat_map(|s| s.0.keys());
        self.full_locations
            .iter()
            .chain(in_states)
            .map(String::as_str)
            .collect()
    }

    /// Whether x86-TSO allows `state` (projected onto [`Verdict::state_keys`]).
    pub fn allows(&self, state: &FinalState) -> bool {
        self.allowed_states_full
            .contains(&state.project(self.state_keys()))
    }
}

/// Load `verdicts.json`: test key (the file path without `.litmus`) to verdict.
pub fn load_verdicts(path: &Path) -> Result<BTreeMap<String, Verdict>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
