//! Outbound platform clients: everything Signpost *does* on Facebook,
//! Instagram, X and Mastodon (hide, delete, block, mute, report, replies,
//! private replies and DMs).
//!
//! One trait, [`PlatformClient`], with one implementation per platform
//! ([`graph::GraphClient`] for Facebook and Instagram, [`x::XClient`],
//! [`mastodon::MastodonClient`]) plus the explicit dry-run mode
//! ([`dry_run::DryRun`]), which records what it would do and succeeds.
//! [`Platforms`] holds one client per platform for the action executor
//! ([`crate::actions`]).
//!
//! This module owns:
//! - the capability table ([`capabilities`]): which [`Action`]s each platform
//!   can carry out, so Discord shows only possible buttons;
//! - the platform operations ([`Op`]) and how each maps to an HTTP call;
//! - retries with exponential backoff and jitter on 5xx, 429 and connection
//!   errors, honouring `Retry-After` ([`http`]);
//! - typed permanent errors ([`PlatformError`]) with a short user-facing
//!   message for Discord and an internal detail for the audit log.
//!
//! Tokens are [`secrecy::SecretString`]s read from the environment variable
//! the config names; they are sent only in the `Authorization: Bearer`
//! header (Graph API accepts the Page token there too, which keeps it out of
//! URLs and logs), and never logged or `Debug`-printed.

pub mod dry_run;
pub mod graph;
pub mod http;
pub mod mastodon;
pub mod x;

use crate::category::Action;
use crate::config::platforms::PlatformsConfig;
use crate::model::{Platform, PostKind};
use crate::store::StoredPost;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use dry_run::DryRun;

/// The future a [`PlatformClient`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What Signpost acts on: a post and its author, in platform terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub platform: Platform,
    pub kind: PostKind,
    /// The platform's id of the post (comment id, tweet id, status id).
    pub post_id: String,
    /// The trust's own account: Facebook Page id, Instagram user id, X user
    /// id (numeric), Mastodon account id.
    pub account: String,
    /// The author's platform id (Facebook PSID/user id, X user id, Mastodon
    /// account id).
    pub author_id: String,
    /// The author's handle (Mastodon `acct` for mentions).
    pub author_handle: String,
    pub created_at: DateTime<Utc>,
}

impl Target {
    /// The target of a stored post.
    pub fn of(post: &StoredPost) -> Target {
        Target {
            platform: post.post.platform,
            kind: post.post.kind,
            post_id: post.post.external_id.clone(),
            account: post.post.account.clone(),
            author_id: post.post.author_id.clone(),
            author_handle: post.post.author_handle.clone(),
            created_at: post.post.created_at,
        }
    }
}

/// One platform operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Hide the post (Facebook/Instagram comment, X reply).
    Hide,
    /// Unhide a hidden Facebook or Instagram comment, or X reply.
    Unhide,
    /// Delete the post (Facebook, Instagram).
    Delete,
    /// Block the author from the account (Facebook Page, X where the tier
    /// allows, Mastodon).
    Block,
    /// Mute the author (X, Mastodon).
    Mute,
    /// A public reply to the post.
    Reply { text: String },
    /// A private message tied to the post: a Meta private reply to the
    /// comment (within the messaging window), an X DM, or a Mastodon
    /// direct-visibility status mentioning the author.
    PrivateMessage { text: String },
    /// Report the post and its author to the platform's moderators
    /// (Mastodon).
    Report { comment: String },
}

impl Op {
    /// A short name for logs and audit details.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Hide => "hide",
            Op::Unhide => "unhide",
            Op::Delete => "delete",
            Op::Block => "block",
            Op::Mute => "mute",
            Op::Reply { .. } => "reply",
            Op::PrivateMessage { .. } => "private_message",
            Op::Report { .. } => "report",
        }
    }
}

/// What a successful call did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    pub platform: Platform,
    pub op: &'static str,
    /// The request made, e.g. `POST /123_456?is_hidden=true` (no secrets).
    pub request: String,
    /// The id of anything the call created (reply, message, report).
    pub created_id: Option<String>,
    /// Whether this was simulated by the dry-run platform.
    pub dry_run: bool,
    /// How many attempts it took.
    pub attempts: u32,
}

