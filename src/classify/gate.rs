//! Cheap per-post gates that decide which rule regexes need to run at all.
//!
//! Running a regex costs a scan of the post; most posts match none of them.
//! Two gates, both derived from the patterns when the classifier is built,
//! tell a post that cannot match a regex without running it:
//!
//! - [`required_literals`]: every match of most `regex` patterns (over the
//!   normalised text) contains one of a few literal words, e.g. ` want `
//!   or ` should i `. The classifier puts these into its phrase automaton,
//!   which scans the post anyway, and runs a regex only when one of its
//!   literals was seen.
//! - [`ByteGate`]: every match of most `raw_regex` patterns contains a byte
//!   from a small set (a digit, `@`, `.`…). One table lookup per byte of the
//!   raw post finds which regexes can match.
//!
//! A pattern for which no such guarantee can be derived always runs. The
//! gates only skip work: the set of matches is the same as without them.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Most regexes a gate tracks; any beyond always run.
pub const MAX_GATED: usize = 64;

/// Literals one of which every match of `pattern` contains, or `None` when
/// there is no short finite set of them (each at least `min_len` bytes, valid
/// UTF-8). They are the literals that start every match when there are such;
/// otherwise the literals that start every match of a tail of the pattern's
/// top-level sequence (` (\d+|two) (hour|day) ` gives ` hour`, ` day`),
/// since a match of the whole contains a match of each tail.
pub fn required_literals(pattern: &str, min_len: usize) -> Option<Vec<String>> {
    let hir = parse(pattern)?;
    if let Some(l) = prefix_literals(&hir, min_len) {
        return Some(l);
    }
    let HirKind::Concat(subs) = hir.kind() else {
        return None;
    };
    (1..subs.len())
        .filter_map(|j| prefix_literals(&Hir::concat(subs[j..].to_vec()), min_len))
        .max_by_key(|l| {
            let shortest = l.iter().map(String::len).min().unwrap_or(usize::MAX);
            (shortest.min(8), std::cmp::Reverse(l.len()))
        })
}

/// Literals that every match of `hir` starts with.
fn prefix_literals(hir: &Hir, min_len: usize) -> Option<Vec<String>> {
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let seq = extractor.extract(hir);
    let lits = seq.literals()?;
    if lits.is_empty() {
        // A regex that can never match: nothing to run.
        return Some(Vec::new());
    }
    lits.iter()
        .map(|l| {
            let s = std::str::from_utf8(l.as_bytes()).ok()?;
            (s.len() >= min_len).then(|| s.to_string())
        })
        .collect()
}

fn parse(pattern: &str) -> Option<Hir> {
    // The same defaults as `regex::Regex::new`.
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()
}

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteSet([u64; 4]);

impl ByteSet {
    const EMPTY: ByteSet = ByteSet([0; 4]);

    fn add(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    fn add_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.add(b);
        }
    }

    fn union(mut self, other: ByteSet) -> ByteSet {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        self
    }

    fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    /// How often a post is expected to hold one of these bytes: lower is a
    /// better gate.
    fn cost(&self) -> u32 {
        (0..=255u8).filter(|b| self.contains(*b)).map(weight).sum()
    }
}

/// Rough frequency of a byte in posts.
fn weight(b: u8) -> u32 {
    match b {
        b' ' => 40,
        b'a'..=b'z' => 10,
        b'A'..=b'Z' => 4,
        b'.' | b',' => 6,
        b'0'..=b'9' => 2,
        0x80..=0xFF => 2,
        _ => 1,
    }
}

