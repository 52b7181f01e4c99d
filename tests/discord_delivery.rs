//! The relay delivery worker against a wiremock Discord REST fake: posts go
//! through the real pipeline with the shipped config into a temporary SQLite
//! store, then the worker drains the `discord.relay` jobs. Time is a
//! [`ManualClock`]: pacing, Retry-After and backoff waits move simulated
//! time, and the fake records that time for every request it receives.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use signpost::config::discord::DiscordConfig;
use signpost::discord::delivery::{ManualClock, Step, Worker, KIND};
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::store::{AuditFilter, JobStatus, Store};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const LAS_RELAY: &str = "100000000000000011";
const NSFT_CRISIS: &str = "100000000000000053";
const NSFT_CRISIS_ROLE: &str = "100000000000000043";

/// What the fake answers before it starts succeeding.
#[derive(Debug, Clone, Copy)]
enum Scripted {
    Status(u16),
    RateLimited(f64),
}

#[derive(Debug, Clone)]
struct Seen {
    at: DateTime<Utc>,
    method: String,
    path: String,
    status: u16,
    body: Value,
}

/// Discord's message endpoints: records every request with the simulated
/// time, plays the script, then creates (or edits) messages.
#[derive(Clone)]
struct FakeDiscord {
    clock: Arc<ManualClock>,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Scripted>>>,
}

impl Respond for FakeDiscord {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let next = self.script.lock().unwrap().pop_front();
        let (status, response) = match next {
            Some(Scripted::Status(s)) => (s, ResponseTemplate::new(s).set_body_json(json!({"message": "fake failure", "code": 0}))),
            Some(Scripted::RateLimited(secs)) => (
                429,
                ResponseTemplate::new(429)
                    .insert_header("retry-after", secs.to_string().as_str())
                    .set_body_json(json!({"message": "You are being rate limited.", "retry_after": secs, "global": false})),
            ),
            None => {
                let mut seen = self.seen.lock().unwrap();
                let id = if req.method.as_str() == "PATCH" {
                    req.url.path().rsplit('/').next().unwrap_or("0").to_string()
                } else {
                    (900_000_000_000_000_000u64 + seen.len() as u64).to_string()
                };
                seen.push(Seen {
                    at: self.clock_now(),
                    method: req.method.to_string(),
                    path: req.url.path().to_string(),
                    status: 200,
                    body: body.clone(),
                });
                return ResponseTemplate::new(200).set_body_json(json!({"id": id, "content": body["content"]}));
            }
        };
        self.seen.lock().unwrap().push(Seen {
            at: self.clock_now(),
            method: req.method.to_string(),
            path: req.url.path().to_string(),
            status,
            body,
        });
        response
    }
}

impl FakeDiscord {
    fn clock_now(&self) -> DateTime<Utc> {
        use signpost::discord::delivery::Clock;
        self.clock.now()
    }
    /// The requests that succeeded; every body sent is checked against
    /// the limits Discord's spec leaves out (5 rows, 6000 characters…).
    fn ok(&self) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap().clone();
        for s in &seen {
            let broken = signpost::discord::limits::violations(&s.body);
            assert!(broken.is_empty(), "limits broken: {broken:?}");
        }
        seen.into_iter().filter(|s| s.status == 200).collect()
    }
}

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    pipeline: Arc<Pipeline>,
    clock: Arc<ManualClock>,
    fake: FakeDiscord,
    server: MockServer,
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 24, 22, 40, 0).unwrap()
}

async fn env(script: &[Scripted]) -> Env {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let pipeline = Arc::new(Pipeline::load(&config, true).expect("config"));
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .expect("store");
    let clock = Arc::new(ManualClock::new(base() + Duration::hours(3)));
    let fake = FakeDiscord {
        clock: clock.clone(),
        seen: Arc::default(),
        script: Arc::new(Mutex::new(script.iter().copied().collect())),
    };
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/channels/\d+/messages$"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(r"^/api/v10/channels/\d+/messages/\d+$"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    Env {
        _dir: dir,
        store,
        pipeline,
        clock,
        fake,
        server,
    }
}