/// Why a platform call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// The token has expired or been revoked (Meta code 190, X 401,
    /// Mastodon 401).
    #[error("{platform} token expired or invalid: {detail}")]
    TokenExpired { platform: Platform, detail: String },
    /// The token lacks a permission or the account a capability (Meta codes
    /// 10 and 200–299, X 403, Mastodon 403).
    #[error("{platform} permission missing: {detail}")]
    PermissionDenied { platform: Platform, detail: String },
    /// The post or account no longer exists.
    #[error("{platform} object not found: {detail}")]
    NotFound { platform: Platform, detail: String },
    /// The platform refused the request as invalid (Mastodon 422, other 4xx).
    #[error("{platform} rejected the request (HTTP {status}): {detail}")]
    Rejected {
        platform: Platform,
        status: u16,
        detail: String,
    },
    /// The text is longer than the platform allows (never truncated).
    #[error("{platform} text is {len} characters; the limit is {limit}")]
    TooLong {
        platform: Platform,
        len: usize,
        limit: usize,
    },
    /// The platform cannot do this operation (or not with this config).
    #[error("{platform} cannot {op}")]
    Unsupported {
        platform: Platform,
        op: &'static str,
    },
    /// The messaging window for a private reply has closed.
    #[error("{platform} private reply window closed: {detail}")]
    WindowClosed { platform: Platform, detail: String },
    /// No token in the environment variable the config names.
    #[error("{platform} token not set: environment variable {env} is empty or missing")]
    MissingToken { platform: Platform, env: String },
    /// 5xx, 429 or connection failures until the attempts ran out (or a
    /// Retry-After longer than allowed).
    #[error("{platform} unavailable after {attempts} attempt(s): {detail}")]
    Unavailable {
        platform: Platform,
        attempts: u32,
        detail: String,
    },
}

impl PlatformError {
    /// A short message for the Discord relay.
    pub fn user_message(&self) -> String {
        let p = platform_name(self.platform());
        match self {
            PlatformError::TokenExpired { .. } => {
                format!("{p} access token has expired or was revoked: an admin must renew it.")
            }
            PlatformError::PermissionDenied { .. } => {
                format!("{p} refused: the app is missing a permission for this action.")
            }
            PlatformError::NotFound { .. } => {
                format!("{p} says the post or account no longer exists.")
            }
            PlatformError::Rejected { .. } => format!("{p} rejected the request."),
            PlatformError::TooLong { len, limit, .. } => {
                format!("Too long for {p}: {len} characters, the limit is {limit}.")
            }
            PlatformError::Unsupported { op, .. } => format!("{p} cannot {op}."),
            PlatformError::WindowClosed { .. } => {
                format!("{p} no longer allows a private reply to this post.")
            }
            PlatformError::MissingToken { .. } => {
                format!("No {p} token is configured: an admin must set it.")
            }
            PlatformError::Unavailable { .. } => {
                format!("{p} is not responding right now. Try again shortly.")
            }
        }
    }

    /// The internal detail for the audit log (never contains a token).
    pub fn detail(&self) -> String {
        self.to_string()
    }

    /// Whether trying again unchanged may succeed (transient failures).
    /// Permanent ones need a fix first (a new token, a permission).
    pub fn is_transient(&self) -> bool {
        matches!(self, PlatformError::Unavailable { .. })
    }

    pub fn platform(&self) -> Platform {
        match self {
            PlatformError::TokenExpired { platform, .. }
            | PlatformError::PermissionDenied { platform, .. }
            | PlatformError::NotFound { platform, .. }
            | PlatformError::Rejected { platform, .. }
            | PlatformError::TooLong { platform, .. }
            | PlatformError::Unsupported { platform, .. }
            | PlatformError::WindowClosed { platform, .. }
            | PlatformError::MissingToken { platform, .. }
            | PlatformError::Unavailable { platform, .. } => *platform,
        }
    }
}

