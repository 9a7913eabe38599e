use crate::{Person, TestApp};
use axum::http::StatusCode;
use serde_json::{json, Value};

/// Another workspace member ("Cook") with a session.
pub async fn third_member(app: &TestApp) -> Person {
    let user = app
        .chat
        .admin_create_user("Cook", "cook@example.com", Some(&app.workspace_id))
        .await
        .unwrap();
    Person {
        token: app.chat.create_session(&user.id).await.unwrap().token,
        id: user.id,
    }
}

/// Creates a DM of `who` with `others`, expecting `status`; returns the conversation JSON.
pub async fn create_dm(app: &TestApp, who: &Person, others: &[&str], status: StatusCode) -> Value {
    app.post("/api/dms")
        .token(&who.token)
        .json(json!({"workspace_id": app.workspace_id, "member_ids": others}))
        .send()
        .await
        .expect(status)
        .body["conversation"]
        .clone()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn create_is_canonical_for_pairs_and_new_for_groups() {
    let app = TestApp::new().await;
    let cook = third_member(&app).await;
    let dm = create_dm(
        &app,
        &app.owner,
        &["", &app.member.id, &app.member.id],
        StatusCode::CREATED,
    )
    .await;
    let id = dm["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("dm_"));
    assert_eq!(dm["workspace_id"], app.workspace_id.as_str());
    assert!(dm["created_at"].as_str().unwrap().ends_with('Z'));
    let members = dm["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["display_name"], "Local Captain");
    assert_eq!(members[1]["display_name"], "Second Mate");
    assert!(members[0]["avatar_url"].is_string());

    let reused = create_dm(&app, &app.member, &[&app.owner.id], StatusCode::OK).await;
    assert_eq!(reused["id"], id.as_str());

    let group = [app.member.id.as_str(), cook.id.as_str()];
    let g1 = create_dm(&app, &app.owner, &group, StatusCode::CREATED).await;
    let g2 = create_dm(&app, &app.owner, &group, StatusCode::CREATED).await;
    assert_ne!(g1["id"], g2["id"]);
    assert_eq!(g1["members"].as_array().unwrap().len(), 3);
    assert_eq!(g1["members"][0]["display_name"], "Cook");

    let list = app
        .get(&format!("/api/dms?workspace_id={}", app.workspace_id))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let conversations = &list.body["conversations"];
    assert_eq!(
        ids(conversations),
        vec![
            id.clone(),
            g1["id"].as_str().unwrap().into(),
            g2["id"].as_str().unwrap().into()
        ]
    );
    assert_eq!(conversations[0]["last_seq"], 0);
    assert_eq!(conversations[0]["last_read_seq"], 0);
    assert_eq!(conversations[0]["unread_count"], 0);
    assert_eq!(conversations[0]["members"].as_array().unwrap().len(), 2);
    let cooks = app
        .get(&format!("/api/dms?workspace_id={}", app.workspace_id))
        .token(&cook.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(cooks.body["conversations"].as_array().unwrap().len(), 2);
    let empty = app
        .get(&format!("/api/dms?workspace_id={}", app.workspace_id))
        .token(&app.outsider.token)
        .send()
        .await;
    empty.expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn create_and_list_reject_bad_input() {
    let app = TestApp::new().await;
    let post = |body: Value| app.post("/api/dms").token(&app.owner.token).json(body);
    post(json!({"workspace_id": app.workspace_id, "member_ids": ["", " "]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "too_few_members");
    let res = post(json!({"workspace_id": app.workspace_id, "member_ids": [app.owner.id]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "too_few_members");
    assert_eq!(
        res.body["error"],
        "direct conversation needs at least two members"
    );
    post(json!({"workspace_id": app.workspace_id, "member_ids": [app.outsider.id]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "not_a_member");
    let many: Vec<String> = (0..16).map(|i| format!("usr_{i}")).collect();
    post(json!({"workspace_id": app.workspace_id, "member_ids": many}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "too_many_members");
    post(json!({"member_ids": [app.member.id]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "workspace_id_required");
    app.post("/api/dms")
        .token(&app.outsider.token)
        .json(json!({"workspace_id": app.workspace_id, "member_ids": [app.member.id]}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post("/api/dms")
        .token(&app.owner.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post("/api/dms")
        .token(&app.owner.token)
        .json(json!({"workspace_id": app.workspace_id, "member_ids": "nope"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.get("/api/dms")
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "workspace_id_required");
}

#[tokio::test]
async fn get_close_and_open_a_conversation() {
    let app = TestApp::new().await;
    let cook = third_member(&app).await;
    let dm = create_dm(&app, &app.owner, &[&app.member.id], StatusCode::CREATED).await;
    let id = dm["id"].as_str().unwrap();
    let path = format!("/api/dms/{id}");
    let list_path = format!("/api/dms?workspace_id={}", app.workspace_id);
    let got = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(got.body["conversation"]["id"], id);
    assert_eq!(got.body["conversation"]["members"], dm["members"]);

    let closed = app
        .delete(&path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(closed.body["closed"], true);
    assert_eq!(closed.body["conversation"]["id"], id);
    let owner_list = app
        .get(&list_path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(owner_list.body["conversations"], json!([]));
    let member_list = app
        .get(&list_path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        ids(&member_list.body["conversations"]),
        vec![id.to_string()]
    );
    let still = app
        .get(&path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        still.body["conversation"]["id"], id,
        "direct access while closed"
    );

    let opened = app
        .post(&format!("{path}/open"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(opened.body["conversation"]["id"], id);
    let owner_list = app
        .get(&list_path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&owner_list.body["conversations"]), vec![id.to_string()]);

    app.delete(&path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    app.post(&format!("{path}/messages"))
        .token(&app.member.token)
        .json(json!({"body": "ping"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let owner_list = app
        .get(&list_path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        ids(&owner_list.body["conversations"]),
        vec![id.to_string()],
        "a new message reopens it"
    );
    assert_eq!(owner_list.body["conversations"][0]["unread_count"], 1);
    assert_eq!(owner_list.body["conversations"][0]["last_seq"], 1);

    for who in [&cook, &app.outsider] {
        app.get(&path)
            .token(&who.token)
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.delete(&path)
            .token(&who.token)
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.post(&format!("{path}/open"))
            .token(&who.token)
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    app.get("/api/dms/dm_missing")
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn post_and_page_dm_messages() {
    let app = TestApp::new().await;
    let dm = create_dm(&app, &app.owner, &[&app.member.id], StatusCode::CREATED).await;
    let id = dm["id"].as_str().unwrap();
    let path = format!("/api/dms/{id}/messages");
    let res = app
        .post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "  hello mate ", "nonce": "dm-n1"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let m = &res.body["message"];
    assert_eq!(m["body"], "hello mate");
    assert_eq!(m["direct_conversation_id"], id);
    assert!(m.get("channel_id").is_none());
    assert_eq!(m["channel_seq"], 1);
    assert_eq!(m["thread_root_id"], m["id"]);
    assert_eq!(m["thread_state"]["reply_count"], 0);
    assert_eq!(m["author"]["id"], app.owner.id.as_str());
    let ev = &res.body["event"];
    assert_eq!(ev["type"], "message.created");
    assert!(ev.get("channel_id").is_none());
    assert_eq!(ev["seq"], 1);
    assert_eq!(
        ev["payload"],
        json!({
            "message_id": m["id"],
            "direct_conversation_id": id,
            "author_id": app.owner.id,
            "nonce": "dm-n1",
        })
    );
    let replay = app
        .post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "hello mate", "nonce": "dm-n1"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(replay.body["message"]["id"], m["id"]);
    assert_eq!(replay.body["event"]["cursor"], ev["cursor"]);

    let quoted = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"body": "quoting", "quoted_message_id": m["id"]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(quoted.body["message"]["channel_seq"], 2);
    assert_eq!(quoted.body["message"]["quoted_message_id"], m["id"]);
    let channel_msg = app.send(&app.owner, "public").await;
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "x", "quoted_message_id": channel_msg["id"]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_quote");
    app.post(&format!("/api/channels/{}/messages", app.general_id))
        .token(&app.owner.token)
        .json(json!({"body": "x", "quoted_message_id": m["id"]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_quote");

    for i in 3..=6 {
        app.post(&path)
            .token(&app.owner.token)
            .json(json!({"body": format!("m{i}")}))
            .send()
            .await
            .expect(StatusCode::CREATED);
    }
    let page = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(page.body["messages"].as_array().unwrap().len(), 6);
    assert_eq!(page.body["oldest_seq"], 1);
    assert_eq!(page.body["newest_seq"], 6);
    assert_eq!(page.body["has_older"], false);
    assert_eq!(page.body["has_newer"], false);
    let window = app
        .get(&format!("{path}?before_seq=5&limit=2"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let seqs: Vec<_> = window.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["channel_seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![3, 4]);
    assert_eq!(window.body["has_older"], true);
    assert_eq!(window.body["has_newer"], true);
    let around = app
        .get(&format!("{path}?around_seq=6&limit=3&mode="))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(around.body["newest_seq"], 6);
    assert_eq!(around.body["oldest_seq"], 4);
    app.get(&format!("{path}?mode=latest"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    app.get(&format!("{path}?after_seq=1&around_seq=2"))
        .token(&app.member.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_page_request");
    app.get(&format!("{path}?limit=abc"))
        .token(&app.member.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_query");

    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "   "}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "body_required");
    app.post(&path)
        .token(&app.owner.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post("/api/dms/dm_missing/messages")
        .token(&app.owner.token)
        .json(json!({"body": "x"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/dms/dm_missing/messages")
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

/// The privacy rule that matters most: a workspace member outside a DM cannot reach it by
/// any route, and never sees its events.
#[tokio::test]
async fn workspace_members_outside_a_dm_cannot_see_it_anywhere() {
    let app = TestApp::new().await;
    let cook = third_member(&app).await;
    let dm = create_dm(&app, &app.owner, &[&app.member.id], StatusCode::CREATED).await;
    let id = dm["id"].as_str().unwrap();
    let sent = app
        .post(&format!("/api/dms/{id}/messages"))
        .token(&app.owner.token)
        .json(json!({"body": "secret plans"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let msg_id = sent.body["message"]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/dms/{id}/read"))
        .token(&app.member.token)
        .json(json!({"seq": 1}))
        .send()
        .await
        .expect(StatusCode::OK);

    for who in [&cook, &app.outsider] {
        app.get(&format!("/api/dms/{id}"))
            .token(&who.token)
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.get(&format!("/api/dms/{id}/messages"))
            .token(&who.token)
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.post(&format!("/api/dms/{id}/messages"))
            .token(&who.token)
            .json(json!({"body": "let me in"}))
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.post(&format!("/api/dms/{id}/read"))
            .token(&who.token)
            .json(json!({"seq": 1}))
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.get(&format!("/api/messages/{msg_id}"))
            .token(&who.token)
            .send()
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    let cooks_list = app
        .get(&format!("/api/dms?workspace_id={}", app.workspace_id))
        .token(&cook.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(cooks_list.body["conversations"], json!([]));

    let events_path = format!("/api/realtime/events?workspace_id={}", app.workspace_id);
    let events_of = |who: &Person| app.get(&events_path).token(&who.token).send();
    let cooks = events_of(&cook).await.expect(StatusCode::OK);
    let text = cooks.body["events"].to_string();
    assert!(!text.contains(id), "no event mentions the DM: {text}");
    assert!(!text.contains(&msg_id));
    assert!(cooks.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["type"] != "message.created" && e["type"] != "dm.read"));
    let members = events_of(&app.member).await.expect(StatusCode::OK);
    let types: Vec<_> = members.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert!(types.contains(&"message.created".to_string()));
    assert!(types.contains(&"dm.read".to_string()), "{types:?}");
    let owners = events_of(&app.owner).await.expect(StatusCode::OK);
    let owner_text = owners.body["events"].to_string();
    assert!(
        owner_text.contains(&msg_id),
        "the other member sees the message"
    );
    assert!(
        !owner_text.contains("dm.read"),
        "read events go to the reader only"
    );
    let tail = app
        .get(&format!("{events_path}&include_tail=true&limit=1"))
        .token(&cook.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let cook_tail = tail.body["tail_cursor"].as_str().unwrap().to_string();
    let latest_cook_event = cooks.body["events"]
        .as_array()
        .unwrap()
        .last()
        .map(|e| e["cursor"].as_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(
        cook_tail, latest_cook_event,
        "the tail skips private events"
    );
}
