//! Ctrl-C and progress for long commands. The first Ctrl-C asks the work in hand
//! to stop and report what it finished (an exploration its finished runs, a run
//! its state so far); a second one quits at once. The `ctrlc` crate installs the
//! handler (it also works on Windows).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

/// Set by the first Ctrl-C.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The flag the first Ctrl-C sets (explorations poll it).
pub fn flag() -> &'static AtomicBool {
    &INTERRUPTED
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Catch Ctrl-C: the first press sets the flag and prints `what_happens`, the
/// second quits with status 130.
pub fn catch_ctrl_c(what_happens: &'static str) {
    let installed = ctrlc::set_handler(move || {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\n{what_happens} (Ctrl-C again to quit)");
    });
    if let Err(e) = installed {
        eprintln!("note: Ctrl-C will quit without a report ({e})");
    }
}

/// A spinner counting simulated cycles on standard error (only on a terminal),
/// for `Machine::run_observed`: it also stops the run on Ctrl-C.
pub struct RunProgress {
    bar: Option<ProgressBar>,
}

impl RunProgress {
    /// A spinner labelled `label`, hidden when standard error is not a terminal.
    pub fn new(label: &str) -> RunProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                bar.set_style(style);
            }
            bar.set_message(label.to_string());
            bar
        });
        RunProgress { bar }
    }

    /// Called every `OBSERVE_EVERY` cycles: show the cycle, and say whether to go on.
    pub fn observe(&self, cycle: u64) -> bool {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("cycle {cycle}"));
            bar.tick();
        }
        !interrupted()
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