impl Env {
    fn worker(&self) -> Worker {
        let orgs: Vec<&str> = self
            .pipeline
            .config
            .orgs
            .keys()
            .map(String::as_str)
            .collect();
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut discord = DiscordConfig::load(&config, &orgs).expect("discord.toml");
        discord.api_base = self.server.uri();
        Worker::new(
            self.store.clone(),
            self.pipeline.clone(),
            discord,
            "test-token",
            false,
            self.clock.clone(),
        )
        .expect("worker")
    }

    /// Ingest posts one transaction each; returns their ids.
    async fn ingest(&self, posts: &[InboundPost]) -> Vec<i64> {
        let mut ids = Vec::new();
        for p in posts {
            let mut tx = self.store.begin().await.expect("tx");
            let out = self
                .pipeline
                .ingest(
                    &mut tx,
                    p,
                    None,
                    &[],
                    &[],
                    p.created_at + Duration::seconds(1),
                )
                .await
                .expect("ingest");
            tx.commit().await.expect("commit");
            match out {
                Ingested::New {
                    post_id, decision, ..
                } => {
                    assert!(decision.relay.is_some(), "{} should be relayed", p.text);
                    ids.push(post_id);
                }
                Ingested::Duplicate { .. } => panic!("duplicate"),
            }
        }
        ids
    }

    async fn audits(&self, action: &str) -> Vec<signpost::store::AuditRow> {
        self.store
            .audit_rows(&AuditFilter::default())
            .await
            .expect("audit")
            .into_iter()
            .filter(|r| r.action == action)
            .collect()
    }
}

fn post(n: u32, org: &str, author: &str, text: &str, at: DateTime<Utc>) -> InboundPost {
    InboundPost {
        platform: Platform::Facebook,
        external_id: format!("{org}-{n}"),
        account: "TrustPage".into(),
        org: org.into(),
        kind: PostKind::Comment,
        author_id: author.into(),
        author_handle: format!("@{author}"),
        text: text.into(),
        url: Some(format!("https://example.org/post/{n}")),
        created_at: at,
    }
}

/// Distinct abusive posts by distinct authors: never coalesced.
fn distinct(n: u32, org: &str) -> Vec<InboundPost> {
    (0..n)
        .map(|i| {
            post(
                i,
                org,
                &format!("author{i}"),
                &format!("You useless idiots {i}"),
                base() + Duration::minutes(i64::from(i) * 3),
            )
        })
        .collect()
}

fn footer_post_id(body: &Value) -> i64 {
    let footer = body["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default();
    footer
        .split(" · ")
        .find_map(|p| p.strip_prefix("post "))
        .and_then(|p| p.parse().ok())
        .expect("footer names the post")
}

fn custom_ids(body: &Value) -> Vec<String> {
    body["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn relay_goes_to_the_relay_channel_with_embed_and_buttons() {
    let e = env(&[]).await;
    let ids = e.ingest(&distinct(1, "las")).await;
    let stats = e.worker().drain().await.expect("drain");
    assert_eq!(stats.sent, 1);

    let seen = e.fake.ok();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, format!("/api/v10/channels/{LAS_RELAY}/messages"));
    let embed = &req.body["embeds"][0];
    assert!(
        embed["title"].as_str().unwrap().contains("abuse"),
        "{embed}"
    );
    assert!(embed["description"]
        .as_str()
        .unwrap()
        .contains("You useless idiots 0"));
    assert_eq!(footer_post_id(&req.body), ids[0]);
    let buttons = custom_ids(&req.body);
    assert!(!buttons.is_empty());
    assert!(
        buttons.iter().all(|id| id.starts_with("sp1:")),
        "{buttons:?}"
    );
    assert!(buttons.contains(&format!("sp1:hide:{}", ids[0])));
    assert_eq!(req.body["allowed_mentions"], json!({"parse": []}));
    let auth = e.server.received_requests().await.unwrap()[0]
        .headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(auth.as_deref(), Some("Bot test-token"));

    let relay = e.store.get_relay(ids[0]).await.unwrap().expect("relay");
    assert_eq!(relay.channel_id.as_deref(), Some(LAS_RELAY));
    assert_eq!(relay.message_id.as_deref(), Some("900000000000000000"));
    assert_eq!(e.store.queue_depth(KIND).await.unwrap(), 0);
    let sent = e.audits("relay.sent").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].post_id, Some(ids[0]));
}

