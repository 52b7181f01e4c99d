//! [`Schedule`]: an organisation's monitoring hours as instants in time.
//!
//! A schedule is the weekly window in its local time zone, minus the bank
//! holidays of its calendar (when `closed_on_bank_holidays`), with any
//! [`Override`]s laid on top ([`Schedule::with_overrides`]).
//!
//! Local times are turned into instants day by day, so clock changes are
//! handled where they happen:
//!
//! - a local time that does not exist (01:30 on the last Sunday of March in
//!   Europe/London) resolves to the instant the clocks jump to (02:00 BST,
//!   01:00 UTC), for starts and ends alike;
//! - a local time that happens twice (01:30 on the last Sunday of October)
//!   resolves to the earlier instant when it starts an interval and to the
//!   later one when it ends an interval, so a window covering the repeated
//!   hour covers both of its occurrences.
//!
//! All intervals are half-open, `[start, end)`: at 17:30 exactly a
//! 09:00–17:30 window is closed. Adjacent periods (an interval ending at
//! 24:00 and the next day's starting at 00:00) join into one.

use std::sync::Arc;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{text, Calendar, Holiday, HoursConfig, HoursError};

/// How far ahead [`ScheduleView::next_open`] and [`ScheduleView::next_close`]
/// look before answering `None`.
pub const SEARCH_HORIZON_DAYS: i64 = 400;

/// How many days of periods are computed at a time while searching.
const SEARCH_CHUNK_DAYS: i64 = 7;

/// Whether an override opens or closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideKind {
    /// Monitored, whatever the window and holidays say ("extend until 20:00").
    Open,
    /// Not monitored, whatever the window says ("closed for a major incident").
    Closed,
}

/// A one-off change to the hours over `[start, end)`, held by the store.
///
/// Overrides win over the weekly window and holidays. Where overrides
/// overlap, the one later in the slice wins, so pass them oldest first and
/// the most recent instruction counts. An override whose `end` is not after
/// its `start` has no effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Override {
    /// First instant affected.
    pub start: DateTime<Utc>,
    /// First instant no longer affected.
    pub end: DateTime<Utc>,
    /// Open or closed during `[start, end)`.
    pub kind: OverrideKind,
}

impl Override {
    /// Open during `[start, end)`.
    pub fn open(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Override {
            start,
            end,
            kind: OverrideKind::Open,
        }
    }

    /// Closed during `[start, end)`.
    pub fn closed(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Override {
            start,
            end,
            kind: OverrideKind::Closed,
        }
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// An organisation's monitoring hours, built from its [`HoursConfig`] and
/// the [`Calendar`] it names. Cheap to clone; the calendar is shared.
#[derive(Debug, Clone)]
pub struct Schedule {
    config: HoursConfig,
    calendar: Arc<Calendar>,
}

impl Schedule {
    /// Builds a schedule. Fails if the calendar is not the one the config
    /// names.
    pub fn new(
        config: &HoursConfig,
        calendar: impl Into<Arc<Calendar>>,
    ) -> Result<Self, HoursError> {
        let calendar = calendar.into();
        if calendar.nation() != config.calendar {
            return Err(HoursError::CalendarMismatch {
                expected: config.calendar,
                actual: calendar.nation(),
            });
        }
        Ok(Schedule {
            config: config.clone(),
            calendar,
        })
    }

    /// The configuration this schedule was built from.
    pub fn config(&self) -> &HoursConfig {
        &self.config
    }

    /// The window's time zone.
    pub fn timezone(&self) -> Tz {
        self.config.timezone
    }

    /// The bank-holiday calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// This schedule with `overrides` laid on top (later ones win).
    pub fn with_overrides<'a>(&'a self, overrides: &'a [Override]) -> ScheduleView<'a> {
        ScheduleView {
            schedule: self,
            overrides,
        }
    }

    /// This schedule without overrides, as a view.
    pub fn view(&self) -> ScheduleView<'_> {
        self.with_overrides(&[])
    }

    /// See [`ScheduleView::is_open`].
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        self.view().is_open(t)
    }

