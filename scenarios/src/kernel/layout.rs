//! The kernel's view of a scenario: which tasks exist, on which CPU, in which
//! order, on which address space; checked once, then written out as assembly
//! data (task structs with their kernel stacks, mm structs, per-CPU areas with
//! their runqueues, user stacks) and per-CPU SYSCALL entry stubs.
//!
//! The data's field offsets are the `.set` constants of `kernel/abi.s`: each
//! field is written as `.org BASE + FIELD` followed by its value, so the
//! assembler places it where the kernel code reads it, and a field list that
//! does not follow `abi.s`'s order fails to assemble instead of misplacing data.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::scenario::schema::{CpuSpec, TaskKind, TaskSpec};

use super::KernelError;

/// Most CPUs the kernel supports (`MAX_CPUS` in `abi.s`).
pub const MAX_CPUS: usize = 64;
/// Most tasks on one runqueue, besides its idle task (`MAX_RQ_TASKS`).
pub const MAX_RQ_TASKS: usize = 16;
/// Bytes of a kernel stack, a per-CPU area and a user stack (`THREAD_SIZE`).
pub const THREAD_SIZE: u64 = 0x1000;
/// First vector of the Wake and Block requests (`TASK_WAKE_VECTOR`): Wake of
/// runqueue slot `i` is this plus `i`, Block of slot `i` this plus
/// [`MAX_RQ_TASKS`] plus `i` (`TASK_BLOCK_VECTOR`).
pub const TASK_WAKE_VECTOR: u8 = 0xc0;
/// Number of request vectors: a Wake and a Block per runqueue slot.
pub(super) const TASK_REQUESTS: u8 = 2 * MAX_RQ_TASKS as u8;
/// Bytes of each request's entry stub (`TASK_REQUEST_ENTRY_SIZE`).
pub(super) const TASK_REQUEST_ENTRY_SIZE: u64 = 8;
/// Words `__switch_to_asm` pops before its `ret` (rbp, rbx, r12-r15).
const SWITCH_FRAME_WORDS: usize = 6;
/// Words of `pt_regs` below the IRET frame (r15 ... orig_ax).
const PT_REGS_GPR_WORDS: usize = 13;

/// One task as the kernel lays it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Task {
    /// Label of its task struct (the bottom of its kernel stack).
    pub label: String,
    /// Label where it starts.
    pub entry: String,
    /// Address space (`None` for kernel threads, including idle).
    pub mm: Option<u64>,
    /// The idle task of its CPU.
    pub idle: bool,
    /// Index in the scenario's task list (idle tasks: after all of them).
    pub id: usize,
}

impl Task {
    /// Label of its user stack (user tasks only).
    pub fn user_stack(&self) -> String {
        format!("{}_user_stack", self.label)
    }
}

/// One CPU: its runqueue (first task runs first) and idle task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Cpu {
    pub run: Vec<Task>,
    pub idle: Task,
}

impl Cpu {
    /// The task the CPU starts in.
    pub fn first(&self) -> &Task {
        self.run.first().unwrap_or(&self.idle)
    }
}

/// Label of the task struct of task `name`.
pub(super) fn task_label(name: &str) -> String {
    format!("task_{name}")
}

/// Label of CPU `cpu`'s per-CPU area.
pub(super) fn percpu_label(cpu: usize) -> String {
    format!("percpu_{cpu}")
}

/// Label of the mm struct of address space `mm`.
pub(super) fn mm_label(mm: u64) -> String {
    format!("mm_{mm}")
}

/// Label of CPU `cpu`'s SYSCALL entry (its IA32_LSTAR).
pub(super) fn syscall_entry_label(cpu: usize) -> String {
    format!("entry_SYSCALL_64_cpu{cpu}")
}

