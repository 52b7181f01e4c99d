//! Supervisor figures over a seeded store with known answers (issue 6):
//! in-window timing across a weekend, a clock change and the Easter bank
//! holidays; actions by member; auto-replies by reason; backlog; repeat
//! offenders; per-rule "not an issue" rates; the export CSV and its audit
//! row. Each runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is
//! set.

#[path = "common/store_db.rs"]
#[allow(dead_code)]
mod store_db;

use chrono::{DateTime, Utc};
use signpost::category::{Category, Severity};
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::Pipeline;
use signpost::stats::export::{export_csv, ExportError, Requester};
use signpost::stats::{self, render};
use signpost::store::{
    Actor, AuditEntry, AuditFilter, AuditOutcome, AutoReplyStatus, Classification, ExportQuery,
    NewAutoReply, RelayState, ReportScope, Store,
};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use store_db::TestDb;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn pipeline() -> Arc<Pipeline> {
    static P: OnceLock<Arc<Pipeline>> = OnceLock::new();
    P.get_or_init(|| Arc::new(Pipeline::load(Path::new("config"), true).expect("config")))
        .clone()
}

struct Seed<'a> {
    store: &'a Store,
    n: u32,
}

impl Seed<'_> {
    /// Stores a post with its classification; returns its id.
    #[allow(clippy::too_many_arguments)]
    async fn post(
        &mut self,
        org: &str,
        platform: Platform,
        author: &str,
        text: &str,
        at: &str,
        categories: &[Category],
        rules: &[&str],
    ) -> i64 {
        self.n += 1;
        let at = utc(at);
        let post = InboundPost {
            platform,
            external_id: format!("p{}", self.n),
            account: "acct".into(),
            org: org.into(),
            kind: PostKind::Comment,
            author_id: format!("id-{author}"),
            author_handle: author.into(),
            text: text.into(),
            url: Some(format!("https://example.test/{org}/p{}", self.n)),
            created_at: at,
        };
        let (id, new) = self.store.insert_post(&post, None, at).await.expect("post");
        assert!(new);
        self.store
            .record_classification(&Classification {
                post_id: id,
                categories: categories.to_vec(),
                rules: rules.iter().map(|r| r.to_string()).collect(),
                severity: if categories.is_empty() {
                    Severity::None
                } else {
                    Severity::Medium
                },
                classified_at: at,
            })
            .await
            .expect("classification");
        self.store
            .upsert_author_seen(platform, &post.author_id, author, at)
            .await
            .expect("author");
        if !categories.is_empty() {
            self.store
                .create_relay(id, org, Some("1"), at)
                .await
                .expect("relay");
        }
        id
    }

    /// A team member's action on a relayed post at `at`.
    async fn act(&self, post_id: i64, org: &str, who: &str, action: &str, at: &str) {
        let at = utc(at);
        let actor = Actor::new(format!("discord:{who}"), who);
        let state = if action == "dismiss" {
            RelayState::Dismissed
        } else {
            RelayState::Actioned
        };
        self.store
            .transition_relay(post_id, RelayState::Pending, state, &actor, None, at)
            .await
            .expect("transition");
        self.audit(post_id, org, who, action, AuditOutcome::Ok, at)
            .await;
    }

    async fn audit(
        &self,
        post_id: i64,
        org: &str,
        who: &str,
        action: &str,
        outcome: AuditOutcome,
        at: DateTime<Utc>,
    ) {
        self.store
            .append_audit(&AuditEntry {
                at,
                org: org.into(),
                post_id: Some(post_id),
                actor_id: format!("discord:{who}"),
                actor_name: who.into(),
                action: action.into(),
                reason: Some("breaks rule 3, \"abuse\"".into()),
                outcome,
                detail: None,
            })
            .await
            .expect("audit");
    }

    async fn reply(
        &self,
        post_id: i64,
        org: &str,
        template: &str,
        status: AutoReplyStatus,
        reason: Option<&str>,
        at: &str,
    ) {
        self.store
            .record_auto_reply(&NewAutoReply {
                post_id,
                org: org.into(),
                platform: Platform::X,
                author_id: "someone".into(),
                template: template.into(),
                text: "text".into(),
                status,
                reason: reason.map(str::to_owned),
                at: utc(at),
            })
            .await
            .expect("reply");
    }
}

