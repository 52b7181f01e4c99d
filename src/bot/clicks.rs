//! Click handling: what happens when a team member presses a button on a
//! relay or submits one of Signpost's modals.
//!
//! [`Clicks::handle`] takes a [`Click`] (built from a Discord interaction by
//! the gateway adapter, or directly by tests and benches) and answers it
//! through Discord's REST API:
//!
//! - a custom_id that is not Signpost's is ignored (another bot's button);
//! - the post must exist and its org must be configured in `discord.toml`
//!   with this guild, and the member must hold the org's team role (or its
//!   supervisor role, required for the org's `supervisor_actions`). The
//!   check runs server-side on every click; a refusal is a short ephemeral
//!   message and a `click.refused` audit row;
//! - Delete, Block and Escalate open a modal asking for the reason (at most
//!   100 characters), Reply a modal asking for the text;
//! - Block and Escalate (the org's `second_confirmation`) are not carried
//!   out on the first request: the request is audited
//!   (`click.confirm_requested`), kept in memory, and a message asks a
//!   *different* team member to press Confirm. Pending requests are
//!   deliberately in memory only: after a restart, Confirm answers that the
//!   request expired and the team simply asks again;
//! - everything else runs through [`crate::actions::perform`], which audits
//!   it and guarantees that repeated or concurrent clicks act exactly once.
//!
//! Clicks that do work are acknowledged first with a deferred update
//! (interaction response type 6), well inside Discord's 3 seconds; then the
//! action runs, then the relay message is edited through the interaction
//! token to show who did what and only the buttons still valid. A loser of
//! a concurrent click, or any error, gets an ephemeral follow-up such as
//! "Already hidden by Sam at 14:02" (audited as `click.already_done`). A
//! platform failure shows on the relay with a Retry button.

use crate::actions::{self, ActionContext, ActionError};
use crate::category::Action;
use crate::classify::Input;
use crate::config::discord::{DiscordConfig, OrgDiscord};
use crate::decide::{self, AuthorHistory, Context};
use crate::discord::{self, ActionDone, AuthorSummary, RelayView};
use crate::pipeline::Pipeline;
use crate::platforms::{post_capabilities, Platforms};
use crate::store::{Actor, AuditEntry, AuditFilter, AuditOutcome, Store, StoredPost};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use serenity::http::Http;
use serenity::model::id::InteractionId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Prefix of the custom_id of Signpost's modals: `sp1m:<action>:<post id>`.
pub const MODAL_PREFIX: &str = "sp1m";
/// Prefix of the Confirm button of a second-confirmation request.
pub const CONFIRM_PREFIX: &str = "sp1c";
/// The modal's text input for a reason.
pub const REASON_INPUT: &str = "reason";
/// The modal's text input for a reply.
pub const TEXT_INPUT: &str = "text";
/// Longest reason accepted.
pub const REASON_MAX: usize = 100;
/// Longest reply text accepted.
pub const REPLY_MAX: usize = 1000;
/// How long a second-confirmation request waits.
pub const CONFIRM_TTL: Duration = Duration::minutes(30);

/// Interaction callback types and flags used here.
const CHANNEL_MESSAGE: u8 = 4;
const DEFERRED_UPDATE_MESSAGE: u8 = 6;
const MODAL: u8 = 9;
const EPHEMERAL: u64 = 64;

/// The member who clicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    /// Display name (server nickname, else global name, else username).
    pub name: String,
    pub roles: Vec<u64>,
}

impl Member {
    fn actor(&self) -> Actor {
        Actor::new(self.id.to_string(), self.name.clone())
    }
}

/// What was clicked or submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClickKind {
    /// A message button.
    Button { custom_id: String },
    /// A modal submit, with its text inputs as (custom_id, value).
    Modal {
        custom_id: String,
        fields: Vec<(String, String)>,
    },
}

/// One interaction, as far as Signpost cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    pub interaction_id: u64,
    pub token: String,
    pub guild_id: Option<u64>,
    /// `None` outside a guild (a DM).
    pub member: Option<Member>,
    pub kind: ClickKind,
}

/// What the pure part decided a custom_id means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// A relay button.
    Button(Action, i64),
    /// A submitted reason or reply modal.
    Modal(Action, i64),
    /// The Confirm button of a second-confirmation request.
    Confirm(Action, i64),
}

