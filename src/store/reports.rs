//! Reads behind the supervisors' reports: `/stats`, `/audit`, `/history`,
//! `/export` and `signpost stats` / `signpost export`. Nothing here writes.
//!
//! Counts are grouped in SQL and come back small. Where a count has an
//! hourly rollup (migration `0006_rollups`: inbound, flagged and actioned
//! posts, relay states by rule, automatic replies, people's actions), a
//! window is split: its whole hours are summed from `rollups`, and only the
//! partial hours at its edges are counted from the raw tables, so a 30-day
//! report reads a few thousand rollup rows instead of every post. Per-day
//! buckets come back per hour, because days are the org's local days, which
//! only the pure [`crate::stats`] core knows; in-window timings come back
//! one relay each ([`relay_timings`]) for the same reason. Indexes for the
//! raw reads are in migration `0005_reports`. [`rollup_drift`] recounts the
//! rollups from the raw tables, to prove the triggers that keep them.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::audit::{audit_from_row, AuditRow, AUDIT_COLUMNS};
use super::error::Result;
use super::posts::{post_from_row, StoredPost, POST_COLUMNS};
use super::relays::RelayState;
use super::util::{get, get_opt_time, get_time, ms, parse_json, parse_name};
use super::{Author, Backend};
use crate::category::Category;
use crate::model::Platform;

/// The SQL predicate for rows a person wrote (not Signpost itself). It
/// matches the partial index `actions_org_human` literally.
pub const HUMAN: &str = "actor_id <> 'signpost'";

/// What a report covers: one org, optionally one platform, and the
/// half-open window `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportScope {
    pub org: String,
    pub platform: Option<Platform>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Posts with the same categories in one time bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryBucket {
    /// The bucket's first instant (a multiple of the bucket size since the epoch).
    pub start: DateTime<Utc>,
    pub categories: Vec<Category>,
    pub count: u64,
}

/// A relayed post's arrival and where its relay stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayTiming {
    pub received_at: DateTime<Utc>,
    pub state: RelayState,
    /// When the relay left `open` (the team's first action or dismissal).
    pub state_at: Option<DateTime<Utc>>,
}

/// Relayed posts with the same rules and relay state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleState {
    pub rules: Vec<String>,
    pub state: RelayState,
    pub count: u64,
}

/// An author with posts flagged for removable categories in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffenderRow {
    pub platform: Platform,
    pub author_id: String,
    pub handle: String,
    pub flagged_posts: u64,
}

/// People's audited actions in the window, grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionCount {
    pub action: String,
    pub actor_id: String,
    pub actor_name: String,
    pub failed: bool,
    pub count: u64,
}

/// Rows of `auto_replies` in the window, grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyCount {
    pub template: String,
    pub status: String,
    pub reason: Option<String>,
    pub count: u64,
}

/// Relays still waiting for the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    pub count: u64,
    pub oldest: Option<DateTime<Utc>>,
}

/// Which audit rows an export covers: `org`'s rows with `from <= at < to`,
/// only people's rows when `human_only`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportQuery {
    pub org: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub human_only: bool,
}

/// An audit row for export, with the post it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub row: AuditRow,
    pub platform: Option<String>,
    pub author_handle: Option<String>,
    pub post_text: Option<String>,
}

/// Binds `$1 = org, $2 = from, $3 = to` and optionally `$4 = platform`.
fn scoped<'q>(
    sql: &'q str,
    scope: &'q ReportScope,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let q = sqlx::query(sql)
        .bind(scope.org.as_str())
        .bind(ms(scope.from))
        .bind(ms(scope.to));
    match scope.platform {
        Some(p) => q.bind(p.as_str()),
        None => q,
    }
}

