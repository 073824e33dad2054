//! Locating the shared herd7 x86 corpus for the litmus integration tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scenarios::litmus::{LitmusTest, Verdict, load_verdicts, parse_file};

/// The parsed corpus with its verdicts.
pub struct Corpus {
    /// Data directory (`shared/litmus/x86`).
    pub dir: PathBuf,
    /// Test key (path without `.litmus`) to parsed test.
    pub tests: BTreeMap<String, LitmusTest>,
    /// Test key to herd7 verdict.
    pub verdicts: BTreeMap<String, Verdict>,
}

impl Corpus {
    /// The data directory `../shared/litmus/x86` next to the workspace root (or next
    /// to one of its ancestors, for git worktrees nested deeper), or `None`, with a
    /// message, if it is absent.
    pub fn dir() -> Option<PathBuf> {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let found = workspace
            .ancestors()
            .map(|a| a.join("../shared/litmus/x86"))
            .find(|d| d.join("verdicts.json").is_file());
        if found.is_none() {
            println!(
                "SKIPPED: litmus corpus not found at {}/../shared/litmus/x86",
                workspace.display()
            );
        }
        found
    }

    /// Parse every test named in `verdicts.json`; panics with the parser's message on
    /// the first failure.
    pub fn load() -> Option<Corpus> {
        let dir = Corpus::dir()?;
        let verdicts = load_verdicts(&dir.join("verdicts.json")).unwrap_or_else(|e| panic!("{e}"));
        let tests = verdicts
            .iter()
            .map(|(key, v)| {
                let test = parse_file(&dir.join(&v.file)).unwrap_or_else(|e| panic!("{e}"));
                (key.clone(), test)
            })
            .collect();
        Some(Corpus {
            dir,
            tests,
            verdicts,
        })
    }

    /// `(key, test, verdict)` for every test.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &LitmusTest, &Verdict)> {
        self.tests.iter().map(|(k, t)| (k, t, &self.verdicts[k]))
    }
}
