//! Runs the real `clickclack serve` binary and drives it over HTTP.

use crate::stats::Outcome;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub base: String,
    pub workspace_id: String,
    pub channel_id: String,
    client: reqwest::Client,
}

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("CLICKCLACK_BIN") {
        return PathBuf::from(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.join("target/release/clickclack")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub async fn start(data: &Path) -> Server {
        let bin = binary();
        assert!(
            bin.exists(),
            "{} missing: run `cargo build --release -p clickclack` first",
            bin.display()
        );
        let port = free_port();
        let child = Command::new(&bin)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start clickclack serve");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let workspaces: Value = client
            .get(format!("{base}/api/workspaces"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ws = workspaces["workspaces"][0]["id"]
            .as_str()
            .expect("dev workspace")
            .to_string();
        let channels: Value = client
            .get(format!("{base}/api/workspaces/{ws}/channels"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let channel_id = channels["channels"][0]["id"].as_str().unwrap().to_string();
        Server {
            child,
            base,
            workspace_id: ws,
            channel_id,
            client,
        }
    }

    /// `concurrency` workers post messages back to back for `duration`.
    pub async fn send_load(&self, concurrency: usize, duration: Duration) -> Outcome {
        let errors = Arc::new(AtomicUsize::new(0));
        let url = format!("{}/api/channels/{}/messages", self.base, self.channel_id);
        let started = Instant::now();
        let deadline = started + duration;
        let mut workers = Vec::new();
        for w in 0..concurrency {
            let client = self.client.clone();
            let url = url.clone();
            let errors = errors.clone();
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let body = json!({"body": format!("bench message {w}-{i} with some **markdown** text"), "nonce": format!("b{concurrency}-{w}-{i}")});
                    match client.post(&url).json(&body).send().await {
                        Ok(r) if r.status().as_u16() == 201 => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    i += 1;
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.unwrap());
        }
        Outcome::new(all, started.elapsed(), errors.load(Ordering::Relaxed))
    }

    /// Resident memory of the server process in KiB (Linux `/proc`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// The newest visible cursor of the workspace.
    pub async fn tail_cursor(&self) -> String {
        let page: Value = self
            .client
            .get(format!(
                "{}/api/realtime/events?workspace_id={}&include_tail=true&limit=1",
                self.base, self.workspace_id
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["tail_cursor"].as_str().unwrap_or("").to_string()
    }

    /// Posts one message with `nonce`.
    pub async fn post(&self, body: &str, nonce: &str) -> Value {
        self.client
            .post(format!(
                "{}/api/channels/{}/messages",
                self.base, self.channel_id
            ))
            .json(&json!({"body": body, "nonce": nonce}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Stops the server (SIGTERM via `kill`).
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
