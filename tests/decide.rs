//! The decision engine end to end with fixed clocks, the shipped config and
//! the shipped replies: hours and their boundaries, weekends, bank holidays,
//! clock changes, once-per-closed-period replies, suppression, crisis,
//! clinical questions, overrides, strikes and complaints.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use signpost::category::{Action, Category};
use signpost::classify::Classification;
use signpost::config::Config;
use signpost::decide::{
    decide, same_closed_period, AuthorHistory, Context, DecideError, Decision, Priority,
};
use signpost::hours::{Override, Schedule};
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::replies::{Replies, Template};
use std::path::Path;
use std::sync::OnceLock;

// ---------------------------------------------------------------- helpers

struct World {
    config: Config,
    replies: Replies,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = Config::load(&root.join("config")).expect("shipped config loads");
        let replies = Replies::load(&root.join("replies"), &config).expect("shipped replies");
        World { config, replies }
    })
}

fn schedule(org: &str) -> Schedule {
    world().config.schedule(org).expect("org schedule")
}

/// A Europe/London wall-clock time that exists exactly once.
fn london(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Tz::Europe__London
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("unambiguous London time")
        .with_timezone(&Utc)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid instant")
}

fn post(org: &str, platform: Platform, kind: PostKind, at: DateTime<Utc>) -> InboundPost {
    InboundPost {
        platform,
        external_id: "p1".into(),
        account: format!("{org}-main"),
        org: org.into(),
        kind,
        author_id: "a1".into(),
        author_handle: "@sam".into(),
        text: "text".into(),
        url: None,
        created_at: at,
    }
}

fn classified(categories: &[Category]) -> Classification {
    Classification {
        categories: categories.to_vec(),
        ..Classification::default()
    }
}

/// Decide for a comment on `platform` at `now`, with overrides.
fn run_full(
    org: &str,
    platform: Platform,
    kind: PostKind,
    categories: &[Category],
    history: AuthorHistory,
    overrides: &[Override],
    now: DateTime<Utc>,
) -> Decision {
    let w = world();
    let sched = schedule(org);
    let ctx = Context {
        org: &w.config.orgs[org],
        schedule: sched.with_overrides(overrides),
        replies: &w.replies,
        now,
    };
    decide(
        &post(org, platform, kind, now),
        &classified(categories),
        &history,
        &ctx,
    )
    .expect("decides")
}

fn run(org: &str, categories: &[Category], history: AuthorHistory, now: DateTime<Utc>) -> Decision {
    run_full(
        org,
        Platform::Facebook,
        PostKind::Comment,
        categories,
        history,
        &[],
        now,
    )
}

fn fresh() -> AuthorHistory {
    AuthorHistory::default()
}

fn replied_at(t: DateTime<Utc>) -> AuthorHistory {
    AuthorHistory {
        last_auto_reply_at: Some(t),
        ..AuthorHistory::default()
    }
}

fn template(d: &Decision) -> Option<Template> {
    d.auto_reply.as_ref().map(|r| r.template)
}

fn text(d: &Decision) -> &str {
    d.auto_reply.as_ref().map_or("", |r| r.text.as_str())
}

fn suppressed(d: &Decision) -> Vec<(Template, &str)> {
    d.suppressed
        .iter()
        .map(|s| (s.template, s.reason.as_str()))
        .collect()
}

const ORGS: [&str; 3] = ["las", "imperial", "nsft"];

// Tuesday 24 November 2026 (GMT, so London = UTC).
fn tue(h: u32, mi: u32) -> DateTime<Utc> {
    london(2026, 11, 24, h, mi)
}

// ------------------------------------------------------- hours and replies

