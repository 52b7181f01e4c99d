//! The classifier: decides what a post is, purely from its text, the org's
//! config and the author's recent posts. No I/O, no clock.
//!
//! Everything is compiled once by [`Classifier::new`]:
//! - every phrase (rule `words`, word lists, `unless` and `near` phrases,
//!   staff names) is normalised like a post and put into one trie over
//!   tokens (see the `phrases` module), so a post is looked up a token at a
//!   time, once, whatever the number of rules;
//! - `regex` patterns are compiled over normalised text and `raw_regex`
//!   patterns over the raw text, each under the size limits of
//!   `classifier.toml`; a post runs only the patterns it can match, as told
//!   by cheap gates derived from the patterns (see the `gate` module): the
//!   literals that start a `regex` pattern's matches ride in the phrase
//!   trie; the `raw_regex` patterns run as one set first, which says in
//!   one pass whether any matches (few posts do), and only then singly, as
//!   far as a table of bytes and adjacent byte pairs allows;
//! - a post is normalised into buffers kept per thread, so classifying it
//!   allocates only the result;
//!
//! Context is data, not code: a rule can require a *target* near its match
//! (`near`: "you", "your staff", "nurse"…), so "useless" at a person is
//! `abuse` while "useless system" is not; and a rule can be cancelled by
//! `unless` phrases. Weak signals add up: each rule adds its `score` to its
//! categories and a category fires at its threshold. Repetition is checked
//! against the author's recent posts passed in by the caller.

mod gate;
mod normalize;
mod phrases;
pub mod pii;
pub mod quotes;
pub mod repeat;

pub use normalize::{normalize, Lexicon, Normalized};
use normalize::{normalize_into, NormBuf};
pub use repeat::RecentPost;

use crate::category::{Action, Category, Severity};
use crate::config::rules::Validator;
use crate::config::{Config, ConfigError, LoadedRule, RepetitionConfig};
use chrono::{DateTime, Duration, Utc};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

/// Working memory for one classification, kept per thread so classifying a
/// post allocates only its result.
#[derive(Debug, Default)]
struct Scratch {
    buf: NormBuf,
    norm: Normalized,
    phrase: phrases::Scratch,
    events: Vec<Event>,
    /// Byte offsets of the spaces in the canonical text, once needed.
    token_starts: Vec<usize>,
    matches: Vec<usize>,
    scores: Vec<(Category, f32, Severity)>,
    fired: Vec<u32>,
    /// A bit per rule: whether the post has a match of it.
    matched: Vec<u64>,
    personal_spans: Vec<Range<usize>>,
    /// Whether the post has a `reported_speech` cue said of someone else.
    cue: bool,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// What the classifier is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    pub text: &'a str,
    /// The org whose staff list and policy apply.
    pub org: Option<&'a str>,
    /// When the post was made; needed for the repetition check.
    pub at: Option<DateTime<Utc>>,
    /// The author's recent posts, newest or oldest first.
    pub recent: &'a [RecentPost],
}

impl<'a> Input<'a> {
    pub fn text(text: &'a str) -> Self {
        Input {
            text,
            ..Input::default()
        }
    }
}

/// What the classifier decided.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Classification {
    /// Categories that fired, in vocabulary order.
    pub categories: Vec<Category>,
    /// Ids of the rules behind those categories, in rule order.
    pub rules: Vec<String>,
    pub severity: Severity,
    /// Suggested actions: the org's mapping, or the defaults without an org.
    pub suggested_actions: Vec<Action>,
    /// Byte ranges of personal data in the raw text, for masking.
    #[serde(skip)]
    pub personal_spans: Vec<Range<usize>>,
}

impl Classification {
    pub fn has(&self, c: Category) -> bool {
        self.categories.contains(&c)
    }

    /// The raw text with personal data masked.
    pub fn masked(&self, raw: &str) -> String {
        let mut spans = self.personal_spans.clone();
        spans.sort_by_key(|r| r.start);
        let mut out = String::with_capacity(raw.len());
        let mut at = 0;
        for r in spans {
            if r.start < at || r.end > raw.len() {
                continue;
            }
            out.push_str(&raw[at..r.start]);
            out.push_str(&pii::mask(&raw[r.clone()]));
            at = r.end;
        }
        out.push_str(&raw[at..]);
        out
    }
}

/// The normalised text and raw hits behind a classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub normalized: String,
    pub hits: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Match,
    Unless,
    Near,
    /// A name on an org's staff list; `Use::rule` holds the org's index.
    Staff,
    /// A praise phrase for an org's staff check; `Use::rule` is the org index.
    Praise,
    /// A literal that starts every match of a `regex` pattern; `Use::rule`
    /// is the pattern's index in `norm_regexes`.
    Gate,
    /// A verb of saying from `reported_speech.cues` (`Use::rule` unused).
    Cue,
}

