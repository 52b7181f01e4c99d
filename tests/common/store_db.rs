//! Fresh, isolated databases for the store tests: a temp-file SQLite database
//! always, and a throwaway PostgreSQL database when `TEST_DATABASE_URL` is set
//! (created through that URL, dropped afterwards, even when the test panics).

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use signpost::store::{Store, StoreOptions};
use sqlx::{AnyConnection, Connection, Executor};

/// What a test body gets.
pub struct TestDb {
    pub store: Store,
    /// The URL the store was opened with, for opening it again.
    pub url: String,
}

/// Runs `body` against a new SQLite database in a temp directory.
pub async fn run_sqlite<F, Fut>(body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    // A directory that does not exist yet: the store must create it.
    let url = format!("sqlite://{}/data/signpost.db", dir.path().display());
    let store = Store::connect(&url).await.expect("open sqlite store");
    let result = tokio::spawn(body(TestDb {
        store: store.clone(),
        url,
    }))
    .await;
    store.close().await;
    drop(dir);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs `body` against a new PostgreSQL database, or says why not.
pub async fn run_postgres<F, Fut>(body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        println!("skipped postgres: TEST_DATABASE_URL is not set");
        return;
    };
    sqlx::any::install_default_drivers();
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "signpost_test_{}_{}_{}",
        std::process::id(),
        nanos,
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = AnyConnection::connect(&admin_url)
        .await
        .expect("connect with TEST_DATABASE_URL");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let url = with_database(&admin_url, &name);
    // Small pools: many tests run at once and the server's default
    // max_connections is 100.
    let options = StoreOptions {
        max_connections: Some(5),
        ..StoreOptions::default()
    };
    let store = Store::connect_with(&url, options)
        .await
        .expect("open postgres store");
    let result = tokio::spawn(body(TestDb {
        store: store.clone(),
        url,
    }))
    .await;
    store.close().await;
    // Dropping can lose a race with the server's own housekeeping when
    // many tests finish at once; retry, and leave a note rather than fail
    // the test over cleanup.
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    for attempt in 1..=5 {
        match admin.execute(drop.as_str()).await {
            Ok(_) => break,
            Err(e) if attempt == 5 => eprintln!("note: could not drop {name}: {e}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await,
        }
    }
    let _ = admin.close().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// `postgres://u:p@h:5432/db?x=y` with `db` replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}

/// Defines `mod name { fn sqlite(); fn postgres(); }` tests running the async
/// fn `name(TestDb)` on each backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $crate::store_db::run_sqlite(super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                $crate::store_db::run_postgres(super::$name).await;
            }
        }
    )*};
}

#[test]
fn replaces_the_database_name() {
    assert_eq!(
        with_database("postgres://u:p@127.0.0.1:5432/signpost_test", "x"),
        "postgres://u:p@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
}
