//! The inbound router end to end: signed payloads in the documented shapes of
//! each platform, driven through the real axum router into a temp SQLite
//! store via the group-commit writer.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use secrecy::SecretString;
use serde_json::{json, Value};
use signpost::pipeline::Pipeline;
use signpost::store::Store;
use signpost::webhook::{self, hmac_sha256, writer, Accounts, AppState, Secrets};
use sqlx::Row;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

const LAS_PAGE: &str = "900000000000001";
const LAS_IG: &str = "900000000000002";
const LAS_X: &str = "900000000000003";
const LIMIT: usize = 16 * 1024;

struct Harness {
    _dir: tempfile::TempDir,
    store: Store,
    router: Router,
}

fn secrets() -> Secrets {
    Secrets {
        meta_app: vec![
            SecretString::from("meta-old"),
            SecretString::from("meta-new"),
        ],
        meta_verify_token: Some(SecretString::from("verify-me")),
        x_consumer: Some(SecretString::from("x-consumer")),
        ingest_token: Some(SecretString::from("ingest-token")),
        ingest_hmac: Some(SecretString::from("ingest-hmac")),
    }
}

async fn harness_with(secrets: Secrets) -> Harness {
    let pipeline = Arc::new(
        Pipeline::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), false)
            .expect("shipped config"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("w.db").display()))
        .await
        .expect("store");
    let accounts = Accounts::from_config(&pipeline.config).expect("accounts");
    let (writer, _task) = writer::spawn(pipeline, store.clone(), Default::default());
    let state = Arc::new(AppState {
        accounts,
        secrets,
        writer,
    });
    Harness {
        _dir: dir,
        store,
        router: webhook::router(state, LIMIT),
    }
}

async fn harness() -> Harness {
    harness_with(secrets()).await
}

impl Harness {
    async fn send(&self, req: Request<Body>) -> (StatusCode, Value, String) {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let value = if ctype.starts_with("application/json") {
            serde_json::from_slice(&bytes).expect("JSON body")
        } else {
            Value::Null
        };
        (status, value, text)
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query(sql)
            .fetch_one(self.store.pool())
            .await
            .expect("count")
            .get::<i64, _>(0)
    }

    async fn posts(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM posts").await
    }
}

fn meta_sign(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), body))
    )
}

fn meta_post(body: &Value, sig: Option<String>) -> Request<Body> {
    let mut b = Request::post("/webhooks/meta").header("content-type", "application/json");
    if let Some(s) = sig {
        b = b.header("X-Hub-Signature-256", s);
    }
    b.body(Body::from(body.to_string())).expect("request")
}

fn signed_meta(body: &Value) -> Request<Body> {
    meta_post(
        body,
        Some(meta_sign("meta-new", body.to_string().as_bytes())),
    )
}

/// The documented Page feed comment shape.
fn feed_comment(page: &str, id: &str, author: &str, text: &str) -> Value {
    json!({
        "object": "page",
        "entry": [{
            "id": page,
            "time": 1_766_600_000,
            "changes": [{
                "field": "feed",
                "value": {
                    "from": {"id": author, "name": format!("User {author}")},
                    "post": {"status_type": "added_photos", "is_published": true},
                    "message": text,
                    "post_id": format!("{page}_111"),
                    "comment_id": format!("111_{id}"),
                    "created_time": 1_766_600_000,
                    "item": "comment",
                    "parent_id": format!("{page}_111"),
                    "verb": "add"
                }
            }]
        }]
    })
}

fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn meta_verify_handshake() {
    let h = harness().await;
    let ok = Request::get(
        "/webhooks/meta?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444",
    )
    .body(Body::empty())
    .unwrap();
    let (status, _, text) = h.send(ok).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, "1158201444");
    for uri in [
        "/webhooks/meta?hub.mode=subscribe&hub.verify_token=verify-m&hub.challenge=1",
        "/webhooks/meta?hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1",
        "/webhooks/meta?hub.mode=subscribe&hub.challenge=1",
    ] {
        let (status, body, _) = h.send(Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "bad_verify_token");
    }
}

