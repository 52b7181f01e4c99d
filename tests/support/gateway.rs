//! A loopback Discord gateway for the bot tests: HELLO, READY (one guild),
//! heartbeat ACKs, then whatever events the test sends (e.g. an
//! INTERACTION_CREATE for a slash command), plus the REST routes serenity
//! needs to find it.
#![allow(dead_code)]

use super::discord as fake;
use poise::futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A started fake gateway: send events into it with `events`.
pub struct Gateway {
    pub url: String,
    pub events: mpsc::Sender<Value>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds a loopback gateway that answers IDENTIFY with READY for `guild`.
pub async fn start(guild: u64) -> Gateway {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel(8);
    let task = tokio::spawn(serve(listener, url.clone(), guild, rx));
    Gateway {
        url,
        events: tx,
        task,
    }
}

/// The REST routes that point serenity at the gateway.
pub async fn mount_gateway_routes(rest: &MockServer, ws_url: &str) {
    for p in ["/api/v10/gateway", "/api/v10/gateway/bot"] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "url": ws_url, "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            })))
            .mount(rest)
            .await;
    }
}

fn ready(ws: &str, guild: u64) -> Value {
    json!({"op": 0, "s": 1, "t": "READY", "d": {
        "v": 10,
        "user": {"id": fake::BOT_USER_ID.to_string(), "username": "signpost", "discriminator": "0",
                 "global_name": null, "avatar": null, "bot": true, "verified": true, "mfa_enabled": false,
                 "flags": 0},
        "guilds": [{"id": guild.to_string(), "unavailable": true}],
        "session_id": "fake-session",
        "resume_gateway_url": ws,
        "shard": [0, 1],
        "application": {"id": fake::APP_ID.to_string(), "flags": 0}
    }})
}

async fn serve(listener: TcpListener, ws_url: String, guild: u64, mut go: mpsc::Receiver<Value>) {
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
                    Some(2) => ready(&ws_url, guild),
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

/// A guild member as an interaction carries it.
pub fn member(user_id: u64, name: &str, roles: &[u64]) -> Value {
    json!({
        "user": {"id": user_id.to_string(), "username": name, "discriminator": "0",
                 "global_name": name, "avatar": null, "bot": false},
        "nick": null,
        "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "joined_at": "2025-01-01T00:00:00.000000+00:00",
        "deaf": false, "mute": false, "flags": 0,
        "permissions": "2147483647"
    })
}

/// Where and how an interaction arrives.
#[derive(Debug, Clone, Copy)]
pub struct Invoke<'a> {
    /// The gateway sequence number.
    pub seq: u64,
    pub interaction_id: u64,
    pub token: &'a str,
    pub guild: u64,
    pub channel: u64,
}

/// An INTERACTION_CREATE for an application (slash) command `name` with
/// `options` (Discord's nested option objects).
pub fn command(at: Invoke<'_>, member: Value, name: &str, options: Value) -> Value {
    let guild = at.guild;
    json!({"op": 0, "s": at.seq, "t": "INTERACTION_CREATE", "d": {
        "id": at.interaction_id.to_string(),
        "application_id": fake::APP_ID.to_string(),
        "type": 2,
        "token": at.token,
        "version": 1,
        "guild_id": guild.to_string(),
        "channel_id": at.channel.to_string(),
        "member": member,
        "data": {"id": "950000000000000009", "name": name, "type": 1, "options": options},
        "app_permissions": "2147483647",
        "locale": "en-GB",
        "guild_locale": "en-GB",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild.to_string()},
        "context": 0,
        "attachment_size_limit": 10485760
    }})
}

/// Waits (up to 10 s) until the requests sent to `server` satisfy `pred`.
pub async fn wait_for(server: &MockServer, what: &str, pred: impl Fn(&[fake::Sent]) -> bool) {
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
