//! `GET /api/realtime/events`: pull the durable log from a cursor, optionally long-polling.

use super::{ok, ApiResult};
use crate::extract::{Caller, Json, Query};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use clickclack_runtime::chat::EphemeralInput;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/realtime/events", get(events))
        .route("/api/realtime/ephemeral", post(publish))
}

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(default)]
    workspace_id: String,
    #[serde(default)]
    after_cursor: String,
    limit: Option<i64>,
    include_tail: Option<bool>,
    wait: Option<u64>,
}

async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<EventsQuery>,
) -> ApiResult {
    let workspace_id = q.workspace_id.trim();
    if workspace_id.is_empty() {
        return Err(ApiError::invalid(
            "workspace_id_required",
            "workspace_id is required",
        ));
    }
    let include_tail = q.include_tail.unwrap_or(false);
    let wait = q.wait.unwrap_or(0).min(state.http().max_wait_seconds);
    let page = if wait == 0 {
        state
            .chat()
            .events(
                &caller.actor,
                workspace_id,
                &q.after_cursor,
                q.limit,
                include_tail,
            )
            .await?
    } else {
        state
            .chat()
            .wait_for_events(
                &caller.actor,
                workspace_id,
                &q.after_cursor,
                q.limit,
                include_tail,
                Duration::from_secs(wait),
            )
            .await?
    };
    let mut body = json!({"events": page.events, "ephemeral": page.ephemeral, "epoch": page.epoch});
    if let Some(tail) = page.tail_cursor {
        body["tail_cursor"] = json!(tail);
    }
    Ok(ok(body))
}

#[derive(Deserialize)]
struct EphemeralBody {
    #[serde(default)]
    workspace_id: String,
    channel_id: Option<String>,
    direct_conversation_id: Option<String>,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    payload: serde_json::Value,
    target_user_id: Option<String>,
}

/// `POST /api/realtime/ephemeral` → 202 `{"event"}` (cursor `""`).
async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<EphemeralBody>,
) -> ApiResult {
    let event = state
        .chat()
        .publish_ephemeral(
            &caller.actor,
            EphemeralInput {
                workspace_id: body.workspace_id,
                channel_id: body.channel_id,
                direct_conversation_id: body.direct_conversation_id,
                kind: body.kind,
                payload: body.payload,
                target_user_id: body.target_user_id,
            },
        )
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(json!({"event": event}))).into_response())
}
