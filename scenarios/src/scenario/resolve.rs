//! Labels to addresses for one assembled configuration: core entries, IDT
//! handlers, the SYSCALL entry, kernel stacks, event triggers and sync points;
//! for kernel scenarios, each CPU's boot state from the kernel image.
//! Resolving is validating: an unknown label is an error at the string naming it.

use isa::asm::{Program, SYNC_POINT_PREFIX};
use isa::reg::Gpr;
use sim_core::machine::{Contract, CoreInit, InterruptTrigger};
use sim_core::system::IdtGate;

use super::document::Document;
use super::error::{ScenarioError, did_you_mean};
use super::ron_tree::Step;
use super::schema::{Action, EventSpec, MachineSpec, Scenario, Trigger};
use super::validate::MAX_CORES;
use crate::kernel::{self, KernelImage, TaskRequest};
use crate::program::{STACK_STRIDE, STACK_TOP, single_core_entry};

/// Bytes between consecutive cores' kernel stacks unless the scenario says
/// otherwise: Linux's 16 KiB `THREAD_SIZE`.
pub const DEFAULT_KERNEL_STACK_STRIDE: u64 = 0x4000;

/// How one bare-metal core starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreSetup {
    /// Entry point and registers.
    pub init: CoreInit,
    /// Start at CPL 3.
    pub user: bool,
    /// Start with RFLAGS.IF set.
    pub interrupts: bool,
    /// Initial CR3, if set.
    pub cr3: Option<u64>,
    /// TSS.RSP0, if the scenario has kernel stacks.
    pub kernel_stack: Option<u64>,
}

/// Everything a bare-metal scenario sets up before the first cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BareMetal {
    /// One per core, in core order.
    pub cores: Vec<CoreSetup>,
    /// IDT gates installed on every core.
    pub gates: Vec<(u8, IdtGate)>,
    /// IA32_LSTAR, if SYSCALL is set up.
    pub syscall_entry: Option<u64>,
}

/// An interrupt to raise during the run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When.
    pub at: InterruptTrigger,
    /// Destination core.
    pub cpu: usize,
    /// Vector.
    pub vector: u8,
}

/// What resolving a configuration yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Number of cores of the machine.
    pub cores: usize,
    /// The set-up of a scenario without `kernel`.
    pub bare_metal: Option<BareMetal>,
    /// Each CPU's boot state, for a scenario with `kernel`.
    pub kernel_cpus: Option<Vec<kernel::CoreSetup>>,
    /// Timed interrupts.
    pub events: Vec<Event>,
    /// Contracts to check.
    pub contracts: Vec<Contract>,
}

/// Resolve `scenario` (machine `spec`, after any variant) against `program`,
/// assembled with `kernel` for kernel scenarios; `variant` names the
/// configuration in messages.
pub(crate) fn resolve(
    doc: &Document,
    scenario: &Scenario,
    spec: &MachineSpec,
    program: &Program,
    kernel: Option<&KernelImage>,
    variant: Option<&str>,
) -> Result<Resolved, ScenarioError> {
    let r = Resolver {
        doc,
        program,
        variant,
    };
    let (cores, bare_metal, kernel_cpus) = match kernel {
        Some(image) => (image.cpus(), None, Some(r.kernel_boot(image)?)),
        None => {
            let cores = r.core_count(scenario, spec)?;
            (cores, Some(r.bare_metal(scenario, cores)?), None)
        }
    };
    let events = scenario
        .events
        .iter()
        .enumerate()
        .map(|(i, event)| r.event(scenario, i, event, cores, kernel, kernel_cpus.as_deref()))
        .collect::<Result<_, _>>()?;
    let contracts = scenario
        .contracts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let path = [
                Step::Field("contracts"),
                Step::Index(i),
                Step::Field("sync_point"),
            ];
            Ok(Contract {
                name: c.name.clone().unwrap_or_else(|| c.sync_point.clone()),
                sync_point: r.sync_point(&c.sync_point, &path)?,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Resolved {
        cores,
        bare_metal,
        kernel_cpus,
        events,
        contracts,
    })
}

/// Which cores a machine of `cores` cores has, for "core N does not exist" hints.
pub(crate) fn cores_hint(cores: usize) -> String {
    match cores {
        1 => "the machine has one core, core 0; `machine.cores` sets how many".to_string(),
        n => format!(
            "the machine has cores 0 to {}; `machine.cores` sets how many",
            n - 1
        ),
    }
}

/// The labels of `program` a scenario may name (sync points have their own
/// namespace).
pub(crate) fn program_labels(program: &Program) -> impl Iterator<Item = &str> + Clone {
    program
        .symbols
        .keys()
        .map(String::as_str)
        .filter(|s| !s.starts_with(SYNC_POINT_PREFIX))
}

/// "unknown label" at `path`, with the nearest of `labels` as hint; `variant`
/// names the configuration being resolved.
pub(crate) fn unknown_label<'l>(
    doc: &Document,
    name: &str,
    path: &[Step],
    variant: Option<&str>,
    labels: impl Iterator<Item = &'l str> + Clone,
) -> ScenarioError {
    doc.error(
        path,
        format!("unknown label \"{name}\"{}", in_variant(variant)),
        Some(did_you_mean(name, labels)),
    )
}

