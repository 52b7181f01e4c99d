//! The relay: one Discord message per flagged post, with the post (personal
//! data masked when the org says so), each category with the clause of the
//! org's policy it breaches, severity as colour, the author's history, when
//! it arrived and whether in hours, and one button per action the platform
//! supports, the suggested ones highlighted.
//!
//! Buttons carry stateless custom_ids, `sp1:<action>:<post id>`, so a click on
//! a months-old message still works after a restart: everything else is read
//! from the store when the click arrives. Mentions are off unless a crisis
//! relay names the org's crisis role.

use super::limits::{self, clip};
use crate::category::{Action, Category, Severity};
use crate::classify::Classification;
use crate::config::OrgConfig;
use crate::decide::Decision;
use crate::model::InboundPost;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// Prefix and version of Signpost's custom_ids.
const ID_PREFIX: &str = "sp1";

/// The custom_id of a button: `sp1:<action>:<post id>` (well under 100).
pub fn custom_id(action: Action, post_id: i64) -> String {
    format!("{ID_PREFIX}:{}:{post_id}", action.as_str())
}

/// Read a custom_id back; `None` for anything not Signpost's.
pub fn parse_custom_id(id: &str) -> Option<(Action, i64)> {
    let mut parts = id.splitn(3, ':');
    if parts.next()? != ID_PREFIX {
        return None;
    }
    let action = parts.next()?.parse().ok()?;
    let post_id = parts.next()?.parse().ok()?;
    Some((action, post_id))
}

/// The author's standing, from the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorSummary {
    /// Earlier strikes within the org's window.
    pub strikes: u32,
    pub blocked: bool,
}

/// An action already taken on the post, shown on the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDone {
    pub action: Action,
    /// Discord user id of who did it.
    pub by_id: String,
    pub by_name: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
    /// `None` when it worked; the user-facing failure otherwise.
    pub failed: Option<String>,
}

/// Everything a relay shows.
#[derive(Debug, Clone)]
pub struct RelayView<'a> {
    pub post_id: i64,
    pub org: &'a OrgConfig,
    pub post: &'a InboundPost,
    pub classification: &'a Classification,
    pub decision: &'a Decision,
    pub author: AuthorSummary,
    /// Actions the post's platform can carry out (capability gating).
    pub capabilities: &'a [Action],
    /// How many near-identical posts this relay stands for (1 normally).
    pub count: u32,
    /// The org's crisis role to mention on crisis relays.
    pub crisis_role: Option<&'a str>,
    /// What has been done so far, oldest first.
    pub done: &'a [ActionDone],
}

/// The buttons in display order.
const BUTTONS: &[Action] = &[
    Action::Hide,
    Action::Delete,
    Action::Block,
    Action::Report,
    Action::Escalate,
    Action::SignpostCrisis,
    Action::SignpostComplaints,
    Action::SignpostClinical,
    Action::AskToDm,
    Action::Reply,
    Action::Dismiss,
];

/// Whether the platform can carry out `a`. Escalating (evidence for the
/// police) and dismissing need no platform; signposting and asking to DM are
/// replies, so they need the platform's Reply.
fn possible(a: Action, capabilities: &[Action]) -> bool {
    match a {
        Action::Escalate | Action::Dismiss => true,
        Action::SignpostComplaints
        | Action::SignpostClinical
        | Action::SignpostCrisis
        | Action::AskToDm => capabilities.contains(&a) || capabilities.contains(&Action::Reply),
        _ => capabilities.contains(&a),
    }
}

/// Whether `a` still makes sense after `done`.
fn still_valid(a: Action, done: &[ActionDone]) -> bool {
    let did = |x: Action| done.iter().any(|d| d.action == x && d.failed.is_none());
    if did(Action::Dismiss) || did(a) {
        return false;
    }
    match a {
        // A deleted post can no longer be hidden, replied to or signposted.
        Action::Hide
        | Action::SignpostComplaints
        | Action::SignpostClinical
        | Action::SignpostCrisis
        | Action::AskToDm
        | Action::Reply => !did(Action::Delete),
        // Dismissing makes no sense once the team has acted.
        Action::Dismiss => done.iter().all(|d| d.failed.is_some()),
        _ => true,
    }
}

