//! `/hours`: supervisors see and change the monitoring hours. The command's
//! work ([`HoursControl`]) runs here against a temporary SQLite store, the
//! shipped config and the real pipeline; one test drives the whole bot
//! over a fake gateway and the wiremock Discord REST API.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use signpost::bot::commands::hours::{until_suggestions, HoursControl};
use signpost::bot::commands::{Caller, UserError};
use signpost::bot::{build_client, build_http, Clicks, Data};
use signpost::config::discord::DiscordConfig;
use signpost::config::platforms::PlatformsConfig;
use signpost::model::{InboundPost, Platform, PostKind};
use signpost::pipeline::{Ingested, Pipeline};
use signpost::platforms::{DryRun, Platforms};
use signpost::replies::Template;
use signpost::store::{AuditFilter, OverrideKind, Store};
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use support::discord as fake;
use support::gateway;

const NSFT_GUILD: u64 = 100000000000000003;
const NSFT_CHANNEL: u64 = 100000000000000013;
const NSFT_TEAM: u64 = 100000000000000023;
const NSFT_SUPERVISOR: u64 = 100000000000000033;

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    pipeline: Arc<Pipeline>,
    discord: DiscordConfig,
}

impl Env {
    async fn new() -> Env {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let pipeline = Arc::new(Pipeline::load(&config, true).expect("config"));
        let orgs: Vec<&str> = pipeline.config.orgs.keys().map(String::as_str).collect();
        let discord = DiscordConfig::load(&config, &orgs).expect("discord.toml");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("h.db").display()))
            .await
            .expect("store");
        Env {
            _dir: dir,
            store,
            pipeline,
            discord,
        }
    }

    fn control(&self) -> HoursControl<'_> {
        HoursControl {
            store: &self.store,
            pipeline: &self.pipeline,
            discord: &self.discord,
        }
    }

    /// Ingests a post the way the webhook writer does: the org's overrides
    /// read from the store in the same transaction.
    async fn ingest(&self, id: &str, author: &str, text: &str, at: DateTime<Utc>) -> Ingested {
        let post = InboundPost {
            platform: Platform::Facebook,
            external_id: id.into(),
            account: "NSFTpage".into(),
            org: "nsft".into(),
            kind: PostKind::Comment,
            author_id: author.into(),
            author_handle: author.into(),
            text: text.into(),
            url: None,
            created_at: at,
        };
        let mut tx = self.store.begin().await.expect("tx");
        let overrides = self
            .pipeline
            .overrides(&mut tx, "nsft", at)
            .await
            .expect("overrides");
        let out = self
            .pipeline
            .ingest(&mut tx, &post, None, &[], &overrides, at)
            .await
            .expect("ingest");
        tx.commit().await.expect("commit");
        out
    }

    async fn audit_actions(&self) -> Vec<(String, String, Option<Value>)> {
        self.store
            .audit_rows(&AuditFilter {
                org: Some("nsft".into()),
                ..AuditFilter::default()
            })
            .await
            .expect("audit")
            .into_iter()
            .filter(|r| r.action.starts_with("hours."))
            .map(|r| (r.action.clone(), r.actor_id.clone(), r.detail_json()))
            .collect()
    }
}

fn supervisor() -> Caller {
    Caller {
        guild_id: Some(NSFT_GUILD),
        user_id: 501,
        name: "Sam".into(),
        roles: vec![NSFT_TEAM, NSFT_SUPERVISOR],
    }
}

fn team_member() -> Caller {
    Caller {
        guild_id: Some(NSFT_GUILD),
        user_id: 502,
        name: "Jo".into(),
        roles: vec![NSFT_TEAM],
    }
}

/// Tuesday 14 July 2026 at `h:m` UTC (BST is UTC+1; NSFT works 09:00–17:00).
fn tue(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 14, h, m, 0).unwrap()
}

fn user_message(e: &signpost::bot::gateway::Error) -> String {
    e.downcast_ref::<UserError>()
        .map(|u| u.0.clone())
        .unwrap_or_else(|| panic!("expected a user error, got {e}"))
}

fn auto_reply(out: &Ingested) -> Option<(Template, String)> {
    match out {
        Ingested::New { decision, .. } => decision
            .auto_reply
            .as_ref()
            .map(|r| (r.template, r.text.clone())),
        Ingested::Duplicate { .. } => panic!("expected a new post"),
    }
}

const QUESTION: &str = "Is the car park by the main entrance open this week?";

