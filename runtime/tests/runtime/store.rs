use crate::{open_store, World};
use clickclack_runtime::chat::NewPost;
use clickclack_runtime::store::MIGRATIONS;
use std::collections::HashSet;

#[tokio::test]
async fn migrations_apply_once_and_reopen_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let epoch = store.epoch().to_string();
    let conn = store.reader().await.unwrap();
    let mut rows = conn
        .query("SELECT COUNT(*) FROM schema_migrations", ())
        .await
        .unwrap();
    let count: i64 = rows.next().await.unwrap().unwrap().get(0).unwrap();
    assert_eq!(count as usize, MIGRATIONS.len());
    drop(conn);
    store.close().await;
    let again = open_store(&dir).await;
    assert_eq!(again.epoch(), epoch, "epoch survives a reopen");
    let files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    assert_eq!(
        files.len(),
        MIGRATIONS.len(),
        "every migrations/*.sql file is embedded"
    );
}

#[tokio::test]
async fn concurrent_sends_get_unique_gapless_sequences_and_ordered_cursors() {
    let world = World::new().await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let chat = world.chat.clone();
        let owner = world.owner.clone();
        let channel = world.general.id.clone();
        tasks.push(tokio::spawn(async move {
            chat.post_channel_message(
                &owner,
                &channel,
                NewPost {
                    body: format!("msg {i}"),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
        }));
    }
    let mut seqs = HashSet::new();
    for t in tasks {
        let posted = t.await.unwrap();
        assert!(seqs.insert(posted.message.channel_seq.unwrap()));
    }
    assert_eq!(seqs, (1..=200).collect::<HashSet<i64>>());
    let stats = world.chat.store().writer_stats();
    assert!(
        stats.batches < stats.commands,
        "group commit shared transactions: {stats:?}"
    );

    let page = world
        .chat
        .events(&world.owner, &world.workspace.id, "", Some(500), false)
        .await
        .unwrap();
    let cursors: Vec<_> = page.events.iter().map(|e| e.cursor.clone()).collect();
    let mut sorted = cursors.clone();
    sorted.sort();
    assert_eq!(cursors, sorted, "cursor order is string order");
    let created: Vec<i64> = page
        .events
        .iter()
        .filter(|e| e.kind == "message.created")
        .map(|e| e.seq.unwrap())
        .collect();
    assert_eq!(created.len(), 200);
}

#[tokio::test]
async fn a_failing_command_does_not_poison_its_batch() {
    let world = World::new().await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let chat = world.chat.clone();
        let owner = world.owner.clone();
        let channel = if i % 2 == 0 {
            world.general.id.clone()
        } else {
            "chn_missing".to_string()
        };
        tasks.push(tokio::spawn(async move {
            chat.post_channel_message(
                &owner,
                &channel,
                NewPost {
                    body: format!("m{i}"),
                    ..Default::default()
                },
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code, "not_found"),
        }
    }
    assert_eq!(ok, 25);
    let page = world
        .chat
        .list_channel_messages(&world.owner, &world.general.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 25);
}

#[tokio::test]
async fn magic_link_is_consumed_at_most_once_under_concurrency() {
    let world = World::new().await;
    let link = world
        .chat
        .request_magic_link("Racer@Example.com", "Racer")
        .await
        .unwrap();
    assert_eq!(link.email, "racer@example.com");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let chat = world.chat.clone();
        let token = link.token.clone();
        tasks.push(tokio::spawn(async move {
            chat.consume_magic_link(&token).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(c) => {
                wins += 1;
                assert_eq!(c.user.display_name, "Racer");
                let user = world
                    .chat
                    .session_user(&c.session.token)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(user.id, c.user.id);
            }
            Err(e) => assert_eq!(e.code, "magic_link_used"),
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn magic_link_reuses_the_bootstrap_user_by_email() {
    let world = World::new().await;
    let link = world
        .chat
        .request_magic_link("local@clickclack.chat", "")
        .await
        .unwrap();
    let consumed = world.chat.consume_magic_link(&link.token).await.unwrap();
    assert_eq!(consumed.user.id, world.owner.id());
    let err = world
        .chat
        .consume_magic_link("mgt_unknown")
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_magic_link");
    assert_eq!(
        world
            .chat
            .request_magic_link(" ", "x")
            .await
            .unwrap_err()
            .code,
        "email_required"
    );
}
