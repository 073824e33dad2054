//! When nothing retires for too long: say what every core's oldest instruction is
//! waiting on, so a deadlock in a scenario (or in the model) explains itself.

use std::fmt;

use super::core::Core;
use super::decode_cache::DecodeCache;
use super::frontend::FrontendState;
use super::memsys::{LineView, MemSys, line_of};
use super::rob::{NOT_YET, Wait};

/// What one core is stuck on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreWait {
    /// The core.
    pub core: usize,
    /// Human-readable description of its oldest instruction and what it waits for.
    pub description: String,
}

/// The watchdog's findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchdogReport {
    /// Cycle the watchdog fired.
    pub cycle: u64,
    /// One entry per core.
    pub cores: Vec<CoreWait>,
}

impl fmt::Display for WatchdogReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "no instruction retired for a while (cycle {}):",
            self.cycle
        )?;
        for c in &self.cores {
            writeln!(f, "  core {}: {}", c.core, c.description)?;
        }
        Ok(())
    }
}

/// Build the report for the current state.
pub fn report(cycle: u64, cores: &[Core], memsys: &MemSys, cache: &DecodeCache) -> WatchdogReport {
    let cores = cores
        .iter()
        .map(|c| CoreWait {
            core: c.id,
            description: describe(c, memsys, cache),
        })
        .collect();
    WatchdogReport { cycle, cores }
}

fn line_holder(view: LineView) -> String {
    match (view.locked_by, view.transfer, view.owner) {
        (Some(c), _, _) => format!("locked by core {c}"),
        (None, Some((c, t)), _) => format!("in transfer to core {c} until cycle {t}"),
        (None, None, Some(c)) => format!("held by core {c}"),
        (None, None, None) => "shared".to_string(),
    }
}

fn describe(core: &Core, memsys: &MemSys, cache: &DecodeCache) -> String {
    let sb = match core.sb.head() {
        Some(head) => {
            let line = line_of(head.addr);
            format!(
                "; store buffer {} entries, head [{:#x}] waiting for line {line:#x} ownership ({})",
                core.sb.len(),
                head.addr,
                line_holder(memsys.view(line))
            )
        }
        None => String::new(),
    };
    if core.halted {
        let wake = if core.arch_flags().contains(isa::flags::Flags::IF) {
            "waiting for an interrupt"
        } else {
            "interrupts off, only the end of the run wakes it"
        };
        return format!("asleep in hlt at CPL {} ({wake}){sb}", core.sys.cpl());
    }
    let Some(head) = core.rob.head() else {
        let fe = match core.frontend.state() {
            FrontendState::Stopped => "front end stopped".to_string(),
            FrontendState::Filling(line) => {
                format!("front end waiting for I-cache fill of line {line:#x}")
            }
            FrontendState::Fetching(ip) => format!("front end fetching at {ip:#x}"),
        };
        return format!("ROB empty, {fe}{sb}");
    };
    let text = head.q.inst.map_or_else(
        || "(bad)".to_string(),
        |id| isa::decode::format_intel(&cache.get(id).instr),
    );
    let pending = core
        .rob
        .iter()
        .take_while(|e| e.q.inst_seq == head.q.inst_seq)
        .find(|e| e.done == NOT_YET);
    let why = match pending {
        None => "complete, waiting to retire".to_string(),
        Some(e) if e.issued != NOT_YET => {
            match core.loads_in_flight.iter().find(|l| l.seq == e.seq) {
                Some(load) => {
                    let line = line_of(load.access.addr);
                    let holder = line_holder(memsys.view(line));
                    format!(
                        "waiting for line {line:#x} until cycle {} ({holder})",
                        load.ready
                    )
                }
                None => "executing".to_string(),
            }
        }
        Some(e) => match e.wait {
            Wait::Nothing => "waiting for source operands".to_string(),
            Wait::Fence(seq) => format!("waiting for fence #{seq}"),
            Wait::OlderInstructions => "waiting for older instructions".to_string(),
            Wait::StoreBufferDrain => "waiting for the store buffer to drain".to_string(),
            Wait::OlderStoreAddress => "waiting for an older store's address".to_string(),
            Wait::OlderStoreData => "waiting for an older store's data".to_string(),
            Wait::PartialForward => "waiting for a partially overlapping older store".to_string(),
            Wait::LineBusy { line, .. } | Wait::Ownership { line } => {
                format!(
                    "waiting for line {line:#x} ({})",
                    line_holder(memsys.view(line))
                )
            }
        },
    };
    let fence = core.fence_in_flight().map_or(String::new(), |(seq, kind)| {
        format!("; {kind:?} #{seq} in flight")
    });
    format!(
        "rob head #{} `{text}` at {:#x} {why}{fence}{sb}",
        head.q.inst_seq, head.q.ip
    )
}
