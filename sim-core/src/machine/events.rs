//! What happens between cores rather than inside one: interrupts a scenario
//! schedules, IPIs on their way from one local APIC to another, and the
//! cross-modifying-code contracts checked against every stale execution.

use super::StaleExecution;
use super::shared::CoreSignal;
use super::trace::TraceEvent;
use crate::system::Ipi;

/// When a scheduled interrupt is raised.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InterruptTrigger {
    /// At this cycle (it then takes `ipi_latency` cycles to arrive, like an IPI).
    Cycle(u64),
    /// When any core retires the instruction at this address.
    Retire(u64),
}

/// One IPI from the ICR write to the handler, for latency reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IpiRecord {
    /// Sending core.
    pub from: usize,
    /// Receiving core.
    pub to: usize,
    /// Vector.
    pub vector: u8,
    /// Cycle the ICR write retired.
    pub sent: u64,
    /// Cycle it reached the receiver's APIC.
    pub arrived: Option<u64>,
    /// Cycle the receiver took it (entered the handler).
    pub taken: Option<u64>,
}

/// "After the writer passes `sync_point`, no core executes bytes older than the
/// writer's stores before it": the protocol a JIT or a live patcher promises.
/// Stale executions before the writer passes the point are allowed by it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contract {
    /// Name in reports.
    pub name: String,
    /// Address of the sync point instruction (`.sync_point NAME` marks it).
    pub sync_point: u64,
}

/// A stale execution that breaks a contract.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ContractViolation {
    /// Index of the contract ([`super::Machine::add_contract`]'s result).
    pub contract: usize,
    /// The stale execution (its `writer` passed the sync point after the store).
    pub stale: StaleExecution,
    /// Cycle the writer passed the sync point.
    pub passed_at: u64,
}

/// A contract and the latest pass of each core over its sync point.
#[derive(Clone, Debug)]
struct ContractState {
    contract: Contract,
    /// `(core, instruction sequence number, cycle)` of each core's latest pass.
    passes: Vec<(usize, u64, u64)>,
}

/// An interrupt on its way to a core's APIC.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Arrival {
    at: u64,
    core: usize,
    vector: u8,
    /// Index into the IPI records, for IPIs.
    ipi: Option<usize>,
}

/// The machine's inter-core event state.
#[derive(Clone, Debug, Default)]
pub(super) struct Events {
    arrivals: Vec<Arrival>,
    on_retire: Vec<(u64, usize, u8)>,
    ipis: Vec<IpiRecord>,
    contracts: Vec<ContractState>,
    violations: Vec<ContractViolation>,
    /// Sorted, deduplicated addresses whose retirement matters.
    pub(super) watched: Vec<u64>,
}

impl Events {
    /// Raise `vector` at `core` when `trigger` fires.
    pub(super) fn schedule(&mut self, trigger: InterruptTrigger, core: usize, vector: u8) {
        match trigger {
            InterruptTrigger::Cycle(at) => self.arrivals.push(Arrival {
                at,
                core,
                vector,
                ipi: None,
            }),
            InterruptTrigger::Retire(addr) => {
                self.on_retire.push((addr, core, vector));
                self.watch(addr);
            }
        }
    }

    /// Add a contract; returns its index.
    pub(super) fn add_contract(&mut self, contract: Contract) -> usize {
        self.watch(contract.sync_point);
        self.contracts.push(ContractState {
            contract,
            passes: Vec::new(),
        });
        self.contracts.len() - 1
    }

    fn watch(&mut self, addr: u64) {
        if let Err(at) = self.watched.binary_search(&addr) {
            self.watched.insert(at, addr);
        }
    }

    /// Interrupts that reach their core's APIC at cycle `now`: `(core, vector)`.
    pub(super) fn arriving(&mut self, now: u64) -> Vec<(usize, u8)> {
        if self.arrivals.iter().all(|a| a.at > now) {
            return Vec::new();
        }
        let mut arrived = Vec::new();
        let ipis = &mut self.ipis;
        self.arrivals.retain(|a| {
            if a.at > now {
                return true;
            }
            if let Some(i) = a.ipi {
                ipis[i].arrived = Some(now);
            }
            arrived.push((a.core, a.vector));
            false
        });
        arrived
    }

