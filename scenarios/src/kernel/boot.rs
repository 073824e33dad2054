//! Each CPU's start state, resolved against the assembled program: what boot
//! code would have left behind (IDT, SYSCALL MSRs, TSS.RSP0, CR3) and where the
//! first task starts. Plain data, applied to a core's [`SystemState`] by
//! [`CoreSetup::configure`].

use isa::asm::Program;
use isa::flags::Flags;
use isa::reg::Gpr;
use sim_core::machine::{CoreInit, InterruptTrigger, Machine, MachineConfig};
use sim_core::mem::Memory;
use sim_core::reference::Interpreter;
use sim_core::system::msr::{IA32_FMASK, IA32_LSTAR, IA32_STAR};
use sim_core::system::{IdtGate, SystemConfig, SystemState};

use super::layout::{
    TASK_REQUEST_ENTRY_SIZE, TASK_REQUESTS, TASK_WAKE_VECTOR, THREAD_SIZE, percpu_label,
    syscall_entry_label,
};
use super::{KernelError, KernelImage};

/// IA32_STAR as Linux sets it (arch/x86/kernel/cpu/common.c syscall_init):
/// SYSRET's selector base `__USER32_CS` (0x23) in bits 63:48, SYSCALL's
/// `__KERNEL_CS` (0x10) in bits 47:32.
pub const STAR: u64 = 0x0023_0010_0000_0000;
/// IA32_FMASK: the RFLAGS bits SYSCALL clears (TF, DF, IF, IOPL, NT, AC), as
/// in syscall_init.
pub const FMASK: u64 = 0x4_7700;

/// How one CPU starts: registers, privilege, and its system state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreSetup {
    /// First instruction: the first task's entry, or `do_idle`.
    pub rip: u64,
    /// Initial stack pointer: the user stack of a user task, the kernel stack
    /// of a kernel thread.
    pub rsp: u64,
    /// Starts at CPL 3.
    pub user_mode: bool,
    /// Starts with RFLAGS.IF set (every task runs with interrupts on).
    pub interrupts: bool,
    /// CR3: the first task's address space, or init_mm's (0).
    pub cr3: u64,
    /// TSS.RSP0: the top of the per-CPU entry stack.
    pub kernel_stack: u64,
    /// MSRs to set: IA32_STAR, IA32_LSTAR (this CPU's entry stub), IA32_FMASK.
    pub msrs: Vec<(u32, u64)>,
    /// IDT gates: the membarrier IPIs, the Wake and Block vectors and, with a
    /// timer, the timer interrupt.
    pub gates: Vec<(u8, IdtGate)>,
    /// With a timer: the cycle of the first tick and its vector (the handler
    /// arms the TSC-deadline timer for the next ones).
    pub first_tick: Option<(u64, u8)>,
}

impl CoreSetup {
    /// The register state the core starts with (all zero but RSP).
    pub fn core_init(&self) -> CoreInit {
        let mut regs = [0; 16];
        regs[Gpr::Rsp.index()] = self.rsp;
        CoreInit {
            rip: self.rip,
            regs,
        }
    }

    /// RFLAGS at start.
    pub fn flags(&self) -> Flags {
        if self.interrupts {
            Flags::IF
        } else {
            Flags::empty()
        }
    }

    /// Applies the system state (privilege, CR3, TSS.RSP0, MSRs, IDT) to a core.
    pub fn configure(&self, sys: &mut SystemState) {
        if self.user_mode {
            sys.enter_user_mode();
        }
        sys.set_cr3(self.cr3);
        sys.set_kernel_stack(self.kernel_stack);
        for &(msr, value) in &self.msrs {
            sys.set_msr(msr, value);
        }
        for &(vector, gate) in &self.gates {
            sys.set_idt_gate(vector, Some(gate));
        }
    }

    /// Applies this setup to core `core` of `machine` before it runs: system
    /// state, RFLAGS and the first timer tick. (The registers come from
    /// [`CoreSetup::core_init`], given to [`Machine::new`].)
    pub fn apply(&self, machine: &mut Machine, core: usize) {
        self.configure(machine.system_mut(core));
        machine.set_flags(core, self.flags());
        if let Some((cycle, vector)) = self.first_tick {
            machine.schedule_interrupt(InterruptTrigger::Cycle(cycle), core, vector);
        }
    }

