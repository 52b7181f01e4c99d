//! Platform clients against wiremock fakes: every operation's method, path,
//! auth header and body/query; retries on 429 (Retry-After) and 5xx; typed
//! permanent errors; X's 280 characters; Mastodon's Idempotency-Key.

use chrono::{TimeZone, Utc};
use secrecy::SecretString;
use serde_json::json;
use signpost::config::platforms::{FacebookConfig, MastodonConfig, RetryConfig, XConfig};
use signpost::model::{Platform, PostKind};
use signpost::platforms::graph::GraphClient;
use signpost::platforms::mastodon::MastodonClient;
use signpost::platforms::x::XClient;
use signpost::platforms::{Op, PlatformClient, PlatformError, Target};
use std::time::{Duration, Instant};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        initial_backoff_ms: 10,
        max_backoff_ms: 40,
        max_retry_after_secs: 5,
    }
}

fn target(platform: Platform) -> Target {
    Target {
        platform,
        kind: PostKind::Comment,
        post_id: "123_456".into(),
        account: "999".into(),
        author_id: "777".into(),
        author_handle: "angry".into(),
        created_at: Utc.with_ymd_and_hms(2026, 12, 24, 14, 0, 0).unwrap(),
    }
}

fn graph(platform: Platform, server: &MockServer) -> GraphClient {
    let cfg = FacebookConfig {
        base_url: server.uri(),
        token_env: "UNUSED".into(),
        timeout_secs: 5,
        private_reply_days: 7,
    };
    GraphClient::new(platform, &cfg, &retry(), SecretString::from("page-token")).unwrap()
}

fn x(server: &MockServer, block_allowed: bool) -> XClient {
    let cfg = XConfig {
        base_url: server.uri(),
        token_env: "UNUSED".into(),
        timeout_secs: 5,
        block_allowed,
    };
    XClient::new(&cfg, &retry(), SecretString::from("x-user-token")).unwrap()
}

fn mastodon(server: &MockServer) -> MastodonClient {
    let cfg = MastodonConfig {
        base_url: server.uri(),
        token_env: "UNUSED".into(),
        timeout_secs: 5,
        report_category: "violation".into(),
    };
    MastodonClient::new(&cfg, &retry(), SecretString::from("masto-token")).unwrap()
}

const FB_AUTH: &str = "Bearer page-token";

