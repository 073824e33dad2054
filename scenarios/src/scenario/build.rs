//! From a loaded configuration to a [`MachineConfig`] and a ready-to-run [`Machine`].

use isa::flags::Flags;
use sim_core::machine::{IfetchCoherence, Machine, MachineConfig};
use sim_core::mem::Memory;
use sim_core::system::msr::{IA32_FMASK, IA32_LSTAR, IA32_STAR};
use sim_core::system::{KERNEL_CS, SystemConfig};

use super::error::ScenarioError;
use super::knobs::{self, CORE_KNOBS, MEM_KNOBS};
use super::load::{Configuration, LoadedScenario};
use super::resolve::BareMetal;
use super::schema::{IfetchSpec, MachineSpec};

/// The machine `spec` (checked: its `core`/`mem` names exist) describes, with
/// `cores` cores.
pub(crate) fn machine_config(spec: &MachineSpec, cores: usize) -> MachineConfig {
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
        if let Some(knob) = knobs::find(CORE_KNOBS, name) {
            (knob.set)(&mut config.core, *value);
        }
    }
    for (name, value) in &spec.mem {
        if let Some(knob) = knobs::find(MEM_KNOBS, name) {
            (knob.set)(&mut config.mem, *value);
        }
    }
    config
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
    /// the scenario's `machine.seed`, else 0): bare-metal cores started as the
    /// scenario says, or the bundled kernel booted on every CPU. Only an unknown
    /// variant name is an error: everything else was checked at load.
    pub fn build(
        &self,
        variant: Option<&str>,
        seed: Option<u64>,
    ) -> Result<Machine, ScenarioError> {
        let configuration = self.configuration(variant)?;
        let config = seeded(configuration, seed);
        let memory = crate::program::memory_image(&configuration.program);
        let mut machine = match (&configuration.bare_metal, &configuration.kernel_cpus) {
            (Some(bare_metal), _) => bare_metal_machine(config, memory, bare_metal),
            (None, Some(cpus)) => crate::kernel::machine(cpus, config, memory),
            (None, None) => {
                return Err(ScenarioError::unlocated(
                    &self.doc.file.name,
                    "this configuration has neither bare-metal cores nor the kernel",
                    Some("a bug in the scenario loader: please report it".to_string()),
                ));
            }
        };
        arm(&mut machine, configuration);
        Ok(machine)
    }
}

fn seeded(configuration: &Configuration, seed: Option<u64>) -> MachineConfig {
    MachineConfig {
        seed: seed.unwrap_or(configuration.config.seed),
        ..configuration.config.clone()
    }
}

/// IA32_STAR as Linux sets it: SYSCALL loads CS `KERNEL_CS` (SS + 8), SYSRETQ
/// loads CS `0x23 + 16` and SS `0x23 + 8`, i.e. `USER_CS` and `USER_SS`.
const LINUX_STAR: u64 = (0x23 << 48) | ((KERNEL_CS as u64) << 32);

/// IA32_FMASK as Linux sets it (`syscall_init`): SYSCALL clears TF, DF, IF, IOPL,
/// AC and NT.
const LINUX_SYSCALL_MASK: u64 = 0x4_7700;

/// The machine of a bare-metal configuration: its program in `memory`, each core
/// at its entry with its registers and system state.
fn bare_metal_machine(config: MachineConfig, memory: Memory, bare_metal: &BareMetal) -> Machine {
    let cores = bare_metal.cores.iter().map(|c| c.init.clone()).collect();
    let mut machine = Machine::new(config, memory, cores);
    for (core, setup) in bare_metal.cores.iter().enumerate() {
        let system = machine.system_mut(core);
        for (vector, gate) in &bare_metal.gates {
            system.set_idt_gate(*vector, Some(*gate));
        }
        if let Some(entry) = bare_metal.syscall_entry {
            system.set_msr(IA32_LSTAR, entry);
            system.set_msr(IA32_STAR, LINUX_STAR);
            system.set_msr(IA32_FMASK, LINUX_SYSCALL_MASK);
        }
        if let Some(rsp0) = setup.kernel_stack {
            system.set_kernel_stack(rsp0);
        }
        if let Some(cr3) = setup.cr3 {
            system.set_cr3(cr3);
        }
        if setup.user {
            system.enter_user_mode();
        }
        if setup.interrupts {
            let flags = machine.flags(core) | Flags::IF;
            machine.set_flags(core, flags);
        }
    }
    machine
}

/// Schedule the configuration's events and declare its contracts.
fn arm(machine: &mut Machine, configuration: &Configuration) {
    for event in &configuration.events {
        machine.schedule_interrupt(event.at, event.cpu, event.vector);
    }
    for contract in &configuration.contracts {
        machine.add_contract(contract.clone());
    }
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
        let c = machine_config(&spec, 3);
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
        let defaults = machine_config(&MachineSpec::default(), 1);
        assert_eq!(defaults, MachineConfig::default());
    }

    #[test]
    fn linux_star_gives_the_user_and_kernel_selectors() {
        use sim_core::system::{USER_CS, USER_SS};
        let sysret_base = (LINUX_STAR >> 48) as u16;
        assert_eq!((sysret_base + 16, sysret_base + 8), (USER_CS, USER_SS));
        assert_eq!((LINUX_STAR >> 32) as u16, KERNEL_CS);
    }
}
