//! `/metrics` and rate limits.

use crate::TestApp;
use axum::http::StatusCode;
use clickclack_handlers::limits::RateLimits;
use clickclack_handlers::{app, AppState, Gauge, HttpConfig};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn metrics_are_404_when_disabled() {
    let t = TestApp::new().await;
    t.get("/metrics")
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn metrics_count_requests_by_matched_route() {
    let t = TestApp::with_config(HttpConfig {
        metrics_enabled: true,
        websockets_open: Some(Gauge::new(|| 7)),
        ..HttpConfig::default()
    })
    .await;
    t.send(&t.owner, "hello").await;
    t.get("/api/me")
        .token(&t.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    t.get("/api/me")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);
    t.get("/api/nope")
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    let res = t.get("/metrics").send().await.expect(StatusCode::OK);
    let text = res.text;
    assert!(res.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    for line in [
        "clickclack_http_requests_total{route=\"/api/channels/{channel_id}/messages\",method=\"POST\",status=\"201\"} 1",
        "clickclack_http_requests_total{route=\"/api/me\",method=\"GET\",status=\"200\"} 1",
        "clickclack_http_requests_total{route=\"/api/me\",method=\"GET\",status=\"401\"} 1",
        "clickclack_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "clickclack_http_request_duration_seconds_count{route=\"/api/me\"} 2",
        "clickclack_http_request_duration_seconds_bucket{route=\"/api/me\",le=\"+Inf\"} 2",
        "# TYPE clickclack_http_request_duration_seconds histogram",
        "clickclack_websockets_open 7",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    let value = |name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing in\n{text}"))
            .parse()
            .unwrap()
    };
    assert!(value("clickclack_writer_batches_total") >= 1);
    assert!(value("clickclack_writer_commands_total") >= value("clickclack_writer_batches_total"));
    assert!(
        value("clickclack_event_log_position") >= 2,
        "channel.created + message.created"
    );
}

#[tokio::test]
async fn default_settings_never_rate_limit() {
    let t = TestApp::new().await;
    for i in 0..40 {
        t.send(&t.owner, &format!("m{i}")).await;
    }
}

#[tokio::test]
async fn writes_are_limited_per_token_and_recover_after_the_window() {
    let mut t = TestApp::new().await;
    let state = AppState::new(
        t.chat.clone(),
        HttpConfig {
            dev_auth: true,
            rate_limits: RateLimits::per_minute(Some(3), None),
            ..HttpConfig::default()
        },
    );
    t.router = app(state.clone());
    for i in 0..3 {
        t.send(&t.owner, &format!("m{i}")).await;
    }
    let path = format!("/api/channels/{}/messages", t.general_id);
    let limited = t
        .post(&path)
        .token(&t.owner.token)
        .json(json!({"body": "one too many"}))
        .send()
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (19..=20).contains(&retry),
        "3/min refills one every 20 s, got {retry}"
    );
    // Reads are not limited, another token is unaffected.
    t.get("/api/me")
        .token(&t.owner.token)
        .send()
        .await
        .expect(StatusCode::OK);
    t.send(&t.member, "someone else").await;
    // A made-up token does not get a fresh bucket: it is limited by address (and then
    // rejected as unauthenticated).
    t.post(&path)
        .token("sst_made_up")
        .json(json!({"body": "x"}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED);

    state.limiter().advance(Duration::from_secs(60));
    for i in 0..3 {
        t.send(&t.owner, &format!("again {i}")).await;
    }
}

#[tokio::test]
async fn auth_routes_and_magic_links_per_email_are_limited() {
    let mut t = TestApp::new().await;
    let state = AppState::new(
        t.chat.clone(),
        HttpConfig {
            dev_auth: true,
            rate_limits: RateLimits::per_minute(None, Some(100)),
            ..HttpConfig::default()
        },
    );
    t.router = app(state.clone());
    let request = |email: &'static str| {
        t.post("/api/auth/magic/request")
            .local()
            .json(json!({"email": email}))
            .send()
    };
    for _ in 0..5 {
        request("a@example.com").await.expect(StatusCode::CREATED);
    }
    let res = request("A@example.com ")
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(res.headers.contains_key("retry-after"));
    request("b@example.com").await.expect(StatusCode::CREATED);
    state.limiter().advance(Duration::from_secs(15 * 60));
    request("a@example.com").await.expect(StatusCode::CREATED);

    // The per-caller auth limit itself.
    let tight = AppState::new(
        t.chat.clone(),
        HttpConfig {
            rate_limits: RateLimits::per_minute(None, Some(2)),
            ..HttpConfig::default()
        },
    );
    t.router = app(tight);
    let consume = |peer_is_local: bool| {
        let req = t
            .post("/api/auth/magic/consume")
            .json(json!({"token": "mgt_bogus"}));
        let req = if peer_is_local {
            req.local()
        } else {
            req.remote()
        };
        req.send()
    };
    for _ in 0..2 {
        consume(true)
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_magic_link");
    }
    consume(true)
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Another address has its own bucket.
    consume(false)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_magic_link");
}
