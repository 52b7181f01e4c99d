//! The rule file and classifier settings formats.

use crate::category::{Action, Category, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// `config/rules/*.toml`: a list of `[[rule]]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub rule: Vec<RuleDef>,
}

/// One rule. A rule *matches* when any of its patterns is found; it *fires*
/// when it has a match that no `unless` phrase covers, and (if `near` is set)
/// one of the `near` phrases is within `near_window` tokens of such a match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Stable id, e.g. `abuse.insult_at_person`.
    pub id: Spanned<String>,
    pub category: Category,
    /// Further categories the rule also signals (e.g. spam that is advertising).
    #[serde(default)]
    pub also: Vec<Category>,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    #[serde(default)]
    pub description: String,
    /// Phrases matched as whole words after normalisation. A trailing `*`
    /// matches any word starting with the phrase's last word.
    #[serde(default)]
    pub words: Vec<String>,
    /// Word lists (names under `config/wordlists/`) whose phrases act like `words`.
    #[serde(default)]
    pub wordlists: Vec<String>,
    /// Regular expressions over the normalised text (lowercase, single spaces,
    /// a space at each end).
    #[serde(default)]
    pub regex: Vec<String>,
    /// Regular expressions over the raw text, for formats that normalisation
    /// would destroy (emails, phone numbers, URLs).
    #[serde(default)]
    pub raw_regex: Vec<String>,
    /// A named check each `raw_regex` match must pass, e.g. `nhs_number`.
    #[serde(default)]
    pub validate: Option<Validator>,
    /// Exceptions: a match inside one of these phrases does not count
    /// (`suicide prevention` cancels the `suicide` in it, but not a
    /// `suicidal` elsewhere in the post). Not allowed with `raw_regex`.
    #[serde(default)]
    pub unless: Vec<String>,
    #[serde(default)]
    pub unless_wordlists: Vec<String>,
    /// Whole tokens that never count as a match for this rule's prefix patterns.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Phrases that must appear near the match: the rule's *target*.
    #[serde(default)]
    pub near: Vec<String>,
    #[serde(default)]
    pub near_wordlists: Vec<String>,
    /// How many tokens may separate the match from a `near` phrase.
    #[serde(default = "default_near_window")]
    pub near_window: usize,
    /// How much the rule adds to its categories' scores; a category fires at
    /// its threshold (1.0 unless `classifier.toml` says otherwise).
    #[serde(default = "default_score")]
    pub score: f32,
    /// How many distinct hits count towards the score (each adds `score`).
    /// 1 by default: a rule counts once however often it matches. Raise it for
    /// lists of weak signals, where several different hits mean more.
    #[serde(default = "default_max_hits")]
    pub max_hits: usize,
}

fn default_max_hits() -> usize {
    1
}

fn default_severity() -> Severity {
    Severity::Medium
}
fn default_near_window() -> usize {
    3
}
fn default_score() -> f32 {
    1.0
}

/// Checks that a raw-regex match must pass to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Ten digits whose last is the NHS modulus-11 check digit.
    NhsNumber,
    /// A UK phone number: 10 or 11 digits starting 0, or +44 and 9–10 digits.
    UkPhone,
    /// A date of birth: a real calendar date in the past, after 1900.
    DateOfBirth,
}

/// `config/classifier.toml`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    #[serde(default)]
    pub categories: BTreeMap<Category, CategorySettings>,
    #[serde(default)]
    pub repetition: RepetitionConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub reported_speech: ReportedSpeechConfig,
}

/// Abuse quoted to report or condemn it ("a man called the receptionist
/// a 'stupid cow'"): a category in `categories` that fires only on text
/// inside quotation marks is dropped when the rest of the post has one of
/// the `cues` (a verb of saying). Crisis is never in `categories`: a quoted
/// "I want to die" is still a crisis.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReportedSpeechConfig {
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Phrases, matched as whole words after normalisation.
    #[serde(default)]
    pub cues: Vec<String>,
}

/// Per-category settings that apply to every org.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySettings {
    /// Score at which the category fires.
    #[serde(default = "default_score")]
    pub threshold: f32,
    /// Suggested actions when no org is given.
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// Near-identical repeats by one author.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepetitionConfig {
    /// Earlier posts older than this are ignored.
    #[serde(default = "default_window")]
    pub window_minutes: i64,
    /// Token-set similarity (0–1) at which two posts count as the same.
    #[serde(default = "default_similarity")]
    pub similarity: f32,
    /// How many near-identical earlier posts make this one spam.
    #[serde(default = "default_min_repeats")]
    pub min_repeats: usize,
    /// Posts with fewer tokens than this are never treated as repeats
    /// ("thank you", "ok").
    #[serde(default = "default_min_tokens")]
    pub min_tokens: usize,
}

fn default_window() -> i64 {
    60
}
fn default_similarity() -> f32 {
    0.85
}
fn default_min_repeats() -> usize {
    2
}
fn default_min_tokens() -> usize {
    4
}

impl Default for RepetitionConfig {
    fn default() -> Self {
        RepetitionConfig {
            window_minutes: default_window(),
            similarity: default_similarity(),
            min_repeats: default_min_repeats(),
            min_tokens: default_min_tokens(),
        }
    }
}

/// Limits on user-supplied patterns, so a rule file cannot exhaust memory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Longest pattern accepted, in bytes.
    #[serde(default = "default_max_pattern_len")]
    pub max_pattern_len: usize,
    /// Compiled size limit for each regex set, in bytes.
    #[serde(default = "default_regex_size_limit")]
    pub regex_size_limit: usize,
    /// Most phrases accepted across all rules and word lists.
    #[serde(default = "default_max_phrases")]
    pub max_phrases: usize,
}

fn default_max_pattern_len() -> usize {
    512
}
fn default_regex_size_limit() -> usize {
    8 << 20
}
fn default_max_phrases() -> usize {
    100_000
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pattern_len: default_max_pattern_len(),
            regex_size_limit: default_regex_size_limit(),
            max_phrases: default_max_phrases(),
        }
    }
}
