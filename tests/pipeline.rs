//! The ingest pipeline end to end on SQLite: classify → decide → store in one
//! transaction, idempotent on duplicates, with the audit chain intact.

use chrono::{DateTime, TimeZone, Utc};
use signpost::category::Category;
use signpost::decide::Priority;
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::replies::Template;
use signpost::store::{AuditFilter, Store};
use std::path::Path;

fn pipeline() -> Pipeline {
    Pipeline::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), true)
        .expect("shipped config")
}

fn post(id: &str, author: &str, text: &str, at: DateTime<Utc>) -> InboundPost {
    InboundPost {
        platform: Platform::Facebook,
        external_id: id.into(),
        account: "LondonAmbulanceService".into(),
        org: "las".into(),
        kind: PostKind::Comment,
        author_id: author.into(),
        author_handle: author.into(),
        text: text.into(),
        url: None,
        created_at: at,
    }
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::connect(&url).await.expect("store");
    (dir, store)
}

async fn ingest(p: &Pipeline, s: &Store, post: &InboundPost) -> Ingested {
    let mut tx = s.begin().await.expect("tx");
    let overrides = p
        .overrides(&mut tx, &post.org, post.created_at)
        .await
        .expect("overrides");
    let out = p
        .ingest(&mut tx, post, None, &[], &overrides, post.created_at)
        .await
        .expect("ingest");
    tx.commit().await.expect("commit");
    out
}

#[tokio::test]
async fn duplicate_delivery_is_stored_once() {
    let p = pipeline();
    let (_d, s) = store().await;
    let at = Utc.with_ymd_and_hms(2026, 12, 23, 20, 0, 0).unwrap();
    let first = ingest(
        &p,
        &s,
        &post("c1", "amy", "should I go to A&E with chest pain?", at),
    )
    .await;
    let Ingested::New {
        post_id, decision, ..
    } = first
    else {
        panic!("first delivery is new");
    };
    assert_eq!(
        decision.auto_reply.as_ref().map(|r| r.template),
        Some(Template::ClinicalSignpost)
    );
    let again = ingest(
        &p,
        &s,
        &post("c1", "amy", "should I go to A&E with chest pain?", at),
    )
    .await;
    assert!(matches!(again, Ingested::Duplicate { post_id: id } if id == post_id));
    let rows = s
        .audit_rows(&AuditFilter {
            post_id: Some(post_id),
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "classify",
            "relay.queued",
            "auto_reply",
            "auto_reply.suppressed"
        ]
    );
    assert!(s.verify_audit().await.expect("verify").is_intact());
    assert_eq!(s.queue_depth("discord.relay").await.expect("depth"), 1);
}

#[tokio::test]
async fn issue3_complaints_are_not_strikes() {
    let p = pipeline();
    let (_d, s) = store().await;
    let base = Utc.with_ymd_and_hms(2026, 11, 17, 10, 0, 0).unwrap();
    for i in 0..4 {
        let text = format!("complaint number {i}: waited 9 hours in A&E, unacceptable");
        let out = ingest(
            &p,
            &s,
            &post(
                &format!("k{i}"),
                "kim",
                &text,
                base + chrono::Duration::hours(i),
            ),
        )
        .await;
        let Ingested::New {
            decision,
            classification,
            ..
        } = out
        else {
            panic!("new post");
        };
        assert!(classification.has(Category::Complaint));
        assert!(
            !decision.block_suggested,
            "complaint {i} must not suggest a block"
        );
    }
    let h = s
        .author_history(Platform::Facebook, "kim", base - chrono::Duration::days(30))
        .await
        .expect("history");
    assert_eq!(h.flagged_since, 0);
    assert_eq!(h.strikes_total, 0);
}

#[tokio::test]
async fn repeat_abuse_suggests_a_block_at_the_threshold() {
    let p = pipeline();
    let (_d, s) = store().await;
    let base = Utc.with_ymd_and_hms(2026, 11, 17, 10, 0, 0).unwrap();
    let mut suggested = Vec::new();
    for i in 0..3 {
        let out = ingest(
            &p,
            &s,
            &post(
                &format!("a{i}"),
                "troll",
                "you pathetic idiots",
                base + chrono::Duration::hours(i),
            ),
        )
        .await;
        let Ingested::New { decision, .. } = out else {
            panic!("new post");
        };
        suggested.push(decision.block_suggested);
    }
    assert_eq!(
        suggested,
        [false, false, true],
        "LAS blocks at 3 strikes in 30 days"
    );
}

#[tokio::test]
async fn crisis_out_of_hours_gets_reply_and_urgent_relay() {
    let p = pipeline();
    let (_d, s) = store().await;
    let at = Utc.with_ymd_and_hms(2026, 12, 25, 1, 15, 0).unwrap();
    let out = ingest(
        &p,
        &s,
        &post("z1", "lee", "I'm going to take all my tablets tonight", at),
    )
    .await;
    let Ingested::New { decision, .. } = out else {
        panic!("new post");
    };
    assert_eq!(
        decision.relay.as_ref().map(|r| r.priority),
        Some(Priority::Urgent)
    );
    let reply = decision.auto_reply.expect("crisis reply");
    assert_eq!(reply.template, Template::Crisis);
    assert!(reply.text.contains("999"), "{}", reply.text);
}

