//! The dry-run platform: an explicit mode (`dry_run = true` in
//! `config/platforms.toml`, `signpost replay`, tests) in which every platform
//! call is recorded and reported as done without touching the network. The
//! executor audits such actions with the `dry_run` outcome, so nobody can
//! mistake them for real ones.

use super::{BoxFuture, Op, PlatformClient, PlatformError, Receipt, Target};
use crate::model::Platform;
use std::sync::Mutex;

/// Records `(target, op)` pairs and succeeds.
#[derive(Debug, Default)]
pub struct DryRun {
    calls: Mutex<Vec<(Target, Op)>>,
}

impl DryRun {
    pub fn new() -> DryRun {
        DryRun::default()
    }

    /// Every call made so far, in order.
    pub fn calls(&self) -> Vec<(Target, Op)> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl PlatformClient for DryRun {
    /// The dry-run client serves every platform; [`super::Platforms::dry_run`]
    /// registers it for each. Reported as `Other` when asked alone.
    fn platform(&self) -> Platform {
        Platform::Other
    }

    fn execute<'a>(
        &'a self,
        target: &'a Target,
        op: &'a Op,
    ) -> BoxFuture<'a, Result<Receipt, PlatformError>> {
        Box::pin(async move {
            if target.platform == Platform::X {
                if let Op::Reply { text } | Op::PrivateMessage { text } = op {
                    super::x::check_length(text)?;
                }
            }
            if let Ok(mut calls) = self.calls.lock() {
                calls.push((target.clone(), op.clone()));
            }
            Ok(Receipt {
                platform: target.platform,
                op: op.name(),
                request: format!("dry-run {} {}", op.name(), target.post_id),
                created_id: None,
                dry_run: true,
                attempts: 1,
            })
        })
    }
}
