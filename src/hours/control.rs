//! Hours control: what a supervisor's `/hours` command means, as pure
//! functions of the schedule, the overrides in force and the time.
//!
//! This module owns:
//!
//! - [`parse_until`]: the `until` a supervisor types, read in the org's
//!   time zone;
//! - [`plan_extend`] and [`plan_close`]: the [`Override`] a command adds,
//!   or why it would change nothing;
//! - [`status_text`]: open or closed now and why, the next change, and the
//!   closures coming up in the next [`MAX_AHEAD_DAYS`] days.
//!
//! No I/O and no clock: `now` is always passed in. The store keeps the
//! overrides; the bot command (`crate::bot::commands::hours`) reads and
//! writes them and audits every change.
//!
//! # `until`
//!
//! Accepted, in the org's time zone (Europe/London for the shipped trusts):
//!
//! - `HH:MM` (or `H:MM`): the next time the clock shows it: today if still
//!   ahead, else tomorrow;
//! - `today HH:MM`, `tomorrow HH:MM`;
//! - `YYYY-MM-DD HH:MM` (or `YYYY-MM-DDTHH:MM`);
//! - `+2h`, `+90m`, `+1h30m`: that long from now.
//!
//! Clock changes are handled as the schedule handles them: a local time the
//! clocks skip (01:30 on the last Sunday of March) means the instant they
//! jump (02:00 BST); a local time that happens twice (01:30 on the last
//! Sunday of October) means the first. An `until` that is not after `now`,
//! or more than [`MAX_AHEAD_DAYS`] days ahead, is refused with a message for
//! the user.
//!
//! # What the commands do
//!
//! - **extend** `until`: monitored from now until `until`, whatever the
//!   usual hours say (an open override `[now, until)`). Refused when the team
//!   is on duty for all of that time anyway ("nothing to extend").
//! - **close** `until`: not monitored from now until `until` (a closed
//!   override `[now, until)`): posts get the out-of-hours auto-reply at
//!   once. Without `until`, the close runs to the end of the current open
//!   period (the usual close, or the end of an extension), so the usual
//!   hours resume at the next opening. Refused when already closed for the
//!   whole time ("nothing to close"); without `until` while closed, the
//!   answer says when it next opens and that `until` keeps it closed past
//!   then.
//! - **clear**: ends every override still in force or yet to start: the
//!   usual hours apply again from now.
//!
//! Overrides are laid on the schedule oldest first, so the latest command
//! wins where two overlap.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::schedule::{resolve_local, Pick};
use super::{
    format_next_open, Override, OverrideKind, Schedule, ScheduleView, SEARCH_HORIZON_DAYS,
};

/// How far ahead an override may end, and how far ahead the status looks
/// for closures.
pub const MAX_AHEAD_DAYS: i64 = 14;

/// Most entries the status lists under "Upcoming closures".
pub const MAX_LISTED_CLOSURES: usize = 10;

/// Why a command cannot be done, in words for the person who ran it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ControlError(pub String);

/// How to write `until`, for error messages.
const UNTIL_FORMATS: &str =
    "Write it as `20:00`, `tomorrow 09:00`, `2026-03-24 20:00` or `+2h` / `+90m`";

/// Reads `until` (see the module docs) in `tz`, relative to `now`.
pub fn parse_until(input: &str, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, ControlError> {
    let text = input.trim().to_lowercase();
    if text.is_empty() {
        return Err(ControlError(format!("Say until when. {UNTIL_FORMATS}.")));
    }
    let at = if let Some(rest) = text.strip_prefix('+') {
        let span = parse_span(rest).ok_or_else(|| {
            ControlError(format!(
                "`{}` is not a length of time I can read. {UNTIL_FORMATS}.",
                input.trim()
            ))
        })?;
        now.checked_add_signed(span)
            .ok_or_else(|| too_far(tz, now))?
    } else {
        local_instant(&text, tz, now).ok_or_else(|| {
            ControlError(format!(
                "`{}` is not a time I can read. {UNTIL_FORMATS} ({} time).",
                input.trim(),
                tz.name()
            ))
        })?
    };
    check_range(at, tz, now)?;
    Ok(at)
}

/// `2h`, `90m`, `1h30m` (spaces allowed) as a duration; `None` otherwise.
fn parse_span(text: &str) -> Option<Duration> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut total = Duration::zero();
    let mut digits = String::new();
    let mut any = false;
    let mut last_unit: Option<char> = None;
    for c in compact.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        // Units in order: hours before minutes, each once.
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let part = match c {
            'h' if last_unit.is_none() => Duration::try_hours(n)?,
            'm' if last_unit != Some('m') => Duration::try_minutes(n)?,
            _ => return None,
        };
        last_unit = Some(c);
        total = total.checked_add(&part)?;
        any = true;
    }
    (any && digits.is_empty()).then_some(total)
}

