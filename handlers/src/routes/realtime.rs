//! `GET /api/realtime/events`: pull the durable log from a cursor, optionally long-polling.

use super::{ok, ApiResult};
use crate::extract::{Caller, Query};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/realtime/events", get(events))
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
    let mut body = json!({"events": page.events, "ephemeral": [], "epoch": page.epoch});
    if let Some(tail) = page.tail_cursor {
        body["tail_cursor"] = json!(tail);
    }
    Ok(ok(body))
}