#[test]
fn in_hours_nothing_is_sent_and_uncategorised_posts_are_not_relayed() {
    for org in ORGS {
        let d = run(org, &[], fresh(), tue(11, 0));
        assert!(d.in_hours, "{org}");
        assert_eq!(d.auto_reply, None, "{org}");
        assert!(d.suppressed.is_empty(), "{org}");
        assert_eq!(d.relay, None, "{org}");
        assert!(d.suggested_actions.is_empty(), "{org}");
        assert!(!d.block_suggested, "{org}");
    }
}

#[test]
fn out_of_hours_gets_the_out_of_hours_reply_and_no_relay() {
    for org in ORGS {
        let d = run(org, &[], fresh(), tue(20, 0));
        assert!(!d.in_hours, "{org}");
        assert_eq!(template(&d), Some(Template::OutOfHours), "{org}");
        assert!(
            text(&d).contains("9am on Wednesday 25 November"),
            "{org}: {}",
            text(&d)
        );
        assert_eq!(d.relay, None, "{org}");
        assert!(d.suppressed.is_empty(), "{org}");
    }
}

#[test]
fn las_closes_at_1730_and_imperial_and_nsft_at_1700() {
    let at_1715 = tue(17, 15);
    assert!(run("las", &[], fresh(), at_1715).in_hours);
    assert_eq!(run("las", &[], fresh(), at_1715).auto_reply, None);
    for org in ["imperial", "nsft"] {
        let d = run(org, &[], fresh(), at_1715);
        assert!(!d.in_hours, "{org}");
        assert_eq!(template(&d), Some(Template::OutOfHours), "{org}");
    }
    // Half-open: closed at 17:30 exactly, open at 17:29.
    assert!(run("las", &[], fresh(), tue(17, 29)).in_hours);
    let d = run("las", &[], fresh(), tue(17, 30));
    assert!(!d.in_hours);
    assert_eq!(template(&d), Some(Template::OutOfHours));
    assert!(!run("imperial", &[], fresh(), tue(17, 0)).in_hours);
    assert!(run("imperial", &[], fresh(), tue(16, 59)).in_hours);
    // Opens at 09:00 exactly.
    assert!(!run("nsft", &[], fresh(), tue(8, 59)).in_hours);
    assert!(run("nsft", &[], fresh(), tue(9, 0)).in_hours);
}

#[test]
fn las_friday_evening_reply_on_x_in_full() {
    let d = run_full(
        "las",
        Platform::X,
        PostKind::Mention,
        &[],
        fresh(),
        &[],
        london(2026, 11, 27, 18, 0),
    );
    assert_eq!(
        text(&d),
        "Thanks @sam. We're back from 9am on Monday 30 November. We can't give health advice \
         here: if you feel unwell and unsure where to go for help, 111.nhs.uk should be your \
         first port of call. Only dial 999 for life-threatening emergencies."
    );
    // Saturday and Sunday point to Monday too.
    for day in [28, 29] {
        let d = run("las", &[], fresh(), london(2026, 11, day, 12, 0));
        assert!(text(&d).contains("9am on Monday 30 November"), "{day}");
    }
}

#[test]
fn imperial_out_of_hours_on_facebook_in_full() {
    let d = run("imperial", &[], fresh(), tue(17, 15));
    assert_eq!(
        text(&d),
        "Thanks for your message, @sam. Our social media channels are monitored Monday to \
         Friday, 9am to 5pm, except bank holidays, and we'll pick this up from 9am on Wednesday \
         25 November. We are not able to respond to clinical or medical questions via social \
         media, and appointments cannot be requested or scheduled here. If you need medical \
         help now, visit 111.nhs.uk or call 111. In a life-threatening emergency, call 999."
    );
}

