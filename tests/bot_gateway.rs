//! The whole bot over a fake Discord: a loopback WebSocket gateway (HELLO,
//! READY, heartbeat ACKs, then an INTERACTION_CREATE for a button click)
//! and a wiremock REST API. The real serenity client and poise framework
//! (built as `signpost run` builds them) must register the slash commands
//! in each guild, acknowledge the click and edit the relay.

mod support;

use chrono::{TimeZone, Utc};
use poise::futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use signpost::bot::{build_client, build_http, Clicks, Data};
use signpost::category::Action;
use signpost::config::discord::DiscordConfig;
use signpost::config::platforms::PlatformsConfig;
use signpost::discord::custom_id;
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::platforms::{DryRun, Platforms};
use signpost::store::Store;
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use support::discord as fake;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const GUILD: u64 = 100000000000000003;
const TEAM: u64 = 100000000000000023;

fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": name, "avatar": null, "bot": bot})
}

fn ready(ws: &str) -> Value {
    json!({"op": 0, "s": 1, "t": "READY", "d": {
        "v": 10,
        "user": {"id": fake::BOT_USER_ID.to_string(), "username": "signpost", "discriminator": "0",
                 "global_name": null, "avatar": null, "bot": true, "verified": true, "mfa_enabled": false,
                 "flags": 0},
        "guilds": [{"id": GUILD.to_string(), "unavailable": true}],
        "session_id": "fake-session",
        "resume_gateway_url": ws,
        "shard": [0, 1],
        "application": {"id": fake::APP_ID.to_string(), "flags": 0}
    }})
}

fn click(post_id: i64) -> Value {
    let mut message = fake::message_json();
    message["components"] = json!([{"type": 1, "components": [
        {"type": 2, "style": 2, "label": "Hide", "custom_id": custom_id(Action::Hide, post_id)}
    ]}]);
    json!({"op": 0, "s": 2, "t": "INTERACTION_CREATE", "d": {
        "id": "950000000000000001",
        "application_id": fake::APP_ID.to_string(),
        "type": 3,
        "token": "gateway-token",
        "version": 1,
        "guild_id": GUILD.to_string(),
        "channel_id": "100000000000000013",
        "member": {
            "user": user(501, "Sam", false),
            "nick": "Sam (comms)",
            "roles": [TEAM.to_string()],
            "joined_at": "2025-01-01T00:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0,
            "permissions": "2147483647"
        },
        "message": message,
        "data": {"custom_id": custom_id(Action::Hide, post_id), "component_type": 2},
        "app_permissions": "2147483647",
        "locale": "en-GB",
        "guild_locale": "en-GB",
        "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD.to_string()},
        "context": 0,
        "attachment_size_limit": 10485760
    }})
}

fn status_command(seq: u64) -> Value {
    json!({"op": 0, "s": seq, "t": "INTERACTION_CREATE", "d": {
        "id": "950000000000000002",
        "application_id": fake::APP_ID.to_string(),
        "type": 2,
        "token": "command-token",
        "version": 1,
        "guild_id": GUILD.to_string(),
        "channel_id": "100000000000000013",
        "member": {
            "user": user(501, "Sam", false),
            "nick": null,
            "roles": [TEAM.to_string()],
            "joined_at": "2025-01-01T00:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0,
            "permissions": "2147483647"
        },
        "data": {"id": "950000000000000009", "name": "signpost", "type": 1,
                 "options": [{"name": "status", "type": 1, "options": []}]},
        "app_permissions": "2147483647",
        "locale": "en-GB",
        "guild_locale": "en-GB",
        "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD.to_string()},
        "context": 0,
        "attachment_size_limit": 10485760
    }})
}

