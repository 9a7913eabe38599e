//! Mattermost-shaped integrations: `POST /api/hooks/mattermost/{channel_id}` (JSON `text`)
//! and `POST /api/hooks/slash/{channel_id}` (form `command`, `text`).

use super::messages::posted;
use super::{created, ApiResult};
use crate::extract::{Caller, Json};
use crate::{ApiError, AppState};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use clickclack_runtime::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/hooks/mattermost/{channel_id}", post(mattermost))
        .route("/api/hooks/slash/{channel_id}", post(slash))
}

/// A Mattermost incoming-webhook payload; every field but `text` is ignored.
#[derive(Deserialize)]
struct WebhookBody {
    #[serde(default)]
    text: String,
}

async fn mattermost(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
    Json(input): Json<WebhookBody>,
) -> ApiResult {
    let p = state
        .chat()
        .post_webhook_message(&caller.actor, &channel_id, &input.text)
        .await?;
    Ok(posted(p))
}

/// The fields of a slash command callback we use (`user_name` and the rest are ignored).
#[derive(Deserialize, Default)]
struct SlashFields {
    command: Option<String>,
    text: Option<String>,
}

/// A slash command callback: an `application/x-www-form-urlencoded` body (415 otherwise,
/// 413 over the body limit), with fields missing from the body taken from the query.
struct SlashForm(SlashFields);

fn parse_form(input: &[u8]) -> Result<SlashFields, ApiError> {
    serde_urlencoded::from_bytes(input)
        .map_err(|e| ApiError::invalid("invalid_form", format!("invalid form body: {e}")))
}

impl<S: Send + Sync> FromRequest<S> for SlashForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            if essence != "application/x-www-form-urlencoded" {
                return Err(Error::new(
                    ErrorKind::UnsupportedMediaType,
                    "unsupported_media_type",
                    "request body must be application/x-www-form-urlencoded",
                )
                .into());
            }
        }
        let query = parse_form(req.uri().query().unwrap_or("").as_bytes())?;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::too_large("body_too_large", "request body is too large")
            } else {
                Error::invalid("invalid_body", "request body could not be read")
            }
        })?;
        let body = parse_form(&bytes)?;
        Ok(SlashForm(SlashFields {
            command: body.command.or(query.command),
            text: body.text.or(query.text),
        }))
    }
}

async fn slash(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
    SlashForm(fields): SlashForm,
) -> ApiResult {
    let p = state
        .chat()
        .post_slash_command(
            &caller.actor,
            &channel_id,
            fields.command.as_deref().unwrap_or(""),
            fields.text.as_deref().unwrap_or(""),
        )
        .await?;
    Ok(created(json!({
        "response_type": "in_channel",
        "text": p.message.body,
        "message": p.message,
        "event": p.event,
    })))
}
