//! `config/discord.toml`: where each org's relays go in Discord and who may
//! act. The bot token is never here: it comes from `DISCORD_TOKEN`.

use super::{parse_toml, ConfigError};
use crate::category::Action;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// Discord's base URL: `https://discord.com`, or a proxy, or a loopback
    /// fake in tests.
    #[serde(default = "default_api_base")]
    pub api_base: String,
    /// Per org id (as in `config/orgs/`).
    #[serde(default)]
    pub orgs: BTreeMap<String, OrgDiscord>,
    /// Relay pacing per channel: at most `messages` per `per_seconds`.
    #[serde(default)]
    pub pacing: Pacing,
}

fn default_api_base() -> String {
    "https://discord.com".to_string()
}

/// One org's Discord home.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OrgDiscord {
    /// The guild (server) the team works in.
    pub guild_id: u64,
    /// Where relays are posted.
    pub relay_channel_id: u64,
    /// Members with this role may act on relays.
    pub team_role_id: u64,
    /// Members with this role may run supervisor commands, and take the
    /// actions listed in `supervisor_actions`.
    #[serde(default)]
    pub supervisor_role_id: Option<u64>,
    /// Role mentioned on crisis relays.
    #[serde(default)]
    pub crisis_role_id: Option<u64>,
    /// Crisis relays go here instead of the relay channel, when set.
    #[serde(default)]
    pub crisis_channel_id: Option<u64>,
    /// Actions that need a second team member to confirm.
    #[serde(default = "default_second")]
    pub second_confirmation: Vec<Action>,
    /// Actions only supervisors may take.
    #[serde(default)]
    pub supervisor_actions: Vec<Action>,
}

fn default_second() -> Vec<Action> {
    vec![Action::Block, Action::Escalate]
}

/// Discord allows about 5 messages per 5 seconds per channel.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Pacing {
    pub messages: u32,
    pub per_seconds: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            messages: 5,
            per_seconds: 5,
        }
    }
}

impl DiscordConfig {
    /// Load `discord.toml` from the config directory and check it against
    /// the configured orgs.
    pub fn load(config_dir: &Path, orgs: &[&str]) -> Result<DiscordConfig, ConfigError> {
        let path = config_dir.join("discord.toml");
        let source = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::new(&path, format!("cannot read file: {e}")))?;
        let cfg: DiscordConfig = parse_toml(&path, &source)?;
        for id in cfg.orgs.keys() {
            if !orgs.contains(&id.as_str()) {
                let off = source.find(&format!("[orgs.{id}]")).unwrap_or(0);
                return Err(ConfigError::at(
                    &path,
                    &source,
                    off,
                    format!(
                        "org `{id}` is not configured in config/orgs/; expected one of: {}",
                        orgs.join(", ")
                    ),
                ));
            }
        }
        if !(cfg.api_base.starts_with("https://") || cfg.api_base.starts_with("http://")) {
            let off = source.find("api_base").unwrap_or(0);
            return Err(ConfigError::at(
                &path,
                &source,
                off,
                "api_base must be an http(s) URL",
            ));
        }
        if cfg.pacing.messages == 0 || cfg.pacing.per_seconds == 0 {
            let off = source.find("[pacing]").unwrap_or(0);
            return Err(ConfigError::at(
                &path,
                &source,
                off,
                "pacing.messages and pacing.per_seconds must be at least 1",
            ));
        }
        Ok(cfg)
    }
}
