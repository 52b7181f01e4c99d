//! The action executor: what happens when a team member clicks a button on
//! a relay (or a command asks for the same). [`perform`] owns the order of
//! effects and their records:
//!
//! 1. refuse actions the post's platform cannot do ([`crate::platforms::capabilities`]);
//!    authorisation (Discord roles) is the caller's job;
//! 2. compare-and-set, so repeated or concurrent calls act exactly once: a
//!    per-(post, action) claim ([`Store::claim_action`]); Dismiss moves the
//!    relay `open → dismissed` with [`Store::transition_relay`]. Losers get
//!    [`ActionError::AlreadyDone`] with the winner's name and time. Claims are
//!    per action (not one per relay) so follow-ups stay possible: hide, then
//!    block a repeat offender, then escalate;
//! 3. evidence first, for hide, delete, block and escalate ([`crate::evidence`]);
//! 4. the platform call (none for Escalate and Dismiss);
//! 5. an audit row: actor id and name, action, reason, outcome (`ok`,
//!    `dry_run` or `failed: …`), detail with the platform ids and request.
//!    A failure marks the claim `failed`, leaves the relay open and returns
//!    [`ActionError::Platform`], so the Retry button can call again;
//! 6. on success the relay becomes `actioned`, a block marks the author
//!    blocked, and after hide, delete or block the org's `action_notice` goes
//!    to the author ("We'll always message users who we've taken any action
//!    against"): a Meta private reply within the platform's window (else
//!    skipped, with the reason recorded), an X DM, a Mastodon direct
//!    message. The notice is recorded in `auto_replies` and audited
//!    (`action_notice`).
//!
//! Dismiss ("Not an issue") writes a `dismiss` audit row whose detail holds
//! the post's rule ids and categories, for per-rule false-positive figures.

use crate::category::Action;
use crate::evidence;
use crate::model::Platform;
use crate::platforms::{
    op_for, platform_name, post_capabilities, Op, PlatformError, Platforms, Receipt, Target,
};
use crate::replies::{action_phrase, RenderError, Replies, Template, Vars};
use crate::store::{
    Actor, AuditEntry, AuditOutcome, AutoReplyStatus, Claim, ClaimState, NewAutoReply, NewEvidence,
    RelayState, Store, StoreError, StoredPost, Transition,
};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::London;
use serde_json::{json, Value};

/// What the executor needs.
#[derive(Debug, Clone, Copy)]
pub struct ActionContext<'a> {
    pub store: &'a Store,
    pub replies: &'a Replies,
    pub platforms: &'a Platforms,
}

/// The reason given to an author when the team gave none.
pub const DEFAULT_NOTICE_REASON: &str = "it breaks our social media principles";

/// Actions that take an evidence snapshot first.
pub const EVIDENCE_ACTIONS: &[Action] = &[
    Action::Hide,
    Action::Delete,
    Action::Block,
    Action::Escalate,
];

/// Actions after which the author is sent the org's `action_notice`.
pub const NOTICE_ACTIONS: &[Action] = &[Action::Hide, Action::Delete, Action::Block];

/// The reply template an action sends, if it is a templated reply.
pub fn template_for(action: Action) -> Option<Template> {
    match action {
        Action::SignpostComplaints => Some(Template::ComplaintSignpost),
        Action::SignpostClinical => Some(Template::ClinicalSignpost),
        Action::SignpostCrisis => Some(Template::Crisis),
        Action::AskToDm => Some(Template::AskToDm),
        _ => None,
    }
}

/// What became of the action notice to the author.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Sent (or simulated, with the dry-run platform).
    Sent {
        auto_reply_id: i64,
        receipt: Receipt,
    },
    /// Deliberately not sent, e.g. outside Facebook's private-reply window.
    Skipped { auto_reply_id: i64, reason: String },
    /// The platform refused or failed.
    Failed {
        auto_reply_id: i64,
        error: PlatformError,
    },
}

