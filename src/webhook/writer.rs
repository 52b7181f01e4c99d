//! The group-commit writer: the one task that writes inbound posts.
//!
//! Handlers (and pollers) [`WriterHandle::submit`] a request's posts over a
//! bounded channel and wait. The writer takes every queued request up to
//! `batch_max`, runs each post through [`Pipeline::ingest`] inside ONE
//! transaction, commits, and only then answers every waiting submitter, so a
//! 200 always means "durably stored" while commits are shared. If the group
//! fails, it is rolled back and each request is retried alone in its own
//! transaction, so one bad request cannot fail the others; a request that
//! still fails is answered with an error (the handler says 503 and the
//! platform retries). A request is all-or-nothing: its posts, and the
//! optional poller cursor sent with them, commit together.
//!
//! The writer keeps each author's recent posts ([`History`]) for the
//! repetition check; a group's posts join it only after the group commits.
//!
//! Shutdown: when every [`WriterHandle`] is dropped the writer drains what is
//! queued, commits, and its task ends.

use crate::classify::repeat::History;
use crate::classify::RecentPost;
use crate::config::server::WriterConfig;
use crate::hours::Override;
use crate::model::InboundPost;
use crate::pipeline::{Batch, IngestError, Ingested, Pipeline};
use crate::store::{Store, StoreTx};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What became of a request's posts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub new: usize,
    pub duplicate: usize,
}

/// Why a request was not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("the server is shutting down; retry")]
    ShuttingDown,
    #[error("could not store the posts; retry later")]
    Store,
}

/// A poller's resume point, committed with the posts it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub source: String,
    pub value: String,
}

struct Request {
    posts: Vec<(InboundPost, Option<String>)>,
    cursor: Option<Cursor>,
    reply: oneshot::Sender<Result<Outcome, WriteError>>,
}

/// The submitting side; cheap to clone.
#[derive(Debug, Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("posts", &self.posts.len())
            .finish()
    }
}

impl WriterHandle {
    /// Stores `posts` (each with its raw JSON) and, with them, `cursor`;
    /// returns once committed.
    pub async fn submit(
        &self,
        posts: Vec<(InboundPost, Option<String>)>,
        cursor: Option<Cursor>,
    ) -> Result<Outcome, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request {
                posts,
                cursor,
                reply,
            })
            .await
            .map_err(|_| WriteError::ShuttingDown)?;
        rx.await.map_err(|_| WriteError::ShuttingDown)?
    }
}

/// Starts the writer on the current tokio runtime.
pub fn spawn(
    pipeline: Arc<Pipeline>,
    store: Store,
    config: WriterConfig,
) -> (WriterHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    let window = Duration::minutes(pipeline.config.classifier.repetition.window_minutes.max(1));
    let writer = Writer {
        pipeline,
        store,
        batch_max: config.batch_max.max(1),
        history: History::new(window, 100_000),
    };
    (WriterHandle { tx }, tokio::spawn(writer.run(rx)))
}

struct Writer {
    pipeline: Arc<Pipeline>,
    store: Store,
    batch_max: usize,
    history: History,
}

/// A group's effect on the history, applied after it commits.
type Pending = HashMap<String, Vec<RecentPost>>;

fn history_key(post: &InboundPost) -> String {
    format!("{}:{}", post.platform, post.author_id)
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(self.batch_max);
        while rx.recv_many(&mut batch, self.batch_max).await > 0 {
            self.write_group(std::mem::take(&mut batch)).await;
        }
        tracing::debug!("writer drained and stopped");
    }

    async fn write_group(&mut self, batch: Vec<Request>) {
        let now = Utc::now();
        let mut pending = Pending::new();
        match self.try_write(&batch, now, &mut pending).await {
            Ok(outcomes) => {
                self.apply(pending);
                for (req, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = req.reply.send(Ok(outcome));
                }
            }
            Err(e) if batch.len() == 1 => {
                tracing::error!(error = %e, "storing an inbound request failed");
                for req in batch {
                    let _ = req.reply.send(Err(WriteError::Store));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, requests = batch.len(), "group commit failed; retrying requests one by one");
                for req in batch {
                    let mut pending = Pending::new();
                    let one = std::slice::from_ref(&req);
                    let result = match self.try_write(one, now, &mut pending).await {
                        Ok(mut outcomes) => {
                            self.apply(pending);
                            Ok(outcomes.pop().unwrap_or_default())
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "storing an inbound request failed");
                            Err(WriteError::Store)
                        }
                    };
                    let _ = req.reply.send(result);
                }
            }
        }
    }

    fn apply(&mut self, pending: Pending) {
        for (key, posts) in pending {
            for p in posts {
                self.history.push(&key, &p.text, p.at);
            }
        }
    }

    /// Writes `batch` in one transaction; rolled back (dropped) on error.
    async fn try_write(
        &self,
        batch: &[Request],
        now: DateTime<Utc>,
        pending: &mut Pending,
    ) -> Result<Vec<Outcome>, IngestError> {
        let mut tx = self.store.begin().await?;
        let mut overrides: HashMap<String, Vec<Override>> = HashMap::new();
        let mut writes = Batch::default();
        let mut outcomes = Vec::with_capacity(batch.len());
        for req in batch {
            let mut outcome = Outcome::default();
            for (post, raw) in &req.posts {
                match self
                    .ingest_one(
                        &mut tx,
                        &mut writes,
                        post,
                        raw.as_deref(),
                        now,
                        &mut overrides,
                        pending,
                    )
                    .await?
                {
                    Ingested::New { .. } => outcome.new += 1,
                    Ingested::Duplicate { .. } => outcome.duplicate += 1,
                }
            }
            if let Some(c) = &req.cursor {
                tx.set_cursor(&c.source, &c.value, now).await?;
            }
            outcomes.push(outcome);
        }
        writes.flush(&mut tx, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    #[allow(clippy::too_many_arguments)]
    async fn ingest_one(
        &self,
        tx: &mut StoreTx,
        writes: &mut Batch,
        post: &InboundPost,
        raw: Option<&str>,
        now: DateTime<Utc>,
        overrides: &mut HashMap<String, Vec<Override>>,
        pending: &mut Pending,
    ) -> Result<Ingested, IngestError> {
        if !overrides.contains_key(&post.org) {
            let o = self.pipeline.overrides(tx, &post.org, now).await?;
            overrides.insert(post.org.clone(), o);
        }
        let org_overrides = overrides.get(&post.org).map_or(&[][..], Vec::as_slice);
        let key = history_key(post);
        let stored = self.history.recent(&key);
        let result = match pending.get(&key) {
            None => {
                self.pipeline
                    .ingest_into(tx, writes, post, raw, stored, org_overrides, now)
                    .await?
            }
            Some(more) => {
                let recent: Vec<RecentPost> = stored.iter().chain(more).cloned().collect();
                self.pipeline
                    .ingest_into(tx, writes, post, raw, &recent, org_overrides, now)
                    .await?
            }
        };
        if matches!(result, Ingested::New { .. }) {
            pending.entry(key).or_default().push(RecentPost {
                text: post.text.clone(),
                at: post.created_at,
            });
        }
        Ok(result)
    }
}
