//! Mastodon inbound: polls an account's mention notifications.
//!
//! `GET {base_url}/api/v1/notifications?types[]=mention&limit=40&min_id=<cursor>`
//! with `Authorization: Bearer <token>`. `min_id` (not `since_id`) is used on
//! purpose: Mastodon answers `since_id` with the *newest* page, so a burst
//! larger than one page would leave a gap, whereas `min_id` returns the page
//! immediately after the cursor; the poller keeps asking until a page comes
//! back empty, then sleeps `poll_interval_secs`. Without a stored cursor
//! (first start) it reads the latest page.
//!
//! Each page's posts and the new cursor (the highest notification id in the
//! page) are committed in ONE transaction through the writer, into the
//! `cursors` table under [`MastodonPoller::source`], so after a crash or
//! restart polling resumes exactly where the last commit left it: nothing
//! missed, nothing stored twice (and a re-read page would be deduplicated by
//! the store anyway).
//!
//! Errors (HTTP status other than 2xx, timeouts, dropped connections, bad
//! JSON, a failed commit) back off exponentially from 1 s to
//! `backoff_max_secs`, with jitter (each wait is uniform in [d/2, d]), and
//! retry from the stored cursor. Streaming is not used: polling with a
//! durable resume point is enough for mention volumes.
//!
//! Mapping: `status.id` → id, `account.id`/`account.acct` → author,
//! `status.content` (HTML reduced to text; a content warning is kept in
//! front) → text, `status.created_at`, `status.url`; visibility `direct` →
//! `dm`, else `mention`. Notifications without a status, and the account's
//! own posts, advance the cursor but are not stored.

use super::writer::{Cursor, WriteError, WriterHandle};
use crate::config::server::MastodonSource;
use crate::model::{InboundPost, Platform, PostKind};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Why one poll failed; the poller backs off and retries.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("instance answered HTTP {0}")]
    Status(u16),
    #[error("unexpected response: {0}")]
    Body(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// One account's poller.
#[derive(Debug)]
pub struct MastodonPoller {
    pub client: reqwest::Client,
    pub base_url: String,
    pub token: SecretString,
    /// The trust's account id (mentions of it are what we read).
    pub account_id: String,
    pub org: String,
    pub store: Store,
    pub writer: WriterHandle,
    pub interval: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Notifications per page (Mastodon caps this at 80).
    pub page_limit: u32,
}

#[derive(Deserialize)]
struct Notification {
    id: String,
    #[serde(default)]
    account: Option<Account>,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Deserialize)]
struct Account {
    id: String,
    acct: String,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    url: Option<String>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    account: Option<Account>,
}

/// Orders Mastodon ids (decimal strings of any length) numerically.
fn id_key(id: &str) -> (usize, &str) {
    (id.len(), id)
}