/// Reads any of Signpost's custom_ids; `None` for anything else.
pub fn parse_request(kind: &ClickKind) -> Option<Request> {
    match kind {
        ClickKind::Button { custom_id } => {
            if let Some(r) = discord::parse_custom_id(custom_id) {
                return Some(Request::Button(r.0, r.1));
            }
            let rest = custom_id.strip_prefix(CONFIRM_PREFIX)?;
            discord::parse_custom_id(&format!("sp1{rest}")).map(|(a, p)| Request::Confirm(a, p))
        }
        ClickKind::Modal { custom_id, .. } => {
            let rest = custom_id.strip_prefix(MODAL_PREFIX)?;
            discord::parse_custom_id(&format!("sp1{rest}")).map(|(a, p)| Request::Modal(a, p))
        }
    }
}

/// The custom_id of the modal for `action` on `post_id`.
pub fn modal_id(action: Action, post_id: i64) -> String {
    format!("{MODAL_PREFIX}:{}:{post_id}", action.as_str())
}

/// The custom_id of the Confirm button for `action` on `post_id`.
pub fn confirm_id(action: Action, post_id: i64) -> String {
    format!("{CONFIRM_PREFIX}:{}:{post_id}", action.as_str())
}

/// Why a click was refused: (audit reason, message for the member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// The server-side permission check, run on every click: right guild, team
/// role (supervisors count as team), supervisor role for supervisor actions.
pub fn authorize(
    guild_id: Option<u64>,
    member: Option<&Member>,
    org: &OrgDiscord,
    action: Action,
) -> Result<(), Refusal> {
    if guild_id != Some(org.guild_id) {
        return Err(Refusal::new(
            "wrong_guild",
            "This relay belongs to another server.",
        ));
    }
    let Some(m) = member else {
        return Err(Refusal::new(
            "no_member",
            "Use the buttons from the team's server.",
        ));
    };
    let supervisor = org.supervisor_role_id.is_some_and(|r| m.roles.contains(&r));
    if org.supervisor_actions.contains(&action) {
        if !supervisor {
            return Err(Refusal::new(
                "not_supervisor",
                format!(
                    "Only supervisors can {}.",
                    action.label().trim_end_matches('…').to_lowercase()
                ),
            ));
        }
    } else if !supervisor && !m.roles.contains(&org.team_role_id) {
        return Err(Refusal::new(
            "not_team",
            "You need the team role to act on relays.",
        ));
    }
    Ok(())
}

/// Which input, if any, an action asks for before it runs.
pub fn modal_for(action: Action) -> Option<&'static str> {
    match action {
        Action::Delete | Action::Block | Action::Escalate => Some(REASON_INPUT),
        Action::Reply => Some(TEXT_INPUT),
        _ => None,
    }
}

/// The modal response (type 9) for `action` on `post_id`.
pub fn modal_response(action: Action, post_id: i64) -> Value {
    let (input, label, style, max, required, placeholder) = match modal_for(action) {
        Some(TEXT_INPUT) => (
            TEXT_INPUT,
            "Reply text",
            2,
            REPLY_MAX,
            true,
            "What to post in reply",
        ),
        _ => (
            REASON_INPUT,
            "Reason",
            1,
            REASON_MAX,
            action == Action::Escalate,
            "Why (recorded in the audit log)",
        ),
    };
    let title = format!("{} · post {post_id}", action.label().trim_end_matches('…'));
    json!({
        "type": MODAL,
        "data": {
            "custom_id": modal_id(action, post_id),
            "title": discord::limits::clip(&title, 45),
            "components": [{
                "type": 1,
                "components": [{
                    "type": 4,
                    "custom_id": input,
                    "style": style,
                    "label": label,
                    "min_length": if required { 1 } else { 0 },
                    "max_length": max,
                    "required": required,
                    "placeholder": placeholder,
                }]
            }]
        }
    })
}

/// An ephemeral message response (type 4, flags 64), mentions off.
pub fn ephemeral_response(text: &str) -> Value {
    json!({"type": CHANNEL_MESSAGE, "data": ephemeral_message(text)})
}

