//! From a loaded configuration to a [`MachineConfig`] and a ready-to-run [`Machine`].

use sim_core::machine::{IfetchCoherence, Machine, MachineConfig};
use sim_core::system::SystemConfig;

use super::error::ScenarioError;
use super::knobs::{self, CORE_KNOBS, MEM_KNOBS};
use super::load::{Configuration, LoadedScenario};
use super::resolve::BareMetal;
use super::ron_tree::Step;
use super::schema::{IfetchSpec, MachineSpec};

/// The machine `spec` describes, with `cores` cores; `Err(name)` if a `core`/`mem`
/// value does not fit its field on this host.
pub(crate) fn machine_config(spec: &MachineSpec, cores: usize) -> Result<MachineConfig, String> {
    let defaults = MachineConfig::default();
    let mut config = MachineConfig {
        cores,
        seed: spec.seed.unwrap_or(defaults.seed),
        timing_jitter: spec.jitter.unwrap_or(defaults.timing_jitter),
        watchdog_cycles: spec.watchdog_cycles.unwrap_or(defaults.watchdog_cycles),
        max_cycles: spec.max_cycles.unwrap_or(defaults.max_cycles),
        system: SystemConfig {
            iret_serializing: spec
                .iret_serializing
                .unwrap_or(defaults.system.iret_serializing),
            pti: spec.pti.unwrap_or(defaults.system.pti),
        },
        ipi_latency: spec.ipi_latency.unwrap_or(defaults.ipi_latency),
        interrupt_delivery_serializing: spec
            .interrupt_delivery_serializing
            .unwrap_or(defaults.interrupt_delivery_serializing),
        ..defaults
    };
    if let Some(ifetch) = spec.ifetch_coherence {
        config.mem.ifetch_coherence = match ifetch {
            IfetchSpec::Lazy => IfetchCoherence::Lazy,
            IfetchSpec::Snoop => IfetchCoherence::Snoop,
            IfetchSpec::Delayed { cycles } => IfetchCoherence::Delayed { cycles },
        };
    }
    for (name, value) in &spec.core {
        let knob = knobs::find(CORE_KNOBS, name).ok_or_else(|| name.clone())?;
        (knob.set)(&mut config.core, *value).map_err(|_| name.clone())?;
    }
    for (name, value) in &spec.mem {
        let knob = knobs::find(MEM_KNOBS, name).ok_or_else(|| name.clone())?;
        (knob.set)(&mut config.mem, *value).map_err(|_| name.clone())?;
    }
    Ok(config)
}

impl LoadedScenario {
    /// The machine configuration of `variant` (`None`: the base), with `seed`
    /// replacing the scenario's `machine.seed` when given.
    pub fn machine_config(
        &self,
        variant: Option<&str>,
        seed: Option<u64>,
    ) -> Result<MachineConfig, ScenarioError> {
        let configuration = self.configuration(variant)?;
        Ok(seeded(configuration, seed))
    }

    /// A machine ready to run `variant` (`None`: the base) with `seed` (default:
    /// the scenario's `machine.seed`, else 0). Bare-metal scenarios are built
    /// here; kernel scenarios by the kernel builder.
    pub fn build(
        &self,
        variant: Option<&str>,
        seed: Option<u64>,
    ) -> Result<Machine, ScenarioError> {
        let configuration = self.configuration(variant)?;
        let config = seeded(configuration, seed);
        match &configuration.bare_metal {
            Some(bare_metal) => Ok(bare_metal_machine(configuration, config, bare_metal)),
            None => self.kernel_machine(configuration, config),
        }
    }

    /// Kernel scenarios are built by the kernel builder (`scenarios::kernel`),
    /// which boots the bundled kernel with the configuration's tasks and options.
    fn kernel_machine(
        &self,
        _configuration: &Configuration,
        _config: MachineConfig,
    ) -> Result<Machine, ScenarioError> {
        Err(self.doc.error(
            &[Step::Field("kernel")],
            "kernel scenarios need the kernel builder, which is not part of this build yet",
            Some("remove `kernel` and start the cores with `cores` and `system`".to_string()),
        ))
    }
}

fn seeded(configuration: &Configuration, seed: Option<u64>) -> MachineConfig {
    MachineConfig {
        seed: seed.unwrap_or(configuration.config.seed),
        ..configuration.config.clone()
    }
}

/// The machine of a bare-metal configuration: its program in memory, each core
/// at its entry with its registers.
fn bare_metal_machine(
    configuration: &Configuration,
    config: MachineConfig,
    bare_metal: &BareMetal,
) -> Machine {
    let memory = crate::program::memory_image(&configuration.program);
    let cores = bare_metal.cores.iter().map(|c| c.init.clone()).collect();
    Machine::new(config, memory, cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_machine_field_is_mapped() {
        let spec = MachineSpec {
            cores: Some(9),
            seed: Some(7),
            jitter: Some(30),
            ifetch_coherence: Some(IfetchSpec::Delayed { cycles: 12 }),
            iret_serializing: Some(false),
            pti: Some(true),
            ipi_latency: Some(99),
            interrupt_delivery_serializing: Some(true),
            max_cycles: Some(1234),
            watchdog_cycles: Some(555),
            core: [("rob_size".to_string(), 32)].into(),
            mem: [("remote_latency".to_string(), 80)].into(),
        };
        let c = machine_config(&spec, 3).unwrap();
        assert_eq!((c.cores, c.seed, c.timing_jitter), (3, 7, 30));
        assert_eq!(
            c.mem.ifetch_coherence,
            IfetchCoherence::Delayed { cycles: 12 }
        );
        assert_eq!(
            c.system,
            SystemConfig {
                iret_serializing: false,
                pti: true
            }
        );
        assert_eq!(
            (c.ipi_latency, c.interrupt_delivery_serializing),
            (99, true)
        );
        assert_eq!((c.max_cycles, c.watchdog_cycles), (1234, 555));
        assert_eq!((c.core.rob_size, c.mem.remote_latency), (32, 80));
        let defaults = machine_config(&MachineSpec::default(), 1).unwrap();
        assert_eq!(defaults, MachineConfig::default());
    }
}
