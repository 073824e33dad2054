//! The host CPU as a reference for the simulator's models.
//!
//! Every figure synclab prints is a model's; this crate runs the same things on the
//! machine synclab runs on, so the two can be shown side by side:
//!
//! - [`program`]: run a program assembled by `isa` natively and time it (the
//!   simulator's slowdown);
//! - [`litmus`]: herd7 litmus tests run litmus7-style, one pinned thread per test
//!   thread, many iterations per launch, final states counted;
//! - [`calibrate`]: measured costs of fences, serializing instructions, system calls
//!   and membarrier, and a machine profile for scenarios;
//! - [`xmc`]: does a core execute old instruction bytes after another core
//!   rewrote them?
//!
//! Native code runs only on x86-64 Linux; elsewhere every entry point returns
//! [`NativeError::Unsupported`], so the workspace builds and tests everywhere.
//! Every native run happens in a forked child process: a fault in generated code
//! is reported as an error, it cannot crash synclab.

// Running generated machine code needs `mmap`/`mprotect` (W^X code pages),
// `fork`, CPU affinity and calls through function pointers: this crate is where
// synclab does that, and every `unsafe` block says why it is sound.
#![allow(unsafe_code)]

mod error;
pub mod program;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod sys;

pub use error::NativeError;

/// Whether native runs are possible on this platform (x86-64 Linux).
pub const SUPPORTED: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));
