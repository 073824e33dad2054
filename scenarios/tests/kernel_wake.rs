//! Blocked tasks and the scenario's Wake and Block events on the machine:
//! SYS_BLOCK and `block` sleep until a Wake, the idle CPU halts meanwhile and
//! runs the woken task at once (restarting its tick), a Block preempts the
//! task it names, and a wakeup never preempts a running task. Outcomes come
//! from memory the tasks write (time stamps), the runqueue's switch count and
//! the machine's counters.

mod kernel_harness;

use isa::asm::Program;
use kernel_harness::{IPI_LATENCY, context_switches, read, run, run_armed, task, vector};
use scenarios::kernel::{MAX_RQ_TASKS, TASK_WAKE_VECTOR, TaskRequest};
use scenarios::scenario::schema::{KernelOptions, TaskKind, TaskSpec};
use sim_core::machine::{InterruptTrigger, Machine, RunOutcome, StopReason};

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

/// Runs `program` with `events` raised at the tasks' CPUs, however the run stops.
fn start(
    options: &KernelOptions,
    tasks: &[TaskSpec],
    runqueues: &[&[&str]],
    program: &str,
    events: &[TaskEvent],
) -> (Machine, Program, RunOutcome) {
    run_armed(
        options,
        tasks,
        runqueues,
        program,
        |image, program, machine| {
            for event in events {
                let trigger = match event.at {
                    At::Cycle(cycle) => InterruptTrigger::Cycle(cycle),
                    At::Label(label) => InterruptTrigger::Retire(program.symbol(label).unwrap()),
                };
                let (cpu, vector) = image.task_request(event.task, event.request).unwrap();
                machine.schedule_interrupt(trigger, cpu, vector);
            }
        },
    )
}

/// [`start`], which must end with every CPU idle.
fn run_events(
    options: &KernelOptions,
    tasks: &[TaskSpec],
    runqueues: &[&[&str]],
    program: &str,
    events: &[TaskEvent],
) -> (Machine, Program, RunOutcome) {
    let (machine, program, outcome) = start(options, tasks, runqueues, program, events);
    assert_eq!(outcome.stop, StopReason::AllHalted);
    (machine, program, outcome)
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
    let (machine, program, outcome) = run_events(
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
    let (machine, program, _) = run(&options, &tasks, &[&["sleeper"]], &sleeper_program());
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
    let (machine, program, outcome) = run_events(
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
    let (machine, program, _) = run_events(&options, &tasks, &[&["u", "k"]], &program, &[wake]);
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
        let (machine, program, outcome) =
            run_events(&options, &tasks, runqueue, &source, &[block, wake]);
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
    let (machine, program, outcome) = run_events(
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
