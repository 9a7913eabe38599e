use crate::World;
use clickclack_runtime::chat::NewPost;
use clickclack_runtime::ErrorKind;

fn post(body: &str) -> NewPost {
    NewPost {
        body: body.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn channel_read_pointer_is_capped_monotonic_and_drops_unread() {
    let world = World::new().await;
    let mate = world.member("Able Mate").await;
    let ch = &world.general.id;
    for i in 1..=4 {
        world
            .chat
            .post_channel_message(&world.owner, ch, post(&format!("m{i}")))
            .await
            .unwrap();
    }
    world
        .chat
        .post_channel_message(&mate, ch, post("my own"))
        .await
        .unwrap();
    let unread = |channels: Vec<clickclack_runtime::model::Channel>| {
        let c = channels.into_iter().find(|c| &c.id == ch).unwrap();
        (
            c.last_seq.unwrap(),
            c.last_read_seq.unwrap(),
            c.unread_count.unwrap(),
        )
    };
    let before = world
        .chat
        .list_channels(&mate, &world.workspace.id)
        .await
        .unwrap();
    assert_eq!(unread(before), (5, 0, 4), "own messages are not unread");

    let marked = world.chat.mark_channel_read(&mate, ch, 2).await.unwrap();
    assert_eq!(marked.receipt.scope_id, *ch);
    assert_eq!(marked.receipt.user_id, mate.id());
    assert_eq!(marked.receipt.last_read_seq, 2);
    assert!(marked.receipt.last_read_at.ends_with('Z'));
    let event = marked.event.unwrap();
    assert_eq!(event.kind, "channel.read");
    assert_eq!(event.channel_id.as_deref(), Some(ch.as_str()));
    assert_eq!(event.seq, Some(2));
    assert_eq!(event.payload["channel_id"], ch.as_str());
    assert_eq!(event.payload["user_id"], mate.id());
    let after = world
        .chat
        .list_channels(&mate, &world.workspace.id)
        .await
        .unwrap();
    assert_eq!(unread(after), (5, 2, 2));

    let back = world.chat.mark_channel_read(&mate, ch, 1).await.unwrap();
    assert_eq!(back.receipt.last_read_seq, 2, "never moves back");
    assert!(back.event.is_none());
    let same = world.chat.mark_channel_read(&mate, ch, 2).await.unwrap();
    assert!(same.event.is_none());
    assert_eq!(same.receipt.last_read_at, marked.receipt.last_read_at);

    let capped = world.chat.mark_channel_read(&mate, ch, 999).await.unwrap();
    assert_eq!(capped.receipt.last_read_seq, 5, "capped to the newest root");
    assert_eq!(capped.event.unwrap().seq, Some(5));
    let again = world.chat.mark_channel_read(&mate, ch, 999).await.unwrap();
    assert!(again.event.is_none());
    let done = world
        .chat
        .list_channels(&mate, &world.workspace.id)
        .await
        .unwrap();
    assert_eq!(unread(done), (5, 5, 0));

    let err = world
        .chat
        .mark_channel_read(&mate, ch, -1)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "invalid_seq"));
    let outsider = world.outsider("Stranger").await;
    let err = world
        .chat
        .mark_channel_read(&outsider, ch, 1)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    let events = |who| {
        let chat = world.chat.clone();
        let ws = world.workspace.id.clone();
        async move {
            chat.events(who, &ws, "", None, false)
                .await
                .unwrap()
                .events
                .into_iter()
                .filter(|e| e.kind == "channel.read")
                .count()
        }
    };
    assert_eq!(events(&mate).await, 2, "one event per advance");
    assert_eq!(events(&world.owner).await, 0, "read events are private");
}

#[tokio::test]
async fn dm_read_pointer_and_unread_counts() {
    let world = World::new().await;
    let mate = world.member("Able Mate").await;
    let dm = world
        .chat
        .create_direct_conversation(&world.owner, &world.workspace.id, &[mate.id().to_string()])
        .await
        .unwrap()
        .conversation;
    let fresh = world.chat.mark_direct_read(&mate, &dm.id, 3).await.unwrap();
    assert_eq!(
        fresh.receipt.last_read_seq, 0,
        "capped to an empty timeline"
    );
    assert!(fresh.event.is_none());
    let mut ids = Vec::new();
    for i in 1..=3 {
        ids.push(
            world
                .chat
                .post_direct_message(&world.owner, &dm.id, post(&format!("d{i}")))
                .await
                .unwrap()
                .message
                .id,
        );
    }
    world
        .chat
        .post_direct_message(&mate, &dm.id, post("mine"))
        .await
        .unwrap();
    world
        .chat
        .delete_message(&world.owner, &ids[2])
        .await
        .unwrap();
    let state = |list: Vec<clickclack_runtime::model::DirectConversation>| {
        let c = list.into_iter().find(|c| c.id == dm.id).unwrap();
        (
            c.last_seq.unwrap(),
            c.last_read_seq.unwrap(),
            c.unread_count.unwrap(),
        )
    };
    let listed = world
        .chat
        .list_direct_conversations(&mate, &world.workspace.id)
        .await
        .unwrap();
    assert_eq!(
        state(listed),
        (4, 0, 2),
        "roots by others that are not deleted"
    );
    let owner_view = world
        .chat
        .list_direct_conversations(&world.owner, &world.workspace.id)
        .await
        .unwrap();
    assert_eq!(state(owner_view), (4, 0, 1));

    let marked = world.chat.mark_direct_read(&mate, &dm.id, 1).await.unwrap();
    assert_eq!(marked.receipt.scope_id, dm.id);
    assert_eq!(marked.receipt.last_read_seq, 1);
    let event = marked.event.unwrap();
    assert_eq!(event.kind, "dm.read");
    assert_eq!(event.channel_id, None);
    assert_eq!(event.seq, Some(1));
    assert_eq!(event.payload["direct_conversation_id"], dm.id.as_str());
    assert_eq!(event.payload["user_id"], mate.id());
    let listed = world
        .chat
        .list_direct_conversations(&mate, &world.workspace.id)
        .await
        .unwrap();
    assert_eq!(state(listed), (4, 1, 1));

    let back = world.chat.mark_direct_read(&mate, &dm.id, 0).await.unwrap();
    assert_eq!(back.receipt.last_read_seq, 1);
    assert!(back.event.is_none());
    let capped = world
        .chat
        .mark_direct_read(&mate, &dm.id, 50)
        .await
        .unwrap();
    assert_eq!(capped.receipt.last_read_seq, 4);
    let listed = world
        .chat
        .list_direct_conversations(&mate, &world.workspace.id)
        .await
        .unwrap();
    assert_eq!(state(listed), (4, 4, 0));

    let cook = world.member("Cook").await;
    let err = world
        .chat
        .mark_direct_read(&cook, &dm.id, 1)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = world
        .chat
        .mark_direct_read(&mate, &dm.id, -5)
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_seq");
    let seen_by_owner = world
        .chat
        .events(&world.owner, &world.workspace.id, "", None, false)
        .await
        .unwrap()
        .events
        .into_iter()
        .filter(|e| e.kind == "dm.read")
        .count();
    assert_eq!(seen_by_owner, 0, "dm.read goes to the reader only");
}
