//! Load benchmark: signed Meta comment webhooks → stored → 200, on loopback.
//!
//! Starts the real router and group-commit writer on 127.0.0.1 with a fresh
//! SQLite file, then fires `N` (default 20,000; env `LOAD_REQUESTS`) signed
//! Facebook comment webhooks with unique ids from `C` (default 64; env
//! `LOAD_CONCURRENCY`) keep-alive connections, and reports sustained req/s and
//! p50/p90/p99/max latency. Afterwards it counts `posts` rows and fails if any
//! post was lost or duplicated, or any request was not answered 200.
//!
//! Run: `cargo bench --bench webhook_load` (release profile).

use secrecy::SecretString;
use signpost::config::server::WriterConfig;
use signpost::pipeline::Pipeline;
use signpost::store::Store;
use signpost::webhook::{self, hmac_sha256, writer, Accounts, AppState, Secrets};
use sqlx::Row;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAGE: &str = "900000000000001";
const SECRET: &str = "bench-secret";
const TEXTS: &[&str] = &[
    "Thank you to the crew who came out to my dad last night, amazing people",
    "How long is the wait in A&E at the moment?",
    "Waited 9 hours for an ambulance, this is not acceptable",
    "Where can I park when visiting the hospital?",
    "Great to see the new vehicles out on the road today",
    "Is the walk-in centre open on Sunday?",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let requests = env_usize("LOAD_REQUESTS", 20_000);
    let concurrency = env_usize("LOAD_CONCURRENCY", 64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(requests, concurrency))
}

async fn run(requests: usize, concurrency: usize) -> anyhow::Result<()> {
    let pipeline = Arc::new(Pipeline::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        false,
    )?);
    let dir = tempfile::tempdir()?;
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("load.db").display()
    ))
    .await?;
    let accounts = Accounts::from_config(&pipeline.config)?;
    let (writer, writer_task) = writer::spawn(
        pipeline,
        store.clone(),
        WriterConfig {
            batch_max: 256,
            queue: 4096,
        },
    );
    let state = Arc::new(AppState {
        accounts,
        secrets: Secrets {
            meta_app: vec![SecretString::from(SECRET)],
            ..Secrets::default()
        },
        writer,
    });
    let router = webhook::router(state, 262_144);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });

    // Bodies are built and signed up front so the client measures the server.
    let now = chrono::Utc::now().timestamp();
    let bodies: Arc<Vec<(String, String)>> = Arc::new(
        (0..requests)
            .map(|i| {
                let body = serde_json::json!({
                    "object": "page",
                    "entry": [{"id": PAGE, "time": now, "changes": [{"field": "feed", "value": {
                        "from": {"id": format!("{}", 10_000 + i % 5_000), "name": format!("User {}", i % 5_000)},
                        "message": format!("{} #{i}", TEXTS[i % TEXTS.len()]),
                        "post_id": format!("{PAGE}_1"), "comment_id": format!("1_{i}"),
                        "parent_id": format!("{PAGE}_1"),
                        "created_time": now, "item": "comment", "verb": "add"}}]}]
                })
                .to_string();
                let sig = format!("sha256={}", hex::encode(hmac_sha256(SECRET.as_bytes(), body.as_bytes())));
                (body, sig)
            })
            .collect(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let url = format!("http://{addr}/webhooks/meta");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, bodies, next) =
            (client.clone(), url.clone(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((body, sig)) = bodies.get(i) else {
                    break;
                };
                let t = Instant::now();
                let ok = match client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sig)
                    .body(body.clone())
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                lat.push(t.elapsed());
                failures += usize::from(!ok);
            }
            (lat, failures)
        }));
    }
    let mut lat = Vec::with_capacity(requests);
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await?;
        lat.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    let _ = stop_tx.send(());
    server.await??;
    writer_task.await?;

    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rows: i64 = sqlx::query("SELECT COUNT(*) AS n FROM posts")
        .fetch_one(store.pool())
        .await?
        .get("n");
    let distinct: i64 = sqlx::query("SELECT COUNT(DISTINCT external_id) AS n FROM posts")
        .fetch_one(store.pool())
        .await?
        .get("n");
    println!(
        "webhook_load: {requests} signed Meta comment webhooks, {concurrency} connections, 2 tokio workers, SQLite (WAL) in a temp dir"
    );
    println!(
        "  {:.0} req/s sustained over {:.2} s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        requests as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(pct(1.0)),
    );
    let lost = requests as i64 - distinct;
    let duplicated = rows - distinct;
    println!(
        "  non-200 answers {failures}; posts rows {rows}; lost {lost}; duplicated {duplicated}"
    );
    store.close().await;
    anyhow::ensure!(failures == 0, "{failures} requests were not answered 200");
    anyhow::ensure!(
        lost == 0 && duplicated == 0,
        "lost {lost}, duplicated {duplicated}"
    );
    Ok(())
}
