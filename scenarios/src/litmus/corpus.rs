//! The herd7 x86 corpus (`shared/litmus/x86`): every test with its verdict.

use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::ast::LitmusTest;
use super::runner::{LitmusExecutor, LitmusReport, run_test};
use super::state::{Verdict, load_verdicts};

/// One test of the corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusEntry {
    /// The `verdicts.json` key: the file's path without `.litmus`, e.g. `gen/X86/SB`.
    pub key: String,
    /// The parsed test.
    pub test: LitmusTest,
    /// herd7's verdict.
    pub verdict: Verdict,
}

/// A directory of litmus tests described by its `verdicts.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corpus {
    /// The directory holding `verdicts.json`.
    pub dir: PathBuf,
    /// Every test, in key order.
    pub entries: Vec<CorpusEntry>,
}

impl Corpus {
    /// Where the shared x86 corpus lives: `../shared/litmus/x86` next to the workspace
    /// root, or next to one of its ancestors (for git worktrees), if present.
    pub fn locate() -> Option<PathBuf> {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        workspace
            .ancestors()
            .map(|a| a.join("../shared/litmus/x86"))
            .find(|d| d.join("verdicts.json").is_file())
    }

    /// Load `dir/verdicts.json` and parse every test it lists. Fails with the first
    /// unreadable or unparsable file.
    pub fn load(dir: &Path) -> Result<Corpus, String> {
        let verdicts = load_verdicts(&dir.join("verdicts.json"))?;
        let entries = verdicts
            .into_iter()
            .map(|(key, verdict)| {
                let test =
                    super::parse_file(&dir.join(&verdict.file)).map_err(|e| e.to_string())?;
                Ok(CorpusEntry { key, test, verdict })
            })
            .collect::<Result<_, String>>()?;
        Ok(Corpus {
            dir: dir.to_path_buf(),
            entries,
        })
    }

    /// The entry with `key`.
    pub fn get(&self, key: &str) -> Option<&CorpusEntry> {
        self.entries
            .binary_search_by(|e| e.key.as_str().cmp(key))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Run every test `runs` times on `executor` (tests in parallel, seeds from
    /// `seed` as in [`run_test`]), checking each against its verdict.
    pub fn run<E: LitmusExecutor + ?Sized>(
        &self,
        runs: usize,
        seed: u64,
        executor: &E,
    ) -> CorpusRun {
        let reports = self
            .entries
            .par_iter()
            .map(|e| {
                (
                    e.key.clone(),
                    run_test(&e.test, runs, seed, executor, Some(&e.verdict)),
                )
            })
            .collect();
        CorpusRun { reports }
    }
}

/// The reports of a whole corpus run, by test key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusRun {
    /// `(key, report)` for every test, in key order.
    pub reports: Vec<(String, LitmusReport)>,
}

impl CorpusRun {
    /// Reports of tests in which some run ended in a state x86-TSO forbids, or
    /// some run failed: everything a correct model must never show.
    pub fn failures(&self) -> Vec<&(String, LitmusReport)> {
        self.reports
            .iter()
            .filter(|(_, r)| !r.tso_consistent())
            .collect()
    }

    /// `(seen, total)`: how many of herd7's allowed states the runs reached.
    pub fn coverage(&self) -> (usize, usize) {
        let missing: usize = self
            .reports
            .iter()
            .filter_map(|(_, r)| r.missing_allowed.as_ref())
            .map(Vec::len)
            .sum();
        let seen: usize = self.reports.iter().map(|(_, r)| r.outcomes.len()).sum();
        let forbidden: usize = self
            .reports
            .iter()
            .filter_map(|(_, r)| r.forbidden_states.as_ref())
            .map(Vec::len)
            .sum();
        (seen - forbidden, seen - forbidden + missing)
    }
}

impl fmt::Display for CorpusRun {
    /// A one-line summary, then the full report of every failing test.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failures = self.failures();
        let (seen, total) = self.coverage();
        writeln!(
            f,
            "{} tests: {} with forbidden states or failed runs; {seen} of {total} allowed states seen",
            self.reports.len(),
            failures.len()
        )?;
        for (key, report) in failures {
            write!(f, "{key}:\n{report}")?;
        }
        Ok(())
    }
}

/// herd7's verdict for the litmus file at `path`, from the nearest `verdicts.json` in
/// the directories above it (keyed by the file's path relative to that directory,
/// without `.litmus`). `Ok(None)` if there is no such file or it does not list the test.
pub fn find_verdict(path: &Path) -> Result<Option<Verdict>, String> {
    let path = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    for dir in path.ancestors().skip(1) {
        let verdicts = dir.join("verdicts.json");
        if !verdicts.is_file() {
            continue;
        }
        let key = path.strip_prefix(dir).unwrap_or(&path).with_extension("");
        let key: Vec<String> = key
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        return Ok(load_verdicts(&verdicts)?.remove(&key.join("/")));
    }
    Ok(None)
}