/// Bytes one of which every match of `hir` contains, if there are any.
fn required_bytes(hir: &Hir) -> Option<ByteSet> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(lit) => lit.0.iter().map(|&b| single(b)).min_by_key(ByteSet::cost),
        HirKind::Class(Class::Bytes(c)) => {
            let mut s = ByteSet::EMPTY;
            for r in c.ranges() {
                s.add_range(r.start(), r.end());
            }
            Some(s)
        }
        HirKind::Class(Class::Unicode(c)) => {
            let mut s = ByteSet::EMPTY;
            for r in c.ranges() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                if lo < 0x80 {
                    // Both ends are ASCII here.
                    s.add_range(lo as u8, hi.min(0x7F) as u8);
                }
                if hi >= 0x80 {
                    // A non-ASCII character is encoded with bytes >= 0x80.
                    s.add_range(0x80, 0xFF);
                }
            }
            Some(s)
        }
        HirKind::Repetition(rep) if rep.min >= 1 => required_bytes(&rep.sub),
        HirKind::Repetition(_) => None,
        HirKind::Capture(cap) => required_bytes(&cap.sub),
        HirKind::Concat(subs) => subs
            .iter()
            .filter_map(required_bytes)
            .min_by_key(ByteSet::cost),
        HirKind::Alternation(subs) => subs
            .iter()
            .try_fold(ByteSet::EMPTY, |acc, h| Some(acc.union(required_bytes(h)?))),
    }
}

fn single(b: u8) -> ByteSet {
    let mut s = ByteSet::EMPTY;
    s.add(b);
    s
}

/// Which of up to [`MAX_GATED`] regexes a text can match, by the bytes it
/// holds.
#[derive(Debug, Clone)]
pub struct ByteGate {
    /// Per byte: the regexes that a text holding it may match.
    table: Box<[u64; 256]>,
    /// Regexes with no byte requirement: they always run.
    always: u64,
    /// Every regex the gate knows.
    all: u64,
}

impl ByteGate {
    /// A gate for `patterns` (as compiled by the regex crate).
    pub fn new(patterns: &[String]) -> ByteGate {
        let mut table = Box::new([0u64; 256]);
        let mut always = 0u64;
        let mut all = 0u64;
        for (i, p) in patterns.iter().enumerate().take(MAX_GATED) {
            let bit = 1u64 << i;
            all |= bit;
            match parse(p).as_ref().and_then(required_bytes) {
                Some(set) => {
                    for b in 0..=255u8 {
                        if set.contains(b) {
                            table[usize::from(b)] |= bit;
                        }
                    }
                }
                None => always |= bit,
            }
        }
        ByteGate { table, always, all }
    }

    /// Bit `i` is set when regex `i` may match `text` (and for every regex
    /// past [`MAX_GATED`], which the caller runs regardless).
    pub fn candidates(&self, text: &str) -> u64 {
        let mut seen = self.always;
        for chunk in text.as_bytes().chunks(64) {
            for &b in chunk {
                seen |= self.table[usize::from(b)];
            }
            if seen == self.all {
                break;
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_start_every_match() {
        let lits = required_literals(" (want|wanna) (to )?end ", 3).unwrap();
        assert!(
            lits.contains(&" want ".to_string()) || lits.iter().any(|l| l.starts_with(" want"))
        );
        assert!(lits.iter().all(|l| l.starts_with(" wan")));
        // Too short a prefix makes no gate.
        assert_eq!(required_literals(" \\w+ ", 3), None);
        // A tail's literals serve when the start has none: each match
        // holds one of them.
        let lits = required_literals(r" (\d+|two) (hour|day) (wait|delay) ", 3).unwrap();
        assert!(lits.iter().all(|l| l.len() >= 3));
        for m in [" 14 hour wait ", " two day delay ", " 3 day wait "] {
            assert!(lits.iter().any(|l| m.contains(l.as_str())), "{m} {lits:?}");
        }
        assert!(!lits.iter().any(|l| " 14 hours ".contains(l.as_str())));
        assert_eq!(required_literals("a*", 1), None);
    }

    #[test]
    fn byte_gate_finds_required_bytes() {
        let pats = [
            r"(?i)(?-u:\b)[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}(?-u:\b)".to_string(),
            r"(?-u:\b)\d{3}[\s-]?\d{3}[\s-]?\d{4}(?-u:\b)".to_string(),
            r"x?".to_string(),
        ];
        let gate = ByteGate::new(&pats);
        assert_eq!(gate.candidates("hello there"), 0b100);
        assert_eq!(gate.candidates("jo@nhs.net"), 0b101);
        assert_eq!(gate.candidates("ring 555 123 4567"), 0b110);
    }
}
