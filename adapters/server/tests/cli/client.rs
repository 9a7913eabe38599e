//! Client mode (`clickclack login`, `send`, `events tail`, …) against a real
//! `clickclack serve`. Every command runs with its own `XDG_CONFIG_HOME`, `XDG_STATE_HOME`
//! and `HOME` in a temp dir and no `CLICKCLACK_*` client variables.

use super::common::{command, http, Output, Server};
use clap::Parser;
use clickclack::cli::is_client_invocation;
use clickclack::client::args::{ClientCli, ClientCommand, CLIENT_ENV};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client "machine": its own config, state and home directories.
struct Client {
    dir: tempfile::TempDir,
}

impl Client {
    fn new() -> Client {
        Client {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config_file(&self) -> PathBuf {
        self.path("config").join("clickclack").join("config.json")
    }

    fn cursor_dir(&self) -> PathBuf {
        self.path("state").join("clickclack").join("cursors")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = command(self.dir.path(), args);
        cmd.env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("HOME", self.path("home"))
            .stdin(Stdio::null());
        for var in CLIENT_ENV {
            cmd.env_remove(var);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        super::common::run(self.command(args))
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        super::common::run(cmd)
    }

    fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs on a blocking thread so the test's own tasks (probe servers) keep running.
    async fn run_async(&self, args: &[&str]) -> Output {
        let cmd = self.command(args);
        tokio::task::spawn_blocking(move || super::common::run(cmd))
            .await
            .unwrap()
    }
}

fn serve(dir: &Path, data: &Path, extra: &[&str]) -> Command {
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

/// `admin …` against the server's data directory; prints one line.
fn admin(data: &Path, args: &[&str]) -> String {
    let mut argv: Vec<&str> = vec!["admin"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--data", data.to_str().unwrap()]);
    let out = super::common::run(command(data.parent().unwrap(), &argv));
    out.ok().to_string()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"))
}

fn json_lines(out: &Output) -> Vec<Value> {
    out.ok()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

fn expect_exit(out: &Output, code: i32, stderr_has: &str) {
    assert_eq!(out.code, code, "{out:?}");
    assert!(
        out.stdout.trim().is_empty(),
        "stdout must stay empty: {out:?}"
    );
    assert!(
        out.stderr.contains(stderr_has),
        "stderr lacks {stderr_has:?}: {out:?}"
    );
}

/// Every event the user can see in the workspace, over plain HTTP.
async fn all_events(server: &Server, token: &str, workspace_id: &str) -> Vec<Value> {
    let r = http()
        .get(server.at(&format!(
            "/api/realtime/events?workspace_id={workspace_id}&limit=500"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let body: Value = r.json().await.unwrap();
    body["events"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_loop_from_login_to_resumable_event_tail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(serve(dir.path(), &data, &[])).await;
    let (workspace_id, general) = server.dev_workspace().await;
    let cc = Client::new();
    let url = server.url.clone();

    // Sign in as the dev owner; the session is stored for this server only.
    let magic = admin(
        &data,
        &["magic-link", "create", "--email", "local@clickclack.chat"],
    );
    let login = cc.run(&[
        "login",
        "--server",
        &url,
        "--magic-token",
        &magic,
        "--plain",
    ]);
    let token = login.ok().to_string();
    assert!(token.starts_with("sst_"), "{login:?}");
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(cc.config_file()).unwrap()).unwrap();
    assert_eq!(stored["server"], url.as_str());
    assert_eq!(stored["token"], token.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cc.config_file()), 0o600);
        assert_eq!(mode(cc.config_file().parent().unwrap()), 0o700);
    }

    // A second account, signed in without touching the stored config.
    admin(
        &data,
        &[
            "user",
            "create",
            "--email",
            "second@example.com",
            "--name",
            "CLI Second",
            "--workspace",
            &workspace_id,
        ],
    );
    let magic2 = admin(
        &data,
        &["magic-link", "create", "--email", "second@example.com"],
    );
    let token2 = cc
        .run(&["login", "--magic-token", &magic2, "--no-store", "--plain"])
        .ok()
        .to_string();
    assert!(token2.starts_with("sst_"));
    let still: Value =
        serde_json::from_str(&std::fs::read_to_string(cc.config_file()).unwrap()).unwrap();
    assert_eq!(
        still["token"],
        token.as_str(),
        "--no-store keeps the stored session"
    );
    assert_eq!(
        cc.run(&["whoami", "--plain", "--token", &token2]).ok(),
        cc.run(&["--token", &token2, "whoami", "--plain"]).ok()
    );

    // Send: positional words, and stdin as the second user.
    let first = cc.run(&["send", "--plain", "hello", "from", "the", "captain"]);
    let first = first.ok().to_string();
    assert!(first.starts_with("msg_"), "{first}");
    let second = cc
        .run_stdin(
            &["--token", &token2, "send", "--stdin", "--plain"],
            "hello from stdin\n",
        )
        .ok()
        .to_string();
    assert!(second.starts_with("msg_"));

    let listed = json_of(&cc.run(&["messages", "list", "--json"]));
    assert_eq!(listed["channel"]["id"], general.as_str());
    let messages = listed["messages"].as_array().unwrap();
    let by_id = |id: &str| {
        messages
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing from {listed}"))
            .clone()
    };
    assert_eq!(by_id(&first)["body"], "hello from the captain");
    assert_eq!(by_id(&first)["author"]["display_name"], "Local Captain");
    assert_eq!(by_id(&second)["author"]["display_name"], "CLI Second");
    let human = cc.run(&["messages", "list"]);
    assert!(
        human
            .ok()
            .lines()
            .any(|l| l.ends_with(&format!("\t{second}\tCLI Second\thello from stdin"))),
        "{human:?}"
    );

    // Threads and reactions.
    let reply = cc
        .run_stdin(
            &["threads", "reply", &first, "--stdin", "--plain"],
            "a threaded answer",
        )
        .ok()
        .to_string();
    assert!(reply.starts_with("msg_"));
    let thread = json_of(&cc.run(&["threads", "open", &first, "--json"]));
    assert_eq!(thread["root"]["id"], first.as_str());
    assert_eq!(thread["replies"][0]["id"], reply.as_str());
    assert_eq!(thread["replies"][0]["body"], "a threaded answer");
    assert_eq!(
        thread["replies"][0]["author"]["display_name"],
        "Local Captain"
    );
    let alias = cc.run(&["reply", &first, "--plain", "--body", "via the alias"]);
    assert!(alias.ok().starts_with("msg_"));
    let reacted = json_of(&cc.run(&["reactions", "add", &first, "👍", "--json"]));
    assert_eq!(reacted["event"]["type"], "reaction.added");
    assert_eq!(reacted["reactions"][0]["emoji"], "👍");

    // events tail from the start prints exactly what the log holds, as JSON lines.
    let expected = all_events(&server, &token, &workspace_id).await;
    assert!(expected.len() >= 7, "{expected:?}");
    let n = expected.len().to_string();
    let tailed = cc
        .run_async(&[
            "events",
            "tail",
            "--from-start",
            "--max-events",
            &n,
            "--json",
            "--timeout",
            "30",
        ])
        .await;
    let lines = json_lines(&tailed);
    let ids = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&lines), ids(&expected), "{tailed:?}");
    let cursor_file = cc
        .cursor_dir()
        .join(format!("127.0.0.1_{workspace_id}.cursor"));
    assert_eq!(
        std::fs::read_to_string(&cursor_file).unwrap().trim(),
        expected.last().unwrap()["cursor"].as_str().unwrap()
    );

    // A message while nobody tails, then a restart on the same data directory.
    let while_away = cc
        .run(&["send", "--plain", "while you were away"])
        .ok()
        .to_string();
    server.stop().await;
    let server = Server::start(serve(dir.path(), &data, &[])).await;
    let url2 = server.url.clone();
    assert_ne!(url2, url, "the restarted server listens on a new port");
    // The stored token belongs to the old URL: pass it explicitly.
    let after_restart = cc
        .run(&[
            "--server",
            &url2,
            "--token",
            &token,
            "send",
            "--plain",
            "after the restart",
        ])
        .ok()
        .to_string();

    // Resumes after the stored cursor: exactly the two new messages, no duplicates.
    let resumed = cc
        .run_async(&[
            "--server",
            &url2,
            "--token",
            &token,
            "events",
            "tail",
            "--max-events",
            "2",
            "--json",
            "--timeout",
            "30",
        ])
        .await;
    let lines = json_lines(&resumed);
    let created: Vec<&str> = lines
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "message.created", "{e}");
            e["payload"]["message_id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(created, vec![while_away.as_str(), after_restart.as_str()]);
    assert!(
        resumed.stderr.contains("from the stored cursor"),
        "{resumed:?}"
    );

    // Nothing new: a bounded tail prints nothing and exits 0 (long-poll this time).
    let idle = cc
        .run_async(&[
            "--server",
            &url2,
            "--token",
            &token,
            "events",
            "tail",
            "--transport",
            "poll",
            "--timeout",
            "1.5",
        ])
        .await;
    assert_eq!(idle.ok(), "", "{idle:?}");

    // No loss over long-poll either: a root, a reply (two events) in order.
    let root = cc
        .run(&[
            "--server", &url2, "--token", &token, "send", "--plain", "more",
        ])
        .ok()
        .to_string();
    let answer = cc
        .run(&[
            "--server", &url2, "--token", &token, "reply", &root, "--plain", "indeed",
        ])
        .ok()
        .to_string();
    let polled = cc
        .run_async(&[
            "--server",
            &url2,
            "--token",
            &token,
            "events",
            "tail",
            "--transport=poll",
            "--max-events=3",
            "--timeout=30",
        ])
        .await;
    let lines = json_lines(&polled);
    let kinds: Vec<&str> = lines.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        vec![
            "message.created",
            "thread.reply_created",
            "thread.state_updated"
        ]
    );
    assert_eq!(lines[0]["payload"]["message_id"], root.as_str());
    assert_eq!(lines[1]["payload"]["message_id"], answer.as_str());
    server.stop().await;
}

/// A tiny HTTP server that records every request (head and body) and answers like a
/// ClickClack server with one workspace `wsp_probe` and one channel `chn_probe`. The first
/// message POST is dropped without an answer (a network error the client retries); creating
/// a workspace is forbidden (403).
async fn probe() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let posts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            let posts = posts.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                let request_line = head.lines().next().unwrap_or("");
                let (status, body) = match request_line
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    ["GET", "/api/me"] => (
                        "200 OK",
                        json!({"user": {"id": "usr_probe", "display_name": "Probe"}}),
                    ),
                    ["GET", "/api/workspaces"] => (
                        "200 OK",
                        json!({"workspaces": [{"id": "wsp_probe", "slug": "probe", "name": "Probe"}]}),
                    ),
                    ["GET", "/api/workspaces/wsp_probe/channels"] => (
                        "200 OK",
                        json!({"channels": [{"id": "chn_probe", "name": "general", "kind": "public"}]}),
                    ),
                    ["POST", "/api/channels/chn_probe/messages"] => {
                        if posts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                            return; // dropped: the client sees a network error
                        }
                        (
                            "201 Created",
                            json!({"message": {"id": "msg_probe"}, "event": null}),
                        )
                    }
                    ["POST", "/api/workspaces"] => (
                        "403 Forbidden",
                        json!({"error": "not allowed here", "code": "forbidden"}),
                    ),
                    _ => (
                        "404 Not Found",
                        json!({"error": "route not found", "code": "not_found"}),
                    ),
                };
                let body = body.to_string();
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stored_token_and_defaults_stay_with_their_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Without dev auth, only a real session gets in.
    admin(
        &data,
        &[
            "bootstrap",
            "--name",
            "Local Captain",
            "--email",
            "local@clickclack.chat",
        ],
    );
    let server = Server::start(serve(dir.path(), &data, &["--dev-bootstrap=false"])).await;
    let url = server.url.clone();
    let cc = Client::new();
    expect_exit(
        &cc.run_async(&["--server", &url, "whoami"]).await,
        3,
        "error: ",
    );

    let magic = admin(
        &data,
        &["magic-link", "create", "--email", "local@clickclack.chat"],
    );
    let token = cc
        .run_async(&[
            "--server",
            &url,
            "login",
            "--magic-token",
            &magic,
            "--plain",
        ])
        .await
        .ok()
        .to_string();
    // The same server spelled differently still gets the stored token.
    let spelled = url.replace("http://", "HTTP://") + "/";
    let me = cc
        .run_async(&["--server", &spelled, "whoami", "--plain"])
        .await;
    assert!(me.ok().starts_with("usr_"), "{me:?}");
    let chosen = cc
        .run_async(&["channels", "use", "#general", "--plain"])
        .await;
    let general = chosen.ok().to_string();
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(cc.config_file()).unwrap()).unwrap();
    assert_eq!(stored["channel"], general.as_str());
    assert!(stored["workspace"].as_str().unwrap().starts_with("wsp_"));
    let status = json_of(&cc.run_async(&["status", "--json"]).await);
    assert_eq!(status["channel"]["id"], general.as_str());
    assert_eq!(status["server"], url.as_str());

