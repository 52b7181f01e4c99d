//! `signpost replay`: feed a file of timestamped posts through classify →
//! decide → store with a dry-run platform, and print what Signpost would do.

use crate::category::{Action, Category};
use crate::classify::repeat::History;
use crate::decide::Priority;
use crate::model::{InboundPost, Platform, PostKind};
use crate::pipeline::{Batch, Ingested, Pipeline};
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

/// One line of a replay file. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct Line {
    id: String,
    text: String,
    created_at: DateTime<Utc>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    kind: Option<PostKind>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    author_name: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// Posts per transaction.
const BATCH: usize = 500;

/// The SQLite or PostgreSQL URL for `--db`: a URL as given, or a file path.
pub fn db_url(db: &str) -> String {
    if db.contains("://") || db.starts_with("sqlite:") {
        db.to_string()
    } else {
        format!("sqlite://{db}")
    }
}

#[derive(Default)]
struct Figures {
    posts: u64,
    duplicates: u64,
    errors: u64,
    in_hours: u64,
    flagged: BTreeMap<Category, u64>,
    relays: BTreeMap<String, u64>,
    replies: BTreeMap<String, u64>,
    suppressed: BTreeMap<String, u64>,
    block_suggested: u64,
}

pub async fn run(
    pipeline: &Pipeline,
    file: &Path,
    default_org: Option<&str>,
    db: &str,
    fresh: bool,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let url = db_url(db);
    if fresh {
        let path = url
            .strip_prefix("sqlite://")
            .ok_or_else(|| anyhow::anyhow!("--fresh only applies to a SQLite file, not {db}"))?;
        for suffix in ["", "-wal", "-shm"] {
            let p = format!("{path}{suffix}");
            if Path::new(&p).exists() {
                std::fs::remove_file(&p)?;
            }
        }
    }
    let store = Store::connect(&url).await?;
    let reader = std::io::BufReader::new(
        std::fs::File::open(file)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?,
    );
    let mut history = History::new(Duration::hours(24), 100_000);
    let mut figures = Figures::default();
    let started = std::time::Instant::now();
    let mut tx = store.begin().await?;
    let mut in_batch = 0;
    let mut batch = Batch::default();
    // Hours overrides per org, loaded once per batch.
    let mut overrides: BTreeMap<String, Vec<crate::hours::Override>> = BTreeMap::new();
    let mut out = String::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let l: Line = match serde_json::from_str(&line) {
            Ok(l) => l,
            Err(e) => {
                figures.errors += 1;
                eprintln!("{}:{}: skipped: {e}", file.display(), n + 1);
                continue;
            }
        };
        let Some(org) = l.org.as_deref().or(default_org) else {
            figures.errors += 1;
            eprintln!(
                "{}:{}: skipped: no org (give \"org\" or --org)",
                file.display(),
                n + 1
            );
            continue;
        };
        let author = l.author.clone().unwrap_or_else(|| "anonymous".into());
        let post = InboundPost {
            platform: l.platform.unwrap_or(Platform::Other),
            external_id: l.id.clone(),
            account: l.account.clone().unwrap_or_else(|| org.to_string()),
            org: org.to_string(),
            kind: l.kind.unwrap_or_default(),
            author_id: author.clone(),
            author_handle: l.author_name.clone().unwrap_or_else(|| author.clone()),
            text: l.text.clone(),
            url: l.url.clone(),
            created_at: l.created_at,
        };
        let key = format!("{}:{}", post.platform, post.author_id);
        if !overrides.contains_key(&post.org) {
            let o = pipeline
                .overrides(&mut tx, &post.org, post.created_at)
                .await?;
            overrides.insert(post.org.clone(), o);
        }
        let result = pipeline
            .ingest_into(
                &mut tx,
                &mut batch,
                &post,
                Some(&line),
                history.recent(&key),
                &overrides[&post.org],
                post.created_at,
            )
            .await;
        history.push(&key, &post.text, post.created_at);
        figures.posts += 1;
        match result {
            Ok(Ingested::Duplicate { post_id }) => {
                figures.duplicates += 1;
                if !quiet {
                    let _ = writeln!(
                        out,
                        "── {} already stored as post {post_id} (duplicate delivery): skipped\n",
                        post.external_id
                    );
                }
            }
            Ok(Ingested::New {
                classification,
                decision,
                ..
            }) => {
                figures.in_hours += u64::from(decision.in_hours);
                for c in &classification.categories {
                    *figures.flagged.entry(*c).or_default() += 1;
                }
                if let Some(r) = &decision.relay {
                    *figures
                        .relays
                        .entry(priority_name(r.priority).into())
                        .or_default() += 1;
                }
                if let Some(r) = &decision.auto_reply {
                    *figures
                        .replies
                        .entry(r.template.as_str().into())
                        .or_default() += 1;
                }
                for s in &decision.suppressed {
                    *figures
                        .suppressed
                        .entry(short_reason(&s.reason))
                        .or_default() += 1;
                }
                figures.block_suggested += u64::from(decision.block_suggested);
                if !quiet {
                    transcript(&mut out, pipeline, &post, &classification, &decision);
                }
            }
            Err(e) => {
                figures.errors += 1;
                eprintln!("{}:{}: not stored: {e}", file.display(), n + 1);
            }
        }
        if !out.is_empty() {
            print!("{out}");
            out.clear();
        }
        in_batch += 1;
        if in_batch >= BATCH {
            batch.flush(&mut tx, Utc::now()).await?;
            tx.commit().await?;
            tx = store.begin().await?;
            in_batch = 0;
            overrides.clear();
        }
    }
    batch.flush(&mut tx, Utc::now()).await?;
    tx.commit().await?;
    let elapsed = started.elapsed();
    let verify = store.verify_audit().await?;

    println!("══ Replay of {} into {db}", file.display());
    println!(
        "posts {}  new {}  duplicates {}  skipped {}  in hours {}  out of hours {}",
        figures.posts,
        figures.posts - figures.duplicates - figures.errors.min(figures.posts),
        figures.duplicates,
        figures.errors,
        figures.in_hours,
        figures.posts - figures.duplicates - figures.in_hours
    );
    let list = |m: &BTreeMap<String, u64>| {
        if m.is_empty() {
            "none".to_string()
        } else {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let flagged: BTreeMap<String, u64> = figures
        .flagged
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    println!("flagged: {}", list(&flagged));
    println!("relays queued: {}", list(&figures.relays));
    println!("auto-replies (dry run): {}", list(&figures.replies));
    println!("auto-replies suppressed: {}", list(&figures.suppressed));
    println!("block suggested: {}", figures.block_suggested);
    println!(
        "audit log: {} rows, {}",
        verify.rows_checked,
        if verify.is_intact() {
            "chain intact"
        } else {
            "CHAIN BROKEN"
        }
    );
    println!(
        "took {:.2} s ({:.0} posts/s)",
        elapsed.as_secs_f64(),
        figures.posts as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "urgent",
        Priority::High => "high",
        Priority::Normal => "normal",
        Priority::Low => "low",
    }
}

/// The reason without its specifics (times, names after a colon), for grouping.
fn short_reason(reason: &str) -> String {
    let head = reason.split([':', '(']).next().unwrap_or(reason);
    head.split(' ')
        .take_while(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(" at")
        .to_string()
}

fn transcript(
    out: &mut String,
    pipeline: &Pipeline,
    post: &InboundPost,
    c: &crate::classify::Classification,
    d: &crate::decide::Decision,
) {
    let org = &pipeline.config.orgs[&post.org];
    let local = pipeline
        .schedule(&post.org)
        .map(|s| {
            post.created_at
                .with_timezone(&s.timezone())
                .format("%a %d %b %Y %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let text = if org.mask_personal_data {
        c.masked(&post.text)
    } else {
        post.text.clone()
    };
    let _ = writeln!(
        out,
        "── {local} ({}) · {} · {} {} · {} · {}",
        if d.in_hours {
            "in hours"
        } else {
            "out of hours"
        },
        post.org,
        post.platform,
        post.kind.as_str(),
        post.author_handle,
        post.external_id
    );
    let _ = writeln!(out, "   “{}”", text.replace('\n', " "));
    if c.categories.is_empty() {
        let _ = writeln!(out, "   nothing flagged");
    } else {
        let cats: Vec<&str> = c.categories.iter().map(|c| c.as_str()).collect();
        let _ = writeln!(
            out,
            "   {} · severity {} · rules {}",
            cats.join(", "),
            c.severity,
            c.rules.join(", ")
        );
    }
    if let Some(r) = &d.relay {
        let _ = writeln!(
            out,
            "   RELAY {} — {}",
            priority_name(r.priority).to_uppercase(),
            r.reason
        );
        for cat in &d.acted_on {
            if let Some(p) = org.categories.get(cat) {
                let _ = writeln!(out, "     {cat}: “{}”", p.clause);
            }
        }
        let mut buttons: Vec<Action> = vec![
            Action::Hide,
            Action::Delete,
            Action::Block,
            Action::Report,
            Action::Escalate,
            Action::SignpostComplaints,
            Action::SignpostClinical,
            Action::AskToDm,
            Action::Reply,
            Action::Dismiss,
        ];
        if d.acted_on.contains(&Category::Crisis) {
            buttons.insert(7, Action::SignpostCrisis);
        }
        let labels: Vec<String> = buttons
            .iter()
            .map(|a| {
                if d.suggested_actions.contains(a) {
                    format!("[★ {}]", a.label())
                } else {
                    format!("[{}]", a.label())
                }
            })
            .collect();
        let _ = writeln!(out, "     buttons: {}", labels.join(" "));
        if d.block_suggested {
            let _ = writeln!(out, "     repeat offender: block suggested");
        }
    }
    if let Some(r) = &d.auto_reply {
        let _ = writeln!(
            out,
            "   AUTO-REPLY {} ({}): {}",
            r.template.as_str(),
            post.platform,
            r.text.replace('\n', " ")
        );
    }
    for s in &d.suppressed {
        let _ = writeln!(out, "   no {} reply: {}", s.template.as_str(), s.reason);
    }
    out.push('\n');
}
