//! Reply templates: loading, validating and filling the reviewed texts under
//! `replies/<org>/<template>.toml` that Signpost may post on a trust's behalf.
//!
//! This module owns the template files, their placeholders and the platform
//! length limits. It does not decide *when* a reply is sent; that is
//! [`crate::decide`].
//!
//! # File format
//!
//! One TOML file per template and org, e.g. `replies/las/out_of_hours.toml`:
//!
//! ```toml
//! reviewed_by = "LAS Communications Team"   # who reviewed the wording
//! reviewed_on = 2026-11-20                  # when (a TOML date)
//!
//! [text]
//! default = "Thanks for your message, {author}. ..."  # Facebook, Instagram, other
//! x = "..."          # optional; used on X, must fit 280 characters
//! mastodon = "..."   # optional; used on Mastodon, must fit 500 characters
//! ```
//!
//! The file name is the [`Template`] (`out_of_hours`, `crisis`,
//! `complaint_signpost`, `clinical_signpost`, `ask_to_dm`, `action_notice`);
//! every org in the config must have all six. Unknown fields, unknown file
//! names and unknown org directories are errors.
//!
//! # Placeholders
//!
//! `{org}`, `{author}`, `{window}`, `{complaints_url}` and `{policy_url}` may
//! appear in every template; `{next_open}` only in `out_of_hours`; `{action}`
//! and `{reason}` only in `action_notice`. Write `{{` and `}}` for literal
//! braces. Any other `{…}` is an error, located at its line and column.
//!
//! # Length limits
//!
//! Each platform's text (its own variant, or `default` when it has none) must
//! fit the platform's limit ([`Platform`] → [`limit`]: X 280, Mastodon 500,
//! Facebook/Instagram/other 2,200, Instagram's comment limit) *after* filling
//! every placeholder with its longest realistic value: the org's real name,
//! window, complaints and policy URLs, a 30-character author, the longest
//! `{next_open}` the hours module can produce ([`NEXT_OPEN_MAX`]), the longest
//! `{action}` phrase and a 100-character reason. Characters are counted as
//! Unicode scalar values and URLs are counted literally: X shortens links to
//! 23 characters, so a text that fits with its URLs counted in full also fits
//! once X shortens them. At render time authors and reasons are cut to those
//! maxima, so a rendered reply never exceeds what was validated.

use crate::category::Action;
use crate::config::{parse_toml, Config, ConfigError};
use crate::model::Platform;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Longest `{author}` used when validating, and the length authors are cut to.
pub const AUTHOR_MAX: usize = 30;
/// Longest `{reason}` used when validating, and the length reasons are cut to.
pub const REASON_MAX: usize = 100;
/// The longest text [`crate::hours::format_next_open`] produces: the longest
/// clock time, weekday and month, a two-digit day and a year.
pub const NEXT_OPEN_MAX: &str = "12:30pm on Wednesday 30 September 2026";

/// A reply Signpost can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// Out of hours: when the team is back and where to get help now.
    OutOfHours,
    /// Crisis signposting, at any hour.
    Crisis,
    /// Points a complaint to the org's complaints process.
    ComplaintSignpost,
    /// Says the org gives no clinical advice and where to get it.
    ClinicalSignpost,
    /// Asks the author to send a private message with contact details.
    AskToDm,
    /// Tells an author their post was hidden or deleted, or they were
    /// blocked, and why.
    ActionNotice,
}

