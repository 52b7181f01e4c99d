//! The handover digest's scheduler and worker: at each opening of an org's
//! monitoring hours, what happened while the team was away is posted to its
//! relay channel (the message is [`super::digest`]'s).
//!
//! # Scheduler
//!
//! [`Scheduler::tick`] looks at each org with a Discord home: its schedule
//! with the overrides from the store ([`openings`]), for openings in the
//! last [`MISSED_LOOKBACK`]. For each it enqueues a [`KIND`] job with the
//! dedupe key `digest:{org}:{opening_ms}` and the window `[previous close,
//! opening)` in its payload. The dedupe key makes this idempotent: ticking
//! again, restarting, or two schedulers at once enqueue each digest once.
//! Looking back a few hours means a bot that was down at 09:00 and starts
//! at 09:20 still posts that morning's digest; one that starts in the
//! afternoon does not post a stale one. [`Scheduler::run`] ticks, then
//! sleeps on the [`Clock`] until the next opening of any org, at most
//! [`POLL`], so a `/hours` override that opens the team now is seen
//! within a minute.
//!
//! An opening after less than [`MIN_AWAY`] closed (an override cleared a
//! few minutes after it was set) gets no digest. An opening with no close
//! in the [`WINDOW_DAYS`] before it covers those days.
//!
//! # Worker
//!
//! [`DigestWorker`] claims [`KIND`] jobs (only those: relays keep their own
//! FIFO worker), reads the facts ([`Store::digest_facts`]) when it posts, so
//! "still needs action" is as of then, masks personal data as relays do,
//! and posts over REST with delivery's paced sender. Success completes the
//! job and appends `digest.posted` in one transaction. Discord unreachable
//! or 5xx: the job goes back with a backoff without using an attempt.
//! Refused (4xx): retried with backoff until the attempts run out, then
//! `digest.failed`. Like every outbox effect it is at-least-once: a crash
//! between posting and completing posts the digest again.

use super::delivery::{message_id, outage_backoff, refusal_backoff, Clock, Pacer, Rest, SendError};
use super::digest::{digest_message, DigestView};
use crate::config::discord::DiscordConfig;
use crate::hours::report::rfc3339;
use crate::hours::{Override, OverrideKind, ScheduleView};
use crate::pipeline::{Pipeline, SYSTEM_ACTOR};
use crate::store::{self, AuditEntry, AuditOutcome, Job, NewJob, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use serenity::http::{LightMethod, Route};
use serenity::model::id::ChannelId;
use std::sync::Arc;

/// The job kind of a digest.
pub const KIND: &str = "discord.digest";

/// How far back a (re)started scheduler looks for openings it missed.
pub const MISSED_LOOKBACK: Duration = Duration::hours(3);

/// The shortest time away that earns a digest.
pub const MIN_AWAY: Duration = Duration::minutes(30);

/// How far back the window of a digest may reach.
pub const WINDOW_DAYS: i64 = 14;

/// The longest the scheduler sleeps between ticks.
pub const POLL: std::time::Duration = std::time::Duration::from_secs(60);

/// How many crisis posts and waiting relays a digest lists.
pub const LIST_LIMIT: u32 = 10;

/// How long a claimed digest job is the worker's.
const LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// An opening of the monitoring hours and the time away before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// When the team came back on duty.
    pub at: DateTime<Utc>,
    /// When they went off duty before that (the previous close).
    pub away_from: DateTime<Utc>,
}

/// The openings of `view` in `(after, upto]`, each with the close before
/// it, oldest first; those after less than [`MIN_AWAY`] away are left out.
pub fn openings(view: ScheduleView<'_>, after: DateTime<Utc>, upto: DateTime<Utc>) -> Vec<Opening> {
    if upto <= after {
        return Vec::new();
    }
    let start = after - Duration::days(WINDOW_DAYS);
    // One millisecond past `upto`, so a period starting at `upto` shows.
    let periods = view.open_periods(start, upto + Duration::milliseconds(1));
    let mut out = Vec::new();
    let mut previous_end: Option<DateTime<Utc>> = None;
    for (s, e) in periods {
        // A period clipped at `start` was already open then: not an opening.
        if s > start && s > after && s <= upto {
            let away_from = previous_end.unwrap_or(start);
            if s - away_from >= MIN_AWAY {
                out.push(Opening { at: s, away_from });
            }
        }
        previous_end = Some(e);
    }
    out
}

