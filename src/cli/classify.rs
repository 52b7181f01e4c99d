//! `signpost classify`: JSONL in, one JSON result a line out, streaming.

use crate::classify::repeat::History;
use crate::classify::{Classifier, Input};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    text: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    author: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct Output<'a> {
    id: &'a str,
    categories: &'a [crate::category::Category],
    rules: &'a [String],
    severity: crate::category::Severity,
    suggested_actions: &'a [crate::category::Action],
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<crate::classify::Explanation>,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<serde_json::Value>,
    error: &'a str,
}

pub fn run(classifier: &Classifier, org: Option<&str>, explain: bool) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    process(classifier, org, explain, stdin, stdout)?;
    Ok(ExitCode::SUCCESS)
}

/// The streaming loop, separated from stdin/stdout for tests.
pub fn process<R: BufRead, W: Write>(
    classifier: &Classifier,
    org: Option<&str>,
    explain: bool,
    mut input: R,
    output: W,
) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, output);
    let mut history = History::new(Duration::hours(24), 100_000);
    let mut buf = String::new();
    loop {
        buf.clear();
        if input.read_line(&mut buf)? == 0 {
            break;
        }
        let line = buf.trim_end_matches(['\n', '\r']);
        match serde_json::from_str::<Line<'_>>(line) {
            Ok(l) => {
                let recent = match (&l.author, l.created_at) {
                    (Some(a), Some(_)) => history.recent(a),
                    _ => &[],
                };
                let c = classifier.classify(&Input {
                    text: &l.text,
                    org,
                    at: l.created_at,
                    recent,
                });
                serde_json::to_writer(
                    &mut out,
                    &Output {
                        id: &l.id,
                        categories: &c.categories,
                        rules: &c.rules,
                        severity: c.severity,
                        suggested_actions: &c.suggested_actions,
                        explain: explain.then(|| classifier.explain(&l.text)),
                    },
                )?;
                if let (Some(a), Some(at)) = (&l.author, l.created_at) {
                    history.push(a, &l.text, at);
                }
            }
            Err(e) => {
                let id = serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("id").cloned());
                let msg = if line.trim().is_empty() {
                    "empty line".to_string()
                } else {
                    format!("invalid input line: {e}")
                };
                serde_json::to_writer(&mut out, &ErrorLine { id, error: &msg })?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}
