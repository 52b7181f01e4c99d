//! Cheap per-post gates that decide which rule regexes need to run at all.
//!
//! Running a regex costs a scan of the post; most posts match none of them.
//! Two gates, both derived from the patterns when the classifier is built,
//! tell a post that cannot match a regex without running it:
//!
//! - [`required_literals`]: every match of most `regex` patterns (over the
//!   normalised text) contains one of a few literal words, e.g. ` want `
//!   or ` should i `. The classifier puts these into its phrase trie,
//!   which looks the post up anyway, and runs a regex only when one of its
//!   literals was seen.
//! - [`ByteGate`]: every match of most `raw_regex` patterns contains a byte
//!   from a small set, or two adjacent bytes from two sets (a letter before
//!   `@`, two digits in a row, `.` before a letter…). One table lookup per
//!   byte of the raw post finds which regexes can match. (The classifier
//!   asks it only after the set of all `raw_regex` patterns has said that
//!   one of them matches.)
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
            // Literals that start at a word (with a space) can be looked up
            // a token at a time; then the longer, then the fewer.
            let at_word = l.iter().all(|s| s.starts_with(' '));
            let shortest = l.iter().map(String::len).min().unwrap_or(usize::MAX);
            (at_word, shortest.min(8), std::cmp::Reverse(l.len()))
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

    fn single(b: u8) -> ByteSet {
        let mut s = ByteSet::EMPTY;
        s.add(b);
        s
    }

    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=255u8).filter(|b| self.contains(*b))
    }
}

/// How often bytes and adjacent byte pairs occur in posts, counted once
/// over a built-in sample of typical posts to NHS accounts. Only the choice
/// of gate depends on it, never what matches.
struct Freq {
    single: [u32; 256],
    pair: Vec<u32>,
}

fn freq() -> &'static Freq {
    static FREQ: std::sync::OnceLock<Freq> = std::sync::OnceLock::new();
    FREQ.get_or_init(|| {
        let sample = include_str!("gate_sample.txt").as_bytes();
        let mut f = Freq {
            single: [0; 256],
            pair: vec![0; 256 * 256],
        };
        for &b in sample {
            f.single[usize::from(b)] += 1;
        }
        for w in sample.windows(2) {
            f.pair[usize::from(w[0]) * 256 + usize::from(w[1])] += 1;
        }
        f
    })
}

/// Scale of the costs: a byte or pair seen once in the sample costs this
/// much; a byte never seen costs 1, since posts differ from the sample.
const SEEN: u64 = 20;

/// One thing a text must hold for a pattern to match: a byte from a set,
/// or two adjacent bytes, the first from one set and the second from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Byte(ByteSet),
    Pair(ByteSet, ByteSet),
}

impl Need {
    /// Lower is a better gate: how often a post is expected to hold it.
    fn cost(&self) -> u64 {
        let f = freq();
        let weigh = |n: u32| SEEN * u64::from(n) + 1;
        match self {
            Need::Byte(s) => s.bytes().map(|b| weigh(f.single[usize::from(b)])).sum(),
            Need::Pair(a, b) => {
                let second: Vec<u8> = b.bytes().collect();
                let seen: u64 = a
                    .bytes()
                    .map(|x| {
                        second
                            .iter()
                            .map(|&y| {
                                SEEN * u64::from(f.pair[usize::from(x) * 256 + usize::from(y)])
                            })
                            .sum::<u64>()
                    })
                    .sum();
                // Pairs never seen are smoothed by the size of each side,
                // not of their product: most such pairs never occur at all.
                seen + (a.bytes().count() + second.len()) as u64
            }
        }
    }
}

/// Every match holds at least one of these.
type Req = Vec<Need>;

fn req_cost(r: &Req) -> u64 {
    r.iter().map(Need::cost).sum()
}

fn cheapest(cands: impl IntoIterator<Item = Req>) -> Option<Req> {
    cands.into_iter().min_by_key(req_cost)
}

/// What every match of a piece of a pattern looks like, for the gate.
#[derive(Debug, Clone)]
struct Info {
    /// Shortest match, in bytes.
    min_len: usize,
    /// Zero-width assertions (`\b`, `^`): they sit between their neighbours'
    /// bytes without breaking adjacency.
    zero_width: bool,
    /// Bytes a non-empty match can start and end with.
    first: ByteSet,
    last: ByteSet,
    /// What every match holds, when something can be said.
    req: Option<Req>,
}

