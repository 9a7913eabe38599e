//! [`Api`]: the HTTP side of client mode. JSON in and out, `Authorization: Bearer` when a
//! token is set, `X-ClickClack-User` when a user id is set, a 10 s timeout, no redirects
//! (a token never follows one), and errors mapped to stable exit codes.

use super::error::{ClientError, Exit, Result};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Per-request timeout (reference §14.6).
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The dev-auth header.
pub const USER_HEADER: &str = "X-ClickClack-User";

/// A configured connection to one server.
#[derive(Debug, Clone)]
pub struct Api {
    client: reqwest::Client,
    base: Url,
    token: Option<String>,
    user: Option<String>,
    verbose: bool,
}

/// Whether a URL's host is loopback (such requests never go through a proxy).
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Api {
    /// A client for `server` (an `http(s)://` URL, already normalized).
    pub fn new(
        server: &str,
        token: Option<String>,
        user: Option<String>,
        verbose: bool,
    ) -> Result<Api> {
        let base = Url::parse(server)
            .map_err(|e| ClientError::usage(format!("invalid --server {server:?}: {e}")))?;
        if base.scheme() != "http" && base.scheme() != "https" {
            return Err(ClientError::usage(format!(
                "invalid --server {server:?}: use an http:// or https:// URL"
            )));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(ClientError::usage(format!(
                "invalid --server {server:?}: the host is missing"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("clickclack-cli/", env!("CARGO_PKG_VERSION")));
        if is_loopback(&base) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| ClientError::unexpected(format!("cannot build the HTTP client: {e}")))?;
        Ok(Api {
            client,
            base,
            token,
            user,
            verbose,
        })
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// `<server>/<segments…>`, each segment percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// [`Api::url`] with query parameters.
    pub fn url_with(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.url(segments);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Adds the credentials to a request.
    pub fn authorize(&self, mut request: RequestBuilder) -> RequestBuilder {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(user) = &self.user {
            request = request.header(USER_HEADER, user);
        }
        request
    }

    pub async fn get(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Value> {
        self.call(Method::GET, self.url_with(segments, query), None, None)
            .await
    }

    pub async fn post(&self, segments: &[&str], body: &Value) -> Result<Value> {
        self.call(Method::POST, self.url(segments), Some(body), None)
            .await
    }

    pub async fn patch(&self, segments: &[&str], body: &Value) -> Result<Value> {
        self.call(Method::PATCH, self.url(segments), Some(body), None)
            .await
    }

    pub async fn delete(&self, segments: &[&str]) -> Result<Value> {
        self.call(Method::DELETE, self.url(segments), None, None)
            .await
    }

    /// One JSON request with optional body and a timeout other than [`TIMEOUT`].
    pub async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        timeout: Option<Duration>,
    ) -> Result<Value> {
        let mut request = self.authorize(self.client.request(method.clone(), url.clone()));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        self.execute(method.as_str(), &url, request).await
    }

    /// A request builder with credentials (for multipart uploads).
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.authorize(self.client.request(method, url))
    }

    /// Sends a prepared request and decodes the JSON answer.
    pub async fn execute(&self, method: &str, url: &Url, request: RequestBuilder) -> Result<Value> {
        let started = Instant::now();
        if self.verbose {
            eprintln!("> {method} {}", redact(url));
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(e, url))?;
        let status = response.status();
        if self.verbose {
            eprintln!(
                "< {} {} ({} ms)",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                started.elapsed().as_millis()
            );
        }
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e, url))?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return match json {
                Some(value) => Ok(value),
                None if bytes.is_empty() => Ok(Value::Null),
                None => Err(ClientError::unexpected(format!(
                    "{} answered {} with a body that is not JSON; is --server a ClickClack server?",
                    self.server(),
                    status.as_u16()
                ))),
            };
        }
        if status.is_redirection() {
            return Err(ClientError::http(
                status.as_u16(),
                format!(
                    "{} redirected to {}; use --server with the final URL",
                    self.server(),
                    location.as_deref().unwrap_or("another location")
                ),
                None,
            ));
        }
        Err(http_error(status, json.as_ref()))
    }

    /// Maps a transport failure: connect errors and timeouts are network errors (exit 10).
    pub fn transport_error(&self, e: reqwest::Error, url: &Url) -> ClientError {
        let detail = error_chain(&e);
        if e.is_builder() {
            ClientError::usage(format!("invalid request {}: {detail}", redact(url)))
        } else if e.is_timeout() {
            ClientError::network(format!("request to {} timed out", self.server()))
        } else if e.is_connect() {
            ClientError::network(format!(
                "cannot connect to {}: {}",
                self.server(),
                root_cause(&e)
            ))
        } else if e.is_decode() {
            ClientError::unexpected(format!("bad answer from {}: {detail}", self.server()))
        } else if e.is_request() || e.is_body() {
            ClientError::network(format!("request to {} failed: {detail}", self.server()))
        } else {
            ClientError::unexpected(format!("request to {} failed: {detail}", self.server()))
        }
    }
}

/// The error of a non-2xx answer: the server's `error` text (or the status), its `code`
/// and `epoch`.
pub fn http_error(status: StatusCode, json: Option<&Value>) -> ClientError {
    let field = |k: &str| {
        json.and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let message = field("error")
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| {
            format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("error")
            )
        });
    let mut error = ClientError::http(status.as_u16(), message, field("code"));
    error.epoch = field("epoch");
    if status == StatusCode::UNAUTHORIZED {
        error.exit = Exit::Auth;
    }
    error
}

/// The error and its sources, deduplicated (`error sending request: connection refused`).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The innermost source of an error (`Connection refused (os error 111)`).
pub fn root_cause(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// The URL without its query (which may carry cursors, never secrets, but stays short).
fn redact(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}
