//! The raw-libSQL baseline: the same schema (real migrations) and the same rows (a message
//! and its `message.created` event), one transaction per row, WAL + synchronous=FULL.

use crate::stats::Outcome;
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use std::path::Path;
use std::time::{Duration, Instant};

pub async fn run(dir: &Path, duration: Duration) -> Outcome {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("baseline.db");
    let store = Store::open(StoreOptions::new(
        DbLocation::parse(path.to_str().unwrap()).unwrap(),
    ))
    .await
    .unwrap();
    let chat = clickclack_runtime::chat::Chat::new(store.clone(), Default::default());
    let boot = chat.bootstrap("Bench", "bench@example.com").await.unwrap();
    let ws = boot.workspace.unwrap().id;
    let channel = boot.channel.unwrap().id;
    let user = boot.user.id;
    store.close().await;
    drop(chat);
    drop(store);

    let db = libsql::Builder::new_local(&path).build().await.unwrap();
    let conn = db.connect().unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    // The store already put the file in WAL mode; match its other pragmas.
    for pragma in ["PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"] {
        let mut rows = conn.query(pragma, ()).await.unwrap();
        while rows.next().await.unwrap().is_some() {}
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut latencies = Vec::new();
    let mut seq = 0i64;
    while Instant::now() < deadline {
        let t = Instant::now();
        seq += 1;
        let msg = clickclack_runtime::ids::new_id("msg");
        let now = clickclack_runtime::clock::now_string();
        conn.execute("BEGIN IMMEDIATE", ()).await.unwrap();
        conn.execute(
            "INSERT INTO messages (id, workspace_id, channel_id, author_id, thread_root_id, channel_seq, body, body_format, created_at)
             VALUES (?1, ?2, ?3, ?4, ?1, ?5, ?6, 'markdown', ?7)",
            (msg.as_str(), ws.as_str(), channel.as_str(), user.as_str(), seq, format!("baseline message {seq} with some **markdown** text"), now.as_str()),
        )
        .await
        .unwrap();
        conn.execute(
            "INSERT INTO thread_state (root_message_id) VALUES (?1)",
            [msg.as_str()],
        )
        .await
        .unwrap();
        conn.execute(
            "INSERT INTO events (id, cursor, position, workspace_id, channel_id, type, seq, payload_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'message.created', ?6, ?7, ?8)",
            (
                clickclack_runtime::ids::new_id("evt"),
                format!("cur_base_{seq:016}"),
                1_000_000 + seq,
                ws.as_str(),
                channel.as_str(),
                seq,
                format!("{{\"message_id\":\"{msg}\"}}"),
                now.as_str(),
            ),
        )
        .await
        .unwrap();
        conn.execute("COMMIT", ()).await.unwrap();
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Outcome::new(latencies, started.elapsed(), 0)
}
