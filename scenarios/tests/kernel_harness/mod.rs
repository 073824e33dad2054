//! What the kernel tests on the out-of-order machine share: building the
//! kernel for some tasks and runqueues, running it, reading the results.

use isa::asm::Program;
use isa::reg::Width;
use scenarios::kernel::{KernelImage, build, machine};
use scenarios::scenario::schema::{CpuSpec, KernelOptions, TaskKind, TaskSpec};
use sim_core::machine::{Machine, MachineConfig, RunOutcome, StopReason};
use sim_core::mem::Memory;

/// Cycles an IPI takes to arrive: long enough that a caller that did not wait
/// for the acknowledgement would return before the IPI is even taken.
pub const IPI_LATENCY: u64 = 300;

/// A task named after its entry label.
pub fn task(name: &str, kind: TaskKind) -> TaskSpec {
    TaskSpec {
        name: name.into(),
        kind,
        entry: name.into(),
    }
}

/// Runs `program` with the kernel, CPU `i` running `runqueues[i]`, until every
/// CPU is idle.
pub fn run(
    options: &KernelOptions,
    tasks: &[TaskSpec],
    runqueues: &[&[&str]],
    program: &str,
) -> (Machine, Program, RunOutcome) {
    let (machine, program, outcome) = run_armed(options, tasks, runqueues, program, |_, _, _| ());
    assert_eq!(
        outcome.stop,
        StopReason::AllHalted,
        "every CPU should end idle; IPIs: {:?}",
        machine.ipis()
    );
    (machine, program, outcome)
}

/// Like [`run`], with `arm` given the kernel image, the assembled program and
/// the machine before it runs (to schedule events), however the run stops.
pub fn run_armed(
    options: &KernelOptions,
    tasks: &[TaskSpec],
    runqueues: &[&[&str]],
    program: &str,
    arm: impl FnOnce(&KernelImage, &Program, &mut Machine),
) -> (Machine, Program, RunOutcome) {
    let cpus: Vec<CpuSpec> = runqueues
        .iter()
        .map(|run| CpuSpec {
            run: run.iter().map(|name| name.to_string()).collect(),
        })
        .collect();
    let image = build(options, tasks, &cpus).unwrap_or_else(|e| panic!("{e}"));
    let program = isa::asm::assemble(&image.source(program)).unwrap_or_else(|e| panic!("{e}"));
    let mut memory = Memory::new();
    for section in &program.sections {
        memory.load_bytes(section.base, &section.bytes);
    }
    let setups = image.boot(&program).unwrap_or_else(|e| panic!("{e}"));
    let config = MachineConfig {
        ipi_latency: IPI_LATENCY,
        max_cycles: 1_000_000,
        ..MachineConfig::default()
    };
    let mut machine = machine(&setups, config, memory);
    arm(&image, &program, &mut machine);
    let outcome = machine.run();
    (machine, program, outcome)
}

/// The quadword at `label`.
pub fn read(machine: &Machine, program: &Program, label: &str) -> u64 {
    let address = program
        .symbol(label)
        .unwrap_or_else(|| panic!("no {label}"));
    machine.memory().read(address, Width::B8)
}

/// The value of constant `name`, which must be a vector.
pub fn vector(program: &Program, name: &str) -> u8 {
    let value = program.symbol(name).unwrap();
    u8::try_from(value).unwrap_or_else(|_| panic!("{name} = {value} is not a vector"))
}

/// How often CPU `cpu` switched tasks (`rq->nr_switches`).
pub fn context_switches(machine: &Machine, program: &Program, cpu: usize) -> u64 {
    let field = program.symbol(&format!("percpu_{cpu}")).unwrap()
        + program.symbol("RQ_NR_SWITCHES").unwrap();
    machine.memory().read(field, Width::B8)
}
