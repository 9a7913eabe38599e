//! `backup` and `export` while a server writes, and what they refuse to do.

use super::common::{clickclack, clickclack_async, command, get_json, http, stock_sqlite, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const BACKUP_FACTS: &str = r#"
import json, sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
one = lambda sql: c.execute(sql).fetchone()[0]
epoch = one("SELECT epoch FROM event_log_state")
print(json.dumps({
    "sqlite": sqlite3.sqlite_version,
    "integrity": one("PRAGMA integrity_check"),
    "journal_mode": one("PRAGMA journal_mode"),
    "messages": one("SELECT count(*) FROM messages"),
    "created_events": one("SELECT count(*) FROM events WHERE type = 'message.created'"),
    "epoch": epoch,
    "foreign_cursors": one("SELECT count(*) FROM events WHERE cursor NOT LIKE 'cur_' || '" + epoch + "' || '_%'"),
    "migrations": one("SELECT count(*) FROM schema_migrations"),
}))
"#;

const POSTS: usize = 200;
const WRITERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 6)]
async fn backup_while_serving_is_consistent_and_restores_under_a_new_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let server = Server::start(command(
        dir.path(),
        &["serve", "--addr", "127.0.0.1:0", "--data", d],
    ))
    .await;
    let (workspace_id, general) = server.dev_workspace().await;
    let live_epoch = get_json(&server.at("/api/capabilities")).await["epoch"]
        .as_str()
        .unwrap()
        .to_string();

    let posted = Arc::new(AtomicUsize::new(0));
    let url = server.at(&format!("/api/channels/{general}/messages"));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (url, posted) = (url.clone(), posted.clone());
            tokio::spawn(async move {
                let client = http();
                for i in 0..POSTS / WRITERS {
                    let r = client
                        .post(&url)
                        .json(&json!({"body": format!("writer {w} message {i}")}))
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success(), "post: {}", r.status());
                    posted.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    while posted.load(Ordering::SeqCst) < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let out = dir.path().join("backup.db");
    let o = out.to_str().unwrap();
    let backup = clickclack_async(dir.path(), &["backup", "--out", o, "--data", d]).await;
    assert_eq!(backup.code, 0, "{backup:?}");
    assert!(backup.stdout.is_empty());
    let during = posted.load(Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }

    // A second backup to the same path fails and leaves the first untouched.
    let first = std::fs::read(&out).unwrap();
    let again = clickclack_async(dir.path(), &["backup", "--out", o, "--data", d]).await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), first);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "only data/ and backup.db, no leftovers"
    );

    let facts = stock_sqlite(&out, BACKUP_FACTS);
    assert_eq!(facts["integrity"], "ok", "{facts}");
    assert_eq!(
        facts["journal_mode"], "delete",
        "single-file backup: {facts}"
    );
    let messages = facts["messages"].as_u64().unwrap();
    assert_eq!(
        facts["created_events"].as_u64().unwrap(),
        messages,
        "{facts}"
    );
    assert!(
        messages >= 20 && messages as usize <= POSTS,
        "{facts} (posted {during})"
    );
    assert_ne!(facts["epoch"], live_epoch.as_str());
    assert_eq!(facts["foreign_cursors"], 0, "{facts}");
    assert!(facts["migrations"].as_u64().unwrap() >= 1);

    // A client cursor from the live server.
    let live = get_json(&server.at(&format!(
        "/api/realtime/events?workspace_id={workspace_id}&limit=1000"
    )))
    .await;
    let live_cursor = live["events"].as_array().unwrap().last().unwrap()["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    server.stop().await;

    // Restore: stop, replace the database, drop -wal/-shm, start.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{d}/clickclack.db{suffix}"));
    }
    std::fs::copy(&out, data.join("clickclack.db")).unwrap();
    let restored = Server::start(command(
        dir.path(),
        &["serve", "--addr", "127.0.0.1:0", "--data", d],
    ))
    .await;
    let caps = get_json(&restored.at("/api/capabilities")).await;
    assert_eq!(caps["epoch"], facts["epoch"]);
    let r = http()
        .get(restored.at(&format!(
            "/api/realtime/events?workspace_id={workspace_id}&after_cursor={live_cursor}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "resync_required");
    // After resyncing, the restored log's own cursors work.
    let fresh = get_json(&restored.at(&format!(
        "/api/realtime/events?workspace_id={workspace_id}&limit=1000"
    )))
    .await;
    let cursor = fresh["events"].as_array().unwrap().last().unwrap()["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    get_json(&restored.at(&format!(
        "/api/realtime/events?workspace_id={workspace_id}&after_cursor={cursor}"
    )))
    .await;
    restored.stop().await;
}

