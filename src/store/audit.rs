//! `actions`: the append-only, hash-chained audit log.
//!
//! See the [module docs](super) for the canonical hash form.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::fmt;

use super::error::{Result, StoreError};
use super::util::{get, get_time, ms};
use super::Backend;

/// The `prev_hash` of the first row: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited action turned out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    /// Done. Stored as `ok`.
    Ok,
    /// Would have been done, but the org runs in dry-run mode. Stored as `dry_run`.
    DryRun,
    /// Tried and failed. Stored as `failed: <message>`.
    Failed(String),
}

impl AuditOutcome {
    /// The stored text.
    pub fn to_text(&self) -> String {
        match self {
            AuditOutcome::Ok => "ok".to_owned(),
            AuditOutcome::DryRun => "dry_run".to_owned(),
            AuditOutcome::Failed(msg) => format!("failed: {msg}"),
        }
    }

    /// Parses the stored text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ok" => Some(AuditOutcome::Ok),
            "dry_run" => Some(AuditOutcome::DryRun),
            _ => text
                .strip_prefix("failed: ")
                .map(|msg| AuditOutcome::Failed(msg.to_owned())),
        }
    }
}

impl fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub org: String,
    pub post_id: Option<i64>,
    pub actor_id: String,
    pub actor_name: String,
    /// What was done, e.g. `hide`, `relay.dismiss`, `auto_reply`, `hours.override`.
    pub action: String,
    pub reason: Option<String>,
    pub outcome: AuditOutcome,
    /// Structured detail, stored as compact JSON text.
    pub detail: Option<serde_json::Value>,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub org: String,
    pub post_id: Option<i64>,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub reason: Option<String>,
    /// The stored outcome text (see [`AuditOutcome`]).
    pub outcome: String,
    /// The stored detail JSON text, exactly as hashed.
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    /// The outcome, parsed.
    pub fn outcome(&self) -> Option<AuditOutcome> {
        AuditOutcome::parse(&self.outcome)
    }

    /// The detail, parsed.
    pub fn detail_json(&self) -> Option<serde_json::Value> {
        self.detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
    }

    /// The canonical serialisation of every column but `prev_hash` and `hash`.
    pub fn canonical(&self) -> String {
        canonical(
            self.id,
            ms(self.at),
            &self.org,
            self.post_id,
            &self.actor_id,
            &self.actor_name,
            &self.action,
            self.reason.as_deref(),
            &self.outcome,
            self.detail.as_deref(),
        )
    }

    /// The hash this row should have, given its `prev_hash` and content.
    pub fn compute_hash(&self) -> String {
        chain_hash(&self.prev_hash, &self.canonical())
    }
}

#[allow(clippy::too_many_arguments)]
fn canonical(
    id: i64,
    at_ms: i64,
    org: &str,
    post_id: Option<i64>,
    actor_id: &str,
    actor_name: &str,
    action: &str,
    reason: Option<&str>,
    outcome: &str,
    detail: Option<&str>,
) -> String {
    serde_json::json!([
        id, at_ms, org, post_id, actor_id, actor_name, action, reason, outcome, detail
    ])
    .to_string()
}

/// `hex(sha256(prev_hash || canonical))`, lower-case.
pub fn chain_hash(prev_hash: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Which audit rows to read. Empty means all, in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub post_id: Option<i64>,
    pub org: Option<String>,
    /// Rows with `at >= from`.
    pub from: Option<DateTime<Utc>>,
    /// Rows with `at < until`.
    pub until: Option<DateTime<Utc>>,
    /// Rows with `id > after_id` (for paging).
    pub after_id: Option<i64>,
    pub limit: Option<u32>,
}

/// The result of [`verify_audit`](super::Store::verify_audit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Rows examined, including the first broken one if any.
    pub rows_checked: u64,
    /// The first row at which the chain breaks; `None` when intact.
    pub first_broken: Option<BrokenRow>,
    /// Id and hash of the last row when the chain is intact. Keep it
    /// somewhere else (a Discord post, a log line) to detect truncation of the
    /// tail, which a chain alone cannot show.
    pub head: Option<(i64, String)>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Where and why the audit chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenRow {
    pub id: i64,
    pub reason: BreakReason,
}

