//! Monitoring hours and UK bank holidays, end to end with fixed clocks: the
//! shipped calendar files, the three shipped org windows, clock changes,
//! substitute days, overrides, wording, reports, and agreement with gov.uk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;
use signpost::hours::report::{at_json, at_text, year_json, year_text};
use signpost::hours::{
    format_next_open, Calendar, CalendarFile, Holiday, HoursConfig, Nation, Override, Schedule,
};

// ---------------------------------------------------------------- helpers

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid test instant")
}

/// A Europe/London wall-clock time that exists exactly once.
fn london(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Tz::Europe__London
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("unambiguous London time")
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn calendar_path(nation: Nation) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/calendars")
        .join(format!("{}.toml", nation.slug()))
}

/// The shipped calendar, from `config/calendars/<nation>.toml`.
fn shipped_calendar(nation: Nation) -> Calendar {
    let path = calendar_path(nation);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let file: CalendarFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    Calendar::new(nation, file).unwrap_or_else(|e| panic!("checking {}: {e}", path.display()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgFile {
    hours: HoursConfig,
}

fn hours_config(org_toml: &str) -> HoursConfig {
    toml::from_str::<OrgFile>(org_toml)
        .unwrap_or_else(|e| panic!("invalid hours config: {e}"))
        .hours
}

fn schedule(org_toml: &str) -> Schedule {
    let config = hours_config(org_toml);
    Schedule::new(&config, shipped_calendar(config.calendar)).expect("calendar matches")
}

/// London Ambulance Service: Monday to Friday 9am–5:30pm, closed on England
/// and Wales bank holidays.
const LAS: &str = r#"
[hours]
timezone = "Europe/London"
calendar = "england-and-wales"
closed_on_bank_holidays = true
[hours.weekly]
mon = ["09:00-17:30"]
tue = ["09:00-17:30"]
wed = ["09:00-17:30"]
thu = ["09:00-17:30"]
fri = ["09:00-17:30"]
"#;

/// Imperial College Healthcare: Monday to Friday 09.00–17.00, excluding
/// public holidays.
const IMPERIAL: &str = r#"
[hours]
timezone = "Europe/London"
calendar = "england-and-wales"
closed_on_bank_holidays = true
[hours.weekly]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
"#;

/// Norfolk and Suffolk NHS Foundation Trust: 9am to 5pm, Monday to Friday,
/// closed on bank holidays (`closed_on_bank_holidays` left to its default).
const NSFT: &str = r#"
[hours]
timezone = "Europe/London"
calendar = "england-and-wales"
[hours.weekly]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
"#;

/// A weekday 9–5 window on another nation's calendar.
fn nine_to_five(calendar: &str) -> Schedule {
    schedule(&format!(
        r#"
        [hours]
        timezone = "Europe/London"
        calendar = "{calendar}"
        [hours.weekly]
        mon = ["09:00-17:00"]
        tue = ["09:00-17:00"]
        wed = ["09:00-17:00"]
        thu = ["09:00-17:00"]
        fri = ["09:00-17:00"]
        "#
    ))
}

/// Sunday-only window, for clock-change days (which are Sundays in London).
fn sunday_window(interval: &str) -> Schedule {
    schedule(&format!(
        r#"
        [hours]
        timezone = "Europe/London"
        calendar = "england-and-wales"
        [hours.weekly]
        sun = ["{interval}"]
        "#
    ))
}

fn always_open() -> Schedule {
    let day = r#"["00:00-24:00"]"#;
    schedule(&format!(
        "[hours]\ntimezone = \"Europe/London\"\ncalendar = \"england-and-wales\"\n\
         closed_on_bank_holidays = false\n[hours.weekly]\n\
         mon = {day}\ntue = {day}\nwed = {day}\nthu = {day}\nfri = {day}\nsat = {day}\nsun = {day}\n"
    ))
}

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

// ------------------------------------------------------ gov.uk reference

/// Name differences from gov.uk that are the reference's, not ours.
///
/// Scotland, 2023: New Year's Day was a Sunday and 2 January a Monday. In
/// 2012 and 2017 (the same pattern) gov.uk keeps "2nd January" on Monday 2
/// and gives New Year's Day's substitute the Tuesday, as it does for
/// Christmas on a Sunday (Boxing Day keeps Monday 26). For 2023 alone it
/// swaps the names. The dates agree.
const KNOWN_NAME_DIFFERENCES: &[(&str, &str, &str, &str)] = &[
    ("scotland", "2023-01-02", "New Year’s Day", "2nd January"),
    ("scotland", "2023-01-03", "2nd January", "New Year’s Day"),
];

#[derive(Deserialize)]
struct GovukDivision {
    division: String,
    events: Vec<GovukEvent>,
}

#[derive(Deserialize)]
struct GovukEvent {
    title: String,
    date: NaiveDate,
}

#[test]
fn computed_calendars_agree_with_govuk_for_every_year_and_nation() {
    let Some(raw_path) = std::env::var_os("GOVUK_BANK_HOLIDAYS") else {
        println!("skipped: GOVUK_BANK_HOLIDAYS is not set");
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(raw_path);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let reference: BTreeMap<String, GovukDivision> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));

    let mut compared_nations = 0;
    let mut compared_days = 0;
    let mut missing = Vec::new(); // in gov.uk, not computed
    let mut extra = Vec::new(); // computed, not in gov.uk
    let mut names = Vec::new();
    for (key, division) in &reference {
        assert_eq!(key, &division.division);
        let nation: Nation = key.parse().unwrap_or_else(|e| panic!("{e}"));
        let calendar = shipped_calendar(nation);
        let expected: BTreeMap<NaiveDate, &str> = division
            .events
            .iter()
            .map(|e| (e.date, e.title.as_str()))
            .collect();
        assert_eq!(
            expected.len(),
            division.events.len(),
            "{key}: repeated dates"
        );
        let first = expected.keys().next().map(|d| d.format("%Y").to_string());
        let last = expected.keys().last().map(|d| d.format("%Y").to_string());
        let (Some(first), Some(last)) = (first, last) else {
            panic!("{key}: no events");
        };
        let years: Vec<i32> = (first.parse().unwrap_or(0)..=last.parse().unwrap_or(0)).collect();
        let computed: BTreeMap<NaiveDate, String> = years
            .iter()
            .flat_map(|&y| calendar.holidays(y))
            .map(|Holiday { date, name }| (date, name))
            .collect();

        for (date, title) in &expected {
            match computed.get(date) {
                None => missing.push(format!("{key} {date} {title}")),
                Some(name) if name != title => names.push((
                    key.clone(),
                    date.to_string(),
                    title.to_string(),
                    name.clone(),
                )),
                Some(_) => {}
            }
        }
        for (date, name) in &computed {
            if !expected.contains_key(date) {
                extra.push(format!("{key} {date} {name}"));
            }
        }
        println!(
            "{key}: {} to {}, {} gov.uk days, {} computed days",
            years[0],
            years[years.len() - 1],
            expected.len(),
            computed.len()
        );
        compared_nations += 1;
        compared_days += expected.len();
    }
    println!(
        "gov.uk comparison: {compared_nations} nations, {compared_days} days; \
         {} missing from ours, {} extra in ours, {} name differences",
        missing.len(),
        extra.len(),
        names.len()
    );
    for (nation, day, theirs, ours) in &names {
        println!("  name differs: {nation} {day}: gov.uk \"{theirs}\", ours \"{ours}\"");
    }
    assert_eq!(
        compared_nations, 3,
        "expected all three nations in the reference"
    );
    assert!(
        missing.is_empty(),
        "gov.uk days we do not compute: {missing:#?}"
    );
    assert!(
        extra.is_empty(),
        "days we compute that gov.uk lacks: {extra:#?}"
    );
    let known: Vec<(String, String, String, String)> = KNOWN_NAME_DIFFERENCES
        .iter()
        .map(|&(n, d, t, o)| (n.into(), d.into(), t.into(), o.into()))
        .collect();
    assert_eq!(names, known, "name differences other than the known ones");
}

// ---------------------------------------------------- shipped calendars

#[test]
fn shipped_calendar_files_load_and_carry_the_historic_one_offs() {
    for nation in Nation::ALL {
        let cal = shipped_calendar(nation);
        assert_eq!(cal.nation(), nation);
        let on = |y, m, d| cal.holiday_on(date(y, m, d));
        // 1995 VE day: early May moved from 1 to 8 May.
        assert_eq!(on(1995, 5, 1), None, "{nation}");
        assert_eq!(
            on(1995, 5, 8).as_deref(),
            Some("Early May bank holiday (VE day)")
        );
        // 1999 millennium.
        assert_eq!(on(1999, 12, 31).as_deref(), Some("Millennium celebrations"));
        // 2002 Golden Jubilee: spring bank holiday moved to Tue 4 June, extra Mon 3 June.
        assert_eq!(on(2002, 5, 27), None, "{nation}");
        assert_eq!(on(2002, 6, 3).as_deref(), Some("Queen’s Golden Jubilee"));
        assert_eq!(on(2002, 6, 4).as_deref(), Some("Spring bank holiday"));
        // 2011 royal wedding.
        assert_eq!(on(2011, 4, 29).as_deref(), Some("Royal wedding"));
        // 2012 Diamond Jubilee.
        assert_eq!(on(2012, 5, 28), None, "{nation}");
        assert_eq!(on(2012, 6, 4).as_deref(), Some("Spring bank holiday"));
        assert_eq!(on(2012, 6, 5).as_deref(), Some("Queen’s Diamond Jubilee"));
        // 2020 VE day.
        assert_eq!(on(2020, 5, 4), None, "{nation}");
        assert_eq!(
            on(2020, 5, 8).as_deref(),
            Some("Early May bank holiday (VE day)")
        );
        // 2022 Platinum Jubilee and state funeral.
        assert_eq!(on(2022, 5, 30), None, "{nation}");
        assert_eq!(on(2022, 6, 2).as_deref(), Some("Spring bank holiday"));
        assert_eq!(
            on(2022, 6, 3).as_deref(),
            Some("Platinum Jubilee bank holiday")
        );
        assert_eq!(
            on(2022, 9, 19).as_deref(),
            Some("Bank Holiday for the State Funeral of Queen Elizabeth II")
        );
        // 2023 coronation, on top of the usual early May holiday.
        assert_eq!(on(2023, 5, 1).as_deref(), Some("Early May bank holiday"));
        assert_eq!(
            on(2023, 5, 8).as_deref(),
            Some("Bank holiday for the coronation of King Charles III")
        );
    }
}

#[test]
fn millennium_new_year_substitutes_follow_the_rules() {
    // 1 January 2000 was a Saturday, 2 January a Sunday.
    let ew = shipped_calendar(Nation::EnglandAndWales);
    assert_eq!(
        ew.holiday_on(date(2000, 1, 3)).as_deref(),
        Some("New Year’s Day")
    );
    assert_eq!(ew.holiday_on(date(2000, 1, 4)), None);
    let scot = shipped_calendar(Nation::Scotland);
    assert_eq!(
        scot.holiday_on(date(2000, 1, 3)).as_deref(),
        Some("New Year’s Day")
    );
    assert_eq!(
        scot.holiday_on(date(2000, 1, 4)).as_deref(),
        Some("2nd January")
    );
}

#[test]
fn holidays_are_sorted_and_complete_for_a_whole_year() {
    let ew = shipped_calendar(Nation::EnglandAndWales);
    let got: Vec<(NaiveDate, String)> = ew
        .holidays(2022)
        .into_iter()
        .map(|h| (h.date, h.name))
        .collect();
    let want = [
        (date(2022, 1, 3), "New Year’s Day"),
        (date(2022, 4, 15), "Good Friday"),
        (date(2022, 4, 18), "Easter Monday"),
        (date(2022, 5, 2), "Early May bank holiday"),
        (date(2022, 6, 2), "Spring bank holiday"),
        (date(2022, 6, 3), "Platinum Jubilee bank holiday"),
        (date(2022, 8, 29), "Summer bank holiday"),
        (
            date(2022, 9, 19),
            "Bank Holiday for the State Funeral of Queen Elizabeth II",
        ),
        (date(2022, 12, 26), "Boxing Day"),
        (date(2022, 12, 27), "Christmas Day"),
    ];
    let want: Vec<(NaiveDate, String)> = want.iter().map(|(d, n)| (*d, n.to_string())).collect();
    assert_eq!(got, want);
}

// -------------------------------------------------------- substitute days

#[test]
fn christmas_and_new_year_substitutes() {
    let ew = shipped_calendar(Nation::EnglandAndWales);
    let on = |y, m, d| ew.holiday_on(date(y, m, d));
    // 2021: Christmas Saturday, Boxing Day Sunday → Monday 27, Tuesday 28.
    assert_eq!(on(2021, 12, 25), None);
    assert_eq!(on(2021, 12, 26), None);
    assert_eq!(on(2021, 12, 27).as_deref(), Some("Christmas Day"));
    assert_eq!(on(2021, 12, 28).as_deref(), Some("Boxing Day"));
    // 2022: New Year's Day Saturday → Monday 3 January.
    assert_eq!(on(2022, 1, 3).as_deref(), Some("New Year’s Day"));
    // 2022: Christmas Sunday → Boxing Day keeps Monday 26, Christmas Tuesday 27.
    assert_eq!(on(2022, 12, 26).as_deref(), Some("Boxing Day"));
    assert_eq!(on(2022, 12, 27).as_deref(), Some("Christmas Day"));
    // 2026: Boxing Day Saturday → Monday 28.
    assert_eq!(on(2026, 12, 25).as_deref(), Some("Christmas Day"));
    assert_eq!(on(2026, 12, 28).as_deref(), Some("Boxing Day"));
    // 2027 and 2032: Christmas Saturday again.
    for y in [2027, 2032] {
        assert_eq!(on(y, 12, 27).as_deref(), Some("Christmas Day"), "{y}");
        assert_eq!(on(y, 12, 28).as_deref(), Some("Boxing Day"), "{y}");
    }
    // 2033: New Year's Day Saturday; Christmas Sunday.
    assert_eq!(on(2033, 1, 3).as_deref(), Some("New Year’s Day"));
    assert_eq!(on(2033, 12, 26).as_deref(), Some("Boxing Day"));
    assert_eq!(on(2033, 12, 27).as_deref(), Some("Christmas Day"));
}

#[test]
fn scotland_new_year_2nd_january_and_st_andrews_substitutes() {
    let scot = shipped_calendar(Nation::Scotland);
    let on = |y, m, d| scot.holiday_on(date(y, m, d));
    // 2022 and 2033: 1 and 2 January on the weekend → Monday 3, Tuesday 4.
    for y in [2022, 2033] {
        assert_eq!(on(y, 1, 3).as_deref(), Some("New Year’s Day"), "{y}");
        assert_eq!(on(y, 1, 4).as_deref(), Some("2nd January"), "{y}");
    }
    // 2021: 2 January Saturday → Monday 4.
    assert_eq!(on(2021, 1, 1).as_deref(), Some("New Year’s Day"));
    assert_eq!(on(2021, 1, 4).as_deref(), Some("2nd January"));
    // St Andrew's Day: Saturday 2024 → Monday 2 December; Sunday 2025 →
    // Monday 1 December; Saturday 2030 → Monday 2 December; weekday 2027 stays.
    assert_eq!(on(2024, 11, 30), None);
    assert_eq!(on(2024, 12, 2).as_deref(), Some("St Andrew’s Day"));
    assert_eq!(on(2025, 12, 1).as_deref(), Some("St Andrew’s Day"));
    assert_eq!(on(2030, 12, 2).as_deref(), Some("St Andrew’s Day"));
    assert_eq!(on(2027, 11, 30).as_deref(), Some("St Andrew’s Day"));
    // Scotland: no Easter Monday; summer bank holiday on the first Monday of August.
    assert_eq!(on(2025, 4, 21), None);
    assert_eq!(on(2025, 4, 18).as_deref(), Some("Good Friday"));
    assert_eq!(on(2025, 8, 4).as_deref(), Some("Summer bank holiday"));
    assert_eq!(on(2025, 8, 25), None);
}

#[test]
fn northern_ireland_st_patricks_and_boyne_substitutes() {
    let ni = shipped_calendar(Nation::NorthernIreland);
    let on = |y, m, d| ni.holiday_on(date(y, m, d));
    // St Patrick's Day: Sunday 2024 → Monday 18; Saturday 2029 → Monday 19;
    // Sunday 2030 → Monday 18; weekday 2026 stays.
    assert_eq!(on(2024, 3, 18).as_deref(), Some("St Patrick’s Day"));
    assert_eq!(on(2029, 3, 19).as_deref(), Some("St Patrick’s Day"));
    assert_eq!(on(2030, 3, 18).as_deref(), Some("St Patrick’s Day"));
    assert_eq!(on(2026, 3, 17).as_deref(), Some("St Patrick’s Day"));
    // Battle of the Boyne: Saturday 2025 → Monday 14; Sunday 2026 → Monday 13.
    let boyne = "Battle of the Boyne (Orangemen’s Day)";
    assert_eq!(on(2025, 7, 12), None);
    assert_eq!(on(2025, 7, 14).as_deref(), Some(boyne));
    assert_eq!(on(2026, 7, 13).as_deref(), Some(boyne));
    assert_eq!(on(2028, 7, 12).as_deref(), Some(boyne));
    // NI keeps Easter Monday and the last Monday of August.
    assert_eq!(on(2030, 4, 19).as_deref(), Some("Good Friday"));
    assert_eq!(on(2030, 4, 22).as_deref(), Some("Easter Monday"));
    assert_eq!(on(2030, 8, 26).as_deref(), Some("Summer bank holiday"));
}

// ------------------------------------------------------ shipped windows

#[test]
fn window_text_for_the_shipped_windows_and_a_split_window() {
    assert_eq!(
        schedule(LAS).window_text(),
        "Monday to Friday, 9am to 5:30pm, except bank holidays"
    );
    assert_eq!(
        schedule(IMPERIAL).window_text(),
        "Monday to Friday, 9am to 5pm, except bank holidays"
    );
    assert_eq!(
        schedule(NSFT).window_text(),
        "Monday to Friday, 9am to 5pm, except bank holidays"
    );
    let split = schedule(
        r#"
        [hours]
        timezone = "Europe/London"
        calendar = "england-and-wales"
        closed_on_bank_holidays = false
        [hours.weekly]
        mon = ["08:00-12:00", "13:00-17:00"]
        tue = ["08:00-12:00", "13:00-17:00"]
        wed = ["08:00-12:00", "13:00-17:00"]
        sat = ["09:30-12:30"]
        sun = ["09:30-12:30"]
        "#,
    );
    assert_eq!(
        split.window_text(),
        "Monday to Wednesday, 8am to 12pm and 1pm to 5pm; Saturday and Sunday, 9:30am to 12:30pm"
    );
}

#[test]
fn las_weekday_boundaries_are_half_open() {
    let las = schedule(LAS);
    // Tuesday 3 June 2025 (BST): 09:00 local is 08:00 UTC.
    assert!(!las.is_open(london(2025, 6, 3, 8, 59)));
    assert!(las.is_open(london(2025, 6, 3, 9, 0)));
    assert!(las.is_open(london(2025, 6, 3, 17, 29)));
    assert!(!las.is_open(london(2025, 6, 3, 17, 30)));
    assert!(las.is_open(utc(2025, 6, 3, 8, 0)));
    assert!(!las.is_open(utc(2025, 6, 3, 16, 30)));
    // Saturday and Sunday closed.
    assert!(!las.is_open(london(2025, 6, 7, 12, 0)));
    assert!(!las.is_open(london(2025, 6, 8, 12, 0)));
    // next_open / next_close are "at or after".
    let nine = london(2025, 6, 3, 9, 0);
    assert_eq!(las.next_open(nine), Some(nine));
    assert_eq!(las.next_close(nine), Some(london(2025, 6, 3, 17, 30)));
    let evening = london(2025, 6, 3, 20, 0);
    assert_eq!(las.next_close(evening), Some(evening));
    assert_eq!(las.next_open(evening), Some(london(2025, 6, 4, 9, 0)));
    // Friday evening → Monday morning.
    assert_eq!(
        las.next_open(london(2025, 6, 6, 17, 30)),
        Some(london(2025, 6, 9, 9, 0))
    );
    // A working week: 5 × 8.5 hours.
    assert_eq!(
        las.working_duration(london(2025, 6, 2, 0, 0), london(2025, 6, 9, 0, 0)),
        hours(42) + minutes(30)
    );
    assert_eq!(
        las.working_duration(london(2025, 6, 3, 12, 0), london(2025, 6, 3, 12, 0)),
        Duration::zero()
    );
    assert_eq!(
        las.working_duration(london(2025, 6, 4, 12, 0), london(2025, 6, 3, 12, 0)),
        Duration::zero()
    );
    assert_eq!(
        las.working_duration(london(2025, 6, 3, 12, 0), london(2025, 6, 4, 10, 15)),
        hours(6) + minutes(45)
    );
}

// ------------------------------------------------------ bank holidays

#[test]
fn next_open_over_a_long_easter_weekend() {
    let las = schedule(LAS);
    // Thursday 17 April 2025, 17:30: Good Friday, the weekend and Easter
    // Monday are all closed.
    let thursday_close = london(2025, 4, 17, 17, 30);
    assert!(!las.is_open(london(2025, 4, 18, 10, 0)));
    assert!(!las.is_open(london(2025, 4, 21, 10, 0)));
    let reopen = london(2025, 4, 22, 9, 0);
    assert_eq!(reopen, utc(2025, 4, 22, 8, 0));
    assert_eq!(las.next_open(thursday_close), Some(reopen));
    assert_eq!(
        las.format_next_open(reopen, thursday_close),
        "9am on Tuesday 22 April"
    );
    assert_eq!(
        las.working_duration(thursday_close, reopen),
        Duration::zero()
    );
    // A Scottish 9–5 is open on Easter Monday.
    let scot = nine_to_five("scotland");
    assert!(!scot.is_open(london(2025, 4, 18, 10, 0)));
    assert_eq!(
        scot.next_open(london(2025, 4, 17, 17, 0)),
        Some(london(2025, 4, 21, 9, 0))
    );
}

#[test]
fn next_open_over_christmas_and_new_year() {
    let las = schedule(LAS);
    // 2026: Christmas Friday, Boxing Day Saturday (substitute Monday 28).
    let christmas_eve = london(2026, 12, 24, 18, 0);
    let reopen = las.next_open(christmas_eve).expect("opens");
    assert_eq!(reopen, utc(2026, 12, 29, 9, 0));
    assert_eq!(
        format_next_open(reopen, Tz::Europe__London, christmas_eve),
        "9am on Tuesday 29 December"
    );
    // 2027: Christmas Saturday → 27 and 28 closed; New Year's Day 2028 is a
    // Saturday → Monday 3 January closed too.
    assert_eq!(
        las.next_open(london(2027, 12, 24, 17, 30)),
        Some(utc(2027, 12, 29, 9, 0))
    );
    let new_years_eve = london(2027, 12, 31, 17, 30);
    let reopen = las.next_open(new_years_eve).expect("opens");
    assert_eq!(reopen, utc(2028, 1, 4, 9, 0));
    assert_eq!(
        las.format_next_open(reopen, new_years_eve),
        "9am on Tuesday 4 January 2028"
    );
    // Scotland loses 2 January as well: 2022 reopens Wednesday 5 January.
    let scot = nine_to_five("scotland");
    assert_eq!(
        scot.next_open(london(2021, 12, 31, 17, 0)),
        Some(utc(2022, 1, 5, 9, 0))
    );
    // Working time over Christmas week 2021 (27, 28 Dec off): Wed–Fri only.
    assert_eq!(
        las.working_duration(utc(2021, 12, 27, 0, 0), utc(2022, 1, 3, 0, 0)),
        hours(3 * 8) + minutes(3 * 30)
    );
}

#[test]
fn one_off_holidays_close_the_shipped_windows() {
    let imperial = schedule(IMPERIAL);
    for (y, m, d) in [
        (2022, 6, 2),
        (2022, 6, 3),
        (2022, 9, 19),
        (2023, 5, 8),
        (2020, 5, 8),
    ] {
        assert!(!imperial.is_open(london(y, m, d, 12, 0)), "{y}-{m}-{d}");
    }
    // The moved-away dates are ordinary working days.
    for (y, m, d) in [(2022, 5, 30), (2020, 5, 4), (2012, 5, 28)] {
        assert!(imperial.is_open(london(y, m, d, 12, 0)), "{y}-{m}-{d}");
    }
    // Platinum Jubilee: from Wednesday 1 June 2022 evening to Monday 6 June.
    assert_eq!(
        imperial.next_open(london(2022, 6, 1, 17, 0)),
        Some(london(2022, 6, 6, 9, 0))
    );
}

#[test]
fn a_window_that_ignores_bank_holidays_stays_open_on_them() {
    let s = schedule(
        r#"
        [hours]
        timezone = "Europe/London"
        calendar = "england-and-wales"
        closed_on_bank_holidays = false
        [hours.weekly]
        fri = ["09:00-17:00"]
        "#,
    );
    assert!(s.is_open(london(2025, 4, 18, 10, 0)), "Good Friday");
    assert_eq!(s.window_text(), "Friday, 9am to 5pm");
    assert!(s.closed_weekdays(2025).is_empty());
}

// ---------------------------------------------------------- clock changes

#[test]
fn spring_forward_window_across_the_missing_hour() {
    // Sunday 30 March 2025: 01:00 GMT jumps to 02:00 BST (01:00 UTC).
    let s = sunday_window("00:30-03:00");
    assert!(!s.is_open(utc(2025, 3, 30, 0, 29)));
    assert!(s.is_open(utc(2025, 3, 30, 0, 30)));
    assert!(s.is_open(utc(2025, 3, 30, 0, 59)));
    assert!(s.is_open(utc(2025, 3, 30, 1, 0)), "02:00 BST");
    assert!(s.is_open(utc(2025, 3, 30, 1, 59)), "02:59 BST");
    assert!(!s.is_open(utc(2025, 3, 30, 2, 0)), "03:00 BST");
    assert_eq!(
        s.next_close(utc(2025, 3, 30, 0, 45)),
        Some(utc(2025, 3, 30, 2, 0))
    );
    // 2.5 hours on the clock face, 1.5 hours of real time.
    assert_eq!(
        s.working_duration(utc(2025, 3, 29, 0, 0), utc(2025, 3, 31, 0, 0)),
        hours(1) + minutes(30)
    );
    // A week later the same window is 2.5 hours long.
    assert_eq!(
        s.working_duration(utc(2025, 4, 5, 0, 0), utc(2025, 4, 7, 0, 0)),
        hours(2) + minutes(30)
    );
}

#[test]
fn spring_forward_times_that_do_not_exist_resolve_to_the_jump() {
    // 01:30 does not exist: the window starts when the clocks jump (01:00 UTC).
    let s = sunday_window("01:30-03:00");
    assert_eq!(
        s.next_open(utc(2025, 3, 29, 12, 0)),
        Some(utc(2025, 3, 30, 1, 0))
    );
    assert_eq!(
        s.working_duration(utc(2025, 3, 30, 0, 0), utc(2025, 3, 31, 0, 0)),
        hours(1)
    );
    // A window lying wholly in the missing hour is empty that day: next_open
    // skips to the following Sunday (01:00 BST = 00:00 UTC).
    let gap = sunday_window("01:00-02:00");
    assert!(!gap.is_open(utc(2025, 3, 30, 1, 0)));
    assert_eq!(
        gap.working_duration(utc(2025, 3, 30, 0, 0), utc(2025, 3, 31, 0, 0)),
        Duration::zero()
    );
    assert_eq!(
        gap.next_open(utc(2025, 3, 29, 12, 0)),
        Some(utc(2025, 4, 6, 0, 0))
    );
}

#[test]
fn fall_back_window_across_the_repeated_hour() {
    // Sunday 26 October 2025: 02:00 BST falls back to 01:00 GMT, so 01:00–01:59
    // happens twice (00:00–00:59 UTC, then 01:00–01:59 UTC).
    let s = sunday_window("01:00-02:00");
    // Starts at the first 01:00 (00:00 UTC), ends at 02:00 GMT (02:00 UTC).
    assert!(!s.is_open(utc(2025, 10, 25, 23, 59)));
    assert!(s.is_open(utc(2025, 10, 26, 0, 0)));
    assert!(s.is_open(utc(2025, 10, 26, 1, 30)), "second 01:30");
    assert!(!s.is_open(utc(2025, 10, 26, 2, 0)));
    assert_eq!(
        s.working_duration(utc(2025, 10, 25, 0, 0), utc(2025, 10, 27, 0, 0)),
        hours(2)
    );
    assert_eq!(
        s.next_open(utc(2025, 10, 25, 12, 0)),
        Some(utc(2025, 10, 26, 0, 0))
    );
    assert_eq!(
        s.next_close(utc(2025, 10, 26, 0, 30)),
        Some(utc(2025, 10, 26, 2, 0))
    );

    // An end inside the repeated hour is its later occurrence: 00:30 BST to
    // 01:30 GMT, two hours.
    let e = sunday_window("00:30-01:30");
    assert_eq!(
        e.open_periods(utc(2025, 10, 25, 0, 0), utc(2025, 10, 27, 0, 0)),
        vec![(utc(2025, 10, 25, 23, 30), utc(2025, 10, 26, 1, 30))]
    );
    // A start inside it is its earlier occurrence: 01:30 BST (00:30 UTC).
    let st = sunday_window("01:30-03:00");
    assert_eq!(
        st.next_open(utc(2025, 10, 25, 12, 0)),
        Some(utc(2025, 10, 26, 0, 30))
    );
    assert_eq!(
        st.working_duration(utc(2025, 10, 26, 0, 0), utc(2025, 10, 27, 0, 0)),
        hours(2) + minutes(30)
    );
}

#[test]
fn weekday_window_over_both_clock_changes() {
    let las = schedule(LAS);
    // Friday 28 March 2025 (GMT) to Monday 31 March (BST).
    assert_eq!(
        las.next_open(london(2025, 3, 28, 17, 30)),
        Some(utc(2025, 3, 31, 8, 0))
    );
    assert_eq!(
        las.working_duration(utc(2025, 3, 28, 0, 0), utc(2025, 3, 31, 23, 0)),
        hours(17)
    );
    // Friday 24 October (BST) to Monday 27 October (GMT).
    assert_eq!(
        las.next_open(london(2025, 10, 24, 17, 30)),
        Some(utc(2025, 10, 27, 9, 0))
    );
    assert_eq!(
        las.next_close(utc(2025, 10, 27, 9, 0)),
        Some(utc(2025, 10, 27, 17, 30))
    );
}

#[test]
fn a_24_hour_day_is_23_or_25_hours_long_on_clock_change_days() {
    let s = always_open();
    // Local midnight to local midnight.
    assert_eq!(
        s.working_duration(london(2025, 3, 30, 0, 0), london(2025, 3, 31, 0, 0)),
        hours(23)
    );
    assert_eq!(
        s.working_duration(london(2025, 10, 26, 0, 0), london(2025, 10, 27, 0, 0)),
        hours(25)
    );
    // Days join up: it never closes, and is open right across midnight and
    // both clock changes.
    for t in [
        utc(2025, 3, 30, 0, 59),
        utc(2025, 3, 30, 1, 0),
        utc(2025, 10, 26, 1, 30),
        london(2025, 12, 25, 0, 0),
    ] {
        assert!(s.is_open(t), "{t}");
    }
    assert_eq!(s.next_close(utc(2025, 1, 1, 0, 0)), None);
    assert_eq!(
        s.next_open(utc(2025, 1, 1, 0, 0)),
        Some(utc(2025, 1, 1, 0, 0))
    );
    assert_eq!(
        s.open_periods(utc(2025, 3, 29, 12, 0), utc(2025, 3, 31, 12, 0)),
        vec![(utc(2025, 3, 29, 12, 0), utc(2025, 3, 31, 12, 0))]
    );
    assert_eq!(s.window_text(), "Every day, all day");
}

// -------------------------------------------------------------- overrides

#[test]
fn open_override_extends_the_day() {
    let las = schedule(LAS);
    // Tuesday 3 June 2025: "extend until 20:00".
    let extend = [Override::open(
        london(2025, 6, 3, 17, 30),
        london(2025, 6, 3, 20, 0),
    )];
    let view = las.with_overrides(&extend);
    assert!(view.is_open(london(2025, 6, 3, 19, 0)));
    assert!(!view.is_open(london(2025, 6, 3, 20, 0)));
    assert!(
        !las.is_open(london(2025, 6, 3, 19, 0)),
        "the schedule itself is unchanged"
    );
    // The extension joins the day's window: one period, closing at 20:00.
    assert_eq!(
        view.next_close(london(2025, 6, 3, 10, 0)),
        Some(london(2025, 6, 3, 20, 0))
    );
    assert_eq!(
        view.working_duration(london(2025, 6, 3, 0, 0), london(2025, 6, 4, 0, 0)),
        hours(11)
    );
}

#[test]
fn closed_override_closes_until_tomorrow_morning() {
    let las = schedule(LAS);
    // Major incident at 11:00 Tuesday: "close now until 09:00 tomorrow".
    let incident = london(2025, 6, 3, 11, 0);
    let until = london(2025, 6, 4, 9, 0);
    let close = [Override::closed(incident, until)];
    let view = las.with_overrides(&close);
    assert!(view.is_open(london(2025, 6, 3, 10, 59)));
    assert!(!view.is_open(incident));
    assert!(!view.is_open(london(2025, 6, 3, 15, 0)));
    assert_eq!(view.next_close(london(2025, 6, 3, 10, 0)), Some(incident));
    assert_eq!(view.next_open(incident), Some(until));
    assert!(view.is_open(until));
    assert_eq!(
        view.working_duration(london(2025, 6, 3, 0, 0), london(2025, 6, 5, 0, 0)),
        hours(2) + hours(8) + minutes(30)
    );
    // Closed past the usual opening: opens when the override ends.
    let longer = [Override::closed(incident, london(2025, 6, 4, 10, 15))];
    assert_eq!(
        las.with_overrides(&longer).next_open(incident),
        Some(london(2025, 6, 4, 10, 15))
    );
}

#[test]
fn open_override_on_a_bank_holiday() {
    let las = schedule(LAS);
    let cover = [Override::open(
        london(2025, 12, 25, 10, 0),
        london(2025, 12, 25, 14, 0),
    )];
    let view = las.with_overrides(&cover);
    assert!(view.is_open(london(2025, 12, 25, 12, 0)));
    assert_eq!(
        view.next_open(london(2025, 12, 24, 18, 0)),
        Some(london(2025, 12, 25, 10, 0))
    );
    assert_eq!(
        view.next_close(london(2025, 12, 25, 10, 0)),
        Some(london(2025, 12, 25, 14, 0))
    );
    assert_eq!(
        view.next_open(london(2025, 12, 25, 14, 0)),
        Some(london(2025, 12, 29, 9, 0))
    );
}

#[test]
fn later_overrides_win_and_empty_ones_do_nothing() {
    let las = schedule(LAS);
    let nine = london(2025, 6, 7, 9, 0); // a Saturday
    let noon = london(2025, 6, 7, 12, 0);
    let one = london(2025, 6, 7, 13, 0);
    let eight = london(2025, 6, 7, 20, 0);
    let open_then_closed = [Override::open(nine, eight), Override::closed(noon, one)];
    let v = las.with_overrides(&open_then_closed);
    assert!(!v.is_open(london(2025, 6, 7, 12, 30)));
    assert!(v.is_open(london(2025, 6, 7, 10, 0)));
    assert_eq!(v.next_open(noon), Some(one));
    assert_eq!(v.working_duration(nine, eight), hours(10));

    let closed_then_open = [Override::closed(noon, one), Override::open(nine, eight)];
    let v = las.with_overrides(&closed_then_open);
    assert!(v.is_open(london(2025, 6, 7, 12, 30)));
    assert_eq!(v.working_duration(nine, eight), hours(11));
    assert_eq!(v.next_close(nine), Some(eight));

    let backwards = [Override::open(eight, nine), Override::closed(one, one)];
    let v = las.with_overrides(&backwards);
    assert!(!v.is_open(london(2025, 6, 7, 12, 30)));
    assert_eq!(v.working_duration(nine, eight), Duration::zero());
}

#[test]
fn overrides_deserialise_from_json() {
    let overrides: Vec<Override> = serde_json::from_value(json!([
        {"start": "2025-06-03T16:30:00Z", "end": "2025-06-03T19:00:00Z", "kind": "open"},
        {"start": "2025-06-04T10:00:00Z", "end": "2025-06-05T08:00:00Z", "kind": "closed"}
    ]))
    .expect("valid overrides");
    assert_eq!(
        overrides,
        vec![
            Override::open(utc(2025, 6, 3, 16, 30), utc(2025, 6, 3, 19, 0)),
            Override::closed(utc(2025, 6, 4, 10, 0), utc(2025, 6, 5, 8, 0)),
        ]
    );
}

// ---------------------------------------------------------------- reports

#[test]
fn at_json_when_closed_and_when_open() {
    let las = schedule(LAS);
    assert_eq!(
        at_json("las", &las, utc(2026, 12, 24, 18, 0)),
        json!({
            "org": "las",
            "at": "2026-12-24T18:00:00Z",
            "open": false,
            "next_open": "2026-12-29T09:00:00Z",
            "next_close": null
        })
    );
    assert_eq!(
        at_json(
            "las",
            &las,
            london(2025, 6, 3, 10, 0) + Duration::milliseconds(500)
        ),
        json!({
            "org": "las",
            "at": "2025-06-03T09:00:00Z",
            "open": true,
            "next_open": null,
            "next_close": "2025-06-03T16:30:00Z"
        })
    );
    // With overrides from the store.
    let close = [Override::closed(
        utc(2025, 6, 3, 9, 0),
        utc(2025, 6, 4, 8, 0),
    )];
    assert_eq!(
        at_json("las", las.with_overrides(&close), utc(2025, 6, 3, 9, 30)),
        json!({
            "org": "las",
            "at": "2025-06-03T09:30:00Z",
            "open": false,
            "next_open": "2025-06-04T08:00:00Z",
            "next_close": null
        })
    );
    // Never opening: both null.
    let never = schedule(
        "[hours]\ntimezone = \"Europe/London\"\ncalendar = \"scotland\"\n[hours.weekly]\n",
    );
    let v = at_json("none", &never, utc(2025, 1, 1, 0, 0));
    assert_eq!(v["open"], json!(false));
    assert_eq!(v["next_open"], json!(null));
    assert_eq!(v["next_close"], json!(null));
}

#[test]
fn at_text_reads_well() {
    let las = schedule(LAS);
    assert_eq!(
        at_text("las", &las, utc(2026, 12, 25, 12, 0)),
        "las is closed at 2026-12-25T12:00:00Z (12pm on Friday 25 December 2026, Europe/London).\n\
         Bank holiday: Christmas Day.\n\
         Opens 9am on Tuesday 29 December (2026-12-29T09:00:00Z).\n\
         Hours: Monday to Friday, 9am to 5:30pm, except bank holidays."
    );
    let extend = [Override::open(
        london(2025, 6, 3, 17, 30),
        london(2025, 6, 3, 20, 0),
    )];
    assert_eq!(
        at_text(
            "las",
            las.with_overrides(&extend),
            london(2025, 6, 3, 18, 0)
        ),
        "las is open at 2025-06-03T17:00:00Z (6pm on Tuesday 3 June 2025, Europe/London).\n\
         Override in force: open until 8pm on Tuesday 3 June (2025-06-03T19:00:00Z).\n\
         Closes 8pm on Tuesday 3 June (2025-06-03T19:00:00Z).\n\
         Hours: Monday to Friday, 9am to 5:30pm, except bank holidays."
    );
    assert!(at_text("all", &always_open(), utc(2025, 1, 1, 0, 0))
        .contains("Stays open for at least the next 400 days."));
}

#[test]
fn year_json_lists_weekday_closures() {
    let las = schedule(LAS);
    let v = year_json("las", &las, 2026);
    assert_eq!(
        v,
        json!({
            "org": "las",
            "year": 2026,
            "closed_days": [
                {"date": "2026-01-01", "name": "New Year’s Day"},
                {"date": "2026-04-03", "name": "Good Friday"},
                {"date": "2026-04-06", "name": "Easter Monday"},
                {"date": "2026-05-04", "name": "Early May bank holiday"},
                {"date": "2026-05-25", "name": "Spring bank holiday"},
                {"date": "2026-08-31", "name": "Summer bank holiday"},
                {"date": "2026-12-25", "name": "Christmas Day"},
                {"date": "2026-12-28", "name": "Boxing Day"}
            ]
        })
    );
    let v2022 = year_json("imperial", &schedule(IMPERIAL), 2022);
    let days = v2022["closed_days"].as_array().expect("array");
    assert_eq!(days.len(), 10);
    assert!(days.contains(&json!({"date": "2022-09-19", "name": "Bank Holiday for the State Funeral of Queen Elizabeth II"})));
    // A schedule open on bank holidays has no closed days.
    let open = always_open();
    assert_eq!(year_json("all", &open, 2026)["closed_days"], json!([]));
}

#[test]
fn year_text_reads_well() {
    let nsft = schedule(NSFT);
    let text = year_text("nsft", &nsft, 2027);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "nsft is closed on 8 weekdays in 2027 (England and Wales bank holidays):"
    );
    assert_eq!(lines[1], "  2027-01-01  Friday     New Year’s Day");
    assert_eq!(lines[7], "  2027-12-27  Monday     Christmas Day");
    assert_eq!(lines[8], "  2027-12-28  Tuesday    Boxing Day");
    assert_eq!(lines.len(), 9);
    assert_eq!(
        year_text("all", &always_open(), 2027),
        "all stays open on bank holidays: no closed weekdays in 2027."
    );
}

// ------------------------------------------------------------ config errors

#[test]
fn config_errors_carry_a_location_and_say_what_to_fix() {
    let err = toml::from_str::<OrgFile>(
        "[hours]\ntimezone = \"Europe/London\"\ncalendar = \"england-and-wales\"\n\
         [hours.weekly]\nmon = [\"09:00-17:30\"]\ntue = [\"17:30-09:00\"]\n",
    )
    .expect_err("end before start is rejected")
    .to_string();
    assert!(err.contains("line 6"), "{err}");
    assert!(
        err.contains("interval \"17:30-09:00\" does not end after it starts"),
        "{err}"
    );

    let err = toml::from_str::<OrgFile>(
        "[hours]\ntimezone = \"GMT+1\"\ncalendar = \"england-and-wales\"\n[hours.weekly]\n",
    )
    .expect_err("unknown zone is rejected")
    .to_string();
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("unknown timezone \"GMT+1\""), "{err}");

    let err = toml::from_str::<CalendarFile>("[[extra_closed]]\ndate = 2022-06-03\n")
        .expect_err("name is required")
        .to_string();
    assert!(err.contains("missing field `name`"), "{err}");
}