/// A completed action.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    pub post_id: i64,
    pub action: Action,
    /// The platform call made; `None` for Escalate and Dismiss.
    pub receipt: Option<Receipt>,
    /// The evidence snapshot taken first, with its hash.
    pub evidence: Option<(i64, String)>,
    /// The action notice, after hide, delete or block.
    pub notice: Option<Notice>,
    /// The text sent, for replies.
    pub reply_text: Option<String>,
    /// The action's audit row.
    pub audit_id: i64,
    pub dry_run: bool,
}

/// Where an earlier call left the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlreadyState {
    /// Another call is doing it right now.
    InProgress,
    /// Done.
    Done,
    /// The relay was dismissed.
    Dismissed,
    /// The relay was already actioned (only Dismiss sees this).
    Actioned,
}

/// Why an action was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("post {0} not found")]
    PostNotFound(i64),
    #[error("{platform} cannot {action}")]
    Unsupported { platform: Platform, action: Action },
    #[error("{0} needs reply text")]
    MissingText(Action),
    #[error("{action} already {state:?} by {by_name} at {at}")]
    AlreadyDone {
        action: Action,
        state: AlreadyState,
        by_id: String,
        by_name: String,
        at: DateTime<Utc>,
    },
    /// The platform call failed; audited, and the action can be retried.
    #[error("{error}")]
    Platform {
        error: PlatformError,
        /// Whether retrying unchanged may work (transient); permanent errors
        /// need a fix first, but the relay allows a retry either way.
        retryable: bool,
        audit_id: i64,
    },
    #[error("rendering the reply: {0}")]
    Render(#[from] RenderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The past tense of an action, for "Already hidden by …".
pub fn done_phrase(action: Action) -> &'static str {
    match action {
        Action::Hide => "hidden",
        Action::Delete => "deleted",
        Action::Block => "blocked",
        Action::Report => "reported",
        Action::Escalate => "escalated",
        Action::SignpostComplaints => "signposted to complaints",
        Action::SignpostClinical => "signposted to clinical help",
        Action::SignpostCrisis => "sent crisis support",
        Action::AskToDm => "asked to DM",
        Action::Reply => "replied to",
        Action::Dismiss => "dismissed",
    }
}

impl ActionError {
    /// A short message for Discord.
    pub fn user_message(&self) -> String {
        match self {
            ActionError::PostNotFound(_) => "That post is no longer in Signpost.".to_owned(),
            ActionError::Unsupported { platform, action } => format!(
                "{} cannot do \"{}\".",
                platform_name(*platform),
                action.label().trim_end_matches('…')
            ),
            ActionError::MissingText(_) => "Write the reply text first.".to_owned(),
            ActionError::AlreadyDone {
                action,
                state,
                by_name,
                at,
                ..
            } => {
                let time = at.with_timezone(&London).format("%H:%M");
                match state {
                    AlreadyState::InProgress => format!(
                        "{by_name} is already doing this ({} since {time}).",
                        action.label().trim_end_matches('…')
                    ),
                    AlreadyState::Done => {
                        let phrase = done_phrase(*action);
                        let mut s = format!("Already {phrase} by {by_name} at {time}");
                        if let Some(c) = s.get(..1) {
                            s.replace_range(..1, &c.to_uppercase());
                        }
                        s
                    }
                    AlreadyState::Dismissed => format!("Already dismissed by {by_name} at {time}"),
                    AlreadyState::Actioned => format!("Already actioned by {by_name} at {time}"),
                }
            }
            ActionError::Platform { error, .. } => error.user_message(),
            ActionError::Render(_) => "The reply template could not be filled.".to_owned(),
            ActionError::Store(_) => "Signpost could not record this; try again.".to_owned(),
        }
    }

    /// Whether the Retry button should be offered.
    pub fn retry_allowed(&self) -> bool {
        matches!(self, ActionError::Platform { .. } | ActionError::Store(_))
    }
}

fn outcome_of(dry_run: bool) -> AuditOutcome {
    if dry_run {
        AuditOutcome::DryRun
    } else {
        AuditOutcome::Ok
    }
}

