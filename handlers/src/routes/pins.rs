//! Channel pins: list, pin, unpin.

use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{delete, get};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/channels/{channel_id}/pins", get(list).post(pin))
        .route(
            "/api/channels/{channel_id}/pins/{message_id}",
            delete(unpin),
        )
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
) -> ApiResult {
    let pins = state.chat().list_pins(&caller.actor, &channel_id).await?;
    Ok(ok(json!({"pins": pins})))
}

#[derive(Deserialize)]
struct PinBody {
    #[serde(default)]
    message_id: String,
}

async fn pin(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
    Json(input): Json<PinBody>,
) -> ApiResult {
    let event = state
        .chat()
        .pin_message(&caller.actor, &channel_id, &input.message_id)
        .await?;
    Ok(created(json!({"event": event})))
}

async fn unpin(
    State(state): State<AppState>,
    caller: Caller,
    Path((channel_id, message_id)): Path<(String, String)>,
) -> ApiResult {
    let event = state
        .chat()
        .unpin_message(&caller.actor, &channel_id, &message_id)
        .await?;
    Ok(ok(json!({"event": event})))
}
