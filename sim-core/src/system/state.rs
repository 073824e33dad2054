//! Per-core system state: selectors (and so CPL), control registers, the MSRs the
//! model knows, the IDT and the kernel stack used on privilege changes.

use super::apic::LocalApic;
use super::msr::Msrs;
use super::{Fault, SystemConfig};

/// Kernel code selector (GDT entry 2, RPL 0) — what IDT gates and, with Linux's
/// IA32_STAR, SYSCALL load.
pub const KERNEL_CS: u16 = 0x10;
/// Kernel stack selector (`KERNEL_CS + 8`, as SYSCALL derives it from IA32_STAR).
pub const KERNEL_SS: u16 = 0x18;
/// 64-bit user code selector, RPL 3 (`STAR[63:48] + 16`, as SYSRETQ derives it).
pub const USER_CS: u16 = 0x33;
/// User stack selector, RPL 3 (`STAR[63:48] + 8`).
pub const USER_SS: u16 = 0x2b;

/// CR0 as a 64-bit kernel leaves it: PE, MP, ET, NE, WP, AM, PG.
const CR0_BOOT: u64 = 0x8005_0033;
/// CR0.PE (protection enable) and CR0.PG (paging): both required in IA-32e mode.
pub(super) const CR0_PE_PG: u64 = 0x8000_0001;
/// CR4.PAE, required in IA-32e mode.
pub(super) const CR4_PAE: u64 = 1 << 5;
/// CR4.TSD: RDTSC/RDTSCP fault with #GP above CPL 0.
pub(super) const CR4_TSD: u64 = 1 << 2;
/// CR4 at boot: PAE and PGE.
const CR4_BOOT: u64 = CR4_PAE | (1 << 7);

/// The two IDT gate types of 64-bit mode (SDM Vol. 3A §6.14.1).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum GateKind {
    /// Clears RFLAGS.IF on entry: the handler runs with interrupts off.
    Interrupt,
    /// Leaves RFLAGS.IF as it was.
    Trap,
}

/// One IDT entry: where the vector's handler is and who may invoke it with `int n`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdtGate {
    /// Handler address (runs in [`KERNEL_CS`], CPL 0).
    pub handler: u64,
    /// Interrupt or trap gate.
    pub kind: GateKind,
    /// Descriptor privilege level: `int n` at a CPL above it raises #GP.
    pub dpl: u8,
}

impl IdtGate {
    /// An interrupt gate with DPL 0 (hardware interrupts and exceptions only).
    pub fn interrupt(handler: u64) -> IdtGate {
        IdtGate {
            handler,
            kind: GateKind::Interrupt,
            dpl: 0,
        }
    }

    /// A trap gate with DPL 0.
    pub fn trap(handler: u64) -> IdtGate {
        IdtGate {
            kind: GateKind::Trap,
            ..IdtGate::interrupt(handler)
        }
    }

    /// The same gate with DPL 3, so user code may `int n` through it (`int 0x80`).
    pub fn user(self) -> IdtGate {
        IdtGate { dpl: 3, ..self }
    }
}

/// The system state of one core, outside its register file and memory. Starts as a
/// booted 64-bit kernel leaves it: CPL 0, paging on, SYSCALL enabled in IA32_EFER,
/// an empty IDT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemState {
    pub(super) config: SystemConfig,
    pub(super) cs: u16,
    pub(super) ss: u16,
    pub(super) cr0: u64,
    pub(super) cr2: u64,
    pub(super) cr3: u64,
    pub(super) cr4: u64,
    pub(super) msrs: Msrs,
    pub(super) apic: LocalApic,
    idt: Vec<Option<IdtGate>>,
    pub(super) kernel_stack: u64,
    /// STI just set IF: no interrupt before the next instruction completes.
    pub(super) sti_shadow: bool,
}

impl SystemState {
    /// The state of the core whose x2APIC ID is `apic_id`, at CPL 0.
    pub fn new(config: SystemConfig, apic_id: u32) -> SystemState {
        SystemState {
            config,
            cs: KERNEL_CS,
            ss: KERNEL_SS,
            cr0: CR0_BOOT,
            cr2: 0,
            cr3: 0,
            cr4: CR4_BOOT,
            msrs: Msrs::new(apic_id),
            apic: LocalApic::new(apic_id),
            idt: vec![None; 256],
            kernel_stack: 0,
            sti_shadow: false,
        }
    }

