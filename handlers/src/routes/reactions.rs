//! Reactions: add (`POST`) and remove (`DELETE …/{emoji}`, percent-decoded once).

use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{delete, post};
use axum::Router;
use clickclack_runtime::chat::ReactionChange;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/messages/{message_id}/reactions", post(add))
        .route(
            "/api/messages/{message_id}/reactions/{emoji}",
            delete(remove),
        )
}

fn change_json(change: &ReactionChange) -> serde_json::Value {
    json!({"event": change.event, "reactions": change.reactions})
}

#[derive(Deserialize)]
struct ReactionBody {
    #[serde(default)]
    emoji: String,
}

/// 201 when the reaction was added, 200 (`event: null`) when it already existed.
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    Json(input): Json<ReactionBody>,
) -> ApiResult {
    let change = state
        .chat()
        .add_reaction(&caller.actor, &message_id, &input.emoji)
        .await?;
    let body = change_json(&change);
    Ok(if change.changed() {
        created(body)
    } else {
        ok(body)
    })
}

/// 200; `event` is null when there was nothing to remove.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((message_id, emoji)): Path<(String, String)>,
) -> ApiResult {
    let change = state
        .chat()
        .remove_reaction(&caller.actor, &message_id, &emoji)
        .await?;
    Ok(ok(change_json(&change)))
}
