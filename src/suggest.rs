//! "Did you mean …?": the registry entry nearest to a misspelt name. Each registry (tables,
//! procedures) offers its own `suggest` built on [`nearest`].

/// The candidate nearest to `wanted` by edit distance, if it is within `max_distance`; ties go
/// to the first candidate.
pub fn nearest<T>(
    wanted: &str,
    candidates: impl IntoIterator<Item = T>,
    name: impl Fn(&T) -> String,
    max_distance: usize,
) -> Option<T> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(wanted, &name(&c)), c))
        .filter(|(d, _)| *d <= max_distance)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}
