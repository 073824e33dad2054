//! The out-of-order multicore machine: N cores with store buffers over coherent memory,
//! cycle by cycle, deterministic for a given configuration and seed.
//!
//! x86-TSO is kept exactly: loads execute early and out of order but are redone
//! (machine clear) if a line they read is written by another core before they retire;
//! stores become visible in program order when they leave the store buffer; fences,
//! locked instructions and serializing instructions wait for the buffer to drain.
//!
//! Each cycle, every core (in core order) applies a pending flush, drains its store
//! buffer, completes loads whose line arrived, retires, issues, renames, decodes and
//! fetches; stores that became visible are then snooped by the other cores.
//!
//! Modelled: 16-byte fetch through a prefetch buffer and a set-associative I-cache of
//! byte copies; decode-time branch prediction (bimodal, BTB for indirect targets,
//! return stack); a decoded-uop queue; value-capturing rename into a ROB; a scheduler
//! with issue width, load/store ports and per-class latencies; loads that pass older
//! stores once their addresses are known, forward from the store queue and the store
//! buffer, and wait on partial overlaps; a FIFO store buffer draining one store per
//! interval once its line is owned; MESI-style line ownership with one transfer at a
//! time per line. Simplified: the data L1 has no capacity limit (a core keeps a line
//! until another core takes it), there is no memory-dependence speculation, no
//! TLB, and instruction-side fills are not part of the data coherence protocol.

mod addr_map;
mod config;
mod core;
mod cost;
mod decode_cache;
mod events;
mod frontend;
mod icache;
mod jitter;
mod lsq;
mod memsys;
mod predictor;
mod retire;
mod rob;
mod scheduler;
mod shared;
mod stale;
mod store_buffer;
mod sysexec;
mod trace;
mod watchdog;

pub use config::{CoreConfig, IfetchCoherence, MachineConfig, MemConfig};
pub use cost::{SerializationCost, SyscallSpan};
pub use events::{Contract, ContractViolation, InterruptTrigger, IpiRecord};
pub use memsys::LINE;
pub use stale::{NEVER_SERIALIZED, StaleExecution};
pub use store_buffer::{Overlap, SbEntry, StoreBuffer, overlap};
pub use trace::{ClearReason, InstRecord, MemEvent, NEVER, SerializeReason, Stage, TraceEvent};
pub use watchdog::{CoreWait, WatchdogReport};

use std::collections::BTreeMap;

use isa::flags::Flags;

use self::core::Core;
use self::decode_cache::DecodeCache;
use self::events::Events;
use self::jitter::Jitter;
use self::memsys::MemSys;
use self::rob::loc_index;
use self::shared::{CoreSignal, Shared, VisibleStore};
use crate::mem::Memory;
use crate::system::SystemState;

/// Cycles between two calls of the observer of [`Machine::run_observed`].
pub const OBSERVE_EVERY: u64 = 1 << 16;

/// Where a core starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreInit {
    /// First instruction.
    pub rip: u64,
    /// Initial general registers, in encoding order (RAX..R15).
    pub regs: [u64; 16],
}

