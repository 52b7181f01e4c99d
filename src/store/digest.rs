//! The facts behind the handover digest: what reached an org's accounts
//! over a window (posts by platform, categories, automatic replies, crisis
//! posts) and what still waits for the team now (relays `pending` or
//! `open`). Read-only; one query per fact, each on an index
//! (`posts (org, received_at)`, `auto_replies (org, at)`, `relays (org,
//! state, created_at)`).
//!
//! A post belongs to the window by when Signpost received it
//! (`received_at`), an automatic reply by when it was decided (`at`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::error::Result;
use super::relays::RelayState;
use super::util::{get, get_time, ms, parse_json, parse_name};
use super::Backend;
use crate::category::Category;
use crate::model::Platform;

/// A post as the digest lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestPost {
    pub post_id: i64,
    pub platform: Platform,
    pub author_handle: String,
    /// The raw text (mask it before showing it).
    pub text: String,
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub categories: Vec<Category>,
    /// Where its relay is, if it was relayed.
    pub relay_state: Option<RelayState>,
    /// The relay message, once posted.
    pub channel_id: Option<String>,
    pub message_id: Option<String>,
}

/// Everything the digest of `[from, to)` shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DigestFacts {
    pub org: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Posts received in the window.
    pub posts: u64,
    /// The same, by platform, most first.
    pub by_platform: Vec<(Platform, u64)>,
    /// Posts per category (a post counts once in each of its categories),
    /// most first.
    pub by_category: Vec<(Category, u64)>,
    /// Automatic replies sent or queued to send, by template, most first.
    pub auto_replies: Vec<(String, u64)>,
    /// Of those, still queued (not yet sent by the outbox).
    pub auto_replies_queued: u64,
    /// Posts that got no automatic reply because it was suppressed
    /// (abusive, already answered this closed period…).
    pub suppressed_posts: u64,
    /// Crisis posts received in the window.
    pub crisis_total: u64,
    /// The first of them (at most the limit asked for), oldest first.
    pub crisis: Vec<DigestPost>,
    /// Relays of the org still `pending` or `open` now, whenever they came.
    pub needs_action_total: u64,
    /// The oldest of them (at most the limit asked for).
    pub needs_action: Vec<DigestPost>,
}

