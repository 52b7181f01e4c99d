//! The gateway adapter: a poise framework on a serenity client whose REST
//! calls go to `api_base`. It registers `/signpost` in every configured
//! guild once READY arrives, and turns component and modal interactions
//! into [`Click`]s for [`Clicks::handle`]. Mentions are off by default.

use super::clicks::{Click, ClickKind, Clicks, Member};
use super::commands;
use crate::config::discord::DiscordConfig;
use poise::serenity_prelude as serenity;
use serenity::{
    ActionRowComponent, ApplicationId, ComponentInteraction, CreateAllowedMentions, FullEvent,
    GatewayIntents, GuildId, Http, HttpBuilder, Interaction, ModalInteraction,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The error type of commands and the event handler.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What every command and event sees.
#[derive(Debug, Clone)]
pub struct Data {
    pub clicks: Arc<Clicks>,
    /// Clicks being handled right now; shutdown waits for them.
    pub in_flight: Arc<AtomicUsize>,
}

/// Only guild events are needed: interactions arrive regardless of intents.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
}

/// An `Http` whose requests go to `api_base` (Discord, a proxy or a test
/// fake). `application_id` lets interaction follow-ups work before READY.
///
/// serenity only honours a proxy with its own rate limiter off (the limiter
/// builds URLs for discord.com), so with any other `api_base` the proxy is
/// expected to do the rate limiting, as twilight-http-proxy does.
pub fn build_http(token: &str, api_base: &str, application_id: Option<u64>) -> Http {
    let mut b = HttpBuilder::new(token);
    if api_base.trim_end_matches('/') != "https://discord.com" {
        b = b
            .proxy(api_base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    if let Some(id) = application_id.filter(|id| *id != 0) {
        b = b.application_id(ApplicationId::new(id));
    }
    b.build()
}

/// The serenity client with the poise framework, ready to `start()`.
/// `make_data` receives the client's own `Http` (which learns the
/// application id from READY) once the gateway is ready.
pub async fn build_client<F>(
    http: Http,
    discord: Arc<DiscordConfig>,
    make_data: F,
) -> Result<serenity::Client, serenity::Error>
where
    F: FnOnce(Arc<Http>) -> Data + Send + Sync + 'static,
{
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |error| Box::pin(commands::on_error(error)),
            event_handler: |ctx, event| Box::pin(event_handler(ctx, event)),
            allowed_mentions: Some(CreateAllowedMentions::new()),
            initialize_owners: false,
            ..Default::default()
        })
        // No owner commands: skip the application-info request.
        .initialize_owners(false)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(user = %ready.user.name, "connected to Discord");
                register(ctx, &discord, &framework.options().commands).await;
                Ok(make_data(ctx.http.clone()))
            })
        })
        .build();
    serenity::ClientBuilder::new_with_http(http, intents())
        .framework(framework)
        .await
}

/// Registers the commands in each org's guild; a failure is logged, not fatal.
async fn register(
    ctx: &serenity::Context,
    discord: &DiscordConfig,
    commands: &[poise::Command<Data, Error>],
) {
    let mut guilds: Vec<u64> = discord.orgs.values().map(|o| o.guild_id).collect();
    guilds.sort_unstable();
    guilds.dedup();
    for g in guilds {
        if g == 0 {
            continue;
        }
        match poise::builtins::register_in_guild(ctx, commands, GuildId::new(g)).await {
            Ok(()) => tracing::info!(guild = g, "registered slash commands"),
            Err(e) => tracing::error!(guild = g, error = %e, "could not register slash commands"),
        }
    }
}

async fn event_handler(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &FullEvent,
) -> Result<(), Error> {
    let FullEvent::InteractionCreate { interaction } = event else {
        return Ok(());
    };
    let Some(click) = to_click(interaction) else {
        return Ok(());
    };
    let data = framework.user_data;
    let _counted = InFlight::enter(&data.in_flight);
    let handled = data.clicks.handle(&click, chrono::Utc::now()).await;
    tracing::info!(interaction = click.interaction_id, outcome = ?handled.outcome, ack = ?handled.ack_after, "click");
    Ok(())
}

/// Counts a click in flight for as long as it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(n: &'a AtomicUsize) -> InFlight<'a> {
        n.fetch_add(1, Ordering::SeqCst);
        InFlight(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A component or modal interaction as a [`Click`]; `None` for others.
pub fn to_click(interaction: &Interaction) -> Option<Click> {
    match interaction {
        Interaction::Component(c) => Some(component_click(c)),
        Interaction::Modal(m) => Some(modal_click(m)),
        _ => None,
    }
}

fn member_of(m: Option<&serenity::Member>) -> Option<Member> {
    m.map(|m| Member {
        id: m.user.id.get(),
        name: m.display_name().to_owned(),
        roles: m.roles.iter().map(|r| r.get()).collect(),
    })
}

fn component_click(c: &ComponentInteraction) -> Click {
    Click {
        interaction_id: c.id.get(),
        token: c.token.clone(),
        guild_id: c.guild_id.map(|g| g.get()),
        member: member_of(c.member.as_ref()),
        kind: ClickKind::Button {
            custom_id: c.data.custom_id.clone(),
        },
    }
}

fn modal_click(m: &ModalInteraction) -> Click {
    let fields = m
        .data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|c| match c {
            ActionRowComponent::InputText(t) => {
                Some((t.custom_id.clone(), t.value.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    Click {
        interaction_id: m.id.get(),
        token: m.token.clone(),
        guild_id: m.guild_id.map(|g| g.get()),
        member: member_of(m.member.as_ref()),
        kind: ClickKind::Modal {
            custom_id: m.data.custom_id.clone(),
            fields,
        },
    }
}
