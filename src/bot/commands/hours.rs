//! `/hours`: supervisors see and change when their team is on duty.
//!
//! - `/hours now`: open or closed now and why, the next change, the
//!   closures of the next 14 days;
//! - `/hours extend until:<time> reason:<text>`: on duty from now until
//!   then (e.g. a major incident running into the evening);
//! - `/hours close reason:<text> [until:<time>]`: off duty from now (until
//!   then, or the end of the current period), so posts get the
//!   out-of-hours auto-reply at once;
//! - `/hours clear`: ends every override in force or to come.
//!
//! Every subcommand takes `org` (autocompleted with the orgs the caller
//! supervises) and `public` (post the answer in the channel; private by
//! default). The meaning of `until`, extend, close and clear is
//! [`crate::hours::control`]'s. Discord cannot run a command that has
//! subcommands, hence `/hours now` rather than a bare `/hours`.
//!
//! The work is in [`HoursControl`], plain async functions of the store,
//! the pipeline's schedules, the caller and the time, so tests run them
//! without Discord. Each change writes the override and its audit row
//! (`hours.extend`, `hours.close`, `hours.clear`) in one transaction, and
//! the pipeline reads the overrides on every ingest, so a change applies to
//! the very next post.

use super::{defer, resolve_org, user_error, Caller, Context, UserError};
use crate::bot::gateway::Error;
use crate::config::discord::DiscordConfig;
use crate::discord::limits;
use crate::hours::control::{parse_until, plan_close, plan_extend, status_text, OverrideNote};
use crate::hours::report::rfc3339;
use crate::hours::{self, format_next_open, Override, Schedule};
use crate::pipeline::Pipeline;
use crate::store::{
    self, AuditEntry, AuditOutcome, HoursOverride, NewHoursOverride, Store, StoreTx,
};
use chrono::{DateTime, Utc};
use poise::serenity_prelude as serenity;
use serde_json::json;

/// The command's name in messages.
const COMMAND: &str = "hours";

/// Longest reason kept with an override.
pub const REASON_MAX: usize = 200;

/// What `/hours` needs: the store, the schedules and who may do what.
#[derive(Clone, Copy)]
pub struct HoursControl<'a> {
    pub store: &'a Store,
    pub pipeline: &'a Pipeline,
    pub discord: &'a DiscordConfig,
}

impl<'a> HoursControl<'a> {
    /// The permission check, then the org's schedule.
    fn authorise(
        &self,
        caller: &Caller,
        org: Option<&str>,
    ) -> Result<(String, &'a Schedule), Error> {
        let org = resolve_org(self.discord, caller, org, COMMAND)?;
        let schedule = self.pipeline.schedule(&org).ok_or_else(|| {
            user_error(format!(
                "{org} has no monitoring hours configured in Signpost."
            ))
        })?;
        Ok((org, schedule))
    }

    /// `/hours now`.
    pub async fn status(
        &self,
        caller: &Caller,
        org: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let (org, schedule) = self.authorise(caller, org)?;
        let stored = self.store.active_overrides(&org, now).await?;
        Ok(status_text(&org, schedule, &notes(&stored), now))
    }

