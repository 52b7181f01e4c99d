//! `POST /ingest`: the generic, documented inbound endpoint for social-media
//! management tools and scripts.
//!
//! # Authentication (either)
//!
//! - `Authorization: Bearer <token>` (the token in `ingest_token_env`), or
//! - `X-Signpost-Signature: sha256=<lowercase hex HMAC-SHA256 of the raw body>`
//!   keyed with the secret in `ingest_hmac_secret_env`.
//!
//! Neither header → 401 `missing_credentials`; a wrong one → 403
//! `bad_credentials`.
//!
//! # Schema
//!
//! One post, or a batch `{"posts": [post, …]}` stored all-or-nothing:
//!
//! ```json
//! {
//!   "platform": "facebook",          // facebook | instagram | x | mastodon | other
//!   "account": "900000000000001",    // the trust's account id, listed in an org's [[accounts]]
//!   "id": "1234_5678",               // the platform's id of the post; with platform, unique
//!   "kind": "comment",               // comment | reply | mention | dm (default comment)
//!   "author": {"id": "42", "handle": "jo"},   // handle optional (defaults to id)
//!   "text": "…",
//!   "url": "https://…",              // optional
//!   "created_at": "2026-12-24T18:00:00Z"      // RFC 3339
//! }
//! ```
//!
//! Unknown fields are refused (400 `invalid_payload` naming the field). For
//! `platform: "other"` the account may also be an org id (`las`). An account
//! not listed → 422 `unknown_account`, and nothing of the batch is stored.

use super::{body_bytes, hmac_matches, secret_eq, store_and_answer, ApiError, AppState};
use crate::model::{InboundPost, Platform, PostKind};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// The HMAC header.
pub const SIGNATURE_HEADER: &str = "x-signpost-signature";

/// One post as `POST /ingest` accepts it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestPost {
    pub platform: Platform,
    pub account: String,
    pub id: String,
    #[serde(default)]
    pub kind: PostKind,
    pub author: IngestAuthor,
    pub text: String,
    #[serde(default)]
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The author of an [`IngestPost`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestAuthor {
    pub id: String,
    #[serde(default)]
    pub handle: Option<String>,
}

fn authenticate(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let token = state.secrets.ingest_token.as_ref();
    let hmac = state.secrets.ingest_hmac.as_ref();
    if token.is_none() && hmac.is_none() {
        return Err(ApiError::not_configured(
            "POST /ingest (token or HMAC secret)",
        ));
    }
    let bad = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_credentials",
            "the bearer token or X-Signpost-Signature is wrong",
        )
    };
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let given = auth
            .to_str()
            .ok()
            .and_then(|a| a.strip_prefix("Bearer "))
            .ok_or_else(bad)?;
        return match token {
            Some(t) if secret_eq(given.trim(), t) => Ok(()),
            _ => Err(bad()),
        };
    }
    if let Some(sig) = headers.get(SIGNATURE_HEADER) {
        let expected = sig
            .to_str()
            .ok()
            .and_then(|s| s.strip_prefix("sha256="))
            .and_then(|h| hex::decode(h.trim()).ok())
            .ok_or_else(bad)?;
        return match hmac {
            Some(k) if hmac_matches(std::iter::once(k), body, &expected) => Ok(()),
            _ => Err(bad()),
        };
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
        "send Authorization: Bearer <token> or X-Signpost-Signature: sha256=<hex>",
    ))
}

/// The endpoint.
pub async fn receive(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    authenticate(&state, &headers, &body)?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| ApiError::invalid_json(&e))?;
    let posts = parse(&value, &state.accounts)?;
    Ok(store_and_answer(&state, posts, 0).await?.into_response())
}

/// Maps a single post or a `{"posts": [...]}` batch.
pub fn parse(
    value: &Value,
    accounts: &super::Accounts,
) -> Result<Vec<(InboundPost, Option<String>)>, ApiError> {
    let items: Vec<(String, &Value)> = match value.get("posts") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("posts[{i}]"), v))
            .collect(),
        Some(_) => return Err(ApiError::invalid_payload("posts: expected an array")),
        None => vec![("body".to_owned(), value)],
    };
    let mut out = Vec::with_capacity(items.len());
    for (path, raw) in items {
        let p = IngestPost::deserialize(raw)
            .map_err(|e| ApiError::invalid_payload(format!("{path}: {e}")))?;
        if p.id.is_empty() || p.author.id.is_empty() {
            return Err(ApiError::invalid_payload(format!(
                "{path}: id and author.id must not be empty"
            )));
        }
        let org = accounts
            .org(p.platform, &p.account)
            .ok_or_else(|| ApiError::unknown_account(p.platform, &p.account))?;
        out.push((
            InboundPost {
                platform: p.platform,
                external_id: p.id,
                org: org.to_owned(),
                account: p.account,
                kind: p.kind,
                author_handle: p.author.handle.unwrap_or_else(|| p.author.id.clone()),
                author_id: p.author.id,
                text: p.text,
                url: p.url,
                created_at: p.created_at,
            },
            Some(raw.to_string()),
        ));
    }
    Ok(out)
}
