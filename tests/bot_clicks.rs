//! The click core driven directly (no gateway) against a wiremock Discord
//! REST API and the dry-run platform (or a wiremock Graph API for
//! failures). Every request body the bot sends is checked against Discord's
//! OpenAPI spec and the message limits.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::{json, Value};
use signpost::bot::clicks::{confirm_id, modal_id, REASON_INPUT};
use signpost::bot::{build_http, Click, ClickKind, Clicks, Member, Outcome};
use signpost::category::Action;
use signpost::config::discord::DiscordConfig;
use signpost::config::platforms::{FacebookConfig, PlatformsConfig, RetryConfig};
use signpost::discord::custom_id;
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::platforms::graph::GraphClient;
use signpost::platforms::{DryRun, Platforms};
use signpost::store::{AuditFilter, Store};
use std::path::Path;
use std::sync::Arc;
use support::discord::{self as fake, Sent};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const GUILD: u64 = 100000000000000003;
const TEAM: u64 = 100000000000000023;

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    clicks: Arc<Clicks>,
    discord: MockServer,
    dry: Arc<DryRun>,
    post_id: i64,
    now: DateTime<Utc>,
}

async fn world_with(platforms: Option<Platforms>) -> World {
    world_cfg(platforms, |_| {}).await
}

async fn world_cfg(platforms: Option<Platforms>, edit: impl FnOnce(&mut DiscordConfig)) -> World {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let pipeline = Arc::new(Pipeline::load(&config, true).expect("shipped config"));
    let orgs: Vec<&str> = pipeline.config.orgs.keys().map(String::as_str).collect();
    let mut discord_cfg = DiscordConfig::load(&config, &orgs).expect("discord.toml");
    edit(&mut discord_cfg);
    let discord_cfg = Arc::new(discord_cfg);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .expect("store");
    let created = Utc.with_ymd_and_hms(2026, 7, 14, 13, 2, 0).unwrap();
    let post = InboundPost {
        platform: Platform::Facebook,
        external_id: "111_222".into(),
        account: "NSFTpage".into(),
        org: "nsft".into(),
        kind: PostKind::Comment,
        author_id: "8080".into(),
        author_handle: "Troll".into(),
        text: "you pathetic idiots".into(),
        url: Some("https://facebook.com/111_222".into()),
        created_at: created,
    };
    let mut tx = store.begin().await.expect("tx");
    let out = pipeline
        .ingest(&mut tx, &post, None, &[], &[], created)
        .await
        .expect("ingest");
    tx.commit().await.expect("commit");
    let Ingested::New { post_id, .. } = out else {
        panic!("new post")
    };
    let server = MockServer::start().await;
    fake::mount(&server).await;
    let http = Arc::new(build_http("test-token", &server.uri(), Some(fake::APP_ID)));
    let dry = Arc::new(DryRun::new());
    let platforms =
        platforms.unwrap_or_else(|| Platforms::dry_run(&PlatformsConfig::default(), dry.clone()));
    let clicks = Arc::new(Clicks::new(
        store.clone(),
        pipeline,
        platforms,
        discord_cfg,
        http,
    ));
    World {
        _dir: dir,
        store,
        clicks,
        discord: server,
        dry,
        post_id,
        now: created + chrono::Duration::minutes(5),
    }
}

async fn world() -> World {
    world_with(None).await
}

fn member(id: u64, name: &str, roles: &[u64]) -> Member {
    Member {
        id,
        name: name.into(),
        roles: roles.to_vec(),
    }
}

fn button(n: u64, id: String, m: Member) -> Click {
    Click {
        interaction_id: 1_000 + n,
        token: format!("tok{n}"),
        guild_id: Some(GUILD),
        member: Some(m),
        kind: ClickKind::Button { custom_id: id },
    }
}

fn modal(n: u64, id: String, m: Member, fields: &[(&str, &str)]) -> Click {
    Click {
        interaction_id: 1_000 + n,
        token: format!("tok{n}"),
        guild_id: Some(GUILD),
        member: Some(m),
        kind: ClickKind::Modal {
            custom_id: id,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        },
    }
}

fn of_token<'a>(all: &'a [Sent], token: &str) -> Vec<&'a Sent> {
    all.iter()
        .filter(|s| s.path.contains(&format!("/{token}")))
        .collect()
}

