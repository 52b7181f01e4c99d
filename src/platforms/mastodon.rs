//! Mastodon (REST API of the trust's instance; `base_url` is the instance).
//!
//! | op | call |
//! |---|---|
//! | reply | `POST /api/v1/statuses` `{"status","in_reply_to_id"}` + `Idempotency-Key` |
//! | private message | `POST /api/v1/statuses` `{"status","in_reply_to_id","visibility":"direct"}` + `Idempotency-Key` |
//! | block | `POST /api/v1/accounts/{author-id}/block` |
//! | mute | `POST /api/v1/accounts/{author-id}/mute` |
//! | report | `POST /api/v1/reports` `{"account_id","status_ids":[id],"comment","category"}` |
//!
//! Replies and private messages start with `@acct` (unless the text already
//! mentions the author) so they reach the author. The `Idempotency-Key` is a
//! hash of the post id, the operation and the text: the same on every retry
//! of a call (and on a later retry of the same action), so the instance
//! never posts it twice. The token is a user Bearer token with `write:statuses
//! write:blocks write:mutes write:reports`; 401 is an invalid or revoked
//! token, 403 a missing scope, 422 a rejected request.

use super::http::{seg, snippet, Call, Http, Response};
use super::{BoxFuture, Op, PlatformClient, PlatformError, Receipt, Target};
use crate::config::platforms::{MastodonConfig, RetryConfig};
use crate::model::Platform;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The Mastodon client.
#[derive(Debug)]
pub struct MastodonClient {
    http: Http,
    report_category: String,
}

/// Mastodon's limit for a report comment.
pub const REPORT_COMMENT_MAX: usize = 1000;

/// The stable `Idempotency-Key` of a status about `target`.
pub fn idempotency_key(target: &Target, op: &str, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"signpost\n");
    h.update(target.post_id.as_bytes());
    h.update(b"\n");
    h.update(op.as_bytes());
    h.update(b"\n");
    h.update(text.as_bytes());
    hex::encode(&h.finalize()[..20])
}

fn with_mention(target: &Target, text: &str) -> String {
    let acct = target.author_handle.trim_start_matches('@');
    if acct.is_empty() || text.contains(&format!("@{acct}")) {
        text.to_owned()
    } else {
        format!("@{acct} {text}")
    }
}

impl MastodonClient {
    pub fn new(
        cfg: &MastodonConfig,
        retry: &RetryConfig,
        token: SecretString,
    ) -> Result<MastodonClient, reqwest::Error> {
        Ok(MastodonClient {
            http: Http::new(
                Platform::Mastodon,
                &cfg.base_url,
                token,
                retry,
                Duration::from_secs(cfg.timeout_secs),
            )?,
            report_category: cfg.report_category.clone(),
        })
    }

    /// The HTTP call for `op` on `target`.
    pub fn call(&self, target: &Target, op: &Op) -> Result<Call, PlatformError> {
        let unsupported = || PlatformError::Unsupported {
            platform: Platform::Mastodon,
            op: op.name(),
        };
        let author = seg(&target.author_id);
        Ok(match op {
            Op::Reply { text } => {
                let status = with_mention(target, text);
                Call::new(Method::POST, "/api/v1/statuses")
                    .header(
                        "Idempotency-Key",
                        idempotency_key(target, op.name(), &status),
                    )
                    .json(json!({ "status": status, "in_reply_to_id": target.post_id }))
            }
            Op::PrivateMessage { text } => {
                let status = with_mention(target, text);
                Call::new(Method::POST, "/api/v1/statuses")
                    .header(
                        "Idempotency-Key",
                        idempotency_key(target, op.name(), &status),
                    )
                    .json(json!({
                        "status": status,
                        "in_reply_to_id": target.post_id,
                        "visibility": "direct",
                    }))
            }
            Op::Block => Call::new(Method::POST, format!("/api/v1/accounts/{author}/block")),
            Op::Mute => Call::new(Method::POST, format!("/api/v1/accounts/{author}/mute")),
            Op::Report { comment } => {
                let comment: String = comment.chars().take(REPORT_COMMENT_MAX).collect();
                Call::new(Method::POST, "/api/v1/reports").json(json!({
                    "account_id": target.author_id,
                    "status_ids": [target.post_id],
                    "comment": comment,
                    "category": self.report_category,
                    "forward": false,
                }))
            }
            Op::Hide | Op::Unhide | Op::Delete => return Err(unsupported()),
        })
    }
}

/// Types a Mastodon error response.
pub fn mastodon_error(resp: &Response) -> PlatformError {
    let platform = Platform::Mastodon;
    let body = resp.json();
    let what = body["error"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| snippet(&resp.body));
    let status = resp.status.as_u16();
    let detail = format!("HTTP {status}: {what}");
    match status {
        401 => PlatformError::TokenExpired { platform, detail },
        403 => PlatformError::PermissionDenied { platform, detail },
        404 => PlatformError::NotFound { platform, detail },
        _ => PlatformError::Rejected {
            platform,
            status,
            detail,
        },
    }
}

impl PlatformClient for MastodonClient {
    fn platform(&self) -> Platform {
        Platform::Mastodon
    }

    fn execute<'a>(
        &'a self,
        target: &'a Target,
        op: &'a Op,
    ) -> BoxFuture<'a, Result<Receipt, PlatformError>> {
        Box::pin(async move {
            let call = self.call(target, op)?;
            let resp = self.http.send(&call).await?;
            if !resp.status.is_success() {
                return Err(mastodon_error(&resp));
            }
            let body = resp.json();
            Ok(Receipt {
                platform: Platform::Mastodon,
                op: op.name(),
                request: call.describe(),
                created_id: body["id"].as_str().map(str::to_owned),
                dry_run: false,
                attempts: resp.attempts,
            })
        })
    }
}