/// The first opening of `view` after `now`.
pub fn next_opening(view: ScheduleView<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let from = if view.is_open(now) {
        view.next_close(now)?
    } else {
        now + Duration::milliseconds(1)
    };
    view.next_open(from)
}

/// The dedupe key of the digest for `org`'s opening at `at`.
pub fn dedupe_key(org: &str, at: DateTime<Utc>) -> String {
    format!("digest:{org}:{}", at.timestamp_millis())
}

/// A digest job the scheduler enqueued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub org: String,
    pub job_id: i64,
    pub opening: Opening,
}

fn to_schedule_override(o: &store::HoursOverride) -> Override {
    Override {
        start: o.starts_at,
        end: o.ends_at,
        kind: match o.kind {
            store::OverrideKind::Open => OverrideKind::Open,
            store::OverrideKind::Closed => OverrideKind::Closed,
        },
    }
}

/// Enqueues a digest at each opening. See the module docs.
pub struct Scheduler {
    store: Store,
    pipeline: Arc<Pipeline>,
    discord: DiscordConfig,
    clock: Arc<dyn Clock>,
}

impl Scheduler {
    pub fn new(
        store: Store,
        pipeline: Arc<Pipeline>,
        discord: DiscordConfig,
        clock: Arc<dyn Clock>,
    ) -> Scheduler {
        Scheduler {
            store,
            pipeline,
            discord,
            clock,
        }
    }

    /// The orgs that get digests: a schedule and a relay channel.
    fn orgs(&self) -> impl Iterator<Item = &str> {
        self.discord
            .orgs
            .iter()
            .filter(|(id, o)| o.relay_channel_id != 0 && self.pipeline.schedule(id).is_some())
            .map(|(id, _)| id.as_str())
    }

    /// The org's overrides that can shape openings from `from` on.
    async fn overrides(&self, org: &str, from: DateTime<Utc>) -> Result<Vec<Override>, StoreError> {
        Ok(self
            .store
            .active_overrides(org, from)
            .await?
            .iter()
            .map(to_schedule_override)
            .collect())
    }

    /// Enqueues the digest of every opening in the last
    /// [`MISSED_LOOKBACK`]; returns the jobs this call added (none for
    /// digests already enqueued).
    pub async fn tick(&self) -> Result<Vec<Enqueued>, StoreError> {
        let now = self.clock.now();
        let after = now - MISSED_LOOKBACK;
        let mut added = Vec::new();
        for org in self.orgs() {
            let Some(schedule) = self.pipeline.schedule(org) else {
                continue;
            };
            let overrides = self
                .overrides(org, after - Duration::days(WINDOW_DAYS))
                .await?;
            for opening in openings(schedule.with_overrides(&overrides), after, now) {
                let payload = json!({
                    "from": rfc3339(opening.away_from),
                    "to": rfc3339(opening.at),
                    "from_ms": opening.away_from.timestamp_millis(),
                    "to_ms": opening.at.timestamp_millis(),
                });
                let job =
                    NewJob::new(KIND, org, payload, now).dedupe_key(dedupe_key(org, opening.at));
                let (job_id, inserted) = self.store.enqueue(&job, now).await?;
                if inserted {
                    tracing::info!(org, job_id, opening = %rfc3339(opening.at), "handover digest queued");
                    added.push(Enqueued {
                        org: org.to_owned(),
                        job_id,
                        opening,
                    });
                }
            }
        }
        Ok(added)
    }

    /// When to tick next: the next opening of any org, at most [`POLL`]
    /// from now.
    pub async fn next_wake(&self) -> Result<DateTime<Utc>, StoreError> {
        let now = self.clock.now();
        let mut wake = now + Duration::from_std(POLL).unwrap_or(Duration::minutes(1));
        for org in self.orgs() {
            let Some(schedule) = self.pipeline.schedule(org) else {
                continue;
            };
            let overrides = self.overrides(org, now).await?;
            if let Some(t) = next_opening(schedule.with_overrides(&overrides), now) {
                wake = wake.min(t);
            }
        }
        Ok(wake)
    }

