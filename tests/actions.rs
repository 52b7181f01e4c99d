//! The action executor end to end on a temporary SQLite store with the
//! shipped config and replies: posts come in through `Pipeline::ingest`,
//! actions go out to a wiremock Graph API.

use chrono::{DateTime, Duration, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::{json, Value};
use signpost::actions::{perform, ActionContext, ActionError, AlreadyState, Notice};
use signpost::category::Action;
use signpost::config::platforms::{FacebookConfig, PlatformsConfig, RetryConfig};
use signpost::evidence;
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::platforms::graph::GraphClient;
use signpost::platforms::{DryRun, Op, PlatformError, Platforms};
use signpost::store::{Actor, AuditFilter, AuditRow, AutoReplyStatus, RelayState, Store};
use std::path::Path;
use std::sync::Arc;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PAGE: &str = "NSFTpage";
const COMMENT: &str = "111_222";
const RAW: &str = r#"{"entry":[{"changes":[{"field":"feed","value":{"item":"comment","comment_id":"111_222","message":"you pathetic idiots","from":{"id":"8080","name":"Troll"}}}]}]}"#;

struct World {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    store: Store,
    pipeline: Pipeline,
    post_id: i64,
    created: DateTime<Utc>,
}

async fn world(platform: Platform, text: &str) -> World {
    let pipeline = Pipeline::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), true)
        .expect("shipped config");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("t.db");
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("store");
    let created = Utc.with_ymd_and_hms(2026, 7, 14, 13, 2, 0).unwrap();
    let post = InboundPost {
        platform,
        external_id: COMMENT.into(),
        account: PAGE.into(),
        org: "nsft".into(),
        kind: PostKind::Comment,
        author_id: "8080".into(),
        author_handle: "Troll".into(),
        text: text.into(),
        url: Some("https://facebook.com/111_222".into()),
        created_at: created,
    };
    let mut tx = store.begin().await.expect("tx");
    let overrides = pipeline
        .overrides(&mut tx, &post.org, created)
        .await
        .expect("overrides");
    let out = pipeline
        .ingest(&mut tx, &post, Some(RAW), &[], &overrides, created)
        .await
        .expect("ingest");
    tx.commit().await.expect("commit");
    let Ingested::New { post_id, .. } = out else {
        panic!("new post")
    };
    World {
        _dir: dir,
        db,
        store,
        pipeline,
        post_id,
        created,
    }
}

fn facebook(server: &MockServer) -> Platforms {
    let cfg = PlatformsConfig::default();
    let fb = FacebookConfig {
        base_url: server.uri(),
        token_env: "UNUSED".into(),
        timeout_secs: 5,
        private_reply_days: 7,
    };
    let retry = RetryConfig {
        max_attempts: 2,
        initial_backoff_ms: 10,
        max_backoff_ms: 20,
        max_retry_after_secs: 2,
    };
    let client = GraphClient::new(
        Platform::Facebook,
        &fb,
        &retry,
        SecretString::from("page-token"),
    )
    .expect("client");
    Platforms::empty(&cfg).with_client(Arc::new(client))
}

async fn audit(store: &Store, post_id: i64) -> Vec<AuditRow> {
    store
        .audit_rows(&AuditFilter {
            post_id: Some(post_id),
            ..AuditFilter::default()
        })
        .await
        .expect("audit")
}

fn hide_mock(delay_ms: u64) -> Mock {
    Mock::given(method("POST"))
        .and(path(format!("/{COMMENT}")))
        .and(query_param("is_hidden", "true"))
        .and(header("authorization", "Bearer page-token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true}))
                .set_delay(std::time::Duration::from_millis(delay_ms)),
        )
}

fn private_reply_mock() -> Mock {
    Mock::given(method("POST"))
        .and(path(format!("/{PAGE}/messages")))
        .and(header("authorization", "Bearer page-token"))
        .and(body_partial_json(
            json!({"recipient": {"comment_id": COMMENT}}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"recipient_id": "8080", "message_id": "m_9"})),
        )
}

