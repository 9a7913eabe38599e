use crate::World;
use clickclack_runtime::chat::{Actor, ChannelPatch, NewPost, ThreadQuery};
use clickclack_runtime::model::{Event, Message};
use clickclack_runtime::store::messages::{self, NewMessage};
use clickclack_runtime::{clock, ids, ErrorKind};

fn post(body: &str) -> NewPost {
    NewPost {
        body: body.into(),
        ..Default::default()
    }
}

/// A DM conversation between `members` (the first one writes) with one root message,
/// created directly in the store so these tests do not depend on the DM use cases.
pub(crate) async fn dm_root(world: &World, members: &[&Actor], body: &str) -> Message {
    let workspace_id = world.workspace.id.clone();
    let member_ids: Vec<String> = members.iter().map(|a| a.id().to_string()).collect();
    let body = body.to_string();
    world
        .chat
        .store()
        .write(move |tx| async move {
            let dm = ids::new_id("dm");
            let now = clock::now_string();
            tx.execute(
                "INSERT INTO direct_conversations (id, workspace_id, created_at) VALUES (?1, ?2, ?3)",
                (dm.as_str(), workspace_id.as_str(), now.as_str()),
            )
            .await?;
            for id in &member_ids {
                tx.execute(
                    "INSERT INTO direct_conversation_members (conversation_id, user_id, created_at) VALUES (?1, ?2, ?3)",
                    (dm.as_str(), id.as_str(), now.as_str()),
                )
                .await?;
            }
            let seq = messages::next_direct_seq(&tx, &dm).await?;
            let message = messages::insert(
                &tx,
                NewMessage {
                    workspace_id,
                    direct_conversation_id: Some(dm),
                    author_id: member_ids[0].clone(),
                    channel_seq: Some(seq),
                    body,
                    ..Default::default()
                },
            )
            .await?;
            messages::insert_thread_state(&tx, &message.id).await?;
            Ok(message)
        })
        .await
        .unwrap()
}

/// Every event `actor` can read in the world's workspace.
pub(crate) async fn events_for(world: &World, actor: &Actor) -> Vec<Event> {
    world
        .chat
        .events(actor, &world.workspace.id, "", Some(500), false)
        .await
        .unwrap()
        .events
}

#[tokio::test]
async fn replies_get_thread_seqs_state_and_an_author_ring_of_three() {
    let world = World::new().await;
    let a = world.owner.clone();
    let b = world.member("Bea").await;
    let c = world.member("Cal").await;
    let d = world.member("Dee").await;
    let e = world.member("Eve").await;
    let root = world
        .chat
        .post_channel_message(&a, &world.general.id, post("root"))
        .await
        .unwrap()
        .message;

    let mut last = None;
    for (i, who) in [&a, &b, &a, &c, &d, &e].into_iter().enumerate() {
        let reply = world
            .chat
            .post_thread_reply(who, &root.id, post(&format!("reply {i}")))
            .await
            .unwrap();
        assert!(reply.created);
        let m = &reply.message;
        assert_eq!(m.thread_seq, Some(i as i64 + 1));
        assert_eq!(m.parent_message_id.as_deref(), Some(root.id.as_str()));
        assert_eq!(m.thread_root_id, root.id);
        assert_eq!(m.channel_seq, None);
        assert_eq!(m.channel_id.as_deref(), Some(world.general.id.as_str()));
        assert_eq!(m.direct_conversation_id, None);
        assert!(m.author.is_some(), "replies are hydrated");
        assert!(m.thread_state.is_none(), "replies carry no thread state");
        assert_eq!(reply.thread_state.reply_count, i as i64 + 1);
        assert_eq!(
            reply.thread_state.last_reply_at.as_deref(),
            Some(m.created_at.as_str())
        );
        let kinds: Vec<_> = reply.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["thread.reply_created", "thread.state_updated"]);
        let created = &reply.events[0];
        assert_eq!(created.payload["message_id"], m.id.as_str());
        assert_eq!(created.payload["root_message_id"], root.id.as_str());
        assert_eq!(created.payload["author_id"], who.id());
        assert!(created.payload.get("nonce").is_none());
        assert_eq!(
            created.channel_id.as_deref(),
            Some(world.general.id.as_str())
        );
        assert_eq!(created.seq, None);
        assert_eq!(
            reply.events[1].payload,
            serde_json::json!({"root_message_id": root.id})
        );
        assert!(created.cursor < reply.events[1].cursor);
        if i == 2 {
            assert_eq!(
                reply.thread_state.last_reply_author_ids,
                vec![a.id().to_string(), b.id().to_string()],
                "a repeat author moves to the front without duplicates"
            );
        }
        last = Some(reply);
    }
    let last = last.unwrap();
    assert_eq!(
        last.thread_state.last_reply_author_ids,
        vec![e.id().to_string(), d.id().to_string(), c.id().to_string()]
    );

    let thread = world
        .chat
        .get_thread(&b, &root.id, ThreadQuery::default())
        .await
        .unwrap();
    assert_eq!(thread.root.id, root.id);
    assert_eq!(thread.thread_state, last.thread_state);
    assert_eq!(thread.root.thread_state.as_ref(), Some(&last.thread_state));
    let seqs: Vec<_> = thread
        .replies
        .iter()
        .map(|m| m.thread_seq.unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);

    let timeline = world
        .chat
        .list_channel_messages(&a, &world.general.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        timeline.messages.len(),
        1,
        "replies stay out of the timeline"
    );
    let log = events_for(&world, &a).await;
    assert_eq!(
        log.iter()
            .filter(|e| e.kind == "thread.reply_created")
            .count(),
        6
    );
}