    /// An instruction is about to complete: the interrupt shadow of an `sti`
    /// just before it ends (SDM Vol. 2 STI: interrupts are recognised only after
    /// the instruction following STI, so `sti; hlt` cannot lose a wakeup).
    /// Callers call this before executing each instruction's effects.
    pub fn end_interrupt_shadow(&mut self) {
        self.sti_shadow = false;
    }

    /// The options this core was built with.
    pub fn config(&self) -> SystemConfig {
        self.config
    }

    /// Current privilege level: CS.RPL.
    pub fn cpl(&self) -> u8 {
        (self.cs & 3) as u8
    }

    /// Current code-segment selector.
    pub fn cs(&self) -> u16 {
        self.cs
    }

    /// Current stack-segment selector.
    pub fn ss(&self) -> u16 {
        self.ss
    }

    /// Put the core in 64-bit user mode ([`USER_CS`], [`USER_SS`]), for scenarios
    /// that start a core in user code rather than in a kernel that `sysretq`s there.
    pub fn enter_user_mode(&mut self) {
        self.cs = USER_CS;
        self.ss = USER_SS;
    }

    /// This core's x2APIC ID (what IPIs are addressed to).
    pub fn apic_id(&self) -> u32 {
        self.apic.id
    }

    /// CR3: in synclab, the id of the current address space (`mm`), with no page
    /// tables behind it.
    pub fn cr3(&self) -> u64 {
        self.cr3
    }

    /// Set CR3 without executing `mov cr3` (initial state of a scenario).
    pub fn set_cr3(&mut self, cr3: u64) {
        self.cr3 = cr3;
    }

    /// The IDT gate of `vector`, if the scenario installed one.
    pub fn idt_gate(&self, vector: u8) -> Option<IdtGate> {
        self.idt[usize::from(vector)]
    }

    /// Install (or, with `None`, remove) the gate of `vector`.
    pub fn set_idt_gate(&mut self, vector: u8, gate: Option<IdtGate>) {
        self.idt[usize::from(vector)] = gate;
    }

    /// The stack pointer loaded when an event moves the core from CPL 3 to CPL 0
    /// (TSS.RSP0).
    pub fn kernel_stack(&self) -> u64 {
        self.kernel_stack
    }

    /// Set the CPL 0 stack pointer (TSS.RSP0).
    pub fn set_kernel_stack(&mut self, rsp0: u64) {
        self.kernel_stack = rsp0;
    }

    /// `mov reg, crN`: the value of control register `n`, or #UD for a register
    /// that does not exist.
    pub(super) fn read_cr(&self, n: u8) -> Result<u64, Fault> {
        Ok(match n {
            0 => self.cr0,
            2 => self.cr2,
            3 => self.cr3,
            4 => self.cr4,
            8 => u64::from(self.apic.tpr >> 4),
            _ => return Err(Fault::ud()),
        })
    }

    /// `mov crN, value`, with the checks of SDM Vol. 2 "MOV—Move to/from Control
    /// Registers" that matter in 64-bit mode: reserved upper bits of CR0/CR8 and
    /// leaving IA-32e mode (clearing CR0.PE/PG or CR4.PAE) raise #GP(0).
    pub(super) fn write_cr(&mut self, n: u8, value: u64) -> Result<(), Fault> {
        match n {
            0 if value >> 32 != 0 || value & CR0_PE_PG != CR0_PE_PG => Err(Fault::gp(0)),
            0 => {
                self.cr0 = value;
                Ok(())
            }
            2 => {
                self.cr2 = value;
                Ok(())
            }
            3 => {
                self.cr3 = value;
                Ok(())
            }
            4 if value & CR4_PAE == 0 => Err(Fault::gp(0)),
            4 => {
                self.cr4 = value;
                Ok(())
            }
            8 if value > 0xF => Err(Fault::gp(0)),
            8 => {
                self.apic.tpr = (value as u8) << 4;
                Ok(())
            }
            _ => Err(Fault::ud()),
        }
    }
}
