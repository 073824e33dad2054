//! Why a native run did not produce a result.

use std::fmt;

/// A native run that could not be carried out or did not finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NativeError {
    /// This platform is not x86-64 Linux: nothing runs natively.
    Unsupported,
    /// The generated or given assembly did not assemble.
    Assemble(String),
    /// Mapping pages, forking or pinning failed (the OS's message).
    Setup(String),
    /// The code faulted: the child process running it died from `signal`.
    Fault {
        /// The signal number (SIGSEGV = 11, SIGILL = 4, ...).
        signal: i32,
    },
    /// The child process did not finish within its time limit and was killed.
    Timeout,
}

impl fmt::Display for NativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeError::Unsupported => {
                write!(
                    f,
                    "native runs need an x86-64 Linux host (unsupported here)"
                )
            }
            NativeError::Assemble(m) => write!(f, "assembly failed: {m}"),
            NativeError::Setup(m) => write!(f, "native set-up failed: {m}"),
            NativeError::Fault { signal } => write!(
                f,
                "the native code faulted (signal {signal}{}); the run was isolated in a child process",
                signal_name(*signal)
                    .map(|n| format!(", {n}"))
                    .unwrap_or_default()
            ),
            NativeError::Timeout => {
                write!(f, "the native run did not finish in time and was killed")
            }
        }
    }
}

impl std::error::Error for NativeError {}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        _ => return None,
    })
}
