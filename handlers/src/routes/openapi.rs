//! `GET /api/openapi.json`: the OpenAPI 3.1 document of this API (`handlers/openapi.json`,
//! embedded at build time; no authentication). The API tests keep it in step with the
//! router: route coverage both ways, and every JSON response validated against it.

use crate::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// The document, as committed.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(document))
}

async fn document() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        OPENAPI_JSON,
    )
}
