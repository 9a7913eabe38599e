use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn post_list_get_edit_delete_a_channel_message() {
    let app = TestApp::new().await;
    let path = format!("/api/channels/{}/messages", app.general_id);
    let res = app
        .post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "  findable **lobster**  "}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let m = &res.body["message"];
    assert_eq!(m["body"], "findable **lobster**");
    assert_eq!(m["body_format"], "markdown");
    assert_eq!(m["channel_seq"], 1);
    assert_eq!(m["thread_root_id"], m["id"]);
    assert_eq!(m["author"]["display_name"], "Local Captain");
    assert_eq!(m["reactions"], json!([]));
    assert_eq!(m["thread_state"]["reply_count"], 0);
    assert!(m.get("thread_seq").is_none() && m.get("deleted_at").is_none());
    let ev = &res.body["event"];
    assert_eq!(ev["type"], "message.created");
    assert_eq!(ev["seq"], 1);
    assert_eq!(ev["channel_id"], app.general_id.as_str());
    assert_eq!(ev["payload"]["message_id"], m["id"]);
    assert!(ev["cursor"].as_str().unwrap().starts_with("cur_"));
    let id = m["id"].as_str().unwrap().to_string();

    let page = app
        .get(&path)
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(page.body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["oldest_seq"], 1);
    assert_eq!(page.body["has_older"], false);
    let one = app
        .get(&format!("/api/messages/{id}"))
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(one.body["message"]["id"], id.as_str());
    app.get(&format!("/api/messages/{id}"))
        .token(&app.outsider.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    app.get(&path)
        .token(&app.outsider.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);

    app.patch(&format!("/api/messages/{id}"))
        .token(&app.member.token)
        .json(json!({"body": "mine now"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "author_required");
    app.patch(&format!("/api/messages/{id}"))
        .token(&app.owner.token)
        .json(json!({"body": "  "}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "body_required");
    let edited = app
        .patch(&format!("/api/messages/{id}"))
        .token(&app.owner.token)
        .json(json!({"body": "edited"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(edited.body["message"]["body"], "edited");
    assert!(edited.body["message"]["edited_at"].is_string());
    assert_eq!(edited.body["event"]["type"], "message.updated");
    assert_eq!(
        edited.body["event"]["payload"]["root_message_id"],
        id.as_str()
    );

    let deleted = app
        .delete(&format!("/api/messages/{id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(deleted.body["message"]["body"], "");
    assert!(deleted.body["message"]["deleted_at"].is_string());
    assert_eq!(deleted.body["event"]["type"], "message.deleted");
    let again = app
        .delete(&format!("/api/messages/{id}"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(again.body["event"].is_null());
    app.patch(&format!("/api/messages/{id}"))
        .token(&app.owner.token)
        .json(json!({"body": "resurrect"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "message_deleted");
    app.delete("/api/messages/msg_missing")
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    app.post("/api/channels/chn_missing/messages")
        .token(&app.owner.token)
        .json(json!({"body": "x"}))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn owners_may_delete_members_channel_messages() {
    let app = TestApp::new().await;
    let m = app.send(&app.member, "oops").await;
    let res = app
        .delete(&format!("/api/messages/{}", m["id"].as_str().unwrap()))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(res.body["message"]["deleted_at"].is_string());
}

#[tokio::test]
async fn nonce_replays_are_200_and_lookups_work() {
    let app = TestApp::new().await;
    let path = format!("/api/channels/{}/messages", app.general_id);
    let first = app
        .post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "once", "nonce": "abc"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let again = app
        .post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "once", "nonce": "abc"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(first.body["message"]["id"], again.body["message"]["id"]);
    assert_eq!(first.body["event"]["cursor"], again.body["event"]["cursor"]);
    assert_eq!(first.body["event"]["payload"]["nonce"], "abc");
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "different", "nonce": "abc"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "nonce_conflict");
    let found = app
        .get(&format!(
            "/api/messages/by-nonce?workspace_id={}&nonce=abc",
            app.workspace_id
        ))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.body["message"]["id"], first.body["message"]["id"]);
    assert_eq!(found.headers["x-clickclack-message-nonce"], "supported");
    app.get(&format!(
        "/api/messages/by-nonce?workspace_id={}&nonce=abc",
        app.workspace_id
    ))
    .token(&app.member.token)
    .send()
    .await
    .expect(StatusCode::NOT_FOUND);
    app.post(&path)
        .token(&app.owner.token)
        .json(json!({"body": "x", "nonce": "n".repeat(129)}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_nonce");
}

#[tokio::test]
async fn quotes_capture_a_snapshot_and_stay_in_scope() {
    let app = TestApp::new().await;
    let original = app.send(&app.member, &"q".repeat(300)).await;
    let res = app
        .post(&format!("/api/channels/{}/messages", app.general_id))
        .token(&app.owner.token)
        .json(json!({"body": "replying", "quoted_message_id": original["id"]}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let m = &res.body["message"];
    assert_eq!(m["quoted_message_id"], original["id"]);
    assert_eq!(
        m["quoted_body_snapshot"].as_str().unwrap().chars().count(),
        280
    );
    assert_eq!(m["quoted_author"]["id"], app.member.id.as_str());
    let other = app
        .post(&format!("/api/workspaces/{}/channels", app.workspace_id))
        .token(&app.owner.token)
        .json(json!({"name": "other"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    app.post(&format!(
        "/api/channels/{}/messages",
        other.body["channel"]["id"].as_str().unwrap()
    ))
    .token(&app.owner.token)
    .json(json!({"body": "cross", "quoted_message_id": original["id"]}))
    .send()
    .await
    .expect_error(StatusCode::BAD_REQUEST, "invalid_quote");
}

#[tokio::test]
async fn paging_parameters_are_validated() {
    let app = TestApp::new().await;
    for i in 0..5 {
        app.send(&app.owner, &format!("m{i}")).await;
    }
    let path = format!("/api/channels/{}/messages", app.general_id);
    let res = app
        .get(&format!("{path}?before_seq=4&limit=2"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    let seqs: Vec<_> = res.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["channel_seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(res.body["has_older"], true);
    assert_eq!(res.body["has_newer"], true);
    let res = app
        .get(&format!("{path}?after_seq=0&limit=500"))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        res.body["messages"].as_array().unwrap().len(),
        5,
        "limit clamps, not resets"
    );
    for bad in [
        "before_seq=1&after_seq=2",
        "before_seq=-1",
        "mode=oldest",
        "mode=latest&after_seq=1",
    ] {
        app.get(&format!("{path}?{bad}"))
            .token(&app.owner.token)
            .send()
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_page_request");
    }
}
