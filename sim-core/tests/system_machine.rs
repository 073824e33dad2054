//! The system model on the out-of-order machine, each test against an SDM rule:
//! the cross-modifying-code protocol (SDM Vol. 3A §9.1.3: a serializing instruction
//! between seeing the flag and executing the new code), which instructions
//! serialize (§9.3: CPUID, SERIALIZE, IRET do; SYSRET, MFENCE, LFENCE do not),
//! same-core self-modifying code (§9.1.2), how long stale bytes survive, and
//! contracts over sync points. Interrupts are in `system_interrupts.rs`.

use std::collections::BTreeMap;

use sim_core::machine::{IfetchCoherence, MachineConfig, StopReason};
use sim_core::system::{SerializeReason, SystemConfig};

mod machine_harness;

use machine_harness::{jittered, machine};

/// Builds a kernel-mode IRET frame returning to the next instruction (`iretq` as
/// the serializing jump of the SDM's protocol, as Linux's `sync_core` did).
const IRET_TO_NEXT: &str = "
        mov rax, rsp
        push 0x18
        push rax
        push 2
        push 0x10
        lea rax, [rip + 1f]
        push rax
        iretq
    1:";

/// The cross-modifying-code test. Core 0 patches `mov eax, 1` into
/// `mov eax, 2`, passes the sync point and sets a flag; core 1 has run the code
/// once (so its bytes are fetched and cached), spins on the flag, runs `sync`, then
/// calls the patched code again. Returns the value core 1 got and the run's
/// stale executions and contract violations.
fn xmc(sync: &str, config: MachineConfig) -> (u64, usize, usize) {
    let src = format!(
        "
    core0:
        mov ecx, 200
    0:  dec ecx
        jnz 0b
        mov byte ptr [rip + patched + 1], 2
        .sync_point patched
        mov dword ptr [rip + flag], 1
        hlt
    core1:
        call patched
    2:  mov esi, dword ptr [rip + flag]
        test esi, esi
        jz 2b
        {sync}
        call patched
        mov ebx, eax
        hlt
    patched:
        mov eax, 1
        ret
    .data
    flag: .long 0
    "
    );
    let mut m = machine(&src, 2, &[], config);
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted, "{sync}");
    (
        m.regs(1)[3],
        m.stale_executions().len(),
        m.contract_violations().len(),
    )
}

#[test]
fn lazy_fetch_runs_stale_code_unless_the_executor_serializes() {
    let seeds = 0..12;
    for sync in ["", "mfence", "lfence", "mfence\nlfence"] {
        let runs: Vec<_> = seeds
            .clone()
            .map(|s| xmc(sync, jittered(s, IfetchCoherence::Lazy)))
            .collect();
        let stale_runs = runs.iter().filter(|r| r.0 == 1).count();
        assert!(
            stale_runs > 0,
            "`{sync}` does not serialize: the old `mov eax, 1` must be seen"
        );
        for (value, stale, violations) in runs {
            assert_eq!(value == 1, stale > 0, "`{sync}`: result vs detector");
            assert_eq!(value == 1, violations > 0, "`{sync}`: broke the contract");
        }
    }
    for sync in ["cpuid", "serialize", IRET_TO_NEXT] {
        for seed in seeds.clone() {
            let (value, stale, violations) = xmc(sync, jittered(seed, IfetchCoherence::Lazy));
            assert_eq!(
                (value, stale, violations),
                (2, 0, 0),
                "`{sync}` serializes (seed {seed})"
            );
        }
    }
}

#[test]
fn snooping_fetch_is_never_stale_once_the_flag_is_seen() {
    for seed in 0..12 {
        let (value, _, violations) = xmc("", jittered(seed, IfetchCoherence::Snoop));
        assert_eq!((value, violations), (2, 0), "seed {seed}");
    }
}

