//! The decision engine: given a classified post, the author's history, the
//! org's policy, its monitoring hours (with overrides) and the time, decide
//! whether to relay the post to the team and how urgently, which moderation
//! actions to suggest, and which automatic reply, if any, to send.
//!
//! Pure: no I/O and no clock; `now` is passed in, so the same inputs always
//! give the same [`Decision`] (replays and tests rely on this).
//!
//! # Rules
//!
//! **Acted-on categories** are the post's categories that the org lists in
//! `config/orgs/<org>.toml` (`[categories.*]`). Categories the org does not
//! list neither relay nor suggest actions, but still suppress automatic
//! replies (below): not replying is always the safe side.
//!
//! **Relay.** A post (any kind, DMs included) with an acted-on category is
//! relayed. Priority: [`Priority::Urgent`] for `crisis`; [`Priority::High`]
//! for `threat`, `extremism` or `illegal`; [`Priority::Low`] when the only
//! acted-on categories are `spam`/`advertising` (bulk clean-up should not
//! queue ahead of people); [`Priority::Normal`] otherwise. Posts with no
//! acted-on category are not relayed, in hours or out: the team reads its
//! inboxes in hours, and the out-of-hours ones are covered by the handover
//! digest.
//!
//! **Automatic replies**, one per post at most, in this precedence:
//! 1. `crisis` → [`Template::Crisis`], at any hour;
//! 2. out of hours and `clinical_question` → [`Template::ClinicalSignpost`];
//! 3. out of hours → [`Template::OutOfHours`].
//!
//! In hours nothing else is sent automatically: the team replies. A
//! candidate that loses to a higher one is listed in
//! [`Decision::suppressed`] as superseded. A candidate is suppressed when:
//! - the post has a category that must never get an automatic reply:
//!   [`Category::suppresses_auto_reply`] (abuse, threat, hate, spam,
//!   advertising) for every template, crisis included; for the other
//!   templates also `sexual`, `illegal` and `extremism`, so Signpost never
//!   thanks anyone for such a post. A crisis post that is also, say,
//!   abusive gets no automatic reply but still an Urgent relay whose reason
//!   says the crisis reply was withheld, so a person replies by hand;
//! - the author is blocked — except for the crisis reply: signposting
//!   someone in crisis to help outweighs the block;
//! - the author already had an automatic reply in the same closed period —
//!   except for the crisis reply, which is sent every time. Two instants
//!   are in the same closed period when the schedule (with overrides) is
//!   closed at both and the next opening after each is the same instant;
//! - (out of hours) the schedule does not open again within the search
//!   horizon, so there is no return time to give.
//!
//! **Suggested actions** are the org's actions for the acted-on categories
//! ([`OrgConfig::actions_for`]). A post is never hidden, deleted or blocked
//! for being a complaint, a clinical question or a crisis: when those are its
//! only acted-on categories, `hide`, `delete` and `block` are removed.
//! **Repeat offenders:** when the post has an acted-on *removable* category
//! ([`REMOVABLE`]) and `flagged_in_window + 1 >= strikes.threshold`,
//! `block_suggested` is set and `block` added. An org's own mapping may
//! already list `block` (NSFT does for abuse); that stays, but only the
//! strikes rule sets `block_suggested`. An author already blocked is never
//! suggested `block` again.

use crate::category::{Action, Category};
use crate::classify::Classification;
use crate::config::OrgConfig;
use crate::hours::ScheduleView;
use crate::model::InboundPost;
use crate::replies::{RenderError, Replies, Template, Vars};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Categories that count as strikes and can ground a hide, delete or block.
pub const REMOVABLE: &[Category] = Category::STRIKES;

/// Categories that are never a reason to hide, delete or block a post.
const NEVER_REMOVED_FOR: &[Category] = &[
    Category::Complaint,
    Category::ClinicalQuestion,
    Category::Crisis,
];