#[tokio::test]
async fn facebook_operations_send_the_documented_requests() {
    let s = MockServer::start().await;
    let ok = ResponseTemplate::new(200).set_body_json(json!({"success": true}));
    Mock::given(method("POST"))
        .and(path("/123_456"))
        .and(query_param("is_hidden", "true"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ok.clone())
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/123_456"))
        .and(query_param("is_hidden", "false"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ok.clone())
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/123_456"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ok.clone())
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/999/blocked"))
        .and(query_param("user", "777"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"777": true})))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/123_456/comments"))
        .and(query_param("message", "Thanks & see you"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "123_789"})))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/999/messages"))
        .and(header("authorization", FB_AUTH))
        .and(body_json(json!({
            "recipient": {"comment_id": "123_456"},
            "message": {"text": "We hid your comment"}
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"recipient_id": "777", "message_id": "m_1"})),
        )
        .expect(1)
        .mount(&s)
        .await;

    let c = graph(Platform::Facebook, &s);
    let t = target(Platform::Facebook);
    let r = c.execute(&t, &Op::Hide).await.unwrap();
    assert_eq!(r.request, "POST /123_456?is_hidden=true");
    c.execute(&t, &Op::Unhide).await.unwrap();
    c.execute(&t, &Op::Delete).await.unwrap();
    c.execute(&t, &Op::Block).await.unwrap();
    let r = c
        .execute(
            &t,
            &Op::Reply {
                text: "Thanks & see you".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.created_id.as_deref(), Some("123_789"));
    let r = c
        .execute(
            &t,
            &Op::PrivateMessage {
                text: "We hid your comment".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.created_id.as_deref(), Some("m_1"));
    assert!(matches!(
        c.execute(&t, &Op::Mute).await,
        Err(PlatformError::Unsupported { .. })
    ));
}

#[tokio::test]
async fn instagram_operations_send_the_documented_requests() {
    let s = MockServer::start().await;
    let ok = ResponseTemplate::new(200).set_body_json(json!({"success": true}));
    Mock::given(method("POST"))
        .and(path("/123_456"))
        .and(query_param("hide", "true"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ok.clone())
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/123_456"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ok.clone())
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/123_456/replies"))
        .and(query_param("message", "hello"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "17"})))
        .expect(1)
        .mount(&s)
        .await;
    let c = graph(Platform::Instagram, &s);
    let t = target(Platform::Instagram);
    c.execute(&t, &Op::Hide).await.unwrap();
    c.execute(&t, &Op::Delete).await.unwrap();
    c.execute(
        &t,
        &Op::Reply {
            text: "hello".into(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        c.execute(&t, &Op::Block).await,
        Err(PlatformError::Unsupported { .. })
    ));
}

const X_AUTH: &str = "Bearer x-user-token";

#[tokio::test]
async fn x_operations_send_the_documented_requests() {
    let s = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/2/tweets/123_456/hidden"))
        .and(header("authorization", X_AUTH))
        .and(body_json(json!({"hidden": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"hidden": true}})))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/users/999/muting"))
        .and(header("authorization", X_AUTH))
        .and(body_json(json!({"target_user_id": "777"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"muting": true}})))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/users/999/blocking"))
        .and(header("authorization", X_AUTH))
        .and(body_json(json!({"target_user_id": "777"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"blocking": true}})))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(header("authorization", X_AUTH))
        .and(body_json(json!({
            "text": "Please call 111",
            "reply": {"in_reply_to_tweet_id": "123_456"}
        })))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"data": {"id": "1800", "text": "x"}})),
        )
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/dm_conversations/with/777/messages"))
        .and(header("authorization", X_AUTH))
        .and(body_json(json!({"text": "We hid your reply"})))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"data": {"dm_conversation_id": "777-999", "dm_event_id": "55"}}),
            ),
        )
        .expect(1)
        .mount(&s)
        .await;

    let t = target(Platform::X);
    let c = x(&s, true);
    c.execute(&t, &Op::Hide).await.unwrap();
    c.execute(&t, &Op::Mute).await.unwrap();
    c.execute(&t, &Op::Block).await.unwrap();
    let r = c
        .execute(
            &t,
            &Op::Reply {
                text: "Please call 111".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.created_id.as_deref(), Some("1800"));
    let r = c
        .execute(
            &t,
            &Op::PrivateMessage {
                text: "We hid your reply".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.created_id.as_deref(), Some("55"));

    // Without the tier flag, block is refused before any request.
    let c = x(&s, false);
    assert!(matches!(
        c.execute(&t, &Op::Block).await,
        Err(PlatformError::Unsupported { .. })
    ));
}

#[tokio::test]
async fn x_replies_over_280_characters_are_an_error_not_truncated() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {"id": "1"}})))
        .expect(1)
        .mount(&s)
        .await;
    let c = x(&s, false);
    let t = target(Platform::X);
    let long = "a".repeat(281);
    match c.execute(&t, &Op::Reply { text: long }).await {
        Err(PlatformError::TooLong { len, limit, .. }) => {
            assert_eq!((len, limit), (281, 280));
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
    let dm = "b".repeat(300);
    assert!(matches!(
        c.execute(&t, &Op::PrivateMessage { text: dm }).await,
        Err(PlatformError::TooLong { .. })
    ));
    // Exactly 280 goes out (the one expected request).
    c.execute(
        &t,
        &Op::Reply {
            text: "c".repeat(280),
        },
    )
    .await
    .unwrap();
}

const M_AUTH: &str = "Bearer masto-token";

#[tokio::test]
async fn mastodon_operations_send_the_documented_requests() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", M_AUTH))
        .and(wiremock::matchers::header_exists("idempotency-key"))
        .and(body_json(json!({
            "status": "@angry Please call 111",
            "in_reply_to_id": "123_456"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "110"})))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", M_AUTH))
        .and(wiremock::matchers::header_exists("idempotency-key"))
        .and(body_json(json!({
            "status": "@angry we blocked you",
            "in_reply_to_id": "123_456",
            "visibility": "direct"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "111"})))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/accounts/777/block"))
        .and(header("authorization", M_AUTH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "777", "blocking": true})),
        )
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/accounts/777/mute"))
        .and(header("authorization", M_AUTH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "777", "muting": true})),
        )
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/reports"))
        .and(header("authorization", M_AUTH))
        .and(body_json(json!({
            "account_id": "777",
            "status_ids": ["123_456"],
            "comment": "threatening staff",
            "category": "violation",
            "forward": false
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "48914"})))
        .expect(1)
        .mount(&s)
        .await;

    let c = mastodon(&s);
    let t = target(Platform::Mastodon);
    let r = c
        .execute(
            &t,
            &Op::Reply {
                text: "Please call 111".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.created_id.as_deref(), Some("110"));
    c.execute(
        &t,
        &Op::PrivateMessage {
            text: "we blocked you".into(),
        },
    )
    .await
    .unwrap();
    c.execute(&t, &Op::Block).await.unwrap();
    c.execute(&t, &Op::Mute).await.unwrap();
    let r = c
        .execute(
            &t,
            &Op::Report {
                comment: "threatening staff".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.created_id.as_deref(), Some("48914"));
    assert!(matches!(
        c.execute(&t, &Op::Hide).await,
        Err(PlatformError::Unsupported { .. })
    ));
}

#[tokio::test]
async fn mastodon_idempotency_key_is_stable_across_retries() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "5"})))
        .with_priority(2)
        .mount(&s)
        .await;
    let c = mastodon(&s);
    let t = target(Platform::Mastodon);
    let op = Op::Reply {
        text: "hello".into(),
    };
    let r = c.execute(&t, &op).await.unwrap();
    assert_eq!(r.attempts, 2);
    // A later retry of the same action (e.g. the Retry button) reuses it too.
    c.execute(&t, &op).await.unwrap();
    let reqs = s.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    let keys: Vec<String> = reqs
        .iter()
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .expect("Idempotency-Key on every attempt")
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(!keys[0].is_empty());
    assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
}

