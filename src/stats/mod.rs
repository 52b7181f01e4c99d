//! The supervisors' figures: what `/stats` and `signpost stats` report.
//!
//! This module owns the *meaning* of every figure. It is pure: it takes the
//! rows [`gather`] read from the store ([`Facts`]), the org's schedule (with
//! its hours overrides) and a clock, and computes [`Stats`]. Rendering for
//! Discord and the terminal is in [`render`]; the chart in [`crate::chart`];
//! the audit CSV in [`csv`]; post timelines and author histories in
//! [`timeline`].
//!
//! Definitions:
//! - **inbound**: posts received in `[from, to)`;
//! - **flagged**: inbound posts with at least one category, counted once per
//!   category in the breakdown;
//! - **actioned** (chart): relays the team acted on (not dismissed), by the
//!   day of the first action;
//! - **time to first action**: for relayed posts received in the window
//!   that the team has acted on or dismissed, the time from arrival to the
//!   first action **counted inside the monitoring window only** (a post that
//!   arrives at 23:00 and is handled at 09:10 next working day took 10
//!   minutes). Median and p90 are by nearest rank;
//! - **within target**: handled within the org's `response_target_hours` of
//!   monitored time. A post still waiting whose monitored time already
//!   exceeds the target counts as missed; one still inside it is not due yet
//!   and counts neither way;
//! - **auto-replies**: automatic replies (out of hours, crisis, complaint
//!   and clinical signposting), sent, waiting in the outbox, or suppressed
//!   with the reason; team replies and action notices are counted apart;
//! - **crisis signposts**: crisis replies sent or queued, automatic or by
//!   the team;
//! - **backlog**: relays still waiting for the team, now;
//! - **repeat offenders**: authors with two or more posts flagged for
//!   removable categories in the window;
//! - **"not an issue" rate** per rule: of the relayed posts carrying the
//!   rule that the team has decided, the share dismissed as not an issue.

pub mod csv;
pub mod export;
pub mod gather;
pub mod period;
pub mod render;
pub mod timeline;

pub use gather::{gather, report, GatherError};
pub use period::{Period, PeriodError};

use crate::category::{Action, Category};
use crate::chart::DayCounts;
use crate::hours::ScheduleView;
use crate::model::Platform;
use crate::replies::Template;
use crate::store::{
    ActionCount, Author, Backlog, CategoryBucket, OffenderRow, RelayState, RelayTiming, ReplyCount,
    ReportScope, RuleState,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

/// How many repeat offenders and rules the report lists.
pub const TOP: usize = 5;

/// Everything read from the store for one report. Per-post rows only where
/// the figure needs the schedule (timings); the rest arrives grouped.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub inbound: Vec<(Platform, u64)>,
    /// Flagged posts by arrival bucket ([`bucket_ms`]) and categories.
    pub flagged: Vec<CategoryBucket>,
    /// Actioned relays by action bucket and categories.
    pub actioned: Vec<CategoryBucket>,
    pub timings: Vec<RelayTiming>,
    pub rules: Vec<RuleState>,
    pub actions: Vec<ActionCount>,
    pub replies: Vec<ReplyCount>,
    pub backlog: Backlog,
    pub offenders: Vec<OffenderRow>,
    /// The current record of the [`Facts::offenders`].
    pub authors: HashMap<(Platform, String), Author>,
}