fn count(row: &AnyRow, column: &'static str) -> Result<u64> {
    let n: i64 = get(row, column)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

const HOUR_MS: i64 = 3_600_000;

/// How a window is read: whole hours `[first, last)` (hour numbers since
/// the epoch) from `rollups`, and the partial hours at its edges from the
/// raw tables.
struct Split {
    hours: Option<(i64, i64)>,
    edges: Vec<ReportScope>,
}

impl Split {
    /// The whole window from the raw tables.
    fn raw(scope: &ReportScope) -> Split {
        Split {
            hours: None,
            edges: vec![scope.clone()],
        }
    }

    fn of(scope: &ReportScope) -> Split {
        let (from, to) = (ms(scope.from), ms(scope.to));
        // SQL's integer division truncates; the rollups' hours match
        // Euclidean hours only from the epoch on.
        if from < 0 {
            return Split::raw(scope);
        }
        let first = from / HOUR_MS + i64::from(from % HOUR_MS != 0);
        let last = to.div_euclid(HOUR_MS);
        if first >= last {
            return Split::raw(scope);
        }
        let part = |a: i64, b: i64| {
            Ok::<_, super::StoreError>(ReportScope {
                from: super::util::time_from_ms("report window", a)?,
                to: super::util::time_from_ms("report window", b)?,
                ..scope.clone()
            })
        };
        let mut edges = Vec::new();
        if from < first * HOUR_MS {
            if let Ok(edge) = part(from, first * HOUR_MS) {
                edges.push(edge);
            } else {
                return Split::raw(scope);
            }
        }
        if last * HOUR_MS < to {
            if let Ok(edge) = part(last * HOUR_MS, to) {
                edges.push(edge);
            } else {
                return Split::raw(scope);
            }
        }
        Split {
            hours: Some((first, last)),
            edges,
        }
    }
}

/// Sums `rollups` of `kind` over whole `hours` in the scope's org (and
/// platform), grouped by `group`; `select` names the grouped columns and the
/// count comes back as `n`. Groups that net to zero are left out.
async fn rolled(
    conn: &mut AnyConnection,
    scope: &ReportScope,
    kind: &str,
    (first, last): (i64, i64),
    select: &str,
    group: &str,
) -> Result<Vec<AnyRow>> {
    let sql = format!(
        "SELECT {select}, CAST(SUM(n) AS BIGINT) AS n FROM rollups \
         WHERE org = $1 AND kind = '{kind}' AND hour >= $2 AND hour < $3{} \
         GROUP BY {group} HAVING SUM(n) <> 0",
        platform_filter(scope, "platform")
    );
    let mut q = sqlx::query(&sql)
        .bind(scope.org.as_str())
        .bind(first)
        .bind(last);
    if let Some(p) = scope.platform {
        q = q.bind(p.as_str());
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

/// Adds up rows with equal keys (a window's rollup part and its edges).
fn merge<K: Ord, V>(rows: Vec<V>, key: impl Fn(&V) -> K, add: impl Fn(&mut V, V)) -> Vec<V> {
    let mut out: std::collections::BTreeMap<K, V> = std::collections::BTreeMap::new();
    for row in rows {
        match out.entry(key(&row)) {
            std::collections::btree_map::Entry::Occupied(mut e) => add(e.get_mut(), row),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(row);
            }
        }
    }
    out.into_values().collect()
}

pub(crate) async fn inbound_by_platform(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<(Platform, u64)>> {
    let split = Split::of(scope);
    let mut out = Vec::new();
    if let Some(hours) = split.hours {
        for row in rolled(conn, scope, "inbound", hours, "platform", "platform").await? {
            let p: String = get(&row, "platform")?;
            out.push((parse_name("posts.platform", &p)?, count(&row, "n")?));
        }
    }
    for edge in &split.edges {
        out.extend(inbound_raw(conn, backend, edge).await?);
    }
    Ok(merge(out, |r| r.0, |a, b| a.1 += b.1))
}

async fn inbound_raw(
    conn: &mut AnyConnection,
    _backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<(Platform, u64)>> {
    let platform = if scope.platform.is_some() {
        " AND platform = $4"
    } else {
        ""
    };
    let sql = format!(
        "SELECT platform, COUNT(*) AS n FROM posts \
         WHERE org = $1 AND received_at >= $2 AND received_at < $3{platform} \
         GROUP BY platform ORDER BY platform"
    );
    scoped(&sql, scope)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            let p: String = get(row, "platform")?;
            Ok((parse_name("posts.platform", &p)?, count(row, "n")?))
        })
        .collect()
}

fn platform_filter(scope: &ReportScope, column: &str) -> String {
    if scope.platform.is_some() {
        format!(" AND {column} = $4")
    } else {
        String::new()
    }
}

fn buckets(rows: &[AnyRow], bucket_ms: i64) -> Result<Vec<CategoryBucket>> {
    rows.iter()
        .map(|row| {
            let bucket: i64 = get(row, "bucket")?;
            let categories: String = get(row, "categories")?;
            Ok(CategoryBucket {
                start: super::util::time_from_ms("bucket", bucket * bucket_ms)?,
                categories: parse_json("classifications.categories", &categories)?,
                count: count(row, "n")?,
            })
        })
        .collect()
}

/// Which per-bucket count [`bucketed`] reads.
#[derive(Clone, Copy)]
enum Bucketed {
    Flagged,
    Actioned,
}

/// Flagged or actioned buckets: rollups for whole hours when buckets are
/// whole hours, the raw tables for the rest.
async fn bucketed(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &ReportScope,
    bucket_ms: i64,
    which: Bucketed,
) -> Result<Vec<CategoryBucket>> {
    let kind = match which {
        Bucketed::Flagged => "flagged",
        Bucketed::Actioned => "actioned",
    };
    let bucket_ms = bucket_ms.max(1);
    let split = if bucket_ms % HOUR_MS == 0 {
        Split::of(scope)
    } else {
        Split::raw(scope)
    };
    let mut out = Vec::new();
    if let Some(hours) = split.hours {
        let per = bucket_ms / HOUR_MS;
        let rows = rolled(
            conn,
            scope,
            kind,
            hours,
            &format!("hour / {per} AS bucket, k1 AS categories"),
            &format!("hour / {per}, k1"),
        )
        .await?;
        out.extend(buckets(&rows, bucket_ms)?);
    }
    for edge in &split.edges {
        out.extend(match which {
            Bucketed::Flagged => flagged_raw(conn, backend, edge, bucket_ms).await?,
            Bucketed::Actioned => actioned_raw(conn, backend, edge, bucket_ms).await?,
        });
    }
    Ok(merge(
        out,
        |b| (b.start, b.categories.clone()),
        |a, b| a.count += b.count,
    ))
}

/// Posts received in the scope with at least one category, counted by
/// arrival bucket (`bucket_ms` long) and category set.
pub(crate) async fn flagged_buckets(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &ReportScope,
    bucket_ms: i64,
) -> Result<Vec<CategoryBucket>> {
    bucketed(conn, backend, scope, bucket_ms, Bucketed::Flagged).await
}

async fn flagged_raw(
    conn: &mut AnyConnection,
    _backend: Backend,
    scope: &ReportScope,
    bucket_ms: i64,
) -> Result<Vec<CategoryBucket>> {
    let sql = format!(
        "SELECT p.received_at / {bucket_ms} AS bucket, c.categories, COUNT(*) AS n \
         FROM posts p JOIN classifications c ON c.post_id = p.id \
         WHERE p.org = $1 AND p.received_at >= $2 AND p.received_at < $3 \
           AND c.categories <> '[]'{} \
         GROUP BY p.received_at / {bucket_ms}, c.categories",
        platform_filter(scope, "p.platform")
    );
    let rows = scoped(&sql, scope).fetch_all(&mut *conn).await?;
    buckets(&rows, bucket_ms)
}

/// Relays the team acted on (not dismissed) within the scope's window,
/// counted by the bucket of the action and the post's category set.
pub(crate) async fn actioned_buckets(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &ReportScope,
    bucket_ms: i64,
) -> Result<Vec<CategoryBucket>> {
    bucketed(conn, backend, scope, bucket_ms, Bucketed::Actioned).await
}

async fn actioned_raw(
    conn: &mut AnyConnection,
    _backend: Backend,
    scope: &ReportScope,
    bucket_ms: i64,
) -> Result<Vec<CategoryBucket>> {
    let join = if scope.platform.is_some() {
        " JOIN posts p ON p.id = r.post_id"
    } else {
        ""
    };
    let sql = format!(
        "SELECT r.state_at / {bucket_ms} AS bucket, c.categories, COUNT(*) AS n FROM relays r \
         JOIN classifications c ON c.post_id = r.post_id{join} \
         WHERE r.org = $1 AND r.state_at >= $2 AND r.state_at < $3 \
           AND r.state = 'actioned'{} \
         GROUP BY r.state_at / {bucket_ms}, c.categories",
        platform_filter(scope, "p.platform")
    );
    let rows = scoped(&sql, scope).fetch_all(&mut *conn).await?;
    buckets(&rows, bucket_ms)
}

/// Arrival and relay state of every post received in the scope that was relayed.
///
/// A 30-day window can hold tens of thousands of relays, and the drivers'
/// per-row cost dwarfs SQLite's own, so the rows come back as one text
/// aggregate (`received,state,state_at;…`) and are parsed here.
pub(crate) async fn relay_timings(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<RelayTiming>> {
    let item = "CAST(r.received_at AS TEXT) || ',' || \
         CASE r.state WHEN 'pending' THEN '0' WHEN 'open' THEN '1' \
              WHEN 'actioned' THEN '2' ELSE '3' END || ',' || \
         COALESCE(CAST(r.state_at AS TEXT), '')";
    let agg = match backend {
        Backend::Sqlite => format!("group_concat({item}, ';')"),
        Backend::Postgres => format!("string_agg({item}, ';')"),
    };
    // Relays carry their post's arrival time (migration 0007), so without
    // a platform filter this reads one covering index and no posts.
    let join = if scope.platform.is_some() {
        " JOIN posts p ON p.id = r.post_id"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {agg} AS t FROM relays r{join} \
         WHERE r.org = $1 AND r.received_at >= $2 AND r.received_at < $3{}",
        platform_filter(scope, "p.platform")
    );
    let row = scoped(&sql, scope).fetch_one(&mut *conn).await?;
    let text: Option<String> = get(&row, "t")?;
    let bad = || super::StoreError::Invalid("relay timing aggregate is malformed".to_owned());
    let mut out = Vec::new();
    for item in text
        .as_deref()
        .unwrap_or("")
        .split(';')
        .filter(|i| !i.is_empty())
    {
        let mut parts = item.split(',');
        let received: i64 = parts.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let state = match parts.next() {
            Some("0") => RelayState::Pending,
            Some("1") => RelayState::Open,
            Some("2") => RelayState::Actioned,
            Some("3") => RelayState::Dismissed,
            _ => return Err(bad()),
        };
        let state_at = match parts.next() {
            Some("") | None => None,
            Some(v) => Some(super::util::time_from_ms(
                "relays.state_at",
                v.parse().map_err(|_| bad())?,
            )?),
        };
        out.push(RelayTiming {
            received_at: super::util::time_from_ms("posts.received_at", received)?,
            state,
            state_at,
        });
    }
    Ok(out)
}

/// Relayed posts received in the scope, by rule set and relay state.
pub(crate) async fn rule_states(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<RuleState>> {
    let split = Split::of(scope);
    let mut out = Vec::new();
    if let Some(hours) = split.hours {
        let rows = rolled(
            conn,
            scope,
            "rule_state",
            hours,
            "k1 AS rules, k2 AS state",
            "k1, k2",
        )
        .await?;
        out.extend(rule_states_from(&rows)?);
    }
    for edge in &split.edges {
        out.extend(rule_states_raw(conn, backend, edge).await?);
    }
    Ok(merge(
        out,
        |r| (r.rules.clone(), r.state.as_str()),
        |a, b| a.count += b.count,
    ))
}

fn rule_states_from(rows: &[AnyRow]) -> Result<Vec<RuleState>> {
    rows.iter()
        .map(|row| {
            let rules: String = get(row, "rules")?;
            let state: String = get(row, "state")?;
            Ok(RuleState {
                rules: parse_json("classifications.rules", &rules)?,
                state: RelayState::from_column(&state)?,
                count: count(row, "n")?,
            })
        })
        .collect()
}

async fn rule_states_raw(
    conn: &mut AnyConnection,
    _backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<RuleState>> {
    let sql = format!(
        "SELECT c.rules, r.state, COUNT(*) AS n \
         FROM posts p JOIN relays r ON r.post_id = p.id \
         JOIN classifications c ON c.post_id = p.id \
         WHERE p.org = $1 AND p.received_at >= $2 AND p.received_at < $3{} \
         GROUP BY c.rules, r.state",
        platform_filter(scope, "p.platform")
    );
    rule_states_from(&scoped(&sql, scope).fetch_all(&mut *conn).await?)
}

/// Authors with at least two posts received in the scope that were
/// flagged for removable categories (`classifications.flagged`), busiest
/// first, at most `limit`.
pub(crate) async fn offenders(
    conn: &mut AnyConnection,
    _backend: Backend,
    scope: &ReportScope,
    limit: u32,
) -> Result<Vec<OffenderRow>> {
    let sql = format!(
        "SELECT p.platform, p.author_id, MAX(p.author_handle) AS handle, COUNT(*) AS n \
         FROM posts p JOIN classifications c ON c.post_id = p.id \
         WHERE p.org = $1 AND p.received_at >= $2 AND p.received_at < $3 \
           AND c.flagged = 1{} \
         GROUP BY p.platform, p.author_id HAVING COUNT(*) >= 2 \
         ORDER BY COUNT(*) DESC, p.platform, p.author_id LIMIT {limit}",
        platform_filter(scope, "p.platform")
    );
    scoped(&sql, scope)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            let p: String = get(row, "platform")?;
            Ok(OffenderRow {
                platform: parse_name("posts.platform", &p)?,
                author_id: get(row, "author_id")?,
                handle: get(row, "handle")?,
                flagged_posts: count(row, "n")?,
            })
        })
        .collect()
}

pub(crate) async fn human_actions(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<ActionCount>> {
    let split = Split::of(scope);
    let mut out = Vec::new();
    if let Some(hours) = split.hours {
        let rows = rolled(
            conn,
            scope,
            "action",
            hours,
            "k1 AS action, k2 AS actor_id, MAX(k4) AS actor_name, CAST(k3 AS BIGINT) AS failed",
            "k1, k2, k3",
        )
        .await?;
        out.extend(action_counts_from(&rows)?);
    }
    for edge in &split.edges {
        out.extend(human_actions_raw(conn, backend, edge).await?);
    }
    Ok(merge(
        out,
        |a| (a.action.clone(), a.actor_id.clone(), a.failed),
        |a, b| {
            a.count += b.count;
            if b.actor_name > a.actor_name {
                a.actor_name = b.actor_name;
            }
        },
    ))
}

fn action_counts_from(rows: &[AnyRow]) -> Result<Vec<ActionCount>> {
    rows.iter()
        .map(|row| {
            let failed: i64 = get(row, "failed")?;
            Ok(ActionCount {
                action: get(row, "action")?,
                actor_id: get(row, "actor_id")?,
                actor_name: get(row, "actor_name")?,
                failed: failed != 0,
                count: count(row, "n")?,
            })
        })
        .collect()
}

async fn human_actions_raw(
    conn: &mut AnyConnection,
    _backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<ActionCount>> {
    let (join, platform) = if scope.platform.is_some() {
        (" JOIN posts p ON p.id = a.post_id", " AND p.platform = $4")
    } else {
        ("", "")
    };
    let sql = format!(
        "SELECT a.action, a.actor_id, MAX(a.actor_name) AS actor_name, \
                CAST(CASE WHEN a.outcome LIKE 'failed%' THEN 1 ELSE 0 END AS BIGINT) AS failed, \
                COUNT(*) AS n \
         FROM actions a{join} \
         WHERE a.org = $1 AND a.at >= $2 AND a.at < $3 AND a.{HUMAN}{platform} \
         GROUP BY a.action, a.actor_id, \
                  CAST(CASE WHEN a.outcome LIKE 'failed%' THEN 1 ELSE 0 END AS BIGINT)"
    );
    action_counts_from(&scoped(&sql, scope).fetch_all(&mut *conn).await?)
}

pub(crate) async fn reply_counts(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<ReplyCount>> {
    let split = Split::of(scope);
    let mut out = Vec::new();
    if let Some(hours) = split.hours {
        let rows = rolled(
            conn,
            scope,
            "reply",
            hours,
            "k1 AS template, k2 AS status, k3 AS reason",
            "k1, k2, k3",
        )
        .await?;
        for row in &rows {
            let reason: String = get(row, "reason")?;
            out.push(ReplyCount {
                template: get(row, "template")?,
                status: get(row, "status")?,
                // The rollups keep a missing reason as ''.
                reason: Some(reason).filter(|r| !r.is_empty()),
                count: count(row, "n")?,
            });
        }
    }
    for edge in &split.edges {
        out.extend(reply_counts_raw(conn, backend, edge).await?);
    }
    Ok(merge(
        out,
        |r| {
            (
                r.template.clone(),
                r.status.clone(),
                r.reason.clone().filter(|r| !r.is_empty()),
            )
        },
        |a, b| a.count += b.count,
    ))
}

async fn reply_counts_raw(
    conn: &mut AnyConnection,
    _backend: Backend,
    scope: &ReportScope,
) -> Result<Vec<ReplyCount>> {
    let platform = if scope.platform.is_some() {
        " AND platform = $4"
    } else {
        ""
    };
    let sql = format!(
        "SELECT template, status, reason, COUNT(*) AS n FROM auto_replies \
         WHERE org = $1 AND at >= $2 AND at < $3{platform} \
         GROUP BY template, status, reason"
    );
    scoped(&sql, scope)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(ReplyCount {
                template: get(row, "template")?,
                status: get(row, "status")?,
                reason: get(row, "reason")?,
                count: count(row, "n")?,
            })
        })
        .collect()
}

pub(crate) async fn backlog(
    conn: &mut AnyConnection,
    _backend: Backend,
    org: &str,
    platform: Option<Platform>,
) -> Result<Backlog> {
    let (join, filter) = if platform.is_some() {
        (" JOIN posts p ON p.id = r.post_id", " AND p.platform = $2")
    } else {
        ("", "")
    };
    let sql = format!(
        "SELECT COUNT(*) AS n, MIN(r.created_at) AS oldest FROM relays r{join} \
         WHERE r.org = $1 AND r.state IN ('pending', 'open'){filter}"
    );
    let mut q = sqlx::query(&sql).bind(org);
    if let Some(p) = platform {
        q = q.bind(p.as_str());
    }
    let row = q.fetch_one(&mut *conn).await?;
    Ok(Backlog {
        count: count(&row, "n")?,
        oldest: get_opt_time(&row, "oldest")?,
    })
}

pub(crate) async fn find_post_by_url(
    conn: &mut AnyConnection,
    _backend: Backend,
    url: &str,
) -> Result<Option<StoredPost>> {
    let sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE url = $1 ORDER BY id LIMIT 1");
    sqlx::query(&sql)
        .bind(url)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| post_from_row(&row))
        .transpose()
}

fn author_from_row(row: &AnyRow) -> Result<Author> {
    let platform: String = get(row, "platform")?;
    let strikes: i64 = get(row, "strikes")?;
    let blocked: i64 = get(row, "blocked")?;
    Ok(Author {
        platform: parse_name("authors.platform", &platform)?,
        author_id: get(row, "author_id")?,
        handle: get(row, "handle")?,
        strikes: u32::try_from(strikes).unwrap_or(u32::MAX),
        blocked: blocked != 0,
        blocked_at: get_opt_time(row, "blocked_at")?,
        first_seen: get_time(row, "first_seen")?,
        last_seen: get_time(row, "last_seen")?,
    })
}

pub(crate) async fn authors_by_handle(
    conn: &mut AnyConnection,
    _backend: Backend,
    handle: &str,
) -> Result<Vec<Author>> {
    sqlx::query(
        "SELECT platform, author_id, handle, strikes, blocked, blocked_at, first_seen, last_seen \
         FROM authors WHERE handle = $1 ORDER BY platform, author_id LIMIT 25",
    )
    .bind(handle)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(author_from_row)
    .collect()
}

pub(crate) async fn handles_starting(
    conn: &mut AnyConnection,
    _backend: Backend,
    prefix: &str,
    limit: u32,
) -> Result<Vec<String>> {
    // A range on the index: every handle that starts with `prefix`.
    let upper = format!("{prefix}\u{10FFFF}");
    sqlx::query(
        "SELECT DISTINCT handle FROM authors WHERE handle >= $1 AND handle < $2 \
         ORDER BY handle LIMIT $3",
    )
    .bind(prefix)
    .bind(upper)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| get(row, "handle"))
    .collect()
}

pub(crate) async fn posts_by_author(
    conn: &mut AnyConnection,
    _backend: Backend,
    platform: Platform,
    author_id: &str,
    org: &str,
    limit: u32,
) -> Result<Vec<StoredPost>> {
    let sql = format!(
        "SELECT {POST_COLUMNS} FROM posts WHERE platform = $1 AND author_id = $2 AND org = $3 \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    sqlx::query(&sql)
        .bind(platform.as_str())
        .bind(author_id)
        .bind(org)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(post_from_row)
        .collect()
}

pub(crate) async fn count_posts_by_author(
    conn: &mut AnyConnection,
    _backend: Backend,
    platform: Platform,
    author_id: &str,
    org: &str,
) -> Result<u64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM posts WHERE platform = $1 AND author_id = $2 AND org = $3",
    )
    .bind(platform.as_str())
    .bind(author_id)
    .bind(org)
    .fetch_one(&mut *conn)
    .await?;
    count(&row, "n")
}

/// One page of the audit log for export, in id order: the rows `q` covers
/// with `id > after_id`, at most `limit`.
pub(crate) async fn export_page(
    conn: &mut AnyConnection,
    _backend: Backend,
    q: &ExportQuery,
    after_id: i64,
    limit: u32,
) -> Result<Vec<ExportRow>> {
    let columns = AUDIT_COLUMNS
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let human = if q.human_only {
        format!(" AND a.{HUMAN}")
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {columns}, p.platform AS post_platform, p.author_handle AS post_author, \
                p.text AS post_text \
         FROM actions a LEFT JOIN posts p ON p.id = a.post_id \
         WHERE a.org = $1 AND a.at >= $2 AND a.at < $3 AND a.id > $4{human} \
         ORDER BY a.id LIMIT $5"
    );
    sqlx::query(&sql)
        .bind(q.org.as_str())
        .bind(ms(q.from))
        .bind(ms(q.to))
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(ExportRow {
                row: audit_from_row(row)?,
                platform: get(row, "post_platform")?,
                author_handle: get(row, "post_author")?,
                post_text: get(row, "post_text")?,
            })
        })
        .collect()
}