    /// See [`ScheduleView::next_open`].
    pub fn next_open(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.view().next_open(t)
    }

    /// See [`ScheduleView::next_close`].
    pub fn next_close(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.view().next_close(t)
    }

    /// See [`ScheduleView::working_duration`].
    pub fn working_duration(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        self.view().working_duration(a, b)
    }

    /// See [`ScheduleView::open_periods`].
    pub fn open_periods(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.view().open_periods(from, to)
    }

    /// The name of the holiday that closes this schedule on `date`, if any
    /// (always `None` when the schedule stays open on bank holidays).
    pub fn holiday_closure(&self, date: NaiveDate) -> Option<String> {
        if self.config.closed_on_bank_holidays {
            self.calendar.holiday_on(date)
        } else {
            None
        }
    }

    /// The holidays falling Monday to Friday in `year` that close this
    /// schedule, sorted (empty when it stays open on bank holidays).
    pub fn closed_weekdays(&self, year: i32) -> Vec<Holiday> {
        if !self.config.closed_on_bank_holidays {
            return Vec::new();
        }
        self.calendar
            .holidays(year)
            .into_iter()
            .filter(|h| h.date.weekday().num_days_from_monday() < 5)
            .collect()
    }

    /// The window in words, e.g. "Monday to Friday, 9am to 5:30pm, except
    /// bank holidays". See [`text::window_text`].
    pub fn window_text(&self) -> String {
        text::window_text(&self.config.weekly, self.config.closed_on_bank_holidays)
    }

    /// `dt` in words in this schedule's time zone, e.g. "9am on Tuesday 29
    /// December". See [`text::format_next_open`].
    pub fn format_next_open(&self, dt: DateTime<Utc>, now: DateTime<Utc>) -> String {
        text::format_next_open(dt, self.config.timezone, now)
    }

    /// Calls `push` with each period the weekly window (less holidays) gives
    /// local `date`, as instants.
    fn day_periods(&self, date: NaiveDate, mut push: impl FnMut(DateTime<Utc>, DateTime<Utc>)) {
        let intervals = self.config.weekly.day(date.weekday()).intervals();
        if intervals.is_empty()
            || (self.config.closed_on_bank_holidays && self.calendar.is_holiday(date))
        {
            return;
        }
        let midnight = date.and_time(NaiveTime::MIN);
        let tz = self.config.timezone;
        for iv in intervals {
            let local =
                |minutes: u16| midnight.checked_add_signed(Duration::minutes(i64::from(minutes)));
            let start = local(iv.start_minutes()).and_then(|l| resolve_local(tz, l, Pick::Earlier));
            let end = local(iv.end_minutes()).and_then(|l| resolve_local(tz, l, Pick::Later));
            if let (Some(start), Some(end)) = (start, end) {
                if start < end {
                    push(start, end);
                }
            }
        }
    }

    fn base_is_open(&self, t: DateTime<Utc>) -> bool {
        let date = t.with_timezone(&self.config.timezone).date_naive();
        [date.pred_opt(), Some(date), date.succ_opt()]
            .into_iter()
            .flatten()
            .any(|d| {
                let mut open = false;
                self.day_periods(d, |s, e| open |= s <= t && t < e);
                open
            })
    }

    /// The base periods (no overrides) meeting `[from, to)`, sorted and
    /// merged but not clipped.
    fn base_periods(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let tz = self.config.timezone;
        let first = from.with_timezone(&tz).date_naive();
        let last = to.with_timezone(&tz).date_naive();
        let mut periods = Vec::new();
        let mut day = first.pred_opt().unwrap_or(first);
        loop {
            self.day_periods(day, |s, e| periods.push((s, e)));
            if day > last {
                break;
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        normalise(&mut periods);
        periods
    }
}

/// A [`Schedule`] with [`Override`]s laid on top. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleView<'a> {
    schedule: &'a Schedule,
    overrides: &'a [Override],
}

impl<'a> From<&'a Schedule> for ScheduleView<'a> {
    fn from(schedule: &'a Schedule) -> Self {
        schedule.view()
    }
}