fn button_ids(body: &Value) -> Vec<String> {
    body["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().into_iter().flatten())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect()
}

fn ops(dry: &DryRun, name: &str) -> usize {
    dry.calls()
        .iter()
        .filter(|(_, op)| op.name() == name)
        .count()
}

#[tokio::test]
async fn authorised_hide_defers_then_edits_the_relay() {
    let w = world().await;
    let sam = member(501, "Sam", &[TEAM]);
    let h = w
        .clicks
        .handle(&button(1, custom_id(Action::Hide, w.post_id), sam), w.now)
        .await;
    assert_eq!(h.outcome, Outcome::Done(Action::Hide));
    assert!(h.ack_after.is_some());
    let all = fake::check_all(&w.discord).await;
    let mine = of_token(&all, "tok1");
    assert_eq!(mine.len(), 2, "{mine:#?}");
    assert!(mine[0].path.ends_with("/interactions/1001/tok1/callback"));
    assert_eq!(mine[0].body, json!({"type": 6}));
    assert_eq!(mine[1].method, "PATCH");
    assert!(mine[1].path.ends_with(&format!(
        "/webhooks/{}/tok1/messages/@original",
        fake::APP_ID
    )));
    let edit = mine[1].body.to_string();
    assert!(edit.contains("Hidden by <@501>"), "{edit}");
    let ids = button_ids(&mine[1].body);
    assert!(
        !ids.contains(&custom_id(Action::Hide, w.post_id)),
        "{ids:?}"
    );
    assert!(
        ids.contains(&custom_id(Action::Delete, w.post_id)),
        "{ids:?}"
    );
    assert_eq!(mine[1].body["allowed_mentions"], json!({"parse": []}));
    assert_eq!(ops(&w.dry, "hide"), 1);
}

#[tokio::test]
async fn unauthorised_member_is_refused_ephemerally_and_audited() {
    let w = world().await;
    let guest = member(777, "Guest", &[42]);
    let h = w
        .clicks
        .handle(&button(2, custom_id(Action::Hide, w.post_id), guest), w.now)
        .await;
    assert_eq!(h.outcome, Outcome::Refused("not_team"));
    let all = fake::check_all(&w.discord).await;
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].body["type"], 4);
    assert_eq!(all[0].body["data"]["flags"], 64);
    assert!(all[0].body["data"]["content"]
        .as_str()
        .unwrap()
        .contains("team role"));
    assert_eq!(ops(&w.dry, "hide"), 0);
    let rows = w
        .store
        .audit_rows(&AuditFilter {
            post_id: Some(w.post_id),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "click.refused")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].actor_id, "777");
    assert_eq!(refused[0].reason.as_deref(), Some("not_team"));

    // Wrong guild and not Signpost's custom_id.
    let mut other = button(
        3,
        custom_id(Action::Hide, w.post_id),
        member(501, "Sam", &[TEAM]),
    );
    other.guild_id = Some(5);
    assert_eq!(
        w.clicks.handle(&other, w.now).await.outcome,
        Outcome::Refused("wrong_guild")
    );
    let foreign = button(4, "someone-else:1".into(), member(501, "Sam", &[TEAM]));
    assert_eq!(
        w.clicks.handle(&foreign, w.now).await.outcome,
        Outcome::Ignored
    );
    let unknown = button(
        5,
        custom_id(Action::Hide, 999_999),
        member(501, "Sam", &[TEAM]),
    );
    assert_eq!(
        w.clicks.handle(&unknown, w.now).await.outcome,
        Outcome::Refused("unknown_post")
    );
    fake::check_all(&w.discord).await;
}

#[tokio::test]
async fn delete_opens_a_modal_and_its_submit_executes() {
    let w = world().await;
    let sam = member(501, "Sam", &[TEAM]);
    let h = w
        .clicks
        .handle(
            &button(6, custom_id(Action::Delete, w.post_id), sam.clone()),
            w.now,
        )
        .await;
    assert_eq!(h.outcome, Outcome::ModalOpened);
    let all = fake::check_all(&w.discord).await;
    assert_eq!(all.len(), 1);
    let m = &all[0].body;
    assert_eq!(m["type"], 9);
    assert_eq!(m["data"]["custom_id"], modal_id(Action::Delete, w.post_id));
    let input = &m["data"]["components"][0]["components"][0];
    assert_eq!(input["type"], 4);
    assert_eq!(input["custom_id"], REASON_INPUT);
    assert_eq!(input["max_length"], 100);
    assert_eq!(ops(&w.dry, "delete"), 0);

    let submit = modal(
        7,
        modal_id(Action::Delete, w.post_id),
        sam,
        &[(REASON_INPUT, "abusive to staff")],
    );
    assert_eq!(
        w.clicks.handle(&submit, w.now).await.outcome,
        Outcome::Done(Action::Delete)
    );
    assert_eq!(ops(&w.dry, "delete"), 1);
    let all = fake::check_all(&w.discord).await;
    let mine = of_token(&all, "tok7");
    assert_eq!(mine[0].body, json!({"type": 6}));
    let edit = mine[1].body.to_string();
    assert!(edit.contains("Deleted by <@501>"), "{edit}");
    assert!(edit.contains("abusive to staff"), "{edit}");
    // A deleted post can no longer be hidden.
    assert!(!button_ids(&mine[1].body).contains(&custom_id(Action::Hide, w.post_id)));
}