/// `" (in variant \"v\")"` when resolving a variant's own program.
fn in_variant(variant: Option<&str>) -> String {
    variant.map_or(String::new(), |v| format!(" (in variant \"{v}\")"))
}

struct Resolver<'a> {
    doc: &'a Document,
    program: &'a Program,
    variant: Option<&'a str>,
}

impl Resolver<'_> {
    fn labels(&self) -> impl Iterator<Item = &str> + Clone {
        program_labels(self.program)
    }

    fn in_variant(&self) -> String {
        in_variant(self.variant)
    }

    fn label(&self, name: &str, path: &[Step]) -> Result<u64, ScenarioError> {
        self.program
            .symbol(name)
            .ok_or_else(|| unknown_label(self.doc, name, path, self.variant, self.labels()))
    }

    /// Each CPU's boot state. The program was assembled from the image and
    /// defines every task entry, so a missing symbol is the kernel's bug.
    fn kernel_boot(&self, image: &KernelImage) -> Result<Vec<kernel::CoreSetup>, ScenarioError> {
        image.boot(self.program).map_err(|e| {
            self.doc.error(
                &[Step::Field("kernel")],
                format!("the bundled kernel cannot boot{}: {e}", self.in_variant()),
                Some(
                    "this is a bug in synclab's kernel (scenarios/kernel/*.s or its \
                     builder), not in the scenario: please report it"
                        .to_string(),
                ),
            )
        })
    }

    /// Event `i`: its trigger, and the core and vector its action raises. A
    /// Wake or Block goes to the CPU whose runqueue holds the task.
    fn event(
        &self,
        scenario: &Scenario,
        i: usize,
        event: &EventSpec,
        cores: usize,
        kernel: Option<&KernelImage>,
        kernel_cpus: Option<&[kernel::CoreSetup]>,
    ) -> Result<Event, ScenarioError> {
        let at_path = [
            Step::Field("events"),
            Step::Index(i),
            Step::Field("at"),
            Step::Index(0),
        ];
        let at = match &event.at {
            Trigger::Cycle(cycle) => InterruptTrigger::Cycle(*cycle),
            Trigger::Label(label) => InterruptTrigger::Retire(self.label(label, &at_path)?),
        };
        let action_path = |field| {
            [
                Step::Field("events"),
                Step::Index(i),
                Step::Field("action"),
                Step::Field(field),
            ]
        };
        let (task, request) = match &event.action {
            Action::Interrupt { cpu, vector } => {
                if *cpu >= cores {
                    return Err(self.no_such_core(*cpu, cores, &action_path("cpu")));
                }
                if let Some(first) = kernel_cpus.and_then(|cpus| cpus.first()) {
                    self.kernel_vector(*vector, first, &action_path("vector"))?;
                }
                return Ok(Event {
                    at,
                    cpu: *cpu,
                    vector: *vector,
                });
            }
            Action::Wake { task } => (task, TaskRequest::Wake),
            Action::Block { task } => (task, TaskRequest::Block),
        };
        let Some(image) = kernel else {
            return Err(self.doc.error(
                &[Step::Field("events"), Step::Index(i), Step::Field("action")],
                format!("`{request:?}` acts on a task of the bundled kernel, and this scenario has no `kernel`"),
                Some("add `kernel: ()`, `tasks` and `cpus`, or raise an `Interrupt` instead".to_string()),
            ));
        };
        let (cpu, vector) = image.task_request(task, request).ok_or_else(|| {
            let names = scenario.tasks.iter().map(|t| t.name.as_str());
            self.doc.error(
                &action_path("task"),
                format!("unknown task \"{task}\" in a `{request:?}` event"),
                Some(did_you_mean(task, names)),
            )
        })?;
        Ok(Event { at, cpu, vector })
    }

    /// An event's vector must have a handler in the kernel's IDT (`cpu` is the
    /// boot state of any CPU: they all install the same gates).
    fn kernel_vector(
        &self,
        vector: u8,
        cpu: &kernel::CoreSetup,
        path: &[Step],
    ) -> Result<(), ScenarioError> {
        if cpu.gates.iter().any(|(v, _)| *v == vector) {
            return Ok(());
        }
        let names = [
            "IPI_MB_VECTOR",
            "IPI_SYNC_CORE_VECTOR",
            "LOCAL_TIMER_VECTOR",
        ];
        let mut handled: Vec<String> = cpu
            .gates
            .iter()
            .filter_map(|(v, _)| {
                let named = names
                    .into_iter()
                    .find(|n| self.program.symbol(n) == Some(u64::from(*v)));
                named.map(|n| format!("{v:#x} ({n})"))
            })
            .collect();
        let last_request = kernel::TASK_WAKE_VECTOR + 2 * kernel::MAX_RQ_TASKS as u8 - 1;
        handled.push(format!(
            "{:#x}-{last_request:#x} (what `Wake` and `Block` events raise)",
            kernel::TASK_WAKE_VECTOR
        ));
        Err(self.doc.error(
            path,
            format!(
                "vector {vector:#x} has no handler in the bundled kernel{}",
                self.in_variant()
            ),
            Some(format!("the kernel handles {}", handled.join(", "))),
        ))
    }

    /// A `.sync_point NAME` (symbol `sync_point.NAME`) or else a label.
    fn sync_point(&self, name: &str, path: &[Step]) -> Result<u64, ScenarioError> {
        let symbol = format!("{SYNC_POINT_PREFIX}{name}");
        if let Some(addr) = self.program.symbol(&symbol) {
            return Ok(addr);
        }
        self.program.symbol(name).ok_or_else(|| {
            let points = self
                .program
                .symbols
                .keys()
                .filter_map(|s| s.strip_prefix(SYNC_POINT_PREFIX));
            self.doc.error(
                path,
                format!("unknown sync point \"{name}\"{}", self.in_variant()),
                Some(did_you_mean(name, points.chain(self.labels()))),
            )
        })
    }

    fn no_such_core(&self, core: usize, cores: usize, path: &[Step]) -> ScenarioError {
        self.doc.error(
            path,
            format!("core {core} does not exist{}", self.in_variant()),
            Some(cores_hint(cores)),
        )
    }

    /// Bare metal: `machine.cores`, or as many as `cores` or `coreN` labels need.
    /// (A kernel scenario has one core per CPU of `cpus`.)
    fn core_count(&self, scenario: &Scenario, spec: &MachineSpec) -> Result<usize, ScenarioError> {
        let labelled = (0..=MAX_CORES)
            .take_while(|n| self.program.symbol(&format!("core{n}")).is_some())
            .count();
        let Some(cores) = spec.cores else {
            let needed = [("cores", scenario.cores.len()), ("program", labelled)];
            if let Some((field, n)) = needed.iter().find(|(_, n)| *n > MAX_CORES) {
                return Err(self.doc.error(
                    &[Step::Field(field)],
                    format!("{n} cores needed, but at most {MAX_CORES} are supported"),
                    None,
                ));
            }
            return Ok(needed.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1));
        };
        if cores == 0 {
            return Err(self.doc.error(
                &[Step::Field("machine"), Step::Field("cores")],
                "a machine needs at least one core",
                None,
            ));
        }
        if scenario.cores.len() > cores {
            return Err(self.no_such_core(
                cores,
                cores,
                &[Step::Field("cores"), Step::Index(cores)],
            ));
        }
        Ok(cores)
    }

    fn bare_metal(&self, scenario: &Scenario, cores: usize) -> Result<BareMetal, ScenarioError> {
        let system = &scenario.system;
        let sys_path = |field| [Step::Field("system"), Step::Field(field)];
        let kernel_stack = system
            .kernel_stack
            .as_ref()
            .map(|label| self.label(label, &sys_path("kernel_stack")))
            .transpose()?;
        let stride = system
            .kernel_stack_stride
            .unwrap_or(DEFAULT_KERNEL_STACK_STRIDE);
        let setups = (0..cores)
            .map(|core| {
                let start = scenario.cores.get(core).cloned().unwrap_or_default();
                let path = |field| [Step::Field("cores"), Step::Index(core), Step::Field(field)];
                let rip = match &start.entry {
                    Some(label) => self.label(label, &path("entry"))?,
                    None => self.default_entry(core)?,
                };
                let mut regs = [0; 16];
                regs[Gpr::Rsp.index()] = STACK_TOP - core as u64 * STACK_STRIDE;
                for (name, value) in &start.regs {
                    if let Some(gpr) = Gpr::ALL.iter().find(|g| g.name() == name) {
                        regs[gpr.index()] = *value;
                    }
                }
                Ok(CoreSetup {
                    init: CoreInit { rip, regs },
                    user: start.user,
                    interrupts: start.interrupts,
                    cr3: start.cr3,
                    kernel_stack: kernel_stack
                        .map(|top| top.wrapping_sub(stride.wrapping_mul(core as u64))),
                })
            })
            .collect::<Result<_, _>>()?;
        let gates = system
            .idt
            .iter()
            .enumerate()
            .map(|(i, gate)| {
                let path = [
                    Step::Field("system"),
                    Step::Field("idt"),
                    Step::Index(i),
                    Step::Field("handler"),
                ];
                let handler = self.label(&gate.handler, &path)?;
                let kind = if gate.trap {
                    IdtGate::trap(handler)
                } else {
                    IdtGate::interrupt(handler)
                };
                Ok((gate.vector, if gate.user { kind.user() } else { kind }))
            })
            .collect::<Result<_, _>>()?;
        let syscall_entry = system
            .syscall_entry
            .as_ref()
            .map(|label| self.label(label, &sys_path("syscall_entry")))
            .transpose()?;
        Ok(BareMetal {
            cores: setups,
            gates,
            syscall_entry,
        })
    }

    /// `coreN`, or for core 0 of a program without core labels `_start` or `.text`.
    fn default_entry(&self, core: usize) -> Result<u64, ScenarioError> {
        let label = format!("core{core}");
        let numbered = self.program.symbol("core0").is_some();
        self.program
            .symbol(&label)
            .or_else(|| {
                (core == 0 && !numbered)
                    .then(|| single_core_entry(self.program))
                    .flatten()
            })
            .ok_or_else(|| {
                let path = if self.doc.value_text(&[Step::Field("cores")]).is_some() {
                    vec![Step::Field("cores")]
                } else {
                    vec![Step::Field("program")]
                };
                self.doc.error(
                    &path,
                    format!("core {core} has no entry point{}", self.in_variant()),
                    Some(format!(
                        "define a `{label}:` label, or set `cores[{core}].entry` to a label"
                    )),
                )
            })
    }
}
