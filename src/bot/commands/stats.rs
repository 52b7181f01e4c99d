//! `/stats`: the supervisors' report for a period, with the daily chart
//! attached. Figures are defined in [`crate::stats`].

use super::{defer, embed, reply, resolve_org, timezone, user_error, Caller, Context};
use crate::bot::gateway::Error;
use crate::model::Platform;
use crate::stats::{self, Period};
use crate::store::ReportScope;
use poise::serenity_prelude as serenity;

/// The file name of the chart attachment.
pub const CHART_FILE: &str = "stats.png";

/// Report periods offered in Discord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum PeriodChoice {
    #[name = "today"]
    Today,
    #[name = "last 7 days"]
    Days7,
    #[name = "last 30 days"]
    Days30,
    #[name = "custom (give from and to)"]
    Custom,
}

impl PeriodChoice {
    /// The option's name for [`Period::from_options`].
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodChoice::Today => "today",
            PeriodChoice::Days7 => "7d",
            PeriodChoice::Days30 => "30d",
            PeriodChoice::Custom => "custom",
        }
    }
}

/// Platforms offered in Discord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum PlatformChoice {
    #[name = "Facebook"]
    Facebook,
    #[name = "Instagram"]
    Instagram,
    #[name = "X"]
    X,
    #[name = "Mastodon"]
    Mastodon,
}

impl From<PlatformChoice> for Platform {
    fn from(c: PlatformChoice) -> Platform {
        match c {
            PlatformChoice::Facebook => Platform::Facebook,
            PlatformChoice::Instagram => Platform::Instagram,
            PlatformChoice::X => Platform::X,
            PlatformChoice::Mastodon => Platform::Mastodon,
        }
    }
}

/// The period from the command's options, or a user error saying what to fix.
pub fn period(
    choice: Option<PeriodChoice>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Period, Error> {
    if choice == Some(PeriodChoice::Custom) && (from.is_none() || to.is_none()) {
        return Err(user_error(
            "For a custom period give both `from` and `to` as YYYY-MM-DD.",
        ));
    }
    Period::from_options(choice.map(PeriodChoice::as_str), from, to)
        .map_err(|e| user_error(format!("{e}.")))
}

/// How the team and the accounts are doing: volume, actions, response times, backlog.
#[poise::command(slash_command, guild_only)]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "Which period (default: last 7 days)"] period: Option<PeriodChoice>,
    #[description = "Custom period: first day, YYYY-MM-DD"] from: Option<String>,
    #[description = "Custom period: last day, YYYY-MM-DD"] to: Option<String>,
    #[description = "Which trust (if you supervise more than one)"]
    #[autocomplete = "super::autocomplete_org"]
    org: Option<String>,
    #[description = "One platform only"] platform: Option<PlatformChoice>,
    #[description = "Post the answer in the channel for everyone (default: only you)"]
    public: Option<bool>,
) -> Result<(), Error> {
    let public = public.unwrap_or(false);
    let caller = Caller::of(ctx).await;
    let data = ctx.data();
    let org = resolve_org(&data.clicks.discord, &caller, org.as_deref(), "stats")?;
    let period = self::period(period, from.as_deref(), to.as_deref())?;
    let tz = timezone(ctx, &org)?;
    defer(ctx, public).await?;
    let now = chrono::Utc::now();
    let (from, to) = period
        .resolve(tz, now)
        .map_err(|e| user_error(format!("{e}.")))?;
    let scope = ReportScope {
        org,
        platform: platform.map(Platform::from),
        from,
        to,
    };
    let (embed_spec, png) = answer(
        &data.clicks.store,
        &data.clicks.pipeline,
        &scope,
        &period.label(),
        now,
    )
    .await?;
    ctx.send(
        reply(public)
            .embed(embed(&embed_spec))
            .attachment(serenity::CreateAttachment::bytes(png, CHART_FILE)),
    )
    .await?;
    Ok(())
}

/// The `/stats` answer: the embed and the chart PNG. Separate from the
/// command so tests and the benchmark time exactly what Discord gets.
pub async fn answer(
    store: &crate::store::Store,
    pipeline: &crate::pipeline::Pipeline,
    scope: &ReportScope,
    label: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(stats::render::Embed, Vec<u8>), Error> {
    let report = stats::report(store, pipeline, scope, now).await?;
    let tz = pipeline
        .schedule(&scope.org)
        .map(|s| s.timezone())
        .unwrap_or(chrono_tz::Europe::London);
    let title = format!("{}: flagged and actioned per day ({label})", scope.org);
    let days = report.daily.clone();
    let png = tokio::task::spawn_blocking(move || crate::chart::render_png(&title, &days))
        .await
        .map_err(|e| Box::new(e) as Error)??;
    Ok((
        stats::render::stats_embed(&report, tz, label, Some(CHART_FILE)),
        png,
    ))
}
