//! Reading a report's [`Facts`] from the store (the only I/O of
//! [`crate::stats`]) and computing the report with the org's schedule.
//! The independent reads run concurrently on pooled connections (SQLite in
//! WAL mode serves readers in parallel).

use super::{bucket_ms, compute, Facts, Stats, TOP};
use crate::hours::{Override, OverrideKind};
use crate::pipeline::Pipeline;
use crate::store::{self, ReportScope, Store, StoreError};
use chrono::{DateTime, Utc};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    #[error("no trust called `{0}` is configured")]
    UnknownOrg(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads everything [`compute`] needs for `scope`; per-day buckets are
/// `bucket_ms` long (see [`bucket_ms`]).
pub async fn gather(
    store: &Store,
    scope: &ReportScope,
    bucket_ms: i64,
) -> Result<Facts, StoreError> {
    let (inbound, flagged, actioned, timings, rules, actions, replies, backlog, offenders) = tokio::try_join!(
        store.inbound_by_platform(scope),
        store.flagged_buckets(scope, bucket_ms),
        store.actioned_buckets(scope, bucket_ms),
        store.relay_timings(scope),
        store.rule_states(scope),
        store.human_actions(scope),
        store.reply_counts(scope),
        store.backlog(&scope.org, scope.platform),
        store.offenders(scope, TOP as u32),
    )?;
    let mut authors = std::collections::HashMap::new();
    for o in &offenders {
        if let Some(a) = store.get_author(o.platform, &o.author_id).await? {
            authors.insert((o.platform, o.author_id.clone()), a);
        }
    }
    Ok(Facts {
        inbound,
        flagged,
        actioned,
        timings,
        rules,
        actions,
        replies,
        backlog,
        offenders,
        authors,
    })
}

/// The org's hours overrides touching `[from, to)`, as the schedule takes them.
pub async fn overrides(
    store: &Store,
    org: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Override>, StoreError> {
    Ok(store
        .overrides_between(org, from, to)
        .await?
        .into_iter()
        .map(|o| Override {
            start: o.starts_at,
            end: o.ends_at,
            kind: match o.kind {
                store::OverrideKind::Open => OverrideKind::Open,
                store::OverrideKind::Closed => OverrideKind::Closed,
            },
        })
        .collect())
}

/// Gathers and computes the report for `scope` as of `now`.
pub async fn report(
    store: &Store,
    pipeline: &Pipeline,
    scope: &ReportScope,
    now: DateTime<Utc>,
) -> Result<Stats, GatherError> {
    let schedule = pipeline
        .schedule(&scope.org)
        .ok_or_else(|| GatherError::UnknownOrg(scope.org.clone()))?;
    let target = pipeline
        .config
        .orgs
        .get(&scope.org)
        .and_then(|o| o.response_target_hours);
    let bucket = bucket_ms(schedule.timezone(), scope.from, scope.to);
    let (facts, overrides) = tokio::try_join!(
        gather(store, scope, bucket),
        overrides(store, &scope.org, scope.from, now.max(scope.to)),
    )?;
    let view = schedule.with_overrides(&overrides);
    Ok(compute(scope, &facts, &view, target, now))
}

/// The post a `/audit` reference names, if Signpost has it.
pub async fn find_post(
    store: &Store,
    reference: &super::timeline::PostRef,
) -> Result<Option<store::StoredPost>, StoreError> {
    use super::timeline::PostRef;
    match reference {
        PostRef::Id(id) => store.get_post(*id).await,
        PostRef::External(platform, id) => store.find_post(*platform, id).await,
        PostRef::Url(url, from_url) => match store.find_post_by_url(url).await? {
            Some(p) => Ok(Some(p)),
            None => match from_url {
                Some((platform, id)) => store.find_post(*platform, id).await,
                None => Ok(None),
            },
        },
    }
}

/// Everything recorded about `post`, for its timeline.
pub async fn post_timeline(
    store: &Store,
    post: store::StoredPost,
) -> Result<super::timeline::PostTimeline, StoreError> {
    let filter = store::AuditFilter {
        post_id: Some(post.id),
        limit: Some(500),
        ..Default::default()
    };
    let (classification, relay, audit, replies, evidence) = tokio::try_join!(
        store.get_classification(post.id),
        store.get_relay(post.id),
        store.audit_rows(&filter),
        store.auto_replies_for_post(post.id),
        store.evidence_for_post(post.id),
    )?;
    Ok(super::timeline::PostTimeline {
        post,
        classification,
        relay,
        audit,
        replies,
        evidence,
    })
}

/// How many of an author's latest posts `/history` shows.
pub const HISTORY_POSTS: u32 = 15;

/// The records of everyone whose handle is `handle` (with or without a
/// leading `@`), with their latest posts to `org`; authors with no posts to
/// `org` are left out.
pub async fn author_history(
    store: &Store,
    pipeline: &Pipeline,
    org: &str,
    handle: &str,
) -> Result<Vec<super::timeline::AuthorRecord>, StoreError> {
    let bare = handle.trim().trim_start_matches('@');
    let mut authors = store.authors_by_handle(bare).await?;
    if authors.is_empty() {
        authors = store.authors_by_handle(&format!("@{bare}")).await?;
    }
    let mut out = Vec::new();
    for author in authors {
        let total_posts = store
            .count_posts_by_author(author.platform, &author.author_id, org)
            .await?;
        if total_posts == 0 {
            continue;
        }
        let mut posts = Vec::new();
        for post in store
            .posts_by_author(author.platform, &author.author_id, org, HISTORY_POSTS)
            .await?
        {
            let filter = store::AuditFilter {
                post_id: Some(post.id),
                limit: Some(100),
                ..Default::default()
            };
            let (classification, relay, audit) = tokio::try_join!(
                store.get_classification(post.id),
                store.get_relay(post.id),
                store.audit_rows(&filter),
            )?;
            posts.push(super::timeline::HistoryPost {
                text: pipeline.shown_text(org, &post.post.text),
                post,
                classification,
                relay,
                actions: audit
                    .into_iter()
                    .filter(|r| r.actor_id != crate::pipeline::SYSTEM_ACTOR.0)
                    .collect(),
            });
        }
        out.push(super::timeline::AuthorRecord {
            author,
            total_posts,
            posts,
        });
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.total_posts));
    Ok(out)
}
