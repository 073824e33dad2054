//! Every broken scenario under `scenario_data/broken/` fails to load with exactly
//! the message, `file:line:col` and hint of its `.expected` file.
//!
//! After a deliberate change of messages, `SYNCLAB_BLESS=1 cargo test -p scenarios
//! --test scenario_errors` rewrites the `.expected` files; review the diff.

use std::path::{Path, PathBuf};

use scenarios::scenario::{ScenarioError, load};

fn broken_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenario_data/broken")
}

/// `file:line:col: message` and `hint: ...`, the file by its name only.
fn describe(e: &ScenarioError) -> String {
    let file = Path::new(&e.file)
        .file_name()
        .map_or(e.file.clone(), |f| f.to_string_lossy().into_owned());
    format!(
        "{file}:{}:{}: {}\nhint: {}\n",
        e.line,
        e.col,
        e.message,
        e.hint.as_deref().unwrap_or("-")
    )
}

#[test]
fn broken_scenarios_fail_with_the_expected_located_errors() {
    let bless = std::env::var_os("SYNCLAB_BLESS").is_some();
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(broken_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    scenarios.sort();
    assert!(
        scenarios.len() >= 15,
        "the corpus shrank: {}",
        scenarios.len()
    );
    let mut mismatches = Vec::new();
    for path in &scenarios {
        let error = match load(path) {
            Ok(_) => panic!("{} loaded, but it is broken", path.display()),
            Err(e) => e,
        };
        let got = describe(&error);
        let expected_path = path.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no .expected file", path.display()));
        if got != expected {
            mismatches.push(format!(
                "{}:\n  expected: {expected:?}\n  got:      {got:?}",
                path.display()
            ));
        }
        // The report renders with the hint (miette wraps lines: compare the words).
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let report = words(&format!("{:?}", error.to_report()));
        if let Some(hint) = &error.hint {
            let last_word = hint.split_whitespace().last().unwrap_or_default();
            assert!(report.contains(last_word), "{report}");
        }
        assert!(
            report.contains(error.message.split_whitespace().next().unwrap()),
            "{report}"
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn an_unreadable_file_is_an_unlocated_error() {
    let e = load(&broken_dir().join("no such file.ron")).unwrap_err();
    assert_eq!((e.line, e.col), (0, 0));
    assert!(e.message.starts_with("cannot read scenario"), "{e}");
    assert_eq!(e.span(), None);
}

#[test]
fn errors_underline_the_offending_text() {
    let e = load(&broken_dir().join("unknown_core_knob.ron")).unwrap_err();
    let text = std::fs::read_to_string(broken_dir().join("unknown_core_knob.ron")).unwrap();
    assert_eq!(&text[e.span().unwrap()], "decode_widht");
    let e = load(&broken_dir().join("inline_asm_escaped.ron")).unwrap_err();
    let text = std::fs::read_to_string(broken_dir().join("inline_asm_escaped.ron")).unwrap();
    assert_eq!(&text[e.span().unwrap()], "rxa");
    let e = load(&broken_dir().join("include_asm_error.ron")).unwrap_err();
    let text = std::fs::read_to_string(broken_dir().join("include_asm_error.s")).unwrap();
    assert_eq!(&text[e.span().unwrap()], "movv");
}
