//! Files that are not valid traces give clear errors, never panics.

mod common;

use trace_format::chrome::write_chrome;
use trace_format::kanata::write_kanata;
use trace_format::{FORMAT_VERSION, MAGIC, Part, TraceFormatError, decode_trace, write_trace};

/// A small valid file with one event of every kind.
fn small_file() -> Vec<u8> {
    let mut bytes = Vec::new();
    write_trace(&mut bytes, &common::small_header(), &common::one_of_each()).unwrap();
    bytes
}

/// Byte offset of the first event record of [`small_file`].
fn first_event_offset() -> usize {
    let metadata = common::small_header().metadata.len();
    MAGIC.len() + 4 + 2 + 8 + 8 + 4 + metadata
}

#[test]
fn the_small_file_is_valid() {
    let file = decode_trace(&small_file()).unwrap();
    assert_eq!(file.events, common::one_of_each());
}

#[test]
fn another_kind_of_file_is_not_a_trace() {
    let err = decode_trace(b"{\"traceEvents\": []}").unwrap_err();
    assert!(matches!(err, TraceFormatError::NotATrace { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("not a synctrace file"), "{text}");
    assert!(
        text.contains("{\\\"traceE"),
        "shows what the file starts with: {text}"
    );
}

#[test]
fn another_version_says_which_and_how_to_fix_it() {
    let mut bytes = small_file();
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    let err = decode_trace(&bytes).unwrap_err();
    assert!(
        matches!(err, TraceFormatError::WrongVersion { found: 7 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "this trace was written by trace format version 7; this synclab reads version {FORMAT_VERSION}: re-record it with `synclab run --trace`"
        )
    );
}

#[test]
fn every_truncation_is_an_error_with_the_offset() {
    let bytes = small_file();
    for len in 0..bytes.len() {
        match decode_trace(&bytes[..len]) {
            Err(TraceFormatError::Truncated { offset, part }) => {
                assert_eq!(offset, len, "truncated to {len} bytes");
                if len >= first_event_offset() {
                    assert!(matches!(part, Part::Event { .. }), "{len}: {part:?}");
                }
            }
            other => panic!("truncated to {len} bytes: {other:?}"),
        }
    }
}

#[test]
fn truncation_names_the_event_and_where_it_starts() {
    let bytes = small_file();
    let start = first_event_offset();
    let err = decode_trace(&bytes[..start + 5]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "truncated trace: the file ends at byte {}, inside event 0 of {} (its record starts at byte {start})",
            start + 5,
            common::VARIANTS
        )
    );
}

#[test]
fn an_unknown_tag_is_reported_where_it_is() {
    let mut bytes = small_file();
    let start = first_event_offset();
    bytes[start] = 0;
    let err = decode_trace(&bytes).unwrap_err();
    assert!(
        matches!(err, TraceFormatError::UnknownTag { tag: 0, offset, .. } if offset == start),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer synclab"), "{err}");
}

#[test]
fn an_impossible_field_is_an_error() {
    let mut bytes = small_file();
    // First event: tag, core (2 bytes), then the instruction length.
    bytes[first_event_offset() + 3] = 16;
    let err = decode_trace(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            TraceFormatError::InvalidField {
                field: "instruction length",
                value: 16,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn bytes_after_the_last_event_are_an_error() {
    let mut bytes = small_file();
    let len = bytes.len();
    bytes.push(1);
    let err = decode_trace(&bytes).unwrap_err();
    assert!(
        matches!(err, TraceFormatError::TrailingData { extra: 1, offset, count } if offset == len && count == common::VARIANTS as u64),
        "{err:?}"
    );
}

#[test]
fn a_huge_event_count_does_not_allocate_it() {
    let mut bytes = small_file();
    // The count follows magic, version, cores and seed.
    bytes[22..30].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = decode_trace(&bytes).unwrap_err();
    assert!(
        matches!(err, TraceFormatError::Truncated { offset, .. } if offset == bytes.len()),
        "{err:?}"
    );
}

#[test]
fn metadata_must_be_utf8() {
    let mut bytes = small_file();
    bytes[first_event_offset() - 1] = 0xff;
    let err = decode_trace(&bytes).unwrap_err();
    assert!(
        matches!(err, TraceFormatError::BadMetadata { offset: 34 }),
        "{err:?}"
    );
}

#[test]
fn every_single_byte_corruption_is_read_and_exported_without_panicking() {
    let bytes = small_file();
    for i in 0..bytes.len() {
        for value in [0x00, 0x01, 0x0f, 0x10, 0x7f, 0xff] {
            let mut corrupt = bytes.clone();
            corrupt[i] = value;
            // Either an error or a trace, which both exporters then take as it is.
            if let Ok(file) = decode_trace(&corrupt) {
                write_kanata(std::io::sink(), &file.header, &file.events).unwrap();
                write_chrome(std::io::sink(), &file.header, &file.events).unwrap();
            }
        }
    }
}
