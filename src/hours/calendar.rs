//! UK bank holidays, computed by rule for any year, with one-off changes from
//! `config/calendars/<nation>.toml`.
//!
//! The rules are the ones in force since 1978 (Banking and Financial Dealings
//! Act 1971 as amended, and the standing royal proclamations):
//!
//! | holiday | England & Wales | Scotland | Northern Ireland |
//! |---|---|---|---|
//! | New Year's Day, 1 January | ✓ | ✓ | ✓ |
//! | 2nd January | | ✓ | |
//! | St Patrick's Day, 17 March | | | ✓ |
//! | Good Friday | ✓ | ✓ | ✓ |
//! | Easter Monday | ✓ | | ✓ |
//! | Early May: first Monday of May | ✓ | ✓ | ✓ |
//! | Spring: last Monday of May | ✓ | ✓ | ✓ |
//! | Battle of the Boyne, 12 July | | | ✓ |
//! | Summer: first Monday of August | | ✓ | |
//! | Summer: last Monday of August | ✓ | | ✓ |
//! | St Andrew's Day, 30 November | | ✓ | |
//! | Christmas Day, 25 December | ✓ | ✓ | ✓ |
//! | Boxing Day, 26 December | ✓ | ✓ | ✓ |
//!
//! A fixed-date holiday that falls on a Saturday or Sunday gets a substitute:
//! the next weekday that is not already a holiday. Fixed holidays are
//! substituted in date order, so Christmas on a Saturday and Boxing Day on a
//! Sunday become Monday 27 and Tuesday 28 December, and Christmas on a Sunday
//! becomes Tuesday 27 December because Boxing Day keeps Monday 26.
//!
//! The same rules are applied to every year: years before 1978 (no early May
//! holiday then) are not historically accurate, and only the one-offs listed
//! in the calendar files are known. Names are the official gov.uk ones.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::HoursError;

/// The three UK bank-holiday jurisdictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nation {
    /// England and Wales (`england-and-wales`).
    EnglandAndWales,
    /// Scotland (`scotland`).
    Scotland,
    /// Northern Ireland (`northern-ireland`).
    NorthernIreland,
}

impl Nation {
    /// All three, in gov.uk order.
    pub const ALL: [Nation; 3] = [
        Nation::EnglandAndWales,
        Nation::Scotland,
        Nation::NorthernIreland,
    ];

    /// The config and gov.uk identifier, also the calendar file's stem:
    /// `england-and-wales`, `scotland`, `northern-ireland`.
    pub fn slug(self) -> &'static str {
        match self {
            Nation::EnglandAndWales => "england-and-wales",
            Nation::Scotland => "scotland",
            Nation::NorthernIreland => "northern-ireland",
        }
    }

    /// The name for people: "England and Wales", "Scotland", "Northern Ireland".
    pub fn display_name(self) -> &'static str {
        match self {
            Nation::EnglandAndWales => "England and Wales",
            Nation::Scotland => "Scotland",
            Nation::NorthernIreland => "Northern Ireland",
        }
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Nation {
    type Err = HoursError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Nation::ALL
            .into_iter()
            .find(|n| n.slug() == s.trim())
            .ok_or_else(|| HoursError::UnknownCalendar(s.to_string()))
    }
}

impl Serialize for Nation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.slug())
    }
}

impl<'de> Deserialize<'de> for Nation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One bank holiday: the day it is observed and its official name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Holiday {
    /// The date the holiday is observed (a substitute day where one applies).
    pub date: NaiveDate,
    /// The gov.uk name, e.g. "Boxing Day" (also for its substitute day).
    pub name: String,
}

/// `config/calendars/<nation>.toml`: the one-off changes the rules cannot know.
///
/// ```toml
/// [[extra_open]]              # a date the rules make a holiday, moved away
/// date = 2022-05-30
/// name = "Spring bank holiday" # optional, for the reader
///
/// [[extra_closed]]            # an extra or moved holiday
/// date = 2022-06-02
/// name = "Spring bank holiday"
/// ```
///
/// Dates may be TOML dates or `"YYYY-MM-DD"` strings. A date in both lists
/// renames the rule holiday on that date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    /// Extra days off (one-off holidays, and the new dates of moved ones).
    #[serde(default)]
    pub extra_closed: Vec<ExtraClosed>,
    /// Dates the rules make a holiday that were moved, so are working days.
    #[serde(default)]
    pub extra_open: Vec<ExtraOpen>,
}