/// One hit of a pattern of a rule in a post.
#[derive(Debug, Clone, Copy)]
struct Event {
    rule: u32,
    role: Role,
    /// The token (for rules with `near`) or byte offset of the hit: it
    /// tells hits apart for `max_hits`.
    pos: usize,
    /// Byte range in the canonical text, which an `unless` hit must cover
    /// to cancel a match (raw-text hits, which `unless` never applies to,
    /// have an empty range).
    span: (u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct Use {
    rule: u32,
    role: Role,
}

#[derive(Debug)]
struct CompiledRule {
    id: String,
    categories: Vec<Category>,
    severity: Severity,
    score: f32,
    max_hits: usize,
    validate: Option<Validator>,
    needs_near: bool,
    /// Whether the rule has `unless` phrases, whose hits cancel the
    /// matches they cover.
    has_unless: bool,
    near_window: usize,
    allow: rustc_hash::FxHashSet<String>,
}

#[derive(Debug)]
struct OrgEntry {
    /// Index used by `Role::Staff` and `Role::Praise` uses.
    index: u32,
    config: crate::config::OrgConfig,
}

/// The compiled classifier. Cheap to share across threads (`Send + Sync`).
#[derive(Debug)]
pub struct Classifier {
    rules: Vec<CompiledRule>,
    lexicon: Lexicon,
    phrases: phrases::PhraseMatcher,
    /// The matcher's keys, for holding it to a byte-level scan in tests.
    #[cfg(test)]
    phrase_keys: Vec<String>,
    /// Per phrase key: whether it is a prefix pattern, and who uses it.
    phrase_uses: Vec<(bool, Vec<Use>)>,
    /// Per phrase key: whether a rule that uses it takes `near`, so its hits
    /// need token positions.
    phrase_near: Vec<bool>,
    /// Phrases from rules and orgs (the trie also holds regex gates).
    phrase_total: usize,
    /// Both sets serve `explain`; `classify` runs the single regexes that
    /// the gates let through.
    norm_set: RegexSet,
    norm_rules: Vec<u32>,
    norm_regexes: Vec<Regex>,
    /// `regex` patterns (of the first [`MAX_GATED`]) that run on every
    /// post because no literal starts all their matches.
    norm_always: u128,
    raw_set: RegexSet,
    raw_rules: Vec<u32>,
    raw_regexes: Vec<Regex>,
    raw_gate: gate::ByteGate,
    thresholds: HashMap<Category, f32>,
    default_actions: HashMap<Category, Vec<Action>>,
    orgs: HashMap<String, OrgEntry>,
    repetition: RepetitionConfig,
    /// Categories dropped when they fire only on quoted speech (with a
    /// verb of saying, a `Role::Cue` phrase, outside the quotes).
    reported_categories: Vec<Category>,
}

/// Most `regex` patterns the phrase-literal gates track (a bit each in a
/// `u128`); any beyond always run, and `signpost check` warns of them.
pub const MAX_GATED: usize = 128;

/// Categories whose words people disguise with masks (`f*ck`, `n****r`,
/// `k*ll`); a masked token resolves only to one of their words.
const MASKED: [Category; 8] = [
    Category::Abuse,
    Category::Threat,
    Category::Hate,
    Category::Profanity,
    Category::Sexual,
    Category::Crisis,
    Category::Extremism,
    Category::Illegal,
];

/// The id of phrase `key` in the trie's key list, added with `prefix` if
/// new, after recording that `u` uses it.
fn use_key(
    ids: &mut HashMap<String, usize>,
    keys: &mut Vec<String>,
    uses: &mut Vec<(bool, Vec<Use>)>,
    key: String,
    prefix: bool,
    u: Use,
) -> usize {
    let id = *ids.entry(key.clone()).or_insert_with(|| {
        keys.push(key);
        uses.push((prefix, Vec::new()));
        keys.len() - 1
    });
    uses[id].1.push(u);
    id
}

/// A phrase pattern normalised into key form: ` tok tok ` (exact) or
/// ` tok tok` (prefix, from a trailing `*`).
fn phrase_key(phrase: &str) -> Option<(String, bool)> {
    let (body, prefix) = match phrase.trim().strip_suffix('*') {
        Some(b) => (b, true),
        None => (phrase.trim(), false),
    };
    let n = normalize(body, &Lexicon::default());
    if n.tokens == 0 {
        return None;
    }
    let mut key = n.text;
    if prefix {
        key.pop();
    }
    Some((key, prefix))
}

impl Classifier {
    /// Compile the whole configuration. Fails on the first bad pattern, naming
    /// the file, the rule id and the error.
    pub fn new(config: &Config) -> Result<Classifier, ConfigError> {
        let limits = &config.classifier.limits;
        let mut rules = Vec::with_capacity(config.rules.len());
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut phrase_list: Vec<String> = Vec::new();
        let mut phrase_uses: Vec<(bool, Vec<Use>)> = Vec::new();
        let mut lexicon_words: Vec<(String, bool)> = Vec::new();
        let mut norm_patterns = Vec::new();
        let mut norm_rules = Vec::new();
        let mut raw_patterns = Vec::new();
        let mut raw_rules = Vec::new();

        for (idx, loaded) in config.rules.iter().enumerate() {
            let d = &loaded.def;
            let rule_no = idx as u32;
            // Whether people mask this rule's words to get past a filter
            // (`f*ck`, `c**t`): only such words resolve masked tokens.
            let maskable = std::iter::once(&d.category)
                .chain(&d.also)
                .any(|c| MASKED.contains(c));
            let mut add =
                |phrase: &str, role: Role, loaded: &LoadedRule| -> Result<(), ConfigError> {
                    if phrase.len() > limits.max_pattern_len {
                        return Err(loaded.error(format!(
                            "phrase is {} bytes, over the limit of {} (limits.max_pattern_len)",
                            phrase.len(),
                            limits.max_pattern_len
                        )));
                    }
                    let Some((key, prefix)) = phrase_key(phrase) else {
                        return Err(loaded.error(format!(
                            "phrase `{phrase}` has no letters or digits left after normalisation"
                        )));
                    };
                    let parts = phrase.split_whitespace().count();
                    if key.split(' ').filter(|t| !t.is_empty()).count() < parts {
                        return Err(loaded.error(format!(
                            "phrase `{phrase}` loses a part in normalisation (it becomes `{}`); \
                             symbols such as $ £ % + are not matched by phrases, use `raw_regex`",
                            key.trim()
                        )));
                    }
                    if role == Role::Match && key.trim().split(' ').count() == 1 {
                        let word = key.trim();
                        let word = if prefix {
                            format!("{word}*")
                        } else {
                            word.to_string()
                        };
                        lexicon_words.push((word, maskable));
                    }
                    let u = Use {
                        rule: rule_no,
                        role,
                    };
                    use_key(
                        &mut keys,
                        &mut phrase_list,
                        &mut phrase_uses,
                        key,
                        prefix,
                        u,
                    );
                    Ok(())
                };
            for w in &d.words {
                add(w, Role::Match, loaded)?;
            }
            for w in config.wordlist_entries(&d.wordlists) {
                add(w, Role::Match, loaded)?;
            }
            let mut has_unless = false;
            for w in d
                .unless
                .iter()
                .map(String::as_str)
                .chain(config.wordlist_entries(&d.unless_wordlists))
            {
                add(w, Role::Unless, loaded)?;
                has_unless = true;
            }
            if has_unless && !d.raw_regex.is_empty() {
                return Err(loaded.error(
                    "`unless` cancels matches in the normalised text, so it cannot apply to \
                     `raw_regex`: put the raw patterns in a rule of their own",
                ));
            }
            let mut has_near = false;
            for w in d
                .near
                .iter()
                .map(String::as_str)
                .chain(config.wordlist_entries(&d.near_wordlists))
            {
                add(w, Role::Near, loaded)?;
                has_near = true;
            }
            for r in &d.regex {
                check_regex(r, limits.max_pattern_len, limits.regex_size_limit, loaded)?;
                norm_patterns.push(ascii_boundaries(r));
                norm_rules.push(rule_no);
            }
            for r in &d.raw_regex {
                check_regex(r, limits.max_pattern_len, limits.regex_size_limit, loaded)?;
                raw_patterns.push(ascii_boundaries(r));
                raw_rules.push(rule_no);
            }
            if d.words.is_empty()
                && d.wordlists.is_empty()
                && d.regex.is_empty()
                && d.raw_regex.is_empty()
            {
                return Err(loaded
                    .error("has no patterns: give `words`, `wordlists`, `regex` or `raw_regex`"));
            }
            if d.validate.is_some() && d.raw_regex.is_empty() {
                return Err(loaded
                    .error("`validate` applies to `raw_regex` matches, but the rule has none"));
            }
            if !(d.score.is_finite() && d.score > 0.0) {
                return Err(loaded.error("`score` must be a positive number"));
            }
            let mut categories = vec![d.category];
            categories.extend(d.also.iter().copied().filter(|c| *c != d.category));
            rules.push(CompiledRule {
                id: d.id.get_ref().clone(),
                categories,
                severity: d.severity,
                score: d.score,
                max_hits: d.max_hits.max(1),
                validate: d.validate,
                needs_near: has_near,
                has_unless,
                near_window: d.near_window,
                allow: d
                    .allow
                    .iter()
                    .map(|a| normalize(a, &Lexicon::default()).text.trim().to_string())
                    .collect(),
            });
        }
        if phrase_list.len() > limits.max_phrases {
            return Err(ConfigError::new(
                config.dir.join("rules"),
                format!(
                    "{} phrases in all, over the limit of {} (limits.max_phrases)",
                    phrase_list.len(),
                    limits.max_phrases
                ),
            ));
        }

        // Each org's staff names and praise phrases join the same trie,
        // tagged with the org, so a post is looked up once.
        let mut orgs = HashMap::new();
        for (index, (id, org)) in config.orgs.iter().enumerate() {
            let index = index as u32;
            let staff = org.staff.iter().flat_map(|name| staff_variants(name));
            let praise = config
                .wordlist_entries(&org.staff_praise_wordlists)
                .filter_map(|p| phrase_key(p).map(|(k, _)| k));
            for (key, role) in staff
                .map(|k| (k, Role::Staff))
                .chain(praise.map(|k| (k, Role::Praise)))
            {
                let u = Use { rule: index, role };
                use_key(&mut keys, &mut phrase_list, &mut phrase_uses, key, false, u);
            }
            orgs.insert(
                id.clone(),
                OrgEntry {
                    index,
                    config: org.clone(),
                },
            );
        }

        // Literals that start every match of a `regex` pattern join the
        // trie too: a pattern runs only on posts where one was seen.
        let phrase_total = phrase_uses.len();
        let mut norm_always = 0u128;
        let mut gate_keys: Vec<(usize, usize)> = Vec::new();
        for (i, p) in norm_patterns.iter().enumerate().take(MAX_GATED) {
            let Some(literals) = gate::required_literals(p, 3) else {
                norm_always |= 1 << i;
                continue;
            };
            for key in literals {
                let u = Use {
                    rule: i as u32,
                    role: Role::Gate,
                };
                let pid = use_key(&mut keys, &mut phrase_list, &mut phrase_uses, key, false, u);
                gate_keys.push((i, pid));
            }
        }

        // Verbs of saying for `reported_speech` ride in the trie too.
        let reported = &config.classifier.reported_speech;
        if reported.categories.contains(&Category::Crisis) {
            return Err(ConfigError::new(
                config.dir.join("classifier.toml"),
                "reported_speech.categories lists `crisis`: a quoted \"I want to die\" is still \
                 a crisis, so it can never be dropped; remove it",
            ));
        }
        for cue in &reported.cues {
            let Some((key, false)) = phrase_key(cue) else {
                return Err(ConfigError::new(
                    config.dir.join("classifier.toml"),
                    format!(
                        "reported_speech.cues: `{cue}` must be words (no trailing `*`) \
                         that survive normalisation"
                    ),
                ));
            };
            let u = Use {
                rule: 0,
                role: Role::Cue,
            };
            use_key(&mut keys, &mut phrase_list, &mut phrase_uses, key, false, u);
        }

        // Phrases are matched token by token. A gate literal the matcher
        // cannot take (one that may start inside a word) leaves its regex
        // running on every post. Rule phrases that normalise away are
        // rejected above and staff names by the org check, so every other
        // key has the canonical form.
        let (phrases, supported) = phrases::PhraseMatcher::new(&phrase_list);
        for (i, pid) in gate_keys {
            if !supported[pid] {
                norm_always |= 1 << i;
            }
        }

        let set =
            |patterns: &[String], rule_of: &[u32]| -> Result<(RegexSet, Vec<Regex>), ConfigError> {
                let set = RegexSetBuilder::new(patterns)
                    .size_limit(limits.regex_size_limit)
                    .dfa_size_limit(limits.regex_size_limit)
                    .build()
                    .map_err(|e| {
                        // Find the culprit for a precise message.
                        let bad = patterns
                            .iter()
                            .position(|p| Regex::new(p).is_err())
                            .unwrap_or(0);
                        config.rules[rule_of.get(bad).copied().unwrap_or(0) as usize]
                            .error(format!("regex set does not compile: {e}"))
                    })?;
                let singles = patterns
                    .iter()
                    .map(|p| {
                        RegexBuilder::new(p)
                            .size_limit(limits.regex_size_limit)
                            .build()
                            .expect("checked above")
                    })
                    .collect();
                Ok((set, singles))
            };
        let (norm_set, norm_regexes) = set(&norm_patterns, &norm_rules)?;
        let (raw_set, raw_regexes) = set(&raw_patterns, &raw_rules)?;
        let raw_gate = gate::ByteGate::new(&raw_patterns);

        let mut thresholds = HashMap::new();
        let mut default_actions = HashMap::new();
        for (cat, s) in &config.classifier.categories {
            thresholds.insert(*cat, s.threshold);
            default_actions.insert(*cat, s.actions.clone());
        }

        let lexicon = Lexicon::with_maskable(lexicon_words);

        let phrase_near = phrase_uses
            .iter()
            .map(|(_, uses)| {
                uses.iter().any(|u| {
                    matches!(u.role, Role::Match | Role::Unless | Role::Near)
                        && rules[u.rule as usize].needs_near
                })
            })
            .collect();

        Ok(Classifier {
            rules,
            lexicon,
            phrases,
            #[cfg(test)]
            phrase_keys: phrase_list,
            phrase_uses,
            phrase_near,
            phrase_total,
            norm_set,
            norm_rules,
            norm_regexes,
            norm_always,
            raw_set,
            raw_rules,
            raw_regexes,
            raw_gate,
            thresholds,
            default_actions,
            orgs,
            repetition: config.classifier.repetition.clone(),
            reported_categories: reported.categories.clone(),
        })
    }

    /// Number of compiled rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Number of distinct phrases in the trie.
    pub fn phrase_count(&self) -> usize {
        self.phrase_total
    }

    /// `regex` patterns: how many there are, and how many of them run on
    /// every post, either because no literal starts all their matches or
    /// because they come after the first [`MAX_GATED`], which the
    /// gates cannot track. `signpost check` reports both.
    pub fn regex_gating(&self) -> (usize, usize) {
        let total = self.norm_regexes.len();
        let beyond = total.saturating_sub(MAX_GATED);
        (total, self.norm_always.count_ones() as usize + beyond)
    }

    /// Normalise text the way rules see it.
    pub fn normalize(&self, text: &str) -> Normalized {
        normalize(text, &self.lexicon)
    }

    /// What the rules see in `text`: the normalised form and every phrase
    /// and pattern hit with the rules that use it, before `unless`, `near`
    /// and thresholds are applied.
    pub fn explain(&self, text: &str) -> Explanation {
        let norm = self.normalize(text);
        let mut hits = Vec::new();
        let mut found = Vec::new();
        self.phrases
            .find(&norm.text, &mut phrases::Scratch::default(), |m| {
                found.push(m)
            });
        // In text order: by end, the longer of two that end together first.
        found.sort_by_key(|m| (m.end, m.start));
        for m in found {
            let (_, uses) = &self.phrase_uses[m.pattern as usize];
            for u in uses {
                let who = match u.role {
                    Role::Gate | Role::Cue => continue,
                    Role::Staff | Role::Praise => self
                        .orgs
                        .iter()
                        .find(|(_, e)| e.index == u.rule)
                        .map_or("", |(id, _)| id.as_str()),
                    _ => self.rules[u.rule as usize].id.as_str(),
                };
                hits.push(format!(
                    "{:?} `{}` {}",
                    u.role,
                    norm.text[m.start..m.end].trim(),
                    who
                ));
            }
        }
        for i in self.norm_set.matches(&norm.text).iter() {
            hits.push(format!(
                "Regex {}",
                self.rules[self.norm_rules[i] as usize].id
            ));
        }
        for i in self.raw_set.matches(text).iter() {
            hits.push(format!(
                "RawRegex {}",
                self.rules[self.raw_rules[i] as usize].id
            ));
        }
        Explanation {
            normalized: norm.text,
            hits,
        }
    }

    /// Classify one post.
    pub fn classify(&self, input: &Input<'_>) -> Classification {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.classify_reported(input, &mut scratch),
            // Re-entered on this thread (it never is today): use fresh memory.
            Err(_) => self.classify_reported(input, &mut Scratch::default()),
        })
    }

