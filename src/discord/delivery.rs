//! The relay delivery worker: takes `discord.relay` jobs from the durable
//! outbox, in job-id (FIFO) order, rebuilds each relay from the store and
//! posts it to the org's Discord channel over REST.
//!
//! # What it guarantees
//!
//! - **Channel.** A crisis relay goes to the org's `crisis_channel_id` when
//!   set, otherwise to its `relay_channel_id`, like every other relay.
//! - **Pacing.** At most `pacing.messages` requests per `pacing.per_seconds`
//!   per channel (a sliding window over the times of the last requests;
//!   creates, edits and retried requests all count).
//! - **429.** A rate-limited request waits the `Retry-After` (header, or the
//!   body's `retry_after`) and is sent again: never dropped. A wait longer
//!   than [`MAX_INLINE_RETRY_AFTER`] puts the job back instead (as below).
//! - **Discord unreachable or 5xx.** The job goes back to the queue
//!   (`fail` with a `retry_at`, exponential backoff from 1 s to 60 s) and the
//!   worker claims nothing until then, so when Discord is back the oldest
//!   relay goes first: a later relay never overtakes an earlier one. Such
//!   attempts never reached Discord, so they do not use up the job's
//!   attempts: an outage of any length loses nothing. A message Discord
//!   refuses (4xx other than 429) is retried with backoff until the job's
//!   attempts run out, then audited as `relay.failed`.
//! - **Restarts.** Jobs are claimed with a lease; a worker that dies leaves
//!   its job to [`Store::release_expired`], and the relay is sent then
//!   (at-least-once, like every outbox effect). Pacing history is in
//!   memory: just after a restart Discord's own 429s are the backstop.
//! - **One worker.** FIFO order relies on a single claimer of
//!   `discord.relay` jobs per deployment.
//!
//! # Coalescing
//!
//! Two relay jobs are a *burst* when they are for the same org and channel,
//! have the same acted-on categories, their posts were created within
//! [`COALESCE_WINDOW`] of the burst's first post, and they have the same
//! author (platform and id) or the same normalised text (lowercase letters
//! and digits, single spaces; never for crisis posts, where each person
//! matters). A burst becomes one relay showing the count (`RelayView.count`):
//!
//! - when a job is claimed, the queued relay jobs after it (up to
//!   [`LOOKAHEAD`]) that belong to its burst are merged into it: the relay
//!   goes out once with the count, and each merged job is completed with an
//!   audit row `relay.coalesced` naming the kept post;
//! - a burst member that arrives after its relay was sent edits that message
//!   (PATCH) to bump the count, audited the same way, while the relay is
//!   still open (no one has acted on it); once the team has acted or
//!   dismissed it, the late member gets a new relay.
//!
//! Each coalesced post's relay row points at the kept message. The memory of
//! sent bursts (the last [`REMEMBERED_BURSTS`]) is the worker's own, so after a restart a late member gets a
//! relay of its own: a missed merge, never a missed post.

use crate::category::{Action, Category};
use crate::classify;
use crate::config::discord::{DiscordConfig, OrgDiscord};
use crate::decide::{AutoReply, Decision, Priority, Relay};
use crate::discord::{relay_message, AuthorSummary, RelayView};
use crate::model::Platform;
use crate::pipeline::{Pipeline, SYSTEM_ACTOR};
use crate::platforms::post_capabilities;
use crate::store::{
    AuditEntry, AuditFilter, AuditOutcome, AutoReplyStatus, Job, RelayState, Store, StoreError,
    StoredPost,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use serenity::http::{Http, HttpBuilder, LightMethod, Request, Route};
use serenity::model::id::{ChannelId, MessageId};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// The job kind this worker drains.
pub const KIND: &str = "discord.relay";

/// How long a claimed job is ours before another worker may take it.
const LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// Posts this close (by creation time) to a burst's first post join it.
pub const COALESCE_WINDOW: Duration = Duration::minutes(2);

/// How many queued relay jobs a claim looks at for burst members.
pub const LOOKAHEAD: u32 = 200;

/// How many sent bursts the worker remembers for late members (the most
/// recent ones; membership still needs the time window).
pub const REMEMBERED_BURSTS: usize = 1024;

/// The longest `Retry-After` waited for in place; longer puts the job back.
pub const MAX_INLINE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Timeout of one request to Discord.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Where the worker gets the time and how it waits: the system clock in
/// production, a [`ManualClock`] in tests and the benchmark.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    fn sleep(&self, d: std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Wall-clock time and `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(&self, d: std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A simulated clock: `sleep` moves the time forward at once. The worker is
/// one sequential loop, so its waits (pacing, Retry-After, backoff) become
/// instants in simulated time while every request still really happens.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Move the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now
            .checked_add_signed(d)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn sleep(&self, d: std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.advance(Duration::from_std(d).unwrap_or(Duration::MAX));
        Box::pin(std::future::ready(()))
    }
}

