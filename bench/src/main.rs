//! ClickClack benchmark harness.
//!
//! `sends`: starts a release `clickclack serve` on a temp data dir (the real binary, real
//! HTTP, `synchronous=FULL`), measures durable message sends per second over HTTP at
//! concurrency 1, 16 and 64 with p50/p99 latency, then runs a raw-libSQL baseline on the
//! same disk that inserts the same rows (message + event) one transaction per row, and
//! prints both with the ratio.
//!
//! Usage: `cargo build --release -p clickclack && cargo run --release -p clickclack-bench -- sends [--seconds N]`
//! (`CLICKCLACK_BIN` overrides the server binary path).

mod baseline;
mod fanout;
mod search;
mod server;
mod stats;

use std::time::Duration;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("sends");
    let seconds = args
        .windows(2)
        .find(|w| w[0] == "--seconds")
        .and_then(|w| w[1].parse::<u64>().ok())
        .unwrap_or(5);
    match mode {
        "sends" => sends(Duration::from_secs(seconds)).await,
        "search" => search::run(&args).await,
        "fanout" => fanout::run(&args).await,
        "broadcast-server" => fanout::broadcast_server().await,
        other => {
            eprintln!("unknown benchmark {other:?}; available: sends, search, fanout");
            std::process::exit(2);
        }
    }
}

async fn sends(duration: Duration) {
    let dir = tempfile::Builder::new()
        .prefix("clickclack-bench-")
        .tempdir_in(
            std::env::var("BENCH_DIR")
                .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
        )
        .expect("temp dir");
    println!(
        "# send benchmark ({}s per level, data in {})",
        duration.as_secs(),
        dir.path().display()
    );
    let server = server::Server::start(&dir.path().join("server")).await;
    let mut rows = Vec::new();
    for concurrency in [1usize, 16, 64] {
        let result = server.send_load(concurrency, duration).await;
        println!(
            "{}",
            result.line(&format!("http sends, concurrency {concurrency}"))
        );
        rows.push((concurrency, result));
    }
    server.stop();
    let base = baseline::run(&dir.path().join("baseline"), duration).await;
    println!("{}", base.line("raw libSQL, 1 txn per row"));
    println!();
    println!("| workload | ops/s | p50 ms | p99 ms | vs baseline |");
    println!("|---|---:|---:|---:|---:|");
    for (c, r) in &rows {
        println!(
            "| HTTP send, concurrency {c} | {:.0} | {:.2} | {:.2} | {:.2}× |",
            r.per_second(),
            r.p(50.0),
            r.p(99.0),
            r.per_second() / base.per_second()
        );
    }
    println!(
        "| raw libSQL insert (message + event), one transaction per row | {:.0} | {:.2} | {:.2} | 1.00× |",
        base.per_second(),
        base.p(50.0),
        base.p(99.0)
    );
}
