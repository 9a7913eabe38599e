//! Settings resolution: defaults → JSON file (`--config`) → environment → explicit flags.
//!
//! clap already resolves flag-over-env into `Option`s (see [`crate::cli`]); this module puts
//! the JSON file underneath them and the defaults underneath that, so a value from the file
//! is never overridden by a default. A missing or invalid file is a startup error.

use crate::cli::{LogFormat, ServeArgs, StoreArgs, SyncArg, WebhookArgs};
use crate::error::CliError;
use clickclack_handlers::GithubConfig;
use clickclack_runtime::chat::{
    WebhookPolicy, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_UPLOAD_QUOTA_BYTES,
};
use clickclack_runtime::store::{DbLocation, SyncMode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `--addr` when nothing sets it: every interface, port 8080.
pub const DEFAULT_ADDR: &str = ":8080";
/// `--data` when nothing sets it.
pub const DEFAULT_DATA: &str = "./data";
/// `--dev-bootstrap` when nothing sets it (decisions §2.1: a fresh checkout is usable).
pub const DEFAULT_DEV_BOOTSTRAP: bool = true;

/// The keys this server reads from the JSON file; other keys are logged and ignored.
pub const FILE_KEYS: &[&str] = &[
    "addr",
    "data",
    "db",
    "db_auth_token",
    "db_sync_url",
    "db_sync_interval",
    "dev_bootstrap",
    "public_url",
    "sync",
    "uploads",
    "max_upload_bytes",
    "upload_quota_bytes",
    "metrics_enabled",
    "rate_limit_writes_per_minute",
    "rate_limit_auth_per_minute",
    "ws_ping_seconds",
    "github_client_id",
    "github_client_secret",
    "github_allowed_org",
    "log_format",
    "webhooks_worker",
    "webhook_retry_schedule",
    "webhook_timeout_seconds",
    "webhook_allow_private_targets",
];

/// The JSON configuration file. Empty strings count as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileConfig {
    pub addr: Option<String>,
    pub data: Option<String>,
    pub db: Option<String>,
    pub db_auth_token: Option<String>,
    pub db_sync_url: Option<String>,
    pub db_sync_interval: Option<Duration>,
    pub dev_bootstrap: Option<bool>,
    pub public_url: Option<String>,
    pub sync: Option<SyncMode>,
    pub uploads: Option<String>,
    pub max_upload_bytes: Option<u64>,
    pub upload_quota_bytes: Option<u64>,
    pub metrics_enabled: Option<bool>,
    pub rate_limit_writes_per_minute: Option<u32>,
    pub rate_limit_auth_per_minute: Option<u32>,
    pub ws_ping_seconds: Option<u64>,
    pub github_client_id: Option<String>,
    pub github_client_secret: Option<String>,
    pub github_allowed_org: Option<String>,
    pub log_format: Option<LogFormat>,
    pub webhooks_worker: Option<bool>,
    pub webhook_retry_schedule: Option<String>,
    pub webhook_timeout_seconds: Option<u64>,
    pub webhook_allow_private_targets: Option<bool>,
}