/// What the store knows about the author, for this org.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AuthorHistory {
    /// Flagged posts in the org's `strikes.days` window, excluding this one.
    pub flagged_in_window: u32,
    /// Whether the author is blocked on this account.
    pub blocked: bool,
    /// When the author was last sent an automatic reply by this org.
    pub last_auto_reply_at: Option<DateTime<Utc>>,
}

/// How urgently the team should look at a relay. Ordered most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

/// A post passed to the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relay {
    pub priority: Priority,
    /// One line for the team: the categories and anything they must know.
    pub reason: String,
}

/// The automatic reply to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutoReply {
    pub template: Template,
    /// The filled text for the post's platform.
    pub text: String,
}

/// An automatic reply that was considered and not sent, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    pub template: Template,
    pub reason: String,
}

/// Everything decided about one post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the team was monitoring at `now`.
    pub in_hours: bool,
    /// The post's categories that the org acts on.
    pub acted_on: Vec<Category>,
    pub relay: Option<Relay>,
    /// Suggested moderation actions, in action order.
    pub suggested_actions: Vec<Action>,
    /// The author reached the org's strikes threshold with this post.
    pub block_suggested: bool,
    pub auto_reply: Option<AutoReply>,
    pub suppressed: Vec<Suppressed>,
}

/// The org-side inputs of a decision.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub org: &'a OrgConfig,
    /// The org's schedule with the hours overrides in force.
    pub schedule: ScheduleView<'a>,
    pub replies: &'a Replies,
    pub now: DateTime<Utc>,
}

/// Why no decision could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("post is for org `{post}` but the context is for org `{context}`")]
    OrgMismatch { post: String, context: String },
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Whether `a` and `b` fall in the same closed period of `schedule`.
pub fn same_closed_period(schedule: &ScheduleView<'_>, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    !schedule.is_open(a) && !schedule.is_open(b) && schedule.next_open(a) == schedule.next_open(b)
}

/// Decide what to do about `post`. See the module docs for the rules.
pub fn decide(
    post: &InboundPost,
    classification: &Classification,
    history: &AuthorHistory,
    ctx: &Context<'_>,
) -> Result<Decision, DecideError> {
    if post.org != ctx.org.id {
        return Err(DecideError::OrgMismatch {
            post: post.org.clone(),
            context: ctx.org.id.clone(),
        });
    }
    let now = ctx.now;
    let in_hours = ctx.schedule.is_open(now);
    let has = |c: Category| classification.categories.contains(&c);

    let mut acted_on: Vec<Category> = classification
        .categories
        .iter()
        .copied()
        .filter(|c| ctx.org.categories.contains_key(c))
        .collect();
    acted_on.sort();
    acted_on.dedup();
    let acts = |c: Category| acted_on.contains(&c);

    // Suggested actions and strikes.
    let mut suggested_actions = ctx.org.actions_for(&acted_on);
    if acted_on.iter().all(|c| NEVER_REMOVED_FOR.contains(c)) {
        suggested_actions.retain(|a| !matches!(a, Action::Hide | Action::Delete | Action::Block));
    }
    let strike = acted_on.iter().any(|c| REMOVABLE.contains(c));
    let block_suggested = strike
        && !history.blocked
        && history.flagged_in_window.saturating_add(1) >= ctx.org.strikes.threshold;
    if block_suggested {
        suggested_actions.push(Action::Block);
        suggested_actions.sort();
        suggested_actions.dedup();
    }
    if history.blocked {
        suggested_actions.retain(|a| *a != Action::Block);
    }

    // Automatic reply.
    let mut candidates = Vec::new();
    if has(Category::Crisis) {
        candidates.push(Template::Crisis);
    }
    if !in_hours {
        if has(Category::ClinicalQuestion) {
            candidates.push(Template::ClinicalSignpost);
        }
        candidates.push(Template::OutOfHours);
    }
    let next_open = if in_hours {
        None
    } else {
        ctx.schedule.next_open(now)
    };
    let mut auto_reply: Option<AutoReply> = None;
    let mut suppressed = Vec::new();
    for template in candidates {
        if let Some(chosen) = &auto_reply {
            suppressed.push(Suppressed {
                template,
                reason: format!(
                    "superseded by the {} reply: one automatic reply per post",
                    chosen.template
                ),
            });
            continue;
        }
        if let Some(reason) = suppression(template, classification, history, ctx, next_open) {
            suppressed.push(Suppressed { template, reason });
            continue;
        }
        let vars = Vars {
            author: post.author_handle.clone(),
            next_open: next_open.map(|t| ctx.schedule.schedule().format_next_open(t, now)),
            action: None,
            reason: None,
        };
        let text = ctx
            .replies
            .render(&post.org, template, post.platform, &vars)?;
        auto_reply = Some(AutoReply { template, text });
    }

    // Relay.
    let relay = (!acted_on.is_empty()).then(|| {
        let priority = if acts(Category::Crisis) {
            Priority::Urgent
        } else if [Category::Threat, Category::Extremism, Category::Illegal]
            .iter()
            .any(|c| acts(*c))
        {
            Priority::High
        } else if acted_on
            .iter()
            .all(|c| matches!(c, Category::Spam | Category::Advertising))
        {
            Priority::Low
        } else {
            Priority::Normal
        };
        let names: Vec<&str> = acted_on.iter().map(|c| c.as_str()).collect();
        let mut reason = format!(
            "{} {}: {}",
            post.kind.as_str(),
            post.platform,
            names.join(", ")
        );
        if !in_hours {
            reason.push_str(" (out of hours)");
        }
        if block_suggested {
            reason.push_str(&format!(
                "; repeat offender: {} flagged posts in {} days, block suggested",
                history.flagged_in_window.saturating_add(1),
                ctx.org.strikes.days
            ));
        }
        if acts(Category::Crisis) {
            match &auto_reply {
                Some(r) if r.template == Template::Crisis => {
                    reason.push_str("; crisis reply sent, follow up now")
                }
                _ => reason.push_str("; crisis reply withheld, reply by hand now"),
            }
        }
        Relay { priority, reason }
    });

    Ok(Decision {
        in_hours,
        acted_on,
        relay,
        suggested_actions,
        block_suggested,
        auto_reply,
        suppressed,
    })
}