#[tokio::test]
async fn hide_on_facebook_keeps_evidence_calls_graph_audits_and_notifies_the_author() {
    let w = world(Platform::Facebook, "you pathetic idiots").await;
    assert!(
        w.store.get_relay(w.post_id).await.unwrap().is_some(),
        "flagged and relayed"
    );
    let server = MockServer::start().await;
    hide_mock(0).expect(1).mount(&server).await;
    private_reply_mock().expect(1).mount(&server).await;
    let platforms = facebook(&server);
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    let sam = Actor::new("d-42", "Sam");
    let now = w.created + Duration::hours(1);
    let out = perform(
        &ctx,
        w.post_id,
        Action::Hide,
        &sam,
        Some("abusive to staff"),
        None,
        now,
    )
    .await
    .expect("hide");
    assert!(!out.dry_run);
    assert_eq!(
        out.receipt.as_ref().map(|r| r.request.as_str()),
        Some("POST /111_222?is_hidden=true")
    );

    // Evidence with a correct hash over the canonical form.
    let ev = w.store.evidence_for_post(w.post_id).await.unwrap();
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(out.evidence, Some((e.id, e.sha256.clone())));
    assert_eq!(e.sha256, evidence::sha256_hex(&e.pack));
    let pack: Value = serde_json::from_str(&e.pack).unwrap();
    assert_eq!(
        evidence::canonical(&pack),
        e.pack,
        "stored text is canonical"
    );
    assert!(evidence::verify(e).0);
    assert_eq!(pack["post"]["raw"], RAW);
    assert_eq!(pack["post"]["text"], "you pathetic idiots");
    assert_eq!(pack["author"]["id"], "8080");
    assert_eq!(pack["actor"], json!({"id": "d-42", "name": "Sam"}));
    assert_eq!(pack["action"], "hide");
    assert_eq!(pack["reason"], "abusive to staff");
    assert_eq!(
        pack["times"]["created_at"]["utc"],
        "2026-07-14T13:02:00.000Z"
    );
    assert_eq!(
        pack["times"]["created_at"]["uk_local"],
        "2026-07-14T14:02:00.000+01:00"
    );
    assert_eq!(pack["times"]["created_at"]["uk_zone"], "BST");
    assert!(!pack["classification"]["rules"]
        .as_array()
        .unwrap()
        .is_empty());

    // Audit: the hide, then the notice.
    let rows = audit(&w.store, w.post_id).await;
    let hide = rows.iter().find(|r| r.action == "hide").expect("hide row");
    assert_eq!(hide.id, out.audit_id);
    assert_eq!(
        (hide.actor_id.as_str(), hide.actor_name.as_str()),
        ("d-42", "Sam")
    );
    assert_eq!(hide.outcome, "ok");
    assert_eq!(hide.reason.as_deref(), Some("abusive to staff"));
    let detail = hide.detail_json().unwrap();
    assert_eq!(detail["external_id"], COMMENT);
    assert_eq!(detail["evidence_sha256"], e.sha256.as_str());
    let notice_row = rows
        .iter()
        .find(|r| r.action == "action_notice")
        .expect("notice audited");
    assert_eq!(notice_row.outcome, "ok");
    assert!(notice_row.id > hide.id);
    assert!(w.store.verify_audit().await.unwrap().first_broken.is_none());

    // The relay shows who did it.
    let relay = w.store.get_relay(w.post_id).await.unwrap().unwrap();
    assert_eq!(relay.state, RelayState::Actioned);
    assert_eq!(relay.state_by_name.as_deref(), Some("Sam"));

    // The notice went out as a private reply and is recorded.
    let Some(Notice::Sent { receipt, .. }) = &out.notice else {
        panic!("notice sent: {:?}", out.notice)
    };
    assert_eq!(receipt.created_id.as_deref(), Some("m_9"));
    let replies = w.store.auto_replies_for_post(w.post_id).await.unwrap();
    let notice = replies
        .iter()
        .find(|r| r.template == "action_notice")
        .expect("recorded");
    assert_eq!(notice.status, AutoReplyStatus::Sent);
    assert!(
        notice.text.contains("hidden your comment"),
        "{}",
        notice.text
    );
    assert!(notice.text.contains("abusive to staff"), "{}", notice.text);
    let sent = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&sent.last().unwrap().body).unwrap();
    assert_eq!(body["message"]["text"], notice.text.as_str());

    // Clicking again: already done, with the winner's name and UK time.
    let again = perform(&ctx, w.post_id, Action::Hide, &sam, None, None, now)
        .await
        .unwrap_err();
    assert_eq!(again.user_message(), "Already hidden by Sam at 15:02");
}

