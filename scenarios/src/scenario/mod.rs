//! Scenarios: RON files describing a machine, the kernel and user code it runs,
//! timed events, and what must or must not happen over many seeded runs.
//!
//! [`load`] reads a scenario file, checks it and assembles its program for every
//! configuration (the base, or each variant); every problem is a
//! [`ScenarioError`] at `file:line:col` with a hint, renderable by `miette`.
//! [`LoadedScenario::build`] then gives a machine ready to run, and a
//! [`FinalStateCondition`] says whether a finished run ended in a given state.
//! [`run_once`] runs a configuration once into a [`RunReport`]; [`explore`] runs
//! it over many seeds in parallel into an [`Exploration`] (a histogram of
//! outcomes with their smallest witnesses); [`check`] judges the configuration's
//! expectations against it. `docs/scenario-format.md` describes the format.
//!
//! ```
//! use scenarios::scenario::load_str;
//!
//! let scenario = load_str(r#"(
//!     program: [Asm(r"
//!         core0: mov qword ptr [flag], 1
//!                hlt
//!         .data
//!         flag:  .quad 0
//!     ")],
//!     expect: (final_state: [(condition: r"[flag]=1", verdict: Always)]),
//! )"#, "doc.ron".as_ref()).unwrap();
//! let configuration = scenario.configuration(None).unwrap();
//! let mut machine = scenario.build(None, Some(1)).unwrap();
//! machine.run();
//! let (condition, _verdict) = &configuration.final_state[0];
//! assert!(condition.holds(&machine));
//! ```

mod assembly;
mod build;
mod condition;
pub(crate) mod document;
pub(crate) mod error;
mod expect;
mod explore;
mod kernel_asm;
pub(crate) mod knobs;
mod load;
mod overrides;
pub(crate) mod parse;
mod resolve;
pub(crate) mod ron_tree;
mod run;
pub mod schema;
mod validate;
mod variant;

pub use condition::FinalStateCondition;
pub use error::{ScenarioError, SourceFile};
pub use expect::{Check, Expectation, Status, check, check_run, check_runs};
pub use explore::{Exploration, OutcomeCount, RunSummary, Witness, explore, shortest};
pub use load::{Configuration, LoadedScenario, load, load_str, load_str_with, read};
pub use overrides::{BASE_VARIANT, Overrides, resize_cpus};
pub use resolve::{BareMetal, CoreSetup, DEFAULT_KERNEL_STACK_STRIDE, Event};
pub use run::{
    ConditionResult, NamedViolation, Outcome, RunReport, StopKind, describe_stop, run_once,
    run_once_observed,
};
