//! The bundled Linux-like kernel (`scenarios/kernel/*.s`) and the builder that
//! instantiates it for a scenario's tasks, runqueues and kernel options.
//!
//! The kernel models what the 2020 membarrier thread argues about: per-CPU
//! runqueues, `schedule()` with the barriers around the store to `rq->curr`,
//! `switch_mm` (a serializing CR3 write only when the mm changes), lazy TLB for
//! kernel threads, `finish_task_switch` with the optional
//! `membarrier_mm_sync_core_before_usermode`, return to user mode through
//! SYSRET or IRET, `kthread_use_mm`, and `membarrier(2)` with its IPI policies.
//! Each routine's comment names the Linux function it models. Tasks can block
//! (`SYS_BLOCK`, `block`) and be woken or blocked by a scenario's `Wake` and
//! `Block` events, which [`KernelImage::task_request`] turns into an interrupt
//! to the task's CPU.
//!
//! [`build`] turns [`KernelOptions`], tasks and CPUs into a [`KernelImage`]:
//! assembly to put before the scenario's program (constants and options) and
//! after it (kernel code, per-CPU entry stubs, generated data). After
//! assembling, [`KernelImage::boot`] gives each CPU's start state as a
//! [`CoreSetup`]: each CPU starts in the first task of its runqueue, a user task
//! in user mode at its entry with its own user stack, a kernel thread in kernel
//! mode with interrupts on, an empty runqueue in the idle task.
//!
//! ```
//! use scenarios::kernel::build;
//! use scenarios::scenario::schema::{CpuSpec, KernelOptions, TaskKind, TaskSpec};
//!
//! let tasks = [TaskSpec { name: "jit".into(), kind: TaskKind::User { mm: 1 }, entry: "jit".into() }];
//! let cpus = [CpuSpec { run: vec!["jit".into()] }];
//! let image = build(&KernelOptions::default(), &tasks, &cpus).unwrap();
//! let source = image.source("jit:\n    mov eax, SYS_EXIT\n    syscall\n");
//! let program = isa::asm::assemble(&source).unwrap();
//! let setup = image.boot(&program).unwrap();
//! assert_eq!(setup[0].rip, program.symbol("jit").unwrap());
//! assert!(setup[0].user_mode);
//! ```

mod boot;
mod layout;

use std::fmt::Write;

use crate::scenario::schema::{CpuSpec, IpiPolicy, KernelOptions, ReturnPath, TaskSpec};

pub use boot::{CoreSetup, FMASK, STAR, machine};
pub use layout::{MAX_CPUS, MAX_RQ_TASKS, TASK_WAKE_VECTOR, THREAD_SIZE};

/// Constants shared by the kernel and scenario code (assembled first).
const ABI: &str = include_str!("../../kernel/abi.s");
/// The kernel's code, in assembly order.
const KERNEL_SOURCES: [&str; 3] = [
    include_str!("../../kernel/entry.s"),
    include_str!("../../kernel/sched.s"),
    include_str!("../../kernel/membarrier.s"),
];

/// The kernel instantiated for one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelImage {
    /// Assembly to put before the scenario's program: `abi.s` and the options
    /// as `.set` constants, so scenario code can use both (`SYS_MEMBARRIER`,
    /// `.if RETURN_IRET`).
    pub prologue: String,
    /// Assembly to put after it: kernel code, per-CPU SYSCALL entry stubs and
    /// the generated data (tasks, mm structs, runqueues, stacks).
    pub epilogue: String,
    /// Cycles between timer interrupts, if the timer is on: the runner raises
    /// the first `LOCAL_TIMER_VECTOR` interrupt on each CPU after this many
    /// cycles, and the handler re-arms the TSC-deadline timer itself.
    pub timer_period: Option<u64>,
    cpus: Vec<layout::Cpu>,
}

impl KernelImage {
    /// The whole source: prologue, the scenario's `program`, epilogue.
    pub fn source(&self, program: &str) -> String {
        format!("{}\n{program}\n{}", self.prologue, self.epilogue)
    }

    /// Lines before the scenario's program in [`KernelImage::source`], to map
    /// assembler errors back to the scenario's own line numbers.
    pub fn prologue_lines(&self) -> usize {
        self.prologue.lines().count()
    }

    /// Number of CPUs.
    pub fn cpus(&self) -> usize {
        self.cpus.len()
    }

