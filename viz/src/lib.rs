//! `viz`: the timeline viewer for synclab traces.
//!
//! The `egui` viewer lands with the viewer issue; until then this crate only holds
//! its place in the dependency graph (`scenarios` <- `viz`), so nothing below it
//! grows a dependency on a user interface.
