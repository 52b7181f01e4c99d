//! Slash commands, registered per guild and grouped by area (one file each):
//!
//! - [`status`]: `/signpost status` for the team (queue depth, hours);
//! - supervisor commands, each in its own module: [`stats`], [`audit`],
//!   [`export`], and [`hours`] (`/hours now`, `extend`, `close`, `clear`).
//!
//! This module owns what they share: the server-side permission check
//! ([`resolve_org`], run on every invocation, never trusting Discord's
//! command permissions alone), user-facing errors ([`UserError`], shown as a
//! short ephemeral reason; anything else is logged and the user sees a
//! generic apology), and the reply convention: private (ephemeral) unless
//! the caller asks to post to the channel, deferred before any store work
//! so Discord's 3-second deadline is never missed.

pub mod audit;
pub mod export;
pub mod hours;
pub mod stats;
pub mod status;

use super::gateway::{Data, Error};
use crate::config::discord::DiscordConfig;
use crate::stats::render::Embed;
use poise::serenity_prelude as serenity;
use std::fmt;

/// The poise context every command gets.
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// Every command, in registration order.
pub fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        status::signpost(),
        hours::hours(),
        stats::stats(),
        audit::audit(),
        audit::history(),
        export::export(),
    ]
}

/// An error meant for the person who ran the command: a short sentence
/// saying what to do. Shown ephemerally, never logged as a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// A [`UserError`] as the commands' error type.
pub fn user_error(message: impl Into<String>) -> Error {
    Box::new(UserError(message.into()))
}

/// What the user is told when something inside Signpost failed.
pub const INTERNAL_ERROR: &str =
    "Signpost could not do that just now; the error has been logged. Try again in a minute.";

/// Who ran a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub guild_id: Option<u64>,
    pub user_id: u64,
    /// Display name (server nickname, else global name, else username).
    pub name: String,
    pub roles: Vec<u64>,
}

impl Caller {
    /// The invoking member, roles included (from the interaction itself).
    pub async fn of(ctx: Context<'_>) -> Caller {
        let guild_id = ctx.guild_id().map(|g| g.get());
        match ctx.author_member().await {
            Some(m) => Caller {
                guild_id,
                user_id: m.user.id.get(),
                name: m.display_name().to_owned(),
                roles: m.roles.iter().map(|r| r.get()).collect(),
            },
            None => Caller {
                guild_id,
                user_id: ctx.author().id.get(),
                name: ctx.author().name.clone(),
                roles: Vec::new(),
            },
        }
    }

    /// The audit actor for this caller.
    pub fn actor(&self) -> crate::store::Actor {
        crate::store::Actor {
            id: format!("discord:{}", self.user_id),
            name: self.name.clone(),
        }
    }
}

/// The orgs whose supervisor role the caller holds in this guild, sorted.
pub fn supervised_orgs<'a>(discord: &'a DiscordConfig, caller: &Caller) -> Vec<&'a str> {
    let mut orgs: Vec<&str> = discord
        .orgs
        .iter()
        .filter(|(_, o)| Some(o.guild_id) == caller.guild_id)
        .filter(|(_, o)| {
            o.supervisor_role_id
                .is_some_and(|r| caller.roles.contains(&r))
        })
        .map(|(id, _)| id.as_str())
        .collect();
    orgs.sort_unstable();
    orgs
}

/// The permission check of every supervisor command: the org the command
/// is about, which the caller must supervise in this guild. `requested` is
/// the command's `org` option; it may be left out when the caller
/// supervises exactly one org here.
pub fn resolve_org(
    discord: &DiscordConfig,
    caller: &Caller,
    requested: Option<&str>,
    command: &str,
) -> Result<String, UserError> {
    if caller.guild_id.is_none() {
        return Err(UserError(format!("Use /{command} in your team's server.")));
    }
    let orgs = supervised_orgs(discord, caller);
    match requested.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => {
            if orgs.contains(&r) {
                Ok(r.to_owned())
            } else if discord.orgs.contains_key(r) {
                Err(UserError(format!(
                    "Only {r} supervisors can use /{command} for {r}."
                )))
            } else {
                Err(UserError(format!("There is no trust called `{r}` in Signpost.")))
            }
        }
        None => match orgs.as_slice() {
            [one] => Ok((*one).to_owned()),
            [] => Err(UserError(format!(
                "Only supervisors can use /{command}. Ask a supervisor, or ask an admin for the supervisor role."
            ))),
            many => Err(UserError(format!(
                "You supervise {}: choose one with the `org` option.",
                many.join(", ")
            ))),
        },
    }
}

/// Acknowledges the command at once (Discord allows 3 seconds), privately
/// unless `public`. Call before any store work; later `ctx.send`s become
/// the answer.
pub async fn defer(ctx: Context<'_>, public: bool) -> Result<(), Error> {
    if public {
        ctx.defer().await?;
    } else {
        ctx.defer_ephemeral().await?;
    }
    Ok(())
}

