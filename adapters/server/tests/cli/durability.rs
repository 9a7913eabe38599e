//! A crash never loses an acknowledged write: `kill -9` the server while clients post,
//! restart it on the same data, and every message that got a 201 is there.

use crate::common::{command, http, Server};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_sends_keeps_every_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = [
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
    ];
    let server = Server::start(command(dir.path(), &args)).await;
    let (workspace_id, general) = server.dev_workspace().await;
    let url = server.at(&format!("/api/channels/{general}/messages"));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut workers = Vec::new();
    for w in 0..16 {
        let url = url.clone();
        let acked = acked.clone();
        workers.push(tokio::spawn(async move {
            let client = http();
            for i in 0.. {
                let res = client
                    .post(&url)
                    .json(&json!({"body": format!("w{w} m{i}")}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 201 => {
                        let body: Value = r.json().await.unwrap();
                        acked
                            .lock()
                            .unwrap()
                            .insert(body["message"]["id"].as_str().unwrap().to_string());
                    }
                    _ => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("KILL");
    for w in workers {
        w.await.unwrap();
    }
    drop(server);
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "the load ran before the kill ({} acked)",
        acked.len()
    );

    let restarted = Server::start(command(dir.path(), &args)).await;
    let mut stored = HashSet::new();
    let mut before = String::new();
    loop {
        let page: Value = http()
            .get(restarted.at(&format!(
                "/api/channels/{general}/messages?limit=200{before}"
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for m in page["messages"].as_array().unwrap() {
            stored.insert(m["id"].as_str().unwrap().to_string());
        }
        if page["has_older"] != true {
            break;
        }
        before = format!("&before_seq={}", page["oldest_seq"]);
    }
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged messages lost: {lost:?}",
        lost.len()
    );
    let events: Value = http()
        .get(restarted.at(&format!(
            "/api/realtime/events?workspace_id={workspace_id}&limit=500"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!events["events"].as_array().unwrap().is_empty());
    restarted.stop().await;
}
