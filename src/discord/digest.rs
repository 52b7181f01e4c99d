//! The handover digest: one Discord message posted to an org's relay
//! channel when the team comes back on duty, saying what happened while
//! they were away. Built as Discord API JSON by a pure function of the
//! store's [`DigestFacts`]; post texts must already be masked (see
//! `crate::discord::delivery::shown_text`).
//!
//! The message: a short content line, then crisis posts first in an embed
//! of their own (red, each with platform, author, time, relay state, text
//! and link), then the summary embed "Handover: while you were away (Fri
//! 17:30 → Mon 09:00)": what arrived, what was flagged, the automatic
//! replies, and what still needs action (linked to its relay message).
//! Everything stays within Discord's limits, long lists ending "…and N
//! more". Mentions are off: crisis relays already pinged the crisis role.

use super::limits::{self, clip};
use crate::store::{DigestFacts, DigestPost, RelayState};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

/// Embed colours.
const CRISIS_COLOUR: u32 = 0xe74c3c;
const SUMMARY_COLOUR: u32 = 0x3498db;

/// Windows this long or longer show dates with their times.
pub const LONG_WINDOW_DAYS: i64 = 4;

/// Longest post text shown for one listed post.
pub const POST_TEXT_MAX: usize = 280;

/// Everything the digest shows.
#[derive(Debug, Clone, Copy)]
pub struct DigestView<'a> {
    /// The org's name, e.g. "Norfolk and Suffolk NHS Foundation Trust".
    pub org_name: &'a str,
    /// The org's time zone.
    pub tz: Tz,
    /// The facts, post texts already masked.
    pub facts: &'a DigestFacts,
    /// The org's Discord guild, to link relay messages.
    pub guild_id: Option<u64>,
}

/// The window in local time: "Fri 17:30 → Mon 09:00", with dates when the
/// window is [`LONG_WINDOW_DAYS`] or longer ("Thu 24 Dec 17:30 → Wed 30 Dec
/// 09:00").
pub fn window_label(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> String {
    let long = to - from >= Duration::days(LONG_WINDOW_DAYS);
    format!(
        "{} → {}",
        local_time(from, tz, long),
        local_time(to, tz, long)
    )
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `t` in local time: "Sat 02:14", with the date in a long window.
fn local_time(t: DateTime<Utc>, tz: Tz, long: bool) -> String {
    let fmt = if long { "%a %-d %b %H:%M" } else { "%a %H:%M" };
    t.with_timezone(&tz).format(fmt).to_string()
}

/// Whether the window is long enough that times need dates.
fn long_window(f: &DigestFacts) -> bool {
    f.to - f.from >= Duration::days(LONG_WINDOW_DAYS)
}

fn state_label(state: Option<RelayState>) -> &'static str {
    match state {
        Some(RelayState::Pending) => "relay not posted yet",
        Some(RelayState::Open) => "**still open**",
        Some(RelayState::Actioned) => "actioned",
        Some(RelayState::Dismissed) => "dismissed",
        None => "not relayed",
    }
}

/// A link to the post's relay message, when it has one.
fn relay_link(p: &DigestPost, guild: Option<u64>) -> Option<String> {
    match (guild, &p.channel_id, &p.message_id) {
        (Some(g), Some(c), Some(m)) => Some(format!("https://discord.com/channels/{g}/{c}/{m}")),
        _ => None,
    }
}

/// One line of text, shortened.
fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    clip(&flat, max)
}

/// Lines joined with "\n" until `max` characters; the rest counted in a
/// final "…and N more" (counting `hidden` more beyond the lines given).
fn bounded_list(lines: &[String], hidden: u64, max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0usize;
    for (i, line) in lines.iter().enumerate() {
        let rest = (lines.len() - i - 1) as u64 + hidden;
        let tail = if rest > 0 {
            format!("\n…and {rest} more")
        } else {
            String::new()
        };
        let sep = if out.is_empty() { 0 } else { 1 };
        let needed = out.chars().count() + sep + line.chars().count() + tail.chars().count();
        if needed > max {
            break;
        }
        if sep == 1 {
            out.push('\n');
        }
        out.push_str(line);
        shown += 1;
    }
    let rest = (lines.len() - shown) as u64 + hidden;
    if rest > 0 {
        let tail = format!("…and {rest} more");
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&tail);
    }
    clip(&out, max)
}

