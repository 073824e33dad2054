//! Model-specific registers: the ones SYSCALL/SYSENTER, SWAPGS, RDTSCP and the x2APIC
//! need, with the WRMSR validity checks of SDM Vol. 2 "WRMSR" and Vol. 4 (writing a
//! non-canonical address to an address MSR raises #GP(0)). Other MSRs are reported
//! as not modelled.

use std::collections::BTreeMap;

use isa::class::wrmsr_serializes;

use super::{
    Exception, Fault, SerializeReason, StackMemory, SysContext, SysEffect, SystemState,
    is_canonical,
};

/// IA32_SYSENTER_CS: SYSENTER's code selector; SYSEXIT derives the user selectors.
pub const IA32_SYSENTER_CS: u32 = 0x174;
/// IA32_SYSENTER_ESP: the stack pointer SYSENTER loads.
pub const IA32_SYSENTER_ESP: u32 = 0x175;
/// IA32_SYSENTER_EIP: the entry point SYSENTER jumps to.
pub const IA32_SYSENTER_EIP: u32 = 0x176;
/// IA32_TSC_DEADLINE: the TSC-deadline timer; a WRMSR to it does not serialize.
pub const IA32_TSC_DEADLINE: u32 = 0x6E0;
/// x2APIC ID register (read-only).
pub const X2APIC_ID: u32 = 0x802;
/// x2APIC end-of-interrupt register (write-only; writing a non-zero value is #GP).
pub const X2APIC_EOI: u32 = 0x80B;
/// x2APIC interrupt command register: a write sends an IPI.
pub const X2APIC_ICR: u32 = 0x830;
/// x2APIC LVT timer register: the timer's vector, mask and mode.
pub const X2APIC_LVT_TIMER: u32 = 0x832;
/// x2APIC SELF IPI register (write-only): a write sends the vector to this core.
pub const X2APIC_SELF_IPI: u32 = 0x83F;
/// IA32_EFER: SCE (bit 0) enables SYSCALL/SYSRET; LME/LMA say IA-32e mode.
pub const IA32_EFER: u32 = 0xC000_0080;
/// IA32_STAR: SYSCALL's (bits 47:32) and SYSRET's (bits 63:48) selector bases.
pub const IA32_STAR: u32 = 0xC000_0081;
/// IA32_LSTAR: the 64-bit SYSCALL entry point.
pub const IA32_LSTAR: u32 = 0xC000_0082;
/// IA32_FMASK: RFLAGS bits SYSCALL clears.
pub const IA32_FMASK: u32 = 0xC000_0084;
/// IA32_GS_BASE: the current GS base.
pub const IA32_GS_BASE: u32 = 0xC000_0101;
/// IA32_KERNEL_GS_BASE: the GS base SWAPGS exchanges with IA32_GS_BASE.
pub const IA32_KERNEL_GS_BASE: u32 = 0xC000_0102;
/// IA32_TSC_AUX: what RDTSCP returns in ECX (Linux: the CPU number).
pub const IA32_TSC_AUX: u32 = 0xC000_0103;

/// IA32_EFER.SCE.
pub(super) const EFER_SCE: u64 = 1;
/// IA32_EFER bits software may change in IA-32e mode: SCE and NXE.
const EFER_WRITABLE: u64 = EFER_SCE | (1 << 11);
/// IA32_EFER at boot: SCE, LME, LMA, NXE.
const EFER_BOOT: u64 = 0xD01;

/// The ordinary read/write MSRs, by number; every MSR the model knows apart from
/// the x2APIC registers, which live in the local APIC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Msrs(BTreeMap<u32, u64>);

impl Msrs {
    /// Boot values; IA32_TSC_AUX holds the APIC ID, as Linux sets it (CPU number).
    pub(super) fn new(apic_id: u32) -> Msrs {
        let zero = [
            IA32_STAR,
            IA32_LSTAR,
            IA32_FMASK,
            IA32_SYSENTER_CS,
            IA32_SYSENTER_ESP,
            IA32_SYSENTER_EIP,
            IA32_GS_BASE,
            IA32_KERNEL_GS_BASE,
        ]
        .map(|msr| (msr, 0));
        let boot = [(IA32_EFER, EFER_BOOT), (IA32_TSC_AUX, u64::from(apic_id))];
        Msrs(zero.into_iter().chain(boot).collect())
    }

    /// The value of `msr`, one of the constants of this module (0 for others).
    pub(super) fn get(&self, msr: u32) -> u64 {
        self.0.get(&msr).copied().unwrap_or(0)
    }

    /// Set `msr`, one of the constants of this module.
    pub(super) fn set(&mut self, msr: u32, value: u64) {
        self.0.insert(msr, value);
    }
}

