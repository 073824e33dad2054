//! The out-of-order multicore machine as a litmus executor: the model under test.

use sim_core::machine::{CoreInit, Machine, MachineConfig, StopReason};

use super::runner::{FinalMachineState, LitmusExecutor};
use super::translate::LitmusProgram;

/// Runs each litmus thread on its own core of the out-of-order machine. The run's
/// seed seeds the machine's timing jitter, so different seeds explore different
/// interleavings and store-buffer drain timings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineExecutor {
    /// The machine to use; `cores` and `seed` are set per run.
    pub config: MachineConfig,
}

impl Default for MachineExecutor {
    /// The default machine with strong timing jitter (400 %, varied per seed by
    /// `jitter_for_seed`: latencies and store-buffer drains stretched, core starts
    /// skewed).
    fn default() -> MachineExecutor {
        MachineExecutor {
            config: MachineConfig {
                timing_jitter: 400,
                max_cycles: 10_000_000,
                ..MachineConfig::default()
            },
        }
    }
}

/// The jitter of run `seed`: the configured one scaled by 1/4, 1 or 4 in turn.
/// One fixed jitter explores one scale of timing differences; some allowed outcomes
/// (R, WRW+WR, the Z6 family) need one core's store to stay buffered across several
/// of another core's fenced stores, which only the larger scales reach, while the
/// smaller scales reach the outcomes that need tight races.
fn jitter_for_seed(jitter: u32, seed: u64) -> u32 {
    match seed % 3 {
        0 => jitter / 4,
        1 => jitter,
        _ => jitter.saturating_mul(4),
    }
}

impl LitmusExecutor for MachineExecutor {
    fn execute(&self, program: &LitmusProgram, seed: u64) -> Result<FinalMachineState, String> {
        let cores = program.threads.len();
        let config = MachineConfig {
            cores,
            seed,
            timing_jitter: jitter_for_seed(self.config.timing_jitter, seed),
            ..self.config.clone()
        };
        let starts = program
            .threads
            .iter()
            .map(|t| CoreInit {
                rip: t.entry,
                regs: t.init_regs,
            })
            .collect();
        let mut machine = Machine::new(config, program.image()?, starts);
        let outcome = machine.run();
        match outcome.stop {
            StopReason::AllHalted => Ok(FinalMachineState {
                regs: (0..cores).map(|c| machine.regs(c)).collect(),
                memory: machine.memory().clone(),
            }),
            stop => Err(format!(
                "machine stopped after {} cycles: {stop:?}",
                outcome.cycles
            )),
        }
    }
}
