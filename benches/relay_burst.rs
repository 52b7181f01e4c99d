//! Relay burst benchmark: 10,000 flagged posts (env `RELAY_BURST_POSTS`)
//! through the real pipeline into a fresh SQLite file, then the delivery
//! worker drains every `discord.relay` job against a wiremock Discord on
//! loopback, with the shipped pacing (5 messages per 5 s per channel).
//!
//! The mix, in cycles of 100 posts spread over 60 s of post time: 64
//! distinct abusive posts (distinct authors and texts), one author posting
//! the same abuse 10 times, a 25-post copy-paste spam wave from 25 authors
//! (the org's relay only when it acts on spam), and one crisis post. Then a
//! late wave: one more post for each of the last ten cycles' bursts, after
//! their relays went out (these edit the sent relays' counts).
//!
//! Time: the worker runs on a `ManualClock`. Every request really goes over
//! loopback HTTP and every store write really happens, but the waits the
//! pacing imposes (about 1 s of Discord time per relay per channel) move the
//! simulated clock instead of sleeping. The report gives both: wall time to
//! drain, and the simulated Discord time the drain would take in production.
//! The pacing check uses the simulated time the fake saw at each request.
//!
//! Run: `cargo bench --bench relay_burst`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use signpost::config::discord::DiscordConfig;
use signpost::discord::delivery::{Clock, ManualClock, Worker, KIND};
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::store::Store;
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const ORGS: &[&str] = &["las", "imperial", "nsft"];
const ABUSE: &[&str] = &[
    "You useless idiots",
    "fuck you all",
    "your receptionist is a useless idiot",
    "you are all useless idiots and clowns",
];
const SPAM: &str = "Check out my channel, please subscribe! www.spam.example";
const CRISIS: &str = "I cant do this anymore, Im going to take all my tablets tonight";

/// Channel, simulated time and method of each request the fake saw.
type Seen = Arc<Mutex<Vec<(String, DateTime<Utc>, String)>>>;

struct Fake {
    clock: Arc<ManualClock>,
    seen: Seen,
    next: AtomicU64,
}

impl Respond for Fake {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        let channel = path.split('/').nth(4).unwrap_or_default().to_string();
        let id = 800_000_000_000_000_000 + self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((channel, self.clock.now(), req.method.to_string()));
        }
        ResponseTemplate::new(200).set_body_json(json!({ "id": id.to_string() }))
    }
}

fn posts(n: usize, base: DateTime<Utc>) -> Vec<InboundPost> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let cycle = i / 100;
        let k = i % 100;
        let at = base + Duration::milliseconds(i as i64 * 600);
        let (org, author, text) = match k {
            30..=39 => (
                ORGS[cycle % 3],
                format!("repeat{cycle}"),
                ABUSE[cycle % ABUSE.len()].to_string(),
            ),
            50..=74 => (ORGS[cycle % 3], format!("spam{i}"), SPAM.to_string()),
            75 => (ORGS[i % 3], format!("crisis{i}"), CRISIS.to_string()),
            _ => (
                ORGS[i % 3],
                format!("user{i}"),
                format!("{} {i}", ABUSE[i % ABUSE.len()]),
            ),
        };
        out.push(InboundPost {
            platform: Platform::Facebook,
            external_id: format!("b{i}"),
            account: "TrustPage".into(),
            org: org.into(),
            kind: PostKind::Comment,
            author_id: author.clone(),
            author_handle: format!("@{author}"),
            text,
            url: None,
            created_at: at,
        });
    }
    out
}

