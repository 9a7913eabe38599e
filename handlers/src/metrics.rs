//! `/metrics`: Prometheus text exposition from a small hand-written registry (opt-in with
//! `HttpConfig::metrics_enabled`; 404 JSON when off).
//!
//! Series: `clickclack_http_requests_total{route,method,status}` (route = the matched
//! route pattern, `unmatched` otherwise), `clickclack_http_request_duration_seconds{route}`
//! (histogram), `clickclack_writer_batches_total`, `clickclack_writer_commands_total`,
//! `clickclack_event_log_position`, `clickclack_websockets_open`.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the duration histogram buckets.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Cumulative counts are computed at render time; these are per bucket.
    buckets: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Series {
    requests: HashMap<(String, &'static str, u16), u64>,
    durations: HashMap<String, Histogram>,
}

/// The process's HTTP metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    observed: AtomicU64,
    series: Mutex<Series>,
}

/// A bounded method label (extension methods collapse to `OTHER`).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(
        &self,
        route: &str,
        method: &axum::http::Method,
        status: u16,
        elapsed: Duration,
    ) {
        self.observed.fetch_add(1, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        *series
            .requests
            .entry((route.to_string(), method_label(method), status))
            .or_default() += 1;
        let histogram = series.durations.entry(route.to_string()).or_default();
        if let Some(i) = DURATION_BUCKETS.iter().position(|le| seconds <= *le) {
            histogram.buckets[i] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Requests observed so far.
    pub fn observed(&self) -> u64 {
        self.observed.load(Ordering::Relaxed)
    }

    /// The HTTP series in Prometheus text format, sorted for stable output.
    pub fn render_http(&self, out: &mut String) {
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let mut requests: Vec<_> = series.requests.iter().collect();
        requests.sort();
        out.push_str(
            "# HELP clickclack_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE clickclack_http_requests_total counter\n");
        for ((route, method, status), n) in requests {
            let _ = writeln!(
                out,
                "clickclack_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let mut durations: Vec<_> = series.durations.iter().collect();
        durations.sort_by(|a, b| a.0.cmp(b.0));
        out.push_str(
            "# HELP clickclack_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE clickclack_http_request_duration_seconds histogram\n");
        for (route, h) in durations {
            let route = escape(route);
            let mut cumulative = 0;
            for (le, n) in DURATION_BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "clickclack_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "clickclack_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "clickclack_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "clickclack_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
    }
}

fn scalar(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}

/// `GET /metrics`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> Response {
    if !state.http().metrics_enabled {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(
                serde_json::json!({"error": "metrics are not enabled", "code": "not_found"}),
            ),
        )
            .into_response();
    }
    let mut out = String::new();
    state.metrics().render_http(&mut out);
    let store = state.chat().store();
    let stats = store.writer_stats();
    scalar(
        &mut out,
        "clickclack_writer_batches_total",
        "counter",
        "Group commits made by the writer.",
        stats.batches,
    );
    scalar(
        &mut out,
        "clickclack_writer_commands_total",
        "counter",
        "Write commands committed by the writer.",
        stats.commands,
    );
    match clickclack_runtime::store::events::current_position(store).await {
        Ok(position) => scalar(
            &mut out,
            "clickclack_event_log_position",
            "gauge",
            "Newest position of the durable event log.",
            position,
        ),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the event log position"),
    }
    let sockets = state
        .http()
        .websockets_open
        .as_ref()
        .map_or(0, |gauge| gauge.read());
    scalar(
        &mut out,
        "clickclack_websockets_open",
        "gauge",
        "Open WebSocket connections.",
        sockets,
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
