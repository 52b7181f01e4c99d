//! Profiling aid: classify the dev sets in a loop (no peer), for `perf`.
//! `SIGNPOST_EVAL_DIR=../shared/eval/dev cargo run --release --example classify_profile`
use signpost::classify::{Classifier, Input};
use signpost::config::Config;
use std::path::Path;

fn main() {
    let config =
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config")).expect("config");
    let classifier = Classifier::new(&config).expect("rules");
    let dir = std::env::var("SIGNPOST_EVAL_DIR").expect("set SIGNPOST_EVAL_DIR");
    let mut posts = Vec::new();
    for f in std::fs::read_dir(dir).expect("dir") {
        let text = std::fs::read_to_string(f.expect("entry").path()).expect("read");
        for line in text.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(t) = v["text"].as_str() {
                    posts.push(t.to_string());
                }
            }
        }
    }
    let t = std::time::Instant::now();
    let mut m = 0usize;
    let rounds = if std::env::var("PROFILE_NORMALIZE").is_ok() {
        30
    } else {
        1
    };
    for _ in 0..rounds {
        for p in &posts {
            m += classifier.normalize(p).tokens;
        }
    }
    let t = t.elapsed() / rounds;
    let bytes1: usize = posts.iter().map(String::len).sum();
    println!(
        "normalize only: {:.1} MB/s ({m})",
        bytes1 as f64 / 1e6 / t.as_secs_f64()
    );
    if rounds > 1 {
        return;
    }
    let start = std::time::Instant::now();
    let mut n = 0usize;
    for _ in 0..10 {
        for p in &posts {
            n += classifier
                .classify(&Input {
                    text: p,
                    org: Some("las"),
                    ..Input::default()
                })
                .categories
                .len();
        }
    }
    let bytes: usize = posts.iter().map(String::len).sum::<usize>() * 10;
    let s = start.elapsed().as_secs_f64();
    println!(
        "{n} {:.1} MB/s {:.0} posts/s",
        bytes as f64 / 1e6 / s,
        (posts.len() * 10) as f64 / s
    );
}
