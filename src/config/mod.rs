//! Loading and validating everything under the config directory.
//!
//! Layout (`config/` by default, or `--config DIR`):
//! - `classifier.toml`: category thresholds and default actions, repetition
//!   settings and pattern size limits;
//! - `rules/*.toml`: the rules, as `[[rule]]` tables;
//! - `wordlists/*.txt`: one phrase a line, `#` starts a comment;
//! - `orgs/<org>.toml`: each trust's policy mapping, staff list and hours;
//! - `calendars/<nation>.toml`: one-off bank-holiday changes;
//! - `platforms.toml`: outbound platform clients, loaded on its own by
//!   [`platforms::PlatformsConfig::load`].
//! - `server.toml`: the inbound HTTP server (read by `signpost serve` only,
//!   see [`server`]).
//!
//! Every file is parsed with `deny_unknown_fields`, and every error names the
//! file, the line and column, and what to fix. Nothing here logs file contents,
//! which may hold secrets.

pub mod discord;
mod org;
pub mod platforms;
pub mod rules;
pub mod server;

pub use org::{AccountConfig, CategoryPolicy, OrgConfig, StrikesConfig};
pub use rules::{CategorySettings, ClassifierConfig, Limits, RepetitionConfig, RuleDef, RuleFile};

use crate::hours::{Calendar, CalendarFile, Nation, Schedule};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A configuration problem, located as precisely as the source allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl ConfigError {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// An error at a byte offset of `source`.
    pub fn at(
        file: impl Into<PathBuf>,
        source: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(source, offset);
        ConfigError {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary_compat(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// Parse a TOML document into `T`, turning errors into located [`ConfigError`]s.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &Path,
    source: &str,
) -> Result<T, ConfigError> {
    toml::from_str(source).map_err(|e| {
        let message = e.message().trim().to_string();
        match e.span() {
            Some(span) => ConfigError::at(file, source, span.start, message),
            None => ConfigError::new(file, message),
        }
    })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(path, format!("cannot read file: {e}")))
}

/// Files in `dir` with the extension `ext`, sorted by name for stable order.
fn files_with_ext(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, ConfigError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ConfigError::new(dir, format!("cannot read directory: {e}")))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| ConfigError::new(dir, format!("cannot read directory: {e}")))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) == Some(ext) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// A word list: its phrases and where each came from (for error messages).
#[derive(Debug, Clone, Default)]
pub struct Wordlist {
    pub path: PathBuf,
    pub entries: Vec<(usize, String)>,
}

/// Parse a word list: one phrase a line, blank lines and `#` comments ignored.
pub fn parse_wordlist(path: &Path, source: &str) -> Wordlist {
    let entries = source
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.split_once(" #").map_or(l, |(a, _)| a).trim();
            (!l.is_empty() && !l.starts_with('#')).then(|| (i + 1, l.to_string()))
        })
        .collect();
    Wordlist {
        path: path.to_path_buf(),
        entries,
    }
}

/// The whole configuration, parsed but not yet compiled.
#[derive(Debug, Clone)]
pub struct Config {
    pub dir: PathBuf,
    pub classifier: ClassifierConfig,
    /// Rules with the file each came from and the file's text (for locating errors).
    pub rules: Vec<LoadedRule>,
    pub wordlists: BTreeMap<String, Wordlist>,
    pub orgs: BTreeMap<String, OrgConfig>,
    /// Bank-holiday calendars, by nation, with their one-off changes applied.
    pub calendars: BTreeMap<Nation, Arc<Calendar>>,
}

/// A rule and where it was defined.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub def: RuleDef,
}

impl LoadedRule {
    /// An error about this rule, located at its `id`.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            line: Some(self.line),
            column: Some(self.column),
            message: format!("rule `{}`: {}", self.def.id.get_ref(), message.into()),
        }
    }
}

