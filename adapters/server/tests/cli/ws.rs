//! WebSocket realtime against an in-process server (`serve::run`) and, for the
//! many-instances case, two real `clickclack serve` processes on one database.

use crate::common::{clickclack, command, http, Server};
use clickclack::commands::serve;
use clickclack::realtime::Hub;
use clickclack_handlers::{AppState, HttpConfig};
use clickclack_runtime::chat::{Actor, Chat, ChatConfig, NewPost};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An in-process server with a hub-notified store.
struct Live {
    addr: SocketAddr,
    chat: Chat,
    owner: Actor,
    owner_token: String,
    workspace_id: String,
    general_id: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Live {
    async fn start() -> Live {
        Self::start_with(Hub::new()).await
    }

    async fn start_with(hub: Hub) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let hub = Arc::new(hub);
        let mut options = StoreOptions::new(DbLocation::in_data_dir(dir.path()));
        options.notifier = hub.clone();
        let store = Store::open(options).await.unwrap();
        let chat = Chat::new(store, ChatConfig::default());
        let boot = chat
            .bootstrap("Local Captain", "local@clickclack.chat")
            .await
            .unwrap();
        let owner_token = chat.create_session(&boot.user.id).await.unwrap().token;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let http = HttpConfig {
            transports: vec!["ws", "poll"],
            ..HttpConfig::default()
        };
        let task = tokio::spawn(serve::run(
            listener,
            AppState::new(chat.clone(), http),
            hub,
            async {
                let _ = stopped.await;
            },
        ));
        Live {
            addr,
            owner: Actor::new(boot.user),
            owner_token,
            workspace_id: boot.workspace.unwrap().id,
            general_id: boot.channel.unwrap().id,
            chat,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    fn ws_url(&self, cursor: &str) -> String {
        format!(
            "ws://{}/api/realtime/ws?workspace_id={}&after_cursor={cursor}",
            self.addr, self.workspace_id
        )
    }

    async fn connect(&self, token: &str, cursor: &str) -> Socket {
        connect(
            &self.ws_url(cursor),
            &[("authorization", format!("Bearer {token}"))],
        )
        .await
    }

    async fn post(&self, body: &str) -> Value {
        let posted = self
            .chat
            .post_channel_message(
                &self.owner,
                &self.general_id,
                NewPost {
                    body: body.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        serde_json::to_value(posted.event.unwrap()).unwrap()
    }

    async fn member(&self, name: &str) -> (Actor, String) {
        let user = self
            .chat
            .admin_create_user(
                name,
                &format!("{}@example.com", name.to_lowercase()),
                Some(&self.workspace_id),
            )
            .await
            .unwrap();
        let token = self.chat.create_session(&user.id).await.unwrap().token;
        (Actor::new(user), token)
    }

    async fn tail(&self) -> String {
        self.chat
            .events(&self.owner, &self.workspace_id, "", Some(1), true)
            .await
            .unwrap()
            .tail_cursor
            .unwrap()
    }

    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
        self.chat.store().close().await;
    }
}

async fn connect(url: &str, headers: &[(&str, String)]) -> Socket {
    try_connect(url, headers).await.expect("websocket connect")
}

async fn try_connect(
    url: &str,
    headers: &[(&str, String)],
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(s, _)| s)
}

/// The next event frame (skipping pings), or `None` on close/timeout.
async fn next_event(socket: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await.ok()?? {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            _ => return None,
        }
    }
}

/// Waits for the close frame and returns its code.
async fn close_code(socket: &mut Socket) -> Option<CloseCode> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
    None
}

#[tokio::test]
async fn a_post_reaches_a_connected_socket_and_the_backlog_replays_from_a_cursor() {
    let live = Live::start().await;
    let first = live.post("before connect").await;
    let mut socket = live
        .connect(&live.owner_token, first["cursor"].as_str().unwrap())
        .await;
    let second = live.post("while connected").await;
    let got = next_event(&mut socket, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got["type"], "message.created");
    assert_eq!(
        got["cursor"], second["cursor"],
        "nothing before the cursor is replayed"
    );

    let mut replay = live.connect(&live.owner_token, "").await;
    let mut seen = Vec::new();
    while let Some(e) = next_event(&mut replay, Duration::from_millis(500)).await {
        seen.push(e["cursor"].as_str().unwrap().to_string());
    }
    assert!(seen.contains(&first["cursor"].as_str().unwrap().to_string()));
    assert!(seen.contains(&second["cursor"].as_str().unwrap().to_string()));
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "backlog comes in cursor order");

    socket
        .send(Message::Ping(b"hi".to_vec().into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Pong(b"hi".to_vec().into()));
    live.shutdown().await;
}

