//! The bundled kernel on one CPU of the reference interpreter: system calls,
//! context switches, lazy TLB and the two return paths, checked on the
//! architectural state (memory, registers, the system instructions retired).

use isa::asm::Program;
use isa::reg::{Gpr, Width};
use scenarios::kernel::{KernelError, build};
use scenarios::scenario::schema::{CpuSpec, KernelOptions, ReturnPath, TaskKind, TaskSpec};
use sim_core::mem::Memory;
use sim_core::reference::{Interpreter, Stop};
use sim_core::system::{SerializeReason, SysEffect, SystemConfig};

/// Offsets of `abi.s` the tests read (the kernel's own constants, looked up in
/// the program so a change there cannot go unnoticed here).
fn constant(program: &Program, name: &str) -> u64 {
    program
        .symbol(name)
        .unwrap_or_else(|| panic!("no constant {name}"))
}

fn user(name: &str, mm: u64) -> TaskSpec {
    TaskSpec {
        name: name.into(),
        kind: TaskKind::User { mm },
        entry: name.into(),
    }
}

fn kthread(name: &str) -> TaskSpec {
    TaskSpec {
        name: name.into(),
        kind: TaskKind::Kernel,
        entry: name.into(),
    }
}

/// Runs `program` with the kernel on one CPU whose runqueue is `run`.
fn run(options: &KernelOptions, tasks: &[TaskSpec], program: &str) -> (Interpreter, Program) {
    let cpus = [CpuSpec {
        run: tasks.iter().map(|t| t.name.clone()).collect(),
    }];
    let image = build(options, tasks, &cpus).unwrap_or_else(|e| panic!("{e}"));
    let program = isa::asm::assemble(&image.source(program)).unwrap_or_else(|e| panic!("{e}"));
    let mut memory = Memory::new();
    for section in &program.sections {
        memory.load_bytes(section.base, &section.bytes);
    }
    let setup = image.boot(&program).unwrap_or_else(|e| panic!("{e}"));
    let mut cpu = setup[0].interpreter(memory, SystemConfig::default(), 0);
    assert_eq!(cpu.run(100_000), Ok(Stop::Halted), "the CPU ends idle");
    (cpu, program)
}

fn read(cpu: &Interpreter, program: &Program, label: &str, index: u64) -> u64 {
    let base = program
        .symbol(label)
        .unwrap_or_else(|| panic!("no {label}"));
    cpu.mem.read(base + index * 8, Width::B8)
}

/// The log of task activity: each entry is a task's number and its step.
fn log(cpu: &Interpreter, program: &Program) -> Vec<u64> {
    let len = read(cpu, program, "log_len", 0);
    (0..len).map(|i| read(cpu, program, "log", i)).collect()
}

/// How often each serialization happened.
fn serializations(cpu: &Interpreter, reason: SerializeReason) -> usize {
    cpu.sys_log
        .iter()
        .filter(|(_, effect)| *effect == SysEffect::Serialize(reason))
        .count()
}

/// Two user tasks that log, yield, log and exit; callee- and caller-saved
/// registers set before the yield are stored after it.
const TWO_YIELDERS: &str = "
.data
log_len: .quad 0
log: .zero 64
saved: .zero 64
.text
# Appends rdi to the log (user code, no system call).
append:
    mov rax, qword ptr [log_len]
    mov qword ptr [log + rax * 8], rdi
    inc qword ptr [log_len]
    ret
a:
    mov edi, 0xa1
    call append
    mov ebx, 0x1111
    mov r12d, 0x2222
    mov r9d, 0x3333
    mov eax, SYS_SCHED_YIELD
    syscall
    mov qword ptr [saved], rax
    mov qword ptr [saved + 8], rbx
    mov qword ptr [saved + 16], r12
    mov qword ptr [saved + 24], r9
    mov qword ptr [saved + 32], rsp
    mov edi, 0xa2
    call append
    mov eax, SYS_EXIT
    syscall
b:
    mov edi, 0xb1
    call append
    mov eax, SYS_SCHED_YIELD
    syscall
    mov edi, 0xb2
    call append
    mov eax, SYS_EXIT
    syscall
";

