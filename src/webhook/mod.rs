//! Inbound adapters: the HTTP server that hears the platforms, and the
//! Mastodon poller. This module owns everything between a platform's bytes
//! and [`crate::pipeline::Pipeline::ingest`]:
//!
//! - [`router`] builds the axum router (tests and `signpost serve` drive the
//!   same one): `GET|POST /webhooks/meta` ([`meta`]), `GET|POST /webhooks/x`
//!   ([`x`]), `POST /ingest` ([`ingest`]) and `GET /healthz`;
//! - [`writer`] is the single group-commit database writer every adapter
//!   hands its posts to; a handler answers 200 only once the transaction
//!   holding its posts has committed;
//! - [`mastodon`] polls mention notifications and resumes from a durable
//!   cursor;
//! - [`Accounts`] maps `(platform, account id)` to the owning org, from the
//!   `[[accounts]]` of each org file; [`Secrets`] holds the secrets read from
//!   the environment (never from files, never logged).
//!
//! Adapters do not know about each other: each maps its own payloads to
//! [`InboundPost`]s and submits them through [`writer::WriterHandle`].
//!
//! # Errors
//!
//! Every 4xx/5xx body is JSON `{"error": "<stable_code>", "message": "<text>"}`.
//! Codes: `missing_signature` (401), `bad_signature` (403),
//! `missing_credentials` (401), `bad_credentials` (403), `bad_verify_token`
//! (403), `invalid_json` (400), `invalid_payload` (400), `payload_too_large`
//! (413), `unknown_account` (422), `not_configured` (503), `unavailable`
//! (503: the store failed or the server is shutting down; the platform
//! should retry). Nothing is stored for any error.
//!
//! # Success
//!
//! `200 {"received": n, "stored": new, "duplicates": d, "ignored": i,
//! "duplicate": bool}`; `duplicate` is true when every post in the request
//! was already stored (a platform retry), which is not an error.

pub mod ingest;
pub mod mastodon;
pub mod meta;
pub mod writer;
pub mod x;

use crate::config::server::ServerConfig;
use crate::config::{Config, ConfigError};
use crate::model::{InboundPost, Platform};
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use writer::{Outcome, WriteError, WriterHandle};

/// `(platform, account id)` → org, from every org's `[[accounts]]`.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    map: HashMap<(Platform, String), String>,
    orgs: Vec<String>,
}

impl Accounts {
    /// Collects the accounts of every org; one account in two orgs is an error.
    pub fn from_config(config: &Config) -> Result<Accounts, ConfigError> {
        let mut map = HashMap::new();
        for org in config.orgs.values() {
            for a in &org.accounts {
                if let Some(other) = map.insert((a.platform, a.id.clone()), org.id.clone()) {
                    return Err(ConfigError::new(
                        config.dir.join("orgs").join(format!("{}.toml", org.id)),
                        format!(
                            "{} account {} is also listed by org `{other}`",
                            a.platform, a.id
                        ),
                    ));
                }
            }
        }
        Ok(Accounts {
            map,
            orgs: config.orgs.keys().cloned().collect(),
        })
    }

    /// The org owning an account. For the generic ingest's `other` platform
    /// an org id given as the account also names that org.
    pub fn org(&self, platform: Platform, account: &str) -> Option<&str> {
        if let Some(org) = self.map.get(&(platform, account.to_owned())) {
            return Some(org);
        }
        if platform == Platform::Other {
            return self.orgs.iter().find(|o| *o == account).map(String::as_str);
        }
        None
    }