    /// Whether an interrupt is still on its way.
    pub(super) fn in_flight(&self) -> bool {
        !self.arrivals.is_empty()
    }

    /// The earliest cycle an interrupt arrives.
    pub(super) fn next_arrival(&self) -> Option<u64> {
        self.arrivals.iter().map(|a| a.at).min()
    }

    /// Act on one signal of a core's step at cycle `now`, reporting what happened
    /// in `out` (IPIs sent, sync points passed, contracts broken). `receivers`
    /// lists, for an IPI, the cores it reaches; `latency` is the IPI delivery
    /// latency.
    pub(super) fn on_signal(
        &mut self,
        signal: CoreSignal,
        receivers: impl Fn(usize, Ipi) -> Vec<usize>,
        now: u64,
        latency: u64,
        out: &mut Vec<TraceEvent>,
    ) {
        match signal {
            CoreSignal::Ipi { from, ipi, cycle } => {
                for to in receivers(from, ipi) {
                    self.ipis.push(IpiRecord {
                        from,
                        to,
                        vector: ipi.vector,
                        sent: cycle,
                        arrived: None,
                        taken: None,
                    });
                    let arrives = cycle + latency;
                    self.arrivals.push(Arrival {
                        at: arrives,
                        core: to,
                        vector: ipi.vector,
                        ipi: Some(self.ipis.len() - 1),
                    });
                    out.push(TraceEvent::IpiSent {
                        core: from as u16,
                        cycle,
                        to: to as u16,
                        vector: ipi.vector,
                        arrives,
                    });
                }
            }
            CoreSignal::InterruptTaken {
                core,
                vector,
                cycle,
            } => {
                let record = self.ipis.iter_mut().find(|r| {
                    r.to == core && r.vector == vector && r.arrived.is_some() && r.taken.is_none()
                });
                if let Some(r) = record {
                    r.taken = Some(cycle);
                }
            }
            CoreSignal::Watched { core, ip, inst_seq } => {
                for &(_, target, vector) in self.on_retire.iter().filter(|t| t.0 == ip) {
                    self.arrivals.push(Arrival {
                        at: now + latency,
                        core: target,
                        vector,
                        ipi: None,
                    });
                }
                for (i, c) in self.contracts.iter_mut().enumerate() {
                    if c.contract.sync_point != ip {
                        continue;
                    }
                    c.passes.retain(|p| p.0 != core);
                    c.passes.push((core, inst_seq, now));
                    out.push(TraceEvent::SyncPoint {
                        core: core as u16,
                        cycle: now,
                        contract: i as u16,
                    });
                }
            }
            CoreSignal::Stale { stale, writer_seq } => {
                for (i, c) in self.contracts.iter().enumerate() {
                    let pass = c
                        .passes
                        .iter()
                        .find(|p| p.0 == usize::from(stale.writer) && p.1 > writer_seq);
                    if let Some(&(_, _, passed_at)) = pass {
                        let violation = ContractViolation {
                            contract: i,
                            stale,
                            passed_at,
                        };
                        self.violations.push(violation);
                        out.push(TraceEvent::ContractViolation {
                            contract: i as u16,
                            stale,
                        });
                    }
                }
            }
        }
    }

    /// Every IPI sent so far.
    pub(super) fn ipis(&self) -> &[IpiRecord] {
        &self.ipis
    }

    /// The contracts, in the order they were added.
    pub(super) fn contracts(&self) -> impl Iterator<Item = &Contract> {
        self.contracts.iter().map(|c| &c.contract)
    }

    /// Every contract violation so far.
    pub(super) fn violations(&self) -> &[ContractViolation] {
        &self.violations
    }
}