fn colour(s: Severity) -> u32 {
    match s {
        Severity::None => 0x95a5a6,
        Severity::Low => 0x3498db,
        Severity::Medium => 0xf1c40f,
        Severity::High => 0xe67e22,
        Severity::Critical => 0xe74c3c,
    }
}

fn past(a: Action) -> &'static str {
    match a {
        Action::Hide => "Hidden",
        Action::Delete => "Deleted",
        Action::Block => "Author blocked",
        Action::Report => "Reported to the platform",
        Action::Escalate => "Escalated to police",
        Action::SignpostComplaints => "Signposted to complaints",
        Action::SignpostClinical => "Signposted to clinical help",
        Action::SignpostCrisis => "Crisis support sent",
        Action::AskToDm => "Asked to DM",
        Action::Reply => "Replied",
        Action::Dismiss => "Marked not an issue",
    }
}

/// One status line per action taken: "Hidden by <@id> at 14:02 · reason".
fn status_lines(done: &[ActionDone], tz: chrono_tz::Tz) -> String {
    done.iter()
        .map(|d| {
            let when = d.at.with_timezone(&tz).format("%H:%M");
            let mut line = match &d.failed {
                None => format!("{} by <@{}> at {when}", past(d.action), d.by_id),
                Some(e) => format!(
                    "⚠ {} by <@{}> failed at {when}: {e}",
                    d.action.label(),
                    d.by_id
                ),
            };
            if let Some(r) = &d.reason {
                line.push_str(" · ");
                line.push_str(r);
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The message for a relay, as a Discord `MessageCreateRequest` body; also
/// valid as the `data` of an update-message interaction response.
pub fn relay_message(v: &RelayView<'_>) -> Value {
    let c = v.classification;
    let d = v.decision;
    let tz = v.org.hours.timezone;
    let text = if v.org.mask_personal_data {
        c.masked(&v.post.text)
    } else {
        v.post.text.clone()
    };
    let cats: Vec<&str> = d.acted_on.iter().map(|c| c.as_str()).collect();
    let crisis = d.acted_on.contains(&Category::Crisis);
    let mut title = format!(
        "{}{} · {} {} on {}",
        if crisis { "🆘 " } else { "" },
        if cats.is_empty() {
            "flagged".to_string()
        } else {
            cats.join(", ")
        },
        v.post.platform,
        v.post.kind.as_str(),
        v.post.account
    );
    if v.count > 1 {
        title.push_str(&format!(" (×{})", v.count));
    }

    let mut fields = Vec::new();
    let author = format!("{} (`{}`)", v.post.author_handle, v.post.author_id);
    fields.push(
        json!({"name": "Author", "value": clip(&author, limits::FIELD_VALUE), "inline": true}),
    );
    let unix = v.post.created_at.timestamp();
    fields.push(json!({
        "name": "Arrived",
        "value": format!("<t:{unix}:f> (<t:{unix}:R>) · {}", if d.in_hours { "in hours" } else { "out of hours" }),
        "inline": true
    }));
    fields.push(json!({"name": "Severity", "value": c.severity.as_str(), "inline": true}));
    let mut history = if v.author.strikes == 0 {
        "no earlier strikes".to_string()
    } else {
        format!(
            "{} earlier strike{} in {} days",
            v.author.strikes,
            if v.author.strikes == 1 { "" } else { "s" },
            v.org.strikes.days
        )
    };
    if v.author.blocked {
        history.push_str(" · already blocked");
    } else if d.block_suggested {
        history.push_str(" · **block suggested**");
    }
    fields.push(json!({"name": "History", "value": history, "inline": false}));
    for cat in &d.acted_on {
        if let Some(p) = v.org.categories.get(cat) {
            fields.push(json!({
                "name": clip(&format!("{cat}: {}", cat.meaning()), limits::FIELD_NAME),
                "value": clip(&format!("“{}”", p.clause), limits::FIELD_VALUE),
                "inline": false
            }));
        }
    }
    if let Some(reply) = &d.auto_reply {
        fields.push(json!({
            "name": format!("Auto-reply sent ({})", reply.template.as_str()),
            "value": clip(&reply.text, limits::FIELD_VALUE),
            "inline": false
        }));
    }
    if !v.done.is_empty() {
        fields.push(json!({"name": "Status", "value": clip(&status_lines(v.done, tz), limits::FIELD_VALUE), "inline": false}));
    }
    let footer = format!(
        "{} · post {} · rules {}",
        v.org.name,
        v.post_id,
        c.rules.join(", ")
    );

    // Keep the whole embed under 6000 characters: the description gives way.
    let used: usize = title.chars().count().min(limits::TITLE)
        + footer.chars().count().min(limits::FOOTER)
        + fields
            .iter()
            .map(|f| {
                f["name"].as_str().map_or(0, |s| s.chars().count())
                    + f["value"].as_str().map_or(0, |s| s.chars().count())
            })
            .sum::<usize>();
    let room = limits::EMBED_TOTAL
        .saturating_sub(used)
        .min(limits::DESCRIPTION);
    let description = clip(&format!("> {}", text.replace('\n', "\n> ")), room);

    let mut embed = json!({
        "title": clip(&title, limits::TITLE),
        "description": description,
        "color": colour(c.severity),
        "fields": fields,
        "footer": {"text": clip(&footer, limits::FOOTER)},
        "timestamp": v.post.created_at.to_rfc3339(),
    });
    if let Some(url) = &v.post.url {
        embed["url"] = json!(url);
    }

    let buttons: Vec<Value> = BUTTONS
        .iter()
        .copied()
        .filter(|a| *a != Action::SignpostCrisis || crisis)
        .filter(|a| possible(*a, v.capabilities))
        .filter(|a| still_valid(*a, v.done))
        .map(|a| {
            let suggested = d.suggested_actions.contains(&a);
            let style = match (suggested, a) {
                (true, Action::Delete | Action::Block | Action::Escalate) => 4,
                (true, _) => 1,
                (false, _) => 2,
            };
            // A platform failure leaves the button as a retry.
            let failed = v.done.iter().any(|d| d.action == a && d.failed.is_some());
            let label = if failed {
                format!("Retry: {}", a.label())
            } else {
                a.label().to_string()
            };
            json!({"type": 2, "style": style, "label": label, "custom_id": custom_id(a, v.post_id)})
        })
        .collect();
    let components: Vec<Value> = buttons
        .chunks(limits::BUTTONS_PER_ROW)
        .take(limits::ROWS)
        .map(|row| json!({"type": 1, "components": row}))
        .collect();

    let mut msg = json!({
        "embeds": [embed],
        "components": components,
        "allowed_mentions": {"parse": []},
    });
    if crisis {
        if let Some(role) = v.crisis_role {
            msg["content"] = json!(format!("<@&{role}> crisis post: act now"));
            msg["allowed_mentions"] = json!({"parse": [], "roles": [role]});
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_round_trip_and_stay_short() {
        for a in Action::ALL {
            let id = custom_id(*a, i64::MAX);
            assert!(id.len() <= limits::CUSTOM_ID, "{id}");
            assert_eq!(parse_custom_id(&id), Some((*a, i64::MAX)));
        }
        assert_eq!(parse_custom_id("other:hide:1"), None);
        assert_eq!(parse_custom_id("sp1:explode:1"), None);
        assert_eq!(parse_custom_id("sp1:hide:x"), None);
    }
}
