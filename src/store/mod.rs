//! Signpost's storage layer: everything the bot remembers, in one database.
//!
//! This module owns the schema (`migrations/sqlite`, `migrations/postgres`),
//! the embedded migrator, and every read and write of: posts and their
//! classifications, Discord relays and their state, authors, the audit log,
//! automatic replies, staffed-hours overrides, the durable job outbox,
//! evidence snapshots, per-action claims, the resume cursors of inbound
//! pollers, and the handover digest's read-only summaries.
//! Nothing else in the crate talks SQL.
//!
//! # Backends
//!
//! One [`Store`] wraps an [`sqlx::AnyPool`] and picks the backend from the URL:
//!
//! * `sqlite://data/signpost.db` (or `sqlite:/abs/path.db`, `sqlite::memory:`):
//!   the parent directory and the file are created if missing; connections
//!   use WAL, `synchronous=NORMAL`, foreign keys, a busy timeout and
//!   memory-mapped reads.
//! * `postgres://user:pass@host/db` (or `postgresql://…`).
//!
//! Every query is written once with `$1, $2, …` placeholders, which both
//! accept, except the multi-row inserts, whose markers come from
//! `util::Params` (`?` on SQLite, where binding hundreds of `$N` costs
//! quadratic time); the two migration files differ only in types. Conventions:
//! times are integer **milliseconds since the Unix epoch, UTC** (so anything
//! finer than a millisecond is dropped), flags are integers 0/1, and JSON
//! (`raw`, `categories`, `rules`, `detail`, `payload`) is stored as text.
//!
//! # Batching
//!
//! Every operation exists on [`Store`] (one pooled connection, autocommit)
//! and on [`StoreTx`] (inside a transaction from [`Store::begin`]). A replay
//! should run a few hundred posts per transaction: on SQLite a transaction is
//! `BEGIN IMMEDIATE`, i.e. it holds the single write lock from the start, so
//! keep them short; on PostgreSQL the first audit append in a transaction
//! locks the audit log until commit. Dropping a [`StoreTx`] without
//! [`StoreTx::commit`] rolls it back. On PostgreSQL two batches inserting
//! the same posts while appending audit rows can deadlock; the server then
//! aborts one of them with an error, and that batch should be retried.
//!
//! # The audit log
//!
//! `actions` is append-only (no update or delete API; triggers on both
//! backends reject `UPDATE` and `DELETE`) and hash-chained. Row `n` stores
//!
//! ```text
//! hash = lowercase_hex( sha256( prev_hash ‖ canonical ) )
//! ```
//!
//! where `prev_hash` is the previous row's `hash` as 64 ASCII hex characters
//! (for the first row, [`GENESIS_HASH`]: 64 `0`s), `‖` is byte concatenation,
//! and `canonical` is the UTF-8 JSON array of the row's other columns in this
//! fixed order, as serialised by `serde_json` with no whitespace:
//!
//! ```text
//! [id, at, org, post_id, actor_id, actor_name, action, reason, outcome, detail]
//! ```
//!
//! `id`, `at` (milliseconds) and `post_id` are JSON integers; the others JSON
//! strings; `post_id`, `reason` and `detail` are `null` when absent. `detail`
//! is included as a JSON *string* holding the stored detail text, not as a
//! nested value, so the hash covers the exact stored bytes. Example:
//! `[1,1700000000000,"las",42,"u1","Sam","hide",null,"ok","{\"k\":1}"]`.
//!
//! Ids are assigned by the appender as previous id + 1 while holding the
//! append lock (SQLite's write lock; PostgreSQL `LOCK TABLE actions IN SHARE
//! ROW EXCLUSIVE MODE`), so concurrent appenders never fork the chain.
//! [`Store::verify_audit`] walks the chain in id order and reports the first
//! row whose `prev_hash` does not match (a deleted, inserted or reordered row
//! shows up at the row after it), whose content does not match its hash (an
//! altered row), or whose id is not the previous id + 1. Deleting rows from
//! the *end* cannot be seen from the chain alone: record
//! [`VerifyReport::head`] elsewhere to catch that.
//!
//! # Flagged posts
//!
//! A post is *flagged* when its classification has at least one category.
//! This is stored as `classifications.flagged` (0/1) when the classification
//! is recorded, and [`AuthorHistory::flagged_since`] counts an author's
//! flagged posts by `posts.created_at`.
//!
//! # Errors and privacy
//!
//! [`StoreError`] separates not-found and conflict from database failures.
//! Error messages carry ids, never row contents; the store itself logs
//! nothing above debug level.