    /// [`Self::classify_with`], then drop the `reported_speech` categories
    /// that fire only inside quotation marks when the rest of the post has a
    /// verb of saying: "a man called the receptionist a 'stupid cow'"
    /// reports abuse, it does not make it. Posts with no quotation, or with
    /// none of those categories, are classified once.
    fn classify_reported(&self, input: &Input<'_>, scratch: &mut Scratch) -> Classification {
        let full = self.classify_with(input, scratch, &[]);
        if !full
            .categories
            .iter()
            .any(|c| self.reported_categories.contains(c))
        {
            return full;
        }
        // A cue outside the quotes is in the whole post too: most posts
        // stop here, on what the phrase lookup already saw.
        if !scratch.cue {
            return full;
        }
        let Some(rest) = quotes::unquoted(input.text) else {
            return full;
        };
        let outside = self.classify_with(
            &Input {
                text: &rest,
                ..*input
            },
            scratch,
            &[],
        );
        if !scratch.cue {
            return full;
        }
        let dropped: Vec<Category> = full
            .categories
            .iter()
            .copied()
            .filter(|c| self.reported_categories.contains(c) && !outside.has(*c))
            .collect();
        if dropped.is_empty() {
            return full;
        }
        // Once more, without them (a few posts in a thousand).
        self.classify_with(input, scratch, &dropped)
    }

