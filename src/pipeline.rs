//! The ingest pipeline: one accepted post goes through classify → decide →
//! store, all inside the caller's transaction, so a post is either fully
//! recorded (post, classification, author strike, relay job, auto-reply,
//! audit rows) or not at all. Adapters (webhooks, `signpost replay`) call
//! [`Pipeline::ingest`]; effects (Discord relays, platform replies) leave
//! through the `jobs` outbox, never from here.

use crate::category::Category;
use crate::classify::{Classification, Classifier, Input, RecentPost};
use crate::config::{Config, ConfigError};
use crate::decide::{self, AuthorHistory, Context, Decision, REMOVABLE};
use crate::hours::{Override, OverrideKind, Schedule};
use crate::model::InboundPost;
use crate::model::Platform;
use crate::replies::Replies;
use crate::store::{
    self, AuditEntry, AuditOutcome, AutoReplyStatus, NewAutoReply, NewJob, PendingWrites,
    StoreError, StoreTx,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::collections::BTreeMap;
use std::collections::HashMap;

/// Everything compiled once at start-up that ingest needs.
pub struct Pipeline {
    pub config: Config,
    pub classifier: Classifier,
    pub replies: Replies,
    schedules: BTreeMap<String, Schedule>,
    /// Whether platform effects are simulated (replay, dry-run mode): auto
    /// replies are then recorded as sent with a `dry_run` audit outcome.
    pub dry_run: bool,
}

/// What became of one post.
// Returned once per post and matched at once; boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Ingested {
    /// A new post, classified, decided and recorded.
    New {
        post_id: i64,
        classification: Classification,
        decision: Decision,
    },
    /// Already stored: a platform retry or a replayed file. Nothing changed.
    Duplicate { post_id: i64 },
}