/// Carries out `action` on the stored post `post_id` for `actor`.
///
/// `reason` is the team member's reason (audited, told to the author in the
/// action notice, sent as the comment of a Mastodon report); `reply_text` is
/// the text of a Reply. `now` is the clock.
pub async fn perform(
    ctx: &ActionContext<'_>,
    post_id: i64,
    action: Action,
    actor: &Actor,
    reason: Option<&str>,
    reply_text: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, ActionError> {
    let post = ctx
        .store
        .get_post(post_id)
        .await?
        .ok_or(ActionError::PostNotFound(post_id))?;
    let platform = post.post.platform;
    if !post_capabilities(platform, post.post.kind, ctx.platforms.x_block_allowed).contains(&action)
    {
        return Err(ActionError::Unsupported { platform, action });
    }
    if action == Action::Dismiss {
        return dismiss(ctx, &post, actor, reason, now).await;
    }

    // The reply text, before anything is claimed.
    let text = match (template_for(action), action) {
        (Some(t), _) => Some(ctx.replies.render(
            &post.post.org,
            t,
            platform,
            &Vars::author(post.post.author_handle.clone()),
        )?),
        (None, Action::Reply) => match reply_text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(t.to_owned()),
            None => return Err(ActionError::MissingText(action)),
        },
        _ => None,
    };

    match ctx
        .store
        .claim_action(post_id, action.as_str(), actor, reason, now)
        .await?
    {
        Claim::Won => {}
        Claim::Taken { state, by, at, .. } => {
            return Err(ActionError::AlreadyDone {
                action,
                state: if state == ClaimState::Done {
                    AlreadyState::Done
                } else {
                    AlreadyState::InProgress
                },
                by_id: by.id,
                by_name: by.name,
                at,
            })
        }
    }

    match act(ctx, &post, action, actor, reason, text, now).await {
        Ok(outcome) => Ok(outcome),
        Err(e) => {
            // Leave the action claimable again; the relay stays open.
            if let Err(fe) = ctx
                .store
                .finish_action(post_id, action.as_str(), ClaimState::Failed, now)
                .await
            {
                tracing::error!(post_id, %action, error = %fe, "could not release a failed action claim");
            }
            Err(e)
        }
    }
}

