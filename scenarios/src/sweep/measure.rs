//! What a sweep measures: per run, the few numbers a row needs (kept instead of
//! the whole report), and per point, the row that summarises its runs.

use sim_core::machine::SerializeReason;

use super::row::Cell;
use super::stats::{Rate, summarize, wilson};
use crate::scenario::{Configuration, RunReport, RunSummary, check_runs};

/// `SYS_MEMBARRIER` (`kernel/abi.s`, Linux's number).
const SYS_MEMBARRIER: u64 = 324;
/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE`:
/// the commands that synchronise (registrations and queries return at once).
const MEMBARRIER_SYNCING: u64 = 8 | 32;

/// The serialization reasons a row has columns for, by column name; `other`
/// takes the rest.
const REASONS: [&str; 8] = [
    "serialize",
    "cpuid",
    "iretq",
    "mov_cr3",
    "wrmsr",
    "pti_cr3",
    "interrupt",
    "other",
];

fn reason_column(reason: SerializeReason) -> usize {
    match reason {
        SerializeReason::Serialize => 0,
        SerializeReason::Cpuid => 1,
        SerializeReason::Iret => 2,
        SerializeReason::MovToCr(3) => 3,
        SerializeReason::Wrmsr(_) => 4,
        SerializeReason::PtiCr3Switch => 5,
        SerializeReason::InterruptDelivery => 6,
        _ => 7,
    }
}

/// Serializations of one reason in one run: how many, and their cycles.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Serializations {
    count: u64,
    drain: u64,
    refill: u64,
}

/// What a sweep keeps of one run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunMetrics {
    summary: RunSummary,
    cpu_cycles: Vec<u64>,
    membarrier: Vec<u64>,
    ipi_cycles: Vec<u64>,
    fence_drain: u64,
    serializations: [Serializations; REASONS.len()],
}

impl RunMetrics {
    /// The metrics of `report`.
    pub(crate) fn of(report: &RunReport) -> RunMetrics {
        let mut serializations = [Serializations::default(); REASONS.len()];
        for core in &report.per_core {
            for (&reason, &count) in &core.serializations_by_reason {
                serializations[reason_column(reason)].count += count;
            }
            for (&reason, cost) in &core.serialization_cycles {
                let s = &mut serializations[reason_column(reason)];
                s.drain += cost.store_buffer_drain;
                s.refill += cost.refill;
            }
        }
        let membarrier = report
            .per_core
            .iter()
            .flat_map(|c| &c.syscalls)
            .filter(|s| s.number == SYS_MEMBARRIER && s.arg & MEMBARRIER_SYNCING != 0)
            .map(|s| s.cycles())
            .collect();
        let ipi_cycles = report
            .ipis
            .iter()
            .filter_map(|ipi| Some(ipi.taken? - ipi.sent))
            .collect();
        RunMetrics {
            summary: report.summary(),
            cpu_cycles: report.per_core.iter().map(|c| c.cycles).collect(),
            membarrier,
            ipi_cycles,
            fence_drain: report.per_core.iter().map(|c| c.fence_drain_cycles).sum(),
            serializations,
        }
    }
}

/// The metric columns of a row, after the point's parameters.
pub(crate) fn metric_columns() -> Vec<String> {
    let mut columns: Vec<String> = [
        "runs",
        "halted",
        "cycles",
        "cycles_lo",
        "cycles_hi",
        "cycles_median",
        "cycles_p99",
        "cpu_cycles",
        "membarrier_calls",
        "membarrier_cycles",
        "membarrier_cycles_lo",
        "membarrier_cycles_hi",
        "membarrier_cycles_median",
        "membarrier_cycles_p99",
        "ipis",
        "ipi_cycles",
        "ipi_cycles_lo",
        "ipi_cycles_hi",
        "ipi_cycles_p99",
        "fence_drain_cycles",
    ]
    .map(String::from)
    .to_vec();
    for reason in REASONS {
        columns.extend([
            reason.to_string(),
            format!("{reason}_cycles"),
            format!("{reason}_drain_cycles"),
        ]);
    }
    for rate in ["stale", "violation"] {
        columns.extend([
            format!("{rate}_runs"),
            format!("{rate}_rate"),
            format!("{rate}_rate_lo"),
            format!("{rate}_rate_hi"),
        ]);
    }
    columns.push("expectations".into());
    columns
}

/// The metric cells of a point whose `runs` (in seed order) ran `configuration`.
pub(crate) fn metric_cells(configuration: &Configuration, runs: &[RunMetrics]) -> Vec<Cell> {
    let n = runs.len() as f64;
    let per_run = |total: u64| Cell::Num(total as f64 / n.max(1.0));
    let halted = runs.iter().filter(|r| r.summary.halted()).count();
    let mut cells = vec![Cell::Int(runs.len() as u64), Cell::Int(halted as u64)];
    let cycles: Vec<f64> = runs.iter().map(|r| r.summary.cycles as f64).collect();
    cells.extend(sample(&cycles));
    cells.push(cpu_cycles(runs));
    let membarrier: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.membarrier.iter().map(|&c| c as f64))
        .collect();
    cells.push(per_run(membarrier.len() as u64));
    cells.extend(sample(&membarrier));
    let ipis: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.ipi_cycles.iter().map(|&c| c as f64))
        .collect();
    cells.push(per_run(ipis.len() as u64));
    let ipi = sample(&ipis);
    cells.extend([
        ipi[0].clone(),
        ipi[1].clone(),
        ipi[2].clone(),
        ipi[4].clone(),
    ]);
    cells.push(per_run(runs.iter().map(|r| r.fence_drain).sum()));
    for reason in 0..REASONS.len() {
        let total = |f: fn(&Serializations) -> u64| -> u64 {
            runs.iter().map(|r| f(&r.serializations[reason])).sum()
        };
        let count = total(|s| s.count);
        let per_event = |cycles: u64| match count {
            0 => Cell::Empty,
            _ => Cell::Num(cycles as f64 / count as f64),
        };
        cells.push(per_run(count));
        cells.push(per_event(total(|s| s.drain + s.refill)));
        cells.push(per_event(total(|s| s.drain)));
    }
    let count =
        |shows: fn(&RunSummary) -> bool| runs.iter().filter(|r| shows(&r.summary)).count() as u64;
    cells.extend(rate(wilson(count(|s| s.outcome.stale), runs.len() as u64)));
    cells.extend(rate(wilson(
        count(|s| s.outcome.violation),
        runs.len() as u64,
    )));
    let summaries: Vec<RunSummary> = runs.iter().map(|r| r.summary.clone()).collect();
    let verdicts: Vec<String> = check_runs(configuration, &summaries, true)
        .iter()
        .map(|c| format!("{}: {}", c.expectation, c.status.name()))
        .collect();
    cells.push(Cell::Text(verdicts.join("; ")));
    cells
}

/// Mean, its interval, median and p99 of `values` (empty cells without any).
fn sample(values: &[f64]) -> [Cell; 5] {
    match summarize(values) {
        Some(s) => [s.mean, s.low, s.high, s.median, s.p99].map(Cell::Num),
        None => [
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ],
    }
}

fn rate(r: Rate) -> [Cell; 4] {
    [
        Cell::Int(r.seen),
        Cell::Num(r.rate),
        Cell::Num(r.low),
        Cell::Num(r.high),
    ]
}

/// Each CPU's mean cycles until it halted, `;`-separated.
fn cpu_cycles(runs: &[RunMetrics]) -> Cell {
    let cpus = runs.iter().map(|r| r.cpu_cycles.len()).max().unwrap_or(0);
    let means: Vec<String> = (0..cpus)
        .map(|cpu| {
            let sum: u64 = runs.iter().filter_map(|r| r.cpu_cycles.get(cpu)).sum();
            Cell::Num(sum as f64 / runs.len().max(1) as f64).text()
        })
        .collect();
    Cell::Text(means.join(";"))
}