#[tokio::test]
async fn a_supervisors_extend_writes_the_override_and_its_audit_row() {
    let env = Env::new().await;
    let now = tue(15, 0); // 16:00 BST, an hour before closing
    let reply = env
        .control()
        .extend(&supervisor(), None, "20:00", "  heatwave incident  ", now)
        .await
        .expect("extend");
    assert!(
        reply.starts_with("Extended: **nsft** is on duty until 8pm on Tuesday 14 July"),
        "{reply}"
    );
    assert!(reply.ends_with("Reason: heatwave incident"), "{reply}");

    let active = env.store.active_overrides("nsft", now).await.expect("read");
    assert_eq!(active.len(), 1);
    let o = &active[0];
    assert_eq!(o.kind, OverrideKind::Open);
    assert_eq!((o.starts_at, o.ends_at), (now, tue(19, 0)));
    assert_eq!(
        (o.actor_id.as_str(), o.actor_name.as_str()),
        ("discord:501", "Sam")
    );
    assert_eq!(o.reason, "heatwave incident");

    let audit = env.audit_actions().await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    let (action, actor, detail) = &audit[0];
    assert_eq!(
        (action.as_str(), actor.as_str()),
        ("hours.extend", "discord:501")
    );
    let detail = detail.clone().expect("detail");
    assert_eq!(detail["override_id"], o.id);
    assert_eq!(detail["kind"], "open");
    assert_eq!(detail["starts_at"], "2026-07-14T15:00:00Z");
    assert_eq!(detail["ends_at"], "2026-07-14T19:00:00Z");
    assert_eq!(detail["until"], "20:00");
    assert!(env.store.verify_audit().await.expect("verify").is_intact());

    // 18:30 BST would be out of hours; the extension keeps it in hours.
    let out = env.ingest("p-late", "amy", QUESTION, tue(17, 30)).await;
    assert_eq!(auto_reply(&out), None);
    // After the extension ends, the usual out-of-hours reply is back.
    let out = env.ingest("p-later", "bea", QUESTION, tue(19, 30)).await;
    assert_eq!(auto_reply(&out).map(|r| r.0), Some(Template::OutOfHours));

    // The status names the extension.
    let status = env
        .control()
        .status(&supervisor(), Some("nsft"), tue(16, 0))
        .await
        .expect("status");
    assert!(
        status.starts_with(
            "**nsft** is **open** now: extended by Sam until 8pm on Tuesday 14 July: “heatwave incident”."
        ),
        "{status}"
    );
}

#[tokio::test]
async fn a_team_member_is_refused_and_nothing_is_written() {
    let env = Env::new().await;
    let now = tue(15, 0);
    let c = env.control();
    let refusals = [
        c.extend(&team_member(), None, "20:00", "incident", now)
            .await
            .unwrap_err(),
        c.close(&team_member(), None, None, "incident", now)
            .await
            .unwrap_err(),
        c.clear(&team_member(), None, now).await.unwrap_err(),
        c.status(&team_member(), None, now).await.unwrap_err(),
    ];
    for e in &refusals {
        assert_eq!(
            user_message(e),
            "Only supervisors can use /hours. Ask a supervisor, or ask an admin for the supervisor role."
        );
    }
    // A supervisor of nsft cannot change las's hours.
    let e = c
        .close(&supervisor(), Some("las"), None, "incident", now)
        .await
        .unwrap_err();
    assert_eq!(
        user_message(&e),
        "Only las supervisors can use /hours for las."
    );

    for org in ["nsft", "las"] {
        assert!(env
            .store
            .active_overrides(org, now - Duration::days(1))
            .await
            .expect("read")
            .is_empty());
    }
    let rows = env
        .store
        .audit_rows(&AuditFilter::default())
        .await
        .expect("audit");
    assert!(rows.is_empty(), "{rows:?}");
}

#[tokio::test]
async fn bad_input_is_explained_and_nothing_is_written() {
    let env = Env::new().await;
    let now = tue(15, 0);
    let c = env.control();
    let cases = [
        (
            c.extend(&supervisor(), None, "8pm", "incident", now).await,
            "`8pm` is not a time I can read.",
        ),
        (
            c.extend(&supervisor(), None, "2026-07-14 15:00", "incident", now)
                .await,
            "3pm on Tuesday 14 July has already passed",
        ),
        (
            c.extend(&supervisor(), None, "+400h", "incident", now).await,
            "more than 14 days ahead",
        ),
        (
            c.extend(&supervisor(), None, "16:30", "incident", now).await,
            "Nothing to extend: the team is already on duty until 5pm on Tuesday 14 July.",
        ),
        (
            c.extend(&supervisor(), None, "20:00", "   ", now).await,
            "Give a reason",
        ),
        (
            c.close(&supervisor(), None, Some("tomorrow 12:00"), &"x".repeat(201), now)
                .await,
            "Keep the reason to 200 characters.",
        ),
        (
            c.close(&supervisor(), None, None, "incident", tue(18, 0)).await,
            "Already closed: it opens 9am on Wednesday 15 July. To stay closed past then, give `until`.",
        ),
        (
            c.clear(&supervisor(), None, now).await,
            "nsft has no override to clear: the usual hours apply.",
        ),
    ];
    for (result, expected) in cases {
        let e = result.expect_err(expected);
        let message = user_message(&e);
        assert!(message.contains(expected), "{message} / {expected}");
    }
    assert!(env
        .store
        .active_overrides("nsft", now)
        .await
        .expect("read")
        .is_empty());
    assert!(env.audit_actions().await.is_empty());
}

