//! Checks that need no assembled program: names that must be unique or must exist,
//! settings that only make sense together. Each error points at the value at fault.

use std::collections::BTreeMap;

use isa::reg::Gpr;

use super::document::Document;
use super::error::{ScenarioError, did_you_mean};
use super::knobs::{self, CORE_KNOBS, KNOB_MAX, Knob, MEM_KNOBS};
use super::ron_tree::Step;
use super::schema::{Expectations, MachineSpec, Scenario};
use crate::kernel::KernelError;

/// The most cores a scenario may ask for.
pub const MAX_CORES: usize = 64;

/// Vectors below this are exceptions; interrupts and IPIs use the rest.
pub(crate) const FIRST_EXTERNAL_VECTOR: u8 = 32;

/// Run every program-independent check on `scenario`.
pub(crate) fn check(doc: &Document, scenario: &Scenario) -> Result<(), ScenarioError> {
    check_kernel_only_fields(doc, scenario)?;
    check_tasks(doc, scenario)?;
    check_machine(doc, &scenario.machine, &[Step::Field("machine")])?;
    for (i, variant) in scenario.variants.iter().enumerate() {
        let path = [
            Step::Field("variants"),
            Step::Index(i),
            Step::Field("machine"),
        ];
        check_machine(doc, &variant.machine, &path)?;
    }
    check_registers(doc, scenario)?;
    if !scenario.variants.is_empty() && scenario.expect != Expectations::default() {
        return Err(doc.error(
            &[Step::Field("expect")],
            "`expect` of the base is never used: this scenario has variants",
            Some("give each variant its own `expect`".to_string()),
        ));
    }
    check_unique(
        doc,
        scenario.variants.iter().map(|v| format!("\"{}\"", v.name)),
        |i| vec![Step::Field("variants"), Step::Index(i), Step::Field("name")],
        "variant",
    )?;
    check_unique(
        doc,
        scenario
            .system
            .idt
            .iter()
            .map(|g| format!("{:#x}", g.vector)),
        |i| {
            vec![
                Step::Field("system"),
                Step::Field("idt"),
                Step::Index(i),
                Step::Field("vector"),
            ]
        },
        "IDT vector",
    )?;
    for (i, event) in scenario.events.iter().enumerate() {
        let super::schema::Action::Interrupt { vector, .. } = event.action else {
            continue;
        };
        if vector < FIRST_EXTERNAL_VECTOR {
            return Err(doc.error(
                &[
                    Step::Field("events"),
                    Step::Index(i),
                    Step::Field("action"),
                    Step::Field("vector"),
                ],
                format!("vector {vector} is reserved for exceptions"),
                Some(format!(
                    "interrupts and IPIs use vectors {FIRST_EXTERNAL_VECTOR} to 255"
                )),
            ));
        }
    }
    Ok(())
}

/// Tasks, CPUs and kernel option changes need `kernel`; bare-metal starts and
/// core counts other than one per CPU do not go with it.
fn check_kernel_only_fields(doc: &Document, scenario: &Scenario) -> Result<(), ScenarioError> {
    if scenario.kernel.is_some() {
        return check_kernel_machine(doc, scenario);
    }
    let hint =
        Some("add `kernel: ()` to run the bundled kernel, or start cores with `cores`".into());
    for (field, used) in [
        ("tasks", !scenario.tasks.is_empty()),
        ("cpus", !scenario.cpus.is_empty()),
    ] {
        if used {
            return Err(doc.error(
                &[Step::Field(field)],
                format!("`{field}` needs the kernel, and this scenario has no `kernel`"),
                hint,
            ));
        }
    }
    if let Some(i) = scenario.variants.iter().position(|v| !v.kernel.is_empty()) {
        return Err(doc.error(
            &[
                Step::Field("variants"),
                Step::Index(i),
                Step::Field("kernel"),
            ],
            "kernel options changed, but this scenario has no `kernel`",
            hint,
        ));
    }
    Ok(())
}