/// Counters of one core over a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoreStats {
    /// Instructions retired.
    pub retired: u64,
    /// Cycles until the core halted (or the run ended).
    pub cycles: u64,
    /// Retired instructions per cycle.
    pub ipc: f64,
    /// Memory-ordering and self-modifying-code clears.
    pub machine_clears: u64,
    /// Mispredicted branches.
    pub mispredicts: u64,
    /// Uops thrown away by clears and mispredictions.
    pub squashed_uops: u64,
    /// Times retirement stalled on a full store buffer.
    pub sb_full_stalls: u64,
    /// Serializations (instructions, and interrupt deliveries when configured).
    pub serializations: u64,
    /// Serializations by what caused them.
    pub serializations_by_reason: BTreeMap<SerializeReason, u64>,
    /// Cycles attributed to serializations, by what caused them.
    pub serialization_cycles: BTreeMap<SerializeReason, SerializationCost>,
    /// Cycles MFENCE and locked instructions waited for the store buffer to drain.
    pub fence_drain_cycles: u64,
    /// Every system call this core made that returned to user mode, in order.
    pub syscalls: Vec<SyscallSpan>,
    /// IPIs this core sent (one per destination core).
    pub ipis_sent: u64,
    /// IPIs that reached this core's APIC.
    pub ipis_received: u64,
    /// Interrupts this core took (IPIs, scheduled interrupts, timer).
    pub interrupts: u64,
    /// Exceptions delivered through the IDT (#GP of a privileged instruction...).
    pub exceptions: u64,
    /// Stale executions of this core that broke a declared contract.
    pub contract_violations: u64,
    /// Instructions retired from bytes memory no longer held (see [`StaleExecution`]).
    pub stale_executions: u64,
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// Every core sleeps in `hlt` with no interrupt able to wake it, and every
    /// store buffer drained.
    AllHalted,
    /// No core made progress for `watchdog_cycles`.
    Watchdog(WatchdogReport),
    /// `max_cycles` reached.
    CycleLimit,
    /// The observer of [`Machine::run_observed`] asked to stop (Ctrl-C).
    Interrupted,
    /// A core's oldest instruction cannot be executed.
    Fault {
        /// The core.
        core: usize,
        /// Address of the instruction.
        rip: u64,
        /// What is wrong.
        message: String,
    },
}

/// Result of [`Machine::run`].
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// Why the run stopped.
    pub stop: StopReason,
    /// Cycles simulated.
    pub cycles: u64,
    /// Per-core counters.
    pub per_core: Vec<CoreStats>,
}

/// N out-of-order cores sharing coherent memory.
///
/// ```
/// use sim_core::machine::{CoreInit, Machine, MachineConfig, StopReason};
/// use sim_core::mem::Memory;
///
/// let program = isa::asm::assemble("mov eax, 42\nmov dword ptr [0x600000], eax\nhlt").unwrap();
/// let mut memory = Memory::new();
/// for s in &program.sections {
///     memory.load_bytes(s.base, &s.bytes);
/// }
/// let cores = vec![CoreInit { rip: program.sections[0].base, regs: [0; 16] }];
/// let mut machine = Machine::new(MachineConfig::default(), memory, cores);
/// let outcome = machine.run();
/// assert_eq!(outcome.stop, StopReason::AllHalted);
/// assert_eq!(machine.regs(0)[0], 42);
/// assert_eq!(machine.memory().read(0x600000, isa::reg::Width::B4), 42);
/// ```
#[derive(Debug)]
pub struct Machine {
    config: MachineConfig,
    cores: Vec<Core>,
    memsys: MemSys,
    memory: Memory,
    cache: DecodeCache,
    trace: Vec<TraceEvent>,
    visible: Vec<VisibleStore>,
    line_writes: stale::LineWrites,
    stale: Vec<StaleExecution>,
    events: Events,
    signals: Vec<CoreSignal>,
    now: u64,
    last_progress: u64,
}

impl Machine {
    /// A machine with `config.cores` cores (`cores` gives each one's start; missing
    /// entries start at the first one's `rip` with zero registers) over `memory`.
    pub fn new(config: MachineConfig, memory: Memory, cores: Vec<CoreInit>) -> Machine {
        let n = config.cores.max(cores.len()).max(1);
        let fallback = CoreInit {
            rip: cores.first().map_or(0, |c| c.rip),
            regs: [0; 16],
        };
        let built = (0..n)
            .map(|id| {
                let mut jitter = Jitter::new(config.seed, id as u64 + 1, config.timing_jitter);
                let start = jitter.delay(u64::from(config.timing_jitter));
                let init = cores.get(id).unwrap_or(&fallback);
                Core::new(
                    id,
                    &config.core,
                    config.mem.ifetch_coherence,
                    init,
                    config.system,
                    start,
                    jitter,
                )
            })
            .collect();
        let memsys = MemSys::new(
            config.mem.clone(),
            Jitter::new(config.seed, 0, config.timing_jitter),
        );
        Machine {
            config,
            cores: built,
            memsys,
            memory,
            cache: DecodeCache::new(),
            trace: Vec::new(),
            visible: Vec::new(),
            line_writes: stale::LineWrites::default(),
            stale: Vec::new(),
            events: Events::default(),
            signals: Vec::new(),
            now: 0,
            last_progress: 0,
        }
    }

