//! Translation checks across the corpus: a shape written in both dialects (`X86`
//! Intel, `X86_64` AT&T) must become the same program, and herd7 must agree that the
//! two have the same allowed states (up to register spelling).

mod litmus_data;

use scenarios::litmus::{CorpusEntry, FinalState, LitmusProgram};

/// Rename herd's register keys from `X86_64` spelling to `X86` (`0:rax` → `0:EAX`).
fn x86_keys(state: &FinalState) -> FinalState {
    let rename = |k: &String| match k.split_once(':') {
        Some((t, r)) => format!("{t}:E{}", r[1..].to_uppercase()),
        None => k.clone(),
    };
    FinalState(state.0.iter().map(|(k, v)| (rename(k), *v)).collect())
}

#[test]
fn both_dialects_translate_alike() {
    let Some(corpus) = litmus_data::corpus() else {
        return;
    };
    let mut twins = 0;
    for CorpusEntry { key, test, verdict } in &corpus.entries {
        let Some(twin_key) = key
            .strip_suffix(&test.name)
            .and_then(|dir| dir.strip_suffix("X86_64/"))
            .map(|dir| format!("{dir}X86/{}", test.name))
        else {
            continue;
        };
        let Some(twin) = corpus.get(&twin_key) else {
            continue;
        };
        twins += 1;
        let (p64, p32) = (LitmusProgram::new(test), LitmusProgram::new(&twin.test));
        assert_eq!(
            p64.threads, p32.threads,
            "{key}: code and initial registers"
        );
        assert_eq!(p64.memory_init, p32.memory_init, "{key}: memory");
        let sources = |p: &LitmusProgram| {
            p.observed
                .iter()
                .map(|o| o.source.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(sources(&p64), sources(&p32), "{key}: observed locations");
        let renamed: Vec<FinalState> = verdict.allowed_states_full.iter().map(x86_keys).collect();
        assert_eq!(
            renamed, twin.verdict.allowed_states_full,
            "{key}: herd's allowed states"
        );
    }
    assert_eq!(twins, 342, "the corpus has 330 gen and 12 hand twins");
}
