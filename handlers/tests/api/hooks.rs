use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn mattermost_webhook_posts_text_and_ignores_other_fields() {
    let app = TestApp::new().await;
    let path = format!("/api/hooks/mattermost/{}", app.general_id);
    let res = app
        .post(&path)
        .token(&app.member.token)
        .json(json!({
            "text": "  deploy finished  ",
            "username": "ci-bot",
            "icon_emoji": ":rocket:",
            "attachments": [{"fallback": "x"}],
        }))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let m = &res.body["message"];
    assert_eq!(m["body"], "deploy finished");
    assert_eq!(m["channel_id"], app.general_id.as_str());
    assert_eq!(m["author_id"], app.member.id.as_str());
    assert_eq!(m["channel_seq"], 1);
    let ev = &res.body["event"];
    assert_eq!(ev["type"], "message.created");
    assert_eq!(ev["channel_id"], app.general_id.as_str());
    assert_eq!(ev["payload"]["message_id"], m["id"]);
    let page = app
        .get(&format!("/api/channels/{}/messages", app.general_id))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(page.body["messages"][0]["id"], m["id"]);

    app.post(&path)
        .token(&app.member.token)
        .json(json!({"text": "   "}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "body_required");
    app.post(&path)
        .token(&app.member.token)
        .json(json!({"username": "no text"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "body_required");
    app.post(&path)
        .token(&app.member.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&path)
        .token(&app.outsider.token)
        .json(json!({"text": "hi"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post("/api/hooks/mattermost/chn_missing")
        .token(&app.owner.token)
        .json(json!({"text": "hi"}))
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn slash_command_posts_command_and_text() {
    let app = TestApp::new().await;
    let path = format!("/api/hooks/slash/{}", app.general_id);
    let res = app
        .post(&path)
        .token(&app.owner.token)
        .raw(FORM, "command=%2Fclack&text=+from+slash+&user_name=ignored")
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(res.body["response_type"], "in_channel");
    assert_eq!(res.body["text"], "/clack from slash");
    assert_eq!(res.body["message"]["body"], "/clack from slash");
    assert_eq!(res.body["message"]["author_id"], app.owner.id.as_str());
    assert_eq!(res.body["message"]["channel_id"], app.general_id.as_str());
    assert_eq!(res.body["event"]["type"], "message.created");
    assert_eq!(
        res.body["event"]["payload"]["message_id"],
        res.body["message"]["id"]
    );

    let only_command = app
        .post(&path)
        .token(&app.owner.token)
        .raw(&format!("{FORM}; charset=utf-8"), "command=/deploy&text=")
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(only_command.body["text"], "/deploy");

    let from_query = app
        .post(&format!("{path}?command=%2Fq&text=from%20query"))
        .token(&app.owner.token)
        .raw(FORM, "")
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(from_query.body["text"], "/q from query");
    let body_wins = app
        .post(&format!("{path}?command=%2Fq&text=from%20query"))
        .token(&app.owner.token)
        .raw(FORM, "text=from+body")
        .send()
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(body_wins.body["text"], "/q from body");
}

#[tokio::test]
async fn slash_command_rejects_empty_wrong_type_oversize_and_strangers() {
    let app = TestApp::new().await;
    let path = format!("/api/hooks/slash/{}", app.general_id);
    let res = app
        .post(&path)
        .token(&app.owner.token)
        .raw(FORM, "command=+&text=%20&user_name=x")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "slash_text_required");
    assert_eq!(res.body["error"], "slash command text is required");
    app.post(&path)
        .token(&app.owner.token)
        .raw(FORM, "")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "slash_text_required");
    app.post(&path)
        .token(&app.owner.token)
        .raw("application/json", "{\"command\":\"/x\",\"text\":\"y\"}")
        .send()
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let huge = format!("command=/x&text={}", "a".repeat(1024 * 1024 + 10));
    app.post(&path)
        .token(&app.owner.token)
        .raw(FORM, huge)
        .send()
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    app.post(&path)
        .token(&app.outsider.token)
        .raw(FORM, "command=/x&text=y")
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post("/api/hooks/slash/chn_missing")
        .token(&app.owner.token)
        .raw(FORM, "command=/x&text=y")
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let unauthenticated = app
        .post(&path)
        .remote()
        .raw("text/plain", "nope")
        .send()
        .await;
    assert_eq!(
        unauthenticated.status,
        StatusCode::UNAUTHORIZED,
        "401 before 415"
    );
    let page = app
        .get(&format!("/api/channels/{}/messages", app.general_id))
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(page.body["messages"], json!([]), "nothing was posted");
}