    /// A reference interpreter started in this state, as core `apic_id`, over
    /// `memory` (the assembled program loaded).
    pub fn interpreter(&self, memory: Memory, config: SystemConfig, apic_id: u32) -> Interpreter {
        let mut sys = SystemState::new(config, apic_id);
        self.configure(&mut sys);
        let mut cpu = Interpreter::new(memory, self.rip).with_system(sys);
        cpu.regs = self.core_init().regs;
        cpu.flags = self.flags();
        cpu
    }
}

/// A machine running the kernel: `config` with one core per setup, over
/// `memory` (the assembled program loaded), each core started and configured
/// by its [`CoreSetup`].
pub fn machine(setups: &[CoreSetup], config: MachineConfig, memory: Memory) -> Machine {
    let config = MachineConfig {
        cores: setups.len(),
        ..config
    };
    let mut machine = Machine::new(
        config,
        memory,
        setups.iter().map(CoreSetup::core_init).collect(),
    );
    for (core, setup) in setups.iter().enumerate() {
        setup.apply(&mut machine, core);
    }
    machine
}

impl KernelImage {
    /// Each CPU's start state, with the addresses `program` (assembled from
    /// [`KernelImage::source`]) gives the kernel's symbols.
    pub fn boot(&self, program: &Program) -> Result<Vec<CoreSetup>, KernelError> {
        let symbol = |name: &str, what: &str| {
            program
                .symbol(name)
                .ok_or_else(|| KernelError::MissingSymbol {
                    symbol: name.to_string(),
                    what: what.to_string(),
                })
        };
        let vector = |name: &str, handler: &str| -> Result<(u8, IdtGate), KernelError> {
            let number = symbol(name, "an interrupt vector")?;
            let number = u8::try_from(number).map_err(|_| KernelError::MissingSymbol {
                symbol: name.to_string(),
                what: "an interrupt vector (0-255)".to_string(),
            })?;
            Ok((
                number,
                IdtGate::interrupt(symbol(handler, "an interrupt handler")?),
            ))
        };
        let mut gates = vec![
            vector("IPI_MB_VECTOR", "ipi_mb")?,
            vector("IPI_SYNC_CORE_VECTOR", "ipi_sync_core")?,
        ];
        let entries = symbol("task_request_entries", "the Wake and Block entry stubs")?;
        gates.extend((0..TASK_REQUESTS).map(|request| {
            let stub = entries + u64::from(request) * TASK_REQUEST_ENTRY_SIZE;
            (TASK_WAKE_VECTOR + request, IdtGate::interrupt(stub))
        }));
        let first_tick = match self.timer_period {
            Some(period) => {
                let timer = vector("LOCAL_TIMER_VECTOR", "apic_timer_interrupt")?;
                gates.push(timer);
                Some((period, timer.0))
            }
            None => None,
        };
        self.cpus
            .iter()
            .enumerate()
            .map(|(cpu, spec)| {
                let first = spec.first();
                let task = symbol(&first.label, "a task struct")?;
                let (rsp, cr3) = match first.mm {
                    Some(mm) => (
                        symbol(&first.user_stack(), "a user stack")? + THREAD_SIZE,
                        mm,
                    ),
                    // The kernel thread's return address, kthread_exit, is on top.
                    None if !first.idle => (task + THREAD_SIZE - 8, 0),
                    None => (task + THREAD_SIZE, 0),
                };
                let entry_what = format!("the entry of task `{}`", first.label);
                Ok(CoreSetup {
                    rip: symbol(&first.entry, &entry_what)?,
                    rsp,
                    user_mode: first.mm.is_some(),
                    interrupts: true,
                    cr3,
                    kernel_stack: symbol(&percpu_label(cpu), "a per-CPU area")? + THREAD_SIZE,
                    msrs: vec![
                        (IA32_STAR, STAR),
                        (
                            IA32_LSTAR,
                            symbol(&syscall_entry_label(cpu), "a SYSCALL entry")?,
                        ),
                        (IA32_FMASK, FMASK),
                    ],
                    gates: gates.clone(),
                    first_tick,
                })
            })
            .collect()
    }
}
