//! `signpost check`: load and validate every config file and the reply
//! templates in `replies/` beside the config directory, print a summary.

use crate::category::Category;
use std::path::Path;
use std::process::ExitCode;

pub fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    let (config, classifier) = super::load(dir, None)?;
    println!("config: {}", dir.display());
    println!(
        "rules: {} in {} files, {} phrases, {} word lists",
        classifier.rule_count(),
        config
            .rules
            .iter()
            .map(|r| &r.file)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        classifier.phrase_count(),
        config.wordlists.len()
    );
    let (regexes, always) = classifier.regex_gating();
    println!(
        "regexes: {regexes} over normalised text, {always} of them run on every post \
         (the rest only when the phrase lookup sees their literals)"
    );
    if regexes > crate::classify::MAX_GATED {
        println!(
            "warning: only the first {} regexes are gated, the rest run on every post; \
             move patterns to `words` or merge them",
            crate::classify::MAX_GATED
        );
    }
    println!("categories:");
    for c in Category::ALL {
        let n = config
            .rules
            .iter()
            .filter(|r| r.def.category == *c || r.def.also.contains(c))
            .count();
        println!("  {:<18} {:>3} rules  {}", c.as_str(), n, c.meaning());
    }
    println!("orgs:");
    for org in config.orgs.values() {
        println!(
            "  {:<10} {} — acts on {} categories, {} staff names, strikes {} in {} days",
            org.id,
            org.name,
            org.categories.len(),
            org.staff.len(),
            org.strikes.threshold,
            org.strikes.days
        );
        println!(
            "             hours: {}",
            config.schedule(&org.id)?.window_text()
        );
    }
    let replies_dir = crate::replies::default_dir(dir);
    let replies = crate::replies::Replies::load(&replies_dir, &config)?;
    let counts: Vec<String> = replies
        .counts()
        .iter()
        .map(|(org, n)| format!("{org} {n}"))
        .collect();
    println!(
        "replies: {} — templates per org: {}",
        replies_dir.display(),
        counts.join(", ")
    );
    let org_ids: Vec<&str> = config.orgs.keys().map(String::as_str).collect();
    let discord = crate::config::discord::DiscordConfig::load(dir, &org_ids)?;
    println!(
        "discord: {} orgs mapped to guilds, api {}",
        discord.orgs.len(),
        discord.api_base
    );
    let platforms = crate::config::platforms::PlatformsConfig::load(dir)?;
    println!(
        "platforms: {}{}",
        if platforms.dry_run {
            "dry run (nothing is sent)"
        } else {
            "live"
        },
        if platforms.mastodon.is_some() {
            ", Mastodon configured"
        } else {
            ""
        }
    );
    println!("ok");
    Ok(ExitCode::SUCCESS)
}