impl<'a> ScheduleView<'a> {
    /// The underlying schedule.
    pub fn schedule(&self) -> &'a Schedule {
        self.schedule
    }

    /// The overrides in force, in the order given.
    pub fn overrides(&self) -> &'a [Override] {
        self.overrides
    }

    /// Whether the team is monitoring at `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        match self.overrides.iter().rev().find(|o| o.contains(t)) {
            Some(o) => o.kind == OverrideKind::Open,
            None => self.schedule.base_is_open(t),
        }
    }

    /// The first instant at or after `t` when the schedule is open: `t`
    /// itself when open at `t`, otherwise the next opening. `None` if it does
    /// not open within [`SEARCH_HORIZON_DAYS`] (e.g. an empty window).
    pub fn next_open(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let horizon = horizon_after(t);
        let mut lo = t;
        while lo < horizon {
            let hi = chunk_end(lo, horizon);
            if let Some(&(start, _)) = self.open_periods(lo, hi).first() {
                return Some(start);
            }
            lo = hi;
        }
        None
    }

    /// The first instant at or after `t` when the schedule is closed: `t`
    /// itself when closed at `t`, otherwise the end of the current open
    /// period. `None` if it stays open for [`SEARCH_HORIZON_DAYS`].
    pub fn next_close(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let horizon = horizon_after(t);
        let mut lo = t;
        while lo < horizon {
            let hi = chunk_end(lo, horizon);
            match self.open_periods(lo, hi).first() {
                Some(&(start, end)) if start == lo => {
                    if end < hi {
                        return Some(end);
                    }
                }
                _ => return Some(lo),
            }
            lo = hi;
        }
        None
    }

    /// Monitored time between `a` and `b`; zero if `b <= a`.
    pub fn working_duration(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        self.open_periods(a, b)
            .into_iter()
            .fold(Duration::zero(), |sum, (s, e)| sum + (e - s))
    }

    /// A [`MonitoredClock`] for questions inside `[from, to]`: the same
    /// answers as [`Self::working_duration`], in O(log n) each.
    pub fn clock(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> MonitoredClock {
        MonitoredClock::new(from, to, &self.open_periods(from, to))
    }

    /// The open periods within `[from, to)`, as sorted, disjoint,
    /// non-adjacent `[start, end)` pairs clipped to the range. Empty if
    /// `to <= from`.
    pub fn open_periods(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if to <= from {
            return Vec::new();
        }
        let mut periods: Vec<_> = self
            .schedule
            .base_periods(from, to)
            .into_iter()
            .filter_map(|(s, e)| clip(s, e, from, to))
            .collect();
        for o in self.overrides {
            let Some((s, e)) = clip(o.start, o.end, from, to) else {
                continue;
            };
            match o.kind {
                OverrideKind::Open => {
                    periods.push((s, e));
                    normalise(&mut periods);
                }
                OverrideKind::Closed => subtract(&mut periods, s, e),
            }
        }
        periods
    }
}

/// Monitored time between instants of one range, answered from the range's
/// open periods and their running totals. A report asks "how long was this
/// post waiting in monitored time" for every relay in a month; walking the
/// schedule each time costs a day-by-day time-zone walk, this costs a binary
/// search. Built by [`ScheduleView::clock`].
#[derive(Debug, Clone)]
pub struct MonitoredClock {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Open periods as nanoseconds since the epoch, sorted and disjoint.
    starts: Vec<i64>,
    ends: Vec<i64>,
    /// Monitored nanoseconds in the range before each period starts.
    before: Vec<i64>,
}

