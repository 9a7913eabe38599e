use crate::World;
use clickclack_runtime::chat::{NewPost, PageQuery};
use clickclack_runtime::ErrorKind;

fn post(body: &str) -> NewPost {
    NewPost {
        body: body.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn nonce_replay_returns_the_same_message_without_a_new_event() {
    let world = World::new().await;
    let first = world
        .chat
        .post_channel_message(
            &world.owner,
            &world.general.id,
            NewPost {
                nonce: Some("n-1".into()),
                ..post("hello")
            },
        )
        .await
        .unwrap();
    assert!(first.created);
    let again = world
        .chat
        .post_channel_message(
            &world.owner,
            &world.general.id,
            NewPost {
                nonce: Some("n-1".into()),
                ..post(" hello ")
            },
        )
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.message.id, first.message.id);
    assert_eq!(again.event.unwrap().cursor, first.event.unwrap().cursor);
    let conflict = world
        .chat
        .post_channel_message(
            &world.owner,
            &world.general.id,
            NewPost {
                nonce: Some("n-1".into()),
                ..post("other")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(conflict.kind, ErrorKind::Conflict);
    let page = world
        .chat
        .events(&world.owner, &world.workspace.id, "", None, false)
        .await
        .unwrap();
    assert_eq!(
        page.events
            .iter()
            .filter(|e| e.kind == "message.created")
            .count(),
        1
    );
    let found = world
        .chat
        .message_by_nonce(&world.owner, &world.workspace.id, "n-1")
        .await
        .unwrap();
    assert_eq!(found.id, first.message.id);
}

#[tokio::test]
async fn paging_windows_report_older_and_newer() {
    let world = World::new().await;
    for i in 1..=10 {
        world
            .chat
            .post_channel_message(&world.owner, &world.general.id, post(&format!("m{i}")))
            .await
            .unwrap();
    }
    let q = |before, after, around, limit| PageQuery {
        before_seq: before,
        after_seq: after,
        around_seq: around,
        limit: Some(limit),
        mode: None,
    };
    let ch = &world.general.id;
    let latest = world
        .chat
        .list_channel_messages(&world.owner, ch, &q(None, None, None, 3))
        .await
        .unwrap();
    let seqs: Vec<_> = latest
        .messages
        .iter()
        .map(|m| m.channel_seq.unwrap())
        .collect();
    assert_eq!(seqs, vec![8, 9, 10]);
    assert!(latest.has_older && !latest.has_newer);
    let before = world
        .chat
        .list_channel_messages(&world.owner, ch, &q(Some(8), None, None, 3))
        .await
        .unwrap();
    assert_eq!(before.oldest_seq, 5);
    assert_eq!(before.newest_seq, 7);
    assert!(before.has_older && before.has_newer);
    let after = world
        .chat
        .list_channel_messages(&world.owner, ch, &q(None, Some(10), None, 3))
        .await
        .unwrap();
    assert!(after.messages.is_empty() && !after.has_older && !after.has_newer);
    let around = world
        .chat
        .list_channel_messages(&world.owner, ch, &q(None, None, Some(1), 4))
        .await
        .unwrap();
    let seqs: Vec<_> = around
        .messages
        .iter()
        .map(|m| m.channel_seq.unwrap())
        .collect();
    assert_eq!(
        seqs,
        vec![1, 2, 3, 4],
        "rebalanced when the older side is short"
    );
    let bad = world
        .chat
        .list_channel_messages(&world.owner, ch, &q(Some(1), Some(2), None, 3))
        .await
        .unwrap_err();
    assert_eq!(bad.code, "invalid_page_request");
}

#[tokio::test]
async fn edit_and_delete_follow_author_and_owner_rules() {
    let world = World::new().await;
    let member = world.member("Second Mate").await;
    let outsider = world.outsider("Stranger").await;
    let mine = world
        .chat
        .post_channel_message(&member, &world.general.id, post("mine"))
        .await
        .unwrap()
        .message;
    let err = world
        .chat
        .edit_message(&world.owner, &mine.id, "hijack")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);
    let err = world
        .chat
        .edit_message(&outsider, &mine.id, "hijack")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let (edited, event) = world
        .chat
        .edit_message(&member, &mine.id, " edited ")
        .await
        .unwrap();
    assert_eq!(edited.body, "edited");
    assert!(edited.edited_at.is_some());
    assert_eq!(event.kind, "message.updated");
    let owners = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("owner"))
        .await
        .unwrap()
        .message;
    assert_eq!(
        world
            .chat
            .delete_message(&member, &owners.id)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );
    let (deleted, event) = world
        .chat
        .delete_message(&world.owner, &mine.id)
        .await
        .unwrap();
    assert!(deleted.deleted_at.is_some() && deleted.body.is_empty());
    assert_eq!(event.unwrap().kind, "message.deleted");
    let (_, again) = world.chat.delete_message(&member, &mine.id).await.unwrap();
    assert!(again.is_none(), "second delete emits nothing");
    assert_eq!(
        world
            .chat
            .edit_message(&member, &mine.id, "zombie")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Conflict
    );
}