#[test]
fn sched_yield_switches_between_tasks_in_round_robin() {
    let tasks = [user("a", 1), user("b", 2)];
    let (cpu, program) = run(&KernelOptions::default(), &tasks, TWO_YIELDERS);
    assert_eq!(log(&cpu, &program), [0xa1, 0xb1, 0xa2, 0xb2]);
    // sched_yield returned 0 and the user's registers survived the switches.
    let user_stack_top = program.symbol("task_a_user_stack").unwrap() + 0x1000;
    assert_eq!(
        (0..5)
            .map(|i| read(&cpu, &program, "saved", i))
            .collect::<Vec<_>>(),
        [0, 0x1111, 0x2222, 0x3333, user_stack_top]
    );
    // Both exited: the CPU runs its idle task, after 4 switches
    // (a->b, b->a, a->b at a's exit, b->idle at b's exit).
    let percpu = program.symbol("percpu_0").unwrap();
    let rq = |field: &str| cpu.mem.read(percpu + constant(&program, field), Width::B8);
    assert_eq!(rq("RQ_CURR"), program.symbol("idle_task_0").unwrap());
    assert_eq!(rq("RQ_NR_SWITCHES"), 4);
    let dead = constant(&program, "TASK_DEAD");
    assert_eq!(task_field(&cpu, &program, "task_a", "TASK_STATE"), dead);
    assert_eq!(task_field(&cpu, &program, "task_b", "TASK_STATE"), dead);
    // The idle task borrowed b's mm lazily: CR3 still holds it.
    let mm2 = program.symbol("mm_2").unwrap();
    assert_eq!(
        task_field(&cpu, &program, "idle_task_0", "TASK_ACTIVE_MM"),
        mm2
    );
    assert_eq!(cpu.sys.as_ref().unwrap().cr3(), 2);
    assert_eq!(
        cpu.reg(Gpr::Rsp) & !0xfff,
        program.symbol("idle_task_0").unwrap()
    );
}

#[test]
fn cr3_is_written_only_when_the_mm_changes() {
    // a->b, b->a, a->b change mm when the tasks have different ones; the switch
    // to idle never does (lazy TLB).
    for (mm_b, cr3_writes) in [(2, 3), (1, 0)] {
        let tasks = [user("a", 1), user("b", mm_b)];
        let (cpu, _) = run(&KernelOptions::default(), &tasks, TWO_YIELDERS);
        assert_eq!(
            serializations(&cpu, SerializeReason::MovToCr(3)),
            cr3_writes,
            "mm of b = {mm_b}"
        );
    }
}

#[test]
fn the_return_path_is_sysret_or_iret_as_configured() {
    let tasks = [user("a", 1), user("b", 2)];
    // Returns to user mode: b's first run, a after its yield, b after its yield.
    for (path, irets) in [(ReturnPath::Sysret, 0), (ReturnPath::Iret, 3)] {
        let options = KernelOptions {
            return_to_user: path,
            ..KernelOptions::default()
        };
        let (cpu, program) = run(&options, &tasks, TWO_YIELDERS);
        assert_eq!(log(&cpu, &program), [0xa1, 0xb1, 0xa2, 0xb2], "{path:?}");
        assert_eq!(
            serializations(&cpu, SerializeReason::Iret),
            irets,
            "{path:?}"
        );
    }
}

#[test]
fn unknown_system_calls_fail_with_enosys_and_membarrier_checks_registration() {
    let tasks = [user("a", 1)];
    let program = "
.data
results: .zero 64
.text
a:
    mov eax, 1000
    syscall
    mov qword ptr [results], rax
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_PRIVATE_EXPEDITED
    xor esi, esi
    syscall
    mov qword ptr [results + 8], rax
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    syscall
    mov qword ptr [results + 16], rax
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_PRIVATE_EXPEDITED
    syscall
    mov qword ptr [results + 24], rax
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_QUERY
    syscall
    mov qword ptr [results + 32], rax
    mov eax, SYS_MEMBARRIER
    mov edi, 12345
    syscall
    mov qword ptr [results + 40], rax
    mov eax, SYS_EXIT
    syscall
";
    let (cpu, program) = run(&KernelOptions::default(), &tasks, program);
    let results: Vec<i64> = (0..6)
        .map(|i| read(&cpu, &program, "results", i) as i64)
        .collect();
    assert_eq!(results, [-38, -1, 0, 0, 8 | 16 | 32 | 64, -22]);
}

