//! `signpost run`: the Discord gateway bot (slash commands, button clicks,
//! modals) plus the outbox workers (queued platform replies, relays, and
//! the handover digest with its scheduler), until SIGTERM or Ctrl-C. The
//! webhook server stays a separate process (`signpost serve`).
//!
//! Shutdown: the shards disconnect (no new clicks arrive), clicks already
//! being handled finish, each worker finishes its current job and stops
//! (queued jobs stay queued for the next start; a digest whose opening
//! passed while stopped is caught up at the next start if recent), then
//! the store closes.

use crate::bot::{build_client, build_http, Clicks, Data};
use crate::config::discord::DiscordConfig;
use crate::pipeline::Pipeline;
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The variable holding the bot token.
pub const TOKEN_ENV: &str = "DISCORD_TOKEN";
/// Optional: the application id, so interaction edits work before READY.
pub const APPLICATION_ID_ENV: &str = "DISCORD_APPLICATION_ID";
/// How long shutdown waits for in-flight clicks.
const DRAIN: Duration = Duration::from_secs(30);

pub fn run(config_dir: &Path, db: &str) -> anyhow::Result<ExitCode> {
    let token = match std::env::var(TOKEN_ENV) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
        _ => {
            eprintln!(
                "error: {TOKEN_ENV} is not set. Set it to the bot token from the Discord \
                 developer portal (your application → Bot → Reset Token), e.g. \
                 `export {TOKEN_ENV}=…`, then run `signpost run` again."
            );
            return Ok(ExitCode::from(2));
        }
    };
    let application_id = match std::env::var(APPLICATION_ID_ENV) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().parse::<u64>().map_err(|_| {
            anyhow::anyhow!("{APPLICATION_ID_ENV} must be a Discord application id (digits)")
        })?),
        _ => None,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let pipeline = Arc::new(Pipeline::load(config_dir, false)?);
    let orgs: Vec<&str> = pipeline.config.orgs.keys().map(String::as_str).collect();
    let discord = Arc::new(DiscordConfig::load(config_dir, &orgs)?);
    let platforms_config = crate::config::platforms::PlatformsConfig::load(config_dir)?;
    let platforms = crate::platforms::Platforms::from_config(&platforms_config)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let store = Store::connect(&super::replay::db_url(db)).await?;
        let in_flight = Arc::new(AtomicUsize::new(0));
        // Relays leave the outbox for the relay channels through this worker.
        let delivery = crate::discord::delivery::Worker::new(
            store.clone(),
            pipeline.clone(),
            (*discord).clone(),
            &token,
            platforms_config.x.block_allowed,
            Arc::new(crate::discord::delivery::SystemClock),
        )?;
        // Handover digests: queued at each opening, posted to the relay channel.
        let digests = crate::discord::handover::DigestWorker::new(
            store.clone(),
            pipeline.clone(),
            (*discord).clone(),
            &token,
            Arc::new(crate::discord::delivery::SystemClock),
        )?;
        let digest_scheduler = crate::discord::handover::Scheduler::new(
            store.clone(),
            pipeline.clone(),
            (*discord).clone(),
            Arc::new(crate::discord::delivery::SystemClock),
        );
        let http = build_http(&token, &discord.api_base, application_id);
        let make_data = {
            let (store, platforms, discord, in_flight) = (
                store.clone(),
                platforms.clone(),
                discord.clone(),
                in_flight.clone(),
            );
            move |http| Data {
                clicks: Arc::new(Clicks::new(store, pipeline, platforms, discord, http)),
                in_flight,
            }
        };
        let mut client = build_client(http, discord, make_data).await?;

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let outbox = tokio::spawn(crate::outbox::run(
            store.clone(),
            platforms,
            stop_rx.clone(),
        ));
        let relays = tokio::spawn(delivery.run(stop_rx.clone()));
        let scheduler = tokio::spawn(digest_scheduler.run(stop_rx.clone()));
        let digests = tokio::spawn(digests.run(stop_rx));
        let shards = client.shard_manager.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: disconnecting from Discord");
            shards.shutdown_all().await;
        });
        tracing::info!("signpost bot starting");
        let result = client.start().await;
        // No new clicks now; let the ones in flight finish.
        let deadline = Instant::now() + DRAIN;
        while in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = stop_tx.send(true);
        let _ = outbox.await;
        let _ = relays.await;
        let _ = scheduler.await;
        let _ = digests.await;
        store.close().await;
        match result {
            Ok(()) => {
                tracing::info!("stopped");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(anyhow::anyhow!("Discord gateway: {e}")),
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
