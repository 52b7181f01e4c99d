//! `/signpost status`: the queue depths and whether the org is in
//! monitoring hours. It answers only members with the org's team or
//! supervisor role, and always ephemerally.

use super::Context;
use crate::bot::gateway::Error;
use crate::config::discord::OrgDiscord;
use chrono::Utc;

/// Signpost commands.
#[poise::command(slash_command, guild_only, subcommands("status"), ephemeral)]
pub async fn signpost(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Queue depth and monitoring hours for this server's trust.
#[poise::command(slash_command, guild_only, ephemeral)]
pub async fn status(ctx: Context<'_>) -> Result<(), Error> {
    let clicks = &ctx.data().clicks;
    let guild = ctx.guild_id().map(|g| g.get());
    let roles: Vec<u64> = match ctx.author_member().await {
        Some(m) => m.roles.iter().map(|r| r.get()).collect(),
        None => Vec::new(),
    };
    let orgs: Vec<(&String, &OrgDiscord)> = clicks
        .discord
        .orgs
        .iter()
        .filter(|(_, o)| Some(o.guild_id) == guild)
        .filter(|(_, o)| {
            roles.contains(&o.team_role_id)
                || o.supervisor_role_id.is_some_and(|r| roles.contains(&r))
        })
        .collect();
    if orgs.is_empty() {
        ctx.say("You need the team role in a server set up for Signpost.")
            .await?;
        return Ok(());
    }
    let now = Utc::now();
    let relays = clicks.store.queue_depth("discord.relay").await?;
    let replies = clicks.store.queue_depth(crate::outbox::KIND).await?;
    let mut lines = vec![format!(
        "Queued: {relays} relay(s) to post, {replies} platform reply(ies) to send."
    )];
    for (id, _) in orgs {
        let Some(schedule) = clicks.pipeline.schedule(id) else {
            continue;
        };
        let tz = schedule.timezone();
        let line = if schedule.is_open(now) {
            match schedule.next_close(now) {
                Some(t) => format!(
                    "**{id}**: in hours, closes {}",
                    t.with_timezone(&tz).format("%a %H:%M")
                ),
                None => format!("**{id}**: in hours"),
            }
        } else {
            match schedule.next_open(now) {
                Some(t) => format!(
                    "**{id}**: out of hours, opens {}",
                    t.with_timezone(&tz).format("%a %d %b %H:%M")
                ),
                None => format!("**{id}**: out of hours"),
            }
        };
        lines.push(line);
    }
    ctx.say(lines.join("\n")).await?;
    Ok(())
}
