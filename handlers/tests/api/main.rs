//! HTTP integration tests: `handlers::app(state)` driven with `tower::ServiceExt::oneshot`
//! against a real libSQL temp database. One module per resource.

mod auth;
mod bots;
mod channels;
mod common;
mod dms;
mod errors;
mod github;
mod hooks;
mod messages;
mod openapi;
mod operations;
mod pins;
mod reactions;
mod reads;
mod realtime;
mod search;
mod threads;
mod uploads;
mod webhooks;
mod workspaces;

pub use common::*;