impl MonitoredClock {
    fn new(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        periods: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> MonitoredClock {
        let mut clock = MonitoredClock {
            from,
            to,
            starts: Vec::with_capacity(periods.len()),
            ends: Vec::with_capacity(periods.len()),
            before: Vec::with_capacity(periods.len()),
        };
        let nanos = |t: DateTime<Utc>| t.timestamp_nanos_opt();
        let mut total = 0i64;
        for &(s, e) in periods {
            let (Some(s), Some(e)) = (nanos(s), nanos(e)) else {
                // Outside i64 nanoseconds (before 1677 or after 2262): answer
                // nothing, so callers fall back to the schedule.
                clock.to = clock.from;
                return clock;
            };
            clock.starts.push(s);
            clock.ends.push(e);
            clock.before.push(total);
            total += e - s;
        }
        clock
    }

    /// Monitored nanoseconds in the range before `t`.
    fn upto(&self, t: i64) -> i64 {
        match self.starts.partition_point(|&s| s <= t) {
            0 => 0,
            i => self.before[i - 1] + t.min(self.ends[i - 1]) - self.starts[i - 1],
        }
    }

    /// Monitored time between `a` and `b` (zero if `b <= a`), exactly as
    /// [`ScheduleView::working_duration`] gives it; `None` when either lies
    /// outside the clock's range.
    pub fn working_duration(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Option<Duration> {
        let inside = |t: DateTime<Utc>| self.from <= t && t <= self.to;
        if self.from >= self.to || !inside(a) || !inside(b) {
            return None;
        }
        if b <= a {
            return Some(Duration::zero());
        }
        let (a, b) = (a.timestamp_nanos_opt()?, b.timestamp_nanos_opt()?);
        Some(Duration::nanoseconds(self.upto(b) - self.upto(a)))
    }
}

fn clip(
    s: DateTime<Utc>,
    e: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (s, e) = (s.max(from), e.min(to));
    (s < e).then_some((s, e))
}

/// Sorts and merges overlapping or touching periods.
fn normalise(periods: &mut Vec<(DateTime<Utc>, DateTime<Utc>)>) {
    periods.sort();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(periods.len());
    for &(s, e) in periods.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *periods = merged;
}

/// Removes `[s, e)` from sorted, disjoint periods.
fn subtract(periods: &mut Vec<(DateTime<Utc>, DateTime<Utc>)>, s: DateTime<Utc>, e: DateTime<Utc>) {
    let mut out = Vec::with_capacity(periods.len() + 1);
    for &(a, b) in periods.iter() {
        if b <= s || e <= a {
            out.push((a, b));
            continue;
        }
        if a < s {
            out.push((a, s));
        }
        if e < b {
            out.push((e, b));
        }
    }
    *periods = out;
}

fn horizon_after(t: DateTime<Utc>) -> DateTime<Utc> {
    t.checked_add_signed(Duration::days(SEARCH_HORIZON_DAYS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn chunk_end(lo: DateTime<Utc>, horizon: DateTime<Utc>) -> DateTime<Utc> {
    lo.checked_add_signed(Duration::days(SEARCH_CHUNK_DAYS))
        .map_or(horizon, |hi| hi.min(horizon))
}

/// Which instant an ambiguous local time resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    Earlier,
    Later,
}

/// The instant of local time `local` in `tz`: ambiguous times resolve as
/// `pick` says, and times in a gap to the instant the clocks jump to.
pub(crate) fn resolve_local(tz: Tz, local: NaiveDateTime, pick: Pick) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            Some(match pick {
                Pick::Earlier => a.min(b),
                Pick::Later => a.max(b),
            })
        }
        LocalResult::None => gap_end(tz, local),
    }
}

/// For a local time inside a gap (clocks jumped forward over it), the
/// instant of the jump.
fn gap_end(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let offset_at = |t: DateTime<Utc>| {
        i64::from(
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
        )
    };
    let naive_utc = local.and_utc();
    let before = offset_at(naive_utc.checked_sub_signed(Duration::days(1))?);
    let after = offset_at(naive_utc.checked_add_signed(Duration::days(1))?);
    // The jump happens in (local - after, local - before]: binary search, in
    // whole seconds, for the first second on the new offset.
    let local_secs = naive_utc.timestamp();
    let mut lo = local_secs.checked_sub(after)?;
    let mut hi = local_secs.checked_sub(before)?;
    let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_at(at(mid)?) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at(hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::{Nation, Weekly};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid test instant")
    }

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, 0))
            .expect("valid test local time")
    }

    #[test]
    fn resolves_gap_times_to_the_jump() {
        let london = Tz::Europe__London;
        for m in [0, 1, 30, 59] {
            assert_eq!(
                resolve_local(london, local(2025, 3, 30, 1, m), Pick::Earlier),
                Some(utc(2025, 3, 30, 1, 0)),
                "01:{m:02}"
            );
        }
        assert_eq!(
            resolve_local(london, local(2025, 3, 30, 2, 0), Pick::Later),
            Some(utc(2025, 3, 30, 1, 0))
        );
        // A half-hour gap elsewhere (Lord Howe Island, 02:00 → 02:30).
        assert_eq!(
            resolve_local(
                Tz::Australia__Lord_Howe,
                local(2025, 10, 5, 2, 10),
                Pick::Earlier
            ),
            Some(utc(2025, 10, 4, 15, 30))
        );
    }

    #[test]
    fn resolves_repeated_times_by_pick() {
        let london = Tz::Europe__London;
        let t = local(2025, 10, 26, 1, 30);
        assert_eq!(
            resolve_local(london, t, Pick::Earlier),
            Some(utc(2025, 10, 26, 0, 30))
        );
        assert_eq!(
            resolve_local(london, t, Pick::Later),
            Some(utc(2025, 10, 26, 1, 30))
        );
    }

    #[test]
    fn normalise_and_subtract() {
        let a = utc(2025, 1, 1, 9, 0);
        let b = utc(2025, 1, 1, 12, 0);
        let c = utc(2025, 1, 1, 13, 0);
        let d = utc(2025, 1, 1, 17, 0);
        let mut p = vec![(c, d), (a, b), (b, c)];
        normalise(&mut p);
        assert_eq!(p, vec![(a, d)]);
        subtract(&mut p, b, c);
        assert_eq!(p, vec![(a, b), (c, d)]);
        subtract(&mut p, a, d);
        assert!(p.is_empty());
    }

    #[test]
    fn calendar_must_match_config() {
        let config = HoursConfig {
            timezone: Tz::Europe__London,
            calendar: Nation::Scotland,
            closed_on_bank_holidays: true,
            weekly: Weekly::default(),
        };
        let err =
            Schedule::new(&config, Calendar::rules_only(Nation::EnglandAndWales)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the hours config uses the scotland calendar but was given the england-and-wales \
             one: load config/calendars/scotland.toml for it"
        );
    }

    #[test]
    fn empty_window_never_opens_and_never_closes() {
        let config = HoursConfig {
            timezone: Tz::Europe__London,
            calendar: Nation::EnglandAndWales,
            closed_on_bank_holidays: true,
            weekly: Weekly::default(),
        };
        let s =
            Schedule::new(&config, Calendar::rules_only(Nation::EnglandAndWales)).expect("valid");
        let t = utc(2025, 6, 2, 10, 0);
        assert!(!s.is_open(t));
        assert_eq!(s.next_open(t), None);
        assert_eq!(s.next_close(t), Some(t));
        assert_eq!(
            s.working_duration(t, utc(2026, 6, 2, 10, 0)),
            Duration::zero()
        );
    }

    #[test]
    fn searching_near_the_end_of_time_does_not_panic() {
        let config = HoursConfig {
            timezone: Tz::Europe__London,
            calendar: Nation::EnglandAndWales,
            closed_on_bank_holidays: true,
            weekly: Weekly::default(),
        };
        let s =
            Schedule::new(&config, Calendar::rules_only(Nation::EnglandAndWales)).expect("valid");
        let end = DateTime::<Utc>::MAX_UTC;
        assert!(!s.is_open(end));
        assert_eq!(s.next_open(end - Duration::days(3)), None);
        assert_eq!(
            s.working_duration(end - Duration::days(3), end),
            Duration::zero()
        );
    }
}
