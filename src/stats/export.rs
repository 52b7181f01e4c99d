//! Audit-log exports (`/export`, `signpost export`): pages through the
//! audit log in id order (constant memory), writes the CSV of [`super::csv`]
//! with post text masked where the org's config says so, and records the
//! export itself in the audit log (`audit.export`: who, which rows, how
//! many, the file's SHA-256). An export that could not be recorded is not
//! handed out.

use super::csv;
use crate::pipeline::Pipeline;
use crate::store::{Actor, AuditEntry, AuditOutcome, ExportQuery, Store, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Rows read per query.
pub const PAGE: u32 = 2_000;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    /// The id of the `audit.export` row.
    pub audit_id: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the export is larger than {max_bytes} bytes (over {rows} rows so far)")]
    TooLarge { max_bytes: usize, rows: u64 },
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who asks for an export, how, and how big it may be.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub actor: &'a Actor,
    /// `discord` or `cli`.
    pub via: &'a str,
    pub now: DateTime<Utc>,
    /// Stop with [`ExportError::TooLarge`] (auditing nothing) once the CSV
    /// would exceed this many bytes.
    pub max_bytes: Option<usize>,
}

/// Writes the CSV of the rows `q` covers to `out` and audits the export.
pub async fn export_csv<W: std::io::Write>(
    store: &Store,
    pipeline: &Pipeline,
    q: &ExportQuery,
    out: &mut W,
    by: Requester<'_>,
) -> Result<ExportSummary, ExportError> {
    let Requester {
        actor,
        via,
        now,
        max_bytes,
    } = by;
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    let mut rows = 0u64;
    let mut emit = |chunk: &str, rows: u64| -> Result<(), ExportError> {
        if let Some(max) = max_bytes {
            if bytes as usize + chunk.len() > max {
                return Err(ExportError::TooLarge {
                    max_bytes: max,
                    rows,
                });
            }
        }
        out.write_all(chunk.as_bytes())?;
        hash.update(chunk.as_bytes());
        bytes += chunk.len() as u64;
        Ok(())
    };
    emit(&csv::header(), 0)?;
    // Masking classifies the text again; posts recur across rows.
    let mut shown: HashMap<i64, String> = HashMap::new();
    let mut after = store
        .first_audit_id_from(q.from)
        .await?
        .map_or(i64::MAX, |id| id - 1);
    loop {
        let page = store.export_page(q, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.row.id;
        let mut chunk = String::with_capacity(page.len() * 256);
        for r in &page {
            let text = match (r.row.post_id, &r.post_text) {
                (Some(id), Some(t)) => {
                    if shown.len() > 50_000 {
                        shown.clear();
                    }
                    Some(
                        shown
                            .entry(id)
                            .or_insert_with(|| pipeline.shown_text(&q.org, t))
                            .as_str(),
                    )
                }
                _ => None,
            };
            csv::push_row(&mut chunk, r, text);
        }
        rows += page.len() as u64;
        emit(&chunk, rows)?;
        if page.len() < PAGE as usize {
            break;
        }
    }
    out.flush()?;
    let sha256 = hex::encode(hash.finalize());
    let row = store
        .append_audit(&AuditEntry {
            at: now,
            org: q.org.clone(),
            post_id: None,
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            action: "audit.export".to_owned(),
            reason: None,
            outcome: AuditOutcome::Ok,
            detail: Some(json!({
                "via": via,
                "from": q.from.to_rfc3339_opts(SecondsFormat::Millis, true),
                "to": q.to.to_rfc3339_opts(SecondsFormat::Millis, true),
                "people_only": q.human_only,
                "rows": rows,
                "bytes": bytes,
                "sha256": sha256,
            })),
        })
        .await?;
    Ok(ExportSummary {
        rows,
        bytes,
        sha256,
        audit_id: row.id,
    })
}
