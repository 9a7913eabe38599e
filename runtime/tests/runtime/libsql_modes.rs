//! Remote (`libsql://`/`http://`) and embedded-replica databases against a real libSQL
//! server. No registry reachable from CI ships `sqld`, so these run only when
//! `CLICKCLACK_TEST_SQLD` names a `sqld` binary (written against sqld 0.24) and print a
//! loud notice when skipped.

use clickclack_runtime::chat::{Actor, Chat, ChatConfig, NewPost, PageQuery};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A `sqld` process on free local ports with its data in a temp dir; killed on drop.
struct Sqld {
    child: Child,
    http_url: String,
    _dir: TempDir,
}

impl Drop for Sqld {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts sqld when `CLICKCLACK_TEST_SQLD` is set; otherwise says loudly that `test` was
/// skipped and returns `None`.
async fn sqld(test: &str) -> Option<Sqld> {
    let Some(bin) = std::env::var_os("CLICKCLACK_TEST_SQLD").filter(|b| !b.is_empty()) else {
        eprintln!(
            "\n!!!!!!!! SKIPPED {test}: set CLICKCLACK_TEST_SQLD=/path/to/sqld (0.24) to test \
             remote and embedded-replica libSQL modes against a real server !!!!!!!!\n"
        );
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let http = free_port();
    let grpc = free_port();
    let child = Command::new(bin)
        .arg("--db-path")
        .arg(dir.path().join("data.sqld"))
        .arg("--http-listen-addr")
        .arg(format!("127.0.0.1:{http}"))
        .arg("--grpc-listen-addr")
        .arg(format!("127.0.0.1:{grpc}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sqld");
    let server = Sqld {
        child,
        http_url: format!("http://127.0.0.1:{http}"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", http))
            .await
            .is_ok()
        {
            return Some(server);
        }
        assert!(Instant::now() < deadline, "sqld did not start listening");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn open(location: DbLocation) -> Chat {
    let store = Store::open(StoreOptions::new(location)).await.unwrap();
    Chat::new(store, ChatConfig::default())
}

fn post(body: &str) -> NewPost {
    NewPost {
        body: body.to_string(),
        ..NewPost::default()
    }
}

#[tokio::test]
async fn remote_database_serves_chat_and_shares_one_log_between_instances() {
    let Some(server) =
        sqld("remote_database_serves_chat_and_shares_one_log_between_instances").await
    else {
        return;
    };
    let remote = DbLocation::parse(&server.http_url).unwrap();
    // Instance A migrates and bootstraps; instance B opens the same server afterwards.
    let a = open(remote.clone()).await;
    let boot = a
        .bootstrap("Local Captain", "local@clickclack.chat")
        .await
        .unwrap();
    let owner = Actor::new(boot.user);
    let general = boot.channel.unwrap();
    let workspace = boot.workspace.unwrap();
    let b = open(remote).await;
    assert_eq!(
        a.store().epoch(),
        b.store().epoch(),
        "one database, one epoch"
    );

    // Writes through either instance are acknowledged and visible to both, in order.
    let first = a
        .post_channel_message(&owner, &general.id, post("from A"))
        .await
        .unwrap();
    let second = b
        .post_channel_message(&owner, &general.id, post("from B"))
        .await
        .unwrap();
    for chat in [&a, &b] {
        let page = chat
            .list_channel_messages(&owner, &general.id, &PageQuery::default())
            .await
            .unwrap();
        let bodies: Vec<_> = page.messages.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["from A", "from B"]);
    }
    // One event log: B reads A's event after its own cursor order.
    let events = b
        .events(&owner, &workspace.id, "", Some(100), false)
        .await
        .unwrap()
        .events;
    let ids: Vec<_> = events.iter().map(|e| e.id.clone()).collect();
    let a_event = first.event.unwrap().id;
    let b_event = second.event.unwrap().id;
    let pa = ids.iter().position(|i| *i == a_event).unwrap();
    let pb = ids.iter().position(|i| *i == b_event).unwrap();
    assert!(pa < pb, "cursor order is commit order across instances");
}

#[tokio::test]
async fn embedded_replica_reads_its_own_writes_and_catches_up_with_the_primary() {
    let Some(server) =
        sqld("embedded_replica_reads_its_own_writes_and_catches_up_with_the_primary").await
    else {
        return;
    };
    let primary = open(DbLocation::parse(&server.http_url).unwrap()).await;
    let boot = primary
        .bootstrap("Local Captain", "local@clickclack.chat")
        .await
        .unwrap();
    let owner = Actor::new(boot.user);
    let general = boot.channel.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let replica_location = DbLocation::parse(dir.path().join("replica.db").to_str().unwrap())
        .unwrap()
        .with_sync_url(&server.http_url)
        .unwrap()
        .with_sync_interval(Duration::from_millis(200));
    let replica = open(replica_location).await;

    // A write through the replica is forwarded to the primary and readable at once.
    replica
        .post_channel_message(&owner, &general.id, post("via the replica"))
        .await
        .unwrap();
    let mine = replica
        .list_channel_messages(&owner, &general.id, &PageQuery::default())
        .await
        .unwrap();
    assert!(mine.messages.iter().any(|m| m.body == "via the replica"));

    // A write made elsewhere appears in the replica after its periodic sync.
    primary
        .post_channel_message(&owner, &general.id, post("via the primary"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = replica
            .list_channel_messages(&owner, &general.id, &PageQuery::default())
            .await
            .unwrap();
        if page.messages.iter().any(|m| m.body == "via the primary") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never synced the primary's write"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_unreachable_remote_fails_to_open_without_leaking_its_token() {
    let port = free_port(); // bound and released: nothing listens there
    let location = DbLocation::parse(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_auth_token("secret-token-123");
    let started = Instant::now();
    let err = match Store::open(StoreOptions::new(location)).await {
        Ok(_) => panic!("opened a database nobody serves"),
        Err(e) => e,
    };
    assert!(started.elapsed() < Duration::from_secs(30));
    let text = format!("{err:?} {}", err.message);
    assert!(!text.contains("secret-token-123"), "{text}");
}
