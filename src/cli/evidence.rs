//! `signpost evidence POST_ID [--out FILE] [--db PATH|URL]`: exports a
//! post's evidence snapshots as pretty JSON with each hash recomputed and
//! verified, and audits the export (`evidence.export`, actor `cli:<os user>`).

use crate::evidence;
use crate::store::{Actor, AuditEntry, AuditOutcome, Store};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// The operating-system user running the command.
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| format!("uid{}", proc_uid()))
}

fn proc_uid() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

pub async fn run(db_url: &str, post_id: i64, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let store = Store::connect(db_url).await?;
    let result = export(&store, post_id, out).await;
    store.close().await;
    result
}

async fn export(store: &Store, post_id: i64, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let records = store.evidence_for_post(post_id).await?;
    if records.is_empty() {
        anyhow::bail!("no evidence stored for post {post_id}");
    }
    let user = os_user();
    let actor = Actor::new(format!("cli:{user}"), user);
    let now = chrono::Utc::now();
    let (pack, verified) = evidence::export(post_id, &records, &actor, now);
    let text = serde_json::to_string_pretty(&pack)? + "\n";
    match out {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    let org = records[0].org.clone();
    store
        .append_audit(&AuditEntry {
            at: now,
            org,
            post_id: Some(post_id),
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            action: "evidence.export".to_owned(),
            reason: None,
            outcome: if verified {
                AuditOutcome::Ok
            } else {
                AuditOutcome::Failed("hash mismatch".to_owned())
            },
            detail: Some(json!({
                "evidence_ids": records.iter().map(|r| r.id).collect::<Vec<_>>(),
                "sha256": records.iter().map(|r| r.sha256.clone()).collect::<Vec<_>>(),
                "out": out.map(|p| p.display().to_string()),
                "verified": verified,
            })),
        })
        .await?;
    let summary = if verified {
        "hash verified"
    } else {
        "HASH MISMATCH"
    };
    eprintln!(
        "evidence for post {post_id}: {} snapshot(s), {summary}{}",
        records.len(),
        out.map(|p| format!(", written to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
