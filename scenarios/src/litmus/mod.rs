//! herd7 x86 litmus tests: the external oracle for the memory model.
//!
//! - [`parse`] reads a test in either herd7 x86 dialect (`X86`, Intel syntax;
//!   `X86_64`, AT&T syntax) into a [`LitmusTest`].
//! - [`FinalState`] is a run's result keyed as herd7 names locations (`0:EAX`,
//!   `1:rax`, `[x]`); [`Verdict`] is herd7's answer from `verdicts.json`, which says
//!   which final states x86-TSO allows.
//! - [`LitmusProgram`] is a test translated for the simulator: Intel-syntax
//!   assembly per thread, data at fixed addresses, and the locations to read back.
//! - [`run_test`] runs a test many times on any [`LitmusExecutor`] and compares
//!   the histogram of final states with herd7's allowed states; [`Corpus`] loads
//!   the shared herd7 corpus and runs all of it.
//! - [`ScExecutor`] runs tests under sequential consistency on the reference
//!   interpreter: an end-to-end check of all of the above against herd7.
//! - [`MachineExecutor`] runs them on the out-of-order multicore machine, the model
//!   whose memory ordering herd7 judges.
//!
//! ```
//! use scenarios::litmus::{ScExecutor, parse, run_test};
//!
//! let test = parse("SB.litmus", r"X86 SB
//! { x=0; y=0; }
//!  P0          | P1          ;
//!  MOV [x],$1  | MOV [y],$1  ;
//!  MOV EAX,[y] | MOV EAX,[x] ;
//! exists (0:EAX=0 /\ 1:EAX=0)").unwrap();
//! let report = run_test(&test, 20, 0, &ScExecutor::default(), None);
//! // Sequential consistency never shows store buffering's 0/0 outcome.
//! assert!(!report.condition_observed);
//! assert_eq!(report.outcomes.iter().map(|o| o.count).sum::<usize>(), 20);
//! println!("{report}\n{}", report.to_json());
//! ```

mod ast;
mod corpus;
mod error;
mod instr;
mod machine;
mod parse;
mod prop;
mod runner;
mod sc;
mod state;
mod translate;

pub use ast::{
    Arch, Condition, Init, Instr, LitmusTest, Location, MemInit, MemType, Operand, Quantifier,
    RmwOp,
};
pub use corpus::{Corpus, CorpusEntry, CorpusRun, find_verdict};
pub use error::LitmusError;
pub(crate) use error::Source as LitmusSource;
pub(crate) use error::floor_char_boundary;
pub(crate) use instr::gpr_by_name;
pub use machine::MachineExecutor;
pub use parse::parse;
pub use prop::Prop;
pub(crate) use prop::{parse_int, parse_prop_with};
pub use runner::{FinalMachineState, LitmusExecutor, LitmusReport, Outcome, RunError, run_test};
pub use sc::ScExecutor;
pub use state::{FinalState, HerdVerdict, Observation, Verdict, load_verdicts};
pub use translate::{
    CODE_BASE, CODE_STRIDE, DATA_BASE, DATA_STRIDE, LitmusProgram, Observable, ObservableSource,
    ThreadProgram,
};

/// Read and parse the litmus file at `path` (errors name the file as given).
pub fn parse_file(path: &std::path::Path) -> Result<LitmusTest, LitmusError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LitmusError {
        file: file.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read file: {e}"),
        text: String::new(),
        hint: "check the path".to_string(),
    })?;
    parse(&file, &text)
}
