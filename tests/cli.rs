//! The command-line contracts: `classify` (one JSON line per input line, in
//! order, errors inline), `check` (bad config fails with file, line, column,
//! rule id), `eval` and `hours`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_signpost"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("binary finishes")
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn classify_writes_one_result_per_line_in_order() {
    let input = concat!(
        r#"{"id":"1","text":"I know where you live"}"#,
        "\n",
        r#"{"id":"2","text":"Thank you to the crew","author":"a","platform":"x","kind":"reply","extra":true}"#,
        "\n",
        r#"{"id":"3","text":"took 3 fucking hours, disgraceful"}"#,
        "\n"
    );
    let out = run_with_stdin(&["classify"], input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "1");
    // A threat at a person is also abuse (intimidation).
    assert_eq!(
        lines[0]["categories"],
        serde_json::json!(["abuse", "threat"])
    );
    assert_eq!(lines[0]["severity"], "critical");
    assert_eq!(lines[0]["rules"], serde_json::json!(["threat.direct"]));
    assert_eq!(
        lines[0]["suggested_actions"],
        serde_json::json!(["hide", "report", "escalate"])
    );
    assert_eq!(lines[1]["id"], "2");
    assert_eq!(lines[1]["categories"], serde_json::json!([]));
    assert_eq!(lines[1]["severity"], "none");
    assert_eq!(
        lines[2]["categories"],
        serde_json::json!(["profanity", "complaint"])
    );
    let keys: Vec<&String> = lines[0].as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 5, "exactly the documented fields: {keys:?}");
}

#[test]
fn classify_reports_malformed_lines_inline_and_goes_on() {
    let input = concat!(
        "not json at all\n",
        r#"{"id":"no-text"}"#,
        "\n",
        "\n",
        r#"{"id":7,"text":"wrong id type"}"#,
        "\n",
        r#"{"id":"ok","text":"hello"}"#,
        "\n",
        r#"{"id":"last","text":"no newline at end"}"#
    );
    let out = run_with_stdin(&["classify"], input);
    assert!(out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6, "one output line per input line");
    assert!(lines[0]["error"]
        .as_str()
        .expect("error")
        .contains("invalid input line"));
    assert!(lines[0].get("id").is_none());
    assert_eq!(lines[1]["id"], "no-text");
    assert!(lines[1]["error"].as_str().expect("error").contains("text"));
    assert_eq!(lines[2]["error"], "empty line");
    assert_eq!(lines[3]["id"], 7);
    assert!(lines[3]["error"].is_string());
    assert_eq!(lines[4]["id"], "ok");
    assert!(lines[4].get("error").is_none());
    assert_eq!(lines[5]["id"], "last");
}

