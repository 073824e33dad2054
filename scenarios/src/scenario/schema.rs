//! The scenario file format: what a `.ron` scenario may say, field by field.
//!
//! Every struct refuses unknown fields (a typo is an error with a hint, not a
//! silently ignored setting) and every optional field has a default, so a scenario
//! states only what it is about. `docs/scenario-format.md` is the reference.

use std::collections::BTreeMap;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// One scenario file: a machine, the code it runs, what happens and what must hold.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Short name (defaults to the file stem).
    pub name: Option<String>,
    /// What the scenario shows, for `synclab run` and the docs.
    pub description: String,
    /// The machine to build.
    pub machine: MachineSpec,
    /// Code and data, assembled together in order into one program.
    pub program: Vec<Source>,
    /// Bare-metal start of each core (ignored when `kernel` is set: the kernel
    /// starts each CPU in its first task).
    pub cores: Vec<CoreStart>,
    /// Bare-metal system set-up shared by every core (IDT, SYSCALL entry, kernel
    /// stack); the bundled kernel sets these itself.
    pub system: SystemSetup,
    /// Run the bundled Linux-like kernel (`scenarios/kernel/`) with these options.
    pub kernel: Option<KernelOptions>,
    /// Tasks the kernel knows (kernel scenarios only).
    pub tasks: Vec<TaskSpec>,
    /// Per CPU, the tasks on its runqueue; the first one runs first.
    pub cpus: Vec<CpuSpec>,
    /// Timed interrupts, and wakeups and blocks of kernel tasks.
    pub events: Vec<EventSpec>,
    /// Cross-modifying-code contracts checked by the stale-code detector.
    pub contracts: Vec<ContractSpec>,
    /// Expectations of the base configuration (applies when `variants` is empty).
    pub expect: Expectations,
    /// Named changes of the machine or kernel options, each with its own expectations.
    pub variants: Vec<Variant>,
    /// Default budget of `synclab explore` (and of the test suite).
    pub explore: ExploreSpec,
}

/// The machine: sizes, policies and timing. Every field defaults to the
/// simulator's default.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MachineSpec {
    /// Number of cores, at most 64 (default: as many as `cores` or `cpus` list or,
    /// without `kernel`, as there are consecutive `core0`, `core1`... labels; at
    /// least 1).
    pub cores: Option<usize>,
    /// Seed of the timing jitter (`--seed` overrides it).
    pub seed: Option<u64>,
    /// Timing perturbation in percent (see `MachineConfig::timing_jitter`).
    pub jitter: Option<u32>,
    /// What other cores' stores do to fetched instruction bytes.
    pub ifetch_coherence: Option<IfetchSpec>,
    /// Whether IRETQ serializes (SDM: yes).
    pub iret_serializing: Option<bool>,
    /// Page-table isolation: every return to user mode writes CR3 (serializing).
    pub pti: Option<bool>,
    /// Cycles from an ICR write to the IPI reaching its destination.
    pub ipi_latency: Option<u64>,
    /// Whether taking an interrupt serializes the core.
    pub interrupt_delivery_serializing: Option<bool>,
    /// Stop a run after this many cycles.
    pub max_cycles: Option<u64>,
    /// Stop with a report when no core retires for this many cycles.
    pub watchdog_cycles: Option<u64>,
    /// Core sizes and latencies, by `CoreConfig` field name (`core: (rob_size: 64)`).
    #[serde(deserialize_with = "named_values")]
    pub core: BTreeMap<String, u64>,
    /// Memory latencies, by `MemConfig` field name (`mem: (remote_latency: 80)`).
    #[serde(deserialize_with = "named_values")]
    pub mem: BTreeMap<String, u64>,
}

/// `IfetchCoherence` as written in a scenario.
#[derive(Copy, Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum IfetchSpec {
    /// Stale bytes survive until a serializing instruction.
    Lazy,
    /// Other cores' stores invalidate fetched copies when they become visible.
    Snoop,
    /// Like `Snoop`, `cycles` later.
    Delayed {
        /// Delay in cycles.
        cycles: u64,
    },
}

/// A piece of the program.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Source {
    /// Assembly written in the scenario itself.
    Asm(String),
    /// An assembly file, relative to the scenario file.
    Include(String),
}

/// Where and how a core starts (bare-metal scenarios).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CoreStart {
    /// Label of the first instruction (default `coreN`).
    pub entry: Option<String>,
    /// Start in user mode (CPL 3) instead of the kernel (CPL 0).
    pub user: bool,
    /// RFLAGS.IF: accept interrupts from the start.
    pub interrupts: bool,
    /// Initial registers by 64-bit name (`regs: (rsp: 0x7000)`); unset registers
    /// are 0 except `rsp`, which defaults to `0x7fff0000 - N * 0x100000`. A label
    /// name as a string value is not supported, use `lea` in the code.
    #[serde(deserialize_with = "named_values")]
    pub regs: BTreeMap<String, u64>,
    /// CR3 (the address-space id) at start.
    pub cr3: Option<u64>,
}