/// An ephemeral message body (for responses and follow-ups).
pub fn ephemeral_message(text: &str) -> Value {
    json!({
        "content": discord::limits::clip(text, 2000),
        "flags": EPHEMERAL,
        "allowed_mentions": {"parse": []},
    })
}

/// The deferred update acknowledgement (type 6).
pub fn deferred_update() -> Value {
    json!({"type": DEFERRED_UPDATE_MESSAGE})
}

/// The message asking a second team member to confirm.
pub fn confirm_request_response(
    action: Action,
    post_id: i64,
    by: &Member,
    reason: Option<&str>,
) -> Value {
    let mut text = format!(
        "<@{}> asks to **{}** (post {post_id})",
        by.id,
        action.label().trim_end_matches('…').to_lowercase()
    );
    if let Some(r) = reason {
        text.push_str(" · ");
        text.push_str(r);
    }
    text.push_str(".\nA different team member must confirm.");
    json!({
        "type": CHANNEL_MESSAGE,
        "data": {
            "content": text,
            "allowed_mentions": {"parse": []},
            "components": [{"type": 1, "components": [{
                "type": 2,
                "style": 4,
                "label": format!("Confirm: {}", action.label().trim_end_matches('…')),
                "custom_id": confirm_id(action, post_id),
            }]}],
        }
    })
}

/// What became of a click (for logs, tests and the bench).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not Signpost's interaction.
    Ignored,
    /// Refused with an ephemeral message (audited).
    Refused(&'static str),
    /// A modal was opened.
    ModalOpened,
    /// A second team member was asked to confirm.
    ConfirmationRequested,
    /// The action ran.
    Done(Action),
    /// Someone else had already done it.
    AlreadyDone(Action),
    /// The action failed; the user was told.
    Failed(Action, String),
}

/// What [`Clicks::handle`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub outcome: Outcome,
    /// From the start of handling until the first response was sent.
    pub ack_after: Option<std::time::Duration>,
}

#[derive(Debug, Clone)]
struct Pending {
    by: Member,
    reason: Option<String>,
    at: DateTime<Utc>,
}

/// Everything click handling needs; cheap to share behind an `Arc`.
pub struct Clicks {
    pub store: Store,
    pub pipeline: Arc<Pipeline>,
    pub platforms: Platforms,
    pub discord: Arc<DiscordConfig>,
    pub http: Arc<Http>,
    /// Second-confirmation requests, by (post, action). In memory on
    /// purpose: a restart forgets them and the team asks again.
    pending: Mutex<HashMap<(i64, Action), Pending>>,
}

impl std::fmt::Debug for Clicks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clicks").finish_non_exhaustive()
    }
}