const ABUSE: &[Category] = &[Category::Abuse];

/// The seeded LAS store (Mon–Fri 09:00–17:30 Europe/London, closed on
/// England & Wales bank holidays). Times to first action, in monitored
/// minutes: 2, 10, 15, 60, 300; one relay still open.
async fn seed(store: &Store) -> Vec<i64> {
    let mut s = Seed { store, n: 0 };
    let mut ids = Vec::new();
    // In hours, handled two minutes later (Tue 13 Jan 2026, GMT).
    let a = s
        .post(
            "las",
            Platform::X,
            "troll",
            "you useless idiot",
            "2026-01-13T10:00:00Z",
            ABUSE,
            &["abuse.insult"],
        )
        .await;
    s.act(a, "las", "Sam", "hide", "2026-01-13T10:02:00Z").await;
    ids.push(a);
    // Friday 23:00, handled Monday 09:10: ten monitored minutes.
    let b = s
        .post(
            "las",
            Platform::X,
            "troll",
            "idiots, the lot of you",
            "2026-01-16T23:00:00Z",
            ABUSE,
            &["abuse.insult"],
        )
        .await;
    s.act(b, "las", "Sam", "hide", "2026-01-19T09:10:00Z").await;
    ids.push(b);
    // Friday 17:20 GMT before the clocks go forward (Sun 29 March 2026),
    // handled Monday 09:05 BST (08:05Z): 10 + 5 = 15 minutes.
    let c = s
        .post(
            "las",
            Platform::Facebook,
            "troll",
            "you lot are idiots",
            "2026-03-27T17:20:00Z",
            ABUSE,
            &["abuse.insult"],
        )
        .await;
    s.act(c, "las", "Alex", "dismiss", "2026-03-30T08:05:00Z")
        .await;
    ids.push(c);
    // Maundy Thursday 17:00 BST (16:00Z); Good Friday and Easter Monday are
    // bank holidays; handled Tuesday 7 April 09:30 BST: 30 + 30 = 60.
    let d = s
        .post(
            "las",
            Platform::Facebook,
            "carer",
            "my mum waited 14 hours, disgraceful",
            "2026-04-02T16:00:00Z",
            &[Category::Complaint],
            &["complaint.wait"],
        )
        .await;
    s.act(
        d,
        "las",
        "Alex",
        "signpost_complaints",
        "2026-04-07T08:30:00Z",
    )
    .await;
    ids.push(d);
    // In hours, five hours later: 300 minutes.
    let e = s
        .post(
            "las",
            Platform::X,
            "spammer",
            "buy followers now",
            "2026-01-14T11:00:00Z",
            &[Category::Spam],
            &["spam.followers"],
        )
        .await;
    s.act(e, "las", "Sam", "delete", "2026-01-14T16:00:00Z")
        .await;
    ids.push(e);
    // Still open: arrived Monday 2 March 10:00, nobody acted.
    let f = s
        .post(
            "las",
            Platform::X,
            "angry",
            "I know where you live",
            "2026-03-02T10:00:00Z",
            &[Category::Threat, Category::Abuse],
            &["threat.location", "abuse.insult"],
        )
        .await;
    ids.push(f);
    // Clean posts: counted inbound, never flagged.
    for (i, at) in [
        "2026-01-13T12:00:00Z",
        "2026-02-10T12:00:00Z",
        "2026-03-10T12:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        s.post(
            "las",
            Platform::Mastodon,
            &format!("fan{i}"),
            "thank you for your help",
            at,
            &[],
            &[],
        )
        .await;
    }
    // Another trust's post: never in LAS's figures.
    let other = s
        .post(
            "nsft",
            Platform::X,
            "troll",
            "idiot",
            "2026-01-13T10:00:00Z",
            ABUSE,
            &["abuse.insult"],
        )
        .await;
    s.act(other, "nsft", "Pat", "hide", "2026-01-13T10:01:00Z")
        .await;

    // A failed attempt, and a refused click (not a post action).
    s.audit(
        f,
        "las",
        "Sam",
        "report",
        AuditOutcome::Failed("platform said no".into()),
        utc("2026-03-02T10:05:00Z"),
    )
    .await;
    s.audit(
        f,
        "las",
        "Jo",
        "click.refused",
        AuditOutcome::Ok,
        utc("2026-03-02T10:06:00Z"),
    )
    .await;

    // Auto-replies: two out-of-hours sent, two suppressed for the same
    // reason at different times, one queued, a crisis reply, a team crisis
    // signpost, an action notice.
    s.reply(
        b,
        "las",
        "out_of_hours",
        AutoReplyStatus::Sent,
        None,
        "2026-01-16T23:00:01Z",
    )
    .await;
    s.reply(
        c,
        "las",
        "out_of_hours",
        AutoReplyStatus::Sent,
        None,
        "2026-03-27T17:31:00Z",
    )
    .await;
    for at in ["2026-01-16T23:30:00Z", "2026-01-17T09:00:00Z"] {
        let why = format!(
            "author already had an automatic reply at {} in this closed period",
            utc("2026-01-16T23:00:01Z").to_rfc3339()
        );
        s.reply(
            b,
            "las",
            "out_of_hours",
            AutoReplyStatus::Suppressed,
            Some(&why),
            at,
        )
        .await;
    }
    s.reply(
        d,
        "las",
        "clinical_signpost",
        AutoReplyStatus::Queued,
        None,
        "2026-04-02T16:00:01Z",
    )
    .await;
    s.reply(
        f,
        "las",
        "crisis",
        AutoReplyStatus::Sent,
        None,
        "2026-03-02T10:00:01Z",
    )
    .await;
    s.reply(
        f,
        "las",
        "crisis",
        AutoReplyStatus::Sent,
        Some("signpost_crisis by Sam"),
        "2026-03-02T10:03:00Z",
    )
    .await;
    s.reply(
        a,
        "las",
        "action_notice",
        AutoReplyStatus::Sent,
        None,
        "2026-01-13T10:02:01Z",
    )
    .await;

    store
        .add_strike(Platform::X, "id-troll")
        .await
        .expect("strike");
    store
        .add_strike(Platform::X, "id-troll")
        .await
        .expect("strike");
    ids
}