#[tokio::test]
async fn rate_limited_call_waits_for_retry_after_then_succeeds() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/123_456"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/123_456"))
        .and(header("authorization", FB_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .with_priority(2)
        .expect(1)
        .mount(&s)
        .await;
    let c = graph(Platform::Facebook, &s);
    let started = Instant::now();
    let r = c
        .execute(&target(Platform::Facebook), &Op::Hide)
        .await
        .unwrap();
    assert_eq!(r.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "honoured Retry-After"
    );
}

#[tokio::test]
async fn retry_after_beyond_the_limit_gives_up_at_once() {
    let s = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&s)
        .await;
    let c = x(&s, false);
    match c.execute(&target(Platform::X), &Op::Hide).await {
        Err(e @ PlatformError::Unavailable { attempts: 1, .. }) => assert!(e.is_transient()),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_retried_then_given_up() {
    let s = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503).set_body_string("over capacity"))
        .expect(3)
        .mount(&s)
        .await;
    let c = x(&s, false);
    match c.execute(&target(Platform::X), &Op::Hide).await {
        Err(e @ PlatformError::Unavailable { attempts: 3, .. }) => {
            assert!(e.detail().contains("503"), "{}", e.detail());
            assert!(e.is_transient());
        }
        other => panic!("expected Unavailable after 3 attempts, got {other:?}"),
    }
}