impl Template {
    /// Every template, in declaration order.
    pub const ALL: &'static [Template] = &[
        Template::OutOfHours,
        Template::Crisis,
        Template::ComplaintSignpost,
        Template::ClinicalSignpost,
        Template::AskToDm,
        Template::ActionNotice,
    ];

    /// The stable name, also the file stem.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::OutOfHours => "out_of_hours",
            Template::Crisis => "crisis",
            Template::ComplaintSignpost => "complaint_signpost",
            Template::ClinicalSignpost => "clinical_signpost",
            Template::AskToDm => "ask_to_dm",
            Template::ActionNotice => "action_notice",
        }
    }

    /// Whether `p` may appear in this template.
    pub fn allows(self, p: Placeholder) -> bool {
        match p {
            Placeholder::NextOpen => self == Template::OutOfHours,
            Placeholder::Action | Placeholder::Reason => self == Template::ActionNotice,
            _ => true,
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Template {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Template::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Template::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown template `{s}`; expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// A `{name}` a template may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placeholder {
    Org,
    Author,
    Window,
    NextOpen,
    ComplaintsUrl,
    PolicyUrl,
    Action,
    Reason,
}

impl Placeholder {
    pub const ALL: &'static [Placeholder] = &[
        Placeholder::Org,
        Placeholder::Author,
        Placeholder::Window,
        Placeholder::NextOpen,
        Placeholder::ComplaintsUrl,
        Placeholder::PolicyUrl,
        Placeholder::Action,
        Placeholder::Reason,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Placeholder::Org => "org",
            Placeholder::Author => "author",
            Placeholder::Window => "window",
            Placeholder::NextOpen => "next_open",
            Placeholder::ComplaintsUrl => "complaints_url",
            Placeholder::PolicyUrl => "policy_url",
            Placeholder::Action => "action",
            Placeholder::Reason => "reason",
        }
    }

    fn parse(name: &str) -> Option<Placeholder> {
        Placeholder::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == name)
    }
}

/// Which text of a template a platform uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Default,
    X,
    Mastodon,
}

impl Variant {
    pub const ALL: &'static [Variant] = &[Variant::Default, Variant::X, Variant::Mastodon];

    pub fn for_platform(platform: Platform) -> Variant {
        match platform {
            Platform::X => Variant::X,
            Platform::Mastodon => Variant::Mastodon,
            Platform::Facebook | Platform::Instagram | Platform::Other => Variant::Default,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Default => "default",
            Variant::X => "x",
            Variant::Mastodon => "mastodon",
        }
    }

    /// The platforms' character limit for this variant.
    pub fn limit(self) -> usize {
        match self {
            Variant::Default => 2200,
            Variant::X => 280,
            Variant::Mastodon => 500,
        }
    }

    fn platform_name(self) -> &'static str {
        match self {
            Variant::Default => "Facebook/Instagram",
            Variant::X => "X",
            Variant::Mastodon => "Mastodon",
        }
    }
}

/// The character limit a reply on `platform` must fit.
pub fn limit(platform: Platform) -> usize {
    Variant::for_platform(platform).limit()
}

/// The words `{action}` is filled with for a moderation action, if the
/// action is one an author is told about.
pub fn action_phrase(action: Action) -> Option<&'static str> {
    match action {
        Action::Hide => Some("hidden your comment"),
        Action::Delete => Some("deleted your comment"),
        Action::Block => Some("blocked your account"),
        Action::Report => Some("reported your post to the platform"),
        _ => None,
    }
}

const ACTION_PHRASES: &[Action] = &[Action::Hide, Action::Delete, Action::Block, Action::Report];

/// The per-post values of a reply. Org values (`{org}`, `{window}`,
/// `{complaints_url}`, `{policy_url}`) come from the config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Vars {
    /// The author's handle or name; cut to [`AUTHOR_MAX`] characters.
    pub author: String,
    /// When the team is next monitoring, from `format_next_open`.
    pub next_open: Option<String>,
    /// What was done, e.g. from [`action_phrase`].
    pub action: Option<String>,
    /// Why; cut to [`REASON_MAX`] characters.
    pub reason: Option<String>,
}

impl Vars {
    pub fn author(author: impl Into<String>) -> Self {
        Vars {
            author: author.into(),
            ..Vars::default()
        }
    }
}

/// Why a reply could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("no replies loaded for org `{0}`")]
    UnknownOrg(String),
    #[error("template `{template}` needs a value for `{{{placeholder}}}`")]
    MissingValue {
        template: Template,
        placeholder: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(Placeholder),
}

/// One variant's text, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text {
    pieces: Vec<Piece>,
}

/// A loaded, validated template for one org.
#[derive(Debug, Clone)]
pub struct ReplyTemplate {
    pub path: PathBuf,
    pub reviewed_by: String,
    pub reviewed_on: NaiveDate,
    default: Text,
    x: Option<Text>,
    mastodon: Option<Text>,
}

