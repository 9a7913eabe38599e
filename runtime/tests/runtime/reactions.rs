use crate::threads::{dm_root, events_for};
use crate::World;
use clickclack_runtime::chat::NewPost;
use clickclack_runtime::model::ReactionSummary;
use clickclack_runtime::ErrorKind;

fn post(body: &str) -> NewPost {
    NewPost {
        body: body.into(),
        ..Default::default()
    }
}

fn summary(emoji: &str, count: i64, reacted_by_me: bool) -> ReactionSummary {
    ReactionSummary {
        emoji: emoji.into(),
        count,
        reacted_by_me,
    }
}

async fn count_events(world: &World, kind: &str) -> usize {
    events_for(world, &world.owner)
        .await
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

#[tokio::test]
async fn adding_twice_is_a_no_op_without_an_event() {
    let world = World::new().await;
    let member = world.member("Second Mate").await;
    let message = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("react to me"))
        .await
        .unwrap()
        .message;

    let added = world
        .chat
        .add_reaction(&world.owner, &message.id, " 👍 ")
        .await
        .unwrap();
    let event = added.event.clone().expect("first add emits");
    assert_eq!(event.kind, "reaction.added");
    assert_eq!(event.channel_id.as_deref(), Some(world.general.id.as_str()));
    assert_eq!(event.seq, message.channel_seq);
    assert_eq!(
        event.payload,
        serde_json::json!({"message_id": message.id, "emoji": "👍", "user_id": world.owner.id()})
    );
    assert_eq!(added.reactions, vec![summary("👍", 1, true)]);

    let again = world
        .chat
        .add_reaction(&world.owner, &message.id, "👍")
        .await
        .unwrap();
    assert!(again.event.is_none());
    assert!(!again.changed());
    assert_eq!(again.reactions, vec![summary("👍", 1, true)]);
    assert_eq!(count_events(&world, "reaction.added").await, 1);

    let theirs = world
        .chat
        .add_reaction(&member, &message.id, "👍")
        .await
        .unwrap();
    assert_eq!(theirs.reactions, vec![summary("👍", 2, true)]);
    let lobster = world
        .chat
        .add_reaction(&member, &message.id, ":lobster:")
        .await
        .unwrap();
    assert_eq!(
        lobster.reactions,
        vec![summary("👍", 2, true), summary(":lobster:", 1, true)]
    );
    let read = world
        .chat
        .get_message(&world.owner, &message.id)
        .await
        .unwrap();
    assert_eq!(
        read.reactions,
        vec![summary("👍", 2, true), summary(":lobster:", 1, false)],
        "reads carry summaries for the viewer"
    );
    assert_eq!(count_events(&world, "reaction.added").await, 3);
}

#[tokio::test]
async fn removing_emits_once_and_a_missing_reaction_is_a_no_op() {
    let world = World::new().await;
    let root = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("root"))
        .await
        .unwrap()
        .message;
    let reply = world
        .chat
        .post_thread_reply(&world.owner, &root.id, post("reply"))
        .await
        .unwrap()
        .message;
    let missing = world
        .chat
        .remove_reaction(&world.owner, &reply.id, "🎉")
        .await
        .unwrap();
    assert!(missing.event.is_none());
    assert!(missing.reactions.is_empty());
    assert_eq!(count_events(&world, "reaction.removed").await, 0);

    let added = world
        .chat
        .add_reaction(&world.owner, &reply.id, "🎉")
        .await
        .unwrap()
        .event
        .unwrap();
    assert_eq!(added.seq, None, "replies have no channel_seq");
    assert_eq!(added.channel_id.as_deref(), Some(world.general.id.as_str()));
    let removed = world
        .chat
        .remove_reaction(&world.owner, &reply.id, "🎉")
        .await
        .unwrap();
    let event = removed.event.expect("removal emits");
    assert_eq!(event.kind, "reaction.removed");
    assert_eq!(event.payload["emoji"], "🎉");
    assert_eq!(event.payload["message_id"], reply.id.as_str());
    assert!(removed.reactions.is_empty());
    let again = world
        .chat
        .remove_reaction(&world.owner, &reply.id, "🎉")
        .await
        .unwrap();
    assert!(again.event.is_none());
    assert_eq!(count_events(&world, "reaction.removed").await, 1);
}

#[tokio::test]
async fn bad_emoji_deleted_and_invisible_messages_are_rejected() {
    let world = World::new().await;
    let outsider = world.outsider("Stranger").await;
    let message = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("soon gone"))
        .await
        .unwrap()
        .message;
    for (emoji, code) in [
        ("  ", "emoji_required"),
        ("thumbs up", "invalid_emoji"),
        ("a\nb", "invalid_emoji"),
        (&"x".repeat(65), "invalid_emoji"),
    ] {
        let err = world
            .chat
            .add_reaction(&world.owner, &message.id, emoji)
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.code),
            (ErrorKind::Invalid, code),
            "{emoji:?}"
        );
    }
    let err = world
        .chat
        .add_reaction(&outsider, &message.id, "👍")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = world
        .chat
        .add_reaction(&world.owner, "msg_missing", "👍")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    world
        .chat
        .delete_message(&world.owner, &message.id)
        .await
        .unwrap();
    let err = world
        .chat
        .add_reaction(&world.owner, &message.id, "👍")
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Conflict, "message_deleted")
    );
    assert_eq!(count_events(&world, "reaction.added").await, 0);
}

#[tokio::test]
async fn dm_reactions_need_membership_and_their_events_are_private() {
    let world = World::new().await;
    let friend = world.member("Dm Friend").await;
    let bystander = world.member("Bystander").await;
    let root = dm_root(&world, &[&world.owner, &friend], "secret").await;

    let err = world
        .chat
        .add_reaction(&bystander, &root.id, "👀")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let added = world
        .chat
        .add_reaction(&friend, &root.id, "👀")
        .await
        .unwrap();
    let event = added.event.unwrap();
    assert_eq!(event.channel_id, None);
    assert_eq!(event.seq, root.channel_seq, "the DM sequence");

    let sees = |log: Vec<clickclack_runtime::model::Event>| log.iter().any(|e| e.id == event.id);
    assert!(sees(events_for(&world, &world.owner).await));
    assert!(sees(events_for(&world, &friend).await));
    assert!(!sees(events_for(&world, &bystander).await));
}
