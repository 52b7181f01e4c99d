//! Meta webhooks: Facebook Page feed comments, Instagram comments and
//! mentions, Messenger and Instagram DMs.
//!
//! - `GET /webhooks/meta?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C`
//!   answers `C` (text/plain) when `T` equals the verify token (constant-time
//!   compare), else 403 `bad_verify_token`.
//! - `POST /webhooks/meta` requires `X-Hub-Signature-256: sha256=<hex>`, the
//!   HMAC-SHA256 of the raw body under any configured app secret (several
//!   during a rotation). Missing → 401 `missing_signature`, wrong → 403
//!   `bad_signature`; nothing is stored.
//!
//! What is stored, per `entry[]` (whose `id` is the Page or Instagram
//! account, mapped to an org through `[[accounts]]`; unknown → 422):
//!
//! | payload | stored as |
//! |---|---|
//! | `object:"page"`, `changes[].field:"feed"`, `value.item:"comment"`, `verb:"add"` | facebook `comment` (or `reply` when `parent_id` is another comment), id `comment_id`, author `from.id`/`from.name`, `message`, `created_time` (Unix seconds or RFC 3339), url `https://www.facebook.com/<comment_id>` |
//! | `object:"instagram"`, `field:"comments"` | instagram `comment` (`reply` with `parent_id`), id `value.id`, author `from.id`/`from.username`, `text`, time `entry.time` |
//! | `object:"instagram"`, `field:"mentions"` | instagram `mention`, same fields (`comment_id`/`media_id` accepted for the id) |
//! | `messaging[]` with `message.text` (`object` `page` or `instagram`) | `dm`, id `message.mid`, author `sender.id`, time `timestamp` (ms) |
//!
//! Acknowledged with 200 and NOT stored (counted as `ignored`): feed edits
//! and removals (`verb` other than `add`), feed items other than comments
//! (posts, reactions, likes, shares), comments and messages by the account
//! itself (`from.id`/`sender.id` equal to the entry id, `is_echo`),
//! comments and messages without text (photo/sticker-only, attachments),
//! `read`, `delivery`, `reaction`, `postback` and other messaging events,
//! other `field`s and other `object`s.

use super::{body_bytes, de_id, hmac_matches, secret_eq, store_and_answer, ApiError, AppState};
use crate::model::{InboundPost, Platform, PostKind};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The subscription handshake.
pub async fn verify(
    State(state): State<Arc<AppState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let Some(token) = &state.secrets.meta_verify_token else {
        return ApiError::not_configured("the Meta verify token").into_response();
    };
    let Ok(Query(q)) = query else {
        return ApiError::invalid_payload("the query string is malformed").into_response();
    };
    let mode_ok = q.get("hub.mode").is_some_and(|m| m == "subscribe");
    let token_ok = q
        .get("hub.verify_token")
        .is_some_and(|t| secret_eq(t, token));
    match (mode_ok && token_ok, q.get("hub.challenge")) {
        (true, Some(challenge)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.clone(),
        )
            .into_response(),
        _ => ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_verify_token",
            "hub.mode must be subscribe and hub.verify_token must match, with a hub.challenge",
        )
        .into_response(),
    }
}

/// A signed delivery.
pub async fn receive(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if state.secrets.meta_app.is_empty() {
        return Err(ApiError::not_configured("Meta (app secret)"));
    }
    let body = body_bytes(body)?;
    let sig = headers
        .get(SIGNATURE_HEADER)
        .ok_or_else(|| ApiError::missing_signature("X-Hub-Signature-256"))?;
    let expected = sig
        .to_str()
        .ok()
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(|h| hex::decode(h.trim()).ok())
        .ok_or_else(|| ApiError::bad_signature("X-Hub-Signature-256"))?;
    if !hmac_matches(state.secrets.meta_app.iter(), &body, &expected) {
        return Err(ApiError::bad_signature("X-Hub-Signature-256"));
    }
    let value: Value = serde_json::from_slice(&body).map_err(|e| ApiError::invalid_json(&e))?;
    let (posts, ignored) = parse(&value, &state.accounts, Utc::now())?;
    Ok(store_and_answer(&state, posts, ignored)
        .await?
        .into_response())
}