#[test]
fn non_serializing_iret_lets_stale_code_through() {
    let config = |seed| MachineConfig {
        system: SystemConfig {
            iret_serializing: false,
            ..SystemConfig::default()
        },
        ..jittered(seed, IfetchCoherence::Lazy)
    };
    let stale = (0..12).filter(|&s| xmc(IRET_TO_NEXT, config(s)).0 == 1);
    assert!(stale.count() > 0, "iretq without serialization is a jump");
}

/// A user task on core 1 has run the patched code, enters the kernel with
/// `syscall`, waits there for core 0's patch, and returns to user mode with
/// `ret_path`; the user code then calls the patched code again and reports the
/// value with a second `syscall` (which halts). Returns the value and the
/// serializations of core 1.
fn return_to_user(ret_path: &str, config: MachineConfig) -> (u64, BTreeMap<SerializeReason, u64>) {
    let src = format!(
        "
    core0:
        mov ecx, 300
    0:  dec ecx
        jnz 0b
        mov byte ptr [rip + patched + 1], 2
        mov dword ptr [rip + flag], 1
        hlt
    core1:
        lea rcx, [rip + user]
        mov r11, 2
        sysretq
    user:
        call patched
        syscall
        call patched
        mov ebx, eax
        syscall
    syscall_entry:
        cmp dword ptr [rip + phase], 0
        jne 3f
        mov dword ptr [rip + phase], 1
    2:  mov esi, dword ptr [rip + flag]
        test esi, esi
        jz 2b
        {ret_path}
    3:  hlt
    patched:
        mov eax, 1
        ret
    .data
    flag: .long 0
    phase: .long 0
    "
    );
    let mut m = machine(&src, 2, &[], config);
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted, "{ret_path}");
    assert_eq!(
        m.system(1).cpl(),
        0,
        "the second syscall entered the kernel"
    );
    (
        m.regs(1)[3],
        out.per_core[1].serializations_by_reason.clone(),
    )
}

/// `iretq` from the kernel to the user task at RCX with user selectors.
const IRET_TO_USER: &str = "
        push 0x2b
        push 0x7000
        push 2
        push 0x33
        push rcx
        iretq";

#[test]
fn sysret_does_not_serialize_iret_and_pti_do() {
    let lazy = |seed| jittered(seed, IfetchCoherence::Lazy);
    let sysret: Vec<_> = (0..8).map(|s| return_to_user("sysretq", lazy(s))).collect();
    assert!(sysret.iter().any(|r| r.0 == 1), "stale code after sysretq");
    assert!(
        sysret.iter().all(|r| r.1.is_empty()),
        "sysretq never serializes"
    );
    for seed in 0..8 {
        let (value, serial) = return_to_user(IRET_TO_USER, lazy(seed));
        assert_eq!(value, 2, "iretq serializes (seed {seed})");
        assert_eq!(serial, BTreeMap::from([(SerializeReason::Iret, 1)]));
        let pti = MachineConfig {
            system: SystemConfig {
                pti: true,
                ..SystemConfig::default()
            },
            ..lazy(seed)
        };
        let (value, serial) = return_to_user("sysretq", pti);
        assert_eq!(value, 2, "pti: the CR3 switch serializes (seed {seed})");
        // The initial sysretq to user mode and the return after the patch.
        assert_eq!(serial, BTreeMap::from([(SerializeReason::PtiCr3Switch, 2)]));
    }
}

#[test]
fn same_core_self_modifying_code_is_never_stale() {
    let src = "
    core0:
        mov ecx, 20
    0:  mov byte ptr [rip + 1f + 1], cl
    1:  mov eax, 0
        add rbx, rax
        dec ecx
        jnz 0b
        hlt";
    for seed in 0..8 {
        let mut m = machine(src, 1, &[], jittered(seed, IfetchCoherence::Lazy));
        assert_eq!(m.run().stop, StopReason::AllHalted);
        assert_eq!(m.regs(0)[3], (1..=20).sum::<u64>(), "every patch executed");
        assert!(m.stale_executions().is_empty());
    }
}