/// A sliding-window limit per channel: at most `limit` requests in any
/// `window`.
#[derive(Debug, Clone)]
pub struct Pacer {
    limit: usize,
    window: Duration,
    sent: HashMap<u64, VecDeque<DateTime<Utc>>>,
}

impl Pacer {
    pub fn new(messages: u32, per_seconds: u32) -> Self {
        Pacer {
            limit: messages.max(1) as usize,
            window: Duration::seconds(i64::from(per_seconds.max(1))),
            sent: HashMap::new(),
        }
    }

    /// The earliest time a request to `channel` may go, if later than `now`.
    pub fn wait_until(&self, channel: u64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let times = self.sent.get(&channel)?;
        if times.len() < self.limit {
            return None;
        }
        // The window holds `limit` requests: the oldest must leave it first.
        let free = *times.front()? + self.window;
        (free > now).then_some(free)
    }

    /// Note a request to `channel` at `at`.
    pub fn record(&mut self, channel: u64, at: DateTime<Utc>) {
        let times = self.sent.entry(channel).or_default();
        times.push_back(at);
        while times.len() > self.limit {
            times.pop_front();
        }
    }
}

/// What one step of the worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing due.
    Idle,
    /// Discord was unreachable; nothing is claimed before `until`.
    Waiting { until: DateTime<Utc> },
    /// A relay message was posted, standing for `count` posts.
    Sent {
        post_id: i64,
        channel_id: u64,
        message_id: u64,
        count: u32,
    },
    /// A late burst member: the kept relay was edited to show `count`.
    Edited {
        post_id: i64,
        into: i64,
        message_id: u64,
        count: u32,
    },
    /// A transient failure; the job is back in the queue from `at`.
    Retry { post_id: i64, at: DateTime<Utc> },
    /// The relay cannot be sent (reason audited as `relay.failed`).
    Failed { post_id: i64, reason: String },
}

/// Totals of a [`Worker::drain`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainStats {
    /// Relay messages posted.
    pub sent: u64,
    /// Posts merged into another relay (before sending or by an edit).
    pub coalesced: u64,
    /// Messages edited to bump a count.
    pub edited: u64,
    /// Jobs put back after a transient failure.
    pub retries: u64,
    /// Relays given up on.
    pub failed: u64,
}

/// Why a request to Discord did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SendError {
    /// Connection error, timeout or 5xx: Discord is not there.
    Unavailable(String),
    /// A 429 asking for a wait longer than we hold a job for.
    LongRateLimit(std::time::Duration),
    /// Discord refused the request (4xx other than 429).
    Refused { status: u16, message: String },
}

impl SendError {
    pub(crate) fn detail(&self) -> String {
        match self {
            SendError::Unavailable(e) => format!("discord unavailable: {e}"),
            SendError::LongRateLimit(d) => format!("rate limited for {} s", d.as_secs()),
            SendError::Refused { status, message } => {
                format!("discord refused ({status}): {message}")
            }
        }
    }
}

/// One queued relay, as coalescing sees it.
#[derive(Debug, Clone)]
struct Member {
    job_id: i64,
    post_id: i64,
    org: String,
    channel: u64,
    categories: Value,
    crisis: bool,
    author: (Platform, String),
    text_key: String,
    created_at: DateTime<Utc>,
}