#[tokio::test]
async fn concurrent_hides_act_exactly_once() {
    let w = world(Platform::Facebook, "you pathetic idiots").await;
    let server = MockServer::start().await;
    hide_mock(300).expect(1).mount(&server).await;
    private_reply_mock().expect(1).mount(&server).await;
    let platforms = facebook(&server);
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    let sam = Actor::new("d-1", "Sam");
    let kim = Actor::new("d-2", "Kim");
    let now = w.created + Duration::minutes(5);
    let (a, b) = tokio::join!(
        perform(
            &ctx,
            w.post_id,
            Action::Hide,
            &sam,
            Some("abuse"),
            None,
            now
        ),
        perform(
            &ctx,
            w.post_id,
            Action::Hide,
            &kim,
            Some("abuse"),
            None,
            now
        ),
    );
    let (winner, loser) = match (&a, &b) {
        (Ok(_), Err(e)) => ("Sam", e),
        (Err(e), Ok(_)) => ("Kim", e),
        other => panic!("exactly one must win: {other:?}"),
    };
    match loser {
        ActionError::AlreadyDone { by_name, state, .. } => {
            assert_eq!(by_name, winner);
            assert!(matches!(
                state,
                AlreadyState::InProgress | AlreadyState::Done
            ));
        }
        other => panic!("loser gets AlreadyDone, got {other:?}"),
    }
    let hides = audit(&w.store, w.post_id)
        .await
        .into_iter()
        .filter(|r| r.action == "hide")
        .count();
    assert_eq!(hides, 1);
    assert_eq!(w.store.evidence_for_post(w.post_id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn platform_failure_is_audited_and_can_be_retried() {
    let w = world(Platform::Facebook, "you pathetic idiots").await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{COMMENT}")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "Error validating access token", "code": 190, "fbtrace_id": "T1"}
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    hide_mock(0).with_priority(2).expect(1).mount(&server).await;
    private_reply_mock().expect(1).mount(&server).await;
    let platforms = facebook(&server);
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    let sam = Actor::new("d-1", "Sam");
    let now = w.created + Duration::minutes(5);
    let err = perform(&ctx, w.post_id, Action::Hide, &sam, None, None, now)
        .await
        .unwrap_err();
    match &err {
        ActionError::Platform {
            error: PlatformError::TokenExpired { .. },
            retryable,
            audit_id,
        } => {
            assert!(!retryable, "an expired token needs fixing first");
            let rows = audit(&w.store, w.post_id).await;
            let row = rows.iter().find(|r| r.id == *audit_id).unwrap();
            assert_eq!(row.action, "hide");
            assert!(row.outcome.starts_with("failed: "), "{}", row.outcome);
            assert!(row.outcome.contains("190"));
            assert!(!row.outcome.contains("page-token"));
        }
        other => panic!("expected a platform error, got {other:?}"),
    }
    assert!(err.retry_allowed());
    assert!(err.user_message().contains("expired"));
    let relay = w.store.get_relay(w.post_id).await.unwrap().unwrap();
    assert_ne!(
        relay.state,
        RelayState::Actioned,
        "relay still open for a retry"
    );
    assert!(w
        .store
        .auto_replies_for_post(w.post_id)
        .await
        .unwrap()
        .iter()
        .all(|r| r.template != "action_notice"));

    // Retry (the token was renewed): succeeds.
    let out = perform(
        &ctx,
        w.post_id,
        Action::Hide,
        &sam,
        None,
        None,
        now + Duration::minutes(1),
    )
    .await
    .expect("retry succeeds");
    assert!(matches!(out.notice, Some(Notice::Sent { .. })));
    let outcomes: Vec<String> = audit(&w.store, w.post_id)
        .await
        .into_iter()
        .filter(|r| r.action == "hide")
        .map(|r| r.outcome)
        .collect();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[1], "ok");
}

#[tokio::test]
async fn escalate_keeps_evidence_and_makes_no_platform_call() {
    let w = world(Platform::Facebook, "you pathetic idiots").await;
    let server = MockServer::start().await;
    let platforms = facebook(&server);
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    let lead = Actor::new("d-9", "Lead");
    let out = perform(
        &ctx,
        w.post_id,
        Action::Escalate,
        &lead,
        Some("threat to staff"),
        None,
        w.created + Duration::hours(2),
    )
    .await
    .expect("escalate");
    assert!(out.receipt.is_none() && out.notice.is_none());
    assert!(server.received_requests().await.unwrap().is_empty());
    let ev = w.store.evidence_for_post(w.post_id).await.unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].action, "escalate");
    let rows = audit(&w.store, w.post_id).await;
    let row = rows.iter().find(|r| r.action == "escalate").unwrap();
    assert_eq!(
        (row.outcome.as_str(), row.actor_name.as_str()),
        ("ok", "Lead")
    );
}

