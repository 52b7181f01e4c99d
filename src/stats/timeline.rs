//! `/audit` and `/history`: one post's timeline from arrival to the last
//! notice, and one author's record with an org. Pure: the rows are read by
//! [`super::gather`], the post text arrives already masked where the org's
//! config says so.

use super::render::{join_limited, Embed};
use crate::discord::limits;
use crate::model::Platform;
use crate::store::{
    AuditRow, Author, AutoReply, Classification, EvidenceRecord, Relay, StoredPost,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

/// How the user named a post in `/audit post:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostRef {
    /// Signpost's own post id, e.g. `42` or `#42`.
    Id(i64),
    /// `platform:external_id`, e.g. `x:1790012345`.
    External(Platform, String),
    /// The post's URL, and the platform id taken from it where the URL
    /// shape is known (X status links).
    Url(String, Option<(Platform, String)>),
}

impl PostRef {
    /// Parses the option; `None` when it is none of the accepted forms.
    pub fn parse(s: &str) -> Option<PostRef> {
        let s = s.trim().trim_start_matches('<').trim_end_matches('>');
        if let Ok(id) = s.trim_start_matches('#').parse::<i64>() {
            return (id > 0).then_some(PostRef::Id(id));
        }
        if s.starts_with("https://") || s.starts_with("http://") {
            let x_status = s
                .split('?')
                .next()
                .filter(|u| u.contains("://x.com/") || u.contains("://twitter.com/"))
                .and_then(|u| u.split("/status/").nth(1))
                .map(|id| id.trim_end_matches('/').to_owned())
                .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
                .map(|id| (Platform::X, id));
            return Some(PostRef::Url(s.to_owned(), x_status));
        }
        let (platform, id) = s.split_once(':')?;
        let platform: Platform =
            serde_json::from_value(Value::String(platform.to_lowercase())).ok()?;
        (!id.is_empty()).then(|| PostRef::External(platform, id.to_owned()))
    }
}

/// Everything known about one post.
#[derive(Debug, Clone)]
pub struct PostTimeline {
    pub post: StoredPost,
    pub classification: Option<Classification>,
    pub relay: Option<Relay>,
    pub audit: Vec<AuditRow>,
    pub replies: Vec<AutoReply>,
    pub evidence: Vec<EvidenceRecord>,
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%a %d %b %H:%M:%S").to_string()
}

