//! Every relay payload Signpost would send to Discord, built from real posts
//! through the real pipeline, checked against Discord's OpenAPI spec
//! (`$DISCORD_OPENAPI_SPEC`, set by `.ci/run`) and against the limits the
//! spec leaves out: 5 rows of 5 buttons, 6000 characters, 1024 per field.

use chrono::{TimeZone, Utc};
use signpost::category::Action;
use signpost::discord::{self, limits, ActionDone, AuthorSummary, RelayView};
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::store::Store;
use std::path::Path;
use std::sync::OnceLock;

fn spec_validator() -> Option<&'static jsonschema::Validator> {
    static V: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let path = std::env::var("DISCORD_OPENAPI_SPEC").ok()?;
        let text = std::fs::read_to_string(&path).expect("spec readable");
        let mut doc: serde_json::Value = serde_json::from_str(&text).expect("spec is JSON");
        // Validate against the request schema, resolving refs within the spec.
        doc["$ref"] = serde_json::json!("#/components/schemas/MessageCreateRequest");
        Some(
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&doc)
                .expect("spec compiles"),
        )
    })
    .as_ref()
}

fn check(msg: &serde_json::Value) {
    let broken = limits::violations(msg);
    assert!(broken.is_empty(), "limits broken: {broken:?}\n{msg:#}");
    match spec_validator() {
        Some(v) => {
            let errors: Vec<String> = v
                .iter_errors(msg)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "not a valid MessageCreateRequest: {errors:#?}\n{msg:#}"
            );
        }
        None => eprintln!("skipped spec validation: DISCORD_OPENAPI_SPEC is not set"),
    }
}

fn post(id: &str, platform: Platform, text: &str) -> InboundPost {
    InboundPost {
        platform,
        external_id: id.into(),
        account: "LondonAmbulance".into(),
        org: "las".into(),
        kind: PostKind::Reply,
        author_id: "12345".into(),
        author_handle: "@someone".into(),
        text: text.into(),
        url: Some(format!("https://example.org/post/{id}")),
        created_at: Utc.with_ymd_and_hms(2026, 12, 24, 22, 40, 0).unwrap(),
    }
}

const ALL_BUTTONS: &[Action] = &[
    Action::Hide,
    Action::Delete,
    Action::Block,
    Action::Report,
    Action::SignpostComplaints,
    Action::SignpostClinical,
    Action::SignpostCrisis,
    Action::AskToDm,
    Action::Reply,
];