/// `HH:MM`, `today HH:MM`, `tomorrow HH:MM` or `YYYY-MM-DD HH:MM` as an
/// instant.
fn local_instant(text: &str, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&tz).date_naive();
    let mut words: Vec<&str> = text.split_whitespace().collect();
    // `YYYY-MM-DDTHH:MM` is one word.
    if let [one] = words.as_slice() {
        if let Some((date, time)) = one.split_once('t').filter(|(d, _)| d.len() == 10) {
            words = vec![date, time];
        }
    }
    let at = |date: NaiveDate, time: NaiveTime| -> Option<DateTime<Utc>> {
        resolve_local(tz, NaiveDateTime::new(date, time), Pick::Earlier)
    };
    match words.as_slice() {
        [time] => {
            let time = parse_clock(time)?;
            let first = at(today, time)?;
            if first > now {
                Some(first)
            } else {
                at(today.succ_opt()?, time)
            }
        }
        ["today", time] => at(today, parse_clock(time)?),
        ["tomorrow", time] => at(today.succ_opt()?, parse_clock(time)?),
        [date, time] => {
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
            at(date, parse_clock(time)?)
        }
        _ => None,
    }
}

/// `H:MM` or `HH:MM`, 00:00 to 23:59.
fn parse_clock(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

fn too_far(tz: Tz, now: DateTime<Utc>) -> ControlError {
    let limit = now + Duration::days(MAX_AHEAD_DAYS);
    ControlError(format!(
        "That is more than {MAX_AHEAD_DAYS} days ahead: choose a time before {}.",
        format_next_open(limit, tz, now)
    ))
}

fn check_range(at: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> Result<(), ControlError> {
    if at <= now {
        return Err(ControlError(format!(
            "{} has already passed: choose a time in the future.",
            capitalise(&format_next_open(at, tz, now))
        )));
    }
    if at > now + Duration::days(MAX_AHEAD_DAYS) {
        return Err(too_far(tz, now));
    }
    Ok(())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The override `/hours extend` adds: open over `[now, until)`. Refused
/// when the team is on duty for all of that time already.
pub fn plan_extend(
    view: ScheduleView<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Override, ControlError> {
    let tz = view.schedule().timezone();
    check_range(until, tz, now)?;
    if view.open_periods(now, until) == [(now, until)] {
        return Err(ControlError(match view.next_close(now) {
            Some(t) => format!(
                "Nothing to extend: the team is already on duty until {}.",
                format_next_open(t, tz, now)
            ),
            None => "Nothing to extend: the team is on duty for all of that time.".to_owned(),
        }));
    }
    Ok(Override::open(now, until))
}

/// The override `/hours close` adds: closed over `[now, until)`, or to the
/// end of the current open period without `until`. Refused when already
/// closed for all of that time.
pub fn plan_close(
    view: ScheduleView<'_>,
    now: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Override, ControlError> {
    let tz = view.schedule().timezone();
    let opens = || {
        view.next_open(now)
            .map(|t| format!("it opens {}", format_next_open(t, tz, now)))
            .unwrap_or_else(|| format!("it does not open in the next {SEARCH_HORIZON_DAYS} days"))
    };
    match until {
        Some(until) => {
            check_range(until, tz, now)?;
            if view.open_periods(now, until).is_empty() {
                return Err(ControlError(format!(
                    "Nothing to close: the team is off duty until {} anyway ({}).",
                    format_next_open(until, tz, now),
                    opens()
                )));
            }
            Ok(Override::closed(now, until))
        }
        None => {
            if !view.is_open(now) {
                return Err(ControlError(format!(
                    "Already closed: {}. To stay closed past then, give `until`.",
                    opens()
                )));
            }
            match view.next_close(now) {
                Some(end) if end <= now + Duration::days(MAX_AHEAD_DAYS) => {
                    Ok(Override::closed(now, end))
                }
                _ => Err(ControlError(format!(
                    "The team is on duty for more than {MAX_AHEAD_DAYS} days from now: give `until`."
                ))),
            }
        }
    }
}

/// An override with who set it and why, for [`status_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideNote {
    pub kind: OverrideKind,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Who set it (display name).
    pub by: String,
    pub reason: String,
}

impl OverrideNote {
    /// The override as the schedule sees it.
    pub fn as_override(&self) -> Override {
        Override {
            start: self.start,
            end: self.end,
            kind: self.kind,
        }
    }
}

/// Why the schedule is open or closed at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason<'a> {
    /// The usual weekly hours.
    UsualHours,
    /// A bank holiday on a day the team usually works.
    BankHoliday(String),
    /// An override set by a supervisor.
    Override(&'a OverrideNote),
}

/// Open or closed at `now` with `notes` laid on the schedule (oldest
/// first), and why.
pub fn state_at<'a>(
    schedule: &Schedule,
    notes: &'a [OverrideNote],
    now: DateTime<Utc>,
) -> (bool, Reason<'a>) {
    let overrides: Vec<Override> = notes.iter().map(OverrideNote::as_override).collect();
    let open = schedule.with_overrides(&overrides).is_open(now);
    if let Some(note) = notes.iter().rev().find(|n| n.as_override().contains(now)) {
        return (open, Reason::Override(note));
    }
    if !open {
        let date = now.with_timezone(&schedule.timezone()).date_naive();
        if !schedule.config().weekly.day(date.weekday()).is_closed() {
            if let Some(name) = schedule.holiday_closure(date) {
                return (open, Reason::BankHoliday(name));
            }
        }
    }
    (open, Reason::UsualHours)
}

/// The `/hours now` answer: open or closed now and why, the next change,
/// the closures in the next [`MAX_AHEAD_DAYS`] days (bank holidays on
/// working days and closed overrides), and the usual hours. `notes` are
/// the org's overrides still in force or to come, oldest first. Discord
/// markdown; at most a few hundred characters plus one line per closure
/// (at most [`MAX_LISTED_CLOSURES`]).
pub fn status_text(
    org: &str,
    schedule: &Schedule,
    notes: &[OverrideNote],
    now: DateTime<Utc>,
) -> String {
    let tz = schedule.timezone();
    let overrides: Vec<Override> = notes.iter().map(OverrideNote::as_override).collect();
    let view = schedule.with_overrides(&overrides);
    let (open, reason) = state_at(schedule, notes, now);
    let state = if open { "open" } else { "closed" };
    let why = match &reason {
        Reason::UsualHours if open => "usual hours".to_owned(),
        Reason::UsualHours => "outside the usual hours".to_owned(),
        Reason::BankHoliday(name) => format!("bank holiday ({name})"),
        Reason::Override(n) => format!(
            "{} by {} until {}: “{}”",
            match n.kind {
                OverrideKind::Open => "extended",
                OverrideKind::Closed => "closed",
            },
            n.by,
            format_next_open(n.end, tz, now),
            n.reason
        ),
    };
    let mut lines = vec![format!("**{org}** is **{state}** now: {why}.")];
    let next = if open {
        view.next_close(now).map(|t| ("closes", t))
    } else {
        view.next_open(now).map(|t| ("opens", t))
    };
    lines.push(match next {
        Some((verb, t)) => format!(
            "Next change: {verb} {} (<t:{}:R>).",
            format_next_open(t, tz, now),
            t.timestamp()
        ),
        None => format!("No change in the next {SEARCH_HORIZON_DAYS} days."),
    });

    let closures = upcoming_closures(schedule, notes, now);
    if closures.is_empty() {
        lines.push(format!(
            "Upcoming closures (next {MAX_AHEAD_DAYS} days): none."
        ));
    } else {
        lines.push(format!("Upcoming closures (next {MAX_AHEAD_DAYS} days):"));
        let more = closures.len().saturating_sub(MAX_LISTED_CLOSURES);
        lines.extend(
            closures
                .into_iter()
                .take(MAX_LISTED_CLOSURES)
                .map(|c| format!("• {c}")),
        );
        if more > 0 {
            lines.push(format!("…and {more} more."));
        }
    }
    lines.push(format!("Usual hours: {}.", schedule.window_text()));
    lines.join("\n")
}

/// The closures of the next [`MAX_AHEAD_DAYS`] days in time order: bank
/// holidays on days the team usually works, and closed overrides still
/// to end.
pub fn upcoming_closures(
    schedule: &Schedule,
    notes: &[OverrideNote],
    now: DateTime<Utc>,
) -> Vec<String> {
    let tz = schedule.timezone();
    let horizon = now + Duration::days(MAX_AHEAD_DAYS);
    let mut items: Vec<(DateTime<Utc>, String)> = Vec::new();
    let today = now.with_timezone(&tz).date_naive();
    for date in today.iter_days().take(MAX_AHEAD_DAYS as usize + 1) {
        if schedule.config().weekly.day(date.weekday()).is_closed() {
            continue;
        }
        if let Some(name) = schedule.holiday_closure(date) {
            let midnight =
                resolve_local(tz, date.and_time(NaiveTime::MIN), Pick::Earlier).unwrap_or(now);
            items.push((
                midnight,
                format!("{}: {name} (bank holiday)", date.format("%A %-d %B")),
            ));
        }
    }
    for n in notes {
        if n.kind == OverrideKind::Closed && n.end > now && n.start < horizon {
            let from = if n.start <= now {
                "now".to_owned()
            } else {
                format_next_open(n.start, tz, now)
            };
            items.push((
                n.start.max(now),
                format!(
                    "Closed from {from} until {} by {}: “{}”",
                    format_next_open(n.end, tz, now),
                    n.by,
                    n.reason
                ),
            ));
        }
    }
    items.sort_by_key(|(t, _)| *t);
    items.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::{Calendar, HoursConfig, Nation};
    use chrono::TimeZone;

    fn schedule() -> Schedule {
        let cfg: HoursConfig = toml::from_str(
            r#"
            timezone = "Europe/London"
            calendar = "england-and-wales"
            closed_on_bank_holidays = true
            [weekly]
            mon = ["09:00-17:30"]
            tue = ["09:00-17:30"]
            wed = ["09:00-17:30"]
            thu = ["09:00-17:30"]
            fri = ["09:00-17:30"]
            "#,
        )
        .expect("hours");
        Schedule::new(&cfg, Calendar::rules_only(Nation::EnglandAndWales)).expect("schedule")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid")
    }

    const LONDON: Tz = Tz::Europe__London;

    fn note(kind: OverrideKind, start: DateTime<Utc>, end: DateTime<Utc>) -> OverrideNote {
        OverrideNote {
            kind,
            start,
            end,
            by: "Sam".into(),
            reason: "major incident".into(),
        }
    }

    // ---------------------------------------------------------------- until

    #[test]
    fn clock_time_is_today_if_ahead_else_tomorrow() {
        // Tue 24 March 2026, 15:00 GMT (before the clocks change).
        let now = utc(2026, 3, 24, 15, 0);
        assert_eq!(
            parse_until("20:00", LONDON, now),
            Ok(utc(2026, 3, 24, 20, 0))
        );
        assert_eq!(
            parse_until(" 9:05 ", LONDON, now),
            Ok(utc(2026, 3, 25, 9, 5))
        );
        // The same clock time as now is not ahead: tomorrow.
        assert_eq!(
            parse_until("15:00", LONDON, now),
            Ok(utc(2026, 3, 25, 15, 0))
        );
        assert_eq!(
            parse_until("15:01", LONDON, now),
            Ok(utc(2026, 3, 24, 15, 1))
        );
    }

    #[test]
    fn clock_time_in_summer_is_bst() {
        let now = utc(2026, 7, 14, 13, 0); // 14:00 BST
        assert_eq!(
            parse_until("20:00", LONDON, now),
            Ok(utc(2026, 7, 14, 19, 0))
        );
        assert_eq!(
            parse_until("14:30", LONDON, now),
            Ok(utc(2026, 7, 14, 13, 30))
        );
        // 13:30 local is already past: tomorrow's.
        assert_eq!(
            parse_until("13:30", LONDON, now),
            Ok(utc(2026, 7, 15, 12, 30))
        );
        assert_eq!(
            parse_until("14:00", LONDON, now),
            Ok(utc(2026, 7, 15, 13, 0))
        );
    }

    #[test]
    fn today_tomorrow_and_dates() {
        let now = utc(2026, 3, 24, 15, 0);
        assert_eq!(
            parse_until("tomorrow 09:00", LONDON, now),
            Ok(utc(2026, 3, 25, 9, 0))
        );
        assert_eq!(
            parse_until("Today 18:30", LONDON, now),
            Ok(utc(2026, 3, 24, 18, 30))
        );
        assert_eq!(
            parse_until("2026-03-27 17:00", LONDON, now),
            Ok(utc(2026, 3, 27, 17, 0))
        );
        assert_eq!(
            parse_until("2026-03-27T17:00", LONDON, now),
            Ok(utc(2026, 3, 27, 17, 0))
        );
        // A date after the clocks go forward is BST.
        assert_eq!(
            parse_until("2026-03-30 09:00", LONDON, now),
            Ok(utc(2026, 3, 30, 8, 0))
        );
    }

    #[test]
    fn spans_from_now() {
        let now = utc(2026, 3, 24, 15, 0);
        assert_eq!(parse_until("+2h", LONDON, now), Ok(utc(2026, 3, 24, 17, 0)));
        assert_eq!(
            parse_until("+90m", LONDON, now),
            Ok(utc(2026, 3, 24, 16, 30))
        );
        assert_eq!(
            parse_until("+1h30m", LONDON, now),
            Ok(utc(2026, 3, 24, 16, 30))
        );
        assert_eq!(
            parse_until("+ 1h 5m", LONDON, now),
            Ok(utc(2026, 3, 24, 16, 5))
        );
        for bad in ["+", "+h", "+2", "+2x", "+30m2h", "+2h2h", "+-2h"] {
            let e = parse_until(bad, LONDON, now).unwrap_err();
            assert!(e.0.contains("not a length of time"), "{bad}: {e}");
        }
        let e = parse_until("+0m", LONDON, now).unwrap_err();
        assert!(e.0.contains("already passed"), "{e}");
    }

    #[test]
    fn unreadable_input_says_how_to_write_it() {
        let now = utc(2026, 3, 24, 15, 0);
        for bad in [
            "",
            "8pm",
            "25:00",
            "20:60",
            "2026-02-30 10:00",
            "soon",
            "20:00 tomorrow extra",
        ] {
            let e = parse_until(bad, LONDON, now).unwrap_err();
            assert!(e.0.contains("`20:00`"), "{bad}: {e}");
        }
        let e = parse_until("8pm", LONDON, now).unwrap_err();
        assert!(e.0.contains("Europe/London time"), "{e}");
    }

    #[test]
    fn past_and_too_far_are_refused() {
        let now = utc(2026, 3, 24, 15, 0);
        let e = parse_until("2026-03-24 14:00", LONDON, now).unwrap_err();
        assert_eq!(
            e.0,
            "2pm on Tuesday 24 March has already passed: choose a time in the future."
        );
        let e = parse_until("today 09:00", LONDON, now).unwrap_err();
        assert!(e.0.contains("already passed"), "{e}");
        // Exactly 14 days is allowed, a minute more is not.
        assert_eq!(
            parse_until("2026-04-07 16:00", LONDON, now),
            Ok(utc(2026, 4, 7, 15, 0))
        );
        assert!(parse_until("2026-04-07 15:00", LONDON, now).is_ok());
        let e = parse_until("2026-04-07 16:01", LONDON, now).unwrap_err();
        assert_eq!(
            e.0,
            "That is more than 14 days ahead: choose a time before 4pm on Tuesday 7 April."
        );
        assert!(parse_until("+337h", LONDON, now).is_err());
        assert!(parse_until("+336h", LONDON, now).is_ok());
    }

    #[test]
    fn skipped_local_times_resolve_to_the_jump() {
        // Sat 28 March 2026, 22:00 GMT; the clocks go forward at 01:00 UTC
        // on Sunday 29 March, so 01:00–01:59 local does not exist.
        let now = utc(2026, 3, 28, 22, 0);
        assert_eq!(
            parse_until("01:30", LONDON, now),
            Ok(utc(2026, 3, 29, 1, 0))
        );
        assert_eq!(
            parse_until("02:00", LONDON, now),
            Ok(utc(2026, 3, 29, 1, 0))
        );
        assert_eq!(
            parse_until("00:59", LONDON, now),
            Ok(utc(2026, 3, 29, 0, 59))
        );
        assert_eq!(
            parse_until("03:00", LONDON, now),
            Ok(utc(2026, 3, 29, 2, 0))
        );
        // A span is plain elapsed time across the change.
        assert_eq!(parse_until("+4h", LONDON, now), Ok(utc(2026, 3, 29, 2, 0)));
    }

    #[test]
    fn repeated_local_times_pick_the_first() {
        // Sat 24 October 2026, 22:00 BST; at 01:00 UTC on Sunday 25
        // October the clocks go back, so 01:00–01:59 local happens twice.
        let now = utc(2026, 10, 24, 21, 0);
        assert_eq!(
            parse_until("01:30", LONDON, now),
            Ok(utc(2026, 10, 25, 0, 30))
        );
        assert_eq!(
            parse_until("02:00", LONDON, now),
            Ok(utc(2026, 10, 25, 2, 0))
        );
        assert_eq!(
            parse_until("09:00", LONDON, now),
            Ok(utc(2026, 10, 25, 9, 0))
        );
        // During the second 01:30 (01:30 UTC) "01:45" already happened once
        // today: the first 01:45 is past, so it is tomorrow's.
        let second = utc(2026, 10, 25, 1, 30);
        assert_eq!(
            parse_until("01:45", LONDON, second),
            Ok(utc(2026, 10, 26, 1, 45))
        );
    }

    // ----------------------------------------------------------- extend

    #[test]
    fn extend_opens_from_now_until() {
        let s = schedule();
        let now = utc(2026, 3, 24, 16, 0); // Tue 16:00 GMT, on duty
        let until = utc(2026, 3, 24, 20, 0);
        assert_eq!(
            plan_extend(s.view(), now, until),
            Ok(Override::open(now, until))
        );
        // After hours it opens at once.
        let late = utc(2026, 3, 24, 21, 0);
        let o = plan_extend(s.view(), late, utc(2026, 3, 24, 23, 0)).expect("extend");
        assert_eq!(o.kind, OverrideKind::Open);
        assert_eq!(o.start, late);
        assert!(s.with_overrides(&[o]).is_open(late));
    }

    #[test]
    fn extend_inside_the_usual_hours_has_nothing_to_do() {
        let s = schedule();
        let now = utc(2026, 3, 24, 10, 0);
        let e = plan_extend(s.view(), now, utc(2026, 3, 24, 17, 0)).unwrap_err();
        assert_eq!(
            e.0,
            "Nothing to extend: the team is already on duty until 5:30pm on Tuesday 24 March."
        );
        // Exactly to the usual close: still nothing.
        assert!(plan_extend(s.view(), now, utc(2026, 3, 24, 17, 30)).is_err());
        // A minute past it: an extension.
        assert!(plan_extend(s.view(), now, utc(2026, 3, 24, 17, 31)).is_ok());
        // An extension already in force counts.
        let ext = [Override::open(now, utc(2026, 3, 24, 20, 0))];
        assert!(plan_extend(s.with_overrides(&ext), now, utc(2026, 3, 24, 19, 0)).is_err());
        assert!(plan_extend(s.with_overrides(&ext), now, utc(2026, 3, 24, 21, 0)).is_ok());
    }

    #[test]
    fn extend_over_a_bank_holiday_opens_it() {
        let s = schedule();
        // Good Friday 2026 is 3 April.
        let now = utc(2026, 4, 3, 9, 0);
        assert!(!s.is_open(now));
        let o = plan_extend(s.view(), now, utc(2026, 4, 3, 12, 0)).expect("extend");
        assert!(s.with_overrides(&[o]).is_open(utc(2026, 4, 3, 11, 0)));
    }

    // ------------------------------------------------------------ close

    #[test]
    fn close_without_until_runs_to_the_end_of_the_open_period() {
        let s = schedule();
        let now = utc(2026, 3, 24, 14, 0);
        let o = plan_close(s.view(), now, None).expect("close");
        assert_eq!(o, Override::closed(now, utc(2026, 3, 24, 17, 30)));
        // The usual hours resume next morning.
        let v = [o];
        assert!(!s.with_overrides(&v).is_open(now));
        assert_eq!(
            s.with_overrides(&v).next_open(now),
            Some(utc(2026, 3, 25, 9, 0))
        );
        // During an extension it ends the extension.
        let ext = [Override::open(
            utc(2026, 3, 24, 17, 0),
            utc(2026, 3, 24, 21, 0),
        )];
        let at = utc(2026, 3, 24, 19, 0);
        assert_eq!(
            plan_close(s.with_overrides(&ext), at, None),
            Ok(Override::closed(at, utc(2026, 3, 24, 21, 0)))
        );
    }

    #[test]
    fn close_while_closed_needs_until() {
        let s = schedule();
        let now = utc(2026, 3, 24, 19, 0);
        let e = plan_close(s.view(), now, None).unwrap_err();
        assert_eq!(
            e.0,
            "Already closed: it opens 9am on Wednesday 25 March. To stay closed past then, give `until`."
        );
        // With an until before the opening, nothing changes either.
        let e = plan_close(s.view(), now, Some(utc(2026, 3, 25, 8, 0))).unwrap_err();
        assert!(e.0.starts_with("Nothing to close"), "{e}");
        // Through the opening: a closure.
        let until = utc(2026, 3, 25, 12, 0);
        let o = plan_close(s.view(), now, Some(until)).expect("close");
        assert_eq!(o, Override::closed(now, until));
        let v = [o];
        assert_eq!(s.with_overrides(&v).next_open(now), Some(until));
    }

    #[test]
    fn close_across_the_clocks_going_back() {
        let s = schedule();
        // Fri 23 October 2026 14:00 BST; close until Monday 26 October 12:00
        // GMT (the clocks went back on Sunday).
        let now = utc(2026, 10, 23, 13, 0);
        let until = parse_until("2026-10-26 12:00", LONDON, now).expect("until");
        assert_eq!(until, utc(2026, 10, 26, 12, 0));
        let o = plan_close(s.view(), now, Some(until)).expect("close");
        let v = [o];
        let view = s.with_overrides(&v);
        assert_eq!(view.next_open(now), Some(utc(2026, 10, 26, 12, 0)));
        assert_eq!(view.next_close(until), Some(utc(2026, 10, 26, 17, 30)));
    }

    #[test]
    fn close_refuses_past_and_far_times() {
        let s = schedule();
        let now = utc(2026, 3, 24, 14, 0);
        assert!(plan_close(s.view(), now, Some(now)).is_err());
        assert!(plan_close(s.view(), now, Some(now + Duration::days(15))).is_err());
        assert!(plan_extend(s.view(), now, now - Duration::minutes(1)).is_err());
    }

    // ----------------------------------------------------------- status

    #[test]
    fn status_in_usual_hours() {
        let s = schedule();
        let now = utc(2026, 3, 24, 14, 0);
        let text = status_text("las", &s, &[], now);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "**las** is **open** now: usual hours.");
        assert_eq!(
            lines[1],
            format!(
                "Next change: closes 5:30pm on Tuesday 24 March (<t:{}:R>).",
                utc(2026, 3, 24, 17, 30).timestamp()
            )
        );
        // Good Friday (3 April) and Easter Monday (6 April) are within 14 days.
        assert_eq!(lines[2], "Upcoming closures (next 14 days):");
        assert_eq!(lines[3], "• Friday 3 April: Good Friday (bank holiday)");
        assert_eq!(lines[4], "• Monday 6 April: Easter Monday (bank holiday)");
        assert_eq!(
            lines[5],
            "Usual hours: Monday to Friday, 9am to 5:30pm, except bank holidays."
        );
        assert_eq!(lines.len(), 6);
    }

    #[test]
    fn status_on_a_bank_holiday() {
        let s = schedule();
        // Easter Monday 2026, 10:00 BST.
        let now = utc(2026, 4, 6, 9, 0);
        let text = status_text("las", &s, &[], now);
        assert!(
            text.starts_with("**las** is **closed** now: bank holiday (Easter Monday).\n"),
            "{text}"
        );
        assert!(
            text.contains("Next change: opens 9am on Tuesday 7 April"),
            "{text}"
        );
        assert!(text.contains("• Monday 6 April: Easter Monday"), "{text}");
        // A Saturday: outside the usual hours; the Early May bank holiday
        // (4 May) is within 14 days.
        let sat = utc(2026, 4, 25, 12, 0);
        let text = status_text("las", &s, &[], sat);
        assert!(
            text.contains("closed** now: outside the usual hours."),
            "{text}"
        );
        assert!(text.contains("• Monday 4 May: Early May bank holiday (bank holiday)"));
        let quiet = utc(2026, 6, 10, 12, 0);
        assert!(
            status_text("las", &s, &[], quiet).contains("Upcoming closures (next 14 days): none.")
        );
    }

    #[test]
    fn status_names_the_override_in_force() {
        let s = schedule();
        let now = utc(2026, 3, 24, 14, 0);
        let notes = [note(OverrideKind::Closed, now, utc(2026, 3, 25, 12, 0))];
        let text = status_text("las", &s, &notes, now + Duration::minutes(5));
        assert!(
            text.starts_with(
                "**las** is **closed** now: closed by Sam until 12pm on Wednesday 25 March: “major incident”."
            ),
            "{text}"
        );
        assert!(
            text.contains("Next change: opens 12pm on Wednesday 25 March"),
            "{text}"
        );
        assert!(
            text.contains(
                "• Closed from now until 12pm on Wednesday 25 March by Sam: “major incident”"
            ),
            "{text}"
        );
        let ext = [note(OverrideKind::Open, now, utc(2026, 3, 24, 20, 0))];
        let text = status_text("las", &s, &ext, utc(2026, 3, 24, 18, 0));
        assert!(
            text.starts_with(
                "**las** is **open** now: extended by Sam until 8pm on Tuesday 24 March"
            ),
            "{text}"
        );
        assert!(
            text.contains("Next change: closes 8pm on Tuesday 24 March"),
            "{text}"
        );
    }

    #[test]
    fn the_latest_override_wins_in_the_status() {
        let s = schedule();
        let t0 = utc(2026, 3, 24, 14, 0);
        let notes = [
            note(OverrideKind::Closed, t0, utc(2026, 3, 25, 12, 0)),
            OverrideNote {
                by: "Alex".into(),
                reason: "incident over".into(),
                ..note(
                    OverrideKind::Open,
                    t0 + Duration::hours(1),
                    utc(2026, 3, 24, 18, 0),
                )
            },
        ];
        let (open, reason) = state_at(&s, &notes, t0 + Duration::hours(2));
        assert!(open);
        assert!(matches!(reason, Reason::Override(n) if n.by == "Alex"));
    }

    #[test]
    fn the_closure_list_is_capped() {
        let s = schedule();
        let now = utc(2026, 6, 10, 12, 0);
        let notes: Vec<OverrideNote> = (0..14)
            .map(|i| {
                let start = now + Duration::days(i) + Duration::hours(1);
                note(OverrideKind::Closed, start, start + Duration::hours(1))
            })
            .collect();
        let text = status_text("las", &s, &notes, now);
        assert_eq!(text.matches("• Closed from").count(), MAX_LISTED_CLOSURES);
        assert!(text.contains("…and 4 more."), "{text}");
    }
}