/// Checks the scenario's tasks and runqueues and puts each task on its CPU.
pub(super) fn plan(tasks: &[TaskSpec], cpus: &[CpuSpec]) -> Result<Vec<Cpu>, KernelError> {
    if cpus.is_empty() {
        return Err(KernelError::NoCpus);
    }
    if cpus.len() > MAX_CPUS {
        return Err(KernelError::TooManyCpus { cpus: cpus.len() });
    }
    let mut by_name: BTreeMap<&str, (usize, &TaskSpec)> = BTreeMap::new();
    for (id, task) in tasks.iter().enumerate() {
        check_name(&task.name)?;
        if let TaskKind::User { mm: 0 } = task.kind {
            return Err(KernelError::MmZero {
                task: task.name.clone(),
            });
        }
        if by_name.insert(&task.name, (id, task)).is_some() {
            return Err(KernelError::DuplicateTask {
                task: task.name.clone(),
            });
        }
    }
    let mut placed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut planned = Vec::with_capacity(cpus.len());
    for (cpu, spec) in cpus.iter().enumerate() {
        if spec.run.len() > MAX_RQ_TASKS {
            return Err(KernelError::TooManyTasks {
                cpu,
                tasks: spec.run.len(),
            });
        }
        let mut run = Vec::with_capacity(spec.run.len());
        for name in &spec.run {
            let Some(&(id, task)) = by_name.get(name.as_str()) else {
                return Err(KernelError::UnknownTask {
                    cpu,
                    task: name.clone(),
                    nearest: isa::suggest::nearest(name, by_name.keys().copied())
                        .map(str::to_string),
                });
            };
            if let Some(first_cpu) = placed.insert(&task.name, cpu) {
                return Err(KernelError::TaskOnTwoCpus {
                    task: name.clone(),
                    cpus: (first_cpu, cpu),
                });
            }
            run.push(Task {
                label: task_label(name),
                entry: task.entry.clone(),
                mm: match task.kind {
                    TaskKind::User { mm } => Some(mm),
                    TaskKind::Kernel => None,
                },
                idle: false,
                id,
            });
        }
        let idle = Task {
            label: format!("idle_task_{cpu}"),
            entry: "do_idle".to_string(),
            mm: None,
            idle: true,
            id: tasks.len() + cpu,
        };
        planned.push(Cpu { run, idle });
    }
    if let Some(task) = tasks.iter().find(|t| !placed.contains_key(t.name.as_str())) {
        return Err(KernelError::TaskOnNoCpu {
            task: task.name.clone(),
        });
    }
    Ok(planned)
}

/// Task names become labels: letters, digits and `_`, not starting with a digit.
fn check_name(name: &str) -> Result<(), KernelError> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(KernelError::BadTaskName {
            task: name.to_string(),
        })
    }
}

/// Every address space: the id of each mm struct and its initial `mm_count`.
/// init_mm (id 0) is the kernel's; a CPU starting in a kernel thread holds a
/// lazy reference to it, as after boot.
pub(super) fn mm_counts(cpus: &[Cpu]) -> BTreeMap<u64, u64> {
    let mut counts = BTreeMap::from([(0, 1)]);
    for task in cpus.iter().flat_map(|cpu| cpu.run.iter()) {
        if let Some(mm) = task.mm {
            counts.insert(mm, 1);
        }
    }
    let lazy_at_boot = cpus.iter().filter(|cpu| cpu.first().mm.is_none()).count();
    *counts.entry(0).or_default() += lazy_at_boot as u64;
    counts
}

/// Appends `.org BASE + FIELD` and `.quad VALUE` for each field.
fn fields(out: &mut String, base: &str, fields: &[(&str, String)]) {
    for (field, value) in fields {
        let _ = writeln!(out, "    .org {base} + {field}\n    .quad {value}");
    }
}

/// The per-CPU SYSCALL entry stubs: save the user rsp, switch to the current
/// task's kernel stack, push the top of `pt_regs` and join `entry_SYSCALL_64`.
pub(super) fn syscall_stubs(cpus: usize) -> String {
    let mut out = String::from(".section .kernel, \"ax\"\n");
    for cpu in 0..cpus {
        let area = percpu_label(cpu);
        let _ = writeln!(
            out,
            "# CPU {cpu}'s entry trampoline (IA32_LSTAR).\n{}:\n    \
             mov qword ptr [{area} + PCPU_USER_RSP], rsp\n    \
             mov rsp, qword ptr [{area} + PCPU_TOP_OF_STACK]\n    \
             push USER_DS                # pt_regs->ss\n    \
             push qword ptr [{area} + PCPU_USER_RSP] # pt_regs->sp\n    \
             jmp entry_SYSCALL_64",
            syscall_entry_label(cpu)
        );
    }
    out
}

/// The kernel's data: CPU table, mm structs, per-CPU areas, task structs with
/// their kernel stacks (holding the first switch frame of tasks that do not
/// run first) and user stacks.
pub(super) fn data(cpus: &[Cpu]) -> String {
    let mut out = String::from(".section .kernel_data\n.base KERNEL_DATA_BASE\n");
    let areas: Vec<String> = (0..cpus.len()).map(percpu_label).collect();
    let _ = writeln!(
        out,
        "nr_cpu_ids:\n    .quad {}\ncpu_areas:\n    .quad {}",
        cpus.len(),
        areas.join(", ")
    );
    for (mm, count) in mm_counts(cpus) {
        let label = if mm == 0 {
            "init_mm".to_string()
        } else {
            mm_label(mm)
        };
        let _ = writeln!(out, "{label}:");
        fields(
            &mut out,
            &label,
            &[
                ("MM_PGD", mm.to_string()),
                ("MM_MEMBARRIER_STATE", "0".into()),
                ("MM_COUNT", count.to_string()),
            ],
        );
    }
    for (cpu, spec) in cpus.iter().enumerate() {
        percpu_area(&mut out, cpu, spec);
        for task in spec.run.iter().chain([&spec.idle]) {
            task_struct(&mut out, cpu, task, task == spec.first());
        }
    }
    for task in cpus.iter().flat_map(|cpu| cpu.run.iter()) {
        if task.mm.is_some() {
            let _ = writeln!(
                out,
                "    .p2align 12\n{}:\n    .skip THREAD_SIZE",
                task.user_stack()
            );
        }
    }
    out
}

