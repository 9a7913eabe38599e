//! # clickclack-lambda
//!
//! The AWS Lambda host: the same [`clickclack_handlers::app`] router the `clickclack` server
//! runs, served by `lambda_http` for API Gateway REST (payload 1.0), HTTP API (payload 2.0)
//! and Function URL events. Realtime is poll-only here (`transports: ["poll"]`): a Lambda
//! cannot hold a WebSocket, and `/api/realtime/events?wait=` re-reads the event log until
//! the deadline, so a post handled by another instance still wakes a long-poll.
//!
//! Per cold start, [`state_from_env`] reads the configuration from the environment
//! ([`LambdaConfig`]), opens the store once **without migrating** (migrations are a deploy
//! step: `clickclack migrate`) and fails with a clear message when the schema is not current.
//! [`run`] is the whole binary: logging, state, then `lambda_http::run(app(state))`.
//!
//! Uploads: `CLICKCLACK_UPLOADS` must name durable shared storage — `s3://bucket/prefix`
//! (presigned uploads and download redirects keep large files out of the 6 MB Lambda
//! payload) or a `file://` directory on a shared file system (EFS, like the database).
//! `memory://` is refused at startup (each instance would see different files). Unset, the
//! upload routes answer 503 `uploads_unconfigured` and everything else works.

use axum::extract::Request;
use axum::Router;
use clickclack_handlers::limits::RateLimits;
use clickclack_handlers::{AppState, GithubConfig, HttpConfig};
use clickclack_runtime::chat::{Chat, ChatConfig};
use clickclack_runtime::chat::{DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_UPLOAD_QUOTA_BYTES};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions, SyncMode};
use clickclack_runtime::uploads::UploadStore;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub mod secrets;
pub use secrets::SecretsExtension;

/// The longest long-poll any host allows (decisions §4).
pub const MAX_WAIT_CAP_SECONDS: u64 = 25;

/// Seconds kept free between the longest long-poll and the function timeout, so the
/// response leaves before Lambda kills the invocation.
pub const TIMEOUT_MARGIN_SECONDS: u64 = 3;

/// A configuration or startup failure: the function logs it and exits non-zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupError(pub String);

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

/// Everything the Lambda host reads from its environment, resolved and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaConfig {
    /// `CLICKCLACK_DB`, else `CLICKCLACK_DATA/clickclack.db`.
    pub db: DbLocation,
    /// `CLICKCLACK_SYNC` (`full` by default).
    pub sync: SyncMode,
    /// `CLICKCLACK_PUBLIC_URL`, validated as an origin without trailing slash.
    pub public_url: Option<String>,
    /// `min(25, CLICKCLACK_MAX_WAIT_SECONDS, AWS_LAMBDA_FUNCTION_TIMEOUT - 3)`.
    pub max_wait_seconds: u64,
    /// `CLICKCLACK_UPLOADS`: `s3://…` or `file://…`; `None` disables uploads (503).
    pub uploads: Option<String>,
    /// `CLICKCLACK_MAX_UPLOAD_BYTES` (64 MiB by default).
    pub max_upload_bytes: u64,
    /// `CLICKCLACK_UPLOAD_QUOTA_BYTES` (1 GiB by default).
    pub upload_quota_bytes: u64,
    /// `CLICKCLACK_GITHUB_CLIENT_ID` + `_CLIENT_SECRET` (+ `_ALLOWED_ORG`).
    pub github: Option<GithubConfig>,
    /// `CLICKCLACK_DB_AUTH_TOKEN_SECRET`: a Secrets Manager secret (name or ARN) holding
    /// the libSQL token, read at cold start by [`LambdaConfig::resolve_secrets`].
    pub db_auth_token_secret: Option<String>,
    /// `CLICKCLACK_METRICS_ENABLED`: Prometheus text at `/metrics` (off by default).
    pub metrics_enabled: bool,
    /// `CLICKCLACK_RATE_LIMIT_WRITES_PER_MINUTE` / `CLICKCLACK_RATE_LIMIT_AUTH_PER_MINUTE`
    /// (unset or 0 = unlimited). Counted per instance, by session or client address.
    pub rate_limit_writes_per_minute: Option<u32>,
    pub rate_limit_auth_per_minute: Option<u32>,
}

