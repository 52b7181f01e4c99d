//! Facebook Page comments and Instagram comments through the Meta Graph API
//! (`base_url` defaults to `https://graph.facebook.com/v21.0`).
//!
//! | op | Facebook | Instagram |
//! |---|---|---|
//! | hide / unhide | `POST /{comment-id}?is_hidden=true\|false` | `POST /{ig-comment-id}?hide=true\|false` |
//! | delete | `DELETE /{comment-id}` | `DELETE /{ig-comment-id}` |
//! | block | `POST /{page-id}/blocked?user={user-id}` | — |
//! | reply | `POST /{comment-id}/comments?message=…` | `POST /{ig-comment-id}/replies?message=…` |
//! | private message | `POST /{page-id}/messages` `{"recipient":{"comment_id"},"message":{"text"}}` | `POST /{ig-user-id}/messages`, same body |
//!
//! The token is a Page access token, sent as `Authorization: Bearer`.
//! Errors come as `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`:
//! code 190 (or 102) is an expired or invalid token, codes 10 and 200–299
//! a missing permission, code 100 with subcode 33 (or HTTP 404) a missing
//! object; rate-limit codes (4, 17, 32, 613) are retried by [`super::http`].

use super::http::{seg, snippet, Call, Http, Response};
use super::{BoxFuture, Op, PlatformClient, PlatformError, Receipt, Target};
use crate::config::platforms::{FacebookConfig, RetryConfig};
use crate::model::Platform;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use std::time::Duration;

/// Facebook or Instagram client.
#[derive(Debug)]
pub struct GraphClient {
    http: Http,
}

impl GraphClient {
    /// `platform` must be Facebook or Instagram.
    pub fn new(
        platform: Platform,
        cfg: &FacebookConfig,
        retry: &RetryConfig,
        token: SecretString,
    ) -> Result<GraphClient, reqwest::Error> {
        Ok(GraphClient {
            http: Http::new(
                platform,
                &cfg.base_url,
                token,
                retry,
                Duration::from_secs(cfg.timeout_secs),
            )?,
        })
    }

    fn platform(&self) -> Platform {
        self.http.platform
    }

    /// The HTTP call for `op` on `target`.
    pub fn call(&self, target: &Target, op: &Op) -> Result<Call, PlatformError> {
        let ig = self.platform() == Platform::Instagram;
        let post = seg(&target.post_id);
        let unsupported = || PlatformError::Unsupported {
            platform: self.platform(),
            op: op.name(),
        };
        Ok(match op {
            Op::Hide | Op::Unhide => {
                let value = if *op == Op::Hide { "true" } else { "false" };
                Call::new(Method::POST, format!("/{post}"))
                    .query(if ig { "hide" } else { "is_hidden" }, value)
            }
            Op::Delete => Call::new(Method::DELETE, format!("/{post}")),
            Op::Block if !ig => {
                Call::new(Method::POST, format!("/{}/blocked", seg(&target.account)))
                    .query("user", target.author_id.clone())
            }
            Op::Reply { text } => Call::new(
                Method::POST,
                format!("/{post}/{}", if ig { "replies" } else { "comments" }),
            )
            .query("message", text.clone()),
            Op::PrivateMessage { text } => {
                Call::new(Method::POST, format!("/{}/messages", seg(&target.account))).json(json!({
                    "recipient": { "comment_id": target.post_id },
                    "message": { "text": text },
                }))
            }
            Op::Block | Op::Mute | Op::Report { .. } => return Err(unsupported()),
        })
    }
}

/// Types a Meta error response.
pub fn meta_error(platform: Platform, resp: &Response) -> PlatformError {
    let body = resp.json();
    let err = &body["error"];
    let code = err["code"].as_i64();
    let sub = err["error_subcode"].as_i64();
    let detail = match code {
        Some(c) => format!(
            "HTTP {} code {c}{}: {}{}",
            resp.status.as_u16(),
            sub.map(|s| format!("/{s}")).unwrap_or_default(),
            err["message"].as_str().unwrap_or(""),
            err["fbtrace_id"]
                .as_str()
                .map(|t| format!(" (fbtrace_id {t})"))
                .unwrap_or_default()
        ),
        None => format!("HTTP {}: {}", resp.status.as_u16(), snippet(&resp.body)),
    };
    match code {
        Some(190 | 102) => PlatformError::TokenExpired { platform, detail },
        Some(3 | 10) | Some(200..=299) => PlatformError::PermissionDenied { platform, detail },
        Some(100) if sub == Some(33) => PlatformError::NotFound { platform, detail },
        _ if resp.status.as_u16() == 404 => PlatformError::NotFound { platform, detail },
        _ if resp.status.as_u16() == 401 => PlatformError::TokenExpired { platform, detail },
        _ if resp.status.as_u16() == 403 => PlatformError::PermissionDenied { platform, detail },
        _ => PlatformError::Rejected {
            platform,
            status: resp.status.as_u16(),
            detail,
        },
    }
}

impl PlatformClient for GraphClient {
    fn platform(&self) -> Platform {
        self.http.platform
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
                return Err(meta_error(self.platform(), &resp));
            }
            let body = resp.json();
            if body["success"].as_bool() == Some(false) {
                return Err(PlatformError::Rejected {
                    platform: self.platform(),
                    status: resp.status.as_u16(),
                    detail: format!("{} answered success=false", call.describe()),
                });
            }
            let created_id = body["id"]
                .as_str()
                .or_else(|| body["message_id"].as_str())
                .map(str::to_owned);
            Ok(Receipt {
                platform: self.platform(),
                op: op.name(),
                request: call.describe(),
                created_id,
                dry_run: false,
                attempts: resp.attempts,
            })
        })
    }
}