/// A burst whose relay has been sent.
#[derive(Debug, Clone)]
struct Burst {
    first: Member,
    payload: Value,
    message_id: u64,
    count: u32,
}

/// Whether `m` belongs to the burst that `first` started.
fn same_burst(first: &Member, m: &Member) -> bool {
    first.org == m.org
        && first.channel == m.channel
        && first.categories == m.categories
        && (m.created_at - first.created_at).abs() <= COALESCE_WINDOW
        && (first.author == m.author
            || (!first.crisis && !first.text_key.is_empty() && first.text_key == m.text_key))
}

/// Lowercase letters and digits, words separated by single spaces.
pub fn text_key(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_priority(v: &Value) -> Priority {
    match v.as_str() {
        Some("urgent") => Priority::Urgent,
        Some("high") => Priority::High,
        Some("low") => Priority::Low,
        _ => Priority::Normal,
    }
}

/// Backoff before retry `n` (1-based) while Discord is unreachable: 1 s,
/// 2 s, 4 s … up to 60 s.
pub(crate) fn outage_backoff(n: u32) -> Duration {
    Duration::seconds((1i64 << n.saturating_sub(1).min(6)).min(60))
}

/// Backoff before retrying a refused message: 30 s, 1 min, 2 min … 30 min.
pub(crate) fn refusal_backoff(attempt: u32) -> Duration {
    Duration::seconds((30i64 << attempt.saturating_sub(1).min(6)).min(1800))
}

/// Discord's REST API as the workers use it: serenity's `Http` builds each
/// request (route, token, proxy base), reqwest sends it with a timeout.
pub(crate) struct Rest {
    http: Http,
    client: reqwest::Client,
}

impl Rest {
    /// A client posting with the bot `token` to `api_base`.
    pub(crate) fn new(token: &str, api_base: &str) -> Result<Rest, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        // serenity's ratelimiter sends straight to discord.com, ignoring the
        // proxy (api_base), so it is off: pacing and 429s are handled here.
        let http = HttpBuilder::new(token)
            .client(client.clone())
            .proxy(api_base.trim_end_matches('/'))
            .ratelimiter_disabled(true)
            .build();
        Ok(Rest { http, client })
    }

    /// One request to `channel`, paced by `pacer` on `clock`; a 429 waits
    /// its Retry-After (up to [`MAX_INLINE_RETRY_AFTER`]) and goes again.
    pub(crate) async fn send(
        &self,
        clock: &dyn Clock,
        pacer: &mut Pacer,
        channel: u64,
        route: Route<'_>,
        method: LightMethod,
        body: &Value,
    ) -> Result<Value, SendError> {
        let bytes = serde_json::to_vec(body).map_err(|e| SendError::Refused {
            status: 0,
            message: format!("cannot encode the message: {e}"),
        })?;
        loop {
            let mut now = clock.now();
            while let Some(free) = pacer.wait_until(channel, now) {
                clock.sleep((free - now).to_std().unwrap_or_default()).await;
                now = clock.now();
            }
            pacer.record(channel, now);
            let built = Request::new(route, method).body(Some(bytes.clone())).build(
                &self.client,
                self.http.token(),
                self.http.proxy.as_deref(),
            );
            let request = match built.map(|b| b.build()) {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    return Err(SendError::Refused {
                        status: 0,
                        message: format!("cannot build the request: {e}"),
                    })
                }
                Err(e) => {
                    return Err(SendError::Refused {
                        status: 0,
                        message: format!("cannot build the request: {e}"),
                    })
                }
            };
            let response = match self.client.execute(request).await {
                Ok(r) => r,
                Err(e) => return Err(SendError::Unavailable(e.to_string())),
            };
            let status = response.status();
            let header_wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok());
            let text = match response.text().await {
                Ok(t) => t,
                Err(e) => return Err(SendError::Unavailable(e.to_string())),
            };
            let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if status.is_success() {
                return Ok(json);
            }
            if status.as_u16() == 429 {
                let secs = header_wait
                    .or_else(|| json["retry_after"].as_f64())
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .unwrap_or(1.0);
                let wait = std::time::Duration::from_secs_f64(secs.min(86_400.0));
                if wait > MAX_INLINE_RETRY_AFTER {
                    return Err(SendError::LongRateLimit(wait));
                }
                tracing::debug!(channel, ?wait, "Discord rate limit: waiting");
                clock.sleep(wait).await;
                continue;
            }
            if status.is_server_error() {
                return Err(SendError::Unavailable(format!("HTTP {status}")));
            }
            let message = json["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| text.chars().take(200).collect());
            return Err(SendError::Refused {
                status: status.as_u16(),
                message,
            });
        }
    }
}