/// The lowest audit id at or after `from` (a starting point for export
/// paging), or `None` if there is none.
pub(crate) async fn first_audit_id_from(
    conn: &mut AnyConnection,
    _backend: Backend,
    from: DateTime<Utc>,
) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT MIN(id) AS id FROM actions WHERE at >= $1")
        .bind(ms(from))
        .fetch_one(&mut *conn)
        .await?;
    get(&row, "id")
}

/// A count on which `rollups` and a recount from the raw tables disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupDrift {
    /// `rollups` or `recount`: the side holding this row that the other lacks.
    pub side: String,
    pub org: String,
    pub kind: String,
    pub hour: i64,
    pub platform: String,
    pub keys: [String; 4],
    pub n: i64,
}

/// Every rollup row that a recount from the raw tables does not reproduce,
/// and every recounted row the rollups lack; empty when they agree.
/// Reads every table in full: for tests and checks, not for reports.
pub(crate) async fn rollup_drift(
    conn: &mut AnyConnection,
    _backend: Backend,
) -> Result<Vec<RollupDrift>> {
    const COLUMNS: &str = "org, kind, hour, platform, k1, k2, k3, k4, n";
    let sql = format!(
        "SELECT 'recount' AS side, {COLUMNS} FROM \
           (SELECT {COLUMNS} FROM rollup_recount \
            EXCEPT SELECT {COLUMNS} FROM rollups WHERE n <> 0) a \
         UNION ALL \
         SELECT 'rollups' AS side, {COLUMNS} FROM \
           (SELECT {COLUMNS} FROM rollups WHERE n <> 0 \
            EXCEPT SELECT {COLUMNS} FROM rollup_recount) b \
         ORDER BY kind, hour, side"
    );
    sqlx::query(&sql)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(RollupDrift {
                side: get(row, "side")?,
                org: get(row, "org")?,
                kind: get(row, "kind")?,
                hour: get(row, "hour")?,
                platform: get(row, "platform")?,
                keys: [
                    get(row, "k1")?,
                    get(row, "k2")?,
                    get(row, "k3")?,
                    get(row, "k4")?,
                ],
                n: get(row, "n")?,
            })
        })
        .collect()
}
