//! `evidence` (append-only snapshots taken before a hide, delete, block or
//! police escalation) and `action_claims` (the per-post, per-action
//! compare-and-set that makes a moderation action happen exactly once).
//!
//! The evidence pack itself, its canonical form and hash are defined in
//! [`crate::evidence`]; this file only stores and reads them.

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::error::Result;
use super::relays::Actor;
use super::util::{get, get_time, ms, stored_enum};
use super::Backend;

/// An evidence snapshot to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvidence {
    pub post_id: i64,
    pub org: String,
    /// The action the snapshot was taken for, e.g. `hide`, `escalate`.
    pub action: String,
    pub actor: Actor,
    pub reason: Option<String>,
    pub captured_at: DateTime<Utc>,
    /// The canonical JSON text of the pack, exactly as hashed.
    pub pack: String,
    /// Lowercase hex SHA-256 of `pack`'s UTF-8 bytes.
    pub sha256: String,
}

/// A stored evidence snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRecord {
    pub id: i64,
    pub post_id: i64,
    pub org: String,
    pub action: String,
    pub actor: Actor,
    pub reason: Option<String>,
    pub captured_at: DateTime<Utc>,
    pub pack: String,
    pub sha256: String,
}

const EVIDENCE_COLUMNS: &str =
    "id, post_id, org, action, actor_id, actor_name, reason, captured_at, pack, sha256";

fn evidence_from_row(row: &AnyRow) -> Result<EvidenceRecord> {
    Ok(EvidenceRecord {
        id: get(row, "id")?,
        post_id: get(row, "post_id")?,
        org: get(row, "org")?,
        action: get(row, "action")?,
        actor: Actor::new(
            get::<String>(row, "actor_id")?,
            get::<String>(row, "actor_name")?,
        ),
        reason: get(row, "reason")?,
        captured_at: get_time(row, "captured_at")?,
        pack: get(row, "pack")?,
        sha256: get(row, "sha256")?,
    })
}

pub(crate) async fn insert_evidence(
    conn: &mut AnyConnection,
    _backend: Backend,
    e: &NewEvidence,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO evidence (post_id, org, action, actor_id, actor_name, reason, captured_at, \
         pack, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(e.post_id)
    .bind(e.org.as_str())
    .bind(e.action.as_str())
    .bind(e.actor.id.as_str())
    .bind(e.actor.name.as_str())
    .bind(e.reason.as_deref())
    .bind(ms(e.captured_at))
    .bind(e.pack.as_str())
    .bind(e.sha256.as_str())
    .fetch_one(&mut *conn)
    .await?;
    get(&row, "id")
}

pub(crate) async fn get_evidence(
    conn: &mut AnyConnection,
    _backend: Backend,
    id: i64,
) -> Result<Option<EvidenceRecord>> {
    let sql = format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| evidence_from_row(&row))
        .transpose()
}

pub(crate) async fn evidence_for_post(
    conn: &mut AnyConnection,
    _backend: Backend,
    post_id: i64,
) -> Result<Vec<EvidenceRecord>> {
    let sql = format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE post_id = $1 ORDER BY id");
    sqlx::query(&sql)
        .bind(post_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(evidence_from_row)
        .collect()
}

stored_enum! {
    /// Where a claimed action is.
    pub enum ClaimState, "action_claims.state" {
        /// Claimed; the platform call is in flight.
        Running => "running",
        /// Done.
        Done => "done",
        /// Tried and failed; may be claimed again.
        Failed => "failed",
    }
}

/// What [`claim_action`](super::Store::claim_action) did.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This caller now owns the action and must finish it.
    Won,
    /// Someone else has it (running or done): who, when and how far.
    Taken {
        state: ClaimState,
        by: Actor,
        at: DateTime<Utc>,
        reason: Option<String>,
    },
}

/// How long a `running` claim is honoured before a new claimer may take it
/// over (a process that died mid-call never finishes its claim).
pub const CLAIM_LEASE: Duration = Duration::minutes(10);

pub(crate) async fn claim_action(
    conn: &mut AnyConnection,
    _backend: Backend,
    post_id: i64,
    action: &str,
    actor: &Actor,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Claim> {
    // One statement: insert, or take over a failed (or stale running) claim.
    // Concurrent callers serialise on the primary key; exactly one gets a row
    // back.
    let won = sqlx::query(
        "INSERT INTO action_claims (post_id, action, state, actor_id, actor_name, reason, at) \
         VALUES ($1, $2, 'running', $3, $4, $5, $6) \
         ON CONFLICT (post_id, action) DO UPDATE SET state = 'running', \
         actor_id = excluded.actor_id, actor_name = excluded.actor_name, \
         reason = excluded.reason, at = excluded.at \
         WHERE action_claims.state = 'failed' \
         OR (action_claims.state = 'running' AND action_claims.at < $7) \
         RETURNING post_id",
    )
    .bind(post_id)
    .bind(action)
    .bind(actor.id.as_str())
    .bind(actor.name.as_str())
    .bind(reason)
    .bind(ms(at))
    .bind(ms(at - CLAIM_LEASE))
    .fetch_optional(&mut *conn)
    .await?;
    if won.is_some() {
        return Ok(Claim::Won);
    }
    let row = sqlx::query(
        "SELECT state, actor_id, actor_name, reason, at FROM action_claims \
         WHERE post_id = $1 AND action = $2",
    )
    .bind(post_id)
    .bind(action)
    .fetch_one(&mut *conn)
    .await?;
    let state: String = get(&row, "state")?;
    Ok(Claim::Taken {
        state: ClaimState::from_column(&state)?,
        by: Actor::new(
            get::<String>(&row, "actor_id")?,
            get::<String>(&row, "actor_name")?,
        ),
        at: get_time(&row, "at")?,
        reason: get(&row, "reason")?,
    })
}

pub(crate) async fn finish_action(
    conn: &mut AnyConnection,
    _backend: Backend,
    post_id: i64,
    action: &str,
    state: ClaimState,
    at: DateTime<Utc>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE action_claims SET state = $3, at = $4 WHERE post_id = $1 AND action = $2",
    )
    .bind(post_id)
    .bind(action)
    .bind(state.as_str())
    .bind(ms(at))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(super::StoreError::not_found(
            "action claim",
            format!("{post_id}/{action}"),
        ));
    }
    Ok(())
}