/// A kernel scenario starts each CPU in its first task: `cores` and `system`
/// would be ignored, and `machine.cores` (if written) must match `cpus`.
fn check_kernel_machine(doc: &Document, scenario: &Scenario) -> Result<(), ScenarioError> {
    let ignored = [
        ("cores", !scenario.cores.is_empty()),
        ("system", scenario.system != Default::default()),
    ];
    if let Some((field, _)) = ignored.iter().find(|(_, used)| *used) {
        return Err(doc.error(
            &[Step::Field(field)],
            format!("`{field}` is for bare-metal scenarios, and this one runs the kernel"),
            Some(
                "the kernel starts each CPU in the first task of its `cpus` entry and sets \
                 up its IDT, SYSCALL entry and stacks itself; remove this field"
                    .to_string(),
            ),
        ));
    }
    let cpus = scenario.cpus.len();
    let machines = std::iter::once((vec![Step::Field("machine")], &scenario.machine)).chain(
        scenario.variants.iter().enumerate().map(|(i, v)| {
            let path = vec![
                Step::Field("variants"),
                Step::Index(i),
                Step::Field("machine"),
            ];
            (path, &v.machine)
        }),
    );
    for (mut path, machine) in machines {
        if let Some(cores) = machine.cores.filter(|&n| n != cpus) {
            path.push(Step::Field("cores"));
            return Err(doc.error(
                &path,
                format!("{cores} cores, but the kernel runs {cpus} CPUs (`cpus`)"),
                Some(
                    "a kernel scenario has one core per entry of `cpus`; remove `cores`"
                        .to_string(),
                ),
            ));
        }
    }
    Ok(())
}

/// The kernel builder's error `e` for configuration `variant` (`None`: the
/// base), at the task, CPU or option it is about.
pub(crate) fn kernel_error(
    doc: &Document,
    scenario: &Scenario,
    variant: Option<usize>,
    e: &KernelError,
) -> ScenarioError {
    let task_path = |name: &str, field| {
        let i = scenario.tasks.iter().position(|t| t.name == name);
        vec![
            Step::Field("tasks"),
            Step::Index(i.unwrap_or(0)),
            Step::Field(field),
        ]
    };
    let on_cpu = |cpu: usize, name: Option<&str>| {
        let run = scenario.cpus.get(cpu).map_or(&[][..], |c| &c.run[..]);
        let j = name.and_then(|n| run.iter().position(|t| t == n));
        vec![
            Step::Field("cpus"),
            Step::Index(cpu),
            Step::Field("run"),
            Step::Index(j.unwrap_or(crate::kernel::MAX_RQ_TASKS)),
        ]
    };
    let path = match e {
        KernelError::NoCpus if doc.value_text(&[Step::Field("cpus")]).is_some() => {
            vec![Step::Field("cpus")]
        }
        KernelError::NoCpus | KernelError::MissingSymbol { .. } => vec![Step::Field("kernel")],
        KernelError::TooManyCpus { .. } => {
            vec![Step::Field("cpus"), Step::Index(crate::kernel::MAX_CPUS)]
        }
        KernelError::TooManyTasks { cpu, .. } => on_cpu(*cpu, None),
        KernelError::UnknownTask { cpu, task, .. } => on_cpu(*cpu, Some(task)),
        KernelError::TaskOnTwoCpus { task, cpus } => on_cpu(cpus.1, Some(task)),
        KernelError::DuplicateTask { task } => task_path(task, "name"),
        KernelError::TaskOnNoCpu { task } | KernelError::BadTaskName { task } => {
            task_path(task, "name")
        }
        KernelError::MmZero { task } => {
            let mut path = task_path(task, "kind");
            path.push(Step::Field("mm"));
            path
        }
        KernelError::TimerPeriod { .. } => match variant {
            Some(i) if scenario.variants[i].kernel.contains_key("timer_period") => vec![
                Step::Field("variants"),
                Step::Index(i),
                Step::Field("kernel"),
                Step::KeyValue("timer_period"),
            ],
            _ => vec![Step::Field("kernel"), Step::Field("timer_period")],
        },
    };
    doc.error(&path, e.to_string(), e.hint())
}

