//! The scenario file's text with its tree of value positions: turns a path to a
//! value (`variants[1].kernel.timer_period`) into an error underlining that value.

use std::ops::Range;

use super::error::{ScenarioError, SourceFile};
use super::ron_tree::{Kind, Node, Step};

/// A parsed scenario file, for locating values in it.
#[derive(Clone, Debug)]
pub(crate) struct Document {
    /// The file and its text.
    pub file: SourceFile,
    /// Positions of its values (`None` only if the text could not be followed,
    /// which `ron` accepting it makes unexpected; errors then point at the start).
    pub tree: Option<Node>,
}

impl Document {
    /// The document for `file`, whose text `ron` accepted.
    pub(crate) fn new(file: SourceFile) -> Document {
        let tree = Node::parse(&file.text);
        Document { file, tree }
    }

    /// Bytes of the value at `path` (or of its deepest existing ancestor).
    pub(crate) fn span(&self, path: &[Step]) -> Range<usize> {
        self.tree
            .as_ref()
            .map_or(0..0, |tree| tree.span_of(&self.file.text, path))
    }

    /// An error underlining the value at `path`.
    pub(crate) fn error(
        &self,
        path: &[Step],
        message: impl Into<String>,
        hint: Option<String>,
    ) -> ScenarioError {
        self.file.error(self.span(path), message, hint)
    }

    /// An error underlining bytes `decoded` of the value of the string literal at
    /// `path` (positions in the string's value, after escapes), or the whole value
    /// if `path` is not a string literal.
    pub(crate) fn string_error(
        &self,
        path: &[Step],
        decoded: Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> ScenarioError {
        let text = &self.file.text;
        let node = self.tree.as_ref().and_then(|t| t.find(text, path));
        let span = match node.map(|n| &n.kind) {
            Some(Kind::Str(lit)) => {
                let start = lit.source_offset(text, decoded.start);
                let end = lit.source_offset(text, decoded.end).max(start);
                start..end
            }
            _ => self.span(path),
        };
        self.file.error(span, message, hint)
    }

    /// The innermost field whose value contains byte `offset` (for hints).
    pub(crate) fn field_at(&self, offset: usize) -> Option<&str> {
        self.tree.as_ref()?.field_at(offset)
    }

    /// The RON text of the value at `path`, if it exists.
    pub(crate) fn value_text(&self, path: &[Step]) -> Option<&str> {
        let node = self.tree.as_ref()?.find(&self.file.text, path)?;
        self.file.text.get(node.span.clone())
    }

    /// The fields of the struct at `path` (looking through `Some`), name and RON
    /// text of the value, in file order.
    pub(crate) fn struct_fields(&self, path: &[Step]) -> Vec<(&str, &str)> {
        let text = &self.file.text;
        let node = self.tree.as_ref().and_then(|t| t.find(text, path));
        match node.map(Node::unwrap_some).map(|n| &n.kind) {
            Some(Kind::Struct(fields)) => fields
                .iter()
                .filter_map(|f| Some((f.name.as_str(), text.get(f.value.span.clone())?)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::new(SourceFile::new("t.ron", text))
    }

    fn located(d: &Document, path: &[Step]) -> String {
        d.file.text[d.span(path)].to_string()
    }

    #[test]
    fn paths_find_fields_items_keys_and_look_through_some() {
        let d = doc(r###"#![enable(implicit_some)]
// comment (with: parens)
(
    name: Some("x"), /* nested /* block */ comment */
    machine: (core: (rob_size: 64), mem: {"l1_latency": 3}),
    events: [(at: Label("spin"), action: Interrupt(cpu: 1, vector: 0x40))],
    kernel: Some((timer_period: Some(1_000))),
    text: r##"a "# b"##,
)"###);
        assert_eq!(located(&d, &[Step::Field("name")]), "Some(\"x\")");
        let core_key = [
            Step::Field("machine"),
            Step::Field("core"),
            Step::Key("rob_size"),
        ];
        assert_eq!(located(&d, &core_key), "rob_size");
        let mem_value = [
            Step::Field("machine"),
            Step::Field("mem"),
            Step::KeyValue("l1_latency"),
        ];
        assert_eq!(located(&d, &mem_value), "3");
        let label = [
            Step::Field("events"),
            Step::Index(0),
            Step::Field("at"),
            Step::Index(0),
        ];
        assert_eq!(located(&d, &label), "\"spin\"");
        let vector = [
            Step::Field("events"),
            Step::Index(0),
            Step::Field("action"),
            Step::Field("vector"),
        ];
        assert_eq!(located(&d, &vector), "0x40");
        let period = [Step::Field("kernel"), Step::Field("timer_period")];
        assert_eq!(located(&d, &period), "Some(1_000)");
        assert_eq!(located(&d, &[Step::Field("text")]), "r##\"a \"# b\"##");
        assert_eq!(
            d.struct_fields(&[Step::Field("kernel")]),
            vec![("timer_period", "Some(1_000)")]
        );
        // A missing step falls back to the deepest value found.
        assert_eq!(
            located(&d, &[Step::Field("machine"), Step::Field("nope")]),
            "(core: (rob_size: 64), mem: {\"l1_latency\": 3})"
        );
        let offset = d.file.text.find("0x40").unwrap();
        assert_eq!(d.field_at(offset), Some("vector"));
    }

    #[test]
    fn string_positions_account_for_escapes_and_raw_prefixes() {
        let d = doc("(a: \"x\\ty\\u{e9}z\", b: r#\"p\nq\"#)");
        let a = [Step::Field("a")];
        // Value "x\ty\u{e9}z": byte 3 is 'é' (two bytes), byte 5 is 'z'.
        let e = d.string_error(&a, 5..6, "m", None);
        assert_eq!(&d.file.text[e.span().unwrap()], "z");
        let e = d.string_error(&a, 3..5, "m", None);
        assert_eq!(&d.file.text[e.span().unwrap()], "\\u{e9}");
        let e = d.string_error(&[Step::Field("b")], 2..3, "m", None);
        assert_eq!(
            (e.line, e.col, &d.file.text[e.span().unwrap()]),
            (2, 1, "q")
        );
    }

    #[test]
    fn garbage_gives_no_tree_and_no_panic() {
        for text in [
            "(",
            "(a: [1, 2)",
            "r#\"",
            "'",
            "(a: 1) x",
            "{1 2}",
            "\"\\u{",
            "",
        ] {
            let d = doc(text);
            assert!(d.tree.is_none(), "{text}");
            assert_eq!(d.span(&[Step::Field("a")]), 0..0);
        }
    }
}
