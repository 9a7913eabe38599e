//! Shared state: the runtime `Chat` and the HTTP settings. Cheap to clone.

use crate::limits::{Limiter, RateLimits};
use crate::metrics::Metrics;
use clickclack_runtime::chat::Chat;
use std::fmt;
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
    /// GitHub OAuth sign-in; `None` answers 501 `github_unconfigured`.
    pub github: Option<GithubConfig>,
    /// Serve Prometheus text at `/metrics` (404 when off).
    pub metrics_enabled: bool,
    /// Open WebSockets for `clickclack_websockets_open` (hosts with a hub set it).
    pub websockets_open: Option<Gauge>,
    /// Request rate limits; the default never answers 429.
    pub rate_limits: RateLimits,
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
            github: None,
            metrics_enabled: false,
            websockets_open: None,
            rate_limits: RateLimits::default(),
        }
    }
}

/// A gauge read at scrape time, e.g. the hub's open socket count.
#[derive(Clone)]
pub struct Gauge(pub Arc<dyn Fn() -> u64 + Send + Sync>);

impl Gauge {
    pub fn new(f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
    pub fn read(&self) -> u64 {
        (self.0)()
    }
}

impl fmt::Debug for Gauge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Gauge(..)")
    }
}

/// GitHub OAuth settings. Provider URLs default to github.com / api.github.com; tests
/// point them at a local fake with [`GithubConfig::with_base_urls`].
#[derive(Clone, PartialEq, Eq)]
pub struct GithubConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Only members (state `active`) of this organization may sign in.
    pub allowed_org: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub user_url: String,
    pub emails_url: String,
    /// `<this>/<org>` is the caller's membership of `org`.
    pub org_membership_url: String,
}

impl GithubConfig {
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        allowed_org: Option<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            allowed_org: allowed_org
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty()),
            authorize_url: "https://github.com/login/oauth/authorize".into(),
            token_url: "https://github.com/login/oauth/access_token".into(),
            user_url: "https://api.github.com/user".into(),
            emails_url: "https://api.github.com/user/emails".into(),
            org_membership_url: "https://api.github.com/user/memberships/orgs".into(),
        }
    }

    /// Both id and secret set (blank counts as unset), else `None`.
    pub fn from_parts(
        client_id: Option<String>,
        client_secret: Option<String>,
        allowed_org: Option<String>,
    ) -> Option<Self> {
        let id = client_id
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())?;
        let secret = client_secret
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())?;
        Some(Self::new(id, secret, allowed_org))
    }

    /// Points every provider URL at `web` (OAuth pages) and `api` (REST API) bases.
    pub fn with_base_urls(mut self, web: &str, api: &str) -> Self {
        let (web, api) = (web.trim_end_matches('/'), api.trim_end_matches('/'));
        self.authorize_url = format!("{web}/login/oauth/authorize");
        self.token_url = format!("{web}/login/oauth/access_token");
        self.user_url = format!("{api}/user");
        self.emails_url = format!("{api}/user/emails");
        self.org_membership_url = format!("{api}/user/memberships/orgs");
        self
    }
}

impl fmt::Debug for GithubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("allowed_org", &self.allowed_org)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("user_url", &self.user_url)
            .field("emails_url", &self.emails_url)
            .field("org_membership_url", &self.org_membership_url)
            .finish()
    }
}

/// What every handler gets.
pub struct App {
    pub chat: Chat,
    pub http: HttpConfig,
    pub metrics: Metrics,
    pub limiter: Limiter,
}

/// The router state.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl AppState {
    pub fn new(chat: Chat, http: HttpConfig) -> Self {
        let limiter = Limiter::new(http.rate_limits.clone());
        Self(Arc::new(App {
            chat,
            http,
            metrics: Metrics::default(),
            limiter,
        }))
    }
    pub fn chat(&self) -> &Chat {
        &self.0.chat
    }
    pub fn http(&self) -> &HttpConfig {
        &self.0.http
    }
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
    pub fn limiter(&self) -> &Limiter {
        &self.0.limiter
    }
}
