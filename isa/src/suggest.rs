//! "Did you mean" for every error message that names something unknown: mnemonics,
//! directives, labels, scenario fields, task names. One rule, so hints agree
//! everywhere.

/// The known name closest to `name`, if it is close enough to be a plausible typo:
/// similar (Jaro-Winkler) or a few edits away counting a swap of neighbours as one
/// (`mvo` -> `mov`); the fewest edits win, then the most similar.
pub fn nearest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let max_edits = 1 + name.chars().count() / 4;
    known
        .into_iter()
        .map(|candidate| {
            let edits = strsim::osa_distance(name, candidate);
            (edits, strsim::jaro_winkler(name, candidate), candidate)
        })
        .filter(|&(edits, similarity, _)| similarity >= 0.75 || edits <= max_edits)
        .min_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| b.1.total_cmp(&a.1))
                .then_with(|| a.2.cmp(b.2))
        })
        .map(|(_, _, candidate)| candidate)
}