/// Core 0 patches `mov edi, 1` into `mov edi, 2` after a delay; core 1 runs a
/// loop of 2000 iterations that executes the patched instruction and `calls`,
/// without ever serializing. Returns how many times core 1 executed the stale
/// bytes.
fn stale_survival(
    core: sim_core::machine::CoreConfig,
    ifetch: IfetchCoherence,
    calls: &str,
) -> usize {
    let src = format!(
        "
    core0:
        mov ecx, 400
    1:  dec ecx
        jnz 1b
        mov byte ptr [rip + patched + 1], 2
        hlt
    core1:
        mov ecx, 2000
    0:  call patched
        {calls}
        dec ecx
        jnz 0b
        hlt
    .p2align 6
    patched:
        mov edi, 1
        ret
    .p2align 12
    far1: ret
    .p2align 12
    far2: ret
    .p2align 12
    far3: ret
    "
    );
    let config = MachineConfig {
        core,
        ..jittered(0, ifetch)
    };
    let mut m = machine(&src, 2, &[], config);
    assert_eq!(m.run().stop, StopReason::AllHalted);
    m.stale_executions().len()
}

#[test]
fn icache_size_and_prefetch_depth_change_how_long_stale_bytes_survive() {
    use sim_core::machine::CoreConfig;
    // Lazy: the stale line lives in the I-cache until evicted. Four lines that map
    // to one set evict it from a 2-way cache; an 8-way cache keeps it forever.
    let far = "call far1\ncall far2\ncall far3";
    let small = CoreConfig {
        icache_sets: 1,
        icache_ways: 2,
        ..CoreConfig::default()
    };
    let big = CoreConfig::default();
    let (s, b) = (
        stale_survival(small, IfetchCoherence::Lazy, far),
        stale_survival(big, IfetchCoherence::Lazy, far),
    );
    assert!(s < 5 && b > 1000, "2-way: {s} stale executions, 8-way: {b}");
    // Snoop: only copies already fetched when the store becomes visible are
    // stale; a deeper prefetch buffer holds more of them (a slow multiply chain
    // lets fetch run ahead of execution).
    let depth = |prefetch_depth| {
        let core = CoreConfig {
            prefetch_depth,
            ..CoreConfig::default()
        };
        let chain = "imul rax, rax\nimul rax, rax\nimul rax, rax\nimul rax, rax";
        stale_survival(core, IfetchCoherence::Snoop, chain)
    };
    let (shallow, deep) = (depth(2), depth(32));
    assert!(shallow < deep, "prefetch 2: {shallow}, prefetch 32: {deep}");
}

#[test]
fn a_stale_execution_says_when_its_core_last_serialized() {
    use sim_core::machine::NEVER_SERIALIZED;
    let stale_of = |prologue: &str| {
        let src = format!(
            "
    core0:
        mov ecx, 300
    0:  dec ecx
        jnz 0b
        mov byte ptr [rip + patched + 1], 2
        mov dword ptr [rip + flag], 1
        hlt
    core1:
        {prologue}
        call patched
    2:  cmp dword ptr [rip + flag], 0
        je 2b
        call patched
        hlt
    patched:
        mov eax, 1
        ret
    .data
    flag: .long 0"
        );
        let mut m = machine(&src, 2, &[], MachineConfig::default());
        assert_eq!(m.run().stop, StopReason::AllHalted);
        *m.stale_executions().last().expect("stale under Lazy")
    };
    let never = stale_of("");
    assert_eq!(never.serialized_at, NEVER_SERIALIZED);
    assert!(
        never
            .to_string()
            .contains("has not executed a serializing instruction")
    );
    let early = stale_of("cpuid");
    assert!(early.serialized_at < early.visible_at, "{early}");
    assert!(
        early
            .to_string()
            .contains("before the new bytes became visible")
    );
}
