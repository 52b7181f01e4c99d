//! `cargo bench --bench classify`: throughput of the whole classify path
//! (normalise + match + context + actions) on one core, side by side with the
//! `rustrict` crate on the same posts in the same run.
//!
//! Posts come from `$SIGNPOST_EVAL_DIR/*.jsonl` (the labelled dev sets, i.e.
//! real tweets, SMS and YouTube comments) when that is set, and otherwise from
//! a built-in set of realistic replies to NHS accounts. Each side runs for a
//! fixed number of passes after a warm-up; the figure is the best of three.

use signpost::classify::{Classifier, Input};
use signpost::config::Config;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const BUILT_IN: &[&str] = &[
    "Huge thank you to the paramedics who looked after my nan last night, you were amazing",
    "Left on a trolley for 14 hours, disgraceful. Nobody came to check on her.",
    "took 3 fucking hours for an ambulance, absolute joke",
    "My son has a rash and a high temperature, should I go to A&E?",
    "@NHSTrust your receptionist is a useless idiot and I want her sacked",
    "I know where you live. Watch your back.",
    "What time does the visitor car park open on Sundays?",
    "Can I take ibuprofen with my blood pressure tablets? Nobody at my GP is answering",
    "Feeling suicidal tonight and the crisis line isn't answering, I can't do this anymore",
    "Congratulations! You have won a £1000 prize. Txt CLAIM to 80808 now. T&Cs apply",
    "Check out my channel for the best fitness tips, please subscribe!",
    "my NHS number is 943 476 5919, can someone check my referral? call me on 07700 900123",
    "Really disappointed with the care my mum received on ward 7, the staff seemed overwhelmed",
    "Great to see the new mental health unit opening in Norwich this week 👏",
    "f*ck this place, f.u.c.k all of you",
    "Is it normal to still have pain a week after stitches? Should I be worried?",
    "Why has nobody answered my question about parking yet",
    "Don't take the death jab, vaccines cause autism, do your research",
    "Scunthorpe, Essex and Dickens walk into an assessment with a therapist and a cocktail",
    "Proud to support World Suicide Prevention Day with our partners #WSPD",
];

fn load_posts() -> (Vec<String>, String) {
    if let Ok(dir) = std::env::var("SIGNPOST_EVAL_DIR") {
        let mut posts = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("SIGNPOST_EVAL_DIR is a directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        for f in &files {
            for line in std::fs::read_to_string(f).expect("readable").lines() {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                    if let Some(t) = v["text"].as_str() {
                        posts.push(t.to_string());
                    }
                }
            }
        }
        if !posts.is_empty() {
            return (posts, format!("{} posts from {dir}", files.len()));
        }
    }
    let posts = BUILT_IN.iter().map(|s| s.to_string()).collect();
    (
        posts,
        "built-in NHS replies (set SIGNPOST_EVAL_DIR for the dev sets)".into(),
    )
}

/// Best of three timed runs of `passes` passes over `posts`.
fn measure(posts: &[String], passes: usize, mut f: impl FnMut(&str) -> usize) -> (Duration, usize) {
    let mut sink = 0;
    for p in posts.iter().take(2000) {
        sink += f(p);
    }
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        for _ in 0..passes {
            for p in posts {
                sink += f(black_box(p));
            }
        }
        best = best.min(start.elapsed());
    }
    (best, sink)
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&root.join("config")).expect("config loads");
    let classifier = Classifier::new(&config).expect("rules compile");
    let (posts, source) = load_posts();
    let bytes: usize = posts.iter().map(String::len).sum();
    // Aim for roughly 30 MB per timed run on each side.
    let passes = (30_000_000 / bytes.max(1)).clamp(1, 10_000);
    let total_posts = (posts.len() * passes) as f64;
    let total_mb = (bytes * passes) as f64 / 1e6;

    println!(
        "classify bench: {} posts, {:.2} MB per pass, {passes} passes, {source}",
        posts.len(),
        bytes as f64 / 1e6
    );
    let (ours, sink_a) = measure(&posts, passes, |t| {
        let c = classifier.classify(&Input {
            text: t,
            org: Some("las"),
            ..Input::default()
        });
        c.categories.len()
    });
    // `SIGNPOST_BENCH_PEER=0` skips rustrict, for profiling Signpost alone.
    if std::env::var("SIGNPOST_BENCH_PEER").is_ok_and(|v| v == "0") {
        black_box(sink_a);
        report_one("signpost", ours, total_posts, total_mb);
        return;
    }
    let (peer, sink_b) = measure(&posts, passes, |t| {
        usize::from(
            rustrict::Censor::from_str(t)
                .analyze()
                .is(rustrict::Type::INAPPROPRIATE),
        )
    });
    black_box((sink_a, sink_b));
    report_one("signpost", ours, total_posts, total_mb);
    report_one("rustrict", peer, total_posts, total_mb);
    println!(
        "  ratio      signpost is {:.1}x rustrict",
        peer.as_secs_f64() / ours.as_secs_f64()
    );
    quality_side_by_side(&classifier);
}

fn report_one(name: &str, d: Duration, total_posts: f64, total_mb: f64) {
    let s = d.as_secs_f64();
    println!(
        "  {name:<10} {:>12.0} posts/s {:>9.1} MB/s  ({:.3} s)",
        total_posts / s,
        total_mb / s,
        s
    );
}

/// Offensive-language quality of both on OLID, when the dev sets are there:
/// `offensive` = any of abuse/threat/hate/profanity/sexual for Signpost, and
/// "inappropriate" for rustrict.
fn quality_side_by_side(classifier: &Classifier) {
    let Ok(dir) = std::env::var("SIGNPOST_EVAL_DIR") else {
        return;
    };
    let Ok(text) = std::fs::read_to_string(Path::new(&dir).join("olid.jsonl")) else {
        return;
    };
    // (tp, fp, tn, fn) for each side.
    let mut ours = [0u32; 4];
    let mut peer = [0u32; 4];
    let tally = |c: &mut [u32; 4], truth: bool, pred: bool| {
        c[match (truth, pred) {
            (true, true) => 0,
            (false, true) => 1,
            (false, false) => 2,
            (true, false) => 3,
        }] += 1;
    };
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(t), Some(label)) = (v["text"].as_str(), v["labels"]["offensive"].as_u64()) else {
            continue;
        };
        let c = classifier.classify(&Input::text(t));
        let o = signpost::category::Category::OFFENSIVE
            .iter()
            .any(|k| c.has(*k));
        tally(&mut ours, label == 1, o);
        let r = rustrict::Censor::from_str(t)
            .analyze()
            .is(rustrict::Type::INAPPROPRIATE);
        tally(&mut peer, label == 1, r);
    }
    let figures = |c: &[u32; 4]| {
        let f = |a: f64, b: f64| {
            if a + b == 0.0 {
                0.0
            } else {
                2.0 * a * b / (a + b)
            }
        };
        let [tp, fp, tn, fneg] = c.map(f64::from);
        let (p, r) = (tp / (tp + fp).max(1.0), tp / (tp + fneg).max(1.0));
        let (np, nr) = (tn / (tn + fneg).max(1.0), tn / (tn + fp).max(1.0));
        (p, r, f(p, r), (f(p, r) + f(np, nr)) / 2.0)
    };
    println!("OLID offensive (same posts):");
    for (name, c) in [("signpost", &ours), ("rustrict", &peer)] {
        let (p, r, f1, m) = figures(c);
        println!("  {name:<10} precision {p:.3}  recall {r:.3}  F1 {f1:.3}  macro-F1 {m:.3}");
    }
}