#[test]
fn membarrier_sync_core_serializes_the_caller_only_with_self_sync() {
    // One CPU: no other CPU to interrupt, so the only serialization of the
    // command is the caller's own (MEMBARRIER_SELF_SYNC).
    let program = "
a:
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    xor esi, esi
    syscall
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
    syscall
    mov eax, SYS_EXIT
    syscall
";
    for self_sync in [false, true] {
        let options = KernelOptions {
            membarrier_self_sync: self_sync,
            ..KernelOptions::default()
        };
        let (cpu, _) = run(&options, &[user("a", 1)], program);
        assert_eq!(
            serializations(&cpu, SerializeReason::Serialize),
            usize::from(self_sync)
        );
    }
}

#[test]
fn bad_runqueues_are_reported_with_hints() {
    let options = KernelOptions::default();
    let cpus = |names: &[&str]| {
        vec![CpuSpec {
            run: names.iter().map(|n| n.to_string()).collect(),
        }]
    };
    let error = build(&options, &[user("writer", 1)], &cpus(&["writre"])).unwrap_err();
    assert!(matches!(error, KernelError::UnknownTask { cpu: 0, .. }));
    assert_eq!(error.hint().as_deref(), Some("did you mean `writer`?"));
    let error = build(&options, &[user("a", 1), user("b", 1)], &cpus(&["a"])).unwrap_err();
    assert_eq!(error.to_string(), "task `b` is on no CPU's runqueue");
    let error = build(&options, &[user("a", 0)], &cpus(&["a"])).unwrap_err();
    assert!(matches!(error, KernelError::MmZero { .. }));
    let error = build(&options, &[user("a-b", 1)], &cpus(&["a-b"])).unwrap_err();
    assert!(matches!(error, KernelError::BadTaskName { .. }));
    let two = [
        CpuSpec {
            run: vec!["a".into()],
        },
        CpuSpec {
            run: vec!["a".into()],
        },
    ];
    let error = build(&options, &[user("a", 1)], &two).unwrap_err();
    assert_eq!(
        error.to_string(),
        "task `a` is on the runqueues of CPU 0 and CPU 1"
    );
    assert_eq!(build(&options, &[], &[]).unwrap_err(), KernelError::NoCpus);
}

/// Reads a field of a task struct.
fn task_field(cpu: &Interpreter, program: &Program, task: &str, field: &str) -> u64 {
    let base = program.symbol(task).unwrap();
    cpu.mem.read(base + constant(program, field), Width::B8)
}

/// User tasks a and b share mm 1; kernel thread k runs between them and
/// records its mm, active_mm and CR3 each time it runs.
const LAZY_KTHREAD: &str = "
.data
seen: .zero 64
.text
a:
    mov eax, SYS_MEMBARRIER
    mov edi, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    xor esi, esi
    syscall
    mov eax, SYS_SCHED_YIELD
    syscall
    mov eax, SYS_EXIT
    syscall
b:
    mov eax, SYS_EXIT
    syscall
# Kernel thread: stores current->mm, ->active_mm and CR3 at [rdi].
k_record:
    mov rax, rsp
    and rax, -THREAD_SIZE
    mov rcx, qword ptr [rax + TASK_MM]
    mov qword ptr [rdi], rcx
    mov rcx, qword ptr [rax + TASK_ACTIVE_MM]
    mov qword ptr [rdi + 8], rcx
    mov rcx, cr3
    mov qword ptr [rdi + 16], rcx
    ret
k:
    lea rdi, [seen]
    call k_record
    call yield
    lea rdi, [seen + 24]
    call k_record
    call kthread_exit
";