#[tokio::test]
async fn auth_origin_and_workspace_are_checked_before_upgrading() {
    let live = Live::start().await;
    let url = live.ws_url("");
    let err = try_connect(&url, &[]).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let err = try_connect(
        &url,
        &[
            ("authorization", format!("Bearer {}", live.owner_token)),
            ("origin", "https://evil.example".to_string()),
        ],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let same_origin = try_connect(
        &url,
        &[
            ("authorization", format!("Bearer {}", live.owner_token)),
            ("origin", format!("http://{}", live.addr)),
        ],
    )
    .await;
    assert!(same_origin.is_ok());
    let (_, outsider) = {
        let user = live
            .chat
            .admin_create_user("Out", "out@example.com", None)
            .await
            .unwrap();
        let token = live.chat.create_session(&user.id).await.unwrap().token;
        (user, token)
    };
    let err = try_connect(&url, &[("authorization", format!("Bearer {outsider}"))])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    let stale = format!(
        "ws://{}/api/realtime/ws?workspace_id={}&after_cursor=cur_zzzzzzzzzz_0000000000000001",
        live.addr, live.workspace_id
    );
    let mut resync = connect(
        &stale,
        &[("authorization", format!("Bearer {}", live.owner_token))],
    )
    .await;
    assert_eq!(
        close_code(&mut resync).await,
        Some(CloseCode::from(4001)),
        "a cursor from another epoch closes with 4001"
    );

    // The bearer subprotocol authenticates and is echoed back.
    let mut request = url.clone().into_client_request().unwrap();
    let protocol = format!("clickclack.bearer.{}", live.owner_token);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        protocol.as_str()
    );
    live.post("via subprotocol").await;
    let mut found = false;
    while let Some(e) = next_event(&mut socket, Duration::from_secs(3)).await {
        if e["type"] == "message.created" {
            found = true;
            break;
        }
    }
    assert!(found);
    live.shutdown().await;
}