#[tokio::test]
async fn notice_outside_the_private_reply_window_is_skipped_and_recorded() {
    let w = world(Platform::Facebook, "you pathetic idiots").await;
    let server = MockServer::start().await;
    hide_mock(0).expect(1).mount(&server).await;
    private_reply_mock().expect(0).mount(&server).await;
    let platforms = facebook(&server);
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    let out = perform(
        &ctx,
        w.post_id,
        Action::Hide,
        &Actor::new("d-1", "Sam"),
        None,
        None,
        w.created + Duration::days(8),
    )
    .await
    .expect("hide");
    let Some(Notice::Skipped { reason, .. }) = &out.notice else {
        panic!("skipped: {:?}", out.notice)
    };
    assert!(reason.contains("7-day"), "{reason}");
    let r = w.store.auto_replies_for_post(w.post_id).await.unwrap();
    let n = r.iter().find(|r| r.template == "action_notice").unwrap();
    assert_eq!(n.status, AutoReplyStatus::Suppressed);
    assert!(n.text.contains(signpost::actions::DEFAULT_NOTICE_REASON));
}

#[tokio::test]
async fn dismiss_records_rule_ids_and_refuses_a_second_dismiss() {
    let w = world(Platform::Facebook, "you pathetic idiots").await;
    let server = MockServer::start().await;
    let platforms = facebook(&server);
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    let now = w.created + Duration::hours(1);
    let out = perform(
        &ctx,
        w.post_id,
        Action::Dismiss,
        &Actor::new("d-1", "Sam"),
        Some("banter"),
        None,
        now,
    )
    .await
    .expect("dismiss");
    let rows = audit(&w.store, w.post_id).await;
    let row = rows.iter().find(|r| r.id == out.audit_id).unwrap();
    assert_eq!(row.action, "dismiss");
    let d = row.detail_json().unwrap();
    let c = w
        .store
        .get_classification(w.post_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d["rules"], json!(c.rules));
    assert!(!c.rules.is_empty());
    assert_eq!(
        w.store.get_relay(w.post_id).await.unwrap().unwrap().state,
        RelayState::Dismissed
    );
    let again = perform(
        &ctx,
        w.post_id,
        Action::Dismiss,
        &Actor::new("d-2", "Kim"),
        None,
        None,
        now,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        again,
        ActionError::AlreadyDone { state: AlreadyState::Dismissed, ref by_name, .. } if by_name == "Sam"
    ));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn actions_the_platform_cannot_do_are_refused() {
    let w = world(Platform::Facebook, "you pathetic idiots").await;
    let server = MockServer::start().await;
    let platforms = facebook(&server);
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    let err = perform(
        &ctx,
        w.post_id,
        Action::Report,
        &Actor::new("d", "Sam"),
        None,
        None,
        w.created,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        ActionError::Unsupported {
            platform: Platform::Facebook,
            action: Action::Report
        }
    ));
    assert_eq!(
        err.user_message(),
        "Facebook cannot do \"Report to platform\"."
    );
    let err = perform(
        &ctx,
        w.post_id,
        Action::Reply,
        &Actor::new("d", "Sam"),
        None,
        Some("  "),
        w.created,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::MissingText(Action::Reply)));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn dry_run_records_what_it_would_do() {
    let w = world(Platform::X, "you pathetic idiots").await;
    let dry = Arc::new(DryRun::new());
    let platforms = Platforms::dry_run(&PlatformsConfig::default(), dry.clone());
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    let now = w.created + Duration::minutes(1);
    let out = perform(
        &ctx,
        w.post_id,
        Action::Hide,
        &Actor::new("d", "Sam"),
        None,
        None,
        now,
    )
    .await
    .expect("hide");
    assert!(out.dry_run);
    let out = perform(
        &ctx,
        w.post_id,
        Action::SignpostComplaints,
        &Actor::new("d", "Sam"),
        None,
        None,
        now,
    )
    .await
    .expect("signpost");
    let text = out.reply_text.unwrap();
    assert!(signpost::platforms::x_length(&text) <= 280, "x variant");
    let ops: Vec<Op> = dry.calls().into_iter().map(|(_, op)| op).collect();
    assert_eq!(ops.len(), 3, "{ops:?}");
    assert_eq!(ops[0], Op::Hide);
    assert!(
        matches!(ops[1], Op::PrivateMessage { .. }),
        "X notice is a DM"
    );
    assert_eq!(ops[2], Op::Reply { text });
    let rows = audit(&w.store, w.post_id).await;
    assert!(rows
        .iter()
        .any(|r| r.action == "hide" && r.outcome == "dry_run"));
    // X without the tier flag offers no Block.
    let err = perform(
        &ctx,
        w.post_id,
        Action::Block,
        &Actor::new("d", "Sam"),
        None,
        None,
        now,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Unsupported { .. }));
}