#[test]
fn classify_detects_repeats_by_author() {
    let mut input = String::new();
    for (i, minute) in [0, 5, 9].iter().enumerate() {
        input.push_str(&format!(
            r#"{{"id":"{i}","text":"Why has nobody answered my question about parking yet","author":"bob","created_at":"2026-03-02T10:{minute:02}:00Z"}}"#
        ));
        input.push('\n');
    }
    input.push_str(r#"{"id":"other","text":"Why has nobody answered my question about parking yet","author":"amy","created_at":"2026-03-02T10:10:00Z"}"#);
    input.push('\n');
    let lines = json_lines(&run_with_stdin(&["classify"], &input));
    let spam = |v: &serde_json::Value| {
        v["categories"]
            .as_array()
            .expect("array")
            .contains(&"spam".into())
    };
    assert!(!spam(&lines[0]));
    assert!(!spam(&lines[1]), "one earlier copy is not yet spam");
    assert!(spam(&lines[2]), "{}", lines[2]);
    assert!(lines[2]["rules"]
        .as_array()
        .expect("array")
        .contains(&"spam.repetition".into()));
    assert!(!spam(&lines[3]), "another author is not a repeat");
}

#[test]
fn classify_with_org_uses_its_mapping() {
    let input = r#"{"id":"1","text":"you are a disgrace, I know where you live"}"#;
    let lines = json_lines(&run_with_stdin(
        &["classify", "--org", "nsft"],
        &format!("{input}\n"),
    ));
    assert_eq!(
        lines[0]["suggested_actions"],
        serde_json::json!(["hide", "block", "report", "escalate"])
    );
}

#[test]
fn unknown_org_is_a_clear_error() {
    let out = run_with_stdin(&["classify", "--org", "nope"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown org `nope`"), "{err}");
    assert!(err.contains("imperial, las, nsft"), "{err}");
}

#[test]
fn check_summarises_the_shipped_config() {
    let out = bin().arg("check").output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "rules:",
        "personal_info",
        "las",
        "imperial",
        "nsft",
        "Monday to Friday, 9am to 5:30pm",
        "over normalised text, 0 of them run on every post",
    ] {
        assert!(text.contains(want), "missing {want} in:\n{text}");
    }
    assert!(!text.contains("warning:"), "{text}");
}

/// Regexes past the first 128 cannot be gated and would run on every post
/// unnoticed; `check` says so.
#[test]
fn check_warns_about_regexes_the_gates_cannot_track() {
    let (_tmp, dir) = config_copy();
    let patterns: Vec<String> = (0..70).map(|i| format!("\" zorp{i} \"")).collect();
    std::fs::write(
        dir.join("rules/zz_many.toml"),
        format!(
            "[[rule]]\nid = \"test.many\"\ncategory = \"spam\"\nregex = [{}]\n",
            patterns.join(", ")
        ),
    )
    .expect("write");
    // The copy has no replies directory beside it, so `check` goes on to
    // fail there; the regex summary comes first.
    let out = bin()
        .args(["--config", dir.to_str().expect("utf8"), "check"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warning: only the first 128 regexes are gated"),
        "{text}"
    );
}

/// A copy of the shipped config that a test can break.
fn config_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let dst = dir.path().join("config");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), &dst);
    (dir, dst)
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).expect("readdir") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).expect("copy");
        }
    }
}