/// Why a post could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("unknown org `{0}`")]
    UnknownOrg(String),
    #[error(transparent)]
    Decide(#[from] decide::DecideError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The system actor recorded in audit rows written by the pipeline.
pub const SYSTEM_ACTOR: (&str, &str) = ("signpost", "Signpost");

impl Pipeline {
    /// Compile the classifier, load replies and build every org's schedule.
    pub fn new(config: Config, replies: Replies, dry_run: bool) -> Result<Pipeline, ConfigError> {
        let classifier = Classifier::new(&config)?;
        let mut schedules = BTreeMap::new();
        for org in config.orgs.keys() {
            schedules.insert(org.clone(), config.schedule(org)?);
        }
        Ok(Pipeline {
            config,
            classifier,
            replies,
            schedules,
            dry_run,
        })
    }

    /// Load config and replies from a config directory (replies beside it).
    pub fn load(config_dir: &std::path::Path, dry_run: bool) -> Result<Pipeline, ConfigError> {
        let config = Config::load(config_dir)?;
        let replies = Replies::load(&crate::replies::default_dir(config_dir), &config)?;
        Pipeline::new(config, replies, dry_run)
    }

    /// The schedule of `org`.
    pub fn schedule(&self, org: &str) -> Option<&Schedule> {
        self.schedules.get(org)
    }

    /// The byte ranges of personal data in `text` when `org` masks
    /// personal data (`mask_personal_data`; an unknown org masks), else
    /// none. Spans are not stored: the classifier finds them again.
    pub fn personal_spans(
        &self,
        org: &str,
        text: &str,
        at: Option<DateTime<Utc>>,
    ) -> Vec<std::ops::Range<usize>> {
        let mask = self
            .config
            .orgs
            .get(org)
            .is_none_or(|o| o.mask_personal_data);
        if !mask {
            return Vec::new();
        }
        self.classifier
            .classify(&crate::classify::Input {
                text,
                org: Some(org),
                at,
                recent: &[],
            })
            .personal_spans
    }

    /// `text` as the team sees it in Discord and in reports: personal data
    /// masked when `org` says so, exactly as in its relay.
    pub fn shown_text(&self, org: &str, text: &str) -> String {
        let spans = self.personal_spans(org, text, None);
        if spans.is_empty() {
            return text.to_owned();
        }
        crate::classify::Classification {
            personal_spans: spans,
            ..crate::classify::Classification::default()
        }
        .masked(text)
    }

    /// The hours overrides of `org` that still matter at `now` (those ending
    /// after it), for [`Pipeline::ingest`]. A batch loads them once.
    pub async fn overrides(
        &self,
        tx: &mut StoreTx,
        org: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Override>, IngestError> {
        Ok(tx
            .active_overrides(org, now)
            .await?
            .into_iter()
            .map(|o| Override {
                start: o.starts_at,
                end: o.ends_at,
                kind: match o.kind {
                    store::OverrideKind::Open => OverrideKind::Open,
                    store::OverrideKind::Closed => OverrideKind::Closed,
                },
            })
            .collect())
    }

    /// Classify, decide and record one post, with `now` as the clock. `recent`
    /// holds the author's recent posts for the repetition check; `overrides`
    /// the org's hours overrides (see [`Pipeline::overrides`]). Everything is
    /// written before this returns (inside the caller's transaction).
    pub async fn ingest(
        &self,
        tx: &mut StoreTx,
        post: &InboundPost,
        raw: Option<&str>,
        recent: &[RecentPost],
        overrides: &[Override],
        now: DateTime<Utc>,
    ) -> Result<Ingested, IngestError> {
        let mut batch = Batch::default();
        let out = self
            .ingest_into(tx, &mut batch, post, raw, recent, overrides, now)
            .await?;
        batch.flush(tx, now).await?;
        Ok(out)
    }

    /// As [`Pipeline::ingest`], but only the post row is written now; the
    /// rest waits in `batch` until [`Batch::flush`], which must run before the
    /// transaction commits. Later posts in the same batch see the earlier
    /// ones' strikes and auto-replies, so the decisions are the same as one
    /// post at a time.
    #[allow(clippy::too_many_arguments)]
    pub async fn ingest_into(
        &self,
        tx: &mut StoreTx,
        batch: &mut Batch,
        post: &InboundPost,
        raw: Option<&str>,
        recent: &[RecentPost],
        overrides: &[Override],
        now: DateTime<Utc>,
    ) -> Result<Ingested, IngestError> {
        let org = self
            .config
            .orgs
            .get(&post.org)
            .ok_or_else(|| IngestError::UnknownOrg(post.org.clone()))?;
        let schedule = self
            .schedules
            .get(&post.org)
            .ok_or_else(|| IngestError::UnknownOrg(post.org.clone()))?;

        let (post_id, inserted) = tx.insert_post(post, raw, now).await?;
        if !inserted {
            return Ok(Ingested::Duplicate { post_id });
        }

        let since = post.created_at - Duration::days(i64::from(org.strikes.days));
        let stored = tx
            .author_history(post.platform, &post.author_id, since)
            .await?;
        let key = (post.platform, post.author_id.clone());
        let pending = batch.authors.entry(key).or_default();
        let history = AuthorHistory {
            flagged_in_window: stored.flagged_since
                + pending.flagged_at.iter().filter(|t| **t >= since).count() as u32,
            blocked: stored.blocked,
            last_auto_reply_at: stored.last_auto_reply_at.max(pending.last_auto_reply_at),
        };

        let classification = self.classifier.classify(&Input {
            text: &post.text,
            org: Some(&post.org),
            at: Some(post.created_at),
            recent,
        });

        let decision = decide::decide(
            post,
            &classification,
            &history,
            &Context {
                org,
                schedule: schedule.with_overrides(overrides),
                replies: &self.replies,
                now,
            },
        )?;

        let stored_classification = store::Classification {
            post_id,
            categories: classification.categories.clone(),
            rules: classification.rules.clone(),
            severity: classification.severity,
            classified_at: now,
        };
        if stored_classification.flagged() {
            pending.flagged_at.push(post.created_at);
        }
        batch.writes.classification(stored_classification);
        let strike = decision.acted_on.iter().any(|c| REMOVABLE.contains(c));
        batch.writes.author_seen(
            post.platform,
            &post.author_id,
            &post.author_handle,
            now,
            u32::from(strike),
        );

        let audit =
            |action: &str, reason: Option<String>, outcome: AuditOutcome, detail| AuditEntry {
                at: now,
                org: post.org.clone(),
                post_id: Some(post_id),
                actor_id: SYSTEM_ACTOR.0.into(),
                actor_name: SYSTEM_ACTOR.1.into(),
                action: action.into(),
                reason,
                outcome,
                detail: Some(detail),
            };
        batch.audits.push(audit(
            "classify",
            None,
            AuditOutcome::Ok,
            json!({
                "categories": classification.categories,
                "rules": classification.rules,
                "severity": classification.severity,
                "in_hours": decision.in_hours,
            }),
        ));

        if let Some(relay) = &decision.relay {
            batch.writes.relay(post_id, &post.org, now);
            let payload = json!({
                "post_id": post_id,
                "priority": relay.priority,
                "categories": decision.acted_on,
                "suggested_actions": decision.suggested_actions,
                "block_suggested": decision.block_suggested,
                "crisis": decision.acted_on.contains(&Category::Crisis),
            });
            batch.writes.job(
                NewJob::new("discord.relay", &post.org, payload, now)
                    .dedupe_key(format!("relay:{post_id}")),
            );
            batch.audits.push(audit(
                "relay.queued",
                Some(relay.reason.clone()),
                AuditOutcome::Ok,
                json!({ "priority": relay.priority }),
            ));
        }

        if let Some(reply) = &decision.auto_reply {
            let (status, outcome) = if self.dry_run {
                (AutoReplyStatus::Sent, AuditOutcome::DryRun)
            } else {
                (AutoReplyStatus::Queued, AuditOutcome::Ok)
            };
            batch.writes.auto_reply(NewAutoReply {
                post_id,
                org: post.org.clone(),
                platform: post.platform,
                author_id: post.author_id.clone(),
                template: reply.template.as_str().into(),
                text: reply.text.clone(),
                status,
                reason: self.dry_run.then(|| "dry run: not posted".to_string()),
                at: now,
            });
            pending.last_auto_reply_at = pending.last_auto_reply_at.max(Some(now));
            if !self.dry_run {
                // The worker finds the queued reply by post and template.
                batch.writes.job(
                    NewJob::new(
                        "platform.reply",
                        &post.org,
                        json!({ "post_id": post_id, "template": reply.template.as_str() }),
                        now,
                    )
                    .dedupe_key(format!("auto_reply:{post_id}:{}", reply.template.as_str())),
                );
            }
            batch.audits.push(audit(
                "auto_reply",
                None,
                outcome,
                json!({ "template": reply.template.as_str() }),
            ));
        }
        for s in &decision.suppressed {
            batch.writes.auto_reply(NewAutoReply {
                post_id,
                org: post.org.clone(),
                platform: post.platform,
                author_id: post.author_id.clone(),
                template: s.template.as_str().into(),
                text: String::new(),
                status: AutoReplyStatus::Suppressed,
                reason: Some(s.reason.clone()),
                at: now,
            });
            batch.audits.push(audit(
                "auto_reply.suppressed",
                Some(s.reason.clone()),
                AuditOutcome::Ok,
                json!({ "template": s.template.as_str() }),
            ));
        }

        Ok(Ingested::New {
            post_id,
            classification,
            decision,
        })
    }
}

/// Writes of a batch of posts not yet made, and what they change about each
/// author, so later posts in the batch are decided on up-to-date history.
#[derive(Debug, Default)]
pub struct Batch {
    writes: PendingWrites,
    audits: Vec<AuditEntry>,
    authors: HashMap<(Platform, String), PendingAuthor>,
}

#[derive(Debug, Default)]
struct PendingAuthor {
    /// Creation times of this batch's flagged posts by the author.
    flagged_at: Vec<DateTime<Utc>>,
    last_auto_reply_at: Option<DateTime<Utc>>,
}

impl Batch {
    /// Write everything pending (multi-row inserts, then the audit rows in
    /// order) and start afresh. Call before committing.
    pub async fn flush(&mut self, tx: &mut StoreTx, now: DateTime<Utc>) -> Result<(), StoreError> {
        tx.write_pending(&mut self.writes, now).await?;
        tx.append_audit_many(&self.audits).await?;
        self.audits.clear();
        self.authors.clear();
        Ok(())
    }
}
