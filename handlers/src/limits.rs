//! Request rate limits: in-memory token buckets, off unless configured (the default
//! settings never answer 429).
//!
//! - Unsafe requests (POST/PUT/PATCH/DELETE) outside `/api/auth/*`: `writes_per_minute`.
//! - Every `/api/auth/*` request: `auth_per_minute`.
//! - `POST /api/auth/magic/request` additionally per email address (5 per 15 minutes)
//!   whenever the auth limit is set.
//!
//! A bucket is keyed by the caller's session token (only when it is a live session), else
//! by the peer IP address. A refused request is 429 `{"error", "code": "rate_limited"}`
//! with `Retry-After` set to the whole seconds until a token is available.
//!
//! The buckets live in this process: on Lambda each warm instance limits on its own, so
//! the effective limit is per instance (put API Gateway throttling in front for a global
//! one). Several `serve` processes behind a balancer likewise limit independently.

use crate::extract::{bearer, cookie, peer, SESSION_COOKIE};
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clickclack_runtime::{ids, Error, ErrorKind};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Rate-limit settings of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Unsafe requests per caller per `window`; `None` = unlimited.
    pub writes_per_minute: Option<u32>,
    /// `/api/auth/*` requests per caller per `window`; `None` = unlimited.
    pub auth_per_minute: Option<u32>,
    /// The refill window of both limits: one minute.
    pub window: Duration,
    /// Magic-link requests per email per `magic_link_window` (only with an auth limit).
    pub magic_links_per_email: u32,
    pub magic_link_window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            writes_per_minute: None,
            auth_per_minute: None,
            window: Duration::from_secs(60),
            magic_links_per_email: 5,
            magic_link_window: Duration::from_secs(15 * 60),
        }
    }
}

impl RateLimits {
    /// Per-minute limits; `0` counts as unset.
    pub fn per_minute(writes: Option<u32>, auth: Option<u32>) -> Self {
        Self {
            writes_per_minute: writes.filter(|n| *n > 0),
            auth_per_minute: auth.filter(|n| *n > 0),
            ..Self::default()
        }
    }
    pub fn enabled(&self) -> bool {
        self.writes_per_minute.is_some() || self.auth_per_minute.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Writes,
    Auth,
    MagicEmail,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Above this many buckets, full (idle) ones are dropped.
const MAX_BUCKETS: usize = 50_000;

/// The token buckets of one process.
#[derive(Debug)]
pub struct Limiter {
    config: RateLimits,
    buckets: Mutex<HashMap<(Kind, String), Bucket>>,
    /// Added to the monotonic clock; lets tests move time forward without sleeping.
    offset: Mutex<Duration>,
}

impl Limiter {
    pub fn new(config: RateLimits) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    pub fn config(&self) -> &RateLimits {
        &self.config
    }

    /// Moves this limiter's clock forward (tests).
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }

    fn now(&self) -> Instant {
        Instant::now() + *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one token from `key`'s bucket (capacity `capacity`, refilled evenly over
    /// `window`), or returns how long until one is available.
    fn take(&self, kind: Kind, key: &str, capacity: u32, window: Duration) -> Result<(), Duration> {
        let now = self.now();
        let capacity = f64::from(capacity.max(1));
        let rate = capacity / window.as_secs_f64().max(0.001); // tokens per second
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < capacity
            });
        }
        let bucket = buckets.entry((kind, key.to_string())).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// The per-email magic-link throttle (a no-op without an auth limit); `Err` is the
    /// wait until the next allowed request.
    pub fn check_magic_link_email(&self, email: &str) -> Result<(), Duration> {
        if self.config.auth_per_minute.is_none() {
            return Ok(());
        }
        let email = email.trim().to_lowercase();
        self.take(
            Kind::MagicEmail,
            &email,
            self.config.magic_links_per_email,
            self.config.magic_link_window,
        )
    }
}

/// 429 `rate_limited` with `Retry-After` in whole seconds (at least 1).
pub fn rate_limited(wait: Duration) -> Response {
    let seconds = (wait.as_secs_f64().ceil() as u64).max(1);
    let mut response = ApiError(Error::new(
        ErrorKind::RateLimited,
        "rate_limited",
        format!("too many requests; retry in {seconds} s"),
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The middleware: picks the limit that applies to the request and takes a token.
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let config = state.limiter().config();
    if !config.enabled() {
        return next.run(request).await;
    }
    let limit = if request.uri().path().starts_with("/api/auth/") {
        config.auth_per_minute.map(|n| (Kind::Auth, n))
    } else if !is_safe(request.method()) {
        config.writes_per_minute.map(|n| (Kind::Writes, n))
    } else {
        None
    };
    let Some((kind, capacity)) = limit else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let token = bearer(&parts)
        .or_else(|| cookie(&parts, SESSION_COOKIE))
        .filter(|t| !t.is_empty());
    // A token counts only when it is a live session, so made-up tokens cannot mint
    // fresh buckets; anything else is limited by address.
    let key = match token {
        Some(token) if matches!(state.chat().session_user(&token).await, Ok(Some(_))) => {
            format!("tok:{}", ids::hash_secret(&token))
        }
        _ => match peer(&parts) {
            Some(addr) => format!("ip:{}", addr.ip()),
            None => "ip:unknown".to_string(),
        },
    };
    let window = config.window;
    if let Err(wait) = state.limiter().take(kind, &key, capacity, window) {
        return rate_limited(wait);
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_over_the_window() {
        let limiter = Limiter::new(RateLimits::per_minute(Some(2), None));
        let minute = Duration::from_secs(60);
        assert!(limiter.take(Kind::Writes, "a", 2, minute).is_ok());
        assert!(limiter.take(Kind::Writes, "a", 2, minute).is_ok());
        let wait = limiter.take(Kind::Writes, "a", 2, minute).unwrap_err();
        assert!(wait > Duration::from_secs(29) && wait <= Duration::from_secs(30));
        assert!(limiter.take(Kind::Writes, "b", 2, minute).is_ok());
        assert!(limiter.take(Kind::Auth, "a", 2, minute).is_ok());
        limiter.advance(Duration::from_secs(30));
        assert!(limiter.take(Kind::Writes, "a", 2, minute).is_ok());
        assert!(limiter.take(Kind::Writes, "a", 2, minute).is_err());
    }

    #[test]
    fn default_is_off_and_zero_is_unset() {
        assert!(!RateLimits::default().enabled());
        assert!(!RateLimits::per_minute(Some(0), Some(0)).enabled());
        assert!(RateLimits::per_minute(None, Some(1)).enabled());
    }
}