/// The most requests any channel saw in a half-open window of `per`.
fn max_in_window(times: &mut [DateTime<Utc>], per: Duration) -> usize {
    times.sort();
    let mut max = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= per {
            start += 1;
        }
        max = max.max(end - start + 1);
    }
    max
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("RELAY_BURST_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let pipeline = Arc::new(Pipeline::load(&config, true).expect("config"));
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .expect("store");
    let base = Utc.with_ymd_and_hms(2026, 12, 24, 20, 0, 0).unwrap();

    // Ingest.
    let t0 = Instant::now();
    let all = posts(n, base);
    let mut relayed = 0usize; // posts the pipeline queued a relay for
    for chunk in all.chunks(250) {
        let mut tx = store.begin().await.expect("tx");
        for p in chunk {
            let out = pipeline
                .ingest(&mut tx, p, None, &[], &[], p.created_at)
                .await
                .expect("ingest");
            if let Ingested::New { decision, .. } = out {
                relayed += usize::from(decision.relay.is_some());
            }
        }
        tx.commit().await.expect("commit");
    }
    let ingest = t0.elapsed();

    // Discord fake and worker.
    let clock = Arc::new(ManualClock::new(base + Duration::hours(2)));
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/channels/\d+/messages(/\d+)?$"))
        .respond_with(Fake {
            clock: clock.clone(),
            seen: seen.clone(),
            next: AtomicU64::new(0),
        })
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(r"^/api/v10/channels/\d+/messages/\d+$"))
        .respond_with(Fake {
            clock: clock.clone(),
            seen: seen.clone(),
            next: AtomicU64::new(0),
        })
        .mount(&server)
        .await;
    let orgs: Vec<&str> = pipeline.config.orgs.keys().map(String::as_str).collect();
    let mut discord = DiscordConfig::load(&config, &orgs).expect("discord.toml");
    discord.api_base = server.uri();
    let pacing = discord.pacing;
    let mut worker = Worker::new(
        store.clone(),
        pipeline.clone(),
        discord,
        "bench-token",
        false,
        clock.clone(),
    )
    .expect("worker");

    let sim_start = clock.now();
    let t1 = Instant::now();
    worker.drain().await.expect("drain");
    let wall = t1.elapsed();
    let simulated = clock.now() - sim_start;

    // A late wave: one more post for each of the last ten cycles' bursts
    // (same author, and same spam text), arriving after their relays went
    // out. They edit the sent relays' counts.
    let cycles = n / 100;
    let mut late = Vec::new();
    for cycle in cycles.saturating_sub(10)..cycles {
        let at = base + Duration::milliseconds((cycle * 100) as i64 * 600 + 50_000);
        let org = ORGS[cycle % 3];
        for (author, text) in [
            (
                format!("repeat{cycle}"),
                ABUSE[cycle % ABUSE.len()].to_string(),
            ),
            (format!("latespam{cycle}"), SPAM.to_string()),
        ] {
            late.push(InboundPost {
                platform: Platform::Facebook,
                external_id: format!("late-{author}"),
                account: "TrustPage".into(),
                org: org.into(),
                kind: PostKind::Comment,
                author_id: author.clone(),
                author_handle: format!("@{author}"),
                text,
                url: None,
                created_at: at,
            });
        }
    }
    let mut tx = store.begin().await.expect("tx");
    for p in &late {
        if let Ingested::New { decision, .. } = pipeline
            .ingest(&mut tx, p, None, &[], &[], p.created_at)
            .await
            .expect("ingest")
        {
            relayed += usize::from(decision.relay.is_some());
        }
    }
    tx.commit().await.expect("commit");
    let t2 = Instant::now();
    let stats = worker.drain().await.expect("drain");
    let late_wall = t2.elapsed();

    // Checks from the store.
    let pool = store.pool();
    let unsent: i64 = sqlx::query("SELECT COUNT(*) AS n FROM relays WHERE message_id IS NULL")
        .fetch_one(pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
    let relay_rows: i64 = sqlx::query("SELECT COUNT(*) AS n FROM relays")
        .fetch_one(pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
    let mut by_status = BTreeMap::new();
    for row in sqlx::query("SELECT status, COUNT(*) AS n FROM jobs WHERE kind = $1 GROUP BY status")
        .bind(KIND)
        .fetch_all(pool)
        .await
        .expect("jobs")
    {
        let status: String = row.try_get("status").expect("status");
        let count: i64 = row.try_get("n").expect("n");
        by_status.insert(status, count);
    }
    let seen = seen.lock().expect("seen").clone();
    let mut per_channel: BTreeMap<String, Vec<DateTime<Utc>>> = BTreeMap::new();
    for (channel, at, _) in &seen {
        per_channel.entry(channel.clone()).or_default().push(*at);
    }
    let per = Duration::seconds(i64::from(pacing.per_seconds));
    let mut worst = 0;
    for times in per_channel.values_mut() {
        worst = worst.max(max_in_window(times, per));
    }
    let posts_sent = seen.iter().filter(|s| s.2 == "POST").count();
    let patches = seen.len() - posts_sent;
    let lost = relayed as i64 - (stats.sent + stats.coalesced) as i64;

    println!(
        "relay_burst: {n} posts ingested in {:.2?}, then {} late; {relayed} queued for relay",
        ingest,
        late.len()
    );
    println!("  relays sent (POST):        {}", stats.sent);
    println!(
        "  posts coalesced:           {} ({} by count edits, PATCH)",
        stats.coalesced, stats.edited
    );
    println!(
        "  requests to Discord:       {} ({posts_sent} POST, {patches} PATCH) over {} channels",
        seen.len(),
        per_channel.len()
    );
    println!("  relay rows without message: {unsent} of {relay_rows}");
    println!("  relay jobs by status:      {by_status:?}");
    println!("  lost:                      {lost}");
    println!(
        "  max requests in any {} s window per channel: {worst} (limit {})",
        pacing.per_seconds, pacing.messages
    );
    println!("  time to drain: {:.2?} wall; {} s of simulated Discord time (pacing waits on a ManualClock)", wall, simulated.num_seconds());
    println!(
        "  late wave: {} posts after their bursts were relayed, drained in {:.2?}",
        late.len(),
        late_wall
    );
    assert_eq!(lost, 0, "every relayed post is sent or coalesced");
    assert_eq!(unsent, 0, "every relay row points at a message");
    assert!(worst <= pacing.messages as usize, "pacing exceeded");
    assert_eq!(by_status.len(), 1, "all relay jobs done: {by_status:?}");
}
