use crate::TestApp;
use axum::http::StatusCode;
use clickclack_handlers::HttpConfig;
use serde_json::json;

#[tokio::test]
async fn magic_link_round_trip_sets_a_working_session_and_cookie() {
    let app = TestApp::new().await;
    let res = app
        .post("/api/auth/magic/request")
        .local()
        .json(json!({"email": "Auth@Example.com", "display_name": "Auth User"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let token = res.body["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("mgt_"));
    assert_eq!(res.body["magic_link"]["email"], "auth@example.com");

    let res = app
        .post("/api/auth/magic/consume")
        .json(json!({"token": token}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["user"]["display_name"], "Auth User");
    let session = res.body["token"].as_str().unwrap().to_string();
    assert!(session.starts_with("sst_"));
    let cookie = res.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with(&format!("cc_session={session};")));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));

    let me = app
        .get("/api/me")
        .token(&session)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["user"]["display_name"], "Auth User");
    let me = app
        .get("/api/me")
        .header("cookie", &format!("cc_session={session}"))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["user"]["display_name"], "Auth User");

    app.post("/api/auth/magic/consume")
        .json(json!({"token": token}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "magic_link_used");
}

#[tokio::test]
async fn magic_link_consume_requires_json_and_same_origin() {
    let app = TestApp::new().await;
    let link = app
        .chat
        .request_magic_link("x@example.com", "X")
        .await
        .unwrap();
    app.post("/api/auth/magic/consume")
        .raw("text/plain", format!("{{\"token\":\"{}\"}}", link.token))
        .send()
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    app.post("/api/auth/magic/consume")
        .header("origin", "https://evil.example")
        .json(json!({"token": link.token}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "cross_site");
    app.post("/api/auth/magic/consume")
        .json(json!({"token": "mgt_nope"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_magic_link");
}

#[tokio::test]
async fn magic_link_request_is_local_dev_only() {
    let app = TestApp::new().await;
    app.post("/api/auth/magic/request")
        .remote()
        .json(json!({"email": "a@b.c"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "local_only");
    app.post("/api/auth/magic/request")
        .local()
        .json(json!({"email": ""}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "email_required");
    let prod = TestApp::with_config(HttpConfig::default()).await;
    prod.post("/api/auth/magic/request")
        .local()
        .json(json!({"email": "a@b.c"}))
        .send()
        .await
        .expect_error(
            StatusCode::NOT_IMPLEMENTED,
            "magic_link_delivery_unconfigured",
        );
}

#[tokio::test]
async fn dev_fallback_answers_only_loopback_requests() {
    let app = TestApp::new().await;
    let me = app
        .get("/api/me")
        .local()
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["user"]["id"], app.owner.id.as_str());
    let me = app
        .get("/api/me")
        .local()
        .header("x-clickclack-user", &app.member.id)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["user"]["id"], app.member.id.as_str());
    app.get("/api/me")
        .remote()
        .send()
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.get("/api/me")
        .local()
        .header("x-forwarded-for", "198.51.100.1")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.get("/api/me")
        .local()
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let prod = TestApp::with_config(HttpConfig::default()).await;
    prod.get("/api/me")
        .local()
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_tokens_never_fall_through() {
    let app = TestApp::new().await;
    app.get("/api/me")
        .local()
        .token("sst_bogus")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.get("/api/me")
        .local()
        .header("cookie", "cc_session=sst_bogus")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_header_and_same_origin() {
    let app = TestApp::new().await;
    let cookie = format!("cc_session={}", app.owner.token);
    let path = format!("/api/workspaces/{}/channels", app.workspace_id);
    app.post(&path)
        .header("cookie", &cookie)
        .json(json!({"name": "no-csrf"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "csrf_rejected");
    app.post(&path)
        .header("cookie", &cookie)
        .header("x-clickclack-csrf", "1")
        .header("origin", "https://evil.example")
        .json(json!({"name": "cross"}))
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "csrf_rejected");
    app.post(&path)
        .header("cookie", &cookie)
        .header("x-clickclack-csrf", "1")
        .header("origin", "http://localhost:8080")
        .json(json!({"name": "fine"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = TestApp::new().await;
    let res = app
        .post("/api/auth/logout")
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["revoked"], true);
    app.get("/api/me")
        .token(&app.member.token)
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn profile_patch_validates_and_persists() {
    let app = TestApp::new().await;
    let res = app
        .patch("/api/me")
        .token(&app.member.token)
        .json(json!({"display_name": "  Mate  ", "handle": "@Mate_1"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["user"]["display_name"], "Mate");
    assert_eq!(res.body["user"]["handle"], "mate_1");
    assert_eq!(res.body["user"]["kind"], "human");
    app.patch("/api/me")
        .token(&app.owner.token)
        .json(json!({"handle": "mate_1"}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "handle_taken");
    app.patch("/api/me")
        .token(&app.owner.token)
        .json(json!({"handle": "x"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_handle");
    app.patch("/api/me")
        .token(&app.owner.token)
        .json(json!({"avatar_url": "javascript:alert(1)"}))
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_avatar_url");
}