impl Clicks {
    pub fn new(
        store: Store,
        pipeline: Arc<Pipeline>,
        platforms: Platforms,
        discord: Arc<DiscordConfig>,
        http: Arc<Http>,
    ) -> Clicks {
        Clicks {
            store,
            pipeline,
            platforms,
            discord,
            http,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Handles one click at `now`. Never panics on bad input; every path
    /// answers the member (Discord errors are logged and returned).
    pub async fn handle(&self, click: &Click, now: DateTime<Utc>) -> Handled {
        let started = Instant::now();
        let mut ack_after = None;
        let outcome = self.route(click, now, started, &mut ack_after).await;
        Handled { outcome, ack_after }
    }

    async fn respond(
        &self,
        click: &Click,
        body: &Value,
        started: Instant,
        ack: &mut Option<std::time::Duration>,
    ) {
        let r = self
            .http
            .create_interaction_response(
                InteractionId::new(click.interaction_id.max(1)),
                &click.token,
                body,
                Vec::new(),
            )
            .await;
        *ack = Some(started.elapsed());
        if let Err(e) = r {
            tracing::warn!(error = ?e, interaction = click.interaction_id, "could not answer an interaction");
        }
    }

    async fn followup(&self, click: &Click, text: &str) {
        if let Err(e) = self
            .http
            .create_followup_message(&click.token, &ephemeral_message(text), Vec::new())
            .await
        {
            tracing::warn!(error = %e, "could not send an ephemeral follow-up");
        }
    }

    async fn edit_original(&self, click: &Click, body: &Value) {
        if let Err(e) = self
            .http
            .edit_original_interaction_response(&click.token, body, Vec::new())
            .await
        {
            tracing::warn!(error = %e, "could not edit the relay message");
        }
    }

    async fn refuse(
        &self,
        click: &Click,
        post: Option<&StoredPost>,
        refusal: Refusal,
        now: DateTime<Utc>,
        started: Instant,
        ack: &mut Option<std::time::Duration>,
    ) -> Outcome {
        self.respond(click, &ephemeral_response(&refusal.message), started, ack)
            .await;
        let (id, name) = click
            .member
            .as_ref()
            .map_or((String::new(), String::new()), |m| {
                (m.id.to_string(), m.name.clone())
            });
        let entry = AuditEntry {
            at: now,
            org: post.map(|p| p.post.org.clone()).unwrap_or_default(),
            post_id: post.map(|p| p.id),
            actor_id: id,
            actor_name: name,
            action: "click.refused".to_owned(),
            reason: Some(refusal.code.to_owned()),
            outcome: AuditOutcome::Ok,
            detail: Some(json!({
                "request": request_name(&click.kind),
                "guild_id": click.guild_id.map(|g| g.to_string()),
                "message": refusal.message,
            })),
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!(error = %e, "could not audit a refused click");
        }
        Outcome::Refused(refusal.code)
    }

    async fn route(
        &self,
        click: &Click,
        now: DateTime<Utc>,
        started: Instant,
        ack: &mut Option<std::time::Duration>,
    ) -> Outcome {
        let Some(request) = parse_request(&click.kind) else {
            return Outcome::Ignored;
        };
        let (action, post_id) = match request {
            Request::Button(a, p) | Request::Modal(a, p) | Request::Confirm(a, p) => (a, p),
        };
        let post = match self.store.get_post(post_id).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                let r = Refusal::new("unknown_post", "That post is no longer in Signpost.");
                return self.refuse(click, None, r, now, started, ack).await;
            }
            Err(e) => {
                tracing::error!(error = %e, post_id, "reading a post for a click");
                self.respond(
                    click,
                    &ephemeral_response("Signpost could not read that post; try again."),
                    started,
                    ack,
                )
                .await;
                return Outcome::Failed(action, e.to_string());
            }
        };
        let Some(org) = self.discord.orgs.get(&post.post.org) else {
            let r = Refusal::new(
                "unknown_org",
                "This server is not set up for Signpost actions.",
            );
            return self.refuse(click, Some(&post), r, now, started, ack).await;
        };
        if let Err(r) = authorize(click.guild_id, click.member.as_ref(), org, action) {
            return self.refuse(click, Some(&post), r, now, started, ack).await;
        }
        // authorize() guarantees a member.
        let Some(member) = click.member.as_ref() else {
            return Outcome::Ignored;
        };

        match request {
            Request::Button(..) if modal_for(action).is_some() => {
                self.respond(click, &modal_response(action, post_id), started, ack)
                    .await;
                Outcome::ModalOpened
            }
            Request::Button(..) if org.second_confirmation.contains(&action) => {
                self.pending_insert(
                    post_id,
                    action,
                    Pending {
                        by: member.clone(),
                        reason: None,
                        at: now,
                    },
                );
                self.respond(
                    click,
                    &confirm_request_response(action, post_id, member, None),
                    started,
                    ack,
                )
                .await;
                self.audit_request(&post, member, action, None, now).await;
                Outcome::ConfirmationRequested
            }
            Request::Button(..) => {
                self.execute(click, &post, action, member, None, None, now, started, ack)
                    .await
            }
            Request::Modal(..) => {
                let field = |name: &str| match &click.kind {
                    ClickKind::Modal { fields, .. } => fields
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.trim().to_owned())
                        .filter(|v| !v.is_empty()),
                    ClickKind::Button { .. } => None,
                };
                let reason = field(REASON_INPUT).map(|r| discord::limits::clip(&r, REASON_MAX));
                let text = field(TEXT_INPUT);
                if org.second_confirmation.contains(&action) {
                    self.pending_insert(
                        post_id,
                        action,
                        Pending {
                            by: member.clone(),
                            reason: reason.clone(),
                            at: now,
                        },
                    );
                    self.respond(
                        click,
                        &confirm_request_response(action, post_id, member, reason.as_deref()),
                        started,
                        ack,
                    )
                    .await;
                    self.audit_request(&post, member, action, reason.as_deref(), now)
                        .await;
                    return Outcome::ConfirmationRequested;
                }
                self.execute(
                    click,
                    &post,
                    action,
                    member,
                    reason.as_deref(),
                    text.as_deref(),
                    now,
                    started,
                    ack,
                )
                .await
            }
            Request::Confirm(..) => {
                let pending = self.pending_get(post_id, action, now);
                let Some(p) = pending else {
                    let r = Refusal::new(
                        "no_pending_request",
                        "This request has expired; press the button on the relay again.",
                    );
                    return self.refuse(click, Some(&post), r, now, started, ack).await;
                };
                if p.by.id == member.id {
                    let r = Refusal::new(
                        "same_member",
                        "A different team member must confirm your request.",
                    );
                    return self.refuse(click, Some(&post), r, now, started, ack).await;
                }
                let reason = match &p.reason {
                    Some(r) => format!("{r} (asked by {})", p.by.name),
                    None => format!("asked by {}", p.by.name),
                };
                let outcome = self
                    .execute(
                        click,
                        &post,
                        action,
                        member,
                        Some(&reason),
                        None,
                        now,
                        started,
                        ack,
                    )
                    .await;
                if matches!(outcome, Outcome::Done(_) | Outcome::AlreadyDone(_)) {
                    self.pending_remove(post_id, action);
                }
                outcome
            }
        }
    }

    /// Audits a click outcome the executor does not record itself.
    async fn audit_click(
        &self,
        post: &StoredPost,
        member: &Member,
        what: &str,
        reason: Option<&str>,
        detail: Value,
        now: DateTime<Utc>,
    ) {
        let entry = AuditEntry {
            at: now,
            org: post.post.org.clone(),
            post_id: Some(post.id),
            actor_id: member.id.to_string(),
            actor_name: member.name.clone(),
            action: what.to_owned(),
            reason: reason.map(str::to_owned),
            outcome: AuditOutcome::Ok,
            detail: Some(detail),
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!(error = %e, what, "could not audit a click");
        }
    }

    /// Audits a second-confirmation request (`click.confirm_requested`).
    async fn audit_request(
        &self,
        post: &StoredPost,
        member: &Member,
        action: Action,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) {
        let detail = json!({"action": action.as_str()});
        self.audit_click(post, member, "click.confirm_requested", reason, detail, now)
            .await;
    }

    fn pending_insert(&self, post_id: i64, action: Action, p: Pending) {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, v| v.at + CONFIRM_TTL > p.at);
        map.insert((post_id, action), p);
    }

    fn pending_get(&self, post_id: i64, action: Action, now: DateTime<Utc>) -> Option<Pending> {
        let map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(post_id, action))
            .filter(|p| p.at + CONFIRM_TTL > now)
            .cloned()
    }

    fn pending_remove(&self, post_id: i64, action: Action) {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&(post_id, action));
    }

    /// Acknowledge, run the action, then show the new state.
    #[allow(clippy::too_many_arguments)]
    async fn execute(
        &self,
        click: &Click,
        post: &StoredPost,
        action: Action,
        member: &Member,
        reason: Option<&str>,
        text: Option<&str>,
        now: DateTime<Utc>,
        started: Instant,
        ack: &mut Option<std::time::Duration>,
    ) -> Outcome {
        self.respond(click, &deferred_update(), started, ack).await;
        let ctx = ActionContext {
            store: &self.store,
            replies: &self.pipeline.replies,
            platforms: &self.platforms,
        };
        let result =
            actions::perform(&ctx, post.id, action, &member.actor(), reason, text, now).await;
        let confirm = matches!(parse_request(&click.kind), Some(Request::Confirm(..)));
        let relay = match self.relay_state(post, now).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, post_id = post.id, "could not rebuild the relay");
                None
            }
        };
        if confirm {
            // The original message is the confirmation request: close it, and
            // refresh the relay itself when we know where it is.
            let line = match &result {
                Ok(_) => format!(
                    "Confirmed by <@{}>: {} (post {}).",
                    member.id,
                    action.label().trim_end_matches('…'),
                    post.id
                ),
                Err(e) => e.user_message(),
            };
            self.edit_original(
                click,
                &json!({"content": line, "components": [], "allowed_mentions": {"parse": []}}),
            )
            .await;
            if let Some(body) = &relay {
                self.edit_relay(post.id, body).await;
            }
        } else if let Some(body) = &relay {
            self.edit_original(click, body).await;
        }
        match result {
            Ok(_) => Outcome::Done(action),
            Err(e) => {
                let message = e.user_message();
                self.followup(click, &message).await;
                match e {
                    ActionError::AlreadyDone { .. } => {
                        self.audit_click(
                            post,
                            member,
                            "click.already_done",
                            Some(&message),
                            json!({"action": action.as_str()}),
                            now,
                        )
                        .await;
                        Outcome::AlreadyDone(action)
                    }
                    e => Outcome::Failed(action, e.to_string()),
                }
            }
        }
    }

    async fn edit_relay(&self, post_id: i64, body: &Value) {
        let relay = match self.store.get_relay(post_id).await {
            Ok(Some(r)) => r,
            _ => return,
        };
        let (Some(c), Some(m)) = (&relay.channel_id, &relay.message_id) else {
            return;
        };
        let (Ok(c), Ok(m)) = (c.parse::<u64>(), m.parse::<u64>()) else {
            return;
        };
        if c == 0 || m == 0 {
            return;
        }
        if let Err(e) = self
            .http
            .edit_message(c.into(), m.into(), body, Vec::new())
            .await
        {
            tracing::warn!(error = %e, post_id, "could not refresh the relay message");
        }
    }

    /// The relay message as it should look now: the post re-classified and
    /// re-decided as at its arrival, with what has been done read back from
    /// the audit log.
    pub async fn relay_state(
        &self,
        post: &StoredPost,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<Value> {
        let p = &post.post;
        let org = self
            .pipeline
            .config
            .orgs
            .get(&p.org)
            .ok_or_else(|| anyhow::anyhow!("unknown org {}", p.org))?;
        let schedule = self
            .pipeline
            .schedule(&p.org)
            .ok_or_else(|| anyhow::anyhow!("no schedule for {}", p.org))?;
        let since = p.created_at - Duration::days(i64::from(org.strikes.days));
        let history = self
            .store
            .author_history(p.platform, &p.author_id, since)
            .await?;
        let classification = self.pipeline.classifier.classify(&Input {
            text: &p.text,
            org: Some(&p.org),
            at: Some(p.created_at),
            recent: &[],
        });
        let decision = decide::decide(
            p,
            &classification,
            &AuthorHistory {
                flagged_in_window: history.flagged_since.saturating_sub(1),
                blocked: history.blocked,
                last_auto_reply_at: None,
            },
            &Context {
                org,
                schedule: schedule.view(),
                replies: &self.pipeline.replies,
                now: p.created_at,
            },
        )?;
        let done = self.done_list(post.id).await?;
        let capabilities = post_capabilities(p.platform, p.kind, self.platforms.x_block_allowed);
        let crisis_role = self
            .discord
            .orgs
            .get(&p.org)
            .and_then(|o| o.crisis_role_id)
            .map(|r| r.to_string());
        let mut msg = discord::relay_message(&RelayView {
            post_id: post.id,
            org,
            post: p,
            classification: &classification,
            decision: &decision,
            author: AuthorSummary {
                strikes: history.flagged_since.saturating_sub(1),
                blocked: history.blocked,
            },
            capabilities: &capabilities,
            count: 1,
            crisis_role: crisis_role.as_deref(),
            done: &done,
        });
        // An edit never pings: the crisis mention went out with the relay.
        msg["allowed_mentions"] = json!({"parse": []});
        Ok(msg)
    }

    /// What has been done on a post, from its audit rows: failures that a
    /// later success superseded are dropped.
    async fn done_list(&self, post_id: i64) -> anyhow::Result<Vec<ActionDone>> {
        let rows = self
            .store
            .audit_rows(&AuditFilter {
                post_id: Some(post_id),
                ..AuditFilter::default()
            })
            .await?;
        let mut done: Vec<ActionDone> = Vec::new();
        for row in rows {
            let Ok(action) = row.action.parse::<Action>() else {
                continue;
            };
            if row.actor_id == crate::pipeline::SYSTEM_ACTOR.0 || row.actor_id == "system" {
                continue;
            }
            let failed = match row.outcome() {
                Some(AuditOutcome::Ok | AuditOutcome::DryRun) => None,
                Some(AuditOutcome::Failed(msg)) => Some(
                    row.detail_json()
                        .and_then(|d| d["user_message"].as_str().map(str::to_owned))
                        .unwrap_or(msg),
                ),
                None => continue,
            };
            done.retain(|d| !(d.action == action && d.failed.is_some()));
            done.push(ActionDone {
                action,
                by_id: row.actor_id.clone(),
                by_name: row.actor_name.clone(),
                at: row.at,
                reason: row.reason.clone(),
                failed,
            });
        }
        Ok(done)
    }
}