/// System set-up a bare-metal scenario would otherwise write as boot code.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SystemSetup {
    /// IDT gates: vector -> handler.
    pub idt: Vec<GateSpec>,
    /// Label SYSCALL jumps to (IA32_LSTAR); IA32_STAR is set as Linux sets it.
    pub syscall_entry: Option<String>,
    /// Label of the top of each core's kernel stack (TSS.RSP0); core N uses
    /// `label - N * kernel_stack_stride`.
    pub kernel_stack: Option<String>,
    /// Bytes between the kernel stacks of consecutive cores (default 0x4000,
    /// Linux's 16 KiB kernel stacks).
    pub kernel_stack_stride: Option<u64>,
}

/// One IDT entry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    /// Vector (0-255).
    pub vector: u8,
    /// Handler label.
    pub handler: String,
    /// Trap gate (keeps IF) instead of interrupt gate.
    #[serde(default)]
    pub trap: bool,
    /// DPL 3: user code may `int` it.
    #[serde(default)]
    pub user: bool,
}

/// How the bundled kernel behaves: each switch models a kernel version or a
/// proposed fix from the 2020 membarrier thread.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KernelOptions {
    /// How the kernel returns to user mode after a syscall or a context switch.
    pub return_to_user: ReturnPath,
    /// `finish_task_switch` calls `membarrier_mm_sync_core_before_usermode`
    /// (a core-serializing instruction before returning to a user mm that
    /// registered for SYNC_CORE).
    pub sync_core_before_usermode: bool,
    /// Which CPUs `membarrier` sends IPIs to.
    pub membarrier_ipi: IpiPolicy,
    /// `membarrier(SYNC_CORE)` also serializes the calling CPU.
    pub membarrier_self_sync: bool,
    /// The full barrier before the store to `rq->curr` (smp_mb__after_spinlock).
    pub barrier_before_rq_curr: bool,
    /// The full barrier after the store to `rq->curr` (before returning to user).
    pub barrier_after_rq_curr: bool,
    /// The scheduler counts lazy-TLB references: `mmgrab` when a kernel thread
    /// borrows a user mm, `mmdrop` in `finish_task_switch` when it gives it
    /// back. Both are atomics, so on x86 the `mmdrop` is also the full barrier
    /// after `rq->curr` that membarrier relies on when switching from a kernel
    /// thread to a user thread. `false` models `CONFIG_MMU_LAZY_TLB_REFCOUNT=n`
    /// (Piggin's later lazy-TLB series) without a barrier in its place.
    pub lazy_tlb_refcount: bool,
    /// The SYNC_CORE IPI handler runs a core-serializing instruction itself
    /// (Linux 5.10+). `false`: it only does `smp_mb()` and relies on the return
    /// from interrupt serializing, as Linux 4.16 to 5.9 did.
    pub ipi_sync_core_serialize: bool,
    /// Period of the timer interrupt that calls `schedule()` (none by default).
    pub timer_period: Option<u64>,
}

impl Default for KernelOptions {
    fn default() -> KernelOptions {
        KernelOptions {
            return_to_user: ReturnPath::Sysret,
            sync_core_before_usermode: false,
            membarrier_ipi: IpiPolicy::SameMm,
            membarrier_self_sync: true,
            barrier_before_rq_curr: true,
            barrier_after_rq_curr: true,
            lazy_tlb_refcount: true,
            ipi_sync_core_serialize: true,
            timer_period: None,
        }
    }
}

/// The kernel's return-to-user instruction.
#[derive(Copy, Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum ReturnPath {
    /// `sysretq`: fast, not serializing.
    #[default]
    Sysret,
    /// `iretq`: serializing unless `iret_serializing: false`.
    Iret,
}

/// Which remote CPUs `membarrier` interrupts.
#[derive(Copy, Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum IpiPolicy {
    /// Linux 5.9: only CPUs whose `rq->curr->mm` is the caller's mm (kernel
    /// threads running on a lazily borrowed mm are skipped).
    #[default]
    SameMm,
    /// CPUs running a user thread of the caller's mm: every kernel thread
    /// (`PF_KTHREAD`) is skipped, even one that did `kthread_use_mm` on the
    /// mm, as `membarrier_global_expedited` did before Linux 5.10 and as the
    /// thread's patches assumed ("you want to avoid IPI'ing kthreads").
    SkipKthreads,
    /// The fix proposed in the thread: every CPU except those running the idle task.
    AllButIdle,
    /// Every other CPU.
    All,
}