fn check_fails(dir: &Path) -> String {
    let out = bin()
        .args(["--config", dir.to_str().expect("utf8"), "check"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "check must fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A `regex` hit and a phrase hit on the same word sit at the same token
/// for `near`: a regex that starts at a word's space was counted one token
/// early, so a `near` word just after the match fell out of the window.
#[test]
fn regex_and_phrase_hits_are_near_the_same_tokens() {
    let (_tmp, dir) = config_copy();
    let rule = |id: &str, pattern: &str| {
        format!(
            "[[rule]]\nid = \"{id}\"\ncategory = \"abuse\"\nseverity = \"high\"\n\
             {pattern}\nnear = [\"clown\"]\nnear_window = 1\n\n"
        )
    };
    std::fs::write(
        dir.join("rules/zz_near.toml"),
        rule("test.regex_near", "regex = [\" (nitwit|dimwit) \"]")
            + &rule("test.phrase_near", "words = [\"nitwit\", \"dimwit\"]"),
    )
    .expect("write");
    let input = [
        "he is a nitwit clown",
        "clown dimwit",
        "a clown who is a nitwit",
        "nitwit",
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| format!("{{\"id\":\"{i}\",\"text\":\"{t}\"}}\n"))
    .collect::<String>();
    let out = run_with_stdin(
        &["--config", dir.to_str().expect("utf8"), "classify"],
        &input,
    );
    let fired: Vec<(bool, bool)> = json_lines(&out)
        .iter()
        .map(|l| {
            let rules = l["rules"].as_array().expect("rules");
            let has = |id: &str| rules.iter().any(|r| r == id);
            (has("test.regex_near"), has("test.phrase_near"))
        })
        .collect();
    assert_eq!(
        fired,
        [(true, true), (true, true), (false, false), (false, false)]
    );
}

/// Regression (issue 2): an `unless` phrase cancelled its rule for the
/// whole post, so "the suicide prevention line … I am suicidal" was not
/// flagged. It now cancels only the matches it covers, phrase or regex.
#[test]
fn issue2_unless_cancels_only_the_matches_it_covers() {
    let (_tmp, dir) = config_copy();
    std::fs::write(
        dir.join("rules/zz_unless.toml"),
        "[[rule]]\nid = \"test.phrase\"\ncategory = \"crisis\"\nseverity = \"critical\"\n\
         words = [\"wobble*\", \"flump\"]\nunless = [\"wobble club\", \"grand flump\"]\n\n\
         [[rule]]\nid = \"test.regex\"\ncategory = \"crisis\"\nseverity = \"critical\"\n\
         regex = [\" zorp \\\\d+ \"]\nunless = [\"the zorp 9 tour\"]\n",
    )
    .expect("write");
    let input = [
        "the wobble club meets on tuesday",
        "the wobble club was no help and the wobbles are back",
        "grand flump day",
        "grand flump day, then another flump",
        "booked the zorp 9 tour",
        "booked the zorp 9 tour and zorp 12 too",
        "zorp 12",
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| format!("{{\"id\":\"{i}\",\"text\":\"{t}\"}}\n"))
    .collect::<String>();
    let out = run_with_stdin(
        &["--config", dir.to_str().expect("utf8"), "classify"],
        &input,
    );
    let fired: Vec<(bool, bool)> = json_lines(&out)
        .iter()
        .map(|l| {
            let rules = l["rules"].as_array().expect("rules");
            let has = |id: &str| rules.iter().any(|r| r == id);
            (has("test.phrase"), has("test.regex"))
        })
        .collect();
    assert_eq!(
        fired,
        [
            (false, false),
            (true, false),
            (false, false),
            (true, false),
            (false, false),
            (false, true),
            (false, true),
        ]
    );
}

#[test]
fn unless_with_raw_regex_is_rejected() {
    let (_tmp, dir) = config_copy();
    std::fs::write(
        dir.join("rules/zz_raw_unless.toml"),
        "[[rule]]\nid = \"test.raw_unless\"\ncategory = \"spam\"\n\
         raw_regex = [\"\\\\d{5}\"]\nunless = [\"postcode\"]\n",
    )
    .expect("write");
    let err = check_fails(&dir);
    assert!(err.contains("zz_raw_unless.toml:2:6"), "{err}");
    assert!(err.contains("rule `test.raw_unless`"), "{err}");
    assert!(err.contains("cannot apply to `raw_regex`"), "{err}");
}

#[test]
fn reported_speech_never_drops_crisis() {
    let (_tmp, dir) = config_copy();
    let path = dir.join("classifier.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text.replace(
        "categories = [\"abuse\", \"threat\", \"hate\", \"sexual\"]",
        "categories = [\"abuse\", \"crisis\"]",
    );
    assert!(text.contains("\"crisis\"]"), "the shipped list changed");
    std::fs::write(&path, text).expect("write");
    let err = check_fails(&dir);
    assert!(err.contains("classifier.toml"), "{err}");
    assert!(
        err.contains("reported_speech.categories lists `crisis`"),
        "{err}"
    );
}

#[test]
fn issue2_bad_regex_names_file_rule_and_error() {
    let (_tmp, dir) = config_copy();
    std::fs::write(
        dir.join("rules/zz_bad.toml"),
        "# broken on purpose\n\n[[rule]]\nid = \"test.bad_regex\"\ncategory = \"abuse\"\nregex = [\"(unclosed\"]\n",
    )
    .expect("write");
    let err = check_fails(&dir);
    assert!(err.contains("zz_bad.toml:4:6"), "{err}");
    assert!(err.contains("rule `test.bad_regex`"), "{err}");
    assert!(err.contains("unclosed group"), "{err}");
}

#[test]
fn unknown_field_is_located_with_line_and_column() {
    let (_tmp, dir) = config_copy();
    let path = dir.join("orgs/las.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("mask_personal_data = true", "mask_personal_dta = true"),
    )
    .expect("write");
    let err = check_fails(&dir);
    assert!(err.contains("orgs/las.toml:"), "{err}");
    assert!(err.contains("unknown field `mask_personal_dta`"), "{err}");
    let line = text
        .lines()
        .position(|l| l.starts_with("mask_personal_data"))
        .expect("line")
        + 1;
    assert!(err.contains(&format!("las.toml:{line}:1")), "{err}");
}

#[test]
fn phrase_that_normalises_away_is_rejected() {
    let (_tmp, dir) = config_copy();
    std::fs::write(
        dir.join("rules/zz_bad.toml"),
        "[[rule]]\nid = \"test.symbol\"\ncategory = \"spam\"\nwords = [\"win $\"]\n",
    )
    .expect("write");
    let err = check_fails(&dir);
    assert!(err.contains("rule `test.symbol`"), "{err}");
    assert!(err.contains("use `raw_regex`"), "{err}");
}

#[test]
fn staff_name_without_two_words_is_rejected() {
    for bad in ["Okafor", "!! ??", "Daniel -"] {
        let (_tmp, dir) = config_copy();
        let path = dir.join("orgs/las.toml");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(
            &path,
            text.replace("\"Daniel Okafor\"", &format!("{bad:?}")),
        )
        .expect("write");
        let err = check_fails(&dir);
        assert!(err.contains("orgs/las.toml:"), "{err}");
        assert!(err.contains("needs a first and last name"), "{err}");
    }
}

#[test]
fn oversized_pattern_is_rejected() {
    let (_tmp, dir) = config_copy();
    let long = "a".repeat(600);
    std::fs::write(
        dir.join("rules/zz_bad.toml"),
        format!("[[rule]]\nid = \"test.long\"\ncategory = \"spam\"\nregex = [\"{long}\"]\n"),
    )
    .expect("write");
    let err = check_fails(&dir);
    assert!(err.contains("over the limit of 512"), "{err}");
}

#[test]
fn missing_wordlist_is_named() {
    let (_tmp, dir) = config_copy();
    std::fs::write(
        dir.join("rules/zz_bad.toml"),
        "[[rule]]\nid = \"test.wl\"\ncategory = \"spam\"\nwordlists = [\"nope\"]\n",
    )
    .expect("write");
    let err = check_fails(&dir);
    assert!(err.contains("word list `nope` not found"), "{err}");
}

#[test]
fn eval_prints_figures_per_category() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("mini.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"id":"a","text":"you idiot","labels":{"abuse":1,"offensive":1}}"#,
            "\n",
            r#"{"id":"b","text":"lovely day","labels":{"abuse":0,"offensive":0}}"#,
            "\n",
            r#"{"id":"c","text":"shit happens","labels":{"offensive":1}}"#,
            "\n",
            r#"{"id":"d","text":"nice one","labels":{"offensive":1}}"#,
            "\n"
        ),
    )
    .expect("write");
    let out = bin()
        .args(["eval", file.to_str().expect("utf8"), "--json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["rows"], 4);
    assert_eq!(v["categories"]["abuse"]["support"], 1);
    assert_eq!(v["categories"]["abuse"]["precision"], 1.0);
    assert_eq!(v["categories"]["offensive"]["counts"]["tp"], 2);
    assert_eq!(v["categories"]["offensive"]["counts"]["fn"], 1);
    assert_eq!(v["categories"]["offensive"]["counts"]["tn"], 1);
}

#[test]
fn hours_json_contracts() {
    let out = bin()
        .args([
            "hours",
            "--org",
            "las",
            "--at",
            "2026-12-24T17:00:00Z",
            "--json",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["org"], "las");
    assert_eq!(v["open"], true);
    assert_eq!(v["next_close"], "2026-12-24T17:30:00Z");
    assert_eq!(v["next_open"], serde_json::Value::Null);

    let out = bin()
        .args(["hours", "--org", "imperial", "--year", "2027", "--json"])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["year"], 2027);
    let days = v["closed_days"].as_array().expect("array");
    assert!(days
        .iter()
        .any(|d| d["date"] == "2027-12-27" && d["name"] == "Christmas Day"));
    assert!(days
        .iter()
        .any(|d| d["date"] == "2027-12-28" && d["name"] == "Boxing Day"));
}