#[test]
fn nsft_crisis_at_11_on_a_tuesday_gets_the_crisis_reply_and_an_urgent_relay() {
    let d = run_full(
        "nsft",
        Platform::X,
        PostKind::Reply,
        &[Category::Crisis],
        fresh(),
        &[],
        tue(11, 0),
    );
    assert!(d.in_hours);
    assert_eq!(
        text(&d),
        "@sam, we're sorry you're feeling like this. Please contact your Mental Health Team or \
         see Help in a crisis on nsft.nhs.uk. Call NHS 111 and choose option 2 any time, or \
         Samaritans on 116 123. If your life is in danger, call 999."
    );
    let relay = d.relay.expect("relayed");
    assert_eq!(relay.priority, Priority::Urgent);
    assert_eq!(
        relay.reason,
        "reply x: crisis; crisis reply sent, follow up now"
    );
    assert_eq!(d.suggested_actions, [Action::SignpostCrisis]);
    assert!(d.suppressed.is_empty());
}

#[test]
fn crisis_wins_at_any_hour_over_the_once_per_period_limit_and_a_block() {
    for org in ORGS {
        let last = tue(19, 0);
        let history = AuthorHistory {
            flagged_in_window: 5,
            blocked: true,
            last_auto_reply_at: Some(last),
        };
        for now in [tue(11, 0), tue(19, 5), tue(23, 0)] {
            let d = run(org, &[Category::Crisis], history, now);
            assert_eq!(template(&d), Some(Template::Crisis), "{org} {now}");
            assert_eq!(
                d.relay.as_ref().map(|r| r.priority),
                Some(Priority::Urgent),
                "{org}"
            );
            assert!(!d.block_suggested, "{org}: crisis is not a strike");
        }
        // Out of hours the lower templates are recorded as superseded.
        let d = run(org, &[Category::Crisis], fresh(), tue(23, 0));
        assert_eq!(
            suppressed(&d),
            [(
                Template::OutOfHours,
                "superseded by the crisis reply: one automatic reply per post"
            )]
        );
    }
}

#[test]
fn crisis_that_is_also_abusive_gets_no_reply_but_an_urgent_relay() {
    let d = run(
        "las",
        &[Category::Abuse, Category::Crisis],
        fresh(),
        tue(11, 0),
    );
    assert_eq!(d.auto_reply, None);
    assert_eq!(
        suppressed(&d),
        [(
            Template::Crisis,
            "post is abuse: never replied to automatically"
        )]
    );
    let relay = d.relay.expect("relayed");
    assert_eq!(relay.priority, Priority::Urgent);
    assert_eq!(
        relay.reason,
        "comment facebook: abuse, crisis; crisis reply withheld, reply by hand now"
    );
    // The crisis is never a ground for hiding, but the abuse is.
    assert_eq!(
        d.suggested_actions,
        [Action::Hide, Action::Report, Action::SignpostCrisis]
    );
}

#[test]
fn clinical_question_out_of_hours_gets_the_clinical_signpost_instead() {
    let d = run("las", &[Category::ClinicalQuestion], fresh(), tue(20, 0));
    assert_eq!(
        text(&d),
        "Thanks for your message, @sam. We don't answer clinical or medical questions via social \
         media. If you feel unwell and unsure where to go for help, the 111.nhs.uk website \
         should be your first port of call. Only dial 999 for life-threatening emergencies."
    );
    assert_eq!(
        suppressed(&d),
        [(
            Template::OutOfHours,
            "superseded by the clinical_signpost reply: one automatic reply per post"
        )]
    );
    let relay = d.relay.expect("relayed");
    assert_eq!(relay.priority, Priority::Normal);
    assert_eq!(
        relay.reason,
        "comment facebook: clinical_question (out of hours)"
    );
    assert_eq!(d.suggested_actions, [Action::SignpostClinical]);

    // In hours the team signposts by hand.
    let d = run("las", &[Category::ClinicalQuestion], fresh(), tue(11, 0));
    assert_eq!(d.auto_reply, None);
    assert_eq!(d.suggested_actions, [Action::SignpostClinical]);

    // Crisis outranks clinical.
    let d = run(
        "imperial",
        &[Category::ClinicalQuestion, Category::Crisis],
        fresh(),
        tue(20, 0),
    );
    assert_eq!(template(&d), Some(Template::Crisis));
    assert_eq!(
        d.suppressed.iter().map(|s| s.template).collect::<Vec<_>>(),
        [Template::ClinicalSignpost, Template::OutOfHours]
    );
}

