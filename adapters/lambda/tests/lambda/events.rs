//! The Lambda router driven by API Gateway HTTP API (v2), REST API (v1) and Function URL
//! events, against a real libSQL file migrated first and reopened the way a cold start
//! opens it (no migrations).

use crate::common::{open_lambda, send, Call, Kind, Reply, Seed};
use axum::http::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// Magic-link consume → post with the bearer token → list → pull → long-poll woken by a
/// post, all through `kind`'s event fixtures.
async fn chat_flow(kind: Kind) {
    let seed = Seed::new(1).await;
    let app = seed.lambda_app(&[]).await;

    let consumed = send(
        &app,
        &Call::post(kind, "/api/auth/magic/consume").json(json!({"token": seed.magic_tokens[0]})),
    )
    .await
    .expect(StatusCode::OK);
    let token = consumed.json["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("sst_"), "{}", consumed.json);
    assert!(consumed.headers.contains_key("set-cookie"));
    // A link works once.
    send(
        &app,
        &Call::post(kind, "/api/auth/magic/consume").json(json!({"token": seed.magic_tokens[0]})),
    )
    .await
    .expect(StatusCode::BAD_REQUEST);

    let me = send(&app, &Call::get(kind, "/api/me").bearer(&token))
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.json["user"]["id"], consumed.json["user"]["id"]);

    let events_path = "/api/realtime/events";
    let tail = send(
        &app,
        &Call::get(kind, events_path)
            .bearer(&token)
            .query("workspace_id", &seed.workspace_id)
            .query("include_tail", "true"),
    )
    .await
    .expect(StatusCode::OK);
    let tail_cursor = tail.json["tail_cursor"].as_str().unwrap().to_string();

    let body = format!("hello from {kind:?}");
    let messages_path = format!("/api/channels/{}/messages", seed.general_id);
    let posted = send(
        &app,
        &Call::post(kind, &messages_path)
            .bearer(&token)
            .json(json!({"body": body})),
    )
    .await
    .expect(StatusCode::CREATED);
    let message_id = posted.json["message"]["id"].as_str().unwrap().to_string();
    assert_eq!(posted.json["event"]["type"], "message.created");

    let listed = send(&app, &Call::get(kind, &messages_path).bearer(&token))
        .await
        .expect(StatusCode::OK);
    let messages = listed.json["messages"].as_array().unwrap();
    assert_eq!(messages.last().unwrap()["id"], message_id.as_str());
    assert_eq!(messages.last().unwrap()["body"], body.as_str());

    let pulled = send(
        &app,
        &Call::get(kind, events_path)
            .bearer(&token)
            .query("workspace_id", &seed.workspace_id)
            .query("after_cursor", &tail_cursor)
            .query("wait", "5"),
    )
    .await
    .expect(StatusCode::OK);
    let events = pulled.json["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", pulled.json);
    assert_eq!(events[0]["type"], "message.created");
    assert_eq!(events[0]["payload"]["message_id"], message_id.as_str());
    assert!(pulled.json["epoch"].is_string());
    let cursor = events[0]["cursor"].as_str().unwrap().to_string();

    // A long-poll parked on the newest cursor returns as soon as another request posts.
    let waiting = {
        let app = app.clone();
        let call = Call::get(kind, events_path)
            .bearer(&token)
            .query("workspace_id", &seed.workspace_id)
            .query("after_cursor", &cursor)
            .query("wait", "20");
        tokio::spawn(async move {
            let started = Instant::now();
            (send(&app, &call).await, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the long-poll must wait for an event"
    );
    send(
        &app,
        &Call::post(kind, &messages_path)
            .bearer(&token)
            .json(json!({"body": "second"})),
    )
    .await
    .expect(StatusCode::CREATED);
    let (woken, elapsed): (Reply, Duration) = waiting.await.unwrap();
    let woken = woken.expect(StatusCode::OK);
    let events = woken.json["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", woken.json);
    assert_eq!(events[0]["type"], "message.created");
    assert!(
        elapsed < Duration::from_secs(10),
        "long-poll took {elapsed:?}"
    );
}

#[tokio::test]
async fn api_gateway_http_api_v2_chat_flow() {
    chat_flow(Kind::HttpApiV2).await;
}

#[tokio::test]
async fn api_gateway_rest_api_v1_chat_flow() {
    chat_flow(Kind::RestApiV1).await;
}

#[tokio::test]
async fn function_url_chat_flow() {
    chat_flow(Kind::FunctionUrl).await;
}

#[tokio::test]
async fn capabilities_report_poll_only_for_every_event_source() {
    let seed = Seed::new(0).await;
    let app = seed
        .lambda_app(&[("AWS_LAMBDA_FUNCTION_TIMEOUT", "30")])
        .await;
    for kind in Kind::ALL {
        let caps = send(&app, &Call::get(kind, "/api/capabilities"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(caps.json["transports"], json!(["poll"]), "{kind:?}");
        assert_eq!(caps.json["limits"]["max_wait_seconds"], 25, "{kind:?}");
        assert_eq!(caps.json["dev_auth"], false, "{kind:?}");
        assert!(caps.json["epoch"].is_string());
        send(&app, &Call::get(kind, "/healthz"))
            .await
            .expect(StatusCode::OK);
    }
    let short = seed
        .lambda_app(&[
            ("AWS_LAMBDA_FUNCTION_TIMEOUT", "10"),
            ("CLICKCLACK_MAX_WAIT_SECONDS", "20"),
        ])
        .await;
    let caps = send(&short, &Call::get(Kind::FunctionUrl, "/api/capabilities")).await;
    assert_eq!(caps.json["limits"]["max_wait_seconds"], 7);
}

#[tokio::test]
async fn dev_auth_stays_off_even_when_requested() {
    let seed = Seed::new(0).await;
    let app = seed
        .lambda_app(&[("CLICKCLACK_DEV_BOOTSTRAP", "true")])
        .await;
    for kind in Kind::ALL {
        let me = send(&app, &Call::get(kind, "/api/me")).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{kind:?}: {}", me.json);
        let open = send(
            &app,
            &Call::post(kind, "/api/auth/magic/request").json(json!({"email": "eve@example.com"})),
        )
        .await;
        assert_eq!(open.status, StatusCode::NOT_IMPLEMENTED, "{kind:?}");
    }
}

#[tokio::test]
async fn named_stage_prefixes_are_not_part_of_the_route() {
    let seed = Seed::new(0).await;
    let app = seed.lambda_app(&[]).await;
    // HTTP API with a named stage: rawPath is `/prod/api/capabilities`.
    let caps = send(
        &app,
        &Call::get(Kind::HttpApiV2, "/api/capabilities").stage("prod"),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(caps.json["transports"], json!(["poll"]));
    // REST API events arrive with `/prod` in front of the path; without the Lambda host's
    // stage handling the shared router alone would answer `/prod/api/…` with the web app.
    let bare = clickclack_handlers::app(open_lambda(seed.env(&[])).await.unwrap());
    let unrouted = send(&bare, &Call::get(Kind::RestApiV1, "/api/capabilities")).await;
    assert_eq!(
        unrouted.json,
        serde_json::Value::Null,
        "not the API: {unrouted:?}"
    );
    send(&app, &Call::get(Kind::RestApiV1, "/api/capabilities"))
        .await
        .expect(StatusCode::OK);
    // Unknown API paths stay JSON 404s, stage or not.
    let missing = send(&app, &Call::get(Kind::RestApiV1, "/api/nope")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json["code"], "not_found");
}

#[tokio::test]
async fn an_unmigrated_database_fails_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let env = |db: &std::path::Path| {
        std::collections::HashMap::from([(
            "CLICKCLACK_DB".to_string(),
            db.to_str().unwrap().to_string(),
        )])
    };
    let err = open_lambda(env(&empty)).await.err().expect("must fail");
    assert!(
        err.0.contains("database schema is not current") && err.0.contains("clickclack migrate"),
        "{err}"
    );
    let missing = dir.path().join("missing.db");
    let err = open_lambda(env(&missing)).await.err().expect("must fail");
    assert!(
        err.0.contains("database schema is not current") && err.0.contains("does not exist"),
        "{err}"
    );
    assert!(
        !missing.exists(),
        "a failed cold start must not create the database"
    );
}

/// Paths that need percent-encoding (an emoji in the reaction route) still route once the
/// stage prefix is dropped, whether the event carries them raw or encoded.
#[tokio::test]
async fn encoded_paths_route_behind_a_stage() {
    let seed = Seed::new(1).await;
    let app = seed.lambda_app(&[]).await;
    let kind = Kind::RestApiV1;
    let consumed = send(
        &app,
        &Call::post(kind, "/api/auth/magic/consume").json(json!({"token": seed.magic_tokens[0]})),
    )
    .await
    .expect(StatusCode::OK);
    let token = consumed.json["token"].as_str().unwrap().to_string();
    let posted = send(
        &app,
        &Call::post(kind, &format!("/api/channels/{}/messages", seed.general_id))
            .bearer(&token)
            .json(json!({"body": "react to me"})),
    )
    .await
    .expect(StatusCode::CREATED);
    let reactions = format!(
        "/api/messages/{}/reactions",
        posted.json["message"]["id"].as_str().unwrap()
    );
    for (kind, stage, emoji_path) in [
        (Kind::RestApiV1, None, "👍"),
        (Kind::RestApiV1, None, "%F0%9F%91%8D"),
        (Kind::HttpApiV2, Some("prod"), "%F0%9F%91%8D"),
    ] {
        send(
            &app,
            &Call::post(kind, &reactions)
                .bearer(&token)
                .json(json!({"emoji": "👍"})),
        )
        .await
        .expect(StatusCode::CREATED);
        let mut remove =
            Call::new(kind, "DELETE", &format!("{reactions}/{emoji_path}")).bearer(&token);
        if let Some(stage) = stage {
            remove = remove.stage(stage);
        }
        let removed = send(&app, &remove).await.expect(StatusCode::OK);
        assert_eq!(
            removed.json["event"]["type"], "reaction.removed",
            "{kind:?} {emoji_path}"
        );
    }
}

#[tokio::test]
async fn metrics_and_rate_limits_come_from_the_environment_like_serve() {
    let seed = Seed::new(0).await;
    let off = seed.lambda_app(&[]).await;
    send(&off, &Call::get(Kind::FunctionUrl, "/metrics"))
        .await
        .expect(StatusCode::NOT_FOUND);

    let app = seed
        .lambda_app(&[
            ("CLICKCLACK_METRICS_ENABLED", "true"),
            ("CLICKCLACK_RATE_LIMIT_AUTH_PER_MINUTE", "2"),
        ])
        .await;
    let consume = |kind: Kind| {
        Call::post(kind, "/api/auth/magic/consume").json(json!({"token": "mgt_bogus"}))
    };
    // Two auth requests per minute from the HTTP API client's address, then 429.
    for _ in 0..2 {
        let reply = send(&app, &consume(Kind::HttpApiV2)).await;
        assert_ne!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            reply.json
        );
    }
    let limited = send(&app, &consume(Kind::HttpApiV2))
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.json["code"], "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    // Other addresses (the REST API and Function URL fixtures) have buckets of their own.
    for kind in [Kind::RestApiV1, Kind::FunctionUrl] {
        let reply = send(&app, &consume(kind)).await;
        assert_ne!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{kind:?}");
    }
    let metrics = send(&app, &Call::get(Kind::FunctionUrl, "/metrics"))
        .await
        .expect(StatusCode::OK);
    assert!(metrics
        .headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/plain")));
}
