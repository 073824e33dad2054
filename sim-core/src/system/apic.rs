//! The x2APIC, as far as IPIs need it: ICR writes (SDM Vol. 3A §11.12.9, "ICR
//! Operation in x2APIC Mode"), the IRR/ISR bookkeeping of fixed interrupts, the
//! task priority (CR8), EOI (§11.8.4–11.8.5) and the TSC-deadline timer
//! (§11.5.4.1).

use std::fmt;

use isa::flags::Flags;

use super::transfer::Event;
use super::{Exception, Fault, StackMemory, SysContext, SystemState};

/// A set of the 256 interrupt vectors (one IRR or ISR).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct VectorSet([u64; 4]);

impl VectorSet {
    fn insert(&mut self, v: u8) {
        self.0[usize::from(v >> 6)] |= 1 << (v & 63);
    }

    fn remove(&mut self, v: u8) {
        self.0[usize::from(v >> 6)] &= !(1 << (v & 63));
    }

    /// The highest vector in the set: the highest priority.
    fn highest(&self) -> Option<u8> {
        (0..4).rev().find_map(|i| {
            let w = self.0[i];
            (w != 0).then(|| (i * 64 + 63 - w.leading_zeros() as usize) as u8)
        })
    }
}

/// The local APIC of one core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LocalApic {
    /// x2APIC ID.
    pub(super) id: u32,
    /// Task priority (TPR; CR8 is its bits 7:4).
    pub(super) tpr: u8,
    /// Last value written to the ICR.
    pub(super) icr: u64,
    /// LVT timer register: vector 7:0, mask 16, mode 18:17.
    pub(super) lvt_timer: u64,
    /// IA32_TSC_DEADLINE: the TSC value at which the timer fires; 0 = disarmed.
    pub(super) deadline: u64,
    /// Interrupt request register: accepted by the APIC, not yet by the core.
    irr: VectorSet,
    /// In-service register: delivered to the core, no EOI yet.
    isr: VectorSet,
}

impl LocalApic {
    pub(super) fn new(id: u32) -> LocalApic {
        LocalApic {
            id,
            tpr: 0,
            icr: 0,
            lvt_timer: LVT_MASKED,
            deadline: 0,
            irr: VectorSet::default(),
            isr: VectorSet::default(),
        }
    }

    /// Whether the LVT timer is in TSC-deadline mode.
    pub(super) fn deadline_mode(&self) -> bool {
        self.lvt_timer & LVT_TIMER_MODE == LVT_TSC_DEADLINE
    }

    /// EOI: the highest-priority in-service vector is done.
    pub(super) fn eoi(&mut self) -> Option<u8> {
        let v = self.isr.highest()?;
        self.isr.remove(v);
        Some(v)
    }

    /// The highest requested vector whose priority class is above both the task
    /// priority and the highest in-service class (PPR, SDM §11.8.3.1).
    fn deliverable(&self) -> Option<u8> {
        let v = self.irr.highest()?;
        let ppr = self.tpr.max(self.isr.highest().unwrap_or(0) & 0xF0);
        (v >> 4 > ppr >> 4).then_some(v)
    }
}

/// Whom an IPI goes to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum IpiDest {
    /// Physical destination: the core with this x2APIC ID.
    Apic(u32),
    /// Logical destination: the cores of `cluster` whose bit is set in `mask` (an
    /// x2APIC logical ID is `(id >> 4) << 16 | 1 << (id & 15)`).
    Logical {
        /// Cluster number (ICR bits 63:48).
        cluster: u16,
        /// One bit per core of the cluster (ICR bits 47:32).
        mask: u16,
    },
    /// Shorthand "self".
    SelfOnly,
    /// Shorthand "all including self", or the broadcast ID 0xFFFF_FFFF.
    AllIncludingSelf,
    /// Shorthand "all excluding self".
    AllExcludingSelf,
}

impl IpiDest {
    /// Whether the core `apic_id` receives an IPI sent by the core `sender`.
    pub fn includes(self, sender: u32, apic_id: u32) -> bool {
        match self {
            IpiDest::Apic(id) => id == apic_id,
            IpiDest::Logical { cluster, mask } => {
                u32::from(cluster) == apic_id >> 4 && mask & (1 << (apic_id & 15)) != 0
            }
            IpiDest::SelfOnly => apic_id == sender,
            IpiDest::AllIncludingSelf => true,
            IpiDest::AllExcludingSelf => apic_id != sender,
        }
    }
}

/// A fixed-mode inter-processor interrupt requested by an ICR write.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ipi {
    /// The receivers.
    pub dest: IpiDest,
    /// The interrupt vector (16..=255).
    pub vector: u8,
}

/// LVT mask bit: no interrupt when set (the reset value of every LVT entry).
const LVT_MASKED: u64 = 1 << 16;
/// LVT timer mode field (bits 18:17).
const LVT_TIMER_MODE: u64 = 3 << 17;
/// LVT timer mode 10b: TSC-deadline.
const LVT_TSC_DEADLINE: u64 = 2 << 17;
/// LVT timer bits that may be written: vector, mask, mode.
const LVT_TIMER_WRITABLE: u64 = 0xFF | LVT_MASKED | LVT_TIMER_MODE;

