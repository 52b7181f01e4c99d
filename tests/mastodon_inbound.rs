//! The Mastodon poller against a stateful fake instance that fails first
//! (two 500s, then a request that hangs past the client timeout), then serves
//! mention notifications by `min_id`. Checks back-off and recovery, paging,
//! resume from the stored cursor after a restart, and no loss or duplicates.

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::{json, Value};
use signpost::model::{Platform, PostKind};
use signpost::pipeline::Pipeline;
use signpost::store::Store;
use signpost::webhook::mastodon::MastodonPoller;
use signpost::webhook::writer;
use sqlx::Row;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

const ACCOUNT: &str = "900000000000004"; // las, in config/orgs/las.toml
const TOKEN: &str = "masto-token";

#[derive(Clone, Default)]
struct Fake {
    /// Notifications, ascending by id.
    notes: Arc<Mutex<Vec<Value>>>,
    calls: Arc<AtomicUsize>,
    /// `min_id` of every request answered with data (None: no cursor).
    served: Arc<Mutex<Vec<Option<String>>>>,
}

impl Respond for Fake {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {TOKEN}")) {
            return ResponseTemplate::new(401).set_body_json(json!({"error": "unauthorized"}));
        }
        match n {
            0 | 1 => return ResponseTemplate::new(500),
            // Hangs past the client's timeout: the connection is abandoned.
            2 => return ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
            _ => {}
        }
        let q: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
        assert!(q.contains(&("types[]".into(), "mention".into())), "{q:?}");
        let limit: usize = q
            .iter()
            .find(|(k, _)| k == "limit")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(40);
        let min_id = q
            .iter()
            .find(|(k, _)| k == "min_id")
            .map(|(_, v)| v.clone());
        let notes = self.notes.lock().unwrap().clone();
        let key = |v: &Value| v["id"].as_str().unwrap().parse::<u64>().unwrap();
        let mut page: Vec<Value> = match &min_id {
            // Immediately newer than min_id: the oldest `limit` after it.
            Some(m) => {
                let m: u64 = m.parse().unwrap();
                notes
                    .iter()
                    .filter(|v| key(v) > m)
                    .take(limit)
                    .cloned()
                    .collect()
            }
            // No cursor: the newest page.
            None => notes.iter().rev().take(limit).rev().cloned().collect(),
        };
        page.reverse(); // Mastodon answers newest first.
        self.served.lock().unwrap().push(min_id);
        ResponseTemplate::new(200).set_body_json(Value::Array(page))
    }
}

fn note(id: u64, author: &str, html: &str, visibility: &str) -> Value {
    let at =
        Utc.with_ymd_and_hms(2026, 12, 24, 10, 0, 0).unwrap() + ChronoDuration::minutes(id as i64);
    let account =
        json!({"id": author, "acct": format!("{author}@social.example"), "username": author});
    json!({
        "id": id.to_string(), "type": "mention", "created_at": at.to_rfc3339(),
        "account": account,
        "status": {"id": format!("s{id}"), "created_at": at.to_rfc3339(), "content": html,
                   "visibility": visibility, "spoiler_text": "",
                   "url": format!("https://social.example/@{author}/s{id}"), "account": account}
    })
}

struct Running {
    stop: tokio::sync::watch::Sender<bool>,
    poller: tokio::task::JoinHandle<()>,
    writer: tokio::task::JoinHandle<()>,
}

async fn start(url: &str, db: &str, pipeline: Arc<Pipeline>) -> (Store, String, Running) {
    let store = Store::connect(db).await.unwrap();
    let (handle, writer) = writer::spawn(pipeline, store.clone(), Default::default());
    let poller = MastodonPoller {
        client: reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
        base_url: url.to_owned(),
        token: SecretString::from(TOKEN),
        account_id: ACCOUNT.into(),
        org: "las".into(),
        store: store.clone(),
        writer: handle,
        interval: Duration::from_millis(20),
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(80),
        page_limit: 3,
    };
    let source = poller.source();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(poller.run(rx));
    (
        store,
        source,
        Running {
            stop,
            poller,
            writer,
        },
    )
}

async fn stop(r: Running) {
    r.stop.send(true).unwrap();
    r.poller.await.unwrap();
    r.writer.await.unwrap();
}

async fn wait_for_cursor(store: &Store, source: &str, want: &str) {
    for _ in 0..400 {
        if store.get_cursor(source).await.unwrap().as_deref() == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "cursor never reached {want}: {:?}",
        store.get_cursor(source).await.unwrap()
    );
}

async fn status_ids(store: &Store) -> Vec<String> {
    sqlx::query("SELECT external_id FROM posts WHERE platform = 'mastodon' ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poller_backs_off_then_resumes_from_cursor_without_loss_or_duplicates() {
    let pipeline = Arc::new(
        Pipeline::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), false).unwrap(),
    );
    let server = MockServer::start().await;
    let fake = Fake::default();
    *fake.notes.lock().unwrap() = vec![
        note(101, "amy", "<p>@londonambulance thank you!</p>", "public"),
        note(
            102,
            "ben",
            "<p>my mum&#39;s care<br>was awful</p>",
            "direct",
        ),
        note(103, ACCOUNT, "<p>our own post mentioning us</p>", "public"),
    ];
    Mock::given(method("GET"))
        .and(path("/api/v1/notifications"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());

    // First run: two 500s and a hung request, then the latest page.
    let (store, source, running) = start(&server.uri(), &db, pipeline.clone()).await;
    wait_for_cursor(&store, &source, "103").await;
    stop(running).await;
    assert!(fake.calls.load(Ordering::SeqCst) >= 4);
    assert_eq!(
        fake.served.lock().unwrap().first(),
        Some(&None),
        "first start has no cursor"
    );
    assert_eq!(status_ids(&store).await, ["s101", "s102"]);
    let dm = store
        .find_post(Platform::Mastodon, "s102")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dm.post.kind, PostKind::Dm);
    assert_eq!(dm.post.text, "my mum's care\nwas awful");
    assert_eq!(dm.post.author_handle, "ben@social.example");
    assert_eq!(dm.post.org, "las");
    let m = store
        .find_post(Platform::Mastodon, "s101")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.post.kind, PostKind::Mention);
    store.close().await;

    // While stopped, seven more mentions arrive (three pages of 3).
    fake.notes.lock().unwrap().extend((104..=110).map(|i| {
        note(
            i,
            &format!("u{i}"),
            &format!("<p>mention {i}</p>"),
            "public",
        )
    }));
    let served_before = fake.served.lock().unwrap().len();

    // Restart on the same database: resumes from the stored cursor.
    let (store, source, running) = start(&server.uri(), &db, pipeline).await;
    wait_for_cursor(&store, &source, "110").await;
    stop(running).await;
    let served: Vec<Option<String>> = fake.served.lock().unwrap()[served_before..].to_vec();
    assert_eq!(
        served.iter().take(4).cloned().collect::<Vec<_>>(),
        [
            Some("103".into()),
            Some("106".into()),
            Some("109".into()),
            Some("110".into())
        ],
        "resumes at the cursor and pages forward with min_id"
    );
    let ids = status_ids(&store).await;
    let want: Vec<String> = ["s101", "s102"]
        .into_iter()
        .map(String::from)
        .chain((104..=110).map(|i| format!("s{i}")))
        .collect();
    assert_eq!(ids, want, "no loss, no duplicates, in order");
    let total: i64 = sqlx::query("SELECT COUNT(*) FROM posts")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 9);
    store.close().await;
}