/// serenity's builder for a rendered [`Embed`].
pub fn embed(e: &Embed) -> serenity::CreateEmbed {
    let mut b = serenity::CreateEmbed::new()
        .title(&e.title)
        .description(&e.description)
        .fields(e.fields.iter().map(|f| (&f.name, &f.value, f.inline)));
    if let Some(footer) = &e.footer {
        b = b.footer(serenity::CreateEmbedFooter::new(footer));
    }
    if let Some(image) = &e.image {
        b = b.image(image);
    }
    b
}

/// A reply: private unless `public`, mentions off.
pub fn reply(public: bool) -> poise::CreateReply {
    poise::CreateReply::default()
        .ephemeral(!public)
        .allowed_mentions(serenity::CreateAllowedMentions::new())
}

/// The org's time zone, or a user error if the org has no schedule.
pub fn timezone(ctx: Context<'_>, org: &str) -> Result<chrono_tz::Tz, Error> {
    ctx.data()
        .clicks
        .pipeline
        .schedule(org)
        .map(|s| s.timezone())
        .ok_or_else(|| user_error(format!("`{org}` has no monitoring hours configured.")))
}

/// Autocomplete choices from strings.
pub fn choices(items: impl IntoIterator<Item = String>) -> serenity::CreateAutocompleteResponse {
    serenity::CreateAutocompleteResponse::new().set_choices(
        items
            .into_iter()
            .take(25)
            .map(serenity::AutocompleteChoice::from)
            .collect(),
    )
}

/// Autocompletes the `org` option with the orgs the caller supervises here.
pub async fn autocomplete_org<'a>(
    ctx: Context<'a>,
    partial: &'a str,
) -> serenity::CreateAutocompleteResponse {
    let caller = Caller::of(ctx).await;
    let partial = partial.to_lowercase();
    choices(
        supervised_orgs(&ctx.data().clicks.discord, &caller)
            .into_iter()
            .filter(|o| o.starts_with(&partial))
            .map(str::to_owned),
    )
}

/// The framework's error handler: user errors are shown as they are,
/// anything else is logged with the command's name and replaced by
/// [`INTERNAL_ERROR`]. Both ephemeral; mentions off.
pub async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            let message = match error.downcast_ref::<UserError>() {
                Some(u) => u.0.clone(),
                None => {
                    tracing::error!(command = %ctx.command().qualified_name, error = %error, "command failed");
                    INTERNAL_ERROR.to_owned()
                }
            };
            let reply = poise::CreateReply::default()
                .content(message)
                .ephemeral(true)
                .allowed_mentions(serenity::CreateAllowedMentions::new());
            if let Err(e) = ctx.send(reply).await {
                tracing::warn!(error = %e, "could not send a command error to the user");
            }
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!(error = %e, "error handler failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discord() -> DiscordConfig {
        let toml = r#"
            [orgs.las]
            guild_id = 1
            relay_channel_id = 11
            team_role_id = 21
            supervisor_role_id = 31
            [orgs.nsft]
            guild_id = 1
            relay_channel_id = 12
            team_role_id = 22
            supervisor_role_id = 32
            [orgs.imperial]
            guild_id = 2
            relay_channel_id = 13
            team_role_id = 23
        "#;
        toml::from_str(toml).expect("discord config")
    }

    fn caller(guild: Option<u64>, roles: &[u64]) -> Caller {
        Caller {
            guild_id: guild,
            user_id: 9,
            name: "Sam".into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn a_team_member_is_refused() {
        let d = discord();
        let e = resolve_org(&d, &caller(Some(1), &[21]), None, "stats").unwrap_err();
        assert!(e.0.starts_with("Only supervisors can use /stats"), "{e}");
    }

    #[test]
    fn a_supervisor_of_one_org_needs_no_org_option() {
        let d = discord();
        assert_eq!(
            resolve_org(&d, &caller(Some(1), &[31]), None, "stats"),
            Ok("las".into())
        );
    }

    #[test]
    fn supervising_another_org_in_the_same_guild_is_not_enough() {
        let d = discord();
        let e = resolve_org(&d, &caller(Some(1), &[31]), Some("nsft"), "stats").unwrap_err();
        assert_eq!(e.0, "Only nsft supervisors can use /stats for nsft.");
    }

    #[test]
    fn the_role_only_counts_in_the_orgs_guild() {
        let d = discord();
        // Role 31 is las's supervisor role, but this is guild 2.
        assert!(resolve_org(&d, &caller(Some(2), &[31]), Some("las"), "audit").is_err());
        assert!(resolve_org(&d, &caller(None, &[31]), Some("las"), "audit").is_err());
    }

    #[test]
    fn an_org_without_a_supervisor_role_has_no_supervisors() {
        let d = discord();
        assert!(resolve_org(&d, &caller(Some(2), &[23]), Some("imperial"), "hours").is_err());
    }

    #[test]
    fn two_orgs_must_be_chosen_between() {
        let d = discord();
        let c = caller(Some(1), &[31, 32]);
        let e = resolve_org(&d, &c, None, "stats").unwrap_err();
        assert!(e.0.contains("las, nsft"), "{e}");
        assert_eq!(
            resolve_org(&d, &c, Some("nsft"), "stats"),
            Ok("nsft".into())
        );
        assert!(resolve_org(&d, &c, Some("nowhere"), "stats")
            .unwrap_err()
            .0
            .contains("no trust"));
    }
}