#[tokio::test]
async fn connection_errors_are_retried_then_given_up() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let cfg = MastodonConfig {
        base_url: format!("http://{addr}"),
        token_env: "UNUSED".into(),
        timeout_secs: 2,
        report_category: "other".into(),
    };
    let c = MastodonClient::new(&cfg, &retry(), SecretString::from("t")).unwrap();
    match c.execute(&target(Platform::Mastodon), &Op::Block).await {
        Err(PlatformError::Unavailable {
            attempts: 3,
            detail,
            ..
        }) => assert!(detail.contains("connection"), "{detail}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

async fn one_error(status: u16, body: serde_json::Value) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(1)
        .mount(&s)
        .await;
    s
}

#[tokio::test]
async fn permanent_errors_are_typed_and_not_retried() {
    let fb = Platform::Facebook;
    let t = target(fb);
    let s = one_error(
        400,
        json!({"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AbC"}}),
    )
    .await;
    let e = graph(fb, &s).execute(&t, &Op::Hide).await.unwrap_err();
    assert!(matches!(e, PlatformError::TokenExpired { .. }), "{e:?}");
    assert!(e.user_message().contains("expired"));
    assert!(e.detail().contains("190/463") && e.detail().contains("AbC"));
    assert!(!e.detail().contains("page-token"));
    assert!(!e.is_transient());

    let s = one_error(
        403,
        json!({"error": {"message": "(#200) Requires pages_manage_engagement permission", "code": 200}}),
    )
    .await;
    let e = graph(fb, &s).execute(&t, &Op::Hide).await.unwrap_err();
    assert!(matches!(e, PlatformError::PermissionDenied { .. }), "{e:?}");

    let s = one_error(
        400,
        json!({"error": {"message": "(#10) Permission denied", "code": 10}}),
    )
    .await;
    let e = graph(fb, &s).execute(&t, &Op::Block).await.unwrap_err();
    assert!(matches!(e, PlatformError::PermissionDenied { .. }), "{e:?}");

    let s = one_error(
        400,
        json!({"error": {"message": "Unsupported post request. Object does not exist", "code": 100, "error_subcode": 33}}),
    )
    .await;
    let e = graph(fb, &s).execute(&t, &Op::Hide).await.unwrap_err();
    assert!(matches!(e, PlatformError::NotFound { .. }), "{e:?}");

    let xt = target(Platform::X);
    let s = one_error(401, json!({"title": "Unauthorized", "status": 401})).await;
    let e = x(&s, false).execute(&xt, &Op::Mute).await.unwrap_err();
    assert!(matches!(e, PlatformError::TokenExpired { .. }), "{e:?}");
    let s = one_error(
        403,
        json!({"title": "Forbidden", "detail": "You are not permitted to perform this action."}),
    )
    .await;
    let e = x(&s, false).execute(&xt, &Op::Mute).await.unwrap_err();
    assert!(matches!(e, PlatformError::PermissionDenied { .. }), "{e:?}");
    assert!(e.detail().contains("not permitted"));

    let mt = target(Platform::Mastodon);
    let s = one_error(401, json!({"error": "The access token is invalid"})).await;
    let e = mastodon(&s).execute(&mt, &Op::Block).await.unwrap_err();
    assert!(matches!(e, PlatformError::TokenExpired { .. }), "{e:?}");
    let s = one_error(
        403,
        json!({"error": "This action is outside the authorized scopes"}),
    )
    .await;
    let e = mastodon(&s).execute(&mt, &Op::Block).await.unwrap_err();
    assert!(matches!(e, PlatformError::PermissionDenied { .. }), "{e:?}");
    let s = one_error(
        422,
        json!({"error": "Validation failed: Text can't be blank"}),
    )
    .await;
    let e = mastodon(&s)
        .execute(&mt, &Op::Reply { text: "x".into() })
        .await
        .unwrap_err();
    assert!(
        matches!(e, PlatformError::Rejected { status: 422, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn meta_rate_limit_codes_are_retried() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": {"message": "(#4) Application request limit reached", "code": 4}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .with_priority(2)
        .mount(&s)
        .await;
    let r = graph(Platform::Facebook, &s)
        .execute(&target(Platform::Facebook), &Op::Hide)
        .await
        .unwrap();
    assert_eq!(r.attempts, 2);
}

#[test]
fn tokens_are_never_debug_printed() {
    let cfg = XConfig::default();
    let c = XClient::new(&cfg, &retry(), SecretString::from("super-secret-token")).unwrap();
    assert!(!format!("{c:?}").contains("super-secret-token"));
}