mod audit;
mod authors;
mod batch;
mod cursors;
mod digest;
mod error;
mod evidence;
mod jobs;
mod migrate;
mod overrides;
mod posts;
mod relays;
mod replies;
mod reports;
mod util;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use audit::{
    chain_hash, AuditEntry, AuditFilter, AuditOutcome, AuditRow, BreakReason, BrokenRow,
    VerifyReport, GENESIS_HASH,
};
pub use authors::{Author, AuthorHistory};
pub use batch::PendingWrites;
pub use digest::{DigestFacts, DigestPost};
pub use error::{Result, StoreError};
pub use evidence::{Claim, ClaimState, EvidenceRecord, NewEvidence, CLAIM_LEASE};
pub use jobs::{Job, JobStatus, NewJob, DEFAULT_MAX_ATTEMPTS};
pub use overrides::{HoursOverride, NewHoursOverride, OverrideKind};
pub use posts::{Classification, StoredPost};
pub use relays::{Actor, Relay, RelayState, Transition};
pub use replies::{AutoReply, AutoReplyStatus, NewAutoReply};
pub use reports::{
    ActionCount, Backlog, CategoryBucket, ExportQuery, ExportRow, OffenderRow, RelayTiming,
    ReplyCount, ReportScope, RollupDrift, RuleState, HUMAN,
};

use crate::model::{InboundPost, Platform};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names, by its scheme.
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(
                "database URL must start with sqlite: or postgres://".to_owned(),
            ))
        }
    }
}

/// How much of a SQLite file connections read through a memory map.
const SQLITE_MMAP_BYTES: u64 = 256 << 20;

/// Connection settings beyond the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Pool size; `None` picks 8 for SQLite (1 for `:memory:`) and 10 for
    /// PostgreSQL.
    pub max_connections: Option<u32>,
    /// How long to wait for a pooled connection.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for the write lock.
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: None,
            acquire_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(30),
        }
    }
}

/// The store: a connection pool plus the operations on it.
///
/// Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// A transaction on the store; every write operation of [`Store`] is also
/// here. Commit with [`StoreTx::commit`]; dropping it rolls back.
#[derive(Debug)]
pub struct StoreTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    /// The audit log's last row as of this transaction's previous append.
    /// Valid because the append lock is held until the transaction ends.
    audit_head: Option<audit::AuditHead>,
}

/// A SQLite URL taken apart.
struct SqliteTarget {
    /// `None` for `:memory:`.
    path: Option<PathBuf>,
    params: Option<String>,
}

fn parse_sqlite_url(url: &str) -> Result<SqliteTarget> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Config("not a sqlite: URL".to_owned()))?;
    let (db, params) = match rest.split_once('?') {
        Some((db, params)) => (db, Some(params.to_owned())),
        None => (rest, None),
    };
    if db.is_empty() {
        return Err(StoreError::Config("sqlite URL has no file name".to_owned()));
    }
    Ok(SqliteTarget {
        path: (db != ":memory:").then(|| PathBuf::from(db)),
        params,
    })
}

/// Percent-encodes a path for a `sqlite:` URL (sqlx decodes it again).
fn encode_path(path: &Path) -> Result<String> {
    let s = path
        .to_str()
        .ok_or_else(|| StoreError::Config("sqlite path is not UTF-8".to_owned()))?;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(out)
}