/// The bytes that can start (`lead`) or end a UTF-8 encoded character of a
/// Unicode class range.
fn utf8_edges(lo: u32, hi: u32, first: &mut ByteSet, last: &mut ByteSet) {
    if lo < 0x80 {
        // Both ends are ASCII here.
        let top = hi.min(0x7F) as u8;
        first.add_range(lo as u8, top);
        last.add_range(lo as u8, top);
    }
    if hi >= 0x80 {
        let lead = |cp: u32| -> u8 {
            match cp {
                0..=0x7FF => 0xC0 | (cp >> 6) as u8,
                0x800..=0xFFFF => 0xE0 | (cp >> 12) as u8,
                _ => 0xF0 | (cp >> 18) as u8,
            }
        };
        // Lead bytes grow with the code point.
        let lo = lo.max(0x80);
        first.add_range(lead(lo), lead(hi));
        // The last byte holds the low six bits of the code point.
        if hi - lo >= 0x3F {
            last.add_range(0x80, 0xBF);
        } else {
            for cp in lo..=hi {
                last.add(0x80 | (cp & 0x3F) as u8);
            }
        }
    }
}

fn info(hir: &Hir) -> Info {
    let none = |zero_width| Info {
        min_len: 0,
        zero_width,
        first: ByteSet::EMPTY,
        last: ByteSet::EMPTY,
        req: None,
    };
    match hir.kind() {
        HirKind::Empty => none(false),
        HirKind::Look(_) => none(true),
        HirKind::Literal(lit) => {
            let b = &lit.0;
            let mut cands: Vec<Req> = b
                .iter()
                .map(|&x| vec![Need::Byte(ByteSet::single(x))])
                .collect();
            cands.extend(
                b.windows(2)
                    .map(|w| vec![Need::Pair(ByteSet::single(w[0]), ByteSet::single(w[1]))]),
            );
            Info {
                min_len: b.len(),
                zero_width: false,
                first: b.first().map_or(ByteSet::EMPTY, |&x| ByteSet::single(x)),
                last: b.last().map_or(ByteSet::EMPTY, |&x| ByteSet::single(x)),
                req: cheapest(cands),
            }
        }
        HirKind::Class(class) => {
            let (mut first, mut last) = (ByteSet::EMPTY, ByteSet::EMPTY);
            match class {
                Class::Bytes(c) => {
                    for r in c.ranges() {
                        first.add_range(r.start(), r.end());
                    }
                    last = first;
                }
                Class::Unicode(c) => {
                    for r in c.ranges() {
                        utf8_edges(
                            u32::from(r.start()),
                            u32::from(r.end()),
                            &mut first,
                            &mut last,
                        );
                    }
                }
            }
            Info {
                min_len: 1,
                zero_width: false,
                first,
                last,
                req: Some(vec![Need::Byte(first)]),
            }
        }
        HirKind::Capture(cap) => info(&cap.sub),
        HirKind::Repetition(rep) => {
            let sub = info(&rep.sub);
            let min = rep.min as usize;
            let mut req = None;
            if min >= 1 {
                let mut cands: Vec<Req> = sub.req.clone().into_iter().collect();
                if min >= 2 && sub.min_len > 0 {
                    cands.push(vec![Need::Pair(sub.last, sub.first)]);
                }
                req = cheapest(cands);
            }
            Info {
                min_len: sub.min_len.saturating_mul(min),
                zero_width: sub.zero_width,
                first: sub.first,
                last: sub.last,
                req,
            }
        }
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(info).collect();
            let req = infos.iter().try_fold(Vec::new(), |mut acc: Req, i| {
                acc.extend(i.req.as_ref()?.iter().copied());
                Some(acc)
            });
            Info {
                min_len: infos.iter().map(|i| i.min_len).min().unwrap_or(0),
                zero_width: infos.iter().all(|i| i.zero_width),
                first: infos.iter().fold(ByteSet::EMPTY, |a, i| a.union(i.first)),
                last: infos.iter().fold(ByteSet::EMPTY, |a, i| a.union(i.last)),
                req,
            }
        }
        HirKind::Concat(subs) => {
            // Zero-width pieces do not separate their neighbours' bytes.
            let infos: Vec<Info> = subs.iter().map(info).filter(|i| !i.zero_width).collect();
            let mut cands: Vec<Req> = infos.iter().filter_map(|i| i.req.clone()).collect();
            for w in infos.windows(2) {
                if w[0].min_len > 0 && w[1].min_len > 0 {
                    cands.push(vec![Need::Pair(w[0].last, w[1].first)]);
                }
            }
            // A match starts in the optional pieces before the first
            // required one, or in that one; likewise at the end.
            let edge = |it: &mut dyn Iterator<Item = &Info>, end: bool| {
                let mut set = ByteSet::EMPTY;
                for i in it {
                    set = set.union(if end { i.last } else { i.first });
                    if i.min_len > 0 {
                        break;
                    }
                }
                set
            };
            Info {
                min_len: infos.iter().map(|i| i.min_len).sum(),
                zero_width: infos.is_empty(),
                first: edge(&mut infos.iter(), false),
                last: edge(&mut infos.iter().rev(), true),
                req: cheapest(cands),
            }
        }
    }
}