impl MastodonPoller {
    /// A poller for a configured source, with a 30 s request timeout.
    pub fn new(
        source: &MastodonSource,
        token: SecretString,
        org: String,
        store: Store,
        writer: WriterHandle,
    ) -> Result<MastodonPoller, reqwest::Error> {
        Ok(MastodonPoller {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("signpost/", env!("CARGO_PKG_VERSION")))
                .build()?,
            base_url: source.base_url.trim_end_matches('/').to_owned(),
            token,
            account_id: source.account_id.clone(),
            org,
            store,
            writer,
            interval: Duration::from_secs(source.poll_interval_secs),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(source.backoff_max_secs),
            page_limit: 40,
        })
    }

    /// The cursor's key in the `cursors` table.
    pub fn source(&self) -> String {
        format!("mastodon:{}:{}", self.base_url, self.account_id)
    }

    /// Reads one page after the stored cursor and commits it; returns how
    /// many notifications the page held (0: caught up).
    pub async fn poll_once(&self) -> Result<usize, PollError> {
        let source = self.source();
        let cursor = self.store.get_cursor(&source).await?;
        let mut query: Vec<(&str, String)> = vec![
            ("types[]", "mention".to_owned()),
            ("limit", self.page_limit.to_string()),
        ];
        if let Some(c) = &cursor {
            query.push(("min_id", c.clone()));
        }
        let resp = self
            .client
            .get(format!("{}/api/v1/notifications", self.base_url))
            .bearer_auth(self.token.expose_secret())
            .query(&query)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(PollError::Status(resp.status().as_u16()));
        }
        let page: Vec<Value> = resp.json().await?;
        if page.is_empty() {
            return Ok(0);
        }
        let mut newest: Option<String> = None;
        let mut posts = Vec::new();
        for raw in &page {
            let n = Notification::deserialize(raw)
                .map_err(|e| PollError::Body(format!("notification: {e}")))?;
            if newest.as_deref().is_none_or(|m| id_key(&n.id) > id_key(m)) {
                newest = Some(n.id.clone());
            }
            if let Some(post) = self.map(n) {
                posts.push((post, Some(raw.to_string())));
            }
        }
        // Oldest first, so the repetition check sees them in order.
        posts.sort_by_key(|p| p.0.created_at);
        let value = newest.unwrap_or_default();
        if cursor
            .as_deref()
            .is_some_and(|c| id_key(&value) <= id_key(c))
        {
            return Err(PollError::Body(format!(
                "page does not advance past cursor {}",
                cursor.unwrap_or_default()
            )));
        }
        self.writer
            .submit(posts, Some(Cursor { source, value }))
            .await?;
        Ok(page.len())
    }

    fn map(&self, n: Notification) -> Option<InboundPost> {
        let status = n.status?;
        let author = status.account.or(n.account)?;
        if author.id == self.account_id {
            return None;
        }
        let mut text = html_to_text(&status.content);
        if !status.spoiler_text.trim().is_empty() {
            text = format!("{}\n{text}", status.spoiler_text.trim());
        }
        Some(InboundPost {
            platform: Platform::Mastodon,
            external_id: status.id,
            account: self.account_id.clone(),
            org: self.org.clone(),
            kind: if status.visibility == "direct" {
                PostKind::Dm
            } else {
                PostKind::Mention
            },
            author_id: author.id,
            author_handle: author.acct,
            text,
            url: status.url,
            created_at: status.created_at,
        })
    }

    /// Polls until `shutdown` becomes true (or its sender goes away).
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        let mut rng = Jitter::seeded();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = match self.poll_once().await {
                Ok(0) => {
                    failures = 0;
                    self.interval
                }
                Ok(n) => {
                    failures = 0;
                    tracing::debug!(notifications = n, source = %self.source(), "mastodon page stored");
                    Duration::ZERO
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = backoff(self.backoff_base, self.backoff_max, failures, &mut rng);
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, source = %self.source(), "mastodon poll failed");
                    wait
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
            }
        }
        tracing::debug!(source = %self.source(), "mastodon poller stopped");
    }
}

/// The wait after `failures` consecutive failures: `base·2^(failures-1)`
/// capped at `max`, then uniformly jittered into [d/2, d].
pub fn backoff(base: Duration, max: Duration, failures: u32, rng: &mut Jitter) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    let d = base.saturating_mul(1 << exp).min(max);
    let half = d / 2;
    half + half.mul_f64(rng.next_unit())
}

/// A small xorshift generator for back-off jitter (not for anything secret).
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn seeded() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64);
        Jitter(nanos | 1)
    }

    /// Uniform in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Mastodon's status HTML to plain text: paragraphs and `<br>` become line
/// breaks, other tags are dropped, entities are decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let Some(gt) = rest[lt..].find('>') else {
            rest = &rest[lt..];
            break;
        };
        let tag = rest[lt + 1..lt + gt].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or("");
        if name == "br" || (tag.starts_with("/p") && name == "p") {
            out.push('\n');
        }
        rest = &rest[lt + gt + 1..];
    }
    out.push_str(&decode_entities(rest));
    out.trim().to_owned()
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &after[..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        let html = r#"<p><span class="h-card"><a href="https://m.example/@nhs" class="u-url mention">@<span>nhs</span></a></span> you&#39;re &amp; &lt;great&gt;</p><p>line<br />two &#x1F600; &bogus; a&b</p>"#;
        assert_eq!(
            html_to_text(html),
            "@nhs you're & <great>\nline\ntwo 😀 &bogus; a&b"
        );
        assert_eq!(html_to_text("plain < text"), "plain < text");
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let mut rng = Jitter(12345);
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        for failures in 1..30 {
            let full = base.saturating_mul(1 << (failures - 1).min(20)).min(max);
            let d = backoff(base, max, failures, &mut rng);
            assert!(d >= full / 2 && d <= full, "{failures}: {d:?}");
        }
        let a: Vec<Duration> = (0..5).map(|_| backoff(base, max, 10, &mut rng)).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]), "jitter varies: {a:?}");
    }

    #[test]
    fn ids_order_numerically() {
        assert!(id_key("100") > id_key("99"));
        assert!(id_key("110") > id_key("109"));
    }
}
