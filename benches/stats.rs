//! `cargo bench --bench stats`: the `/stats` answer for 30 days (store
//! reads, figures, embed and chart PNG: exactly what Discord receives) over
//! a SQLite store seeded with 300,000 posts and over 1,000,000 audit rows.
//!
//! The seed is built once through the real pipeline (classify, decide,
//! store) over 90 days of posts to one trust, then the team's clicks are
//! added (acted on or dismissed, hours later); it is kept in
//! `target/bench-data/` and reused while its row counts match. Set
//! `SIGNPOST_BENCH_STATS_DB` to use another SQLite file.

use chrono::{DateTime, Duration, TimeZone, Utc};
use signpost::bot::commands::stats::answer;
use signpost::classify::repeat::History;
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Batch, Pipeline};
use signpost::stats::Period;
use signpost::store::{Actor, AuditEntry, AuditOutcome, RelayState, ReportScope, Store};
use sqlx::Row;
use std::path::Path;
use std::time::Instant;

const TEXTS: &[&str] = &[
    "Huge thank you to the paramedics who looked after my nan last night, you were amazing",
    "Left on a trolley for 14 hours, disgraceful. Nobody came to check on her.",
    "took 3 fucking hours for an ambulance, absolute joke",
    "My son has a rash and a high temperature, should I go to A&E?",
    "your receptionist is a useless idiot and I want her sacked",
    "I know where you live. Watch your back.",
    "What time does the visitor car park open on Sundays?",
    "Can I take ibuprofen with my blood pressure tablets?",
    "Feeling suicidal tonight and the crisis line isn't answering",
    "Congratulations! You have won a £1000 prize. Txt CLAIM to 80808 now. T&Cs apply",
    "Check out my channel for the best fitness tips, please subscribe!",
    "call me back on 07700 900123 about my referral please",
    "Really disappointed with the care my mum received on the ward",
    "Great to see the new unit opening this week",
    "Is it normal to still have pain a week after stitches?",
    "Happy Christmas to everyone working today, thank you",
];

const POSTS: usize = 300_000;
const AUDIT_ROWS: i64 = 1_000_000;
const DAYS: i64 = 90;
const RUNS: usize = 20;
const MEMBERS: &[&str] = &["Sam", "Alex", "Jo", "Priya", "Tom", "Chen"];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

async fn counts(store: &Store) -> (i64, i64) {
    let posts: i64 = sqlx::query("SELECT COUNT(*) AS n FROM posts")
        .fetch_one(store.pool())
        .await
        .map(|r| r.get("n"))
        .unwrap_or(0);
    let audit: i64 = sqlx::query("SELECT COUNT(*) AS n FROM actions")
        .fetch_one(store.pool())
        .await
        .map(|r| r.get("n"))
        .unwrap_or(0);
    (posts, audit)
}

