//! `config/orgs/<org>.toml`: one trust's policy mapping.

use super::ConfigError;
use crate::category::{Action, Category};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A trust: what it acts on, the clause of its own published policy behind
/// each category, and its staff list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    /// Short id, equal to the file name: `las`, `imperial`, `nsft`.
    pub id: String,
    /// Full name, e.g. "London Ambulance Service NHS Trust".
    pub name: String,
    /// The published social media policy page.
    pub policy_url: String,
    /// Where complaints go.
    pub complaints_url: String,
    /// Mask personal data (phone numbers, emails, NHS numbers…) in relays.
    #[serde(default = "yes")]
    pub mask_personal_data: bool,
    /// Staff whose names, when posted, raise `staff_named`.
    #[serde(default)]
    pub staff: Vec<String>,
    /// Word lists whose phrases mark a post as praise, in which case naming
    /// staff is a thank-you, not harassment.
    #[serde(default)]
    pub staff_praise_wordlists: Vec<String>,
    /// Hours within which the team aims to respond, counted inside the
    /// monitoring window (Imperial: 24).
    #[serde(default)]
    pub response_target_hours: Option<u32>,
    /// Repeat-offender threshold.
    #[serde(default)]
    pub strikes: StrikesConfig,
    /// What the org does per category. Categories not listed are not acted on.
    #[serde(default)]
    pub categories: BTreeMap<Category, CategoryPolicy>,
    /// Monitoring hours.
    pub hours: crate::hours::HoursConfig,
    /// The trust's own social accounts: inbound webhooks and pollers map a
    /// payload's account id (Page id, Instagram user id, X user id, Mastodon
    /// account id) to this org. Unknown accounts are refused.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
}

/// One of a trust's social accounts.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// `facebook`, `instagram`, `x`, `mastodon` (or `other` for the generic
    /// ingest endpoint).
    pub platform: crate::model::Platform,
    /// The platform's id for the account, as it appears in payloads.
    pub id: String,
    /// The account's handle, for people reading the config and logs.
    pub handle: String,
}

fn yes() -> bool {
    true
}

/// How an org treats one category.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryPolicy {
    /// The clause of the org's published policy, quoted so a relay can show it.
    pub clause: String,
    /// Suggested actions, most important first.
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// N flagged posts in D days mark an author "block suggested".
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StrikesConfig {
    pub threshold: u32,
    pub days: u32,
}

impl Default for StrikesConfig {
    fn default() -> Self {
        StrikesConfig {
            threshold: 3,
            days: 30,
        }
    }
}

impl OrgConfig {
    pub(super) fn validate(&self, path: &Path, source: &str) -> Result<(), ConfigError> {
        let locate = |needle: &str, msg: String| match source.find(needle) {
            Some(off) => ConfigError::at(path, source, off, msg),
            None => ConfigError::new(path, msg),
        };
        if self.strikes.threshold == 0 || self.strikes.days == 0 {
            return Err(locate(
                "[strikes]",
                "strikes.threshold and strikes.days must both be at least 1".into(),
            ));
        }
        for (cat, policy) in &self.categories {
            if policy.clause.trim().is_empty() {
                return Err(locate(
                    &format!("[categories.{cat}]"),
                    format!("categories.{cat}.clause is empty; quote the clause of the published policy"),
                ));
            }
        }
        for account in &self.accounts {
            if account.id.trim().is_empty() {
                return Err(locate(
                    "[[accounts]]",
                    format!("an account of {} has an empty id", account.platform),
                ));
            }
        }
        for name in &self.staff {
            // Parts that are all symbols vanish in normalisation.
            let parts = name
                .split_whitespace()
                .filter(|p| p.chars().any(char::is_alphanumeric))
                .count();
            if parts < 2 {
                return Err(locate(
                    name,
                    format!("staff name `{name}` needs a first and last name, or it will match ordinary words"),
                ));
            }
        }
        Ok(())
    }

    /// Suggested actions for a set of detected categories, in action order.
    pub fn actions_for(&self, categories: &[Category]) -> Vec<Action> {
        let mut out: Vec<Action> = categories
            .iter()
            .filter_map(|c| self.categories.get(c))
            .flat_map(|p| p.actions.iter().copied())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}
