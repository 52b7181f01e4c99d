//! `signpost eval`: precision, recall and F1 per category over a labelled file.
//!
//! A category absent from a row's `labels` is unknown for that row and is not
//! scored. The pseudo-category `offensive` is "any of abuse, threat, hate,
//! profanity, sexual". Macro-F1 is the mean of the F1 of the positive and the
//! negative class, as in OffensEval.

use crate::category::{Category, Severity};
use crate::classify::{Classification, Classifier, Input};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

#[derive(Deserialize)]
struct Row {
    id: String,
    text: String,
    labels: BTreeMap<String, u8>,
}

/// Confusion counts for one category.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub r#fn: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

impl Counts {
    pub fn support(&self) -> u64 {
        self.tp + self.r#fn
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.r#fn)
    }
    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
    /// Mean of the positive-class and negative-class F1.
    pub fn macro_f1(&self) -> f64 {
        let neg_p = ratio(self.tn, self.tn + self.r#fn);
        let neg_r = ratio(self.tn, self.tn + self.fp);
        (self.f1() + f1(neg_p, neg_r)) / 2.0
    }
}

/// Whether the classification says yes for a label name.
pub fn predicts(label: &str, c: &Classification) -> Option<bool> {
    if label == "offensive" {
        return Some(Category::OFFENSIVE.iter().any(|k| c.has(*k)));
    }
    label.parse::<Category>().ok().map(|k| c.has(k))
}

struct Miss {
    id: String,
    text: String,
    severity: Severity,
    rules: Vec<String>,
}

#[derive(Serialize)]
struct Report {
    file: String,
    rows: u64,
    categories: BTreeMap<String, CategoryReport>,
}

#[derive(Serialize)]
struct CategoryReport {
    support: u64,
    precision: f64,
    recall: f64,
    f1: f64,
    macro_f1: f64,
    counts: Counts,
}

pub fn run(
    classifier: &Classifier,
    file: &Path,
    org: Option<&str>,
    show: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let reader = std::io::BufReader::new(
        std::fs::File::open(file)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?,
    );
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut fps: BTreeMap<String, Vec<Miss>> = BTreeMap::new();
    let mut fns: BTreeMap<String, Vec<Miss>> = BTreeMap::new();
    let mut rows = 0u64;
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", file.display(), n + 1))?;
        rows += 1;
        let c = classifier.classify(&Input {
            text: &row.text,
            org,
            ..Input::default()
        });
        for (label, &truth) in &row.labels {
            let Some(pred) = predicts(label, &c) else {
                continue;
            };
            let k = counts.entry(label.clone()).or_default();
            let miss = || Miss {
                id: row.id.clone(),
                text: row.text.clone(),
                severity: c.severity,
                rules: c.rules.clone(),
            };
            match (truth != 0, pred) {
                (true, true) => k.tp += 1,
                (false, false) => k.tn += 1,
                (false, true) => {
                    k.fp += 1;
                    if show > 0 {
                        fps.entry(label.clone()).or_default().push(miss());
                    }
                }
                (true, false) => {
                    k.r#fn += 1;
                    if show > 0 {
                        fns.entry(label.clone()).or_default().push(miss());
                    }
                }
            }
        }
    }

    if json {
        let report = Report {
            file: file.display().to_string(),
            rows,
            categories: counts
                .iter()
                .map(|(k, c)| {
                    (
                        k.clone(),
                        CategoryReport {
                            support: c.support(),
                            precision: c.precision(),
                            recall: c.recall(),
                            f1: c.f1(),
                            macro_f1: c.macro_f1(),
                            counts: *c,
                        },
                    )
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }

    println!(
        "{}: {rows} rows{}",
        file.display(),
        org.map(|o| format!(", org {o}")).unwrap_or_default()
    );
    println!(
        "{:<18} {:>8} {:>9} {:>7} {:>6} {:>9}",
        "category", "support", "precision", "recall", "F1", "macro-F1"
    );
    for (label, c) in &counts {
        println!(
            "{:<18} {:>8} {:>9.3} {:>7.3} {:>6.3} {:>9.3}",
            label,
            c.support(),
            c.precision(),
            c.recall(),
            c.f1(),
            c.macro_f1()
        );
    }
    if show > 0 {
        for (title, misses) in [("false positives", &mut fps), ("false negatives", &mut fns)] {
            for (label, list) in misses.iter_mut() {
                // Worst first: the most severe wrong flags, the shortest misses.
                list.sort_by(|a, b| {
                    b.severity
                        .cmp(&a.severity)
                        .then(a.text.len().cmp(&b.text.len()))
                });
                println!("\n{title} for {label} ({} in all):", list.len());
                for m in list.iter().take(show) {
                    let text: String = m
                        .text
                        .chars()
                        .take(160)
                        .collect::<String>()
                        .replace('\n', " ");
                    println!(
                        "  {} [{}] {}  {}",
                        m.id,
                        m.severity,
                        m.rules.join(","),
                        text
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_averages_both_classes() {
        let c = Counts {
            tp: 8,
            fp: 2,
            tn: 85,
            r#fn: 5,
        };
        assert!((c.precision() - 0.8).abs() < 1e-9);
        assert!((c.recall() - 8.0 / 13.0).abs() < 1e-9);
        let neg = f1(85.0 / 90.0, 85.0 / 87.0);
        assert!((c.macro_f1() - (c.f1() + neg) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn empty_counts_do_not_divide_by_zero() {
        let c = Counts::default();
        assert_eq!(c.f1(), 0.0);
        assert_eq!(c.macro_f1(), 0.0);
    }
}
