//! The `[hours]` table of `config/orgs/<org>.toml`.
//!
//! ```toml
//! [hours]
//! timezone = "Europe/London"          # IANA name
//! calendar = "england-and-wales"      # or "scotland", "northern-ireland"
//! closed_on_bank_holidays = true      # optional, default true
//! [hours.weekly]
//! mon = ["09:00-17:30"]
//! tue = ["08:00-12:00", "13:00-17:00"] # several intervals a day
//! wed = "09:00-17:00"                  # one interval may be a plain string
//! sat = ["00:00-24:00"]                # 24:00 is allowed as an end
//! # days left out are closed
//! ```
//!
//! Everything is checked while deserialising, so a mistake comes back from
//! `toml::from_str` with the line and column of the offending value and a
//! [`HoursError`] message saying what to fix.

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{HoursError, Nation};

/// An organisation's monitoring hours, as written in its config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursConfig {
    /// Local time zone of the window, e.g. `Europe/London`.
    #[serde(
        serialize_with = "serialize_timezone",
        deserialize_with = "deserialize_timezone"
    )]
    pub timezone: Tz,
    /// Which bank-holiday calendar applies.
    pub calendar: Nation,
    /// Whether the team is off on the calendar's bank holidays (default true).
    #[serde(default = "default_true")]
    pub closed_on_bank_holidays: bool,
    /// The weekly window.
    pub weekly: Weekly,
}

fn default_true() -> bool {
    true
}

fn serialize_timezone<S: Serializer>(tz: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(tz.name())
}

fn deserialize_timezone<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
    let name = String::deserialize(deserializer)?;
    parse_timezone(&name).map_err(serde::de::Error::custom)
}

/// Parses an IANA time zone name, suggesting the right case when only the
/// case is wrong.
pub fn parse_timezone(name: &str) -> Result<Tz, HoursError> {
    let trimmed = name.trim();
    if let Ok(tz) = trimmed.parse::<Tz>() {
        return Ok(tz);
    }
    let hint = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(trimmed))
        .map(|tz| format!("; did you mean \"{}\"?", tz.name()))
        .unwrap_or_default();
    Err(HoursError::UnknownTimezone {
        name: name.to_string(),
        hint,
    })
}

/// The weekly window: one list of intervals per day, Monday first. A day
/// that is left out (or empty) is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    /// Monday.
    #[serde(default, skip_serializing_if = "DayWindow::is_closed")]
    pub mon: DayWindow,
    /// Tuesday.
    #[serde(default, skip_serializing_if = "DayWindow::is_closed")]
    pub tue: DayWindow,
    /// Wednesday.
    #[serde(default, skip_serializing_if = "DayWindow::is_closed")]
    pub wed: DayWindow,
    /// Thursday.
    #[serde(default, skip_serializing_if = "DayWindow::is_closed")]
    pub thu: DayWindow,
    /// Friday.
    #[serde(default, skip_serializing_if = "DayWindow::is_closed")]
    pub fri: DayWindow,
    /// Saturday.
    #[serde(default, skip_serializing_if = "DayWindow::is_closed")]
    pub sat: DayWindow,
    /// Sunday.
    #[serde(default, skip_serializing_if = "DayWindow::is_closed")]
    pub sun: DayWindow,
}

impl Weekly {
    /// The window of one weekday.
    pub fn day(&self, weekday: Weekday) -> &DayWindow {
        match weekday {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    /// Whether no day has any interval.
    pub fn is_always_closed(&self) -> bool {
        WEEK.iter().all(|&d| self.day(d).is_closed())
    }
}

/// Monday to Sunday.
pub(crate) const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// One day's intervals: sorted, not overlapping, and with touching
/// intervals ("08:00-12:00", "12:00-17:00") merged into one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayWindow {
    intervals: Vec<Interval>,
}

impl DayWindow {
    /// Parses and checks a day's intervals, e.g. `["08:00-12:00", "13:00-17:00"]`.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, HoursError> {
        let mut intervals = items
            .iter()
            .map(|s| s.as_ref().parse::<Interval>())
            .collect::<Result<Vec<_>, _>>()?;
        intervals.sort();
        let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
        for iv in intervals {
            match merged.last_mut() {
                Some(prev) if iv.start < prev.end => {
                    return Err(HoursError::OverlappingIntervals {
                        first: prev.to_string(),
                        second: iv.to_string(),
                    });
                }
                Some(prev) if iv.start == prev.end => prev.end = iv.end,
                _ => merged.push(iv),
            }
        }
        Ok(DayWindow { intervals: merged })
    }

    /// The intervals, earliest first.
    pub fn intervals(&self) -> &[Interval] {
        &self.intervals
    }

    /// Whether the day has no interval at all.
    pub fn is_closed(&self) -> bool {
        self.intervals.is_empty()
    }
}

impl Serialize for DayWindow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.intervals.iter().map(ToString::to_string))
    }
}

