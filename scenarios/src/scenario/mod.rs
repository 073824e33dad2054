//! Scenarios: RON files describing a machine, the kernel and user code it runs,
//! timed events, and what must or must not happen over many seeded runs.

pub mod schema;
