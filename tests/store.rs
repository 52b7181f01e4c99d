//! Storage layer tests. Each runs on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (see `.ci/pg-setup.sh`).

#[path = "common/store_db.rs"]
mod store_db;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::json;
use signpost::category::{Category, Severity};
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::store::{
    Actor, AuditEntry, AuditFilter, AuditOutcome, AutoReplyStatus, BreakReason, Classification,
    JobStatus, NewAutoReply, NewHoursOverride, NewJob, OverrideKind, RelayState, Store, StoreError,
    Transition, GENESIS_HASH,
};
use sqlx::Row;
use store_db::TestDb;

fn t(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_700_000_000_000 + ms).unwrap()
}

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

fn post(external_id: &str, author: &str, at: DateTime<Utc>) -> InboundPost {
    InboundPost {
        platform: Platform::Facebook,
        external_id: external_id.to_owned(),
        account: "LondonAmbulance".to_owned(),
        org: "las".to_owned(),
        kind: PostKind::Comment,
        author_id: author.to_owned(),
        author_handle: format!("@{author}"),
        text: format!("post {external_id} by {author} — ünïcode ✓"),
        url: Some(format!("https://facebook.example/{external_id}")),
        created_at: at,
    }
}

fn entry(i: usize, post_id: Option<i64>) -> AuditEntry {
    AuditEntry {
        at: t(i as i64 * 1000),
        org: "las".to_owned(),
        post_id,
        actor_id: format!("u{}", i % 3),
        actor_name: format!("Member {}", i % 3),
        action: if i.is_multiple_of(2) {
            "hide"
        } else {
            "relay.dismiss"
        }
        .to_owned(),
        reason: i.is_multiple_of(3).then(|| format!("reason {i}")),
        outcome: match i % 4 {
            0 => AuditOutcome::Ok,
            1 => AuditOutcome::DryRun,
            2 => AuditOutcome::Failed("HTTP 500 \"oops\"".to_owned()),
            _ => AuditOutcome::Ok,
        },
        detail: (i % 2 == 1).then(|| json!({"i": i, "note": "détail"})),
    }
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
}

async fn exec(store: &Store, sql: &str) {
    sqlx::raw_sql(sql).execute(store.pool()).await.unwrap();
}

/// Drops the append-only triggers, as someone tampering with the file would.
async fn drop_audit_triggers(store: &Store) {
    match store.backend() {
        signpost::store::Backend::Sqlite => {
            exec(
                store,
                "DROP TRIGGER actions_no_update; DROP TRIGGER actions_no_delete;",
            )
            .await
        }
        signpost::store::Backend::Postgres => {
            exec(store, "DROP TRIGGER actions_append_only ON actions").await
        }
    }
}

async fn append_n(store: &Store, n: usize) -> Vec<signpost::store::AuditRow> {
    let mut rows = Vec::new();
    for i in 0..n {
        rows.push(
            store
                .append_audit(&entry(i, Some(i as i64 % 4)))
                .await
                .unwrap(),
        );
    }
    rows
}

on_both_backends!(
    migrations_are_idempotent,
    changed_migration_is_refused,
    duplicate_post_is_one_row,
    concurrent_duplicate_posts,
    classification_round_trip,
    relay_lifecycle,
    relay_cas_under_concurrency,
    audit_chain_verifies,
    audit_log_rejects_update_and_delete,
    audit_detects_changed_content,
    audit_detects_rehashed_row_at_next_row,
    audit_detects_deleted_middle_row,
    audit_detects_reordered_rows,
    audit_concurrent_appends,
    batch_transaction_chains_audit_and_rolls_back,
    jobs_fifo_kinds_and_dedupe,
    jobs_concurrent_claimers_never_share,
    jobs_lease_expiry_retry_and_dead,
    jobs_waiting_merge_and_uncounted_attempts,
    posts_fetched_by_id_in_chunks,
    author_history_counts_within_window,
    authors_strikes_and_blocking,
    auto_replies_round_trip,
    overrides_queries,
    overrides_end_early,
    digest_facts_over_a_window,
);

async fn migrations_are_idempotent(db: TestDb) {
    let (id, _) = db
        .store
        .insert_post(&post("p1", "a", t(0)), None, t(5))
        .await
        .unwrap();
    // Connecting again applies nothing and sees the same data.
    let again = Store::connect(&db.url).await.unwrap();
    let third = Store::connect(&db.url).await.unwrap();
    // Every embedded migration applied exactly once, versions 1, 2, … in order.
    let versions: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(third.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("version"))
        .collect();
    assert!(versions.len() >= 2, "{versions:?}");
    assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
    assert_eq!(
        count(&again, "schema_migrations").await,
        versions.len() as i64
    );
    let stored = again.get_post(id).await.unwrap().unwrap();
    assert_eq!(stored.post.external_id, "p1");
    again.close().await;
    third.close().await;
}

async fn changed_migration_is_refused(db: TestDb) {
    exec(
        &db.store,
        "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
    )
    .await;
    let err = Store::connect(&db.url).await.unwrap_err();
    assert!(matches!(err, StoreError::Migration(_)), "{err}");
    assert!(err.to_string().contains("0001_init"), "{err}");
}

async fn duplicate_post_is_one_row(db: TestDb) {
    let s = &db.store;
    let p = post("dup-1", "alice", t(0));
    let raw = r#"{"id":"dup-1","message":"hello"}"#;
    let (id1, inserted1) = s.insert_post(&p, Some(raw), t(10)).await.unwrap();
    let (id2, inserted2) = s.insert_post(&p, None, t(20)).await.unwrap();
    assert!(inserted1);
    assert!(!inserted2);
    assert_eq!(id1, id2);
    assert_eq!(count(s, "posts").await, 1);

    // The first delivery is what is kept, exactly.
    let stored = s.get_post(id1).await.unwrap().unwrap();
    assert_eq!(stored.post, p);
    assert_eq!(stored.received_at, t(10));
    assert_eq!(stored.raw.as_deref(), Some(raw));
    let found = s
        .find_post(Platform::Facebook, "dup-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id1);
    assert!(s.find_post(Platform::X, "dup-1").await.unwrap().is_none());

    // Same external id on another platform is another post.
    let mut other = p.clone();
    other.platform = Platform::X;
    other.url = None;
    let (id3, inserted3) = s.insert_post(&other, None, t(30)).await.unwrap();
    assert!(inserted3);
    assert_ne!(id3, id1);
    assert_eq!(s.get_post(id3).await.unwrap().unwrap().post.url, None);
    assert!(s.get_post(id3 + 100).await.unwrap().is_none());
}

async fn concurrent_duplicate_posts(db: TestDb) {
    let p = post("race-1", "bob", t(0));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = db.store.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            store.insert_post(&p, None, t(i)).await
        }));
    }
    // And the same post inside batch transactions at the same time.
    for i in 0..2 {
        let store = db.store.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await?;
            let r = tx.insert_post(&p, None, t(100 + i)).await?;
            tx.commit().await?;
            Ok(r)
        }));
    }
    let mut ids = HashSet::new();
    let mut inserted = 0;
    for task in tasks {
        let (id, new) = task.await.unwrap().unwrap();
        ids.insert(id);
        inserted += usize::from(new);
    }
    assert_eq!(ids.len(), 1, "all deliveries share one id");
    assert_eq!(inserted, 1, "exactly one delivery inserted");
    assert_eq!(count(&db.store, "posts").await, 1);
}