    // Another server gets neither the token nor the stored workspace/channel.
    let (probe_url, seen) = probe().await;
    let whoami = cc
        .run_async(&["--server", &probe_url, "whoami", "--plain"])
        .await;
    assert_eq!(whoami.ok(), "usr_probe");
    let status = json_of(
        &cc.run_async(&["status", "--server", &probe_url, "--json"])
            .await,
    );
    assert_eq!(status["workspace"]["id"], "wsp_probe");
    assert_eq!(status["channel"]["id"], "chn_probe");
    let mut via_env = cc.command(&["send", "--plain", "hi", "probe"]);
    via_env.env("CLICKCLACK_SERVER", &probe_url);
    let sent = super::common::run(via_env);
    assert_eq!(sent.ok(), "msg_probe");
    assert!(
        sent.stderr.contains("retrying once with the same nonce"),
        "{sent:?}"
    );
    {
        let heads = seen.lock().unwrap();
        // The dropped POST was retried once, with the same nonce.
        let nonces: Vec<String> = heads
            .iter()
            .filter(|h| h.starts_with("POST /api/channels/chn_probe/messages "))
            .map(|h| {
                let body: Value =
                    serde_json::from_str(h.split("\r\n\r\n").nth(1).unwrap()).unwrap();
                assert_eq!(body["body"], "hi probe");
                body["nonce"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(nonces.len(), 2, "{heads:?}");
        assert_eq!(nonces[0], nonces[1]);
        for head in heads.iter() {
            let lower = head.to_ascii_lowercase();
            assert!(!lower.contains("authorization"), "token leaked: {head}");
            assert!(
                !lower.contains(&token.to_ascii_lowercase()),
                "token leaked: {head}"
            );
            assert!(!lower.contains(&general), "stored channel reused: {head}");
        }
    }
    expect_exit(
        &cc.run_async(&["--server", &probe_url, "workspaces", "create", "Nope"])
            .await,
        5,
        "error: not allowed here",
    );
    // The probe would notice a token: an explicit one is sent.
    cc.run_async(&["--server", &probe_url, "--token", "sst_explicit", "whoami"])
        .await
        .ok();
    assert!(seen.lock().unwrap().iter().any(|h| h
        .to_ascii_lowercase()
        .contains("authorization: bearer sst_explicit")));
    // The config still belongs to the first server.
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(cc.config_file()).unwrap()).unwrap();
    assert_eq!(stored["server"], url.as_str());

    // logout revokes the session on its server and deletes the file.
    let out = cc
        .run_async(&["--server", &probe_url, "logout", "--json"])
        .await;
    let out = json_of(&out);
    assert_eq!(out["logged_out"], true);
    assert_eq!(out["revoked"], true);
    assert!(!cc.config_file().exists());
    expect_exit(
        &cc.run_async(&["--server", &url, "--token", &token, "whoami"])
            .await,
        3,
        "error: ",
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dev_user_cross_workspace_channels_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(serve(dir.path(), &data, &[])).await;
    let (workspace_id, _) = server.dev_workspace().await;
    let url = server.url.clone();
    let cc = Client::new();
    let env = [("CLICKCLACK_SERVER", url.as_str())];

    // Dev auth as another user, by flag, alias or env.
    let mate = admin(
        &data,
        &[
            "user",
            "create",
            "--email",
            "mate@example.com",
            "--name",
            "Mate",
            "--workspace",
            &workspace_id,
        ],
    );
    assert_eq!(
        cc.run_env(&["--user", &mate, "whoami", "--plain"], &env)
            .ok(),
        mate
    );
    assert_eq!(
        cc.run_env(&["whoami", "--user-id", &mate, "--plain"], &env)
            .ok(),
        mate
    );
    let mut by_env = cc.command(&["whoami"]);
    by_env
        .env("CLICKCLACK_SERVER", &url)
        .env("CLICKCLACK_USER_ID", &mate);
    assert!(super::common::run(by_env).ok().ends_with("\tMate"));
    let sent = cc.run_env(
        &["--user", &mate, "send", "--plain", "hi", "from", "mate"],
        &env,
    );
    let sent = sent.ok().to_string();
    let listed = json_of(&cc.run_env(&["messages", "list", "--json=true", "--limit", "5"], &env));
    let last = listed["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["id"], sent.as_str());
    assert_eq!(last["author"]["display_name"], "Mate");

    // A channel id of another workspace resolves without --workspace.
    let side_ws = cc
        .run_env(&["workspaces", "create", "Side Team", "--plain"], &env)
        .ok()
        .to_string();
    let side = cc
        .run_env(
            &[
                "--workspace",
                "side team",
                "channels",
                "create",
                "#side",
                "--plain",
            ],
            &env,
        )
        .ok()
        .to_string();
    assert!(side.starts_with("chn_"));
    let cross = cc.run_env(&["--channel", &side, "send", "--plain", "across"], &env);
    let cross = cross.ok().to_string();
    let side_list = json_of(&cc.run_env(&["messages", "list", "--channel", &side, "--json"], &env));
    assert_eq!(side_list["channel"]["workspace_id"], side_ws.as_str());
    assert_eq!(side_list["messages"][0]["id"], cross.as_str());
    assert_eq!(
        cc.run_env(
            &["channels", "list", "--workspace", &side_ws, "--plain"],
            &env
        )
        .ok()
        .lines()
        .count(),
        1
    );
    // …but not when another workspace is named explicitly.
    expect_exit(
        &cc.run_env(
            &["--workspace", "clickclack", "--channel", &side, "send", "x"],
            &env,
        ),
        4,
        "not found",
    );

    // Stable exit codes.
    expect_exit(
        &cc.run_env(&["--token", "sst_not_a_session", "whoami"], &env),
        3,
        "error: ",
    );
    expect_exit(
        &cc.run_env(&["--channel", "nope", "send", "hi"], &env),
        4,
        "error: channel \"nope\" not found",
    );
    expect_exit(
        &cc.run_env(&["channels", "--workspace", "Nowhere"], &env),
        4,
        "error: workspace \"Nowhere\" not found",
    );
    expect_exit(
        &cc.run_env(&["threads", "open", "msg_missing"], &env),
        4,
        "error: ",
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    expect_exit(
        &cc.run(&["--server", &dead, "whoami"]),
        10,
        "error: cannot connect to",
    );
    expect_exit(&cc.run_env(&["send"], &env), 2, "message body is required");
    expect_exit(&cc.run_env(&["frobnicate"], &env), 2, "frobnicate");
    expect_exit(&cc.run_env(&["--json=maybe", "whoami"], &env), 2, "maybe");
    expect_exit(
        &cc.run_env(&["--server", "ftp://example.com", "whoami"], &env),
        2,
        "http",
    );
    server.stop().await;
}

/// Reads a child's stderr until a line contains `needle`.
fn wait_for_stderr(
    child: &mut std::process::Child,
    needle: &str,
) -> BufReader<std::process::ChildStderr> {
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "stderr closed before {needle:?}");
        if line.contains(needle) {
            return reader;
        }
        assert!(Instant::now() < deadline, "no {needle:?} on stderr");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_tail_prints_new_messages_over_both_transports() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(serve(dir.path(), &data, &[])).await;
    let url = server.url.clone();
    let cc = Client::new();
    let env = [("CLICKCLACK_SERVER", url.as_str())];
    cc.run_env(&["send", "old news"], &env).ok();
    for transport in ["ws", "poll"] {
        let mut tail = cc.command(&[
            "--server",
            &url,
            "messages",
            "tail",
            "--json",
            "--max-messages",
            "2",
            "--timeout",
            "30",
            "--transport",
            transport,
        ]);
        tail.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = tail.spawn().unwrap();
        let mut stderr = wait_for_stderr(&mut child, "watching #general");
        let one = cc
            .run_env(&["send", "--plain", "first", transport], &env)
            .ok()
            .to_string();
        cc.run_env(&["reply", &one, "a reply is not a channel message"], &env)
            .ok();
        let two = cc
            .run_env(&["send", "--plain", "second", transport], &env)
            .ok()
            .to_string();
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = child.wait().unwrap();
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        assert!(status.success(), "{transport}: {status:?} {rest}");
        let got: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got.len(), 2, "{transport}: {stdout}");
        assert_eq!(got[0]["id"], one.as_str());
        assert_eq!(got[0]["body"], format!("first {transport}"));
        assert_eq!(got[1]["id"], two.as_str());
        assert_eq!(got[1]["author"]["display_name"], "Local Captain");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dms_search_upload_and_workspace_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(serve(dir.path(), &data, &[])).await;
    let (workspace_id, _) = server.dev_workspace().await;
    let url = server.url.clone();
    let cc = Client::new();
    let env = [("CLICKCLACK_SERVER", url.as_str())];
    let mate = admin(
        &data,
        &[
            "user",
            "create",
            "--email",
            "mate@example.com",
            "--name",
            "Mate Person",
            "--workspace",
            &workspace_id,
        ],
    );
    let r = http()
        .patch(server.at("/api/me"))
        .header("X-ClickClack-User", &mate)
        .json(&json!({"handle": "mate"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let dm = cc.run_env(&["dms", "send", "@mate", "--plain", "psst"], &env);
    let dm = dm.ok().to_string();
    assert!(dm.starts_with("msg_"));
    let again = json_of(&cc.run_env(&["dm", "send", &mate, "--json", "--body", "again"], &env));
    let conversations = json_of(&cc.run_env(&["dms", "list", "--json"], &env));
    let list = conversations["conversations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "the 1:1 is reused: {conversations}");
    assert_eq!(again["conversation"]["id"], list[0]["id"]);
    let mate_view = cc.run_env(&["--user", &mate, "dms"], &env);
    assert!(mate_view.ok().contains("@mate"), "{mate_view:?}");
    expect_exit(
        &cc.run_env(&["dms", "send", "@nobody", "hi"], &env),
        4,
        "not found",
    );

    // Search finds channel messages (or says it is unavailable: exit 4).
    let posted = cc
        .run_env(&["send", "--plain", "the", "zebrafish", "report"], &env)
        .ok()
        .to_string();
    let found = cc.run_env(&["search", "zebrafish", "--json"], &env);
    if found.code == 0 {
        let results = json_of(&found);
        assert_eq!(results["results"][0]["id"], posted.as_str(), "{results}");
    } else {
        expect_exit(&found, 4, "search is not available");
    }

    // Uploads: an id, or "not available" with exit 4 on a server without uploads.
    let file = dir.path().join("note.txt");
    std::fs::write(&file, "attached text").unwrap();
    let uploaded = cc.run_env(&["upload", file.to_str().unwrap(), "--plain"], &env);
    if uploaded.code == 0 {
        assert!(uploaded.ok().starts_with("upl_"), "{uploaded:?}");
    } else {
        expect_exit(&uploaded, 4, "uploads are not available");
    }
    assert!(
        !uploaded.stderr.contains('\u{1b}'),
        "no progress bar in a pipe"
    );
    expect_exit(
        &cc.run_env(&["upload", "/nonexistent/file"], &env),
        2,
        "cannot read",
    );

    // `workspaces use` stores the default for this server only; names resolve.
    let side = cc
        .run_env(
            &[
                "workspaces",
                "create",
                "Side Team",
                "--slug",
                "side",
                "--plain",
            ],
            &env,
        )
        .ok()
        .to_string();
    let used = cc.run_env(&["workspaces", "use", "SIDE", "--plain"], &env);
    assert_eq!(used.ok(), side);
    let channels = json_of(&cc.run_env(&["channels", "--json"], &env));
    assert_eq!(channels["workspace"]["id"], side.as_str());
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(cc.config_file()).unwrap()).unwrap();
    assert_eq!(stored["workspace"], side.as_str());
    assert!(stored.get("token").is_none());
    server.stop().await;
}

fn argv(args: &[&str]) -> Vec<OsString> {
    std::iter::once("clickclack")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect()
}

#[test]
fn dispatch_rule_and_client_flags() {
    for server_side in [
        vec![],
        vec!["serve"],
        vec!["migrate"],
        vec!["admin", "bootstrap"],
        vec!["backup", "--out", "x"],
        vec!["export"],
        vec!["version"],
        vec!["--help"],
        vec!["--version"],
        vec!["help"],
    ] {
        assert!(
            !is_client_invocation(&argv(&server_side)),
            "{server_side:?}"
        );
    }
    for client in [
        vec!["login", "--magic-token", "x"],
        vec!["--server", "http://x", "send", "hi"],
        vec!["--json", "version"],
        vec!["help", "send"],
        vec!["frobnicate"],
    ] {
        assert!(is_client_invocation(&argv(&client)), "{client:?}");
    }

    let parse = |args: &[&str]| ClientCli::try_parse_from(argv(args));
    let cli = parse(&[
        "--json=false",
        "send",
        "--plain",
        "--user-id",
        "usr_1",
        "hello",
        "world",
    ])
    .unwrap();
    assert_eq!(cli.global.json, Some(false));
    assert_eq!(cli.global.plain, Some(true));
    assert_eq!(cli.global.user.as_deref(), Some("usr_1"));
    let ClientCommand::Send(send) = cli.command else {
        panic!("expected send")
    };
    assert_eq!(send.words, vec!["hello", "world"]);
    // `--plain maybe` is not `--plain=maybe`: `maybe` is then an unknown command.
    assert!(parse(&["--plain", "maybe", "whoami"]).is_err());
    assert!(parse(&["whoami", "--json=perhaps"]).is_err());
    assert!(parse(&["messages", "list", "--after-seq", "1", "--before-seq", "3"]).is_err());
    let cli = parse(&[
        "events",
        "tail",
        "--from-start",
        "--max-events=3",
        "--timeout",
        "2.5",
    ])
    .unwrap();
    let ClientCommand::Events { .. } = cli.command else {
        panic!("expected events")
    };
    assert!(parse(&["login", "--magic-token", "m", "--store=false"]).is_ok());
    assert!(parse(&["thread", "open", "msg_1"]).is_ok());
    assert!(parse(&["reply", "msg_1", "ok"]).is_ok());
}

#[test]
fn version_command_prints_the_cargo_version() {
    let dir = tempfile::tempdir().unwrap();
    let version = env!("CARGO_PKG_VERSION");
    let out = super::common::clickclack(dir.path(), &["version", "--plain"]);
    assert_eq!(out.ok(), version);
    let out = super::common::clickclack(dir.path(), &["version"]);
    assert_eq!(out.ok(), format!("clickclack {version}"));
    let out = super::common::clickclack(dir.path(), &["--json", "version"]);
    assert_eq!(json_of(&out)["version"], version);
}

/// The fake log of [`fake_server`]: ten events `cur_01` … `cur_10`.
fn fake_events(after: &str) -> Vec<Value> {
    (1..=10)
        .map(|i| {
            json!({
                "id": format!("evt_{i:02}"),
                "cursor": format!("cur_{i:02}"),
                "type": "message.created",
                "workspace_id": "wsp_fake",
                "created_at": "2026-01-01T00:00:00Z",
                "payload": {"message_id": format!("msg_{i:02}")},
            })
        })
        .filter(|e| e["cursor"].as_str().unwrap() > after)
        .collect()
}

/// A server whose first WebSocket sends three events and closes with 4001 (backlog too
/// large), and which answers the cursor `cur_old_epoch` with 409 `resync_required`.
async fn fake_server() -> String {
    use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
    use axum::extract::{Query, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Json;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Params = Query<HashMap<String, String>>;
    fn resync() -> Response {
        let body = json!({"error": "cursor is from another epoch", "code": "resync_required", "epoch": "ep_2"});
        (StatusCode::CONFLICT, Json(body)).into_response()
    }
    async fn page(Query(q): Params) -> Response {
        let after = q.get("after_cursor").cloned().unwrap_or_default();
        if after == "cur_old_epoch" {
            return resync();
        }
        let limit = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(200);
        let events: Vec<Value> = fake_events(&after).into_iter().take(limit).collect();
        let mut body = json!({"events": events, "ephemeral": [], "epoch": "ep_2"});
        if q.get("include_tail").map(String::as_str) == Some("true") {
            body["tail_cursor"] = json!("cur_10");
        }
        Json(body).into_response()
    }
    async fn socket(
        State(opened): State<Arc<AtomicUsize>>,
        Query(q): Params,
        upgrade: WebSocketUpgrade,
    ) -> Response {
        let after = q.get("after_cursor").cloned().unwrap_or_default();
        if after == "cur_old_epoch" {
            return resync();
        }
        let first = opened.fetch_add(1, Ordering::SeqCst) == 0;
        upgrade.on_upgrade(move |mut ws| async move {
            let events = fake_events(&after);
            let count = if first { 3 } else { events.len() };
            for e in events.iter().take(count) {
                if ws.send(Message::Text(e.to_string().into())).await.is_err() {
                    return;
                }
            }
            if first {
                let close = CloseFrame {
                    code: 4001,
                    reason: "backlog too large".into(),
                };
                let _ = ws.send(Message::Close(Some(close))).await;
                return;
            }
            while let Some(Ok(_)) = ws.recv().await {}
        })
    }
    let app = axum::Router::new()
        .route(
            "/api/capabilities",
            get(|| async { Json(json!({"transports": ["ws", "poll"]})) }),
        )
        .route(
            "/api/workspaces",
            get(|| async {
                Json(json!({"workspaces": [{"id": "wsp_fake", "slug": "fake", "name": "Fake"}]}))
            }),
        )
        .route("/api/realtime/events", get(page))
        .route("/api/realtime/ws", get(socket))
        .with_state(Arc::new(AtomicUsize::new(0)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_tail_catches_up_after_4001_and_resyncs_after_an_epoch_change() {
    let url = fake_server().await;
    let cc = Client::new();
    let cursor_file = cc.cursor_dir().join("127.0.0.1_wsp_fake.cursor");

    // 4001 after three events: the rest comes over HTTP, nothing twice, nothing lost.
    let out = cc
        .run_async(&[
            "--server",
            &url,
            "events",
            "tail",
            "--from-start",
            "--transport",
            "ws",
            "--max-events",
            "10",
            "--timeout",
            "20",
        ])
        .await;
    let cursors: Vec<String> = json_lines(&out)
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=10).map(|i| format!("cur_{i:02}")).collect();
    assert_eq!(cursors, expected, "{out:?}");
    assert!(out.stderr.contains("catching up over HTTP"), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&cursor_file).unwrap().trim(),
        "cur_10"
    );

    // A cursor from another epoch: 409 → continue from the tail, with a warning.
    for transport in ["ws", "poll"] {
        std::fs::write(&cursor_file, "cur_old_epoch\n").unwrap();
        let out = cc
            .run_async(&[
                "--server",
                &url,
                "events",
                "tail",
                "--transport",
                transport,
                "--timeout",
                "1.5",
            ])
            .await;
        assert_eq!(out.ok(), "", "{transport}: nothing is replayed: {out:?}");
        assert!(
            out.stderr.contains("resuming from its current tail"),
            "{transport}: {out:?}"
        );
        assert_eq!(
            std::fs::read_to_string(&cursor_file).unwrap().trim(),
            "cur_10",
            "{transport}"
        );
    }
}