/// `IPI 0xf0 -> APIC 1`, `IPI 0xf0 -> all but self`.
impl fmt::Display for Ipi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IPI {:#x} -> ", self.vector)?;
        match self.dest {
            IpiDest::Apic(id) => write!(f, "APIC {id}"),
            IpiDest::Logical { cluster, mask } => write!(f, "cluster {cluster} mask {mask:#x}"),
            IpiDest::SelfOnly => f.write_str("self"),
            IpiDest::AllIncludingSelf => f.write_str("all"),
            IpiDest::AllExcludingSelf => f.write_str("all but self"),
        }
    }
}

/// ICR bits that are reserved in x2APIC mode (a WRMSR setting any is #GP(0)):
/// 12 (no delivery status), 13, 16–17, 20–31.
const ICR_RESERVED: u64 = 0xFFF3_3000;

impl SystemState {
    /// An interrupt arrives at this core's APIC (an IPI, after whatever latency
    /// the caller models): it is requested until the core accepts it.
    pub fn post_interrupt(&mut self, vector: u8) {
        self.apic.irr.insert(vector);
    }

    /// Advance the TSC-deadline timer to `tsc` (SDM Vol. 3A §11.5.4.1): once TSC ≥
    /// IA32_TSC_DEADLINE ≠ 0 the timer disarms (the MSR reads 0 again) and, unless
    /// the LVT timer is masked, requests its vector. The caller calls this as its
    /// time-stamp counter advances; returns the vector requested, if any.
    pub fn tick(&mut self, tsc: u64) -> Option<u8> {
        let apic = &mut self.apic;
        if apic.deadline == 0 || tsc < apic.deadline {
            return None;
        }
        apic.deadline = 0;
        let vector = (apic.lvt_timer & LVT_MASKED == 0).then_some(apic.lvt_timer as u8)?;
        apic.irr.insert(vector);
        Some(vector)
    }

    /// The vector the core would take at an instruction boundary with IF = 1:
    /// the highest requested one above the processor priority.
    pub fn deliverable_interrupt(&self) -> Option<u8> {
        if self.sti_shadow {
            return None;
        }
        self.apic.deliverable()
    }

    /// Whether an interrupt is requested and not yet taken (whatever its priority).
    pub fn interrupt_requested(&self) -> bool {
        self.apic.irr.highest().is_some()
    }

    /// Whether the TSC-deadline timer is armed (it will request an interrupt).
    pub fn timer_armed(&self) -> bool {
        self.apic.deadline != 0
    }

    /// The TSC value at which the armed TSC-deadline timer fires, if armed.
    pub fn timer_deadline(&self) -> Option<u64> {
        (self.apic.deadline != 0).then_some(self.apic.deadline)
    }

    /// The highest-priority vector delivered to the core and not yet EOI'd.
    pub fn in_service(&self) -> Option<u8> {
        self.apic.isr.highest()
    }
}