fn scope() -> ReportScope {
    ReportScope {
        org: "las".into(),
        platform: None,
        from: utc("2026-01-01T00:00:00Z"),
        // Local midnight (BST) at the end of 30 April: 120 whole days.
        to: utc("2026-04-30T23:00:00Z"),
    }
}

async fn known_answers(db: TestDb) {
    seed(&db.store).await;
    let p = pipeline();
    let now = utc("2026-05-01T00:00:00Z");
    let s = stats::report(&db.store, &p, &scope(), now)
        .await
        .expect("report");

    assert_eq!(s.inbound.total, 9);
    assert_eq!(
        s.inbound.by_platform,
        vec![
            (Platform::X, 4),
            (Platform::Mastodon, 3),
            (Platform::Facebook, 2)
        ]
    );
    assert_eq!(s.flagged.total, 6);
    assert_eq!(s.flagged.relayed, 6);
    assert_eq!(
        s.flagged.by_category,
        vec![
            (Category::Abuse, 4),
            (Category::Threat, 1),
            (Category::Spam, 1),
            (Category::Complaint, 1)
        ]
    );

    // Actions: successful post actions by type and member; the failed
    // report and the refused click apart; nsft's hide not at all.
    assert_eq!(
        s.actions.by_action,
        vec![
            ("hide".to_owned(), 2),
            ("delete".to_owned(), 1),
            ("dismiss".to_owned(), 1),
            ("signpost_complaints".to_owned(), 1)
        ]
    );
    assert_eq!(s.actions.failed, 1);
    assert_eq!(s.actions.other, vec![("click.refused".to_owned(), 1)]);
    let members: Vec<(&str, u64)> = s
        .actions
        .by_member
        .iter()
        .map(|m| (m.name.as_str(), m.total))
        .collect();
    assert_eq!(members, vec![("Sam", 3), ("Alex", 2)]);

    // Monitored minutes: 2, 10, 15, 60, 300 → median 15, p90 300.
    assert_eq!(s.response.handled, 5);
    assert_eq!(s.response.median_minutes, Some(15.0));
    assert_eq!(s.response.p90_minutes, Some(300.0));
    // LAS sets no response target.
    assert_eq!(s.response.target_hours, None);
    assert_eq!(s.response.share_within_target, None);

    assert_eq!(
        s.auto_replies.sent,
        vec![("out_of_hours".to_owned(), 2), ("crisis".to_owned(), 1)]
    );
    assert_eq!(s.auto_replies.queued, 1);
    assert_eq!(
        s.auto_replies.suppressed,
        vec![(
            "author already had an automatic reply in this closed period".to_owned(),
            2
        )]
    );
    assert_eq!(s.auto_replies.team_replies, 1);
    assert_eq!(s.auto_replies.action_notices, 1);
    assert_eq!(s.crisis_signposts, 2);

    assert_eq!(s.backlog.count, 1);
    assert_eq!(s.backlog.oldest, Some(utc("2026-03-02T10:00:00Z")));

    assert_eq!(s.repeat_offenders.len(), 1);
    let o = &s.repeat_offenders[0];
    assert_eq!(
        (o.handle.as_str(), o.flagged_posts, o.strikes),
        ("troll", 2, 2)
    );

    let rules: Vec<(&str, u64, u64, u64)> = s
        .rules
        .iter()
        .map(|r| (r.rule.as_str(), r.relayed, r.actioned, r.dismissed))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("abuse.insult", 4, 2, 1),
            ("complaint.wait", 1, 1, 0),
            ("spam.followers", 1, 1, 0),
        ]
    );
    assert!((s.rules[0].not_an_issue_rate - 1.0 / 3.0).abs() < 1e-9);

    // Daily series: every local day of the window, the flagged and
    // actioned posts on the right days.
    assert_eq!(s.daily.len(), 120);
    let day = |d: &str| {
        s.daily
            .iter()
            .find(|x| x.day.to_string() == d)
            .expect("day")
            .clone()
    };
    assert_eq!(day("2026-01-16").flagged, vec![(Category::Abuse, 1)]);
    assert_eq!(day("2026-01-19").actioned, vec![(Category::Abuse, 1)]);
    // Dismissed is not actioned.
    assert!(day("2026-03-30").actioned.is_empty());

    // A platform filter narrows everything.
    let x_only = ReportScope {
        platform: Some(Platform::Facebook),
        ..scope()
    };
    let f = stats::report(&db.store, &p, &x_only, now)
        .await
        .expect("report");
    assert_eq!(f.inbound.total, 2);
    assert_eq!(f.flagged.total, 2);
    assert_eq!(f.response.median_minutes, Some(15.0));
    assert_eq!(f.backlog.count, 0);

    // The embed fits Discord's limits and carries the figures.
    let e = render::stats_embed(&s, chrono_tz::Europe::London, "custom", Some("stats.png"));
    assert!(
        signpost::discord::limits::violations(&serde_json::json!({"embeds": [e.to_json()]}))
            .is_empty()
    );
    let text = serde_json::to_string(&e).expect("json");
    assert!(text.contains("Median 15 min"), "{text}");
    assert!(text.contains("p90 5 h 00 min"), "{text}");
    let t = render::stats_text(&s, chrono_tz::Europe::London, "custom");
    assert!(t.contains("Inbound 9"), "{t}");
    assert!(t.contains("troll (x) · 2 flagged · 2 strikes"), "{t}");
}