impl Config {
    /// Load every file under `dir`. Fails on the first problem found.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        if !dir.is_dir() {
            return Err(ConfigError::new(
                dir,
                "config directory not found; run from the project root or pass --config DIR",
            ));
        }
        let classifier_path = dir.join("classifier.toml");
        let classifier: ClassifierConfig = if classifier_path.exists() {
            parse_toml(&classifier_path, &read(&classifier_path)?)?
        } else {
            ClassifierConfig::default()
        };

        let mut wordlists = BTreeMap::new();
        let wl_dir = dir.join("wordlists");
        if wl_dir.is_dir() {
            for path in files_with_ext(&wl_dir, "txt")? {
                let name = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                let text = read(&path)?;
                wordlists.insert(name, parse_wordlist(&path, &text));
            }
        }

        let mut rules = Vec::new();
        let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
        let rules_dir = dir.join("rules");
        if !rules_dir.is_dir() {
            return Err(ConfigError::new(&rules_dir, "rules directory not found"));
        }
        for path in files_with_ext(&rules_dir, "toml")? {
            let text = read(&path)?;
            let file: RuleFile = parse_toml(&path, &text)?;
            for def in file.rule {
                let (line, column) = line_col(&text, def.id.span().start);
                let id = def.id.get_ref().clone();
                if let Some(other) = seen.insert(id.clone(), path.clone()) {
                    return Err(ConfigError {
                        file: path.clone(),
                        line: Some(line),
                        column: Some(column),
                        message: format!(
                            "rule id `{id}` is already used in {}; rule ids must be unique",
                            other.display()
                        ),
                    });
                }
                rules.push(LoadedRule {
                    file: path.clone(),
                    line,
                    column,
                    def,
                });
            }
        }

        let mut orgs = BTreeMap::new();
        let orgs_dir = dir.join("orgs");
        if orgs_dir.is_dir() {
            for path in files_with_ext(&orgs_dir, "toml")? {
                let text = read(&path)?;
                let org: OrgConfig = parse_toml(&path, &text)?;
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                if org.id != stem {
                    return Err(ConfigError::new(
                        &path,
                        format!("org id `{}` must match the file name `{stem}.toml`", org.id),
                    ));
                }
                org.validate(&path, &text)?;
                orgs.insert(org.id.clone(), org);
            }
        }

        let mut calendars = BTreeMap::new();
        let cal_dir = dir.join("calendars");
        for nation in Nation::ALL {
            let path = cal_dir.join(format!("{}.toml", nation.slug()));
            let file: CalendarFile = if path.exists() {
                parse_toml(&path, &read(&path)?)?
            } else {
                CalendarFile::default()
            };
            let calendar =
                Calendar::new(nation, file).map_err(|e| ConfigError::new(&path, e.to_string()))?;
            calendars.insert(nation, Arc::new(calendar));
        }

        let config = Config {
            dir: dir.to_path_buf(),
            classifier,
            rules,
            wordlists,
            orgs,
            calendars,
        };
        for org in config.orgs.values() {
            config.schedule(&org.id)?;
        }
        config.check_references()?;
        Ok(config)
    }

    /// Cross-file checks: word lists that rules name must exist.
    fn check_references(&self) -> Result<(), ConfigError> {
        for rule in &self.rules {
            let d = &rule.def;
            for name in d
                .wordlists
                .iter()
                .chain(&d.unless_wordlists)
                .chain(&d.near_wordlists)
            {
                if !self.wordlists.contains_key(name) {
                    return Err(rule.error(format!(
                        "word list `{name}` not found; expected {}",
                        self.dir
                            .join("wordlists")
                            .join(format!("{name}.txt"))
                            .display()
                    )));
                }
            }
        }
        for org in self.orgs.values() {
            for name in &org.staff_praise_wordlists {
                if !self.wordlists.contains_key(name) {
                    return Err(ConfigError::new(
                        self.dir.join("orgs").join(format!("{}.toml", org.id)),
                        format!("staff_praise_wordlists: word list `{name}` not found"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The monitoring schedule of `org`.
    pub fn schedule(&self, org: &str) -> Result<Schedule, ConfigError> {
        let path = self.dir.join("orgs").join(format!("{org}.toml"));
        let cfg = self
            .orgs
            .get(org)
            .ok_or_else(|| ConfigError::new(&path, format!("unknown org `{org}`")))?;
        let calendar = self
            .calendars
            .get(&cfg.hours.calendar)
            .cloned()
            .ok_or_else(|| ConfigError::new(&path, "hours.calendar: no such calendar"))?;
        Schedule::new(&cfg.hours, calendar)
            .map_err(|e| ConfigError::new(&path, format!("hours: {e}")))
    }

    /// The phrases of the named word lists, in order.
    pub fn wordlist_entries<'a>(
        &'a self,
        names: &'a [String],
    ) -> impl Iterator<Item = &'a str> + 'a {
        names
            .iter()
            .filter_map(|n| self.wordlists.get(n))
            .flat_map(|w| w.entries.iter().map(|(_, s)| s.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let s = "a = 1\nb = x\n";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 10), (2, 5));
    }

    #[test]
    fn toml_errors_are_located() {
        let src = "[[rule]]\nid = \"x\"\ncategroy = \"abuse\"\n";
        let err = parse_toml::<RuleFile>(Path::new("rules/a.toml"), src).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(
            err.to_string()
                .starts_with("rules/a.toml:3:1: unknown field `categroy`"),
            "{err}"
        );
    }

    #[test]
    fn wordlist_comments_and_blanks_are_ignored() {
        let wl = parse_wordlist(Path::new("w.txt"), "# header\nidiot\n\nmoron  # inline\n");
        let words: Vec<_> = wl.entries.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(words, ["idiot", "moron"]);
        assert_eq!(wl.entries[1].0, 4);
    }
}
