//! The bundled kernel on two out-of-order cores: which CPUs membarrier
//! interrupts under each IPI policy, that it waits for their acknowledgement,
//! and what a CPU switching from a kernel thread to a user task serializes.
//! Outcomes come from the machine's IPI records and counters and from memory.

mod kernel_harness;

use isa::asm::Program;
use isa::reg::Width;
use kernel_harness::{context_switches, read, run, task, vector};
use scenarios::scenario::schema::{IpiPolicy, KernelOptions, TaskKind};
use sim_core::machine::{IpiRecord, Machine, RunOutcome};
use sim_core::system::SerializeReason;

/// CPU 0's caller: registers for membarrier, waits until CPU 1 says it is
/// running (`ready`; CPU 1 may be idle instead when `ready` starts at 1), calls
/// membarrier(CMD) and records the result and the time stamp after it, then
/// releases CPU 1 (`done`) and exits. `worker` (user or kernel thread) says
/// ready and spins until done.
fn membarrier_program(command: &str, ready: u64) -> String {
    format!(
        "
.data
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
# The worker spins with interrupts on, so it takes membarrier's IPI.
worker:
    mov qword ptr [ready], 1
worker_spin:
    pause
    cmp qword ptr [done], 0
    je worker_spin
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
    run(&options, &tasks, &[&["caller"], cpu1], &program)
}

/// The IPIs sent, as (from, to, vector).
fn ipis(machine: &Machine) -> Vec<(usize, usize, u8)> {
    machine
        .ipis()
        .iter()
        .map(|ipi| (ipi.from, ipi.to, ipi.vector))
        .collect()
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
    run(options, &tasks, &[&["caller"], &["u", "k"]], program)
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
    let (machine, program, outcome) = run(&options, &tasks, &[&["a", "b"]], program);
    assert_eq!(read(&machine, &program, "b_ran"), 1);
    // a -> b by the timer, b -> a at b's exit, a -> idle at a's exit.
    assert_eq!(context_switches(&machine, &program, 0), 3);
    assert!(outcome.per_core[0].interrupts >= 1);
    assert!(
        outcome.cycles >= 5_000,
        "b cannot run before the first tick"
    );
}
