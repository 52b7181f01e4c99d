//! How reports look: a Discord [`Embed`] (kept within Discord's limits, with
//! "…and N more" where lists are long) and plain text for the terminal.
//! Pure; the bot turns an [`Embed`] into serenity's builder.

use super::Stats;
use crate::discord::limits;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Write;

/// An embed, before it becomes a serenity builder or a JSON payload.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Embed {
    pub title: String,
    pub description: String,
    pub fields: Vec<Field>,
    pub footer: Option<String>,
    /// `attachment://<file>` of an attached image, shown in the embed.
    pub image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

impl Embed {
    /// Adds a field (clipped to the limits; an empty value becomes "none").
    pub fn field(&mut self, name: &str, value: &str, inline: bool) {
        if self.fields.len() >= limits::FIELDS {
            return;
        }
        let value = if value.trim().is_empty() {
            "none"
        } else {
            value
        };
        self.fields.push(Field {
            name: limits::clip(name, limits::FIELD_NAME),
            value: limits::clip(value, limits::FIELD_VALUE),
            inline,
        });
    }

    /// Clips every part to Discord's limits, then drops trailing fields
    /// until the whole embed fits in [`limits::EMBED_TOTAL`].
    pub fn fit(mut self) -> Embed {
        self.title = limits::clip(&self.title, limits::TITLE);
        self.description = limits::clip(&self.description, limits::DESCRIPTION);
        self.footer = self.footer.map(|f| limits::clip(&f, limits::FOOTER));
        self.fields.truncate(limits::FIELDS);
        while self.total_chars() > limits::EMBED_TOTAL {
            if self.fields.pop().is_none() {
                let keep = limits::EMBED_TOTAL
                    .saturating_sub(self.total_chars() - self.description.chars().count());
                self.description = limits::clip(&self.description, keep);
                break;
            }
        }
        self
    }

    /// Characters counted towards the 6000 total.
    pub fn total_chars(&self) -> usize {
        self.title.chars().count()
            + self.description.chars().count()
            + self.footer.as_deref().map_or(0, |f| f.chars().count())
            + self
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>()
    }

    /// The Discord API's embed object.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "title": self.title,
            "description": self.description,
            "fields": self.fields.iter().map(|f| json!({
                "name": f.name, "value": f.value, "inline": f.inline,
            })).collect::<Vec<_>>(),
        });
        if let Some(footer) = &self.footer {
            v["footer"] = json!({ "text": footer });
        }
        if let Some(image) = &self.image {
            v["image"] = json!({ "url": image });
        }
        v
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Minutes as `45 min`, `3 h 05 min`, `2 d 4 h`.
pub fn minutes(m: f64) -> String {
    let total = m.round().max(0.0) as u64;
    if total < 60 {
        if m > 0.0 && m < 1.0 {
            return "under 1 min".to_owned();
        }
        return format!("{total} min");
    }
    let (h, min) = (total / 60, total % 60);
    if h < 48 {
        format!("{h} h {min:02} min")
    } else {
        format!("{} d {} h", h / 24, h % 24)
    }
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%a %d %b %H:%M").to_string()
}

fn human(name: &str) -> String {
    name.replace('_', " ")
}

/// Joins `items` with `sep`, stopping before `max` characters and saying how
/// many were left out.
pub fn join_limited(items: &[String], sep: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        let more = format!("{sep}…and {} more", items.len() - i);
        let add = if i == 0 {
            item.chars().count()
        } else {
            sep.len() + item.chars().count()
        };
        if out.chars().count() + add + more.chars().count() > max && i + 1 < items.len()
            || out.chars().count() + add > max
        {
            if i == 0 {
                return limits::clip(item, max);
            }
            out.push_str(&more);
            return out;
        }
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item);
    }
    out
}

/// One line per section, shared by the embed and the text.
struct Sections {
    heading: String,
    volume: String,
    categories: Vec<String>,
    actions: Vec<String>,
    members: Vec<String>,
    timing: String,
    replies: String,
    suppressed: Vec<String>,
    crisis: String,
    backlog: String,
    offenders: Vec<String>,
    rules: Vec<String>,
}

