//! X (API v2; `base_url` defaults to `https://api.x.com`).
//!
//! | op | call |
//! |---|---|
//! | hide / unhide reply | `PUT /2/tweets/{id}/hidden` `{"hidden":true\|false}` |
//! | mute | `POST /2/users/{account-id}/muting` `{"target_user_id"}` |
//! | block (only with `x.block_allowed`) | `POST /2/users/{account-id}/blocking` `{"target_user_id"}` |
//! | reply | `POST /2/tweets` `{"text","reply":{"in_reply_to_tweet_id"}}` |
//! | private message | `POST /2/dm_conversations/with/{author-id}/messages` `{"text"}` |
//!
//! **Auth assumption:** the token is an OAuth 2.0 *user-context* access
//! token (authorization code with PKCE) for the trust's own account, with
//! the scopes `tweet.read tweet.write tweet.moderate.write users.read
//! mute.write block.write dm.write offline.access`; refreshing it is outside
//! this client (a 401 surfaces as [`PlatformError::TokenExpired`]). An
//! app-only Bearer token cannot perform any of these calls. The post's
//! `account` must be the account's numeric user id (as Account Activity
//! delivers it in `for_user_id`).
//!
//! Text over 280 characters (as X counts them, [`super::x_length`]) is an
//! error, never truncated. 401 is an expired or invalid token, 403 a missing
//! permission or tier, 404 a missing object.

use super::http::{seg, snippet, Call, Http, Response};
use super::{x_length, BoxFuture, Op, PlatformClient, PlatformError, Receipt, Target, X_LIMIT};
use crate::config::platforms::{RetryConfig, XConfig};
use crate::model::Platform;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use std::time::Duration;

/// The X client.
#[derive(Debug)]
pub struct XClient {
    http: Http,
    block_allowed: bool,
}

/// Refuses text longer than X's 280.
pub fn check_length(text: &str) -> Result<(), PlatformError> {
    let len = x_length(text);
    if len > X_LIMIT {
        return Err(PlatformError::TooLong {
            platform: Platform::X,
            len,
            limit: X_LIMIT,
        });
    }
    Ok(())
}

impl XClient {
    pub fn new(
        cfg: &XConfig,
        retry: &RetryConfig,
        token: SecretString,
    ) -> Result<XClient, reqwest::Error> {
        Ok(XClient {
            http: Http::new(
                Platform::X,
                &cfg.base_url,
                token,
                retry,
                Duration::from_secs(cfg.timeout_secs),
            )?,
            block_allowed: cfg.block_allowed,
        })
    }

    /// The HTTP call for `op` on `target`.
    pub fn call(&self, target: &Target, op: &Op) -> Result<Call, PlatformError> {
        let unsupported = || PlatformError::Unsupported {
            platform: Platform::X,
            op: op.name(),
        };
        Ok(match op {
            Op::Hide | Op::Unhide => Call::new(
                Method::PUT,
                format!("/2/tweets/{}/hidden", seg(&target.post_id)),
            )
            .json(json!({ "hidden": *op == Op::Hide })),
            Op::Mute => Call::new(
                Method::POST,
                format!("/2/users/{}/muting", seg(&target.account)),
            )
            .json(json!({ "target_user_id": target.author_id })),
            Op::Block if self.block_allowed => Call::new(
                Method::POST,
                format!("/2/users/{}/blocking", seg(&target.account)),
            )
            .json(json!({ "target_user_id": target.author_id })),
            Op::Reply { text } => {
                check_length(text)?;
                Call::new(Method::POST, "/2/tweets").json(json!({
                    "text": text,
                    "reply": { "in_reply_to_tweet_id": target.post_id },
                }))
            }
            Op::PrivateMessage { text } => {
                check_length(text)?;
                Call::new(
                    Method::POST,
                    format!(
                        "/2/dm_conversations/with/{}/messages",
                        seg(&target.author_id)
                    ),
                )
                .json(json!({ "text": text }))
            }
            Op::Block | Op::Delete | Op::Report { .. } => return Err(unsupported()),
        })
    }
}

/// Types an X error response.
pub fn x_error(resp: &Response) -> PlatformError {
    let platform = Platform::X;
    let body = resp.json();
    let what = body["detail"]
        .as_str()
        .or_else(|| body["title"].as_str())
        .or_else(|| body["errors"][0]["message"].as_str())
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

impl PlatformClient for XClient {
    fn platform(&self) -> Platform {
        Platform::X
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
                return Err(x_error(&resp));
            }
            let body = resp.json();
            let data = &body["data"];
            let created_id = data["id"]
                .as_str()
                .or_else(|| data["dm_event_id"].as_str())
                .map(str::to_owned);
            Ok(Receipt {
                platform: Platform::X,
                op: op.name(),
                request: call.describe(),
                created_id,
                dry_run: false,
                attempts: resp.attempts,
            })
        })
    }
}