#[tokio::test]
async fn dm_events_reach_only_conversation_members() {
    let live = Live::start().await;
    let (mate, mate_token) = live.member("Mate").await;
    let (_, third_token) = live.member("Third").await;
    let tail = live.tail().await;
    let mut mate_socket = live.connect(&mate_token, &tail).await;
    let mut third_socket = live.connect(&third_token, &tail).await;
    let dm = live
        .chat
        .create_direct_conversation(&live.owner, &live.workspace_id, &[mate.id().to_string()])
        .await
        .unwrap();
    live.chat
        .post_direct_message(
            &live.owner,
            &dm.conversation.id,
            NewPost {
                body: "psst".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let public = live.post("everyone").await;
    let got = next_event(&mut mate_socket, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        got["payload"]["direct_conversation_id"],
        dm.conversation.id.as_str()
    );
    let got = next_event(&mut third_socket, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        got["cursor"], public["cursor"],
        "the DM event was skipped for a non-member"
    );
    live.shutdown().await;
}

#[tokio::test]
async fn a_revoked_session_stops_its_socket_at_the_next_ping() {
    let live = Live::start_with(Hub::new().with_ping_every(Duration::from_millis(300))).await;
    let (_, mate_token) = live.member("Mate").await;
    let (_, other_token) = live.member("Other").await;
    let tail = live.tail().await;
    let mut mate = live.connect(&mate_token, &tail).await;
    let mut other = live.connect(&other_token, &tail).await;
    let first = live.post("before the logout").await;
    for socket in [&mut mate, &mut other] {
        let got = next_event(socket, Duration::from_secs(5)).await.unwrap();
        assert_eq!(got["id"], first["id"]);
    }
    assert!(live.chat.logout(&mate_token).await.unwrap());
    let started = Instant::now();
    assert_eq!(close_code(&mut mate).await, Some(CloseCode::Library(4003)));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The other member's socket is untouched and still live.
    let second = live.post("after the logout").await;
    let got = next_event(&mut other, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got["id"], second["id"]);
    live.shutdown().await;
}

#[tokio::test]
async fn a_backlog_over_five_thousand_closes_with_4001() {
    let live = Live::start().await;
    let tail = live.tail().await;
    let mut tasks = Vec::new();
    for i in 0..5_001 {
        let chat = live.chat.clone();
        let owner = live.owner.clone();
        let channel = live.general_id.clone();
        tasks.push(tokio::spawn(async move {
            chat.post_channel_message(
                &owner,
                &channel,
                NewPost {
                    body: format!("bulk {i}"),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut socket = live.connect(&live.owner_token, &tail).await;
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::from(4001)));
    live.shutdown().await;
}

#[tokio::test]
async fn a_client_reconnecting_at_random_points_sees_every_message_once_in_order() {
    let live = Live::start().await;
    let start = live.tail().await;
    let total = 2_000;
    let poster = {
        let chat = live.chat.clone();
        let owner = live.owner.clone();
        let channel = live.general_id.clone();
        tokio::spawn(async move {
            for i in 0..total {
                chat.post_channel_message(
                    &owner,
                    &channel,
                    NewPost {
                        body: format!("n{i}"),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
                if i % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut cursor = start;
    let mut ids = Vec::new();
    let mut seen = HashSet::new();
    let mut rng_state = 0x2545_f491_u64;
    let mut next_rand = move || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while ids.len() < total && Instant::now() < deadline {
        let mut socket = live.connect(&live.owner_token, &cursor).await;
        let take = 1 + (next_rand() % 300) as usize;
        for _ in 0..take {
            let Some(event) = next_event(&mut socket, Duration::from_secs(2)).await else {
                break;
            };
            assert!(
                seen.insert(event["id"].as_str().unwrap().to_string()),
                "duplicate event"
            );
            cursor = event["cursor"].as_str().unwrap().to_string();
            if event["type"] == "message.created" {
                ids.push(event["seq"].as_i64().unwrap());
            }
        }
        drop(socket);
    }
    poster.await.unwrap();
    assert_eq!(ids.len(), total);
    assert_eq!(
        ids,
        (1..=total as i64).collect::<Vec<_>>(),
        "in order, no gaps"
    );
    live.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001() {
    let live = Live::start().await;
    let tail = live.tail().await;
    let mut socket = live.connect(&live.owner_token, &tail).await;
    let stopping = tokio::spawn(live.shutdown());
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::Away));
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_message_posted_to_one_instance_reaches_a_socket_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let db_arg = db.to_str().unwrap();
    clickclack(dir.path(), &["migrate", "--db", db_arg]).ok();
    let mut a = command(
        dir.path(),
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--data",
            "a",
            "--db",
            db_arg,
        ],
    );
    a.env("RUST_LOG", "info");
    let a = Server::start(a).await;
    let b = Server::start(command(
        dir.path(),
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--data",
            "b",
            "--db",
            db_arg,
            "--dev-bootstrap=true",
        ],
    ))
    .await;
    let (workspace_id, general) = a.dev_workspace().await;
    let caps: Value = http()
        .get(b.at("/api/capabilities"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(caps["transports"], json!(["ws", "poll"]));
    let tail: Value = http()
        .get(b.at(&format!(
            "/api/realtime/events?workspace_id={workspace_id}&include_tail=true&limit=1"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!(
        "ws://{}/api/realtime/ws?workspace_id={workspace_id}&after_cursor={}",
        b.addr,
        tail["tail_cursor"].as_str().unwrap()
    );
    let mut socket = connect(&url, &[]).await;
    let sent = Instant::now();
    let posted: Value = http()
        .post(a.at(&format!("/api/channels/{general}/messages")))
        .json(&json!({"body": "from A"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got = next_event(&mut socket, Duration::from_secs(5))
        .await
        .expect("event on B");
    let latency = sent.elapsed();
    assert_eq!(got["payload"]["message_id"], posted["message"]["id"]);
    assert!(latency < Duration::from_millis(500), "took {latency:?}");
}

#[tokio::test]
async fn ephemeral_typing_reaches_sockets_without_a_cursor() {
    let live = Live::start().await;
    let tail = live.tail().await;
    let mut socket = live.connect(&live.owner_token, &tail).await;
    let (mate, _) = live.member("Typer").await;
    live.chat
        .publish_ephemeral(
            &mate,
            clickclack_runtime::chat::EphemeralInput {
                workspace_id: live.workspace_id.clone(),
                channel_id: Some(live.general_id.clone()),
                kind: "typing.started".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let got = next_event(&mut socket, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got["type"], "typing.started");
    assert_eq!(got["cursor"], "");
    assert_eq!(got["payload"]["user_id"], mate.id());
    live.shutdown().await;
}

#[tokio::test]
async fn bot_tokens_need_realtime_read_and_stop_when_revoked() {
    let live = Live::start_with(Hub::new().with_ping_every(Duration::from_millis(300))).await;
    let new_bot = |handle: &str, scopes: &[&str]| clickclack_runtime::chat::NewBot {
        name: handle.to_string(),
        handle: handle.to_string(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let reader = live
        .chat
        .admin_create_bot(
            live.owner.id(),
            &live.workspace_id,
            new_bot("reader", &["bot:read"]),
        )
        .await
        .unwrap();
    let writer = live
        .chat
        .admin_create_bot(
            live.owner.id(),
            &live.workspace_id,
            new_bot("writer", &["messages:write"]),
        )
        .await
        .unwrap();
    let url = live.ws_url(&live.tail().await);
    let err = try_connect(
        &url,
        &[("authorization", format!("Bearer {}", writer.token))],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let protocol = format!("clickclack.bearer.{}", reader.token);
    let mut socket = connect(&url, &[("sec-websocket-protocol", protocol)]).await;
    let posted = live.post("for the bot").await;
    let got = next_event(&mut socket, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got["id"], posted["id"]);
    let owner = live.owner.clone();
    live.chat
        .revoke_bot_token(&owner, &reader.bot_token.id)
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut socket).await,
        Some(CloseCode::Library(4003))
    );
    live.shutdown().await;
}
