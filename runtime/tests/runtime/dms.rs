use crate::World;
use clickclack_runtime::chat::{Actor, NewPost, PageQuery};
use clickclack_runtime::ErrorKind;

fn post(body: &str) -> NewPost {
    NewPost {
        body: body.into(),
        ..Default::default()
    }
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn member_ids(c: &clickclack_runtime::model::DirectConversation) -> Vec<String> {
    c.members.iter().map(|u| u.id.clone()).collect()
}

async fn open_ids(world: &World, who: &Actor) -> Vec<String> {
    world
        .chat
        .list_direct_conversations(who, &world.workspace.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

#[tokio::test]
async fn members_are_trimmed_deduplicated_and_validated() {
    let world = World::new().await;
    let mate = world.member("Able Mate").await;
    let outsider = world.outsider("Stranger").await;
    let padded = format!("  {}  ", mate.id());
    let opened = world
        .chat
        .create_direct_conversation(
            &world.owner,
            &world.workspace.id,
            &ids(&["", mate.id(), &padded, world.owner.id()]),
        )
        .await
        .unwrap();
    assert!(opened.created);
    let c = &opened.conversation;
    assert!(c.id.starts_with("dm_"));
    assert_eq!(c.workspace_id, world.workspace.id);
    assert_eq!(c.members.len(), 2, "blanks and duplicates removed");
    let names: Vec<_> = c.members.iter().map(|u| u.display_name.as_str()).collect();
    assert_eq!(names, vec!["Able Mate", "Local Captain"], "ordered by name");

    let err = world
        .chat
        .create_direct_conversation(&world.owner, &world.workspace.id, &ids(&["", " "]))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Invalid, "too_few_members")
    );
    assert_eq!(
        err.message,
        "direct conversation needs at least two members"
    );
    let err = world
        .chat
        .create_direct_conversation(&world.owner, &world.workspace.id, &ids(&[outsider.id()]))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "not_a_member"));
    let err = world
        .chat
        .create_direct_conversation(&world.owner, &world.workspace.id, &ids(&["usr_nobody"]))
        .await
        .unwrap_err();
    assert_eq!(err.code, "not_a_member");
    let many: Vec<String> = (0..16).map(|i| format!("usr_{i}")).collect();
    let err = world
        .chat
        .create_direct_conversation(&world.owner, &world.workspace.id, &many)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Invalid, "too_many_members")
    );
    let err = world
        .chat
        .create_direct_conversation(&outsider, &world.workspace.id, &ids(&[mate.id()]))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "caller must be a member");
}

#[tokio::test]
async fn one_to_one_conversations_are_canonical_and_groups_are_not() {
    let world = World::new().await;
    let mate = world.member("Able Mate").await;
    let cook = world.member("Cook").await;
    let ws = &world.workspace.id;
    let first = world
        .chat
        .create_direct_conversation(&world.owner, ws, &ids(&[mate.id()]))
        .await
        .unwrap();
    assert!(first.created);
    let again = world
        .chat
        .create_direct_conversation(&mate, ws, &ids(&[world.owner.id()]))
        .await
        .unwrap();
    assert!(
        !again.created,
        "the same pair from the other side reuses it"
    );
    assert_eq!(again.conversation.id, first.conversation.id);
    let other_pair = world
        .chat
        .create_direct_conversation(&world.owner, ws, &ids(&[cook.id()]))
        .await
        .unwrap();
    assert!(other_pair.created);
    assert_ne!(other_pair.conversation.id, first.conversation.id);

    let group = ids(&[mate.id(), cook.id()]);
    let g1 = world
        .chat
        .create_direct_conversation(&world.owner, ws, &group)
        .await
        .unwrap();
    let g2 = world
        .chat
        .create_direct_conversation(&world.owner, ws, &group)
        .await
        .unwrap();
    assert!(g1.created && g2.created, "groups are always new");
    assert_ne!(g1.conversation.id, g2.conversation.id);
    assert_eq!(g1.conversation.members.len(), 3);

    let listed = open_ids(&world, &world.owner).await;
    assert_eq!(
        listed,
        vec![
            first.conversation.id.clone(),
            other_pair.conversation.id.clone(),
            g1.conversation.id.clone(),
            g2.conversation.id.clone()
        ],
        "ordered by creation"
    );
    assert_eq!(
        open_ids(&world, &mate).await,
        vec![
            first.conversation.id.clone(),
            g1.conversation.id.clone(),
            g2.conversation.id.clone()
        ],
        "only conversations the caller belongs to"
    );
    let got = world
        .chat
        .get_direct_conversation(&cook, &g1.conversation.id)
        .await
        .unwrap();
    assert_eq!(member_ids(&got), member_ids(&g1.conversation));
    let err = world
        .chat
        .get_direct_conversation(&cook, &first.conversation.id)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "non-members get 404");
}