impl FileConfig {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<FileConfig, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::failed(format!("cannot read config file {}: {e}", path.display()))
        })?;
        Self::parse(&text)
            .map_err(|e| CliError::failed(format!("invalid config file {}: {e}", path.display())))
    }

    /// Parses the file's text: one JSON object.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Value::Object(map) = value else {
            return Err("expected a JSON object".to_string());
        };
        for key in map.keys().filter(|k| !FILE_KEYS.contains(&k.as_str())) {
            tracing::warn!(%key, "ignoring unknown config key");
        }
        let string = |key: &str| -> Result<Option<String>, String> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(_) => Err(format!("{key} must be a string")),
            }
        };
        let dev_bootstrap = match map.get("dev_bootstrap") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err("dev_bootstrap must be true or false".to_string()),
        };
        let bytes = |key: &str| -> Result<Option<u64>, String> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => match n.as_u64() {
                    Some(0) | None => {
                        Err(format!("{key} must be a positive whole number of bytes"))
                    }
                    Some(v) => Ok(Some(v)),
                },
                Some(_) => Err(format!("{key} must be a number of bytes")),
            }
        };
        let metrics_enabled = match map.get("metrics_enabled") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err("metrics_enabled must be true or false".to_string()),
        };
        let per_minute = |key: &str| -> Result<Option<u32>, String> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .map(|v| Some(v).filter(|v| *v > 0))
                    .ok_or_else(|| format!("{key} must be a whole number of requests")),
                Some(_) => Err(format!("{key} must be a number of requests")),
            }
        };
        let sync = match string("sync")? {
            None => None,
            Some(s) => Some(
                SyncMode::parse(&s)
                    .ok_or_else(|| format!("sync must be \"full\" or \"normal\", not {s:?}"))?,
            ),
        };
        Ok(FileConfig {
            addr: string("addr")?,
            data: string("data")?,
            db: string("db")?,
            db_auth_token: string("db_auth_token")?,
            db_sync_url: string("db_sync_url")?,
            db_sync_interval: match map.get("db_sync_interval") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => Some(
                    n.as_f64()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .map(Duration::from_secs_f64)
                        .ok_or("db_sync_interval must be a positive number of seconds")?,
                ),
                Some(_) => return Err("db_sync_interval must be a number of seconds".to_string()),
            },
            dev_bootstrap,
            public_url: string("public_url")?,
            sync,
            uploads: string("uploads")?,
            max_upload_bytes: bytes("max_upload_bytes")?,
            upload_quota_bytes: bytes("upload_quota_bytes")?,
            metrics_enabled,
            rate_limit_writes_per_minute: per_minute("rate_limit_writes_per_minute")?,
            rate_limit_auth_per_minute: per_minute("rate_limit_auth_per_minute")?,
            ws_ping_seconds: match map.get("ws_ping_seconds") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => Some(
                    n.as_u64()
                        .filter(|s| *s > 0)
                        .ok_or("ws_ping_seconds must be a positive whole number")?,
                ),
                Some(_) => return Err("ws_ping_seconds must be a number of seconds".to_string()),
            },
            github_client_id: string("github_client_id")?,
            github_client_secret: string("github_client_secret")?,
            github_allowed_org: string("github_allowed_org")?,
            log_format: match string("log_format")? {
                None => None,
                Some(f) => Some(LogFormat::parse(&f).ok_or_else(|| {
                    format!("log_format must be \"text\" or \"json\", not {f:?}")
                })?),
            },
            webhooks_worker: match map.get("webhooks_worker") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err("webhooks_worker must be true or false".to_string()),
            },
            webhook_retry_schedule: string("webhook_retry_schedule")?,
            webhook_timeout_seconds: match map.get("webhook_timeout_seconds") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => Some(
                    n.as_u64()
                        .filter(|s| *s > 0)
                        .ok_or("webhook_timeout_seconds must be a positive whole number")?,
                ),
                Some(_) => return Err("webhook_timeout_seconds must be a number".to_string()),
            },
            webhook_allow_private_targets: match map.get("webhook_allow_private_targets") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => {
                    return Err("webhook_allow_private_targets must be true or false".to_string())
                }
            },
        })
    }

    /// The file named by `--config`/`CLICKCLACK_CONFIG`, or an empty one.
    pub fn for_args(args: &StoreArgs) -> Result<FileConfig, CliError> {
        match &args.config {
            Some(path) => Self::load(path),
            None => Ok(FileConfig::default()),
        }
    }
}

/// Where the database and the data directory are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub data: PathBuf,
    pub db: DbLocation,
}

