//! Direct conversations: create/list, get, close/open, and the DM timeline.

use super::messages::{page_json, posted, PageParams, PostBody};
use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json, Query};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/dms", get(list).post(create))
        .route("/api/dms/{conversation_id}", get(show).delete(close))
        .route("/api/dms/{conversation_id}/open", post(open))
        .route(
            "/api/dms/{conversation_id}/messages",
            get(messages).post(send),
        )
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    workspace_id: String,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let conversations = state
        .chat()
        .list_direct_conversations(&caller.actor, &q.workspace_id)
        .await?;
    Ok(ok(json!({"conversations": conversations})))
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    workspace_id: String,
    #[serde(default)]
    member_ids: Vec<String>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<CreateBody>,
) -> ApiResult {
    let opened = state
        .chat()
        .create_direct_conversation(&caller.actor, &input.workspace_id, &input.member_ids)
        .await?;
    let body = json!({"conversation": opened.conversation});
    Ok(if opened.created {
        created(body)
    } else {
        ok(body)
    })
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(conversation_id): Path<String>,
) -> ApiResult {
    let conversation = state
        .chat()
        .get_direct_conversation(&caller.actor, &conversation_id)
        .await?;
    Ok(ok(json!({"conversation": conversation})))
}

async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(conversation_id): Path<String>,
) -> ApiResult {
    let conversation = state
        .chat()
        .close_direct_conversation(&caller.actor, &conversation_id)
        .await?;
    Ok(ok(json!({"conversation": conversation, "closed": true})))
}

async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Path(conversation_id): Path<String>,
) -> ApiResult {
    let conversation = state
        .chat()
        .open_direct_conversation(&caller.actor, &conversation_id)
        .await?;
    Ok(ok(json!({"conversation": conversation, "closed": false})))
}

async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(conversation_id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult {
    let page = state
        .chat()
        .list_direct_messages(&caller.actor, &conversation_id, &params.into())
        .await?;
    Ok(ok(page_json(page)))
}

async fn send(
    State(state): State<AppState>,
    caller: Caller,
    Path(conversation_id): Path<String>,
    Json(input): Json<PostBody>,
) -> ApiResult {
    let p = state
        .chat()
        .post_direct_message(&caller.actor, &conversation_id, input.into())
        .await?;
    Ok(posted(p))
}