/// The delivery worker. One per deployment: FIFO order across restarts
/// relies on a single claimer of `discord.relay` jobs.
pub struct Worker {
    store: Store,
    pipeline: Arc<Pipeline>,
    discord: DiscordConfig,
    rest: Rest,
    clock: Arc<dyn Clock>,
    x_block_allowed: bool,
    pacer: Pacer,
    down_until: Option<DateTime<Utc>>,
    outages: u32,
    bursts: Vec<Burst>,
    stats: DrainStats,
}

impl Worker {
    /// A worker posting with the bot `token` to `discord.api_base`.
    /// `x_block_allowed` comes from the platforms config (capability gating).
    pub fn new(
        store: Store,
        pipeline: Arc<Pipeline>,
        discord: DiscordConfig,
        token: &str,
        x_block_allowed: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<Worker, reqwest::Error> {
        let rest = Rest::new(token, &discord.api_base)?;
        let pacer = Pacer::new(discord.pacing.messages, discord.pacing.per_seconds);
        Ok(Worker {
            store,
            pipeline,
            discord,
            rest,
            clock,
            x_block_allowed,
            pacer,
            down_until: None,
            outages: 0,
            bursts: Vec::new(),
            stats: DrainStats::default(),
        })
    }

    /// Totals so far.
    pub fn stats(&self) -> DrainStats {
        self.stats
    }

    /// The channel a relay for `org` goes to.
    fn channel_for(org: &OrgDiscord, crisis: bool) -> u64 {
        if crisis {
            org.crisis_channel_id.unwrap_or(org.relay_channel_id)
        } else {
            org.relay_channel_id
        }
    }

    /// Claim and handle one due job.
    pub async fn step(&mut self) -> Result<Step, StoreError> {
        let now = self.clock.now();
        if let Some(until) = self.down_until {
            if now < until {
                return Ok(Step::Waiting { until });
            }
            self.down_until = None;
        }
        let Some(job) = self.store.claim_next(&[KIND], now, LEASE).await? else {
            return Ok(Step::Idle);
        };
        let post_id = job.payload["post_id"].as_i64().unwrap_or_default();
        let Some(post) = self.store.get_post(post_id).await? else {
            return self
                .give_up(&job, post_id, &job.org, "post not found")
                .await;
        };
        let Some(org_discord) = self.discord.orgs.get(&post.post.org).cloned() else {
            let reason = format!(
                "org `{}` has no Discord home in discord.toml",
                post.post.org
            );
            return self.give_up(&job, post_id, &post.post.org, &reason).await;
        };
        let crisis = job.payload["crisis"].as_bool().unwrap_or(false);
        if Self::channel_for(&org_discord, crisis) == 0 {
            // serenity's ids are non-zero; 0 is never a Discord channel.
            let reason = format!("org `{}` has channel id 0 in discord.toml", post.post.org);
            return self.give_up(&job, post_id, &post.post.org, &reason).await;
        }
        let member = Member {
            job_id: job.id,
            post_id,
            org: post.post.org.clone(),
            channel: Self::channel_for(&org_discord, crisis),
            categories: job.payload["categories"].clone(),
            crisis,
            author: (post.post.platform, post.post.author_id.clone()),
            text_key: text_key(&post.post.text),
            created_at: post.post.created_at,
        };

        // A late member of a burst already relayed: bump its count.
        if let Some(i) = self
            .bursts
            .iter()
            .position(|b| same_burst(&b.first, &member))
        {
            let kept = self.bursts[i].first.post_id;
            let open = self
                .store
                .get_relay(kept)
                .await?
                .is_some_and(|r| r.state == RelayState::Open);
            if open {
                return self.edit(&job, &member, i, &org_discord).await;
            }
            self.bursts.remove(i);
        }

        // Queued members of its burst ride along.
        let riders = self.lookahead(&member, &org_discord).await?;
        let count = 1 + riders.len() as u32;
        let body = match self
            .message(&post, &job.payload, count, &org_discord)
            .await?
        {
            Ok(body) => body,
            Err(reason) => return self.give_up(&job, post_id, &member.org, &reason).await,
        };
        let route = Route::ChannelMessages {
            channel_id: ChannelId::new(member.channel),
        };
        let sent = self
            .send(member.channel, route, LightMethod::Post, &body)
            .await;
        let response = match sent {
            Ok(v) => v,
            Err(e) => return self.failed_send(&job, post_id, &member.org, e).await,
        };
        let Some(message_id) = message_id(&response) else {
            // Discord took the message but its answer has no id. Posting it
            // again would duplicate it, so the job ends here, audited.
            let reason = "sent, but Discord's answer has no message id";
            return self.give_up(&job, post_id, &member.org, reason).await;
        };
        let now = self.clock.now();
        let channel = member.channel.to_string();
        let message = message_id.to_string();
        self.store
            .set_relay_message(post_id, &channel, &message, now)
            .await?;
        let mut merged = 0u32;
        for r in &riders {
            if self.take_queued(r.job_id, now).await? {
                merged += 1;
                self.store
                    .set_relay_message(r.post_id, &channel, &message, now)
                    .await?;
                self.record_coalesced(r, post_id, message_id, 1 + merged, now)
                    .await?;
            }
        }
        if merged + 1 != count {
            tracing::warn!(
                post_id,
                count,
                merged,
                "some burst members were claimed elsewhere"
            );
        }
        self.store
            .append_audit(&audit(
                now,
                &member.org,
                post_id,
                "relay.sent",
                AuditOutcome::Ok,
                json!({
                    "channel_id": channel,
                    "message_id": message,
                    "count": count,
                    "coalesced_posts": riders.iter().map(|r| r.post_id).collect::<Vec<_>>(),
                }),
            ))
            .await?;
        self.store.complete(job.id, now).await?;
        self.outages = 0;
        self.stats.sent += 1;
        self.stats.coalesced += u64::from(merged);
        if self.bursts.len() >= REMEMBERED_BURSTS {
            self.bursts.remove(0);
        }
        self.bursts.push(Burst {
            first: member.clone(),
            payload: job.payload.clone(),
            message_id,
            count: 1 + merged,
        });
        Ok(Step::Sent {
            post_id,
            channel_id: member.channel,
            message_id,
            count: 1 + merged,
        })
    }

    /// Edit the relay of burst `i` to count `member` in.
    async fn edit(
        &mut self,
        job: &Job,
        member: &Member,
        i: usize,
        org_discord: &OrgDiscord,
    ) -> Result<Step, StoreError> {
        let burst = self.bursts[i].clone();
        let kept = burst.first.post_id;
        let count = burst.count + 1;
        let Some(kept_post) = self.store.get_post(kept).await? else {
            return self
                .give_up(job, member.post_id, &member.org, "kept post vanished")
                .await;
        };
        let body = match self
            .message(&kept_post, &burst.payload, count, org_discord)
            .await?
        {
            Ok(body) => body,
            Err(reason) => {
                return self
                    .give_up(job, member.post_id, &member.org, &reason)
                    .await
            }
        };
        let route = Route::ChannelMessage {
            channel_id: ChannelId::new(member.channel),
            message_id: MessageId::new(burst.message_id),
        };
        if let Err(e) = self
            .send(member.channel, route, LightMethod::Patch, &body)
            .await
        {
            return self.failed_send(job, member.post_id, &member.org, e).await;
        }
        let now = self.clock.now();
        self.store
            .set_relay_message(
                member.post_id,
                &member.channel.to_string(),
                &burst.message_id.to_string(),
                now,
            )
            .await?;
        self.record_coalesced(member, kept, burst.message_id, count, now)
            .await?;
        self.store.complete(job.id, now).await?;
        self.bursts[i].count = count;
        self.outages = 0;
        self.stats.coalesced += 1;
        self.stats.edited += 1;
        Ok(Step::Edited {
            post_id: member.post_id,
            into: kept,
            message_id: burst.message_id,
            count,
        })
    }

    async fn record_coalesced(
        &self,
        m: &Member,
        kept: i64,
        message_id: u64,
        count: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.store
            .append_audit(&audit(
                now,
                &m.org,
                m.post_id,
                "relay.coalesced",
                AuditOutcome::Ok,
                json!({
                    "into_post_id": kept,
                    "message_id": message_id.to_string(),
                    "count": count,
                }),
            ))
            .await?;
        Ok(())
    }

    /// The queued relay jobs after `first` that belong to its burst.
    async fn lookahead(
        &self,
        first: &Member,
        org_discord: &OrgDiscord,
    ) -> Result<Vec<Member>, StoreError> {
        let waiting = self
            .store
            .waiting_after(KIND, &first.org, first.job_id, LOOKAHEAD)
            .await?;
        let mut jobs = Vec::with_capacity(waiting.len());
        for job in &waiting {
            let payload = &job.payload;
            let crisis = payload["crisis"].as_bool().unwrap_or(false);
            if Self::channel_for(org_discord, crisis) != first.channel
                || payload["categories"] != first.categories
            {
                continue;
            }
            if let Some(post_id) = payload["post_id"].as_i64() {
                jobs.push((job.id, post_id, crisis, payload["categories"].clone()));
            }
        }
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = jobs.iter().map(|j| j.1).collect();
        let mut posts: HashMap<i64, _> = self
            .store
            .get_posts(&ids)
            .await?
            .into_iter()
            .map(|p| {
                let key = (p.post.platform, p.post.author_id.clone());
                (
                    p.id,
                    (key.0, key.1, text_key(&p.post.text), p.post.created_at),
                )
            })
            .collect();
        Ok(jobs
            .into_iter()
            .filter_map(|(job_id, post_id, crisis, categories)| {
                let (platform, author, text_key, created_at) = posts.remove(&post_id)?;
                Some(Member {
                    job_id,
                    post_id,
                    org: first.org.clone(),
                    channel: first.channel,
                    categories,
                    crisis,
                    author: (platform, author),
                    text_key,
                    created_at,
                })
            })
            .filter(|m| same_burst(first, m))
            .collect())
    }

    /// Complete a queued job this worker has not claimed (a merged burst
    /// member); false if someone else got to it.
    async fn take_queued(&self, job_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.store.complete_waiting(job_id, now).await
    }

    /// The relay message for `post`, from the store and the job payload.
    async fn message(
        &self,
        post: &StoredPost,
        payload: &Value,
        count: u32,
        org_discord: &OrgDiscord,
    ) -> Result<Result<Value, String>, StoreError> {
        let p = &post.post;
        let Some(org) = self.pipeline.config.orgs.get(&p.org) else {
            return Ok(Err(format!("org `{}` is not configured", p.org)));
        };
        let Some(stored) = self.store.get_classification(post.id).await? else {
            return Ok(Err("post has no classification".into()));
        };
        let personal_spans = self
            .pipeline
            .personal_spans(&p.org, &p.text, Some(p.created_at));
        let acted_on: Vec<Category> =
            serde_json::from_value(payload["categories"].clone()).unwrap_or_default();
        let suggested: Vec<Action> =
            serde_json::from_value(payload["suggested_actions"].clone()).unwrap_or_default();
        let classification = classify::Classification {
            categories: stored.categories,
            rules: stored.rules,
            severity: stored.severity,
            suggested_actions: suggested.clone(),
            personal_spans,
        };
        let audits = self
            .store
            .audit_rows(&AuditFilter {
                post_id: Some(post.id),
                ..AuditFilter::default()
            })
            .await?;
        let in_hours = audits
            .iter()
            .find(|a| a.action == "classify")
            .and_then(|a| a.detail_json())
            .and_then(|d| d["in_hours"].as_bool())
            .or_else(|| {
                self.pipeline
                    .schedule(&p.org)
                    .map(|s| s.is_open(p.created_at))
            })
            .unwrap_or(false);
        let auto_reply = self
            .store
            .auto_replies_for_post(post.id)
            .await?
            .into_iter()
            .filter(|r| matches!(r.status, AutoReplyStatus::Sent | AutoReplyStatus::Queued))
            .find_map(|r| {
                Some(AutoReply {
                    template: r.template.parse().ok()?,
                    text: r.text,
                })
            });
        let decision = Decision {
            in_hours,
            acted_on,
            relay: Some(Relay {
                priority: parse_priority(&payload["priority"]),
                reason: String::new(),
            }),
            suggested_actions: suggested,
            block_suggested: payload["block_suggested"].as_bool().unwrap_or(false),
            auto_reply,
            suppressed: Vec::new(),
        };
        let since = p.created_at - Duration::days(i64::from(org.strikes.days));
        let history = self
            .store
            .author_history(p.platform, &p.author_id, since)
            .await?;
        // The history counts this post too when it is flagged.
        let own = u32::from(classification.categories.iter().any(|c| c.is_strike()));
        let author = AuthorSummary {
            strikes: history.flagged_since.saturating_sub(own),
            blocked: history.blocked,
        };
        let capabilities = post_capabilities(p.platform, p.kind, self.x_block_allowed);
        let role = org_discord.crisis_role_id.map(|r| r.to_string());
        Ok(Ok(relay_message(&RelayView {
            post_id: post.id,
            org,
            post: p,
            classification: &classification,
            decision: &decision,
            author,
            capabilities: &capabilities,
            count,
            crisis_role: role.as_deref(),
            done: &[],
        })))
    }

    /// One paced request; a 429 waits its Retry-After and goes again.
    async fn send(
        &mut self,
        channel: u64,
        route: Route<'_>,
        method: LightMethod,
        body: &Value,
    ) -> Result<Value, SendError> {
        self.rest
            .send(&*self.clock, &mut self.pacer, channel, route, method, body)
            .await
    }

    /// Put the job back after a failed request.
    async fn failed_send(
        &mut self,
        job: &Job,
        post_id: i64,
        org: &str,
        e: SendError,
    ) -> Result<Step, StoreError> {
        let now = self.clock.now();
        match e {
            SendError::Unavailable(_) | SendError::LongRateLimit(_) => {
                self.outages += 1;
                let wait = match &e {
                    SendError::LongRateLimit(d) => {
                        Duration::from_std(*d).unwrap_or(Duration::seconds(60))
                    }
                    _ => outage_backoff(self.outages),
                };
                let at = now + wait;
                // The attempt never reached Discord: do not count it.
                self.store.uncount_attempt(job.id).await?;
                self.store.fail(job.id, &e.detail(), Some(at), now).await?;
                self.down_until = Some(at);
                self.stats.retries += 1;
                tracing::warn!(post_id, error = %e.detail(), retry_at = %at, "relay put back");
                Ok(Step::Retry { post_id, at })
            }
            SendError::Refused { .. } if job.attempts < job.max_attempts => {
                let at = now + refusal_backoff(job.attempts);
                self.store.fail(job.id, &e.detail(), Some(at), now).await?;
                self.stats.retries += 1;
                tracing::warn!(post_id, error = %e.detail(), retry_at = %at, "relay refused");
                Ok(Step::Retry { post_id, at })
            }
            SendError::Refused { .. } => self.give_up(job, post_id, org, &e.detail()).await,
        }
    }

    /// Mark the job dead and audit why.
    async fn give_up(
        &mut self,
        job: &Job,
        post_id: i64,
        org: &str,
        reason: &str,
    ) -> Result<Step, StoreError> {
        let now = self.clock.now();
        self.store.fail(job.id, reason, None, now).await?;
        self.store
            .append_audit(&audit(
                now,
                org,
                post_id,
                "relay.failed",
                AuditOutcome::Failed(reason.to_owned()),
                json!({ "job_id": job.id }),
            ))
            .await?;
        self.stats.failed += 1;
        tracing::error!(post_id, reason, "relay given up");
        Ok(Step::Failed {
            post_id,
            reason: reason.to_owned(),
        })
    }

    /// Work until no relay job is left unfinished (waiting out outages and
    /// backoffs on the clock); returns the totals.
    pub async fn drain(&mut self) -> Result<DrainStats, StoreError> {
        loop {
            match self.step().await? {
                Step::Idle => {
                    let now = self.clock.now();
                    self.store.release_expired(now).await?;
                    if self.store.queue_depth(KIND).await? == 0 {
                        return Ok(self.stats);
                    }
                    self.clock.sleep(std::time::Duration::from_secs(1)).await;
                }
                Step::Waiting { until } => {
                    let wait = (until - self.clock.now()).to_std().unwrap_or_default();
                    self.clock.sleep(wait).await;
                }
                _ => {}
            }
        }
    }

    /// Deliver relays until `stop` flips, checking every second when idle
    /// and returning expired leases to the queue. In-flight work finishes;
    /// queued relays stay queued.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(e) = self.store.release_expired(self.clock.now()).await {
                tracing::warn!(error = %e, "releasing expired relay jobs failed");
            }
            let wait = match self.step().await {
                Ok(Step::Idle) => std::time::Duration::from_secs(1),
                Ok(Step::Waiting { until }) => (until - self.clock.now())
                    .to_std()
                    .unwrap_or_default()
                    .min(std::time::Duration::from_secs(1)),
                Err(e) => {
                    tracing::warn!(error = %e, "relay delivery step failed");
                    std::time::Duration::from_secs(1)
                }
                Ok(s) => {
                    tracing::debug!(step = ?s, "relay delivery");
                    continue;
                }
            };
            tokio::select! {
                _ = self.clock.sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// The id of a created message, from Discord's answer (snowflakes are
/// never 0).
pub(crate) fn message_id(v: &Value) -> Option<u64> {
    let id = match &v["id"] {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    id.filter(|id| *id != 0)
}

fn audit(
    at: DateTime<Utc>,
    org: &str,
    post_id: i64,
    action: &str,
    outcome: AuditOutcome,
    detail: Value,
) -> AuditEntry {
    AuditEntry {
        at,
        org: org.to_owned(),
        post_id: Some(post_id),
        actor_id: SYSTEM_ACTOR.0.into(),
        actor_name: SYSTEM_ACTOR.1.into(),
        action: action.into(),
        reason: None,
        outcome,
        detail: Some(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn pacer_allows_the_limit_per_window_and_no_more() {
        let mut p = Pacer::new(5, 5);
        for i in 0..5 {
            assert_eq!(p.wait_until(1, t(i)), None);
            p.record(1, t(i));
        }
        assert_eq!(p.wait_until(1, t(4)), Some(t(5)));
        assert_eq!(p.wait_until(2, t(4)), None, "channels are paced apart");
        p.record(1, t(5));
        assert_eq!(p.wait_until(1, t(5)), Some(t(6)));
    }

    #[test]
    fn text_keys_ignore_case_spacing_and_punctuation() {
        assert_eq!(text_key("You  IDIOTS!!!\nfix it"), "you idiots fix it");
        assert_eq!(text_key("🙂🙂"), "");
    }

    #[test]
    fn message_ids_are_read_from_strings_or_numbers_and_never_zero() {
        assert_eq!(message_id(&json!({"id": "123"})), Some(123));
        assert_eq!(message_id(&json!({"id": 7})), Some(7));
        assert_eq!(message_id(&json!({"id": "0"})), None);
        assert_eq!(message_id(&json!({"id": "x"})), None);
        assert_eq!(message_id(&json!(null)), None);
    }

    #[test]
    fn backoffs_grow_and_cap() {
        assert_eq!(outage_backoff(1), Duration::seconds(1));
        assert_eq!(outage_backoff(3), Duration::seconds(4));
        assert_eq!(outage_backoff(30), Duration::seconds(60));
        assert_eq!(refusal_backoff(1), Duration::seconds(30));
        assert_eq!(refusal_backoff(20), Duration::seconds(1800));
    }
}
