//! Reply templates end to end: the shipped `replies/` against the shipped
//! config, filled texts, platform variants, and every load error naming its
//! file (and line and column where the source allows).

use signpost::category::Action;
use signpost::config::Config;
use signpost::model::Platform;
use signpost::replies::{
    action_phrase, default_dir, limit, RenderError, Replies, Template, Variant, Vars, AUTHOR_MAX,
    NEXT_OPEN_MAX,
};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn config() -> Config {
    Config::load(&root().join("config")).expect("shipped config loads")
}

fn shipped() -> Replies {
    Replies::load(&root().join("replies"), &config()).expect("shipped replies load")
}

/// A copy of the shipped replies in a temp dir, to break on purpose.
fn copy_replies() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    for org in ["imperial", "las", "nsft"] {
        let from = root().join("replies").join(org);
        let to = tmp.path().join(org);
        std::fs::create_dir_all(&to).expect("mkdir");
        for t in Template::ALL {
            let name = format!("{t}.toml");
            std::fs::copy(from.join(&name), to.join(&name)).expect("copy");
        }
    }
    tmp
}

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let path = dir.join(rel);
    std::fs::write(&path, text).expect("write");
    path
}

fn load_err(dir: &Path) -> signpost::config::ConfigError {
    Replies::load(dir, &config()).expect_err("should fail")
}

#[test]
fn shipped_replies_cover_every_org_and_template() {
    let r = shipped();
    assert_eq!(r.orgs().collect::<Vec<_>>(), ["imperial", "las", "nsft"]);
    assert_eq!(r.counts(), vec![("imperial", 6), ("las", 6), ("nsft", 6)]);
    for org in ["imperial", "las", "nsft"] {
        for t in Template::ALL {
            let tpl = r.template(org, *t).expect("present");
            assert!(!tpl.reviewed_by.is_empty());
            assert_eq!(tpl.reviewed_on.to_string(), "2026-11-21");
            assert!(tpl.path.ends_with(format!("{org}/{t}.toml")));
        }
    }
}

#[test]
fn default_dir_sits_beside_config() {
    assert_eq!(default_dir(Path::new("config")), PathBuf::from("replies"));
    assert_eq!(
        default_dir(Path::new("/etc/signpost/config")),
        PathBuf::from("/etc/signpost/replies")
    );
}

fn full_vars() -> Vars {
    Vars {
        author: "W".repeat(AUTHOR_MAX),
        next_open: Some(NEXT_OPEN_MAX.to_string()),
        action: Some("reported your post to the platform".to_string()),
        reason: Some("R".repeat(100)),
    }
}

#[test]
fn every_shipped_text_fits_its_platform_at_the_longest() {
    let r = shipped();
    for org in ["imperial", "las", "nsft"] {
        for t in Template::ALL {
            for p in [
                Platform::X,
                Platform::Mastodon,
                Platform::Facebook,
                Platform::Instagram,
                Platform::Other,
            ] {
                let text = r.render(org, *t, p, &full_vars()).expect("renders");
                let n = text.chars().count();
                assert!(n <= limit(p), "{org}/{t} on {p}: {n} > {}", limit(p));
                assert!(!text.contains('{') && !text.contains('}'), "{text}");
            }
        }
    }
}

#[test]
fn no_reply_gives_clinical_advice_and_each_points_to_urgent_help() {
    let r = shipped();
    let vars = full_vars();
    for org in ["imperial", "las", "nsft"] {
        for t in [
            Template::OutOfHours,
            Template::Crisis,
            Template::ClinicalSignpost,
        ] {
            for p in [Platform::X, Platform::Facebook] {
                let text = r.render(org, t, p, &vars).expect("renders");
                assert!(text.contains("999"), "{org}/{t}/{p}: {text}");
                assert!(text.contains("111"), "{org}/{t}/{p}: {text}");
            }
        }
        let crisis = r
            .render(org, Template::Crisis, Platform::Facebook, &vars)
            .expect("renders");
        assert!(crisis.contains("116 123"), "{org}: {crisis}");
        assert!(crisis.contains("option 2"), "{org}: {crisis}");
    }
    let nsft = r
        .render("nsft", Template::Crisis, Platform::X, &vars)
        .expect("renders");
    assert!(nsft.contains("Mental Health Team") && nsft.contains("Help in a crisis"));
    let imperial = r
        .render(
            "imperial",
            Template::ClinicalSignpost,
            Platform::Facebook,
            &vars,
        )
        .expect("renders");
    assert!(imperial.contains("cannot request or schedule appointments"));
}

