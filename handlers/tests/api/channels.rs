use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn channels_create_list_and_owner_only_patch() {
    let app = TestApp::new().await;
    let path = format!("/api/workspaces/{}/channels", app.workspace_id);
    let res = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"name": "Store Room"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(res.body["channel"]["name"], "store-room");
    assert_eq!(res.body["channel"]["kind"], "public");
    assert_eq!(res.body["event"]["type"], "channel.created");
    let id = res.body["channel"]["id"].as_str().unwrap().to_string();
    app.post(&path)
        .token(&app.member.token)
        .json(json!({"name": "store room"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "channel_name_taken");
    app.post(&path)
        .token(&app.outsider.token)
        .json(json!({"name": "sneaky"}))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);

    let list = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let names: Vec<_> = list.body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("general"), json!("store-room")]);
    assert_eq!(list.body["channels"][0]["unread_count"], 0);

    let patch = format!("/api/channels/{id}");
    app.patch(&patch)
        .token(&app.member.token)
        .json(json!({"name": "dock"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "owner_required");
    let res = app
        .patch(&patch)
        .token(&app.owner.token)
        .json(json!({"name": "dock", "archived": true}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["channel"]["name"], "dock");
    assert!(res.body["channel"]["archived_at"].as_str().is_some());
    assert_eq!(res.body["event"]["type"], "channel.updated");
    app.post(&format!("/api/channels/{id}/messages"))
        .token(&app.owner.token)
        .json(json!({"body": "into the archive"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "channel_archived");
    let res = app
        .patch(&patch)
        .token(&app.owner.token)
        .json(json!({"archived": false}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(res.body["channel"].get("archived_at").is_none());
    app.patch("/api/channels/chn_missing")
        .token(&app.owner.token)
        .json(json!({"name": "x"}))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    app.patch(&patch)
        .token(&app.owner.token)
        .json(json!({"kind": "secret"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_kind");
}

#[tokio::test]
async fn unread_counts_follow_other_peoples_messages() {
    let app = TestApp::new().await;
    app.send(&app.owner, "one").await;
    app.send(&app.owner, "two").await;
    app.send(&app.member, "mine").await;
    let list = app
        .get(&format!("/api/workspaces/{}/channels", app.workspace_id))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let general = &list.body["channels"][0];
    assert_eq!(general["last_seq"], 3);
    assert_eq!(general["last_read_seq"], 0);
    assert_eq!(general["unread_count"], 2);
}