    /// The system state of `core` (privilege level, MSRs, IDT, APIC).
    pub fn system(&self, core: usize) -> &SystemState {
        &self.cores[core].sys
    }

    /// Set up `core`'s system state before [`Machine::run`]: IDT gates, kernel
    /// stack, MSRs, CR3, user mode — what boot code would have done.
    pub fn system_mut(&mut self, core: usize) -> &mut SystemState {
        &mut self.cores[core].sys
    }

    /// Set `core`'s RFLAGS before [`Machine::run`] (`Flags::IF` to accept interrupts).
    pub fn set_flags(&mut self, core: usize, flags: Flags) {
        self.cores[core].arch[loc_index(isa::uop::Loc::Flags)] = flags.bits();
    }

    /// Raise interrupt `vector` at `core` when `trigger` fires; it reaches the core
    /// `ipi_latency` cycles later, like an IPI.
    pub fn schedule_interrupt(&mut self, trigger: InterruptTrigger, core: usize, vector: u8) {
        self.events.schedule(trigger, core, vector);
    }

    /// Declare a cross-modifying-code contract; returns its index in reports.
    pub fn add_contract(&mut self, contract: Contract) -> usize {
        self.events.add_contract(contract)
    }

    /// The contracts declared, in order.
    pub fn contracts(&self) -> Vec<&Contract> {
        self.events.contracts().collect()
    }

    /// Every stale execution that broke a contract, in retirement order.
    pub fn contract_violations(&self) -> &[ContractViolation] {
        self.events.violations()
    }

    /// Every IPI sent so far, with its send, arrival and handler-entry cycles.
    pub fn ipis(&self) -> &[IpiRecord] {
        self.events.ipis()
    }

    /// Run until every core halts, a fault, the watchdog or the cycle limit.
    pub fn run(&mut self) -> RunOutcome {
        self.run_observed(|_| true)
    }

    /// [`Machine::run`], calling `observe(cycle)` every [`OBSERVE_EVERY`] cycles:
    /// long runs can show progress, and `observe` returning `false` stops the run
    /// ([`StopReason::Interrupted`]) with its state and counters so far intact.
    pub fn run_observed(&mut self, mut observe: impl FnMut(u64) -> bool) -> RunOutcome {
        let stop = loop {
            if self.now.is_multiple_of(OBSERVE_EVERY) && !observe(self.now) {
                break StopReason::Interrupted;
            }
            if self.cores.iter().all(|c| c.halted && c.sb.is_empty()) {
                if !self.cores.iter().any(can_wake) && !self.events.in_flight() {
                    break StopReason::AllHalted;
                }
                self.skip_idle_cycles();
            }
            if self.now >= self.config.max_cycles {
                break StopReason::CycleLimit;
            }
            if self.now - self.last_progress > self.config.watchdog_cycles {
                break StopReason::Watchdog(watchdog::report(
                    self.now,
                    &self.cores,
                    &self.memsys,
                    &self.cache,
                ));
            }
            if let Some(fault) = self.cycle() {
                break fault;
            }
            self.now += 1;
        };
        let per_core = self
            .cores
            .iter()
            .map(|c| {
                let mut s = c.stats.clone();
                if !c.halted {
                    s.cycles = self.now;
                }
                s.ipc = if s.cycles == 0 {
                    0.0
                } else {
                    s.retired as f64 / s.cycles as f64
                };
                s
            })
            .collect();
        RunOutcome {
            stop,
            cycles: self.now,
            per_core,
        }
    }

    /// Every core sleeps and nothing can happen before the next interrupt arrives
    /// or the next TSC-deadline timer fires: jump there (the watchdog does not
    /// count the wait; the time-stamp counter is the cycle count, so timers still
    /// fire at their deadline).
    fn skip_idle_cycles(&mut self) {
        let deadlines = self.cores.iter().filter_map(|c| c.sys.timer_deadline());
        let next = deadlines.chain(self.events.next_arrival()).min();
        if let Some(next) = next {
            self.now = self.now.max(next.min(self.config.max_cycles));
            self.last_progress = self.now;
        }
    }