#[test]
fn replay_of_the_example_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("replay.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "replay",
            "examples/trust-day.jsonl",
            "--db",
            db.to_str().expect("utf8"),
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "posts 21  new 20  duplicates 1  skipped 0  in hours 12  out of hours 8",
        "relays queued: high 1, low 2, normal 12, urgent 1",
        "auto-replies (dry run): clinical_signpost 1, crisis 1, out_of_hours 4",
        "block suggested: 1",
        "chain intact",
        "RELAY URGENT",
        "9am on Tuesday 29 December",
        "0•••• •••••3",
        "[★ Escalate to police]",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
    assert!(
        !text.contains("07700 900123"),
        "personal data is masked in the transcript"
    );
}

#[tokio::test]
async fn audit_verify_reports_the_first_tampered_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("audit.db");
    let db_arg = db.to_str().expect("utf8");
    let bin = env!("CARGO_BIN_EXE_signpost");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .expect("runs")
    };
    assert!(run(&[
        "replay",
        "examples/trust-day.jsonl",
        "--db",
        db_arg,
        "--quiet"
    ])
    .status
    .success());
    let ok = run(&["audit", "verify", "--db", db_arg]);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("audit log intact: 46 rows checked"));

    // Someone edits row 7 behind Signpost's back (dropping the guard trigger first).
    sqlx::any::install_default_drivers();
    let mut conn =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("sqlite://{db_arg}"))
            .await
            .expect("connect");
    for sql in [
        "DROP TRIGGER IF EXISTS actions_no_update",
        "UPDATE actions SET reason = 'nothing to see here' WHERE id = 7",
    ] {
        sqlx::Executor::execute(&mut conn, sql)
            .await
            .expect("tamper");
    }
    drop(conn);
    let broken = run(&["audit", "verify", "--db", db_arg]);
    assert_eq!(broken.status.code(), Some(1));
    let text = String::from_utf8_lossy(&broken.stdout);
    assert!(text.contains("audit log BROKEN at row 7"), "{text}");
}

#[tokio::test]
async fn batched_and_one_at_a_time_decide_the_same() {
    let p = pipeline();
    let (_d1, one) = store().await;
    let (_d2, batched) = store().await;
    let base = Utc.with_ymd_and_hms(2026, 12, 24, 16, 0, 0).unwrap();
    let texts = [
        "you pathetic idiots",
        "what time does the car park open?",
        "My mum was left on a trolley for 14 hours, disgraceful",
        "should I go to A&E with chest pain?",
        "I know where you live",
        "thank you for everything",
    ];
    let posts: Vec<InboundPost> = (0..36)
        .map(|i| {
            post(
                &format!("b{i}"),
                ["ann", "bob", "cat"][i % 3],
                texts[i % texts.len()],
                base + chrono::Duration::minutes(37 * i as i64),
            )
        })
        .collect();
    let mut a = Vec::new();
    for q in &posts {
        if let Ingested::New { decision, .. } = ingest(&p, &one, q).await {
            a.push(serde_json::to_value(&decision).expect("json"));
        }
    }
    let mut b = Vec::new();
    let mut tx = batched.begin().await.expect("tx");
    let mut batch = signpost::pipeline::Batch::default();
    for q in &posts {
        let out = p
            .ingest_into(&mut tx, &mut batch, q, None, &[], &[], q.created_at)
            .await
            .expect("ingest");
        if let Ingested::New { decision, .. } = out {
            b.push(serde_json::to_value(&decision).expect("json"));
        }
    }
    batch.flush(&mut tx, base).await.expect("flush");
    tx.commit().await.expect("commit");
    assert_eq!(a.len(), 36);
    assert_eq!(a, b, "the batch must decide exactly as one post at a time");
    for author in ["ann", "bob", "cat"] {
        let since = base - chrono::Duration::days(30);
        let ha = one
            .author_history(Platform::Facebook, author, since)
            .await
            .expect("history");
        let hb = batched
            .author_history(Platform::Facebook, author, since)
            .await
            .expect("history");
        assert_eq!(ha, hb, "{author}");
    }
    assert!(
        a.iter().any(|d| d["block_suggested"] == true),
        "the sequence reaches a block suggestion"
    );
    let (ra, rb) = (
        one.verify_audit().await.expect("verify"),
        batched.verify_audit().await.expect("verify"),
    );
    assert_eq!(ra.rows_checked, rb.rows_checked);
    assert!(ra.is_intact() && rb.is_intact());
    // The report rollups, kept by triggers, match a recount either way.
    for store in [&one, &batched] {
        assert_eq!(store.rollup_drift().await.expect("drift"), vec![]);
    }
}