/// The hourly rollups behind `/stats` follow every kind of write (new
/// rows, relay transitions, reclassification, reply status changes), and a
/// window that starts and ends mid-hour reads its edges from the raw
/// tables and its whole hours from the rollups, with the same answers.
async fn rollups_follow_writes_and_windows_split_at_hours(db: TestDb) {
    let ids = seed(&db.store).await;
    assert_eq!(db.store.rollup_drift().await.expect("drift"), vec![]);

    // Mid-hour edges: from 10:00:30 on 13 Jan (after post a, before its
    // hide at 10:02) to 16:00:30 on 2 April (just after post d).
    let p = pipeline();
    let now = utc("2026-05-01T00:00:00Z");
    let ragged = ReportScope {
        from: utc("2026-01-13T10:00:30Z"),
        to: utc("2026-04-02T16:00:30Z"),
        ..scope()
    };
    let s = stats::report(&db.store, &p, &ragged, now)
        .await
        .expect("report");
    assert_eq!(s.inbound.total, 8);
    assert_eq!(
        s.inbound.by_platform,
        vec![
            (Platform::X, 3),
            (Platform::Mastodon, 3),
            (Platform::Facebook, 2)
        ]
    );
    assert_eq!(s.flagged.total, 5);
    assert_eq!(
        s.flagged.by_category,
        vec![
            (Category::Abuse, 3),
            (Category::Threat, 1),
            (Category::Spam, 1),
            (Category::Complaint, 1)
        ]
    );
    // a's hide (10:02, in the first edge) counts; d's action (7 April) not.
    assert_eq!(
        s.actions.by_action,
        vec![
            ("hide".to_owned(), 2),
            ("delete".to_owned(), 1),
            ("dismiss".to_owned(), 1)
        ]
    );
    // d's queued reply (16:00:01, in the last edge) counts; a's notice
    // (10:02:01, in the first) too.
    assert_eq!(s.auto_replies.queued, 1);
    assert_eq!(s.auto_replies.action_notices, 1);
    let rules: Vec<(&str, u64, u64, u64)> = s
        .rules
        .iter()
        .map(|r| (r.rule.as_str(), r.relayed, r.actioned, r.dismissed))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("abuse.insult", 3, 1, 1),
            ("complaint.wait", 1, 1, 0),
            ("spam.followers", 1, 1, 0),
        ]
    );
    // The whole-hour report and a window split at any minute agree on
    // the sums of their parts.
    let whole = stats::report(&db.store, &p, &scope(), now)
        .await
        .expect("report");
    for cut in ["2026-02-01T07:13:00Z", "2026-03-02T10:00:00Z"] {
        let (left, right) = (
            ReportScope {
                to: utc(cut),
                ..scope()
            },
            ReportScope {
                from: utc(cut),
                ..scope()
            },
        );
        let l = stats::report(&db.store, &p, &left, now).await.expect("l");
        let r = stats::report(&db.store, &p, &right, now).await.expect("r");
        assert_eq!(l.inbound.total + r.inbound.total, whole.inbound.total);
        assert_eq!(l.flagged.total + r.flagged.total, whole.flagged.total);
        assert_eq!(
            l.actions.by_member.iter().map(|m| m.total).sum::<u64>()
                + r.actions.by_member.iter().map(|m| m.total).sum::<u64>(),
            whole.actions.by_member.iter().map(|m| m.total).sum::<u64>(),
            "{cut}"
        );
    }

    // Every other kind of write keeps them in step.
    let (a, e, f) = (ids[0], ids[4], ids[5]);
    db.store
        .record_classification(&Classification {
            post_id: e,
            categories: vec![Category::Advertising],
            rules: vec!["advertising.promo".into()],
            severity: Severity::Low,
            classified_at: utc("2026-01-14T11:00:00Z"),
        })
        .await
        .expect("reclassify");
    db.store
        .record_classification(&Classification {
            post_id: a,
            categories: vec![],
            rules: vec![],
            severity: Severity::None,
            classified_at: utc("2026-01-13T10:00:00Z"),
        })
        .await
        .expect("reclassify as clean");
    let actor = Actor::new("discord:Jo", "Jo");
    db.store
        .transition_relay(
            f,
            RelayState::Pending,
            RelayState::Actioned,
            &actor,
            None,
            utc("2026-04-20T09:00:00Z"),
        )
        .await
        .expect("transition");
    let queued = db
        .store
        .record_auto_reply(&NewAutoReply {
            post_id: f,
            org: "las".into(),
            platform: Platform::X,
            author_id: "someone".into(),
            template: "crisis".into(),
            text: "text".into(),
            status: AutoReplyStatus::Queued,
            reason: None,
            at: utc("2026-04-20T09:00:00Z"),
        })
        .await
        .expect("reply");
    db.store
        .set_auto_reply_status(
            queued,
            AutoReplyStatus::Suppressed,
            Some("dry run: not posted"),
            utc("2026-04-21T10:00:00Z"),
        )
        .await
        .expect("status");
    assert_eq!(db.store.rollup_drift().await.expect("drift"), vec![]);
    let after = stats::report(&db.store, &p, &scope(), now)
        .await
        .expect("report");
    assert_eq!(after.flagged.total, 5, "a is clean now");
    assert_eq!(after.backlog.count, 0);
    assert!(after
        .flagged
        .by_category
        .contains(&(Category::Advertising, 1)));
}