#[tokio::test]
async fn nested_replies_non_roots_and_closed_threads_are_rejected() {
    let world = World::new().await;
    let outsider = world.outsider("Stranger").await;
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

    let err = world
        .chat
        .post_thread_reply(&world.owner, &reply.id, post("nested"))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "nested_reply"));
    assert_eq!(err.message, "nested thread replies are not supported");
    let err = world
        .chat
        .get_thread(&world.owner, &reply.id, ThreadQuery::default())
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "not_a_root"));
    let err = world
        .chat
        .post_thread_reply(&world.owner, &root.id, post("   "))
        .await
        .unwrap_err();
    assert_eq!(err.code, "body_required");

    for err in [
        world
            .chat
            .post_thread_reply(&outsider, &root.id, post("hi"))
            .await
            .unwrap_err(),
        world
            .chat
            .get_thread(&outsider, &root.id, ThreadQuery::default())
            .await
            .unwrap_err(),
        world
            .chat
            .get_thread(&world.owner, "msg_missing", ThreadQuery::default())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::NotFound);
    }

    let (archived, _) = world
        .chat
        .create_channel(&world.owner, &world.workspace.id, "old", "")
        .await
        .unwrap();
    let old_root = world
        .chat
        .post_channel_message(&world.owner, &archived.id, post("before"))
        .await
        .unwrap()
        .message;
    world
        .chat
        .update_channel(
            &world.owner,
            &archived.id,
            ChannelPatch {
                archived: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let err = world
        .chat
        .post_thread_reply(&world.owner, &old_root.id, post("late"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Conflict, "channel_archived")
    );

    world
        .chat
        .delete_message(&world.owner, &root.id)
        .await
        .unwrap();
    let err = world
        .chat
        .post_thread_reply(&world.owner, &root.id, post("too late"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Conflict, "message_deleted")
    );
    let thread = world
        .chat
        .get_thread(&world.owner, &root.id, ThreadQuery::default())
        .await
        .unwrap();
    assert_eq!(thread.thread_state.reply_count, 1, "nothing was added");
}

#[tokio::test]
async fn latest_window_returns_the_newest_replies_oldest_first() {
    let world = World::new().await;
    let root = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("root"))
        .await
        .unwrap()
        .message;
    for i in 1..=7 {
        world
            .chat
            .post_thread_reply(&world.owner, &root.id, post(&format!("r{i}")))
            .await
            .unwrap();
    }
    let read = |limit: Option<i64>, latest: bool| {
        let chat = world.chat.clone();
        let owner = world.owner.clone();
        let id = root.id.clone();
        async move {
            let thread = chat
                .get_thread(&owner, &id, ThreadQuery { limit, latest })
                .await
                .unwrap();
            assert_eq!(thread.thread_state.reply_count, 7);
            thread
                .replies
                .iter()
                .map(|m| (m.thread_seq.unwrap(), m.body.clone()))
                .collect::<Vec<_>>()
        }
    };
    let first = read(Some(3), false).await;
    assert_eq!(
        first,
        vec![(1, "r1".into()), (2, "r2".into()), (3, "r3".into())]
    );
    let latest = read(Some(3), true).await;
    assert_eq!(
        latest,
        vec![(5, "r5".into()), (6, "r6".into()), (7, "r7".into())]
    );
    assert_eq!(read(None, true).await.len(), 7, "default limit is 100");
    assert_eq!(read(Some(0), false).await.len(), 7, "0 means the default");
    assert_eq!(
        read(Some(10_000), true).await.len(),
        7,
        "clamped, not reset"
    );
}

