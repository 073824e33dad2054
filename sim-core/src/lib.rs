//! `sim-core`: the machine. Cores, memory, the reference interpreter, trace events.
//! Knows nothing of files, scenario formats or user interfaces.

pub mod machine;
pub mod mem;
pub mod reference;
pub mod system;
