//! `cargo bench --bench replay`: replay throughput, i.e. classify + decide +
//! store (post, classification, author, strikes, relay job, auto-reply and
//! audit rows) on SQLite, in batched transactions of 500 posts.
//!
//! 20,000 posts from a realistic mix (thanks, complaints, abuse, threats,
//! crisis, clinical questions, spam, personal data) spread over four weeks,
//! in and out of hours, from 3,000 authors. Set `SIGNPOST_BENCH_DB` to a
//! PostgreSQL URL to measure that backend instead.

use chrono::{Duration, TimeZone, Utc};
use signpost::classify::repeat::History;
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Batch, Pipeline};
use signpost::store::Store;
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

const POSTS: usize = 20_000;
const BATCH: usize = 500;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pipeline = Pipeline::load(&root.join("config"), true).expect("config");
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("SIGNPOST_BENCH_DB")
        .unwrap_or_else(|_| format!("sqlite://{}", tmp.path().join("bench.db").display()));
    let backend = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let start_at = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
    let posts: Vec<InboundPost> = (0..POSTS)
        .map(|i| InboundPost {
            platform: [
                Platform::Facebook,
                Platform::X,
                Platform::Instagram,
                Platform::Mastodon,
            ][i % 4],
            external_id: format!("bench-{i}-{}", std::process::id()),
            account: "bench".into(),
            org: ["las", "imperial", "nsft"][i % 3].into(),
            kind: [
                PostKind::Comment,
                PostKind::Reply,
                PostKind::Mention,
                PostKind::Dm,
            ][i % 4],
            author_id: format!("author-{}", (i * 7919) % 3000),
            author_handle: format!("@author{}", (i * 7919) % 3000),
            text: TEXTS[i % TEXTS.len()].to_string(),
            url: None,
            created_at: start_at + Duration::seconds((i as i64) * 120),
        })
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = Store::connect(&url).await.expect("store");
        let mut history = History::new(Duration::hours(24), 100_000);
        let started = Instant::now();
        for chunk in posts.chunks(BATCH) {
            let mut tx = store.begin().await.expect("begin");
            let mut batch = Batch::default();
            let mut overrides = std::collections::BTreeMap::new();
            for org in ["las", "imperial", "nsft"] {
                let o = pipeline.overrides(&mut tx, org, chunk[0].created_at).await.expect("overrides");
                overrides.insert(org, o);
            }
            for post in chunk {
                let key = format!("{}:{}", post.platform, post.author_id);
                pipeline
                    .ingest_into(&mut tx, &mut batch, post, None, history.recent(&key), &overrides[post.org.as_str()], post.created_at)
                    .await
                    .expect("ingest");
                history.push(&key, &post.text, post.created_at);
            }
            batch.flush(&mut tx, chunk[chunk.len() - 1].created_at).await.expect("flush");
            tx.commit().await.expect("commit");
        }
        let secs = started.elapsed().as_secs_f64();
        let report = store.verify_audit().await.expect("verify");
        println!(
            "replay bench ({backend}): {POSTS} posts in {secs:.2} s = {:.0} posts/s, batches of {BATCH}; audit {} rows, intact {}",
            POSTS as f64 / secs,
            report.rows_checked,
            report.is_intact()
        );
        store.close().await;
    });
}