impl LambdaConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<LambdaConfig, StartupError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Resolves the configuration from `get` (the environment, or a map in tests). Empty
    /// values count as unset. `CLICKCLACK_DEV_BOOTSTRAP` is ignored: dev auth is always off
    /// on Lambda.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaConfig, StartupError> {
        let get = |key: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let db = match (get("CLICKCLACK_DB"), get("CLICKCLACK_DATA")) {
            (Some(url), _) => parse_db(&url, &get)?,
            (None, Some(data)) => DbLocation::in_data_dir(&PathBuf::from(data)),
            (None, None) => {
                return Err(StartupError(
                    "no database configured: set CLICKCLACK_DB (or CLICKCLACK_DATA, which uses <data>/clickclack.db)"
                        .to_string(),
                ))
            }
        };
        let sync = match get("CLICKCLACK_SYNC") {
            None => SyncMode::Full,
            Some(s) => SyncMode::parse(&s).ok_or_else(|| {
                StartupError(format!(
                    "invalid CLICKCLACK_SYNC {s:?}: expected \"full\" or \"normal\""
                ))
            })?,
        };
        let public_url = get("CLICKCLACK_PUBLIC_URL")
            .map(|u| normalize_public_url(&u))
            .transpose()?;
        let mut max_wait_seconds = MAX_WAIT_CAP_SECONDS;
        if let Some(v) = get("CLICKCLACK_MAX_WAIT_SECONDS") {
            let wanted: u64 = v.parse().map_err(|_| {
                StartupError(format!(
                    "invalid CLICKCLACK_MAX_WAIT_SECONDS {v:?}: expected whole seconds"
                ))
            })?;
            max_wait_seconds = wanted.min(MAX_WAIT_CAP_SECONDS);
        }
        if let Some(v) = get("AWS_LAMBDA_FUNCTION_TIMEOUT") {
            match v.parse::<u64>() {
                Ok(timeout) => {
                    max_wait_seconds =
                        max_wait_seconds.min(timeout.saturating_sub(TIMEOUT_MARGIN_SECONDS));
                }
                Err(_) => {
                    tracing::warn!(value = %v, "ignoring unparsable AWS_LAMBDA_FUNCTION_TIMEOUT")
                }
            }
        }
        if get("CLICKCLACK_DEV_BOOTSTRAP").is_some_and(|v| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "false" | "0" | "no" | "off"
            )
        }) {
            tracing::warn!("CLICKCLACK_DEV_BOOTSTRAP is ignored on Lambda: dev auth is always off");
        }
        let uploads = get("CLICKCLACK_UPLOADS");
        if let Some(url) = &uploads {
            let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
            match scheme.as_deref() {
                Some("s3" | "file") => {}
                Some("memory") => {
                    return Err(StartupError(format!(
                        "CLICKCLACK_UPLOADS {url:?}: memory:// is not durable across Lambda \
                         instances; use s3://bucket/prefix (or a file:// directory on EFS)"
                    )))
                }
                _ => {
                    return Err(StartupError(format!(
                    "invalid CLICKCLACK_UPLOADS {url:?}: expected s3://bucket/prefix or file://DIR"
                )))
                }
            }
        }
        let bytes = |key: &str, default: u64| -> Result<u64, StartupError> {
            match get(key) {
                None => Ok(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(StartupError(format!(
                        "invalid {key} {v:?}: expected a positive number of bytes"
                    ))),
                },
            }
        };
        let max_upload_bytes = bytes("CLICKCLACK_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)?;
        let upload_quota_bytes =
            bytes("CLICKCLACK_UPLOAD_QUOTA_BYTES", DEFAULT_UPLOAD_QUOTA_BYTES)?;
        let github = GithubConfig::from_parts(
            get("CLICKCLACK_GITHUB_CLIENT_ID"),
            get("CLICKCLACK_GITHUB_CLIENT_SECRET"),
            get("CLICKCLACK_GITHUB_ALLOWED_ORG"),
        );
        let db_auth_token_secret = get("CLICKCLACK_DB_AUTH_TOKEN_SECRET");
        let metrics_enabled = match get("CLICKCLACK_METRICS_ENABLED") {
            None => false,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                StartupError(format!(
                    "invalid CLICKCLACK_METRICS_ENABLED {v:?}: expected true or false"
                ))
            })?,
        };
        let per_minute = |key: &str| -> Result<Option<u32>, StartupError> {
            match get(key) {
                None => Ok(None),
                Some(v) => v
                    .parse::<u32>()
                    .map(|n| Some(n).filter(|n| *n > 0))
                    .map_err(|_| {
                        StartupError(format!(
                            "invalid {key} {v:?}: expected a whole number of requests"
                        ))
                    }),
            }
        };
        let rate_limit_writes_per_minute = per_minute("CLICKCLACK_RATE_LIMIT_WRITES_PER_MINUTE")?;
        let rate_limit_auth_per_minute = per_minute("CLICKCLACK_RATE_LIMIT_AUTH_PER_MINUTE")?;
        Ok(LambdaConfig {
            db_auth_token_secret,
            metrics_enabled,
            rate_limit_writes_per_minute,
            rate_limit_auth_per_minute,
            db,
            sync,
            public_url,
            max_wait_seconds,
            uploads,
            max_upload_bytes,
            upload_quota_bytes,
            github,
        })
    }

    /// The HTTP settings of this host: no dev auth, poll only.
    pub fn http(&self) -> HttpConfig {
        HttpConfig {
            dev_auth: false,
            public_url: self.public_url.clone(),
            transports: vec!["poll"],
            max_wait_seconds: self.max_wait_seconds,
            max_upload_bytes: self.max_upload_bytes,
            github: self.github.clone(),
            metrics_enabled: self.metrics_enabled,
            rate_limits: RateLimits::per_minute(
                self.rate_limit_writes_per_minute,
                self.rate_limit_auth_per_minute,
            ),
            ..HttpConfig::default()
        }
    }
}