#[tokio::test]
async fn rollups_follow_writes_and_windows_split_at_hours_sqlite() {
    store_db::run_sqlite(rollups_follow_writes_and_windows_split_at_hours).await;
}

#[tokio::test]
async fn rollups_follow_writes_and_windows_split_at_hours_postgres() {
    store_db::run_postgres(rollups_follow_writes_and_windows_split_at_hours).await;
}

#[tokio::test]
async fn known_answers_sqlite() {
    store_db::run_sqlite(known_answers).await;
}

#[tokio::test]
async fn known_answers_postgres() {
    store_db::run_postgres(known_answers).await;
}

async fn response_target(db: TestDb) {
    seed(&db.store).await;
    let p = pipeline();
    let now = utc("2026-05-01T00:00:00Z");
    let facts = stats::gather(&db.store, &scope(), 3_600_000)
        .await
        .expect("facts");
    let schedule = p.schedule("las").expect("las");
    let view = schedule.with_overrides(&[]);
    // A one-hour target: 2, 10, 15 and 60 minutes are within; 300 is not,
    // and the open relay has waited far longer than an hour.
    let s = stats::compute(&scope(), &facts, &view, Some(1), now);
    assert_eq!((s.response.within_target, s.response.missed_target), (4, 2));
    assert_eq!(s.response.share_within_target, Some(4.0 / 6.0));
    // Just after the open post arrived it is not due yet.
    let early = stats::compute(
        &scope(),
        &facts,
        &view,
        Some(1),
        utc("2026-03-02T10:30:00Z"),
    );
    assert_eq!(
        (early.response.within_target, early.response.missed_target),
        (4, 1)
    );
}