// ------------------------------------------------------- bank holidays

#[test]
fn easter_2026_closes_good_friday_and_easter_monday() {
    // Thursday 2 April 2026, after hours: next open Tuesday 7 April.
    let d = run("nsft", &[], fresh(), london(2026, 4, 2, 18, 0));
    assert!(text(&d).contains("9am on Tuesday 7 April"), "{}", text(&d));
    for (day, h) in [(3, 11), (6, 11)] {
        let d = run("las", &[], fresh(), london(2026, 4, day, h, 0));
        assert!(!d.in_hours, "{day} April");
        assert!(text(&d).contains("9am on Tuesday 7 April"), "{}", text(&d));
    }
}

#[test]
fn christmas_2026_boxing_day_substitute_monday() {
    // Christmas Day is Friday, Boxing Day Saturday: substitute Monday 28th.
    let eve = london(2026, 12, 24, 18, 0);
    let d = run("las", &[], fresh(), eve);
    assert!(
        text(&d).contains("we'll pick this up from 9am on Tuesday 29 December"),
        "{}",
        text(&d)
    );
    let d = run("imperial", &[], fresh(), london(2026, 12, 28, 11, 0));
    assert!(!d.in_hours);
    assert!(text(&d).contains("9am on Tuesday 29 December"));
    // New Year's Eve after hours → Friday 1 January 2027 is a holiday → Monday.
    let d = run("nsft", &[], fresh(), london(2026, 12, 31, 18, 0));
    assert!(
        text(&d).contains("9am on Monday 4 January 2027"),
        "{}",
        text(&d)
    );
}

#[test]
fn christmas_2027_substitute_monday_and_tuesday() {
    // Saturday 25 and Sunday 26 December 2027: substitutes 27th and 28th.
    let d = run("imperial", &[], fresh(), london(2027, 12, 24, 17, 0));
    assert!(
        text(&d).contains("9am on Wednesday 29 December"),
        "{}",
        text(&d)
    );
    for day in [27, 28] {
        assert!(!run("las", &[], fresh(), london(2027, 12, day, 12, 0)).in_hours);
    }
    assert!(run("las", &[], fresh(), london(2027, 12, 29, 12, 0)).in_hours);
}

// ------------------------------------------------------- clock changes

#[test]
fn spring_forward_2026_posts_at_night_get_the_right_monday() {
    // Sunday 29 March 2026: 00:30 UTC is 00:30 GMT; 01:30 UTC is 02:30 BST
    // (01:30 local does not exist). Monday opens at 9am BST = 08:00 UTC.
    for at in [utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)] {
        let d = run("las", &[], fresh(), at);
        assert!(!d.in_hours);
        assert!(text(&d).contains("9am on Monday 30 March"), "{}", text(&d));
    }
    let s = schedule("las");
    assert_eq!(
        s.next_open(utc(2026, 3, 29, 1, 30)),
        Some(utc(2026, 3, 30, 8, 0))
    );
    // Monday 08:30 UTC is 09:30 BST: open.
    assert!(run("las", &[], fresh(), utc(2026, 3, 30, 8, 30)).in_hours);
    // Friday 17:15 GMT before the change: LAS still open, Imperial closed.
    assert!(run("las", &[], fresh(), london(2026, 3, 27, 17, 15)).in_hours);
    let d = run("imperial", &[], fresh(), london(2026, 3, 27, 17, 15));
    assert!(text(&d).contains("9am on Monday 30 March"));
}

