//! Read pointers: `POST /api/channels/{id}/read` and `POST /api/dms/{id}/read`.

use super::{ok, ApiResult};
use crate::extract::{Caller, Json};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/channels/{channel_id}/read", post(channel))
        .route("/api/dms/{conversation_id}/read", post(direct))
}

#[derive(Deserialize)]
struct ReadBody {
    seq: Option<i64>,
}

impl ReadBody {
    fn seq(&self) -> Result<i64, ApiError> {
        self.seq
            .ok_or_else(|| ApiError::invalid("invalid_seq", "seq is required"))
    }
}

async fn channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
    Json(input): Json<ReadBody>,
) -> ApiResult {
    let marked = state
        .chat()
        .mark_channel_read(&caller.actor, &channel_id, input.seq()?)
        .await?;
    Ok(ok(json!({"receipt": marked.receipt})))
}

async fn direct(
    State(state): State<AppState>,
    caller: Caller,
    Path(conversation_id): Path<String>,
    Json(input): Json<ReadBody>,
) -> ApiResult {
    let marked = state
        .chat()
        .mark_direct_read(&caller.actor, &conversation_id, input.seq()?)
        .await?;
    Ok(ok(json!({"receipt": marked.receipt})))
}
