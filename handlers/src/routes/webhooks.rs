//! Outgoing webhooks (workspace owners only): subscriptions, their delivery log, and a
//! manual retry. The sender is `crate::outgoing`.

use super::{created, ok, ApiResult};
use crate::extract::{Caller, Json, Query};
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use clickclack_runtime::chat::{NewWebhook, WebhookPatch};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/workspaces/{workspace_id}/webhooks",
            get(list).post(create),
        )
        .route(
            "/api/webhooks/{webhook_id}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/webhooks/{webhook_id}/deliveries", get(deliveries))
        .route(
            "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
            post(retry),
        )
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
) -> ApiResult {
    let webhooks = state
        .chat()
        .list_webhooks(&caller.actor, &workspace_id)
        .await?;
    Ok(ok(json!({"webhooks": webhooks})))
}

#[derive(Deserialize)]
struct CreateWebhook {
    #[serde(default)]
    url: String,
    #[serde(default)]
    event_types: Vec<String>,
    #[serde(default)]
    description: String,
    active: Option<bool>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
    Json(input): Json<CreateWebhook>,
) -> ApiResult {
    let webhook = state
        .chat()
        .create_webhook(
            &caller.actor,
            &workspace_id,
            NewWebhook {
                url: input.url,
                event_types: input.event_types,
                description: input.description,
                active: input.active,
            },
        )
        .await?;
    Ok(created(json!({"webhook": webhook})))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
) -> ApiResult {
    let webhook = state.chat().get_webhook(&caller.actor, &webhook_id).await?;
    Ok(ok(json!({"webhook": webhook})))
}

#[derive(Deserialize)]
struct PatchWebhook {
    url: Option<String>,
    event_types: Option<Vec<String>>,
    description: Option<String>,
    active: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
    Json(input): Json<PatchWebhook>,
) -> ApiResult {
    let webhook = state
        .chat()
        .update_webhook(
            &caller.actor,
            &webhook_id,
            WebhookPatch {
                url: input.url,
                event_types: input.event_types,
                description: input.description,
                active: input.active,
            },
        )
        .await?;
    Ok(ok(json!({"webhook": webhook})))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
) -> ApiResult {
    state
        .chat()
        .delete_webhook(&caller.actor, &webhook_id)
        .await?;
    Ok(ok(json!({"deleted": true})))
}

#[derive(Deserialize)]
struct DeliveriesQuery {
    #[serde(default)]
    cursor: String,
    limit: Option<i64>,
}

async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> ApiResult {
    let page = state
        .chat()
        .list_webhook_deliveries(&caller.actor, &webhook_id, &query.cursor, query.limit)
        .await?;
    Ok(ok(json!({
        "deliveries": page.deliveries,
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
    })))
}

async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path((webhook_id, delivery_id)): Path<(String, String)>,
) -> ApiResult {
    let delivery = state
        .chat()
        .retry_webhook_delivery(&caller.actor, &webhook_id, &delivery_id)
        .await?;
    Ok(ok(json!({"delivery": delivery})))
}