/// An `[[extra_closed]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraClosed {
    /// The day off.
    #[serde(deserialize_with = "deserialize_date")]
    pub date: NaiveDate,
    /// Its official name.
    pub name: String,
}

/// An `[[extra_open]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraOpen {
    /// The date the rules would make a holiday.
    #[serde(deserialize_with = "deserialize_date")]
    pub date: NaiveDate,
    /// What the rules would have called it; informative only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Accepts a `"YYYY-MM-DD"` string or a TOML local date (which the `toml`
/// crate hands over as a one-entry map holding the date's text).
fn deserialize_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    struct DateVisitor;

    impl<'de> serde::de::Visitor<'de> for DateVisitor {
        type Value = NaiveDate;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a date written YYYY-MM-DD")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NaiveDate, E> {
            parse_date(v).map_err(E::custom)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<NaiveDate, A::Error> {
            let Some((_key, text)) = map.next_entry::<String, String>()? else {
                return Err(serde::de::Error::custom(HoursError::BadDate(String::new())));
            };
            parse_date(&text).map_err(serde::de::Error::custom)
        }
    }

    deserializer.deserialize_any(DateVisitor)
}

fn parse_date(text: &str) -> Result<NaiveDate, HoursError> {
    let trimmed = text.trim();
    if trimmed.len() != 10 {
        return Err(HoursError::BadDate(text.to_string()));
    }
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
        .map_err(|_| HoursError::BadDate(text.to_string()))
}

/// First year whose holidays are cached; years outside the cached range are
/// computed on every call (still correct, just slower).
const CACHE_FIRST_YEAR: i32 = 1950;
/// Number of cached years (1950–2149).
const CACHE_YEARS: usize = 200;

/// The bank holidays of one nation: the rules plus its calendar file.
///
/// Per-year results are cached, so [`Calendar::is_holiday`] is cheap on the
/// hot path. A `Calendar` is `Send + Sync`; share it with an `Arc`.
#[derive(Clone)]
pub struct Calendar {
    nation: Nation,
    extra_closed: BTreeMap<NaiveDate, String>,
    extra_open: BTreeSet<NaiveDate>,
    cache: Box<[OnceLock<Vec<Holiday>>]>,
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("nation", &self.nation)
            .field("extra_closed", &self.extra_closed)
            .field("extra_open", &self.extra_open)
            .finish_non_exhaustive()
    }
}

impl Calendar {
    /// Builds a calendar from the rules and a calendar file.
    ///
    /// Rejects repeated dates, unnamed extra holidays, `extra_open` dates the
    /// rules do not make a holiday, and `extra_closed` dates the rules already
    /// make a holiday (unless also in `extra_open`, which renames the day).
    pub fn new(nation: Nation, file: CalendarFile) -> Result<Self, HoursError> {
        let mut extra_open = BTreeSet::new();
        for entry in &file.extra_open {
            if !extra_open.insert(entry.date) {
                return Err(HoursError::DuplicateDate {
                    date: entry.date,
                    list: "extra_open",
                });
            }
            let is_rule_holiday = rule_holidays(nation, entry.date.year())
                .iter()
                .any(|h| h.date == entry.date);
            if !is_rule_holiday {
                return Err(HoursError::ExtraOpenNotAHoliday {
                    date: entry.date,
                    nation,
                });
            }
        }
        let mut extra_closed = BTreeMap::new();
        for entry in file.extra_closed {
            let name = entry.name.trim();
            if name.is_empty() {
                return Err(HoursError::EmptyHolidayName(entry.date));
            }
            if !extra_open.contains(&entry.date) {
                if let Some(rule) = rule_holidays(nation, entry.date.year())
                    .into_iter()
                    .find(|h| h.date == entry.date)
                {
                    return Err(HoursError::ExtraClosedAlreadyHoliday {
                        date: entry.date,
                        nation,
                        rule_name: rule.name,
                    });
                }
            }
            if extra_closed.insert(entry.date, name.to_string()).is_some() {
                return Err(HoursError::DuplicateDate {
                    date: entry.date,
                    list: "extra_closed",
                });
            }
        }
        Ok(Calendar {
            nation,
            extra_closed,
            extra_open,
            cache: new_cache(),
        })
    }