#[tokio::test]
async fn meta_feed_comment_is_stored_with_its_org() {
    let h = harness().await;
    let body = feed_comment(LAS_PAGE, "c1", "5551", "Thank you to the crew last night");
    let (status, resp, _) = h.send(signed_meta(&body)).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(resp["stored"], 1);
    assert_eq!(resp["duplicate"], false);
    let p = h
        .store
        .find_post(signpost::model::Platform::Facebook, "111_c1")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(p.post.org, "las");
    assert_eq!(p.post.account, LAS_PAGE);
    assert_eq!(p.post.author_id, "5551");
    assert_eq!(p.post.author_handle, "User 5551");
    assert_eq!(p.post.kind, signpost::model::PostKind::Comment);
    assert_eq!(
        p.post.url.as_deref(),
        Some("https://www.facebook.com/111_c1")
    );
    assert_eq!(p.post.created_at.timestamp(), 1_766_600_000);
    assert!(p
        .raw
        .as_deref()
        .is_some_and(|r| r.contains("\"verb\":\"add\"")));
}

#[tokio::test]
async fn meta_missing_and_bad_signatures_store_nothing() {
    let h = harness().await;
    let body = feed_comment(LAS_PAGE, "c1", "5551", "hello");
    let (status, resp, _) = h.send(meta_post(&body, None)).await;
    assert_error(status, &resp, StatusCode::UNAUTHORIZED, "missing_signature");
    let wrong_key = meta_sign("not-the-secret", body.to_string().as_bytes());
    let (status, resp, _) = h.send(meta_post(&body, Some(wrong_key))).await;
    assert_error(status, &resp, StatusCode::FORBIDDEN, "bad_signature");
    // Signed over different bytes than sent (e.g. re-serialised JSON).
    let other = meta_sign("meta-new", format!("{body} ").as_bytes());
    let (status, resp, _) = h.send(meta_post(&body, Some(other))).await;
    assert_error(status, &resp, StatusCode::FORBIDDEN, "bad_signature");
    let (status, resp, _) = h.send(meta_post(&body, Some("sha1=abc".into()))).await;
    assert_error(status, &resp, StatusCode::FORBIDDEN, "bad_signature");
    assert_eq!(h.posts().await, 0);
}

#[tokio::test]
async fn meta_secret_rotation_accepts_both_secrets() {
    let h = harness().await;
    for (i, secret) in ["meta-old", "meta-new"].iter().enumerate() {
        let body = feed_comment(LAS_PAGE, &format!("r{i}"), "77", "Is the A&E open?");
        let sig = meta_sign(secret, body.to_string().as_bytes());
        let (status, resp, _) = h.send(meta_post(&body, Some(sig))).await;
        assert_eq!(status, StatusCode::OK, "{secret}: {resp}");
    }
    assert_eq!(h.posts().await, 2);
}