#[test]
fn fall_back_2026_the_repeated_hour_is_one_closed_period() {
    // Sunday 25 October 2026: 01:30 local happens at 00:30 UTC (BST) and
    // again at 01:30 UTC (GMT).
    let first = utc(2026, 10, 25, 0, 30);
    let second = utc(2026, 10, 25, 1, 30);
    let d = run("nsft", &[], fresh(), first);
    assert!(
        text(&d).contains("we'll read this from 9am on Monday 26 October"),
        "{}",
        text(&d)
    );
    let d = run("nsft", &[], replied_at(first), second);
    assert_eq!(d.auto_reply, None);
    assert_eq!(d.suppressed.len(), 1);
    assert!(d.suppressed[0]
        .reason
        .starts_with("author already had an automatic reply at 2026-10-25T00:30:00+00:00"));
    // Monday 9am is 09:00 UTC once the clocks have gone back.
    assert_eq!(
        schedule("nsft").next_open(second),
        Some(utc(2026, 10, 26, 9, 0))
    );
    // Friday 23 October 17:00 BST = 16:00 UTC: just closed.
    assert!(!run("nsft", &[], fresh(), utc(2026, 10, 23, 16, 0)).in_hours);
    assert!(run("las", &[], fresh(), utc(2026, 10, 23, 16, 0)).in_hours);
}

// ------------------------------------------------- once per closed period

#[test]
fn once_per_author_per_closed_period_overnight() {
    let first = tue(20, 0);
    assert_eq!(
        template(&run("las", &[], fresh(), first)),
        Some(Template::OutOfHours)
    );
    // Same night: suppressed.
    let d = run("las", &[], replied_at(first), tue(23, 30));
    assert_eq!(d.auto_reply, None);
    assert_eq!(
        suppressed(&d),
        [(
            Template::OutOfHours,
            "author already had an automatic reply at 2026-11-24T20:00:00+00:00 in this closed \
             period"
        )]
    );
    // Early next morning: still the same period.
    assert_eq!(
        run("las", &[], replied_at(first), london(2026, 11, 25, 8, 59)).auto_reply,
        None
    );
    // Next night: a new period, a new reply.
    let d = run("las", &[], replied_at(first), london(2026, 11, 25, 18, 0));
    assert_eq!(template(&d), Some(Template::OutOfHours));
    assert!(text(&d).contains("9am on Thursday 26 November"));
    // A reply sent in hours (a crisis reply) does not count against the night.
    let d = run("las", &[], replied_at(tue(11, 0)), tue(20, 0));
    assert_eq!(template(&d), Some(Template::OutOfHours));
}

#[test]
fn once_per_closed_period_across_a_weekend_and_a_bank_holiday() {
    let friday = london(2026, 11, 27, 18, 0);
    for later in [
        london(2026, 11, 28, 10, 0),
        london(2026, 11, 29, 23, 0),
        london(2026, 11, 30, 8, 0),
    ] {
        assert_eq!(
            run("imperial", &[], replied_at(friday), later).auto_reply,
            None,
            "{later}"
        );
    }
    assert_eq!(
        template(&run(
            "imperial",
            &[],
            replied_at(friday),
            london(2026, 11, 30, 17, 0)
        )),
        Some(Template::OutOfHours)
    );
    // Christmas 2026: Thursday evening to Tuesday morning is one period.
    let eve = london(2026, 12, 24, 18, 0);
    for later in [
        london(2026, 12, 25, 12, 0),
        london(2026, 12, 28, 12, 0),
        london(2026, 12, 29, 8, 30),
    ] {
        assert_eq!(run("las", &[], replied_at(eve), later).auto_reply, None);
    }
    let s = schedule("las");
    assert!(same_closed_period(
        &s.view(),
        eve,
        london(2026, 12, 28, 12, 0)
    ));
    assert!(!same_closed_period(
        &s.view(),
        eve,
        london(2026, 12, 29, 18, 0)
    ));
    assert!(!same_closed_period(&s.view(), tue(11, 0), tue(11, 5)));
}