#[derive(Deserialize)]
struct Delivery {
    object: String,
    #[serde(default)]
    entry: Vec<Value>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(deserialize_with = "de_id")]
    id: String,
    #[serde(default)]
    time: Option<i64>,
    #[serde(default)]
    changes: Vec<Value>,
    #[serde(default)]
    messaging: Vec<Value>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct FbFrom {
    #[serde(deserialize_with = "de_id")]
    id: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct FeedValue {
    #[serde(default)]
    item: Option<String>,
    #[serde(default)]
    verb: Option<String>,
    #[serde(default)]
    comment_id: Option<String>,
    #[serde(default)]
    post_id: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    from: Option<FbFrom>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    created_time: Option<Value>,
}

#[derive(Deserialize)]
struct IgFrom {
    #[serde(deserialize_with = "de_id")]
    id: String,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct IgValue {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    comment_id: Option<String>,
    #[serde(default)]
    media_id: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    from: Option<IgFrom>,
}

#[derive(Deserialize)]
struct Party {
    #[serde(deserialize_with = "de_id")]
    id: String,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Party,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    mid: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
}

/// Parsed posts with their raw JSON, and how many events were ignored.
pub type Parsed = (Vec<(InboundPost, Option<String>)>, usize);

fn at<T: serde::de::DeserializeOwned>(v: &Value, path: &str) -> Result<T, ApiError> {
    T::deserialize(v).map_err(|e| ApiError::invalid_payload(format!("{path}: {e}")))
}

/// Maps a delivery to posts; any unknown account refuses the whole delivery.
pub fn parse(
    value: &Value,
    accounts: &super::Accounts,
    now: DateTime<Utc>,
) -> Result<Parsed, ApiError> {
    let delivery: Delivery = at(value, "body")?;
    let platform = match delivery.object.as_str() {
        "page" => Platform::Facebook,
        "instagram" => Platform::Instagram,
        _ => return Ok((Vec::new(), delivery.entry.len().max(1))),
    };
    let mut posts = Vec::new();
    let mut ignored = 0;
    for (i, entry) in delivery.entry.iter().enumerate() {
        let entry: Entry = at(entry, &format!("entry[{i}]"))?;
        let entry_time = entry.time.and_then(from_secs_or_ms);
        let push =
            |posts: &mut Vec<(InboundPost, Option<String>)>, mut post: InboundPost, raw: &Value| {
                let org = accounts
                    .org(platform, &entry.id)
                    .ok_or_else(|| ApiError::unknown_account(platform, &entry.id))?;
                post.org = org.to_owned();
                posts.push((post, Some(raw.to_string())));
                Ok::<(), ApiError>(())
            };
        for (j, raw) in entry.changes.iter().enumerate() {
            let path = format!("entry[{i}].changes[{j}]");
            let change: Change = at(raw, &path)?;
            let post = match (platform, change.field.as_str()) {
                (Platform::Facebook, "feed") => feed_comment(&entry, &change.value, &path, now)?,
                (Platform::Instagram, "comments" | "mentions") => ig_comment(
                    &entry,
                    &change.field,
                    &change.value,
                    &path,
                    entry_time.unwrap_or(now),
                )?,
                _ => None,
            };
            match post {
                Some(p) => push(&mut posts, p, raw)?,
                None => ignored += 1,
            }
        }
        for (j, raw) in entry.messaging.iter().enumerate() {
            let path = format!("entry[{i}].messaging[{j}]");
            let m: Messaging = at(raw, &path)?;
            let Some(msg) = m.message else {
                ignored += 1;
                continue;
            };
            let text = msg.text.unwrap_or_default();
            if msg.is_echo || m.sender.id == entry.id || text.trim().is_empty() {
                ignored += 1;
                continue;
            }
            let post = InboundPost {
                platform,
                external_id: msg.mid,
                account: entry.id.clone(),
                org: String::new(),
                kind: PostKind::Dm,
                author_id: m.sender.id.clone(),
                author_handle: m.sender.id,
                text,
                url: None,
                created_at: m
                    .timestamp
                    .and_then(from_secs_or_ms)
                    .or(entry_time)
                    .unwrap_or(now),
            };
            push(&mut posts, post, raw)?;
        }
        if entry.changes.is_empty() && entry.messaging.is_empty() {
            ignored += 1;
        }
    }
    Ok((posts, ignored))
}

fn feed_comment(
    entry: &Entry,
    value: &Value,
    path: &str,
    now: DateTime<Utc>,
) -> Result<Option<InboundPost>, ApiError> {
    let v: FeedValue = at(value, &format!("{path}.value"))?;
    if v.item.as_deref() != Some("comment") || v.verb.as_deref() != Some("add") {
        return Ok(None);
    }
    let comment_id = v.comment_id.filter(|c| !c.is_empty()).ok_or_else(|| {
        ApiError::invalid_payload(format!("{path}.value: missing field `comment_id`"))
    })?;
    let Some(text) = v.message.filter(|m| !m.trim().is_empty()) else {
        return Ok(None);
    };
    let (author_id, author_handle) = match v.from {
        Some(f) if f.id == entry.id => return Ok(None),
        Some(f) => {
            let name = f.name.unwrap_or_else(|| f.id.clone());
            (f.id, name)
        }
        // Meta omits `from` when the app may not see the commenter.
        None => ("unknown".to_owned(), "unknown".to_owned()),
    };
    let kind = match (&v.parent_id, &v.post_id) {
        (Some(parent), Some(post)) if parent != post => PostKind::Reply,
        _ => PostKind::Comment,
    };
    let created_at = match &v.created_time {
        Some(t) => parse_time(t).ok_or_else(|| {
            ApiError::invalid_payload(format!("{path}.value.created_time: not a time: {t}"))
        })?,
        None => entry.time.and_then(from_secs_or_ms).unwrap_or(now),
    };
    Ok(Some(InboundPost {
        platform: Platform::Facebook,
        url: Some(format!("https://www.facebook.com/{comment_id}")),
        external_id: comment_id,
        account: entry.id.clone(),
        org: String::new(),
        kind,
        author_id,
        author_handle,
        text,
        created_at,
    }))
}

fn ig_comment(
    entry: &Entry,
    field: &str,
    value: &Value,
    path: &str,
    created_at: DateTime<Utc>,
) -> Result<Option<InboundPost>, ApiError> {
    let v: IgValue = at(value, &format!("{path}.value"))?;
    let id = v
        .id
        .or(v.comment_id)
        .or(v.media_id)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| ApiError::invalid_payload(format!("{path}.value: missing field `id`")))?;
    let Some(text) = v.text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let (author_id, author_handle) = match v.from {
        Some(f) if f.id == entry.id => return Ok(None),
        Some(f) => {
            let name = f.username.unwrap_or_else(|| f.id.clone());
            (f.id, name)
        }
        None => ("unknown".to_owned(), "unknown".to_owned()),
    };
    let kind = match (field, v.parent_id.is_some()) {
        ("mentions", _) => PostKind::Mention,
        (_, true) => PostKind::Reply,
        _ => PostKind::Comment,
    };
    Ok(Some(InboundPost {
        platform: Platform::Instagram,
        external_id: id,
        account: entry.id.clone(),
        org: String::new(),
        kind,
        author_id,
        author_handle,
        text,
        url: None,
        created_at,
    }))
}

/// Unix seconds, or milliseconds when the number is too large for seconds.
fn from_secs_or_ms(t: i64) -> Option<DateTime<Utc>> {
    if t > 100_000_000_000 {
        DateTime::from_timestamp_millis(t)
    } else {
        DateTime::from_timestamp(t, 0)
    }
}

/// `created_time`: Unix seconds, or RFC 3339 / Graph's `2024-01-01T10:00:00+0000`.
fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => n.as_i64().and_then(from_secs_or_ms),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z"))
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_documented_form() {
        let want = DateTime::from_timestamp(1_700_000_000, 0);
        assert_eq!(parse_time(&Value::from(1_700_000_000)), want);
        assert_eq!(parse_time(&Value::from(1_700_000_000_000_i64)), want);
        assert_eq!(parse_time(&Value::from("2023-11-14T22:13:20+0000")), want);
        assert_eq!(parse_time(&Value::from("2023-11-14T22:13:20Z")), want);
        assert_eq!(parse_time(&Value::from("yesterday")), None);
    }
}
