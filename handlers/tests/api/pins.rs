use crate::threads::dm_root;
use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn pin_list_and_unpin_messages() {
    let app = TestApp::new().await;
    let path = format!("/api/channels/{}/pins", app.general_id);
    let empty = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(empty.body, json!({"pins": []}));

    let first = app.send(&app.owner, "first").await;
    let second = app.send(&app.owner, "second").await;
    let reply = app
        .post(&format!(
            "/api/messages/{}/thread/replies",
            first["id"].as_str().unwrap()
        ))
        .token(&app.owner.token)
        .json(json!({"body": "in a thread"}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body["message"]
        .clone();

    let res = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"message_id": first["id"]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let ev = &res.body["event"];
    assert_eq!(ev["type"], "pin.added");
    assert_eq!(ev["channel_id"], app.general_id.as_str());
    assert_eq!(
        ev["payload"],
        json!({"channel_id": app.general_id, "message_id": first["id"], "pinned_by": app.member.id})
    );
    assert!(ev["cursor"].as_str().unwrap().starts_with("cur_"));
    for m in [&second, &reply] {
        app.post(&path)
            .token(&app.owner.token)
            .json(json!({"message_id": m["id"]}))
            .send()
            .await
            .expect(StatusCode::CREATED);
    }

    let list = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let pins = list.body["pins"].as_array().unwrap();
    let ids: Vec<_> = pins.iter().map(|p| p["id"].clone()).collect();
    assert_eq!(
        ids,
        vec![
            reply["id"].clone(),
            second["id"].clone(),
            first["id"].clone()
        ]
    );
    assert_eq!(pins[2]["body"], "first");
    assert_eq!(pins[2]["author"]["display_name"], "Local Captain");
    assert_eq!(pins[2]["thread_state"]["reply_count"], 1);
    assert_eq!(pins[0]["parent_message_id"], first["id"]);

    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"message_id": first["id"]}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "already_pinned");

    let removed = app
        .delete(&format!("{path}/{}", first["id"].as_str().unwrap()))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(removed.body["event"]["type"], "pin.removed");
    assert_eq!(removed.body["event"]["channel_id"], app.general_id.as_str());
    assert_eq!(removed.body["event"]["payload"]["message_id"], first["id"]);
    assert_eq!(
        removed.body["event"]["payload"]["pinned_by"],
        app.member.id.as_str()
    );
    app.delete(&format!("{path}/{}", first["id"].as_str().unwrap()))
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    app.delete(&format!("/api/messages/{}", second["id"].as_str().unwrap()))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let list = app
        .get(&path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let ids: Vec<_> = list.body["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![reply["id"].clone()],
        "deleting a message unpins it"
    );
}

#[tokio::test]
async fn pin_errors_have_specific_codes() {
    let app = TestApp::new().await;
    let path = format!("/api/channels/{}/pins", app.general_id);
    let m = app.send(&app.owner, "pin me").await;
    let other = app
        .post(&format!("/api/workspaces/{}/channels", app.workspace_id))
        .token(&app.owner.token)
        .json(json!({"name": "other"}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body["channel"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (dm_message, _) = dm_root(&app, &[&app.owner, &app.member], "dm").await;

    app.get(&path)
        .token(&app.outsider.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&path)
        .token(&app.outsider.token)
        .json(json!({"message_id": m["id"]}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&format!("{path}/{}", m["id"].as_str().unwrap()))
        .token(&app.outsider.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/channels/chn_missing/pins")
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&path)
        .token(&app.owner.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    for body in [
        json!({}),
        json!({"message_id": "msg_missing"}),
        json!({"message_id": dm_message}),
    ] {
        app.post(&path)
            .token(&app.owner.token)
            .json(body)
            .send()
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_pin");
    }
    app.post(&format!("/api/channels/{other}/pins"))
        .token(&app.owner.token)
        .json(json!({"message_id": m["id"]}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_pin");
    let other_list = app
        .get(&format!("/api/channels/{other}/pins"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(other_list.body["pins"], json!([]));
}

#[tokio::test]
async fn the_hundred_and_first_pin_is_refused() {
    let app = TestApp::new().await;
    let path = format!("/api/channels/{}/pins", app.general_id);
    let mut ids = Vec::new();
    for i in 0..=100 {
        ids.push(app.send(&app.owner, &format!("m{i}")).await["id"].clone());
    }
    for id in &ids[..100] {
        app.post(&path)
            .token(&app.owner.token)
            .json(json!({"message_id": id}))
            .send()
            .await
            .expect(StatusCode::CREATED);
    }
    app.post(&path)
        .token(&app.member.token)
        .json(json!({"message_id": ids[100]}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "pin_limit");
    let list = app
        .get(&path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(list.body["pins"].as_array().unwrap().len(), 100);
}
