//! The data behind `signpost hours --org ORG [--at RFC3339] [--year Y] [--json]`.
//!
//! Pure functions: the CLI parses its arguments, builds the [`Schedule`]
//! (with any overrides from the store), and prints what these return.
//!
//! `--at` ([`at_json`]):
//!
//! ```json
//! {"org": "las", "at": "2026-12-24T18:00:00Z", "open": false,
//!  "next_open": "2026-12-29T09:00:00Z", "next_close": null}
//! ```
//!
//! Instants are RFC 3339 in UTC with `Z`, to the second. Exactly one of
//! `next_open` and `next_close` is given, the next change of state:
//! when closed at `at`, `next_open` is the next opening (strictly after
//! `at`) and `next_close` is null; when open, `next_close` is the next
//! closing (strictly after `at`) and `next_open` is null. Both are null when
//! no change happens within [`SEARCH_HORIZON_DAYS`] days.
//!
//! `--year` ([`year_json`]):
//!
//! ```json
//! {"org": "las", "year": 2026,
//!  "closed_days": [{"date": "2026-01-01", "name": "New Year’s Day"}, ...]}
//! ```
//!
//! `closed_days` lists the bank holidays (including the calendar file's
//! extra days) that fall Monday to Friday and close this schedule; it is
//! empty for a schedule that stays open on bank holidays. Overrides are
//! instants, not days, and are not listed.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::text::{format_local_datetime, format_next_open, weekday_name};
use super::{OverrideKind, Schedule, ScheduleView, SEARCH_HORIZON_DAYS};

/// RFC 3339 in UTC with `Z`, to the second: `2026-12-29T09:00:00Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The state at `at` and the next change, as JSON (see the module docs).
/// Pass `&schedule` or `schedule.with_overrides(&overrides)`.
pub fn at_json<'a>(org: &str, schedule: impl Into<ScheduleView<'a>>, at: DateTime<Utc>) -> Value {
    let view = schedule.into();
    let state = State::at(view, at);
    json!({
        "org": org,
        "at": rfc3339(at),
        "open": state.open,
        "next_open": state.next_open.map(rfc3339),
        "next_close": state.next_close.map(rfc3339),
    })
}

/// The state at `at` and the next change, for people:
///
/// ```text
/// las is closed at 2026-12-25T12:00:00Z (12pm on Friday 25 December 2026, Europe/London).
/// Bank holiday: Christmas Day.
/// Opens 9am on Tuesday 29 December (2026-12-29T09:00:00Z).
/// Hours: Monday to Friday, 9am to 5:30pm, except bank holidays.
/// ```
pub fn at_text<'a>(org: &str, schedule: impl Into<ScheduleView<'a>>, at: DateTime<Utc>) -> String {
    let view = schedule.into();
    let s = view.schedule();
    let tz = s.timezone();
    let state = State::at(view, at);
    let local = at.with_timezone(&tz);
    let mut lines = vec![format!(
        "{org} is {} at {} ({}, {}).",
        if state.open { "open" } else { "closed" },
        rfc3339(at),
        format_local_datetime(at, tz),
        tz.name()
    )];
    if let Some(name) = s.holiday_closure(local.date_naive()) {
        lines.push(format!("Bank holiday: {name}."));
    }
    if let Some(o) = view.overrides().iter().rev().find(|o| o.contains(at)) {
        let kind = match o.kind {
            OverrideKind::Open => "open",
            OverrideKind::Closed => "closed",
        };
        lines.push(format!(
            "Override in force: {kind} until {} ({}).",
            format_next_open(o.end, tz, at),
            rfc3339(o.end)
        ));
    }
    lines.push(match (state.next_open, state.next_close) {
        (Some(t), _) => format!("Opens {} ({}).", format_next_open(t, tz, at), rfc3339(t)),
        (None, Some(t)) => format!("Closes {} ({}).", format_next_open(t, tz, at), rfc3339(t)),
        (None, None) => format!(
            "{} for at least the next {SEARCH_HORIZON_DAYS} days.",
            if state.open {
                "Stays open"
            } else {
                "Stays closed"
            }
        ),
    });
    lines.push(format!("Hours: {}.", s.window_text()));
    lines.join("\n")
}

/// The year's closed weekdays as JSON (see the module docs).
pub fn year_json(org: &str, schedule: &Schedule, year: i32) -> Value {
    let closed: Vec<Value> = schedule
        .closed_weekdays(year)
        .into_iter()
        .map(|h| json!({"date": h.date.format("%Y-%m-%d").to_string(), "name": h.name}))
        .collect();
    json!({
        "org": org,
        "year": year,
        "closed_days": closed,
    })
}

/// The year's closed weekdays, for people:
///
/// ```text
/// las is closed on 8 weekdays in 2026 (England and Wales bank holidays):
///   2026-01-01  Thursday   New Year’s Day
///   ...
/// ```
pub fn year_text(org: &str, schedule: &Schedule, year: i32) -> String {
    if !schedule.config().closed_on_bank_holidays {
        return format!("{org} stays open on bank holidays: no closed weekdays in {year}.");
    }
    let days = schedule.closed_weekdays(year);
    let mut lines = vec![format!(
        "{org} is closed on {} weekday{} in {year} ({} bank holidays){}",
        days.len(),
        if days.len() == 1 { "" } else { "s" },
        schedule.calendar().nation().display_name(),
        if days.is_empty() { "." } else { ":" }
    )];
    for h in days {
        lines.push(format!(
            "  {}  {:<9}  {}",
            h.date.format("%Y-%m-%d"),
            weekday_name(h.date.weekday()),
            h.name
        ));
    }
    lines.join("\n")
}

/// Open or not at an instant, and the next change.
struct State {
    open: bool,
    next_open: Option<DateTime<Utc>>,
    next_close: Option<DateTime<Utc>>,
}

impl State {
    fn at(view: ScheduleView<'_>, at: DateTime<Utc>) -> Self {
        let open = view.is_open(at);
        State {
            open,
            next_open: if open { None } else { view.next_open(at) },
            next_close: if open { view.next_close(at) } else { None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rfc3339_is_utc_z_to_the_second() {
        let t = Utc
            .with_ymd_and_hms(2026, 12, 29, 9, 0, 0)
            .single()
            .expect("valid")
            + chrono::Duration::milliseconds(250);
        assert_eq!(rfc3339(t), "2026-12-29T09:00:00Z");
    }
}