    /// `/hours extend`: on duty from `now` until `until`.
    pub async fn extend(
        &self,
        caller: &Caller,
        org: Option<&str>,
        until: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let (org, schedule) = self.authorise(caller, org)?;
        let reason = check_reason(reason)?;
        let tz = schedule.timezone();
        let end = parse_until(until, tz, now).map_err(|e| user_error(e.0))?;
        let mut tx = self.store.begin().await?;
        let current = overrides(&tx_active(&mut tx, &org, now).await?);
        let planned = plan_extend(schedule.with_overrides(&current), now, end)
            .map_err(|e| user_error(e.0))?;
        let id = write(
            &mut tx,
            &org,
            caller,
            planned,
            &reason,
            "hours.extend",
            until,
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(org, override_id = id, "hours extended");
        Ok(format!(
            "Extended: **{org}** is on duty until {} (<t:{}:f>). Out-of-hours auto-replies \
             are off until then. Reason: {reason}",
            format_next_open(planned.end, tz, now),
            planned.end.timestamp()
        ))
    }

    /// `/hours close`: off duty from `now` until `until`, or to the end of
    /// the current open period.
    pub async fn close(
        &self,
        caller: &Caller,
        org: Option<&str>,
        until: Option<&str>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let (org, schedule) = self.authorise(caller, org)?;
        let reason = check_reason(reason)?;
        let tz = schedule.timezone();
        let until = until.map(str::trim).filter(|u| !u.is_empty());
        let end = until
            .map(|u| parse_until(u, tz, now))
            .transpose()
            .map_err(|e| user_error(e.0))?;
        let mut tx = self.store.begin().await?;
        let current = overrides(&tx_active(&mut tx, &org, now).await?);
        let planned =
            plan_close(schedule.with_overrides(&current), now, end).map_err(|e| user_error(e.0))?;
        let id = write(
            &mut tx,
            &org,
            caller,
            planned,
            &reason,
            "hours.close",
            until.unwrap_or(""),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(org, override_id = id, "hours closed");
        Ok(format!(
            "Closed: **{org}** is off duty from now until {} (<t:{}:f>). Posts get the \
             out-of-hours auto-reply from now on; the usual hours apply again from then. \
             Reason: {reason}",
            format_next_open(planned.end, tz, now),
            planned.end.timestamp()
        ))
    }

    /// `/hours clear`: ends the overrides in force at `now` there and
    /// removes those yet to start, so the usual hours apply again.
    pub async fn clear(
        &self,
        caller: &Caller,
        org: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let (org, schedule) = self.authorise(caller, org)?;
        let mut tx = self.store.begin().await?;
        let active = tx_active(&mut tx, &org, now).await?;
        if active.is_empty() {
            return Err(user_error(format!(
                "{org} has no override to clear: the usual hours apply."
            )));
        }
        let (mut ended, mut removed) = (Vec::new(), Vec::new());
        for o in &active {
            if o.starts_at < now {
                if tx.end_override(o.id, now).await? {
                    ended.push(o);
                }
            } else {
                tx.delete_override(o.id).await?;
                removed.push(o);
            }
        }
        let describe = |o: &&HoursOverride| {
            json!({
                "override_id": o.id,
                "kind": o.kind.as_str(),
                "starts_at": rfc3339(o.starts_at),
                "ends_at": rfc3339(o.ends_at),
                "set_by": o.actor_name,
                "reason": o.reason,
            })
        };
        let actor = caller.actor();
        tx.append_audit(&AuditEntry {
            at: now,
            org: org.clone(),
            post_id: None,
            actor_id: actor.id,
            actor_name: actor.name,
            action: "hours.clear".into(),
            reason: None,
            outcome: AuditOutcome::Ok,
            detail: Some(json!({
                "ended_at": rfc3339(now),
                "ended": ended.iter().map(describe).collect::<Vec<_>>(),
                "removed": removed.iter().map(describe).collect::<Vec<_>>(),
            })),
        })
        .await?;
        tx.commit().await?;
        let n = ended.len() + removed.len();
        tracing::info!(org, cleared = n, "hours overrides cleared");
        let status = status_text(&org, schedule, &[], now);
        let first = status.lines().take(2).collect::<Vec<_>>().join("\n");
        Ok(format!(
            "Cleared {n} override{} for **{org}**: the usual hours apply again.\n{first}",
            if n == 1 { "" } else { "s" }
        ))
    }
}

async fn tx_active(
    tx: &mut StoreTx,
    org: &str,
    now: DateTime<Utc>,
) -> Result<Vec<HoursOverride>, Error> {
    Ok(tx.active_overrides(org, now).await?)
}

fn check_reason(reason: &str) -> Result<String, UserError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(UserError(
            "Give a reason: it is kept in the audit log with the change.".into(),
        ));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(UserError(format!(
            "Keep the reason to {REASON_MAX} characters."
        )));
    }
    Ok(reason.to_owned())
}