#[tokio::test]
async fn closing_hides_for_one_member_until_reopened_or_a_new_message() {
    let world = World::new().await;
    let mate = world.member("Able Mate").await;
    let ws = &world.workspace.id;
    let dm = world
        .chat
        .create_direct_conversation(&world.owner, ws, &ids(&[mate.id()]))
        .await
        .unwrap()
        .conversation;
    let closed = world
        .chat
        .close_direct_conversation(&world.owner, &dm.id)
        .await
        .unwrap();
    assert!(closed.closed);
    world
        .chat
        .close_direct_conversation(&world.owner, &dm.id)
        .await
        .expect("closing twice is fine");
    assert!(open_ids(&world, &world.owner).await.is_empty());
    assert_eq!(
        open_ids(&world, &mate).await,
        vec![dm.id.clone()],
        "only hidden for the caller"
    );
    let still = world
        .chat
        .get_direct_conversation(&world.owner, &dm.id)
        .await
        .unwrap();
    assert!(still.closed, "direct access works while closed");

    let reopened = world
        .chat
        .open_direct_conversation(&world.owner, &dm.id)
        .await
        .unwrap();
    assert!(!reopened.closed);
    assert_eq!(open_ids(&world, &world.owner).await, vec![dm.id.clone()]);

    world
        .chat
        .close_direct_conversation(&world.owner, &dm.id)
        .await
        .unwrap();
    let reused = world
        .chat
        .create_direct_conversation(&world.owner, ws, &ids(&[mate.id()]))
        .await
        .unwrap();
    assert!(!reused.created && !reused.conversation.closed);
    assert_eq!(
        open_ids(&world, &world.owner).await,
        vec![dm.id.clone()],
        "re-creating the pair reopens it for the caller"
    );

    world
        .chat
        .close_direct_conversation(&world.owner, &dm.id)
        .await
        .unwrap();
    world
        .chat
        .close_direct_conversation(&mate, &dm.id)
        .await
        .unwrap();
    assert!(open_ids(&world, &mate).await.is_empty());
    world
        .chat
        .post_direct_message(&mate, &dm.id, post("you there?"))
        .await
        .unwrap();
    assert_eq!(open_ids(&world, &world.owner).await, vec![dm.id.clone()]);
    assert_eq!(
        open_ids(&world, &mate).await,
        vec![dm.id.clone()],
        "a new message reopens it for every member"
    );

    let cook = world.member("Cook").await;
    let err = world
        .chat
        .close_direct_conversation(&cook, &dm.id)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn dm_messages_have_their_own_sequence_and_private_events() {
    let world = World::new().await;
    let mate = world.member("Able Mate").await;
    let cook = world.member("Cook").await;
    let ws = &world.workspace.id;
    let dm = world
        .chat
        .create_direct_conversation(&world.owner, ws, &ids(&[mate.id()]))
        .await
        .unwrap()
        .conversation;
    world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("channel"))
        .await
        .unwrap();
    let first = world
        .chat
        .post_direct_message(&world.owner, &dm.id, post(" psst "))
        .await
        .unwrap();
    assert!(first.created);
    let m = &first.message;
    assert_eq!(m.body, "psst");
    assert_eq!(m.direct_conversation_id.as_deref(), Some(dm.id.as_str()));
    assert_eq!(m.channel_id, None);
    assert_eq!(m.channel_seq, Some(1), "DM seq is per conversation");
    assert_eq!(m.thread_root_id, m.id);
    assert_eq!(m.thread_state.as_ref().unwrap().reply_count, 0);
    let stored_state = {
        let conn = world.chat.store().reader().await.unwrap();
        let mut rows = conn
            .query(
                "SELECT reply_count FROM thread_state WHERE root_message_id = ?1",
                [m.id.as_str()],
            )
            .await
            .unwrap();
        let row = rows.next().await.unwrap();
        row.map(|r| r.get::<i64>(0).unwrap())
    };
    assert_eq!(stored_state, Some(0), "thread_state row stored");
    let event = first.event.clone().unwrap();
    assert_eq!(event.kind, "message.created");
    assert_eq!(event.channel_id, None);
    assert_eq!(event.seq, Some(1));
    assert_eq!(event.payload["direct_conversation_id"], dm.id.as_str());
    assert_eq!(event.payload["message_id"], m.id.as_str());
    assert_eq!(event.payload["author_id"], world.owner.id());

    let second = world
        .chat
        .post_direct_message(
            &mate,
            &dm.id,
            NewPost {
                nonce: Some("dm-1".into()),
                quoted_message_id: Some(m.id.clone()),
                ..post("reply")
            },
        )
        .await
        .unwrap();
    assert_eq!(second.message.channel_seq, Some(2));
    assert_eq!(
        second.message.quoted_message_id.as_deref(),
        Some(m.id.as_str())
    );
    assert_eq!(second.event.as_ref().unwrap().payload["nonce"], "dm-1");
    let replay = world
        .chat
        .post_direct_message(
            &mate,
            &dm.id,
            NewPost {
                nonce: Some("dm-1".into()),
                quoted_message_id: Some(m.id.clone()),
                ..post("reply")
            },
        )
        .await
        .unwrap();
    assert!(!replay.created);
    assert_eq!(replay.message.id, second.message.id);

    let channel_msg = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("public"))
        .await
        .unwrap()
        .message;
    let err = world
        .chat
        .post_direct_message(
            &world.owner,
            &dm.id,
            NewPost {
                quoted_message_id: Some(channel_msg.id),
                ..post("cross")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_quote");

    let page = world
        .chat
        .list_direct_messages(&mate, &dm.id, &PageQuery::default())
        .await
        .unwrap();
    let seqs: Vec<_> = page
        .messages
        .iter()
        .map(|m| m.channel_seq.unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2]);
    assert_eq!((page.oldest_seq, page.newest_seq), (1, 2));

    for err in [
        world
            .chat
            .post_direct_message(&cook, &dm.id, post("let me in"))
            .await
            .unwrap_err(),
        world
            .chat
            .list_direct_messages(&cook, &dm.id, &PageQuery::default())
            .await
            .unwrap_err(),
        world.chat.get_message(&cook, &m.id).await.unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::NotFound);
    }
    let err = world
        .chat
        .post_direct_message(&world.owner, &dm.id, post("  "))
        .await
        .unwrap_err();
    assert_eq!(err.code, "body_required");

    let dm_events = |events: Vec<clickclack_runtime::model::Event>| {
        events
            .into_iter()
            .filter(|e| e.payload.get("direct_conversation_id").is_some())
            .count()
    };
    for (who, expected) in [(&world.owner, 2), (&mate, 2), (&cook, 0)] {
        let page = world.chat.events(who, ws, "", None, false).await.unwrap();
        assert_eq!(
            dm_events(page.events),
            expected,
            "{}",
            who.user.display_name
        );
    }
}
