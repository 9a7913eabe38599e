//! Channels of a workspace and channel patches.

use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, patch};
use axum::Router;
use clickclack_runtime::chat::ChannelPatch;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/workspaces/{workspace_id}/channels",
            get(list).post(create),
        )
        .route("/api/channels/{channel_id}", patch(update))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
) -> ApiResult {
    let channels = state
        .chat()
        .list_channels(&caller.actor, &workspace_id)
        .await?;
    Ok(ok(json!({"channels": channels})))
}

#[derive(Deserialize)]
struct CreateChannel {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
    Json(input): Json<CreateChannel>,
) -> ApiResult {
    let (channel, event) = state
        .chat()
        .create_channel(&caller.actor, &workspace_id, &input.name, &input.kind)
        .await?;
    Ok(created(json!({"channel": channel, "event": event})))
}

#[derive(Deserialize)]
struct UpdateChannel {
    name: Option<String>,
    kind: Option<String>,
    archived: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
    Json(input): Json<UpdateChannel>,
) -> ApiResult {
    let (channel, event) = state
        .chat()
        .update_channel(
            &caller.actor,
            &channel_id,
            ChannelPatch {
                name: input.name,
                kind: input.kind,
                archived: input.archived,
            },
        )
        .await?;
    Ok(ok(json!({"channel": channel, "event": event})))
}
