//! `jobs`: the durable outbox. Every side effect (a Discord relay, a platform
//! action, a reply) is enqueued in the same transaction as the decision that
//! caused it, then claimed and run by a worker.
//!
//! Life of a job: `queued` → (claim) `running` → `done`; or, on failure, back
//! to claimable as `failed` with a later `run_after`, until `max_attempts`
//! claims have been used, then `dead`. A worker that crashes leaves its job
//! `running` with a lease (`locked_until`); [`release_expired`] puts it back.
//! Delivery is therefore at-least-once: a worker whose lease expired may
//! still finish after another worker re-claimed the job, so effects should be
//! idempotent (platform ids, dedupe keys).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::time::Duration;

use super::error::{Result, StoreError};
use super::util::{
    get, get_opt_time, get_time, get_u32, ms, parse_json, placeholders, stored_enum,
};
use super::Backend;

stored_enum! {
    /// Where a job is in its life.
    pub enum JobStatus, "jobs.status" {
        /// Waiting to run (from `run_after`).
        Queued => "queued",
        /// Claimed by a worker until `locked_until`.
        Running => "running",
        /// Finished.
        Done => "done",
        /// The last attempt failed; claimable again from `run_after`.
        Failed => "failed",
        /// Gave up: out of attempts, or failed permanently.
        Dead => "dead",
    }
}

/// Default attempts before a job is dead.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What to do, e.g. `discord.relay`, `platform.action`, `platform.reply`.
    pub kind: String,
    pub org: String,
    pub payload: serde_json::Value,
    /// When set, enqueueing again with the same key is a no-op.
    pub dedupe_key: Option<String>,
    pub max_attempts: u32,
    pub run_after: DateTime<Utc>,
}

