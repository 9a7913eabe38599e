//! Channel timelines and single messages: page, post, get, by-nonce, edit, delete.

use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json, Query};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::routing::get;
use axum::Router;
use clickclack_runtime::chat::{MessagePage, NewPost, PageQuery, Posted};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/channels/{channel_id}/messages",
            get(list).post(create),
        )
        .route("/api/messages/by-nonce", get(by_nonce))
        .route(
            "/api/messages/{message_id}",
            get(show).patch(edit).delete(remove),
        )
}

/// Paging parameters shared by channel and DM timelines.
#[derive(Deserialize, Default)]
pub(crate) struct PageParams {
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    around_seq: Option<i64>,
    mode: Option<String>,
    limit: Option<i64>,
}

impl From<PageParams> for PageQuery {
    fn from(p: PageParams) -> Self {
        PageQuery {
            before_seq: p.before_seq,
            after_seq: p.after_seq,
            around_seq: p.around_seq,
            mode: p.mode,
            limit: p.limit,
        }
    }
}

/// The JSON of a timeline window.
pub(crate) fn page_json(page: MessagePage) -> serde_json::Value {
    json!({
        "messages": page.messages,
        "oldest_seq": page.oldest_seq,
        "newest_seq": page.newest_seq,
        "has_older": page.has_older,
        "has_newer": page.has_newer,
    })
}

/// The body of every message create.
#[derive(Deserialize, Default)]
pub(crate) struct PostBody {
    #[serde(default)]
    pub body: String,
    pub nonce: Option<String>,
    pub quoted_message_id: Option<String>,
    pub kind: Option<String>,
    pub turn_id: Option<String>,
    /// Uploads to attach atomically (`upload_id` is accepted for a single one).
    pub upload_ids: Option<Vec<String>>,
    pub upload_id: Option<String>,
}

impl From<PostBody> for NewPost {
    fn from(b: PostBody) -> Self {
        NewPost {
            body: b.body,
            nonce: b.nonce,
            quoted_message_id: b.quoted_message_id,
            kind: b.kind,
            turn_id: b.turn_id,
            upload_ids: b
                .upload_ids
                .unwrap_or_default()
                .into_iter()
                .chain(b.upload_id)
                .collect(),
        }
    }
}

/// 201 `{message, event}` for a new message, 200 for a nonce replay.
pub(crate) fn posted(p: Posted) -> axum::response::Response {
    let body = json!({"message": p.message, "event": p.event});
    if p.created {
        created(body)
    } else {
        ok(body)
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult {
    let page = state
        .chat()
        .list_channel_messages(&caller.actor, &channel_id, &params.into())
        .await?;
    Ok(ok(page_json(page)))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
    Json(input): Json<PostBody>,
) -> ApiResult {
    let p = state
        .chat()
        .post_channel_message(&caller.actor, &channel_id, input.into())
        .await?;
    Ok(posted(p))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
) -> ApiResult {
    let message = state.chat().get_message(&caller.actor, &message_id).await?;
    Ok(ok(json!({"message": message})))
}

#[derive(Deserialize)]
struct NonceQuery {
    #[serde(default)]
    workspace_id: String,
    #[serde(default)]
    nonce: String,
}

async fn by_nonce(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NonceQuery>,
) -> ApiResult {
    let message = state
        .chat()
        .message_by_nonce(&caller.actor, &q.workspace_id, &q.nonce)
        .await?;
    let mut response = ok(json!({"message": message}));
    response.headers_mut().insert(
        "x-clickclack-message-nonce",
        HeaderValue::from_static("supported"),
    );
    Ok(response)
}

#[derive(Deserialize)]
struct EditBody {
    #[serde(default)]
    body: String,
}

async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
    Json(input): Json<EditBody>,
) -> ApiResult {
    let (message, event) = state
        .chat()
        .edit_message(&caller.actor, &message_id, &input.body)
        .await?;
    Ok(ok(json!({"message": message, "event": event})))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
) -> ApiResult {
    let (message, event) = state
        .chat()
        .delete_message(&caller.actor, &message_id)
        .await?;
    Ok(ok(json!({"message": message, "event": event})))
}