// ------------------------------------------------- suppression and relays

#[test]
fn abuse_threat_hate_spam_and_advertising_never_get_an_auto_reply() {
    let cases = [
        (Category::Abuse, Priority::Normal),
        (Category::Threat, Priority::High),
        (Category::Hate, Priority::Normal),
        (Category::Spam, Priority::Low),
        (Category::Advertising, Priority::Low),
    ];
    for org in ORGS {
        for (c, priority) in cases {
            let d = run(org, &[c], fresh(), tue(20, 0));
            assert_eq!(d.auto_reply, None, "{org} {c}");
            assert_eq!(
                suppressed(&d),
                [(
                    Template::OutOfHours,
                    format!("post is {c}: never replied to automatically").as_str()
                )],
                "{org} {c}"
            );
            assert_eq!(
                d.relay.as_ref().map(|r| r.priority),
                Some(priority),
                "{org} {c}"
            );
            assert!(d.suggested_actions.contains(&Action::Hide), "{org} {c}");
        }
    }
    // Also sexual, illegal and extremism, which are relayed High when illegal
    // or extremist.
    for c in [Category::Sexual, Category::Illegal, Category::Extremism] {
        let d = run("las", &[c], fresh(), tue(20, 0));
        assert_eq!(d.auto_reply, None, "{c}");
        assert_eq!(d.suppressed.len(), 1, "{c}");
    }
    assert_eq!(
        run("las", &[Category::Extremism], fresh(), tue(20, 0))
            .relay
            .map(|r| r.priority),
        Some(Priority::High)
    );
    // Spam mixed with a complaint is Normal, not Low.
    assert_eq!(
        run(
            "las",
            &[Category::Complaint, Category::Spam],
            fresh(),
            tue(11, 0)
        )
        .relay
        .map(|r| r.priority),
        Some(Priority::Normal)
    );
}

#[test]
fn blocked_authors_get_no_out_of_hours_or_clinical_reply() {
    let blocked = AuthorHistory {
        blocked: true,
        ..AuthorHistory::default()
    };
    let d = run("imperial", &[], blocked, tue(20, 0));
    assert_eq!(d.auto_reply, None);
    assert_eq!(
        suppressed(&d),
        [(Template::OutOfHours, "author is blocked")]
    );
    let d = run(
        "imperial",
        &[Category::ClinicalQuestion],
        blocked,
        tue(20, 0),
    );
    assert_eq!(
        suppressed(&d),
        [
            (Template::ClinicalSignpost, "author is blocked"),
            (Template::OutOfHours, "author is blocked")
        ]
    );
    // Already blocked: never suggested again, even past the threshold.
    let d = run(
        "nsft",
        &[Category::Abuse],
        AuthorHistory {
            flagged_in_window: 9,
            blocked: true,
            last_auto_reply_at: None,
        },
        tue(11, 0),
    );
    assert!(!d.block_suggested);
    assert_eq!(d.suggested_actions, [Action::Hide, Action::Report]);
}

#[test]
fn categories_the_org_does_not_act_on_are_not_relayed() {
    // Imperial and NSFT do not act on disinformation; LAS does.
    for org in ["imperial", "nsft"] {
        let d = run(org, &[Category::Disinformation], fresh(), tue(20, 0));
        assert_eq!(d.relay, None, "{org}");
        assert!(d.acted_on.is_empty(), "{org}");
        assert_eq!(template(&d), Some(Template::OutOfHours), "{org}");
    }
    let d = run("las", &[Category::Disinformation], fresh(), tue(20, 0));
    assert_eq!(d.acted_on, [Category::Disinformation]);
    assert_eq!(d.suggested_actions, [Action::Hide, Action::Report]);
}

