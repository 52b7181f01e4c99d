//! The platform-reply outbox worker: takes `platform.reply` jobs from the
//! durable `jobs` table, sends the queued automatic reply (out of hours,
//! crisis, clinical signposting) through the platform client, and records the
//! result. A public post gets a public reply; a DM gets a private message,
//! inside Meta's 24-hour messaging window only. Transient failures retry with
//! backoff; permanent ones mark the reply suppressed with the reason. Every
//! send and failure is audited. Jobs are claimed with a lease, so a crash
//! mid-send leaves the job to be claimed again: nothing queued is lost.

use crate::model::{Platform, PostKind};
use crate::platforms::{platform_name, Op, Platforms, Target};
use crate::store::{AuditEntry, AuditOutcome, AutoReplyStatus, JobStatus, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// The job kind this worker drains.
pub const KIND: &str = "platform.reply";

/// How long a claimed job is ours before another worker may take it.
const LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// Meta allows replying to a user's message for this long.
const META_MESSAGING_WINDOW_HOURS: i64 = 24;

/// What one step of the worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing due.
    Idle,
    /// A reply went out.
    Sent { post_id: i64, template: String },
    /// The reply was not sent and will not be (reason recorded).
    Suppressed { post_id: i64, reason: String },
    /// A transient failure; the job will be retried at the given time.
    Retry { post_id: i64, at: DateTime<Utc> },
    /// The job was already done (the reply is no longer queued).
    AlreadyDone { post_id: i64 },
}

/// Backoff before retry `attempt` (1-based): 30 s, 1 min, 2 min … up to 30 min.
fn backoff(attempt: u32) -> Duration {
    let secs = 30i64.saturating_mul(1 << attempt.saturating_sub(1).min(6));
    Duration::seconds(secs.min(1800))
}

/// Claim and handle one due job.
pub async fn step(
    store: &Store,
    platforms: &Platforms,
    now: DateTime<Utc>,
) -> Result<Step, StoreError> {
    let Some(job) = store.claim_next(&[KIND], now, LEASE).await? else {
        return Ok(Step::Idle);
    };
    let post_id = job.payload["post_id"].as_i64().unwrap_or_default();
    let template = job.payload["template"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(post) = store.get_post(post_id).await? else {
        store.fail(job.id, "post not found", None, now).await?;
        return Ok(Step::Suppressed {
            post_id,
            reason: "post not found".into(),
        });
    };
    let queued = store
        .auto_replies_for_post(post_id)
        .await?
        .into_iter()
        .find(|r| r.template == template && r.status == AutoReplyStatus::Queued);
    let Some(reply) = queued else {
        store.complete(job.id, now).await?;
        return Ok(Step::AlreadyDone { post_id });
    };
    let p = &post.post;
    let audit = |action: &str, reason: Option<String>, outcome: AuditOutcome, detail| AuditEntry {
        at: now,
        org: p.org.clone(),
        post_id: Some(post_id),
        actor_id: crate::pipeline::SYSTEM_ACTOR.0.into(),
        actor_name: crate::pipeline::SYSTEM_ACTOR.1.into(),
        action: action.into(),
        reason,
        outcome,
        detail: Some(detail),
    };

    let dm = p.kind == PostKind::Dm;
    let meta = matches!(p.platform, Platform::Facebook | Platform::Instagram);
    let late = now - p.created_at > Duration::hours(META_MESSAGING_WINDOW_HOURS);
    let skip = if p.platform == Platform::Other {
        Some("no way to reply on this platform".to_string())
    } else if dm && meta && late {
        Some(format!(
            "outside {}'s {META_MESSAGING_WINDOW_HOURS}-hour messaging window",
            platform_name(p.platform)
        ))
    } else {
        None
    };
    if let Some(reason) = skip {
        store
            .set_auto_reply_status(reply.id, AutoReplyStatus::Suppressed, Some(&reason), now)
            .await?;
        store.complete(job.id, now).await?;
        store
            .append_audit(&audit(
                "auto_reply.suppressed",
                Some(reason.clone()),
                AuditOutcome::Ok,
                json!({ "template": template, "auto_reply_id": reply.id }),
            ))
            .await?;
        return Ok(Step::Suppressed { post_id, reason });
    }

    let op = if dm {
        Op::PrivateMessage {
            text: reply.text.clone(),
        }
    } else {
        Op::Reply {
            text: reply.text.clone(),
        }
    };
    let result = match platforms.require(p.platform) {
        Ok(client) => client.execute(&Target::of(&post), &op).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(receipt) => {
            store
                .set_auto_reply_status(reply.id, AutoReplyStatus::Sent, None, now)
                .await?;
            store.complete(job.id, now).await?;
            let outcome = if receipt.dry_run {
                AuditOutcome::DryRun
            } else {
                AuditOutcome::Ok
            };
            store
                .append_audit(&audit(
                    "auto_reply.sent",
                    None,
                    outcome,
                    json!({
                        "template": template,
                        "auto_reply_id": reply.id,
                        "request": receipt.request,
                        "created_id": receipt.created_id,
                    }),
                ))
                .await?;
            Ok(Step::Sent { post_id, template })
        }
        Err(e) if e.is_transient() && job.attempts < job.max_attempts => {
            let at = now + backoff(job.attempts);
            store.fail(job.id, &e.detail(), Some(at), now).await?;
            Ok(Step::Retry { post_id, at })
        }
        Err(e) => {
            let reason = format!("send failed: {}", e.user_message());
            store
                .set_auto_reply_status(reply.id, AutoReplyStatus::Suppressed, Some(&reason), now)
                .await?;
            let status = store.fail(job.id, &e.detail(), None, now).await?;
            debug_assert_eq!(status, JobStatus::Dead);
            store
                .append_audit(&audit(
                    "auto_reply.failed",
                    Some(reason.clone()),
                    AuditOutcome::Failed(e.detail()),
                    json!({ "template": template, "auto_reply_id": reply.id }),
                ))
                .await?;
            Ok(Step::Suppressed { post_id, reason })
        }
    }
}

/// Drain due jobs until `stop` flips, checking every second when idle and
/// returning expired leases to the queue.
pub async fn run(store: Store, platforms: Platforms, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let now = Utc::now();
        if let Err(e) = store.release_expired(now).await {
            tracing::warn!(error = %e, "releasing expired reply jobs failed");
        }
        match step(&store, &platforms, now).await {
            Ok(Step::Idle) | Err(_) => {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
            }
            Ok(s) => tracing::debug!(step = ?s, "platform reply"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(20), Duration::seconds(1800));
    }
}
