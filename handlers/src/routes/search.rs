//! Full-text search: `GET /api/search` (reference §21.14, plus operators).

use super::{ok, ApiResult};
use crate::extract::{Caller, Query};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use clickclack_runtime::chat::SearchQuery;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/search", get(search))
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    workspace_id: String,
    #[serde(default)]
    q: String,
    channel_id: Option<String>,
    direct_conversation_id: Option<String>,
    sort: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

impl From<SearchParams> for SearchQuery {
    fn from(p: SearchParams) -> Self {
        SearchQuery {
            workspace_id: p.workspace_id,
            q: p.q,
            channel_id: p.channel_id,
            direct_conversation_id: p.direct_conversation_id,
            sort: p.sort,
            limit: p.limit,
            cursor: p.cursor,
        }
    }
}

/// 200 `{"results": [...], "next_cursor": string|null}`.
async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> ApiResult {
    let page = state.chat().search(&caller.actor, &params.into()).await?;
    Ok(ok(page))
}