#[test]
fn dms_with_a_category_are_relayed_and_without_are_not() {
    let d = run_full(
        "las",
        Platform::Instagram,
        PostKind::Dm,
        &[Category::PersonalInfo],
        fresh(),
        &[],
        tue(11, 0),
    );
    let relay = d.relay.expect("relayed");
    assert_eq!(relay.priority, Priority::Normal);
    assert_eq!(relay.reason, "dm instagram: personal_info");
    assert_eq!(d.suggested_actions, [Action::Hide, Action::AskToDm]);
    let d = run_full(
        "las",
        Platform::Instagram,
        PostKind::Dm,
        &[],
        fresh(),
        &[],
        tue(11, 0),
    );
    assert_eq!(d.relay, None);
}

#[test]
fn complaints_are_never_hidden() {
    for org in ORGS {
        let d = run(org, &[Category::Complaint], fresh(), tue(11, 0));
        assert_eq!(d.suggested_actions, [Action::SignpostComplaints], "{org}");
        assert_eq!(
            d.relay.as_ref().map(|r| r.priority),
            Some(Priority::Normal),
            "{org}"
        );
        // Even from someone with many flagged posts.
        let d = run(
            org,
            &[Category::Complaint, Category::ClinicalQuestion],
            AuthorHistory {
                flagged_in_window: 10,
                ..AuthorHistory::default()
            },
            tue(11, 0),
        );
        assert!(!d.block_suggested, "{org}");
        assert!(
            !d.suggested_actions
                .iter()
                .any(|a| matches!(a, Action::Hide | Action::Delete | Action::Block)),
            "{org}: {:?}",
            d.suggested_actions
        );
    }
    // A complaint with profanity may be hidden for the profanity.
    let d = run(
        "las",
        &[Category::Profanity, Category::Complaint],
        fresh(),
        tue(11, 0),
    );
    assert_eq!(
        d.suggested_actions,
        [Action::Hide, Action::SignpostComplaints]
    );
}

// ------------------------------------------------------------ overrides

#[test]
fn extending_hours_until_20_stops_the_out_of_hours_reply_at_18() {
    let extend = [Override::open(tue(17, 0), tue(20, 0))];
    let d = run_full(
        "imperial",
        Platform::Facebook,
        PostKind::Comment,
        &[],
        fresh(),
        &extend,
        tue(18, 0),
    );
    assert!(d.in_hours);
    assert_eq!(d.auto_reply, None);
    // After the extension ends it is out of hours again.
    let d = run_full(
        "imperial",
        Platform::Facebook,
        PostKind::Comment,
        &[],
        fresh(),
        &extend,
        tue(20, 0),
    );
    assert_eq!(template(&d), Some(Template::OutOfHours));
    // A reply at 16:30 (before the extension, in hours) and one at 21:00 are
    // in different periods; one at 17:30 would not have happened.
    let d = run_full(
        "imperial",
        Platform::Facebook,
        PostKind::Comment,
        &[],
        replied_at(tue(16, 30)),
        &extend,
        tue(21, 0),
    );
    assert_eq!(template(&d), Some(Template::OutOfHours));
}

#[test]
fn closing_for_a_major_incident_sends_the_reply_at_11_with_the_reopening_time() {
    let incident = [Override::closed(tue(10, 0), tue(16, 0))];
    let d = run_full(
        "las",
        Platform::Mastodon,
        PostKind::Mention,
        &[],
        fresh(),
        &incident,
        tue(11, 0),
    );
    assert!(!d.in_hours);
    assert_eq!(template(&d), Some(Template::OutOfHours));
    assert!(
        text(&d).contains("so we'll pick this up from 4pm on Tuesday 24 November"),
        "{}",
        text(&d)
    );
    // An incident closure that runs into the evening joins the night: one reply.
    let long = [Override::closed(tue(10, 0), tue(17, 30))];
    let d = run_full(
        "las",
        Platform::Facebook,
        PostKind::Comment,
        &[],
        replied_at(tue(11, 0)),
        &long,
        tue(22, 0),
    );
    assert_eq!(d.auto_reply, None);
}