#[tokio::test]
async fn crisis_relay_goes_to_the_crisis_channel_and_mentions_the_role() {
    let e = env(&[]).await;
    let text = "I cant do this anymore, Im going to take all my tablets tonight";
    let ids = e
        .ingest(&[
            post(1, "nsft", "a1", text, base()),
            // LAS has no crisis channel: its crisis relays use the relay channel.
            post(2, "las", "a2", text, base()),
        ])
        .await;
    e.worker().drain().await.expect("drain");
    let seen = e.fake.ok();
    assert_eq!(seen.len(), 2, "different orgs never coalesce");
    assert_eq!(
        seen[0].path,
        format!("/api/v10/channels/{NSFT_CRISIS}/messages")
    );
    let content = seen[0].body["content"].as_str().unwrap();
    assert!(
        content.contains(&format!("<@&{NSFT_CRISIS_ROLE}>")),
        "{content}"
    );
    assert_eq!(
        seen[0].body["allowed_mentions"]["roles"],
        json!([NSFT_CRISIS_ROLE])
    );
    assert!(custom_ids(&seen[0].body).contains(&format!("sp1:signpost_crisis:{}", ids[0])));
    assert_eq!(
        seen[1].path,
        format!("/api/v10/channels/{LAS_RELAY}/messages")
    );
    assert!(seen[1].body["content"]
        .as_str()
        .unwrap()
        .contains("<@&100000000000000041>"));
}

#[tokio::test]
async fn rate_limited_relay_waits_retry_after_and_is_sent_exactly_once() {
    let e = env(&[Scripted::RateLimited(2.5)]).await;
    let ids = e.ingest(&distinct(1, "las")).await;
    let stats = e.worker().drain().await.expect("drain");
    assert_eq!(stats.sent, 1);
    assert_eq!(stats.retries, 0, "a 429 is waited out in place");
    let all = e.fake.seen.lock().unwrap().clone();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].status, 429);
    assert_eq!(all[1].status, 200);
    assert!(all[1].at - all[0].at >= Duration::milliseconds(2500));
    assert_eq!(all[0].body, all[1].body, "the same message, sent again");
    assert_eq!(e.fake.ok().len(), 1, "exactly one message created");
    assert_eq!(e.audits("relay.sent").await.len(), 1);
    assert!(e
        .store
        .get_relay(ids[0])
        .await
        .unwrap()
        .unwrap()
        .message_id
        .is_some());
}

#[tokio::test]
async fn discord_down_loses_nothing_and_relays_go_out_in_order_when_back() {
    // Twelve 500s: more than a job's five attempts, so outage attempts must
    // not count against it.
    let e = env(&[Scripted::Status(500); 12]).await;
    let ids = e.ingest(&distinct(8, "las")).await;
    let stats = e.worker().drain().await.expect("drain");
    assert_eq!(stats.sent, 8);
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.retries, 12);
    let order: Vec<i64> = e
        .fake
        .ok()
        .iter()
        .map(|s| footer_post_id(&s.body))
        .collect();
    assert_eq!(order, ids, "sent in queue order");
    let all = e.fake.seen.lock().unwrap().clone();
    assert!(all[..12].iter().all(|s| s.status == 500));
    assert!(
        all[..12].iter().all(|s| footer_post_id(&s.body) == ids[0]),
        "nothing overtakes the first relay while Discord is down"
    );
    for id in &ids {
        let relay = e.store.get_relay(*id).await.unwrap().unwrap();
        assert!(relay.message_id.is_some(), "post {id} relayed");
    }
    assert_eq!(e.store.queue_depth(KIND).await.unwrap(), 0);
    assert!(e.audits("relay.failed").await.is_empty());
}