impl Store {
    /// Connects with default [`StoreOptions`] and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, StoreOptions::default()).await
    }

    /// Connects and applies pending migrations. Connecting again to a
    /// migrated database applies nothing.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut pool_options = AnyPoolOptions::new().acquire_timeout(options.acquire_timeout);
        let mut in_memory = false;
        let connect_url = match backend {
            Backend::Postgres => {
                pool_options = pool_options.max_connections(options.max_connections.unwrap_or(10));
                url.to_owned()
            }
            Backend::Sqlite => {
                let target = parse_sqlite_url(url)?;
                let mut params: Vec<String> = target
                    .params
                    .iter()
                    .flat_map(|p| p.split('&'))
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect();
                let file = match &target.path {
                    Some(path) => {
                        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                            std::fs::create_dir_all(parent).map_err(|e| {
                                StoreError::Config(format!("creating {}: {e}", parent.display()))
                            })?;
                        }
                        if !params.iter().any(|p| p.starts_with("mode=")) {
                            params.push("mode=rwc".to_owned());
                        }
                        encode_path(path)?
                    }
                    None => {
                        in_memory = true;
                        ":memory:".to_owned()
                    }
                };
                let max = if in_memory {
                    1
                } else {
                    options.max_connections.unwrap_or(8)
                };
                pool_options = pool_options.max_connections(max);
                if in_memory {
                    // Each new connection to `:memory:` is a new, empty
                    // database: keep the one connection forever.
                    pool_options = pool_options
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None);
                }
                // Reads through a memory map (up to 256 MiB of the file)
                // share the OS page cache instead of copying each page into
                // every connection's own cache with a read(2): a month's
                // report touches tens of thousands of pages. Statement
                // journals (a multi-row insert whose triggers keep the
                // rollups) stay in memory instead of a temporary file.
                let pragmas: std::sync::Arc<str> = format!(
                    "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; \
                     PRAGMA synchronous = NORMAL; PRAGMA mmap_size = {}; \
                     PRAGMA temp_store = MEMORY;",
                    options.busy_timeout.as_millis(),
                    SQLITE_MMAP_BYTES
                )
                .into();
                pool_options = pool_options.after_connect(move |conn, _meta| {
                    let pragmas = pragmas.clone();
                    Box::pin(async move {
                        conn.execute(&*pragmas).await?;
                        Ok(())
                    })
                });
                let mut u = format!("sqlite:{file}");
                if !params.is_empty() {
                    u.push('?');
                    u.push_str(&params.join("&"));
                }
                u
            }
        };
        let connect_options: AnyConnectOptions = connect_url
            .parse()
            .map_err(|e| StoreError::Config(format!("bad database URL: {e}")))?;
        let pool = pool_options.connect_with(connect_options).await?;

        let mut conn = pool.acquire().await?;
        if backend == Backend::Sqlite && !in_memory {
            // WAL is a property of the database file; set it once, here,
            // before any other connection is busy with the file.
            let row = sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_optional(&mut *conn)
                .await?;
            let mode: Option<String> = row
                .as_ref()
                .map(|r| util::get(r, "journal_mode"))
                .transpose()?;
            if mode.as_deref() != Some("wal") {
                tracing::warn!(?mode, "SQLite did not switch to WAL journaling");
            }
        }
        let applied = migrate::run(&mut conn, backend).await?;
        if !applied.is_empty() {
            tracing::info!(?applied, ?backend, "applied store migrations");
        }
        drop(conn);
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The underlying pool, for maintenance and tests. Writing through it
    /// bypasses the store's invariants.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection; waits for checked-out ones to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction (SQLite: `BEGIN IMMEDIATE`).
    pub async fn begin(&self) -> Result<StoreTx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(StoreTx {
            tx,
            backend: self.backend,
            audit_head: None,
        })
    }

    /// Appends to the audit log in its own transaction.
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<AuditRow> {
        let mut tx = self.begin().await?;
        let row = tx.append_audit(entry).await?;
        tx.commit().await?;
        Ok(row)
    }
}

impl StoreTx {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Appends to the audit log. The first append in a transaction takes the
    /// append lock (held until the transaction ends) and reads the chain's
    /// head; later ones chain on from the row appended before.
    pub async fn append_audit(&mut self, entry: &AuditEntry) -> Result<AuditRow> {
        let head = match self.audit_head.take() {
            Some(head) => head,
            None => {
                audit::lock_for_append(&mut self.tx, self.backend).await?;
                audit::read_head(&mut self.tx).await?
            }
        };
        let row = match audit::insert_after(&mut self.tx, &head, entry).await {
            Ok(row) => row,
            Err(e) => {
                // Keep the head we had; the caller may still roll back.
                self.audit_head = Some(head);
                return Err(e);
            }
        };
        self.audit_head = Some(audit::AuditHead {
            id: row.id,
            hash: row.hash.clone(),
        });
        Ok(row)
    }
}

impl StoreTx {
    /// Writes everything buffered in `pending` (see [`PendingWrites`]) with
    /// multi-row inserts, and empties it.
    pub async fn write_pending(
        &mut self,
        pending: &mut PendingWrites,
        now: DateTime<Utc>,
    ) -> Result<()> {
        batch::write_pending(&mut self.tx, pending, now).await
    }

