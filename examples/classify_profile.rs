//! Profiling aid: classify every dev-set post `PASSES` times (default 10),
//! Signpost alone, for `perf` or for counting instructions with cachegrind.
//! Wall-clock figures on a shared VM move by a quarter from run to run;
//! instruction counts do not:
//!
//! ```sh
//! cargo build --release --example classify_profile
//! for p in 1 3; do SIGNPOST_EVAL_DIR=../shared/eval/dev PASSES=$p \
//!   valgrind --tool=cachegrind --cache-sim=no target/release/examples/classify_profile; done
//! ```
//!
//! Half the difference between the two totals is the instructions of one
//! pass, set-up excluded. `ONLY=ascii` or `ONLY=nonascii` keeps those posts;
//! `PROFILE_NORMALIZE=1` runs the normaliser alone.
use signpost::classify::{Classifier, Input};
use signpost::config::Config;
use std::path::Path;
use std::time::Instant;

fn main() {
    let config =
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config")).expect("config");
    let classifier = Classifier::new(&config).expect("rules");
    let passes: usize = std::env::var("PASSES")
        .ok()
        .map_or(10, |p| p.parse().expect("PASSES is a number"));
    let dir = std::env::var("SIGNPOST_EVAL_DIR").expect("set SIGNPOST_EVAL_DIR");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("SIGNPOST_EVAL_DIR is a directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut posts = Vec::new();
    for f in &files {
        for line in std::fs::read_to_string(f).expect("readable").lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(t) = v["text"].as_str() {
                    posts.push(t.to_string());
                }
            }
        }
    }
    match std::env::var("ONLY").as_deref() {
        Ok("ascii") => posts.retain(|p| p.is_ascii()),
        Ok("nonascii") => posts.retain(|p| !p.is_ascii()),
        _ => {}
    }
    let normalize_only = std::env::var("PROFILE_NORMALIZE").is_ok();
    let start = Instant::now();
    let mut seen = 0;
    for _ in 0..passes {
        for p in &posts {
            seen += if normalize_only {
                classifier.normalize(p).tokens
            } else {
                usize::from(!classifier.classify(&Input::text(p)).categories.is_empty())
            };
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes = posts.iter().map(String::len).sum::<usize>() * passes;
    println!(
        "{}: {} posts × {passes} passes, {:.1} MB/s, {:.0} posts/s ({seen} {})",
        if normalize_only {
            "normalize"
        } else {
            "classify"
        },
        posts.len(),
        bytes as f64 / 1e6 / secs,
        (posts.len() * passes) as f64 / secs,
        if normalize_only { "tokens" } else { "flagged" },
    );
}