/// Serves one gateway connection; sends the click when told to.
async fn fake_gateway(listener: TcpListener, ws_url: String, mut go: mpsc::Receiver<Value>) {
    let Ok((tcp, _)) = listener.accept().await else {
        return;
    };
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 41250}});
    if ws.send(Message::Text(hello.to_string())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            msg = ws.next() => {
                let Some(Ok(msg)) = msg else { return };
                let Message::Text(text) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                let reply = match v["op"].as_u64() {
                    Some(2) => ready(&ws_url),
                    Some(1) => json!({"op": 11}),
                    _ => continue,
                };
                if ws.send(Message::Text(reply.to_string())).await.is_err() {
                    return;
                }
            }
            event = go.recv() => {
                let Some(event) = event else { return };
                if ws.send(Message::Text(event.to_string())).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn wait_for(server: &MockServer, what: &str, pred: impl Fn(&[fake::Sent]) -> bool) {
    for _ in 0..200 {
        if pred(&fake::sent(server).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "timed out waiting for {what}: {:#?}",
        fake::sent(server).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_over_the_gateway_is_acknowledged_and_edits_the_relay() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let pipeline = Arc::new(Pipeline::load(&config, true).expect("config"));
    let orgs: Vec<&str> = pipeline.config.orgs.keys().map(String::as_str).collect();
    let mut discord = DiscordConfig::load(&config, &orgs).expect("discord.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .expect("store");
    let created = Utc.with_ymd_and_hms(2026, 7, 14, 13, 2, 0).unwrap();
    let post = InboundPost {
        platform: Platform::Facebook,
        external_id: "111_222".into(),
        account: "NSFTpage".into(),
        org: "nsft".into(),
        kind: PostKind::Comment,
        author_id: "8080".into(),
        author_handle: "Troll".into(),
        text: "you pathetic idiots".into(),
        url: None,
        created_at: created,
    };
    let mut tx = store.begin().await.expect("tx");
    let Ingested::New { post_id, .. } = pipeline
        .ingest(&mut tx, &post, None, &[], &[], created)
        .await
        .expect("ingest")
    else {
        panic!("new post")
    };
    tx.commit().await.expect("commit");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let ws_url = format!("ws://{}", listener.local_addr().expect("addr"));
    let (go_tx, go_rx) = mpsc::channel(4);
    let gateway = tokio::spawn(fake_gateway(listener, ws_url.clone(), go_rx));

    let rest = MockServer::start().await;
    for p in ["/api/v10/gateway", "/api/v10/gateway/bot"] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "url": ws_url, "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            })))
            .mount(&rest)
            .await;
    }
    fake::mount(&rest).await;
    discord.api_base = rest.uri();
    let discord = Arc::new(discord);

    let dry = Arc::new(DryRun::new());
    let platforms = Platforms::dry_run(&PlatformsConfig::default(), dry.clone());
    let make_data = {
        let (store, discord) = (store.clone(), discord.clone());
        move |http| Data {
            clicks: Arc::new(Clicks::new(store, pipeline, platforms, discord, http)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    };
    // No application id up front: the client learns it from READY.
    let http = build_http("test-token", &discord.api_base, None);
    let mut client = build_client(http, discord.clone(), make_data)
        .await
        .expect("client");
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });

    // READY → the framework registers /signpost in each org's guild.
    let guilds = discord.orgs.len();
    wait_for(&rest, "command registration", |s| {
        s.iter()
            .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
            .count()
            >= guilds
    })
    .await;
    let registered = fake::sent(&rest).await;
    let put = registered
        .iter()
        .find(|r| r.method == "PUT")
        .expect("registration");
    assert!(
        put.path
            .starts_with(&format!("/api/v10/applications/{}/guilds/", fake::APP_ID)),
        "{}",
        put.path
    );
    assert_eq!(put.body[0]["name"], "signpost");
    assert_eq!(put.body[0]["options"][0]["name"], "status");

    go_tx.send(click(post_id)).await.expect("inject click");
    wait_for(&rest, "the relay edit", |s| {
        s.iter()
            .any(|r| r.method == "PATCH" && r.path.contains("/gateway-token/messages/@original"))
    })
    .await;
    let all = fake::check_all(&rest).await;
    let callback = all
        .iter()
        .find(|r| r.path == "/api/v10/interactions/950000000000000001/gateway-token/callback")
        .expect("interaction callback");
    assert_eq!(callback.body, json!({"type": 6}));
    let edit = all
        .iter()
        .find(|r| r.path.ends_with("/gateway-token/messages/@original"))
        .expect("edit");
    assert!(edit
        .path
        .starts_with(&format!("/api/v10/webhooks/{}/", fake::APP_ID)));
    let text = edit.body.to_string();
    assert!(text.contains("Hidden by <@501>"), "{text}");
    assert_eq!(
        dry.calls()
            .iter()
            .filter(|(_, op)| op.name() == "hide")
            .count(),
        1
    );

    // `/signpost status` answers ephemerally with queue depth and hours.
    go_tx.send(status_command(3)).await.expect("inject command");
    wait_for(&rest, "the status answer", |s| {
        s.iter().any(|r| r.path.contains("/command-token/callback"))
    })
    .await;
    let all = fake::check_all(&rest).await;
    let answer = all
        .iter()
        .find(|r| r.path.contains("/command-token/callback"))
        .expect("status answer");
    assert_eq!(answer.body["type"], 4, "{}", answer.body);
    assert_eq!(answer.body["data"]["flags"], 64, "{}", answer.body);
    let text = answer.body["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("Queued:") && text.contains("**nsft**"),
        "{text}"
    );
    assert_eq!(answer.body["data"]["allowed_mentions"]["parse"], json!([]));

    shards.shutdown_all().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), running).await;
    gateway.abort();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The `signpost run` binary against the fakes: it connects, registers the
/// commands in the three trusts' guilds, and exits 0 on SIGTERM.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signpost_run_connects_registers_and_stops_on_sigterm() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root.join("config"), &dir.path().join("config"));
    copy_dir(&root.join("replies"), &dir.path().join("replies"));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let ws_url = format!("ws://{}", listener.local_addr().expect("addr"));
    let (_go_tx, go_rx) = mpsc::channel(1);
    let gateway = tokio::spawn(fake_gateway(listener, ws_url.clone(), go_rx));
    let rest = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v10/gateway"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"url": ws_url})))
        .mount(&rest)
        .await;
    fake::mount(&rest).await;
    let discord_toml = dir.path().join("config/discord.toml");
    let text = std::fs::read_to_string(&discord_toml).expect("discord.toml");
    let text = text.replace(
        "api_base = \"https://discord.com\"",
        &format!("api_base = \"{}\"", rest.uri()),
    );
    std::fs::write(&discord_toml, text).expect("write discord.toml");

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
        .arg("--config")
        .arg(dir.path().join("config"))
        .arg("run")
        .arg("--db")
        .arg(dir.path().join("run.db"))
        .env("DISCORD_TOKEN", "test-token")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("spawn signpost run");
    wait_for(&rest, "command registration by signpost run", |s| {
        s.iter()
            .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
            .count()
            >= 3
    })
    .await;
    let pid = child.id() as i32;
    // SAFETY: sending SIGTERM to the child this test spawned.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let mut status = None;
    for _ in 0..300 {
        if let Some(s) = child.try_wait().expect("try_wait") {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("signpost run did not stop within 15 s of SIGTERM");
    };
    assert!(status.success(), "{status:?}");
    gateway.abort();
}

#[test]
fn the_injected_click_is_a_component_interaction() {
    let d = click(7)["d"].clone();
    let i: poise::serenity_prelude::Interaction = serde_json::from_value(d).expect("interaction");
    let c = signpost::bot::gateway::to_click(&i).expect("a click");
    assert_eq!(c.member.expect("member").roles, vec![TEAM]);
}