    /// Appends several entries in order, chained as by [`StoreTx::append_audit`]
    /// one at a time, but written in a single statement.
    pub async fn append_audit_many(&mut self, entries: &[AuditEntry]) -> Result<Vec<AuditRow>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let head = match self.audit_head.take() {
            Some(head) => head,
            None => {
                audit::lock_for_append(&mut self.tx, self.backend).await?;
                audit::read_head(&mut self.tx).await?
            }
        };
        let mut rows = Vec::with_capacity(entries.len());
        let mut cursor = head.clone();
        for entry in entries {
            let row = audit::build_row(&cursor, entry)?;
            cursor = audit::AuditHead {
                id: row.id,
                hash: row.hash.clone(),
            };
            rows.push(row);
        }
        if let Err(e) = audit::insert_rows(&mut self.tx, &rows).await {
            self.audit_head = Some(head);
            return Err(e);
        }
        self.audit_head = Some(cursor);
        Ok(rows)
    }
}

/// Defines each operation twice: on [`Store`] (a pooled connection) and on
/// [`StoreTx`] (inside the transaction), both calling the same function.
macro_rules! operations {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = $path:path;
    )*) => {
        impl Store {
            $(
                $(#[$attr])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret> {
                    let mut conn = self.pool.acquire().await?;
                    $path(&mut conn, self.backend, $($arg),*).await
                }
            )*
        }

        impl StoreTx {
            $(
                $(#[$attr])*
                pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret> {
                    $path(&mut self.tx, self.backend, $($arg),*).await
                }
            )*
        }
    };
}