#[test]
fn las_complaint_signpost_in_full_on_facebook_and_x() {
    let r = shipped();
    let vars = Vars::author("Sam Jones");
    assert_eq!(
        r.render(
            "las",
            Template::ComplaintSignpost,
            Platform::Facebook,
            &vars
        )
        .expect("renders"),
        "Thanks for getting in touch, Sam Jones. We don't deal with complaints through social \
         media as there's an existing process to follow. Please see our Making a complaint page: \
         https://www.londonambulance.nhs.uk/talking-with-us/make-a-complaint/"
    );
    assert_eq!(
        r.render("las", Template::ComplaintSignpost, Platform::X, &vars)
            .expect("renders"),
        "Thanks Sam Jones. We don't deal with complaints through social media as there's an \
         existing process to follow. Please see Making a complaint: \
         https://www.londonambulance.nhs.uk/talking-with-us/make-a-complaint/"
    );
}

#[test]
fn mastodon_falls_back_to_default_when_it_has_no_variant() {
    let r = shipped();
    let tpl = r
        .template("imperial", Template::ComplaintSignpost)
        .expect("present");
    assert!(!tpl.has_variant(Variant::Mastodon));
    let vars = Vars::author("Ann");
    assert_eq!(
        r.render(
            "imperial",
            Template::ComplaintSignpost,
            Platform::Mastodon,
            &vars
        ),
        r.render(
            "imperial",
            Template::ComplaintSignpost,
            Platform::Facebook,
            &vars
        )
    );
    assert_ne!(
        r.render("imperial", Template::ComplaintSignpost, Platform::X, &vars),
        r.render(
            "imperial",
            Template::ComplaintSignpost,
            Platform::Facebook,
            &vars
        )
    );
}

#[test]
fn nsft_action_notice_in_full() {
    let r = shipped();
    let vars = Vars {
        author: "Jo".into(),
        action: action_phrase(Action::Hide).map(String::from),
        reason: Some("it contained profane language".into()),
        ..Vars::default()
    };
    assert_eq!(
        r.render("nsft", Template::ActionNotice, Platform::Facebook, &vars)
            .expect("renders"),
        "Hello Jo, this is the Norfolk and Suffolk NHS Foundation Trust communications team. \
         We'll always message users who we've taken any action against to explain our reasons: \
         we have hidden your comment because it contained profane language. We won't remove a \
         post simply because it's negative. Our social media principles: \
         https://www.nsft.nhs.uk/social-media"
    );
}

#[test]
fn render_cleans_and_cuts_long_authors_and_needs_its_values() {
    let r = shipped();
    let long = Vars::author(format!("Very\nLong {}", "N".repeat(60)));
    let text = r
        .render("las", Template::AskToDm, Platform::X, &long)
        .expect("renders");
    let expected_author = format!("Very Long {}…", "N".repeat(AUTHOR_MAX - 11));
    assert!(
        text.starts_with(&format!("Thanks {expected_author}.")),
        "{text}"
    );
    assert!(text.chars().count() <= 280);

    assert_eq!(
        r.render("las", Template::OutOfHours, Platform::X, &Vars::author("A")),
        Err(RenderError::MissingValue {
            template: Template::OutOfHours,
            placeholder: "next_open"
        })
    );
    assert_eq!(
        r.render("nhs", Template::Crisis, Platform::X, &Vars::author("A")),
        Err(RenderError::UnknownOrg("nhs".into()))
    );
    assert_eq!(
        RenderError::MissingValue {
            template: Template::ActionNotice,
            placeholder: "reason"
        }
        .to_string(),
        "template `action_notice` needs a value for `{reason}`"
    );
}

#[test]
fn action_phrases_cover_what_authors_are_told() {
    assert_eq!(action_phrase(Action::Hide), Some("hidden your comment"));
    assert_eq!(action_phrase(Action::Delete), Some("deleted your comment"));
    assert_eq!(action_phrase(Action::Block), Some("blocked your account"));
    assert_eq!(action_phrase(Action::Dismiss), None);
}

// ------------------------------------------------------------ load errors

const HEADER: &str = "reviewed_by = \"Test\"\nreviewed_on = 2026-11-20\n\n[text]\n";

#[test]
fn unknown_placeholder_is_located() {
    let tmp = copy_replies();
    let path = write(
        tmp.path(),
        "las/crisis.toml",
        &format!("{HEADER}default = \"Hello {{autor}}, call 999.\"\n"),
    );
    let err = load_err(tmp.path());
    assert_eq!(err.file, path);
    assert_eq!((err.line, err.column), (Some(5), Some(18)), "{err}");
    assert!(
        err.message
            .starts_with("unknown placeholder `{autor}`; crisis may use: {org}, {author}"),
        "{err}"
    );
}

#[test]
fn placeholder_outside_its_template_is_an_error() {
    let tmp = copy_replies();
    write(
        tmp.path(),
        "nsft/complaint_signpost.toml",
        &format!("{HEADER}default = \"Back at {{next_open}}\"\n"),
    );
    let err = load_err(tmp.path());
    assert!(err.file.ends_with("nsft/complaint_signpost.toml"));
    assert_eq!(
        err.message,
        "placeholder `{next_open}` cannot be used in complaint_signpost"
    );
    assert_eq!(err.line, Some(5));
}