async fn seed(store: &Store, pipeline: &Pipeline) {
    let start = now() - Duration::days(DAYS);
    let step = (DAYS * 86_400_000) / POSTS as i64;
    let mut history = History::new(Duration::hours(24), 100_000);
    let started = Instant::now();
    for chunk in (0..POSTS).collect::<Vec<_>>().chunks(1000) {
        let posts: Vec<InboundPost> = chunk
            .iter()
            .map(|&i| InboundPost {
                platform: [
                    Platform::Facebook,
                    Platform::X,
                    Platform::Instagram,
                    Platform::Mastodon,
                ][i % 4],
                external_id: format!("seed-{i}"),
                account: "bench".into(),
                org: "las".into(),
                kind: [
                    PostKind::Comment,
                    PostKind::Reply,
                    PostKind::Mention,
                    PostKind::Dm,
                ][i % 4],
                author_id: format!("author-{}", (i * 7919) % 20_000),
                author_handle: format!("author{}", (i * 7919) % 20_000),
                text: TEXTS[(i * 31) % TEXTS.len()].to_string(),
                url: Some(format!("https://example.test/p/{i}")),
                created_at: start + Duration::milliseconds(i as i64 * step),
            })
            .collect();
        let mut tx = store.begin().await.expect("begin");
        let mut batch = Batch::default();
        let overrides = pipeline
            .overrides(&mut tx, "las", posts[0].created_at)
            .await
            .expect("overrides");
        for post in &posts {
            let key = format!("{}:{}", post.platform, post.author_id);
            pipeline
                .ingest_into(
                    &mut tx,
                    &mut batch,
                    post,
                    None,
                    history.recent(&key),
                    &overrides,
                    post.created_at,
                )
                .await
                .expect("ingest");
            history.push(&key, &post.text, post.created_at);
        }
        batch
            .flush(&mut tx, posts[posts.len() - 1].created_at)
            .await
            .expect("flush");
        tx.commit().await.expect("commit");
    }
    eprintln!(
        "seeded {POSTS} posts in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    // The team's clicks: most relays acted on or dismissed, 5 min to 20 h
    // after they arrived; the last day's relays left open.
    let relays: Vec<(i64, i64)> =
        sqlx::query("SELECT post_id, created_at FROM relays ORDER BY post_id")
            .fetch_all(store.pool())
            .await
            .expect("relays")
            .iter()
            .map(|r| (r.get("post_id"), r.get("created_at")))
            .collect();
    let (_, mut audit) = counts(store).await;
    let cutoff = now() - Duration::days(1);
    for (n, chunk) in relays.chunks(500).enumerate() {
        let mut tx = store.begin().await.expect("begin");
        let mut entries = Vec::new();
        for (k, (post_id, created)) in chunk.iter().enumerate() {
            let i = n * 500 + k;
            let created = Utc.timestamp_millis_opt(*created).unwrap();
            if created > cutoff {
                continue;
            }
            let at = created + Duration::minutes(5 + ((i * 37) % 1200) as i64);
            let who = MEMBERS[i % MEMBERS.len()];
            let actor = Actor::new(format!("discord:{}", i % MEMBERS.len()), who);
            let (state, action) = if i % 7 == 0 {
                (RelayState::Dismissed, "dismiss")
            } else {
                (
                    RelayState::Actioned,
                    ["hide", "delete", "signpost_complaints", "report"][i % 4],
                )
            };
            tx.transition_relay(*post_id, RelayState::Pending, state, &actor, None, at)
                .await
                .expect("transition");
            // Follow-ups (block, escalate, replies) until the log has its
            // million rows.
            let extra = if audit + (entries.len() as i64) < AUDIT_ROWS {
                4
            } else {
                1
            };
            for e in 0..extra {
                entries.push(AuditEntry {
                    at: at + Duration::minutes(e),
                    org: "las".into(),
                    post_id: Some(*post_id),
                    actor_id: actor.id.clone(),
                    actor_name: actor.name.clone(),
                    action: if e == 0 {
                        action
                    } else {
                        ["block", "escalate", "reply"][(e as usize - 1) % 3]
                    }
                    .into(),
                    reason: None,
                    outcome: AuditOutcome::DryRun,
                    detail: None,
                });
            }
        }
        audit += entries.len() as i64;
        tx.append_audit_many(&entries).await.expect("audit");
        tx.commit().await.expect("commit");
    }
    eprintln!(
        "seeded the team's actions; {:.0} s in all",
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pipeline = Pipeline::load(&root.join("config"), true).expect("config");
    let path = std::env::var("SIGNPOST_BENCH_STATS_DB").unwrap_or_else(|_| {
        let dir = root.join("target/bench-data");
        std::fs::create_dir_all(&dir).expect("bench dir");
        dir.join("stats-1m.db").display().to_string()
    });
    let url = format!("sqlite://{path}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut store = Store::connect(&url).await.expect("store");
        let (posts, audit) = counts(&store).await;
        if posts != POSTS as i64 || audit < AUDIT_ROWS {
            store.close().await;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
            store = Store::connect(&url).await.expect("store");
            seed(&store, &pipeline).await;
        }
        let (posts, audit) = counts(&store).await;
        let tz = pipeline.schedule("las").expect("las").timezone();
        let (from, to) = Period::Days30.resolve(tz, now()).expect("period");
        let scope = ReportScope { org: "las".into(), platform: None, from, to };

        let t = Instant::now();
        let bucket = signpost::stats::bucket_ms(tz, from, to);
        let facts = signpost::stats::gather(&store, &scope, bucket).await.expect("gather");
        let buckets = facts.flagged.len() + facts.actioned.len();
        let gather_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let report = signpost::stats::report(&store, &pipeline, &scope, now()).await.expect("report");
        let report_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let png = signpost::chart::render_png("las", &report.daily).expect("chart");
        let chart_ms = t.elapsed().as_secs_f64() * 1000.0;

        let mut times = Vec::with_capacity(RUNS);
        let mut bytes = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let (embed, png) = answer(&store, &pipeline, &scope, "last 30 days", now()).await.expect("answer");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            bytes = png.len() + embed.total_chars();
        }
        times.sort_by(f64::total_cmp);
        let median = times[RUNS / 2];
        let p95 = times[(RUNS * 95).div_ceil(100) - 1];
        println!(
            "stats bench (sqlite): {posts} posts, {audit} audit rows; /stats for 30 days covers {} posts ({} flagged, {} handled)",
            report.inbound.total, report.flagged.total, report.response.handled
        );
        println!(
            "  /stats answer (reads + figures + embed + chart PNG): median {median:.1} ms, p95 {p95:.1} ms, max {:.1} ms over {RUNS} runs ({bytes} bytes out); target < 300 ms",
            times[RUNS - 1]
        );
        println!(
            "  parts, first run: store reads {gather_ms:.1} ms ({buckets} category buckets, {} relay timings), report (reads + figures) {report_ms:.1} ms, chart {chart_ms:.1} ms ({} bytes PNG)",
            facts.timings.len(),
            png.len()
        );
        store.close().await;
    });
}