    /// Step every core once, in core order, then let other cores snoop new stores.
    fn cycle(&mut self) -> Option<StopReason> {
        let now = self.now;
        for (core, vector) in self.events.arriving(now) {
            let c = &mut self.cores[core];
            c.sys.post_interrupt(vector);
            c.stats.ipis_received += 1;
        }
        for i in 0..self.cores.len() {
            self.cores[i].sys.tick(now);
            let mut sh = Shared {
                memsys: &mut self.memsys,
                memory: &mut self.memory,
                cache: &mut self.cache,
                trace: self.config.trace.then_some(&mut self.trace),
                visible: &mut self.visible,
                line_writes: &self.line_writes,
                stale: &mut self.stale,
                signals: &mut self.signals,
                watched: &self.events.watched,
            };
            let retired_before = self.cores[i].stats.retired;
            let serializing = self.config.interrupt_delivery_serializing;
            let fault = self.cores[i].step(now, serializing, &mut sh);
            if !self.signals.is_empty() {
                self.handle_signals();
            }
            let core = &self.cores[i];
            if let Some((rip, message)) = fault {
                return Some(StopReason::Fault {
                    core: i,
                    rip,
                    message,
                });
            }
            if core.stats.retired != retired_before || !self.visible.is_empty() {
                self.last_progress = now;
            }
            for store in self.visible.drain(..) {
                self.line_writes
                    .record(store.core, store.inst_seq, store.addr, store.len, now);
                for other in self.cores.iter_mut().filter(|c| c.id != store.core) {
                    other.snoop(store, now);
                }
            }
        }
        None
    }

    /// Act on what a core reported during its step.
    fn handle_signals(&mut self) {
        let now = self.now;
        let apic_ids: Vec<u32> = self.cores.iter().map(|c| c.sys.apic_id()).collect();
        let receivers = |from: usize, ipi: crate::system::Ipi| {
            (0..apic_ids.len())
                .filter(|&j| ipi.dest.includes(apic_ids[from], apic_ids[j]))
                .collect::<Vec<_>>()
        };
        let latency = self.config.ipi_latency;
        let mut reported = Vec::new();
        for signal in std::mem::take(&mut self.signals) {
            self.events
                .on_signal(signal, receivers, now, latency, &mut reported);
        }
        for event in reported {
            if let TraceEvent::ContractViolation { stale, .. } = event {
                self.cores[usize::from(stale.core)]
                    .stats
                    .contract_violations += 1;
            }
            if self.config.trace {
                self.trace.push(event);
            }
        }
    }

    /// Architectural general registers of `core` (retired state).
    pub fn regs(&self, core: usize) -> [u64; 16] {
        let mut r = [0; 16];
        r.copy_from_slice(&self.cores[core].arch[..16]);
        r
    }

    /// Architectural RFLAGS of `core`.
    pub fn flags(&self, core: usize) -> Flags {
        self.cores[core].arch_flags()
    }

    /// The globally visible memory (after `AllHalted`, every store buffer has drained).
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// Every stale execution of the run so far, in retirement order (recorded with
    /// tracing on or off: they are what synclab exists to show).
    pub fn stale_executions(&self) -> &[StaleExecution] {
        &self.stale
    }

    /// Turn tracing on or off before [`Machine::run`], for machines built by code
    /// that chose the rest of the configuration (a scenario's builder): the same
    /// run with and without a trace is then one build away.
    pub fn set_tracing(&mut self, on: bool) {
        self.config.trace = on;
    }

    /// The trace recorded so far (empty unless `config.trace`); leaves it empty.
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        std::mem::take(&mut self.trace)
    }
}

/// Whether a sleeping core would take an interrupt already requested at its APIC,
/// or one its armed timer will request.
fn can_wake(core: &Core) -> bool {
    core.interrupt_ready() || (core.arch_flags().contains(Flags::IF) && core.sys.timer_armed())
}
