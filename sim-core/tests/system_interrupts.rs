//! Interrupts on the out-of-order machine, each against an SDM rule: IPIs through
//! the x2APIC ICR with their latency, #GP delivery, interrupts scheduled by cycle
//! or retirement, the STI shadow, the TSC-deadline timer, and interrupt delivery
//! that serializes only when configured.

mod machine_harness;

use isa::flags::Flags;
use machine_harness::{jittered, machine};
use sim_core::machine::{IfetchCoherence, InterruptTrigger, Machine, MachineConfig, StopReason};
use sim_core::system::{SerializeReason, SystemConfig};

/// Core 0 sends IPI 0xf0 to core 1 and waits for the handler's acknowledgement;
/// core 1 sleeps in `hlt` with interrupts on, or spins.
fn ipi_round_trip(core1: &str, latency: u64) -> Machine {
    let src = format!(
        "
    core0:
        mov ecx, 0x830
        mov edx, 1
        mov eax, 0xf0
        wrmsr
    0:  cmp dword ptr [rip + ack], 1
        jne 0b
        hlt
    core1:
        {core1}
        mov ebx, dword ptr [rip + ack]
        hlt
    handler:
        mov dword ptr [rip + ack], 1
        mov ecx, 0x80b
        xor eax, eax
        xor edx, edx
        wrmsr
        iretq
    .data
    ack: .long 0
    "
    );
    let config = MachineConfig {
        ipi_latency: latency,
        ..MachineConfig::default()
    };
    let mut m = machine(&src, 2, &[(0xf0, "handler")], config);
    m.set_flags(1, Flags::IF);
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted, "{core1}");
    assert_eq!(m.regs(1)[3], 1, "core 1 resumed after the handler");
    let (sender, receiver) = (&out.per_core[0], &out.per_core[1]);
    assert_eq!((sender.ipis_sent, receiver.ipis_received), (1, 1));
    assert_eq!(receiver.interrupts, 1);
    assert_eq!(receiver.serializations_by_reason[&SerializeReason::Iret], 1);
    m
}

#[test]
fn ipi_round_trip_wakes_a_sleeping_core_and_reports_latency() {
    for latency in [20, 150] {
        for core1 in ["hlt", "0: cmp dword ptr [rip + ack], 1\n jne 0b"] {
            let m = ipi_round_trip(core1, latency);
            let [ipi] = m.ipis() else {
                panic!("one IPI: {:?}", m.ipis())
            };
            assert_eq!((ipi.from, ipi.to, ipi.vector), (0, 1, 0xf0));
            assert_eq!(ipi.arrived, Some(ipi.sent + latency));
            assert!(ipi.taken.is_some_and(|t| t >= ipi.sent + latency));
        }
    }
}

#[test]
fn privileged_instruction_in_user_mode_raises_gp() {
    let src = "
    core0:
        lea rcx, [rip + user]
        mov r11, 2
        sysretq
    user:
        mov edx, 5
        mov ecx, 0x10
        wrmsr
        mov ebx, 7
    gp:
        mov rdx, qword ptr [rsp]
        hlt";
    let mut m = machine(src, 1, &[(13, "gp")], MachineConfig::default());
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted);
    assert_eq!(out.per_core[0].exceptions, 1);
    assert_eq!(m.regs(0)[2], 0, "#GP pushes error code 0");
    assert_eq!(m.regs(0)[3], 0, "the faulting wrmsr did not complete");
    assert_eq!(m.system(0).cpl(), 0, "delivered to the kernel handler");
    let mut m = machine(src, 1, &[], MachineConfig::default());
    match m.run().stop {
        StopReason::Fault { message, .. } => assert!(message.contains("#GP"), "{message}"),
        other => panic!("no IDT gate for #GP must stop the run, got {other:?}"),
    }
}

#[test]
fn scheduled_interrupts_fire_by_cycle_and_by_retirement() {
    let src = "
    core0:
        mov ecx, 50
    0:  dec ecx
        jnz 0b
    marker:
        nop
        hlt
    core1:
    1:  hlt
        jmp 1b
    handler:
        add dword ptr [rip + count], 1
        mov ecx, 0x80b
        xor eax, eax
        xor edx, edx
        wrmsr
        iretq
    .data
    count: .long 0";
    let program = isa::asm::assemble(src).unwrap();
    let marker = program.symbol("marker").unwrap();
    let count = program.symbol("count").unwrap();
    let mut m = machine(src, 2, &[(0x40, "handler")], MachineConfig::default());
    m.set_flags(1, Flags::IF);
    m.schedule_interrupt(InterruptTrigger::Cycle(5000), 1, 0x40);
    m.schedule_interrupt(InterruptTrigger::Retire(marker), 1, 0x40);
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted);
    assert_eq!(m.memory().read(count, isa::reg::Width::B4), 2);
    assert_eq!(out.per_core[1].interrupts, 2);
    assert!(out.cycles >= 5000, "the run waited for the timed interrupt");
}