/// A boolean setting as `serve` accepts it (`true/false`, `1/0`, `yes/no`, `on/off`).
fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Whether log lines are JSON: `CLICKCLACK_LOG_FORMAT=json`, or Lambda's own
/// `AWS_LAMBDA_LOG_FORMAT=JSON` (advanced logging controls).
pub fn json_logs(get: impl Fn(&str) -> Option<String>) -> bool {
    let is_json = |key: &str| get(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("json"));
    is_json("CLICKCLACK_LOG_FORMAT") || is_json("AWS_LAMBDA_LOG_FORMAT")
}

/// Logging to stdout (CloudWatch): JSON objects (flattened fields, like `serve
/// --log-format json`) when [`json_logs`], else `lambda_http`'s default text format.
/// The level comes from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`.
pub fn init_logging(json: bool) {
    use lambda_http::tracing::subscriber::{fmt, EnvFilter};
    if !json {
        lambda_http::tracing::init_default_subscriber();
        return;
    }
    let filter = EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}

/// `CLICKCLACK_DB` with `CLICKCLACK_DB_AUTH_TOKEN`, `CLICKCLACK_DB_SYNC_URL` (a local path
/// becomes an embedded replica, e.g. in `/tmp`) and `CLICKCLACK_DB_SYNC_INTERVAL` (seconds).
fn parse_db(url: &str, get: &impl Fn(&str) -> Option<String>) -> Result<DbLocation, StartupError> {
    let invalid = |why: String| StartupError(format!("invalid CLICKCLACK_DB {url:?}: {why}"));
    let mut db = DbLocation::parse(url).map_err(|e| invalid(e.message))?;
    if let Some(sync_url) = get("CLICKCLACK_DB_SYNC_URL") {
        db = db
            .with_sync_url(&sync_url)
            .map_err(|e| invalid(e.message))?;
    }
    if let Some(token) = get("CLICKCLACK_DB_AUTH_TOKEN") {
        db = db.with_auth_token(&token);
    }
    if let Some(v) = get("CLICKCLACK_DB_SYNC_INTERVAL") {
        let secs: f64 = v
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
            .ok_or_else(|| {
                StartupError(format!(
                    "invalid CLICKCLACK_DB_SYNC_INTERVAL {v:?}: expected a positive number of seconds"
                ))
            })?;
        db = db.with_sync_interval(Duration::from_secs_f64(secs));
    }
    Ok(db)
}

