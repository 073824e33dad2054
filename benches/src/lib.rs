//! Simulation-speed workloads, shared by the `criterion` benchmarks and
//! `synclab bench`: simulated instructions per host second (MIPS), with tracing off
//! and on, on the out-of-order machine.

use std::time::{Duration, Instant};

use sim_core::machine::{Machine, MachineConfig, StopReason};

/// A program to measure, as assembly with one `coreN:` label per core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// One core: a loop of dependent and independent ALU operations and a branch.
    AluLoop,
    /// One core: a loop that loads, adds and stores over a 4 KiB array.
    LoadStoreLoop,
    /// Four cores: private counters plus `lock add` on a shared one and reads of
    /// each other's lines (coherence traffic).
    SharedFourCore,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 3] = [
        Workload::AluLoop,
        Workload::LoadStoreLoop,
        Workload::SharedFourCore,
    ];

    /// Short name for reports and benchmark IDs.
    pub fn name(self) -> &'static str {
        match self {
            Workload::AluLoop => "alu-loop",
            Workload::LoadStoreLoop => "load-store-loop",
            Workload::SharedFourCore => "shared-4-core",
        }
    }

    /// The assembly source, looping `iterations` times per core.
    pub fn source(self, iterations: u64) -> String {
        match self {
            Workload::AluLoop => format!(
                "core0:\n mov ecx, {iterations}\n xor eax, eax\n mov ebx, 1\n\
                 .Lloop:\n add eax, ebx\n lea rdx, [rax+rbx*2]\n xor rdx, rax\n imul rbx, rbx, 3\n\
                 and rbx, 0xff\n shl rdx, 3\n sub rax, rdx\n or rsi, rax\n dec ecx\n jnz .Lloop\n hlt\n"
            ),
            Workload::LoadStoreLoop => format!(
                "core0:\n mov ecx, {iterations}\n lea rsi, [rip+array]\n xor edi, edi\n\
                 .Lloop:\n mov eax, dword ptr [rsi+rdi*4]\n add eax, ecx\n mov dword ptr [rsi+rdi*4], eax\n\
                 mov edx, dword ptr [rsi+rdi*4+4]\n add edx, eax\n mov dword ptr [rsi+rdi*4+8], edx\n\
                 inc edi\n and edi, 0x3ff\n dec ecx\n jnz .Lloop\n hlt\n\
                 .data\narray:\n .zero 4112\n"
            ),
            Workload::SharedFourCore => {
                let mut s = String::new();
                for core in 0..4 {
                    let other = (core + 1) % 4;
                    s += &format!(
                        "core{core}:\n mov ecx, {iterations}\n lea rsi, [rip+counters]\n\
                         .Lloop{core}:\n add qword ptr [rsi+{mine}], 1\n mov rax, qword ptr [rsi+{theirs}]\n\
                         test ecx, 15\n jnz .Lskip{core}\n lock add qword ptr [rip+shared], 1\n\
                         .Lskip{core}:\n dec ecx\n jnz .Lloop{core}\n hlt\n",
                        mine = core * 64,
                        theirs = other * 64,
                    );
                }
                s + ".data\ncounters:\n .zero 256\nshared:\n .quad 0\n"
            }
        }
    }
}

/// A machine loaded with `workload`, ready to run.
pub fn machine(workload: Workload, iterations: u64, trace: bool) -> Machine {
    let program = isa::asm::assemble(&workload.source(iterations))
        .unwrap_or_else(|e| panic!("{} does not assemble: {e}", workload.name()));
    let loaded = scenarios::program::load(&program)
        .unwrap_or_else(|e| panic!("{} does not load: {e}", workload.name()));
    loaded.into_machine(MachineConfig {
        trace,
        ..MachineConfig::default()
    })
}

/// One measured run.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    /// Instructions retired, all cores.
    pub instructions: u64,
    /// Simulated cycles.
    pub cycles: u64,
    /// Host time of `Machine::run` (plus taking the trace when tracing).
    pub elapsed: Duration,
}

impl Measurement {
    /// Simulated instructions per host second, in millions.
    pub fn mips(&self) -> f64 {
        self.instructions as f64 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }
}

/// Run `workload` once and time it. Panics if the run does not finish: a benchmark of
/// a broken run would be meaningless.
pub fn measure(workload: Workload, iterations: u64, trace: bool) -> Measurement {
    let mut m = machine(workload, iterations, trace);
    let start = Instant::now();
    let outcome = m.run();
    let events = m.take_trace().len();
    let elapsed = start.elapsed();
    assert_eq!(
        outcome.stop,
        StopReason::AllHalted,
        "{}: {:?}",
        workload.name(),
        outcome.stop
    );
    assert_eq!(
        trace,
        events > 0,
        "tracing {} must match events recorded",
        if trace { "on" } else { "off" }
    );
    Measurement {
        instructions: outcome.per_core.iter().map(|c| c.retired).sum(),
        cycles: outcome.cycles,
        elapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::reference::{Interpreter, Stop};

    /// The single-core workloads compute the same thing on both models (so the
    /// benchmark measures real work, not a short-circuited run).
    #[test]
    fn single_core_workloads_match_the_reference_model() {
        for w in [Workload::AluLoop, Workload::LoadStoreLoop] {
            let program = isa::asm::assemble(&w.source(300)).unwrap();
            let loaded = scenarios::program::load(&program).unwrap();
            let mut reference = Interpreter::new(loaded.memory.clone(), loaded.cores[0].rip);
            reference.regs = loaded.cores[0].regs;
            assert_eq!(reference.run(1_000_000), Ok(Stop::Halted));
            let mut m = machine(w, 300, false);
            assert_eq!(m.run().stop, StopReason::AllHalted);
            assert_eq!(m.regs(0), reference.regs, "{}", w.name());
            assert_eq!(m.memory(), &reference.mem, "{}", w.name());
        }
    }

    #[test]
    fn four_core_workload_counts_every_locked_increment() {
        let iterations = 64;
        let mut m = machine(Workload::SharedFourCore, iterations, false);
        assert_eq!(m.run().stop, StopReason::AllHalted);
        let program = isa::asm::assemble(&Workload::SharedFourCore.source(iterations)).unwrap();
        let shared = program.symbol("shared").unwrap();
        // ecx runs iterations..1; `test ecx, 15` is zero for multiples of 16.
        let per_core = (1..=iterations).filter(|c| c % 16 == 0).count() as u64;
        assert_eq!(m.memory().read(shared, isa::reg::Width::B8), 4 * per_core);
        let counters = program.symbol("counters").unwrap();
        for core in 0..4 {
            assert_eq!(
                m.memory().read(counters + 64 * core, isa::reg::Width::B8),
                iterations
            );
        }
    }
}
