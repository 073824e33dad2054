//! Why a `.synctrace` file could not be read, said so that the user knows what to do.

use std::fmt;

use crate::layout::FORMAT_VERSION;

/// Which part of a trace file a problem is in, for error messages.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// The fixed header (magic, version, cores, seed, event count, metadata length).
    Header,
    /// The metadata JSON that starts at `start`.
    Metadata {
        /// Byte offset of its first byte.
        start: usize,
    },
    /// Event number `index` (from 0) of `count`, whose record starts at `start`.
    Event {
        /// Which event.
        index: u64,
        /// How many the header announces.
        count: u64,
        /// Byte offset of its tag.
        start: usize,
    },
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Header => f.write_str("the header"),
            Part::Metadata { start } => write!(f, "the metadata starting at byte {start}"),
            Part::Event {
                index,
                count,
                start,
            } => write!(
                f,
                "event {index} of {count} (its record starts at byte {start})"
            ),
        }
    }
}

/// A `.synctrace` file that cannot be read. Byte offsets count from the start of the
/// file.
#[derive(Debug, thiserror::Error)]
pub enum TraceFormatError {
    /// Reading failed.
    #[error("cannot read the trace: {0}")]
    Io(#[from] std::io::Error),
    /// The magic bytes are wrong: some other kind of file.
    #[error(
        "not a synctrace file: it starts with {found:?} instead of the magic bytes \"SYNCTRC\\n\""
    )]
    NotATrace {
        /// The first bytes of the file, lossily as text.
        found: String,
    },
    /// A trace of another layout version.
    #[error(
        "this trace was written by trace format version {found}; this synclab reads version {FORMAT_VERSION}: re-record it with `synclab run --trace`"
    )]
    WrongVersion {
        /// The version in the file.
        found: u32,
    },
    /// The file ends early (an interrupted recording or copy).
    #[error("truncated trace: the file ends at byte {offset}, inside {part}")]
    Truncated {
        /// Length of the file: where the missing bytes should have been.
        offset: usize,
        /// What was being read.
        part: Part,
    },
    /// An event record with a tag this version does not know.
    #[error(
        "unknown event tag {tag} at byte {offset}, in {part}: the file is corrupt or was written by a newer synclab"
    )]
    UnknownTag {
        /// The tag byte.
        tag: u8,
        /// Its offset.
        offset: usize,
        /// The event.
        part: Part,
    },
    /// A field holds a value no writer produces.
    #[error("invalid {field} {value} at byte {offset}, in {part}: the file is corrupt")]
    InvalidField {
        /// What the field is.
        field: &'static str,
        /// The value found.
        value: u64,
        /// Its offset.
        offset: usize,
        /// Where it is.
        part: Part,
    },
    /// The metadata is not UTF-8.
    #[error("the metadata starting at byte {offset} is not UTF-8: the file is corrupt")]
    BadMetadata {
        /// Offset of the metadata.
        offset: usize,
    },
    /// Bytes follow the last event the header announces.
    #[error(
        "{extra} unexpected bytes after the last of the {count} events, from byte {offset}: the file is corrupt"
    )]
    TrailingData {
        /// How many bytes.
        extra: usize,
        /// The header's event count.
        count: u64,
        /// Where they start.
        offset: usize,
    },
}