    /// Ticks until `stop` flips (see the module docs).
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "handover digest scheduling failed");
            }
            let wait = match self.next_wake().await {
                Ok(t) => (t - self.clock.now()).to_std().unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(error = %e, "handover digest scheduling failed");
                    POLL
                }
            };
            // Never spin: wake at least a moment after the opening itself.
            let wait = wait.max(std::time::Duration::from_millis(100));
            tokio::select! {
                _ = self.clock.sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// What one step of the digest worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestStep {
    /// Nothing due.
    Idle,
    /// Discord was unreachable; nothing is claimed before `until`.
    Waiting { until: DateTime<Utc> },
    /// The digest was posted (`message_id` as Discord answered it).
    Posted {
        org: String,
        channel_id: u64,
        message_id: Option<u64>,
    },
    /// A transient failure; the job is back in the queue from `at`.
    Retry { org: String, at: DateTime<Utc> },
    /// Given up (audited as `digest.failed`).
    Failed { org: String, reason: String },
}

/// Posts queued digests. See the module docs.
pub struct DigestWorker {
    store: Store,
    pipeline: Arc<Pipeline>,
    discord: DiscordConfig,
    rest: Rest,
    clock: Arc<dyn Clock>,
    pacer: Pacer,
    down_until: Option<DateTime<Utc>>,
    outages: u32,
}

