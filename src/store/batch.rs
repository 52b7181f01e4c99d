//! Buffered writes: everything the pipeline records about a batch of posts
//! except the post rows themselves, written table by table with multi-row
//! inserts at the end of the batch. Same rows, same semantics as the
//! one-at-a-time operations, in a handful of statements instead of several
//! per post (each statement costs a round trip to the database).

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

use super::error::{Result, StoreError};
use super::jobs::NewJob;
use super::posts::Classification;
use super::replies::NewAutoReply;
use super::util::{ms, Params};
use crate::model::Platform;

/// Rows per INSERT statement (and ids per `IN (…)` list). Writes number
/// their parameters only on PostgreSQL (see [`Params`]); reads that still
/// use `$N` on SQLite keep lists this short because SQLite's parameter-name
/// lookup is quadratic in the parameters of a statement.
pub(crate) const CHUNK: usize = 40;

/// An author seen in a batch, with strikes to add.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuthorSeen {
    handle: String,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    strikes: u32,
}

/// Writes waiting for [`StoreTx::write_pending`](super::StoreTx::write_pending).
#[derive(Debug, Default, Clone)]
pub struct PendingWrites {
    classifications: Vec<Classification>,
    authors: BTreeMap<(Platform, String), AuthorSeen>,
    relays: Vec<(i64, String, DateTime<Utc>)>,
    jobs: Vec<NewJob>,
    auto_replies: Vec<NewAutoReply>,
}

impl PendingWrites {
    /// As [`record_classification`](super::Store::record_classification).
    pub fn classification(&mut self, c: Classification) {
        self.classifications.push(c);
    }

    /// As [`upsert_author_seen`](super::Store::upsert_author_seen), plus
    /// `strikes` added as by [`add_strike`](super::Store::add_strike).
    pub fn author_seen(
        &mut self,
        platform: Platform,
        author_id: &str,
        handle: &str,
        at: DateTime<Utc>,
        strikes: u32,
    ) {
        let e = self
            .authors
            .entry((platform, author_id.to_string()))
            .or_insert_with(|| AuthorSeen {
                handle: handle.to_string(),
                first_seen: at,
                last_seen: at,
                strikes: 0,
            });
        if at >= e.last_seen {
            e.handle = handle.to_string();
            e.last_seen = at;
        }
        e.first_seen = e.first_seen.min(at);
        e.strikes += strikes;
    }

    /// As [`create_relay`](super::Store::create_relay) with no channel yet.
    pub fn relay(&mut self, post_id: i64, org: &str, at: DateTime<Utc>) {
        self.relays.push((post_id, org.to_string(), at));
    }

    /// As [`enqueue`](super::Store::enqueue).
    pub fn job(&mut self, job: NewJob) {
        self.jobs.push(job);
    }

    /// As [`record_auto_reply`](super::Store::record_auto_reply).
    pub fn auto_reply(&mut self, reply: NewAutoReply) {
        self.auto_replies.push(reply);
    }
}

