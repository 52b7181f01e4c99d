//! Issue 5's end-to-end path, on loopback fakes: a signed Facebook comment
//! comes in through the real webhook router → stored, classified, relay
//! queued → a team member's Hide → Graph API call (wiremock) → evidence and
//! audit rows → the author's action notice. And the outbox: a queued
//! out-of-hours auto-reply goes out through the platform client.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::json;
use signpost::actions::{self, ActionContext, ActionError, Notice};
use signpost::category::Action;
use signpost::config::platforms::{FacebookConfig, PlatformsConfig, RetryConfig};
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::outbox::{self, Step};
use signpost::pipeline::Pipeline;
use signpost::platforms::{graph::GraphClient, Platforms};
use signpost::store::{Actor, AuditFilter, AutoReplyStatus, Store};
use signpost::webhook::{self, hmac_sha256, writer, Accounts, AppState, Secrets};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LAS_PAGE: &str = "900000000000001";

fn pipeline() -> Arc<Pipeline> {
    Arc::new(
        Pipeline::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), false)
            .expect("config"),
    )
}

fn graph(server: &MockServer) -> Platforms {
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
    Platforms::empty(&PlatformsConfig::default()).with_client(Arc::new(client))
}

#[tokio::test]
async fn signed_facebook_comment_to_hide_to_graph_call_audit_and_notice() {
    let pipeline = pipeline();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("e.db").display()))
        .await
        .expect("store");
    let (writer, _task) = writer::spawn(pipeline.clone(), store.clone(), Default::default());
    let state = Arc::new(AppState {
        accounts: Accounts::from_config(&pipeline.config).expect("accounts"),
        secrets: Secrets {
            meta_app: vec![SecretString::from("app-secret")],
            meta_verify_token: None,
            x_consumer: None,
            ingest_token: None,
            ingest_hmac: None,
        },
        writer,
    });
    let router = webhook::router(state, 64 * 1024);

    // 1. A signed Page feed comment arrives.
    let created = (Utc::now() - Duration::hours(1)).timestamp();
    let body = json!({
        "object": "page",
        "entry": [{"id": LAS_PAGE, "time": created, "changes": [{"field": "feed", "value": {
            "from": {"id": "7001", "name": "Angry Bloke"},
            "message": "you useless idiots, I know where you live",
            "post_id": format!("{LAS_PAGE}_111"), "comment_id": "111_42",
            "parent_id": format!("{LAS_PAGE}_111"), "created_time": created,
            "item": "comment", "verb": "add"}}]}]
    })
    .to_string();
    let sig = format!(
        "sha256={}",
        hex::encode(hmac_sha256(b"app-secret", body.as_bytes()))
    );
    let req = Request::post("/webhooks/meta")
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", sig)
        .body(Body::from(body))
        .expect("request");
    let resp = router.oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);

    // 2. Stored, classified, relay queued for Discord.
    let post = store
        .find_post(Platform::Facebook, "111_42")
        .await
        .expect("query")
        .expect("stored");
    assert_eq!(post.post.org, "las");
    let c = store
        .get_classification(post.id)
        .await
        .expect("query")
        .expect("classified");
    assert!(
        c.categories.iter().any(|c| c.as_str() == "threat"),
        "{:?}",
        c.categories
    );
    assert!(store.get_relay(post.id).await.expect("query").is_some());
    assert_eq!(store.queue_depth("discord.relay").await.expect("depth"), 1);

    // 3. Sam clicks Hide: the Graph call is made once, then the notice.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/111_42"))
        .and(query_param("is_hidden", "true"))
        .and(header("authorization", "Bearer page-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/{LAS_PAGE}/messages")))
        .and(body_partial_json(
            json!({"recipient": {"comment_id": "111_42"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"recipient_id": "7001", "message_id": "m_1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let platforms = graph(&server);
    let ctx = ActionContext {
        store: &store,
        replies: &pipeline.replies,
        platforms: &platforms,
    };
    let sam = Actor::new("111111111111111111", "Sam");
    let out = actions::perform(
        &ctx,
        post.id,
        Action::Hide,
        &sam,
        Some("threat to staff"),
        None,
        Utc::now(),
    )
    .await
    .expect("hide works");
    assert!(out.receipt.is_some() && out.evidence.is_some());
    assert!(
        matches!(out.notice, Some(Notice::Sent { .. })),
        "{:?}",
        out.notice
    );

    // 4. Audited: who did what, and the notice.
    let rows = store
        .audit_rows(&AuditFilter {
            post_id: Some(post.id),
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let hide = rows
        .iter()
        .find(|r| r.action == "hide")
        .expect("hide audited");
    assert_eq!(
        (hide.actor_id.as_str(), hide.actor_name.as_str()),
        ("111111111111111111", "Sam")
    );
    assert_eq!(hide.outcome, "ok");
    assert!(rows.iter().any(|r| r.action == "action_notice"));
    assert!(store.verify_audit().await.expect("verify").is_intact());

    // 5. A second click acts no more: "Already hidden by Sam".
    let again = actions::perform(
        &ctx,
        post.id,
        Action::Hide,
        &Actor::new("2", "Jo"),
        None,
        None,
        Utc::now(),
    )
    .await;
    match again {
        Err(e @ ActionError::AlreadyDone { .. }) => {
            assert!(e.user_message().contains("Sam"), "{}", e.user_message())
        }
        other => panic!("expected AlreadyDone, got {other:?}"),
    }
    server.verify().await;
}

#[tokio::test]
async fn queued_out_of_hours_reply_goes_out_through_the_platform() {
    let pipeline = pipeline();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("o.db").display()))
        .await
        .expect("store");
    // Christmas Eve 2026, 19:20: out of hours for LAS.
    let at = Utc.with_ymd_and_hms(2026, 12, 24, 19, 20, 0).unwrap();
    let post = InboundPost {
        platform: Platform::Facebook,
        external_id: "111_77".into(),
        account: LAS_PAGE.into(),
        org: "las".into(),
        kind: PostKind::Comment,
        author_id: "7002".into(),
        author_handle: "Jo Bloggs".into(),
        text: "what time do the volunteer applications open?".into(),
        url: None,
        created_at: at,
    };
    let mut tx = store.begin().await.expect("tx");
    pipeline
        .ingest(&mut tx, &post, None, &[], &[], at)
        .await
        .expect("ingest");
    tx.commit().await.expect("commit");
    let post_id = store
        .find_post(Platform::Facebook, "111_77")
        .await
        .expect("q")
        .expect("stored")
        .id;
    assert_eq!(store.queue_depth(outbox::KIND).await.expect("depth"), 1);

    let server = MockServer::start().await;
    // First a 503 (retried later), then the reply is posted.
    Mock::given(method("POST"))
        .and(path("/111_77/comments"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    let platforms = graph(&server);
    let step = outbox::step(&store, &platforms, at).await.expect("step");
    let Step::Retry { at: retry_at, .. } = step else {
        panic!("expected a retry, got {step:?}");
    };
    assert_eq!(
        outbox::step(&store, &platforms, at).await.expect("step"),
        Step::Idle,
        "not due yet"
    );
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/111_77/comments"))
        .and(header("authorization", "Bearer page-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "111_77_reply"})))
        .expect(1)
        .mount(&server)
        .await;
    let step = outbox::step(&store, &platforms, retry_at)
        .await
        .expect("step");
    assert!(matches!(step, Step::Sent { .. }), "{step:?}");
    let replies = store.auto_replies_for_post(post_id).await.expect("replies");
    let sent = replies
        .iter()
        .find(|r| r.template == "out_of_hours")
        .expect("reply row");
    assert_eq!(sent.status, AutoReplyStatus::Sent);
    assert!(
        sent.text.contains("9am on Tuesday 29 December"),
        "{}",
        sent.text
    );
    assert_eq!(store.queue_depth(outbox::KIND).await.expect("depth"), 0);
    server.verify().await;
}
