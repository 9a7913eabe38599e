//! # clickclack-handlers
//!
//! The HTTP face of ClickClack: stateless axum handlers that turn requests into
//! `clickclack_runtime::chat` calls. One [`app`] builds the whole [`axum::Router`]; hosts
//! only wire it (`axum::serve` in `adapters/server`, `lambda_http::run` in `adapters/lambda`).
//!
//! Where things live:
//! - [`routes`]: one module per resource (`routes/messages.rs`, `routes/dms.rs`, …), each
//!   returning `Router<AppState>`. New endpoints go there and are merged in [`routes::api`].
//! - [`state`]: [`AppState`] (the `Chat` plus HTTP settings).
//! - [`error`]: [`ApiError`], the single place mapping runtime errors to statuses and bodies.
//! - [`extract`]: the [`extract::Caller`] (auth precedence, CSRF, dev fallback) and a
//!   [`extract::Json`] whose rejections are `ApiError`s.
//! - [`origin`]: same-origin and loopback rules shared by auth, CSRF and WebSocket upgrades.
//! - [`layers`]: correlation ids, request logging and request metrics.
//! - [`metrics`]: the `/metrics` registry; [`limits`]: in-memory rate limits.
//! - [`spa`]: the embedded web app (`web/dist`) and the JSON 404 for unknown `/api/*`.
//! - [`outgoing`]: the outgoing-webhook sender (sign, POST, record), run by the hosts —
//!   the HTTP half of `clickclack_runtime::chat::webhooks`, which plans and schedules.

pub mod error;
pub mod extract;
pub mod layers;
pub mod limits;
pub mod metrics;
pub mod origin;
pub mod outgoing;
pub mod routes;
pub mod spa;
pub mod state;

pub use error::ApiError;
pub use state::{AppState, Gauge, GithubConfig, HttpConfig};

use axum::Router;

/// Builds the complete router with its state. Both hosts serve exactly this.
pub fn app(state: AppState) -> Router {
    finish(router(), state)
}

/// Adds the state-aware layers (request metrics outermost, then rate limits) and attaches
/// the state. Hosts that add their own routes to [`router`] finish with this.
pub fn finish(router: Router<AppState>, state: AppState) -> Router {
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::metrics,
        ))
        .with_state(state)
}

/// The router before state is attached (hosts that add routes, like the WebSocket, merge
/// theirs into this and call `with_state` once).
pub fn router() -> Router<AppState> {
    let max_json = 1024 * 1024;
    Router::new()
        .merge(routes::api())
        .merge(routes::health())
        .merge(metrics::routes())
        .fallback(spa::fallback)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(max_json))
        .layer(axum::middleware::from_fn(layers::correlation))
}
