use crate::TestApp;
use axum::http::StatusCode;
use serde_json::json;

/// Every protected route answers 401 without credentials, before any body or resource check.
#[tokio::test]
async fn protected_routes_require_credentials() {
    let app = TestApp::with_config(clickclack_handlers::HttpConfig::default()).await;
    let routes = [
        ("GET", "/api/me"),
        ("PATCH", "/api/me"),
        ("GET", "/api/workspaces"),
        ("POST", "/api/workspaces"),
        ("GET", "/api/workspaces/x"),
        ("GET", "/api/workspaces/x/members"),
        ("GET", "/api/workspaces/x/channels"),
        ("POST", "/api/workspaces/x/channels"),
        ("PATCH", "/api/channels/x"),
        ("GET", "/api/channels/x/messages"),
        ("POST", "/api/channels/x/messages"),
        ("POST", "/api/channels/x/read"),
        ("GET", "/api/channels/x/pins"),
        ("POST", "/api/channels/x/pins"),
        ("DELETE", "/api/channels/x/pins/y"),
        ("GET", "/api/messages/by-nonce"),
        ("GET", "/api/messages/x"),
        ("PATCH", "/api/messages/x"),
        ("DELETE", "/api/messages/x"),
        ("GET", "/api/messages/x/thread"),
        ("POST", "/api/messages/x/thread/replies"),
        ("POST", "/api/messages/x/reactions"),
        ("DELETE", "/api/messages/x/reactions/y"),
        ("GET", "/api/dms"),
        ("POST", "/api/dms"),
        ("GET", "/api/dms/x"),
        ("DELETE", "/api/dms/x"),
        ("POST", "/api/dms/x/open"),
        ("GET", "/api/dms/x/messages"),
        ("POST", "/api/dms/x/messages"),
        ("POST", "/api/dms/x/read"),
        ("POST", "/api/hooks/mattermost/x"),
        ("POST", "/api/hooks/slash/x"),
        ("GET", "/api/realtime/events"),
        ("POST", "/api/realtime/ephemeral"),
        ("POST", "/api/auth/logout"),
    ];
    for (method, path) in routes {
        let res = app
            .req(method.parse().unwrap(), path)
            .local()
            .raw("application/json", "{")
            .send()
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: {}",
            res.text
        );
        assert_eq!(res.body["code"], "unauthenticated", "{method} {path}");
    }
}

#[tokio::test]
async fn unknown_api_paths_are_json_404_and_the_spa_serves_the_rest() {
    let app = TestApp::new().await;
    for path in ["/api/nope", "/api", "/api/workspaces/x/y/z"] {
        let res = app.get(path).token(&app.owner.token).send().await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.body["code"], "not_found", "{path}");
    }
    let res = app.post("/api/nope").raw("text/html", "x").send().await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    for path in ["/", "/app", "/app/some/deep/link"] {
        let res = app.get(path).send().await.expect(StatusCode::OK);
        assert!(res.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(res.text.contains("ClickClack"), "{path}");
    }
    let res = app
        .req("DELETE".parse().unwrap(), "/api/workspaces")
        .token(&app.owner.token)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.body["code"], "method_not_allowed");
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_clear_errors() {
    let app = TestApp::new().await;
    let path = format!("/api/channels/{}/messages", app.general_id);
    app.post(&path)
        .token(&app.owner.token)
        .raw("application/json", "{")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&path)
        .token(&app.owner.token)
        .raw("application/json", "{\"body\":\"a\"} {\"body\":\"b\"}")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&path)
        .token(&app.owner.token)
        .raw("application/json", "")
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(&path)
        .token(&app.owner.token)
        .raw("text/plain", "{\"body\":\"x\"}")
        .send()
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let huge = format!("{{\"body\":\"{}\"}}", "a".repeat(1024 * 1024 + 10));
    app.post(&path)
        .token(&app.owner.token)
        .raw("application/json", huge)
        .send()
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let long = json!({"body": "a".repeat(40_001)});
    app.post(&path)
        .token(&app.owner.token)
        .json(long)
        .send()
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_long");
    let page = app
        .get(&path)
        .token(&app.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        page.body["messages"].as_array().unwrap().len(),
        0,
        "nothing half-written"
    );
    app.get(&format!("{path}?limit=abc"))
        .token(&app.owner.token)
        .send()
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
}

#[tokio::test]
async fn correlation_ids_are_echoed_when_safe_and_made_otherwise() {
    let app = TestApp::new().await;
    let res = app
        .get("/healthz")
        .header("x-correlation-id", "abc-123:x")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.headers["x-correlation-id"], "abc-123:x");
    assert_eq!(res.body["status"], "ok");
    let res = app
        .get("/healthz")
        .header("x-correlation-id", "bad id!")
        .send()
        .await;
    let made = res.headers["x-correlation-id"].to_str().unwrap();
    assert!(made.starts_with("req_"));
    let res = app.get("/readyz").send().await.expect(StatusCode::OK);
    assert_eq!(res.body["status"], "ready");
}

#[tokio::test]
async fn capabilities_report_transports_epoch_and_limits() {
    let app = TestApp::new().await;
    let res = app
        .get("/api/capabilities")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(res.body["transports"], json!(["poll"]));
    assert_eq!(res.body["epoch"], app.chat.store().epoch());
    assert_eq!(res.body["limits"]["max_wait_seconds"], 25);
    assert_eq!(res.body["limits"]["max_json_bytes"], 1048576);
    assert_eq!(res.body["limits"]["synchronous"], "full");
}