/// The platform's name as people write it.
pub fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Facebook => "Facebook",
        Platform::Instagram => "Instagram",
        Platform::X => "X",
        Platform::Mastodon => "Mastodon",
        Platform::Other => "This platform",
    }
}

/// A client for one platform. Object-safe: [`Platforms`] holds them as
/// `Arc<dyn PlatformClient>`.
pub trait PlatformClient: Send + Sync {
    /// The platform this client talks to.
    fn platform(&self) -> Platform;

    /// Carries out `op` on `target`.
    fn execute<'a>(
        &'a self,
        target: &'a Target,
        op: &'a Op,
    ) -> BoxFuture<'a, Result<Receipt, PlatformError>>;
}

const FACEBOOK: &[Action] = &[
    Action::Hide,
    Action::Delete,
    Action::Block,
    Action::Escalate,
    Action::SignpostComplaints,
    Action::SignpostClinical,
    Action::SignpostCrisis,
    Action::AskToDm,
    Action::Reply,
    Action::Dismiss,
];
const INSTAGRAM: &[Action] = &[
    Action::Hide,
    Action::Delete,
    Action::Escalate,
    Action::SignpostComplaints,
    Action::SignpostClinical,
    Action::SignpostCrisis,
    Action::AskToDm,
    Action::Reply,
    Action::Dismiss,
];
const X_NO_BLOCK: &[Action] = &[
    Action::Hide,
    Action::Escalate,
    Action::SignpostComplaints,
    Action::SignpostClinical,
    Action::SignpostCrisis,
    Action::AskToDm,
    Action::Reply,
    Action::Dismiss,
];
const X_WITH_BLOCK: &[Action] = &[
    Action::Hide,
    Action::Block,
    Action::Escalate,
    Action::SignpostComplaints,
    Action::SignpostClinical,
    Action::SignpostCrisis,
    Action::AskToDm,
    Action::Reply,
    Action::Dismiss,
];
const MASTODON: &[Action] = &[
    Action::Block,
    Action::Report,
    Action::Escalate,
    Action::SignpostComplaints,
    Action::SignpostClinical,
    Action::SignpostCrisis,
    Action::AskToDm,
    Action::Reply,
    Action::Dismiss,
];
const OTHER: &[Action] = &[Action::Escalate, Action::Dismiss];

/// The [`Action`]s a platform can carry out, in button order. X offers
/// Block only when `x_block_allowed` (the account's API tier allows it).
///
/// Hide on X is "hide reply"; Report exists on Mastodon only (`POST
/// /api/v1/reports`); Escalate keeps evidence and audits, with no platform
/// call; the Signpost actions and Ask to DM are replies with the org's
/// rendered template; Dismiss makes no platform call. Mute, unhide and
/// private replies are client operations ([`Op`]) with no button of their
/// own.
pub fn capabilities(platform: Platform, x_block_allowed: bool) -> &'static [Action] {
    match platform {
        Platform::Facebook => FACEBOOK,
        Platform::Instagram => INSTAGRAM,
        Platform::X if x_block_allowed => X_WITH_BLOCK,
        Platform::X => X_NO_BLOCK,
        Platform::Mastodon => MASTODON,
        Platform::Other => OTHER,
    }
}

/// The actions possible on one post: the platform's [`capabilities`] minus
/// hide and delete on a direct message (there is nothing public to remove).
pub fn post_capabilities(platform: Platform, kind: PostKind, x_block_allowed: bool) -> Vec<Action> {
    capabilities(platform, x_block_allowed)
        .iter()
        .copied()
        .filter(|a| !(kind == PostKind::Dm && matches!(a, Action::Hide | Action::Delete)))
        .collect()
}