fn table_names(export: &Value) -> Vec<String> {
    export.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn export_writes_every_table_as_redacted_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let server = Server::start(command(
        dir.path(),
        &["serve", "--addr", "127.0.0.1:0", "--data", d],
    ))
    .await;
    let (_, general) = server.dev_workspace().await;
    let magic = clickclack_async(
        dir.path(),
        &[
            "admin",
            "magic-link",
            "create",
            "--email",
            "x@example.com",
            "--data",
            d,
        ],
    )
    .await
    .ok()
    .to_string();
    let session: Value = http()
        .post(server.at("/api/auth/magic/consume"))
        .json(&json!({"token": magic}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = session["token"].as_str().unwrap().to_string();
    let r = http()
        .post(server.at(&format!("/api/channels/{general}/messages")))
        .json(&json!({"body": "exported hello"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    // While the server runs, to stdout (the default).
    let out = clickclack_async(dir.path(), &["export", "--data", d]).await;
    let text = out.ok().to_string();
    let export: Value = serde_json::from_str(&text).unwrap();
    let tables = table_names(&export);
    for t in [
        "users",
        "identities",
        "workspaces",
        "workspace_members",
        "channels",
        "messages",
        "thread_state",
        "reactions",
        "events",
        "uploads",
        "message_attachments",
        "direct_conversations",
        "direct_conversation_members",
        "invites",
        "auth_magic_links",
        "sessions",
        "schema_migrations",
    ] {
        assert!(tables.contains(&t.to_string()), "missing {t}: {tables:?}");
    }
    assert!(!tables
        .iter()
        .any(|t| t.starts_with("messages_fts") || t.starts_with("sqlite_")));
    assert!(!text.contains(&magic) && !text.contains(&session));
    assert!(!text.contains("\"mgt_") && !text.contains("\"sst_"));
    assert_eq!(export["sessions"][0]["token_hash"], "[redacted]");
    assert_eq!(export["auth_magic_links"][0]["token_hash"], "[redacted]");
    assert_eq!(export["auth_magic_links"][0]["email"], "x@example.com");
    assert!(export["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["body"] == "exported hello" && m["channel_seq"].is_number()));
    // Sorted keys: tables, then each row's columns.
    let pos = |needle: &str| text.find(needle).unwrap();
    assert!(pos("\"auth_magic_links\": [") < pos("\"users\": ["));
    let users = &text[pos("\"users\": [")..];
    assert!(users.find("\"created_at\"").unwrap() < users.find("\"display_name\"").unwrap());
    assert!(!out.stderr.is_empty(), "logs go to stderr");

    // To a file: stdout stays empty, the file holds the same data.
    let file = dir.path().join("export.json");
    let to_file = clickclack_async(
        dir.path(),
        &["export", "--out", file.to_str().unwrap(), "--data", d],
    )
    .await;
    assert_eq!(to_file.ok(), "");
    let from_file: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(from_file["users"], export["users"]);
    server.stop().await;
}

#[test]
fn failed_export_and_backup_exit_nonzero_and_leave_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    clickclack(dir.path(), &["admin", "bootstrap", "--data", d]).ok();

    let nowhere = clickclack(
        dir.path(),
        &["export", "--out", "missing-dir/out.json", "--data", d],
    );
    assert_eq!(nowhere.code, 1, "{nowhere:?}");
    assert!(nowhere.stdout.is_empty());

    let good = dir.path().join("good.json");
    std::fs::write(&good, "GOOD").unwrap();
    let no_db = clickclack(
        dir.path(),
        &["export", "--out", "good.json", "--db", "missing.db"],
    );
    assert_eq!(no_db.code, 1);
    assert!(no_db.stderr.contains("does not exist"), "{}", no_db.stderr);
    assert!(
        !Path::new(&dir.path().join("missing.db")).exists(),
        "no empty database made"
    );
    assert_eq!(std::fs::read_to_string(&good).unwrap(), "GOOD");

    let backup_over = clickclack(dir.path(), &["backup", "--out", "good.json", "--data", d]);
    assert_eq!(backup_over.code, 1);
    assert_eq!(std::fs::read_to_string(&good).unwrap(), "GOOD");
    let backup_nowhere = clickclack(
        dir.path(),
        &["backup", "--out", "missing-dir/b.db", "--data", d],
    );
    assert_eq!(backup_nowhere.code, 1);

    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temp files left behind: {names:?}");
}
