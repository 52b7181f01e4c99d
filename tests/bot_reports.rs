//! The supervisor report commands over a loopback gateway and REST fake
//! (issue 6): permission refusals are private one-line reasons answered at
//! once; a supervisor's `/stats` is deferred privately and answered with an
//! embed and the chart PNG; `/export` attaches the CSV and audits it.

mod support;

use chrono::Utc;
use serde_json::{json, Value};
use signpost::bot::{build_client, build_http, Clicks, Data};
use signpost::config::discord::DiscordConfig;
use signpost::config::platforms::PlatformsConfig;
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::Pipeline;
use signpost::platforms::{DryRun, Platforms};
use signpost::store::{AuditFilter, Store};
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use support::discord as fake;
use support::gateway;

const NSFT_GUILD: u64 = 100000000000000003;
const NSFT_CHANNEL: u64 = 100000000000000013;
const NSFT_TEAM: u64 = 100000000000000023;
const NSFT_SUPERVISOR: u64 = 100000000000000033;

fn invoke(seq: u64, token: &str, roles: &[u64], name: &str, options: Value) -> Value {
    gateway::command(
        gateway::Invoke {
            seq,
            interaction_id: 970000000000000000 + seq,
            token,
            guild: NSFT_GUILD,
            channel: NSFT_CHANNEL,
        },
        gateway::member(601, "Robin", roles),
        name,
        options,
    )
}

/// The raw requests to a path ending in `/{token}` (follow-ups).
async fn raw_followup(rest: &wiremock::MockServer, token: &str) -> Option<wiremock::Request> {
    rest.received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path().ends_with(&format!("/{token}")))
}

