//! `fanout`: N WebSockets in one workspace of a release `clickclack serve`, M posts per
//! second over HTTP; reports deliveries/s, post→receive latency (p50/p99) and resident
//! memory per idle socket. In the same run a baseline: a minimal tokio-tungstenite
//! broadcast server (no database, no HTTP, its own process) doing the same fan-out. Also measures long-poll
//! wake latency (post sent → poll response).

use crate::server::Server;
use crate::stats::Outcome;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

/// Reads frames until `stop`; every `message.created` whose nonce is `t<micros>` adds a
/// latency sample.
async fn reader<S>(
    mut stream: S,
    samples: Arc<Mutex<Vec<f64>>>,
    expected: usize,
    done: Arc<AtomicUsize>,
) where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut local = Vec::with_capacity(expected);
    while local.len() < expected {
        match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let Some(pos) = text.find("\"nonce\":\"t") else {
                    continue;
                };
                let rest = &text[pos + 10..];
                let Some(end) = rest.find('"') else { continue };
                if let Ok(sent) = rest[..end].parse::<u128>() {
                    local.push((now_micros().saturating_sub(sent)) as f64 / 1000.0);
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    samples.lock().unwrap().extend(local);
    done.fetch_add(1, Ordering::Relaxed);
}

/// Opens `n` sockets with bounded concurrency.
async fn open_sockets(
    url: &str,
    n: usize,
) -> Vec<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>>
{
    let mut sockets = Vec::with_capacity(n);
    let mut pending = futures::stream::iter(0..n)
        .map(|_| {
            let url = url.to_string();
            async move {
                for attempt in 0..20 {
                    match tokio_tungstenite::connect_async(url.as_str()).await {
                        Ok((s, _)) => return s,
                        Err(e) if attempt == 19 => panic!("connect: {e}"),
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await
                        }
                    }
                }
                unreachable!()
            }
        })
        .buffer_unordered(64);
    while let Some(s) = pending.next().await {
        sockets.push(s);
    }
    sockets
}

pub struct FanoutResult {
    pub sockets: usize,
    pub posts: usize,
    pub deliveries: Outcome,
    pub rss_per_socket_kib: Option<f64>,
}

async fn run_clickclack(server: &Server, n: usize, rate: u64, seconds: u64) -> FanoutResult {
    let cursor = server.tail_cursor().await;
    let url = format!(
        "{}/api/realtime/ws?workspace_id={}&after_cursor={cursor}",
        server.base.replace("http://", "ws://"),
        server.workspace_id
    );
    let before = server.rss_kib();
    let sockets = open_sockets(&url, n).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = server.rss_kib();
    let posts = (rate * seconds) as usize;
    let samples = Arc::new(Mutex::new(Vec::with_capacity(n * posts)));
    let done = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for socket in sockets {
        let (_, stream) = socket.split();
        readers.push(tokio::spawn(reader(
            stream,
            samples.clone(),
            posts,
            done.clone(),
        )));
    }
    let started = Instant::now();
    let interval = Duration::from_micros(1_000_000 / rate);
    for i in 0..posts {
        let at = started + interval * i as u32;
        tokio::time::sleep_until(at.into()).await;
        server
            .post(&format!("fanout {i}"), &format!("t{}", now_micros()))
            .await;
    }
    for r in readers {
        let _ = r.await;
    }
    let elapsed = started.elapsed();
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    FanoutResult {
        sockets: n,
        posts,
        deliveries: Outcome::new(samples, elapsed, 0),
        rss_per_socket_kib: Some((after.saturating_sub(before)) as f64 / n as f64),
    }
}

/// The baseline server (`clickclack-bench broadcast-server`, its own process so both sides
/// have their own file-descriptor budget): accepts WebSockets and forwards every text a
/// publisher (`/?publisher`) sends to all other sockets. Prints its port on stdout.
// The handshake callback's error type is tungstenite's (large) HTTP response.
#[allow(clippy::result_large_err)]
pub async fn broadcast_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    let (tx, _) = tokio::sync::broadcast::channel::<String>(1024);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut publisher = false;
            let callback = |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                            res| {
                publisher = req.uri().query() == Some("publisher");
                Ok(res)
            };
            let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
                return;
            };
            let (mut sink, mut stream) = ws.split();
            if publisher {
                while let Some(Ok(Message::Text(text))) = stream.next().await {
                    let _ = tx.send(text.to_string());
                }
                return;
            }
            let mut rx = tx.subscribe();
            while let Ok(text) = rx.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        });
    }
}