impl NewJob {
    /// A job due now, without a dedupe key, with [`DEFAULT_MAX_ATTEMPTS`].
    pub fn new(
        kind: impl Into<String>,
        org: impl Into<String>,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Self {
        NewJob {
            kind: kind.into(),
            org: org.into(),
            payload,
            dedupe_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_after: now,
        }
    }

    pub fn dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    pub fn run_after(mut self, at: DateTime<Utc>) -> Self {
        self.run_after = at;
        self
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub org: String,
    pub payload: serde_json::Value,
    pub dedupe_key: Option<String>,
    pub status: JobStatus,
    /// Claims so far, including the current one.
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_after: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const JOB_COLUMNS: &str = "id, kind, org, payload, dedupe_key, status, attempts, max_attempts, \
     run_after, locked_until, last_error, created_at, updated_at";

fn job_from_row(row: &AnyRow) -> Result<Job> {
    let payload: String = get(row, "payload")?;
    let status: String = get(row, "status")?;
    Ok(Job {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        org: get(row, "org")?,
        payload: parse_json("jobs.payload", &payload)?,
        dedupe_key: get(row, "dedupe_key")?,
        status: JobStatus::from_column(&status)?,
        attempts: get_u32(row, "attempts")?,
        max_attempts: get_u32(row, "max_attempts")?,
        run_after: get_time(row, "run_after")?,
        locked_until: get_opt_time(row, "locked_until")?,
        last_error: get(row, "last_error")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    _backend: Backend,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<(i64, bool)> {
    if job.max_attempts == 0 {
        return Err(StoreError::Invalid(
            "max_attempts must be at least 1".to_owned(),
        ));
    }
    let inserted = sqlx::query(
        "INSERT INTO jobs (kind, org, payload, dedupe_key, status, attempts, max_attempts, \
         run_after, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $7) \
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(job.kind.as_str())
    .bind(job.org.as_str())
    .bind(job.payload.to_string())
    .bind(job.dedupe_key.as_deref())
    .bind(i64::from(job.max_attempts))
    .bind(ms(job.run_after))
    .bind(ms(now))
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = inserted {
        return Ok((get(&row, "id")?, true));
    }
    let key = job.dedupe_key.as_deref().unwrap_or_default();
    let row = sqlx::query("SELECT id FROM jobs WHERE dedupe_key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict("job conflicted on insert but cannot be read".into())
        })?;
    Ok((get(&row, "id")?, false))
}

pub(crate) async fn claim_next(
    conn: &mut AnyConnection,
    backend: Backend,
    kinds: &[&str],
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<Job>> {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
    let kind_filter = if kinds.is_empty() {
        String::new()
    } else {
        format!(" AND kind IN ({})", placeholders(3, kinds.len()))
    };
    // SQLite runs the whole statement under its write lock, so the pick and
    // the update are atomic. PostgreSQL needs the row locked, and skips rows
    // other claimers hold so they never queue behind each other.
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $2, \
         updated_at = $1 \
         WHERE id = (SELECT id FROM jobs WHERE status IN ('queued', 'failed') \
                     AND run_after <= $1{kind_filter} ORDER BY id LIMIT 1{lock}) \
         RETURNING {JOB_COLUMNS}"
    );
    let mut query = sqlx::query(&sql)
        .bind(ms(now))
        .bind(ms(now).saturating_add(lease_ms));
    for kind in kinds {
        query = query.bind(*kind);
    }
    query
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| job_from_row(&row))
        .transpose()
}

async fn status_of(conn: &mut AnyConnection, id: i64) -> Result<JobStatus> {
    let row = sqlx::query("SELECT status FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("job", id))?;
    let status: String = get(&row, "status")?;
    JobStatus::from_column(&status)
}

pub(crate) async fn complete(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = $2 \
         WHERE id = $1 AND status = 'running'",
    )
    .bind(id)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        let status = status_of(conn, id).await?;
        return Err(StoreError::Conflict(format!(
            "job {id} is {status}, not running"
        )));
    }
    Ok(())
}

pub(crate) async fn fail(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<JobStatus> {
    // With a retry time and attempts left: `failed`, claimable from retry_at.
    // Otherwise: `dead`.
    let row = sqlx::query(
        "UPDATE jobs SET \
           status = CASE WHEN $3 = 1 AND attempts < max_attempts THEN 'failed' ELSE 'dead' END, \
           run_after = CASE WHEN $3 = 1 AND attempts < max_attempts THEN $4 ELSE run_after END, \
           locked_until = NULL, last_error = $2, updated_at = $5 \
         WHERE id = $1 AND status = 'running' RETURNING status",
    )
    .bind(id)
    .bind(error)
    .bind(i32::from(retry_at.is_some()))
    .bind(ms(retry_at.unwrap_or(now)))
    .bind(ms(now))
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => {
            let status: String = get(&row, "status")?;
            JobStatus::from_column(&status)
        }
        None => {
            let status = status_of(conn, id).await?;
            Err(StoreError::Conflict(format!(
                "job {id} is {status}, not running"
            )))
        }
    }
}

pub(crate) async fn release_expired(
    conn: &mut AnyConnection,
    _backend: Backend,
    now: DateTime<Utc>,
) -> Result<u64> {
    // A job whose worker vanished used up the attempt it was claimed with.
    let done = sqlx::query(
        "UPDATE jobs SET \
           status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'dead' END, \
           locked_until = NULL, last_error = 'lease expired', updated_at = $1 \
         WHERE status = 'running' AND locked_until < $1",
    )
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn queue_depth(
    conn: &mut AnyConnection,
    _backend: Backend,
    kind: &str,
) -> Result<u64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM jobs WHERE kind = $1 \
         AND status IN ('queued', 'failed', 'running')",
    )
    .bind(kind)
    .fetch_one(&mut *conn)
    .await?;
    let n: i64 = get(&row, "n")?;
    Ok(n.max(0) as u64)
}

pub(crate) async fn get_job(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
) -> Result<Option<Job>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| job_from_row(&row))
        .transpose()
}

/// Jobs of `kind` for `org` still waiting (queued, or failed awaiting a
/// retry) after job `after_id`, oldest first, at most `limit`: for a worker
/// that merges what is queued behind the job it holds.
pub(crate) async fn waiting_after(
    conn: &mut AnyConnection,
    _backend: Backend,
    kind: &str,
    org: &str,
    after_id: i64,
    limit: u32,
) -> Result<Vec<Job>> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND org = $2 \
         AND status IN ('queued', 'failed') AND id > $3 ORDER BY id LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(kind)
        .bind(org)
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(job_from_row).collect()
}

/// Marks a waiting job done without claiming it (its work was merged into
/// another job's). False if it is no longer waiting: someone else got it.
pub(crate) async fn complete_waiting(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = $2 \
         WHERE id = $1 AND status IN ('queued', 'failed')",
    )
    .bind(id)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a running job back its current attempt, for a try that never
/// reached the other side (the service was unreachable): outages must not
/// use up a job's attempts and kill it.
pub(crate) async fn uncount_attempt(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET attempts = attempts - 1 \
         WHERE id = $1 AND status = 'running' AND attempts > 0",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