// -------------------------------------------------------------- strikes

#[test]
fn repeat_offenders_reach_the_strikes_threshold() {
    let flagged = |n| AuthorHistory {
        flagged_in_window: n,
        ..AuthorHistory::default()
    };
    // NSFT: 2 in 30 days, so one earlier flagged post is enough.
    let d = run("nsft", &[Category::Profanity], flagged(0), tue(11, 0));
    assert!(!d.block_suggested);
    assert_eq!(d.suggested_actions, [Action::Hide]);
    let d = run("nsft", &[Category::Profanity], flagged(1), tue(11, 0));
    assert!(d.block_suggested);
    assert_eq!(d.suggested_actions, [Action::Hide, Action::Block]);
    assert_eq!(
        d.relay.expect("relayed").reason,
        "comment facebook: profanity; repeat offender: 2 flagged posts in 30 days, block \
         suggested"
    );
    // LAS and Imperial: 3 in 30 days.
    for org in ["las", "imperial"] {
        assert!(
            !run(org, &[Category::Spam], flagged(1), tue(11, 0)).block_suggested,
            "{org}"
        );
        let d = run(org, &[Category::Spam], flagged(2), tue(11, 0));
        assert!(d.block_suggested, "{org}");
        assert_eq!(d.suggested_actions, [Action::Hide, Action::Block], "{org}");
    }
    // Not removable: personal info and staff naming are not strikes.
    for c in [Category::PersonalInfo, Category::StaffNamed] {
        assert!(
            !run("las", &[c], flagged(7), tue(11, 0)).block_suggested,
            "{c}"
        );
    }
    // NSFT's own mapping suggests block for abuse on a first offence, but
    // only the strikes rule sets block_suggested.
    let d = run("nsft", &[Category::Abuse], flagged(0), tue(11, 0));
    assert!(!d.block_suggested);
    assert_eq!(
        d.suggested_actions,
        [Action::Hide, Action::Block, Action::Report]
    );
}

// ---------------------------------------------------------------- misc

#[test]
fn a_post_for_another_org_is_refused() {
    let w = world();
    let sched = schedule("las");
    let ctx = Context {
        org: &w.config.orgs["las"],
        schedule: sched.view(),
        replies: &w.replies,
        now: tue(11, 0),
    };
    let err = decide(
        &post("nsft", Platform::X, PostKind::Comment, tue(11, 0)),
        &classified(&[]),
        &fresh(),
        &ctx,
    )
    .expect_err("mismatch");
    assert_eq!(
        err,
        DecideError::OrgMismatch {
            post: "nsft".into(),
            context: "las".into()
        }
    );
}

#[test]
fn decisions_serialise_for_the_transcript() {
    let d = run("las", &[Category::Crisis], fresh(), tue(20, 0));
    let json = serde_json::to_value(&d).expect("serialises");
    assert_eq!(json["in_hours"], false);
    assert_eq!(json["acted_on"], serde_json::json!(["crisis"]));
    assert_eq!(json["relay"]["priority"], "urgent");
    assert_eq!(
        json["suggested_actions"],
        serde_json::json!(["signpost_crisis"])
    );
    assert_eq!(json["block_suggested"], false);
    assert_eq!(json["auto_reply"]["template"], "crisis");
    assert_eq!(json["suppressed"][0]["template"], "out_of_hours");
}

#[test]
fn the_same_inputs_always_give_the_same_decision() {
    let now = tue(20, 0);
    let a = run(
        "nsft",
        &[Category::Complaint],
        replied_at(now - Duration::hours(30)),
        now,
    );
    let b = run(
        "nsft",
        &[Category::Complaint],
        replied_at(now - Duration::hours(30)),
        now,
    );
    assert_eq!(a, b);
    assert_eq!(template(&a), Some(Template::OutOfHours));
}