/// Why `template` must not be sent automatically, if it must not.
fn suppression(
    template: Template,
    classification: &Classification,
    history: &AuthorHistory,
    ctx: &Context<'_>,
    next_open: Option<DateTime<Utc>>,
) -> Option<String> {
    let crisis = template == Template::Crisis;
    let never = classification.categories.iter().find(|c| {
        c.suppresses_auto_reply()
            || (!crisis
                && matches!(
                    c,
                    Category::Sexual | Category::Illegal | Category::Extremism
                ))
    });
    if let Some(c) = never {
        return Some(format!("post is {c}: never replied to automatically"));
    }
    if crisis {
        return None;
    }
    if history.blocked {
        return Some("author is blocked".to_string());
    }
    if let Some(last) = history.last_auto_reply_at {
        if same_closed_period(&ctx.schedule, last, ctx.now) {
            return Some(format!(
                "author already had an automatic reply at {} in this closed period",
                last.to_rfc3339()
            ));
        }
    }
    if template == Template::OutOfHours && next_open.is_none() {
        return Some(format!(
            "no opening in the next {} days to tell the author about",
            crate::hours::SEARCH_HORIZON_DAYS
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_order_most_urgent_first() {
        let mut p = vec![
            Priority::Low,
            Priority::Urgent,
            Priority::Normal,
            Priority::High,
        ];
        p.sort();
        assert_eq!(
            p,
            [
                Priority::Urgent,
                Priority::High,
                Priority::Normal,
                Priority::Low
            ]
        );
    }

    #[test]
    fn strikes_and_never_removed_categories_do_not_overlap() {
        assert!(REMOVABLE.iter().all(|c| !NEVER_REMOVED_FOR.contains(c)));
        // Everything that must never be auto-replied to is also a strike.
        for c in Category::ALL {
            if c.suppresses_auto_reply() {
                assert!(REMOVABLE.contains(c), "{c}");
            }
        }
    }
}
