//! The libSQL token read at cold start through the Parameters and Secrets Lambda
//! Extension, served here by a real local HTTP server that checks what the extension checks.

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use clickclack_lambda::{LambdaConfig, SecretsExtension};
use clickclack_runtime::store::DbLocation;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A fake extension: answers `GET /secretsmanager/get?secretId=` for one secret when the
/// session token header matches, 400 for an unknown secret, 401 without the header.
async fn extension(secret_id: &'static str, secret: Value) -> String {
    let app = Router::new().route(
        "/secretsmanager/get",
        get(
            move |headers: HeaderMap, Query(q): Query<HashMap<String, String>>| async move {
                if headers
                    .get("x-aws-parameters-secrets-token")
                    .and_then(|v| v.to_str().ok())
                    != Some("session-abc")
                {
                    return (StatusCode::UNAUTHORIZED, Json(json!({"error": "no token"})));
                }
                if q.get("secretId").map(String::as_str) != Some(secret_id) {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": "ResourceNotFoundException"})),
                    );
                }
                (
                    StatusCode::OK,
                    Json(json!({"Name": secret_id, "SecretString": secret})),
                )
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn remote_config(secret_id: &str) -> LambdaConfig {
    let env: HashMap<&str, String> = HashMap::from([
        ("CLICKCLACK_DB", "libsql://chat-org.turso.io".to_string()),
        ("CLICKCLACK_DB_AUTH_TOKEN_SECRET", secret_id.to_string()),
    ]);
    LambdaConfig::from_lookup(|k| env.get(k).cloned()).unwrap()
}

#[tokio::test]
async fn the_db_token_comes_from_the_secret_at_cold_start() {
    let endpoint = extension("clickclack/db-token", json!("  eyJtoken  ")).await;
    let mut config = remote_config("clickclack/db-token");
    config
        .resolve_secrets(&SecretsExtension {
            endpoint,
            session_token: "session-abc".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        config.db,
        DbLocation::Remote {
            url: "libsql://chat-org.turso.io".into(),
            auth_token: "eyJtoken".into()
        }
    );
}

#[tokio::test]
async fn a_missing_secret_or_session_token_stops_the_cold_start_with_a_clear_error() {
    let endpoint = extension("clickclack/db-token", json!("t")).await;
    let mut config = remote_config("clickclack/other");
    let err = config
        .resolve_secrets(&SecretsExtension {
            endpoint: endpoint.clone(),
            session_token: "session-abc".into(),
        })
        .await
        .unwrap_err();
    assert!(err.0.contains("clickclack/other"), "{err}");
    assert!(err.0.contains("400"), "{err}");
    let mut config = remote_config("clickclack/db-token");
    let err = config
        .resolve_secrets(&SecretsExtension {
            endpoint,
            session_token: String::new(),
        })
        .await
        .unwrap_err();
    assert!(err.0.contains("401"), "{err}");
    // Nothing was resolved: the location still has no token.
    assert!(matches!(&config.db, DbLocation::Remote { auth_token, .. } if auth_token.is_empty()));
}
