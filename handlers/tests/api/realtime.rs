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
    let poll = tokio::spawn(waiting.send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.send(&app.owner, "wake up").await;
    let res = poll.await.unwrap().expect(StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "returned early, not at the deadline"
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
