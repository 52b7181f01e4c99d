//! `signpost serve`: the inbound HTTP server (webhooks, generic ingest) and
//! the Mastodon pollers, until SIGTERM or Ctrl-C. Shutdown stops accepting,
//! lets in-flight requests finish, stops the pollers, then lets the writer
//! drain its queue and commit before the store closes.

use crate::config::server::ServerConfig;
use crate::pipeline::Pipeline;
use crate::store::Store;
use crate::webhook::mastodon::MastodonPoller;
use crate::webhook::{self, Accounts, AppState, Secrets};
use secrecy::SecretString;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(config_dir: &Path, db: &str) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let pipeline = Arc::new(Pipeline::load(config_dir, false)?);
    let server = ServerConfig::load(config_dir)?;
    let accounts = Accounts::from_config(&pipeline.config)?;
    let platforms_config = crate::config::platforms::PlatformsConfig::load(config_dir)?;
    let platforms = crate::platforms::Platforms::from_config(&platforms_config)?;
    let (secrets, missing) = Secrets::from_env(&server);
    for name in &missing {
        tracing::warn!(env = %name, "secret not set: the endpoint that needs it answers 503 not_configured");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(pipeline, server, accounts, secrets, platforms, db))
}

async fn serve(
    pipeline: Arc<Pipeline>,
    server: ServerConfig,
    accounts: Accounts,
    secrets: Secrets,
    platforms: crate::platforms::Platforms,
    db: &str,
) -> anyhow::Result<ExitCode> {
    let store = Store::connect(&super::replay::db_url(db)).await?;
    let (writer, writer_task) =
        webhook::writer::spawn(pipeline.clone(), store.clone(), server.writer);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut pollers = Vec::new();
    // Automatic replies leave through the outbox, via the platform clients.
    pollers.push(tokio::spawn(crate::outbox::run(
        store.clone(),
        platforms,
        stop_rx.clone(),
    )));
    for source in &server.mastodon {
        let Some(org) = accounts.org(crate::model::Platform::Mastodon, &source.account_id) else {
            anyhow::bail!(
                "server.toml: mastodon account {} is not in any org's [[accounts]]",
                source.account_id
            );
        };
        let token = match std::env::var(&source.token_env) {
            Ok(t) if !t.trim().is_empty() => SecretString::from(t.trim().to_owned()),
            _ => {
                tracing::warn!(env = %source.token_env, base_url = %source.base_url, "mastodon token not set: not polling this account");
                continue;
            }
        };
        let poller =
            MastodonPoller::new(source, token, org.to_owned(), store.clone(), writer.clone())?;
        tracing::info!(source = %poller.source(), org, "polling mastodon mentions");
        pollers.push(tokio::spawn(poller.run(stop_rx.clone())));
    }

    let state = Arc::new(AppState {
        accounts,
        secrets,
        writer,
    });
    let router = webhook::router(state, server.body_limit_bytes);
    let listener = tokio::net::TcpListener::bind(&server.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, "signpost serving webhooks");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shutting down: stopping pollers, draining the writer");
    let _ = stop_tx.send(true);
    for p in pollers {
        let _ = p.await;
    }
    // The router (and its writer handle) is gone; the writer drains and ends.
    writer_task.await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
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
