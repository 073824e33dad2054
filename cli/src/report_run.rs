//! Printing one run ([`RunReport`]), for `synclab run` on programs and scenarios
//! alike: per-core counters, IPIs, stale executions and the contracts they break,
//! final-state conditions; as text for people or as JSON for programs.

use isa::flags::Flags;
use isa::reg::Gpr;
use scenarios::scenario::{RunReport, StopKind, describe_stop};
use serde_json::{Value, json};
use sim_core::machine::{CoreStats, IpiRecord, StaleExecution};

/// How many stale executions (and IPIs) are printed in full; the first contract
/// violation and the last one are always shown too.
const SHOWN: usize = 3;

/// Print `report` as text; `registers`: also each core's final registers.
pub fn print_text(report: &RunReport, registers: bool) {
    for (i, stats) in report.per_core.iter().enumerate() {
        print_core(i, stats);
        if registers {
            print_registers(&report.registers[i], report.flags[i], None);
        }
    }
    out!("{} cycles in all", report.cycles);
    if !report.halted() {
        out!("stopped: {}", describe_stop(&report.stop, report.cycles));
    }
    print_ipis(&report.ipis);
    print_stale(report);
    if !report.conditions.is_empty() {
        out!("\nfinal state:");
        for c in &report.conditions {
            let value = if c.holds { "holds" } else { "fails" };
            out!("  {value:<6} {}", c.text);
        }
    }
}

fn print_core(i: usize, stats: &CoreStats) {
    out!(
        "core {i}: {} instructions retired in {} cycles (IPC {:.2}); {} mispredicts, {} machine clears, {} serializations, {} stale executions",
        stats.retired,
        stats.cycles,
        stats.ipc,
        stats.mispredicts,
        stats.machine_clears,
        stats.serializations,
        stats.stale_executions
    );
    if !stats.serializations_by_reason.is_empty() {
        let reasons: Vec<String> = stats
            .serializations_by_reason
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        out!("  serialized by: {}", reasons.join(", "));
    }
    out!(
        "  IPIs sent {}, received {}; interrupts taken {}; exceptions {}; contract violations {}",
        stats.ipis_sent,
        stats.ipis_received,
        stats.interrupts,
        stats.exceptions,
        stats.contract_violations
    );
}

fn print_ipis(ipis: &[IpiRecord]) {
    if ipis.is_empty() {
        return;
    }
    out!("\n{} IPIs (latency from the ICR write):", ipis.len());
    for ipi in ipis.iter().take(SHOWN * 4) {
        let after = |at: Option<u64>| {
            at.map_or("never".to_string(), |at| {
                format!("at {at} (+{})", at.saturating_sub(ipi.sent))
            })
        };
        out!(
            "  core {} -> core {} vector {:#x}: sent at {}, arrived {}, handler entered {}",
            ipi.from,
            ipi.to,
            ipi.vector,
            ipi.sent,
            after(ipi.arrived),
            after(ipi.taken)
        );
    }
    if ipis.len() > SHOWN * 4 {
        out!("  ... {} more", ipis.len() - SHOWN * 4);
    }
}

/// The stale executions worth printing in full: the first few, the first that
/// broke a contract, and the last.
fn shown_stale(report: &RunReport) -> Vec<usize> {
    let first_violation = report
        .violations
        .first()
        .and_then(|v| report.stale.iter().position(|s| *s == v.violation.stale));
    let last = report.stale.len().checked_sub(1);
    let mut shown: Vec<usize> = (0..report.stale.len().min(SHOWN))
        .chain(first_violation)
        .chain(last)
        .collect();
    shown.sort_unstable();
    shown.dedup();
    shown
}

fn print_stale(report: &RunReport) {
    if report.stale.is_empty() {
        return;
    }
    out!(
        "\n{} stale executions (instruction bytes memory no longer held):",
        report.stale.len()
    );
    let mut next = 0;
    for i in shown_stale(report) {
        if i > next {
            out!("... {} more", i - next);
        }
        let stale = &report.stale[i];
        out!("{stale}");
        for broken in report
            .violations
            .iter()
            .filter(|v| v.violation.stale == *stale)
        {
            out!(
                "  contract \"{}\" broken: core {} passed its sync point at cycle {}, after that store",
                broken.contract,
                stale.writer,
                broken.violation.passed_at
            );
        }
        next = i + 1;
    }
    if !report.violations.is_empty() {
        out!(
            "{} of them broke a contract (a promise the program declared with a sync point)",
            report.violations.len()
        );
    }
}

