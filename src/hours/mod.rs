//! Monitoring hours and UK bank holidays: when an organisation's social media
//! team is watching, and when it is not.
//!
//! This module owns:
//!
//! - [`calendar`]: UK bank holidays computed by rule for any year, for England
//!   and Wales, Scotland and Northern Ireland, plus the one-off changes that
//!   come from `config/calendars/<nation>.toml` ([`CalendarFile`]);
//! - [`config`]: the `[hours]` table of `config/orgs/<org>.toml`
//!   ([`HoursConfig`]), validated as it is deserialised;
//! - [`schedule`]: the [`Schedule`] built from both, answering "is it open?",
//!   "when does it next open / close?" and "how much monitored time lies
//!   between two instants?", correctly across clock changes and with
//!   [`Override`]s (extend or close early) laid on top;
//! - [`text`]: human wording for reply templates ("Monday to Friday, 9am to
//!   5:30pm, except bank holidays", "9am on Tuesday 29 December");
//! - [`report`]: the JSON and text behind `signpost hours`;
//! - [`control`]: what a supervisor's `/hours` command means (reading
//!   `until`, the override to add, the status answer).
//!
//! Everything here is pure: no I/O, no clock. Time is always passed in, and
//! the caller reads the TOML files and adds file/line/column to the errors.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use signpost::hours::{Calendar, CalendarFile, HoursConfig, Nation, Schedule};
//!
//! #[derive(serde::Deserialize)]
//! struct OrgFile {
//!     hours: HoursConfig,
//! }
//!
//! let org: OrgFile = toml::from_str(
//!     r#"
//!     [hours]
//!     timezone = "Europe/London"
//!     calendar = "england-and-wales"
//!     closed_on_bank_holidays = true
//!     [hours.weekly]
//!     mon = ["09:00-17:30"]
//!     tue = ["09:00-17:30"]
//!     wed = ["09:00-17:30"]
//!     thu = ["09:00-17:30"]
//!     fri = ["09:00-17:30"]
//!     "#,
//! )
//! .expect("valid config");
//! let calendar = Calendar::new(Nation::EnglandAndWales, CalendarFile::default()).expect("valid");
//! let schedule = Schedule::new(&org.hours, calendar).expect("calendar matches");
//!
//! // Boxing Day 2025 is a Friday and a bank holiday: closed all day.
//! let boxing_day_noon = Utc.with_ymd_and_hms(2025, 12, 26, 12, 0, 0).unwrap();
//! assert!(!schedule.is_open(boxing_day_noon));
//! assert_eq!(
//!     schedule.next_open(boxing_day_noon),
//!     Some(Utc.with_ymd_and_hms(2025, 12, 29, 9, 0, 0).unwrap())
//! );
//! assert_eq!(
//!     schedule.window_text(),
//!     "Monday to Friday, 9am to 5:30pm, except bank holidays"
//! );
//! ```

pub mod calendar;
pub mod config;
pub mod control;
pub mod report;
pub mod schedule;
pub mod text;

pub use calendar::{Calendar, CalendarFile, ExtraClosed, ExtraOpen, Holiday, Nation};
pub use config::{DayWindow, HoursConfig, Interval, Weekly};
pub use schedule::{
    MonitoredClock, Override, OverrideKind, Schedule, ScheduleView, SEARCH_HORIZON_DAYS,
};
pub use text::{format_local_datetime, format_local_time, format_next_open, window_text};

use chrono::NaiveDate;

/// Everything that can be wrong with hours or calendar configuration.
///
/// Each message says what to fix; the caller adds where (file, line, column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// `timezone` is not an IANA time zone name.
    #[error(
        "unknown timezone \"{name}\": use an IANA time zone name such as \"Europe/London\"{hint}"
    )]
    UnknownTimezone {
        /// What the config said.
        name: String,
        /// `; did you mean "…"?` when a name differs only in case, else empty.
        hint: String,
    },
    /// `calendar` (or a calendar file name) is not one of the three nations.
    #[error(
        "unknown calendar \"{0}\": use \"england-and-wales\", \"scotland\" or \"northern-ireland\""
    )]
    UnknownCalendar(String),
    /// An interval is not `HH:MM-HH:MM`.
    #[error("invalid interval \"{text}\": {problem}; write intervals as \"HH:MM-HH:MM\" in 24-hour time, e.g. \"09:00-17:30\"")]
    BadInterval {
        /// The interval as written.
        text: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An interval whose end is not after its start.
    #[error("interval \"{0}\" does not end after it starts: the end must be later than the start on the same day (write an overnight window as \"…-24:00\" on one day and \"00:00-…\" on the next)")]
    EmptyInterval(String),
    /// Two intervals on the same day overlap.
    #[error("intervals \"{first}\" and \"{second}\" overlap: merge them into one interval or move one so they do not overlap")]
    OverlappingIntervals {
        /// The interval that starts first.
        first: String,
        /// The interval that starts inside it.
        second: String,
    },
    /// A date in a calendar file is not `YYYY-MM-DD`.
    #[error("invalid date \"{0}\": write dates as YYYY-MM-DD, e.g. 2022-06-03")]
    BadDate(String),
    /// The same date appears twice in `extra_closed` or in `extra_open`.
    #[error("{date} is listed more than once in {list}: keep a single entry for it")]
    DuplicateDate {
        /// The repeated date.
        date: NaiveDate,
        /// `extra_closed` or `extra_open`.
        list: &'static str,
    },
    /// An `extra_closed` entry without a name.
    #[error("the extra_closed entry for {0} has an empty name: give the holiday's official name, e.g. \"Platinum Jubilee bank holiday\"")]
    EmptyHolidayName(NaiveDate),
    /// An `extra_open` date the rules do not make a holiday.
    #[error("extra_open date {date} is not a bank holiday under the {nation} rules, so there is nothing to cancel: it should be the date the rules give, before the holiday was moved")]
    ExtraOpenNotAHoliday {
        /// The date listed.
        date: NaiveDate,
        /// The calendar's nation.
        nation: Nation,
    },
    /// An `extra_closed` date the rules already make a holiday.
    #[error("extra_closed date {date} is already a bank holiday under the {nation} rules ({rule_name}): remove the entry, or list the date in extra_open as well if you mean to rename it")]
    ExtraClosedAlreadyHoliday {
        /// The date listed.
        date: NaiveDate,
        /// The calendar's nation.
        nation: Nation,
        /// The name the rules give it.
        rule_name: String,
    },
    /// The hours config names one calendar and the schedule was given another.
    #[error("the hours config uses the {expected} calendar but was given the {actual} one: load config/calendars/{expected}.toml for it")]
    CalendarMismatch {
        /// The nation in `[hours] calendar`.
        expected: Nation,
        /// The nation of the calendar passed in.
        actual: Nation,
    },
}