async fn classification_round_trip(db: TestDb) {
    let s = &db.store;
    let (id, _) = s
        .insert_post(&post("c1", "carol", t(0)), None, t(0))
        .await
        .unwrap();
    assert!(s.get_classification(id).await.unwrap().is_none());
    let c = Classification {
        post_id: id,
        categories: vec![Category::Abuse, Category::PersonalInfo],
        rules: vec!["abuse.insult".to_owned(), "pii.phone".to_owned()],
        severity: Severity::High,
        classified_at: t(1),
    };
    s.record_classification(&c).await.unwrap();
    assert_eq!(s.get_classification(id).await.unwrap().unwrap(), c);
    let stored: String = sqlx::query("SELECT categories FROM classifications WHERE post_id = $1")
        .bind(id)
        .fetch_one(s.pool())
        .await
        .unwrap()
        .get("categories");
    assert_eq!(stored, r#"["abuse","personal_info"]"#);

    // Recording again replaces it.
    let clean = Classification {
        categories: vec![],
        rules: vec![],
        severity: Severity::None,
        classified_at: t(2),
        ..c
    };
    s.record_classification(&clean).await.unwrap();
    assert_eq!(s.get_classification(id).await.unwrap().unwrap(), clean);
    assert_eq!(count(s, "classifications").await, 1);

    // A classification for a post that does not exist is a conflict.
    let orphan = Classification {
        post_id: id + 1000,
        ..clean
    };
    let err = s.record_classification(&orphan).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
}

async fn relay_lifecycle(db: TestDb) {
    let s = &db.store;
    let (pid, _) = s
        .insert_post(&post("r1", "dan", t(0)), None, t(0))
        .await
        .unwrap();
    let (rid, created) = s.create_relay(pid, "las", None, t(1)).await.unwrap();
    assert!(created);
    let (rid2, created2) = s
        .create_relay(pid, "las", Some("ignored"), t(2))
        .await
        .unwrap();
    assert_eq!((rid2, created2), (rid, false));
    let relay = s.get_relay(pid).await.unwrap().unwrap();
    assert_eq!(relay.state, RelayState::Pending);
    assert_eq!(relay.message_id, None);
    assert_eq!(relay.created_at, t(1));

    s.set_relay_message(pid, "chan-1", "msg-1", t(3))
        .await
        .unwrap();
    let relay = s.get_relay(pid).await.unwrap().unwrap();
    assert_eq!(relay.state, RelayState::Open);
    assert_eq!(relay.channel_id.as_deref(), Some("chan-1"));
    assert_eq!(relay.message_id.as_deref(), Some("msg-1"));
    assert_eq!(relay.updated_at, t(3));

    let sam = Actor::new("d-1", "Sam");
    let r = s
        .transition_relay(
            pid,
            RelayState::Open,
            RelayState::Actioned,
            &sam,
            Some("hidden"),
            t(4),
        )
        .await
        .unwrap();
    assert_eq!(r, Transition::Applied);
    let relay = s.get_relay(pid).await.unwrap().unwrap();
    assert_eq!(relay.state, RelayState::Actioned);
    assert_eq!(relay.state_by_name.as_deref(), Some("Sam"));
    assert_eq!(relay.state_reason.as_deref(), Some("hidden"));
    assert_eq!(relay.state_at, Some(t(4)));

    let r = s
        .transition_relay(
            pid,
            RelayState::Open,
            RelayState::Dismissed,
            &Actor::system(),
            None,
            t(5),
        )
        .await
        .unwrap();
    assert_eq!(
        r,
        Transition::AlreadyDone {
            state: RelayState::Actioned,
            by_id: Some("d-1".to_owned()),
            by_name: Some("Sam".to_owned()),
            at: Some(t(4)),
            reason: Some("hidden".to_owned()),
        }
    );
    // A message id arriving late does not reopen it.
    s.set_relay_message(pid, "chan-1", "msg-2", t(6))
        .await
        .unwrap();
    assert_eq!(
        s.get_relay(pid).await.unwrap().unwrap().state,
        RelayState::Actioned
    );

    let err = s
        .transition_relay(
            pid + 99,
            RelayState::Open,
            RelayState::Dismissed,
            &sam,
            None,
            t(7),
        )
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(s
        .set_relay_message(pid + 99, "c", "m", t(8))
        .await
        .unwrap_err()
        .is_not_found());
    assert!(s.get_relay(pid + 99).await.unwrap().is_none());
}

async fn relay_cas_under_concurrency(db: TestDb) {
    let s = &db.store;
    let (pid, _) = s
        .insert_post(&post("r-race", "eve", t(0)), None, t(0))
        .await
        .unwrap();
    s.create_relay(pid, "las", Some("chan"), t(0))
        .await
        .unwrap();
    s.set_relay_message(pid, "chan", "msg", t(0)).await.unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = db.store.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let actor = Actor::new(format!("id-{i}"), format!("Clicker {i}"));
            let new = if i % 2 == 0 {
                RelayState::Dismissed
            } else {
                RelayState::Actioned
            };
            barrier.wait().await;
            let r = store
                .transition_relay(pid, RelayState::Open, new, &actor, None, t(i))
                .await
                .unwrap();
            (actor.name, r)
        }));
    }
    let mut applied = Vec::new();
    let mut already = Vec::new();
    for task in tasks {
        let (name, r) = task.await.unwrap();
        match r {
            Transition::Applied => applied.push(name),
            Transition::AlreadyDone { by_name, state, .. } => already.push((by_name, state)),
        }
    }
    assert_eq!(applied.len(), 1, "exactly one click applies");
    assert_eq!(already.len(), 15);
    let relay = s.get_relay(pid).await.unwrap().unwrap();
    assert_eq!(relay.state_by_name.as_deref(), Some(applied[0].as_str()));
    for (by_name, state) in already {
        assert_eq!(by_name.as_deref(), Some(applied[0].as_str()));
        assert_eq!(state, relay.state);
    }
}

