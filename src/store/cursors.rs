//! `cursors`: where each inbound poller resumes (one row per source, e.g.
//! `mastodon:https://mastodon.example:1234`), so a restart neither misses
//! nor re-reads anything.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::error::Result;
use super::util::{get, ms};
use super::Backend;

pub(crate) async fn get_cursor(
    conn: &mut AnyConnection,
    _backend: Backend,
    source: &str,
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM cursors WHERE source = $1")
        .bind(source)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| get(&r, "value")).transpose()
}

pub(crate) async fn set_cursor(
    conn: &mut AnyConnection,
    _backend: Backend,
    source: &str,
    value: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO cursors (source, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(source)
    .bind(value)
    .bind(ms(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