    /// Classify one post, leaving out the categories in `drop` (their rules
    /// too, and their share of the severity and the actions).
    fn classify_with(
        &self,
        input: &Input<'_>,
        scratch: &mut Scratch,
        drop: &[Category],
    ) -> Classification {
        let Scratch {
            buf,
            norm,
            phrase,
            events,
            token_starts,
            matches,
            scores,
            fired,
            matched,
            personal_spans,
            cue,
        } = scratch;
        normalize_into(input.text, &self.lexicon, buf, norm);
        let norm = &*norm;
        let canon = norm.text.as_str();
        events.clear();
        token_starts.clear();
        scores.clear();
        fired.clear();
        personal_spans.clear();

        // Events: (rule, role, token position of the hit).
        let token_at = |starts: &mut Vec<usize>, byte: usize| -> usize {
            if starts.is_empty() {
                starts.extend(
                    canon
                        .bytes()
                        .enumerate()
                        .filter(|(_, b)| *b == b' ')
                        .map(|(i, _)| i),
                );
            }
            starts.partition_point(|&sp| sp < byte).saturating_sub(1)
        };

        let org_entry = input.org.and_then(|o| self.orgs.get(o));
        let org_index = org_entry.map(|e| e.index);
        let (mut staff_hit, mut praise_hit, mut cue_hit) = (false, false, false);
        let mut norm_gate = self.norm_always;
        self.phrases.find(canon, phrase, |m| {
            let (prefix, uses) = &self.phrase_uses[m.pattern as usize];
            // A prefix pattern's allow-list is checked on the whole word.
            let whole = prefix.then(|| &canon[m.last_token.0..m.last_token.1]);
            // Token positions matter only to `near`; elsewhere the byte
            // offset serves to tell hits apart.
            let pos = if self.phrase_near[m.pattern as usize] {
                m.token
            } else {
                m.start
            };
            for u in uses {
                match u.role {
                    Role::Staff => {
                        staff_hit |= Some(u.rule) == org_index;
                        continue;
                    }
                    Role::Praise => {
                        praise_hit |= Some(u.rule) == org_index;
                        continue;
                    }
                    Role::Gate => {
                        norm_gate |= 1 << u.rule;
                        continue;
                    }
                    Role::Cue => {
                        cue_hit |= !said_by_poster(canon, m.start);
                        continue;
                    }
                    _ => {}
                }
                if u.role == Role::Match {
                    if let Some(w) = whole {
                        if self.rules[u.rule as usize].allow.contains(w) {
                            continue;
                        }
                    }
                }
                events.push(Event {
                    rule: u.rule,
                    role: u.role,
                    pos,
                    span: (m.start as u32, m.end as u32),
                });
            }
        });

        *cue = cue_hit;

        // The regexes the gates let through, in order (a few per post),
        // then any past the first `MAX_GATED`.
        let let_through = std::iter::successors(Some(norm_gate), |g| Some(g & g.wrapping_sub(1)))
            .take_while(|g| *g != 0)
            .map(|g| g.trailing_zeros() as usize)
            .filter(|&i| i < self.norm_regexes.len())
            .chain(MAX_GATED..self.norm_regexes.len());
        for i in let_through {
            let re = &self.norm_regexes[i];
            let rule = self.norm_rules[i];
            let compiled = &self.rules[rule as usize];
            let event = |pos, m: regex::Match<'_>| Event {
                rule,
                role: Role::Match,
                pos,
                span: (m.start() as u32, m.end() as u32),
            };
            if compiled.has_unless {
                // Each match may or may not lie inside an `unless` phrase.
                for m in re.find_iter(canon) {
                    let pos = if compiled.needs_near {
                        token_at(token_starts, m.start() + 1)
                    } else {
                        0
                    };
                    events.push(event(pos, m));
                }
            } else if compiled.needs_near {
                if let Some(m) = re.find(canon) {
                    // The token the match starts in, or whose space it
                    // starts at: the position a phrase hit reports too.
                    let pos = token_at(token_starts, m.start() + 1);
                    events.push(event(pos, m));
                }
            } else if re.is_match(canon) {
                events.push(Event {
                    rule,
                    role: Role::Match,
                    pos: 0,
                    span: (0, 0),
                });
            }
        }

