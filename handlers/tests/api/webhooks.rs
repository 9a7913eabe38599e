//! Outgoing webhooks: owner-only management, signed deliveries to a real receiving server
//! on 127.0.0.1:0, retries by the schedule, the delivery log, privacy, restart safety.

use crate::dms::create_dm;
use crate::TestApp;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use clickclack_handlers::outgoing::{DeliveryRun, Outgoing};
use clickclack_runtime::chat::webhooks::sign;
use clickclack_runtime::chat::{Actor, Chat, ChatConfig, NewPost, NewWebhook, WebhookPolicy};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

#[derive(Default)]
struct ReceiverState {
    /// Statuses to answer, in order; 200 once empty.
    answers: Mutex<VecDeque<u16>>,
    got: Mutex<Vec<Received>>,
}

/// A webhook receiver on 127.0.0.1:0 that records requests and answers scripted statuses.
struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> Receiver {
        let state = Arc::new(ReceiverState::default());
        state.answers.lock().unwrap().extend(answers);
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, state }
    }

    fn got(&self) -> Vec<Received> {
        self.state.got.lock().unwrap().clone()
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    state.got.lock().unwrap().push(Received { headers, body });
    let status = state.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// Checks the signature and timestamp the way a receiver should; returns the body JSON.
fn verify(received: &Received, secret: &str) -> Value {
    let header = |name: &str| {
        received
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("missing {name}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let timestamp = header("x-clickclack-timestamp");
    let sent_at: i64 = timestamp.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - sent_at).abs() < 300, "stale timestamp {timestamp}");
    let expected = format!("sha256={}", sign(secret, &timestamp, &received.body));
    assert_eq!(header("x-clickclack-signature"), expected);
    assert_ne!(
        header("x-clickclack-signature"),
        format!("sha256={}", sign("whsec_wrong", &timestamp, &received.body))
    );
    assert_eq!(header("content-type"), "application/json");
    let body: Value = serde_json::from_str(&received.body).unwrap();
    assert_eq!(header("x-clickclack-event"), body["type"].as_str().unwrap());
    assert_eq!(
        header("x-clickclack-delivery"),
        body["delivery_id"].as_str().unwrap()
    );
    body
}

fn policy(schedule: &str) -> WebhookPolicy {
    WebhookPolicy {
        schedule: WebhookPolicy::parse_schedule(schedule).unwrap(),
        timeout: Duration::from_secs(5),
        allow_private_targets: true,
    }
}

/// Creates a webhook as the owner; returns (id, secret).
async fn subscribe(app: &TestApp, url: &str, types: Value) -> (String, String) {
    let res = app
        .post(&format!("/api/workspaces/{}/webhooks", app.workspace_id))
        .token(&app.owner.token)
        .json(json!({"url": url, "event_types": types}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let webhook = &res.body["webhook"];
    (
        webhook["id"].as_str().unwrap().to_string(),
        webhook["secret"].as_str().unwrap().to_string(),
    )
}

async fn deliveries(app: &TestApp, webhook_id: &str) -> Vec<Value> {
    app.get(&format!("/api/webhooks/{webhook_id}/deliveries"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK)
        .body["deliveries"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn management_is_owner_only_and_validates_urls() {
    let app = TestApp::new().await;
    let list = format!("/api/workspaces/{}/webhooks", app.workspace_id);
    app.post(&list)
        .json(json!({"url": "https://example.com/hook"}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);

    let res = app
        .post(&list)
        .token(&app.owner.token)
        .json(json!({"url": "https://example.com/hook", "event_types": ["message.created"], "description": "CI"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let webhook = res.body["webhook"].clone();
    let id = webhook["id"].as_str().unwrap().to_string();
    let secret = webhook["secret"].as_str().unwrap();
    assert!(id.starts_with("whk_"), "{id}");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 30,
        "{secret}"
    );
    assert_eq!(webhook["event_types"], json!(["message.created"]));
    assert_eq!(webhook["active"], true);
    assert_eq!(webhook["description"], "CI");
    assert!(webhook["secret_hint"]
        .as_str()
        .is_some_and(|h| secret.ends_with(h.trim_start_matches('…'))));

    // The secret is shown once.
    let res = app
        .get(&list)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["webhooks"].as_array().unwrap().len(), 1);
    assert!(res.body["webhooks"][0].get("secret").is_none());
    let one = format!("/api/webhooks/{id}");
    let res = app
        .get(&one)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(res.body["webhook"].get("secret").is_none());
    assert_eq!(res.body["webhook"]["url"], "https://example.com/hook");

    // Members see 403, outsiders 404.
    let body = json!({"url": "https://example.com/x"});
    app.post(&list)
        .token(&app.member.token)
        .json(body.clone())
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "owner_required");
    app.get(&list)
        .token(&app.member.token)
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "owner_required");
    for path in [one.clone(), format!("/api/webhooks/{id}/deliveries")] {
        app.get(&path)
            .token(&app.member.token)
            .send()
            .await
            .expect_error(StatusCode::FORBIDDEN, "owner_required");
        app.get(&path)
            .token(&app.outsider.token)
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    app.post(&list)
        .token(&app.outsider.token)
        .json(body.clone())
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.patch(&one)
        .token(&app.member.token)
        .json(json!({"active": false}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "owner_required");
    app.delete(&one)
        .token(&app.outsider.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    // Only absolute http(s) URLs.
    for bad in [
        "",
        "ftp://example.com/hook",
        "example.com/hook",
        "javascript:alert(1)",
        "https://",
        "https://user:pw@example.com/",
    ] {
        app.post(&list)
            .token(&app.owner.token)
            .json(json!({"url": bad}))
            .send()
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_webhook_url");
    }
    app.post(&list)
        .token(&app.owner.token)
        .json(json!({"url": "https://example.com", "event_types": ["Not A Type"]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_event_types");
    app.patch(&one)
        .token(&app.owner.token)
        .json(json!({"url": "file:///etc/passwd"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_webhook_url");
    app.post(&list)
        .token(&app.owner.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);

    // Update, then delete.
    let res = app
        .patch(&one)
        .token(&app.owner.token)
        .json(json!({"url": "https://example.org/new", "event_types": [], "active": false}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["webhook"]["url"], "https://example.org/new");
    assert_eq!(res.body["webhook"]["event_types"], json!(["*"]));
    assert_eq!(res.body["webhook"]["active"], false);
    app.delete(&one)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    app.get(&one)
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&format!("/api/webhooks/{id}/deliveries?limit=abc"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn signed_delivery_is_retried_by_the_schedule_until_2xx() {
    let app = TestApp::new().await;
    let receiver = Receiver::start(&[500]).await;
    let earlier = app.send(&app.owner, "before the subscription").await;
    let (webhook_id, secret) = subscribe(&app, &receiver.url, json!(["message.created"])).await;
    let outgoing = Outgoing::new(app.chat.clone(), policy("0s,1s,1s"));
    let message = app.send(&app.member, "ship it").await;

    // Attempt 1: the receiver answers 500, the next attempt is a second away.
    let run = outgoing.deliver_due().await.unwrap();
    assert_eq!(
        run,
        DeliveryRun {
            planned: 1,
            attempted: 1,
            retrying: 1,
            ..DeliveryRun::default()
        }
    );
    let log = deliveries(&app, &webhook_id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status"], 500);
    assert_eq!(log[0]["last_error"], "HTTP 500");
    assert!(log[0]["next_attempt_at"].as_str().is_some());
    assert_eq!(log[0]["event_type"], "message.created");
    // Not due yet.
    assert_eq!(outgoing.deliver_due().await.unwrap().attempted, 0);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let run = outgoing.deliver_due().await.unwrap();
    assert_eq!((run.attempted, run.delivered), (1, 1));

    let got = receiver.got();
    assert_eq!(got.len(), 2);
    for received in &got {
        let body = verify(received, &secret);
        assert_eq!(body["type"], "message.created");
        assert_eq!(body["webhook_id"], webhook_id.as_str());
        assert_eq!(body["event"]["payload"]["message_id"], message["id"]);
        assert_ne!(body["event"]["payload"]["message_id"], earlier["id"]);
    }
    assert_eq!(got[0].body, got[1].body, "a retry sends the same body");

    let log = deliveries(&app, &webhook_id).await;
    assert_eq!(log.len(), 1);
    let delivery = &log[0];
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"], 2);
    assert_eq!(delivery["last_status"], 200);
    assert_eq!(delivery["last_error"], Value::Null);
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    assert!(delivery["delivered_at"].as_str().is_some());
    let attempts = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["status"], 500);
    assert_eq!(attempts[1]["attempt"], 2);
    assert_eq!(attempts[1]["status"], 200);
    assert_eq!(
        outgoing.deliver_due().await.unwrap(),
        DeliveryRun::default()
    );
}

#[tokio::test]
async fn gives_up_after_the_schedule_and_retries_on_request() {
    let app = TestApp::new().await;
    let receiver = Receiver::start(&[503, 503]).await;
    let (webhook_id, _) = subscribe(&app, &receiver.url, json!(["*"])).await;
    let outgoing = Outgoing::new(app.chat.clone(), policy("0s,0s"));
    app.send(&app.owner, "nobody home").await;
    let run = outgoing.deliver_due().await.unwrap();
    assert_eq!((run.attempted, run.retrying, run.failed), (2, 1, 1));
    let log = deliveries(&app, &webhook_id).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["last_status"], 503);

    let delivery_id = log[0]["id"].as_str().unwrap();
    let retry = format!("/api/webhooks/{webhook_id}/deliveries/{delivery_id}/retry");
    app.post(&retry)
        .token(&app.member.token)
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "owner_required");
    app.post(&format!(
        "/api/webhooks/{webhook_id}/deliveries/whd_01kzzzzzzzzzzzzzzzzzzzzzzz/retry"
    ))
    .token(&app.owner.token)
    .send()
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    let res = app
        .post(&retry)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["delivery"]["status"], "pending");
    let run = outgoing.deliver_due().await.unwrap();
    assert_eq!((run.attempted, run.delivered), (1, 1));
    let log = deliveries(&app, &webhook_id).await;
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(receiver.got().len(), 3);
}

#[tokio::test]
async fn private_and_unsubscribed_events_never_leave() {
    let app = TestApp::new().await;
    let receiver = Receiver::start(&[]).await;
    let (messages_only, secret) = subscribe(&app, &receiver.url, json!(["message.created"])).await;
    let (everything, _) = subscribe(&app, &receiver.url, json!(["*"])).await;
    let outgoing = Outgoing::new(app.chat.clone(), policy("0s"));

    // A DM message and the DM itself are private to its members.
    let dm = create_dm(&app, &app.owner, &[&app.member.id], StatusCode::CREATED).await;
    app.post(&format!("/api/dms/{}/messages", dm["id"].as_str().unwrap()))
        .token(&app.owner.token)
        .json(json!({"body": "just between us"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    // A reaction is public but not a subscribed type of the first webhook.
    let message = app.send(&app.owner, "public news").await;
    app.post(&format!(
        "/api/messages/{}/reactions",
        message["id"].as_str().unwrap()
    ))
    .token(&app.member.token)
    .json(json!({"emoji": "👍"}))
    .send()
    .await
    .expect(StatusCode::CREATED);

    outgoing.deliver_due().await.unwrap();
    let got = receiver.got();
    let by = |webhook: &str| -> Vec<Value> {
        got.iter()
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
            .filter(|b| b["webhook_id"] == webhook)
            .collect()
    };
    let first = by(&messages_only);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["event"]["payload"]["message_id"], message["id"]);
    let all = by(&everything);
    let types: Vec<&str> = all.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["message.created", "reaction.added"]);
    for received in &got {
        assert!(!received.body.contains("just between us"));
        assert!(!received.body.contains(dm["id"].as_str().unwrap()));
    }
    verify(
        got.iter()
            .find(|r| r.body.contains(&messages_only))
            .unwrap(),
        &secret,
    );

    // A paused subscription gets nothing, and does not catch up when resumed.
    app.patch(&format!("/api/webhooks/{messages_only}"))
        .token(&app.owner.token)
        .json(json!({"active": false}))
        .send()
        .await
        .expect(StatusCode::OK);
    app.send(&app.owner, "while paused").await;
    outgoing.deliver_due().await.unwrap();
    app.patch(&format!("/api/webhooks/{messages_only}"))
        .token(&app.owner.token)
        .json(json!({"active": true}))
        .send()
        .await
        .expect(StatusCode::OK);
    outgoing.deliver_due().await.unwrap();
    assert_eq!(deliveries(&app, &messages_only).await.len(), 1);
    assert_eq!(deliveries(&app, &everything).await.len(), 3);

    // Paging, newest first.
    let res = app
        .get(&format!("/api/webhooks/{everything}/deliveries?limit=2"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["has_more"], true);
    let page: Vec<&str> = res.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(page, ["message.created", "reaction.added"]);
    let cursor = res.body["next_cursor"].as_str().unwrap();
    let res = app
        .get(&format!(
            "/api/webhooks/{everything}/deliveries?limit=2&cursor={cursor}"
        ))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(res.body["has_more"], false);
    assert_eq!(res.body["next_cursor"], "");
}

async fn open_chat(path: &std::path::Path) -> Chat {
    let location = DbLocation::parse(path.to_str().unwrap()).unwrap();
    let store = Store::open(StoreOptions::new(location)).await.unwrap();
    Chat::new(store, ChatConfig::default())
}

#[tokio::test]
async fn a_queued_delivery_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restart.db");
    let receiver = Receiver::start(&[]).await;
    let webhook_policy = policy("0s,1m");

    let chat = open_chat(&path).await;
    let boot = chat.bootstrap("Owner", "owner@example.com").await.unwrap();
    let owner = Actor::new(boot.user.clone());
    let workspace_id = boot.workspace.unwrap().id;
    let webhook = chat
        .create_webhook(
            &owner,
            &workspace_id,
            NewWebhook {
                url: receiver.url.clone(),
                ..NewWebhook::default()
            },
        )
        .await
        .unwrap();
    let posted = chat
        .post_channel_message(
            &owner,
            &boot.channel.unwrap().id,
            NewPost {
                body: "queued before the crash".into(),
                ..NewPost::default()
            },
        )
        .await
        .unwrap();
    // The worker queued it, then the process went away before sending.
    assert_eq!(
        chat.plan_webhook_deliveries(&webhook_policy).await.unwrap(),
        1
    );
    chat.store().close().await;
    drop(chat);
    assert!(receiver.got().is_empty());

    let chat = open_chat(&path).await;
    let run = Outgoing::new(chat.clone(), webhook_policy)
        .deliver_due()
        .await
        .unwrap();
    assert_eq!((run.planned, run.delivered), (0, 1));
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    let body = verify(&got[0], webhook.secret.as_deref().unwrap());
    assert_eq!(body["event"]["id"], posted.event.unwrap().id.as_str());
    chat.store().close().await;
}

#[tokio::test]
async fn the_worker_delivers_in_the_background_and_stops_on_shutdown() {
    let app = TestApp::new().await;
    let receiver = Receiver::start(&[]).await;
    subscribe(&app, &receiver.url, json!(["message.created"])).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(Outgoing::new(app.chat.clone(), policy("0s")).run(async {
        let _ = stopped.await;
    }));
    app.send(&app.owner, "wake the worker").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while receiver.got().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no delivery");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .expect("worker stops")
        .unwrap();
}

#[tokio::test]
async fn private_targets_are_blocked_unless_allowed() {
    let app = TestApp::new().await;
    let receiver = Receiver::start(&[]).await;
    let localhost = receiver.url.replace("127.0.0.1", "localhost");
    let (literal, _) = subscribe(&app, &receiver.url, json!(["message.created"])).await;
    let (named, _) = subscribe(&app, &localhost, json!(["message.created"])).await;
    let strict = Outgoing::new(
        app.chat.clone(),
        WebhookPolicy {
            allow_private_targets: false,
            ..policy("0s,1m")
        },
    );
    app.send(&app.owner, "to the metadata service").await;
    let run = strict.deliver_due().await.unwrap();
    assert_eq!((run.attempted, run.retrying), (2, 2));
    assert!(receiver.got().is_empty());
    for webhook in [&literal, &named] {
        let log = deliveries(&app, webhook).await;
        assert_eq!(log[0]["status"], "pending");
        assert_eq!(log[0]["last_status"], Value::Null);
        let error = log[0]["last_error"].as_str().unwrap();
        assert!(error.contains("not a public address"), "{error}");
    }
}