impl ReplyTemplate {
    fn text(&self, variant: Variant) -> &Text {
        let own = match variant {
            Variant::Default => None,
            Variant::X => self.x.as_ref(),
            Variant::Mastodon => self.mastodon.as_ref(),
        };
        own.unwrap_or(&self.default)
    }

    /// Whether the template has its own text for `variant`.
    pub fn has_variant(&self, variant: Variant) -> bool {
        match variant {
            Variant::Default => true,
            Variant::X => self.x.is_some(),
            Variant::Mastodon => self.mastodon.is_some(),
        }
    }
}

/// The org values every template can use.
#[derive(Debug, Clone)]
struct OrgValues {
    name: String,
    window: String,
    complaints_url: String,
    policy_url: String,
}

#[derive(Debug, Clone)]
struct OrgReplies {
    values: OrgValues,
    templates: BTreeMap<Template, ReplyTemplate>,
}

/// Every org's templates, validated against the config.
#[derive(Debug, Clone)]
pub struct Replies {
    dir: PathBuf,
    orgs: BTreeMap<String, OrgReplies>,
}

/// `replies/` beside the config directory: `config/` → `replies/`,
/// `/etc/signpost/config` → `/etc/signpost/replies`.
pub fn default_dir(config_dir: &Path) -> PathBuf {
    config_dir
        .parent()
        .map_or_else(|| PathBuf::from("replies"), |p| p.join("replies"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    reviewed_by: toml::Spanned<String>,
    reviewed_on: toml::Spanned<toml::value::Datetime>,
    text: TextTable,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextTable {
    default: toml::Spanned<String>,
    #[serde(default)]
    x: Option<toml::Spanned<String>>,
    #[serde(default)]
    mastodon: Option<toml::Spanned<String>>,
}

impl Replies {
    /// Load every org's templates from `dir` (`dir/<org>/<template>.toml`)
    /// and validate them against `config`. Fails on the first problem,
    /// naming the file and, where possible, the line and column.
    pub fn load(dir: &Path, config: &Config) -> Result<Replies, ConfigError> {
        if !dir.is_dir() {
            return Err(ConfigError::new(
                dir,
                "replies directory not found; it should sit beside the config directory",
            ));
        }
        let entries = std::fs::read_dir(dir)
            .map_err(|e| ConfigError::new(dir, format!("cannot read directory: {e}")))?;
        let mut org_dirs = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| ConfigError::new(dir, format!("cannot read directory: {e}")))?;
            let path = entry.path();
            if path.is_dir() {
                org_dirs.push(path);
            }
        }
        org_dirs.sort();
        for path in &org_dirs {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !config.orgs.contains_key(name) {
                let known: Vec<&str> = config.orgs.keys().map(String::as_str).collect();
                return Err(ConfigError::new(
                    path,
                    format!(
                        "no org `{name}` in the config; reply directories must be named after an org: {}",
                        known.join(", ")
                    ),
                ));
            }
        }

        let mut orgs = BTreeMap::new();
        for (id, org) in &config.orgs {
            let org_dir = dir.join(id);
            let values = OrgValues {
                name: org.name.clone(),
                window: config.schedule(id)?.window_text(),
                complaints_url: org.complaints_url.clone(),
                policy_url: org.policy_url.clone(),
            };
            if !org_dir.is_dir() {
                return Err(ConfigError::new(
                    &org_dir,
                    format!(
                        "org `{id}` has no replies directory; add one file per template: {}",
                        Template::ALL
                            .iter()
                            .map(|t| format!("{t}.toml"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            check_no_strays(&org_dir)?;
            let mut templates = BTreeMap::new();
            for &template in Template::ALL {
                let path = org_dir.join(format!("{template}.toml"));
                if !path.is_file() {
                    return Err(ConfigError::new(
                        &path,
                        format!("missing template `{template}` for org `{id}`"),
                    ));
                }
                let source = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError::new(&path, format!("cannot read file: {e}")))?;
                let loaded = load_template(&path, &source, template, &values)?;
                templates.insert(template, loaded);
            }
            orgs.insert(id.clone(), OrgReplies { values, templates });
        }
        Ok(Replies {
            dir: dir.to_path_buf(),
            orgs,
        })
    }

    /// The directory the templates were loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The orgs with templates, sorted.
    pub fn orgs(&self) -> impl Iterator<Item = &str> {
        self.orgs.keys().map(String::as_str)
    }

    /// One org's template.
    pub fn template(&self, org: &str, template: Template) -> Option<&ReplyTemplate> {
        self.orgs.get(org).and_then(|o| o.templates.get(&template))
    }

    /// How many templates each org has, e.g. for `signpost check`.
    pub fn counts(&self) -> Vec<(&str, usize)> {
        self.orgs
            .iter()
            .map(|(id, o)| (id.as_str(), o.templates.len()))
            .collect()
    }

    /// Fill `template` for `org` on `platform` (its variant, else `default`).
    pub fn render(
        &self,
        org: &str,
        template: Template,
        platform: Platform,
        vars: &Vars,
    ) -> Result<String, RenderError> {
        let o = self
            .orgs
            .get(org)
            .ok_or_else(|| RenderError::UnknownOrg(org.to_string()))?;
        let t = o
            .templates
            .get(&template)
            .ok_or_else(|| RenderError::UnknownOrg(org.to_string()))?;
        let author = clean(&vars.author, AUTHOR_MAX);
        let reason = vars.reason.as_deref().map(|r| clean(r, REASON_MAX));
        fill(t.text(Variant::for_platform(platform)), |p| {
            let missing = || RenderError::MissingValue {
                template,
                placeholder: p.as_str(),
            };
            Ok(match p {
                Placeholder::Org => o.values.name.clone(),
                Placeholder::Author => author.clone(),
                Placeholder::Window => o.values.window.clone(),
                Placeholder::ComplaintsUrl => o.values.complaints_url.clone(),
                Placeholder::PolicyUrl => o.values.policy_url.clone(),
                Placeholder::NextOpen => vars.next_open.clone().ok_or_else(missing)?,
                Placeholder::Action => vars.action.clone().ok_or_else(missing)?,
                Placeholder::Reason => reason.clone().ok_or_else(missing)?,
            })
        })
    }
}

/// Control characters become spaces, runs of whitespace one space, and text
/// longer than `max` characters is cut to `max - 1` plus "…".
fn clean(s: &str, max: usize) -> String {
    let flat: String = s
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn fill<E>(
    text: &Text,
    mut value: impl FnMut(Placeholder) -> Result<String, E>,
) -> Result<String, E> {
    let mut out = String::new();
    for piece in &text.pieces {
        match piece {
            Piece::Text(s) => out.push_str(s),
            Piece::Var(p) => out.push_str(&value(*p)?),
        }
    }
    Ok(out)
}

/// Any file in an org's directory that is not a known template is an error,
/// so a misspelt file name cannot silently leave the real one unused.
fn check_no_strays(org_dir: &Path) -> Result<(), ConfigError> {
    let entries = std::fs::read_dir(org_dir)
        .map_err(|e| ConfigError::new(org_dir, format!("cannot read directory: {e}")))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| ConfigError::new(org_dir, format!("cannot read directory: {e}")))?;
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        let stem = name.strip_suffix(".toml");
        match stem.map(Template::from_str) {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(ConfigError::new(&path, e)),
            None => {
                return Err(ConfigError::new(
                    &path,
                    "unexpected file; reply directories hold only <template>.toml files",
                ))
            }
        }
    }
    Ok(())
}

fn load_template(
    path: &Path,
    source: &str,
    template: Template,
    values: &OrgValues,
) -> Result<ReplyTemplate, ConfigError> {
    let file: TemplateFile = parse_toml(path, source)?;
    if file.reviewed_by.get_ref().trim().is_empty() {
        return Err(ConfigError::at(
            path,
            source,
            file.reviewed_by.span().start,
            "reviewed_by is empty; say who reviewed this wording",
        ));
    }
    let reviewed_on = review_date(file.reviewed_on.get_ref()).ok_or_else(|| {
        ConfigError::at(
            path,
            source,
            file.reviewed_on.span().start,
            "reviewed_on must be a plain date, e.g. 2026-11-20",
        )
    })?;
    let parse_variant = |s: &toml::Spanned<String>| -> Result<Text, ConfigError> {
        parse_text(s.get_ref(), template).map_err(|(needle, message)| {
            let span = s.span();
            let raw = source.get(span.clone()).unwrap_or("");
            let offset = needle
                .and_then(|n| raw.find(&n))
                .map_or(span.start, |i| span.start + i);
            ConfigError::at(path, source, offset, message)
        })
    };
    let default = parse_variant(&file.text.default)?;
    let x = file.text.x.as_ref().map(&parse_variant).transpose()?;
    let mastodon = file
        .text
        .mastodon
        .as_ref()
        .map(&parse_variant)
        .transpose()?;
    let loaded = ReplyTemplate {
        path: path.to_path_buf(),
        reviewed_by: file.reviewed_by.get_ref().trim().to_string(),
        reviewed_on,
        default,
        x,
        mastodon,
    };
    for &variant in Variant::ALL {
        let text = loaded.text(variant);
        let longest = fill(text, |p| Ok::<_, ()>(longest_value(p, values)))
            .map_err(|()| ConfigError::new(path, "cannot fill placeholders"))?;
        let len = longest.chars().count();
        if len > variant.limit() {
            let own = loaded.has_variant(variant);
            let spanned = match (variant, own) {
                (Variant::X, true) => file.text.x.as_ref(),
                (Variant::Mastodon, true) => file.text.mastodon.as_ref(),
                _ => Some(&file.text.default),
            };
            let offset = spanned.map_or(0, |s| s.span().start);
            let which = if own {
                format!("text.{}", variant.as_str())
            } else {
                format!(
                    "text.default (used on {} because there is no text.{})",
                    variant.platform_name(),
                    variant.as_str()
                )
            };
            return Err(ConfigError::at(
                path,
                source,
                offset,
                format!(
                    "{which} is {len} characters with placeholders at their longest, over the \
                     {} limit of {}: shorten it by {}{}",
                    variant.platform_name(),
                    variant.limit(),
                    len - variant.limit(),
                    if own {
                        String::new()
                    } else {
                        format!(" or add a shorter text.{}", variant.as_str())
                    }
                ),
            ));
        }
    }
    Ok(loaded)
}

fn review_date(dt: &toml::value::Datetime) -> Option<NaiveDate> {
    if dt.time.is_some() || dt.offset.is_some() {
        return None;
    }
    let d = dt.date?;
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
}

/// The longest realistic value of a placeholder for this org.
fn longest_value(p: Placeholder, values: &OrgValues) -> String {
    match p {
        Placeholder::Org => values.name.clone(),
        Placeholder::Author => "W".repeat(AUTHOR_MAX),
        Placeholder::Window => values.window.clone(),
        Placeholder::NextOpen => NEXT_OPEN_MAX.to_string(),
        Placeholder::ComplaintsUrl => values.complaints_url.clone(),
        Placeholder::PolicyUrl => values.policy_url.clone(),
        Placeholder::Action => ACTION_PHRASES
            .iter()
            .filter_map(|a| action_phrase(*a))
            .max_by_key(|s| s.chars().count())
            .unwrap_or_default()
            .to_string(),
        Placeholder::Reason => "W".repeat(REASON_MAX),
    }
}

/// Parse a template text into pieces. On error, returns the raw text to
/// look for in the file (to locate the error) and the message.
fn parse_text(s: &str, template: Template) -> Result<Text, (Option<String>, String)> {
    if s.trim().is_empty() {
        return Err((None, "text is empty".to_string()));
    }
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(['{', '}']) {
        lit.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            lit.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            lit.push('}');
            rest = after;
        } else if tail.starts_with('}') {
            return Err((
                Some("}".to_string()),
                "unmatched `}`; write `}}` for a literal brace".to_string(),
            ));
        } else {
            let Some(end) = tail.find('}') else {
                return Err((
                    Some(tail.chars().take(20).collect()),
                    "unclosed `{`; write `{{` for a literal brace".to_string(),
                ));
            };
            let name = &tail[1..end];
            let token = tail[..=end].to_string();
            let Some(p) = Placeholder::parse(name) else {
                let known: Vec<String> = Placeholder::ALL
                    .iter()
                    .filter(|p| template.allows(**p))
                    .map(|p| format!("{{{}}}", p.as_str()))
                    .collect();
                return Err((
                    Some(token.clone()),
                    format!(
                        "unknown placeholder `{token}`; {template} may use: {}",
                        known.join(", ")
                    ),
                ));
            };
            if !template.allows(p) {
                return Err((
                    Some(token.clone()),
                    format!("placeholder `{token}` cannot be used in {template}"),
                ));
            }
            if !lit.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut lit)));
            }
            pieces.push(Piece::Var(p));
            rest = &tail[end + 1..];
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        pieces.push(Piece::Text(lit));
    }
    Ok(Text { pieces })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::format_next_open;
    use chrono::{TimeZone, Utc};
    use chrono_tz::Tz;

    #[test]
    fn parses_placeholders_and_escaped_braces() {
        let t = parse_text("Hi {author}, {{not}} a {org}}}", Template::Crisis).expect("valid");
        assert_eq!(
            t.pieces,
            vec![
                Piece::Text("Hi ".into()),
                Piece::Var(Placeholder::Author),
                Piece::Text(", {not} a ".into()),
                Piece::Var(Placeholder::Org),
                Piece::Text("}".into()),
            ]
        );
    }

    #[test]
    fn rejects_unknown_misplaced_and_stray_braces() {
        let (needle, msg) = parse_text("Hi {autor}", Template::Crisis).unwrap_err();
        assert_eq!(needle.as_deref(), Some("{autor}"));
        assert!(msg.starts_with("unknown placeholder `{autor}`"), "{msg}");
        let (_, msg) = parse_text("back {next_open}", Template::Crisis).unwrap_err();
        assert_eq!(msg, "placeholder `{next_open}` cannot be used in crisis");
        let (_, msg) = parse_text("Hi {author", Template::Crisis).unwrap_err();
        assert!(msg.starts_with("unclosed `{`"), "{msg}");
        let (_, msg) = parse_text("Hi }", Template::Crisis).unwrap_err();
        assert!(msg.starts_with("unmatched `}`"), "{msg}");
        let (_, msg) = parse_text("  ", Template::Crisis).unwrap_err();
        assert_eq!(msg, "text is empty");
    }

    #[test]
    fn next_open_max_is_the_longest_the_hours_module_writes() {
        let london = Tz::Europe__London;
        let now = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        // Wednesday 30 September 2026, 12:30pm BST.
        let dt = Utc
            .with_ymd_and_hms(2026, 9, 30, 11, 30, 0)
            .single()
            .expect("valid");
        let text = format_next_open(dt, london, now);
        assert_eq!(text, NEXT_OPEN_MAX);
        // Every component is already at its longest.
        let months = ["September", "November", "December", "February"];
        assert!(months.iter().all(|m| m.len() <= "September".len()));
    }

    #[test]
    fn clean_flattens_and_cuts() {
        assert_eq!(clean("  Ann\n\tSmith\u{7} ", 30), "Ann Smith");
        let long = "x".repeat(40);
        let cut = clean(&long, 30);
        assert_eq!(cut.chars().count(), 30);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn variants_follow_platforms() {
        assert_eq!(Variant::for_platform(Platform::X), Variant::X);
        assert_eq!(Variant::for_platform(Platform::Mastodon), Variant::Mastodon);
        assert_eq!(Variant::for_platform(Platform::Instagram), Variant::Default);
        assert_eq!(limit(Platform::X), 280);
        assert_eq!(limit(Platform::Mastodon), 500);
        assert_eq!(limit(Platform::Facebook), 2200);
    }

    #[test]
    fn template_names_round_trip() {
        for t in Template::ALL {
            assert_eq!(t.as_str().parse::<Template>(), Ok(*t));
        }
        assert!("out_of_hour".parse::<Template>().is_err());
    }
}