#[test]
fn missing_template_is_named() {
    let tmp = copy_replies();
    std::fs::remove_file(tmp.path().join("imperial/ask_to_dm.toml")).expect("rm");
    let err = load_err(tmp.path());
    assert!(err.file.ends_with("imperial/ask_to_dm.toml"), "{err}");
    assert_eq!(
        err.message,
        "missing template `ask_to_dm` for org `imperial`"
    );
}

#[test]
fn missing_org_directory_is_named() {
    let tmp = copy_replies();
    std::fs::remove_dir_all(tmp.path().join("nsft")).expect("rm");
    let err = load_err(tmp.path());
    assert!(err.file.ends_with("nsft"), "{err}");
    assert!(err
        .message
        .starts_with("org `nsft` has no replies directory"));
}

#[test]
fn unknown_org_directory_and_stray_files_are_errors() {
    let tmp = copy_replies();
    std::fs::create_dir(tmp.path().join("nhs")).expect("mkdir");
    let err = load_err(tmp.path());
    assert!(err.file.ends_with("nhs"));
    assert!(
        err.message.starts_with("no org `nhs` in the config"),
        "{err}"
    );

    let tmp = copy_replies();
    write(tmp.path(), "las/out_of_hour.toml", HEADER);
    let err = load_err(tmp.path());
    assert!(err.file.ends_with("las/out_of_hour.toml"));
    assert!(err.message.starts_with("unknown template `out_of_hour`"));
}

#[test]
fn too_long_for_x_after_filling_is_an_error() {
    let tmp = copy_replies();
    // 200 literal characters plus a 30-character author and LAS's 68-character
    // complaints URL: 298 > 280, though it looks short unfilled.
    let body = "a".repeat(200);
    write(
        tmp.path(),
        "las/complaint_signpost.toml",
        &format!("{HEADER}default = \"{body}\"\nx = \"{{author}}{body}{{complaints_url}}\"\n"),
    );
    let err = load_err(tmp.path());
    assert!(err.file.ends_with("las/complaint_signpost.toml"));
    assert_eq!((err.line, err.column), (Some(6), Some(5)), "{err}");
    assert_eq!(
        err.message,
        "text.x is 298 characters with placeholders at their longest, over the X limit of 280: \
         shorten it by 18"
    );
}

#[test]
fn a_long_default_without_an_x_variant_is_an_error() {
    let tmp = copy_replies();
    write(
        tmp.path(),
        "imperial/crisis.toml",
        &format!("{HEADER}default = \"{}\"\n", "b".repeat(300)),
    );
    let err = load_err(tmp.path());
    assert_eq!(
        err.message,
        "text.default (used on X because there is no text.x) is 300 characters with \
         placeholders at their longest, over the X limit of 280: shorten it by 20 or add a \
         shorter text.x"
    );
    assert_eq!(err.line, Some(5));
}

#[test]
fn header_is_required_and_strict() {
    let tmp = copy_replies();
    write(
        tmp.path(),
        "las/crisis.toml",
        "reviewed_on = 2026-11-20\n[text]\ndefault = \"Call 999\"\n",
    );
    let err = load_err(tmp.path());
    assert!(err.message.contains("missing field `reviewed_by`"), "{err}");

    let tmp = copy_replies();
    write(
        tmp.path(),
        "las/crisis.toml",
        "reviewed_by = \"Comms\"\nreviewed_on = 2026-11-20T10:00:00Z\n[text]\ndefault = \"x\"\n",
    );
    let err = load_err(tmp.path());
    assert_eq!(
        err.message,
        "reviewed_on must be a plain date, e.g. 2026-11-20"
    );
    assert_eq!(err.line, Some(2));

    let tmp = copy_replies();
    write(
        tmp.path(),
        "las/crisis.toml",
        "reviewed_by = \"  \"\nreviewed_on = 2026-11-20\n[text]\ndefault = \"x\"\n",
    );
    let err = load_err(tmp.path());
    assert!(err.message.starts_with("reviewed_by is empty"), "{err}");

    let tmp = copy_replies();
    write(
        tmp.path(),
        "las/crisis.toml",
        &format!("{HEADER}default = \"x\"\ntwitter = \"y\"\n"),
    );
    let err = load_err(tmp.path());
    assert_eq!(err.line, Some(6), "{err}");
    assert!(err.message.starts_with("unknown field `twitter`"), "{err}");
}

#[test]
fn missing_replies_directory_is_an_error() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let err = load_err(&tmp.path().join("nope"));
    assert!(err.message.starts_with("replies directory not found"));
}
