//! `serve`: settings precedence, dev auth, admin commands beside a running server, signals,
//! and the in-process `run` entry point.

use super::common::{clickclack_async, command, get_json, http, Server};
use clickclack::commands::serve;
use clickclack_handlers::{AppState, HttpConfig};
use clickclack_runtime::chat::{Chat, ChatConfig};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use serde_json::{json, Value};
use std::path::Path;

fn serve_in(dir: &Path, data: &Path, extra: &[&str]) -> std::process::Command {
    let mut args = vec![
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    command(dir, &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn magic_link_from_admin_signs_in_on_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let server = Server::start(serve_in(dir.path(), &data, &[])).await;
    assert!(server
        .stderr()
        .contains("dev auth user: Local Captain (usr_"));

    let token = clickclack_async(
        dir.path(),
        &[
            "admin",
            "magic-link",
            "create",
            "--email",
            "new@example.com",
            "--name",
            "New Person",
            "--data",
            d,
        ],
    )
    .await
    .ok()
    .to_string();
    assert!(token.starts_with("mgt_"), "{token}");

    let consume = || {
        http()
            .post(server.at("/api/auth/magic/consume"))
            .json(&json!({"token": token}))
            .send()
    };
    let r = consume().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let session = body["token"].as_str().unwrap().to_string();
    assert!(session.starts_with("sst_"));
    let me: Value = http()
        .get(server.at("/api/me"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["display_name"], "New Person");
    assert!(
        !consume().await.unwrap().status().is_success(),
        "single use"
    );

    // More admin commands while the server runs on the same database.
    let (workspace_id, _) = server.dev_workspace().await;
    let user_id = clickclack_async(
        dir.path(),
        &[
            "admin",
            "user",
            "create",
            "--name",
            "Deck Hand",
            "--email",
            "hand@example.com",
            "--workspace",
            &workspace_id,
            "--data",
            d,
        ],
    )
    .await
    .ok()
    .to_string();
    assert!(user_id.starts_with("usr_"));
    let members =
        get_json(&server.at(&format!("/api/workspaces/{workspace_id}/members?limit=100"))).await;
    assert!(
        members["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user"]["id"] == user_id.as_str()),
        "{members}"
    );
    let invite = clickclack_async(
        dir.path(),
        &[
            "admin",
            "invite",
            "create",
            "--workspace",
            &workspace_id,
            "--data",
            d,
        ],
    )
    .await
    .ok()
    .to_string();
    assert!(invite.starts_with("tok_"), "{invite}");
    let owner = get_json(&server.at("/api/me")).await;
    let boot = clickclack_async(dir.path(), &["admin", "bootstrap", "--data", d]).await;
    assert_eq!(boot.ok(), owner["user"]["id"].as_str().unwrap());

    assert!(
        server.stdout().is_empty(),
        "stdout stays clean: {}",
        server.stdout()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dev_bootstrap_false_turns_dev_auth_off_even_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(serve_in(dir.path(), &data, &["--dev-bootstrap=false"])).await;
    let r = http().get(server.at("/api/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let caps = get_json(&server.at("/api/capabilities")).await;
    assert_eq!(caps["dev_auth"], false);
    assert_eq!(caps["transports"], json!(["ws", "poll"]));
    assert_eq!(caps["limits"]["synchronous"], "full");
    assert!(!server.stderr().contains("dev auth user"));
    server.stop().await;

    // The bare flag beats the env twin.
    let mut cmd = serve_in(dir.path(), &data, &["--dev-bootstrap", "--sync", "normal"]);
    cmd.env("CLICKCLACK_DEV_BOOTSTRAP", "false");
    let server = Server::start(cmd).await;
    let r = http().get(server.at("/api/me")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let caps = get_json(&server.at("/api/capabilities")).await;
    assert_eq!(caps["limits"]["synchronous"], "normal");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settings_precedence_is_defaults_file_env_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let config = dir.path().join("clickclack.json");
    std::fs::write(
        &config,
        json!({"addr": "127.0.0.2:0", "data": a, "dev_bootstrap": false, "sync": "normal"})
            .to_string(),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    // File over defaults.
    let server = Server::start(command(dir.path(), &["serve", "--config", config])).await;
    assert_eq!(server.addr.ip().to_string(), "127.0.0.2");
    assert!(a.join("clickclack.db").is_file() && a.join("uploads").is_dir());
    let caps = get_json(&server.at("/api/capabilities")).await;
    assert_eq!(caps["dev_auth"], false);
    assert_eq!(caps["limits"]["synchronous"], "normal");
    server.stop().await;

    // Env over the file (the file itself named by env); the file still fills the rest.
    let env = |cmd: &mut std::process::Command| {
        cmd.env("CLICKCLACK_CONFIG", config)
            .env("CLICKCLACK_ADDR", "127.0.0.3:0")
            .env("CLICKCLACK_DATA", &b);
    };
    let mut cmd = command(dir.path(), &["serve"]);
    env(&mut cmd);
    let server = Server::start(cmd).await;
    assert_eq!(server.addr.ip().to_string(), "127.0.0.3");
    assert!(b.join("clickclack.db").is_file());
    assert_eq!(
        get_json(&server.at("/api/capabilities")).await["dev_auth"],
        false
    );
    server.stop().await;

    // No command at all means serve, with the same settings.
    let mut cmd = command(dir.path(), &[]);
    env(&mut cmd);
    cmd.env("CLICKCLACK_ADDR", "127.0.0.5:0");
    let server = Server::start(cmd).await;
    assert_eq!(server.addr.ip().to_string(), "127.0.0.5");
    server.stop().await;

    // Flags over env.
    let mut cmd = command(
        dir.path(),
        &[
            "serve",
            "--addr",
            "127.0.0.4:0",
            "--data",
            c.to_str().unwrap(),
            "--dev-bootstrap=true",
        ],
    );
    env(&mut cmd);
    let server = Server::start(cmd).await;
    assert_eq!(server.addr.ip().to_string(), "127.0.0.4");
    assert!(c.join("clickclack.db").is_file());
    assert_eq!(
        get_json(&server.at("/api/capabilities")).await["dev_auth"],
        true
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_invalid_config_file_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    let missing = clickclack_async(dir.path(), &["serve", "--config", "nope.json"]).await;
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("cannot read config file nope.json"),
        "{}",
        missing.stderr
    );

    std::fs::write(dir.path().join("bad.json"), "{\"addr\": ").unwrap();
    let invalid = clickclack_async(dir.path(), &["serve", "--config", "bad.json"]).await;
    assert_eq!(invalid.code, 1);
    assert!(
        invalid.stderr.contains("invalid config file bad.json"),
        "{}",
        invalid.stderr
    );

    std::fs::write(dir.path().join("typed.json"), r#"{"dev_bootstrap": "no"}"#).unwrap();
    let typed = clickclack_async(dir.path(), &["migrate", "--config", "typed.json"]).await;
    assert_eq!(typed.code, 1);
    assert!(typed.stderr.contains("dev_bootstrap"), "{}", typed.stderr);
    assert!(
        !dir.path().join("data").exists(),
        "nothing created on a config error"
    );

    let bad_addr = clickclack_async(dir.path(), &["serve", "--addr", "8080"]).await;
    assert_eq!(bad_addr.code, 2);
    let bad_url = clickclack_async(
        dir.path(),
        &["serve", "--public-url", "http://chat.example.com"],
    )
    .await;
    assert_eq!(bad_url.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_and_sigint_shut_serve_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for signal in ["TERM", "INT"] {
        let mut server = Server::start(serve_in(dir.path(), &data, &[])).await;
        // A long-poll in flight when the signal arrives still gets its answer.
        let (workspace_id, _) = server.dev_workspace().await;
        let events = format!("/api/realtime/events?workspace_id={workspace_id}&limit=1000");
        let tail = get_json(&server.at(&events)).await["events"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["cursor"]
            .as_str()
            .unwrap()
            .to_string();
        let started = std::time::Instant::now();
        let poll = tokio::spawn(
            http()
                .get(server.at(&format!("{events}&after_cursor={tail}&wait=2")))
                .send(),
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        server.signal(signal);
        let answered = poll.await.unwrap().unwrap();
        assert_eq!(answered.status(), 200);
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(1500),
            "it was held"
        );
        let status = server.wait_exit().await;
        assert_eq!(status.code(), Some(0), "SIG{signal}: {}", server.stderr());
        assert!(server.stderr().contains("stopped"));
    }
}

#[tokio::test]
async fn run_serves_until_the_shutdown_future_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreOptions::new(DbLocation::in_data_dir(dir.path())))
        .await
        .unwrap();
    let chat = Chat::new(store.clone(), ChatConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve::run(
        listener,
        AppState::new(chat, HttpConfig::default()),
        std::sync::Arc::new(clickclack::realtime::Hub::new()),
        async {
            let _ = stopped.await;
        },
    ));
    let health = get_json(&format!("http://{addr}/healthz")).await;
    assert_eq!(health["status"], "ok");
    let r = http()
        .get(format!("http://{addr}/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "dev auth is off by default in HttpConfig");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    store.close().await;
    assert_eq!(serve::display_url(addr), format!("http://{addr}"));
    assert_eq!(
        serve::display_url("0.0.0.0:8080".parse().unwrap()),
        "http://localhost:8080"
    );
}
