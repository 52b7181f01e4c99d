//! `config/server.toml`: the inbound HTTP server and pollers run by
//! `signpost serve` — where to listen, the body limit, the group-commit
//! writer's sizes, Mastodon sources, and the NAMES of the environment
//! variables that hold secrets. Secrets themselves never live in files.

use super::{parse_toml, ConfigError};
use serde::Deserialize;
use std::path::Path;

/// The server's settings. Every key has a default, so the file may be absent.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Socket address to listen on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Largest accepted request body; larger ones get 413.
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// Env var holding the Meta app secret(s), comma-separated (several
    /// during a rotation: any one verifies).
    #[serde(default = "default_meta_app_secrets_env")]
    pub meta_app_secrets_env: String,
    /// Env var holding the Meta webhook verify token.
    #[serde(default = "default_meta_verify_token_env")]
    pub meta_verify_token_env: String,
    /// Env var holding the X (Account Activity API) consumer secret.
    #[serde(default = "default_x_consumer_secret_env")]
    pub x_consumer_secret_env: String,
    /// Env var holding the bearer token accepted by `POST /ingest`.
    #[serde(default = "default_ingest_token_env")]
    pub ingest_token_env: String,
    /// Env var holding the HMAC secret accepted by `POST /ingest`.
    #[serde(default = "default_ingest_hmac_secret_env")]
    pub ingest_hmac_secret_env: String,
    /// The group-commit writer.
    #[serde(default)]
    pub writer: WriterConfig,
    /// Mastodon accounts to poll for mentions.
    #[serde(default)]
    pub mastodon: Vec<MastodonSource>,
}

/// The single database writer that commits webhook posts in groups.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WriterConfig {
    /// Most requests committed in one transaction.
    #[serde(default = "default_batch_max")]
    pub batch_max: usize,
    /// Requests waiting for the writer before handlers wait for room.
    #[serde(default = "default_queue")]
    pub queue: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            batch_max: default_batch_max(),
            queue: default_queue(),
        }
    }
}

/// One Mastodon account polled for mention notifications.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MastodonSource {
    /// The instance, e.g. `https://mastodon.social` (or a proxy / fake).
    pub base_url: String,
    /// The trust's Mastodon account id: must appear in an org's `accounts`.
    pub account_id: String,
    /// Env var holding the account's access token (`read:notifications`).
    pub token_env: String,
    /// Seconds between polls once caught up.
    #[serde(default = "default_poll_interval")]
    pub poll_interval_secs: u64,
    /// Ceiling of the exponential back-off after errors, in seconds.
    #[serde(default = "default_backoff_max")]
    pub backoff_max_secs: u64,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_body_limit() -> usize {
    262_144
}
fn default_meta_app_secrets_env() -> String {
    "META_APP_SECRETS".into()
}
fn default_meta_verify_token_env() -> String {
    "META_VERIFY_TOKEN".into()
}
fn default_x_consumer_secret_env() -> String {
    "X_CONSUMER_SECRET".into()
}
fn default_ingest_token_env() -> String {
    "SIGNPOST_INGEST_TOKEN".into()
}
fn default_ingest_hmac_secret_env() -> String {
    "SIGNPOST_INGEST_HMAC_SECRET".into()
}
fn default_batch_max() -> usize {
    256
}
fn default_queue() -> usize {
    4096
}
fn default_poll_interval() -> u64 {
    15
}
fn default_backoff_max() -> u64 {
    300
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            body_limit_bytes: default_body_limit(),
            meta_app_secrets_env: default_meta_app_secrets_env(),
            meta_verify_token_env: default_meta_verify_token_env(),
            x_consumer_secret_env: default_x_consumer_secret_env(),
            ingest_token_env: default_ingest_token_env(),
            ingest_hmac_secret_env: default_ingest_hmac_secret_env(),
            writer: WriterConfig::default(),
            mastodon: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// Reads `<dir>/server.toml`; all defaults when the file is absent.
    pub fn load(dir: &Path) -> Result<ServerConfig, ConfigError> {
        let path = dir.join("server.toml");
        if !path.exists() {
            return Ok(ServerConfig::default());
        }
        let source = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::new(&path, format!("cannot read file: {e}")))?;
        Self::parse(&path, &source)
    }

    /// Parses and validates the text of a `server.toml`.
    pub fn parse(path: &Path, source: &str) -> Result<ServerConfig, ConfigError> {
        let config: ServerConfig = parse_toml(path, source)?;
        let locate = |needle: &str, msg: String| match source.find(needle) {
            Some(off) => ConfigError::at(path, source, off, msg),
            None => ConfigError::new(path, msg),
        };
        if config.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(locate(
                "listen",
                format!(
                    "listen = \"{}\" is not a socket address such as 127.0.0.1:8080",
                    config.listen
                ),
            ));
        }
        if config.body_limit_bytes < 1024 {
            return Err(locate(
                "body_limit_bytes",
                "body_limit_bytes must be at least 1024".into(),
            ));
        }
        if config.writer.batch_max == 0 || config.writer.queue == 0 {
            return Err(locate(
                "[writer]",
                "writer.batch_max and writer.queue must be at least 1".into(),
            ));
        }
        for m in &config.mastodon {
            if !(m.base_url.starts_with("https://") || m.base_url.starts_with("http://")) {
                return Err(locate(
                    &m.base_url,
                    format!(
                        "mastodon base_url `{}` must start with https://",
                        m.base_url
                    ),
                ));
            }
            if m.poll_interval_secs == 0 || m.backoff_max_secs == 0 {
                return Err(locate(
                    &m.base_url,
                    "mastodon poll_interval_secs and backoff_max_secs must be at least 1".into(),
                ));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_unknown_keys() {
        let p = Path::new("server.toml");
        let c = ServerConfig::parse(p, "").expect("empty is all defaults");
        assert_eq!(c, ServerConfig::default());
        let e = ServerConfig::parse(p, "listen = \"127.0.0.1:1\"\nsecret = \"x\"\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = ServerConfig::parse(p, "listen = \"nowhere\"\n").unwrap_err();
        assert!(e.message.contains("socket address"), "{e}");
    }
}
