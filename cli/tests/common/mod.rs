//! Helpers shared by the command-line tests: run the binary, find the workspace,
//! write scratch files.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run `synclab ARGS` from the workspace root.
pub fn synclab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("the synclab binary runs")
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A directory of this test process's own files.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synclab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Write `contents` to `name` in [`temp_dir`].
pub fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = temp_dir().join(name);
    std::fs::write(&path, contents).expect("temp file");
    path
}
