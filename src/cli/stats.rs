//! `signpost stats` and `signpost export`: the supervisors' report and the
//! audit-log CSV on the command line, for scripts and cron. The figures are
//! the same as `/stats` (see [`crate::stats`]); exports are audited with
//! actor `cli:<os user>`.

use super::evidence::os_user;
use crate::model::Platform;
use crate::pipeline::Pipeline;
use crate::stats::export::{export_csv, Requester};
use crate::stats::{self, Period};
use crate::store::{Actor, ExportQuery, ReportScope, Store};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// What to report on, from the command line.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    pub org: &'a str,
    pub period: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub at: Option<DateTime<Utc>>,
}

/// A resolved selection.
struct Window {
    period: Period,
    tz: chrono_tz::Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
}

fn window(pipeline: &Pipeline, sel: &Selection<'_>) -> anyhow::Result<Window> {
    let schedule = pipeline.schedule(sel.org).with_context(|| {
        format!(
            "unknown org `{}`; configured: {}",
            sel.org,
            pipeline
                .config
                .orgs
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let tz = schedule.timezone();
    let period = Period::from_options(sel.period, sel.from, sel.to)?;
    let now = sel.at.unwrap_or_else(Utc::now);
    let (from, to) = period.resolve(tz, now)?;
    Ok(Window {
        period,
        tz,
        from,
        to,
        now,
    })
}

/// `signpost stats`.
pub async fn run_stats(
    pipeline: &Pipeline,
    db_url: &str,
    sel: &Selection<'_>,
    platform: Option<Platform>,
    json: bool,
    chart: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let Window {
        period,
        tz,
        from,
        to,
        now,
    } = window(pipeline, sel)?;
    let store = Store::connect(db_url).await?;
    let scope = ReportScope {
        org: sel.org.to_owned(),
        platform,
        from,
        to,
    };
    let report = stats::report(&store, pipeline, &scope, now).await;
    store.close().await;
    let report = report?;
    if let Some(path) = chart {
        let title = format!(
            "{}: flagged and actioned per day ({})",
            sel.org,
            period.label()
        );
        let png = crate::chart::render_png(&title, &report.daily)?;
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(
            out,
            "{}",
            stats::render::stats_text(&report, tz, &period.label())
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `signpost export`.
pub async fn run_export(
    pipeline: &Pipeline,
    db_url: &str,
    sel: &Selection<'_>,
    everything: bool,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let Window { from, to, now, .. } = window(pipeline, sel)?;
    let store = Store::connect(db_url).await?;
    let q = ExportQuery {
        org: sel.org.to_owned(),
        from,
        to,
        human_only: !everything,
    };
    let user = os_user();
    let actor = Actor::new(format!("cli:{user}"), user);
    let by = Requester {
        actor: &actor,
        via: "cli",
        now,
        max_bytes: None,
    };
    let result = match out {
        Some(path) => {
            // Written aside and moved into place only once the export is
            // audited: no unaudited file is left behind.
            let partial = path.with_extension("csv.partial");
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("creating {}", partial.display()))?;
            let mut w = std::io::BufWriter::new(file);
            match export_csv(&store, pipeline, &q, &mut w, by).await {
                Ok(summary) => {
                    drop(w);
                    std::fs::rename(&partial, path)
                        .with_context(|| format!("writing {}", path.display()))?;
                    Ok(summary)
                }
                Err(e) => {
                    drop(w);
                    let _ = std::fs::remove_file(&partial);
                    Err(e)
                }
            }
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            export_csv(&store, pipeline, &q, &mut w, by).await
        }
    };
    store.close().await;
    let summary = result?;
    eprintln!(
        "exported {} audit rows ({} bytes, sha256 {}); recorded as audit row {}",
        summary.rows, summary.bytes, summary.sha256, summary.audit_id
    );
    Ok(ExitCode::SUCCESS)
}