/// Which of up to [`MAX_GATED`] regexes a text can match, by the bytes and
/// adjacent byte pairs it holds.
///
/// Bytes are first mapped to classes (bytes no gate tells apart share a
/// class), so the pair table is small: one lookup per byte of the post.
#[derive(Debug, Clone)]
pub struct ByteGate {
    class_of: Box<[u8; 256]>,
    /// Per class: the regexes a text holding such a byte may match.
    single: Vec<u64>,
    /// Per pair of classes (`first * single.len() + second`).
    pair: Vec<u64>,
    /// Regexes with no requirement: they always run.
    always: u64,
    /// Every regex the gate knows.
    all: u64,
}

impl ByteGate {
    /// A gate for `patterns` (as compiled by the regex crate).
    pub fn new(patterns: &[String]) -> ByteGate {
        let mut reqs: Vec<(u64, Req)> = Vec::new();
        let mut always = 0u64;
        let mut all = 0u64;
        for (i, p) in patterns.iter().enumerate().take(MAX_GATED) {
            let bit = 1u64 << i;
            all |= bit;
            match parse(p).as_ref().and_then(|h| info(h).req) {
                Some(req) => reqs.push((bit, req)),
                None => always |= bit,
            }
        }
        // Split bytes into classes: two bytes share a class when every set
        // in every requirement holds both or neither.
        let mut sets: Vec<ByteSet> = Vec::new();
        for (_, req) in &reqs {
            for need in req {
                match *need {
                    Need::Byte(s) => sets.push(s),
                    Need::Pair(a, b) => sets.extend([a, b]),
                }
            }
        }
        let mut class_of = Box::new([0u8; 256]);
        let mut signatures: Vec<Vec<bool>> = Vec::new();
        for b in 0..=255u8 {
            let sig: Vec<bool> = sets.iter().map(|s| s.contains(b)).collect();
            let class = match signatures.iter().position(|s| *s == sig) {
                Some(c) => c,
                None => {
                    signatures.push(sig);
                    signatures.len() - 1
                }
            };
            class_of[usize::from(b)] = class as u8;
        }
        let classes = signatures.len();
        let mut single = vec![0u64; classes];
        let mut pair = vec![0u64; classes * classes];
        let member = |s: &ByteSet, class: usize| {
            (0..=255u8).any(|b| usize::from(class_of[usize::from(b)]) == class && s.contains(b))
        };
        for (bit, req) in &reqs {
            for need in req {
                match need {
                    Need::Byte(s) => {
                        for (c, entry) in single.iter_mut().enumerate() {
                            if member(s, c) {
                                *entry |= bit;
                            }
                        }
                    }
                    Need::Pair(a, b) => {
                        for x in (0..classes).filter(|&x| member(a, x)) {
                            for y in (0..classes).filter(|&y| member(b, y)) {
                                pair[x * classes + y] |= bit;
                            }
                        }
                    }
                }
            }
        }
        ByteGate {
            class_of,
            single,
            pair,
            always,
            all,
        }
    }

    /// Bit `i` is set when regex `i` may match `text` (and for every regex
    /// past [`MAX_GATED`], which the caller runs regardless).
    pub fn candidates(&self, text: &str) -> u64 {
        let mut seen = self.always;
        let bytes = text.as_bytes();
        let Some(&b0) = bytes.first() else {
            return seen;
        };
        let classes = self.single.len();
        let mut prev = usize::from(self.class_of[usize::from(b0)]);
        seen |= self.single[prev];
        for chunk in bytes[1..].chunks(64) {
            for &b in chunk {
                let c = usize::from(self.class_of[usize::from(b)]);
                seen |= self.single[c] | self.pair[prev * classes + c];
                prev = c;
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
    fn pair_gate_needs_adjacent_bytes() {
        let pats = [
            r"(?i)(?-u:\b)[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}(?-u:\b)".to_string(),
            r"(?-u:\b)\d{3}[\s-]?\d{3}[\s-]?\d{4}(?-u:\b)".to_string(),
            r"(?i)(?-u:\b)[a-z0-9-]{2,}\.(?:com|net|org)(?-u:\b)".to_string(),
        ];
        let gate = ByteGate::new(&pats);
        // A mention has no local part before its `@`.
        assert_eq!(gate.candidates("@USER @USER you what") & 1, 0);
        assert_eq!(gate.candidates("mail jo@nhs.net") & 1, 1);
        // Digits that never touch cannot start an NHS number.
        assert_eq!(gate.candidates("bay 5 at 3 pm") & 2, 0);
        assert_eq!(gate.candidates("943 476 5919") & 2, 2);
        // A sentence's full stop is followed by a space, a domain's by a letter.
        assert_eq!(gate.candidates("The end. The start.") & 4, 0);
        assert_eq!(gate.candidates("see example.com") & 4, 4);
    }

    #[test]
    fn unicode_classes_gate_on_their_lead_bytes() {
        let gate = ByteGate::new(&[r"\d\d".to_string()]);
        // Arabic-Indic digits (U+0663) are `\d` too.
        assert_eq!(gate.candidates("\u{663}\u{663}"), 1);
        assert_eq!(gate.candidates("12"), 1);
        // An emoji next to a digit is not two digits.
        assert_eq!(gate.candidates("\u{1F600} 1 \u{1F44D}"), 0);
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