/// The platform operation an action maps to, if any: `None` for Escalate
/// and Dismiss (no platform call). `text` is the reply text (the rendered
/// template for Signpost actions and Ask to DM, the team's text for Reply).
pub fn op_for(action: Action, text: Option<&str>, reason: Option<&str>) -> Option<Op> {
    match action {
        Action::Hide => Some(Op::Hide),
        Action::Delete => Some(Op::Delete),
        Action::Block => Some(Op::Block),
        Action::Report => Some(Op::Report {
            comment: reason.unwrap_or_default().to_owned(),
        }),
        Action::SignpostComplaints
        | Action::SignpostClinical
        | Action::SignpostCrisis
        | Action::AskToDm
        | Action::Reply => Some(Op::Reply {
            text: text.unwrap_or_default().to_owned(),
        }),
        Action::Escalate | Action::Dismiss => None,
    }
}

/// One client per platform, plus the settings the executor needs.
#[derive(Clone)]
pub struct Platforms {
    clients: HashMap<Platform, Arc<dyn PlatformClient>>,
    /// X block tier flag (see [`capabilities`]).
    pub x_block_allowed: bool,
    /// Days after a Facebook comment in which a private reply may be sent.
    pub facebook_private_reply_days: u32,
    /// Same for Instagram.
    pub instagram_private_reply_days: u32,
    /// Whether the clients are the dry-run platform.
    pub dry_run: bool,
    /// The token variable of each platform, to name in
    /// [`PlatformError::MissingToken`] when it has no client.
    token_envs: HashMap<Platform, String>,
}

impl std::fmt::Debug for Platforms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.clients.keys().map(|p| p.as_str()).collect();
        names.sort_unstable();
        f.debug_struct("Platforms")
            .field("clients", &names)
            .field("x_block_allowed", &self.x_block_allowed)
            .field("dry_run", &self.dry_run)
            .finish()
    }
}

/// Reads a token from the environment variable `env`.
pub fn token_from_env(platform: Platform, env: &str) -> Result<SecretString, PlatformError> {
    match std::env::var(env) {
        Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
        _ => Err(PlatformError::MissingToken {
            platform,
            env: env.to_owned(),
        }),
    }
}

impl Platforms {
    /// No clients yet; add them with [`Platforms::with_client`].
    pub fn empty(cfg: &PlatformsConfig) -> Platforms {
        Platforms {
            clients: HashMap::new(),
            x_block_allowed: cfg.x.block_allowed,
            facebook_private_reply_days: cfg.facebook.private_reply_days,
            instagram_private_reply_days: cfg.instagram.private_reply_days,
            dry_run: cfg.dry_run,
            token_envs: [
                (Platform::Facebook, cfg.facebook.token_env.clone()),
                (Platform::Instagram, cfg.instagram.token_env.clone()),
                (Platform::X, cfg.x.token_env.clone()),
            ]
            .into_iter()
            .chain(
                cfg.mastodon
                    .as_ref()
                    .map(|m| (Platform::Mastodon, m.token_env.clone())),
            )
            .collect(),
        }
    }

    /// Builds a client for every platform whose token variable is set (all
    /// of them dry-run when `cfg.dry_run`). A platform whose token is
    /// missing gets no client: acting on it fails with
    /// [`PlatformError::MissingToken`] naming the variable.
    pub fn from_config(cfg: &PlatformsConfig) -> Result<Platforms, reqwest::Error> {
        if cfg.dry_run {
            return Ok(Platforms::dry_run(cfg, Arc::new(DryRun::new())));
        }
        let mut p = Platforms::empty(cfg);
        for platform in [Platform::Facebook, Platform::Instagram] {
            let c = if platform == Platform::Facebook {
                &cfg.facebook
            } else {
                &cfg.instagram
            };
            if let Ok(token) = token_from_env(platform, &c.token_env) {
                p = p.with_client(Arc::new(graph::GraphClient::new(
                    platform, c, &cfg.retry, token,
                )?));
            }
        }
        if let Ok(token) = token_from_env(Platform::X, &cfg.x.token_env) {
            p = p.with_client(Arc::new(x::XClient::new(&cfg.x, &cfg.retry, token)?));
        }
        if let Some(m) = &cfg.mastodon {
            if let Ok(token) = token_from_env(Platform::Mastodon, &m.token_env) {
                p = p.with_client(Arc::new(mastodon::MastodonClient::new(
                    m, &cfg.retry, token,
                )?));
            }
        }
        Ok(p)
    }