/// CPU `cpu`'s per-CPU area: runqueue and per-CPU variables, then the entry
/// stack up to the next THREAD_SIZE boundary (TSS.RSP0).
fn percpu_area(out: &mut String, cpu: usize, spec: &Cpu) {
    let area = percpu_label(cpu);
    let first = spec.first();
    let _ = writeln!(out, "    .p2align 12\n{area}:");
    fields(
        out,
        &area,
        &[
            ("PCPU_SELF", area.clone()),
            ("PCPU_CPU", cpu.to_string()),
            ("RQ_CURR", first.label.clone()),
            ("RQ_IDLE", spec.idle.label.clone()),
            ("RQ_PREV_MM", "0".into()),
            ("RQ_NR_SWITCHES", "0".into()),
            ("RQ_NR_TASKS", spec.run.len().to_string()),
            ("RQ_NEXT", (1 % spec.run.len().max(1)).to_string()),
            (
                "PCPU_TOP_OF_STACK",
                format!("{} + THREAD_SIZE", first.label),
            ),
            ("PCPU_USER_RSP", "0".into()),
        ],
    );
    if !spec.run.is_empty() {
        let tasks: Vec<&str> = spec.run.iter().map(|t| t.label.as_str()).collect();
        let _ = writeln!(
            out,
            "    .org {area} + RQ_TASKS\n    .quad {}",
            tasks.join(", ")
        );
    }
    let _ = writeln!(out, "    .org {area} + THREAD_SIZE");
}

/// A task struct and its kernel stack, which holds the frame `__switch_to_asm`
/// pops the first time the task is switched to (unused by the task a CPU starts
/// in, except for a kernel thread's return address): six
/// callee-saved registers and `ret_from_fork_*`, followed for a user task by
/// its `pt_regs` (entry point, user stack, IF set) and for a kernel thread by
/// its function and `kthread_exit` as the function's return address.
fn task_struct(out: &mut String, cpu: usize, task: &Task, runs_first: bool) {
    let label = &task.label;
    let active_mm = match task.mm {
        Some(mm) => mm_label(mm),
        None if runs_first => "init_mm".into(),
        None => "0".into(),
    };
    let flags = match (task.mm, task.idle) {
        (Some(_), _) => "0",
        (None, false) => "PF_KTHREAD",
        (None, true) => "PF_KTHREAD | PF_IDLE",
    };
    let mut frame: Vec<String> = vec!["0".into(); SWITCH_FRAME_WORDS];
    match task.mm {
        Some(_) => {
            frame.push("ret_from_fork_user".into());
            frame.extend(std::iter::repeat_n("0".to_string(), PT_REGS_GPR_WORDS));
            frame.extend([
                task.entry.clone(),
                "USER_CS".into(),
                "USER_RFLAGS".into(),
                format!("{} + THREAD_SIZE", task.user_stack()),
                "USER_DS".into(),
            ]);
        }
        None => frame.extend([
            "ret_from_fork_kthread".into(),
            task.entry.clone(),
            "kthread_exit".into(),
        ]),
    }
    let frame_bytes = frame.len() * 8;
    let saved_sp = if runs_first {
        "0".to_string()
    } else {
        format!("{label} + THREAD_SIZE - {frame_bytes}")
    };
    let _ = writeln!(out, "    .p2align 12\n{label}:");
    fields(
        out,
        label,
        &[
            ("TASK_PCPU", percpu_label(cpu)),
            ("TASK_SP", saved_sp),
            ("TASK_MM", task.mm.map_or_else(|| "0".to_string(), mm_label)),
            ("TASK_ACTIVE_MM", active_mm),
            ("TASK_FLAGS", flags.into()),
            ("TASK_STATE", "TASK_RUNNING".into()),
            ("TASK_ID", task.id.to_string()),
        ],
    );
    let _ = writeln!(
        out,
        "    .org {label} + THREAD_SIZE - {frame_bytes}\n    .quad {}",
        frame.join(", ")
    );
}