fn sections(s: &Stats, tz: Tz, label: &str) -> Sections {
    let platform = s
        .platform
        .map_or("all platforms".to_owned(), |p| p.to_string());
    let heading = format!(
        "{} · {platform} · {label} ({} to {})",
        s.org,
        local(s.from, tz),
        local(s.to, tz)
    );
    let by_platform: Vec<String> = s
        .inbound
        .by_platform
        .iter()
        .map(|(p, n)| format!("{p} {}", thousands(*n)))
        .collect();
    let share = if s.inbound.total > 0 {
        format!(
            " ({})",
            percent(s.flagged.total as f64 / s.inbound.total as f64)
        )
    } else {
        String::new()
    };
    let volume = format!(
        "Inbound {}{}\nFlagged {}{share} · relayed to the team {}",
        thousands(s.inbound.total),
        if by_platform.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_platform.join(" · "))
        },
        thousands(s.flagged.total),
        thousands(s.flagged.relayed),
    );
    let categories = s
        .flagged
        .by_category
        .iter()
        .map(|(c, n)| format!("{} {}", human(c.as_str()), thousands(*n)))
        .collect();
    let mut actions: Vec<String> = s
        .actions
        .by_action
        .iter()
        .map(|(a, n)| format!("{} {}", human(a), thousands(*n)))
        .collect();
    if s.actions.failed > 0 {
        actions.push(format!("failed attempts {}", thousands(s.actions.failed)));
    }
    for (a, n) in &s.actions.other {
        actions.push(format!("{} {}", human(a), thousands(*n)));
    }
    let members = s
        .actions
        .by_member
        .iter()
        .map(|m| {
            let top: Vec<String> = m
                .by_action
                .iter()
                .take(3)
                .map(|(a, n)| format!("{} {n}", human(a)))
                .collect();
            format!("{} {} ({})", m.name, thousands(m.total), top.join(", "))
        })
        .collect();
    let r = &s.response;
    let mut timing = match (r.median_minutes, r.p90_minutes) {
        (Some(m), Some(p)) => format!(
            "Median {} · p90 {} · {} handled (monitored time only)",
            minutes(m),
            minutes(p),
            thousands(r.handled)
        ),
        _ => "No relays handled in this period".to_owned(),
    };
    match (r.target_hours, r.share_within_target) {
        (Some(t), Some(share)) => {
            let _ = write!(
                timing,
                "\nWithin the {t} h target: {} ({} of {})",
                percent(share),
                thousands(r.within_target),
                thousands(r.within_target + r.missed_target)
            );
        }
        (Some(t), None) => {
            let _ = write!(timing, "\nWithin the {t} h target: nothing due yet");
        }
        (None, _) => timing.push_str("\nNo response target set for this trust"),
    }
    let a = &s.auto_replies;
    let sent: Vec<String> = a
        .sent
        .iter()
        .map(|(t, n)| format!("{} {}", human(t), thousands(*n)))
        .collect();
    let replies = format!(
        "Sent {}{} · waiting {} · suppressed {}\nTeam replies {} · action notices {}",
        thousands(a.total_sent()),
        if sent.is_empty() {
            String::new()
        } else {
            format!(" ({})", sent.join(", "))
        },
        thousands(a.queued),
        thousands(a.total_suppressed()),
        thousands(a.team_replies),
        thousands(a.action_notices),
    );
    let suppressed = a
        .suppressed
        .iter()
        .map(|(why, n)| format!("{}: {why}", thousands(*n)))
        .collect();
    let crisis = thousands(s.crisis_signposts);
    let backlog = match s.backlog.oldest {
        Some(t) if s.backlog.count > 0 => format!(
            "{} waiting · oldest since {}",
            thousands(s.backlog.count),
            local(t, tz)
        ),
        _ => "Nothing waiting".to_owned(),
    };
    let offenders = s
        .repeat_offenders
        .iter()
        .map(|o| {
            format!(
                "{} ({}) · {} flagged · {} strike{}{}",
                o.handle,
                o.platform,
                o.flagged_posts,
                o.strikes,
                if o.strikes == 1 { "" } else { "s" },
                if o.blocked { " · blocked" } else { "" }
            )
        })
        .collect();
    let rules = s
        .rules
        .iter()
        .map(|r| {
            format!(
                "{} {} ({} of {} decided)",
                r.rule,
                percent(r.not_an_issue_rate),
                r.dismissed,
                r.actioned + r.dismissed
            )
        })
        .collect();
    Sections {
        heading,
        volume,
        categories,
        actions,
        members,
        timing,
        replies,
        suppressed,
        crisis,
        backlog,
        offenders,
        rules,
    }
}

