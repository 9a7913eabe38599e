//! Threads: read a root with a window of its replies, and reply.

use super::messages::PostBody;
use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json, Query};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use clickclack_runtime::chat::ThreadQuery;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/messages/{message_id}/thread", get(show))
        .route("/api/messages/{message_id}/thread/replies", post(reply))
}

#[derive(Deserialize, Default)]
struct ThreadParams {
    limit: Option<i64>,
    latest: Option<String>,
}

/// `latest=true|1` selects the newest window; `false|0|` (or absent) the first replies.
fn latest_flag(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw.map(str::trim) {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(ApiError::invalid(
            "invalid_query",
            format!("invalid query parameters: latest must be true or false, not {other:?}"),
        )),
    }
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    Query(params): Query<ThreadParams>,
) -> ApiResult {
    let query = ThreadQuery {
        limit: params.limit,
        latest: latest_flag(params.latest.as_deref())?,
    };
    let thread = state
        .chat()
        .get_thread(&caller.actor, &message_id, query)
        .await?;
    Ok(ok(json!({
        "root": thread.root,
        "replies": thread.replies,
        "thread_state": thread.thread_state,
    })))
}

/// 201 `{message, thread_state, events}` for a new reply; 200 with `events: []` for a
/// nonce replay.
async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    Json(input): Json<PostBody>,
) -> ApiResult {
    let r = state
        .chat()
        .post_thread_reply(&caller.actor, &message_id, input.into())
        .await?;
    let body = json!({
        "message": r.message,
        "thread_state": r.thread_state,
        "events": r.events,
    });
    Ok(if r.created { created(body) } else { ok(body) })
}