/// Accepts a list of intervals, or a single interval written as a plain
/// string (`mon = "09:00-17:00"`).
impl<'de> Deserialize<'de> for DayWindow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DayVisitor;

        impl<'de> serde::de::Visitor<'de> for DayVisitor {
            type Value = DayWindow;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of intervals such as [\"09:00-12:00\", \"13:00-17:00\"]")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DayWindow, E> {
                DayWindow::parse(&[v]).map_err(E::custom)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<DayWindow, A::Error> {
                let mut items: Vec<String> = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                DayWindow::parse(&items).map_err(serde::de::Error::custom)
            }
        }

        deserializer.deserialize_any(DayVisitor)
    }
}

/// A local-time interval within one day, `[start, end)`, in minutes after
/// midnight. `end` may be 24:00 (1440) for "until midnight".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval {
    start: u16,
    end: u16,
}

/// Minutes in a day; the largest end an interval may have.
pub(crate) const MINUTES_PER_DAY: u16 = 24 * 60;

impl Interval {
    /// An interval from minutes after midnight; `None` unless
    /// `start < end <= 1440`.
    pub fn from_minutes(start: u16, end: u16) -> Option<Self> {
        (start < end && end <= MINUTES_PER_DAY).then_some(Interval { start, end })
    }

    /// Start, in minutes after local midnight (0–1439).
    pub fn start_minutes(&self) -> u16 {
        self.start
    }

    /// End, in minutes after local midnight (1–1440).
    pub fn end_minutes(&self) -> u16 {
        self.end
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

impl FromStr for Interval {
    type Err = HoursError;

    /// Parses `HH:MM-HH:MM` (an en dash is accepted too, and `H:MM`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |problem: &str| HoursError::BadInterval {
            text: text.to_string(),
            problem: problem.to_string(),
        };
        let normalised = text.replace('–', "-");
        let mut parts = normalised.split('-');
        let (Some(start), Some(end), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(
                "expected one start time and one end time separated by \"-\"",
            ));
        };
        let start = parse_clock(start).map_err(|p| bad(&format!("start time {p}")))?;
        let end = parse_clock(end).map_err(|p| bad(&format!("end time {p}")))?;
        if start == MINUTES_PER_DAY {
            return Err(bad("24:00 can only be an end time"));
        }
        Interval::from_minutes(start, end)
            .ok_or_else(|| HoursError::EmptyInterval(text.to_string()))
    }
}