/// Task names are unique and every task a CPU runs exists.
fn check_tasks(doc: &Document, scenario: &Scenario) -> Result<(), ScenarioError> {
    check_unique(
        doc,
        scenario.tasks.iter().map(|t| format!("\"{}\"", t.name)),
        |i| vec![Step::Field("tasks"), Step::Index(i), Step::Field("name")],
        "task",
    )?;
    let names = scenario.tasks.iter().map(|t| t.name.as_str());
    for (cpu, spec) in scenario.cpus.iter().enumerate() {
        for (j, task) in spec.run.iter().enumerate() {
            if !scenario.tasks.iter().any(|t| &t.name == task) {
                return Err(doc.error(
                    &[
                        Step::Field("cpus"),
                        Step::Index(cpu),
                        Step::Field("run"),
                        Step::Index(j),
                    ],
                    format!("unknown task \"{task}\" on CPU {cpu}"),
                    Some(did_you_mean(task, names.clone())),
                ));
            }
        }
    }
    Ok(())
}

/// `core` and `mem` name fields of `CoreConfig` and `MemConfig`, with values in
/// range; `cores` is in range.
fn check_machine(doc: &Document, spec: &MachineSpec, at: &[Step]) -> Result<(), ScenarioError> {
    let path = |steps: &[Step<'static>]| [at, steps].concat();
    if spec.cores.is_some_and(|n| n > MAX_CORES) {
        return Err(doc.error(
            &path(&[Step::Field("cores")]),
            format!("at most {MAX_CORES} cores are supported"),
            None,
        ));
    }
    check_knobs(doc, "core", &spec.core, CORE_KNOBS, at)?;
    check_knobs(doc, "mem", &spec.mem, MEM_KNOBS, at)
}

fn check_knobs<T>(
    doc: &Document,
    table: &'static str,
    values: &BTreeMap<String, u64>,
    knobs: &[Knob<T>],
    at: &[Step],
) -> Result<(), ScenarioError> {
    for (name, value) in values {
        let entry = |step| [at, &[Step::Field(table), step]].concat();
        let Some(knob) = knobs::find(knobs, name) else {
            let hint = if name == "ifetch_coherence" {
                "set it with `machine: (ifetch_coherence: Lazy)`".to_string()
            } else {
                did_you_mean(name, knobs::names(knobs))
            };
            return Err(doc.error(
                &entry(Step::Key(name)),
                format!("unknown `{table}` setting \"{name}\""),
                Some(hint),
            ));
        };
        if !knob.accepts(*value) {
            return Err(doc.error(
                &entry(Step::KeyValue(name)),
                format!("`{name}` must be {} to {KNOB_MAX}", knob.min),
                Some(if knob.min > 0 {
                    "sizes count entries; a zero-sized structure cannot work".to_string()
                } else {
                    "latencies count cycles".to_string()
                }),
            ));
        }
    }
    Ok(())
}

/// Initial registers are named by their 64-bit names.
fn check_registers(doc: &Document, scenario: &Scenario) -> Result<(), ScenarioError> {
    let names = Gpr::ALL.map(Gpr::name);
    for (core, start) in scenario.cores.iter().enumerate() {
        if let Some(reg) = start.regs.keys().find(|r| !names.contains(&r.as_str())) {
            return Err(doc.error(
                &[
                    Step::Field("cores"),
                    Step::Index(core),
                    Step::Field("regs"),
                    Step::Key(reg),
                ],
                format!("unknown register \"{reg}\""),
                Some(did_you_mean(&reg.to_ascii_lowercase(), names)),
            ));
        }
    }
    Ok(())
}

/// The second occurrence of any repeated item of `items` (as written in messages)
/// is an error at `path(i)`.
fn check_unique(
    doc: &Document,
    items: impl Iterator<Item = String>,
    path: impl Fn(usize) -> Vec<Step<'static>>,
    what: &str,
) -> Result<(), ScenarioError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in items.enumerate() {
        if let Some(first) = seen.get(&item) {
            let (line, _) = doc.file.line_col(doc.span(&path(*first)).start);
            return Err(doc.error(
                &path(i),
                format!("{what} {item} is defined twice"),
                Some(format!(
                    "the first definition is on line {line}; rename or remove one"
                )),
            ));
        }
        seen.insert(item, i);
    }
    Ok(())
}
