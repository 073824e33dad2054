//! `docs/trace-format.md` says what the code does.

use trace_format::FORMAT_VERSION;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/trace-format.md");
    std::fs::read_to_string(path).expect("docs/trace-format.md")
}

#[test]
fn the_byte_layout_states_the_current_format_version() {
    let doc = doc();
    let stated = format!("format version, u32 (currently {FORMAT_VERSION})");
    assert!(
        doc.contains(&stated),
        "the header table must say `{stated}`"
    );
    let reader = format!("this synclab reads version {FORMAT_VERSION}");
    assert!(
        doc.contains(&reader),
        "the error example must say `{reader}`"
    );
}