        // Few posts match any raw regex (1 in 23 on the dev sets) and the set
        // tells that in one pass, so the single regexes, which give the
        // positions for validators and masking, run only on those.
        if !self.raw_regexes.is_empty() && self.raw_set.is_match(input.text) {
            let raw_gate = self.raw_gate.candidates(input.text);
            for (i, re) in self.raw_regexes.iter().enumerate() {
                if i < gate::MAX_GATED && raw_gate & (1 << i) == 0 {
                    continue;
                }
                let rule_no = self.raw_rules[i];
                let rule = &self.rules[rule_no as usize];
                for m in re.find_iter(input.text) {
                    let ok = match rule.validate {
                        None => true,
                        Some(Validator::NhsNumber) => pii::is_valid_nhs_number(m.as_str()),
                        Some(Validator::UkPhone) => pii::is_uk_phone(m.as_str()),
                        Some(Validator::DateOfBirth) => m
                            .as_str()
                            .split(|c: char| !(c.is_ascii_digit() || "/-.".contains(c)))
                            .any(|part| {
                                !part.is_empty()
                                    && pii::is_date_of_birth(
                                        part.trim_matches(|c: char| !c.is_ascii_digit()),
                                    )
                            }),
                    };
                    if ok {
                        // Raw matches carry their byte offset: it makes hits
                        // distinct for `max_hits`; raw rules take no `near`.
                        events.push(Event {
                            rule: rule_no,
                            role: Role::Match,
                            pos: m.start(),
                            span: (0, 0),
                        });
                        if rule.categories.contains(&Category::PersonalInfo) {
                            personal_spans.push(m.range());
                        }
                    }
                }
            }
        }

