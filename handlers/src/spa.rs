//! The embedded web app (`web/dist`, built by the web workspace) and the fallback: unknown
//! `/api/*` paths get a JSON 404, never the SPA; `/assets/*` are immutable; every other GET
//! gets `index.html` so client-side routes (`/app/...`) work on reload.

use crate::ApiError;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use clickclack_runtime::Error;

#[derive(rust_embed::RustEmbed)]
#[folder = "../web/dist/"]
struct Assets;

fn serve(path: &str) -> Option<Response> {
    let file = Assets::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = (StatusCode::OK, file.data.into_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime.as_ref())
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Some(response)
}

/// The router fallback.
pub async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError(Error::not_found("route")).into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError(Error::not_found("route")).into_response();
    }
    let relative = path.trim_start_matches('/');
    if !relative.is_empty() {
        if let Some(response) = serve(relative) {
            return response;
        }
        if relative.starts_with("assets/") {
            return ApiError(Error::not_found("asset")).into_response();
        }
    }
    match serve("index.html") {
        Some(mut response) => {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
        None => ApiError(Error::not_found("web app")).into_response(),
    }
}