#[tokio::test]
async fn duplicate_delivery_is_one_row_and_both_200() {
    let h = harness().await;
    let body = feed_comment(LAS_PAGE, "dup", "88", "Where do I park at the hospital?");
    let (s1, r1, _) = h.send(signed_meta(&body)).await;
    let (s2, r2, _) = h.send(signed_meta(&body)).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        (r1["stored"].clone(), r1["duplicate"].clone()),
        (json!(1), json!(false))
    );
    assert_eq!(
        (r2["stored"].clone(), r2["duplicates"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(r2["duplicate"], true);
    assert_eq!(h.posts().await, 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM classifications").await, 1);
}

#[tokio::test]
async fn body_limit_is_413_json() {
    let h = harness().await;
    let body = feed_comment(LAS_PAGE, "big", "1", &"a".repeat(LIMIT));
    let (status, resp, _) = h.send(signed_meta(&body)).await;
    assert_error(
        status,
        &resp,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    assert_eq!(h.posts().await, 0);
}

#[tokio::test]
async fn malformed_json_and_payloads_are_400_naming_the_problem() {
    let h = harness().await;
    let raw = b"{\"object\": \"page\", \"entry\": [";
    let req = Request::post("/webhooks/meta")
        .header("X-Hub-Signature-256", meta_sign("meta-new", raw))
        .body(Body::from(&raw[..]))
        .unwrap();
    let (status, resp, _) = h.send(req).await;
    assert_error(status, &resp, StatusCode::BAD_REQUEST, "invalid_json");
    assert!(
        resp["message"].as_str().unwrap().contains("line 1"),
        "{resp}"
    );

    let mut body = feed_comment(LAS_PAGE, "x", "1", "hi");
    body["entry"][0]["changes"][0]["value"]
        .as_object_mut()
        .unwrap()
        .remove("comment_id");
    let (status, resp, _) = h.send(signed_meta(&body)).await;
    assert_error(status, &resp, StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(
        resp["message"]
            .as_str()
            .unwrap()
            .contains("entry[0].changes[0].value")
            && resp["message"].as_str().unwrap().contains("comment_id"),
        "{resp}"
    );
    assert_eq!(h.posts().await, 0);
}

#[tokio::test]
async fn unknown_account_is_422_and_nothing_stored() {
    let h = harness().await;
    let mut body = feed_comment(LAS_PAGE, "k1", "1", "hi");
    // A second entry for a page nobody configured: the whole delivery is refused.
    let stranger = feed_comment("123456789", "k2", "1", "hi");
    body["entry"]
        .as_array_mut()
        .unwrap()
        .push(stranger["entry"][0].clone());
    let (status, resp, _) = h.send(signed_meta(&body)).await;
    assert_error(
        status,
        &resp,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_account",
    );
    assert!(resp["message"].as_str().unwrap().contains("123456789"));
    assert_eq!(h.posts().await, 0);
}

#[tokio::test]
async fn instagram_comments_mentions_and_dms_and_ignored_events() {
    let h = harness().await;
    let ig = json!({
        "object": "instagram",
        "entry": [{
            "id": LAS_IG,
            "time": 1_766_600_100,
            "changes": [
                {"field": "comments", "value": {
                    "from": {"id": "232323", "username": "jo.b"},
                    "media": {"id": "123123", "media_product_type": "FEED"},
                    "id": "17865799348089039", "text": "How long is the wait today?"}},
                {"field": "comments", "value": {
                    "from": {"id": "454545", "username": "sam"},
                    "media": {"id": "123123"}, "parent_id": "17865799348089039",
                    "id": "17865799348089040", "text": "same question"}},
                {"field": "mentions", "value": {
                    "from": {"id": "676767", "username": "kit"},
                    "media": {"id": "999"}, "id": "17865799348089041",
                    "text": "@ldn_ambulance great work"}},
                {"field": "comments", "value": {
                    "from": {"id": LAS_IG, "username": "ldn_ambulance"},
                    "media": {"id": "123123"}, "id": "17865799348089042",
                    "text": "Thanks for asking: we reply in hours"}}
            ],
            "messaging": [
                {"sender": {"id": "888"}, "recipient": {"id": LAS_IG},
                 "timestamp": 1_766_600_200_000_i64,
                 "message": {"mid": "aWdfZAG1faXRlbToxOklH", "text": "can I DM about my mum's care?"}},
                {"sender": {"id": LAS_IG}, "recipient": {"id": "888"},
                 "timestamp": 1_766_600_201_000_i64,
                 "message": {"mid": "echo1", "text": "Yes", "is_echo": true}},
                {"sender": {"id": "888"}, "recipient": {"id": LAS_IG},
                 "timestamp": 1_766_600_202_000_i64, "read": {"mid": "aWdfZAG1faXRlbToxOklH"}},
                {"sender": {"id": "888"}, "recipient": {"id": LAS_IG},
                 "timestamp": 1_766_600_203_000_i64,
                 "reaction": {"mid": "x", "action": "react", "reaction": "love"}}
            ]
        }]
    });
    let (status, resp, _) = h.send(signed_meta(&ig)).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(resp["stored"], 4, "{resp}");
    assert_eq!(resp["ignored"], 4, "{resp}");
    let kinds: Vec<(String, String, String)> = sqlx::query(
        "SELECT external_id, kind, author_handle FROM posts WHERE platform = 'instagram' ORDER BY external_id",
    )
    .fetch_all(h.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    assert_eq!(
        kinds,
        [
            ("17865799348089039".into(), "comment".into(), "jo.b".into()),
            ("17865799348089040".into(), "reply".into(), "sam".into()),
            ("17865799348089041".into(), "mention".into(), "kit".into()),
            ("aWdfZAG1faXRlbToxOklH".into(), "dm".into(), "888".into()),
        ]
    );

    // Messenger (Page) DM, and feed edits and reactions acknowledged only.
    let messenger = json!({
        "object": "page",
        "entry": [{"id": LAS_PAGE, "time": 1_766_600_300_000_i64, "messaging": [
            {"sender": {"id": "4242"}, "recipient": {"id": LAS_PAGE},
             "timestamp": 1_766_600_300_000_i64,
             "message": {"mid": "m_abc", "text": "my ambulance never came"}}
        ], "changes": [
            {"field": "feed", "value": {"item": "comment", "verb": "edited", "comment_id": "1_2",
              "message": "edited text", "from": {"id": "1"}}},
            {"field": "feed", "value": {"item": "reaction", "verb": "add", "reaction_type": "like",
              "from": {"id": "1"}}}
        ]}]
    });
    let (status, resp, _) = h.send(signed_meta(&messenger)).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(
        (resp["stored"].clone(), resp["ignored"].clone()),
        (json!(1), json!(2))
    );
    let dm = h
        .store
        .find_post(signpost::model::Platform::Facebook, "m_abc")
        .await
        .unwrap()
        .expect("dm");
    assert_eq!(dm.post.kind, signpost::model::PostKind::Dm);
    assert_eq!(dm.post.created_at.timestamp_millis(), 1_766_600_300_000);
    assert_eq!(h.posts().await, 5);
}

#[tokio::test]
async fn crisis_post_through_meta_gets_crisis_reply_and_urgent_relay() {
    let h = harness().await;
    let body = feed_comment(
        LAS_PAGE,
        "z1",
        "lee",
        "I'm going to take all my tablets tonight",
    );
    let (status, resp, _) = h.send(signed_meta(&body)).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    let p = h
        .store
        .find_post(signpost::model::Platform::Facebook, "111_z1")
        .await
        .unwrap()
        .expect("stored");
    let replies = h.store.auto_replies_for_post(p.id).await.unwrap();
    let crisis: Vec<_> = replies.iter().filter(|r| r.template == "crisis").collect();
    assert_eq!(crisis.len(), 1, "{replies:?}");
    assert!(crisis[0].text.contains("999"), "{}", crisis[0].text);
    let mut tx = h.store.begin().await.unwrap();
    let job = tx
        .claim_next(
            &["discord.relay"],
            chrono::Utc::now(),
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap()
        .expect("relay job");
    assert_eq!(job.payload["priority"], "urgent", "{}", job.payload);
    assert_eq!(job.payload["crisis"], true);
    assert_eq!(job.payload["post_id"], p.id);
    // Not a dry run: the reply waits in the outbox for the platform client.
    assert_eq!(h.store.queue_depth("platform.reply").await.unwrap(), 1);
}

fn x_sign(body: &[u8]) -> String {
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(hmac_sha256(b"x-consumer", body))
    )
}

fn x_post(body: &Value, sig: Option<String>) -> Request<Body> {
    let mut b = Request::post("/webhooks/x");
    if let Some(s) = sig {
        b = b.header("x-twitter-webhooks-signature", s);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

#[tokio::test]
async fn x_crc_and_signed_events() {
    let h = harness().await;
    let (status, resp, _) = h
        .send(
            Request::get("/webhooks/x?crc_token=abc123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let want =
        base64::engine::general_purpose::STANDARD.encode(hmac_sha256(b"x-consumer", b"abc123"));
    assert_eq!(resp["response_token"], format!("sha256={want}"));

    let tweet = |id: &str, user: &str, name: &str, reply_to: Option<&str>, text: &str| {
        json!({
            "created_at": "Wed Dec 24 18:00:00 +0000 2025",
            "id": id.parse::<u64>().unwrap(), "id_str": id, "text": text,
            "user": {"id": user.parse::<u64>().unwrap(), "id_str": user, "screen_name": name},
            "in_reply_to_user_id_str": reply_to,
            "entities": {"user_mentions": [{"id_str": LAS_X, "screen_name": "Ldn_Ambulance"}]}
        })
    };
    let body = json!({
        "for_user_id": LAS_X,
        "tweet_create_events": [
            tweet("1800000000000000001", "1111", "amy", None, "@Ldn_Ambulance thank you"),
            tweet("1800000000000000002", "2222", "ben", Some(LAS_X), "@Ldn_Ambulance why so slow"),
            tweet("1800000000000000003", LAS_X, "Ldn_Ambulance", None, "Our own tweet"),
        ],
        "direct_message_events": [
            {"type": "message_create", "id": "1900000000000000001", "created_timestamp": "1766599200000",
             "message_create": {"target": {"recipient_id": LAS_X}, "sender_id": "3333",
                                "message_data": {"text": "private question", "entities": {}}}},
            {"type": "message_create", "id": "1900000000000000002", "created_timestamp": "1766599300000",
             "message_create": {"target": {"recipient_id": "3333"}, "sender_id": LAS_X,
                                "message_data": {"text": "our answer"}}}
        ],
        "users": {"3333": {"id": "3333", "screen_name": "cat"}}
    });
    let (status, resp, _) = h.send(x_post(&body, None)).await;
    assert_error(status, &resp, StatusCode::UNAUTHORIZED, "missing_signature");
    let (status, resp, _) = h.send(x_post(&body, Some("sha256=AAAA".into()))).await;
    assert_error(status, &resp, StatusCode::FORBIDDEN, "bad_signature");
    assert_eq!(h.posts().await, 0);

    let (status, resp, _) = h
        .send(x_post(&body, Some(x_sign(body.to_string().as_bytes()))))
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(
        (resp["stored"].clone(), resp["ignored"].clone()),
        (json!(3), json!(2))
    );
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query(
        "SELECT external_id, kind, author_handle, url FROM posts WHERE platform = 'x' ORDER BY external_id",
    )
    .fetch_all(h.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect();
    assert_eq!(rows[0].1, "mention");
    assert_eq!(
        rows[0].3.as_deref(),
        Some("https://x.com/amy/status/1800000000000000001")
    );
    assert_eq!(rows[1].1, "reply");
    assert_eq!((rows[2].1.as_str(), rows[2].2.as_str()), ("dm", "cat"));
    assert_eq!(rows.len(), 3);

    let stranger = json!({"for_user_id": "42", "tweet_create_events": [tweet("5", "1111", "amy", None, "hi")]});
    let (status, resp, _) = h
        .send(x_post(
            &stranger,
            Some(x_sign(stranger.to_string().as_bytes())),
        ))
        .await;
    assert_error(
        status,
        &resp,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_account",
    );
    assert_eq!(h.posts().await, 3);
}

fn ingest_post(id: &str, text: &str) -> Value {
    json!({
        "platform": "facebook", "account": LAS_PAGE, "id": id, "kind": "comment",
        "author": {"id": "a1", "handle": "Alex"}, "text": text,
        "url": "https://www.facebook.com/1", "created_at": "2026-12-24T18:00:00Z"
    })
}

#[tokio::test]
async fn generic_ingest_with_bearer_and_hmac() {
    let h = harness().await;
    let one = ingest_post("g1", "When do visiting hours end?");
    let req = |body: &Value, header: Option<(&str, String)>| {
        let mut b = Request::post("/ingest");
        if let Some((k, v)) = header {
            b = b.header(k, v);
        }
        b.body(Body::from(body.to_string())).unwrap()
    };
    let (status, resp, _) = h.send(req(&one, None)).await;
    assert_error(
        status,
        &resp,
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
    );
    let (status, resp, _) = h
        .send(req(&one, Some(("authorization", "Bearer wrong".into()))))
        .await;
    assert_error(status, &resp, StatusCode::FORBIDDEN, "bad_credentials");
    let (status, resp, _) = h
        .send(req(
            &one,
            Some(("x-signpost-signature", meta_sign("wrong", b"x"))),
        ))
        .await;
    assert_error(status, &resp, StatusCode::FORBIDDEN, "bad_credentials");
    assert_eq!(h.posts().await, 0);

    let (status, resp, _) = h
        .send(req(
            &one,
            Some(("authorization", "Bearer ingest-token".into())),
        ))
        .await;
    assert_eq!(
        (status, resp["stored"].clone()),
        (StatusCode::OK, json!(1)),
        "{resp}"
    );

    let batch = json!({"posts": [ingest_post("g2", "thanks"), ingest_post("g1", "When do visiting hours end?"),
        {"platform": "other", "account": "nsft", "id": "o1", "author": {"id": "s"}, "text": "hi",
         "created_at": "2026-12-24T18:00:00+01:00"}]});
    let sig = meta_sign("ingest-hmac", batch.to_string().as_bytes());
    let (status, resp, _) = h
        .send(req(&batch, Some(("x-signpost-signature", sig))))
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(
        (resp["stored"].clone(), resp["duplicates"].clone()),
        (json!(2), json!(1))
    );
    let other = h
        .store
        .find_post(signpost::model::Platform::Other, "o1")
        .await
        .unwrap()
        .expect("other");
    assert_eq!(
        (other.post.org.as_str(), other.post.author_handle.as_str()),
        ("nsft", "s")
    );

    // Unknown fields and an unknown account refuse the whole batch.
    let bad = json!({"posts": [ingest_post("g3", "x"), {"platform": "facebook"}]});
    let (status, resp, _) = h
        .send(req(
            &bad,
            Some(("authorization", "Bearer ingest-token".into())),
        ))
        .await;
    assert_error(status, &resp, StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(
        resp["message"].as_str().unwrap().starts_with("posts[1]"),
        "{resp}"
    );
    let mut stranger = ingest_post("g4", "x");
    stranger["account"] = json!("nobody");
    let bad = json!({"posts": [ingest_post("g5", "x"), stranger]});
    let (status, resp, _) = h
        .send(req(
            &bad,
            Some(("authorization", "Bearer ingest-token".into())),
        ))
        .await;
    assert_error(
        status,
        &resp,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_account",
    );
    assert_eq!(h.posts().await, 3);
}

#[tokio::test]
async fn unconfigured_sources_answer_503_and_health_is_ok() {
    let h = harness_with(Secrets::default()).await;
    let body = feed_comment(LAS_PAGE, "c1", "1", "hi");
    for req in [
        signed_meta(&body),
        Request::get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=a&hub.challenge=1")
            .body(Body::empty())
            .unwrap(),
        Request::get("/webhooks/x?crc_token=a")
            .body(Body::empty())
            .unwrap(),
        x_post(&body, Some(x_sign(b"x"))),
        Request::post("/ingest").body(Body::from("{}")).unwrap(),
    ] {
        let (status, resp, _) = h.send(req).await;
        assert_error(
            status,
            &resp,
            StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
        );
    }
    let (status, resp, _) = h
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        (status, resp["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    let (status, resp, _) = h
        .send(Request::get("/nope").body(Body::empty()).unwrap())
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(h.posts().await, 0);
}
