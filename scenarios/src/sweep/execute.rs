//! Running a sweep's points on a rayon pool, streaming one row per finished
//! point, in point order, as soon as it and every point before it are done.
//!
//! Every worker claims the next (point, seed) run in order, so the points in
//! flight are never more than about one per worker: memory does not grow with
//! the number of points. A row depends only on its point's runs, kept by seed,
//! so the rows are the same for any number of workers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use sim_core::machine::StopReason;

use super::definition::{Point, Sweep};
use super::measure::{RunMetrics, metric_cells};
use super::row::Cell;
use crate::scenario::{
    BASE_VARIANT, LoadedScenario, ScenarioError, load_str_with, run_once_observed,
};

/// Why a sweep stopped before its last point.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A point's scenario cannot be loaded or run.
    #[error("point {point}: {error}")]
    Point {
        /// The point's number.
        point: u64,
        /// What is wrong with it.
        error: Box<ScenarioError>,
    },
    /// Writing a row failed.
    #[error("cannot write the results: {0}")]
    Write(#[from] std::io::Error),
}

/// A point's scenario, loaded once by the first run that needs it.
type ScenarioCell = Arc<OnceLock<Result<LoadedScenario, ScenarioError>>>;

/// A point being run: its scenario (loaded once, by the first run to need it)
/// and its finished runs by seed.
struct Slot {
    point: Point,
    /// The cells identifying the point in its row.
    cells: Vec<Cell>,
    variant: Option<String>,
    scenario: ScenarioCell,
    runs: Vec<Option<RunMetrics>>,
    left: u64,
}

/// What the workers share under the lock.
struct State<'w> {
    slots: BTreeMap<usize, Slot>,
    next_row: usize,
    written: u64,
    error: Option<SweepError>,
    write: &'w mut (dyn FnMut(&[Cell]) -> std::io::Result<()> + Send),
}

/// Run `points` (point numbers, ascending) of `sweep` on `jobs` threads (0: one
/// per CPU), calling `write` with each row in point order and `progress` after
/// each run. Setting `cancel` stops starting runs and interrupts those in
/// progress; the rows of finished points are written. Returns the number of
/// rows written.
pub fn run(
    sweep: &Sweep,
    points: &[u64],
    jobs: usize,
    cancel: &AtomicBool,
    progress: &(dyn Fn() + Sync),
    write: &mut (dyn FnMut(&[Cell]) -> std::io::Result<()> + Send),
) -> Result<u64, SweepError> {
    let total = points.len() as u64 * sweep.seeds;
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let state = Mutex::new(State {
        slots: BTreeMap::new(),
        next_row: 0,
        written: 0,
        error: None,
        write,
    });
    let worker = || {
        while !cancel.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
            let task = next.fetch_add(1, Ordering::Relaxed);
            if task >= total {
                break;
            }
            let (at, seed) = ((task / sweep.seeds) as usize, task % sweep.seeds);
            let (point, variant, scenario) = slot(&state, sweep, at, points[at]);
            let run = scenario
                .get_or_init(|| load(sweep, &point))
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|loaded| {
                    let go_on = |_| !cancel.load(Ordering::Relaxed);
                    run_once_observed(loaded, variant.as_deref(), Some(seed), false, go_on)
                });
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            match run {
                Ok(report) if report.stop == StopReason::Interrupted => break,
                Ok(report) => {
                    if let Some(slot) = state.slots.get_mut(&at) {
                        slot.runs[seed as usize] = Some(RunMetrics::of(&report));
                        slot.left -= 1;
                    }
                    progress();
                    if let Err(e) = write_finished(&mut state) {
                        state.error.get_or_insert(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                Err(error) => {
                    state.error.get_or_insert(SweepError::Point {
                        point: point.index,
                        error: Box::new(error),
                    });
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
    };
    match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool.scope(|s| {
            for _ in 0..pool.current_num_threads() {
                s.spawn(|_| worker());
            }
        }),
        // Without threads of its own (the OS refused them) one worker runs
        // everything: the rows do not depend on it.
        Err(_) => worker(),
    }
    let state = state.into_inner().unwrap_or_else(|e| e.into_inner());
    match state.error {
        Some(error) => Err(error),
        None => Ok(state.written),
    }
}

/// The point at position `at` of the points being run, its variant and its
/// scenario cell, making its slot on first use.
fn slot(
    state: &Mutex<State<'_>>,
    sweep: &Sweep,
    at: usize,
    index: u64,
) -> (Point, Option<String>, ScenarioCell) {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    let slot = state.slots.entry(at).or_insert_with(|| {
        let point = sweep.point(index);
        // A scenario without variants carries its overrides in BASE_VARIANT.
        let variant = point
            .variant
            .clone()
            .or_else(|| (!sweep.overrides(&point).is_empty()).then(|| BASE_VARIANT.to_string()));
        Slot {
            cells: sweep.point_cells(&point),
            point,
            variant,
            scenario: Arc::default(),
            runs: vec![None; sweep.seeds as usize],
            left: sweep.seeds,
        }
    });
    (
        slot.point.clone(),
        slot.variant.clone(),
        Arc::clone(&slot.scenario),
    )
}

/// The scenario of `point`.
fn load(sweep: &Sweep, point: &Point) -> Result<LoadedScenario, ScenarioError> {
    load_str_with(
        &sweep.scenario_text,
        &sweep.scenario_path,
        &sweep.overrides(point),
    )
}

/// Write the rows of the finished points that come next, in order.
fn write_finished(state: &mut State<'_>) -> Result<(), SweepError> {
    while let Some(slot) = state.slots.get(&state.next_row).filter(|s| s.left == 0) {
        let runs: Vec<RunMetrics> = slot.runs.iter().flatten().cloned().collect();
        let Some(Ok(loaded)) = slot.scenario.get() else {
            break;
        };
        let configuration = loaded
            .configuration(slot.variant.as_deref())
            .map_err(|error| SweepError::Point {
                point: slot.point.index,
                error: Box::new(error),
            })?;
        let mut cells = slot.cells.clone();
        cells.extend(metric_cells(configuration, &runs));
        (state.write)(&cells)?;
        state.slots.remove(&state.next_row);
        state.next_row += 1;
        state.written += 1;
    }
    Ok(())
}