#[tokio::test]
async fn close_takes_effect_on_the_next_post_and_clear_ends_it() {
    let env = Env::new().await;
    // 11:00 BST: in hours, so no automatic reply.
    let out = env.ingest("p1", "amy", QUESTION, tue(10, 0)).await;
    assert_eq!(auto_reply(&out), None);

    let reply = env
        .control()
        .close(
            &supervisor(),
            None,
            None,
            "major incident: all hands",
            tue(10, 1),
        )
        .await
        .expect("close");
    assert!(
        reply.starts_with("Closed: **nsft** is off duty from now until 5pm on Tuesday 14 July"),
        "{reply}"
    );

    // The very next post, still in the usual hours, gets the out-of-hours
    // reply, naming tomorrow's opening.
    let out = env.ingest("p2", "bea", QUESTION, tue(10, 2)).await;
    let (template, text) = auto_reply(&out).expect("an automatic reply");
    assert_eq!(template, Template::OutOfHours);
    assert!(text.contains("9am on Wednesday 15 July"), "{text}");
    if let Ingested::New { decision, .. } = &out {
        assert!(!decision.in_hours);
    }

    let status = env
        .control()
        .status(&supervisor(), None, tue(10, 3))
        .await
        .expect("status");
    assert!(
        status.starts_with(
            "**nsft** is **closed** now: closed by Sam until 5pm on Tuesday 14 July: “major incident: all hands”."
        ),
        "{status}"
    );

    let cleared = env
        .control()
        .clear(&supervisor(), None, tue(10, 10))
        .await
        .expect("clear");
    assert!(
        cleared.starts_with("Cleared 1 override for **nsft**: the usual hours apply again.\n**nsft** is **open** now: usual hours."),
        "{cleared}"
    );
    let out = env.ingest("p3", "cai", QUESTION, tue(10, 11)).await;
    assert_eq!(auto_reply(&out), None);

    // The override's history is kept, cut at the clear.
    let all = env
        .store
        .overrides_between("nsft", tue(0, 0), tue(23, 0))
        .await
        .expect("read");
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].starts_at, all[0].ends_at),
        (tue(10, 1), tue(10, 10))
    );

    let audit = env.audit_actions().await;
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(actions, ["hours.close", "hours.clear"]);
    let close = audit[0].2.clone().expect("detail");
    assert_eq!(close["kind"], "closed");
    assert_eq!(close["ends_at"], "2026-07-14T16:00:00Z");
    assert_eq!(close["until"], "");
    let clear = audit[1].2.clone().expect("detail");
    assert_eq!(clear["ended"][0]["override_id"], all[0].id);
    assert_eq!(clear["ended"][0]["reason"], "major incident: all hands");
    assert_eq!(clear["removed"], json!([]));
    assert!(env.store.verify_audit().await.expect("verify").is_intact());
}

#[tokio::test]
async fn close_with_until_runs_through_the_next_opening() {
    let env = Env::new().await;
    let reply = env
        .control()
        .close(
            &supervisor(),
            Some("nsft"),
            Some("tomorrow 12:00"),
            "system outage",
            tue(18, 0),
        )
        .await
        .expect("close");
    assert!(reply.contains("until 12pm on Wednesday 15 July"), "{reply}");
    // 10:00 BST on Wednesday: usually in hours, closed by the override.
    let wed_10 = Utc.with_ymd_and_hms(2026, 7, 15, 9, 0, 0).unwrap();
    let out = env.ingest("p1", "amy", QUESTION, wed_10).await;
    let (template, text) = auto_reply(&out).expect("reply");
    assert_eq!(template, Template::OutOfHours);
    assert!(text.contains("12pm on Wednesday 15 July"), "{text}");
}

#[test]
fn until_suggestions_follow_what_is_typed() {
    assert_eq!(until_suggestions("+"), ["+1h", "+2h", "+4h"]);
    assert_eq!(
        until_suggestions("TOM"),
        ["tomorrow 09:00", "tomorrow 12:00"]
    );
    assert_eq!(until_suggestions("").len(), 8);
    assert!(until_suggestions("9").is_empty());
}

