//! Running litmus tests on the out-of-order multicore machine: the executor whose
//! outcomes must match x86-TSO exactly (every relaxed state herd7 allows reachable
//! for some timing, no state it forbids ever).

use sim_core::machine::{CoreInit, Machine, MachineConfig, StopReason};

use super::runner::{FinalMachineState, LitmusExecutor};
use super::translate::LitmusProgram;

/// Timing jitter used for litmus runs unless configured otherwise: large enough that
/// store-buffer drains and cache-line transfers overtake each other in both orders.
pub const LITMUS_JITTER: u32 = 400;

/// Runs each litmus thread on its own core of a [`Machine`]; the run's seed seeds the
/// machine's timing jitter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineExecutor {
    /// Template configuration; `cores` and `seed` are set per run.
    pub config: MachineConfig,
}

impl Default for MachineExecutor {
    fn default() -> MachineExecutor {
        MachineExecutor {
            config: MachineConfig {
                timing_jitter: LITMUS_JITTER,
                watchdog_cycles: 20_000,
                max_cycles: 2_000_000,
                ..MachineConfig::default()
            },
        }
    }
}

impl LitmusExecutor for MachineExecutor {
    fn execute(&self, program: &LitmusProgram, seed: u64) -> Result<FinalMachineState, String> {
        let memory = program.image()?;
        let cores: Vec<CoreInit> = program
            .threads
            .iter()
            .map(|t| CoreInit {
                rip: t.entry,
                regs: t.init_regs,
            })
            .collect();
        let config = MachineConfig {
            cores: cores.len(),
            seed,
            ..self.config.clone()
        };
        let mut machine = Machine::new(config, memory, cores);
        let outcome = machine.run();
        if outcome.stop != StopReason::AllHalted {
            return Err(format!(
                "{}: run stopped early: {:?}",
                program.name, outcome.stop
            ));
        }
        Ok(FinalMachineState {
            regs: (0..program.threads.len())
                .map(|c| machine.regs(c))
                .collect(),
            memory: machine.memory().clone(),
        })
    }
}
