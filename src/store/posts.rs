//! `posts` and `classifications`.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::error::{Result, StoreError};
use super::util::{get, get_time, ms, parse_json, parse_name};
use super::Backend;
use crate::category::{Category, Severity};
use crate::model::{InboundPost, Platform};

/// A post as stored, with the store's id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPost {
    pub id: i64,
    pub post: InboundPost,
    pub received_at: DateTime<Utc>,
    /// The platform payload it came from, as JSON text, if kept.
    pub raw: Option<String>,
}

/// The current classification of a post (one per post; recording again
/// replaces it).
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub post_id: i64,
    pub categories: Vec<Category>,
    /// Ids of the rules that matched.
    pub rules: Vec<String>,
    pub severity: Severity,
    pub classified_at: DateTime<Utc>,
}

impl Classification {
    /// A post is *flagged* when its classification has a strike category
    /// ([`Category::STRIKES`]): complaints and clinical questions never count.
    /// This is what [`AuthorHistory::flagged_since`](super::AuthorHistory)
    /// counts; it is stored in the `flagged` column so the count is an index
    /// lookup.
    pub fn flagged(&self) -> bool {
        self.categories.iter().any(|c| c.is_strike())
    }
}

pub(crate) const POST_COLUMNS: &str = "id, platform, external_id, org, account, kind, author_id, \
     author_handle, text, url, created_at, received_at, raw";

pub(crate) fn post_from_row(row: &AnyRow) -> Result<StoredPost> {
    let platform: String = get(row, "platform")?;
    let kind: String = get(row, "kind")?;
    Ok(StoredPost {
        id: get(row, "id")?,
        post: InboundPost {
            platform: parse_name("posts.platform", &platform)?,
            external_id: get(row, "external_id")?,
            account: get(row, "account")?,
            org: get(row, "org")?,
            kind: parse_name("posts.kind", &kind)?,
            author_id: get(row, "author_id")?,
            author_handle: get(row, "author_handle")?,
            text: get(row, "text")?,
            url: get(row, "url")?,
            created_at: get_time(row, "created_at")?,
        },
        received_at: get_time(row, "received_at")?,
        raw: get(row, "raw")?,
    })
}

pub(crate) async fn insert_post(
    conn: &mut AnyConnection,
    _backend: Backend,
    post: &InboundPost,
    raw: Option<&str>,
    received_at: DateTime<Utc>,
) -> Result<(i64, bool)> {
    let inserted = sqlx::query(
        "INSERT INTO posts (platform, external_id, org, account, kind, author_id, author_handle, \
         text, url, created_at, received_at, raw) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (platform, external_id) DO NOTHING RETURNING id",
    )
    .bind(post.platform.as_str())
    .bind(post.external_id.as_str())
    .bind(post.org.as_str())
    .bind(post.account.as_str())
    .bind(post.kind.as_str())
    .bind(post.author_id.as_str())
    .bind(post.author_handle.as_str())
    .bind(post.text.as_str())
    .bind(post.url.as_deref())
    .bind(ms(post.created_at))
    .bind(ms(received_at))
    .bind(raw)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = inserted {
        return Ok((get(&row, "id")?, true));
    }
    // A duplicate delivery. The conflicting row is committed (PostgreSQL's
    // ON CONFLICT waits for the other inserter; SQLite writers are serial),
    // so this read sees it.
    let row = sqlx::query("SELECT id FROM posts WHERE platform = $1 AND external_id = $2")
        .bind(post.platform.as_str())
        .bind(post.external_id.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "post {}/{} conflicted on insert but cannot be read",
                post.platform, post.external_id
            ))
        })?;
    Ok((get(&row, "id")?, false))
}

pub(crate) async fn get_post(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
) -> Result<Option<StoredPost>> {
    let sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| post_from_row(&row))
        .transpose()
}

pub(crate) async fn find_post(
    conn: &mut AnyConnection,
    _backend: Backend,
    platform: Platform,
    external_id: &str,
) -> Result<Option<StoredPost>> {
    let sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE platform = $1 AND external_id = $2");
    sqlx::query(&sql)
        .bind(platform.as_str())
        .bind(external_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| post_from_row(&row))
        .transpose()
}

pub(crate) async fn record_classification(
    conn: &mut AnyConnection,
    _backend: Backend,
    c: &Classification,
) -> Result<()> {
    let categories = serde_json::to_string(&c.categories)
        .map_err(|e| StoreError::Invalid(format!("serialising categories: {e}")))?;
    let rules = serde_json::to_string(&c.rules)
        .map_err(|e| StoreError::Invalid(format!("serialising rules: {e}")))?;
    sqlx::query(
        "INSERT INTO classifications (post_id, categories, rules, severity, flagged, classified_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (post_id) DO UPDATE SET categories = excluded.categories, \
         rules = excluded.rules, severity = excluded.severity, flagged = excluded.flagged, \
         classified_at = excluded.classified_at",
    )
    .bind(c.post_id)
    .bind(categories)
    .bind(rules)
    .bind(c.severity.as_str())
    .bind(i32::from(c.flagged()))
    .bind(ms(c.classified_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn get_classification(
    conn: &mut AnyConnection,
    _backend: Backend,
    post_id: i64,
) -> Result<Option<Classification>> {
    let Some(row) = sqlx::query(
        "SELECT post_id, categories, rules, severity, classified_at \
         FROM classifications WHERE post_id = $1",
    )
    .bind(post_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let categories: String = get(&row, "categories")?;
    let rules: String = get(&row, "rules")?;
    let severity: String = get(&row, "severity")?;
    Ok(Some(Classification {
        post_id: get(&row, "post_id")?,
        categories: parse_json("classifications.categories", &categories)?,
        rules: parse_json("classifications.rules", &rules)?,
        severity: severity.parse().map_err(|_| {
            StoreError::corrupt(
                "classifications.severity",
                format!("unknown name `{severity}`"),
            )
        })?,
        classified_at: get_time(&row, "classified_at")?,
    }))
}

/// Stored posts by id (any order; missing ids are left out).
pub(crate) async fn get_posts(
    conn: &mut AnyConnection,
    _backend: Backend,
    ids: &[i64],
) -> Result<Vec<StoredPost>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::batch::CHUNK) {
        let list = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE id IN ({list})");
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.push(post_from_row(&row)?);
        }
    }
    Ok(out)
}
