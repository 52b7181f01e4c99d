//! Near-identical repeats by one author: the "making the same points over and
//! over" the trusts count as spam. Exact and testable because the caller passes
//! the author's recent posts in.

use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet, VecDeque};

/// One of the author's earlier posts, already normalised by the caller or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentPost {
    pub text: String,
    pub at: DateTime<Utc>,
}

/// Token set used for similarity: normalised tokens, ignoring numbers and
/// one-letter tokens so "+1", "again!!" and counters don't hide a repeat.
pub fn fingerprint(canonical: &str) -> HashSet<&str> {
    canonical
        .split(' ')
        .filter(|t| t.len() > 1 && !t.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

/// Jaccard similarity of two token sets.
pub fn similarity(a: &HashSet<&str>, b: &HashSet<&str>) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    inter as f32 / union as f32
}

/// How many recent posts within `window` before `at` are near-identical to the
/// current one. `normalise` turns text into canonical form.
pub fn count_repeats<F: Fn(&str) -> String>(
    current_canonical: &str,
    at: DateTime<Utc>,
    recent: &[RecentPost],
    window: Duration,
    threshold: f32,
    normalise: F,
) -> usize {
    let me = fingerprint(current_canonical);
    recent
        .iter()
        .filter(|p| p.at <= at && at - p.at <= window)
        .filter(|p| {
            let other = normalise(&p.text);
            similarity(&me, &fingerprint(&other)) >= threshold
        })
        .count()
}

/// Recent posts per author, bounded so memory stays constant on any input.
pub struct History {
    window: Duration,
    max_authors: usize,
    by_author: HashMap<String, VecDeque<RecentPost>>,
}

impl History {
    pub fn new(window: Duration, max_authors: usize) -> Self {
        History {
            window,
            max_authors,
            by_author: HashMap::new(),
        }
    }

    pub fn recent(&self, author: &str) -> &[RecentPost] {
        self.by_author.get(author).map_or(&[], |d| d.as_slices().0)
    }

    pub fn push(&mut self, author: &str, text: &str, at: DateTime<Utc>) {
        if self.by_author.len() >= self.max_authors && !self.by_author.contains_key(author) {
            let window = self.window;
            self.by_author
                .retain(|_, d| d.back().is_some_and(|p| at - p.at <= window));
            if self.by_author.len() >= self.max_authors {
                self.by_author.clear();
            }
        }
        let d = self.by_author.entry(author.to_string()).or_default();
        while d.front().is_some_and(|p| at - p.at > self.window) || d.len() >= 32 {
            d.pop_front();
        }
        d.push_back(RecentPost {
            text: text.to_string(),
            at,
        });
        d.make_contiguous();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_jaccard() {
        let a = fingerprint(" the wait was too long ");
        let b = fingerprint(" the wait was far too long ");
        assert!((similarity(&a, &b) - 5.0 / 6.0).abs() < 1e-6);
        assert_eq!(similarity(&a, &a), 1.0);
    }

    #[test]
    fn numbers_do_not_hide_a_repeat() {
        let a = fingerprint(" answer me now 1 ");
        let b = fingerprint(" answer me now 2 ");
        assert_eq!(similarity(&a, &b), 1.0);
    }
}