#[tokio::test]
async fn block_needs_a_second_team_member() {
    let w = world().await;
    let sam = member(501, "Sam", &[TEAM]);
    let alex = member(502, "Alex", &[TEAM]);
    let submit = modal(
        8,
        modal_id(Action::Block, w.post_id),
        sam.clone(),
        &[(REASON_INPUT, "repeat offender")],
    );
    assert_eq!(
        w.clicks.handle(&submit, w.now).await.outcome,
        Outcome::ConfirmationRequested
    );
    assert_eq!(ops(&w.dry, "block"), 0);
    let all = fake::check_all(&w.discord).await;
    let ask = &all[0].body;
    assert_eq!(ask["type"], 4);
    assert!(ask["data"]["content"]
        .as_str()
        .unwrap()
        .contains("different team member"));
    assert_eq!(
        button_ids(&ask["data"]),
        vec![confirm_id(Action::Block, w.post_id)]
    );

    // The same member cannot confirm their own request.
    let own = button(9, confirm_id(Action::Block, w.post_id), sam);
    assert_eq!(
        w.clicks.handle(&own, w.now).await.outcome,
        Outcome::Refused("same_member")
    );
    assert_eq!(ops(&w.dry, "block"), 0);
    // Nor can someone without the team role.
    let guest = button(
        10,
        confirm_id(Action::Block, w.post_id),
        member(9, "G", &[]),
    );
    assert_eq!(
        w.clicks.handle(&guest, w.now).await.outcome,
        Outcome::Refused("not_team")
    );
    // A different team member can.
    let other = button(11, confirm_id(Action::Block, w.post_id), alex.clone());
    assert_eq!(
        w.clicks.handle(&other, w.now).await.outcome,
        Outcome::Done(Action::Block)
    );
    assert_eq!(ops(&w.dry, "block"), 1);
    let all = fake::check_all(&w.discord).await;
    let mine = of_token(&all, "tok11");
    assert_eq!(mine[0].body, json!({"type": 6}));
    assert!(mine[1].body["content"]
        .as_str()
        .unwrap()
        .contains("Confirmed by <@502>"));
    assert_eq!(mine[1].body["components"], json!([]));
    // The request is used up.
    let again = button(12, confirm_id(Action::Block, w.post_id), alex);
    assert_eq!(
        w.clicks.handle(&again, w.now).await.outcome,
        Outcome::Refused("no_pending_request")
    );
    let rows = w
        .store
        .audit_rows(&AuditFilter {
            post_id: Some(w.post_id),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let block = rows
        .iter()
        .find(|r| r.action == "block")
        .expect("block audited");
    assert_eq!(block.actor_id, "502");
    let asked = rows
        .iter()
        .find(|r| r.action == "click.confirm_requested")
        .expect("request audited");
    assert_eq!(asked.actor_id, "501");
    assert_eq!(asked.reason.as_deref(), Some("repeat offender"));
    assert!(block.reason.as_deref().unwrap().contains("asked by Sam"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clicks_act_exactly_once() {
    let w = world().await;
    let mut tasks = Vec::new();
    for n in 0..8u64 {
        let clicks = w.clicks.clone();
        let id = custom_id(Action::Hide, w.post_id);
        let now = w.now;
        tasks.push(tokio::spawn(async move {
            let m = member(600 + n, &format!("Member{n}"), &[TEAM]);
            clicks.handle(&button(100 + n, id, m), now).await.outcome
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let done = outcomes
        .iter()
        .filter(|o| **o == Outcome::Done(Action::Hide))
        .count();
    let already = outcomes
        .iter()
        .filter(|o| **o == Outcome::AlreadyDone(Action::Hide))
        .count();
    assert_eq!((done, already), (1, 7), "{outcomes:?}");
    assert_eq!(ops(&w.dry, "hide"), 1);
    let rows = w
        .store
        .audit_rows(&AuditFilter {
            post_id: Some(w.post_id),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.iter().filter(|r| r.action == "hide").count(), 1);
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "click.already_done")
            .count(),
        7
    );
    assert!(w.store.verify_audit().await.unwrap().is_intact());
    let all = fake::check_all(&w.discord).await;
    let followups: Vec<&Sent> = all
        .iter()
        .filter(|s| s.method == "POST" && s.path.starts_with("/api/v10/webhooks/"))
        .collect();
    assert_eq!(followups.len(), 7);
    for f in followups {
        assert_eq!(f.body["flags"], 64);
        let text = f.body["content"].as_str().unwrap();
        assert!(
            text.starts_with("Already hidden by Member") || text.contains("is already doing this"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_platform_failure_shows_a_retry_button() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/111_222"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "Unsupported post request", "type": "GraphMethodException", "code": 100}
        })))
        .mount(&graph)
        .await;
    let fb = FacebookConfig {
        base_url: graph.uri(),
        token_env: "UNUSED".into(),
        timeout_secs: 5,
        private_reply_days: 7,
    };
    let retry = RetryConfig {
        max_attempts: 1,
        initial_backoff_ms: 10,
        max_backoff_ms: 20,
        max_retry_after_secs: 1,
    };
    let client =
        GraphClient::new(Platform::Facebook, &fb, &retry, SecretString::from("t")).expect("client");
    let platforms = Platforms::empty(&PlatformsConfig::default()).with_client(Arc::new(client));
    let w = world_with(Some(platforms)).await;
    let sam = member(501, "Sam", &[TEAM]);
    let h = w
        .clicks
        .handle(&button(20, custom_id(Action::Hide, w.post_id), sam), w.now)
        .await;
    assert!(
        matches!(h.outcome, Outcome::Failed(Action::Hide, _)),
        "{h:?}"
    );
    let all = fake::check_all(&w.discord).await;
    let mine = of_token(&all, "tok20");
    assert_eq!(mine[0].body, json!({"type": 6}));
    let edit = &mine[1].body;
    assert!(edit.to_string().contains("failed"), "{edit}");
    let labels: Vec<String> = edit["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["components"].as_array().unwrap().clone())
        .filter_map(|b| b["label"].as_str().map(str::to_owned))
        .collect();
    assert!(
        labels.iter().any(|l| l.starts_with("Retry: Hide")),
        "{labels:?}"
    );
    let followup = mine
        .iter()
        .find(|s| s.method == "POST" && !s.path.ends_with("/callback"))
        .expect("ephemeral error");
    assert_eq!(followup.body["flags"], 64);
}

#[test]
fn the_spec_check_catches_bad_bodies() {
    let bad = Sent {
        method: "POST".into(),
        path: "/api/v10/interactions/1/t/callback".into(),
        body: json!({"type": 9, "data": {"custom_id": "x", "title": "t", "components": "nope"}}),
    };
    match fake::spec_errors(&bad) {
        Some(errors) => assert!(!errors.is_empty()),
        None => eprintln!("skipped: DISCORD_OPENAPI_SPEC is not set"),
    }
}

#[test]
fn run_without_a_token_exits_at_once_saying_what_to_set() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
        .args(["run", "--db", "/nonexistent/never-opened.db"])
        .env_remove("DISCORD_TOKEN")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run signpost");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DISCORD_TOKEN is not set"), "{err}");
}

#[tokio::test]
async fn second_confirmation_applies_to_actions_without_a_modal() {
    let w = world_cfg(None, |d| {
        if let Some(o) = d.orgs.get_mut("nsft") {
            o.second_confirmation.push(Action::Hide);
            o.supervisor_actions.push(Action::Hide);
        }
    })
    .await;
    const SUPERVISOR: u64 = 100000000000000033;
    // A team member without the supervisor role is refused.
    let team = button(
        30,
        custom_id(Action::Hide, w.post_id),
        member(501, "Sam", &[TEAM]),
    );
    assert_eq!(
        w.clicks.handle(&team, w.now).await.outcome,
        Outcome::Refused("not_supervisor")
    );
    let first = button(
        31,
        custom_id(Action::Hide, w.post_id),
        member(502, "Kim", &[SUPERVISOR]),
    );
    assert_eq!(
        w.clicks.handle(&first, w.now).await.outcome,
        Outcome::ConfirmationRequested
    );
    assert_eq!(ops(&w.dry, "hide"), 0);
    let second = button(
        32,
        confirm_id(Action::Hide, w.post_id),
        member(503, "Lee", &[SUPERVISOR]),
    );
    assert_eq!(
        w.clicks.handle(&second, w.now).await.outcome,
        Outcome::Done(Action::Hide)
    );
    assert_eq!(ops(&w.dry, "hide"), 1);
    fake::check_all(&w.discord).await;
}