    /// Every platform served by one shared dry-run client.
    pub fn dry_run(cfg: &PlatformsConfig, dry: Arc<DryRun>) -> Platforms {
        let mut p = Platforms::empty(cfg);
        p.dry_run = true;
        for platform in [
            Platform::Facebook,
            Platform::Instagram,
            Platform::X,
            Platform::Mastodon,
        ] {
            p.clients.insert(platform, dry.clone());
        }
        p
    }

    /// Adds (or replaces) the client for its platform.
    pub fn with_client(mut self, client: Arc<dyn PlatformClient>) -> Platforms {
        self.clients.insert(client.platform(), client);
        self
    }

    /// The client for `platform`, if configured.
    pub fn client(&self, platform: Platform) -> Option<&Arc<dyn PlatformClient>> {
        self.clients.get(&platform)
    }

    /// The client for `platform`, or why there is none.
    pub fn require(&self, platform: Platform) -> Result<&Arc<dyn PlatformClient>, PlatformError> {
        self.clients
            .get(&platform)
            .ok_or_else(|| PlatformError::MissingToken {
                platform,
                env: self
                    .token_envs
                    .get(&platform)
                    .cloned()
                    .unwrap_or_else(|| "(no client for this platform)".to_owned()),
            })
    }

    /// The actions possible on `platform` with this config.
    pub fn capabilities(&self, platform: Platform) -> &'static [Action] {
        capabilities(platform, self.x_block_allowed)
    }

    /// Days after a post in which a private reply may be sent, where the
    /// platform has such a window.
    pub fn private_reply_days(&self, platform: Platform) -> Option<u32> {
        match platform {
            Platform::Facebook => Some(self.facebook_private_reply_days),
            Platform::Instagram => Some(self.instagram_private_reply_days),
            _ => None,
        }
    }
}

/// Characters as X counts them for the 280 limit: each URL (`http://` or
/// `https://` up to the next whitespace) counts 23 (t.co wrapping), and
/// every other character counts 2 if it is in the CJK, Hangul, Hiragana or
/// Katakana ranges or an emoji above U+1F000, else 1. A close approximation
/// of X's `twitter-text` weighting.
pub fn x_length(text: &str) -> usize {
    let mut n = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end();
        if trimmed.starts_with("https://") || trimmed.starts_with("http://") {
            n += 23 + (word.chars().count() - trimmed.chars().count());
            continue;
        }
        for c in word.chars() {
            let cp = c as u32;
            let wide = (0x1100..=0x11FF).contains(&cp)
                || (0x2E80..=0x9FFF).contains(&cp)
                || (0xAC00..=0xD7AF).contains(&cp)
                || (0xF900..=0xFAFF).contains(&cp)
                || (0xFF00..=0xFFEF).contains(&cp)
                || cp >= 0x1F000;
            n += if wide { 2 } else { 1 };
        }
    }
    n
}

/// X's limit for a post.
pub const X_LIMIT: usize = 280;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_block_follows_the_tier_flag() {
        assert!(!capabilities(Platform::X, false).contains(&Action::Block));
        assert!(capabilities(Platform::X, true).contains(&Action::Block));
        assert!(capabilities(Platform::Mastodon, false).contains(&Action::Report));
        assert!(!capabilities(Platform::Facebook, true).contains(&Action::Report));
        assert!(!post_capabilities(Platform::Facebook, PostKind::Dm, false).contains(&Action::Hide));
    }

    #[test]
    fn x_length_weights_urls_and_wide_characters() {
        assert_eq!(x_length("hello"), 5);
        assert_eq!(
            x_length("see https://example.com/a/very/long/path/indeed ok"),
            4 + 23 + 3
        );
        assert_eq!(x_length("日本"), 4);
    }

    #[test]
    fn op_mapping() {
        assert_eq!(op_for(Action::Escalate, None, None), None);
        assert_eq!(op_for(Action::Dismiss, None, None), None);
        assert_eq!(
            op_for(Action::SignpostClinical, Some("call 111"), None),
            Some(Op::Reply {
                text: "call 111".into()
            })
        );
    }
}