async fn audit_chain_verifies(db: TestDb) {
    let s = &db.store;
    let empty = s.verify_audit().await.unwrap();
    assert_eq!(empty.rows_checked, 0);
    assert!(empty.is_intact());
    assert_eq!(empty.head, None);

    let rows = append_n(s, 20).await;
    assert_eq!(rows[0].id, 1);
    assert_eq!(rows[0].prev_hash, GENESIS_HASH);
    for w in rows.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
        assert_eq!(w[1].id, w[0].id + 1);
    }
    let report = s.verify_audit().await.unwrap();
    assert_eq!(report.rows_checked, 20);
    assert_eq!(report.first_broken, None);
    assert_eq!(report.head, Some((20, rows[19].hash.clone())));

    // The canonical form is the documented one.
    let r1 = &rows[1];
    assert_eq!(
        r1.canonical(),
        format!(
            r#"[2,{},"las",1,"u1","Member 1","relay.dismiss",null,"dry_run","{{\"i\":1,\"note\":\"détail\"}}"]"#,
            t(1000).timestamp_millis()
        )
    );
    assert_eq!(
        r1.hash,
        signpost::store::chain_hash(&r1.prev_hash, &r1.canonical())
    );
    assert_eq!(r1.outcome(), Some(AuditOutcome::DryRun));
    assert_eq!(r1.detail_json(), Some(json!({"i": 1, "note": "détail"})));
    assert_eq!(
        rows[2].outcome(),
        Some(AuditOutcome::Failed("HTTP 500 \"oops\"".into()))
    );

    // Reading back: all, by post, by time, paged.
    let all = s.audit_rows(&AuditFilter::default()).await.unwrap();
    assert_eq!(all, rows);
    let by_post = s
        .audit_rows(&AuditFilter {
            post_id: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_post.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![3, 7, 11, 15, 19]
    );
    let window = s
        .audit_rows(&AuditFilter {
            from: Some(t(5000)),
            until: Some(t(8000)),
            org: Some("las".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        window.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![6, 7, 8]
    );
    let page = s
        .audit_rows(&AuditFilter {
            after_id: Some(10),
            limit: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![11, 12, 13]
    );
    let other_org = s
        .audit_rows(&AuditFilter {
            org: Some("nwas".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(other_org.is_empty());
}

async fn audit_log_rejects_update_and_delete(db: TestDb) {
    let s = &db.store;
    append_n(s, 3).await;
    let upd = sqlx::query("UPDATE actions SET outcome = 'ok' WHERE id = 2")
        .execute(s.pool())
        .await
        .unwrap_err();
    assert!(upd.to_string().contains("append-only"), "{upd}");
    let del = sqlx::query("DELETE FROM actions WHERE id = 3")
        .execute(s.pool())
        .await
        .unwrap_err();
    assert!(del.to_string().contains("append-only"), "{del}");
    assert_eq!(count(s, "actions").await, 3);
    assert!(s.verify_audit().await.unwrap().is_intact());
}

async fn audit_detects_changed_content(db: TestDb) {
    let s = &db.store;
    append_n(s, 10).await;
    drop_audit_triggers(s).await;
    exec(
        s,
        "UPDATE actions SET actor_name = 'Someone Else' WHERE id = 4",
    )
    .await;
    let report = s.verify_audit().await.unwrap();
    let broken = report.first_broken.expect("tampering detected");
    assert_eq!(broken.id, 4);
    assert!(
        matches!(broken.reason, BreakReason::HashMismatch { .. }),
        "{}",
        broken.reason
    );
    assert_eq!(report.rows_checked, 4);
    assert_eq!(report.head, None);
}

async fn audit_detects_rehashed_row_at_next_row(db: TestDb) {
    let s = &db.store;
    let rows = append_n(s, 10).await;
    drop_audit_triggers(s).await;
    // A careful tamperer also fixes the row's own hash: the next row breaks.
    let mut forged = rows[5].clone();
    forged.outcome = "ok".to_owned();
    forged.hash = forged.compute_hash();
    sqlx::query("UPDATE actions SET outcome = $1, hash = $2 WHERE id = $3")
        .bind(&forged.outcome)
        .bind(&forged.hash)
        .bind(forged.id)
        .execute(s.pool())
        .await
        .unwrap();
    let broken = s.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!(broken.id, 7);
    assert_eq!(
        broken.reason,
        BreakReason::PrevHashMismatch {
            expected: forged.hash.clone(),
            found: rows[5].hash.clone()
        }
    );
}

async fn audit_detects_deleted_middle_row(db: TestDb) {
    let s = &db.store;
    append_n(s, 10).await;
    drop_audit_triggers(s).await;
    exec(s, "DELETE FROM actions WHERE id = 5").await;
    let report = s.verify_audit().await.unwrap();
    let broken = report.first_broken.unwrap();
    assert_eq!(broken.id, 6);
    assert!(
        matches!(broken.reason, BreakReason::PrevHashMismatch { .. }),
        "{}",
        broken.reason
    );
    assert!(broken.reason.to_string().contains("deleted"));
    assert_eq!(report.rows_checked, 5);
}

async fn audit_detects_reordered_rows(db: TestDb) {
    let s = &db.store;
    append_n(s, 6).await;
    drop_audit_triggers(s).await;
    // Swap rows 3 and 4.
    exec(s, "UPDATE actions SET id = -3 WHERE id = 3").await;
    exec(s, "UPDATE actions SET id = 3 WHERE id = 4").await;
    exec(s, "UPDATE actions SET id = 4 WHERE id = -3").await;
    let broken = s.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!(broken.id, 3);
    assert!(matches!(
        broken.reason,
        BreakReason::PrevHashMismatch { .. }
    ));
}

async fn audit_concurrent_appends(db: TestDb) {
    let mut tasks = Vec::new();
    for w in 0..8usize {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                let e = entry(w * 50 + i, Some(w as i64));
                if w < 2 && i % 10 == 0 {
                    // Some appends in small transactions, interleaved.
                    let mut tx = store.begin().await.unwrap();
                    tx.append_audit(&e).await.unwrap();
                    tx.append_audit(&e).await.unwrap();
                    tx.commit().await.unwrap();
                } else {
                    store.append_audit(&e).await.unwrap();
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let report = db.store.verify_audit().await.unwrap();
    assert_eq!(report.first_broken, None);
    assert_eq!(report.rows_checked, 400 + 10);
    assert_eq!(report.head.unwrap().0, 410);
}

async fn batch_transaction_chains_audit_and_rolls_back(db: TestDb) {
    let s = &db.store;
    s.append_audit(&entry(0, None)).await.unwrap();
    let n: i64 = 300;
    let started = std::time::Instant::now();
    let mut tx = s.begin().await.unwrap();
    for i in 0..n {
        let p = post(&format!("b{i}"), &format!("author{}", i % 17), t(i));
        let (id, inserted) = tx.insert_post(&p, Some("{}"), t(i)).await.unwrap();
        assert!(inserted);
        let flagged = i % 3 == 0;
        tx.record_classification(&Classification {
            post_id: id,
            categories: if flagged {
                vec![Category::Profanity]
            } else {
                vec![]
            },
            rules: vec![],
            severity: if flagged {
                Severity::Low
            } else {
                Severity::None
            },
            classified_at: t(i),
        })
        .await
        .unwrap();
        tx.upsert_author_seen(p.platform, &p.author_id, &p.author_handle, p.created_at)
            .await
            .unwrap();
        tx.append_audit(&AuditEntry {
            post_id: Some(id),
            action: "classify".into(),
            ..entry(i as usize, None)
        })
        .await
        .unwrap();
        tx.record_auto_reply(&NewAutoReply {
            post_id: id,
            org: "las".into(),
            platform: p.platform,
            author_id: p.author_id.clone(),
            template: "signpost_complaints".into(),
            text: "Please contact PALS".into(),
            status: if flagged {
                AutoReplyStatus::Suppressed
            } else {
                AutoReplyStatus::Queued
            },
            reason: flagged.then(|| "category".to_owned()),
            at: t(i),
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let elapsed = started.elapsed();
    println!(
        "{:?}: {n} posts in one transaction in {elapsed:?} ({:.0} posts/s, {} build)",
        s.backend(),
        n as f64 / elapsed.as_secs_f64(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    assert_eq!(count(s, "posts").await, n);
    assert_eq!(count(s, "classifications").await, n);
    assert_eq!(count(s, "authors").await, 17);
    assert_eq!(count(s, "auto_replies").await, n);
    let report = s.verify_audit().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.first_broken);
    assert_eq!(report.rows_checked, n as u64 + 1);

    // Rolled back (explicitly or by drop): nothing stays, the chain is intact
    // and the next append continues from the committed head.
    let mut tx = s.begin().await.unwrap();
    tx.insert_post(&post("gone", "x", t(0)), None, t(0))
        .await
        .unwrap();
    tx.append_audit(&entry(1, None)).await.unwrap();
    tx.rollback().await.unwrap();
    {
        let mut tx = s.begin().await.unwrap();
        tx.append_audit(&entry(2, None)).await.unwrap();
    }
    assert!(s
        .find_post(Platform::Facebook, "gone")
        .await
        .unwrap()
        .is_none());
    let next = s.append_audit(&entry(3, None)).await.unwrap();
    assert_eq!(next.id, n + 2);
    let report = s.verify_audit().await.unwrap();
    assert!(report.is_intact());
    assert_eq!(report.rows_checked, n as u64 + 2);
}

async fn jobs_fifo_kinds_and_dedupe(db: TestDb) {
    let s = &db.store;
    let now = t(0);
    let lease = Duration::from_secs(60);
    let (a, _) = s
        .enqueue(
            &NewJob::new("discord.relay", "las", json!({"n": 1}), now),
            now,
        )
        .await
        .unwrap();
    let (b, _) = s
        .enqueue(
            &NewJob::new("platform.action", "las", json!({"n": 2}), now).dedupe_key("hide:42"),
            now,
        )
        .await
        .unwrap();
    let (c, _) = s
        .enqueue(
            &NewJob::new("discord.relay", "las", json!({"n": 3}), now),
            now,
        )
        .await
        .unwrap();
    let later =
        NewJob::new("discord.relay", "las", json!({"n": 4}), now).run_after(now + minutes(10));
    let (d, _) = s.enqueue(&later, now).await.unwrap();

    // Dedupe: same key, same id, no new row.
    let (b2, created) = s
        .enqueue(
            &NewJob::new("platform.action", "las", json!({"n": 99}), now).dedupe_key("hide:42"),
            now,
        )
        .await
        .unwrap();
    assert_eq!((b2, created), (b, false));
    assert_eq!(count(s, "jobs").await, 4);
    assert_eq!(s.queue_depth("discord.relay").await.unwrap(), 3);
    assert_eq!(s.queue_depth("platform.action").await.unwrap(), 1);

    let j1 = s
        .claim_next(&["discord.relay"], now, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j1.id, a);
    assert_eq!(j1.status, JobStatus::Running);
    assert_eq!(j1.attempts, 1);
    assert_eq!(j1.payload, json!({"n": 1}));
    assert_eq!(j1.locked_until, Some(now + minutes(1)));
    let j2 = s
        .claim_next(&["discord.relay"], now, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j2.id, c, "FIFO among due jobs of the kind");
    assert!(
        s.claim_next(&["discord.relay"], now, lease)
            .await
            .unwrap()
            .is_none(),
        "d is not due"
    );
    let j3 = s.claim_next(&[], now, lease).await.unwrap().unwrap();
    assert_eq!(j3.id, b, "an empty kind list takes any kind");
    assert_eq!(j3.dedupe_key.as_deref(), Some("hide:42"));
    let j4 = s
        .claim_next(
            &["platform.reply", "discord.relay"],
            now + minutes(10),
            lease,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j4.id, d);

    for id in [a, b, c, d] {
        s.complete(id, now).await.unwrap();
    }
    assert_eq!(s.queue_depth("discord.relay").await.unwrap(), 0);
    assert_eq!(s.get_job(a).await.unwrap().unwrap().status, JobStatus::Done);
    // A done job keeps its dedupe key: enqueueing it again is still a no-op.
    let (b3, created) = s
        .enqueue(
            &NewJob::new("platform.action", "las", json!({}), now).dedupe_key("hide:42"),
            now,
        )
        .await
        .unwrap();
    assert_eq!((b3, created), (b, false));
    let err = s.complete(a, now).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(s.complete(9999, now).await.unwrap_err().is_not_found());
    let zero = NewJob::new("x", "las", json!({}), now).max_attempts(0);
    assert!(matches!(
        s.enqueue(&zero, now).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
}

async fn jobs_concurrent_claimers_never_share(db: TestDb) {
    let now = t(0);
    for i in 0..60 {
        db.store
            .enqueue(
                &NewJob::new("platform.reply", "las", json!({ "i": i }), now),
                now,
            )
            .await
            .unwrap();
    }
    let mut workers = Vec::new();
    for _ in 0..8 {
        let store = db.store.clone();
        workers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(job) = store
                .claim_next(&["platform.reply"], now, Duration::from_secs(30))
                .await
                .unwrap()
            {
                store.complete(job.id, now).await.unwrap();
                got.push(job.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every job claimed once");
    assert_eq!(unique.len(), 60, "no job claimed twice");
    assert_eq!(db.store.queue_depth("platform.reply").await.unwrap(), 0);
}

async fn jobs_lease_expiry_retry_and_dead(db: TestDb) {
    let s = &db.store;
    let now = t(0);
    let lease = Duration::from_secs(30);
    let (id, _) = s
        .enqueue(
            &NewJob::new("platform.action", "las", json!({}), now).max_attempts(3),
            now,
        )
        .await
        .unwrap();
    let job = s.claim_next(&[], now, lease).await.unwrap().unwrap();
    assert_eq!(job.id, id);
    // The worker "crashes". Before the lease ends nothing is released.
    assert_eq!(
        s.release_expired(now + TimeDelta::seconds(10))
            .await
            .unwrap(),
        0
    );
    assert!(s
        .claim_next(&[], now + TimeDelta::seconds(10), lease)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.release_expired(now + TimeDelta::seconds(31))
            .await
            .unwrap(),
        1
    );
    let job = s.get_job(id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.locked_until, None);
    assert_eq!(job.last_error.as_deref(), Some("lease expired"));

    // Attempt 2 fails with a retry time: claimable again only from then.
    let job = s
        .claim_next(&[], now + minutes(1), lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.attempts, 2);
    let status = s
        .fail(id, "HTTP 503", Some(now + minutes(5)), now + minutes(1))
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Failed);
    assert!(s
        .claim_next(&[], now + minutes(4), lease)
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.queue_depth("platform.action").await.unwrap(), 1);
    let job = s
        .claim_next(&[], now + minutes(5), lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error.as_deref(), Some("HTTP 503"));
    // Attempt 3 of 3 fails: dead, even with a retry time.
    let status = s
        .fail(
            id,
            "HTTP 503 again",
            Some(now + minutes(9)),
            now + minutes(6),
        )
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Dead);
    assert!(s
        .claim_next(&[], now + minutes(60), lease)
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.queue_depth("platform.action").await.unwrap(), 0);
    let err = s.fail(id, "late", None, now).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");

    // A permanent failure (no retry time) is dead at once.
    let (id2, _) = s
        .enqueue(&NewJob::new("platform.action", "las", json!({}), now), now)
        .await
        .unwrap();
    s.claim_next(&[], now, lease).await.unwrap().unwrap();
    assert_eq!(
        s.fail(id2, "400 bad request", None, now).await.unwrap(),
        JobStatus::Dead
    );

    // A job whose worker keeps dying is dead after its last lease.
    let (id3, _) = s
        .enqueue(
            &NewJob::new("platform.action", "las", json!({}), now).max_attempts(1),
            now,
        )
        .await
        .unwrap();
    s.claim_next(&[], now, lease).await.unwrap().unwrap();
    assert_eq!(s.release_expired(now + minutes(1)).await.unwrap(), 1);
    assert_eq!(
        s.get_job(id3).await.unwrap().unwrap().status,
        JobStatus::Dead
    );
}

async fn author_history_counts_within_window(db: TestDb) {
    let s = &db.store;
    let day = TimeDelta::days(1);
    let base = t(0);
    // Alice: flagged posts 10 and 3 days ago, a clean one 2 days ago, a
    // flagged one 1 day ago, and one with no classification at all.
    let alice_posts = [(10, true), (3, true), (2, false), (1, true)];
    for (i, (days_ago, flagged)) in alice_posts.iter().enumerate() {
        let p = post(&format!("a{i}"), "alice", base - day * *days_ago);
        let (id, _) = s.insert_post(&p, None, base).await.unwrap();
        s.record_classification(&Classification {
            post_id: id,
            // A complaint is not a strike: only strike categories flag a post.
            categories: if *flagged {
                vec![Category::Abuse]
            } else {
                vec![Category::Complaint]
            },
            rules: vec![],
            severity: Severity::Medium,
            classified_at: base,
        })
        .await
        .unwrap();
        s.upsert_author_seen(p.platform, &p.author_id, &p.author_handle, p.created_at)
            .await
            .unwrap();
    }
    let (unclassified, _) = s
        .insert_post(&post("a-x", "alice", base), None, base)
        .await
        .unwrap();
    // Bob's flagged post must not count for Alice; nor Alice's handle on X.
    let (bob_post, _) = s
        .insert_post(&post("b0", "bob", base), None, base)
        .await
        .unwrap();
    s.record_classification(&Classification {
        post_id: bob_post,
        categories: vec![Category::Spam],
        rules: vec![],
        severity: Severity::Low,
        classified_at: base,
    })
    .await
    .unwrap();
    s.add_strike(Platform::Facebook, "alice").await.unwrap();
    s.add_strike(Platform::Facebook, "alice").await.unwrap();
    for (status, at) in [
        (AutoReplyStatus::Sent, base - day * 5),
        (AutoReplyStatus::Sent, base - day * 2),
        (AutoReplyStatus::Suppressed, base - day),
        (AutoReplyStatus::Queued, base),
    ] {
        s.record_auto_reply(&NewAutoReply {
            post_id: unclassified,
            org: "las".into(),
            platform: Platform::Facebook,
            author_id: "alice".into(),
            template: "t".into(),
            text: "hello".into(),
            status,
            reason: None,
            at,
        })
        .await
        .unwrap();
    }

    let h = s
        .author_history(Platform::Facebook, "alice", base - day * 7)
        .await
        .unwrap();
    assert_eq!(h.flagged_since, 2);
    assert_eq!(h.strikes_total, 2);
    assert!(!h.blocked);
    assert_eq!(
        h.last_auto_reply_at,
        Some(base),
        "sent and queued replies count (a queued one is on its way); suppressed ones do not"
    );
    let h = s
        .author_history(Platform::Facebook, "alice", base - day * 30)
        .await
        .unwrap();
    assert_eq!(h.flagged_since, 3);
    // The boundary is inclusive.
    let h = s
        .author_history(Platform::Facebook, "alice", base - day * 3)
        .await
        .unwrap();
    assert_eq!(h.flagged_since, 2);
    let h = s
        .author_history(Platform::Facebook, "alice", base)
        .await
        .unwrap();
    assert_eq!(h.flagged_since, 0);

    s.set_blocked(Platform::Facebook, "alice", true, base)
        .await
        .unwrap();
    assert!(
        s.author_history(Platform::Facebook, "alice", base)
            .await
            .unwrap()
            .blocked
    );
    let nobody = s
        .author_history(Platform::Instagram, "alice", base - day * 30)
        .await
        .unwrap();
    assert_eq!(nobody, Default::default());
}

async fn authors_strikes_and_blocking(db: TestDb) {
    let s = &db.store;
    let fb = Platform::Facebook;
    s.upsert_author_seen(fb, "u1", "@old", t(1000))
        .await
        .unwrap();
    s.upsert_author_seen(fb, "u1", "@new", t(5000))
        .await
        .unwrap();
    // An older post arriving late changes neither handle nor last_seen.
    s.upsert_author_seen(fb, "u1", "@older", t(500))
        .await
        .unwrap();
    let a = s.get_author(fb, "u1").await.unwrap().unwrap();
    assert_eq!(a.handle, "@new");
    assert_eq!(a.first_seen, t(500));
    assert_eq!(a.last_seen, t(5000));
    assert_eq!((a.strikes, a.blocked, a.blocked_at), (0, false, None));

    assert_eq!(s.add_strike(fb, "u1").await.unwrap(), 1);
    assert_eq!(s.add_strike(fb, "u1").await.unwrap(), 2);
    s.set_blocked(fb, "u1", true, t(6000)).await.unwrap();
    let a = s.get_author(fb, "u1").await.unwrap().unwrap();
    assert_eq!(
        (a.strikes, a.blocked, a.blocked_at),
        (2, true, Some(t(6000)))
    );
    s.set_blocked(fb, "u1", false, t(7000)).await.unwrap();
    let a = s.get_author(fb, "u1").await.unwrap().unwrap();
    assert_eq!((a.blocked, a.blocked_at), (false, None));

    assert!(s.add_strike(fb, "nobody").await.unwrap_err().is_not_found());
    assert!(s
        .set_blocked(fb, "nobody", true, t(0))
        .await
        .unwrap_err()
        .is_not_found());
    assert!(s.get_author(Platform::X, "u1").await.unwrap().is_none());

    // Strikes from concurrent moderators all count.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store.add_strike(fb, "u1").await.unwrap()
        }));
    }
    let mut totals = Vec::new();
    for task in tasks {
        totals.push(task.await.unwrap());
    }
    totals.sort();
    assert_eq!(totals, (3..=12).collect::<Vec<u32>>());
}

async fn auto_replies_round_trip(db: TestDb) {
    let s = &db.store;
    let (pid, _) = s
        .insert_post(&post("ar1", "fay", t(0)), None, t(0))
        .await
        .unwrap();
    let new = NewAutoReply {
        post_id: pid,
        org: "las".into(),
        platform: Platform::Facebook,
        author_id: "fay".into(),
        template: "signpost_clinical".into(),
        text: "Please call 111".into(),
        status: AutoReplyStatus::Queued,
        reason: None,
        at: t(1),
    };
    let id = s.record_auto_reply(&new).await.unwrap();
    s.set_auto_reply_status(id, AutoReplyStatus::Sent, None, t(2))
        .await
        .unwrap();
    let id2 = s
        .record_auto_reply(&NewAutoReply {
            status: AutoReplyStatus::Suppressed,
            reason: Some("abuse".into()),
            ..new.clone()
        })
        .await
        .unwrap();
    let replies = s.auto_replies_for_post(pid).await.unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0].id, id);
    assert_eq!(replies[0].status, AutoReplyStatus::Sent);
    assert_eq!(replies[0].at, t(2));
    assert_eq!(replies[0].text, "Please call 111");
    assert_eq!(replies[1].id, id2);
    assert_eq!(replies[1].reason.as_deref(), Some("abuse"));
    assert!(s
        .set_auto_reply_status(id2 + 10, AutoReplyStatus::Sent, None, t(3))
        .await
        .unwrap_err()
        .is_not_found());
}

async fn overrides_queries(db: TestDb) {
    let s = &db.store;
    let h = TimeDelta::hours(1);
    let base = t(0);
    let mk = |org: &str, kind, from: DateTime<Utc>, to: DateTime<Utc>| NewHoursOverride {
        org: org.into(),
        kind,
        starts_at: from,
        ends_at: to,
        actor_id: "d-1".into(),
        actor_name: "Sam".into(),
        reason: "bank holiday".into(),
        created_at: base,
    };
    let past = s
        .add_override(&mk("las", OverrideKind::Closed, base - h * 5, base - h * 2))
        .await
        .unwrap();
    let now_on = s
        .add_override(&mk("las", OverrideKind::Open, base - h, base + h))
        .await
        .unwrap();
    let future = s
        .add_override(&mk(
            "las",
            OverrideKind::Closed,
            base + h * 24,
            base + h * 48,
        ))
        .await
        .unwrap();
    let other = s
        .add_override(&mk("nwas", OverrideKind::Closed, base - h, base + h))
        .await
        .unwrap();

    let active = s.active_overrides("las", base).await.unwrap();
    assert_eq!(
        active.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![now_on, future]
    );
    assert_eq!(active[0].kind, OverrideKind::Open);
    assert_eq!(active[0].starts_at, base - h);
    assert_eq!(active[0].actor_name, "Sam");
    // An override ending exactly at `at` is over.
    let at_end = s.active_overrides("las", base + h).await.unwrap();
    assert_eq!(
        at_end.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![future]
    );

    let between = s
        .overrides_between("las", base - h * 3, base)
        .await
        .unwrap();
    assert_eq!(
        between.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![past, now_on]
    );
    // Half-open windows: touching is not overlapping.
    let touching = s
        .overrides_between("las", base + h, base + h * 24)
        .await
        .unwrap();
    assert!(touching.is_empty());
    let nwas = s
        .overrides_between("nwas", base - h * 100, base + h * 100)
        .await
        .unwrap();
    assert_eq!(nwas.iter().map(|o| o.id).collect::<Vec<_>>(), vec![other]);

    let bad = mk("las", OverrideKind::Open, base, base);
    assert!(matches!(
        s.add_override(&bad).await.unwrap_err(),
        StoreError::Invalid(_)
    ));

    s.delete_override(now_on).await.unwrap();
    let active = s.active_overrides("las", base).await.unwrap();
    assert_eq!(
        active.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![future]
    );
    assert!(s.delete_override(now_on).await.unwrap_err().is_not_found());
}

async fn overrides_end_early(db: TestDb) {
    let s = &db.store;
    let h = TimeDelta::hours(1);
    let base = t(0);
    let mk = |from: DateTime<Utc>, to: DateTime<Utc>| NewHoursOverride {
        org: "las".into(),
        kind: OverrideKind::Closed,
        starts_at: from,
        ends_at: to,
        actor_id: "d-1".into(),
        actor_name: "Sam".into(),
        reason: "major incident".into(),
        created_at: base - h,
    };
    let in_force = s.add_override(&mk(base - h, base + h * 5)).await.unwrap();
    let later = s.add_override(&mk(base + h, base + h * 2)).await.unwrap();
    let over = s
        .add_override(&mk(base - h * 3, base - h * 2))
        .await
        .unwrap();

    // Inside a transaction, like `/hours clear`.
    let mut tx = s.begin().await.unwrap();
    assert!(tx.end_override(in_force, base).await.unwrap());
    tx.commit().await.unwrap();
    // Not in force at `base`: one yet to start, one over; neither changes.
    assert!(!s.end_override(later, base).await.unwrap());
    assert!(!s.end_override(over, base).await.unwrap());
    // Ending again at the same instant: it is no longer in force.
    assert!(!s.end_override(in_force, base).await.unwrap());
    assert!(s
        .end_override(424242, base)
        .await
        .unwrap_err()
        .is_not_found());

    let active = s.active_overrides("las", base).await.unwrap();
    assert_eq!(active.iter().map(|o| o.id).collect::<Vec<_>>(), vec![later]);
    // The history keeps what the cut override covered.
    let all = s
        .overrides_between("las", base - h * 10, base + h * 10)
        .await
        .unwrap();
    let cut = all.iter().find(|o| o.id == in_force).unwrap();
    assert_eq!((cut.starts_at, cut.ends_at), (base - h, base));
    assert_eq!(cut.reason, "major incident");
}

async fn digest_facts_over_a_window(db: TestDb) {
    let s = &db.store;
    let h = TimeDelta::hours(1);
    let (from, to) = (t(0), t(0) + h * 10);
    // (id, platform, org, received, categories, relay)
    let mut ids = Vec::new();
    let spec: [(&str, Platform, &str, TimeDelta, &[Category]); 8] = [
        ("d0", Platform::Facebook, "las", -h, &[Category::Crisis]),
        ("d1", Platform::Facebook, "las", h, &[Category::Abuse]),
        ("d2", Platform::X, "las", h * 2, &[Category::Crisis]),
        ("d3", Platform::Facebook, "las", h * 3, &[]),
        (
            "d4",
            Platform::Facebook,
            "las",
            h * 4,
            &[Category::Complaint, Category::Abuse],
        ),
        ("d5", Platform::Facebook, "las", h * 5, &[]),
        ("d6", Platform::Facebook, "las", h * 10, &[Category::Abuse]),
        ("d7", Platform::Facebook, "nsft", h * 2, &[Category::Crisis]),
    ];
    for (ext, platform, org, at, cats) in spec {
        let mut p = post(ext, &format!("author-{ext}"), from + at);
        p.platform = platform;
        p.org = org.into();
        let (id, _) = s.insert_post(&p, None, from + at).await.unwrap();
        s.record_classification(&Classification {
            post_id: id,
            categories: cats.to_vec(),
            rules: vec![],
            severity: Severity::Low,
            classified_at: from + at,
        })
        .await
        .unwrap();
        ids.push(id);
    }
    let relay = |i: usize| (ids[i], spec_org(i), from + h * (i as i32 - 1));
    fn spec_org(i: usize) -> &'static str {
        if i == 7 {
            "nsft"
        } else {
            "las"
        }
    }
    for i in [0, 1, 2, 4, 7] {
        let (id, org, at) = relay(i);
        s.create_relay(id, org, None, at).await.unwrap();
    }
    for i in [0, 2, 7] {
        s.set_relay_message(ids[i], "100", &format!("90{i}"), from)
            .await
            .unwrap();
    }
    let actor = Actor::new("d-1", "Sam");
    s.set_relay_message(ids[4], "100", "904", from)
        .await
        .unwrap();
    s.transition_relay(
        ids[4],
        RelayState::Open,
        RelayState::Actioned,
        &actor,
        None,
        from + h * 6,
    )
    .await
    .unwrap();
    let reply = |i: usize, template: &str, status, at| NewAutoReply {
        post_id: ids[i],
        org: "las".into(),
        platform: Platform::Facebook,
        author_id: format!("author-d{i}"),
        template: template.into(),
        text: String::new(),
        status,
        reason: None,
        at,
    };
    for r in [
        reply(2, "crisis", AutoReplyStatus::Sent, from + h * 2),
        reply(3, "out_of_hours", AutoReplyStatus::Queued, from + h * 3),
        reply(
            4,
            "complaint_signpost",
            AutoReplyStatus::Suppressed,
            from + h * 4,
        ),
        reply(5, "out_of_hours", AutoReplyStatus::Sent, from + h * 5),
        reply(5, "ask_to_dm", AutoReplyStatus::Suppressed, from + h * 5),
        reply(6, "out_of_hours", AutoReplyStatus::Sent, to),
    ] {
        s.record_auto_reply(&r).await.unwrap();
    }

    let f = s.digest_facts("las", from, to, 2).await.unwrap();
    assert_eq!((f.org.as_str(), f.from, f.to), ("las", from, to));
    assert_eq!(
        f.posts, 5,
        "d1–d5; d0 is before, d6 at the end, d7 another org's"
    );
    assert_eq!(
        f.by_platform,
        vec![(Platform::Facebook, 4), (Platform::X, 1)]
    );
    let cats: std::collections::BTreeMap<Category, u64> = f.by_category.iter().cloned().collect();
    assert_eq!(
        cats,
        [
            (Category::Abuse, 2),
            (Category::Complaint, 1),
            (Category::Crisis, 1)
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(f.by_category[0], (Category::Abuse, 2), "most first");
    assert_eq!(
        f.auto_replies,
        vec![("out_of_hours".to_owned(), 2), ("crisis".to_owned(), 1)]
    );
    assert_eq!(f.auto_replies_queued, 1);
    assert_eq!(f.suppressed_posts, 1, "d4 only: d5 got a reply");
    assert_eq!(f.crisis_total, 1);
    let crisis = &f.crisis[0];
    assert_eq!(crisis.post_id, ids[2]);
    assert_eq!(crisis.platform, Platform::X);
    assert_eq!(crisis.author_handle, "@author-d2");
    assert_eq!(crisis.categories, vec![Category::Crisis]);
    assert_eq!(crisis.relay_state, Some(RelayState::Open));
    assert_eq!(crisis.message_id.as_deref(), Some("902"));
    assert_eq!(crisis.url.as_deref(), Some("https://facebook.example/d2"));
    // Needs action now: d0 (before the window), d1 (pending), d2; d4 was
    // actioned. The oldest two are listed.
    assert_eq!(f.needs_action_total, 3);
    let listed: Vec<i64> = f.needs_action.iter().map(|p| p.post_id).collect();
    assert_eq!(listed, vec![ids[0], ids[1]]);
    assert_eq!(f.needs_action[1].relay_state, Some(RelayState::Pending));
    assert_eq!(f.needs_action[1].message_id, None);

    // An empty window still reports what needs action.
    let empty = s.digest_facts("las", to + h, to + h * 2, 5).await.unwrap();
    assert_eq!(empty.posts, 0);
    assert!(empty.by_platform.is_empty() && empty.by_category.is_empty());
    assert!(empty.auto_replies.is_empty() && empty.crisis.is_empty());
    assert_eq!(empty.needs_action_total, 3);
    assert_eq!(empty.needs_action.len(), 3);
    let other = s.digest_facts("imperial", from, to, 5).await.unwrap();
    assert_eq!(
        other,
        signpost::store::DigestFacts {
            org: "imperial".into(),
            from,
            to,
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn sqlite_file_is_created_with_wal_and_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested dir/deeper/signpost.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.unwrap();
    assert!(path.exists(), "database file created with its directories");
    let mut conn = store.pool().acquire().await.unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(fk, 1);
    let sync: i64 = sqlx::query("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(sync, 1, "NORMAL");
    let busy: i64 = sqlx::query("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(busy, 30_000);
    drop(conn);
    store.close().await;
}

#[tokio::test]
async fn sqlite_in_memory_works() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let (id, inserted) = store
        .insert_post(&post("m1", "a", t(0)), None, t(0))
        .await
        .unwrap();
    assert!(inserted);
    assert_eq!(
        store.get_post(id).await.unwrap().unwrap().post.external_id,
        "m1"
    );
    store.append_audit(&entry(0, Some(id))).await.unwrap();
    assert!(store.verify_audit().await.unwrap().is_intact());
    store.close().await;
}

#[tokio::test]
async fn unknown_url_scheme_is_a_config_error() {
    let err = Store::connect("mysql://localhost/db").await.unwrap_err();
    assert!(matches!(err, StoreError::Config(_)), "{err}");
}

async fn jobs_waiting_merge_and_uncounted_attempts(db: TestDb) {
    let s = &db.store;
    let now = t(0);
    let lease = Duration::from_secs(60);
    let mut ids = Vec::new();
    for (n, org) in [(1, "las"), (2, "las"), (3, "nsft"), (4, "las")] {
        let (id, _) = s
            .enqueue(
                &NewJob::new("discord.relay", org, json!({"n": n}), now),
                now,
            )
            .await
            .unwrap();
        ids.push(id);
    }
    s.enqueue(
        &NewJob::new("platform.reply", "las", json!({"n": 5}), now),
        now,
    )
    .await
    .unwrap();
    let first = s
        .claim_next(&["discord.relay"], now, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, ids[0]);

    // Waiting behind the held job: same kind and org only, oldest first.
    let waiting = s
        .waiting_after("discord.relay", "las", first.id, 10)
        .await
        .unwrap();
    let got: Vec<i64> = waiting.iter().map(|j| j.id).collect();
    assert_eq!(got, [ids[1], ids[3]]);
    assert_eq!(waiting[0].payload, json!({"n": 2}));
    let limited = s
        .waiting_after("discord.relay", "las", first.id, 1)
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);

    // Merging a waiting job completes it once; a second try loses.
    assert!(s.complete_waiting(ids[1], now).await.unwrap());
    assert!(!s.complete_waiting(ids[1], now).await.unwrap());
    assert_eq!(
        s.get_job(ids[1]).await.unwrap().unwrap().status,
        JobStatus::Done
    );
    // A running job is not "waiting".
    assert!(!s.complete_waiting(first.id, now).await.unwrap());

    // An attempt that never reached the service is given back.
    assert_eq!(first.attempts, 1);
    s.uncount_attempt(first.id).await.unwrap();
    assert_eq!(s.get_job(first.id).await.unwrap().unwrap().attempts, 0);
    s.uncount_attempt(first.id).await.unwrap();
    assert_eq!(
        s.get_job(first.id).await.unwrap().unwrap().attempts,
        0,
        "never below zero"
    );
}

async fn posts_fetched_by_id_in_chunks(db: TestDb) {
    let s = &db.store;
    let mut ids = Vec::new();
    for i in 0..95 {
        let (id, _) = s
            .insert_post(&post(&format!("g{i}"), "a", t(i)), None, t(i))
            .await
            .unwrap();
        ids.push(id);
    }
    ids.push(999_999);
    let mut got: Vec<i64> = s
        .get_posts(&ids)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    got.sort();
    assert_eq!(
        got,
        ids[..95].to_vec(),
        "all 95 across three chunks; the missing id left out"
    );
    let one = s.get_posts(&ids[3..4]).await.unwrap();
    assert_eq!(one[0].post.external_id, "g3");
    assert!(s.get_posts(&[]).await.unwrap().is_empty());
}