/// The `/stats` embed. `chart` names the attached PNG, if any.
pub fn stats_embed(s: &Stats, tz: Tz, label: &str, chart: Option<&str>) -> Embed {
    let x = sections(s, tz, label);
    let v = limits::FIELD_VALUE;
    let mut e = Embed {
        title: format!("Signpost stats: {}", s.org),
        description: x.heading,
        footer: Some(format!(
            "Generated {} · times in {}",
            local(s.generated_at, tz),
            tz.name()
        )),
        image: chart.map(|c| format!("attachment://{c}")),
        ..Embed::default()
    };
    e.field("Volume", &x.volume, false);
    e.field(
        "Flagged by category",
        &join_limited(&x.categories, " · ", v),
        false,
    );
    e.field("Actions", &join_limited(&x.actions, " · ", v), false);
    e.field("By team member", &join_limited(&x.members, "\n", v), false);
    e.field("Time to first action", &x.timing, false);
    let mut replies = x.replies;
    if !x.suppressed.is_empty() {
        let room = v.saturating_sub(replies.chars().count() + 1);
        replies.push('\n');
        replies.push_str(&join_limited(&x.suppressed, "\n", room));
    }
    e.field("Auto-replies", &replies, false);
    e.field("Crisis signposts", &x.crisis, true);
    e.field("Backlog now", &x.backlog, true);
    e.field(
        "Repeat offenders",
        &join_limited(&x.offenders, "\n", v),
        false,
    );
    e.field(
        "\"Not an issue\" rate by rule",
        &join_limited(
            &x.rules.iter().take(10).cloned().collect::<Vec<_>>(),
            "\n",
            v,
        ),
        false,
    );
    e.fit()
}

/// The report as plain text, complete (nothing clipped).
pub fn stats_text(s: &Stats, tz: Tz, label: &str) -> String {
    let x = sections(s, tz, label);
    let mut out = String::new();
    let list = |out: &mut String, title: &str, items: &[String]| {
        let _ = writeln!(out, "\n{title}");
        if items.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for i in items {
            let _ = writeln!(out, "  {i}");
        }
    };
    let _ = writeln!(out, "Signpost stats: {}", x.heading);
    let _ = writeln!(out, "\nVolume");
    for line in x.volume.lines() {
        let _ = writeln!(out, "  {line}");
    }
    list(&mut out, "Flagged by category", &x.categories);
    list(&mut out, "Actions", &x.actions);
    list(&mut out, "By team member", &x.members);
    let _ = writeln!(out, "\nTime to first action");
    for line in x.timing.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "\nAuto-replies");
    for line in x.replies.lines() {
        let _ = writeln!(out, "  {line}");
    }
    for line in &x.suppressed {
        let _ = writeln!(out, "    suppressed {line}");
    }
    let _ = writeln!(out, "\nCrisis signposts: {}", x.crisis);
    let _ = writeln!(out, "Backlog now: {}", x.backlog);
    list(&mut out, "Repeat offenders", &x.offenders);
    list(&mut out, "\"Not an issue\" rate by rule", &x.rules);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(minutes(0.4), "under 1 min");
        assert_eq!(minutes(10.0), "10 min");
        assert_eq!(minutes(185.0), "3 h 05 min");
        assert_eq!(minutes(60.0 * 50.0), "2 d 2 h");
    }

    #[test]
    fn long_lists_say_how_many_were_left_out() {
        let items: Vec<String> = (0..500).map(|i| format!("item number {i}")).collect();
        let s = join_limited(&items, "\n", 1024);
        assert!(s.chars().count() <= 1024, "{}", s.chars().count());
        assert!(s.ends_with("more"), "{s}");
        let n: usize = s
            .rsplit("…and ")
            .next()
            .and_then(|t| t.split(' ').next())
            .and_then(|t| t.parse().ok())
            .expect("count");
        assert_eq!(n + s.lines().count() - 1, 500);
        assert_eq!(
            join_limited(&items[..2], ", ", 1024),
            "item number 0, item number 1"
        );
    }

    #[test]
    fn an_embed_is_fitted_to_the_total() {
        let mut e = Embed {
            title: "t".repeat(300),
            description: "d".repeat(5000),
            ..Embed::default()
        };
        for i in 0..30 {
            e.field(&format!("f{i}"), &"v".repeat(2000), false);
        }
        let e = e.fit();
        assert_eq!(e.title.chars().count(), limits::TITLE);
        assert!(e.fields.len() <= limits::FIELDS);
        assert!(e
            .fields
            .iter()
            .all(|f| f.value.chars().count() <= limits::FIELD_VALUE));
        assert!(e.total_chars() <= limits::EMBED_TOTAL);
    }
}