impl StoreConfig {
    /// Resolves `--data`/`--db` (flag or env) over the file over the defaults. `db`
    /// defaults to `<data>/clickclack.db`.
    pub fn resolve(args: &StoreArgs, file: &FileConfig) -> Result<StoreConfig, CliError> {
        let data = args
            .data
            .clone()
            .filter(|d| !d.as_os_str().is_empty())
            .or_else(|| file.data.as_ref().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
        let db = match args
            .db
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .or(file.db.as_deref())
        {
            Some(url) => DbLocation::parse(url)
                .map_err(|e| CliError::usage(format!("invalid --db {url:?}: {}", e.message)))?,
            None => DbLocation::in_data_dir(&data),
        };
        let pick = |flag: &Option<String>, file: &Option<String>| {
            flag.clone()
                .filter(|v| !v.trim().is_empty())
                .or_else(|| file.clone())
                .unwrap_or_default()
        };
        let db = db
            .with_sync_url(&pick(&args.db_sync_url, &file.db_sync_url))
            .map_err(|e| CliError::usage(e.message))?
            .with_auth_token(&pick(&args.db_auth_token, &file.db_auth_token));
        let interval = match args.db_sync_interval {
            Some(secs) if secs.is_finite() && secs > 0.0 => Some(Duration::from_secs_f64(secs)),
            Some(secs) => {
                return Err(CliError::usage(format!(
                    "invalid --db-sync-interval {secs}: must be a positive number of seconds"
                )))
            }
            None => file.db_sync_interval,
        };
        let db = match interval {
            Some(interval) => db.with_sync_interval(interval),
            None => db,
        };
        Ok(StoreConfig { data, db })
    }

    /// Reads the config file named in `args` (if any) and resolves.
    pub fn from_args(args: &StoreArgs) -> Result<StoreConfig, CliError> {
        Self::resolve(args, &FileConfig::for_args(args)?)
    }

    /// `<data>/uploads`.
    pub fn uploads_dir(&self) -> PathBuf {
        self.data.join("uploads")
    }

    /// Creates `<data>/` and `<data>/uploads/`.
    pub fn create_dirs(&self) -> Result<(), CliError> {
        for dir in [self.data.clone(), self.uploads_dir()] {
            std::fs::create_dir_all(&dir).map_err(|e| {
                CliError::failed(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        Ok(())
    }
}

/// Everything `serve` needs, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub store: StoreConfig,
    /// A bindable `host:port` (`:8080` became `0.0.0.0:8080`).
    pub addr: String,
    pub dev_bootstrap: bool,
    /// A validated origin without trailing slash.
    pub public_url: Option<String>,
    pub sync: SyncMode,
    /// Upload store URL (`file://…`, `s3://…`, `memory://`).
    pub uploads: String,
    pub max_upload_bytes: u64,
    pub upload_quota_bytes: u64,
    /// `/metrics` on (default off).
    pub metrics_enabled: bool,
    /// Per-minute limits; `None` (or 0) = unlimited.
    pub rate_limit_writes_per_minute: Option<u32>,
    pub rate_limit_auth_per_minute: Option<u32>,
    /// WebSocket ping (and credential re-check) interval; `None` = 30 s.
    pub ws_ping_seconds: Option<u64>,
    /// GitHub OAuth when both client id and secret are set.
    pub github: Option<GithubConfig>,
    /// Log lines as text or JSON.
    pub log_format: LogFormat,
    /// Run the outgoing-webhook worker in this process (default on).
    pub webhooks_worker: bool,
    /// Retry schedule and timeout of webhook deliveries.
    pub webhooks: WebhookPolicy,
}

impl ServeConfig {
    /// Resolves serve settings over the file named in `args` (if any).
    pub fn from_args(args: &ServeArgs) -> Result<ServeConfig, CliError> {
        Self::resolve(args, &FileConfig::for_args(&args.store)?)
    }

    /// Resolves serve settings: flag/env, then the file, then the defaults.
    pub fn resolve(args: &ServeArgs, file: &FileConfig) -> Result<ServeConfig, CliError> {
        let store = StoreConfig::resolve(&args.store, file)?;
        let addr = args
            .addr
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .or(file.addr.as_deref())
            .unwrap_or(DEFAULT_ADDR);
        let addr = normalize_addr(addr).map_err(CliError::usage)?;
        let dev_bootstrap = args
            .dev_bootstrap
            .or(file.dev_bootstrap)
            .unwrap_or(DEFAULT_DEV_BOOTSTRAP);
        let public_url = match args
            .public_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .or(file.public_url.as_deref())
        {
            Some(url) => Some(normalize_public_url(url).map_err(CliError::usage)?),
            None => None,
        };
        let sync = match args.sync {
            Some(SyncArg::Full) => SyncMode::Full,
            Some(SyncArg::Normal) => SyncMode::Normal,
            None => file.sync.unwrap_or_default(),
        };
        let uploads = args
            .uploads
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .or_else(|| file.uploads.clone())
            .unwrap_or_else(|| format!("file://{}", store.uploads_dir().display()));
        let positive = |flag: &str, value: Option<u64>| match value {
            Some(0) => Err(CliError::usage(format!(
                "{flag} must be a positive number of bytes"
            ))),
            other => Ok(other),
        };
        let max_upload_bytes = positive("--max-upload-bytes", args.max_upload_bytes)?
            .or(file.max_upload_bytes)
            .unwrap_or(DEFAULT_MAX_UPLOAD_BYTES);
        let upload_quota_bytes = positive("--upload-quota-bytes", args.upload_quota_bytes)?
            .or(file.upload_quota_bytes)
            .unwrap_or(DEFAULT_UPLOAD_QUOTA_BYTES);
        let metrics_enabled = args
            .metrics_enabled
            .or(file.metrics_enabled)
            .unwrap_or(false);
        let rate_limit_writes_per_minute = args
            .rate_limit_writes_per_minute
            .or(file.rate_limit_writes_per_minute)
            .filter(|n| *n > 0);
        let rate_limit_auth_per_minute = args
            .rate_limit_auth_per_minute
            .or(file.rate_limit_auth_per_minute)
            .filter(|n| *n > 0);
        let github = GithubConfig::from_parts(
            args.github_client_id
                .clone()
                .or_else(|| file.github_client_id.clone()),
            args.github_client_secret
                .clone()
                .or_else(|| file.github_client_secret.clone()),
            args.github_allowed_org
                .clone()
                .or_else(|| file.github_allowed_org.clone()),
        );
        Ok(ServeConfig {
            store,
            addr,
            dev_bootstrap,
            public_url,
            sync,
            uploads,
            max_upload_bytes,
            upload_quota_bytes,
            metrics_enabled,
            rate_limit_writes_per_minute,
            rate_limit_auth_per_minute,
            ws_ping_seconds: match args.ws_ping_seconds {
                Some(0) => {
                    return Err(CliError::usage(
                        "--ws-ping-seconds must be a positive number of seconds",
                    ))
                }
                Some(s) => Some(s),
                None => file.ws_ping_seconds,
            },
            github,
            log_format: log_format(args.log_format, file),
            webhooks_worker: args
                .webhooks_worker
                .or(file.webhooks_worker)
                .unwrap_or(true),
            webhooks: webhook_policy(&args.webhooks, file)?,
        })
    }
}

/// `--log-format` (flag or env) over the file over `text`.
pub fn log_format(flag: Option<LogFormat>, file: &FileConfig) -> LogFormat {
    flag.or(file.log_format).unwrap_or_default()
}

/// Webhook delivery settings: flag/env over the file over [`WebhookPolicy::default`].
pub fn webhook_policy(args: &WebhookArgs, file: &FileConfig) -> Result<WebhookPolicy, CliError> {
    let mut policy = WebhookPolicy::default();
    if let Some(text) = args
        .webhook_retry_schedule
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(file.webhook_retry_schedule.as_deref())
    {
        policy.schedule = WebhookPolicy::parse_schedule(text)
            .map_err(|e| CliError::usage(format!("webhook retry schedule: {e}")))?;
    }
    match args
        .webhook_timeout_seconds
        .or(file.webhook_timeout_seconds)
    {
        Some(0) => {
            return Err(CliError::usage(
                "--webhook-timeout-seconds must be a positive number of seconds",
            ))
        }
        Some(seconds) => policy.timeout = std::time::Duration::from_secs(seconds),
        None => {}
    }
    policy.allow_private_targets = args
        .webhook_allow_private_targets
        .or(file.webhook_allow_private_targets)
        .unwrap_or(false);
    Ok(policy)
}

/// `[HOST]:PORT` → a bindable `host:port`; an empty host means every IPv4 interface, an
/// unbracketed IPv6 host gets brackets.
pub fn normalize_addr(addr: &str) -> Result<String, String> {
    let addr = addr.trim();
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err(format!(
            "invalid address {addr:?}: expected [HOST]:PORT, e.g. :8080 or 127.0.0.1:8080"
        ));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("invalid address {addr:?}: port must be a number 0-65535"))?;
    let host = match host {
        "" => "0.0.0.0".to_string(),
        h if h.starts_with('[') && h.ends_with(']') => h.to_string(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.to_string(),
    };
    Ok(format!("{host}:{port}"))
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Validates `--public-url` as an origin: `http(s)://host[:port]`, no path, query,
/// fragment or credentials; plain http only for loopback hosts. Returns it lowercased
/// without a trailing slash.
pub fn normalize_public_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/').to_ascii_lowercase();
    let invalid = |why: &str| format!("invalid public URL {url:?}: {why}");
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid("expected http(s)://host[:port]"));
    };
    if scheme != "https" && scheme != "http" {
        return Err(invalid("scheme must be https or http"));
    }
    if rest.is_empty() {
        return Err(invalid("host is missing"));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(invalid(
            "it must be an origin without path, query or fragment",
        ));
    }
    if rest.contains('@') {
        return Err(invalid("it must not contain credentials"));
    }
    let host = match rest.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && !port.contains(']') => {
            port.parse::<u16>().map_err(|_| invalid("bad port"))?;
            h
        }
        _ => rest,
    };
    if scheme == "http" && !is_loopback_host(host) {
        return Err(invalid(
            "plain http is only allowed for loopback hosts; use https",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(addr: Option<&str>, data: Option<&str>) -> ServeArgs {
        ServeArgs {
            addr: addr.map(str::to_string),
            store: StoreArgs {
                data: data.map(PathBuf::from),
                ..StoreArgs::default()
            },
            ..ServeArgs::default()
        }
    }

    #[test]
    fn defaults() {
        let c = ServeConfig::resolve(&serve_args(None, None), &FileConfig::default()).unwrap();
        assert_eq!(c.addr, "0.0.0.0:8080");
        assert_eq!(c.store.data, PathBuf::from("./data"));
        assert_eq!(
            c.store.db.local_path(),
            Some(Path::new("./data/clickclack.db"))
        );
        assert!(c.dev_bootstrap);
        assert_eq!(c.sync, SyncMode::Full);
        assert_eq!(c.public_url, None);
        assert_eq!(c.uploads, "file://./data/uploads");
        assert_eq!(c.max_upload_bytes, 64 * 1024 * 1024);
        assert_eq!(c.upload_quota_bytes, 1024 * 1024 * 1024);
    }

    #[test]
    fn upload_settings_file_then_args() {
        let file = FileConfig::parse(
            r#"{"data":"/srv/cc","uploads":"s3://bucket/chat","max_upload_bytes":1000,"upload_quota_bytes":5000}"#,
        )
        .unwrap();
        let c = ServeConfig::resolve(&serve_args(None, None), &file).unwrap();
        assert_eq!(c.uploads, "s3://bucket/chat");
        assert_eq!(c.max_upload_bytes, 1000);
        assert_eq!(c.upload_quota_bytes, 5000);
        let c =
            ServeConfig::resolve(&serve_args(None, Some("/d")), &FileConfig::default()).unwrap();
        assert_eq!(c.uploads, "file:///d/uploads");
        let mut args = serve_args(None, None);
        args.uploads = Some("memory://".into());
        args.max_upload_bytes = Some(10);
        args.upload_quota_bytes = Some(20);
        let c = ServeConfig::resolve(&args, &file).unwrap();
        assert_eq!(c.uploads, "memory://");
        assert_eq!((c.max_upload_bytes, c.upload_quota_bytes), (10, 20));
        args.max_upload_bytes = Some(0);
        assert!(ServeConfig::resolve(&args, &file).is_err());
        assert!(FileConfig::parse(r#"{"max_upload_bytes":0}"#).is_err());
        assert!(FileConfig::parse(r#"{"max_upload_bytes":"big"}"#).is_err());
        assert!(FileConfig::parse(r#"{"upload_quota_bytes":-1}"#).is_err());
    }

    #[test]
    fn file_beats_defaults_and_args_beat_file() {
        let file = FileConfig::parse(
            r#"{"addr":"127.0.0.1:9000","data":"/srv/cc","dev_bootstrap":false,"sync":"normal","public_url":"https://chat.example.com/","github_client_id":"x"}"#,
        )
        .unwrap();
        let c = ServeConfig::resolve(&serve_args(None, None), &file).unwrap();
        assert_eq!(c.addr, "127.0.0.1:9000");
        assert_eq!(
            c.store.db.local_path(),
            Some(Path::new("/srv/cc/clickclack.db"))
        );
        assert!(!c.dev_bootstrap);
        assert_eq!(c.sync, SyncMode::Normal);
        assert_eq!(c.public_url.as_deref(), Some("https://chat.example.com"));

        let mut args = serve_args(Some("127.0.0.1:9001"), Some("/tmp/x"));
        args.dev_bootstrap = Some(true);
        args.sync = Some(SyncArg::Full);
        args.store.db = Some("sqlite:///tmp/y.db".into());
        let c = ServeConfig::resolve(&args, &file).unwrap();
        assert_eq!(c.addr, "127.0.0.1:9001");
        assert_eq!(c.store.data, PathBuf::from("/tmp/x"));
        assert_eq!(c.store.db.local_path(), Some(Path::new("/tmp/y.db")));
        assert!(c.dev_bootstrap);
        assert_eq!(c.sync, SyncMode::Full);
    }

    #[test]
    fn operations_and_github_settings() {
        let c = ServeConfig::resolve(&serve_args(None, None), &FileConfig::default()).unwrap();
        assert!(!c.metrics_enabled && c.github.is_none());
        assert_eq!(
            (c.rate_limit_writes_per_minute, c.rate_limit_auth_per_minute),
            (None, None)
        );
        let file = FileConfig::parse(
            r#"{"metrics_enabled":true,"rate_limit_writes_per_minute":30,"rate_limit_auth_per_minute":0,
                "github_client_id":"id","github_client_secret":"secret","github_allowed_org":"acme"}"#,
        )
        .unwrap();
        let c = ServeConfig::resolve(&serve_args(None, None), &file).unwrap();
        assert!(c.metrics_enabled);
        assert_eq!(c.rate_limit_writes_per_minute, Some(30));
        assert_eq!(c.rate_limit_auth_per_minute, None);
        let github = c.github.unwrap();
        assert_eq!(github.client_id, "id");
        assert_eq!(github.allowed_org.as_deref(), Some("acme"));
        let mut args = serve_args(None, None);
        args.metrics_enabled = Some(false);
        args.rate_limit_auth_per_minute = Some(5);
        args.github_client_secret = Some("other".into());
        let c = ServeConfig::resolve(&args, &file).unwrap();
        assert!(!c.metrics_enabled);
        assert_eq!(c.rate_limit_auth_per_minute, Some(5));
        assert_eq!(c.github.unwrap().client_secret, "other");
        let only_id = FileConfig::parse(r#"{"github_client_id":"id"}"#).unwrap();
        assert!(ServeConfig::resolve(&serve_args(None, None), &only_id)
            .unwrap()
            .github
            .is_none());
        assert!(FileConfig::parse(r#"{"metrics_enabled":"yes"}"#).is_err());
        assert!(FileConfig::parse(r#"{"rate_limit_writes_per_minute":-1}"#).is_err());
    }

    #[test]
    fn empty_strings_in_file_fall_back() {
        let file = FileConfig::parse(r#"{"addr":"","data":"  "}"#).unwrap();
        let c = ServeConfig::resolve(&serve_args(None, None), &file).unwrap();
        assert_eq!(c.addr, "0.0.0.0:8080");
        assert_eq!(c.store.data, PathBuf::from("./data"));
    }

    #[test]
    fn bad_files() {
        assert!(FileConfig::parse("[1]").is_err());
        assert!(FileConfig::parse("{").is_err());
        assert!(FileConfig::parse(r#"{"dev_bootstrap":"yes"}"#).is_err());
        assert!(FileConfig::parse(r#"{"sync":"sometimes"}"#).is_err());
        assert!(FileConfig::parse(r#"{"addr":8080}"#).is_err());
    }

    #[test]
    fn log_format_and_webhook_settings() {
        let c = ServeConfig::resolve(&serve_args(None, None), &FileConfig::default()).unwrap();
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.webhooks_worker);
        assert_eq!(c.webhooks, WebhookPolicy::default());
        let file = FileConfig::parse(
            r#"{"log_format":"JSON","webhooks_worker":false,"webhook_retry_schedule":"0s,30s","webhook_timeout_seconds":3}"#,
        )
        .unwrap();
        let c = ServeConfig::resolve(&serve_args(None, None), &file).unwrap();
        assert_eq!(c.log_format, LogFormat::Json);
        assert!(!c.webhooks_worker);
        assert_eq!(
            c.webhooks.schedule,
            vec![Duration::ZERO, Duration::from_secs(30)]
        );
        assert_eq!(c.webhooks.timeout, Duration::from_secs(3));
        let mut args = serve_args(None, None);
        args.log_format = Some(LogFormat::Text);
        args.webhooks.webhook_retry_schedule = Some("1m".into());
        args.webhooks.webhook_timeout_seconds = Some(0);
        assert!(ServeConfig::resolve(&args, &file).is_err());
        args.webhooks.webhook_timeout_seconds = None;
        let c = ServeConfig::resolve(&args, &file).unwrap();
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.webhooks.schedule, vec![Duration::from_secs(60)]);
        args.webhooks.webhook_retry_schedule = Some("later".into());
        assert!(ServeConfig::resolve(&args, &file).is_err());
        assert!(FileConfig::parse(r#"{"log_format":"xml"}"#).is_err());
        assert!(FileConfig::parse(r#"{"webhook_timeout_seconds":0}"#).is_err());
        assert!(FileConfig::parse(r#"{"webhooks_worker":"yes"}"#).is_err());
        assert!(!c.webhooks.allow_private_targets);
        let open = FileConfig::parse(r#"{"webhook_allow_private_targets":true}"#).unwrap();
        let c = ServeConfig::resolve(&serve_args(None, None), &open).unwrap();
        assert!(c.webhooks.allow_private_targets);
    }

    #[test]
    fn addresses() {
        assert_eq!(normalize_addr(":8080").unwrap(), "0.0.0.0:8080");
        assert_eq!(normalize_addr("127.0.0.1:0").unwrap(), "127.0.0.1:0");
        assert_eq!(normalize_addr("localhost:80").unwrap(), "localhost:80");
        assert_eq!(normalize_addr("[::1]:8080").unwrap(), "[::1]:8080");
        assert!(normalize_addr("8080").is_err());
        assert!(normalize_addr("host:http").is_err());
        assert!(normalize_addr(":70000").is_err());
    }

    #[test]
    fn public_urls() {
        assert_eq!(
            normalize_public_url("https://Chat.Example.com/").unwrap(),
            "https://chat.example.com"
        );
        assert_eq!(
            normalize_public_url("http://localhost:8080").unwrap(),
            "http://localhost:8080"
        );
        assert!(normalize_public_url("http://[::1]:8080").is_ok());
        assert!(normalize_public_url("http://chat.example.com").is_err());
        assert!(normalize_public_url("https://chat.example.com/app").is_err());
        assert!(normalize_public_url("https://u:p@chat.example.com").is_err());
        assert!(normalize_public_url("ftp://chat.example.com").is_err());
        assert!(normalize_public_url("chat.example.com").is_err());
    }
}