#[tokio::test]
async fn response_target_sqlite() {
    store_db::run_sqlite(response_target).await;
}

#[tokio::test]
async fn response_target_postgres() {
    store_db::run_postgres(response_target).await;
}

/// An hours override extends the window the timing counts: a post at
/// 18:00 handled at 18:30 during an extension took 30 minutes, not the
/// 0 of a closed evening.
async fn overrides_count_as_monitored_time(db: TestDb) {
    let mut s = Seed {
        store: &db.store,
        n: 0,
    };
    let a = s
        .post(
            "las",
            Platform::X,
            "troll",
            "idiot",
            "2026-01-13T18:00:00Z",
            ABUSE,
            &["abuse.insult"],
        )
        .await;
    s.act(a, "las", "Sam", "hide", "2026-01-13T18:30:00Z").await;
    let p = pipeline();
    let now = utc("2026-05-01T00:00:00Z");
    let before = stats::report(&db.store, &p, &scope(), now)
        .await
        .expect("report");
    // Closed evening: the clock runs from 09:00 next day, and the action
    // came before that.
    assert_eq!(before.response.median_minutes, Some(0.0));
    db.store
        .add_override(&signpost::store::NewHoursOverride {
            org: "las".into(),
            kind: signpost::store::OverrideKind::Open,
            starts_at: utc("2026-01-13T17:30:00Z"),
            ends_at: utc("2026-01-13T21:00:00Z"),
            actor_id: "discord:1".into(),
            actor_name: "Sup".into(),
            reason: "major incident".into(),
            created_at: utc("2026-01-13T17:00:00Z"),
        })
        .await
        .expect("override");
    let after = stats::report(&db.store, &p, &scope(), now)
        .await
        .expect("report");
    assert_eq!(after.response.median_minutes, Some(30.0));
}

