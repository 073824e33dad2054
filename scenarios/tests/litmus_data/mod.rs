//! The shared herd7 x86 corpus for the litmus integration tests.

use scenarios::litmus::Corpus;

/// The parsed corpus, or `None` (printing why the test is skipped) if the data
/// directory is absent. Panics with the parser's message if any test fails to load.
pub fn corpus() -> Option<Corpus> {
    let Some(dir) = Corpus::locate() else {
        println!(
            "SKIPPED: litmus corpus not found (expected ../shared/litmus/x86 next to the workspace)"
        );
        return None;
    };
    Some(Corpus::load(&dir).unwrap_or_else(|e| panic!("{e}")))
}