fn crisis_line(i: usize, p: &DigestPost, v: &DigestView<'_>) -> String {
    let mut line = format!(
        "**{}.** {} · {} · {} · {}\n> {}",
        i + 1,
        p.platform,
        one_line(&p.author_handle, 64),
        local_time(p.created_at, v.tz, long_window(v.facts)),
        state_label(p.relay_state),
        one_line(&p.text, POST_TEXT_MAX)
    );
    let mut links = Vec::new();
    if let Some(url) = &p.url {
        links.push(format!("[post]({url})"));
    }
    if let Some(link) = relay_link(p, v.guild_id) {
        links.push(format!("[relay]({link})"));
    }
    if !links.is_empty() {
        line.push('\n');
        line.push_str(&links.join(" · "));
    }
    line
}

fn needs_action_line(p: &DigestPost, v: &DigestView<'_>) -> String {
    let cats: Vec<String> = p
        .categories
        .iter()
        .map(|c| c.as_str().replace('_', " "))
        .collect();
    let what = if cats.is_empty() {
        "flagged".to_owned()
    } else {
        cats.join(", ")
    };
    let head = format!(
        "{what} · {} · {}",
        p.platform,
        one_line(&p.author_handle, 40)
    );
    let head = match relay_link(p, v.guild_id) {
        Some(link) => format!("[{head}]({link})"),
        None => head,
    };
    let since = p.received_at.with_timezone(&v.tz).format("%a %-d %b %H:%M");
    format!(
        "• {head}: “{}” (since {since}, {})",
        one_line(&p.text, 60),
        state_label(p.relay_state)
    )
}

