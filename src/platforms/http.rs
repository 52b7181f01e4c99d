//! The HTTP layer every platform client shares: one request description
//! ([`Call`]), sent with the Bearer token, retried with exponential backoff
//! and jitter on 5xx, 429 and connection errors, honouring `Retry-After`
//! (delta-seconds or an HTTP date), for a bounded number of attempts.
//! Non-retryable responses are handed back to the platform client, which
//! types them ([`super::PlatformError`]).

use crate::config::platforms::RetryConfig;
use crate::model::Platform;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

use super::PlatformError;

/// One request, described without the base URL or the token.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// Path after the base URL, starting with `/`; segments already encoded.
    pub path: String,
    /// Query parameters (encoded by the client).
    pub query: Vec<(&'static str, String)>,
    /// A JSON body, if any.
    pub json: Option<serde_json::Value>,
    /// Extra headers, e.g. `Idempotency-Key` (the same on every attempt).
    pub headers: Vec<(&'static str, String)>,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Call {
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            json: None,
            headers: Vec::new(),
        }
    }

    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Call {
        self.query.push((key, value.into()));
        self
    }

    pub fn json(mut self, body: serde_json::Value) -> Call {
        self.json = Some(body);
        self
    }

    pub fn header(mut self, key: &'static str, value: impl Into<String>) -> Call {
        self.headers.push((key, value.into()));
        self
    }

    /// `METHOD /path?query` for receipts and audit details. Query values
    /// are Signpost's own (ids, flags, reply text), never the token.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path);
        for (i, (k, v)) in self.query.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s
    }
}

/// A final (non-retried) HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub body: String,
    pub attempts: u32,
}

impl Response {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A platform's HTTP connection: base URL, token, retry policy.
pub struct Http {
    pub platform: Platform,
    base_url: String,
    token: SecretString,
    retry: RetryConfig,
    client: reqwest::Client,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("platform", &self.platform)
            .field("base_url", &self.base_url)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// Whether a Meta error body is a rate-limit or temporary error that is
/// worth retrying even with a 4xx status (codes 1, 2, 4, 17, 32, 341, 613).
pub fn meta_transient(body: &serde_json::Value) -> bool {
    let err = &body["error"];
    matches!(err["code"].as_i64(), Some(1 | 2 | 4 | 17 | 32 | 341 | 613))
        || err["is_transient"].as_bool() == Some(true)
}

impl Http {
    pub fn new(
        platform: Platform,
        base_url: &str,
        token: SecretString,
        retry: &RetryConfig,
        timeout: Duration,
    ) -> Result<Http, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("signpost/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Http {
            platform,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token,
            retry: retry.clone(),
            client,
        })
    }

    /// Sends `call`, retrying transient failures. Returns the first
    /// non-retryable response (success or not); retries exhausted or a
    /// `Retry-After` beyond the configured maximum give
    /// [`PlatformError::Unavailable`].
    pub async fn send(&self, call: &Call) -> Result<Response, PlatformError> {
        let max = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (wait, detail) = match self.once(call).await {
                Ok((status, headers, body)) => {
                    let transient = status == StatusCode::TOO_MANY_REQUESTS
                        || status.is_server_error()
                        || (matches!(self.platform, Platform::Facebook | Platform::Instagram)
                            && !status.is_success()
                            && meta_transient(
                                &serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
                            ));
                    if !transient {
                        return Ok(Response {
                            status,
                            body,
                            attempts: attempt,
                        });
                    }
                    let retry_after = retry_after(&headers, Utc::now());
                    if let Some(ra) = retry_after {
                        if ra > self.retry.max_retry_after() {
                            return Err(PlatformError::Unavailable {
                                platform: self.platform,
                                attempts: attempt,
                                detail: format!(
                                    "HTTP {status} with Retry-After {}s (longer than the {}s allowed)",
                                    ra.as_secs(),
                                    self.retry.max_retry_after_secs
                                ),
                            });
                        }
                    }
                    (retry_after, format!("HTTP {status}: {}", snippet(&body)))
                }
                Err(e) => (None, format!("connection error: {}", error_chain(&e))),
            };
            if attempt >= max {
                return Err(PlatformError::Unavailable {
                    platform: self.platform,
                    attempts: attempt,
                    detail,
                });
            }
            let delay = wait.unwrap_or_else(|| backoff(&self.retry, attempt));
            tracing::debug!(
                platform = %self.platform,
                request = %format!("{} {}", call.method, call.path),
                attempt,
                delay_ms = delay.as_millis() as u64,
                %detail,
                "platform call failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn once(&self, call: &Call) -> Result<(StatusCode, HeaderMap, String), reqwest::Error> {
        let url = format!("{}{}", self.base_url, call.path);
        let mut req = self
            .client
            .request(call.method.clone(), url)
            .header(
                AUTHORIZATION,
                format!("Bearer {}", self.token.expose_secret()),
            )
            .query(&call.query);
        for (k, v) in &call.headers {
            req = req.header(*k, v);
        }
        if let Some(body) = &call.json {
            req = req.json(body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await?;
        Ok((status, headers, body))
    }
}

/// The backoff before attempt `attempt + 1`: `initial · 2^(attempt-1)`,
/// capped at the maximum, then "equal jitter" (a uniformly random point in
/// its upper half), so clients that failed together do not retry together.
pub fn backoff(retry: &RetryConfig, attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let base = retry
        .initial_backoff()
        .saturating_mul(1u32 << exp)
        .min(retry.max_backoff());
    let half = base / 2;
    half + half.mul_f64(jitter())
}

/// A number in `[0, 1)` from the standard library's randomly keyed hasher.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The `Retry-After` header as a wait from `now`: delta-seconds or an HTTP
/// date (a date in the past is no wait).
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The first 300 characters of a body, for error details.
pub fn snippet(body: &str) -> String {
    let s: String = body.chars().take(300).collect();
    if s.len() < body.len() {
        format!("{s}…")
    } else {
        s
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Percent-encodes one path segment (ids come from platform payloads).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(60)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_doubles_within_bounds() {
        let r = RetryConfig {
            max_attempts: 5,
            initial_backoff_ms: 100,
            max_backoff_ms: 300,
            max_retry_after_secs: 10,
        };
        for _ in 0..20 {
            let b1 = backoff(&r, 1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b2 = backoff(&r, 2);
            assert!(b2 >= Duration::from_millis(100) && b2 <= Duration::from_millis(200));
            let b5 = backoff(&r, 5);
            assert!(b5 >= Duration::from_millis(150) && b5 <= Duration::from_millis(300));
        }
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(seg("123_456"), "123_456");
        assert_eq!(seg("a/b?c"), "a%2Fb%3Fc");
    }
}