    /// The rules alone, without any one-off changes.
    pub fn rules_only(nation: Nation) -> Self {
        Calendar {
            nation,
            extra_closed: BTreeMap::new(),
            extra_open: BTreeSet::new(),
            cache: new_cache(),
        }
    }

    /// Which nation's rules this calendar follows.
    pub fn nation(&self) -> Nation {
        self.nation
    }

    /// The year's bank holidays, sorted by date. Empty for years chrono
    /// cannot represent.
    pub fn holidays(&self, year: i32) -> Vec<Holiday> {
        self.with_year(year, <[Holiday]>::to_vec)
    }

    /// The name of the bank holiday on `date`, if it is one.
    pub fn holiday_on(&self, date: NaiveDate) -> Option<String> {
        self.with_year(date.year(), |days| find(days, date).map(|h| h.name.clone()))
    }

    /// Whether `date` is a bank holiday. Does not allocate once the year is
    /// cached.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.with_year(date.year(), |days| find(days, date).is_some())
    }

    fn with_year<R>(&self, year: i32, f: impl FnOnce(&[Holiday]) -> R) -> R {
        let slot = usize::try_from(i64::from(year) - i64::from(CACHE_FIRST_YEAR))
            .ok()
            .and_then(|i| self.cache.get(i));
        match slot {
            Some(slot) => f(slot.get_or_init(|| self.compute(year))),
            None => f(&self.compute(year)),
        }
    }

    fn compute(&self, year: i32) -> Vec<Holiday> {
        let mut days: Vec<Holiday> = rule_holidays(self.nation, year)
            .into_iter()
            .filter(|h| !self.extra_open.contains(&h.date))
            .collect();
        for (date, name) in &self.extra_closed {
            if date.year() == year {
                days.push(Holiday {
                    date: *date,
                    name: name.clone(),
                });
            }
        }
        days.sort();
        days
    }
}

fn new_cache() -> Box<[OnceLock<Vec<Holiday>>]> {
    (0..CACHE_YEARS).map(|_| OnceLock::new()).collect()
}

fn find(days: &[Holiday], date: NaiveDate) -> Option<&Holiday> {
    days.binary_search_by(|h| h.date.cmp(&date))
        .ok()
        .and_then(|i| days.get(i))
}

const NEW_YEARS_DAY: &str = "New Year’s Day";
const SECOND_JANUARY: &str = "2nd January";
const ST_PATRICKS_DAY: &str = "St Patrick’s Day";
const GOOD_FRIDAY: &str = "Good Friday";
const EASTER_MONDAY: &str = "Easter Monday";
const EARLY_MAY: &str = "Early May bank holiday";
const SPRING: &str = "Spring bank holiday";
const BATTLE_OF_THE_BOYNE: &str = "Battle of the Boyne (Orangemen’s Day)";
const SUMMER: &str = "Summer bank holiday";
const ST_ANDREWS_DAY: &str = "St Andrew’s Day";
const CHRISTMAS_DAY: &str = "Christmas Day";
const BOXING_DAY: &str = "Boxing Day";

/// The holidays the rules alone give `nation` in `year`, sorted by date.
/// Empty when chrono cannot represent the year.
pub fn rule_holidays(nation: Nation, year: i32) -> Vec<Holiday> {
    rule_holidays_opt(nation, year).unwrap_or_default()
}