/// `H:MM` or `HH:MM`, 00:00–24:00, as minutes after midnight. The error is
/// the end of a sentence starting "start time …".
fn parse_clock(text: &str) -> Result<u16, String> {
    let t = text.trim();
    let Some((h, m)) = t.split_once(':') else {
        return Err(format!("\"{t}\" has no \":\" between hours and minutes"));
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return Err(format!("\"{t}\" is not HH:MM"));
    }
    let (Ok(hours), Ok(minutes)) = (h.parse::<u16>(), m.parse::<u16>()) else {
        return Err(format!("\"{t}\" is not HH:MM"));
    };
    if minutes > 59 {
        return Err(format!("\"{t}\" has more than 59 minutes"));
    }
    let total = hours * 60 + minutes;
    if total > MINUTES_PER_DAY {
        return Err(format!("\"{t}\" is later than 24:00"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OrgFile {
        hours: HoursConfig,
    }

    fn parse(toml_text: &str) -> Result<HoursConfig, String> {
        toml::from_str::<OrgFile>(toml_text)
            .map(|f| f.hours)
            .map_err(|e| e.to_string())
    }

    const HEADER: &str =
        "[hours]\ntimezone = \"Europe/London\"\ncalendar = \"england-and-wales\"\n";

    #[test]
    fn parses_the_example_and_defaults_closed_on_bank_holidays() {
        let cfg = parse(&format!(
            "{HEADER}[hours.weekly]\nmon = [\"09:00-17:30\"]\ntue = [\"13:00-17:00\", \"8:00-12:00\"]\n"
        ))
        .expect("valid");
        assert_eq!(cfg.timezone, Tz::Europe__London);
        assert_eq!(cfg.calendar, Nation::EnglandAndWales);
        assert!(cfg.closed_on_bank_holidays);
        assert_eq!(
            cfg.weekly.mon.intervals(),
            &[Interval::from_minutes(540, 1050).unwrap()]
        );
        let tue: Vec<String> = cfg
            .weekly
            .tue
            .intervals()
            .iter()
            .map(|i| i.to_string())
            .collect();
        assert_eq!(tue, ["08:00-12:00", "13:00-17:00"]);
        assert!(cfg.weekly.wed.is_closed());
        assert!(!cfg.weekly.is_always_closed());
    }

    #[test]
    fn round_trips_through_toml_serialisation() {
        let cfg = parse(&format!(
            "{HEADER}closed_on_bank_holidays = false\n[hours.weekly]\nsat = [\"00:00-24:00\"]\n"
        ))
        .expect("valid");
        let json = serde_json::to_value(&cfg).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({
                "timezone": "Europe/London",
                "calendar": "england-and-wales",
                "closed_on_bank_holidays": false,
                "weekly": {"sat": ["00:00-24:00"]}
            })
        );
        let back: HoursConfig = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, cfg);
    }

    #[test]
    fn a_single_interval_may_be_a_plain_string() {
        let cfg =
            parse(&format!("{HEADER}[hours.weekly]\nthu = \"09:00-17:00\"\n")).expect("valid");
        assert_eq!(
            cfg.weekly.thu,
            DayWindow::parse(&["09:00-17:00"]).expect("valid")
        );
        let err = parse(&format!("{HEADER}[hours.weekly]\nthu = 9\n")).unwrap_err();
        assert!(
            err.contains("expected a list of intervals such as [\"09:00-12:00\", \"13:00-17:00\"]"),
            "{err}"
        );
    }

    #[test]
    fn touching_intervals_merge() {
        let day = DayWindow::parse(&["12:00-17:00", "08:00-12:00"]).expect("valid");
        assert_eq!(
            day.intervals(),
            &[Interval::from_minutes(480, 1020).unwrap()]
        );
    }

    #[test]
    fn bad_timezone_says_what_to_use() {
        let err = parse(
            "[hours]\ntimezone = \"Europe/Londn\"\ncalendar = \"scotland\"\n[hours.weekly]\n",
        )
        .unwrap_err();
        assert!(
            err.contains("unknown timezone \"Europe/Londn\": use an IANA time zone name such as \"Europe/London\""),
            "{err}"
        );
        assert!(err.contains("line 2"), "toml adds the location: {err}");

        let case = parse_timezone("europe/london").unwrap_err();
        assert_eq!(
            case.to_string(),
            "unknown timezone \"europe/london\": use an IANA time zone name such as \
             \"Europe/London\"; did you mean \"Europe/London\"?"
        );
    }

    #[test]
    fn bad_calendar_lists_the_choices() {
        let err =
            parse("[hours]\ntimezone = \"Europe/London\"\ncalendar = \"wales\"\n[hours.weekly]\n")
                .unwrap_err();
        assert!(err.contains("unknown calendar \"wales\""), "{err}");
    }

    #[test]
    fn interval_syntax_errors_explain_the_format() {
        let cases = [
            (
                "9am-5pm",
                "start time \"9am\" has no \":\" between hours and minutes",
            ),
            (
                "09:00",
                "expected one start time and one end time separated by \"-\"",
            ),
            (
                "09:00-17:00-18:00",
                "expected one start time and one end time",
            ),
            (
                "09:60-17:00",
                "start time \"09:60\" has more than 59 minutes",
            ),
            ("09:00-25:00", "end time \"25:00\" is later than 24:00"),
            ("24:00-24:00", "24:00 can only be an end time"),
            ("09:0-17:00", "start time \"09:0\" is not HH:MM"),
            ("+9:00-17:00", "start time \"+9:00\" is not HH:MM"),
        ];
        for (text, problem) in cases {
            let err = text.parse::<Interval>().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid interval \"{text}\": ")),
                "{err}"
            );
            assert!(err.contains(problem), "{text}: {err}");
            assert!(err.ends_with("e.g. \"09:00-17:30\""), "{err}");
        }
        assert_eq!(
            "9:00 – 17:30".parse::<Interval>().map(|i| i.to_string()),
            Ok("09:00-17:30".into())
        );
    }

    #[test]
    fn end_not_after_start_is_rejected() {
        for text in ["17:00-09:00", "09:00-09:00"] {
            assert_eq!(
                text.parse::<Interval>(),
                Err(HoursError::EmptyInterval(text.to_string()))
            );
        }
        let err = parse(&format!(
            "{HEADER}[hours.weekly]\nfri = [\"22:00-06:00\"]\n"
        ))
        .unwrap_err();
        assert!(err.contains("does not end after it starts"), "{err}");
        assert!(
            err.contains("\"…-24:00\" on one day and \"00:00-…\" on the next"),
            "{err}"
        );
    }

    #[test]
    fn overlapping_intervals_are_rejected() {
        let err = DayWindow::parse(&["13:00-17:00", "09:00-13:30"]).unwrap_err();
        assert_eq!(
            err,
            HoursError::OverlappingIntervals {
                first: "09:00-13:30".into(),
                second: "13:00-17:00".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "intervals \"09:00-13:30\" and \"13:00-17:00\" overlap: merge them into one \
             interval or move one so they do not overlap"
        );
        let in_toml = parse(&format!(
            "{HEADER}[hours.weekly]\nwed = [\"09:00-17:00\", \"10:00-11:00\"]\n"
        ))
        .unwrap_err();
        assert!(in_toml.contains("overlap"), "{in_toml}");
        assert!(
            in_toml.contains("wed"),
            "toml shows the offending line: {in_toml}"
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = parse(&format!("{HEADER}open = true\n[hours.weekly]\n")).unwrap_err();
        assert!(err.contains("unknown field `open`"), "{err}");
        let err = parse(&format!(
            "{HEADER}[hours.weekly]\nmonday = [\"09:00-17:00\"]\n"
        ))
        .unwrap_err();
        assert!(err.contains("unknown field `monday`"), "{err}");
    }

    #[test]
    fn missing_weekly_table_is_an_error() {
        let err = parse(HEADER).unwrap_err();
        assert!(err.contains("missing field `weekly`"), "{err}");
    }
}
