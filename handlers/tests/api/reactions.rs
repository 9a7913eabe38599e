use crate::threads::{bystander, dm_root};
use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;

/// `👍` percent-encoded for a path segment.
const THUMBS: &str = "%F0%9F%91%8D";

#[tokio::test]
async fn add_and_remove_reactions_with_no_op_answers() {
    let app = TestApp::new().await;
    let m = app.send(&app.owner, "react here").await;
    let id = m["id"].as_str().unwrap();
    let path = format!("/api/messages/{id}/reactions");

    let res = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"emoji": " 👍 "}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let ev = &res.body["event"];
    assert_eq!(ev["type"], "reaction.added");
    assert_eq!(ev["channel_id"], app.general_id.as_str());
    assert_eq!(ev["seq"], m["channel_seq"]);
    assert_eq!(
        ev["payload"],
        json!({"message_id": id, "emoji": "👍", "user_id": app.member.id})
    );
    assert_eq!(
        res.body["reactions"],
        json!([{"emoji": "👍", "count": 1, "reacted_by_me": true}])
    );

    let again = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"emoji": "👍"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(again.body["event"].is_null());
    assert_eq!(again.body["reactions"], res.body["reactions"]);

    let owner_add = app
        .post(&path)
        .token(&app.owner.token)
        .json(json!({"emoji": "👍"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        owner_add.body["reactions"],
        json!([{"emoji": "👍", "count": 2, "reacted_by_me": true}])
    );

    let removed = app
        .delete(&format!("{path}/{THUMBS}"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(removed.body["event"]["type"], "reaction.removed");
    assert_eq!(removed.body["event"]["payload"]["emoji"], "👍");
    assert_eq!(
        removed.body["reactions"],
        json!([{"emoji": "👍", "count": 1, "reacted_by_me": false}])
    );
    let missing = app
        .delete(&format!("{path}/{THUMBS}"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(missing.body["event"].is_null());

    let named = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"emoji": ":lobster:"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(named.body["reactions"][1]["emoji"], ":lobster:");
    app.delete(&format!("{path}/%3Alobster%3A"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let read = app
        .get(&format!("/api/messages/{id}"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        read.body["message"]["reactions"],
        json!([{"emoji": "👍", "count": 1, "reacted_by_me": false}])
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
    let kinds: Vec<&str> = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .filter(|k| k.starts_with("reaction."))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "reaction.added",
            "reaction.added",
            "reaction.removed",
            "reaction.added",
            "reaction.removed"
        ],
        "no-ops emit nothing"
    );
}

#[tokio::test]
async fn reaction_errors_have_specific_codes() {
    let app = TestApp::new().await;
    let m = app.send(&app.owner, "target").await;
    let id = m["id"].as_str().unwrap();
    let path = format!("/api/messages/{id}/reactions");

    app.post(&path)
        .token(&app.outsider.token)
        .json(json!({"emoji": "👍"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&format!("{path}/{THUMBS}"))
        .token(&app.outsider.token)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post("/api/messages/msg_missing/reactions")
        .token(&app.owner.token)
        .json(json!({"emoji": "👍"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&path)
        .token(&app.owner.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "emoji_required");
    for emoji in ["two words", &"x".repeat(65)] {
        app.post(&path)
            .token(&app.owner.token)
            .json(json!({"emoji": emoji}))
            .send()
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_emoji");
    }
    app.delete(&format!("{path}/%20"))
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "emoji_required");

    app.delete(&format!("/api/messages/{id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"emoji": "👍"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "message_deleted");
}

#[tokio::test]
async fn dm_reactions_are_for_members_only() {
    let app = TestApp::new().await;
    let other = bystander(&app).await;
    let (root_id, _) = dm_root(&app, &[&app.owner, &app.member], "secret").await;
    let path = format!("/api/messages/{root_id}/reactions");
    app.post(&path)
        .token(&other.token)
        .json(json!({"emoji": "👀"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let res = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({"emoji": "👀"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert!(res.body["event"].get("channel_id").is_none());
    let log = app
        .get(&format!(
            "/api/realtime/events?workspace_id={}",
            app.workspace_id
        ))
        .token(&other.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(!log.text.contains("reaction.added"), "{}", log.text);
}