fn rule_holidays_opt(nation: Nation, year: i32) -> Option<Vec<Holiday>> {
    let easter = easter_sunday(year)?;
    let mut taken: BTreeMap<NaiveDate, &'static str> = BTreeMap::new();

    // Holidays defined by weekday never fall on a weekend and never collide.
    taken.insert(easter.checked_sub_days(Days::new(2))?, GOOD_FRIDAY);
    if nation != Nation::Scotland {
        taken.insert(easter.checked_add_days(Days::new(1))?, EASTER_MONDAY);
    }
    taken.insert(first_monday(year, 5)?, EARLY_MAY);
    taken.insert(last_monday(year, 5)?, SPRING);
    let summer = match nation {
        Nation::Scotland => first_monday(year, 8)?,
        _ => last_monday(year, 8)?,
    };
    taken.insert(summer, SUMMER);

    let fixed: &[(u32, u32, &'static str)] = match nation {
        Nation::EnglandAndWales => &[
            (1, 1, NEW_YEARS_DAY),
            (12, 25, CHRISTMAS_DAY),
            (12, 26, BOXING_DAY),
        ],
        Nation::Scotland => &[
            (1, 1, NEW_YEARS_DAY),
            (1, 2, SECOND_JANUARY),
            (11, 30, ST_ANDREWS_DAY),
            (12, 25, CHRISTMAS_DAY),
            (12, 26, BOXING_DAY),
        ],
        Nation::NorthernIreland => &[
            (1, 1, NEW_YEARS_DAY),
            (3, 17, ST_PATRICKS_DAY),
            (7, 12, BATTLE_OF_THE_BOYNE),
            (12, 25, CHRISTMAS_DAY),
            (12, 26, BOXING_DAY),
        ],
    };

    // Weekday fixed holidays keep their date; the rest wait for a substitute.
    let mut needs_substitute = Vec::new();
    for &(month, day, name) in fixed {
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        if is_weekend(date) || taken.contains_key(&date) {
            needs_substitute.push((date, name));
        } else {
            taken.insert(date, name);
        }
    }
    // In date order: the next weekday not already a holiday.
    for (date, name) in needs_substitute {
        let mut substitute = date.succ_opt()?;
        while is_weekend(substitute) || taken.contains_key(&substitute) {
            substitute = substitute.succ_opt()?;
        }
        taken.insert(substitute, name);
    }

    Some(
        taken
            .into_iter()
            .map(|(date, name)| Holiday {
                date,
                name: name.to_string(),
            })
            .collect(),
    )
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn first_monday(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 1)
}

fn last_monday(year: i32, month: u32) -> Option<NaiveDate> {
    let next_month_first = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let mut day = next_month_first.pred_opt()?;
    while day.weekday() != Weekday::Mon {
        day = day.pred_opt()?;
    }
    Some(day)
}

/// Easter Sunday in the Gregorian calendar (anonymous Gregorian algorithm,
/// Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn dates(nation: Nation, year: i32) -> Vec<(NaiveDate, String)> {
        rule_holidays(nation, year)
            .into_iter()
            .map(|h| (h.date, h.name))
            .collect()
    }

    #[test]
    fn easter_matches_known_dates() {
        let known = [
            (1961, 4, 2),
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2038, 4, 25),
            (2285, 3, 22),
        ];
        for (y, m, d) in known {
            assert_eq!(easter_sunday(y), Some(date(y, m, d)), "Easter {y}");
        }
    }

    #[test]
    fn easter_is_always_a_sunday_between_22_march_and_25_april() {
        for year in 1583..=3000 {
            let e = easter_sunday(year).expect("representable");
            assert_eq!(e.weekday(), Weekday::Sun, "{year}");
            assert!(
                e >= date(year, 3, 22) && e <= date(year, 4, 25),
                "{year}: {e}"
            );
        }
    }

    #[test]
    fn christmas_on_saturday_moves_to_27th_and_28th() {
        let h = dates(Nation::EnglandAndWales, 2021);
        assert!(h.contains(&(date(2021, 12, 27), CHRISTMAS_DAY.to_string())));
        assert!(h.contains(&(date(2021, 12, 28), BOXING_DAY.to_string())));
        assert!(!h.iter().any(|(d, _)| *d == date(2021, 12, 25)));
    }

    #[test]
    fn christmas_on_sunday_moves_to_27th_and_boxing_day_stays() {
        let h = dates(Nation::EnglandAndWales, 2022);
        assert!(h.contains(&(date(2022, 12, 26), BOXING_DAY.to_string())));
        assert!(h.contains(&(date(2022, 12, 27), CHRISTMAS_DAY.to_string())));
    }

    #[test]
    fn scotland_new_year_on_sunday_uses_tuesday_because_2nd_january_is_monday() {
        let h = dates(Nation::Scotland, 2017);
        assert_eq!(h[0], (date(2017, 1, 2), SECOND_JANUARY.to_string()));
        assert_eq!(h[1], (date(2017, 1, 3), NEW_YEARS_DAY.to_string()));
    }

    #[test]
    fn every_year_has_the_right_number_of_weekday_holidays() {
        for year in 1978..=2200 {
            for (nation, count) in [
                (Nation::EnglandAndWales, 8),
                (Nation::Scotland, 9),
                (Nation::NorthernIreland, 10),
            ] {
                let h = rule_holidays(nation, year);
                assert_eq!(h.len(), count, "{nation} {year}: {h:?}");
                assert!(h.iter().all(|d| !is_weekend(d.date)), "{nation} {year}");
                assert!(
                    h.windows(2).all(|w| w[0].date < w[1].date),
                    "{nation} {year}"
                );
                assert!(h.iter().all(|d| d.date.year() == year), "{nation} {year}");
            }
        }
    }

    #[test]
    fn unrepresentable_years_give_no_holidays_instead_of_panicking() {
        let cal = Calendar::rules_only(Nation::EnglandAndWales);
        assert!(cal.holidays(i32::MAX).is_empty());
        assert!(cal.holidays(i32::MIN).is_empty());
        assert!(cal.holidays(300_000).is_empty());
    }

    #[test]
    fn uncached_years_follow_the_same_rules() {
        // The Gregorian weekdays repeat every 400 years (Easter does not), so
        // the non-Easter holidays of an uncached year are those of a cached
        // one moved 400 years on.
        let cal = Calendar::rules_only(Nation::Scotland);
        for year in [1900, 2025, 2100] {
            let far_year = year + 400;
            assert!(usize::try_from(far_year - CACHE_FIRST_YEAR).unwrap_or(0) >= CACHE_YEARS);
            let far = cal.holidays(far_year);
            assert_eq!(far, rule_holidays(Nation::Scotland, far_year));
            let not_easter = |h: &&Holiday| h.name != GOOD_FRIDAY;
            let near: Vec<_> = cal
                .holidays(year)
                .iter()
                .filter(not_easter)
                .map(|h| (h.date.with_year(far_year), h.name.clone()))
                .collect();
            let far: Vec<_> = far
                .iter()
                .filter(not_easter)
                .map(|h| (Some(h.date), h.name.clone()))
                .collect();
            assert_eq!(near, far, "{year}");
            let good_friday =
                easter_sunday(far_year).and_then(|e| e.checked_sub_days(Days::new(2)));
            assert_eq!(
                cal.holiday_on(good_friday.expect("representable"))
                    .as_deref(),
                Some(GOOD_FRIDAY)
            );
        }
    }

    #[test]
    fn calendar_file_moves_and_adds_days() {
        let file: CalendarFile = toml::from_str(
            r#"
            [[extra_open]]
            date = 2022-05-30
            name = "Spring bank holiday"
            [[extra_closed]]
            date = 2022-06-02
            name = "Spring bank holiday"
            [[extra_closed]]
            date = "2022-06-03"
            name = "Platinum Jubilee bank holiday"
            "#,
        )
        .expect("valid file");
        let cal = Calendar::new(Nation::EnglandAndWales, file).expect("valid calendar");
        assert_eq!(cal.holiday_on(date(2022, 5, 30)), None);
        assert_eq!(cal.holiday_on(date(2022, 6, 2)).as_deref(), Some(SPRING));
        assert_eq!(
            cal.holiday_on(date(2022, 6, 3)).as_deref(),
            Some("Platinum Jubilee bank holiday")
        );
        assert!(cal.is_holiday(date(2022, 6, 3)));
        assert_eq!(cal.holidays(2022).len(), 9);
    }

    #[test]
    fn same_date_in_both_lists_renames_the_day() {
        let file = CalendarFile {
            extra_open: vec![ExtraOpen {
                date: date(2020, 12, 25),
                name: None,
            }],
            extra_closed: vec![ExtraClosed {
                date: date(2020, 12, 25),
                name: "Christmas Day (renamed)".into(),
            }],
        };
        let cal = Calendar::new(Nation::EnglandAndWales, file).expect("valid");
        assert_eq!(
            cal.holiday_on(date(2020, 12, 25)).as_deref(),
            Some("Christmas Day (renamed)")
        );
        assert_eq!(cal.holidays(2020).len(), 8);
    }

    #[test]
    fn calendar_file_mistakes_are_explained() {
        let open_on_working_day = CalendarFile {
            extra_open: vec![ExtraOpen {
                date: date(2022, 5, 31),
                name: None,
            }],
            ..CalendarFile::default()
        };
        let err = Calendar::new(Nation::EnglandAndWales, open_on_working_day).unwrap_err();
        assert_eq!(
            err.to_string(),
            "extra_open date 2022-05-31 is not a bank holiday under the england-and-wales rules, \
             so there is nothing to cancel: it should be the date the rules give, before the \
             holiday was moved"
        );

        let closed_on_holiday = CalendarFile {
            extra_closed: vec![ExtraClosed {
                date: date(2022, 12, 26),
                name: "Boxing Day".into(),
            }],
            ..CalendarFile::default()
        };
        let err = Calendar::new(Nation::EnglandAndWales, closed_on_holiday).unwrap_err();
        assert!(matches!(
            err,
            HoursError::ExtraClosedAlreadyHoliday { ref rule_name, .. } if rule_name == BOXING_DAY
        ));

        let duplicate = CalendarFile {
            extra_closed: vec![
                ExtraClosed {
                    date: date(2022, 9, 19),
                    name: "State funeral".into(),
                },
                ExtraClosed {
                    date: date(2022, 9, 19),
                    name: "Again".into(),
                },
            ],
            ..CalendarFile::default()
        };
        assert_eq!(
            Calendar::new(Nation::Scotland, duplicate).unwrap_err(),
            HoursError::DuplicateDate {
                date: date(2022, 9, 19),
                list: "extra_closed"
            }
        );

        let unnamed = CalendarFile {
            extra_closed: vec![ExtraClosed {
                date: date(2022, 9, 19),
                name: "  ".into(),
            }],
            ..CalendarFile::default()
        };
        assert_eq!(
            Calendar::new(Nation::Scotland, unnamed).unwrap_err(),
            HoursError::EmptyHolidayName(date(2022, 9, 19))
        );
    }

    #[test]
    fn calendar_file_rejects_unknown_fields_and_bad_dates() {
        let unknown = toml::from_str::<CalendarFile>("extra_closd = []").unwrap_err();
        assert!(
            unknown.to_string().contains("unknown field `extra_closd`"),
            "{unknown}"
        );

        let bad_date = toml::from_str::<CalendarFile>(
            "[[extra_closed]]\ndate = \"2022-13-01\"\nname = \"x\"\n",
        )
        .unwrap_err();
        assert!(
            bad_date
                .to_string()
                .contains("invalid date \"2022-13-01\": write dates as YYYY-MM-DD"),
            "{bad_date}"
        );

        let datetime = toml::from_str::<CalendarFile>(
            "[[extra_closed]]\ndate = 2022-06-03T09:00:00\nname = \"x\"\n",
        )
        .unwrap_err();
        assert!(datetime.to_string().contains("invalid date"), "{datetime}");
    }

    #[test]
    fn nation_parses_slugs_only() {
        for n in Nation::ALL {
            assert_eq!(n.slug().parse::<Nation>(), Ok(n));
        }
        assert_eq!(
            "wales".parse::<Nation>().unwrap_err().to_string(),
            "unknown calendar \"wales\": use \"england-and-wales\", \"scotland\" or \"northern-ireland\""
        );
    }
}
