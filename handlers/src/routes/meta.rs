//! `/healthz`, `/readyz` and `GET /api/capabilities`.

use super::ok;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/capabilities", get(capabilities))
}

/// Liveness and readiness probes (outside `/api`).
pub fn health() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { ok(json!({"status": "ok"})) }))
        .route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.chat().store().ping().await {
        ok(json!({"status": "ready"}))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unavailable"})),
        )
            .into_response()
    }
}

async fn capabilities(State(state): State<AppState>) -> Response {
    let http = state.http();
    let store = state.chat().store();
    ok(json!({
        "transports": http.transports,
        "epoch": store.epoch(),
        "limits": {
            "max_wait_seconds": http.max_wait_seconds,
            "max_upload_bytes": http.max_upload_bytes,
            "max_json_bytes": http.max_json_bytes,
            "max_body_chars": state.chat().config().max_body_chars,
            "synchronous": store.sync_mode().as_str(),
        },
        "dev_auth": http.dev_auth,
        "github_oauth": http.github.is_some(),
    }))
}