    /// Where `request` for task `task` goes, as `(cpu, vector)`: the CPU whose
    /// runqueue holds the task, and the vector whose handler on that CPU
    /// carries the request out (`task_request_interrupt` in `entry.s`). `None`
    /// when no runqueue holds a task of that name.
    pub fn task_request(&self, task: &str, request: TaskRequest) -> Option<(usize, u8)> {
        let label = layout::task_label(task);
        self.cpus.iter().enumerate().find_map(|(cpu, spec)| {
            let slot = spec.run.iter().position(|t| t.label == label)?;
            let first = match request {
                TaskRequest::Wake => TASK_WAKE_VECTOR,
                TaskRequest::Block => TASK_WAKE_VECTOR + MAX_RQ_TASKS as u8,
            };
            Some((cpu, first + slot as u8))
        })
    }
}

/// What a scenario's `Wake` or `Block` event asks the kernel to do to a task.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TaskRequest {
    /// Make a blocked task runnable (`try_to_wake_up`), and run it at once if
    /// its CPU is idle.
    Wake,
    /// Make a running or runnable task blocked, switching away from it if it
    /// is its CPU's current task.
    Block,
}

/// Why the kernel cannot be built for a scenario.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    /// `cpus` is empty.
    #[error("a kernel scenario needs at least one CPU in `cpus`")]
    NoCpus,
    /// More CPUs than the kernel's per-CPU tables hold.
    #[error("{cpus} CPUs, but the kernel supports at most {MAX_CPUS}")]
    TooManyCpus {
        /// CPUs listed.
        cpus: usize,
    },
    /// A runqueue longer than the kernel's.
    #[error("CPU {cpu} runs {tasks} tasks, but a runqueue holds at most {MAX_RQ_TASKS}")]
    TooManyTasks {
        /// The CPU.
        cpu: usize,
        /// Tasks listed.
        tasks: usize,
    },
    /// A runqueue names a task `tasks` does not define.
    #[error("CPU {cpu} runs `{task}`, which is not in `tasks`")]
    UnknownTask {
        /// The CPU.
        cpu: usize,
        /// The name.
        task: String,
        /// A defined task with a similar name.
        nearest: Option<String>,
    },
    /// Two tasks with one name.
    #[error("two tasks are named `{task}`")]
    DuplicateTask {
        /// The name.
        task: String,
    },
    /// A task on two runqueues.
    #[error("task `{task}` is on the runqueues of CPU {} and CPU {}", cpus.0, cpus.1)]
    TaskOnTwoCpus {
        /// The name.
        task: String,
        /// The two CPUs.
        cpus: (usize, usize),
    },
    /// A task on no runqueue would never run.
    #[error("task `{task}` is on no CPU's runqueue")]
    TaskOnNoCpu {
        /// The name.
        task: String,
    },
    /// A name that cannot be part of a label.
    #[error("task name `{task}` is not usable as an assembly label")]
    BadTaskName {
        /// The name.
        task: String,
    },
    /// mm 0 is the kernel's own address space.
    #[error("task `{task}` uses mm 0, the kernel's own address space (init_mm)")]
    MmZero {
        /// The name.
        task: String,
    },
    /// A timer period the kernel cannot program.
    #[error("timer period {period} is out of range (1 to {MAX_TIMER_PERIOD} cycles)")]
    TimerPeriod {
        /// The period asked for.
        period: u64,
    },
    /// A symbol the kernel needs is not in the assembled program.
    #[error("the assembled program has no symbol `{symbol}` ({what})")]
    MissingSymbol {
        /// The symbol.
        symbol: String,
        /// What it is for.
        what: String,
    },
}