        // Decide which rules fire. Most events are `near` targets ("you",
        // "he is") of rules with no match in the post: drop them first.
        matched.clear();
        matched.resize(self.rules.len().div_ceil(64), 0);
        for e in events.iter().filter(|e| e.role == Role::Match) {
            matched[e.rule as usize / 64] |= 1 << (e.rule % 64);
        }
        events.retain(|e| matched[e.rule as usize / 64] & (1 << (e.rule % 64)) != 0);
        events.sort_unstable_by_key(|e| e.rule);
        let mut i = 0;
        while i < events.len() {
            let rule_no = events[i].rule;
            let mut j = i;
            while j < events.len() && events[j].rule == rule_no {
                j += 1;
            }
            let group = &events[i..j];
            i = j;
            let rule = &self.rules[rule_no as usize];
            // An `unless` phrase cancels the matches it covers (`suicide
            // prevention` the `suicide` in it), not the rest of the post.
            let cancelled = |e: &Event| {
                group
                    .iter()
                    .any(|u| u.role == Role::Unless && u.span.0 <= e.span.0 && e.span.1 <= u.span.1)
            };
            matches.clear();
            matches.extend(
                group
                    .iter()
                    .filter(|e| e.role == Role::Match && !cancelled(e))
                    .map(|e| e.pos),
            );
            if matches.is_empty() {
                continue;
            }
            if rule.needs_near {
                let near_ok = group.iter().filter(|e| e.role == Role::Near).any(|n| {
                    matches
                        .iter()
                        .any(|&m| m.abs_diff(n.pos) <= rule.near_window)
                });
                if !near_ok {
                    continue;
                }
            }
            fired.push(rule_no);
            let hits = if rule.max_hits > 1 {
                matches.sort_unstable();
                matches.dedup();
                matches.len().min(rule.max_hits)
            } else {
                1
            };
            let gained = rule.score * hits as f32;
            for &c in &rule.categories {
                match scores.iter_mut().find(|s| s.0 == c) {
                    Some(s) => {
                        s.1 += gained;
                        s.2 = s.2.max(rule.severity);
                    }
                    None => scores.push((c, gained, rule.severity)),
                }
            }
        }