fn counts<K: std::fmt::Display>(items: &[(K, u64)]) -> String {
    items
        .iter()
        .map(|(k, n)| format!("{} {n}", k.to_string().replace('_', " ")))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn embed_len(e: &Value) -> usize {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    len(&e["title"])
        + len(&e["description"])
        + len(&e["footer"]["text"])
        + e["fields"].as_array().map_or(0, |fs| {
            fs.iter().map(|f| len(&f["name"]) + len(&f["value"])).sum()
        })
}

/// The digest message, as a Discord `MessageCreateRequest` body.
pub fn digest_message(v: &DigestView<'_>) -> Value {
    let f = v.facts;
    let window = window_label(f.from, f.to, v.tz);

    // The summary embed: bounded by field limits, well under 6000.
    let arrived = if f.posts == 0 {
        "Nothing arrived.".to_owned()
    } else {
        format!(
            "{}: {}",
            plural(f.posts, "post", "posts"),
            counts(&f.by_platform)
        )
    };
    let flagged = if f.by_category.is_empty() {
        "Nothing flagged.".to_owned()
    } else {
        counts(&f.by_category)
    };
    let sent: u64 = f.auto_replies.iter().map(|(_, n)| n).sum();
    let mut replies = if sent == 0 {
        "None sent.".to_owned()
    } else {
        format!(
            "{}: {}",
            plural(sent, "reply", "replies"),
            counts(&f.auto_replies)
        )
    };
    if f.auto_replies_queued > 0 {
        replies.push_str(&format!(
            "\n{} still queued to send.",
            f.auto_replies_queued
        ));
    }
    if f.suppressed_posts > 0 {
        replies.push_str(&format!(
            "\n{} got no automatic reply (abusive, or already answered this closed period).",
            plural(f.suppressed_posts, "post", "posts")
        ));
    }
    let pending: Vec<String> = f
        .needs_action
        .iter()
        .map(|p| needs_action_line(p, v))
        .collect();
    let hidden = f.needs_action_total.saturating_sub(pending.len() as u64);
    let needs = if f.needs_action_total == 0 {
        "Nothing: every relay has been dealt with.".to_owned()
    } else {
        bounded_list(&pending, hidden, limits::FIELD_VALUE)
    };
    let crisis_field = if f.crisis_total == 0 {
        "None.".to_owned()
    } else {
        format!(
            "{}: listed above.",
            plural(f.crisis_total, "crisis post", "crisis posts")
        )
    };
    let fields = vec![
        json!({"name": "Arrived", "value": clip(&arrived, limits::FIELD_VALUE), "inline": false}),
        json!({"name": "Crisis", "value": crisis_field, "inline": true}),
        json!({"name": "Flagged", "value": clip(&flagged, limits::FIELD_VALUE), "inline": false}),
        json!({"name": "Automatic replies", "value": clip(&replies, limits::FIELD_VALUE), "inline": false}),
        json!({
            "name": format!("Still needs action ({})", f.needs_action_total),
            "value": needs,
            "inline": false
        }),
    ];
    let summary = json!({
        "title": clip(&format!("Handover: while you were away ({window})"), limits::TITLE),
        "description": clip(&format!("What reached {}'s accounts while the team was off duty.", v.org_name), limits::DESCRIPTION),
        "color": SUMMARY_COLOUR,
        "fields": fields,
        "footer": {"text": clip(&format!("{} · times in {}", v.org_name, v.tz.name()), limits::FOOTER)},
        "timestamp": f.to.to_rfc3339(),
    });

    let mut embeds = Vec::new();
    let content = if f.crisis_total > 0 {
        let lines: Vec<String> = f
            .crisis
            .iter()
            .enumerate()
            .map(|(i, p)| crisis_line(i, p, v))
            .collect();
        let title = format!(
            "🆘 {} while you were away",
            plural(f.crisis_total, "crisis post", "crisis posts")
        );
        let room = limits::EMBED_TOTAL
            .saturating_sub(embed_len(&summary) + title.chars().count())
            .min(limits::DESCRIPTION);
        let hidden = f.crisis_total.saturating_sub(lines.len() as u64);
        embeds.push(json!({
            "title": clip(&title, limits::TITLE),
            "description": bounded_list_blocks(&lines, hidden, room),
            "color": CRISIS_COLOUR,
        }));
        format!(
            "🆘 **{}** arrived while you were away: check them first. Handover for {} ({window}).",
            plural(f.crisis_total, "crisis post", "crisis posts"),
            v.org_name
        )
    } else {
        format!(
            "Handover for {} ({window}): {} while you were away, {} still to deal with.",
            v.org_name,
            plural(f.posts, "post", "posts"),
            plural(f.needs_action_total, "relay", "relays")
        )
    };
    embeds.push(summary);
    json!({
        "content": clip(&content, limits::CONTENT),
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    })
}

/// As [`bounded_list`] for multi-line entries separated by blank lines.
fn bounded_list_blocks(blocks: &[String], hidden: u64, max: usize) -> String {
    let spaced: Vec<String> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| if i == 0 { b.clone() } else { format!("\n{b}") })
        .collect();
    bounded_list(&spaced, hidden, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::model::Platform;
    use chrono::TimeZone;

    const LONDON: Tz = Tz::Europe__London;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid")
    }

    /// Friday 10 July 2026 17:30 BST → Monday 13 July 09:00 BST.
    fn weekend() -> (DateTime<Utc>, DateTime<Utc>) {
        (utc(2026, 7, 10, 16, 30), utc(2026, 7, 13, 8, 0))
    }

    fn listed(id: i64, at: DateTime<Utc>, text: &str, cats: &[Category]) -> DigestPost {
        DigestPost {
            post_id: id,
            platform: Platform::Facebook,
            author_handle: format!("@person{id}"),
            text: text.into(),
            url: Some(format!("https://facebook.example/{id}")),
            created_at: at,
            received_at: at,
            categories: cats.to_vec(),
            relay_state: Some(RelayState::Open),
            channel_id: Some("100000000000000013".into()),
            message_id: Some(format!("9000{id}")),
        }
    }

    fn view(facts: &DigestFacts) -> DigestView<'_> {
        DigestView {
            org_name: "Norfolk and Suffolk NHS Foundation Trust",
            tz: LONDON,
            facts,
            guild_id: Some(100000000000000003),
        }
    }

    fn fields(embed: &Value) -> Vec<(String, String)> {
        embed["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap_or_default().to_owned(),
                    f["value"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn window_labels() {
        let (from, to) = weekend();
        assert_eq!(window_label(from, to, LONDON), "Fri 17:30 → Mon 09:00");
        // In winter the same local times are GMT.
        assert_eq!(
            window_label(utc(2026, 12, 11, 17, 30), utc(2026, 12, 14, 9, 0), LONDON),
            "Fri 17:30 → Mon 09:00"
        );
        // Christmas 2026 into the new year: dates are shown.
        assert_eq!(
            window_label(utc(2026, 12, 24, 17, 30), utc(2026, 12, 30, 9, 0), LONDON),
            "Thu 24 Dec 17:30 → Wed 30 Dec 09:00"
        );
    }

    #[test]
    fn an_empty_night() {
        let facts = DigestFacts {
            org: "nsft".into(),
            from: utc(2026, 7, 14, 16, 0),
            to: utc(2026, 7, 15, 8, 0),
            ..DigestFacts::default()
        };
        let msg = digest_message(&view(&facts));
        assert!(limits::violations(&msg).is_empty());
        assert_eq!(
            msg["content"],
            "Handover for Norfolk and Suffolk NHS Foundation Trust (Tue 17:00 → Wed 09:00): \
             0 posts while you were away, 0 relays still to deal with."
        );
        assert_eq!(msg["allowed_mentions"], json!({"parse": []}));
        let embeds = msg["embeds"].as_array().expect("embeds");
        assert_eq!(embeds.len(), 1);
        assert_eq!(
            embeds[0]["title"],
            "Handover: while you were away (Tue 17:00 → Wed 09:00)"
        );
        assert_eq!(
            fields(&embeds[0]),
            vec![
                ("Arrived".into(), "Nothing arrived.".into()),
                ("Crisis".into(), "None.".into()),
                ("Flagged".into(), "Nothing flagged.".into()),
                ("Automatic replies".into(), "None sent.".into()),
                (
                    "Still needs action (0)".into(),
                    "Nothing: every relay has been dealt with.".into()
                ),
            ]
        );
    }

    #[test]
    fn a_busy_weekend_lists_crisis_posts_first() {
        let (from, to) = weekend();
        let sat_0214 = utc(2026, 7, 11, 1, 14);
        let mut second = listed(
            8,
            utc(2026, 7, 12, 21, 5),
            "nobody would\nmiss me",
            &[Category::Crisis],
        );
        second.platform = Platform::X;
        second.url = None;
        second.relay_state = Some(RelayState::Actioned);
        let facts = DigestFacts {
            org: "nsft".into(),
            from,
            to,
            posts: 42,
            by_platform: vec![
                (Platform::Facebook, 30),
                (Platform::X, 8),
                (Platform::Instagram, 4),
            ],
            by_category: vec![
                (Category::Abuse, 5),
                (Category::Complaint, 3),
                (Category::Crisis, 2),
            ],
            auto_replies: vec![("out_of_hours".into(), 17), ("crisis".into(), 2)],
            auto_replies_queued: 1,
            suppressed_posts: 6,
            crisis_total: 2,
            crisis: vec![
                listed(7, sat_0214, "I can't go on any more", &[Category::Crisis]),
                second,
            ],
            needs_action_total: 3,
            needs_action: vec![
                listed(
                    3,
                    utc(2026, 7, 10, 18, 0),
                    "you useless lot",
                    &[Category::Abuse],
                ),
                {
                    let mut p = listed(
                        9,
                        utc(2026, 7, 11, 9, 0),
                        "waited 9 hours",
                        &[Category::Complaint],
                    );
                    p.relay_state = Some(RelayState::Pending);
                    p.message_id = None;
                    p
                },
            ],
        };
        let msg = digest_message(&view(&facts));
        assert!(
            limits::violations(&msg).is_empty(),
            "{:?}",
            limits::violations(&msg)
        );
        assert_eq!(
            msg["content"],
            "🆘 **2 crisis posts** arrived while you were away: check them first. Handover for \
             Norfolk and Suffolk NHS Foundation Trust (Fri 17:30 → Mon 09:00)."
        );
        let embeds = msg["embeds"].as_array().expect("embeds");
        assert_eq!(embeds.len(), 2);
        let crisis = &embeds[0];
        assert_eq!(crisis["title"], "🆘 2 crisis posts while you were away");
        assert_eq!(crisis["color"], CRISIS_COLOUR);
        assert_eq!(
            crisis["description"],
            "**1.** facebook · @person7 · Sat 02:14 · **still open**\n\
             > I can't go on any more\n\
             [post](https://facebook.example/7) · [relay](https://discord.com/channels/100000000000000003/100000000000000013/90007)\n\
             \n\
             **2.** x · @person8 · Sun 22:05 · actioned\n\
             > nobody would miss me\n\
             [relay](https://discord.com/channels/100000000000000003/100000000000000013/90008)"
        );
        let summary = &embeds[1];
        assert_eq!(
            summary["title"],
            "Handover: while you were away (Fri 17:30 → Mon 09:00)"
        );
        let f = fields(summary);
        assert_eq!(f[0].1, "42 posts: facebook 30 · x 8 · instagram 4");
        assert_eq!(f[1].1, "2 crisis posts: listed above.");
        assert_eq!(f[2].1, "abuse 5 · complaint 3 · crisis 2");
        assert_eq!(
            f[3].1,
            "19 replies: out of hours 17 · crisis 2\n1 still queued to send.\n6 posts got no \
             automatic reply (abusive, or already answered this closed period)."
        );
        assert_eq!(f[4].0, "Still needs action (3)");
        assert_eq!(
            f[4].1,
            "• [abuse · facebook · @person3](https://discord.com/channels/100000000000000003/100000000000000013/90003): \
             “you useless lot” (since Fri 10 Jul 19:00, **still open**)\n\
             • complaint · facebook · @person9: “waited 9 hours” (since Sat 11 Jul 10:00, relay not posted yet)\n\
             …and 1 more"
        );
    }

    #[test]
    fn five_hundred_posts_stay_within_the_limits() {
        let (from, to) = weekend();
        let long = "help ".repeat(400);
        let many: Vec<DigestPost> = (0..500)
            .map(|i| {
                listed(
                    i,
                    from + Duration::minutes(i),
                    &long,
                    &[Category::Crisis, Category::Abuse],
                )
            })
            .collect();
        let facts = DigestFacts {
            org: "nsft".into(),
            from,
            to,
            posts: 500,
            by_platform: vec![(Platform::Facebook, 500)],
            by_category: Category::ALL.iter().map(|c| (*c, 500)).collect(),
            auto_replies: vec![("out_of_hours".into(), 400)],
            crisis_total: 500,
            crisis: many.clone(),
            needs_action_total: 500,
            needs_action: many,
            ..DigestFacts::default()
        };
        let msg = digest_message(&view(&facts));
        assert!(
            limits::violations(&msg).is_empty(),
            "{:?}",
            limits::violations(&msg)
        );
        let embeds = msg["embeds"].as_array().expect("embeds");
        let total: usize = embeds.iter().map(embed_len).sum();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
        let crisis = embeds[0]["description"].as_str().expect("description");
        assert!(crisis.starts_with("**1.** facebook · @person0"), "{crisis}");
        let shown = crisis.lines().filter(|l| l.starts_with("**")).count();
        assert!(shown >= 5, "crisis posts stay prominent: {shown} shown");
        assert!(
            crisis.ends_with(&format!("…and {} more", 500 - shown)),
            "{crisis}"
        );
        // Each listed text is cut to one line of at most POST_TEXT_MAX.
        for line in crisis.lines().filter(|l| l.starts_with("> ")) {
            assert!(line.chars().count() <= POST_TEXT_MAX + 2, "{line}");
        }
        let needs = &fields(&embeds[1])[4].1;
        assert!(needs.chars().count() <= limits::FIELD_VALUE);
        assert!(needs.contains("more"), "{needs}");
    }

    #[test]
    fn bounded_lists_count_what_they_leave_out() {
        let lines: Vec<String> = (0..5).map(|i| format!("line {i}")).collect();
        assert_eq!(
            bounded_list(&lines, 0, 1000),
            "line 0\nline 1\nline 2\nline 3\nline 4"
        );
        assert_eq!(
            bounded_list(&lines, 2, 1000),
            "line 0\nline 1\nline 2\nline 3\nline 4\n…and 2 more"
        );
        assert_eq!(bounded_list(&lines, 0, 30), "line 0\nline 1\n…and 3 more");
        assert_eq!(bounded_list(&lines, 0, 5), "…and…");
        assert!(bounded_list(&lines, 0, 5).chars().count() <= 5);
    }
}