async fn act(
    ctx: &ActionContext<'_>,
    post: &StoredPost,
    action: Action,
    actor: &Actor,
    reason: Option<&str>,
    text: Option<String>,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, ActionError> {
    let store = ctx.store;
    let p = &post.post;
    let classification = store.get_classification(post.id).await?;
    let rules = classification
        .as_ref()
        .map(|c| c.rules.clone())
        .unwrap_or_default();

    // 1. Evidence first.
    let evidence = if EVIDENCE_ACTIONS.contains(&action) {
        let pack = evidence::build_pack(
            post,
            classification.as_ref(),
            actor,
            action.as_str(),
            reason,
            now,
        );
        let (pack, sha256) = evidence::seal(&pack);
        let id = store
            .insert_evidence(&NewEvidence {
                post_id: post.id,
                org: p.org.clone(),
                action: action.as_str().to_owned(),
                actor: actor.clone(),
                reason: reason.map(str::to_owned),
                captured_at: now,
                pack,
                sha256: sha256.clone(),
            })
            .await?;
        Some((id, sha256))
    } else {
        None
    };

    // 2. The platform call.
    let target = Target::of(post);
    let op = op_for(action, text.as_deref(), reason).map(|op| match op {
        Op::Report { comment } if comment.trim().is_empty() => Op::Report {
            comment: format!("Reported by the {} communications team.", p.org),
        },
        op => op,
    });
    let mut detail = json!({
        "platform": p.platform.as_str(),
        "external_id": p.external_id,
        "account": p.account,
        "author_id": p.author_id,
        "rules": rules,
    });
    if let Some((id, hash)) = &evidence {
        detail["evidence_id"] = json!(id);
        detail["evidence_sha256"] = json!(hash);
    }
    let receipt = match &op {
        None => None,
        Some(op) => {
            let result = match ctx.platforms.require(p.platform) {
                Ok(client) => client.execute(&target, op).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(r) => Some(r),
                Err(error) => {
                    detail["op"] = json!(op.name());
                    detail["error"] = json!(error.detail());
                    detail["user_message"] = json!(error.user_message());
                    detail["transient"] = json!(error.is_transient());
                    let row = store
                        .append_audit(&AuditEntry {
                            at: now,
                            org: p.org.clone(),
                            post_id: Some(post.id),
                            actor_id: actor.id.clone(),
                            actor_name: actor.name.clone(),
                            action: action.as_str().to_owned(),
                            reason: reason.map(str::to_owned),
                            outcome: AuditOutcome::Failed(error.detail()),
                            detail: Some(detail),
                        })
                        .await?;
                    return Err(ActionError::Platform {
                        retryable: error.is_transient(),
                        error,
                        audit_id: row.id,
                    });
                }
            }
        }
    };
    let dry_run = receipt.as_ref().is_some_and(|r| r.dry_run);

    // 3. Record success.
    if let Some(r) = &receipt {
        detail["op"] = json!(r.op);
        detail["request"] = json!(r.request);
        detail["created_id"] = json!(r.created_id);
        detail["attempts"] = json!(r.attempts);
    }
    store
        .finish_action(post.id, action.as_str(), ClaimState::Done, now)
        .await?;
    let audit = store
        .append_audit(&AuditEntry {
            at: now,
            org: p.org.clone(),
            post_id: Some(post.id),
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            action: action.as_str().to_owned(),
            reason: reason.map(str::to_owned),
            outcome: outcome_of(dry_run),
            detail: Some(detail),
        })
        .await?;
    mark_relay(store, post.id, RelayState::Actioned, actor, reason, now).await?;
    if action == Action::Block {
        match store.set_blocked(p.platform, &p.author_id, true, now).await {
            Ok(()) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let (Some(text), Some(_)) = (&text, &receipt) {
        store
            .record_auto_reply(&NewAutoReply {
                post_id: post.id,
                org: p.org.clone(),
                platform: p.platform,
                author_id: p.author_id.clone(),
                template: template_for(action)
                    .map_or("reply", Template::as_str)
                    .to_owned(),
                text: text.clone(),
                status: AutoReplyStatus::Sent,
                reason: Some(format!("{} by {}", action.as_str(), actor.name)),
                at: now,
            })
            .await?;
    }

    // 4. Tell the author.
    let notice = if NOTICE_ACTIONS.contains(&action) {
        Some(send_notice(ctx, post, action, actor, reason, now).await?)
    } else {
        None
    };

    Ok(ActionOutcome {
        post_id: post.id,
        action,
        receipt,
        evidence,
        notice,
        reply_text: text,
        audit_id: audit.id,
        dry_run,
    })
}

/// Moves a `pending` or `open` relay to `new`. Returns what happened, or
/// `None` if the post has no relay.
async fn mark_relay(
    store: &Store,
    post_id: i64,
    new: RelayState,
    actor: &Actor,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Transition>, StoreError> {
    if store.get_relay(post_id).await?.is_none() {
        return Ok(None);
    }
    let mut t = store
        .transition_relay(post_id, RelayState::Open, new, actor, reason, now)
        .await?;
    if let Transition::AlreadyDone {
        state: RelayState::Pending,
        ..
    } = t
    {
        t = store
            .transition_relay(post_id, RelayState::Pending, new, actor, reason, now)
            .await?;
    }
    Ok(Some(t))
}

async fn dismiss(
    ctx: &ActionContext<'_>,
    post: &StoredPost,
    actor: &Actor,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, ActionError> {
    let store = ctx.store;
    if let Some(Transition::AlreadyDone {
        state,
        by_id,
        by_name,
        at,
        ..
    }) = mark_relay(store, post.id, RelayState::Dismissed, actor, reason, now).await?
    {
        return Err(ActionError::AlreadyDone {
            action: Action::Dismiss,
            state: if state == RelayState::Dismissed {
                AlreadyState::Dismissed
            } else {
                AlreadyState::Actioned
            },
            by_id: by_id.unwrap_or_default(),
            by_name: by_name.unwrap_or_else(|| "someone".to_owned()),
            at: at.unwrap_or(now),
        });
    }
    let c = store.get_classification(post.id).await?;
    let row = store
        .append_audit(&AuditEntry {
            at: now,
            org: post.post.org.clone(),
            post_id: Some(post.id),
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            action: Action::Dismiss.as_str().to_owned(),
            reason: reason.map(str::to_owned),
            outcome: AuditOutcome::Ok,
            detail: Some(json!({
                "platform": post.post.platform.as_str(),
                "external_id": post.post.external_id,
                "false_positive": true,
                "rules": c.as_ref().map(|c| c.rules.clone()).unwrap_or_default(),
                "categories": c.as_ref().map(|c| c.categories.clone()).unwrap_or_default(),
            })),
        })
        .await?;
    Ok(ActionOutcome {
        post_id: post.id,
        action: Action::Dismiss,
        receipt: None,
        evidence: None,
        notice: None,
        reply_text: None,
        audit_id: row.id,
        dry_run: false,
    })
}

/// Sends the org's `action_notice` to the author, following the platform's
/// rules, records it in `auto_replies` and audits it.
async fn send_notice(
    ctx: &ActionContext<'_>,
    post: &StoredPost,
    action: Action,
    actor: &Actor,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Notice, ActionError> {
    let store = ctx.store;
    let p = &post.post;
    let vars = Vars {
        action: action_phrase(action).map(str::to_owned),
        reason: Some(
            reason
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .unwrap_or(DEFAULT_NOTICE_REASON)
                .to_owned(),
        ),
        ..Vars::author(p.author_handle.clone())
    };
    let text = ctx
        .replies
        .render(&p.org, Template::ActionNotice, p.platform, &vars)?;

    // Platform rules: Meta allows one private reply to a comment within its
    // window; X and Mastodon take a DM / direct message any time.
    let skip = match p.platform {
        Platform::Other => Some("no private channel to the author on this platform".to_owned()),
        pf => ctx.platforms.private_reply_days(pf).and_then(|days| {
            let deadline = p.created_at + Duration::days(i64::from(days));
            (now > deadline).then(|| {
                format!(
                    "outside {}'s {days}-day private reply window (post made {})",
                    platform_name(pf),
                    p.created_at.to_rfc3339()
                )
            })
        }),
    };
    let mut reply = NewAutoReply {
        post_id: post.id,
        org: p.org.clone(),
        platform: p.platform,
        author_id: p.author_id.clone(),
        template: Template::ActionNotice.as_str().to_owned(),
        text: text.clone(),
        status: AutoReplyStatus::Sent,
        reason: Some(format!("after {} by {}", action.as_str(), actor.name)),
        at: now,
    };
    let mut detail: Value = json!({
        "platform": p.platform.as_str(),
        "external_id": p.external_id,
        "author_id": p.author_id,
        "after": action.as_str(),
    });
    let (notice_of, outcome) = if let Some(why) = skip {
        reply.status = AutoReplyStatus::Suppressed;
        reply.reason = Some(why.clone());
        detail["skipped"] = json!(why);
        (Err(why), AuditOutcome::Ok)
    } else {
        let op = Op::PrivateMessage { text: text.clone() };
        let result = match ctx.platforms.require(p.platform) {
            Ok(client) => client.execute(&Target::of(post), &op).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(r) => {
                detail["request"] = json!(r.request);
                detail["created_id"] = json!(r.created_id);
                let outcome = outcome_of(r.dry_run);
                (Ok(Ok(r)), outcome)
            }
            Err(e) => {
                reply.status = AutoReplyStatus::Suppressed;
                reply.reason = Some(format!("send failed: {}", e.detail()));
                detail["error"] = json!(e.detail());
                let outcome = AuditOutcome::Failed(e.detail());
                (Ok(Err(e)), outcome)
            }
        }
    };
    let auto_reply_id = store.record_auto_reply(&reply).await?;
    detail["auto_reply_id"] = json!(auto_reply_id);
    store
        .append_audit(&AuditEntry {
            at: now,
            org: p.org.clone(),
            post_id: Some(post.id),
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            action: "action_notice".to_owned(),
            reason: reply.reason.clone(),
            outcome,
            detail: Some(detail),
        })
        .await?;
    Ok(match notice_of {
        Err(reason) => Notice::Skipped {
            auto_reply_id,
            reason,
        },
        Ok(Ok(receipt)) => Notice::Sent {
            auto_reply_id,
            receipt,
        },
        Ok(Err(error)) => Notice::Failed {
            auto_reply_id,
            error,
        },
    })
}
