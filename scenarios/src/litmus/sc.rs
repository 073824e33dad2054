//! A sequentially consistent executor: the threads' instructions interleaved one at
//! a time, in a seeded random order, over one shared memory, each thread run by the
//! reference interpreter.
//!
//! Every SC execution is an x86-TSO execution, so each final state it produces must
//! be in herd7's allowed set. That checks the parser, the translation, the assembler,
//! the interpreter and the final-state extraction end to end, independently of the
//! out-of-order machine. It never shows TSO's relaxed outcomes (store buffering).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim_core::mem::Memory;
use sim_core::reference::{Interpreter, Step};

use super::runner::{FinalMachineState, LitmusExecutor};
use super::translate::LitmusProgram;

/// Runs a litmus program under sequential consistency (see the module docs).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ScExecutor {
    /// Give up (with an error) after this many instructions in total.
    pub max_steps: u64,
}

impl Default for ScExecutor {
    fn default() -> ScExecutor {
        ScExecutor { max_steps: 100_000 }
    }
}

impl LitmusExecutor for ScExecutor {
    fn execute(&self, program: &LitmusProgram, seed: u64) -> Result<FinalMachineState, String> {
        let mut memory = program.image()?;
        let mut cores: Vec<Interpreter> = program
            .threads
            .iter()
            .map(|t| {
                let mut core = Interpreter::new(Memory::new(), t.entry);
                core.regs = t.init_regs;
                core
            })
            .collect();
        let mut running: Vec<usize> = (0..cores.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut steps = 0;
        while !running.is_empty() {
            if steps == self.max_steps {
                return Err(format!(
                    "threads {running:?} did not reach `hlt` within {steps} instructions"
                ));
            }
            steps += 1;
            let pick = rng.random_range(0..running.len());
            let core = &mut cores[running[pick]];
            // The memory is shared: lend it to the core for one instruction.
            std::mem::swap(&mut core.mem, &mut memory);
            let step = core.step();
            std::mem::swap(&mut core.mem, &mut memory);
            if step.map_err(|f| format!("P{}: {f}", running[pick]))? == Step::Halted {
                running.swap_remove(pick);
            }
        }
        Ok(FinalMachineState {
            regs: cores.iter().map(|c| c.regs).collect(),
            memory,
        })
    }
}
