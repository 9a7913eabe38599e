//! Workspaces and their member directory.

use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json, Query};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/workspaces", get(list).post(create))
        .route("/api/workspaces/{workspace_id}", get(show))
        .route("/api/workspaces/{workspace_id}/members", get(members))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let workspaces = state.chat().list_workspaces(&caller.actor).await?;
    Ok(ok(json!({"workspaces": workspaces})))
}

#[derive(Deserialize)]
struct CreateWorkspace {
    #[serde(default)]
    name: String,
    slug: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<CreateWorkspace>,
) -> ApiResult {
    let workspace = state
        .chat()
        .create_workspace(&caller.actor, &input.name, input.slug.as_deref())
        .await?;
    Ok(created(json!({"workspace": workspace})))
}

async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let workspace = state.chat().get_workspace(&caller.actor, &id).await?;
    Ok(ok(json!({"workspace": workspace})))
}

#[derive(Deserialize)]
struct MembersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    cursor: String,
    limit: Option<i64>,
}

async fn members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<MembersQuery>,
) -> ApiResult {
    let page = state
        .chat()
        .list_members(
            &caller.actor,
            &id,
            &query.q,
            &query.role,
            &query.cursor,
            query.limit,
        )
        .await?;
    Ok(ok(json!({
        "members": page.members,
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "total_count": page.total_count,
    })))
}
