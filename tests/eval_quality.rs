//! Quality floors on the labelled dev sets (`$SIGNPOST_EVAL_DIR`, set by
//! `.ci/run`): a rule change that makes the classifier worse than this fails.
//! The floors sit just under what the shipped rules reach today; the issue's
//! targets are higher (see the README's figures).
//! `crisis_recall_on_written_posts` and the `nhs_posts_*` tests use sets kept
//! in `tests/data/` instead.

use signpost::classify::{Classifier, Input};
use signpost::config::Config;
use std::path::{Path, PathBuf};

fn eval(file: &str) -> Option<serde_json::Value> {
    let Ok(dir) = std::env::var("SIGNPOST_EVAL_DIR") else {
        eprintln!("skipped: SIGNPOST_EVAL_DIR is not set");
        return None;
    };
    Some(eval_path(&PathBuf::from(dir).join(file)))
}

fn eval_path(path: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["eval", path.to_str().expect("utf8"), "--json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn at_least(v: &serde_json::Value, category: &str, metric: &str, floor: f64) {
    let got = v["categories"][category][metric].as_f64().expect("metric");
    assert!(
        got >= floor,
        "{category} {metric} fell to {got:.3} (floor {floor})"
    );
}

#[test]
fn hate_on_tweeteval() {
    if let Some(v) = eval("tweeteval_hate.jsonl") {
        at_least(&v, "hate", "f1", 0.60);
        at_least(&v, "hate", "precision", 0.75);
    }
}

#[test]
fn spam_on_sms() {
    if let Some(v) = eval("sms_spam.jsonl") {
        at_least(&v, "spam", "f1", 0.88);
        at_least(&v, "spam", "precision", 0.95);
    }
}

#[test]
fn spam_on_youtube() {
    if let Some(v) = eval("youtube_spam.jsonl") {
        at_least(&v, "spam", "f1", 0.84);
        at_least(&v, "spam", "precision", 0.95);
    }
}

#[test]
fn offensive_on_olid() {
    if let Some(v) = eval("olid.jsonl") {
        at_least(&v, "offensive", "macro_f1", 0.68);
        at_least(&v, "offensive", "precision", 0.78);
    }
}

/// `tests/data/crisis_eval.jsonl`: 484 crisis posts and 237 look-alikes
/// written for issue 2 (no eval set labels crisis). Recall matters most:
/// the floor sits just under the 0.806 the shipped rules reach.
#[test]
fn crisis_recall_on_written_posts() {
    let v =
        eval_path(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/crisis_eval.jsonl"));
    at_least(&v, "crisis", "recall", 0.80);
    at_least(&v, "crisis", "precision", 0.90);
}

/// `tests/data/nhs_eval.jsonl`: 1,150 comments to NHS trusts' accounts,
/// written in four sets by writers who never saw the rules, every row
/// labelled in eight categories. Hide categories need precision; crisis and
/// threats need recall. Floors sit just under what the shipped rules reach.
#[test]
fn nhs_posts_written_for_the_trusts() {
    let v = eval_path(&nhs_eval());
    at_least(&v, "abuse", "precision", 0.90);
    at_least(&v, "abuse", "recall", 0.72);
    at_least(&v, "threat", "precision", 0.95);
    at_least(&v, "threat", "recall", 0.90);
    at_least(&v, "hate", "precision", 0.95);
    at_least(&v, "hate", "recall", 0.77);
    at_least(&v, "crisis", "recall", 0.90);
    at_least(&v, "clinical_question", "recall", 0.80);
    at_least(&v, "complaint", "precision", 0.85);
}

/// The trusts never remove a post for being negative: no complaint in
/// `nhs_eval.jsonl` that is labelled free of abuse, threats, hate, swearing
/// and sexual content may come out in a category that hides it.
#[test]
fn nhs_posts_negative_is_not_abusive() {
    const HIDE: [&str; 5] = ["abuse", "threat", "hate", "profanity", "sexual"];
    let text = std::fs::read_to_string(nhs_eval()).expect("nhs_eval.jsonl");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json row"))
        .filter(|r: &serde_json::Value| {
            r["labels"]["complaint"] == 1 && HIDE.iter().all(|c| r["labels"][*c] == 0)
        })
        .collect();
    assert!(rows.len() > 300, "{} negative-only complaints", rows.len());
    let config = Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"))
        .expect("shipped config");
    let classifier = Classifier::new(&config).expect("rules");
    let hidden: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let c = classifier.classify(&Input::text(r["text"].as_str().expect("text")));
            c.categories
                .iter()
                .any(|cat| HIDE.contains(&cat.as_str()))
                .then(|| format!("{} {:?}", r["id"], c.rules))
        })
        .collect();
    assert!(
        hidden.is_empty(),
        "negative posts flagged for hiding: {hidden:?}"
    );
}

fn nhs_eval() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/nhs_eval.jsonl")
}