// ----------------------------------------------------------- consistency

/// Steps through holiday and clock-change periods every 15 minutes and
/// checks that `is_open`, `next_open`, `next_close`, `open_periods` and
/// `working_duration` tell one consistent story.
#[test]
fn queries_agree_with_each_other_every_15_minutes() {
    let split = schedule(
        r#"
        [hours]
        timezone = "Europe/London"
        calendar = "england-and-wales"
        [hours.weekly]
        mon = ["08:00-12:00", "13:00-17:00"]
        fri = ["00:00-01:30", "22:00-24:00"]
        sat = ["00:00-02:00"]
        sun = ["00:30-03:00"]
        "#,
    );
    let las = schedule(LAS);
    let overrides = [
        Override::open(london(2025, 3, 29, 10, 0), london(2025, 3, 29, 14, 0)),
        Override::closed(london(2025, 4, 1, 11, 0), london(2025, 4, 2, 10, 15)),
        Override::open(london(2025, 12, 25, 10, 0), london(2025, 12, 25, 14, 0)),
    ];
    let views = [
        las.view(),
        las.with_overrides(&overrides),
        split.view(),
        split.with_overrides(&overrides),
    ];
    let ranges = [
        (utc(2025, 3, 26, 0, 0), utc(2025, 4, 4, 0, 0)),
        (utc(2025, 4, 16, 0, 0), utc(2025, 4, 23, 0, 0)),
        (utc(2025, 10, 23, 0, 0), utc(2025, 10, 29, 0, 0)),
        (utc(2025, 12, 22, 0, 0), utc(2026, 1, 3, 0, 0)),
    ];
    let step = minutes(15);
    let second = Duration::seconds(1);
    let mut checked = 0;
    for view in views {
        for (from, to) in ranges {
            let mut sum = Duration::zero();
            let mut t = from;
            while t < to {
                let open = view.is_open(t);
                assert_eq!(!view.open_periods(t, t + second).is_empty(), open, "{t}");
                if open {
                    assert_eq!(view.next_open(t), Some(t));
                    let close = view.next_close(t).expect("closes");
                    assert!(
                        close > t && !view.is_open(close) && view.is_open(close - second),
                        "{t}"
                    );
                    assert_eq!(view.working_duration(t, close), close - t, "{t}");
                } else {
                    assert_eq!(view.next_close(t), Some(t));
                    let opens = view.next_open(t).expect("opens");
                    assert!(
                        opens > t && view.is_open(opens) && !view.is_open(opens - second),
                        "{t}"
                    );
                    assert_eq!(view.working_duration(t, opens), Duration::zero(), "{t}");
                }
                sum += view.working_duration(t, t + step);
                t += step;
                checked += 1;
            }
            let whole = view.working_duration(from, to);
            assert_eq!(sum, whole, "{from}..{to}");
            let periods = view.open_periods(from, to);
            assert!(
                periods.windows(2).all(|w| w[0].1 < w[1].0),
                "sorted, disjoint, not touching"
            );
            assert_eq!(
                periods
                    .iter()
                    .map(|(s, e)| *e - *s)
                    .fold(Duration::zero(), |a, b| a + b),
                whole
            );
        }
    }
    assert!(checked > 10_000, "{checked}");
}