impl LambdaConfig {
    /// Reads secrets named in the configuration (today the libSQL token from
    /// `CLICKCLACK_DB_AUTH_TOKEN_SECRET`) through the Secrets extension; once per cold start.
    pub async fn resolve_secrets(
        &mut self,
        extension: &SecretsExtension,
    ) -> Result<(), StartupError> {
        if let Some(secret_id) = &self.db_auth_token_secret {
            let token = extension.secret_string(secret_id).await?;
            self.db = self.db.clone().with_auth_token(&token);
        }
        Ok(())
    }
}

/// `CLICKCLACK_PUBLIC_URL` as an origin: `http(s)://host[:port]`, no path, lowercased,
/// without trailing slash; plain http only for loopback hosts.
fn normalize_public_url(url: &str) -> Result<String, StartupError> {
    let url = url.trim().trim_end_matches('/').to_ascii_lowercase();
    let invalid = |why: &str| StartupError(format!("invalid CLICKCLACK_PUBLIC_URL {url:?}: {why}"));
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid("expected http(s)://host[:port]"));
    };
    if scheme != "https" && scheme != "http" {
        return Err(invalid("scheme must be https or http"));
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return Err(invalid("it must be an origin: scheme://host[:port] only"));
    }
    let host = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
    let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    if scheme == "http" && !loopback {
        return Err(invalid(
            "plain http is only allowed for loopback hosts; use https",
        ));
    }
    Ok(url)
}

/// Opens the store the way a Lambda does — once, without migrating — and builds the state.
/// A database that does not exist or is behind the embedded migrations is an error whose
/// message says to run `clickclack migrate`.
pub async fn state_from_config(config: &LambdaConfig) -> Result<AppState, StartupError> {
    if let DbLocation::Local { path } = &config.db {
        if !path.exists() {
            return Err(StartupError(format!(
                "database schema is not current: {} does not exist; run `clickclack migrate` against it before deploying",
                path.display()
            )));
        }
    }
    let store = Store::open(StoreOptions {
        sync: config.sync,
        migrate: false,
        ..StoreOptions::new(config.db.clone())
    })
    .await
    .map_err(|e| {
        StartupError(format!(
            "cannot start with database {}: {}",
            config.db.describe(),
            e.message
        ))
    })?;
    let mut chat = Chat::new(
        store,
        ChatConfig {
            max_upload_bytes: config.max_upload_bytes,
            upload_quota_bytes: config.upload_quota_bytes,
            ..ChatConfig::default()
        },
    );
    match &config.uploads {
        Some(url) => {
            let uploads = UploadStore::open(url).map_err(|e| {
                StartupError(format!(
                    "cannot open CLICKCLACK_UPLOADS {url:?}: {}",
                    e.message
                ))
            })?;
            chat = chat.with_uploads(uploads);
        }
        None => tracing::warn!("CLICKCLACK_UPLOADS is not set: upload routes answer 503"),
    }
    tracing::info!(
        db = %config.db.describe(),
        sync = config.sync.as_str(),
        max_wait_seconds = config.max_wait_seconds,
        uploads = config.uploads.as_deref().unwrap_or("(off)"),
        epoch = chat.store().epoch(),
        "ClickClack Lambda ready (transports: poll)"
    );
    Ok(AppState::new(chat, config.http()))
}