impl KernelError {
    /// How to fix it, when there is a useful suggestion.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            KernelError::NoCpus => "add `cpus: [(run: [\"task\"])]`, one entry per CPU".into(),
            KernelError::TooManyCpus { .. } => format!("use at most {MAX_CPUS} CPUs"),
            KernelError::TooManyTasks { .. } => {
                format!("a runqueue holds at most {MAX_RQ_TASKS} tasks; spread them over CPUs")
            }
            KernelError::DuplicateTask { .. } => "rename one of them".into(),
            KernelError::TaskOnTwoCpus { .. } => {
                "a task runs on one CPU; define another task with the same entry".into()
            }
            KernelError::TimerPeriod { .. } => {
                format!("give a period of 1 to {MAX_TIMER_PERIOD} cycles, or leave it out")
            }
            KernelError::UnknownTask {
                nearest: Some(near),
                ..
            } => format!("did you mean `{near}`?"),
            KernelError::UnknownTask { .. } => "add it to `tasks`".into(),
            KernelError::TaskOnNoCpu { .. } => "add it to the `run` list of a CPU".into(),
            KernelError::BadTaskName { .. } => {
                "use letters, digits and `_`, not starting with a digit".into()
            }
            KernelError::MmZero { .. } => "number user address spaces from 1".into(),
            KernelError::MissingSymbol { .. } => {
                "define the label in the program, or assemble KernelImage::source()".into()
            }
        })
    }
}

/// Largest timer period: `add rax, TIMER_PERIOD` takes a signed 32-bit immediate.
pub const MAX_TIMER_PERIOD: u64 = i32::MAX as u64;

/// Instantiates the kernel for `tasks` on `cpus` (CPU `i` runs `cpus[i].run` in
/// round robin, then its idle task) with `options`.
pub fn build(
    options: &KernelOptions,
    tasks: &[TaskSpec],
    cpus: &[CpuSpec],
) -> Result<KernelImage, KernelError> {
    let planned = layout::plan(tasks, cpus)?;
    if let Some(period) = options
        .timer_period
        .filter(|&p| p == 0 || p > MAX_TIMER_PERIOD)
    {
        return Err(KernelError::TimerPeriod { period });
    }
    let mut prologue = format!("{ABI}\n# --- Kernel options (scenario `kernel:`) ---\n");
    for (name, value) in option_constants(options) {
        let _ = writeln!(prologue, ".set {name}, {value}");
    }
    let _ = writeln!(prologue, ".set CSD_SLOTS, {}", csd_slots(planned.len()));
    let mut epilogue = String::from(".section .kernel, \"ax\"\n.base KERNEL_TEXT_BASE\n");
    for source in KERNEL_SOURCES {
        epilogue.push_str(source);
        epilogue.push('\n');
    }
    epilogue.push_str(&layout::syscall_stubs(planned.len()));
    epilogue.push_str(&layout::data(&planned));
    Ok(KernelImage {
        prologue,
        epilogue,
        timer_period: options.timer_period,
        cpus: planned,
    })
}

/// How many call-function slots (`PCPU_CSD`) an IPI handler scans: one per CPU,
/// but never fewer than 16, the kernel's CPU limit before it was raised to
/// [`MAX_CPUS`], so that scenarios of up to 16 CPUs keep their exact timing.
fn csd_slots(cpus: usize) -> usize {
    cpus.max(16)
}

/// The options as the kernel's `.set` constants.
fn option_constants(options: &KernelOptions) -> [(&'static str, String); 9] {
    let flag = |on: bool| u8::from(on).to_string();
    let policy = match options.membarrier_ipi {
        IpiPolicy::SameMm => "MEMBARRIER_IPI_SAME_MM",
        IpiPolicy::SkipKthreads => "MEMBARRIER_IPI_SKIP_KTHREADS",
        IpiPolicy::AllButIdle => "MEMBARRIER_IPI_ALL_BUT_IDLE",
        IpiPolicy::All => "MEMBARRIER_IPI_ALL",
    };
    [
        (
            "RETURN_IRET",
            flag(options.return_to_user == ReturnPath::Iret),
        ),
        (
            "SYNC_CORE_BEFORE_USERMODE",
            flag(options.sync_core_before_usermode),
        ),
        ("MEMBARRIER_IPI_POLICY", policy.to_string()),
        ("MEMBARRIER_SELF_SYNC", flag(options.membarrier_self_sync)),
        (
            "BARRIER_BEFORE_RQ_CURR",
            flag(options.barrier_before_rq_curr),
        ),
        ("BARRIER_AFTER_RQ_CURR", flag(options.barrier_after_rq_curr)),
        ("LAZY_TLB_REFCOUNT", flag(options.lazy_tlb_refcount)),
        (
            "IPI_SYNC_CORE_SERIALIZE",
            flag(options.ipi_sync_core_serialize),
        ),
        (
            "TIMER_PERIOD",
            options.timer_period.unwrap_or(0).to_string(),
        ),
    ]
}
