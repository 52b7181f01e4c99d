//! Monitoring hours in words, for reply templates and reports.
//!
//! - [`window_text`]: "Monday to Friday, 9am to 5:30pm, except bank holidays"
//! - [`format_next_open`]: "9am on Tuesday 29 December" (with the year only
//!   when it is not the current one)
//! - [`format_local_time`]: "9am", "5:30pm", "12pm", "12am"

use chrono::{DateTime, Datelike, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::config::{DayWindow, Interval, Weekly, MINUTES_PER_DAY, WEEK};

/// A clock time in words: "9am", "5:30pm", "12pm" (noon), "12am" (midnight).
pub fn format_local_time(time: NaiveTime) -> String {
    clock(time.hour(), time.minute())
}

fn clock(hour: u32, minute: u32) -> String {
    let suffix = if hour < 12 { "am" } else { "pm" };
    let h12 = match hour % 12 {
        0 => 12,
        h => h,
    };
    if minute == 0 {
        format!("{h12}{suffix}")
    } else {
        format!("{h12}:{minute:02}{suffix}")
    }
}

/// An interval bound in words; both ends of the day are "midnight".
fn bound(minutes: u16) -> String {
    if minutes == 0 || minutes == MINUTES_PER_DAY {
        "midnight".to_string()
    } else {
        clock(u32::from(minutes / 60), u32::from(minutes % 60))
    }
}

fn interval_text(iv: &Interval) -> String {
    if iv.start_minutes() == 0 && iv.end_minutes() == MINUTES_PER_DAY {
        "all day".to_string()
    } else {
        format!(
            "{} to {}",
            bound(iv.start_minutes()),
            bound(iv.end_minutes())
        )
    }
}

fn day_text(day: &DayWindow) -> String {
    day.intervals()
        .iter()
        .map(interval_text)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The English name of a weekday: "Monday".
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// The weekly window in words.
///
/// Consecutive days (Monday to Sunday) with the same intervals are grouped:
/// "Monday to Friday" for three or more, "Saturday and Sunday" for two;
/// groups are separated by "; " and several intervals joined with " and ".
/// ", except bank holidays" ends it when the schedule closes on them.
///
/// - "Monday to Friday, 9am to 5:30pm, except bank holidays"
/// - "Monday to Friday, 8am to 12pm and 1pm to 5pm; Saturday, 10am to 2pm"
/// - "Every day, all day" and "Closed every day" at the extremes.
pub fn window_text(weekly: &Weekly, closed_on_bank_holidays: bool) -> String {
    let mut groups: Vec<(Weekday, Weekday, &DayWindow)> = Vec::new();
    let mut previous_open = false;
    for day in WEEK {
        let window = weekly.day(day);
        if window.is_closed() {
            previous_open = false;
            continue;
        }
        match groups.last_mut() {
            Some(group) if previous_open && group.2 == window => group.1 = day,
            _ => groups.push((day, day, window)),
        }
        previous_open = true;
    }
    if groups.is_empty() {
        return "Closed every day".to_string();
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|&(first, last, window)| {
            let span = last.num_days_from_monday() - first.num_days_from_monday();
            let days = match span {
                0 => weekday_name(first).to_string(),
                1 => format!("{} and {}", weekday_name(first), weekday_name(last)),
                6 => "Every day".to_string(),
                _ => format!("{} to {}", weekday_name(first), weekday_name(last)),
            };
            format!("{days}, {}", day_text(window))
        })
        .collect();
    let mut text = parts.join("; ");
    if closed_on_bank_holidays {
        text.push_str(", except bank holidays");
    }
    text
}

/// `dt` in words in `tz`: "9am on Tuesday 29 December", with the year added
/// ("9am on Monday 4 January 2027") when it differs from the year of `now`
/// in `tz`. Minutes are shown when not on the hour; seconds are dropped.
pub fn format_next_open(dt: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    let with_year = dt.with_timezone(&tz).year() != now.with_timezone(&tz).year();
    describe(dt, tz, with_year)
}

/// `dt` in words in `tz`, always with the year: "9am on Tuesday 29
/// December 2026".
pub fn format_local_datetime(dt: DateTime<Utc>, tz: Tz) -> String {
    describe(dt, tz, true)
}

fn describe(dt: DateTime<Utc>, tz: Tz, with_year: bool) -> String {
    let local = dt.with_timezone(&tz);
    let mut text = format!(
        "{} on {} {} {}",
        clock(local.hour(), local.minute()),
        weekday_name(local.weekday()),
        local.day(),
        month_name(local.month())
    );
    if with_year {
        text.push_str(&format!(" {}", local.year()));
    }
    text
}

fn month_name(month: u32) -> &'static str {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    usize::try_from(month)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn weekly(toml_text: &str) -> Weekly {
        toml::from_str(toml_text).expect("valid weekly table")
    }

    #[test]
    fn clock_times() {
        let t = |h, m| format_local_time(NaiveTime::from_hms_opt(h, m, 0).expect("valid"));
        assert_eq!(t(9, 0), "9am");
        assert_eq!(t(17, 30), "5:30pm");
        assert_eq!(t(12, 0), "12pm");
        assert_eq!(t(12, 45), "12:45pm");
        assert_eq!(t(0, 0), "12am");
        assert_eq!(t(0, 5), "12:05am");
        assert_eq!(t(23, 59), "11:59pm");
    }

    #[test]
    fn groups_days_and_joins_intervals() {
        let w = weekly(
            r#"
            mon = ["08:00-12:00", "13:00-17:00"]
            tue = ["08:00-12:00", "13:00-17:00"]
            wed = ["08:00-12:00", "13:00-17:00"]
            thu = ["08:00-12:00", "13:00-17:00"]
            fri = ["08:00-12:00", "13:00-16:30"]
            sat = ["10:00-14:00"]
            "#,
        );
        assert_eq!(
            window_text(&w, true),
            "Monday to Thursday, 8am to 12pm and 1pm to 5pm; Friday, 8am to 12pm and 1pm to \
             4:30pm; Saturday, 10am to 2pm, except bank holidays"
        );
    }

    #[test]
    fn a_closed_day_breaks_a_run() {
        let w = weekly(
            r#"
            mon = ["09:00-17:00"]
            tue = ["09:00-17:00"]
            thu = ["09:00-17:00"]
            sat = ["00:00-24:00"]
            sun = ["00:00-24:00"]
            "#,
        );
        assert_eq!(
            window_text(&w, false),
            "Monday and Tuesday, 9am to 5pm; Thursday, 9am to 5pm; Saturday and Sunday, all day"
        );
    }

    #[test]
    fn extremes() {
        assert_eq!(window_text(&Weekly::default(), true), "Closed every day");
        let all = weekly(
            r#"
            mon = ["00:00-24:00"]
            tue = ["00:00-24:00"]
            wed = ["00:00-24:00"]
            thu = ["00:00-24:00"]
            fri = ["00:00-24:00"]
            sat = ["00:00-24:00"]
            sun = ["00:00-24:00"]
            "#,
        );
        assert_eq!(window_text(&all, false), "Every day, all day");
        let nights = weekly(r#"fri = ["00:00-06:00", "22:00-24:00"]"#);
        assert_eq!(
            window_text(&nights, false),
            "Friday, midnight to 6am and 10pm to midnight"
        );
    }

    #[test]
    fn next_open_wording_adds_the_year_only_when_it_differs() {
        let london = Tz::Europe__London;
        let now = Utc
            .with_ymd_and_hms(2026, 12, 24, 18, 0, 0)
            .single()
            .expect("valid");
        let tue = Utc
            .with_ymd_and_hms(2026, 12, 29, 9, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(
            format_next_open(tue, london, now),
            "9am on Tuesday 29 December"
        );
        let jan = Utc
            .with_ymd_and_hms(2027, 1, 4, 9, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(
            format_next_open(jan, london, now),
            "9am on Monday 4 January 2027"
        );
        // Summer time: 08:30 UTC is 9:30am in London.
        let june = Utc
            .with_ymd_and_hms(2026, 6, 1, 8, 30, 0)
            .single()
            .expect("valid");
        assert_eq!(
            format_next_open(june, london, now),
            "9:30am on Monday 1 June"
        );
        // The year is judged in local time: 23:30 UTC on 31 Dec 2026 is
        // already 2027 in Auckland.
        let nye = Utc
            .with_ymd_and_hms(2026, 12, 31, 23, 30, 0)
            .single()
            .expect("valid");
        assert_eq!(
            format_next_open(jan, Tz::Pacific__Auckland, nye),
            "10pm on Monday 4 January"
        );
    }
}