operations! {
    /// Stores a post unless one with the same `(platform, external_id)` is
    /// already stored. Returns the post's id and whether this call inserted
    /// it; a duplicate delivery returns the existing id and `false`.
    fn insert_post(post: &InboundPost, raw: Option<&str>, received_at: DateTime<Utc>) -> (i64, bool)
        = posts::insert_post;

    /// A stored post by id.
    fn get_post(id: i64) -> Option<StoredPost> = posts::get_post;

    /// Stored posts by id, in one query per 40 ids; missing ids are left out.
    fn get_posts(ids: &[i64]) -> Vec<StoredPost> = posts::get_posts;

    /// A stored post by its platform identity.
    fn find_post(platform: Platform, external_id: &str) -> Option<StoredPost> = posts::find_post;

    /// Records (or replaces) a post's classification.
    fn record_classification(classification: &Classification) -> () = posts::record_classification;

    /// A post's classification.
    fn get_classification(post_id: i64) -> Option<Classification> = posts::get_classification;

    /// Creates the relay for a post in state `pending`. Idempotent per post:
    /// returns the relay id and whether this call created it.
    fn create_relay(post_id: i64, org: &str, channel_id: Option<&str>, at: DateTime<Utc>) -> (i64, bool)
        = relays::create_relay;

    /// Records where the relay message went; a `pending` relay becomes `open`.
    fn set_relay_message(post_id: i64, channel_id: &str, message_id: &str, at: DateTime<Utc>) -> ()
        = relays::set_relay_message;

    /// A post's relay.
    fn get_relay(post_id: i64) -> Option<Relay> = relays::get_relay;

    /// Moves a relay from `expected` to `new` if, and only if, it is still in
    /// `expected` (one `UPDATE … WHERE state = expected`): of many concurrent
    /// clicks exactly one gets [`Transition::Applied`], the others
    /// [`Transition::AlreadyDone`] with the winner's name.
    fn transition_relay(
        post_id: i64,
        expected: RelayState,
        new: RelayState,
        actor: &Actor,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Transition = relays::transition_relay;

    /// Notes that an author posted at `at`, creating them on first sight.
    fn upsert_author_seen(platform: Platform, author_id: &str, handle: &str, at: DateTime<Utc>) -> ()
        = authors::upsert_author_seen;

    /// Adds a strike to a seen author; returns their new total.
    fn add_strike(platform: Platform, author_id: &str) -> u32 = authors::add_strike;

    /// Marks a seen author blocked (with `at`) or unblocked.
    fn set_blocked(platform: Platform, author_id: &str, blocked: bool, at: DateTime<Utc>) -> ()
        = authors::set_blocked;

    /// A stored author.
    fn get_author(platform: Platform, author_id: &str) -> Option<Author> = authors::get_author;

    /// An author's track record; all zeros for an author never seen.
    fn author_history(platform: Platform, author_id: &str, since: DateTime<Utc>) -> AuthorHistory
        = authors::author_history;

    /// Audit rows matching `filter`, in id order.
    fn audit_rows(filter: &AuditFilter) -> Vec<AuditRow> = audit::audit_rows;

    /// Walks the whole audit chain and reports the first broken row.
    fn verify_audit() -> VerifyReport = audit::verify_audit;

    /// Records an automatic reply (sent, suppressed or queued); returns its id.
    fn record_auto_reply(reply: &NewAutoReply) -> i64 = replies::record_auto_reply;

    /// Updates an automatic reply's status, e.g. `queued` → `sent`.
    fn set_auto_reply_status(id: i64, status: AutoReplyStatus, reason: Option<&str>, at: DateTime<Utc>) -> ()
        = replies::set_auto_reply_status;

    /// A post's automatic replies, oldest first.
    fn auto_replies_for_post(post_id: i64) -> Vec<AutoReply> = replies::auto_replies_for_post;

    /// Adds an hours override; returns its id.
    fn add_override(o: &NewHoursOverride) -> i64 = overrides::add_override;

    /// Removes an hours override.
    fn delete_override(id: i64) -> () = overrides::delete_override;

    /// Ends an override in force at `at` there (sets `ends_at = at`, keeping
    /// its history); false if it was not in force then.
    fn end_override(id: i64, at: DateTime<Utc>) -> bool = overrides::end_override;

    /// An org's overrides still in force at or after `at_or_after` (those
    /// ending after it), by start time.
    fn active_overrides(org: &str, at_or_after: DateTime<Utc>) -> Vec<HoursOverride>
        = overrides::active_overrides;

    /// An org's overrides overlapping `[from, to)`, by start time.
    fn overrides_between(org: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<HoursOverride>
        = overrides::overrides_between;

    /// Enqueues a job; with a dedupe key already used, does nothing. Returns
    /// the job's id and whether this call enqueued it.
    fn enqueue(job: &NewJob, now: DateTime<Utc>) -> (i64, bool) = jobs::enqueue;

    /// Claims the oldest due job of the given kinds (any kind if empty) for
    /// `lease`. Atomic: concurrent claimers never get the same job.
    fn claim_next(kinds: &[&str], now: DateTime<Utc>, lease: Duration) -> Option<Job>
        = jobs::claim_next;

    /// Marks a running job done. [`StoreError::Conflict`] if it is not running.
    fn complete(id: i64, now: DateTime<Utc>) -> () = jobs::complete;

    /// Records a failed attempt of a running job. With `retry_at` and attempts
    /// left the job becomes `failed` (claimable again from `retry_at`);
    /// otherwise `dead`. Returns the new status.
    fn fail(id: i64, error: &str, retry_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> JobStatus
        = jobs::fail;

    /// Puts running jobs whose lease ended before `now` back in the queue
    /// (or `dead` if they have no attempts left); returns how many.
    fn release_expired(now: DateTime<Utc>) -> u64 = jobs::release_expired;

    /// Jobs of `kind` not yet finished (queued, failed-awaiting-retry, running).
    fn queue_depth(kind: &str) -> u64 = jobs::queue_depth;

    /// A job by id.
    fn get_job(id: i64) -> Option<Job> = jobs::get_job;

    /// Waiting jobs of `kind` for `org` after job `after_id`, oldest first.
    fn waiting_after(kind: &str, org: &str, after_id: i64, limit: u32) -> Vec<Job>
        = jobs::waiting_after;

    /// Marks a waiting job done without claiming it; false if it was taken.
    fn complete_waiting(id: i64, now: DateTime<Utc>) -> bool = jobs::complete_waiting;

    /// Gives a running job back its current attempt (the try never reached
    /// the other side).
    fn uncount_attempt(id: i64) -> () = jobs::uncount_attempt;

    /// Stores an evidence snapshot (append-only); returns its id.
    fn insert_evidence(evidence: &NewEvidence) -> i64 = evidence::insert_evidence;

    /// An evidence snapshot by id.
    fn get_evidence(id: i64) -> Option<EvidenceRecord> = evidence::get_evidence;

    /// A post's evidence snapshots, oldest first.
    fn evidence_for_post(post_id: i64) -> Vec<EvidenceRecord> = evidence::evidence_for_post;

    /// Claims `action` on a post for `actor` (one statement): of many
    /// concurrent or repeated callers exactly one gets [`Claim::Won`]; the
    /// others get [`Claim::Taken`] with the holder's name, unless the holder
    /// failed (or its `running` claim is older than [`CLAIM_LEASE`]).
    fn claim_action(
        post_id: i64,
        action: &str,
        actor: &Actor,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Claim = evidence::claim_action;

    /// Marks a claimed action `done` or `failed`.
    fn finish_action(post_id: i64, action: &str, state: ClaimState, at: DateTime<Utc>) -> ()
        = evidence::finish_action;
    /// The stored resume point of an inbound source (e.g. a Mastodon
    /// poller's last notification id), if any.
    fn get_cursor(source: &str) -> Option<String> = cursors::get_cursor;

    /// Sets an inbound source's resume point; write it in the same
    /// transaction as the posts it covers.
    fn set_cursor(source: &str, value: &str, at: DateTime<Utc>) -> () = cursors::set_cursor;

    /// The handover digest's facts for `org` over `[from, to)`: posts by
    /// platform and category, automatic replies, crisis posts (the first
    /// `limit` listed), and the relays still needing action now (the
    /// oldest `limit` listed).
    fn digest_facts(org: &str, from: DateTime<Utc>, to: DateTime<Utc>, limit: u32) -> DigestFacts
        = digest::digest_facts;

    /// Posts received in the scope, by platform.
    fn inbound_by_platform(scope: &ReportScope) -> Vec<(Platform, u64)> = reports::inbound_by_platform;

    /// Flagged posts received in the scope, by arrival bucket and categories.
    fn flagged_buckets(scope: &ReportScope, bucket_ms: i64) -> Vec<CategoryBucket>
        = reports::flagged_buckets;

    /// Relays acted on in the scope's window, by action bucket and categories.
    fn actioned_buckets(scope: &ReportScope, bucket_ms: i64) -> Vec<CategoryBucket>
        = reports::actioned_buckets;

    /// Arrival and relay state of the relayed posts received in the scope.
    fn relay_timings(scope: &ReportScope) -> Vec<RelayTiming> = reports::relay_timings;

    /// Relayed posts received in the scope, by rule set and relay state.
    fn rule_states(scope: &ReportScope) -> Vec<RuleState> = reports::rule_states;

    /// Authors with two or more removable-flagged posts in the scope.
    fn offenders(scope: &ReportScope, limit: u32) -> Vec<OffenderRow> = reports::offenders;

    /// People's audited actions in the scope, by action, member and failure.
    fn human_actions(scope: &ReportScope) -> Vec<ActionCount> = reports::human_actions;

    /// `auto_replies` rows in the scope, by template, status and reason.
    fn reply_counts(scope: &ReportScope) -> Vec<ReplyCount> = reports::reply_counts;

    /// Where the report rollups disagree with a recount from the raw tables
    /// (empty when the triggers that keep them are right). Reads everything.
    fn rollup_drift() -> Vec<RollupDrift> = reports::rollup_drift;

    /// Relays of `org` still `pending` or `open`, now.
    fn backlog(org: &str, platform: Option<Platform>) -> Backlog = reports::backlog;

    /// The first post stored with this URL.
    fn find_post_by_url(url: &str) -> Option<StoredPost> = reports::find_post_by_url;

    /// Authors whose latest handle is exactly `handle`.
    fn authors_by_handle(handle: &str) -> Vec<Author> = reports::authors_by_handle;

    /// Distinct handles starting with `prefix`, sorted (for autocomplete).
    fn handles_starting(prefix: &str, limit: u32) -> Vec<String> = reports::handles_starting;

    /// An author's latest posts to `org`, newest first.
    fn posts_by_author(platform: Platform, author_id: &str, org: &str, limit: u32) -> Vec<StoredPost>
        = reports::posts_by_author;

    /// How many posts an author has sent to `org`.
    fn count_posts_by_author(platform: Platform, author_id: &str, org: &str) -> u64
        = reports::count_posts_by_author;

    /// One page of the audit log for export, in id order: the rows `q`
    /// covers with `id > after_id`, at most `limit`.
    fn export_page(q: &ExportQuery, after_id: i64, limit: u32) -> Vec<ExportRow> = reports::export_page;

    /// The lowest audit id with `at >= from`.
    fn first_audit_id_from(from: DateTime<Utc>) -> Option<i64> = reports::first_audit_id_from;
}
