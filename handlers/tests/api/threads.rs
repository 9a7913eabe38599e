use crate::{Person, TestApp};
use axum::http::StatusCode;
use clickclack_runtime::store::messages::{self, NewMessage};
use clickclack_runtime::{clock, ids};
use serde_json::{json, Value};

/// Another workspace member with a session.
pub async fn bystander(app: &TestApp) -> Person {
    let user = app
        .chat
        .admin_create_user(
            "Bystander",
            "bystander@example.com",
            Some(&app.workspace_id),
        )
        .await
        .unwrap();
    Person {
        token: app.chat.create_session(&user.id).await.unwrap().token,
        id: user.id,
    }
}

/// A DM root by `members[0]` in a new conversation of `members`, written straight to the
/// store (independent of the DM routes). Returns `(message id, conversation id)`.
pub async fn dm_root(app: &TestApp, members: &[&Person], body: &str) -> (String, String) {
    let workspace_id = app.workspace_id.clone();
    let member_ids: Vec<String> = members.iter().map(|p| p.id.clone()).collect();
    let body = body.to_string();
    app.chat
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
                    direct_conversation_id: Some(dm.clone()),
                    author_id: member_ids[0].clone(),
                    channel_seq: Some(seq),
                    body,
                    ..Default::default()
                },
            )
            .await?;
            messages::insert_thread_state(&tx, &message.id).await?;
            Ok((message.id, dm))
        })
        .await
        .unwrap()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn reply_then_read_the_thread() {
    let app = TestApp::new().await;
    let root = app.send(&app.owner, "root").await;
    let root_id = id(&root).to_string();
    let replies = format!("/api/messages/{root_id}/thread/replies");
    let thread = format!("/api/messages/{root_id}/thread");

    let res = app
        .post(&replies)
        .token(&app.member.token)
        .json(json!({"body": "  first _reply_ ", "nonce": "r-1"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let m = &res.body["message"];
    assert_eq!(m["body"], "first _reply_");
    assert_eq!(m["parent_message_id"], root_id.as_str());
    assert_eq!(m["thread_root_id"], root_id.as_str());
    assert_eq!(m["thread_seq"], 1);
    assert_eq!(m["channel_id"], app.general_id.as_str());
    assert!(m.get("channel_seq").is_none());
    assert_eq!(m["author"]["display_name"], "Second Mate");
    assert_eq!(m["reactions"], json!([]));
    let state = &res.body["thread_state"];
    assert_eq!(state["root_message_id"], root_id.as_str());
    assert_eq!(state["reply_count"], 1);
    assert_eq!(state["last_reply_at"], m["created_at"]);
    assert_eq!(state["last_reply_author_ids"], json!([app.member.id]));
    let events = res.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["type"], "thread.reply_created");
    assert_eq!(
        events[0]["payload"],
        json!({"message_id": m["id"], "root_message_id": root_id, "author_id": app.member.id, "nonce": "r-1"})
    );
    assert_eq!(events[0]["channel_id"], app.general_id.as_str());
    assert!(events[0].get("seq").is_none());
    assert_eq!(events[1]["type"], "thread.state_updated");
    assert_eq!(events[1]["payload"], json!({"root_message_id": root_id}));

    let replay = app
        .post(&replies)
        .token(&app.member.token)
        .json(json!({"body": "first _reply_", "nonce": "r-1"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(replay.body["message"]["id"], m["id"]);
    assert_eq!(replay.body["events"], json!([]));
    assert_eq!(replay.body["thread_state"]["reply_count"], 1);

    for i in 2..=4 {
        app.post(&replies)
            .token(&app.owner.token)
            .json(json!({"body": format!("reply {i}"), "quoted_message_id": m["id"]}))
            .send()
            .await
            .expect(StatusCode::CREATED);
    }
    let read = app
        .get(&thread)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(read.body["root"]["id"], root_id.as_str());
    assert_eq!(read.body["root"]["thread_state"]["reply_count"], 4);
    assert_eq!(read.body["thread_state"]["reply_count"], 4);
    assert_eq!(
        read.body["thread_state"]["last_reply_author_ids"],
        json!([app.owner.id, app.member.id])
    );
    let seqs = |v: &Value| -> Vec<i64> {
        v["replies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["thread_seq"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&read.body), vec![1, 2, 3, 4]);
    assert_eq!(
        read.body["replies"][1]["quoted_author"]["id"],
        app.member.id.as_str()
    );
    let first = app
        .get(&format!("{thread}?limit=2"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(seqs(&first.body), vec![1, 2]);
    let latest = app
        .get(&format!("{thread}?limit=2&latest=true"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(seqs(&latest.body), vec![3, 4]);
    let clamped = app
        .get(&format!("{thread}?limit=5000&latest=1"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(seqs(&clamped.body), vec![1, 2, 3, 4]);
    for bad in ["limit=abc", "latest=maybe"] {
        app.get(&format!("{thread}?{bad}"))
            .token(&app.member.token)
            .send()
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
    }
}

#[tokio::test]
async fn thread_errors_have_specific_codes() {
    let app = TestApp::new().await;
    let root = app.send(&app.owner, "root").await;
    let root_id = id(&root).to_string();
    let replies = format!("/api/messages/{root_id}/thread/replies");
    let reply = app
        .post(&replies)
        .token(&app.owner.token)
        .json(json!({"body": "reply"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let reply_id = id(&reply.body["message"]).to_string();

    app.get(&format!("/api/messages/{root_id}/thread"))
        .token(&app.outsider.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&replies)
        .token(&app.outsider.token)
        .json(json!({"body": "let me in"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/messages/msg_missing/thread")
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&replies)
        .token(&app.owner.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&replies)
        .token(&app.owner.token)
        .json(json!({"body": " "}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "body_required");
    let nested = app
        .post(&format!("/api/messages/{reply_id}/thread/replies"))
        .token(&app.owner.token)
        .json(json!({"body": "deeper"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "nested_reply");
    assert_eq!(
        nested.body["error"],
        "nested thread replies are not supported"
    );
    let not_root = app
        .get(&format!("/api/messages/{reply_id}/thread"))
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "not_a_root");
    assert_eq!(not_root.body["error"], "thread root must be a root message");
    let elsewhere = app.send(&app.owner, "elsewhere").await;
    app.post(&replies)
        .token(&app.owner.token)
        .json(json!({"body": "quote", "quoted_message_id": elsewhere["id"]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_quote");

    app.delete(&format!("/api/messages/{root_id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    app.post(&replies)
        .token(&app.owner.token)
        .json(json!({"body": "after the fact"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "message_deleted");
}

#[tokio::test]
async fn dm_threads_work_for_members_only() {
    let app = TestApp::new().await;
    let other = bystander(&app).await;
    let (root_id, dm) = dm_root(&app, &[&app.owner, &app.member], "psst").await;
    let replies = format!("/api/messages/{root_id}/thread/replies");

    let res = app
        .post(&replies)
        .token(&app.member.token)
        .json(json!({"body": "whisper"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let m = &res.body["message"];
    assert!(m.get("channel_id").is_none());
    assert_eq!(m["direct_conversation_id"], dm.as_str());
    assert_eq!(m["thread_seq"], 1);
    for event in res.body["events"].as_array().unwrap() {
        assert!(event.get("channel_id").is_none());
        assert_eq!(event["payload"]["direct_conversation_id"], dm.as_str());
    }
    let read = app
        .get(&format!("/api/messages/{root_id}/thread"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(read.body["replies"][0]["id"], m["id"]);

    app.get(&format!("/api/messages/{root_id}/thread"))
        .token(&other.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&replies)
        .token(&other.token)
        .json(json!({"body": "me too"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let log = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}",
            app.workspace_id
        ))
        .token(&other.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(
        !log.text.contains("thread.reply_created"),
        "DM thread events are private: {}",
        log.text
    );
    let log = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}",
            app.workspace_id
        ))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(log.text.contains("thread.reply_created"));
}
