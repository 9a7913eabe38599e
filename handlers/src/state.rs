//! Shared state: the runtime `Chat` and the HTTP settings. Cheap to clone.

use clickclack_runtime::chat::Chat;
use std::sync::Arc;

/// HTTP-level settings of a host.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Dev auth (`X-ClickClack-User`, first-user fallback, open magic-link request) for
    /// loopback requests only.
    pub dev_auth: bool,
    /// Canonical public origin, e.g. `https://chat.example.com` (no trailing slash).
    pub public_url: Option<String>,
    /// Realtime transports this host offers: `["ws","poll"]` or `["poll"]`.
    pub transports: Vec<&'static str>,
    /// Longest long-poll wait in seconds.
    pub max_wait_seconds: u64,
    pub max_json_bytes: usize,
    pub max_upload_bytes: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            dev_auth: false,
            public_url: None,
            transports: vec!["poll"],
            max_wait_seconds: 25,
            max_json_bytes: 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What every handler gets.
pub struct App {
    pub chat: Chat,
    pub http: HttpConfig,
}

/// The router state.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl AppState {
    pub fn new(chat: Chat, http: HttpConfig) -> Self {
        Self(Arc::new(App { chat, http }))
    }
    pub fn chat(&self) -> &Chat {
        &self.0.chat
    }
    pub fn http(&self) -> &HttpConfig {
        &self.0.http
    }
}