/// Write everything pending and leave `w` empty.
pub(crate) async fn write_pending(
    conn: &mut AnyConnection,
    w: &mut PendingWrites,
    now: DateTime<Utc>,
) -> Result<()> {
    for chunk in w.classifications.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO classifications (post_id, categories, rules, severity, flagged, classified_at) \
             VALUES {} ON CONFLICT (post_id) DO UPDATE SET categories = excluded.categories, \
             rules = excluded.rules, severity = excluded.severity, flagged = excluded.flagged, \
             classified_at = excluded.classified_at",
            Params::for_conn(conn).rows(chunk.len(), 6)
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            let categories = serde_json::to_string(&c.categories)
                .map_err(|e| StoreError::Invalid(format!("serialising categories: {e}")))?;
            let rules = serde_json::to_string(&c.rules)
                .map_err(|e| StoreError::Invalid(format!("serialising rules: {e}")))?;
            q = q
                .bind(c.post_id)
                .bind(categories)
                .bind(rules)
                .bind(c.severity.as_str())
                .bind(i32::from(c.flagged()))
                .bind(ms(c.classified_at));
        }
        q.execute(&mut *conn).await?;
    }

    let authors: Vec<_> = std::mem::take(&mut w.authors).into_iter().collect();
    for chunk in authors.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO authors (platform, author_id, handle, strikes, blocked, first_seen, last_seen) \
             VALUES {} ON CONFLICT (platform, author_id) DO UPDATE SET \
             strikes = authors.strikes + excluded.strikes, \
             handle = CASE WHEN excluded.last_seen >= authors.last_seen \
                           THEN excluded.handle ELSE authors.handle END, \
             first_seen = CASE WHEN excluded.first_seen < authors.first_seen \
                               THEN excluded.first_seen ELSE authors.first_seen END, \
             last_seen = CASE WHEN excluded.last_seen > authors.last_seen \
                              THEN excluded.last_seen ELSE authors.last_seen END",
            Params::for_conn(conn).rows(chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for ((platform, author_id), a) in chunk {
            q = q
                .bind(platform.as_str())
                .bind(author_id.as_str())
                .bind(a.handle.as_str())
                .bind(i64::from(a.strikes))
                .bind(0i32)
                .bind(ms(a.first_seen))
                .bind(ms(a.last_seen));
        }
        q.execute(&mut *conn).await?;
    }

    for chunk in w.relays.chunks(CHUNK) {
        // Each relay carries its post's arrival time (migration 0007); set
        // here, the trigger that would fill it in afterwards never fires.
        let mut p = Params::for_conn(conn);
        let values: Vec<String> = (0..chunk.len())
            .map(|_| {
                let row = p.list(6);
                format!(
                    "({row}, (SELECT received_at FROM posts WHERE id = {}))",
                    p.next()
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO relays (post_id, org, channel_id, state, created_at, updated_at, \
             received_at) VALUES {} ON CONFLICT (post_id) DO NOTHING",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (post_id, org, at) in chunk {
            q = q
                .bind(*post_id)
                .bind(org.as_str())
                .bind(Option::<&str>::None)
                .bind("pending")
                .bind(ms(*at))
                .bind(ms(*at))
                .bind(*post_id);
        }
        q.execute(&mut *conn).await?;
    }

    for chunk in w.jobs.chunks(CHUNK) {
        if chunk.iter().any(|j| j.max_attempts == 0) {
            return Err(StoreError::Invalid(
                "max_attempts must be at least 1".to_owned(),
            ));
        }
        let sql = format!(
            "INSERT INTO jobs (kind, org, payload, dedupe_key, status, attempts, max_attempts, \
             run_after, created_at, updated_at) VALUES {} ON CONFLICT (dedupe_key) DO NOTHING",
            Params::for_conn(conn).rows(chunk.len(), 10)
        );
        let mut q = sqlx::query(&sql);
        for j in chunk {
            q = q
                .bind(j.kind.as_str())
                .bind(j.org.as_str())
                .bind(j.payload.to_string())
                .bind(j.dedupe_key.as_deref())
                .bind("queued")
                .bind(0i64)
                .bind(i64::from(j.max_attempts))
                .bind(ms(j.run_after))
                .bind(ms(now))
                .bind(ms(now));
        }
        q.execute(&mut *conn).await?;
    }

    for chunk in w.auto_replies.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO auto_replies (post_id, org, platform, author_id, template, text, status, \
             reason, at) VALUES {}",
            Params::for_conn(conn).rows(chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.post_id)
                .bind(r.org.as_str())
                .bind(r.platform.as_str())
                .bind(r.author_id.as_str())
                .bind(r.template.as_str())
                .bind(r.text.as_str())
                .bind(r.status.as_str())
                .bind(r.reason.as_deref())
                .bind(ms(r.at));
        }
        q.execute(&mut *conn).await?;
    }

    w.classifications.clear();
    w.relays.clear();
    w.jobs.clear();
    w.auto_replies.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_number_every_value_or_none() {
        assert_eq!(Params::numbered().rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(Params::anonymous().rows(2, 2), "(?, ?), (?, ?)");
        let mut p = Params::numbered();
        assert_eq!(
            (p.list(2), p.next()),
            ("$1, $2".to_owned(), "$3".to_owned())
        );
    }
}