/// Core 1 runs the patched code, sleeps until core 0's IPI (sent after the patch),
/// returns from the handler with a non-serializing `iretq` and runs the code
/// again: only a serializing interrupt delivery refetches it.
fn patched_then_interrupted(delivery_serializing: bool, seed: u64) -> u64 {
    let src = "
    core0:
        mov ecx, 200
    0:  dec ecx
        jnz 0b
        mov byte ptr [rip + patched + 1], 2
        mfence
        mov ecx, 0x830
        mov edx, 1
        mov eax, 0xf0
        wrmsr
        hlt
    core1:
        call patched
        hlt
        call patched
        mov ebx, eax
        cli
        hlt
    handler:
        mov ecx, 0x80b
        xor eax, eax
        xor edx, edx
        wrmsr
        iretq
    patched:
        mov eax, 1
        ret";
    let config = MachineConfig {
        system: SystemConfig {
            iret_serializing: false,
            ..SystemConfig::default()
        },
        interrupt_delivery_serializing: delivery_serializing,
        ..jittered(seed, IfetchCoherence::Lazy)
    };
    let mut m = machine(src, 2, &[(0xf0, "handler")], config);
    m.set_flags(1, Flags::IF);
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted);
    let serialized = out.per_core[1]
        .serializations_by_reason
        .get(&SerializeReason::InterruptDelivery);
    assert_eq!(serialized.is_some(), delivery_serializing);
    m.regs(1)[3]
}

#[test]
fn interrupt_delivery_serializes_only_when_configured() {
    let stale = (0..8).filter(|&s| patched_then_interrupted(false, s) == 1);
    assert!(stale.count() > 0, "delivery is not serializing by default");
    for seed in 0..8 {
        assert_eq!(patched_then_interrupted(true, seed), 2, "seed {seed}");
    }
}

#[test]
fn sti_holds_a_pending_interrupt_off_for_one_instruction() {
    // As in the reference interpreter (system_programs.rs): the interrupt that
    // is already pending is taken after the instruction following `sti`.
    let src = "
    core0:
        sti
        mov ebx, 1
        mov ecx, 2
        hlt
    ipi:
        mov qword ptr [0x200000], rbx
        mov qword ptr [0x200008], rcx
        mov ecx, 0x80b
        xor eax, eax
        xor edx, edx
        wrmsr
        iretq";
    for seed in 0..4 {
        let mut m = machine(
            src,
            1,
            &[(0xf0, "ipi")],
            jittered(seed, IfetchCoherence::Lazy),
        );
        m.system_mut(0).post_interrupt(0xf0);
        assert_eq!(m.run().stop, StopReason::AllHalted);
        let read = |a| m.memory().read(a, isa::reg::Width::B8);
        assert_eq!((read(0x200000), read(0x200008)), (1, 0), "seed {seed}");
    }
}

#[test]
fn a_far_timer_deadline_wakes_a_sleeping_core_without_the_watchdog() {
    // TSC-deadline mode (SDM Vol. 3A §11.5.4.1): LVT timer vector 0x30, deadline
    // 300 000 cycles ahead, far beyond the watchdog's 100 000 idle cycles.
    let src = "
    core0:
        mov ecx, 0x832
        mov eax, 0x40030
        xor edx, edx
        wrmsr
        rdtsc
        shl rdx, 32
        or rax, rdx
        add rax, 300000
        mov rdx, rax
        shr rdx, 32
        mov ecx, 0x6e0
        wrmsr
        sti
        hlt
        mov ebx, 1
        cli
        hlt
    timer:
        rdtsc
        mov dword ptr [0x200000], eax
        mov ecx, 0x80b
        xor eax, eax
        xor edx, edx
        wrmsr
        iretq";
    let mut m = machine(src, 1, &[(0x30, "timer")], MachineConfig::default());
    let out = m.run();
    assert_eq!(out.stop, StopReason::AllHalted);
    assert_eq!(m.regs(0)[3], 1, "woken by the timer");
    let fired = m.memory().read(0x200000, isa::reg::Width::B4);
    assert!(
        (300_000..301_000).contains(&fired),
        "handler ran at TSC {fired}"
    );
}
