//! `webhooks deliver --once` against a database another process wrote, and
//! `serve --log-format json` (JSON lines on stderr, the webhook worker running).

use super::common::{clickclack_async, command};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use clickclack_runtime::chat::webhooks::sign;
use clickclack_runtime::chat::{Actor, Chat, ChatConfig, NewPost, NewWebhook};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

type Got = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on 127.0.0.1:0 answering 200; returns its URL and what it got.
async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    async fn receive(State(got): State<Got>, headers: HeaderMap, body: String) -> StatusCode {
        got.lock().unwrap().push((headers, body));
        StatusCode::NO_CONTENT
    }
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// A database with a subscription to `url` and one queued public message; returns the
/// webhook secret.
async fn seed(db: &Path, url: &str) -> String {
    let store = Store::open(StoreOptions::new(
        DbLocation::parse(db.to_str().unwrap()).unwrap(),
    ))
    .await
    .unwrap();
    let chat = Chat::new(store, ChatConfig::default());
    let boot = chat.bootstrap("Owner", "owner@example.com").await.unwrap();
    let owner = Actor::new(boot.user.clone());
    let webhook = chat
        .create_webhook(
            &owner,
            &boot.workspace.unwrap().id,
            NewWebhook {
                url: url.to_string(),
                event_types: vec!["message.created".into()],
                ..NewWebhook::default()
            },
        )
        .await
        .unwrap();
    chat.post_channel_message(
        &owner,
        &boot.channel.unwrap().id,
        NewPost {
            body: "deliver me".into(),
            ..NewPost::default()
        },
    )
    .await
    .unwrap();
    chat.store().close().await;
    webhook.secret.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_deliver_once_sends_what_is_queued_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let (url, got) = receiver().await;
    let secret = seed(&db, &url).await;
    std::fs::write(
        dir.path().join("cc.json"),
        r#"{"log_format": "json", "webhook_retry_schedule": "0s,1m", "webhook_timeout_seconds": 5, "webhook_allow_private_targets": true}"#,
    )
    .unwrap();
    let args = [
        "webhooks",
        "deliver",
        "--once",
        "--db",
        db.to_str().unwrap(),
        "--config",
        "cc.json",
    ];
    let out = clickclack_async(dir.path(), &args).await;
    let summary: Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(summary["planned"], 1, "{out:?}");
    assert_eq!(summary["attempted"], 1);
    assert_eq!(summary["delivered"], 1);
    // The config file's log_format applies: every stderr line is a JSON object.
    for line in out.stderr.lines() {
        let log: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("{line}"));
        assert!(
            log["level"].is_string() && log["message"].is_string(),
            "{line}"
        );
    }
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1);
        let (headers, body) = &got[0];
        let timestamp = headers["x-clickclack-timestamp"].to_str().unwrap();
        assert_eq!(
            headers["x-clickclack-signature"].to_str().unwrap(),
            format!("sha256={}", sign(&secret, timestamp, body))
        );
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["type"], "message.created");
    }

    // Nothing left: a second pass sends nothing.
    let out = clickclack_async(dir.path(), &args).await;
    let summary: Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(
        (summary["planned"].as_u64(), summary["attempted"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(got.lock().unwrap().len(), 1);

    let bad = clickclack_async(
        dir.path(),
        &[
            "webhooks",
            "deliver",
            "--once",
            "--db",
            db.to_str().unwrap(),
            "--webhook-retry-schedule",
            "soon",
        ],
    )
    .await;
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_log_format_json_writes_json_lines_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(
        dir.path(),
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--data",
            "data",
            "--log-format",
            "json",
        ],
    );
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !lines
        .iter()
        .any(|l: &String| l.contains("webhook worker started"))
        || !lines.iter().any(|l| l.contains("listening on"))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("no listening line; stderr so far:\n{}", lines.join("\n"));
            }
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        lines.push(line);
    }
    assert!(lines.iter().any(|l| l.contains("\"stopped\"")), "{lines:?}");
    for line in &lines {
        let log: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(log["timestamp"].is_string(), "{line}");
        assert!(log["level"].is_string(), "{line}");
        assert!(log["message"].is_string(), "{line}");
    }
    let listening = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("listening on"))
        })
        .unwrap();
    assert!(
        listening["db"].is_string(),
        "fields are top-level: {listening}"
    );
}