/// The bucket size for per-day counts in `tz` over `[from, to)`: an hour
/// when the zone's offsets there are whole hours (so a bucket never spans
/// two local days), else 15 minutes.
pub fn bucket_ms(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    use chrono::Offset;
    let whole = [from, to].iter().all(|t| {
        t.with_timezone(&tz)
            .offset()
            .fix()
            .local_minus_utc()
            .rem_euclid(3600)
            == 0
    });
    if whole {
        3_600_000
    } else {
        900_000
    }
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub org: String,
    pub platform: Option<Platform>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    pub inbound: Volume,
    pub flagged: Flagged,
    pub actions: Actions,
    pub response: Response,
    pub auto_replies: AutoReplies,
    pub crisis_signposts: u64,
    pub backlog: BacklogStats,
    pub repeat_offenders: Vec<Offender>,
    pub rules: Vec<RuleRate>,
    /// One entry per local day of the window, for the chart.
    #[serde(skip)]
    pub daily: Vec<DayCounts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Volume {
    pub total: u64,
    pub by_platform: Vec<(Platform, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flagged {
    /// Posts with at least one category.
    pub total: u64,
    /// Posts per category, largest first.
    pub by_category: Vec<(Category, u64)>,
    /// Flagged posts relayed to the team.
    pub relayed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actions {
    /// Successful actions on posts, by action, largest first.
    pub by_action: Vec<(String, u64)>,
    /// Per team member, busiest first.
    pub by_member: Vec<Member>,
    /// Attempts the platform refused or that failed.
    pub failed: u64,
    /// Other audited acts by people (hours overrides, exports, refused
    /// clicks), by action.
    pub other: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub actor_id: String,
    pub name: String,
    pub total: u64,
    pub by_action: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    /// Relayed posts handled (acted on or dismissed).
    pub handled: u64,
    /// Median time to first action, monitored minutes.
    pub median_minutes: Option<f64>,
    /// 90th percentile, monitored minutes.
    pub p90_minutes: Option<f64>,
    pub target_hours: Option<u32>,
    pub within_target: u64,
    pub missed_target: u64,
    /// `within / (within + missed)`, when a target is set and any are due.
    pub share_within_target: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutoReplies {
    /// Automatic replies sent, by template.
    pub sent: Vec<(String, u64)>,
    /// Automatic replies waiting in the outbox.
    pub queued: u64,
    /// Suppressed automatic replies, by reason (times stripped), largest first.
    pub suppressed: Vec<(String, u64)>,
    /// Replies the team sent from relays.
    pub team_replies: u64,
    /// Notices telling authors why action was taken, sent.
    pub action_notices: u64,
}

impl AutoReplies {
    pub fn total_sent(&self) -> u64 {
        self.sent.iter().map(|(_, n)| n).sum()
    }
    pub fn total_suppressed(&self) -> u64 {
        self.suppressed.iter().map(|(_, n)| n).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BacklogStats {
    pub count: u64,
    pub oldest: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offender {
    pub platform: Platform,
    pub author_id: String,
    pub handle: String,
    /// Posts flagged for removable categories in the window.
    pub flagged_posts: u64,
    /// Strikes on record (all time).
    pub strikes: u32,
    pub blocked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRate {
    pub rule: String,
    pub relayed: u64,
    pub actioned: u64,
    pub dismissed: u64,
    /// `dismissed / (actioned + dismissed)`.
    pub not_an_issue_rate: f64,
}

/// Templates that Signpost sends by itself.
const AUTOMATIC: &[Template] = &[
    Template::OutOfHours,
    Template::Crisis,
    Template::ComplaintSignpost,
    Template::ClinicalSignpost,
];

/// Computes the report. `schedule` must carry the org's overrides for the
/// window (and up to `now`), `target_hours` is the org's response target.
pub fn compute(
    scope: &ReportScope,
    facts: &Facts,
    schedule: &ScheduleView<'_>,
    target_hours: Option<u32>,
    now: DateTime<Utc>,
) -> Stats {
    let tz = schedule.schedule().timezone();
    let mut by_platform = facts.inbound.clone();
    by_platform.sort_by_key(|(p, n)| (std::cmp::Reverse(*n), *p));
    let inbound = Volume {
        total: facts.inbound.iter().map(|(_, n)| n).sum(),
        by_platform,
    };

    // Flagged, by category.
    let mut by_category: BTreeMap<Category, u64> = BTreeMap::new();
    for b in &facts.flagged {
        for c in &b.categories {
            *by_category.entry(*c).or_default() += b.count;
        }
    }
    let flagged = Flagged {
        total: facts.flagged.iter().map(|b| b.count).sum(),
        by_category: largest_first(by_category),
        relayed: facts.timings.len() as u64,
    };

    let actions = actions(&facts.actions);
    let response = response(&facts.timings, schedule, target_hours, now);
    let (auto_replies, crisis_signposts) = auto_replies(&facts.replies);

    let repeat_offenders = facts
        .offenders
        .iter()
        .take(TOP)
        .map(|o| {
            let known = facts.authors.get(&(o.platform, o.author_id.clone()));
            Offender {
                platform: o.platform,
                handle: known.map_or_else(|| o.handle.clone(), |a| a.handle.clone()),
                author_id: o.author_id.clone(),
                flagged_posts: o.flagged_posts,
                strikes: known.map_or(0, |a| a.strikes),
                blocked: known.is_some_and(|a| a.blocked),
            }
        })
        .collect();

    Stats {
        org: scope.org.clone(),
        platform: scope.platform,
        from: scope.from,
        to: scope.to,
        generated_at: now,
        inbound,
        flagged,
        actions,
        response,
        auto_replies,
        crisis_signposts,
        backlog: BacklogStats {
            count: facts.backlog.count,
            oldest: facts.backlog.oldest,
        },
        repeat_offenders,
        rules: rule_rates(&facts.rules),
        daily: daily(scope, &facts.flagged, &facts.actioned, tz),
    }
}

fn largest_first<K: Ord>(m: BTreeMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = m.into_iter().collect();
    // Stable: ties stay in key order.
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    v
}

fn actions(rows: &[ActionCount]) -> Actions {
    let mut by_action: BTreeMap<String, u64> = BTreeMap::new();
    let mut other: BTreeMap<String, u64> = BTreeMap::new();
    let mut members: BTreeMap<&str, (String, BTreeMap<String, u64>)> = BTreeMap::new();
    let mut failed = 0;
    for r in rows {
        if r.action.parse::<Action>().is_err() {
            *other.entry(r.action.clone()).or_default() += r.count;
            continue;
        }
        if r.failed {
            failed += r.count;
            continue;
        }
        *by_action.entry(r.action.clone()).or_default() += r.count;
        let m = members
            .entry(r.actor_id.as_str())
            .or_insert_with(|| (r.actor_name.clone(), BTreeMap::new()));
        *m.1.entry(r.action.clone()).or_default() += r.count;
    }
    let mut by_member: Vec<Member> = members
        .into_iter()
        .map(|(id, (name, acts))| Member {
            actor_id: id.to_owned(),
            name,
            total: acts.values().sum(),
            by_action: largest_first(acts),
        })
        .collect();
    by_member.sort_by_key(|m| std::cmp::Reverse(m.total));
    Actions {
        by_action: largest_first(by_action),
        by_member,
        failed,
        other: largest_first(other),
    }
}

/// The nearest-rank percentile `p` (0–100] of sorted values.
pub fn nearest_rank(sorted: &[Duration], p: u32) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (u64::from(p) * n as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank.min(n) - 1).copied()
}

fn minutes(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 60_000.0
}

fn response(
    timings: &[RelayTiming],
    schedule: &ScheduleView<'_>,
    target_hours: Option<u32>,
    now: DateTime<Utc>,
) -> Response {
    let target = target_hours.map(|h| Duration::hours(i64::from(h)));
    // One clock over every instant asked about, instead of a walk of the
    // schedule per relay.
    let first = timings.iter().map(|p| p.received_at).min();
    let last = timings
        .iter()
        .filter_map(|p| p.state_at)
        .chain(timings.iter().map(|p| p.received_at))
        .chain([now])
        .max();
    let clock = first.zip(last).map(|(a, b)| schedule.clock(a, b));
    let working = |a: DateTime<Utc>, b: DateTime<Utc>| {
        clock
            .as_ref()
            .and_then(|c| c.working_duration(a, b))
            .unwrap_or_else(|| schedule.working_duration(a, b))
    };
    let mut durations = Vec::new();
    let (mut within, mut missed) = (0, 0);
    for p in timings {
        match (p.state, p.state_at) {
            (RelayState::Actioned | RelayState::Dismissed, Some(at)) => {
                let took = working(p.received_at, at.max(p.received_at));
                durations.push(took);
                if let Some(t) = target {
                    if took <= t {
                        within += 1;
                    } else {
                        missed += 1;
                    }
                }
            }
            (RelayState::Pending | RelayState::Open, _) => {
                if let Some(t) = target {
                    if working(p.received_at, now.max(p.received_at)) > t {
                        missed += 1;
                    }
                }
            }
            _ => {}
        }
    }
    durations.sort_unstable();
    Response {
        handled: durations.len() as u64,
        median_minutes: nearest_rank(&durations, 50).map(minutes),
        p90_minutes: nearest_rank(&durations, 90).map(minutes),
        target_hours,
        within_target: within,
        missed_target: missed,
        share_within_target: (target.is_some() && within + missed > 0)
            .then(|| within as f64 / (within + missed) as f64),
    }
}

static TIMESTAMP: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r" at \d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})")
        .expect("timestamp pattern")
});

/// A suppression reason without the times in it, so reasons group.
pub fn reason_kind(reason: &str) -> String {
    TIMESTAMP.replace_all(reason, "").into_owned()
}

/// Whether an `auto_replies` reason says a team member sent it
/// (`"<action> by <name>"`, as the action executor writes).
fn by_team(reason: Option<&str>) -> bool {
    reason
        .and_then(|r| r.split_once(" by "))
        .is_some_and(|(action, _)| action.parse::<Action>().is_ok())
}

fn auto_replies(rows: &[ReplyCount]) -> (AutoReplies, u64) {
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    let mut suppressed: BTreeMap<String, u64> = BTreeMap::new();
    let (mut queued, mut team, mut notices, mut crisis) = (0, 0, 0, 0);
    for r in rows {
        let template = r.template.parse::<Template>().ok();
        let delivered = matches!(r.status.as_str(), "sent" | "queued");
        if template == Some(Template::Crisis) && delivered {
            crisis += r.count;
        }
        if template == Some(Template::ActionNotice) {
            if r.status == "sent" {
                notices += r.count;
            }
            continue;
        }
        if r.status == "sent" && by_team(r.reason.as_deref()) {
            team += r.count;
            continue;
        }
        if !template.is_some_and(|t| AUTOMATIC.contains(&t)) {
            continue;
        }
        match r.status.as_str() {
            "sent" => *sent.entry(r.template.clone()).or_default() += r.count,
            "queued" => queued += r.count,
            "suppressed" => {
                let why = reason_kind(r.reason.as_deref().unwrap_or("no reason recorded"));
                *suppressed.entry(why).or_default() += r.count;
            }
            _ => {}
        }
    }
    (
        AutoReplies {
            sent: largest_first(sent),
            queued,
            suppressed: largest_first(suppressed),
            team_replies: team,
            action_notices: notices,
        },
        crisis,
    )
}

fn rule_rates(rows: &[RuleState]) -> Vec<RuleRate> {
    let mut by_rule: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for r in rows {
        for rule in &r.rules {
            let e = by_rule.entry(rule.as_str()).or_default();
            e.0 += r.count;
            match r.state {
                RelayState::Actioned => e.1 += r.count,
                RelayState::Dismissed => e.2 += r.count,
                _ => {}
            }
        }
    }
    let mut out: Vec<RuleRate> = by_rule
        .into_iter()
        .filter(|(_, (_, a, d))| a + d > 0)
        .map(|(rule, (relayed, actioned, dismissed))| RuleRate {
            rule: rule.to_owned(),
            relayed,
            actioned,
            dismissed,
            not_an_issue_rate: dismissed as f64 / (actioned + dismissed) as f64,
        })
        .collect();
    out.sort_by(|a, b| {
        b.not_an_issue_rate
            .total_cmp(&a.not_an_issue_rate)
            .then(b.relayed.cmp(&a.relayed))
    });
    out
}

/// The local dates of the window `[from, to)`.
pub fn days(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> Vec<NaiveDate> {
    if to <= from {
        return Vec::new();
    }
    let first = from.with_timezone(&tz).date_naive();
    let last = (to - Duration::milliseconds(1))
        .with_timezone(&tz)
        .date_naive();
    first.iter_days().take_while(|d| *d <= last).collect()
}

fn daily(
    scope: &ReportScope,
    flagged: &[CategoryBucket],
    actioned: &[CategoryBucket],
    tz: Tz,
) -> Vec<DayCounts> {
    let days = days(scope.from, scope.to, tz);
    let index: HashMap<NaiveDate, usize> = days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let mut f: Vec<BTreeMap<Category, u64>> = vec![BTreeMap::new(); days.len()];
    let mut a: Vec<BTreeMap<Category, u64>> = vec![BTreeMap::new(); days.len()];
    for (buckets, out) in [(flagged, &mut f), (actioned, &mut a)] {
        for b in buckets {
            if let Some(&i) = index.get(&b.start.with_timezone(&tz).date_naive()) {
                for c in &b.categories {
                    *out[i].entry(*c).or_default() += b.count;
                }
            }
        }
    }
    days.into_iter()
        .zip(f.into_iter().zip(a))
        .map(|(day, (f, a))| DayCounts {
            day,
            flagged: f.into_iter().collect(),
            actioned: a.into_iter().collect(),
        })
        .collect()
}