/// [`LambdaConfig::from_env`] then [`state_from_config`].
pub async fn state_from_env() -> Result<AppState, StartupError> {
    let mut config = LambdaConfig::from_env()?;
    config
        .resolve_secrets(&SecretsExtension::from_lookup(|k| std::env::var(k).ok()))
        .await?;
    state_from_config(&config).await
}

/// The router this host serves: the shared app, reached at the origin root whatever the
/// API Gateway stage is called (the web app and the API live at `/`, so a `/prod` stage
/// prefix is dropped before routing).
pub fn app(state: AppState) -> Router {
    Router::new()
        .fallback_service(clickclack_handlers::app(state))
        .layer(axum::middleware::map_request(strip_stage))
        .layer(axum::middleware::map_request(client_address))
}

/// Gives the request the API Gateway / Function URL client address as its peer
/// (`ConnectInfo`), so per-address rate limits count callers, not one shared bucket.
async fn client_address(mut req: Request) -> Request {
    let source_ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = source_ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(ip, 0)));
    }
    req
}

/// Undoes the stage prefix `lambda_http` puts in front of API Gateway paths: REST API
/// (v1) events get `/{stage}` prepended to `path` unless `path` already starts with it;
/// HTTP API (v2) `rawPath` carries it for every stage except `$default` (Function URLs
/// always use `$default`).
async fn strip_stage(mut req: Request) -> Request {
    let stripped = {
        let path = req.uri().path();
        let stage = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(ctx)) => ctx
                .stage
                .as_deref()
                .filter(|stage| !req.raw_http_path().starts_with(&format!("/{stage}/"))),
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.as_deref(),
            _ => None,
        };
        stage
            .filter(|stage| *stage != "$default")
            .and_then(|stage| path.strip_prefix(&format!("/{stage}")))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .map(|rest| {
                if rest.is_empty() {
                    "/".to_string()
                } else {
                    rest.to_string()
                }
            })
    };
    if let Some(path) = stripped {
        let path_and_query = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

/// The `bootstrap` binary: logging, state from the environment (once per cold start), then
/// the Lambda event loop. A startup error is logged and the process exits non-zero, which
/// Lambda reports as an init failure.
pub async fn run() -> ExitCode {
    init_logging(json_logs(|key| std::env::var(key).ok()));
    let state = match state_from_env().await {
        Ok(state) => state,
        Err(e) => {
            tracing::error!("clickclack-lambda cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match lambda_http::run(app(state)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("clickclack-lambda runtime loop failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    fn config(pairs: &[(&str, &str)]) -> Result<LambdaConfig, StartupError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LambdaConfig::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn db_from_db_or_data() {
        let c = config(&[("CLICKCLACK_DB", "/mnt/a.db"), ("CLICKCLACK_DATA", "/x")]).unwrap();
        assert_eq!(c.db.local_path(), Some(Path::new("/mnt/a.db")));
        let c = config(&[("CLICKCLACK_DATA", "/tmp/data")]).unwrap();
        assert_eq!(
            c.db.local_path(),
            Some(Path::new("/tmp/data/clickclack.db"))
        );
        let c = config(&[("CLICKCLACK_DB", "  "), ("CLICKCLACK_DATA", "/d")]).unwrap();
        assert_eq!(c.db.local_path(), Some(Path::new("/d/clickclack.db")));
        assert!(config(&[]).unwrap_err().0.contains("CLICKCLACK_DB"));
    }

    #[test]
    fn remote_and_replica_databases_by_url() {
        let c = config(&[
            ("CLICKCLACK_DB", "libsql://chat-org.turso.io"),
            ("CLICKCLACK_DB_AUTH_TOKEN", "tok"),
        ])
        .unwrap();
        assert_eq!(
            c.db,
            DbLocation::Remote {
                url: "libsql://chat-org.turso.io".into(),
                auth_token: "tok".into()
            }
        );
        let c = config(&[
            ("CLICKCLACK_DB", "/tmp/replica.db"),
            ("CLICKCLACK_DB_SYNC_URL", "https://primary.example"),
            ("CLICKCLACK_DB_SYNC_INTERVAL", "0.5"),
            ("CLICKCLACK_DB_AUTH_TOKEN_SECRET", "clickclack/db-token"),
        ])
        .unwrap();
        assert_eq!(
            c.db,
            DbLocation::Replica {
                path: "/tmp/replica.db".into(),
                sync_url: "https://primary.example".into(),
                auth_token: String::new(),
                sync_interval: Duration::from_millis(500),
            }
        );
        assert_eq!(
            c.db_auth_token_secret.as_deref(),
            Some("clickclack/db-token")
        );
        let e = config(&[
            ("CLICKCLACK_DB", "/tmp/r.db"),
            ("CLICKCLACK_DB_SYNC_INTERVAL", "soon"),
        ])
        .unwrap_err();
        assert!(e.0.contains("CLICKCLACK_DB_SYNC_INTERVAL"), "{e}");
        let e = config(&[
            ("CLICKCLACK_DB", "libsql://a"),
            ("CLICKCLACK_DB_SYNC_URL", "libsql://b"),
        ])
        .unwrap_err();
        assert!(e.0.contains("local database path"), "{e}");
    }

    #[test]
    fn metrics_rate_limits_and_log_format() {
        let c = config(&[("CLICKCLACK_DATA", "/d")]).unwrap();
        assert!(!c.http().metrics_enabled);
        assert!(!c.http().rate_limits.enabled());
        let c = config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_METRICS_ENABLED", "TRUE"),
            ("CLICKCLACK_RATE_LIMIT_WRITES_PER_MINUTE", "30"),
            ("CLICKCLACK_RATE_LIMIT_AUTH_PER_MINUTE", "0"),
        ])
        .unwrap();
        let http = c.http();
        assert!(http.metrics_enabled);
        assert_eq!(http.rate_limits.writes_per_minute, Some(30));
        assert_eq!(http.rate_limits.auth_per_minute, None);
        for (key, bad) in [
            ("CLICKCLACK_METRICS_ENABLED", "maybe"),
            ("CLICKCLACK_RATE_LIMIT_WRITES_PER_MINUTE", "-1"),
            ("CLICKCLACK_RATE_LIMIT_AUTH_PER_MINUTE", "lots"),
        ] {
            let e = config(&[("CLICKCLACK_DATA", "/d"), (key, bad)]).unwrap_err();
            assert!(e.0.contains(key), "{e}");
        }
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(!json_logs(env(&[])));
        assert!(json_logs(env(&[("CLICKCLACK_LOG_FORMAT", "JSON")])));
        assert!(json_logs(env(&[("AWS_LAMBDA_LOG_FORMAT", "JSON")])));
        assert!(!json_logs(env(&[("CLICKCLACK_LOG_FORMAT", "text")])));
    }

    #[test]
    fn defaults_and_http_settings() {
        let c = config(&[("CLICKCLACK_DATA", "/tmp/d")]).unwrap();
        assert_eq!(c.sync, SyncMode::Full);
        assert_eq!(c.public_url, None);
        assert_eq!(c.max_wait_seconds, 25);
        let http = c.http();
        assert!(!http.dev_auth);
        assert_eq!(http.transports, vec!["poll"]);
        assert_eq!(http.max_wait_seconds, 25);
    }

    #[test]
    fn dev_bootstrap_is_forced_off() {
        let c = config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_DEV_BOOTSTRAP", "true"),
        ])
        .unwrap();
        assert!(!c.http().dev_auth);
    }

    #[test]
    fn max_wait_respects_cap_override_and_function_timeout() {
        let wait = |pairs: &[(&str, &str)]| {
            let mut all = vec![("CLICKCLACK_DATA", "/d")];
            all.extend_from_slice(pairs);
            config(&all).unwrap().max_wait_seconds
        };
        assert_eq!(wait(&[("CLICKCLACK_MAX_WAIT_SECONDS", "10")]), 10);
        assert_eq!(wait(&[("CLICKCLACK_MAX_WAIT_SECONDS", "60")]), 25);
        assert_eq!(wait(&[("AWS_LAMBDA_FUNCTION_TIMEOUT", "30")]), 25);
        assert_eq!(wait(&[("AWS_LAMBDA_FUNCTION_TIMEOUT", "10")]), 7);
        assert_eq!(wait(&[("AWS_LAMBDA_FUNCTION_TIMEOUT", "2")]), 0);
        assert_eq!(
            wait(&[
                ("AWS_LAMBDA_FUNCTION_TIMEOUT", "15"),
                ("CLICKCLACK_MAX_WAIT_SECONDS", "5")
            ]),
            5
        );
        assert_eq!(wait(&[("AWS_LAMBDA_FUNCTION_TIMEOUT", "soon")]), 25);
        assert!(config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_MAX_WAIT_SECONDS", "x")
        ])
        .is_err());
    }

    #[test]
    fn uploads_need_durable_storage() {
        let c = config(&[("CLICKCLACK_DATA", "/d")]).unwrap();
        assert_eq!(c.uploads, None);
        assert_eq!(c.max_upload_bytes, 64 * 1024 * 1024);
        assert_eq!(c.http().max_upload_bytes, 64 * 1024 * 1024);
        let c = config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_UPLOADS", "s3://chat-uploads/prod"),
            ("CLICKCLACK_MAX_UPLOAD_BYTES", "1048576"),
            ("CLICKCLACK_UPLOAD_QUOTA_BYTES", "2097152"),
        ])
        .unwrap();
        assert_eq!(c.uploads.as_deref(), Some("s3://chat-uploads/prod"));
        assert_eq!(
            (c.max_upload_bytes, c.upload_quota_bytes),
            (1 << 20, 2 << 20)
        );
        assert_eq!(c.http().max_upload_bytes, 1 << 20);
        assert!(config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_UPLOADS", "file:///mnt/efs/up")
        ])
        .is_ok());
        let e = config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_UPLOADS", "memory://"),
        ])
        .unwrap_err();
        assert!(e.0.contains("memory://"), "{e}");
        assert!(config(&[("CLICKCLACK_DATA", "/d"), ("CLICKCLACK_UPLOADS", "/tmp/up")]).is_err());
        assert!(config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_MAX_UPLOAD_BYTES", "0")
        ])
        .is_err());
        assert!(config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_UPLOAD_QUOTA_BYTES", "lots")
        ])
        .is_err());
    }

    #[test]
    fn sync_and_public_url() {
        let c = config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_SYNC", "NORMAL"),
            ("CLICKCLACK_PUBLIC_URL", "https://Chat.Example.com/"),
        ])
        .unwrap();
        assert_eq!(c.sync, SyncMode::Normal);
        assert_eq!(c.public_url.as_deref(), Some("https://chat.example.com"));
        assert!(config(&[("CLICKCLACK_DATA", "/d"), ("CLICKCLACK_SYNC", "off")]).is_err());
        for bad in [
            "chat.example.com",
            "http://chat.example.com",
            "https://x.com/app",
        ] {
            assert!(
                config(&[("CLICKCLACK_DATA", "/d"), ("CLICKCLACK_PUBLIC_URL", bad)]).is_err(),
                "{bad}"
            );
        }
        assert!(config(&[
            ("CLICKCLACK_DATA", "/d"),
            ("CLICKCLACK_PUBLIC_URL", "http://localhost:9000")
        ])
        .is_ok());
    }
}
