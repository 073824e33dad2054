//! The program runner against what the code computes, and its isolation.

use std::time::Duration;

use native::{NativeError, program::run_asm};

const TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn a_loop_runs_natively_and_leaves_its_registers_and_a_time() {
    if !native::SUPPORTED {
        eprintln!("skipped: native runs need x86-64 Linux");
        return;
    }
    // The sum 1..=1000 through a data section, so both mappings are exercised.
    let source = "start:\n mov ecx, 1000\n.Lloop:\n add qword ptr [rip+total], rcx\n dec ecx\n jnz .Lloop\n\
                  mov rax, qword ptr [rip+total]\n mov r15, 7\n ret\n.data\ntotal:\n .quad 0\n";
    let run = run_asm(source, "start", 3, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    // Data sections persist between runs: the third run ends with 3 * 500500.
    assert_eq!(run.regs[0], 3 * 500_500);
    assert_eq!(run.regs[15], 7);
    assert_eq!(run.tsc_ticks.len(), 3);
    assert!(run.tsc_ticks.iter().all(|&t| t > 0));
    assert!(run.best() > Duration::ZERO);
}

#[test]
fn a_fault_is_reported_not_fatal() {
    if !native::SUPPORTED {
        eprintln!("skipped: native runs need x86-64 Linux");
        return;
    }
    // A store to the (read+execute) code page itself, then `hlt`: privileged.
    let store = run_asm(
        "start:\n mov byte ptr [rip+start], 0\n ret\n",
        "start",
        1,
        TIMEOUT,
    );
    assert_eq!(store, Err(NativeError::Fault { signal: 11 }));
    let hlt = run_asm("start:\n hlt\n", "start", 1, TIMEOUT);
    assert_eq!(hlt, Err(NativeError::Fault { signal: 11 }));
}

#[test]
fn a_program_that_never_returns_is_killed() {
    if !native::SUPPORTED {
        eprintln!("skipped: native runs need x86-64 Linux");
        return;
    }
    let spin = run_asm(
        "start:\n jmp start\n",
        "start",
        1,
        Duration::from_millis(300),
    );
    assert_eq!(spin, Err(NativeError::Timeout));
}