#[tokio::test]
async fn nonce_replay_of_a_reply_returns_it_without_new_events() {
    let world = World::new().await;
    let root = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("root"))
        .await
        .unwrap()
        .message;
    let other_root = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("other"))
        .await
        .unwrap()
        .message;
    let with_nonce = |body: &str| NewPost {
        nonce: Some("reply-1".into()),
        ..post(body)
    };
    let first = world
        .chat
        .post_thread_reply(&world.owner, &root.id, with_nonce("once"))
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.events[0].payload["nonce"], "reply-1");
    let again = world
        .chat
        .post_thread_reply(&world.owner, &root.id, with_nonce(" once "))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.message.id, first.message.id);
    assert!(again.events.is_empty());
    assert_eq!(again.thread_state.reply_count, 1);
    assert_eq!(again.thread_state, first.thread_state);

    for (target, body) in [(&root.id, "different"), (&other_root.id, "once")] {
        let err = world
            .chat
            .post_thread_reply(&world.owner, target, with_nonce(body))
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.code),
            (ErrorKind::Conflict, "nonce_conflict")
        );
    }
    let log = events_for(&world, &world.owner).await;
    assert_eq!(
        log.iter().filter(|e| e.kind.starts_with("thread.")).count(),
        2,
        "one reply_created and one state_updated"
    );
    let thread = world
        .chat
        .get_thread(&world.owner, &root.id, ThreadQuery::default())
        .await
        .unwrap();
    assert_eq!(thread.replies.len(), 1);
}

#[tokio::test]
async fn thread_quotes_reach_the_root_and_siblings_only() {
    let world = World::new().await;
    let root = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("the root"))
        .await
        .unwrap()
        .message;
    let sibling = world
        .chat
        .post_thread_reply(&world.owner, &root.id, post("a sibling"))
        .await
        .unwrap()
        .message;
    let other_root = world
        .chat
        .post_channel_message(&world.owner, &world.general.id, post("elsewhere"))
        .await
        .unwrap()
        .message;
    for quoted in [&root, &sibling] {
        let reply = world
            .chat
            .post_thread_reply(
                &world.owner,
                &root.id,
                NewPost {
                    quoted_message_id: Some(quoted.id.clone()),
                    ..post("quoting")
                },
            )
            .await
            .unwrap()
            .message;
        assert_eq!(reply.quoted_message_id.as_deref(), Some(quoted.id.as_str()));
        assert_eq!(
            reply.quoted_body_snapshot.as_deref(),
            Some(quoted.body.as_str())
        );
        assert!(reply.quoted_author.is_some());
    }
    let err = world
        .chat
        .post_thread_reply(
            &world.owner,
            &root.id,
            NewPost {
                quoted_message_id: Some(other_root.id.clone()),
                ..post("cross")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_quote");
}

#[tokio::test]
async fn dm_thread_replies_carry_the_conversation_and_stay_private() {
    let world = World::new().await;
    let member = world.member("Dm Friend").await;
    let bystander = world.member("Bystander").await;
    let root = dm_root(&world, &[&world.owner, &member], "psst").await;
    let dm = root.direct_conversation_id.clone().unwrap();

    let reply = world
        .chat
        .post_thread_reply(&member, &root.id, post("whisper back"))
        .await
        .unwrap();
    let m = &reply.message;
    assert_eq!(m.channel_id, None);
    assert_eq!(m.direct_conversation_id.as_deref(), Some(dm.as_str()));
    assert_eq!(m.thread_seq, Some(1));
    assert_eq!(m.channel_seq, None);
    assert_eq!(reply.thread_state.reply_count, 1);
    for event in &reply.events {
        assert_eq!(event.channel_id, None);
        assert_eq!(event.payload["direct_conversation_id"], dm.as_str());
    }

    let thread = world
        .chat
        .get_thread(&world.owner, &root.id, ThreadQuery::default())
        .await
        .unwrap();
    assert_eq!(thread.replies.len(), 1);
    for err in [
        world
            .chat
            .get_thread(&bystander, &root.id, ThreadQuery::default())
            .await
            .unwrap_err(),
        world
            .chat
            .post_thread_reply(&bystander, &root.id, post("me too"))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::NotFound);
    }

    let thread_events = |log: Vec<Event>| {
        log.into_iter()
            .filter(|e| e.kind.starts_with("thread."))
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    let expected: Vec<_> = reply.events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        thread_events(events_for(&world, &world.owner).await),
        expected
    );
    assert_eq!(thread_events(events_for(&world, &member).await), expected);
    assert!(thread_events(events_for(&world, &bystander).await).is_empty());
}