fn kind_of(k: store::OverrideKind) -> hours::OverrideKind {
    match k {
        store::OverrideKind::Open => hours::OverrideKind::Open,
        store::OverrideKind::Closed => hours::OverrideKind::Closed,
    }
}

/// Stored overrides as the schedule lays them (oldest first).
fn overrides(stored: &[HoursOverride]) -> Vec<Override> {
    stored
        .iter()
        .map(|o| Override {
            start: o.starts_at,
            end: o.ends_at,
            kind: kind_of(o.kind),
        })
        .collect()
}

/// Stored overrides with who and why, for the status.
fn notes(stored: &[HoursOverride]) -> Vec<OverrideNote> {
    stored
        .iter()
        .map(|o| OverrideNote {
            kind: kind_of(o.kind),
            start: o.starts_at,
            end: o.ends_at,
            by: o.actor_name.clone(),
            reason: o.reason.clone(),
        })
        .collect()
}

/// Adds the override and its audit row in `tx`; returns the override's id.
#[allow(clippy::too_many_arguments)]
async fn write(
    tx: &mut StoreTx,
    org: &str,
    caller: &Caller,
    planned: Override,
    reason: &str,
    action: &str,
    until_input: &str,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let actor = caller.actor();
    let kind = match planned.kind {
        hours::OverrideKind::Open => store::OverrideKind::Open,
        hours::OverrideKind::Closed => store::OverrideKind::Closed,
    };
    let id = tx
        .add_override(&NewHoursOverride {
            org: org.to_owned(),
            kind,
            starts_at: planned.start,
            ends_at: planned.end,
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            reason: reason.to_owned(),
            created_at: now,
        })
        .await?;
    tx.append_audit(&AuditEntry {
        at: now,
        org: org.to_owned(),
        post_id: None,
        actor_id: actor.id,
        actor_name: actor.name,
        action: action.to_owned(),
        reason: Some(reason.to_owned()),
        outcome: AuditOutcome::Ok,
        detail: Some(json!({
            "override_id": id,
            "kind": kind.as_str(),
            "starts_at": rfc3339(planned.start),
            "ends_at": rfc3339(planned.end),
            "until": until_input,
        })),
    })
    .await?;
    Ok(id)
}

// ------------------------------------------------------------- Discord

/// See and change the team's monitoring hours (supervisors).
#[poise::command(
    slash_command,
    guild_only,
    subcommands("now_cmd", "extend_cmd", "close_cmd", "clear_cmd"),
    subcommand_required
)]
pub async fn hours(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Suggestions for `until`: clock times and spans, filtered by what is typed.
pub fn until_suggestions(partial: &str) -> Vec<&'static str> {
    const SUGGESTIONS: &[&str] = &[
        "+1h",
        "+2h",
        "+4h",
        "18:00",
        "20:00",
        "22:00",
        "tomorrow 09:00",
        "tomorrow 12:00",
    ];
    let partial = partial.trim().to_lowercase();
    SUGGESTIONS
        .iter()
        .copied()
        .filter(|s| s.starts_with(&partial))
        .collect()
}

async fn autocomplete_until<'a>(
    _ctx: Context<'a>,
    partial: &'a str,
) -> serenity::CreateAutocompleteResponse {
    super::choices(until_suggestions(partial).into_iter().map(str::to_owned))
}

/// Who is calling, and whether the answer may be public: a refusal is
/// always private. Acknowledges the interaction before any store work.
async fn start(
    ctx: Context<'_>,
    org: Option<&str>,
    public: Option<bool>,
) -> Result<(Caller, bool), Error> {
    let caller = Caller::of(ctx).await;
    // The permission check is in memory; it only decides whether a public
    // answer is allowed. The command repeats it before doing anything.
    let allowed = resolve_org(&ctx.data().clicks.discord, &caller, org, COMMAND).is_ok();
    let public = public.unwrap_or(false) && allowed;
    defer(ctx, public).await?;
    Ok((caller, public))
}

