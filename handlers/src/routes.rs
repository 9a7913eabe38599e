//! Route modules, one per resource. Each returns `Router<AppState>`; [`api`] merges them.

mod auth;
mod bots;
mod channels;
mod dms;
mod github;
mod hooks;
mod messages;
mod meta;
mod openapi;
mod pins;
mod reactions;
mod reads;
mod realtime;
mod search;
mod threads;
mod uploads;
mod webhooks;
mod workspaces;

pub use meta::health;

use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;

/// Every `/api` route.
pub fn api() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(github::routes())
        .merge(meta::routes())
        .merge(openapi::routes())
        .merge(workspaces::routes())
        .merge(channels::routes())
        .merge(messages::routes())
        .merge(threads::routes())
        .merge(reactions::routes())
        .merge(pins::routes())
        .merge(dms::routes())
        .merge(reads::routes())
        .merge(hooks::routes())
        .merge(realtime::routes())
        .merge(search::routes())
        .merge(uploads::routes())
        .merge(bots::routes())
        .merge(webhooks::routes())
}

/// `201 Created` with a JSON body.
pub fn created<T: Serialize>(body: T) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// `200 OK` with a JSON body.
pub fn ok<T: Serialize>(body: T) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Result alias for handlers.
pub type ApiResult = Result<Response, crate::ApiError>;
