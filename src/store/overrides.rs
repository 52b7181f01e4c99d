//! `hours_overrides`: one-off changes to an org's staffed hours (a bank
//! holiday closure, an extended evening for an incident).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::error::{Result, StoreError};
use super::util::{get, get_time, ms, stored_enum};
use super::Backend;

stored_enum! {
    /// Whether the override opens or closes the team.
    pub enum OverrideKind, "hours_overrides.kind" {
        /// Staffed during the window, whatever the usual hours say.
        Open => "open",
        /// Not staffed during the window, whatever the usual hours say.
        Closed => "closed",
    }
}

/// An override to add. The window is `[starts_at, ends_at)`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHoursOverride {
    pub org: String,
    pub kind: OverrideKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_name: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A stored override.
#[derive(Debug, Clone, PartialEq)]
pub struct HoursOverride {
    pub id: i64,
    pub org: String,
    pub kind: OverrideKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_name: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

const OVERRIDE_COLUMNS: &str =
    "id, org, kind, starts_at, ends_at, actor_id, actor_name, reason, created_at";

fn override_from_row(row: &AnyRow) -> Result<HoursOverride> {
    let kind: String = get(row, "kind")?;
    Ok(HoursOverride {
        id: get(row, "id")?,
        org: get(row, "org")?,
        kind: OverrideKind::from_column(&kind)?,
        starts_at: get_time(row, "starts_at")?,
        ends_at: get_time(row, "ends_at")?,
        actor_id: get(row, "actor_id")?,
        actor_name: get(row, "actor_name")?,
        reason: get(row, "reason")?,
        created_at: get_time(row, "created_at")?,
    })
}

pub(crate) async fn add_override(
    conn: &mut AnyConnection,
    _backend: Backend,
    o: &NewHoursOverride,
) -> Result<i64> {
    if ms(o.ends_at) <= ms(o.starts_at) {
        return Err(StoreError::Invalid(
            "an hours override must end after it starts".to_owned(),
        ));
    }
    let row = sqlx::query(
        "INSERT INTO hours_overrides (org, kind, starts_at, ends_at, actor_id, actor_name, \
         reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(o.org.as_str())
    .bind(o.kind.as_str())
    .bind(ms(o.starts_at))
    .bind(ms(o.ends_at))
    .bind(o.actor_id.as_str())
    .bind(o.actor_name.as_str())
    .bind(o.reason.as_str())
    .bind(ms(o.created_at))
    .fetch_one(&mut *conn)
    .await?;
    get(&row, "id")
}

pub(crate) async fn delete_override(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
) -> Result<()> {
    let done = sqlx::query("DELETE FROM hours_overrides WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("hours override", id));
    }
    Ok(())
}

pub(crate) async fn active_overrides(
    conn: &mut AnyConnection,
    _backend: Backend,
    org: &str,
    at_or_after: DateTime<Utc>,
) -> Result<Vec<HoursOverride>> {
    let sql = format!(
        "SELECT {OVERRIDE_COLUMNS} FROM hours_overrides WHERE org = $1 AND ends_at > $2 \
         ORDER BY starts_at, id"
    );
    sqlx::query(&sql)
        .bind(org)
        .bind(ms(at_or_after))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(override_from_row)
        .collect()
}

pub(crate) async fn overrides_between(
    conn: &mut AnyConnection,
    _backend: Backend,
    org: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<HoursOverride>> {
    let sql = format!(
        "SELECT {OVERRIDE_COLUMNS} FROM hours_overrides \
         WHERE org = $1 AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at, id"
    );
    sqlx::query(&sql)
        .bind(org)
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(override_from_row)
        .collect()
}

/// Ends an override at `at` if it is in force then (`starts_at < at <
/// ends_at`): its `ends_at` becomes `at`, so the history keeps what it
/// covered. True if it was cut short; false if it was not in force at `at`
/// (already over, or yet to start: delete those).
pub(crate) async fn end_override(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
    at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE hours_overrides SET ends_at = $2 WHERE id = $1 AND starts_at < $2 AND ends_at > $2",
    )
    .bind(id)
    .bind(ms(at))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(true);
    }
    let exists = sqlx::query("SELECT id FROM hours_overrides WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match exists {
        Some(_) => Ok(false),
        None => Err(StoreError::not_found("hours override", id)),
    }
}