#[tokio::test]
async fn a_restart_mid_outage_keeps_the_queue_and_its_order() {
    let e = env(&[Scripted::Status(503); 2]).await;
    let ids = e.ingest(&distinct(3, "las")).await;
    // First worker: one failed attempt, then it "crashes".
    let mut first = e.worker();
    let step = first.step().await.expect("step");
    assert!(matches!(step, Step::Retry { .. }), "{step:?}");
    drop(first);
    // A fresh worker, after the backoff: everything goes, in order.
    e.clock.advance(Duration::seconds(5));
    e.worker().drain().await.expect("drain");
    let order: Vec<i64> = e
        .fake
        .ok()
        .iter()
        .map(|s| footer_post_id(&s.body))
        .collect();
    assert_eq!(order, ids);
    for id in &ids {
        let job_done = e
            .store
            .get_relay(*id)
            .await
            .unwrap()
            .unwrap()
            .message_id
            .is_some();
        assert!(job_done);
    }
}

#[tokio::test]
async fn pacing_never_exceeds_the_channel_limit() {
    let e = env(&[]).await;
    e.ingest(&distinct(30, "las")).await;
    let start = {
        use signpost::discord::delivery::Clock;
        e.clock.now()
    };
    e.worker().drain().await.expect("drain");
    let seen = e.fake.ok();
    assert_eq!(seen.len(), 30);
    let times: Vec<DateTime<Utc>> = seen.iter().map(|s| s.at).collect();
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .filter(|u| **u < *t + Duration::seconds(5))
            .count();
        assert!(in_window <= 5, "{in_window} requests in the 5 s from {t}");
    }
    // And not slower than it must be: 30 messages at 5 per 5 s need 25 s.
    let span = *times.last().unwrap() - start;
    assert!(span <= Duration::seconds(26), "{span}");
}