impl<M: StackMemory> SysContext<'_, M> {
    /// Whether the core accepts a maskable interrupt at this instruction boundary:
    /// RFLAGS.IF = 1 (there is no interrupt shadow, see the module docs).
    pub fn can_accept_interrupt(&self) -> bool {
        self.flags.contains(Flags::IF)
    }

    /// The interrupt the core would take at this boundary, if any: the highest
    /// requested vector above the processor priority, when IF = 1.
    pub fn pending_interrupt(&self) -> Option<u8> {
        self.can_accept_interrupt()
            .then(|| self.sys.deliverable_interrupt())
            .flatten()
    }

    /// Take the pending interrupt, if any, at the boundary before `next_rip`: move
    /// it from IRR to ISR and deliver it through the IDT (a halted core wakes up
    /// here). Returns the vector delivered.
    pub fn take_interrupt(&mut self) -> Result<Option<u8>, Exception> {
        let Some(vector) = self.pending_interrupt() else {
            return Ok(None);
        };
        self.deliver(Event::External(vector))?;
        self.sys.apic.irr.remove(vector);
        self.sys.apic.isr.insert(vector);
        Ok(Some(vector))
    }

    /// A write to the LVT timer register. Only the TSC-deadline mode is modelled
    /// (the one-shot and periodic counters are not), so an unmasked entry in
    /// another mode is reported; reserved bits are #GP(0). Leaving TSC-deadline
    /// mode disarms the timer.
    pub(super) fn lvt_timer_write(&mut self, value: u64) -> Result<(), Exception> {
        if value & !LVT_TIMER_WRITABLE != 0 || value & LVT_TIMER_MODE == LVT_TIMER_MODE {
            return Err(self.raise(Fault::gp(0), format!("LVT timer {value:#x}: reserved bits")));
        }
        let deadline_mode = value & LVT_TIMER_MODE == LVT_TSC_DEADLINE;
        if !deadline_mode && value & LVT_MASKED == 0 {
            return Err(Exception::unmodelled(
                self.rip,
                "only the TSC-deadline mode of the APIC timer is modelled",
            ));
        }
        let apic = &mut self.sys.apic;
        apic.lvt_timer = value;
        if !deadline_mode {
            apic.deadline = 0;
        }
        Ok(())
    }

    /// Decode an ICR write (x2APIC format: vector 7:0, delivery mode 10:8,
    /// destination mode 11, shorthand 19:18, destination 63:32).
    pub(super) fn icr_write(&self, icr: u64) -> Result<Ipi, Exception> {
        if icr & ICR_RESERVED != 0 {
            return Err(self.raise(Fault::gp(0), format!("ICR {icr:#x}: reserved bits set")));
        }
        let vector = icr as u8;
        if (icr >> 8) & 7 != 0 {
            return Err(Exception::unmodelled(
                self.rip,
                format!("ICR {icr:#x}: only the fixed delivery mode is modelled"),
            ));
        }
        let dest = (icr >> 32) as u32;
        let dest = match ((icr >> 18) & 3, icr & (1 << 11) != 0) {
            (1, _) => IpiDest::SelfOnly,
            (2, _) => IpiDest::AllIncludingSelf,
            (3, _) => IpiDest::AllExcludingSelf,
            _ if dest == u32::MAX => IpiDest::AllIncludingSelf,
            (_, true) => IpiDest::Logical {
                cluster: (dest >> 16) as u16,
                mask: dest as u16,
            },
            (_, false) => IpiDest::Apic(dest),
        };
        self.fixed_ipi(dest, vector)
    }

    /// Decode a write to the x2APIC SELF IPI register: vector in bits 7:0, the rest
    /// reserved (#GP(0)).
    pub(super) fn self_ipi_write(&self, value: u64) -> Result<Ipi, Exception> {
        if value >> 8 != 0 {
            return Err(self.raise(
                Fault::gp(0),
                format!("SELF IPI {value:#x}: reserved bits set"),
            ));
        }
        self.fixed_ipi(IpiDest::SelfOnly, value as u8)
    }

    /// A fixed IPI; vectors 0–15 are an APIC "send illegal vector" error, which
    /// is reported rather than modelled.
    fn fixed_ipi(&self, dest: IpiDest, vector: u8) -> Result<Ipi, Exception> {
        if vector < 16 {
            return Err(Exception::unmodelled(
                self.rip,
                format!("IPI vector {vector} is an APIC send error (ESR not modelled)"),
            ));
        }
        Ok(Ipi { dest, vector })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::SysEffect;

    #[test]
    fn vector_sets_find_the_highest_priority() {
        let mut s = VectorSet::default();
        assert_eq!(s.highest(), None);
        for v in [0x20, 0xfd, 0x41] {
            s.insert(v);
        }
        assert_eq!(s.highest(), Some(0xfd));
        s.remove(0xfd);
        assert_eq!(s.highest(), Some(0x41));
    }

    #[test]
    fn processor_priority_masks_lower_classes() {
        // SDM Vol. 3A §11.8.3.1: a vector is delivered only if its priority class
        // (bits 7:4) is above PPR's, PPR = max(TPR, class of the in-service vector).
        let mut apic = LocalApic::new(0);
        apic.irr.insert(0x45);
        apic.isr.insert(0x48);
        assert_eq!(apic.deliverable(), None);
        apic.irr.insert(0x51);
        assert_eq!(apic.deliverable(), Some(0x51));
        apic.tpr = 0x50;
        assert_eq!(apic.deliverable(), None);
        assert_eq!(apic.eoi(), Some(0x48));
        assert_eq!(apic.eoi(), None);
    }

    #[test]
    fn effects_print_for_traces() {
        let ipi = |dest| SysEffect::SendIpi(Ipi { dest, vector: 0xf0 }).to_string();
        assert_eq!(ipi(IpiDest::Apic(1)), "IPI 0xf0 -> APIC 1");
        assert_eq!(ipi(IpiDest::AllExcludingSelf), "IPI 0xf0 -> all but self");
        let wrmsr = SysEffect::Serialize(crate::system::SerializeReason::Wrmsr(0xC000_0082));
        assert_eq!(wrmsr.to_string(), "serialize (wrmsr 0xc0000082)");
        assert_eq!(
            SysEffect::Exception(Fault::gp(0)).to_string(),
            "#GP(0x0) delivered"
        );
    }

    #[test]
    fn logical_destinations_name_cluster_members() {
        // SDM Vol. 3A §11.12.10.2: logical x2APIC ID = cluster (id >> 4) in 31:16,
        // bit (id & 15) in 15:0.
        let d = IpiDest::Logical {
            cluster: 1,
            mask: 0b101,
        };
        assert!(d.includes(0, 16) && d.includes(0, 18));
        assert!(!d.includes(0, 17) && !d.includes(0, 2));
        assert!(!IpiDest::AllExcludingSelf.includes(3, 3));
        assert!(IpiDest::SelfOnly.includes(3, 3));
    }
}
