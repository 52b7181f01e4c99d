//! Signpost's inbound post: the one shape every adapter (webhook, CLI, replay)
//! maps platform payloads into before the core sees them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A social platform Signpost can hear from and act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Facebook,
    Instagram,
    X,
    Mastodon,
    /// Posts from the generic ingest endpoint or the CLI.
    Other,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Facebook => "facebook",
            Platform::Instagram => "instagram",
            Platform::X => "x",
            Platform::Mastodon => "mastodon",
            Platform::Other => "other",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where on the platform the post was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    #[default]
    Comment,
    Reply,
    Mention,
    Dm,
}

impl PostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Comment => "comment",
            PostKind::Reply => "reply",
            PostKind::Mention => "mention",
            PostKind::Dm => "dm",
        }
    }
}

/// A post as Signpost sees it, whatever platform it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundPost {
    pub platform: Platform,
    /// The platform's own id for the post; with `platform` it makes the post unique.
    pub external_id: String,
    /// The trust account the post was made to.
    pub account: String,
    /// The org (trust) that owns `account`, e.g. `las`.
    pub org: String,
    pub kind: PostKind,
    /// The author's stable platform id.
    pub author_id: String,
    /// The author's handle or display name.
    pub author_handle: String,
    pub text: String,
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
}
