//! The bundled kernel on two out-of-order cores: which CPUs membarrier
//! interrupts under each IPI policy, that it waits for their acknowledgement,
//! and what a CPU switching from a kernel thread to a user task serializes.
//! Outcomes come from the machine's IPI records and counters and from memory.

use isa::asm::Program;
use isa::reg::Width;
use scenarios::kernel::{MAX_RQ_TASKS, TASK_WAKE_VECTOR, TaskRequest, build, machine};
use scenarios::scenario::schema::{CpuSpec, IpiPolicy, KernelOptions, TaskKind, TaskSpec};
use sim_core::machine::{
    InterruptTrigger, IpiRecord, Machine, MachineConfig, RunOutcome, StopReason,
};
use sim_core::mem::Memory;
use sim_core::system::SerializeReason;

/// Cycles an IPI takes to arrive: long enough that a caller that did not wait
/// for the acknowledgement would return before the IPI is even taken.
const IPI_LATENCY: u64 = 300;

fn task(name: &str, kind: TaskKind) -> TaskSpec {
    TaskSpec {
        name: name.into(),
        kind,
        entry: name.into(),
    }
}

/// When a [`TaskEvent`] happens.
enum At {
    Cycle(u64),
    /// When a core retires the instruction at this label.
    Label(&'static str),
}

/// A Wake or Block of a task, as a scenario's `events` entry asks for it.
struct TaskEvent {
    at: At,
    task: &'static str,
    request: TaskRequest,
}

/// Runs `program` with the kernel, CPU `i` running `runqueues[i]`, and
/// `events` raised at the tasks' CPUs, until every CPU is idle.
fn run(
    options: &KernelOptions,
    tasks: &[TaskSpec],
    runqueues: &[&[&str]],
    program: &str,
    events: &[TaskEvent],
) -> (Machine, Program, RunOutcome) {
    let (machine, program, outcome) = start(options, tasks, runqueues, program, events);
    assert_eq!(
        outcome.stop,
        StopReason::AllHalted,
        "every CPU should end idle; IPIs: {:?}",
        machine.ipis()
    );
    (machine, program, outcome)
}

/// [`run`], however the run stops.
fn start(
    options: &KernelOptions,
    tasks: &[TaskSpec],
    runqueues: &[&[&str]],
    program: &str,
    events: &[TaskEvent],
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
    for event in events {
        let trigger = match event.at {
            At::Cycle(cycle) => InterruptTrigger::Cycle(cycle),
            At::Label(label) => InterruptTrigger::Retire(program.symbol(label).unwrap()),
        };
        let (cpu, vector) = image.task_request(event.task, event.request).unwrap();
        machine.schedule_interrupt(trigger, cpu, vector);
    }
    let outcome = machine.run();
    (machine, program, outcome)
}

fn read(machine: &Machine, program: &Program, label: &str) -> u64 {
    let address = program
        .symbol(label)
        .unwrap_or_else(|| panic!("no {label}"));
    machine.memory().read(address, Width::B8)
}

/// CPU 0's caller: registers for membarrier, waits until CPU 1 says it is
/// running (`ready`; CPU 1 may be idle instead when `ready` starts at 1), calls
/// membarrier(CMD) and records the result and the time stamp after it, then
/// releases CPU 1 (`done`) and exits. `worker` (user or kernel thread) says
/// ready and spins until done.
fn membarrier_program(command: &str, ready: u64) -> String {
    format!(
        "
.data
worker_next: .quad worker_spin, worker_done
ready: .quad {ready}
done: .quad 0
result: .quad 0
returned_at: .quad 0
.text
caller:
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_REGISTER_{command}
    xor esi, esi
    syscall
1:  cmp qword ptr [ready], 0
    je 1b
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_{command}
    xor esi, esi
    syscall
    mov qword ptr [result], rax
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov qword ptr [returned_at], rax
    mov qword ptr [done], 1
    mov eax, SYS_EXIT
    syscall
# The worker spins without writing RFLAGS (an indirect jump on `done`): the
# out-of-order machine currently loses IF when a uop such as `cmp` writes the
# status flags, and a CPU with IF clear never takes the IPI.
worker:
    mov qword ptr [ready], 1
worker_spin:
    pause
    mov rax, qword ptr [done]
    jmp qword ptr [worker_next + rax * 8]
worker_done:
.if WORKER_IS_KTHREAD
    call kthread_exit
.else
    mov eax, SYS_EXIT
    syscall
.endif
"
    )
}

/// Runs the caller on CPU 0 against `worker` on CPU 1 (or an idle CPU 1).
fn membarrier_run(
    policy: IpiPolicy,
    worker: Option<TaskKind>,
    command: &str,
) -> (Machine, Program, RunOutcome) {
    let options = KernelOptions {
        membarrier_ipi: policy,
        ..KernelOptions::default()
    };
    let mut tasks = vec![task("caller", TaskKind::User { mm: 1 })];
    let kthread = worker == Some(TaskKind::Kernel);
    let cpu1: &[&str] = match worker {
        Some(kind) => {
            tasks.push(task("worker", kind));
            &["worker"]
        }
        None => &[],
    };
    let program = format!(
        ".set WORKER_IS_KTHREAD, {}\n{}",
        u8::from(kthread),
        membarrier_program(command, u64::from(cpu1.is_empty()))
    );
    run(&options, &tasks, &[&["caller"], cpu1], &program, &[])
}

/// The IPIs sent, as (from, to, vector).
fn ipis(machine: &Machine) -> Vec<(usize, usize, u8)> {
    machine
        .ipis()
        .iter()
        .map(|ipi| (ipi.from, ipi.to, ipi.vector))
        .collect()
}

fn vector(program: &Program, name: &str) -> u8 {
    let value = program.symbol(name).unwrap();
    u8::try_from(value).unwrap_or_else(|_| panic!("{name} = {value} is not a vector"))
}

#[test]
fn membarrier_interrupts_a_cpu_running_the_same_mm_and_waits_for_its_ack() {
    let (machine, program, _) = membarrier_run(
        IpiPolicy::SameMm,
        Some(TaskKind::User { mm: 1 }),
        "PRIVATE_EXPEDITED",
    );
    assert_eq!(read(&machine, &program, "result"), 0);
    let vector = vector(&program, "IPI_MB_VECTOR");
    assert_eq!(ipis(&machine), [(0, 1, vector)]);
    let IpiRecord { taken, .. } = machine.ipis()[0];
    let taken = taken.expect("CPU 1 took the IPI");
    let returned_at = read(&machine, &program, "returned_at");
    assert!(
        taken < returned_at,
        "membarrier returned at cycle {returned_at}, before CPU 1 took the IPI at {taken}"
    );
    // The acknowledgement cleared CPU 0's call-function slot on CPU 1.
    let slot = program.symbol("percpu_1").unwrap() + program.symbol("PCPU_CSD").unwrap();
    assert_eq!(machine.memory().read(slot, Width::B8), 0);
}

/// How often `core` executed a `serialize` instruction.
fn serialize_instructions(outcome: &RunOutcome, core: usize) -> u64 {
    let counts = &outcome.per_core[core].serializations_by_reason;
    counts
        .get(&SerializeReason::Serialize)
        .copied()
        .unwrap_or(0)
}

#[test]
fn sync_core_ipis_serialize_the_interrupted_cpu() {
    // ipi_sync_core runs `serialize` on CPU 1; ipi_mb does not. CPU 0 runs its
    // own for SYNC_CORE (MEMBARRIER_SELF_SYNC is on by default).
    for (command, vector_name, serialized) in [
        ("PRIVATE_EXPEDITED", "IPI_MB_VECTOR", 0),
        ("PRIVATE_EXPEDITED_SYNC_CORE", "IPI_SYNC_CORE_VECTOR", 1),
    ] {
        let (machine, program, outcome) =
            membarrier_run(IpiPolicy::SameMm, Some(TaskKind::User { mm: 1 }), command);
        assert_eq!(read(&machine, &program, "result"), 0, "{command}");
        assert_eq!(ipis(&machine), [(0, 1, vector(&program, vector_name))]);
        assert_eq!(serialize_instructions(&outcome, 1), serialized, "{command}");
        assert_eq!(serialize_instructions(&outcome, 0), serialized, "{command}");
    }
}

#[test]
fn same_mm_skips_a_kernel_thread_that_all_but_idle_interrupts() {
    let vector_of = |program: &Program| vector(program, "IPI_MB_VECTOR");
    for (policy, interrupted) in [
        (IpiPolicy::SameMm, false),
        (IpiPolicy::SkipKthreads, false),
        (IpiPolicy::AllButIdle, true),
        (IpiPolicy::All, true),
    ] {
        let (machine, program, _) =
            membarrier_run(policy, Some(TaskKind::Kernel), "PRIVATE_EXPEDITED");
        assert_eq!(read(&machine, &program, "result"), 0, "{policy:?}");
        let expected = if interrupted {
            vec![(0, 1, vector_of(&program))]
        } else {
            vec![]
        };
        assert_eq!(ipis(&machine), expected, "{policy:?}");
        assert!(machine.ipis().iter().all(|ipi| ipi.taken.is_some()));
    }
}

#[test]
fn only_the_all_policy_wakes_an_idle_cpu() {
    for (policy, interrupted) in [
        (IpiPolicy::SameMm, false),
        (IpiPolicy::AllButIdle, false),
        (IpiPolicy::All, true),
    ] {
        let (machine, program, _) = membarrier_run(policy, None, "PRIVATE_EXPEDITED");
        assert_eq!(read(&machine, &program, "result"), 0, "{policy:?}");
        assert_eq!(ipis(&machine).len(), usize::from(interrupted), "{policy:?}");
    }
}

/// The case of the 2020 thread: CPU 1 runs user task `u` (mm 1), which yields
/// to kernel thread `k`; k runs lazily on mm 1 while CPU 0 calls
/// membarrier(SYNC_CORE) for mm 1; then k yields back to u, which returns to
/// user mode through SYSRET. Returns the run and how many IPIs were sent.
fn lazy_kthread_run(options: &KernelOptions) -> (Machine, Program, RunOutcome) {
    let program = "
.data
k_next: .quad k_spin, k_done
ready: .quad 0
done: .quad 0
result: .quad 0
u_back: .quad 0
.text
caller:
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    xor esi, esi
    syscall
1:  cmp qword ptr [ready], 0
    je 1b
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
    xor esi, esi
    syscall
    mov qword ptr [result], rax
    mov qword ptr [done], 1
    mov eax, SYS_EXIT
    syscall
u:
    mov eax, SYS_SCHED_YIELD
    syscall
    mov qword ptr [u_back], 1
    mov eax, SYS_EXIT
    syscall
# Spins without writing RFLAGS (see the worker above).
k:
    mov qword ptr [ready], 1
k_spin:
    pause
    mov rax, qword ptr [done]
    jmp qword ptr [k_next + rax * 8]
k_done:
    call yield
    call kthread_exit
";
    let tasks = [
        task("caller", TaskKind::User { mm: 1 }),
        task("u", TaskKind::User { mm: 1 }),
        task("k", TaskKind::Kernel),
    ];
    run(options, &tasks, &[&["caller"], &["u", "k"]], program, &[])
}

#[test]
fn same_mm_membarrier_misses_a_lazy_kernel_thread_that_returns_to_the_mm() {
    // (policy, sync_core_before_usermode) -> IPIs to CPU 1, `serialize`s on CPU 1.
    for (policy, sync_before_user, ipis_sent, serialized) in [
        // The hole: no IPI, and k -> u returns to mm 1 through SYSRET without
        // any serializing instruction (no CR3 write either: same mm).
        (IpiPolicy::SameMm, false, 0, 0),
        // finish_task_switch's membarrier_mm_sync_core_before_usermode closes it.
        (IpiPolicy::SameMm, true, 0, 1),
        // The proposed fix: k is not idle, so it gets the IPI (ipi_sync_core).
        (IpiPolicy::AllButIdle, false, 1, 1),
    ] {
        let options = KernelOptions {
            membarrier_ipi: policy,
            sync_core_before_usermode: sync_before_user,
            ..KernelOptions::default()
        };
        let (machine, program, outcome) = lazy_kthread_run(&options);
        let case = format!("{policy:?}, sync_core_before_usermode: {sync_before_user}");
        assert_eq!(read(&machine, &program, "result"), 0, "{case}");
        assert_eq!(read(&machine, &program, "u_back"), 1, "{case}");
        assert_eq!(machine.ipis().len(), ipis_sent, "{case}");
        assert_eq!(serialize_instructions(&outcome, 1), serialized, "{case}");
        let cr3_writes = &outcome.per_core[1].serializations_by_reason;
        assert_eq!(cr3_writes.get(&SerializeReason::MovToCr(3)), None, "{case}");
    }
}

#[test]
fn the_timer_preempts_a_user_task_that_never_yields() {
    // a spins until b has run; only a timer interrupt can give b the CPU.
    // (Flag-free loop, see the worker above.)
    let program = "
.data
a_next: .quad a_spin, a_done
b_ran: .quad 0
.text
a:
a_spin:
    pause
    mov rax, qword ptr [b_ran]
    jmp qword ptr [a_next + rax * 8]
a_done:
    mov eax, SYS_EXIT
    syscall
b:
    mov qword ptr [b_ran], 1
    mov eax, SYS_EXIT
    syscall
";
    let tasks = [
        task("a", TaskKind::User { mm: 1 }),
        task("b", TaskKind::User { mm: 2 }),
    ];
    let options = KernelOptions {
        timer_period: Some(5_000),
        ..KernelOptions::default()
    };
    let (machine, program, outcome) = run(&options, &tasks, &[&["a", "b"]], program, &[]);
    assert_eq!(read(&machine, &program, "b_ran"), 1);
    // a -> b by the timer, b -> a at b's exit, a -> idle at a's exit.
    assert_eq!(context_switches(&machine, &program, 0), 3);
    assert!(outcome.per_core[0].interrupts >= 1);
    assert!(
        outcome.cycles >= 5_000,
        "b cannot run before the first tick"
    );
}

/// How often CPU `cpu` switched tasks (`rq->nr_switches`).
fn context_switches(machine: &Machine, program: &Program, cpu: usize) -> u64 {
    let field = program.symbol(&format!("percpu_{cpu}")).unwrap()
        + program.symbol("RQ_NR_SWITCHES").unwrap();
    machine.memory().read(field, Width::B8)
}

/// The time stamp counter into `[label]` (clobbers rax, rdx).
fn record_time(label: &str) -> String {
    format!("    rdtsc\n    shl rdx, 32\n    or rax, rdx\n    mov qword ptr [{label}], rax\n")
}

/// Cycle of the Wake event in the tests below: long after the sleeper blocked.
const WAKE_CYCLE: u64 = 20_000;

fn sleeper_program() -> String {
    format!(
        "
.data
blocked_at: .quad 0
block_result: .quad -1
woke_at: .quad 0
.text
sleeper:
{}    mov eax, SYS_BLOCK
    syscall
    mov qword ptr [block_result], rax
{}    mov eax, SYS_EXIT
    syscall
",
        record_time("blocked_at"),
        record_time("woke_at")
    )
}

#[test]
fn a_task_blocked_by_sys_block_sleeps_on_a_halted_cpu_until_a_wake_event() {
    let tasks = [task("sleeper", TaskKind::User { mm: 1 })];
    let wake = TaskEvent {
        at: At::Cycle(WAKE_CYCLE),
        task: "sleeper",
        request: TaskRequest::Wake,
    };
    let options = KernelOptions::default();
    let (machine, program, outcome) = run(
        &options,
        &tasks,
        &[&["sleeper"]],
        &sleeper_program(),
        &[wake],
    );
    // The builder's vectors are the kernel's.
    let block_vector = TASK_WAKE_VECTOR + MAX_RQ_TASKS as u8;
    assert_eq!(vector(&program, "TASK_WAKE_VECTOR"), TASK_WAKE_VECTOR);
    assert_eq!(vector(&program, "TASK_BLOCK_VECTOR"), block_vector);
    let blocked_at = read(&machine, &program, "blocked_at");
    let woke_at = read(&machine, &program, "woke_at");
    assert_eq!(read(&machine, &program, "block_result"), 0);
    assert!(
        blocked_at > 0 && blocked_at < WAKE_CYCLE,
        "blocked at {blocked_at}"
    );
    assert!(woke_at > WAKE_CYCLE, "woke at {woke_at}, before the event");
    // sleeper -> idle (SYS_BLOCK), idle -> sleeper (the Wake's handler),
    // sleeper -> idle (exit). The idle task halted instead of polling: a CPU
    // spinning for WAKE_CYCLE cycles would retire far more instructions.
    assert_eq!(context_switches(&machine, &program, 0), 3);
    assert_eq!(outcome.per_core[0].interrupts, 1);
    assert!(
        outcome.per_core[0].retired < 1_000,
        "{} instructions retired",
        outcome.per_core[0].retired
    );

    // Without the event the task never comes back, and the run still ends.
    let (machine, program, _) = run(&options, &tasks, &[&["sleeper"]], &sleeper_program(), &[]);
    assert_eq!(read(&machine, &program, "woke_at"), 0);
    assert_eq!(context_switches(&machine, &program, 0), 1);
}

#[test]
fn a_wake_before_the_task_blocks_is_lost() {
    // try_to_wake_up only wakes a sleeping task: the Wake arrives (at cycle
    // IPI_LATENCY) while the sleeper still runs, so it later sleeps for good.
    let tasks = [task("sleeper", TaskKind::User { mm: 1 })];
    let early = TaskEvent {
        at: At::Cycle(0),
        task: "sleeper",
        request: TaskRequest::Wake,
    };
    let options = KernelOptions::default();
    let (machine, program, outcome) = run(
        &options,
        &tasks,
        &[&["sleeper"]],
        &sleeper_program(),
        &[early],
    );
    assert_eq!(outcome.per_core[0].interrupts, 1);
    let blocked_at = read(&machine, &program, "blocked_at");
    assert!(
        blocked_at > IPI_LATENCY,
        "blocked at {blocked_at}, after the Wake"
    );
    assert_eq!(read(&machine, &program, "woke_at"), 0);
}

#[test]
fn a_kernel_thread_blocks_and_a_wake_on_the_idle_cpu_runs_it_again() {
    // u runs and exits, k blocks, CPU 0 idles until the Wake of k (slot 1).
    let program = format!(
        "
.data
u_ran_at: .quad 0
k_woke_at: .quad 0
.text
k:
    call block
{}    call kthread_exit
u:
{}    mov eax, SYS_EXIT
    syscall
",
        record_time("k_woke_at"),
        record_time("u_ran_at")
    );
    let tasks = [
        task("k", TaskKind::Kernel),
        task("u", TaskKind::User { mm: 1 }),
    ];
    let wake = TaskEvent {
        at: At::Cycle(WAKE_CYCLE),
        task: "k",
        request: TaskRequest::Wake,
    };
    let options = KernelOptions::default();
    let (machine, program, _) = run(&options, &tasks, &[&["u", "k"]], &program, &[wake]);
    let u_ran_at = read(&machine, &program, "u_ran_at");
    assert!(u_ran_at > 0 && u_ran_at < WAKE_CYCLE, "u ran at {u_ran_at}");
    assert!(read(&machine, &program, "k_woke_at") > WAKE_CYCLE);
    // u -> k, k -> idle, idle -> k, k -> idle.
    assert_eq!(context_switches(&machine, &program, 0), 4);
}

/// `spinner` spins until `other` ran; nothing but a Block can give `other` the
/// CPU (no timer). At `other_wakes`, `other` has a Wake of the spinner raised,
/// and keeps the CPU long enough for it to arrive (IPI_LATENCY) before exiting.
fn block_program(spinner_is_kthread: bool) -> String {
    let exit = if spinner_is_kthread {
        "call kthread_exit"
    } else {
        "mov eax, SYS_EXIT\n    syscall"
    };
    format!(
        "
.data
other_ran: .quad 0
other_exit_at: .quad 0
spinner_back_at: .quad 0
.text
spinner:
spinner_started:
    xor eax, eax
spinner_spin:
    pause
    cmp qword ptr [other_ran], 0
    je spinner_spin
{}    {exit}
other:
    mov qword ptr [other_ran], 1
other_wakes:
    mov ecx, {}
1:  dec ecx
    jnz 1b
{}    mov eax, SYS_EXIT
    syscall
",
        record_time("spinner_back_at"),
        IPI_LATENCY * 4,
        record_time("other_exit_at"),
    )
}

#[test]
fn a_block_event_at_a_label_preempts_a_spinning_task_for_another_one() {
    for kthread in [false, true] {
        let spinner = if kthread {
            task("spinner", TaskKind::Kernel)
        } else {
            task("spinner", TaskKind::User { mm: 1 })
        };
        let tasks = [spinner, task("other", TaskKind::User { mm: 2 })];
        let block = TaskEvent {
            at: At::Label("spinner_started"),
            task: "spinner",
            request: TaskRequest::Block,
        };
        let wake = TaskEvent {
            at: At::Label("other_wakes"),
            task: "spinner",
            request: TaskRequest::Wake,
        };
        let options = KernelOptions::default();
        let source = block_program(kthread);
        let runqueue: &[&[&str]] = &[&["spinner", "other"]];
        let (machine, program, outcome) = run(&options, &tasks, runqueue, &source, &[block, wake]);
        let case = format!("spinner is a kernel thread: {kthread}");
        assert_eq!(read(&machine, &program, "other_ran"), 1, "{case}");
        assert_eq!(outcome.per_core[0].interrupts, 2, "{case}");
        // The Wake made the spinner runnable without preempting other: it
        // runs again once other exits.
        let (other_exit, spinner_back) = (
            read(&machine, &program, "other_exit_at"),
            read(&machine, &program, "spinner_back_at"),
        );
        assert!(0 < other_exit && other_exit < spinner_back, "{case}");
        // spinner -> other (Block), other -> spinner (exit), spinner -> idle.
        assert_eq!(context_switches(&machine, &program, 0), 3, "{case}");

        // Without the events the spinner keeps the CPU to the cycle limit.
        let (machine, program, outcome) = start(&options, &tasks, runqueue, &source, &[]);
        assert_eq!(outcome.stop, StopReason::CycleLimit, "{case}");
        assert_eq!(read(&machine, &program, "other_ran"), 0, "{case}");
    }
}

#[test]
fn a_wake_on_an_idle_cpu_restarts_the_stopped_tick() {
    // a and b block; the tick stops on the idle CPU (first tick at 5000).
    // Both are woken at WAKE_CYCLE; whichever runs first spins until the
    // other ran, which only a tick restarted by the Wake can arrange.
    let program = "
.data
a_ran: .quad 0
b_ran: .quad 0
.text
a:
    mov eax, SYS_BLOCK
    syscall
    mov qword ptr [a_ran], 1
1:  pause
    cmp qword ptr [b_ran], 0
    je 1b
    mov eax, SYS_EXIT
    syscall
b:
    mov eax, SYS_BLOCK
    syscall
    mov qword ptr [b_ran], 1
1:  pause
    cmp qword ptr [a_ran], 0
    je 1b
    mov eax, SYS_EXIT
    syscall
";
    let tasks = [
        task("a", TaskKind::User { mm: 1 }),
        task("b", TaskKind::User { mm: 1 }),
    ];
    let wake = |task| TaskEvent {
        at: At::Cycle(WAKE_CYCLE),
        task,
        request: TaskRequest::Wake,
    };
    let options = KernelOptions {
        timer_period: Some(5_000),
        ..KernelOptions::default()
    };
    let (machine, program, outcome) = run(
        &options,
        &tasks,
        &[&["a", "b"]],
        program,
        &[wake("a"), wake("b")],
    );
    assert_eq!(read(&machine, &program, "a_ran"), 1);
    assert_eq!(read(&machine, &program, "b_ran"), 1);
    assert!(
        outcome.cycles > WAKE_CYCLE + 5_000,
        "no tick before {}",
        outcome.cycles
    );
}