#[tokio::test]
async fn relay_payloads_are_valid_discord_messages() {
    let pipeline = Pipeline::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), true)
        .expect("config");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .expect("store");
    let long = format!(
        "{} I know where you live. ",
        "You useless idiots left my dad on a trolley for 14 hours. ".repeat(120)
    );
    let cases = [
        post(
            "p1",
            Platform::Facebook,
            "I know where you live, watch your back, call me 07700 900123",
        ),
        post(
            "p2",
            Platform::X,
            "I can't do this anymore, I'm going to take all my tablets tonight",
        ),
        post("p3", Platform::Mastodon, &long),
        post(
            "p4",
            Platform::Instagram,
            "Check out my channel, please subscribe! www.spam.example",
        ),
    ];
    let org = &pipeline.config.orgs["las"];
    let mut tx = store.begin().await.expect("tx");
    for (n, p) in cases.iter().enumerate() {
        let out = pipeline
            .ingest(&mut tx, p, None, &[], &[], p.created_at)
            .await
            .expect("ingest");
        let Ingested::New {
            post_id,
            classification,
            decision,
        } = out
        else {
            panic!("new post");
        };
        let done = [ActionDone {
            action: Action::Hide,
            by_id: "111111111111111111".into(),
            by_name: "Sam".into(),
            at: p.created_at,
            reason: Some("r".repeat(2000)),
            failed: None,
        }];
        for (done, count) in [(&done[..0], 1), (&done[..], 17)] {
            let view = RelayView {
                post_id,
                org,
                post: p,
                classification: &classification,
                decision: &decision,
                author: AuthorSummary {
                    strikes: n as u32,
                    blocked: false,
                },
                capabilities: ALL_BUTTONS,
                count,
                crisis_role: Some("222222222222222222"),
                done,
            };
            let msg = discord::relay_message(&view);
            check(&msg);
            let text = msg.to_string();
            if !done.is_empty() {
                assert!(text.contains("Hidden by <@111111111111111111>"), "{text}");
                assert!(
                    !text.contains("sp1:hide:"),
                    "a hidden post offers no Hide button"
                );
            }
        }
    }
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn crisis_relays_mention_only_the_crisis_role_and_others_mention_no_one() {
    let pipeline = Pipeline::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), true)
        .expect("config");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .expect("store");
    let org = &pipeline.config.orgs["las"];
    let mut tx = store.begin().await.expect("tx");
    for (id, text, crisis) in [
        ("c1", "feeling suicidal tonight", true),
        ("c2", "you absolute idiots @everyone", false),
    ] {
        let p = post(id, Platform::X, text);
        let Ingested::New {
            post_id,
            classification,
            decision,
        } = pipeline
            .ingest(&mut tx, &p, None, &[], &[], p.created_at)
            .await
            .expect("ingest")
        else {
            panic!("new post");
        };
        let msg = discord::relay_message(&RelayView {
            post_id,
            org,
            post: &p,
            classification: &classification,
            decision: &decision,
            author: AuthorSummary::default(),
            capabilities: &[Action::Hide, Action::Reply],
            count: 1,
            crisis_role: Some("333"),
            done: &[],
        });
        check(&msg);
        if crisis {
            assert_eq!(
                msg["allowed_mentions"],
                serde_json::json!({"parse": [], "roles": ["333"]})
            );
            assert!(msg["content"]
                .as_str()
                .expect("content")
                .starts_with("<@&333>"));
            assert!(msg.to_string().contains("sp1:signpost_crisis:"));
        } else {
            assert_eq!(msg["allowed_mentions"], serde_json::json!({"parse": []}));
            assert!(msg.get("content").is_none());
            assert!(!msg.to_string().contains("sp1:signpost_crisis:"));
        }
        // Capability gating: Hide and Reply from the platform, the replies
        // built on Reply (signposting, ask to DM), and the platform-free actions.
        let ids: Vec<&str> = msg["components"]
            .as_array()
            .expect("rows")
            .iter()
            .flat_map(|r| r["components"].as_array().expect("buttons"))
            .map(|b| b["custom_id"].as_str().expect("id"))
            .collect();
        assert!(
            ids.iter().all(|i| {
                let (a, _) = discord::parse_custom_id(i).expect("ours");
                !matches!(a, Action::Delete | Action::Block | Action::Report)
            }),
            "{ids:?}"
        );
    }
    tx.commit().await.expect("commit");
}

#[test]
fn the_spec_check_rejects_a_bad_payload() {
    let Some(v) = spec_validator() else {
        eprintln!("skipped: DISCORD_OPENAPI_SPEC is not set");
        return;
    };
    let bad = serde_json::json!({
        "embeds": [{"title": "x", "color": "red"}],
        "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Hide", "custom_id": "x".repeat(101)}]}]
    });
    assert!(
        v.iter_errors(&bad).count() >= 1,
        "a string colour and a 101-char custom_id must fail"
    );
}

#[tokio::test]
async fn a_platform_failure_shows_on_the_relay_with_a_retry_button() {
    let pipeline = Pipeline::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), true)
        .expect("config");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .expect("store");
    let org = &pipeline.config.orgs["las"];
    let p = post("f1", Platform::Facebook, "you useless idiots");
    let mut tx = store.begin().await.expect("tx");
    let Ingested::New {
        post_id,
        classification,
        decision,
    } = pipeline
        .ingest(&mut tx, &p, None, &[], &[], p.created_at)
        .await
        .expect("ingest")
    else {
        panic!("new post");
    };
    tx.commit().await.expect("commit");
    let failed = [ActionDone {
        action: Action::Hide,
        by_id: "111111111111111111".into(),
        by_name: "Sam".into(),
        at: p.created_at,
        reason: None,
        failed: Some("The Facebook token has expired: reconnect the Page".into()),
    }];
    let msg = discord::relay_message(&RelayView {
        post_id,
        org,
        post: &p,
        classification: &classification,
        decision: &decision,
        author: AuthorSummary::default(),
        capabilities: ALL_BUTTONS,
        count: 1,
        crisis_role: None,
        done: &failed,
    });
    check(&msg);
    let text = msg.to_string();
    assert!(
        text.contains("failed at") && text.contains("token has expired"),
        "{text}"
    );
    assert!(text.contains("Retry: Hide"), "{text}");
    assert!(text.contains(&format!("sp1:hide:{post_id}")), "{text}");
}
