//! `/export`: the audit log of a period as a CSV attachment, for
//! supervisors. The export is itself audited (see [`crate::stats::export`]).

use super::stats::PeriodChoice;
use super::{defer, reply, resolve_org, timezone, user_error, Caller, Context};
use crate::bot::gateway::Error;
use crate::stats::export::{export_csv, ExportError, Requester};
use crate::store::ExportQuery;
use poise::serenity_prelude as serenity;

/// Discord's attachment limit for bots is 10 MiB; stay under it.
pub const MAX_ATTACHMENT: usize = 9 * 1024 * 1024;

/// Which rows to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum Scope {
    #[name = "people's actions (default)"]
    People,
    #[name = "everything, including Signpost's own rows"]
    Everything,
}

/// The audit log of a period as a CSV file.
#[poise::command(slash_command, guild_only)]
pub async fn export(
    ctx: Context<'_>,
    #[description = "Which period (default: last 7 days)"] period: Option<PeriodChoice>,
    #[description = "Custom period: first day, YYYY-MM-DD"] from: Option<String>,
    #[description = "Custom period: last day, YYYY-MM-DD"] to: Option<String>,
    #[description = "Which rows (default: people's actions)"] rows: Option<Scope>,
    #[description = "Which trust (if you supervise more than one)"]
    #[autocomplete = "super::autocomplete_org"]
    org: Option<String>,
    #[description = "Post the file in the channel for everyone (default: only you)"] public: Option<
        bool,
    >,
) -> Result<(), Error> {
    let public = public.unwrap_or(false);
    let caller = Caller::of(ctx).await;
    let data = ctx.data();
    let org = resolve_org(&data.clicks.discord, &caller, org.as_deref(), "export")?;
    let period = super::stats::period(period, from.as_deref(), to.as_deref())?;
    let tz = timezone(ctx, &org)?;
    defer(ctx, public).await?;
    let now = chrono::Utc::now();
    let (from, to) = period
        .resolve(tz, now)
        .map_err(|e| user_error(format!("{e}.")))?;
    let q = ExportQuery {
        org: org.clone(),
        from,
        to,
        human_only: rows.unwrap_or(Scope::People) == Scope::People,
    };
    let mut csv = Vec::new();
    let actor = caller.actor();
    let by = Requester {
        actor: &actor,
        via: "discord",
        now,
        max_bytes: Some(MAX_ATTACHMENT),
    };
    let summary =
        match export_csv(&data.clicks.store, &data.clicks.pipeline, &q, &mut csv, by).await {
            Ok(s) => s,
            Err(ExportError::TooLarge { rows, .. }) => {
                return Err(user_error(format!(
                "That export is too big for Discord (over {rows} rows). Choose a shorter period, \
                 or run `signpost export` on the server."
            )))
            }
            Err(e) => return Err(e.into()),
        };
    let file = format!(
        "signpost-audit-{org}-{}-to-{}.csv",
        from.with_timezone(&tz).format("%Y%m%d"),
        (to - chrono::Duration::milliseconds(1))
            .with_timezone(&tz)
            .format("%Y%m%d")
    );
    let content = format!(
        "Audit log of {org}, {} ({} row{}). SHA-256 {}. This export is recorded as audit row #{}.",
        period.label(),
        summary.rows,
        if summary.rows == 1 { "" } else { "s" },
        summary.sha256,
        summary.audit_id
    );
    ctx.send(
        reply(public)
            .content(content)
            .attachment(serenity::CreateAttachment::bytes(csv, file)),
    )
    .await?;
    Ok(())
}