        let mut out = Classification::default();
        let mut extra_rules: Vec<&str> = Vec::new();

        // Staff named, unless the post is praise.
        if staff_hit && !praise_hit {
            scores.push((Category::StaffNamed, f32::INFINITY, Severity::Medium));
            extra_rules.push("staff_named.org_staff_list");
        }

        // Repetition: near-identical posts by the same author within the window.
        if let Some(at) = input.at {
            let rep = &self.repetition;
            if !input.recent.is_empty() && norm.tokens >= rep.min_tokens {
                let n = repeat::count_repeats(
                    canon,
                    at,
                    input.recent,
                    Duration::minutes(rep.window_minutes),
                    rep.similarity,
                    |t| self.normalize(t).text,
                );
                if n >= rep.min_repeats {
                    scores.push((Category::Spam, f32::INFINITY, Severity::Medium));
                    extra_rules.push("spam.repetition");
                }
            }
        }

        for (cat, score, sev) in scores.iter() {
            let threshold = self.thresholds.get(cat).copied().unwrap_or(1.0);
            if *score + 1e-6 >= threshold && !out.categories.contains(cat) && !drop.contains(cat) {
                out.categories.push(*cat);
                out.severity = out.severity.max(*sev);
            }
        }
        out.categories.sort();
        for &r in fired.iter() {
            let rule = &self.rules[r as usize];
            if rule.categories.iter().any(|c| out.categories.contains(c)) {
                out.rules.push(rule.id.clone());
            }
        }
        out.rules.extend(extra_rules.into_iter().map(String::from));
        if out.categories.contains(&Category::PersonalInfo) {
            out.personal_spans = std::mem::take(personal_spans);
        }
        out.suggested_actions = match org_entry {
            Some(entry) => entry.config.actions_for(&out.categories),
            None => {
                let mut a: Vec<Action> = out
                    .categories
                    .iter()
                    .filter_map(|c| self.default_actions.get(c))
                    .flatten()
                    .copied()
                    .collect();
                a.sort();
                a.dedup();
                a
            }
        };
        out
    }
}

/// Whether the phrase whose space is at `at` in `canon` follows the
/// poster themselves: "I told her 'you useless cow'" is the poster's own
/// abuse, not a report of someone else's.
fn said_by_poster(canon: &str, at: usize) -> bool {
    let before = canon[..at].rsplit(' ').next().unwrap_or("");
    matches!(
        before,
        "i" | "we" | "ive" | "i've" | "id" | "i'd" | "ill" | "i'll" | "im" | "i'm"
    )
}

/// Ways a staff member's name is written: "Jane Smith", "Nurse Smith", "Dr Smith".
fn staff_variants(name: &str) -> Vec<String> {
    let full = normalize(name, &Lexicon::default());
    let mut out = vec![full.text.clone()];
    if let Some(last) = full.tokens().last() {
        for title in [
            "dr",
            "doctor",
            "nurse",
            "sister",
            "paramedic",
            "mr",
            "mrs",
            "ms",
            "miss",
        ] {
            out.push(format!(" {title} {last} "));
        }
    }
    out
}

fn check_regex(
    pattern: &str,
    max_len: usize,
    size_limit: usize,
    rule: &LoadedRule,
) -> Result<(), ConfigError> {
    if pattern.len() > max_len {
        return Err(rule.error(format!(
            "regex is {} bytes, over the limit of {max_len} (limits.max_pattern_len)",
            pattern.len()
        )));
    }
    RegexBuilder::new(pattern)
        .size_limit(size_limit)
        .build()
        .map(|_| ())
        .map_err(|e| rule.error(format!("bad regex `{pattern}`: {e}")))
}

