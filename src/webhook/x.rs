//! X (Account Activity API) webhooks.
//!
//! - `GET /webhooks/x?crc_token=T` answers
//!   `{"response_token": "sha256=<base64 HMAC-SHA256(T) keyed with the consumer secret>"}`.
//! - `POST /webhooks/x` requires `x-twitter-webhooks-signature:
//!   sha256=<base64 HMAC-SHA256 of the raw body>`; missing → 401, wrong → 403.
//!
//! `for_user_id` is the trust's account (mapped to an org; unknown → 422).
//! Stored: `tweet_create_events[]` as `reply` when `in_reply_to_user_id_str`
//! is the account, else `mention` (id `id_str`, author `user.id_str` /
//! `user.screen_name`, text `extended_tweet.full_text` / `full_text` /
//! `text`, url `https://x.com/<screen_name>/status/<id>`); and
//! `direct_message_events[]` of `type:"message_create"` as `dm` (author
//! `sender_id`, handle from `users`). Acknowledged and not stored: tweets and
//! DMs by the account itself, retweets, other DM event types and every other
//! event list (`favorite_events`, `follow_events`, …).

use super::{body_bytes, de_id, hmac_matches, hmac_sha256, store_and_answer, ApiError, AppState};
use crate::model::{InboundPost, Platform, PostKind};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";

/// `response_token` for a CRC challenge.
pub fn crc_response(consumer_secret: &str, crc_token: &str) -> String {
    format!(
        "sha256={}",
        B64.encode(hmac_sha256(
            consumer_secret.as_bytes(),
            crc_token.as_bytes()
        ))
    )
}

/// The challenge-response check.
pub async fn crc(
    State(state): State<Arc<AppState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let secret = state
        .secrets
        .x_consumer
        .as_ref()
        .ok_or_else(|| ApiError::not_configured("X (consumer secret)"))?;
    let Ok(Query(q)) = query else {
        return Err(ApiError::invalid_payload("the query string is malformed"));
    };
    let token = q
        .get("crc_token")
        .ok_or_else(|| ApiError::invalid_payload("crc_token is missing"))?;
    Ok(Json(
        json!({ "response_token": crc_response(secret.expose_secret(), token) }),
    ))
}

/// A signed delivery.
pub async fn receive(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let secret = state
        .secrets
        .x_consumer
        .as_ref()
        .ok_or_else(|| ApiError::not_configured("X (consumer secret)"))?;
    let body = body_bytes(body)?;
    let sig = headers
        .get(SIGNATURE_HEADER)
        .ok_or_else(|| ApiError::missing_signature("x-twitter-webhooks-signature"))?;
    let expected = sig
        .to_str()
        .ok()
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(|b| B64.decode(b.trim()).ok())
        .ok_or_else(|| ApiError::bad_signature("x-twitter-webhooks-signature"))?;
    if !hmac_matches(std::iter::once(secret), &body, &expected) {
        return Err(ApiError::bad_signature("x-twitter-webhooks-signature"));
    }
    let value: Value = serde_json::from_slice(&body).map_err(|e| ApiError::invalid_json(&e))?;
    let (posts, ignored) = parse(&value, &state.accounts, Utc::now())?;
    Ok(store_and_answer(&state, posts, ignored)
        .await?
        .into_response())
}

#[derive(Deserialize)]
struct Delivery {
    #[serde(default)]
    for_user_id: Option<String>,
    #[serde(default)]
    tweet_create_events: Vec<Value>,
    #[serde(default)]
    direct_message_events: Vec<Value>,
    #[serde(default)]
    users: HashMap<String, User>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default, deserialize_with = "de_opt_id")]
    id_str: Option<String>,
    #[serde(default)]
    screen_name: Option<String>,
}

fn de_opt_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_id(d).map(Some)
}

#[derive(Deserialize)]
struct Tweet {
    #[serde(deserialize_with = "de_id")]
    id_str: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    full_text: Option<String>,
    #[serde(default)]
    extended_tweet: Option<Extended>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    timestamp_ms: Option<String>,
    user: User,
    #[serde(default)]
    in_reply_to_user_id_str: Option<String>,
    #[serde(default)]
    retweeted_status: Option<Value>,
}

#[derive(Deserialize)]
struct Extended {
    full_text: String,
}

#[derive(Deserialize)]
struct DmEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(deserialize_with = "de_id")]
    id: String,
    #[serde(default)]
    created_timestamp: Option<String>,
    #[serde(default)]
    message_create: Option<MessageCreate>,
}