/// The `payload_json` part and the file parts of a multipart body.
fn multipart(r: &wiremock::Request) -> (Value, Vec<(String, Vec<u8>)>) {
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let boundary = ct.split("boundary=").nth(1).expect("multipart boundary");
    let delimiter = format!("--{boundary}");
    let body = &r.body;
    let mut payload = Value::Null;
    let mut files = Vec::new();
    let positions: Vec<usize> = body
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter.as_bytes())
        .map(|(i, _)| i)
        .collect();
    for pair in positions.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let split = part
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("part headers");
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let mut content = part[split + 4..].to_vec();
        if content.ends_with(b"\r\n") {
            content.truncate(content.len() - 2);
        }
        if headers.contains("name=\"payload_json\"") {
            payload = serde_json::from_slice(&content).expect("payload_json");
        } else if let Some(name) = headers.split("filename=\"").nth(1) {
            files.push((name.split('"').next().unwrap_or("").to_owned(), content));
        }
    }
    (payload, files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_over_the_gateway() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let pipeline = Arc::new(Pipeline::load(&config, true).expect("config"));
    let orgs: Vec<&str> = pipeline.config.orgs.keys().map(String::as_str).collect();
    let mut discord = DiscordConfig::load(&config, &orgs).expect("discord.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("r.db").display()))
        .await
        .expect("store");

    // Two posts to nsft today: one abusive, one thanks.
    let now = Utc::now();
    for (i, text) in [
        "you useless idiot, I hope you get sacked",
        "thank you for your help",
    ]
    .iter()
    .enumerate()
    {
        let post = InboundPost {
            platform: Platform::X,
            external_id: format!("r{i}"),
            account: "nsft".into(),
            org: "nsft".into(),
            kind: PostKind::Comment,
            author_id: format!("a{i}"),
            author_handle: format!("author{i}"),
            text: text.to_string(),
            url: None,
            created_at: now - chrono::Duration::minutes(5),
        };
        let mut tx = store.begin().await.expect("begin");
        pipeline
            .ingest(
                &mut tx,
                &post,
                None,
                &[],
                &[],
                now - chrono::Duration::minutes(5),
            )
            .await
            .expect("ingest");
        tx.commit().await.expect("commit");
    }

    let gw = gateway::start(NSFT_GUILD).await;
    let rest = wiremock::MockServer::start().await;
    gateway::mount_gateway_routes(&rest, &gw.url).await;
    fake::mount(&rest).await;
    discord.api_base = rest.uri();
    discord.orgs.retain(|id, _| id == "nsft");
    let discord = Arc::new(discord);
    let platforms = Platforms::dry_run(&PlatformsConfig::default(), Arc::new(DryRun::new()));
    let make_data = {
        let (store, pipeline, discord) = (store.clone(), pipeline.clone(), discord.clone());
        move |http| Data {
            clicks: Arc::new(Clicks::new(store, pipeline, platforms, discord, http)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    };
    let http = build_http("test-token", &discord.api_base, None);
    let mut client = build_client(http, discord.clone(), make_data)
        .await
        .expect("client");
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });
    gateway::wait_for(&rest, "command registration", |s| {
        s.iter()
            .any(|r| r.method == "PUT" && r.path.ends_with("/commands"))
    })
    .await;
    let registered = fake::sent(&rest).await;
    let put = registered.iter().find(|r| r.method == "PUT").expect("put");
    let names: Vec<&str> = put
        .body
        .as_array()
        .expect("commands")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for name in ["stats", "audit", "history", "export", "hours"] {
        assert!(names.contains(&name), "{name} not registered: {names:?}");
    }
    let stats_options = put
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "stats")
        .unwrap()["options"]
        .clone();
    let period = stats_options
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "period")
        .expect("period option");
    assert_eq!(
        period["choices"].as_array().map(Vec::len),
        Some(4),
        "{period}"
    );

    // Refusals: a team member asking in public, for each command. Answered
    // at once (no deferral), privately, with a one-line reason.
    let refusals = [
        (
            "stats",
            json!([{"name": "public", "type": 5, "value": true}]),
            "Only supervisors can use /stats.",
        ),
        ("export", json!([]), "Only supervisors can use /export."),
        (
            "audit",
            json!([{"name": "post", "type": 3, "value": "1"}]),
            "Only supervisors can use /audit.",
        ),
        (
            "history",
            json!([{"name": "author", "type": 3, "value": "author0"}]),
            "Only supervisors can use /history.",
        ),
    ];
    for (i, (name, options, message)) in refusals.iter().enumerate() {
        let token = format!("team-{name}");
        gw.events
            .send(invoke(
                10 + i as u64,
                &token,
                &[NSFT_TEAM],
                name,
                options.clone(),
            ))
            .await
            .expect("inject");
        gateway::wait_for(&rest, "a refusal", |s| {
            s.iter()
                .any(|r| r.path.ends_with(&format!("/{token}/callback")))
        })
        .await;
        let all = fake::check_all(&rest).await;
        let cb = all
            .iter()
            .find(|r| r.path.ends_with(&format!("/{token}/callback")))
            .expect("callback");
        assert_eq!(cb.body["type"], 4, "{}", cb.body);
        assert_eq!(cb.body["data"]["flags"], 64, "{}", cb.body);
        let content = cb.body["data"]["content"].as_str().unwrap_or_default();
        assert!(content.starts_with(message), "{content}");
    }

    // A supervisor's /stats: deferred privately, then the embed and chart.
    gw.events
        .send(invoke(
            20,
            "sup-stats",
            &[NSFT_TEAM, NSFT_SUPERVISOR],
            "stats",
            json!([
                {"name": "period", "type": 4, "value": 0}
            ]),
        ))
        .await
        .expect("inject");
    gateway::wait_for(&rest, "the stats answer", |s| {
        s.iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/sup-stats"))
    })
    .await;
    let all = fake::sent(&rest).await;
    let cb = all
        .iter()
        .find(|r| r.path.ends_with("/sup-stats/callback"))
        .expect("callback");
    fake::check(cb);
    assert_eq!(cb.body["type"], 5, "{}", cb.body);
    assert_eq!(cb.body["data"]["flags"], 64, "{}", cb.body);
    let raw = raw_followup(&rest, "sup-stats").await.expect("follow-up");
    let (payload, files) = multipart(&raw);
    // serenity numbers new attachments with integer ids (0, 1, …), which
    // Discord accepts; the spec types them as snowflake strings. Compare
    // the rest of the payload with the spec.
    let mut checked = payload.clone();
    if let Some(list) = checked["attachments"].as_array_mut() {
        for a in list {
            a["id"] = json!(a["id"].to_string());
        }
    }
    fake::check(&fake::Sent {
        method: "POST".into(),
        path: raw.url.path().to_owned(),
        body: checked,
    });
    assert_eq!(payload["flags"], 64, "{payload}");
    assert_eq!(payload["allowed_mentions"]["parse"], json!([]));
    let embed = &payload["embeds"][0];
    assert_eq!(embed["title"], "Signpost stats: nsft", "{payload}");
    assert_eq!(embed["image"]["url"], "attachment://stats.png");
    let volume = embed["fields"][0]["value"].as_str().unwrap_or_default();
    assert!(volume.starts_with("Inbound 2 (x 2)\nFlagged 1"), "{volume}");
    let (name, png) = files.first().expect("chart attached");
    assert_eq!(name, "stats.png");
    let decoder = png::Decoder::new(std::io::Cursor::new(png.clone()));
    let reader = decoder.read_info().expect("a PNG");
    assert_eq!(
        (reader.info().width, reader.info().height),
        (signpost::chart::WIDTH, signpost::chart::HEIGHT)
    );

    // A supervisor's /export: the CSV attached, the export audited.
    gw.events
        .send(invoke(
            21,
            "sup-export",
            &[NSFT_SUPERVISOR],
            "export",
            json!([
                {"name": "rows", "type": 4, "value": 1}
            ]),
        ))
        .await
        .expect("inject");
    gateway::wait_for(&rest, "the export", |s| {
        s.iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/sup-export"))
    })
    .await;
    let raw = raw_followup(&rest, "sup-export").await.expect("follow-up");
    let (payload, files) = multipart(&raw);
    let content = payload["content"].as_str().unwrap_or_default();
    assert!(
        content.starts_with("Audit log of nsft, last 7 days ("),
        "{content}"
    );
    let (name, csv) = files.first().expect("csv attached");
    assert!(
        name.starts_with("signpost-audit-nsft-") && name.ends_with(".csv"),
        "{name}"
    );
    let csv = String::from_utf8(csv.clone()).expect("utf8");
    assert!(csv.starts_with("id,at_utc,org,post_id"), "{csv}");
    assert!(csv.contains("you useless idiot"), "{csv}");
    let audit = store
        .audit_rows(&AuditFilter {
            org: Some("nsft".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    let last = audit.last().expect("row");
    assert_eq!(last.action, "audit.export");
    assert_eq!(last.actor_id, "discord:601");
    assert_eq!(last.detail_json().expect("detail")["via"], "discord");

    shards.shutdown_all().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), running).await;
    gw.task.abort();
    store.close().await;
}
