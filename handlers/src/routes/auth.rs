//! Magic links, logout and `/api/me` (GitHub OAuth lives in `routes/github.rs`).

use super::{created, ok, ApiResult};
use crate::extract::{peer, AuthVia, Caller, Json, SESSION_COOKIE};
use crate::origin::{is_local_request, is_same_origin};
use crate::AppState;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use clickclack_runtime::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/magic/request", post(request_magic_link))
        .route("/api/auth/magic/consume", post(consume_magic_link))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me).patch(update_me))
}

#[derive(Deserialize)]
struct MagicRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
}

/// Open magic-link issuing is a dev convenience: loopback only, and only with dev auth.
/// Production issues links with `clickclack admin magic-link create` (501 here).
async fn request_magic_link(State(state): State<AppState>, request: Request) -> ApiResult {
    if !state.http().dev_auth {
        return Ok((
            StatusCode::NOT_IMPLEMENTED,
            axum::Json(json!({
                "error": "magic-link delivery is not configured; use `clickclack admin magic-link create`",
                "code": "magic_link_delivery_unconfigured"
            })),
        )
            .into_response());
    }
    let (parts, body) = request.into_parts();
    if !is_local_request(peer(&parts), &parts.headers) {
        return Err(Error::forbidden(
            "local_only",
            "magic-link requests are only accepted from this machine",
        )
        .into());
    }
    let Json(input) =
        Json::<MagicRequest>::from_request(Request::from_parts(parts, body), &state).await?;
    if let Err(wait) = state.limiter().check_magic_link_email(&input.email) {
        return Ok(crate::limits::rate_limited(wait));
    }
    let link = state
        .chat()
        .request_magic_link(&input.email, &input.display_name)
        .await?;
    Ok(created(json!({"magic_link": link, "token": link.token})))
}

#[derive(Deserialize)]
struct ConsumeRequest {
    #[serde(default)]
    token: String,
}

/// The `cc_session` cookie (also set by the GitHub callback).
pub(crate) fn session_cookie(state: &AppState, token: &str, expires_at: &str) -> HeaderValue {
    let secure = state
        .http()
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let expires = clickclack_runtime::clock::parse(expires_at)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default();
    let mut cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; Expires={expires}; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""))
}

/// Consumes a magic link (JSON only, same origin) and sets the session cookie.
async fn consume_magic_link(State(state): State<AppState>, request: Request) -> ApiResult {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported_media_type",
            "magic-link consume requires Content-Type: application/json",
        )
        .into());
    }
    if !is_same_origin(request.headers(), state.http().public_url.as_deref()) {
        return Err(
            Error::forbidden("cross_site", "cross-site login requests are not allowed").into(),
        );
    }
    let Json(input) = Json::<ConsumeRequest>::from_request(request, &state).await?;
    let consumed = state.chat().consume_magic_link(&input.token).await?;
    let cookie = session_cookie(
        &state,
        &consumed.session.token,
        &consumed.session.expires_at,
    );
    let mut response = ok(json!({
        "user": consumed.user,
        "session": consumed.session,
        "token": consumed.session.token,
    }));
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Revokes the calling session and clears the cookie.
async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let revoked = match &caller.via {
        AuthVia::Bearer(token) | AuthVia::Cookie(token) => state.chat().logout(token).await?,
        AuthVia::Dev => false,
    };
    let mut response = ok(json!({"logged_out": true, "revoked": revoked}));
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("cc_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    );
    Ok(response)
}

async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult {
    Ok(ok(json!({"user": state.chat().me(&caller.actor)?})))
}

#[derive(Deserialize)]
struct ProfilePatch {
    display_name: Option<String>,
    handle: Option<String>,
    avatar_url: Option<String>,
}

async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    Json(patch): Json<ProfilePatch>,
) -> ApiResult {
    let user = state
        .chat()
        .update_profile(
            &caller.actor,
            patch.display_name.as_deref(),
            patch.handle.as_deref(),
            patch.avatar_url.as_deref(),
        )
        .await?;
    Ok(ok(json!({"user": user})))
}