/// Print general registers four to a line, then RIP (when known) and the status flags.
pub fn print_registers(regs: &[u64; 16], flags: Flags, rip: Option<u64>) {
    for row in Gpr::ALL.chunks(4) {
        let cells: Vec<String> = row
            .iter()
            .map(|g| format!("{:>3} = {:#018x}", g.name(), regs[g.index()]))
            .collect();
        out!("  {}", cells.join("  "));
    }
    let names = [
        (Flags::CF, "CF"),
        (Flags::PF, "PF"),
        (Flags::AF, "AF"),
        (Flags::ZF, "ZF"),
        (Flags::SF, "SF"),
        (Flags::OF, "OF"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(f, _)| flags.contains(*f))
        .map(|(_, n)| *n)
        .collect();
    let rip = rip
        .map(|r| format!("rip = {r:#018x}  "))
        .unwrap_or_default();
    out!("  {rip}flags = [{}]", set.join(" "));
}

/// One core's counters as JSON.
pub fn per_core_json(stats: &CoreStats) -> Value {
    let by_reason: serde_json::Map<String, Value> = stats
        .serializations_by_reason
        .iter()
        .map(|(reason, n)| (reason.to_string(), json!(n)))
        .collect();
    json!({
        "retired": stats.retired,
        "cycles": stats.cycles,
        "ipc": stats.ipc,
        "mispredicts": stats.mispredicts,
        "machine_clears": stats.machine_clears,
        "squashed_uops": stats.squashed_uops,
        "sb_full_stalls": stats.sb_full_stalls,
        "serializations": stats.serializations,
        "serializations_by_reason": by_reason,
        "ipis_sent": stats.ipis_sent,
        "ipis_received": stats.ipis_received,
        "interrupts": stats.interrupts,
        "exceptions": stats.exceptions,
        "stale_executions": stats.stale_executions,
        "contract_violations": stats.contract_violations,
    })
}

fn stale_json(stale: &StaleExecution, broken: Vec<&str>) -> Value {
    json!({
        "core": stale.core,
        "ip": stale.ip,
        "cycle": stale.cycle,
        "executed": stale.stale_disassembly(),
        "memory": stale.current_disassembly(),
        "writer": stale.writer,
        "visible_at": stale.visible_at,
        "serialized_at": serialized_at(stale),
        "contracts_broken": broken,
    })
}

/// `report` as one JSON object (`what` names what was run).
pub fn run_json(report: &RunReport, what: Value) -> Value {
    let per_core: Vec<Value> = report
        .per_core
        .iter()
        .zip(&report.registers)
        .map(|(stats, regs)| {
            let mut core = per_core_json(stats);
            let named: serde_json::Map<String, Value> = Gpr::ALL
                .iter()
                .map(|g| (g.name().to_string(), json!(regs[g.index()])))
                .collect();
            core["registers"] = Value::Object(named);
            core
        })
        .collect();
    let stale: Vec<Value> = report
        .stale
        .iter()
        .map(|s| {
            let broken = report
                .violations
                .iter()
                .filter(|v| v.violation.stale == *s)
                .map(|v| v.contract.as_str())
                .collect();
            stale_json(s, broken)
        })
        .collect();
    let violations: Vec<Value> = report
        .violations
        .iter()
        .map(|v| {
            json!({
                "contract": v.contract,
                "core": v.violation.stale.core,
                "ip": v.violation.stale.ip,
                "cycle": v.violation.stale.cycle,
                "passed_at": v.violation.passed_at,
            })
        })
        .collect();
    let ipis: Vec<Value> = report
        .ipis
        .iter()
        .map(|i| {
            json!({
                "from": i.from, "to": i.to, "vector": i.vector,
                "sent": i.sent, "arrived": i.arrived, "taken": i.taken,
            })
        })
        .collect();
    let conditions: Vec<Value> = report
        .conditions
        .iter()
        .map(|c| json!({"condition": c.text, "holds": c.holds}))
        .collect();
    json!({
        "run": what,
        "seed": report.seed,
        "stop": stop_json(report),
        "cycles": report.cycles,
        "per_core": per_core,
        "ipis": ipis,
        "stale_executions": stale,
        "contract_violations": violations,
        "final_state": conditions,
    })
}

fn stop_json(report: &RunReport) -> Value {
    json!({
        "kind": StopKind::of(&report.stop).name(),
        "description": describe_stop(&report.stop, report.cycles),
    })
}

/// When the stale execution's core last serialized (`null`: never in the run).
fn serialized_at(stale: &StaleExecution) -> Option<u64> {
    (stale.serialized_at != sim_core::machine::NEVER_SERIALIZED).then_some(stale.serialized_at)
}