/// Why a row breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakReason {
    /// The row's `prev_hash` is not the previous row's `hash`: a row before it
    /// was deleted, inserted or re-hashed, or rows were reordered.
    PrevHashMismatch { expected: String, found: String },
    /// The row's content does not hash to its `hash`: the row was altered.
    HashMismatch { stored: String, computed: String },
    /// Ids must run 1, 2, 3, … with no gaps.
    IdGap { expected: i64, found: i64 },
}

impl fmt::Display for BreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakReason::PrevHashMismatch { expected, found } => write!(
                f,
                "prev_hash {found} does not match the previous row's hash {expected} \
                 (a row was deleted, inserted or reordered)"
            ),
            BreakReason::HashMismatch { stored, computed } => write!(
                f,
                "content hashes to {computed} but the stored hash is {stored} (the row was altered)"
            ),
            BreakReason::IdGap { expected, found } => {
                write!(f, "expected id {expected} but found {found}")
            }
        }
    }
}

pub(crate) const AUDIT_COLUMNS: &str =
    "id, at, org, post_id, actor_id, actor_name, action, reason, outcome, detail, prev_hash, hash";

pub(crate) fn audit_from_row(row: &AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        id: get(row, "id")?,
        at: get_time(row, "at")?,
        org: get(row, "org")?,
        post_id: get(row, "post_id")?,
        actor_id: get(row, "actor_id")?,
        actor_name: get(row, "actor_name")?,
        action: get(row, "action")?,
        reason: get(row, "reason")?,
        outcome: get(row, "outcome")?,
        detail: get(row, "detail")?,
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

/// The last row's id and hash, or `(0, GENESIS_HASH)` for an empty log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditHead {
    pub id: i64,
    pub hash: String,
}

/// Takes the lock that serialises appenders, for the rest of the transaction.
/// SQLite: nothing to do, every store transaction is `BEGIN IMMEDIATE` and so
/// already holds the database's single write lock. PostgreSQL: a table lock
/// that conflicts with itself and with plain writers but not with readers.
pub(crate) async fn lock_for_append(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("LOCK TABLE actions IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(crate) async fn read_head(conn: &mut AnyConnection) -> Result<AuditHead> {
    let row = sqlx::query("SELECT id, hash FROM actions ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(row) => AuditHead {
            id: get(&row, "id")?,
            hash: get(&row, "hash")?,
        },
        None => AuditHead {
            id: 0,
            hash: GENESIS_HASH.to_owned(),
        },
    })
}

/// Appends after `head`. The caller holds the append lock.
/// The row that `entry` becomes when appended after `head`, hash included.
pub(crate) fn build_row(head: &AuditHead, entry: &AuditEntry) -> Result<AuditRow> {
    let detail = entry
        .detail
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Invalid(format!("audit detail: {e}")))?;
    let mut row = AuditRow {
        id: head.id + 1,
        // Stored with millisecond precision; hash what is stored.
        at: super::util::time_from_ms("actions.at", ms(entry.at))?,
        org: entry.org.clone(),
        post_id: entry.post_id,
        actor_id: entry.actor_id.clone(),
        actor_name: entry.actor_name.clone(),
        action: entry.action.clone(),
        reason: entry.reason.clone(),
        outcome: entry.outcome.to_text(),
        detail,
        prev_hash: head.hash.clone(),
        hash: String::new(),
    };
    row.hash = row.compute_hash();
    Ok(row)
}

/// Inserts already-chained rows in one statement.
pub(crate) async fn insert_rows(conn: &mut AnyConnection, rows: &[AuditRow]) -> Result<()> {
    for chunk in rows.chunks(super::batch::CHUNK) {
        insert_chunk(conn, chunk).await?;
    }
    Ok(())
}

