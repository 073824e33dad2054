//! The herd7 x86 corpus (`shared/litmus/x86`): every test with its verdict.

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
    ) -> Vec<LitmusReport> {
        self.entries
            .par_iter()
            .map(|e| run_test(&e.test, runs, seed, executor, Some(&e.verdict)))
            .collect()
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