fn request_name(kind: &ClickKind) -> String {
    match kind {
        ClickKind::Button { custom_id } | ClickKind::Modal { custom_id, .. } => {
            discord::limits::clip(custom_id, 100)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> OrgDiscord {
        OrgDiscord {
            guild_id: 1,
            relay_channel_id: 2,
            team_role_id: 3,
            supervisor_role_id: Some(4),
            crisis_role_id: None,
            crisis_channel_id: None,
            second_confirmation: vec![Action::Block, Action::Escalate],
            supervisor_actions: vec![Action::Escalate],
        }
    }

    fn member(roles: &[u64]) -> Member {
        Member {
            id: 9,
            name: "Sam".into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn ids_round_trip() {
        for a in Action::ALL {
            let b = ClickKind::Button {
                custom_id: discord::custom_id(*a, 42),
            };
            assert_eq!(parse_request(&b), Some(Request::Button(*a, 42)));
            let c = ClickKind::Button {
                custom_id: confirm_id(*a, 42),
            };
            assert_eq!(parse_request(&c), Some(Request::Confirm(*a, 42)));
            let m = ClickKind::Modal {
                custom_id: modal_id(*a, 42),
                fields: vec![],
            };
            assert_eq!(parse_request(&m), Some(Request::Modal(*a, 42)));
            assert!(modal_id(*a, i64::MAX).len() <= 100);
        }
        for bad in [
            "",
            "sp1",
            "sp1c",
            "sp1x:hide:1",
            "other:hide:1",
            "sp1m:hide:",
            "sp1:hide:1:2",
        ] {
            let k = ClickKind::Button {
                custom_id: bad.into(),
            };
            assert_eq!(parse_request(&k), None, "{bad}");
        }
    }

    #[test]
    fn authorisation_is_checked_per_action() {
        let o = org();
        assert!(authorize(Some(1), Some(&member(&[3])), &o, Action::Hide).is_ok());
        assert!(authorize(Some(1), Some(&member(&[4])), &o, Action::Hide).is_ok());
        assert_eq!(
            authorize(Some(1), Some(&member(&[])), &o, Action::Hide)
                .unwrap_err()
                .code,
            "not_team"
        );
        assert_eq!(
            authorize(Some(1), Some(&member(&[3])), &o, Action::Escalate)
                .unwrap_err()
                .code,
            "not_supervisor"
        );
        assert!(authorize(Some(1), Some(&member(&[4])), &o, Action::Escalate).is_ok());
        assert_eq!(
            authorize(Some(7), Some(&member(&[3])), &o, Action::Hide)
                .unwrap_err()
                .code,
            "wrong_guild"
        );
        assert_eq!(
            authorize(Some(1), None, &o, Action::Hide).unwrap_err().code,
            "no_member"
        );
    }

    #[test]
    fn modals_ask_for_the_right_input() {
        for a in Action::ALL {
            let m = modal_response(*a, 5);
            if let Some(input) = modal_for(*a) {
                assert_eq!(m["type"], 9);
                assert_eq!(
                    m["data"]["components"][0]["components"][0]["custom_id"],
                    input
                );
                assert!(m["data"]["title"].as_str().unwrap().chars().count() <= 45);
            }
        }
    }
}
