//! The handover digest end to end: posts go through the real pipeline with
//! the shipped config into a temporary SQLite store over a weekend (or a
//! bank holiday); the scheduler, on a [`ManualClock`], queues one digest per
//! org at the opening, and the worker posts it to the wiremock Discord REST
//! fake, whose every body is checked against Discord's OpenAPI spec
//! (`$DISCORD_OPENAPI_SPEC`) and limits.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use signpost::config::discord::DiscordConfig;
use signpost::discord::delivery::{Clock, ManualClock};
use signpost::discord::handover::{
    dedupe_key, DigestStep, DigestWorker, Enqueued, Opening, Scheduler, KIND,
};
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::store::{AuditFilter, JobStatus, NewJob, Store};
use std::path::Path;
use std::sync::Arc;
use support::discord as fake;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NSFT_RELAY: &str = "100000000000000013";

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    pipeline: Arc<Pipeline>,
    discord: DiscordConfig,
    clock: Arc<ManualClock>,
}

async fn env(start: DateTime<Utc>) -> Env {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let pipeline = Arc::new(Pipeline::load(&config, true).expect("config"));
    let orgs: Vec<&str> = pipeline.config.orgs.keys().map(String::as_str).collect();
    let discord = DiscordConfig::load(&config, &orgs).expect("discord.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .expect("store");
    Env {
        _dir: dir,
        store,
        pipeline,
        discord,
        clock: Arc::new(ManualClock::new(start)),
    }
}

impl Env {
    fn scheduler(&self) -> Scheduler {
        Scheduler::new(
            self.store.clone(),
            self.pipeline.clone(),
            self.discord.clone(),
            self.clock.clone(),
        )
    }

    fn set(&self, t: DateTime<Utc>) {
        let now = self.clock.now();
        assert!(t >= now, "the clock only moves forward");
        self.clock.advance(t - now);
    }

    async fn ingest(&self, id: &str, author: &str, text: &str, at: DateTime<Utc>) -> Ingested {
        let post = InboundPost {
            platform: Platform::Facebook,
            external_id: id.into(),
            account: "NSFTpage".into(),
            org: "nsft".into(),
            kind: PostKind::Comment,
            author_id: author.into(),
            author_handle: format!("@{author}"),
            text: text.into(),
            url: Some(format!("https://facebook.example/{id}")),
            created_at: at,
        };
        let mut tx = self.store.begin().await.expect("tx");
        let out = self
            .pipeline
            .ingest(&mut tx, &post, None, &[], &[], at)
            .await
            .expect("ingest");
        tx.commit().await.expect("commit");
        out
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn by_org(added: &[Enqueued]) -> Vec<(&str, Opening)> {
    let mut v: Vec<(&str, Opening)> = added.iter().map(|e| (e.org.as_str(), e.opening)).collect();
    v.sort_by_key(|(org, _)| *org);
    v
}

#[tokio::test]
async fn the_monday_opening_queues_one_digest_per_org_and_restarts_add_none() {
    // Friday 10 July 2026, 16:00 BST: in hours.
    let env = env(utc(2026, 7, 10, 15, 0)).await;
    let scheduler = env.scheduler();
    assert!(scheduler.tick().await.expect("tick").is_empty());
    // Over the weekend, nothing opens.
    env.set(utc(2026, 7, 11, 12, 0));
    assert!(scheduler.tick().await.expect("tick").is_empty());
    // Sleeping until the opening: never past it, never more than a minute.
    env.set(utc(2026, 7, 13, 7, 59) + Duration::seconds(30));
    assert_eq!(
        scheduler.next_wake().await.expect("wake"),
        utc(2026, 7, 13, 8, 0)
    );
    assert!(scheduler.tick().await.expect("tick").is_empty());

    // Monday 09:00 BST: all three trusts open.
    env.set(utc(2026, 7, 13, 8, 0));
    let added = scheduler.tick().await.expect("tick");
    let monday = utc(2026, 7, 13, 8, 0);
    assert_eq!(
        by_org(&added),
        vec![
            (
                "imperial",
                Opening {
                    at: monday,
                    away_from: utc(2026, 7, 10, 16, 0)
                }
            ),
            (
                "las",
                Opening {
                    at: monday,
                    away_from: utc(2026, 7, 10, 16, 30)
                }
            ),
            (
                "nsft",
                Opening {
                    at: monday,
                    away_from: utc(2026, 7, 10, 16, 0)
                }
            ),
        ]
    );
    let job = env
        .store
        .get_job(added.iter().find(|e| e.org == "nsft").expect("nsft").job_id)
        .await
        .expect("job")
        .expect("stored");
    assert_eq!(job.kind, KIND);
    assert_eq!(job.dedupe_key.as_deref(), Some("digest:nsft:1783929600000"));
    assert_eq!(job.payload["from"], "2026-07-10T16:00:00Z");
    assert_eq!(job.payload["to"], "2026-07-13T08:00:00Z");

    // Ticking again, or a restarted scheduler 20 minutes later: nothing new.
    assert!(scheduler.tick().await.expect("tick").is_empty());
    env.set(utc(2026, 7, 13, 8, 20));
    let restarted = env.scheduler();
    assert!(restarted.tick().await.expect("tick").is_empty());
    assert_eq!(env.store.queue_depth(KIND).await.expect("depth"), 3);
    // The relay queue is untouched.
    assert_eq!(
        env.store.queue_depth("discord.relay").await.expect("depth"),
        0
    );
}

#[tokio::test]
async fn after_a_bank_holiday_a_late_start_catches_up_once() {
    // Spring bank holiday 2026 is Monday 25 May: nobody opens that day.
    let env = env(utc(2026, 5, 25, 7, 0)).await;
    env.set(utc(2026, 5, 25, 12, 0));
    assert!(env.scheduler().tick().await.expect("tick").is_empty());
    // The bot was down at 09:00 on Tuesday and starts at 09:20.
    env.set(utc(2026, 5, 26, 8, 20));
    let added = env.scheduler().tick().await.expect("tick");
    let nsft: Vec<_> = added.iter().filter(|e| e.org == "nsft").collect();
    assert_eq!(nsft.len(), 1);
    assert_eq!(
        nsft[0].opening,
        Opening {
            at: utc(2026, 5, 26, 8, 0),
            away_from: utc(2026, 5, 22, 16, 0)
        }
    );
    assert_eq!(added.len(), 3);
    // Another restart: still one each.
    assert!(env.scheduler().tick().await.expect("tick").is_empty());
    assert_eq!(env.store.queue_depth(KIND).await.expect("depth"), 3);
}

#[tokio::test]
async fn a_start_long_after_the_opening_posts_no_stale_digest() {
    // Tuesday 14 July 2026, 13:00 BST: the 09:00 opening is four hours ago.
    let env = env(utc(2026, 7, 14, 12, 0)).await;
    assert!(env.scheduler().tick().await.expect("tick").is_empty());
    assert_eq!(env.store.queue_depth(KIND).await.expect("depth"), 0);
}

async fn rest_fake() -> MockServer {
    let server = MockServer::start().await;
    fake::mount(&server).await;
    server
}

#[tokio::test]
async fn the_worker_posts_the_weekend_to_the_relay_channel_and_audits_it() {
    let env = env(utc(2026, 7, 10, 16, 30)).await;
    // A weekend for NSFT: a crisis post with a phone number, abuse (relayed,
    // not yet posted to Discord), a question (out-of-hours reply).
    let sat = utc(2026, 7, 11, 1, 14);
    let crisis = env
        .ingest(
            "c1",
            "kim",
            "feeling suicidal tonight, call me on 07700 900123",
            sat,
        )
        .await;
    assert!(matches!(crisis, Ingested::New { ref decision, .. } if decision.relay.is_some()));
    env.ingest(
        "a1",
        "troll",
        "you pathetic idiots",
        sat + Duration::hours(5),
    )
    .await;
    env.ingest(
        "q1",
        "amy",
        "Is the car park by the main entrance open this week?",
        sat + Duration::hours(8),
    )
    .await;

    env.set(utc(2026, 7, 13, 8, 0));
    let added = env.scheduler().tick().await.expect("tick");
    assert_eq!(added.len(), 3);

    let server = rest_fake().await;
    let mut discord = env.discord.clone();
    discord.api_base = server.uri();
    let mut worker = DigestWorker::new(
        env.store.clone(),
        env.pipeline.clone(),
        discord,
        "test-token",
        env.clock.clone(),
    )
    .expect("worker");
    assert_eq!(worker.drain().await.expect("drain"), 3);
    assert_eq!(env.store.queue_depth(KIND).await.expect("depth"), 0);

    let sent = fake::check_all(&server).await;
    assert_eq!(sent.len(), 3, "one message per org");
    let nsft: Vec<&fake::Sent> = sent
        .iter()
        .filter(|s| s.path == format!("/api/v10/channels/{NSFT_RELAY}/messages"))
        .collect();
    assert_eq!(nsft.len(), 1);
    let body = &nsft[0].body;
    let text = body.to_string();
    assert!(
        body["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("🆘 **1 crisis post** arrived while you were away"),
        "{text}"
    );
    assert_eq!(body["allowed_mentions"]["parse"], Value::Array(vec![]));
    let embeds = body["embeds"].as_array().expect("embeds");
    assert_eq!(embeds.len(), 2, "crisis first, then the summary");
    let crisis_text = embeds[0]["description"].as_str().unwrap_or_default();
    assert!(crisis_text.contains("@kim · Sat 02:14"), "{crisis_text}");
    assert!(
        !text.contains("07700 900123"),
        "personal data is masked: {text}"
    );
    assert!(crisis_text.contains("call me on 0••••"), "{text}");
    assert_eq!(
        embeds[1]["title"],
        "Handover: while you were away (Fri 17:00 → Mon 09:00)"
    );
    let fields = embeds[1]["fields"].as_array().expect("fields");
    assert_eq!(fields[0]["value"], "3 posts: facebook 3");
    assert!(
        fields[3]["value"]
            .as_str()
            .unwrap_or_default()
            .contains("out of hours 1"),
        "{text}"
    );
    assert_eq!(fields[4]["name"], "Still needs action (2)");

    // Audited, one row per digest, with the window and the message.
    let rows = env
        .store
        .audit_rows(&AuditFilter {
            org: Some("nsft".into()),
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let posted: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "digest.posted")
        .collect();
    assert_eq!(posted.len(), 1);
    let detail = posted[0].detail_json().expect("detail");
    assert_eq!(detail["channel_id"], NSFT_RELAY);
    assert_eq!(detail["message_id"], "900000000000000100");
    assert_eq!(detail["from"], "2026-07-10T16:00:00Z");
    assert_eq!(detail["to"], "2026-07-13T08:00:00Z");
    assert_eq!(detail["posts"], 3);
    assert_eq!(detail["crisis"], 1);
    assert!(env.store.verify_audit().await.expect("verify").is_intact());

    // A restarted scheduler does not queue them again.
    assert!(env.scheduler().tick().await.expect("tick").is_empty());
    assert_eq!(worker.step().await.expect("step"), DigestStep::Idle);
}

#[tokio::test]
async fn an_outage_is_waited_out_and_a_refusal_is_given_up_and_audited() {
    let env = env(utc(2026, 7, 13, 8, 0)).await;
    let server = MockServer::start().await;
    // Discord down once, then up.
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/channels/\d+/messages$"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    fake::mount(&server).await;
    let mut discord = env.discord.clone();
    discord.api_base = server.uri();
    discord.orgs.retain(|id, _| id == "nsft");
    let job = NewJob::new(
        KIND,
        "nsft",
        serde_json::json!({"from_ms": utc(2026, 7, 10, 16, 0).timestamp_millis(),
                           "to_ms": utc(2026, 7, 13, 8, 0).timestamp_millis()}),
        env.clock.now(),
    )
    .dedupe_key(dedupe_key("nsft", utc(2026, 7, 13, 8, 0)))
    .max_attempts(2);
    let (id, _) = env
        .store
        .enqueue(&job, env.clock.now())
        .await
        .expect("enqueue");
    let mut worker = DigestWorker::new(
        env.store.clone(),
        env.pipeline.clone(),
        discord.clone(),
        "test-token",
        env.clock.clone(),
    )
    .expect("worker");
    assert!(matches!(
        worker.step().await.expect("step"),
        DigestStep::Retry { .. }
    ));
    let stored = env.store.get_job(id).await.expect("job").expect("stored");
    assert_eq!((stored.status, stored.attempts), (JobStatus::Failed, 0));
    assert_eq!(worker.drain().await.expect("drain"), 1);

    // An org Discord has no home for: given up at once, audited.
    let lost = NewJob::new(
        KIND,
        "las",
        serde_json::json!({"from_ms": 0, "to_ms": 1}),
        env.clock.now(),
    );
    env.store
        .enqueue(&lost, env.clock.now())
        .await
        .expect("enqueue");
    let step = worker.step().await.expect("step");
    assert_eq!(
        step,
        DigestStep::Failed {
            org: "las".into(),
            reason: "org `las` has no Discord home in discord.toml".into()
        }
    );
    let rows = env
        .store
        .audit_rows(&AuditFilter {
            org: Some("las".into()),
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].action, "digest.failed");
    assert_eq!(
        rows[0].outcome,
        "failed: org `las` has no Discord home in discord.toml"
    );
    fake::check_all(&server).await;
}
