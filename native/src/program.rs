//! Run a program assembled by `isa` on the host CPU and time it: the native side of
//! "how much slower is the simulator than the machine it models".

use std::time::Duration;

use isa::asm::Program;

use crate::NativeError;

/// A program's native runs: the time of each and the registers the last one left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeTiming {
    /// Time-stamp-counter ticks of each run (the call into the program and back).
    pub tsc_ticks: Vec<u64>,
    /// Wall-clock nanoseconds of each run.
    pub nanos: Vec<u64>,
    /// The general registers when the last run returned, indexed by `Gpr::index`
    /// (RSP reads as 0).
    pub regs: [u64; 16],
}

impl NativeTiming {
    /// The fastest run's wall-clock time: the least disturbed by other work on a
    /// shared machine.
    pub fn best(&self) -> Duration {
        Duration::from_nanos(self.nanos.iter().copied().min().unwrap_or(0))
    }
}

/// Run `program` natively `repeats` times, starting at `entry`, and time each run.
///
/// Every section is mapped at its own address (`.text` at 0x400000 and `.data` at
/// 0x600000 unless the source says `.base`): code sections (`.text*`) read+execute,
/// the others read-write; sections must not share a page. Each run starts with
/// every general register zero but RSP, which points into an ordinary stack, and
/// must return with `ret` (replace a simulator program's final `hlt` by `ret`).
/// Data sections are not reset between runs. The program runs in a child process,
/// so a fault is reported ([`NativeError::Fault`]) rather than fatal, and one still
/// running after `timeout` is killed.
pub fn run_program(
    program: &Program,
    entry: u64,
    repeats: usize,
    timeout: Duration,
) -> Result<NativeTiming, NativeError> {
    let repeats = repeats.max(1);
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        let trampoline = assemble_bytes(TRAMPOLINE)?;
        let payload = crate::sys::run_isolated(8 * (2 * repeats + 16), timeout, |shared, at| {
            let sections = linux::map_sections(program)?;
            let mut tramp = crate::sys::Mapping::new(trampoline.len(), None, false)?;
            tramp.write(0, &trampoline)?;
            tramp.seal_exec()?;
            let mut regs = [0u64; 16];
            for i in 0..repeats {
                let start = std::time::Instant::now();
                let t0 = crate::sys::rdtsc();
                // SAFETY: the trampoline is a complete SysV function (it saves and
                // restores every callee-saved register, keeps RSP balanced and
                // clears DF) that calls `entry` and stores the registers into
                // `regs`, a live, exclusive array. What the program itself does is
                // not checked: this runs in a child process, so anything it breaks
                // ends the child, which the parent reports as a fault. Every mapping
                // lives until after the calls.
                unsafe { tramp.as_function()(regs.as_mut_ptr() as u64, entry) };
                let ticks = crate::sys::rdtsc().wrapping_sub(t0);
                let nanos = start.elapsed().as_nanos() as u64;
                shared.write_u64(at / 8 + 2 * i, ticks);
                shared.write_u64(at / 8 + 2 * i + 1, nanos);
            }
            for (r, v) in regs.iter().enumerate() {
                shared.write_u64(at / 8 + 2 * repeats + r, *v);
            }
            drop(sections);
            Ok(())
        })?;
        let words = le_words(&payload);
        Ok(NativeTiming {
            tsc_ticks: words[..2 * repeats].iter().step_by(2).copied().collect(),
            nanos: words[1..2 * repeats].iter().step_by(2).copied().collect(),
            regs: std::array::from_fn(|r| words[2 * repeats + r]),
        })
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        let _ = (program, entry, timeout);
        Err(NativeError::Unsupported)
    }
}

/// Assemble `source` with `isa` and run it natively from label `entry_label`, as
/// [`run_program`] does.
pub fn run_asm(
    source: &str,
    entry_label: &str,
    repeats: usize,
    timeout: Duration,
) -> Result<NativeTiming, NativeError> {
    let program = isa::asm::assemble(source).map_err(|e| NativeError::Assemble(e.to_string()))?;
    let entry = program
        .symbol(entry_label)
        .ok_or_else(|| NativeError::Assemble(format!("no label `{entry_label}` in the program")))?;
    run_program(&program, entry, repeats, timeout)
}

/// Little-endian `u64`s of `bytes`.
pub(crate) fn le_words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8-byte chunk")))
        .collect()
}

/// Assemble position-independent `source` into the bytes of its one section.
pub(crate) fn assemble_bytes(source: &str) -> Result<Vec<u8>, NativeError> {
    let program = isa::asm::assemble(source).map_err(|e| NativeError::Assemble(e.to_string()))?;
    Ok(program
        .sections
        .into_iter()
        .next()
        .map(|s| s.bytes)
        .unwrap_or_default())
}

/// `extern "sysv64" fn(regs_out: *mut [u64; 16], entry: u64)`: save the callee-saved
/// registers, zero every register, call `entry` with RSP aligned as for a function,
/// store every register it returns with, restore and return.
const TRAMPOLINE: &str = "
push rbx
push rbp
push r12
push r13
push r14
push r15
push rdi
sub rsp, 8
push rsi
xor eax, eax
xor ecx, ecx
xor edx, edx
xor ebx, ebx
xor ebp, ebp
xor esi, esi
xor edi, edi
xor r8d, r8d
xor r9d, r9d
xor r10d, r10d
xor r11d, r11d
xor r12d, r12d
xor r13d, r13d
xor r14d, r14d
xor r15d, r15d
call qword ptr [rsp]
lea rsp, [rsp+16]
xchg rdi, qword ptr [rsp]
mov qword ptr [rdi], rax
mov qword ptr [rdi+8], rcx
mov qword ptr [rdi+16], rdx
mov qword ptr [rdi+24], rbx
mov qword ptr [rdi+32], 0
mov qword ptr [rdi+40], rbp
mov qword ptr [rdi+48], rsi
pop rax
mov qword ptr [rdi+56], rax
mov qword ptr [rdi+64], r8
mov qword ptr [rdi+72], r9
mov qword ptr [rdi+80], r10
mov qword ptr [rdi+88], r11
mov qword ptr [rdi+96], r12
mov qword ptr [rdi+104], r13
mov qword ptr [rdi+112], r14
mov qword ptr [rdi+120], r15
pop r15
pop r14
pop r13
pop r12
pop rbp
pop rbx
cld
ret
";

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod linux {
    use isa::asm::Program;

    use crate::sys::{Mapping, PAGE};

    /// Map every section of `program` at its address: code read+execute (written
    /// first, then sealed), data read-write.
    pub(super) fn map_sections(program: &Program) -> Result<Vec<Mapping>, String> {
        let page = PAGE as u64;
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        let mut mappings = Vec::new();
        for section in program.sections.iter().filter(|s| !s.bytes.is_empty()) {
            let start = section.base / page * page;
            let end = (section.base + section.bytes.len() as u64).div_ceil(page) * page;
            if let Some(&(a, b)) = ranges.iter().find(|&&(a, b)| start < b && a < end) {
                return Err(format!(
                    "section {} ({:#x}..{end:#x}) shares a page with another ({a:#x}..{b:#x}): \
                     give it its own `.base` on a page boundary",
                    section.name, section.base
                ));
            }
            ranges.push((start, end));
            let mut m = Mapping::new((end - start) as usize, Some(start), false)?;
            m.write((section.base - start) as usize, &section.bytes)?;
            if section.name.starts_with(".text") {
                m.seal_exec()?;
            }
            mappings.push(m);
        }
        Ok(mappings)
    }
}
