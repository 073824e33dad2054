//! Trace files and exports: the `.synctrace` binary format that stores what a machine
//! run reported ([`TraceEvent`]s plus a header), and exporters to formats that existing
//! viewers open: the Kanata pipeline log of the Konata viewer ([`kanata`]) and
//! Chrome/Perfetto trace-event JSON ([`chrome`]).
//!
//! `sim-core` never knows about files; this crate is where its events become bytes.
//!
//! # The `.synctrace` format
//!
//! Magic bytes, a format version, a header (cores, seed, free-form JSON metadata), then
//! the events as fixed-size little-endian records, one tag byte each (the byte layout
//! is in `docs/trace-format.md`). It is built so that a viewer opens a
//! million-instruction trace in well under a second:
//!
//! - reading takes the whole file into one buffer and decodes it in place, with no
//!   allocation per event: every record has a fixed size and becomes a `Copy`
//!   [`TraceEvent`] pushed into a vector sized from the header's event count;
//! - writing encodes records into one reused buffer flushed in large chunks.
//!
//! Bad input is an error, never a panic: a file that is not a trace, another format
//! version, a truncated file (with the byte offset), an unknown tag or an invalid field.
//!
//! ```
//! use sim_core::machine::{InstRecord, Stage, TraceEvent};
//! use trace_format::{TraceHeader, read_trace, write_trace};
//!
//! let mut nop = InstRecord::new(0, 0, 0x1000, &[0x90], 5);
//! nop.mark(Stage::Retire, 9);
//! let header = TraceHeader { cores: 1, seed: 7, metadata: r#"{"program":"nop.s"}"#.into() };
//! let mut bytes = Vec::new();
//! write_trace(&mut bytes, &header, &[TraceEvent::Inst(nop)]).unwrap();
//! let file = read_trace(bytes.as_slice()).unwrap();
//! assert_eq!(file.header, header);
//! assert_eq!(file.events, [TraceEvent::Inst(nop)]);
//! ```

pub mod chrome;
mod decode;
mod describe;
mod encode;
mod error;
pub mod kanata;
mod layout;
pub mod meta;

pub use decode::{decode_trace, read_trace};
pub use encode::write_trace;
pub use error::{Part, TraceFormatError};
pub use layout::{FORMAT_VERSION, MAGIC};

use sim_core::machine::TraceEvent;

/// What a trace file says about its run besides the events: enough for a viewer to
/// lay out tracks and for a reader to know where the trace came from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TraceHeader {
    /// Number of cores of the machine (core ids in events are below it).
    pub cores: u16,
    /// Seed of the run's timing jitter: with the program and configuration, the run
    /// can be reproduced.
    pub seed: u64,
    /// Free-form UTF-8 JSON the recorder supplies: program or scenario name,
    /// configuration, run summary. The format does not interpret it.
    pub metadata: String,
}

/// A trace read back from a file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TraceFile {
    /// The header.
    pub header: TraceHeader,
    /// Every event, in the order the machine reported them.
    pub events: Vec<TraceEvent>,
}
