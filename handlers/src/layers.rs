//! Cross-cutting middleware: `X-Correlation-ID` on every response and one access-log line
//! per request (path without the query string), and request metrics by matched route.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The request's correlation id, available to handlers as an extension.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

const HEADER: &str = "x-correlation-id";

fn acceptable(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

/// Echoes a well-formed caller `X-Correlation-ID` or makes a new one, and logs the request.
pub async fn correlation(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| clickclack_runtime::ids::new_id("req"));
    request.extensions_mut().insert(CorrelationId(id.clone()));
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    tracing::debug!(
        correlation_id = %id,
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// Counts the request in [`crate::metrics::Metrics`] (when metrics are enabled) under its
/// matched route pattern, `unmatched` when no route matched.
pub async fn metrics(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !state.http().metrics_enabled {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics().observe(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