// ------------------------------------------------------------- gateway

fn hours_command(seq: u64, id: u64, token: &str, roles: &[u64], options: Value) -> Value {
    gateway::command(
        gateway::Invoke {
            seq,
            interaction_id: id,
            token,
            guild: NSFT_GUILD,
            channel: NSFT_CHANNEL,
        },
        gateway::member(501, "Sam", roles),
        "hours",
        json!([{"name": "now", "type": 1, "options": options}]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hours_now_over_the_gateway_is_deferred_privately_and_answered() {
    let env = Env::new().await;
    let gw = gateway::start(NSFT_GUILD).await;
    let rest = wiremock::MockServer::start().await;
    gateway::mount_gateway_routes(&rest, &gw.url).await;
    fake::mount(&rest).await;
    let mut discord = env.discord.clone();
    discord.api_base = rest.uri();
    // Only nsft's guild is served by this gateway.
    discord.orgs.retain(|id, _| id == "nsft");
    let discord = Arc::new(discord);

    let platforms = Platforms::dry_run(&PlatformsConfig::default(), Arc::new(DryRun::new()));
    let make_data = {
        let (store, pipeline, discord) = (env.store.clone(), env.pipeline.clone(), discord.clone());
        move |http| Data {
            clicks: Arc::new(Clicks::new(store, pipeline, platforms, discord, http)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    };
    let http = build_http("test-token", &discord.api_base, None);
    let mut client = build_client(http, discord.clone(), make_data)
        .await
        .expect("client");
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });

    gateway::wait_for(&rest, "command registration", |s| {
        s.iter()
            .any(|r| r.method == "PUT" && r.path.ends_with("/commands"))
    })
    .await;
    let registered = fake::sent(&rest).await;
    let put = registered.iter().find(|r| r.method == "PUT").expect("put");
    let hours = put
        .body
        .as_array()
        .expect("commands")
        .iter()
        .find(|c| c["name"] == "hours");
    let hours = hours.expect("/hours is registered");
    let subs: Vec<&str> = hours["options"]
        .as_array()
        .expect("subcommands")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(subs, ["now", "extend", "close", "clear"]);

    // A supervisor asks privately.
    gw.events
        .send(hours_command(
            2,
            960000000000000001,
            "sup-token",
            &[NSFT_TEAM, NSFT_SUPERVISOR],
            json!([]),
        ))
        .await
        .expect("inject");
    gateway::wait_for(&rest, "the supervisor's answer", |s| {
        s.iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/sup-token"))
    })
    .await;

    // A team member asks in public: refused, privately.
    gw.events
        .send(hours_command(
            3,
            960000000000000002,
            "team-token",
            &[NSFT_TEAM],
            json!([{"name": "public", "type": 5, "value": true}]),
        ))
        .await
        .expect("inject");
    gateway::wait_for(&rest, "the refusal", |s| {
        s.iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/team-token"))
    })
    .await;

    let all = fake::check_all(&rest).await;
    for token in ["sup-token", "team-token"] {
        let callback = all
            .iter()
            .find(|r| r.path.ends_with(&format!("/{token}/callback")))
            .expect("callback");
        // Deferred (type 5), ephemeral (flag 64).
        assert_eq!(callback.body["type"], 5, "{}", callback.body);
        assert_eq!(callback.body["data"]["flags"], 64, "{}", callback.body);
        let followup = all
            .iter()
            .find(|r| r.method == "POST" && r.path.ends_with(&format!("/{token}")))
            .expect("follow-up");
        assert_eq!(
            followup.path,
            format!("/api/v10/webhooks/{}/{token}", fake::APP_ID)
        );
        assert_eq!(followup.body["flags"], 64, "{}", followup.body);
        assert_eq!(followup.body["allowed_mentions"]["parse"], json!([]));
    }
    let answer = |token: &str| {
        all.iter()
            .find(|r| r.method == "POST" && r.path.ends_with(&format!("/{token}")))
            .and_then(|r| r.body["content"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let sup = answer("sup-token");
    assert!(sup.starts_with("**nsft** is **"), "{sup}");
    assert!(
        sup.contains("Usual hours: Monday to Friday, 9am to 5pm"),
        "{sup}"
    );
    assert_eq!(
        answer("team-token"),
        "Only supervisors can use /hours. Ask a supervisor, or ask an admin for the supervisor role."
    );

    shards.shutdown_all().await;
    let _ = tokio::time::timeout(StdDuration::from_secs(5), running).await;
    gw.task.abort();
}
