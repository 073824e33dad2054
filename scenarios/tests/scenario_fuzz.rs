//! The loader never panics: random text and randomly edited scenarios (from the
//! valid and broken corpora) either load, and then build, or fail with an error
//! located inside the file it names.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use scenarios::scenario::{ScenarioError, load_str};

fn data_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenario_data")
        .join(kind)
}

/// Every scenario of both corpora, with its path (so includes resolve).
fn corpus() -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = ["valid", "broken"]
        .iter()
        .flat_map(|kind| std::fs::read_dir(data_dir(kind)).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    files.sort();
    files
}

/// Characters that matter to RON, assembly and conditions, plus a few that do not.
const ALPHABET: &str = "()[]{}:,\"#r'\\/*\n 0123456789xabeLSNmoveq_-+~=.é";

/// Applies `edits`: insert, remove or replace a character, or copy a stretch of
/// the text elsewhere (which duplicates fields, items and brackets).
fn edit(base: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    for &(op, pos, arg) in edits {
        let pos = pos % (chars.len() + 1);
        match op % 4 {
            0 => chars.insert(pos, alphabet[arg % alphabet.len()]),
            1 if pos < chars.len() => {
                chars.remove(pos);
            }
            2 if pos < chars.len() => chars[pos] = alphabet[arg % alphabet.len()],
            3 => {
                let from = arg % (chars.len() + 1);
                let stretch: Vec<char> = chars[from..(from + 40).min(chars.len())].to_vec();
                chars.splice(pos..pos, stretch);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Replaces the characters at `positions` (ASCII letters and digits only) by
/// others of the same kind: the text mostly stays valid RON, so the edits reach
/// the checks of names, labels, knobs, registers and conditions.
fn edit_names_and_numbers(base: &str, positions: &[(usize, usize)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    let swappable: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_alphanumeric())
        .collect();
    for &(pos, arg) in positions {
        let Some(&at) = swappable.get(pos % swappable.len().max(1)) else {
            continue;
        };
        let pool: &[u8] = if chars[at].is_ascii_digit() {
            b"0123456789"
        } else {
            b"abcdefghijklmnopqrstuvwxyzLSN_"
        };
        chars[at] = char::from(pool[arg % pool.len()]);
    }
    chars.into_iter().collect()
}

/// An error must point inside the file it names (the scenario or an include).
fn check_error(e: &ScenarioError, path: &Path, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(!e.message.is_empty());
    let _rendered = format!("{:?}", e.to_report());
    if e.line == 0 {
        return Ok(());
    }
    let file_text = if Path::new(&e.file) == path {
        text.to_string()
    } else {
        std::fs::read_to_string(&e.file).unwrap_or_default()
    };
    let lines = file_text.split('\n').count();
    prop_assert!(e.line <= lines, "{e} (the file has {lines} lines)");
    prop_assert!(e.col >= 1, "{e}");
    let span = e.span().expect("located errors have a span");
    prop_assert!(
        span.end <= file_text.len() && file_text.is_char_boundary(span.start),
        "{e}"
    );
    Ok(())
}

fn load_and_build(path: &Path, text: &str) -> Result<(), TestCaseError> {
    match load_str(text, path) {
        Ok(scenario) => {
            for configuration in scenario.configurations() {
                // Every loaded configuration builds, bare-metal or kernel.
                let built = scenario.build(configuration.variant.as_deref(), Some(1));
                prop_assert!(built.is_ok(), "{:?}", built.err());
            }
            Ok(())
        }
        Err(e) => check_error(&e, path, text),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn edited_scenarios_load_or_fail_cleanly(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((0..4usize, 0..4000usize, 0..4000usize), 1..8),
    ) {
        let corpus = corpus();
        let (path, base) = &corpus[which.index(corpus.len())];
        load_and_build(path, &edit(base, &edits))?;
    }

    #[test]
    fn scenarios_with_changed_names_and_numbers_load_or_fail_cleanly(
        which in any::<prop::sample::Index>(),
        positions in prop::collection::vec((0..4000usize, 0..64usize), 1..3),
    ) {
        let corpus = corpus();
        let (path, base) = &corpus[which.index(corpus.len())];
        load_and_build(path, &edit_names_and_numbers(base, &positions))?;
    }

    #[test]
    fn random_text_fails_cleanly(text in "[()\\[\\]{}:,\"#r'a-z0-9 \\n\\\\]{0,200}") {
        load_and_build(&data_dir("valid").join("random.ron"), &text)?;
    }
}

#[test]
fn the_valid_corpus_loads() {
    for (path, text) in corpus() {
        let valid = path.parent().is_some_and(|d| d.ends_with("valid"));
        let result = load_str(&text, &path);
        assert_eq!(
            result.is_ok(),
            valid,
            "{}: {:?}",
            path.display(),
            result.err()
        );
    }
}
