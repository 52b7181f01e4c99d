//! `auto_replies`: automatic replies Signpost sent, queued or held back.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::error::{Result, StoreError};
use super::util::{get, get_time, ms, parse_name, stored_enum};
use super::Backend;
use crate::model::Platform;

stored_enum! {
    /// What happened to an automatic reply.
    pub enum AutoReplyStatus, "auto_replies.status" {
        /// Posted to the platform.
        Sent => "sent",
        /// Deliberately not sent (category, rate limit, dry run…); see `reason`.
        Suppressed => "suppressed",
        /// Waiting in the outbox.
        Queued => "queued",
    }
}

/// An automatic reply to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAutoReply {
    pub post_id: i64,
    pub org: String,
    pub platform: Platform,
    pub author_id: String,
    /// The template's name, e.g. `signpost_complaints`.
    pub template: String,
    /// The text as rendered.
    pub text: String,
    pub status: AutoReplyStatus,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// A stored automatic reply.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoReply {
    pub id: i64,
    pub post_id: i64,
    pub org: String,
    pub platform: Platform,
    pub author_id: String,
    pub template: String,
    pub text: String,
    pub status: AutoReplyStatus,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

fn reply_from_row(row: &AnyRow) -> Result<AutoReply> {
    let platform: String = get(row, "platform")?;
    let status: String = get(row, "status")?;
    Ok(AutoReply {
        id: get(row, "id")?,
        post_id: get(row, "post_id")?,
        org: get(row, "org")?,
        platform: parse_name("auto_replies.platform", &platform)?,
        author_id: get(row, "author_id")?,
        template: get(row, "template")?,
        text: get(row, "text")?,
        status: AutoReplyStatus::from_column(&status)?,
        reason: get(row, "reason")?,
        at: get_time(row, "at")?,
    })
}

pub(crate) async fn record_auto_reply(
    conn: &mut AnyConnection,
    _backend: Backend,
    reply: &NewAutoReply,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO auto_replies (post_id, org, platform, author_id, template, text, status, \
         reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(reply.post_id)
    .bind(reply.org.as_str())
    .bind(reply.platform.as_str())
    .bind(reply.author_id.as_str())
    .bind(reply.template.as_str())
    .bind(reply.text.as_str())
    .bind(reply.status.as_str())
    .bind(reply.reason.as_deref())
    .bind(ms(reply.at))
    .fetch_one(&mut *conn)
    .await?;
    get(&row, "id")
}

pub(crate) async fn set_auto_reply_status(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
    status: AutoReplyStatus,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<()> {
    let done =
        sqlx::query("UPDATE auto_replies SET status = $2, reason = $3, at = $4 WHERE id = $1")
            .bind(id)
            .bind(status.as_str())
            .bind(reason)
            .bind(ms(at))
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("auto reply", id));
    }
    Ok(())
}

pub(crate) async fn auto_replies_for_post(
    conn: &mut AnyConnection,
    _backend: Backend,
    post_id: i64,
) -> Result<Vec<AutoReply>> {
    sqlx::query(
        "SELECT id, post_id, org, platform, author_id, template, text, status, reason, at \
         FROM auto_replies WHERE post_id = $1 ORDER BY id",
    )
    .bind(post_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(reply_from_row)
    .collect()
}