/// The clock reports use for in-window timing gives exactly what
/// `working_duration` gives, across a clock change, Easter, a Christmas
/// with its substitute day, and overrides, for seconds-apart and
/// months-apart pairs alike; outside its range it declines.
#[test]
fn monitored_clock_agrees_with_working_duration() {
    let las = schedule(LAS);
    let overrides = [
        Override::open(london(2026, 3, 28, 10, 0), london(2026, 3, 28, 14, 0)),
        Override::closed(london(2026, 4, 8, 11, 0), london(2026, 4, 9, 12, 30)),
        Override::open(london(2026, 12, 24, 17, 30), london(2026, 12, 24, 22, 0)),
    ];
    let view = las.with_overrides(&overrides);
    let (from, to) = (utc(2026, 3, 1, 0, 0), utc(2027, 1, 10, 0, 0));
    let clock = view.clock(from, to);
    let span = (to - from).num_seconds();
    // A fixed linear congruential sequence: the same pairs every run.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: i64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((x >> 33) % m as u64) as i64
    };
    for i in 0..4000 {
        let a = from + chrono::Duration::seconds(next(span));
        let gap = match i % 3 {
            0 => next(600),
            1 => next(3 * 86_400),
            _ => next(span),
        };
        let b = (a + chrono::Duration::seconds(gap)).min(to);
        assert_eq!(
            clock.working_duration(a, b),
            Some(view.working_duration(a, b)),
            "{a} .. {b}"
        );
        assert_eq!(clock.working_duration(b, a), Some(chrono::Duration::zero()));
    }
    assert_eq!(
        clock.working_duration(from, to),
        Some(view.working_duration(from, to))
    );
    assert_eq!(
        clock.working_duration(from - chrono::Duration::seconds(1), to),
        None
    );
    assert_eq!(
        clock.working_duration(from, to + chrono::Duration::seconds(1)),
        None
    );
}
