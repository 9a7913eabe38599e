//! The one error type of the runtime. Errors only classify; `handlers::ApiError` is the single
//! place that turns an [`ErrorKind`] into an HTTP status.

use std::fmt;

/// What went wrong, independent of any transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is malformed or breaks a rule (HTTP 400).
    Invalid,
    /// No valid credentials (HTTP 401).
    Unauthenticated,
    /// Credentials are valid but the caller may not do this (HTTP 403).
    Forbidden,
    /// The thing does not exist or the caller may not know it exists (HTTP 404).
    NotFound,
    /// The request conflicts with the current state (HTTP 409).
    Conflict,
    /// A body or file is too large, or a quota is exhausted (HTTP 413).
    TooLarge,
    /// The request has the wrong content type (HTTP 415).
    UnsupportedMediaType,
    /// Too many requests (HTTP 429).
    RateLimited,
    /// A dependency (database, object store) is unavailable (HTTP 503).
    Unavailable,
    /// A bug or an unexpected failure (HTTP 500). The message is never shown to clients.
    Internal,
}

/// A classified error with a stable snake_case `code` and a human message.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    /// Set for `resync_required`: the epoch the client must resync to.
    pub epoch: Option<String>,
}

/// Result alias used across the runtime.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            epoch: None,
        }
    }
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            "unauthenticated",
            "authentication required",
        )
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, code, message)
    }
    /// `what` is the resource name, e.g. `"channel"`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what} not found"),
        )
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }
    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, code, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, "unavailable", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "internal", message)
    }
    pub fn resync_required(epoch: &str) -> Self {
        let mut e = Self::new(
            ErrorKind::Conflict,
            "resync_required",
            "cursor belongs to another database epoch; resync over HTTP",
        );
        e.epoch = Some(epoch.to_string());
        e
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

impl From<libsql::Error> for Error {
    fn from(e: libsql::Error) -> Self {
        let text = e.to_string();
        if text.contains("database is locked") || text.contains("SQLITE_BUSY") {
            return Self::unavailable(format!("database busy: {text}"));
        }
        Self::new(
            ErrorKind::Internal,
            "database_error",
            format!("database: {text}"),
        )
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::internal(format!("json: {e}"))
    }
}