/// A task of the kernel.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Name, used by `cpus` and in reports.
    pub name: String,
    /// User thread of an address space, or kernel thread.
    pub kind: TaskKind,
    /// Label where the task starts (user code for user tasks, kernel code for
    /// kernel threads).
    pub entry: String,
}

/// User thread or kernel thread.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub enum TaskKind {
    /// A user thread of address space `mm` (tasks with the same number share it).
    User {
        /// Address-space id (also its CR3 value).
        mm: u64,
    },
    /// A kernel thread: no mm of its own, runs on the previous task's mm (lazy TLB).
    Kernel,
}

/// One CPU's runqueue.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CpuSpec {
    /// Task names, in the order the CPU runs them; the idle task comes last
    /// implicitly.
    pub run: Vec<String>,
}

/// Something that happens during a run.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// When.
    pub at: Trigger,
    /// What.
    pub action: Action,
}

/// When an event happens.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum Trigger {
    /// At this cycle.
    Cycle(u64),
    /// When any core retires the instruction at this label.
    Label(String),
}

/// What an event does.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Action {
    /// Raise interrupt `vector` at core `cpu` (it arrives `ipi_latency` later).
    Interrupt {
        /// Destination core.
        cpu: usize,
        /// Vector.
        vector: u8,
    },
    /// Wake kernel task `task` if it is blocked (kernel scenarios): an
    /// interrupt to its CPU, whose handler makes it runnable and runs it at
    /// once if the CPU is idle.
    Wake {
        /// Task name.
        task: String,
    },
    /// Block kernel task `task` if it is running or runnable (kernel
    /// scenarios): an interrupt to its CPU, whose handler marks it blocked and
    /// switches away from it if it is running.
    Block {
        /// Task name.
        task: String,
    },
}

/// "After the writer passes `sync_point`, no core executes bytes older than the
/// writer's stores before it."
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContractSpec {
    /// Name of the contract in reports (default: the sync point's name).
    #[serde(default)]
    pub name: Option<String>,
    /// The sync point: a `.sync_point NAME` directive or a label.
    pub sync_point: String,
}

/// Whether something must, may or must not be seen over many seeded runs.
#[derive(Copy, Clone, Debug, Deserialize, PartialEq, Eq)]
pub enum Verdict {
    /// Seen in at least one run.
    Possible,
    /// Seen in no run.
    Impossible,
    /// Seen in every run.
    Always,
}

/// What the runs of a configuration must show.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Expectations {
    /// Stale instruction bytes executed.
    pub stale_execution: Option<Verdict>,
    /// A declared contract broken.
    pub contract_violation: Option<Verdict>,
    /// Litmus-style final-state conditions, e.g. `1:rax=2 /\ [flag]=1`.
    pub final_state: Vec<StateExpectation>,
    /// Every run finishes (all cores halted) within this many cycles.
    pub max_cycles: Option<u64>,
}

/// A condition on the final state and how often it must hold.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StateExpectation {
    /// `core:reg=value` and `[label]=value` terms joined by `/\`, `\/`, `~`.
    pub condition: String,
    /// How often it must hold.
    pub verdict: Verdict,
}

/// A named change of the base scenario with its own expectations.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Name in reports and on the command line (`--variant`).
    pub name: String,
    /// Machine fields to change (same syntax as `machine`; only those written apply).
    #[serde(default)]
    pub machine: MachineSpec,
    /// Kernel option changes, by field name (`kernel: (return_to_user: Iret)`).
    /// Kept as RON text: a `ron::Value` would lose enum variant names such as `Iret`.
    #[serde(default, deserialize_with = "named_values")]
    pub kernel: BTreeMap<String, Box<ron::value::RawValue>>,
    /// Symbols defined before the program (`defines: (WITH_CPUID: 1)` prepends
    /// `.set WITH_CPUID, 1`), for `.rept`/`.if` and immediates in the assembly.
    #[serde(default, deserialize_with = "named_values")]
    pub defines: BTreeMap<String, i64>,
    /// What must hold.
    pub expect: Expectations,
}

/// Exploration budget.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ExploreSpec {
    /// Seeds per configuration.
    pub seeds: u64,
}

impl Default for ExploreSpec {
    fn default() -> ExploreSpec {
        ExploreSpec { seeds: 200 }
    }
}

/// Deserializes a name-to-value table written either as a struct, `(rob_size: 64)`,
/// or as a map with string keys, `{"rob_size": 64}`. A repeated name is an error
/// (a map would silently keep the last value).
fn named_values<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Names<V>(std::marker::PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for Names<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("named values such as `(rob_size: 64)`")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                if out.contains_key(&name) {
                    return Err(de::Error::custom(format!("`{name}` is given twice")));
                }
                let value = map.next_value()?;
                out.insert(name, value);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_any(Names(std::marker::PhantomData))
}