    /// How many accounts are known.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Secrets for the webhook sources, read from the environment. `Debug`
/// prints `[REDACTED]` for each.
#[derive(Debug, Default)]
pub struct Secrets {
    /// Meta app secrets; any one verifies a delivery (rotation).
    pub meta_app: Vec<SecretString>,
    pub meta_verify_token: Option<SecretString>,
    pub x_consumer: Option<SecretString>,
    pub ingest_token: Option<SecretString>,
    pub ingest_hmac: Option<SecretString>,
}

impl Secrets {
    /// Reads the variables named in `config`. Also returns, by name only, the
    /// variables that were unset or empty.
    pub fn from_env(config: &ServerConfig) -> (Secrets, Vec<String>) {
        let mut missing = Vec::new();
        let mut read = |name: &str| match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Some(SecretString::from(v.trim().to_owned())),
            _ => {
                missing.push(name.to_owned());
                None
            }
        };
        let meta_app = read(&config.meta_app_secrets_env)
            .map(|all| {
                all.expose_secret()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(SecretString::from)
                    .collect()
            })
            .unwrap_or_default();
        let secrets = Secrets {
            meta_app,
            meta_verify_token: read(&config.meta_verify_token_env),
            x_consumer: read(&config.x_consumer_secret_env),
            ingest_token: read(&config.ingest_token_env),
            ingest_hmac: read(&config.ingest_hmac_secret_env),
        };
        (secrets, missing)
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub accounts: Accounts,
    pub secrets: Secrets,
    pub writer: WriterHandle,
}

/// The inbound router. `body_limit` bytes is the largest accepted body.
pub fn router(state: Arc<AppState>, body_limit: usize) -> Router {
    Router::new()
        .route("/webhooks/meta", get(meta::verify).post(meta::receive))
        .route("/webhooks/x", get(x::crc).post(x::receive))
        .route("/ingest", post(ingest::receive))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// A JSON error response: `{"error": code, "message": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_configured(what: &str) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
            format!("{what} is not configured on this server"),
        )
    }

    pub fn invalid_json(e: &serde_json::Error) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("body is not valid JSON: {e}"),
        )
    }

    pub fn invalid_payload(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_payload", message)
    }

    pub fn unknown_account(platform: Platform, account: &str) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_account",
            format!("{platform} account {account} is not listed in any org's [[accounts]]"),
        )
    }

    pub fn missing_signature(header: &str) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_signature",
            format!("the {header} header is missing"),
        )
    }

    pub fn bad_signature(header: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_signature",
            format!("the {header} header does not match the body"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.code, "message": self.message })),
        )
            .into_response()
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        )
    }
}

/// The raw body, or a JSON 413/400 error.
pub fn body_bytes(
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<axum::body::Bytes, ApiError> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than body_limit_bytes",
            )
        } else {
            ApiError::new(r.status(), "bad_body", r.body_text())
        }
    })
}

/// HMAC-SHA256 of `data` keyed with `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Whether `expected` is the HMAC-SHA256 of `data` under any of `keys`,
/// compared in constant time.
pub fn hmac_matches<'a>(
    keys: impl IntoIterator<Item = &'a SecretString>,
    data: &[u8],
    expected: &[u8],
) -> bool {
    let mut ok = false;
    for key in keys {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key.expose_secret().as_bytes()) {
            Ok(m) => m,
            Err(_) => continue,
        };
        mac.update(data);
        ok |= mac.verify_slice(expected).is_ok();
    }
    ok
}

/// Constant-time equality of two secrets' bytes.
pub fn secret_eq(given: &str, secret: &SecretString) -> bool {
    given
        .as_bytes()
        .ct_eq(secret.expose_secret().as_bytes())
        .into()
}

/// Hands `posts` (with their raw JSON) to the writer and answers 200 once
/// they are committed. `ignored` counts events acknowledged without storing.
pub async fn store_and_answer(
    state: &AppState,
    posts: Vec<(InboundPost, Option<String>)>,
    ignored: usize,
) -> Result<Json<serde_json::Value>, ApiError> {
    let received = posts.len() + ignored;
    let outcome = if posts.is_empty() {
        Outcome::default()
    } else {
        state.writer.submit(posts, None).await?
    };
    Ok(Json(json!({
        "received": received,
        "stored": outcome.new,
        "duplicates": outcome.duplicate,
        "ignored": ignored,
        "duplicate": outcome.duplicate > 0 && outcome.new == 0,
    })))
}

/// Lenient id: platforms send ids as strings, some tools as numbers.
pub(crate) fn de_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) if !s.is_empty() => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a non-empty id string, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_any_key_only() {
        let keys = [SecretString::from("old"), SecretString::from("new")];
        let sig = hmac_sha256(b"new", b"body");
        assert!(hmac_matches(keys.iter(), b"body", &sig));
        assert!(!hmac_matches(keys.iter(), b"body!", &sig));
        assert!(!hmac_matches(keys[..1].iter(), b"body", &sig));
        assert!(!hmac_matches(keys.iter(), b"body", &sig[..31]));
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = Secrets {
            ingest_token: Some(SecretString::from("hunter2")),
            ..Secrets::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
