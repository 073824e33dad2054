//! RON text to [`Scenario`], with `ron`'s errors turned into located messages that
//! say what was expected and hint at the nearest valid name.

use ron::error::{Error as RonError, Position, SpannedError};
use ron::extensions::Extensions;

use super::document::Document;
use super::error::{ScenarioError, SourceFile, did_you_mean};
use super::schema::Scenario;

/// How scenario files are read: `Some(...)` may be left out (`name: "sb"`).
pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME)
}

/// Parse `file` as a scenario.
pub(crate) fn parse(file: SourceFile) -> Result<(Scenario, Document), ScenarioError> {
    match ron_options().from_str::<Scenario>(&file.text) {
        Ok(scenario) => Ok((scenario, Document::new(file))),
        Err(e) => Err(ron_error(&Document::new(file), &e)),
    }
}

/// A `ron` error at its place in `doc`.
pub(crate) fn ron_error(doc: &Document, e: &SpannedError) -> ScenarioError {
    let text = &doc.file.text;
    let mut start = offset(&doc.file, e.span.start);
    let end = offset(&doc.file, e.span.end).max(start);
    // `ron` may report the place before the whitespace preceding the value.
    let skipped = text[start..end].len() - text[start..end].trim_start().len();
    start += skipped;
    if let RonError::InvalidEscape(_) = e.code {
        // Underline the escape, not the whole string up to it.
        start += text[start..end].rfind('\\').unwrap_or(0);
    }
    // A zero-width position underlines the character there.
    let end = if end == start {
        text[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8())
    } else {
        end
    };
    let (message, hint) = explain(&e.code, doc.field_at(start));
    doc.file.error(start..end, message, hint)
}

fn offset(file: &SourceFile, p: Position) -> usize {
    file.offset(p.line, p.col)
}

/// Message and hint for a `ron` error code; `field` is the field being read.
pub(crate) fn explain(code: &RonError, field: Option<&str>) -> (String, Option<String>) {
    let within = field.map_or(String::new(), |f| format!(" in `{f}`"));
    let hint = |s: &str| Some(s.to_string());
    match code {
        RonError::NoSuchStructField {
            expected, found, ..
        } => (
            format!("unknown field \"{found}\"{within}"),
            Some(did_you_mean(found, expected.iter().copied())),
        ),
        RonError::NoSuchEnumVariant {
            expected, found, ..
        } => (
            format!("unknown variant \"{found}\"{within}"),
            Some(did_you_mean(found, expected.iter().copied())),
        ),
        RonError::MissingStructField { field, .. } => (
            format!("missing field \"{field}\""),
            Some(format!(
                "add `{field}: ...`; docs/scenario-format.md lists what it takes"
            )),
        ),
        RonError::DuplicateStructField { field, .. } => (
            format!("field \"{field}\" is given twice"),
            hint("remove one of them"),
        ),
        RonError::InvalidValueForType { expected, found } => {
            (format!("expected {expected}, found {found}{within}"), None)
        }
        RonError::IntegerOutOfBounds => (
            format!("integer out of range{within}"),
            Some(match field {
                Some("vector") => "interrupt vectors are 0 to 255".to_string(),
                Some("jitter") => "jitter is a percentage, 0 to 4294967295".to_string(),
                _ => "the value does not fit this field (negative, or too large)".to_string(),
            }),
        ),
        RonError::Eof => (
            "unexpected end of file".to_string(),
            hint("a `(`, `[`, `{` or string is not closed"),
        ),
        RonError::TrailingCharacters => (
            "unexpected text after the scenario".to_string(),
            hint("a scenario is one `( ... )` value; look for an extra `)` or `]`"),
        ),
        RonError::ExpectedComma => (
            "expected `,`".to_string(),
            hint("separate fields and list items with commas"),
        ),
        RonError::ExpectedMapColon => (
            "expected `:`".to_string(),
            hint("write fields as `name: value`"),
        ),
        RonError::ExpectedString | RonError::ExpectedStringEnd => (
            format!("expected a string{within}"),
            hint("write strings in double quotes, or r#\"...\"# for assembly and conditions"),
        ),
        RonError::ExpectedBoolean => (format!("expected `true` or `false`{within}"), None),
        RonError::ExpectedInteger => (format!("expected an integer{within}"), None),
        RonError::ExpectedArray => (format!("expected a list `[...]`{within}"), None),
        RonError::ExpectedStructLike | RonError::ExpectedNamedStructLike(_) => (
            format!("expected `(`{within}"),
            hint("structs are written `(field: value, ...)`"),
        ),
        RonError::ExpectedStructLikeEnd | RonError::ExpectedOptionEnd => (
            "expected `)`".to_string(),
            hint("check the parentheses and the commas between fields"),
        ),
        RonError::ExpectedArrayEnd => (
            "expected `]`".to_string(),
            hint("check the brackets and the commas between items"),
        ),
        RonError::ExpectedIdentifier => (
            format!("expected a name{within}"),
            hint("field names are identifiers: letters, digits and `_`, not quoted"),
        ),
        RonError::SuggestRawIdentifier(name) | RonError::InvalidIdentifier(name) => (
            format!("invalid name \"{name}\"{within}"),
            hint("names are letters, digits and `_`, starting with a letter or `_`"),
        ),
        RonError::UnexpectedChar(c) => (format!("unexpected character {c:?}"), None),
        RonError::InvalidEscape(what) => (
            format!("invalid escape in string: {}", lower_first(what)),
            hint("use a raw string r#\"...\"# to write backslashes as they are"),
        ),
        RonError::Message(m) => (format!("{m}{within}"), None),
        other => (lower_first(&other.to_string()), None),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_lowercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ScenarioError {
        parse(SourceFile::new("t.ron", text)).expect_err("an error")
    }

    #[test]
    fn unknown_fields_and_variants_hint_the_nearest_name() {
        let e = error("(\n  machine: (ifetch_coherance: Lazy),\n)");
        assert_eq!(
            (e.line, e.col, e.message.as_str()),
            (2, 13, "unknown field \"ifetch_coherance\" in `machine`")
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean \"ifetch_coherence\"?")
        );
        let e = error("(machine: (ifetch_coherence: Lazzy))");
        assert_eq!(e.message, "unknown variant \"Lazzy\" in `ifetch_coherence`");
        assert_eq!(e.hint.as_deref(), Some("did you mean \"Lazy\"?"));
    }

    #[test]
    fn values_out_of_range_say_which_range() {
        let e = error("(system: (idt: [(vector: 300, handler: \"h\")]))");
        assert_eq!(e.message, "integer out of range in `vector`");
        assert_eq!(e.hint.as_deref(), Some("interrupt vectors are 0 to 255"));
        assert_eq!(e.col, 26);
    }

    #[test]
    fn repeated_names_in_tables_are_errors() {
        let e = error("(machine: (core: (rob_size: 1, rob_size: 2)))");
        assert_eq!(e.message, "`rob_size` is given twice in `core`");
    }
}