#[tokio::test]
async fn evidence_cli_exports_verifies_and_audits() {
    let w = world(Platform::Facebook, "you pathetic idiots").await;
    let dry = Arc::new(DryRun::new());
    let platforms = Platforms::dry_run(&PlatformsConfig::default(), dry);
    let ctx = ActionContext {
        store: &w.store,
        replies: &w.pipeline.replies,
        platforms: &platforms,
    };
    perform(
        &ctx,
        w.post_id,
        Action::Escalate,
        &Actor::new("d", "Sam"),
        Some("threat"),
        None,
        w.created,
    )
    .await
    .expect("escalate");
    let out_file = w.db.with_file_name("pack.json");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
        .args(["evidence", &w.post_id.to_string(), "--db"])
        .arg(&w.db)
        .arg("--out")
        .arg(&out_file)
        .env("USER", "tester")
        .output()
        .expect("run signpost evidence");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(String::from_utf8_lossy(&status.stderr).contains("hash verified"));
    let pack: Value = serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(pack["verification"], "hash verified");
    let snap = &pack["snapshots"][0];
    assert_eq!(snap["verification"], "hash verified");
    assert_eq!(snap["sha256"], snap["recomputed_sha256"]);
    assert_eq!(
        evidence::sha256_hex(snap["canonical"].as_str().unwrap()),
        snap["sha256"].as_str().unwrap()
    );
    assert_eq!(snap["pack"]["post"]["raw"], RAW);
    let rows = audit(&w.store, w.post_id).await;
    let export = rows
        .iter()
        .find(|r| r.action == "evidence.export")
        .expect("export audited");
    assert_eq!(export.actor_id, "cli:tester");
    assert!(w.store.verify_audit().await.unwrap().first_broken.is_none());

    // Evidence is append-only.
    let tamper = sqlx_update(&w.store).await;
    assert!(tamper.is_err(), "UPDATE on evidence must be rejected");

    // An unknown post is an error, not an empty pack.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
        .args(["evidence", "99999", "--db"])
        .arg(&w.db)
        .output()
        .unwrap();
    assert!(!status.status.success());
}

async fn sqlx_update(store: &Store) -> Result<(), String> {
    let conn = store.pool();
    signpost_update(conn).await
}

async fn signpost_update(pool: &sqlx::AnyPool) -> Result<(), String> {
    sqlx::query("UPDATE evidence SET sha256 = 'x'")
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