async fn run_baseline(n: usize, rate: u64, seconds: u64) -> FanoutResult {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("broadcast-server")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the baseline broadcast server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().expect("baseline port");
    let sockets = open_sockets(&format!("ws://127.0.0.1:{port}/"), n).await;
    let (mut publisher, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/?publisher"))
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = (rate * seconds) as usize;
    let samples = Arc::new(Mutex::new(Vec::with_capacity(n * posts)));
    let done = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for socket in sockets {
        let (_, stream) = socket.split();
        readers.push(tokio::spawn(reader(
            stream,
            samples.clone(),
            posts,
            done.clone(),
        )));
    }
    let started = Instant::now();
    let interval = Duration::from_micros(1_000_000 / rate);
    for i in 0..posts {
        tokio::time::sleep_until((started + interval * i as u32).into()).await;
        let event = format!(
            "{{\"type\":\"message.created\",\"payload\":{{\"message_id\":\"msg_{i}\",\"nonce\":\"t{}\"}}}}",
            now_micros()
        );
        publisher.send(Message::Text(event.into())).await.unwrap();
    }
    for r in readers {
        let _ = r.await;
    }
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    FanoutResult {
        sockets: n,
        posts,
        deliveries: Outcome::new(samples, elapsed, 0),
        rss_per_socket_kib: None,
    }
}

/// Post sent → long-poll response, `rounds` times.
async fn long_poll_wake(server: &Server, rounds: usize) -> Outcome {
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let cursor = server.tail_cursor().await;
        let url = format!(
            "{}/api/realtime/events?workspace_id={}&after_cursor={cursor}&wait=10",
            server.base, server.workspace_id
        );
        let client = server.client().clone();
        let poll = tokio::spawn(async move {
            let r: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            (
                Instant::now(),
                r["events"].as_array().map(|a| a.len()).unwrap_or(0),
            )
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let sent = Instant::now();
        server
            .post(&format!("poll {i}"), &format!("p{i}-{}", now_micros()))
            .await;
        let (returned, n) = poll.await.unwrap();
        if n > 0 {
            samples.push(returned.saturating_duration_since(sent).as_secs_f64() * 1000.0);
        }
    }
    Outcome::new(samples, Duration::from_secs(1), 0)
}

pub async fn run(args: &[String]) {
    let arg = |name: &str, default: u64| {
        args.windows(2)
            .find(|w| w[0] == name)
            .and_then(|w| w[1].parse::<u64>().ok())
            .unwrap_or(default)
    };
    let rate = arg("--rate", 10);
    let seconds = arg("--seconds", 5);
    let sizes: Vec<usize> = match args.windows(2).find(|w| w[0] == "--sockets") {
        Some(w) => w[1].split(',').filter_map(|s| s.parse().ok()).collect(),
        None => vec![1_000, 10_000],
    };
    let dir = tempfile::tempdir().unwrap();
    println!("# fan-out benchmark: {rate} posts/s for {seconds}s per size");
    let mut rows = Vec::new();
    for &n in &sizes {
        let server = Server::start(&dir.path().join(format!("fanout-{n}"))).await;
        let ours = run_clickclack(&server, n, rate, seconds).await;
        server.stop();
        let base = run_baseline(n, rate, seconds).await;
        rows.push((ours, base));
    }
    let server = Server::start(&dir.path().join("longpoll")).await;
    let wake = long_poll_wake(&server, 200).await;
    server.stop();

    println!();
    println!(
        "| sockets | server | deliveries | deliveries/s | p50 ms | p99 ms | RSS per idle socket |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for (ours, base) in &rows {
        for (name, r) in [
            ("clickclack serve (HTTP post + durable commit)", ours),
            ("baseline broadcast (no DB)", base),
        ] {
            println!(
                "| {} | {name} | {}/{} | {:.0} | {:.2} | {:.2} | {} |",
                r.sockets,
                r.deliveries.latencies_ms.len(),
                r.sockets * r.posts,
                r.deliveries.per_second(),
                r.deliveries.p(50.0),
                r.deliveries.p(99.0),
                r.rss_per_socket_kib
                    .map(|k| format!("{k:.1} KiB"))
                    .unwrap_or_else(|| "–".into())
            );
        }
    }
    println!();
    println!(
        "long-poll wake (post sent → poll response), {} rounds: p50 {:.2} ms, p99 {:.2} ms",
        wake.latencies_ms.len(),
        wake.p(50.0),
        wake.p(99.0)
    );
}
