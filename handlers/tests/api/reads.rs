use crate::dms::{create_dm, third_member};
use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn channel_read_receipts_are_capped_monotonic_and_clear_unread() {
    let app = TestApp::new().await;
    for i in 1..=3 {
        app.send(&app.owner, &format!("m{i}")).await;
    }
    let channels_path = format!("/api/workspaces/{}/channels", app.workspace_id);
    let general = |body: &serde_json::Value| {
        body["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == app.general_id.as_str())
            .unwrap()
            .clone()
    };
    let before = app
        .get(&channels_path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let g = general(&before.body);
    assert_eq!(
        (g["last_seq"].clone(), g["unread_count"].clone()),
        (json!(3), json!(3))
    );

    let path = format!("/api/channels/{}/read", app.general_id);
    let res = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"seq": 2}))
        .send()
        .await
        .expect(StatusCode::OK);
    let receipt = &res.body["receipt"];
    assert_eq!(receipt["scope_id"], app.general_id.as_str());
    assert_eq!(receipt["user_id"], app.member.id.as_str());
    assert_eq!(receipt["last_read_seq"], 2);
    assert!(receipt["last_read_at"].as_str().unwrap().ends_with('Z'));
    let after = app
        .get(&channels_path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let g = general(&after.body);
    assert_eq!(g["last_read_seq"], 2);
    assert_eq!(g["unread_count"], 1);

    let back = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"seq": 0}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(back.body["receipt"]["last_read_seq"], 2, "monotonic");
    assert_eq!(
        back.body["receipt"]["last_read_at"],
        receipt["last_read_at"]
    );
    let capped = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"seq": 1000}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(capped.body["receipt"]["last_read_seq"], 3, "capped");
    let done = app
        .get(&channels_path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(general(&done.body)["unread_count"], 0);

    let events = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}",
            app.workspace_id
        ))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let reads: Vec<_> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "channel.read")
        .cloned()
        .collect();
    assert_eq!(reads.len(), 2, "one event per advance: {reads:?}");
    assert_eq!(reads[0]["channel_id"], app.general_id.as_str());
    assert_eq!(reads[0]["seq"], 2);
    assert_eq!(
        reads[0]["payload"],
        json!({"channel_id": app.general_id, "user_id": app.member.id})
    );
    assert_eq!(reads[1]["seq"], 3);
    let owners = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}",
            app.workspace_id
        ))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(
        !owners.body["events"].to_string().contains("channel.read"),
        "private to the reader"
    );
}

#[tokio::test]
async fn channel_read_rejects_bad_input_and_strangers() {
    let app = TestApp::new().await;
    let path = format!("/api/channels/{}/read", app.general_id);
    app.post(&path)
        .token(&app.member.token)
        .json(json!({"seq": -1}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_seq");
    app.post(&path)
        .token(&app.member.token)
        .json(json!({}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_seq");
    app.post(&path)
        .token(&app.member.token)
        .json(json!({"seq": "two"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&path)
        .token(&app.member.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&path)
        .token(&app.outsider.token)
        .json(json!({"seq": 1}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post("/api/channels/chn_missing/read")
        .token(&app.owner.token)
        .json(json!({"seq": 1}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let zero = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"seq": 0}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(zero.body["receipt"]["last_read_seq"], 0);
}

#[tokio::test]
async fn dm_read_receipts_update_the_list_and_stay_private() {
    let app = TestApp::new().await;
    let cook = third_member(&app).await;
    let dm = create_dm(&app, &app.owner, &[&app.member.id], StatusCode::CREATED).await;
    let id = dm["id"].as_str().unwrap();
    for i in 1..=3 {
        app.post(&format!("/api/dms/{id}/messages"))
            .token(&app.owner.token)
            .json(json!({"body": format!("d{i}")}))
            .send()
            .await
            .expect(StatusCode::CREATED);
    }
    let list_path = format!("/api/dms?workspace_id={}", app.workspace_id);
    let listed = app
        .get(&list_path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let c = &listed.body["conversations"][0];
    assert_eq!(
        (c["last_seq"].clone(), c["last_read_seq"].clone()),
        (json!(3), json!(0))
    );
    assert_eq!(c["unread_count"], 3);

    let path = format!("/api/dms/{id}/read");
    let res = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"seq": 2}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["receipt"]["scope_id"], id);
    assert_eq!(res.body["receipt"]["user_id"], app.member.id.as_str());
    assert_eq!(res.body["receipt"]["last_read_seq"], 2);
    let listed = app
        .get(&list_path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed.body["conversations"][0]["unread_count"], 1);
    assert_eq!(listed.body["conversations"][0]["last_read_seq"], 2);
    let back = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"seq": 1}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(back.body["receipt"]["last_read_seq"], 2);
    let capped = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"seq": 99}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(capped.body["receipt"]["last_read_seq"], 3);

    let events = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}",
            app.workspace_id
        ))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let reads: Vec<_> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "dm.read")
        .cloned()
        .collect();
    assert_eq!(reads.len(), 2);
    assert!(reads[0].get("channel_id").is_none());
    assert_eq!(reads[0]["seq"], 2);
    assert_eq!(
        reads[0]["payload"],
        json!({"direct_conversation_id": id, "user_id": app.member.id})
    );
    for who in [&app.owner, &cook] {
        let theirs = app
            .get(&format!(
                "/api/realtime/events?workspace_id={}",
                app.workspace_id
            ))
            .token(&who.token)
            .send()
            .await
            .expect(StatusCode::OK);
        assert!(!theirs.body["events"].to_string().contains("dm.read"));
    }

    app.post(&path)
        .token(&app.member.token)
        .json(json!({"seq": -3}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_seq");
    app.post(&path)
        .token(&app.member.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&path)
        .token(&cook.token)
        .json(json!({"seq": 1}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post("/api/dms/dm_missing/read")
        .token(&app.owner.token)
        .json(json!({"seq": 1}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}
