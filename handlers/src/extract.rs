//! Extractors: [`Caller`] (who is calling), [`Json`] and [`Query`] whose rejections are
//! [`ApiError`]s with the contract's statuses.

use crate::origin::{is_local_request, is_same_origin};
use crate::{ApiError, AppState};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use bytes::Bytes;
use clickclack_runtime::chat::Actor;
use clickclack_runtime::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "cc_session";

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthVia {
    Bearer(String),
    Cookie(String),
    Dev,
}

/// The authenticated caller. Resolution order: `Authorization: Bearer` (a bot token
/// `ccb_…` first, then a session) → `cc_session`
/// cookie (unsafe methods need `X-ClickClack-CSRF: 1` and same origin) → dev auth
/// (`X-ClickClack-User`, then the first user) for local requests when enabled → 401.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub via: AuthVia,
}

/// A cookie value from the `Cookie` headers.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// The bearer token of the `Authorization` header, if that header uses the Bearer scheme.
pub fn bearer(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

/// The TCP peer, when the host provides it.
pub fn peer(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let chat = state.chat();
        if let Some(token) = bearer(parts) {
            if token.is_empty() {
                return Err(Error::unauthenticated().into());
            }
            let actor = chat
                .bearer_actor(&token)
                .await?
                .ok_or_else(Error::unauthenticated)?;
            return Ok(Caller {
                actor,
                via: AuthVia::Bearer(token),
            });
        }
        if let Some(token) = cookie(parts, SESSION_COOKIE).filter(|t| !t.is_empty()) {
            let user = chat
                .session_user(&token)
                .await?
                .ok_or_else(Error::unauthenticated)?;
            if !is_safe(&parts.method) {
                let has_header = parts
                    .headers
                    .get("x-clickclack-csrf")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim() == "1");
                if !has_header
                    || !is_same_origin(&parts.headers, state.http().public_url.as_deref())
                {
                    return Err(Error::forbidden(
                        "csrf_rejected",
                        "cross-site session requests are not allowed",
                    )
                    .into());
                }
            }
            return Ok(Caller {
                actor: Actor::new(user),
                via: AuthVia::Cookie(token),
            });
        }
        if state.http().dev_auth && is_local_request(peer(parts), &parts.headers) {
            let user = match parts
                .headers
                .get("x-clickclack-user")
                .and_then(|v| v.to_str().ok())
            {
                Some(id) => chat.user(id.trim()).await?,
                None => chat.first_user().await?,
            };
            let user = user.ok_or_else(Error::unauthenticated)?;
            return Ok(Caller {
                actor: Actor::new(user),
                via: AuthVia::Dev,
            });
        }
        Err(Error::unauthenticated().into())
    }
}

/// A JSON body: at most the body limit (413), `application/json` when a content type is
/// given (415), exactly one JSON value (400).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            if !(essence == "application/json" || essence.ends_with("+json")) {
                return Err(Error::new(
                    ErrorKind::UnsupportedMediaType,
                    "unsupported_media_type",
                    "request body must be application/json",
                )
                .into());
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::too_large("body_too_large", "request body is too large")
            } else {
                Error::invalid("invalid_body", "request body could not be read")
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid(
                "invalid_json",
                "request body is required",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| ApiError::invalid("invalid_json", format!("invalid JSON body: {e}")))
    }
}

/// Query parameters; unparsable values (e.g. `limit=abc`) are 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query).map(Query).map_err(|e| {
            ApiError::invalid("invalid_query", format!("invalid query parameters: {e}"))
        })
    }
}