impl DigestWorker {
    /// A worker posting with the bot `token` to `discord.api_base`.
    pub fn new(
        store: Store,
        pipeline: Arc<Pipeline>,
        discord: DiscordConfig,
        token: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<DigestWorker, reqwest::Error> {
        let rest = Rest::new(token, &discord.api_base)?;
        let pacer = Pacer::new(discord.pacing.messages, discord.pacing.per_seconds);
        Ok(DigestWorker {
            store,
            pipeline,
            discord,
            rest,
            clock,
            pacer,
            down_until: None,
            outages: 0,
        })
    }

    /// Claim and post one due digest.
    pub async fn step(&mut self) -> Result<DigestStep, StoreError> {
        let now = self.clock.now();
        if let Some(until) = self.down_until {
            if now < until {
                return Ok(DigestStep::Waiting { until });
            }
            self.down_until = None;
        }
        let Some(job) = self.store.claim_next(&[KIND], now, LEASE).await? else {
            return Ok(DigestStep::Idle);
        };
        let org = job.org.clone();
        let window = (
            job.payload["from_ms"]
                .as_i64()
                .and_then(DateTime::from_timestamp_millis),
            job.payload["to_ms"]
                .as_i64()
                .and_then(DateTime::from_timestamp_millis),
        );
        let (Some(from), Some(to)) = window else {
            return self.give_up(&job, "the job has no window").await;
        };
        let Some(home) = self.discord.orgs.get(&org).cloned() else {
            let reason = format!("org `{org}` has no Discord home in discord.toml");
            return self.give_up(&job, &reason).await;
        };
        if home.relay_channel_id == 0 {
            let reason = format!("org `{org}` has channel id 0 in discord.toml");
            return self.give_up(&job, &reason).await;
        }
        let Some(config) = self.pipeline.config.orgs.get(&org) else {
            let reason = format!("org `{org}` is not configured");
            return self.give_up(&job, &reason).await;
        };
        let mut facts = self.store.digest_facts(&org, from, to, LIST_LIMIT).await?;
        for p in facts.crisis.iter_mut().chain(facts.needs_action.iter_mut()) {
            p.text = self.pipeline.shown_text(&org, &p.text);
        }
        let body = digest_message(&DigestView {
            org_name: &config.name,
            tz: config.hours.timezone,
            facts: &facts,
            guild_id: Some(home.guild_id).filter(|g| *g != 0),
        });
        let channel = home.relay_channel_id;
        let route = Route::ChannelMessages {
            channel_id: ChannelId::new(channel),
        };
        let sent = self
            .rest
            .send(
                &*self.clock,
                &mut self.pacer,
                channel,
                route,
                LightMethod::Post,
                &body,
            )
            .await;
        let response = match sent {
            Ok(v) => v,
            Err(e) => return self.failed_send(&job, e).await,
        };
        let now = self.clock.now();
        let message = message_id(&response);
        let mut tx = self.store.begin().await?;
        tx.complete(job.id, now).await?;
        tx.append_audit(&audit(
            now,
            &org,
            "digest.posted",
            AuditOutcome::Ok,
            json!({
                "job_id": job.id,
                "channel_id": channel.to_string(),
                "message_id": message.map(|m| m.to_string()),
                "from": rfc3339(from),
                "to": rfc3339(to),
                "posts": facts.posts,
                "crisis": facts.crisis_total,
                "needs_action": facts.needs_action_total,
            }),
        ))
        .await?;
        tx.commit().await?;
        self.outages = 0;
        tracing::info!(org, channel, "handover digest posted");
        Ok(DigestStep::Posted {
            org,
            channel_id: channel,
            message_id: message,
        })
    }

    /// Put the job back after a failed request, or give up on it.
    async fn failed_send(&mut self, job: &Job, e: SendError) -> Result<DigestStep, StoreError> {
        let now = self.clock.now();
        let org = job.org.clone();
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
                tracing::warn!(org, error = %e.detail(), retry_at = %at, "handover digest put back");
                Ok(DigestStep::Retry { org, at })
            }
            SendError::Refused { .. } if job.attempts < job.max_attempts => {
                let at = now + refusal_backoff(job.attempts);
                self.store.fail(job.id, &e.detail(), Some(at), now).await?;
                tracing::warn!(org, error = %e.detail(), retry_at = %at, "handover digest refused");
                Ok(DigestStep::Retry { org, at })
            }
            SendError::Refused { .. } => self.give_up(job, &e.detail()).await,
        }
    }

    /// Mark the job dead and audit why, in one transaction.
    async fn give_up(&mut self, job: &Job, reason: &str) -> Result<DigestStep, StoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.fail(job.id, reason, None, now).await?;
        tx.append_audit(&audit(
            now,
            &job.org,
            "digest.failed",
            AuditOutcome::Failed(reason.to_owned()),
            json!({ "job_id": job.id, "window": job.payload.clone() }),
        ))
        .await?;
        tx.commit().await?;
        tracing::error!(org = %job.org, reason, "handover digest given up");
        Ok(DigestStep::Failed {
            org: job.org.clone(),
            reason: reason.to_owned(),
        })
    }

    /// Work until no digest job is left unfinished (waiting out outages
    /// and backoffs on the clock); returns how many were posted.
    pub async fn drain(&mut self) -> Result<u64, StoreError> {
        let mut posted = 0;
        loop {
            match self.step().await? {
                DigestStep::Idle => {
                    self.store.release_expired(self.clock.now()).await?;
                    if self.store.queue_depth(KIND).await? == 0 {
                        return Ok(posted);
                    }
                    self.clock.sleep(std::time::Duration::from_secs(1)).await;
                }
                DigestStep::Waiting { until } => {
                    let wait = (until - self.clock.now()).to_std().unwrap_or_default();
                    self.clock.sleep(wait).await;
                }
                DigestStep::Posted { .. } => posted += 1,
                DigestStep::Retry { .. } | DigestStep::Failed { .. } => {}
            }
        }
    }

    /// Post digests until `stop` flips, checking every few seconds when
    /// idle. A digest being posted finishes; queued ones stay queued.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        const IDLE: std::time::Duration = std::time::Duration::from_secs(5);
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(e) = self.store.release_expired(self.clock.now()).await {
                tracing::warn!(error = %e, "releasing expired digest jobs failed");
            }
            let wait = match self.step().await {
                Ok(DigestStep::Idle) => IDLE,
                Ok(DigestStep::Waiting { until }) => (until - self.clock.now())
                    .to_std()
                    .unwrap_or_default()
                    .min(IDLE),
                Err(e) => {
                    tracing::warn!(error = %e, "handover digest step failed");
                    IDLE
                }
                Ok(_) => continue,
            };
            tokio::select! {
                _ = self.clock.sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

fn audit(
    at: DateTime<Utc>,
    org: &str,
    action: &str,
    outcome: AuditOutcome,
    detail: Value,
) -> AuditEntry {
    AuditEntry {
        at,
        org: org.to_owned(),
        post_id: None,
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
    use crate::hours::{Calendar, HoursConfig, Nation, Schedule};
    use chrono::TimeZone;

    fn schedule() -> Schedule {
        let cfg: HoursConfig = toml::from_str(
            r#"
            timezone = "Europe/London"
            calendar = "england-and-wales"
            closed_on_bank_holidays = true
            [weekly]
            mon = ["09:00-17:30"]
            tue = ["09:00-17:30"]
            wed = ["09:00-17:30"]
            thu = ["09:00-17:30"]
            fri = ["09:00-17:30"]
            "#,
        )
        .expect("hours");
        Schedule::new(&cfg, Calendar::rules_only(Nation::EnglandAndWales)).expect("schedule")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn the_monday_opening_covers_the_weekend() {
        let s = schedule();
        // Monday 13 July 2026, 09:00 BST = 08:00 UTC.
        let mon = utc(2026, 7, 13, 8, 0);
        let fri_close = utc(2026, 7, 10, 16, 30);
        let expected = vec![Opening {
            at: mon,
            away_from: fri_close,
        }];
        assert_eq!(openings(s.view(), mon - Duration::hours(3), mon), expected);
        assert_eq!(
            openings(
                s.view(),
                mon - Duration::minutes(1),
                mon + Duration::hours(2)
            ),
            expected
        );
        // Not yet, and no longer (the window is half-open at `after`).
        assert!(openings(
            s.view(),
            mon - Duration::hours(3),
            mon - Duration::seconds(1)
        )
        .is_empty());
        assert!(openings(s.view(), mon, mon + Duration::hours(3)).is_empty());
        // During the day nothing else opens.
        assert!(openings(s.view(), mon + Duration::hours(1), mon + Duration::hours(8)).is_empty());
    }

    #[test]
    fn after_a_bank_holiday_the_window_starts_before_it() {
        let s = schedule();
        // Easter 2026: Good Friday 3 April and Easter Monday 6 April.
        // Thursday 2 April 17:30 BST → Tuesday 7 April 09:00 BST.
        let tue = utc(2026, 4, 7, 8, 0);
        assert_eq!(
            openings(s.view(), tue - Duration::hours(3), tue),
            vec![Opening {
                at: tue,
                away_from: utc(2026, 4, 2, 16, 30),
            }]
        );
        // Across the clocks going forward (Sunday 29 March): Friday 27 March
        // 17:30 GMT → Monday 30 March 09:00 BST.
        let mon = utc(2026, 3, 30, 8, 0);
        assert_eq!(
            openings(s.view(), mon - Duration::hours(1), mon),
            vec![Opening {
                at: mon,
                away_from: utc(2026, 3, 27, 17, 30),
            }]
        );
    }

    #[test]
    fn overrides_make_and_move_openings() {
        let s = schedule();
        let tue = |h, m| utc(2026, 7, 14, h, m);
        // Closed 10:00–13:00 for an incident: 13:00 is an opening after 3 h away.
        let closed = [Override::closed(tue(9, 0), tue(12, 0))];
        assert_eq!(
            openings(s.with_overrides(&closed), tue(11, 0), tue(12, 0)),
            vec![Opening {
                at: tue(12, 0),
                away_from: tue(9, 0),
            }]
        );
        // A close cleared after ten minutes earns no digest.
        let brief = [Override::closed(tue(9, 0), tue(9, 10))];
        assert!(openings(s.with_overrides(&brief), tue(8, 0), tue(10, 0)).is_empty());
        // An extension at night opens the team then.
        let late = [Override::open(tue(21, 0), tue(23, 0))];
        assert_eq!(
            openings(s.with_overrides(&late), tue(20, 0), tue(22, 0)),
            vec![Opening {
                at: tue(21, 0),
                away_from: tue(16, 30),
            }]
        );
    }

    #[test]
    fn next_opening_skips_the_current_period() {
        let s = schedule();
        // Friday 10 July 2026 12:00 BST, open: next opening is Monday.
        assert_eq!(
            next_opening(s.view(), utc(2026, 7, 10, 11, 0)),
            Some(utc(2026, 7, 13, 8, 0))
        );
        // Saturday: Monday too.
        assert_eq!(
            next_opening(s.view(), utc(2026, 7, 11, 11, 0)),
            Some(utc(2026, 7, 13, 8, 0))
        );
        // At the opening itself: the next day's.
        assert_eq!(
            next_opening(s.view(), utc(2026, 7, 13, 8, 0)),
            Some(utc(2026, 7, 14, 8, 0))
        );
    }

    #[test]
    fn dedupe_keys_name_the_org_and_the_instant() {
        assert_eq!(
            dedupe_key("nsft", utc(2026, 7, 13, 8, 0)),
            "digest:nsft:1783929600000"
        );
    }
}