/// Most first, then by name.
fn ranked<K: Ord>(counts: BTreeMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn count(row: &AnyRow) -> Result<u64> {
    let n: i64 = get(row, "n")?;
    Ok(n.max(0) as u64)
}

const LISTED_COLUMNS: &str = "p.id, p.platform, p.author_handle, p.text, p.url, p.created_at, \
     p.received_at, c.categories, r.state, r.channel_id, r.message_id";

fn listed_from_row(row: &AnyRow) -> Result<DigestPost> {
    let platform: String = get(row, "platform")?;
    let categories: Option<String> = get(row, "categories")?;
    let state: Option<String> = get(row, "state")?;
    Ok(DigestPost {
        post_id: get(row, "id")?,
        platform: parse_name("posts.platform", &platform)?,
        author_handle: get(row, "author_handle")?,
        text: get(row, "text")?,
        url: get(row, "url")?,
        created_at: get_time(row, "created_at")?,
        received_at: get_time(row, "received_at")?,
        categories: match categories {
            Some(c) => parse_json("classifications.categories", &c)?,
            None => Vec::new(),
        },
        relay_state: state.as_deref().map(RelayState::from_column).transpose()?,
        channel_id: get(row, "channel_id")?,
        message_id: get(row, "message_id")?,
    })
}

/// Matches the stored categories JSON of a crisis post.
const CRISIS_PATTERN: &str = "%\"crisis\"%";

pub(crate) async fn digest_facts(
    conn: &mut AnyConnection,
    _backend: Backend,
    org: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<DigestFacts> {
    let (from_ms, to_ms) = (ms(from), ms(to));
    let mut facts = DigestFacts {
        org: org.to_owned(),
        from,
        to,
        ..DigestFacts::default()
    };

    let rows = sqlx::query(
        "SELECT platform, COUNT(*) AS n FROM posts \
         WHERE org = $1 AND received_at >= $2 AND received_at < $3 GROUP BY platform",
    )
    .bind(org)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&mut *conn)
    .await?;
    let mut platforms = BTreeMap::new();
    for row in &rows {
        let name: String = get(row, "platform")?;
        let platform: Platform = parse_name("posts.platform", &name)?;
        let n = count(row)?;
        facts.posts += n;
        platforms.insert(platform, n);
    }
    facts.by_platform = ranked(platforms);

    let rows = sqlx::query(
        "SELECT c.categories, COUNT(*) AS n FROM posts p \
         JOIN classifications c ON c.post_id = p.id \
         WHERE p.org = $1 AND p.received_at >= $2 AND p.received_at < $3 \
         AND c.categories <> '[]' GROUP BY c.categories",
    )
    .bind(org)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&mut *conn)
    .await?;
    let mut categories = BTreeMap::new();
    for row in &rows {
        let text: String = get(row, "categories")?;
        let list: Vec<Category> = parse_json("classifications.categories", &text)?;
        let n = count(row)?;
        for c in list {
            *categories.entry(c).or_insert(0) += n;
        }
    }
    facts.by_category = ranked(categories);

    let rows = sqlx::query(
        "SELECT template, status, COUNT(*) AS n FROM auto_replies \
         WHERE org = $1 AND at >= $2 AND at < $3 AND status IN ('sent', 'queued') \
         GROUP BY template, status",
    )
    .bind(org)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&mut *conn)
    .await?;
    let mut templates = BTreeMap::new();
    for row in &rows {
        let template: String = get(row, "template")?;
        let status: String = get(row, "status")?;
        let n = count(row)?;
        *templates.entry(template).or_insert(0) += n;
        if status == "queued" {
            facts.auto_replies_queued += n;
        }
    }
    facts.auto_replies = ranked(templates);

    let row = sqlx::query(
        "SELECT COUNT(DISTINCT a.post_id) AS n FROM auto_replies a \
         WHERE a.org = $1 AND a.at >= $2 AND a.at < $3 AND a.status = 'suppressed' \
         AND NOT EXISTS (SELECT 1 FROM auto_replies b WHERE b.post_id = a.post_id \
                         AND b.status IN ('sent', 'queued'))",
    )
    .bind(org)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_one(&mut *conn)
    .await?;
    facts.suppressed_posts = count(&row)?;

    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM posts p JOIN classifications c ON c.post_id = p.id \
         WHERE p.org = $1 AND p.received_at >= $2 AND p.received_at < $3 \
         AND c.categories LIKE $4",
    )
    .bind(org)
    .bind(from_ms)
    .bind(to_ms)
    .bind(CRISIS_PATTERN)
    .fetch_one(&mut *conn)
    .await?;
    facts.crisis_total = count(&row)?;
    if facts.crisis_total > 0 && limit > 0 {
        let sql = format!(
            "SELECT {LISTED_COLUMNS} FROM posts p \
             JOIN classifications c ON c.post_id = p.id \
             LEFT JOIN relays r ON r.post_id = p.id \
             WHERE p.org = $1 AND p.received_at >= $2 AND p.received_at < $3 \
             AND c.categories LIKE $4 ORDER BY p.received_at, p.id LIMIT $5"
        );
        facts.crisis = sqlx::query(&sql)
            .bind(org)
            .bind(from_ms)
            .bind(to_ms)
            .bind(CRISIS_PATTERN)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(listed_from_row)
            .collect::<Result<_>>()?;
    }

    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM relays WHERE org = $1 AND state IN ('pending', 'open')",
    )
    .bind(org)
    .fetch_one(&mut *conn)
    .await?;
    facts.needs_action_total = count(&row)?;
    if facts.needs_action_total > 0 && limit > 0 {
        let sql = format!(
            "SELECT {LISTED_COLUMNS} FROM relays r \
             JOIN posts p ON p.id = r.post_id \
             LEFT JOIN classifications c ON c.post_id = p.id \
             WHERE r.org = $1 AND r.state IN ('pending', 'open') \
             ORDER BY r.created_at, r.id LIMIT $2"
        );
        facts.needs_action = sqlx::query(&sql)
            .bind(org)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(listed_from_row)
            .collect::<Result<_>>()?;
    }
    Ok(facts)
}