fn strings(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// One audit row as a timeline line.
fn audit_line(r: &AuditRow, tz: Tz) -> String {
    let detail = r.detail_json().unwrap_or(Value::Null);
    let who = if r.actor_id == crate::pipeline::SYSTEM_ACTOR.0 {
        String::new()
    } else {
        format!(" by {}", r.actor_name)
    };
    let what = match r.action.as_str() {
        "classify" => {
            let c = strings(detail.get("categories"));
            let rules = strings(detail.get("rules"));
            let hours = match detail.get("in_hours").and_then(Value::as_bool) {
                Some(true) => " · in hours",
                Some(false) => " · out of hours",
                None => "",
            };
            if c.is_empty() {
                format!("classified: nothing to flag{hours}")
            } else {
                format!("classified: {c} (rules {rules}){hours}")
            }
        }
        "auto_reply" => format!(
            "automatic {} reply queued",
            detail
                .get("template")
                .and_then(Value::as_str)
                .unwrap_or("")
                .replace('_', " ")
        ),
        "auto_reply.suppressed" => format!(
            "automatic {} reply suppressed",
            detail
                .get("template")
                .and_then(Value::as_str)
                .unwrap_or("")
                .replace('_', " ")
        ),
        other => format!("**{}**", other.replace('_', " ")),
    };
    let outcome = match r.outcome.as_str() {
        "ok" => String::new(),
        o => format!(" · {o}"),
    };
    let reason = r
        .reason
        .as_deref()
        .map(|x| format!(" — {}", limits::clip(x, 120)))
        .unwrap_or_default();
    format!("`{}` {what}{who}{outcome}{reason}", local(r.at, tz))
}

/// The `/audit` embed. `text` is the post text to show (masked as needed).
pub fn post_timeline_embed(t: &PostTimeline, text: &str, tz: Tz) -> Embed {
    let p = &t.post.post;
    let mut events: Vec<(DateTime<Utc>, i64, String)> = Vec::new();
    events.push((
        p.created_at,
        -2,
        format!(
            "`{}` posted by {} on {}",
            local(p.created_at, tz),
            p.author_handle,
            p.platform
        ),
    ));
    events.push((
        t.post.received_at,
        -1,
        format!("`{}` arrived in Signpost", local(t.post.received_at, tz)),
    ));
    for r in &t.audit {
        events.push((r.at, r.id, audit_line(r, tz)));
    }
    for e in &t.evidence {
        events.push((
            e.captured_at,
            i64::MAX - 1,
            format!(
                "`{}` evidence #{} kept for {} by {} (sha256 {}…)",
                local(e.captured_at, tz),
                e.id,
                e.action,
                e.actor.name,
                &e.sha256[..e.sha256.len().min(12)]
            ),
        ));
    }
    for r in &t.replies {
        events.push((
            r.at,
            i64::MAX,
            format!(
                "`{}` {} reply {}{}",
                local(r.at, tz),
                r.template.replace('_', " "),
                r.status.as_str(),
                r.reason
                    .as_deref()
                    .map(|x| format!(" — {}", limits::clip(x, 100)))
                    .unwrap_or_default()
            ),
        ));
    }
    events.sort_by_key(|e| (e.0, e.1));
    let lines: Vec<String> = events.into_iter().map(|(_, _, l)| l).collect();
    let mut e = Embed {
        title: format!("Post #{} on {}", t.post.id, p.platform),
        description: join_limited(&lines, "\n", limits::DESCRIPTION),
        footer: Some(format!("{} · times in {}", p.org, tz.name())),
        ..Embed::default()
    };
    e.field("Text", &limits::clip(text, 900), false);
    if let Some(c) = &t.classification {
        let cats: Vec<&str> = c.categories.iter().map(|c| c.as_str()).collect();
        e.field(
            "Classification",
            &format!(
                "{} · severity {} · rules {}",
                if cats.is_empty() {
                    "none".to_owned()
                } else {
                    cats.join(", ")
                },
                c.severity.as_str(),
                if c.rules.is_empty() {
                    "none".to_owned()
                } else {
                    c.rules.join(", ")
                }
            ),
            false,
        );
    }
    let relay = match &t.relay {
        None => "not relayed".to_owned(),
        Some(r) => {
            let by = match (&r.state_by_name, r.state_at) {
                (Some(n), Some(at)) => format!(" by {n} at {}", local(at, tz)),
                _ => String::new(),
            };
            format!("{}{by}", r.state.as_str())
        }
    };
    e.field("Relay", &relay, true);
    if let Some(url) = &p.url {
        e.field("Link", url, true);
    }
    e.fit()
}

/// One author's record with an org.
#[derive(Debug, Clone)]
pub struct AuthorRecord {
    pub author: Author,
    pub total_posts: u64,
    /// Latest posts, newest first, each with its text (masked as needed).
    pub posts: Vec<HistoryPost>,
}

#[derive(Debug, Clone)]
pub struct HistoryPost {
    pub post: StoredPost,
    pub text: String,
    pub classification: Option<Classification>,
    pub relay: Option<Relay>,
    /// People's actions on this post.
    pub actions: Vec<AuditRow>,
}

/// The `/history` embed.
pub fn history_embed(org: &str, records: &[AuthorRecord], tz: Tz) -> Embed {
    let Some(first) = records.first() else {
        return Embed {
            title: "No such author".to_owned(),
            description: "Signpost has no posts from that handle.".to_owned(),
            ..Embed::default()
        };
    };
    let a = &first.author;
    let mut e = Embed {
        title: format!("History: {} on {}", a.handle, a.platform),
        description: format!(
            "{} post{} to {org} · first seen {} · last seen {}\nStrikes {} · {}",
            first.total_posts,
            if first.total_posts == 1 { "" } else { "s" },
            local(a.first_seen, tz),
            local(a.last_seen, tz),
            a.strikes,
            match (a.blocked, a.blocked_at) {
                (true, Some(at)) => format!("blocked since {}", local(at, tz)),
                (true, None) => "blocked".to_owned(),
                _ => "not blocked".to_owned(),
            }
        ),
        footer: Some(format!("Times in {}", tz.name())),
        ..Embed::default()
    };
    let posts: Vec<String> = first
        .posts
        .iter()
        .map(|h| {
            let cats = h
                .classification
                .as_ref()
                .map(|c| {
                    c.categories
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "not flagged".to_owned());
            let state = match &h.relay {
                Some(r) => match &r.state_by_name {
                    Some(n) => format!("{} by {n}", r.state.as_str()),
                    None => r.state.as_str().to_owned(),
                },
                None => "not relayed".to_owned(),
            };
            format!(
                "`{}` #{} [{cats}] {state}: \"{}\"",
                local(h.post.post.created_at, tz),
                h.post.id,
                limits::clip(&h.text.replace('\n', " "), 80)
            )
        })
        .collect();
    e.field(
        "Latest posts",
        &join_limited(&posts, "\n", limits::FIELD_VALUE),
        false,
    );
    let actions: Vec<String> = first
        .posts
        .iter()
        .flat_map(|h| h.actions.iter())
        .map(|r| {
            format!(
                "`{}` {} on #{} by {}{}",
                local(r.at, tz),
                r.action.replace('_', " "),
                r.post_id.unwrap_or_default(),
                r.actor_name,
                if r.outcome == "ok" {
                    String::new()
                } else {
                    format!(" · {}", r.outcome)
                }
            )
        })
        .collect();
    e.field(
        "Team actions",
        &join_limited(&actions, "\n", limits::FIELD_VALUE),
        false,
    );
    if records.len() > 1 {
        let others: Vec<String> = records[1..]
            .iter()
            .map(|r| {
                format!(
                    "{} ({}, {} post{})",
                    r.author.author_id,
                    r.author.platform,
                    r.total_posts,
                    if r.total_posts == 1 { "" } else { "s" }
                )
            })
            .collect();
        e.field(
            "Same handle elsewhere",
            &join_limited(&others, "\n", limits::FIELD_VALUE),
            false,
        );
    }
    e.fit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_references() {
        assert_eq!(PostRef::parse("42"), Some(PostRef::Id(42)));
        assert_eq!(PostRef::parse(" #7 "), Some(PostRef::Id(7)));
        assert_eq!(PostRef::parse("0"), None);
        assert_eq!(
            PostRef::parse("x:1790012345"),
            Some(PostRef::External(Platform::X, "1790012345".into()))
        );
        assert_eq!(
            PostRef::parse("https://x.com/someone/status/1790012345?s=20"),
            Some(PostRef::Url(
                "https://x.com/someone/status/1790012345?s=20".into(),
                Some((Platform::X, "1790012345".into()))
            ))
        );
        assert_eq!(
            PostRef::parse("<https://www.facebook.com/LAS/posts/1>"),
            Some(PostRef::Url(
                "https://www.facebook.com/LAS/posts/1".into(),
                None
            ))
        );
        assert_eq!(PostRef::parse("myspace:1"), None);
        assert_eq!(PostRef::parse("hello"), None);
    }
}