async fn answer(ctx: Context<'_>, text: String, public: bool) -> Result<(), Error> {
    ctx.send(super::reply(public).content(limits::clip(&text, limits::CONTENT)))
        .await?;
    Ok(())
}

fn control<'a>(ctx: &'a Context<'_>) -> HoursControl<'a> {
    let clicks = &ctx.data().clicks;
    HoursControl {
        store: &clicks.store,
        pipeline: &clicks.pipeline,
        discord: &clicks.discord,
    }
}

/// Open or closed now, the next change, and closures coming up.
#[poise::command(slash_command, guild_only, rename = "now")]
async fn now_cmd(
    ctx: Context<'_>,
    #[description = "Which trust (if you supervise more than one)"]
    #[autocomplete = "super::autocomplete_org"]
    org: Option<String>,
    #[description = "Post the answer in the channel (default: only you see it)"] public: Option<
        bool,
    >,
) -> Result<(), Error> {
    let (caller, public) = start(ctx, org.as_deref(), public).await?;
    let text = control(&ctx)
        .status(&caller, org.as_deref(), Utc::now())
        .await?;
    answer(ctx, text, public).await
}

/// Keep the team on duty until a time (e.g. a major incident).
#[poise::command(slash_command, guild_only, rename = "extend")]
async fn extend_cmd(
    ctx: Context<'_>,
    #[description = "Until when: 20:00, tomorrow 09:00, 2026-03-24 20:00 or +2h (trust's time)"]
    #[autocomplete = "autocomplete_until"]
    #[max_length = 40]
    until: String,
    #[description = "Why (kept in the audit log)"]
    #[max_length = 200]
    reason: String,
    #[description = "Which trust (if you supervise more than one)"]
    #[autocomplete = "super::autocomplete_org"]
    org: Option<String>,
    #[description = "Post the answer in the channel (default: only you see it)"] public: Option<
        bool,
    >,
) -> Result<(), Error> {
    let (caller, public) = start(ctx, org.as_deref(), public).await?;
    let text = control(&ctx)
        .extend(&caller, org.as_deref(), &until, &reason, Utc::now())
        .await?;
    answer(ctx, text, public).await
}

/// Take the team off duty now: posts get the out-of-hours auto-reply.
#[poise::command(slash_command, guild_only, rename = "close")]
async fn close_cmd(
    ctx: Context<'_>,
    #[description = "Why (kept in the audit log)"]
    #[max_length = 200]
    reason: String,
    #[description = "Until when (default: the usual closing time): 09:00, tomorrow 12:00, +4h"]
    #[autocomplete = "autocomplete_until"]
    #[max_length = 40]
    until: Option<String>,
    #[description = "Which trust (if you supervise more than one)"]
    #[autocomplete = "super::autocomplete_org"]
    org: Option<String>,
    #[description = "Post the answer in the channel (default: only you see it)"] public: Option<
        bool,
    >,
) -> Result<(), Error> {
    let (caller, public) = start(ctx, org.as_deref(), public).await?;
    let text = control(&ctx)
        .close(
            &caller,
            org.as_deref(),
            until.as_deref(),
            &reason,
            Utc::now(),
        )
        .await?;
    answer(ctx, text, public).await
}

/// End every extension or closure now: the usual hours apply again.
#[poise::command(slash_command, guild_only, rename = "clear")]
async fn clear_cmd(
    ctx: Context<'_>,
    #[description = "Which trust (if you supervise more than one)"]
    #[autocomplete = "super::autocomplete_org"]
    org: Option<String>,
    #[description = "Post the answer in the channel (default: only you see it)"] public: Option<
        bool,
    >,
) -> Result<(), Error> {
    let (caller, public) = start(ctx, org.as_deref(), public).await?;
    let text = control(&ctx)
        .clear(&caller, org.as_deref(), Utc::now())
        .await?;
    answer(ctx, text, public).await
}
