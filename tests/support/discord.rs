//! A wiremock Discord REST API for the bot tests and the click bench: it
//! answers interaction callbacks, interaction webhooks (follow-ups and
//! `@original` edits), channel messages (posts and edits) and guild command
//! registration, and checks every request body the bot sent against
//! Discord's OpenAPI spec (`$DISCORD_OPENAPI_SPEC`) and the limits the spec
//! leaves out.
#![allow(dead_code)]

use serde_json::{json, Value};
use signpost::discord::limits;
use std::sync::OnceLock;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const APP_ID: u64 = 900000000000000001;
pub const BOT_USER_ID: u64 = 900000000000000002;

/// A message object serenity can deserialize.
pub fn message_json() -> Value {
    json!({
        "id": "900000000000000100",
        "channel_id": "100000000000000013",
        "author": {"id": BOT_USER_ID.to_string(), "username": "signpost", "discriminator": "0", "global_name": null, "avatar": null, "bot": true},
        "content": "",
        "timestamp": "2026-07-14T13:02:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "components": []
    })
}

/// Mounts the REST routes the bot uses.
pub async fn mount(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/interactions/\d+/[^/]+/callback$"))
        .respond_with(ResponseTemplate::new(204))
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(
            r"^/api/v10/webhooks/\d+/[^/]+/messages/@original$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/webhooks/\d+/[^/]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/channels/\d+/messages$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(r"^/api/v10/channels/\d+/messages/\d+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(
            r"^/api/v10/applications/\d+/guilds/\d+/commands$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v10/users/@me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": BOT_USER_ID.to_string(), "username": "signpost", "discriminator": "0",
            "global_name": null, "avatar": null, "bot": true
        })))
        .mount(server)
        .await;
}

/// A request the bot sent, decoded.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: String,
    pub path: String,
    pub body: Value,
}

/// Every request so far, in order (bodies as JSON, `null` when empty).
pub async fn sent(server: &MockServer) -> Vec<Sent> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(decode)
        .collect()
}

fn decode(r: &Request) -> Sent {
    Sent {
        method: r.method.to_string(),
        path: r.url.path().to_owned(),
        body: serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    }
}

fn spec() -> Option<&'static Value> {
    static S: OnceLock<Option<Value>> = OnceLock::new();
    S.get_or_init(|| {
        let Ok(path) = std::env::var("DISCORD_OPENAPI_SPEC") else {
            eprintln!("skipped: DISCORD_OPENAPI_SPEC is not set");
            return None;
        };
        let text = std::fs::read_to_string(&path).expect("spec readable");
        Some(serde_json::from_str(&text).expect("spec is JSON"))
    })
    .as_ref()
}

fn validator(schema: &'static str) -> Option<&'static jsonschema::Validator> {
    static V: OnceLock<
        std::sync::Mutex<std::collections::HashMap<&'static str, &'static jsonschema::Validator>>,
    > = OnceLock::new();
    let spec = spec()?;
    let map = V.get_or_init(Default::default);
    let mut map = map.lock().expect("validator cache");
    if let Some(v) = map.get(schema) {
        return Some(v);
    }
    let mut doc = spec.clone();
    doc["$ref"] = json!(format!("#/components/schemas/{schema}"));
    let v: &'static jsonschema::Validator = Box::leak(Box::new(
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&doc)
            .expect("spec compiles"),
    ));
    map.insert(schema, v);
    Some(v)
}

/// The request schema for what the bot sent, by route and callback type.
pub fn schema_for(s: &Sent) -> Option<&'static str> {
    let p = s.path.as_str();
    if p.ends_with("/callback") {
        return match s.body["type"].as_u64() {
            Some(4 | 5) => Some("CreateMessageInteractionCallbackRequest"),
            Some(6 | 7) => Some("UpdateMessageInteractionCallbackRequest"),
            Some(9) => Some("ModalInteractionCallbackRequest"),
            _ => panic!("unexpected callback type: {}", s.body),
        };
    }
    if p.ends_with("/messages/@original") {
        return Some("IncomingWebhookUpdateRequestPartial");
    }
    if p.starts_with("/api/v10/webhooks/") {
        return Some("IncomingWebhookRequestPartial");
    }
    if p.starts_with("/api/v10/channels/") && s.method == "PATCH" {
        return Some("MessageEditRequestPartial");
    }
    if p.starts_with("/api/v10/channels/") && s.method == "POST" {
        return Some("MessageCreateRequest");
    }
    None
}

/// Checks one request body against the spec (when available) and limits.
pub fn check(s: &Sent) {
    let Some(schema) = schema_for(s) else {
        return;
    };
    let message = if s.path.ends_with("/callback") {
        &s.body["data"]
    } else {
        &s.body
    };
    if message.is_object() {
        let broken = limits::violations(message);
        assert!(broken.is_empty(), "limits broken: {broken:?}\n{:#}", s.body);
    }
    if let Some(errors) = spec_errors(s) {
        assert!(
            errors.is_empty(),
            "{} {}: not a valid {schema}: {errors:#?}\n{:#}",
            s.method,
            s.path,
            s.body
        );
    }
}

/// The spec violations of a request body; `None` without the spec or for
/// routes with no request schema.
pub fn spec_errors(s: &Sent) -> Option<Vec<String>> {
    let v = validator(schema_for(s)?)?;
    Some(
        v.iter_errors(&s.body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect(),
    )
}

/// Checks every request body sent so far.
pub async fn check_all(server: &MockServer) -> Vec<Sent> {
    let all = sent(server).await;
    for s in &all {
        check(s);
    }
    all
}