#[derive(Deserialize)]
struct MessageCreate {
    #[serde(deserialize_with = "de_id")]
    sender_id: String,
    message_data: MessageData,
}

#[derive(Deserialize)]
struct MessageData {
    #[serde(default)]
    text: String,
}

fn at<T: serde::de::DeserializeOwned>(v: &Value, path: &str) -> Result<T, ApiError> {
    T::deserialize(v).map_err(|e| ApiError::invalid_payload(format!("{path}: {e}")))
}

/// Maps a delivery to posts (with raw JSON) and a count of ignored events.
pub fn parse(
    value: &Value,
    accounts: &super::Accounts,
    now: DateTime<Utc>,
) -> Result<super::meta::Parsed, ApiError> {
    let d: Delivery = at(value, "body")?;
    if d.tweet_create_events.is_empty() && d.direct_message_events.is_empty() {
        return Ok((Vec::new(), 1));
    }
    let account = d
        .for_user_id
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::invalid_payload("body: missing field `for_user_id`"))?;
    let org = accounts
        .org(Platform::X, &account)
        .ok_or_else(|| ApiError::unknown_account(Platform::X, &account))?
        .to_owned();
    let mut posts = Vec::new();
    let mut ignored = 0;
    for (i, raw) in d.tweet_create_events.iter().enumerate() {
        let t: Tweet = at(raw, &format!("tweet_create_events[{i}]"))?;
        let author = t.user.id_str.clone().unwrap_or_default();
        if author == account || t.retweeted_status.is_some() {
            ignored += 1;
            continue;
        }
        let text = t
            .extended_tweet
            .map(|e| e.full_text)
            .or(t.full_text)
            .or(t.text)
            .unwrap_or_default();
        let created_at = t
            .timestamp_ms
            .as_deref()
            .and_then(|ms| ms.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis)
            .or_else(|| {
                t.created_at.as_deref().and_then(|c| {
                    DateTime::parse_from_str(c, "%a %b %d %H:%M:%S %z %Y")
                        .ok()
                        .map(|t| t.with_timezone(&Utc))
                })
            })
            .unwrap_or(now);
        let handle = t.user.screen_name.clone().unwrap_or_else(|| author.clone());
        let kind = if t.in_reply_to_user_id_str.as_deref() == Some(account.as_str()) {
            PostKind::Reply
        } else {
            PostKind::Mention
        };
        posts.push((
            InboundPost {
                platform: Platform::X,
                url: Some(format!("https://x.com/{handle}/status/{}", t.id_str)),
                external_id: t.id_str,
                account: account.clone(),
                org: org.clone(),
                kind,
                author_id: author,
                author_handle: handle,
                text,
                created_at,
            },
            Some(raw.to_string()),
        ));
    }
    for (i, raw) in d.direct_message_events.iter().enumerate() {
        let path = format!("direct_message_events[{i}]");
        let e: DmEvent = at(raw, &path)?;
        let Some(mc) = e.message_create.filter(|_| e.kind == "message_create") else {
            ignored += 1;
            continue;
        };
        if mc.sender_id == account || mc.message_data.text.trim().is_empty() {
            ignored += 1;
            continue;
        }
        let handle = d
            .users
            .get(&mc.sender_id)
            .and_then(|u| u.screen_name.clone())
            .unwrap_or_else(|| mc.sender_id.clone());
        posts.push((
            InboundPost {
                platform: Platform::X,
                external_id: e.id,
                account: account.clone(),
                org: org.clone(),
                kind: PostKind::Dm,
                author_id: mc.sender_id,
                author_handle: handle,
                text: mc.message_data.text,
                url: None,
                created_at: e
                    .created_timestamp
                    .as_deref()
                    .and_then(|ms| ms.parse::<i64>().ok())
                    .and_then(DateTime::from_timestamp_millis)
                    .unwrap_or(now),
            },
            Some(raw.to_string()),
        ));
    }
    Ok((posts, ignored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_a_known_hmac_vector() {
        // RFC 4231-style vector: HMAC-SHA256(key "key", "The quick brown fox
        // jumps over the lazy dog") = f7bc83f4…3cd8, base64-encoded.
        assert_eq!(
            crc_response("key", "The quick brown fox jumps over the lazy dog"),
            "sha256=97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
        );
    }
}
