//! The `signpost` command line: argument parsing and dispatch. Each command's
//! logic lives in its own file; this module only wires them up.

mod check;
mod classify;
mod eval;
mod evidence;
mod replay;
mod run;
mod serve;
mod stats;

use crate::classify::Classifier;
use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "signpost",
    version,
    about = "Safe social media for NHS trust communications teams"
)]
pub struct Cli {
    /// Configuration directory.
    #[arg(long, global = true, default_value = "config", value_name = "DIR")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify JSONL posts from stdin, one JSON result a line on stdout.
    Classify {
        /// Apply this org's staff list and policy mapping.
        #[arg(long)]
        org: Option<String>,
        /// Add the normalised text and every phrase hit to each output line,
        /// for writing and debugging rules.
        #[arg(long)]
        explain: bool,
    },
    /// Measure the classifier against a labelled JSONL file.
    Eval {
        /// Lines of {"id","text","labels":{category:0|1}}.
        file: PathBuf,
        #[arg(long)]
        org: Option<String>,
        /// Print the N worst false positives and false negatives per category.
        #[arg(long, default_value_t = 0, value_name = "N")]
        show: usize,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load and validate all configuration, then print a summary.
    Check,
    /// Run a file of timestamped posts through classify → decide → store with a
    /// dry-run platform, and print every decision.
    Replay {
        /// JSONL: {"id","text","created_at"} plus optional org, platform,
        /// kind, account, author, author_name, url.
        file: PathBuf,
        /// Org for lines that do not name one.
        #[arg(long)]
        org: Option<String>,
        /// SQLite file or database URL.
        #[arg(long, default_value = "data/signpost.db")]
        db: String,
        /// Start from an empty SQLite file.
        #[arg(long)]
        fresh: bool,
        /// Print only the closing figures.
        #[arg(long)]
        quiet: bool,
    },
    /// Run the inbound HTTP server (signed webhooks, generic ingest) and the
    /// Mastodon pollers until SIGTERM or Ctrl-C. Reads config/server.toml.
    Serve {
        /// SQLite file or database URL.
        #[arg(long, default_value = "data/signpost.db")]
        db: String,
    },
    /// Run the Discord bot (slash commands, relay buttons) and the outbox
    /// worker until SIGTERM or Ctrl-C. Needs DISCORD_TOKEN; reads
    /// config/discord.toml.
    Run {
        /// SQLite file or database URL.
        #[arg(long, default_value = "data/signpost.db")]
        db: String,
    },
    /// The supervisors' figures for a period (the same as /stats in Discord).
    Stats {
        #[arg(long)]
        org: String,
        /// today, 7d, 30d, or FROM..TO (dates YYYY-MM-DD, inclusive).
        #[arg(long, default_value = "7d")]
        period: String,
        /// First day of a custom period (YYYY-MM-DD); needs --to.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day of a custom period (YYYY-MM-DD); needs --from.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// One platform only: facebook, instagram, x, mastodon, other.
        #[arg(long)]
        platform: Option<String>,
        /// Report as of this instant (RFC 3339) instead of now.
        #[arg(long, value_name = "RFC3339")]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also write the daily chart as a PNG.
        #[arg(long, value_name = "FILE")]
        chart: Option<PathBuf>,
        /// SQLite file or database URL.
        #[arg(long, default_value = "data/signpost.db")]
        db: String,
    },
    /// The audit log of a period as CSV (the same as /export); audited.
    Export {
        #[arg(long)]
        org: String,
        /// today, 7d, 30d, or FROM..TO (dates YYYY-MM-DD, inclusive).
        #[arg(long, default_value = "7d")]
        period: String,
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Include Signpost's own rows (classifications, automatic replies),
        /// not only people's actions.
        #[arg(long)]
        all: bool,
        /// Export as of this instant (RFC 3339) instead of now.
        #[arg(long, value_name = "RFC3339")]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Write to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// SQLite file or database URL.
        #[arg(long, default_value = "data/signpost.db")]
        db: String,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Export a post's evidence pack (hash verified) as pretty JSON; the
    /// export is audited.
    Evidence {
        post_id: i64,
        /// Write to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, default_value = "data/signpost.db")]
        db: String,
    },
    /// Monitoring hours: open or closed, the next change, the year's closures.
    Hours {
        #[arg(long)]
        org: String,
        /// The instant to ask about (RFC 3339); now if omitted.
        #[arg(long, value_name = "RFC3339")]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// List the weekday closures of this year instead.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; report the first broken row. Exits 1 if broken.
    Verify {
        /// SQLite file or database URL.
        #[arg(long, default_value = "data/signpost.db")]
        db: String,
    },
}

/// Parse arguments and run; the binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    restore_sigpipe();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Classify { org, explain } => {
            let (_, classifier) = load(&cli.config, org.as_deref())?;
            classify::run(&classifier, org.as_deref(), explain)
        }
        Command::Eval {
            file,
            org,
            show,
            json,
        } => {
            let (_, classifier) = load(&cli.config, org.as_deref())?;
            eval::run(&classifier, &file, org.as_deref(), show, json)
        }
        Command::Check => check::run(&cli.config),
        Command::Evidence { post_id, out, db } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(evidence::run(&replay::db_url(&db), post_id, out.as_deref()))
        }
        Command::Serve { db } => serve::run(&cli.config, &db),
        Command::Stats {
            org,
            period,
            from,
            to,
            platform,
            at,
            json,
            chart,
            db,
        } => {
            let pipeline = crate::pipeline::Pipeline::load(&cli.config, true)?;
            let platform = platform
                .map(|p| {
                    serde_json::from_value::<crate::model::Platform>(serde_json::Value::String(
                        p.to_lowercase(),
                    ))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "unknown platform `{p}`: use facebook, instagram, x, mastodon or other"
                        )
                    })
                })
                .transpose()?;
            let sel = stats::Selection {
                org: &org,
                period: Some(&period),
                from: from.as_deref(),
                to: to.as_deref(),
                at: at.map(|t| t.with_timezone(&chrono::Utc)),
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(stats::run_stats(
                &pipeline,
                &replay::db_url(&db),
                &sel,
                platform,
                json,
                chart.as_deref(),
            ))
        }
        Command::Export {
            org,
            period,
            from,
            to,
            all,
            at,
            out,
            db,
        } => {
            let pipeline = crate::pipeline::Pipeline::load(&cli.config, true)?;
            let sel = stats::Selection {
                org: &org,
                period: Some(&period),
                from: from.as_deref(),
                to: to.as_deref(),
                at: at.map(|t| t.with_timezone(&chrono::Utc)),
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(stats::run_export(
                &pipeline,
                &replay::db_url(&db),
                &sel,
                all,
                out.as_deref(),
            ))
        }
        Command::Run { db } => run::run(&cli.config, &db),
        Command::Audit {
            command: AuditCommand::Verify { db },
        } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let store = crate::store::Store::connect(&replay::db_url(&db)).await?;
                let report = store.verify_audit().await?;
                store.close().await;
                match &report.first_broken {
                    None => {
                        let head = report
                            .head
                            .as_ref()
                            .map(|(id, hash)| format!("; head is row {id}, hash {hash}"))
                            .unwrap_or_default();
                        println!(
                            "audit log intact: {} rows checked{head}",
                            report.rows_checked
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Some(b) => {
                        println!(
                            "audit log BROKEN at row {}: {} ({} rows checked)",
                            b.id, b.reason, report.rows_checked
                        );
                        Ok(ExitCode::from(1))
                    }
                }
            })
        }
        Command::Replay {
            file,
            org,
            db,
            fresh,
            quiet,
        } => {
            let pipeline = crate::pipeline::Pipeline::load(&cli.config, true)?;
            if let Some(o) = &org {
                if !pipeline.config.orgs.contains_key(o) {
                    anyhow::bail!("unknown org `{o}`");
                }
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(replay::run(
                &pipeline,
                &file,
                org.as_deref(),
                &db,
                fresh,
                quiet,
            ))
        }
        Command::Hours {
            org,
            at,
            year,
            json,
        } => {
            let config = Config::load(&cli.config)?;
            if !config.orgs.contains_key(&org) {
                let known: Vec<&str> = config.orgs.keys().map(String::as_str).collect();
                anyhow::bail!("unknown org `{org}`; configured orgs: {}", known.join(", "));
            }
            let schedule = config.schedule(&org)?;
            use crate::hours::report;
            let out = match (year, json) {
                (Some(y), true) => {
                    serde_json::to_string_pretty(&report::year_json(&org, &schedule, y))?
                }
                (Some(y), false) => report::year_text(&org, &schedule, y),
                (None, _) => {
                    let at = at.map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc));
                    if json {
                        serde_json::to_string_pretty(&report::at_json(&org, &schedule, at))?
                    } else {
                        report::at_text(&org, &schedule, at)
                    }
                }
            };
            println!("{}", out.trim_end());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Commands that write to stdout end quietly when the reader goes away
/// (`signpost eval … | head`), like other Unix tools, instead of panicking on
/// a broken pipe. Rust ignores SIGPIPE by default; restore the default action.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up before any threads exist; setting a
    // signal disposition to SIG_DFL has no other preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Load config and compile the classifier; check that `org` exists.
pub(crate) fn load(dir: &Path, org: Option<&str>) -> anyhow::Result<(Config, Classifier)> {
    let config = Config::load(dir)?;
    if let Some(org) = org {
        if !config.orgs.contains_key(org) {
            let known: Vec<&str> = config.orgs.keys().map(String::as_str).collect();
            anyhow::bail!("unknown org `{org}`; configured orgs: {}", known.join(", "));
        }
    }
    let classifier = Classifier::new(&config)?;
    Ok((config, classifier))
}
