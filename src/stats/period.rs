//! Report periods: `today`, `7d`, `30d`, or custom dates, resolved to a
//! half-open UTC window `[from, to)` in the org's time zone. Days start at
//! local midnight; a window never extends past `now`.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

/// The longest custom period.
pub const MAX_DAYS: i64 = 366;

/// A report period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Since local midnight.
    Today,
    /// Today and the six days before it.
    Days7,
    /// Today and the 29 days before it.
    Days30,
    /// From the start of `from` to the end of `to` (both local dates, inclusive).
    Custom { from: NaiveDate, to: NaiveDate },
}

/// Why a period cannot be used; the text is meant for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`{0}` is not a period: use today, 7d, 30d or YYYY-MM-DD..YYYY-MM-DD")]
    Unknown(String),
    #[error("`{0}` is not a date: use YYYY-MM-DD, e.g. 2026-11-03")]
    BadDate(String),
    #[error("the period starts on {from} but ends on {to}, before it starts")]
    Backwards { from: NaiveDate, to: NaiveDate },
    #[error("the period starts on {0}, which is in the future")]
    Future(NaiveDate),
    #[error("a period can cover at most {MAX_DAYS} days")]
    TooLong,
    #[error("give both a start and an end date")]
    HalfCustom,
}

impl Period {
    /// From the command options: a named period, or custom dates. Dates win
    /// over the name; both dates are needed.
    pub fn from_options(
        name: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Period, PeriodError> {
        match (from, to) {
            (Some(f), Some(t)) => Ok(Period::Custom {
                from: parse_date(f)?,
                to: parse_date(t)?,
            }),
            (Some(_), None) | (None, Some(_)) => Err(PeriodError::HalfCustom),
            (None, None) => name.unwrap_or("7d").parse(),
        }
    }

    /// The window in UTC for an org in `tz`.
    pub fn resolve(
        self,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), PeriodError> {
        let today = now.with_timezone(&tz).date_naive();
        let (first, last) = match self {
            Period::Today => (today, today),
            Period::Days7 => (today - Duration::days(6), today),
            Period::Days30 => (today - Duration::days(29), today),
            Period::Custom { from, to } => {
                if to < from {
                    return Err(PeriodError::Backwards { from, to });
                }
                if from > today {
                    return Err(PeriodError::Future(from));
                }
                if (to - from).num_days() + 1 > MAX_DAYS {
                    return Err(PeriodError::TooLong);
                }
                (from, to)
            }
        };
        let start = local_midnight(tz, first);
        let end = local_midnight(tz, last + Duration::days(1)).min(now);
        Ok((start, end.max(start)))
    }

    /// A short label, e.g. `last 7 days`.
    pub fn label(self) -> String {
        match self {
            Period::Today => "today".to_owned(),
            Period::Days7 => "last 7 days".to_owned(),
            Period::Days30 => "last 30 days".to_owned(),
            Period::Custom { from, to } => format!("{from} to {to}"),
        }
    }
}

/// The first instant of a local date (midnight, or the end of a gap when
/// the clocks skip midnight).
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut t = date.and_hms_opt(0, 0, 0).expect("midnight");
    for _ in 0..(26 * 4) {
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.with_timezone(&Utc);
        }
        t += Duration::minutes(15);
    }
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
}

fn parse_date(s: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| PeriodError::BadDate(s.to_owned()))
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "today" => Ok(Period::Today),
            "7d" | "week" => Ok(Period::Days7),
            "30d" | "month" => Ok(Period::Days30),
            other => match other.split_once("..") {
                Some((f, t)) => Ok(Period::Custom {
                    from: parse_date(f)?,
                    to: parse_date(t)?,
                }),
                None => Err(PeriodError::Unknown(s.to_owned())),
            },
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn today_starts_at_local_midnight_in_summer() {
        let now = utc("2026-07-14T10:00:00Z");
        let (from, to) = Period::Today.resolve(London, now).unwrap();
        assert_eq!(from, utc("2026-07-13T23:00:00Z"));
        assert_eq!(to, now);
    }

    #[test]
    fn seven_days_span_a_clock_change() {
        // The clocks go back on Sunday 25 October 2026.
        let now = utc("2026-10-28T12:00:00Z");
        let (from, to) = Period::Days7.resolve(London, now).unwrap();
        assert_eq!(from, utc("2026-10-21T23:00:00Z"));
        assert_eq!(to, now);
    }

    #[test]
    fn custom_dates_are_inclusive_and_stop_at_now() {
        let now = utc("2026-11-21T12:00:00Z");
        let p: Period = "2026-11-01..2026-11-02".parse().unwrap();
        let (from, to) = p.resolve(London, now).unwrap();
        assert_eq!(from, utc("2026-11-01T00:00:00Z"));
        assert_eq!(to, utc("2026-11-03T00:00:00Z"));
        let p = Period::from_options(None, Some("2026-11-20"), Some("2026-11-30")).unwrap();
        assert_eq!(p.resolve(London, now).unwrap().1, now);
    }

    #[test]
    fn bad_periods_say_what_to_do() {
        let now = utc("2026-11-21T12:00:00Z");
        assert!(matches!(
            "fortnight".parse::<Period>(),
            Err(PeriodError::Unknown(_))
        ));
        assert!(matches!(
            Period::from_options(None, Some("2026-11-05"), None),
            Err(PeriodError::HalfCustom)
        ));
        assert!(matches!(
            Period::from_options(None, Some("5/11/2026"), Some("2026-11-06")),
            Err(PeriodError::BadDate(_))
        ));
        let back = Period::from_options(None, Some("2026-11-06"), Some("2026-11-05")).unwrap();
        assert!(matches!(
            back.resolve(London, now),
            Err(PeriodError::Backwards { .. })
        ));
        let future = Period::from_options(None, Some("2026-12-01"), Some("2026-12-05")).unwrap();
        assert!(matches!(
            future.resolve(London, now),
            Err(PeriodError::Future(_))
        ));
        let long = Period::from_options(None, Some("2024-01-01"), Some("2026-01-01")).unwrap();
        assert_eq!(long.resolve(London, now), Err(PeriodError::TooLong));
        assert!(PeriodError::TooLong.to_string().contains("366"));
    }
}