#[tokio::test]
async fn overrides_count_as_monitored_time_sqlite() {
    store_db::run_sqlite(overrides_count_as_monitored_time).await;
}

async fn export_is_escaped_masked_and_audited(db: TestDb) {
    let mut s = Seed {
        store: &db.store,
        n: 0,
    };
    let text = "Line one, with \"quotes\"\nline two: call me on 07700 900123";
    let a = s
        .post(
            "las",
            Platform::X,
            "=cmd|' /C calc'!A0",
            text,
            "2026-01-13T10:00:00Z",
            ABUSE,
            &["abuse.insult"],
        )
        .await;
    s.act(a, "las", "Sam", "hide", "2026-01-13T10:02:00Z").await;
    let p = pipeline();
    let q = ExportQuery {
        org: "las".into(),
        from: utc("2026-01-01T00:00:00Z"),
        to: utc("2026-02-01T00:00:00Z"),
        human_only: true,
    };
    let actor = Actor::new("cli:test", "test");
    let by = Requester {
        actor: &actor,
        via: "cli",
        now: utc("2026-02-01T00:00:00Z"),
        max_bytes: None,
    };
    let mut out = Vec::new();
    let summary = export_csv(&db.store, &p, &q, &mut out, by)
        .await
        .expect("export");
    let csv = String::from_utf8(out).expect("utf8");
    assert_eq!(summary.rows, 1);
    assert_eq!(summary.bytes as usize, csv.len());
    let mut lines = csv.split("\r\n");
    assert!(lines.next().unwrap().starts_with("id,at_utc,org,post_id"));
    // The text is quoted, its quotes doubled, its line break kept; the
    // phone number masked (LAS masks personal data); the handle defused.
    assert!(
        csv.contains("\"Line one, with \"\"quotes\"\"\nline two: call me on "),
        "{csv}"
    );
    assert!(!csv.contains("07700 900123"), "{csv}");
    assert!(csv.contains(",'=cmd|' /C calc'!A0,"), "{csv}");
    assert!(csv.contains(",\"breaks rule 3, \"\"abuse\"\"\","), "{csv}");
    assert!(csv.ends_with("\r\n"));

    // The export is audited with its hash.
    let rows = db
        .store
        .audit_rows(&AuditFilter {
            org: Some("las".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    let last = rows.last().expect("row");
    assert_eq!(last.id, summary.audit_id);
    assert_eq!(last.action, "audit.export");
    let detail = last.detail_json().expect("detail");
    assert_eq!(detail["rows"], 1);
    assert_eq!(detail["sha256"], summary.sha256.as_str());

    // Too big for the limit: nothing is audited.
    let mut out = Vec::new();
    let small = Requester {
        max_bytes: Some(200),
        ..by
    };
    let err = export_csv(&db.store, &p, &q, &mut out, small)
        .await
        .unwrap_err();
    assert!(matches!(err, ExportError::TooLarge { .. }), "{err}");
    let after = db
        .store
        .audit_rows(&AuditFilter::default())
        .await
        .expect("audit");
    assert_eq!(after.len(), rows.len());
}

#[tokio::test]
async fn export_is_escaped_masked_and_audited_sqlite() {
    store_db::run_sqlite(export_is_escaped_masked_and_audited).await;
}

#[tokio::test]
async fn export_is_escaped_masked_and_audited_postgres() {
    store_db::run_postgres(export_is_escaped_masked_and_audited).await;
}

async fn timelines_and_history(db: TestDb) {
    let ids = seed(&db.store).await;
    let p = pipeline();
    let post = stats::gather::find_post(
        &db.store,
        &stats::timeline::PostRef::parse(&format!("https://example.test/las/p{}", 2)).expect("ref"),
    )
    .await
    .expect("find")
    .expect("post");
    assert_eq!(post.id, ids[1]);
    let t = stats::gather::post_timeline(&db.store, post)
        .await
        .expect("timeline");
    let e = stats::timeline::post_timeline_embed(
        &t,
        "idiots, the lot of you",
        chrono_tz::Europe::London,
    );
    let lines: Vec<&str> = e.description.lines().collect();
    assert!(lines[0].contains("posted by troll on x"), "{lines:?}");
    assert!(lines[1].contains("arrived in Signpost"), "{lines:?}");
    assert!(
        e.description.contains("**hide** by Sam"),
        "{}",
        e.description
    );
    assert!(
        e.description.contains("out of hours reply sent"),
        "{}",
        e.description
    );
    assert!(e.total_chars() <= 6000);

    let records = stats::gather::author_history(&db.store, &p, "las", "@troll")
        .await
        .expect("history");
    // "troll" on X (two posts) and on Facebook (one): busiest first.
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].author.platform, Platform::X);
    assert_eq!(records[0].total_posts, 2);
    assert_eq!(records[0].author.strikes, 2);
    assert_eq!(records[1].author.platform, Platform::Facebook);
    let e = stats::timeline::history_embed("las", &records, chrono_tz::Europe::London);
    assert!(
        e.description.starts_with("2 posts to las"),
        "{}",
        e.description
    );
    assert!(e.description.contains("Strikes 2"), "{}", e.description);
    let actions = &e.fields[1].value;
    assert_eq!(actions.matches("hide on #").count(), 2, "{actions}");
    assert!(actions.contains("by Sam"), "{actions}");
    assert_eq!(e.fields[2].name, "Same handle elsewhere");
    assert!(
        e.fields[2].value.contains("facebook, 1 post)"),
        "{}",
        e.fields[2].value
    );
    // Nobody of that name: no records.
    assert!(
        stats::gather::author_history(&db.store, &p, "las", "nobody")
            .await
            .expect("history")
            .is_empty()
    );
    assert_eq!(
        db.store.handles_starting("tr", 10).await.expect("handles"),
        vec!["troll".to_owned()]
    );
}

#[tokio::test]
async fn timelines_and_history_sqlite() {
    store_db::run_sqlite(timelines_and_history).await;
}

#[tokio::test]
async fn timelines_and_history_postgres() {
    store_db::run_postgres(timelines_and_history).await;
}