/// MSRs holding a linear address: WRMSR of a non-canonical value is #GP(0).
fn holds_address(msr: u32) -> bool {
    matches!(
        msr,
        IA32_LSTAR | IA32_SYSENTER_ESP | IA32_SYSENTER_EIP | IA32_GS_BASE | IA32_KERNEL_GS_BASE
    )
}

impl SystemState {
    /// What RDMSR of `msr` returns, or `None` for the write-only registers and the
    /// MSRs the model does not know.
    pub fn msr(&self, msr: u32) -> Option<u64> {
        match msr {
            X2APIC_ID => Some(u64::from(self.apic.id)),
            X2APIC_ICR => Some(self.apic.icr),
            X2APIC_LVT_TIMER => Some(self.apic.lvt_timer),
            IA32_TSC_DEADLINE => Some(self.apic.deadline),
            _ => self.msrs.0.get(&msr).copied(),
        }
    }

    /// Set an MSR without executing `wrmsr` (no checks, no side effects): the state
    /// a scenario's boot code would have left. Reaches the ordinary MSRs
    /// (IA32_LSTAR, IA32_STAR...) and the APIC timer (LVT timer, TSC deadline), so
    /// a scenario can start with the timer armed.
    pub fn set_msr(&mut self, msr: u32, value: u64) {
        match msr {
            X2APIC_LVT_TIMER => self.apic.lvt_timer = value,
            IA32_TSC_DEADLINE => self.apic.deadline = value,
            _ => self.msrs.set(msr, value),
        }
    }

    /// The current GS base (IA32_GS_BASE).
    pub fn gs_base(&self) -> u64 {
        self.msrs.get(IA32_GS_BASE)
    }
}

impl<M: StackMemory> SysContext<'_, M> {
    /// WRMSR of `value` to `msr` at CPL 0: validity checks, the write, and what the
    /// machine must do — serialize, unless [`wrmsr_serializes`] says this MSR is
    /// exempt (SDM Vol. 3A §9.3), in which case an ICR write sends an IPI and an EOI
    /// write retires the in-service vector.
    pub(super) fn wrmsr(&mut self, msr: u32, value: u64) -> Result<SysEffect, Exception> {
        let gp =
            |this: &Self, why: &str| this.raise(Fault::gp(0), format!("wrmsr {msr:#x}: {why}"));
        if holds_address(msr) && !is_canonical(value) {
            return Err(gp(self, &format!("{value:#x} is not canonical")));
        }
        let changed = value ^ self.sys.msrs.get(msr);
        match msr {
            IA32_EFER if changed & !EFER_WRITABLE != 0 => {
                return Err(gp(self, "only SCE and NXE may change in IA-32e mode"));
            }
            X2APIC_ID => return Err(gp(self, "the x2APIC ID is read-only")),
            X2APIC_EOI if value != 0 => return Err(gp(self, "EOI value must be zero")),
            X2APIC_EOI => return Ok(SysEffect::Eoi(self.sys.apic.eoi())),
            X2APIC_ICR => {
                let ipi = self.icr_write(value)?;
                self.sys.apic.icr = value;
                return Ok(SysEffect::SendIpi(ipi));
            }
            X2APIC_LVT_TIMER => self.lvt_timer_write(value)?,
            // Ignored unless the LVT timer is in TSC-deadline mode (SDM §11.5.4.1).
            IA32_TSC_DEADLINE if self.sys.apic.deadline_mode() => self.sys.apic.deadline = value,
            IA32_TSC_DEADLINE => {}
            X2APIC_SELF_IPI => return Ok(SysEffect::SendIpi(self.self_ipi_write(value)?)),
            _ if self.sys.msr(msr).is_none() => return Err(self.unknown_msr("wrmsr", msr)),
            _ => self.sys.msrs.set(msr, value),
        }
        Ok(if wrmsr_serializes(msr) {
            SysEffect::Serialize(SerializeReason::Wrmsr(msr))
        } else {
            SysEffect::Continue
        })
    }

    /// RDMSR at CPL 0 into EDX:EAX.
    pub(super) fn rdmsr(&mut self, msr: u32) -> Result<(), Exception> {
        let value = match msr {
            X2APIC_EOI | X2APIC_SELF_IPI => {
                return Err(self.raise(Fault::gp(0), format!("rdmsr {msr:#x}: write-only")));
            }
            _ => self
                .sys
                .msr(msr)
                .ok_or_else(|| self.unknown_msr("rdmsr", msr))?,
        };
        self.set_edx_eax(value);
        Ok(())
    }

    /// An MSR the model does not know: real hardware may implement it (or raise
    /// #GP), so the model reports it rather than guess.
    fn unknown_msr(&self, what: &str, msr: u32) -> Exception {
        Exception::unmodelled(self.rip, format!("{what} {msr:#x}: MSR not modelled"))
    }
}
