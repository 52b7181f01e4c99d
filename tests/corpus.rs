//! The data-driven rule corpus in `tests/data/corpus_*.toml`: each case's
//! expected and rejected categories, checked against the shipped config.

use serde::Deserialize;
use signpost::category::Category;
use signpost::classify::{Classifier, Input};
use signpost::config::Config;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    text: String,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    expect: Vec<Category>,
    #[serde(default)]
    reject: Vec<Category>,
}

#[test]
fn rule_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&root.join("config")).expect("shipped config loads");
    let classifier = Classifier::new(&config).expect("shipped rules compile");
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut paths: Vec<_> = std::fs::read_dir(root.join("tests/data"))
        .expect("tests/data exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("corpus_") && n.ends_with(".toml"))
        })
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("readable");
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in file.case {
            cases += 1;
            let c = classifier.classify(&Input {
                text: &case.text,
                org: case.org.as_deref(),
                ..Input::default()
            });
            for want in &case.expect {
                if !c.has(*want) {
                    failures.push(format!(
                        "{}: `{}` should be {want}, got {:?} (rules {:?})",
                        case.name, case.text, c.categories, c.rules
                    ));
                }
            }
            for bad in &case.reject {
                if c.has(*bad) {
                    failures.push(format!(
                        "{}: `{}` must not be {bad}, got rules {:?}",
                        case.name, case.text, c.rules
                    ));
                }
            }
        }
    }
    assert!(cases >= 60, "corpus too small: {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
