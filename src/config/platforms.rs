//! `config/platforms.toml`: where each platform client sends its calls, which
//! environment variable holds each token (never the token itself), timeouts,
//! the retry policy, X's block tier flag and the dry-run switch.
//!
//! Loaded separately from the rest of the config ([`PlatformsConfig::load`]),
//! strictly (`deny_unknown_fields`), with `file:line:column` errors.

use super::{parse_toml, ConfigError};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformsConfig {
    /// Simulate every platform call (see `signpost::platforms::DryRun`).
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub retry: RetryConfig,
    #[serde(default = "FacebookConfig::default_facebook")]
    pub facebook: FacebookConfig,
    #[serde(default = "FacebookConfig::default_instagram")]
    pub instagram: FacebookConfig,
    #[serde(default)]
    pub x: XConfig,
    pub mastodon: Option<MastodonConfig>,
}

/// Retries on 5xx, 429 and connection errors.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts in all, including the first (at least 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time, with jitter.
    pub initial_backoff_ms: u64,
    /// The longest backoff between two attempts.
    pub max_backoff_ms: u64,
    /// The longest `Retry-After` honoured; a longer one gives up at once.
    pub max_retry_after_secs: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 4,
            initial_backoff_ms: 500,
            max_backoff_ms: 8000,
            max_retry_after_secs: 60,
        }
    }
}

impl RetryConfig {
    pub fn initial_backoff(&self) -> Duration {
        Duration::from_millis(self.initial_backoff_ms)
    }
    pub fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.max_backoff_ms)
    }
    pub fn max_retry_after(&self) -> Duration {
        Duration::from_secs(self.max_retry_after_secs)
    }
}

/// Facebook or Instagram (both through the Graph API).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacebookConfig {
    pub base_url: String,
    /// Name of the environment variable holding the Page access token.
    pub token_env: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Days after a comment in which a private reply may be sent.
    #[serde(default = "default_private_reply_days")]
    pub private_reply_days: u32,
}

impl FacebookConfig {
    fn default_facebook() -> Self {
        FacebookConfig {
            base_url: "https://graph.facebook.com/v21.0".into(),
            token_env: "SIGNPOST_FACEBOOK_PAGE_TOKEN".into(),
            timeout_secs: default_timeout(),
            private_reply_days: default_private_reply_days(),
        }
    }
    fn default_instagram() -> Self {
        FacebookConfig {
            token_env: "SIGNPOST_INSTAGRAM_TOKEN".into(),
            ..FacebookConfig::default_facebook()
        }
    }
}

/// X API v2.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XConfig {
    #[serde(default = "default_x_base")]
    pub base_url: String,
    /// Name of the environment variable holding the OAuth 2.0 user token.
    #[serde(default = "default_x_token_env")]
    pub token_env: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Whether the account's API tier allows blocking.
    #[serde(default)]
    pub block_allowed: bool,
}

impl Default for XConfig {
    fn default() -> Self {
        XConfig {
            base_url: default_x_base(),
            token_env: default_x_token_env(),
            timeout_secs: default_timeout(),
            block_allowed: false,
        }
    }
}

/// Mastodon: one instance (its URL has no default).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonConfig {
    /// The instance, e.g. `https://mastodon.social`.
    pub base_url: String,
    #[serde(default = "default_mastodon_token_env")]
    pub token_env: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Report category: `spam`, `legal`, `violation` or `other`.
    #[serde(default = "default_report_category")]
    pub report_category: String,
}

fn default_timeout() -> u64 {
    15
}
fn default_private_reply_days() -> u32 {
    7
}
fn default_x_base() -> String {
    "https://api.x.com".into()
}
fn default_x_token_env() -> String {
    "SIGNPOST_X_USER_TOKEN".into()
}
fn default_mastodon_token_env() -> String {
    "SIGNPOST_MASTODON_TOKEN".into()
}
fn default_report_category() -> String {
    "other".into()
}

/// Mastodon's report categories.
pub const MASTODON_REPORT_CATEGORIES: &[&str] = &["spam", "legal", "violation", "other"];

impl Default for PlatformsConfig {
    fn default() -> Self {
        PlatformsConfig {
            dry_run: false,
            retry: RetryConfig::default(),
            facebook: FacebookConfig::default_facebook(),
            instagram: FacebookConfig::default_instagram(),
            x: XConfig::default(),
            mastodon: None,
        }
    }
}

impl PlatformsConfig {
    /// Loads `platforms.toml` from the config directory.
    pub fn load(config_dir: &Path) -> Result<PlatformsConfig, ConfigError> {
        let path = config_dir.join("platforms.toml");
        let source = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::new(&path, format!("cannot read file: {e}")))?;
        PlatformsConfig::parse(&path, &source)
    }

    /// Parses and validates the file's text.
    pub fn parse(path: &Path, source: &str) -> Result<PlatformsConfig, ConfigError> {
        let cfg: PlatformsConfig = parse_toml(path, source)?;
        let bad = |key: &str, msg: &str| {
            let offset = source.find(key).unwrap_or(0);
            Err(ConfigError::at(path, source, offset, msg.to_string()))
        };
        if cfg.retry.max_attempts == 0 {
            return bad("max_attempts", "retry.max_attempts must be at least 1");
        }
        let urls = [
            ("facebook", &cfg.facebook.base_url),
            ("instagram", &cfg.instagram.base_url),
            ("x", &cfg.x.base_url),
        ];
        for (name, url) in urls
            .into_iter()
            .chain(cfg.mastodon.as_ref().map(|m| ("mastodon", &m.base_url)))
        {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return bad(
                    &format!("[{name}]"),
                    &format!("{name}.base_url must start with https:// or http://"),
                );
            }
        }
        if let Some(m) = &cfg.mastodon {
            if !MASTODON_REPORT_CATEGORIES.contains(&m.report_category.as_str()) {
                return bad(
                    "report_category",
                    &format!(
                        "mastodon.report_category must be one of: {}",
                        MASTODON_REPORT_CATEGORIES.join(", ")
                    ),
                );
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let cfg = PlatformsConfig::load(&dir).expect("shipped platforms.toml");
        assert_eq!(cfg.facebook.base_url, "https://graph.facebook.com/v21.0");
        assert_eq!(cfg.x.base_url, "https://api.x.com");
        assert!(!cfg.x.block_allowed);
        assert!(cfg.mastodon.is_some());
    }

    #[test]
    fn unknown_keys_are_located() {
        let src = "[x]\nblock_alowed = true\n";
        let err = PlatformsConfig::parse(Path::new("p.toml"), src).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("unknown field"), "{}", err.message);
    }

    #[test]
    fn bad_values_are_refused() {
        let src = "[mastodon]\nbase_url = \"https://m.example\"\nreport_category = \"rude\"\n";
        let err = PlatformsConfig::parse(Path::new("p.toml"), src).unwrap_err();
        assert_eq!(err.line, Some(3));
        let src = "[retry]\nmax_attempts = 0\n";
        assert!(PlatformsConfig::parse(Path::new("p.toml"), src).is_err());
    }
}