#[test]
fn a_kernel_thread_borrows_the_previous_mm_lazily() {
    // a -> k -> b -> a -> k -> idle, all on mm 1 or lazily on it: no CR3
    // write at all, k has no mm but runs on a's.
    let tasks = [user("a", 1), kthread("k"), user("b", 1)];
    let (cpu, program) = run(&KernelOptions::default(), &tasks, LAZY_KTHREAD);
    let mm1 = program.symbol("mm_1").unwrap();
    let seen: Vec<u64> = (0..6).map(|i| read(&cpu, &program, "seen", i)).collect();
    assert_eq!(seen, [0, mm1, 1, 0, mm1, 1]);
    assert_eq!(serializations(&cpu, SerializeReason::MovToCr(3)), 0);
    assert_eq!(
        task_field(&cpu, &program, "idle_task_0", "TASK_ACTIVE_MM"),
        mm1
    );
    // mm_count: mm_users' reference plus the lazy one the idle task holds.
    let count = cpu
        .mem
        .read(mm1 + constant(&program, "MM_COUNT"), Width::B8);
    assert_eq!(count, 2);
    let flags = task_field(&cpu, &program, "task_k", "TASK_FLAGS");
    assert_eq!(flags, constant(&program, "PF_KTHREAD"));
}

#[test]
fn without_lazy_tlb_refcount_lazy_references_are_not_counted() {
    // The same switches as above with CONFIG_MMU_LAZY_TLB_REFCOUNT=n: no
    // mmgrab when k borrows mm 1, no mmdrop in finish_task_switch, no lazy
    // reference at exit, so mm_count keeps its one initial reference (and
    // finish_task_switch loses the full barrier of its atomic).
    let tasks = [user("a", 1), kthread("k"), user("b", 1)];
    for (refcount, count) in [(true, 2), (false, 1)] {
        let options = KernelOptions {
            lazy_tlb_refcount: refcount,
            ..KernelOptions::default()
        };
        let (cpu, program) = run(&options, &tasks, LAZY_KTHREAD);
        let mm1 = program.symbol("mm_1").unwrap();
        let mm_count = constant(&program, "MM_COUNT");
        assert_eq!(
            cpu.mem.read(mm1 + mm_count, Width::B8),
            count,
            "lazy_tlb_refcount: {refcount}"
        );
    }
}

#[test]
fn finish_task_switch_syncs_the_core_after_a_lazy_kernel_thread_when_enabled() {
    // membarrier_mm_sync_core_before_usermode runs when a task on mm 1
    // (registered for SYNC_CORE) follows a task that ran lazily on mm 1:
    // k -> b, and b (exited, lazy) -> a.
    let tasks = [user("a", 1), kthread("k"), user("b", 1)];
    for (enabled, serializes) in [(false, 0), (true, 2)] {
        let options = KernelOptions {
            sync_core_before_usermode: enabled,
            ..KernelOptions::default()
        };
        let (cpu, _) = run(&options, &tasks, LAZY_KTHREAD);
        assert_eq!(
            serializations(&cpu, SerializeReason::Serialize),
            serializes,
            "sync_core_before_usermode: {enabled}"
        );
    }
}

#[test]
fn kthread_use_mm_switches_to_the_mm_and_unuse_keeps_it_lazily() {
    let tasks = [kthread("k"), user("a", 1)];
    let program = "
.data
seen: .zero 64
.text
a:
    mov eax, SYS_EXIT
    syscall
k:
    lea rdi, [mm_1]
    call kthread_use_mm
    mov rax, rsp
    and rax, -THREAD_SIZE
    mov rcx, qword ptr [rax + TASK_MM]
    mov qword ptr [seen], rcx
    mov rcx, cr3
    mov qword ptr [seen + 8], rcx
    call yield
    lea rdi, [mm_1]
    call kthread_unuse_mm
    mov rax, rsp
    and rax, -THREAD_SIZE
    mov rcx, qword ptr [rax + TASK_MM]
    mov qword ptr [seen + 16], rcx
    mov rcx, qword ptr [rax + TASK_ACTIVE_MM]
    mov qword ptr [seen + 24], rcx
    call kthread_exit
";
    let (cpu, program) = run(&KernelOptions::default(), &tasks, program);
    let mm1 = program.symbol("mm_1").unwrap();
    let seen: Vec<u64> = (0..4).map(|i| read(&cpu, &program, "seen", i)).collect();
    assert_eq!(seen, [mm1, 1, 0, mm1]);
    // Only kthread_use_mm loaded CR3 (init_mm -> mm 1); k -> a -> k kept it.
    assert_eq!(serializations(&cpu, SerializeReason::MovToCr(3)), 1);
    assert_eq!(cpu.sys.as_ref().unwrap().cr3(), 1);
}
