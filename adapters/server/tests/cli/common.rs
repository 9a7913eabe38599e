//! Running the binary: one-shot commands ([`clickclack`]) and a background server
//! ([`Server`]) whose address comes from its own `listening on` log line.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_clickclack");

/// The binary with a clean `CLICKCLACK_*` environment, run in `cwd`.
pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(cwd).env("RUST_LOG", "info");
    for var in clickclack::cli::SETTINGS_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout trimmed, asserting success.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "command failed: {self:?}");
        self.stdout.trim()
    }
}

pub fn run(mut cmd: Command) -> Output {
    let out = cmd.output().expect("run clickclack");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `clickclack <args>` in `cwd`.
pub fn clickclack(cwd: &Path, args: &[&str]) -> Output {
    run(command(cwd, args))
}

/// Runs a command on a blocking thread (while the async test keeps other work going).
pub async fn clickclack_async(cwd: &Path, args: &[&str]) -> Output {
    let cwd = cwd.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        clickclack(&cwd, &args)
    })
    .await
    .unwrap()
}

/// A running `clickclack serve`.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub url: String,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

impl Server {
    /// Spawns `cmd` (a `serve` invocation) and waits for its `listening on` line and a
    /// healthy `/healthz`.
    pub async fn start(mut cmd: Command) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn clickclack serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let err_pipe = child.stderr.take().unwrap();
        let err_log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(url);
                }
                let mut log = err_log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let out_pipe = child.stdout.take().unwrap();
        let out_log = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                let mut log = out_log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let url = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
            .await
            .unwrap();
        let url = match url {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "server did not report its address; stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        let addr: SocketAddr = url
            .trim_start_matches("http://")
            .parse()
            .unwrap_or_else(|_| panic!("unexpected listening URL {url:?}"));
        let server = Server {
            child,
            addr,
            url,
            stderr,
            stdout,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http().get(self.at("/healthz")).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "server never became healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An absolute URL on this server.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Sends a signal (`TERM`, `INT`) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits (up to 30 s) for the process to exit.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then asserts a clean exit.
    pub async fn stop(mut self) {
        self.signal("TERM");
        let status = self.wait_exit().await;
        assert!(
            status.success(),
            "exit {status:?}; stderr:\n{}",
            self.stderr()
        );
    }

    /// The first workspace and its `#general`, seen through dev auth.
    pub async fn dev_workspace(&self) -> (String, String) {
        let ws = get_json(&self.at("/api/workspaces")).await;
        let workspace_id = ws["workspaces"][0]["id"].as_str().unwrap().to_string();
        let channels =
            get_json(&self.at(&format!("/api/workspaces/{workspace_id}/channels"))).await;
        let general = channels["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "general")
            .expect("#general")["id"]
            .as_str()
            .unwrap()
            .to_string();
        (workspace_id, general)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An HTTP client that never goes through a proxy.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// GET expecting 200 and JSON.
pub async fn get_json(url: &str) -> Value {
    let r = http().get(url).send().await.unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.unwrap()
}

/// Runs a Python snippet with the stock `sqlite3` module; `sys.argv[1]` is `db`. The
/// snippet prints JSON.
pub fn stock_sqlite(db: &Path, script: &str) -> Value {
    let out = Command::new("python3")
        .args(["-c", script, db.to_str().unwrap()])
        .output()
        .expect("python3 is needed to check backups with stock SQLite");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