#[tokio::test]
async fn a_duplicate_burst_becomes_one_relay_with_a_count_and_late_ones_edit_it() {
    let e = env(&[]).await;
    let burst: Vec<InboundPost> = (0..20)
        .map(|i| {
            post(
                i,
                "las",
                "angry",
                "You useless idiots",
                base() + Duration::seconds(i64::from(i) * 3),
            )
        })
        .collect();
    let mut ids = e.ingest(&burst).await;
    let other = e.ingest(&distinct(1, "imperial")).await;
    let stats = e.worker().drain().await.expect("drain");
    assert_eq!(stats.sent, 2);
    assert_eq!(stats.coalesced, 19);

    let seen = e.fake.ok();
    assert_eq!(seen.len(), 2);
    let title = seen[0].body["embeds"][0]["title"].as_str().unwrap();
    assert!(title.ends_with("(×20)"), "{title}");
    assert_eq!(footer_post_id(&seen[0].body), ids[0]);
    assert_eq!(footer_post_id(&seen[1].body), other[0]);
    let coalesced = e.audits("relay.coalesced").await;
    assert_eq!(coalesced.len(), 19);
    for row in &coalesced {
        let d = row.detail_json().unwrap();
        assert_eq!(d["into_post_id"], json!(ids[0]));
    }
    let sent = e.audits("relay.sent").await;
    assert_eq!(sent[0].detail_json().unwrap()["count"], json!(20));
    let message = e.store.get_relay(ids[0]).await.unwrap().unwrap().message_id;
    for id in &ids {
        let r = e.store.get_relay(*id).await.unwrap().unwrap();
        assert_eq!(r.message_id, message, "post {id} points at the kept relay");
    }

    // Two more arrive after the relay went out: the message is edited.
    let late: Vec<InboundPost> = (20..22)
        .map(|i| {
            post(
                i,
                "las",
                "angry",
                "you USELESS idiots!",
                base() + Duration::seconds(90),
            )
        })
        .collect();
    ids.extend(e.ingest(&late).await);
    let mut worker = e.worker();
    // A fresh worker has no memory of the burst: the late ones get a relay
    // of their own (with a count of 2), never lost.
    worker.drain().await.expect("drain");
    let seen = e.fake.ok();
    assert_eq!(seen.len(), 3);
    assert!(seen[2].body["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .ends_with("(×2)"));
}

#[tokio::test]
async fn late_burst_members_edit_the_sent_relay() {
    let e = env(&[]).await;
    let mut worker = e.worker();
    let first = e
        .ingest(&[post(0, "las", "angry", "You useless idiots", base())])
        .await;
    worker.drain().await.expect("drain");
    for i in 1..4 {
        e.ingest(&[post(
            i,
            "las",
            "angry",
            "You useless idiots",
            base() + Duration::seconds(10 * i64::from(i)),
        )])
        .await;
        worker.drain().await.expect("drain");
    }
    // Outside the window: a new relay.
    let later = e
        .ingest(&[post(
            9,
            "las",
            "angry",
            "You useless idiots",
            base() + Duration::minutes(5),
        )])
        .await;
    worker.drain().await.expect("drain");

    let seen = e.fake.ok();
    let methods: Vec<&str> = seen.iter().map(|s| s.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PATCH", "PATCH", "PATCH", "POST"]);
    let message = e
        .store
        .get_relay(first[0])
        .await
        .unwrap()
        .unwrap()
        .message_id
        .unwrap();
    assert_eq!(
        seen[3].path,
        format!("/api/v10/channels/{LAS_RELAY}/messages/{message}")
    );
    assert!(seen[3].body["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .ends_with("(×4)"));
    assert_eq!(
        footer_post_id(&seen[3].body),
        first[0],
        "the kept post is shown"
    );
    assert_eq!(footer_post_id(&seen[4].body), later[0]);
    assert_eq!(e.audits("relay.coalesced").await.len(), 3);
    assert_eq!(worker.stats().edited, 3);
}

#[tokio::test]
async fn a_refused_message_is_retried_then_given_up_and_audited() {
    let e = env(&[Scripted::Status(400); 10]).await;
    let ids = e.ingest(&distinct(1, "las")).await;
    let stats = e.worker().drain().await.expect("drain");
    assert_eq!(stats.sent, 0);
    assert_eq!(stats.failed, 1);
    let failed = e.audits("relay.failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].post_id, Some(ids[0]));
    let job = e.store.get_job(1).await.unwrap();
    if let Some(job) = job {
        if job.kind == KIND {
            assert_eq!(job.status, JobStatus::Dead);
        }
    }
}

#[tokio::test]
async fn unreachable_discord_puts_the_job_back_without_using_its_attempts() {
    let e = env(&[]).await;
    let ids = e.ingest(&distinct(2, "las")).await;
    let orgs: Vec<&str> = e.pipeline.config.orgs.keys().map(String::as_str).collect();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut discord = DiscordConfig::load(&config, &orgs).expect("discord.toml");
    // Nothing listens on port 9 (discard) on loopback in the test sandbox.
    discord.api_base = "http://127.0.0.1:9".into();
    let mut worker = Worker::new(
        e.store.clone(),
        e.pipeline.clone(),
        discord,
        "test-token",
        false,
        e.clock.clone(),
    )
    .expect("worker");
    for _ in 0..8 {
        match worker.step().await.expect("step") {
            Step::Retry { post_id, .. } => assert_eq!(post_id, ids[0]),
            Step::Waiting { until } => {
                use signpost::discord::delivery::Clock;
                e.clock.advance(until - e.clock.now());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let job = e.store.get_job(1).await.unwrap().expect("job");
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.attempts, 0, "outage attempts are not counted");
    // Discord comes back: both go out, in order.
    e.clock.advance(Duration::minutes(2));
    e.worker().drain().await.expect("drain");
    let order: Vec<i64> = e
        .fake
        .ok()
        .iter()
        .map(|s| footer_post_id(&s.body))
        .collect();
    assert_eq!(order, ids);
}
