use crate::threads::{dm_root, events_for};
use crate::World;
use clickclack_runtime::chat::{NewPost, MAX_PINS};
use clickclack_runtime::model::Message;
use clickclack_runtime::ErrorKind;

fn post(body: &str) -> NewPost {
    NewPost {
        body: body.into(),
        ..Default::default()
    }
}

async fn send(world: &World, channel_id: &str, body: &str) -> Message {
    world
        .chat
        .post_channel_message(&world.owner, channel_id, post(body))
        .await
        .unwrap()
        .message
}

fn ids(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.id.as_str()).collect()
}

#[tokio::test]
async fn pins_list_full_messages_newest_pin_first() {
    let world = World::new().await;
    let member = world.member("Second Mate").await;
    let general = world.general.id.clone();
    let first = send(&world, &general, "first").await;
    let second = send(&world, &general, "second").await;
    let reply = world
        .chat
        .post_thread_reply(&world.owner, &first.id, post("a reply"))
        .await
        .unwrap()
        .message;
    world
        .chat
        .add_reaction(&member, &second.id, "📌")
        .await
        .unwrap();

    let event = world
        .chat
        .pin_message(&member, &general, &second.id)
        .await
        .unwrap();
    assert_eq!(event.kind, "pin.added");
    assert_eq!(event.channel_id.as_deref(), Some(general.as_str()));
    assert_eq!(
        event.payload,
        serde_json::json!({"channel_id": general, "message_id": second.id, "pinned_by": member.id()})
    );
    world
        .chat
        .pin_message(&world.owner, &general, &first.id)
        .await
        .unwrap();
    world
        .chat
        .pin_message(&member, &general, &format!(" {} ", reply.id))
        .await
        .unwrap();

    let pins = world.chat.list_pins(&member, &general).await.unwrap();
    assert_eq!(ids(&pins), vec![&reply.id, &first.id, &second.id]);
    assert!(pins.iter().all(|m| m.author.is_some()));
    assert_eq!(pins[1].thread_state.as_ref().unwrap().reply_count, 1);
    assert_eq!(pins[2].reactions.len(), 1);
    assert!(
        pins[2].reactions[0].reacted_by_me,
        "hydrated for the caller"
    );

    let removed = world
        .chat
        .unpin_message(&world.owner, &general, &first.id)
        .await
        .unwrap();
    assert_eq!(removed.kind, "pin.removed");
    assert_eq!(removed.payload["message_id"], first.id.as_str());
    assert_eq!(removed.payload["pinned_by"], world.owner.id());
    let pins = world.chat.list_pins(&member, &general).await.unwrap();
    assert_eq!(ids(&pins), vec![&reply.id, &second.id]);

    let log = events_for(&world, &member).await;
    assert_eq!(log.iter().filter(|e| e.kind == "pin.added").count(), 3);
    assert_eq!(log.iter().filter(|e| e.kind == "pin.removed").count(), 1);
}

#[tokio::test]
async fn only_live_messages_of_the_channel_can_be_pinned_once() {
    let world = World::new().await;
    let outsider = world.outsider("Stranger").await;
    let general = world.general.id.clone();
    let (other, _) = world
        .chat
        .create_channel(&world.owner, &world.workspace.id, "other", "")
        .await
        .unwrap();
    let here = send(&world, &general, "here").await;
    let there = send(&world, &other.id, "there").await;
    let gone = send(&world, &general, "gone").await;
    world
        .chat
        .delete_message(&world.owner, &gone.id)
        .await
        .unwrap();
    let dm = dm_root(&world, &[&world.owner], "note to self").await;

    for message_id in [&there.id, &gone.id, &dm.id, "msg_missing", "  "] {
        let err = world
            .chat
            .pin_message(&world.owner, &general, message_id)
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.code),
            (ErrorKind::Invalid, "invalid_pin"),
            "{message_id}"
        );
    }
    world
        .chat
        .pin_message(&world.owner, &general, &here.id)
        .await
        .unwrap();
    let err = world
        .chat
        .pin_message(&world.owner, &general, &here.id)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Conflict, "already_pinned")
    );

    for err in [
        world.chat.list_pins(&outsider, &general).await.unwrap_err(),
        world
            .chat
            .pin_message(&outsider, &general, &here.id)
            .await
            .unwrap_err(),
        world
            .chat
            .unpin_message(&outsider, &general, &here.id)
            .await
            .unwrap_err(),
        world
            .chat
            .list_pins(&world.owner, "chn_missing")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::NotFound);
    }
    let err = world
        .chat
        .unpin_message(&world.owner, &other.id, &here.id)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::NotFound, "not_found"),
        "pinned elsewhere is not pinned here"
    );

    world
        .chat
        .delete_message(&world.owner, &here.id)
        .await
        .unwrap();
    assert!(world
        .chat
        .list_pins(&world.owner, &general)
        .await
        .unwrap()
        .is_empty());
    let err = world
        .chat
        .unpin_message(&world.owner, &general, &here.id)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::NotFound, "not_found"));
}

#[tokio::test]
async fn a_channel_holds_at_most_one_hundred_pins() {
    let world = World::new().await;
    let general = world.general.id.clone();
    assert_eq!(MAX_PINS, 100);
    let sends = (0..=MAX_PINS).map(|i| {
        let chat = world.chat.clone();
        let owner = world.owner.clone();
        let general = general.clone();
        async move {
            chat.post_channel_message(&owner, &general, post(&format!("m{i}")))
                .await
                .unwrap()
                .message
        }
    });
    let messages = futures::future::join_all(sends).await;
    let pins = messages[..MAX_PINS as usize].iter().map(|m| {
        let chat = world.chat.clone();
        let owner = world.owner.clone();
        let general = general.clone();
        let id = m.id.clone();
        async move { chat.pin_message(&owner, &general, &id).await }
    });
    for result in futures::future::join_all(pins).await {
        result.unwrap();
    }
    let extra = &messages[MAX_PINS as usize];
    let err = world
        .chat
        .pin_message(&world.owner, &general, &extra.id)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Conflict, "pin_limit"));
    assert_eq!(
        world
            .chat
            .list_pins(&world.owner, &general)
            .await
            .unwrap()
            .len(),
        MAX_PINS as usize
    );

    world
        .chat
        .unpin_message(&world.owner, &general, &messages[0].id)
        .await
        .unwrap();
    world
        .chat
        .pin_message(&world.owner, &general, &extra.id)
        .await
        .unwrap();
    let pins = world.chat.list_pins(&world.owner, &general).await.unwrap();
    assert_eq!(pins.len(), MAX_PINS as usize);
    assert_eq!(pins[0].id, extra.id, "newest pin first");
}