/// Rule regexes use ASCII word boundaries: `\b` becomes `(?-u:\b)`, which
/// keeps every pattern on the fast DFA engines (a Unicode `\b` forces the
/// slow NFA simulation on non-ASCII text). Letters beyond ASCII still match.
fn ascii_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('b') => out.push_str("(?-u:\\b)"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Classifier {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = Config::load(&dir.join("config")).expect("shipped config");
        Classifier::new(&config).expect("shipped rules")
    }

    /// Posts that exercise the rules: the corpora's cases and a few more.
    fn sample_texts() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts: Vec<String> = [
            "I'm going to end it all tonight",
            "thinking about ending my life",
            "took all my tablets",
            "i dont want to be alive",
            "I can't cope any more",
            "waited 14 hours in A&E",
            "a 6 hour wait",
            "been waiting for over three months",
            "all muslims are scum",
            "women belong in the kitchen",
            "immigrants are a plague",
            "i'll come round and kill you",
            "he should be shot",
            "should i go to a&e? is it normal",
            "email jo@nhs.net or JO.BLOGGS@NHS.UK",
            "call 07700 900123 or +44 (0)20 7946 0958",
            "NHS number 943 476 5919",
            "I live at SW1A 1AA, 12 Baker Street",
            "dob: 12/03/1985, born on 1.2.2001",
            "visit www.example.com or https://x.io/a",
            "FREE entry!!! CLICK now, WIN big",
            "£1000 cash, 50% off, 18+ only, 10p per min",
            "txt CLAIM to 80808, call 09061701461",
            "youtu.be/abc and bit.ly/x",
            "check out mysite.com",
            "ｆｒｅｅ ＷＩＮ ０７７００ ９００１２３ café",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for f in ["corpus_evasion.toml", "corpus_policy.toml"] {
            let text = std::fs::read_to_string(dir.join("tests/data").join(f)).expect("corpus");
            let v: toml::Value = toml::from_str(&text).expect("corpus parses");
            for case in v["case"].as_array().expect("cases") {
                texts.push(case["text"].as_str().expect("text").to_string());
            }
        }
        texts
    }

    /// The gates may only skip regexes that cannot match: every pattern the
    /// full `RegexSet`s find must be let through.
    #[test]
    fn gates_never_hide_a_match() {
        let c = shipped();
        let texts = sample_texts();
        let mut seen = 0;
        for t in &texts {
            let canon = c.normalize(t).text;
            let mut gate = c.norm_always;
            c.phrases
                .find(&canon, &mut phrases::Scratch::default(), |m| {
                    for u in &c.phrase_uses[m.pattern as usize].1 {
                        if u.role == Role::Gate {
                            gate |= 1 << u.rule;
                        }
                    }
                });
            for i in c.norm_set.matches(&canon).iter() {
                seen += 1;
                assert!(i >= MAX_GATED || gate & (1 << i) != 0, "regex {i} on {t:?}");
            }
            let raw = c.raw_gate.candidates(t);
            for i in c.raw_set.matches(t).iter() {
                seen += 1;
                assert!(
                    i >= gate::MAX_GATED || raw & (1 << i) != 0,
                    "raw_regex {i} on {t:?}"
                );
            }
        }
        assert!(seen > 20, "the texts exercise the regexes ({seen} matches)");
    }

    /// The token-level phrase matcher finds exactly what a byte-level
    /// Aho-Corasick scan of the same keys finds, on the sample posts and,
    /// when `SIGNPOST_EVAL_DIR` names them, on every dev-set post.
    #[test]
    fn phrase_matcher_agrees_with_a_byte_scan() {
        let c = shipped();
        let (_, ok) = phrases::PhraseMatcher::new(&c.phrase_keys);
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(&c.phrase_keys)
            .expect("keys compile");
        let mut texts = sample_texts();
        match std::env::var_os("SIGNPOST_EVAL_DIR") {
            Some(d) => {
                for e in std::fs::read_dir(&d).expect("eval dir").flatten() {
                    if e.path().extension().is_none_or(|x| x != "jsonl") {
                        continue;
                    }
                    let body = std::fs::read_to_string(e.path()).expect("eval file");
                    for line in body.lines() {
                        let v: serde_json::Value = serde_json::from_str(line).expect("jsonl");
                        texts.push(v["text"].as_str().unwrap_or_default().to_string());
                    }
                }
            }
            None => eprintln!("SIGNPOST_EVAL_DIR unset: skipped the dev sets"),
        }
        let mut scratch = phrases::Scratch::default();
        let mut matched = 0;
        for t in &texts {
            let canon = c.normalize(t).text;
            let mut got = Vec::new();
            c.phrases.find(&canon, &mut scratch, |m| {
                got.push((m.pattern, m.start, m.end))
            });
            got.sort_unstable();
            let mut want: Vec<_> = ac
                .find_overlapping_iter(&canon)
                .filter(|m| ok[m.pattern().as_usize()])
                .map(|m| (m.pattern().as_u32(), m.start(), m.end()))
                .collect();
            want.sort_unstable();
            assert_eq!(got, want, "on {canon:?}");
            matched += got.len();
        }
        assert!(matched > 100, "the posts hit phrases ({matched} hits)");
    }

    #[test]
    fn word_boundaries_become_ascii() {
        assert_eq!(ascii_boundaries(r"\b\d{3}\b"), r"(?-u:\b)\d{3}(?-u:\b)");
        assert_eq!(ascii_boundaries(r"a\\b"), r"a\\b");
        assert_eq!(ascii_boundaries(r"\B"), r"\B");
    }
}
