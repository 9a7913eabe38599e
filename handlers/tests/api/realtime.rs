use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn pull_returns_events_after_a_cursor_with_tail_and_epoch() {
    let app = TestApp::new().await;
    let first = app.send(&app.owner, "one").await;
    let path = format!("/api/realtime/events?workspace_id={}", app.workspace_id);
    let all = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let events = all.body["events"].as_array().unwrap();
    assert_eq!(events.first().unwrap()["type"], "channel.created");
    assert_eq!(events.last().unwrap()["payload"]["message_id"], first["id"]);
    assert_eq!(all.body["epoch"], app.chat.store().epoch());
    assert_eq!(all.body["ephemeral"], json!([]));
    let cursor = events.last().unwrap()["cursor"]
        .as_str()
        .unwrap()
        .to_string();

    app.send(&app.owner, "two").await;
    let after = app
        .get(&format!("{path}&after_cursor={cursor}&include_tail=true"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let events = after.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(after.body["tail_cursor"], events[0]["cursor"]);

    let limited = app
        .get(&format!("{path}&limit=1"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(limited.body["events"].as_array().unwrap().len(), 1);
    app.get("/api/realtime/events")
        .token(&app.member.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "workspace_id_required");
    app.get(&path)
        .token(&app.outsider.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_cursor_from_another_epoch_requires_resync() {
    let app = TestApp::new().await;
    let path = format!(
        "/api/realtime/events?workspace_id={}&after_cursor=cur_zzzzzzzzzz_0000000000000001",
        app.workspace_id
    );
    let res = app
        .get(&path)
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "resync_required");
    assert_eq!(res.body["epoch"], app.chat.store().epoch());
}

#[tokio::test]
async fn long_poll_returns_as_soon_as_an_event_exists() {
    let app = TestApp::new().await;
    let tail = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}&include_tail=true&limit=1",
            app.workspace_id
        ))
        .token(&app.owner.token)
        .send()
        .await;
    let cursor = tail.body["tail_cursor"].as_str().unwrap().to_string();
    let path = format!(
        "/api/realtime/events?workspace_id={}&after_cursor={cursor}&wait=10",
        app.workspace_id
    );
    let waiting = app.get(&path).token(&app.member.token);
    let started = Instant::now();
    let poll = tokio::spawn(async move {
        let res = waiting.send().await;
        (res, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.send(&app.owner, "wake up").await;
    let posted = Instant::now();
    let (res, returned) = poll.await.unwrap();
    let res = res.expect(StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "returned early, not at the deadline"
    );
    // The commit wakes the poll before the post's own response is even written.
    let late = returned.saturating_duration_since(posted);
    assert!(
        late < Duration::from_millis(50),
        "long-poll woke {late:?} after the post returned"
    );
    assert_eq!(res.body["events"][0]["type"], "message.created");

    let empty = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}&after_cursor={}&wait=1",
            app.workspace_id,
            res.body["events"][0]["cursor"].as_str().unwrap()
        ))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(empty.body["events"], json!([]));
}

#[tokio::test]
async fn ephemeral_events_reach_pollers_and_wake_long_polls() {
    let app = TestApp::new().await;
    let tail = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}&include_tail=true&limit=1",
            app.workspace_id
        ))
        .token(&app.member.token)
        .send()
        .await;
    let cursor = tail.body["tail_cursor"].as_str().unwrap().to_string();
    let waiting = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}&after_cursor={cursor}&wait=10",
            app.workspace_id
        ))
        .token(&app.member.token);
    let started = Instant::now();
    let poll = tokio::spawn(waiting.send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = app
        .post("/api/realtime/ephemeral")
        .token(&app.owner.token)
        .json(json!({"workspace_id": app.workspace_id, "channel_id": app.general_id, "type": "typing.started", "payload": {"user_id": "usr_spoofed"}}))
        .send()
        .await
        .expect(StatusCode::ACCEPTED);
    let event = &res.body["event"];
    assert_eq!(event["cursor"], "");
    assert_eq!(event["type"], "typing.started");
    assert!(event["id"].as_str().unwrap().starts_with("eph_"));
    assert_eq!(
        event["payload"]["user_id"],
        app.owner.id.as_str(),
        "server sets the sender"
    );
    let woke = poll.await.unwrap().expect(StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        woke.body["events"],
        json!([]),
        "ephemeral events never enter the durable list"
    );
    assert_eq!(woke.body["ephemeral"][0]["id"], event["id"]);
}

#[tokio::test]
async fn ephemeral_rules() {
    let app = TestApp::new().await;
    let post = |body: serde_json::Value, token: &str| {
        app.post("/api/realtime/ephemeral").token(token).json(body)
    };
    post(
        json!({"workspace_id": app.workspace_id, "type": "bad"}),
        &app.owner.token,
    )
    .send()
    .await
    .expect_error(StatusCode::BAD_REQUEST, "unsupported_ephemeral_type");
    post(
        json!({"workspace_id": app.workspace_id, "type": "typing.started"}),
        &app.outsider.token,
    )
    .send()
    .await
    .expect_error(StatusCode::FORBIDDEN, "not_a_member");
    post(json!({"workspace_id": app.workspace_id, "type": "typing.started", "channel_id": "chn_nope"}), &app.owner.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    post(json!({"workspace_id": app.workspace_id, "type": "agent.progress", "target_user_id": app.member.id}), &app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "bot_only");
    post(json!({"workspace_id": app.workspace_id, "type": "presence.changed", "payload": {"status": "afk"}}), &app.owner.token)
        .send()
        .await
        .expect(StatusCode::ACCEPTED);
    post(
        json!({"workspace_id": app.workspace_id, "type": "presence.changed", "payload": [1]}),
        &app.owner.token,
    )
    .send()
    .await
    .expect_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post("/api/realtime/ephemeral")
        .token(&app.owner.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");

    // DM typing reaches only conversation members.
    let third = app
        .chat
        .admin_create_user("Third", "third@example.com", Some(&app.workspace_id))
        .await
        .unwrap();
    let third_token = app.chat.create_session(&third.id).await.unwrap().token;
    let dm = app
        .post("/api/dms")
        .token(&app.owner.token)
        .json(json!({"workspace_id": app.workspace_id, "member_ids": [app.member.id]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let dm_id = dm.body["conversation"]["id"].as_str().unwrap().to_string();
    post(json!({"workspace_id": app.workspace_id, "direct_conversation_id": dm_id, "type": "typing.started"}), &third_token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    post(json!({"workspace_id": app.workspace_id, "direct_conversation_id": dm_id, "type": "typing.started"}), &app.owner.token)
        .send()
        .await
        .expect(StatusCode::ACCEPTED);
    let path = format!("/api/realtime/events?workspace_id={}", app.workspace_id);
    let member_view = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let third_view = app
        .get(&path)
        .token(&third_token)
        .send()
        .await
        .expect(StatusCode::OK);
    let has_dm_typing = |body: &serde_json::Value| {
        body["ephemeral"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["payload"]["direct_conversation_id"] == dm_id.as_str())
    };
    assert!(has_dm_typing(&member_view.body));
    assert!(!has_dm_typing(&third_view.body));
}
