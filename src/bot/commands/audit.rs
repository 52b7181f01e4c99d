//! `/audit post:<id or url>` (one post's timeline) and `/history
//! author:<handle>` (an author's posts, flags, strikes and actions), for
//! supervisors.

use super::{defer, embed, reply, supervised_orgs, timezone, user_error, Caller, Context};
use crate::bot::gateway::Error;
use crate::stats::gather;
use crate::stats::timeline::{history_embed, post_timeline_embed, PostRef};

/// The timeline of one post: arrival, classification, relay, clicks, platform outcomes, notices.
#[poise::command(slash_command, guild_only)]
pub async fn audit(
    ctx: Context<'_>,
    #[description = "Signpost post id (#42), platform:id (x:1790…) or the post's URL"] post: String,
    #[description = "Post the answer in the channel for everyone (default: only you)"]
    public: Option<bool>,
) -> Result<(), Error> {
    let public = public.unwrap_or(false);
    let caller = Caller::of(ctx).await;
    let data = ctx.data();
    let orgs: Vec<String> = supervised_orgs(&data.clicks.discord, &caller)
        .into_iter()
        .map(str::to_owned)
        .collect();
    if orgs.is_empty() {
        return Err(user_error("Only supervisors can use /audit."));
    }
    let Some(reference) = PostRef::parse(&post) else {
        return Err(user_error(
            "Give a Signpost post id (e.g. 42), platform:id (e.g. x:1790012345) or the post's URL.",
        ));
    };
    defer(ctx, public).await?;
    let store = &data.clicks.store;
    let found = gather::find_post(store, &reference).await?;
    let Some(found) = found.filter(|p| orgs.contains(&p.post.org)) else {
        // Posts of other trusts are reported as missing: no probing.
        return Err(user_error("Signpost has no such post for your trust."));
    };
    let org = found.post.org.clone();
    let tz = timezone(ctx, &org)?;
    let text = data.clicks.pipeline.shown_text(&org, &found.post.text);
    let timeline = gather::post_timeline(store, found).await?;
    ctx.send(reply(public).embed(embed(&post_timeline_embed(&timeline, &text, tz))))
        .await?;
    Ok(())
}

/// An author's posts, flags, strikes and actions.
#[poise::command(slash_command, guild_only)]
pub async fn history(
    ctx: Context<'_>,
    #[description = "The author's handle"]
    #[autocomplete = "autocomplete_handle"]
    author: String,
    #[description = "Which trust (if you supervise more than one)"]
    #[autocomplete = "super::autocomplete_org"]
    org: Option<String>,
    #[description = "Post the answer in the channel for everyone (default: only you)"]
    public: Option<bool>,
) -> Result<(), Error> {
    let public = public.unwrap_or(false);
    let caller = Caller::of(ctx).await;
    let data = ctx.data();
    let org = super::resolve_org(&data.clicks.discord, &caller, org.as_deref(), "history")?;
    if author.trim().trim_start_matches('@').is_empty() {
        return Err(user_error("Give the author's handle, e.g. @someone."));
    }
    let tz = timezone(ctx, &org)?;
    defer(ctx, public).await?;
    let records =
        gather::author_history(&data.clicks.store, &data.clicks.pipeline, &org, &author).await?;
    if records.is_empty() {
        return Err(user_error(format!(
            "Signpost has no posts to {org} from `{}`.",
            author.trim()
        )));
    }
    ctx.send(reply(public).embed(embed(&history_embed(&org, &records, tz))))
        .await?;
    Ok(())
}

/// Handles starting with what was typed (only for supervisors).
async fn autocomplete_handle<'a>(
    ctx: Context<'a>,
    partial: &'a str,
) -> poise::serenity_prelude::CreateAutocompleteResponse {
    let caller = Caller::of(ctx).await;
    if supervised_orgs(&ctx.data().clicks.discord, &caller).is_empty() {
        return super::choices(Vec::new());
    }
    let prefix = partial.trim().trim_start_matches('@');
    match ctx.data().clicks.store.handles_starting(prefix, 25).await {
        Ok(handles) => super::choices(handles),
        Err(e) => {
            tracing::warn!(error = %e, "handle autocomplete failed");
            super::choices(Vec::new())
        }
    }
}
