//! Suggestions for misspelt names: the nearest candidates by edit distance.

/// Levenshtein distance, case-insensitive.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidates closest to `word` (at most `max_distance` edits away), best first,
/// joined for an error message: `"eu-west-1 or eu-west-2"`.
pub fn nearest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
    max_distance: usize,
) -> Option<String> {
    let mut scored: Vec<(usize, &str)> = candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= max_distance)
        .collect();
    scored.sort();
    let best = scored.first()?.0;
    let names: Vec<&str> = scored
        .iter()
        .filter(|(d, _)| *d == best)
        .take(3)
        .map(|(_, c)| *c)
        .collect();
    Some(names.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_closest_names() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let regions = ["eu-west-1", "eu-west-2", "us-east-1"];
        assert_eq!(
            nearest("eu-wset-1", regions.iter().copied(), 3).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(nearest("xx", regions.iter().copied(), 1), None);
    }
}