async fn insert_chunk(conn: &mut AnyConnection, rows: &[AuditRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO actions ({AUDIT_COLUMNS}) VALUES {}",
        super::util::Params::for_conn(conn).rows(rows.len(), 12)
    );
    let mut q = sqlx::query(&sql);
    for row in rows {
        q = q
            .bind(row.id)
            .bind(ms(row.at))
            .bind(row.org.as_str())
            .bind(row.post_id)
            .bind(row.actor_id.as_str())
            .bind(row.actor_name.as_str())
            .bind(row.action.as_str())
            .bind(row.reason.as_deref())
            .bind(row.outcome.as_str())
            .bind(row.detail.as_deref())
            .bind(row.prev_hash.as_str())
            .bind(row.hash.as_str());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

pub(crate) async fn insert_after(
    conn: &mut AnyConnection,
    head: &AuditHead,
    entry: &AuditEntry,
) -> Result<AuditRow> {
    let row = build_row(head, entry)?;
    insert_rows(conn, std::slice::from_ref(&row)).await?;
    Ok(row)
}

pub(crate) async fn audit_rows(
    conn: &mut AnyConnection,
    _backend: Backend,
    filter: &AuditFilter,
) -> Result<Vec<AuditRow>> {
    enum Arg<'a> {
        Int(i64),
        Text(&'a str),
    }
    fn push<'a>(
        conditions: &mut Vec<String>,
        args: &mut Vec<Arg<'a>>,
        condition: &str,
        arg: Arg<'a>,
    ) {
        args.push(arg);
        conditions.push(format!("{condition} ${}", args.len()));
    }
    let mut conditions: Vec<String> = Vec::new();
    let mut args: Vec<Arg<'_>> = Vec::new();
    if let Some(post_id) = filter.post_id {
        push(&mut conditions, &mut args, "post_id =", Arg::Int(post_id));
    }
    if let Some(org) = &filter.org {
        push(&mut conditions, &mut args, "org =", Arg::Text(org));
    }
    if let Some(from) = filter.from {
        push(&mut conditions, &mut args, "at >=", Arg::Int(ms(from)));
    }
    if let Some(until) = filter.until {
        push(&mut conditions, &mut args, "at <", Arg::Int(ms(until)));
    }
    if let Some(after) = filter.after_id {
        push(&mut conditions, &mut args, "id >", Arg::Int(after));
    }
    let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM actions");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(" ORDER BY id");
    if let Some(limit) = filter.limit {
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" LIMIT ${}", args.len()));
    }
    let mut query = sqlx::query(&sql);
    for arg in args {
        query = match arg {
            Arg::Int(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
        };
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(audit_from_row)
        .collect()
}

pub(crate) async fn verify_audit(
    conn: &mut AnyConnection,
    _backend: Backend,
) -> Result<VerifyReport> {
    const PAGE: i64 = 1000;
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM actions WHERE id > $1 ORDER BY id LIMIT $2");
    let mut rows_checked = 0u64;
    let mut prev = AuditHead {
        id: 0,
        hash: GENESIS_HASH.to_owned(),
    };
    loop {
        let page = sqlx::query(&sql)
            .bind(prev.id)
            .bind(PAGE)
            .fetch_all(&mut *conn)
            .await?;
        let page_len = page.len();
        for raw in &page {
            let row = audit_from_row(raw)?;
            rows_checked += 1;
            let reason = if row.prev_hash != prev.hash {
                Some(BreakReason::PrevHashMismatch {
                    expected: prev.hash.clone(),
                    found: row.prev_hash.clone(),
                })
            } else if row.compute_hash() != row.hash {
                Some(BreakReason::HashMismatch {
                    stored: row.hash.clone(),
                    computed: row.compute_hash(),
                })
            } else if row.id != prev.id + 1 {
                Some(BreakReason::IdGap {
                    expected: prev.id + 1,
                    found: row.id,
                })
            } else {
                None
            };
            if let Some(reason) = reason {
                return Ok(VerifyReport {
                    rows_checked,
                    first_broken: Some(BrokenRow { id: row.id, reason }),
                    head: None,
                });
            }
            prev = AuditHead {
                id: row.id,
                hash: row.hash,
            };
        }
        if (page_len as i64) < PAGE {
            break;
        }
    }
    Ok(VerifyReport {
        rows_checked,
        first_broken: None,
        head: (prev.id > 0).then_some((prev.id, prev.hash)),
    })
}
