//! `authors`: what Signpost remembers about the people who post.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::error::{Result, StoreError};
use super::util::{get, get_flag, get_opt_time, get_time, get_u32, ms, parse_name};
use super::Backend;
use crate::model::Platform;

/// An author as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Author {
    pub platform: Platform,
    pub author_id: String,
    /// The most recently seen handle.
    pub handle: String,
    pub strikes: u32,
    pub blocked: bool,
    pub blocked_at: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// An author's track record, for deciding how to treat their next post.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorHistory {
    /// Strikes ever given.
    pub strikes_total: u32,
    /// Their posts created at or after `since` whose classification has at
    /// least one strike category (see [`Classification::flagged`](super::Classification::flagged)).
    pub flagged_since: u32,
    pub blocked: bool,
    /// When they were last sent an automatic reply, or one was queued for
    /// them (status `sent` or `queued`), if ever.
    pub last_auto_reply_at: Option<DateTime<Utc>>,
}

pub(crate) async fn upsert_author_seen(
    conn: &mut AnyConnection,
    _backend: Backend,
    platform: Platform,
    author_id: &str,
    handle: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    // Posts can arrive out of order (replays, retries): keep the earliest
    // first_seen, the latest last_seen, and the handle seen latest.
    sqlx::query(
        "INSERT INTO authors (platform, author_id, handle, strikes, blocked, first_seen, last_seen) \
         VALUES ($1, $2, $3, 0, 0, $4, $4) \
         ON CONFLICT (platform, author_id) DO UPDATE SET \
         handle = CASE WHEN excluded.last_seen >= authors.last_seen \
                       THEN excluded.handle ELSE authors.handle END, \
         first_seen = CASE WHEN excluded.first_seen < authors.first_seen \
                           THEN excluded.first_seen ELSE authors.first_seen END, \
         last_seen = CASE WHEN excluded.last_seen > authors.last_seen \
                          THEN excluded.last_seen ELSE authors.last_seen END",
    )
    .bind(platform.as_str())
    .bind(author_id)
    .bind(handle)
    .bind(ms(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn add_strike(
    conn: &mut AnyConnection,
    _backend: Backend,
    platform: Platform,
    author_id: &str,
) -> Result<u32> {
    let row = sqlx::query(
        "UPDATE authors SET strikes = strikes + 1 WHERE platform = $1 AND author_id = $2 \
         RETURNING strikes",
    )
    .bind(platform.as_str())
    .bind(author_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::not_found("author", platform))?;
    get_u32(&row, "strikes")
}

pub(crate) async fn set_blocked(
    conn: &mut AnyConnection,
    _backend: Backend,
    platform: Platform,
    author_id: &str,
    blocked: bool,
    at: DateTime<Utc>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE authors SET blocked = $3, blocked_at = $4 WHERE platform = $1 AND author_id = $2",
    )
    .bind(platform.as_str())
    .bind(author_id)
    .bind(i32::from(blocked))
    .bind(blocked.then(|| ms(at)))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("author", platform));
    }
    Ok(())
}

pub(crate) async fn get_author(
    conn: &mut AnyConnection,
    _backend: Backend,
    platform: Platform,
    author_id: &str,
) -> Result<Option<Author>> {
    let Some(row) = sqlx::query(
        "SELECT platform, author_id, handle, strikes, blocked, blocked_at, first_seen, last_seen \
         FROM authors WHERE platform = $1 AND author_id = $2",
    )
    .bind(platform.as_str())
    .bind(author_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let platform: String = get(&row, "platform")?;
    Ok(Some(Author {
        platform: parse_name("authors.platform", &platform)?,
        author_id: get(&row, "author_id")?,
        handle: get(&row, "handle")?,
        strikes: get_u32(&row, "strikes")?,
        blocked: get_flag(&row, "blocked")?,
        blocked_at: get_opt_time(&row, "blocked_at")?,
        first_seen: get_time(&row, "first_seen")?,
        last_seen: get_time(&row, "last_seen")?,
    }))
}

pub(crate) async fn author_history(
    conn: &mut AnyConnection,
    _backend: Backend,
    platform: Platform,
    author_id: &str,
    since: DateTime<Utc>,
) -> Result<AuthorHistory> {
    // One round trip; each part is an index lookup:
    // authors by primary key, posts by (platform, author_id, created_at) with
    // classifications by primary key, auto_replies by
    // (platform, author_id, status, at).
    let row = sqlx::query(
        "SELECT \
           COALESCE((SELECT strikes FROM authors WHERE platform = $1 AND author_id = $2), 0) \
             AS strikes, \
           COALESCE((SELECT blocked FROM authors WHERE platform = $1 AND author_id = $2), 0) \
             AS blocked, \
           (SELECT COUNT(*) FROM posts p JOIN classifications c ON c.post_id = p.id \
             WHERE p.platform = $1 AND p.author_id = $2 AND p.created_at >= $3 \
               AND c.flagged = 1) AS flagged, \
           (SELECT MAX(at) FROM auto_replies \
             WHERE platform = $1 AND author_id = $2 AND status IN ('sent', 'queued')) AS last_reply",
    )
    .bind(platform.as_str())
    .bind(author_id)
    .bind(ms(since))
    .fetch_one(&mut *conn)
    .await?;
    Ok(AuthorHistory {
        strikes_total: get_u32(&row, "strikes")?,
        flagged_since: get_u32(&row, "flagged")?,
        blocked: get_flag(&row, "blocked")?,
        last_auto_reply_at: get_opt_time(&row, "last_reply")?,
    })
}
