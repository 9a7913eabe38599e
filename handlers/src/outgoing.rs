//! The outgoing-webhook sender: the HTTP half of `clickclack_runtime::chat::webhooks`.
//!
//! It lives here rather than in the runtime because the runtime carries no HTTP (the
//! dependency rule in `architecture.md`), and here rather than in `adapters/server` so
//! every host can drive the same code: `clickclack serve` runs [`Outgoing::run`] as a
//! background task, and `clickclack webhooks deliver [--once]` (a scheduled job on
//! Lambda deploys) calls [`Outgoing::deliver_due`] against the same database.
//!
//! One pass ([`Outgoing::deliver_due`]): plan (new public events → pending delivery rows,
//! one write transaction), then claim due deliveries in batches, POST each signed body
//! (`X-ClickClack-Timestamp`, `X-ClickClack-Signature: sha256=<hex HMAC-SHA256 of
//! "timestamp.body">`) with the policy's timeout, and record the outcome, which schedules
//! the next attempt or gives up. Redirects are not followed (a 3xx is a failed attempt).
//! Delivery is at least once: a claim whose sender dies comes back after its lease.
//!
//! Unless the policy allows private targets, only public addresses are reached: IP
//! literals are checked before sending and host names go through [`PublicOnly`], a
//! resolver that drops non-public addresses, so the checked address is the one connected
//! to (no DNS-rebinding window). A blocked target is a failed attempt like any other.

use clickclack_runtime::chat::webhooks::{sign, AttemptOutcome, WebhookPolicy};
use clickclack_runtime::chat::Chat;
use clickclack_runtime::store::webhooks::{now_ms, ClaimedDelivery};
use futures::StreamExt;
use serde::Serialize;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Deliveries claimed per batch.
const CLAIM_BATCH: i64 = 32;
/// Attempts in flight at once.
const CONCURRENCY: usize = 8;
/// Longest sleep of the background worker: it also looks for events other processes
/// wrote (which do not wake this one) this often.
pub const IDLE_POLL: Duration = Duration::from_secs(15);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryRun {
    /// Deliveries queued from new events.
    pub planned: u64,
    /// HTTP attempts made.
    pub attempted: u64,
    pub delivered: u64,
    /// Failed attempts that will be retried.
    pub retrying: u64,
    /// Deliveries given up on (schedule used up).
    pub failed: u64,
}

/// Plans, signs, sends and records webhook deliveries. Cheap to clone.
#[derive(Clone)]
pub struct Outgoing {
    chat: Chat,
    policy: WebhookPolicy,
    client: reqwest::Client,
}

impl Outgoing {
    pub fn new(chat: Chat, policy: WebhookPolicy) -> Outgoing {
        let mut builder = reqwest::Client::builder();
        if !policy.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ClickClack-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            // Only a broken TLS backend fails here; a default client would silently drop
            // the timeout, the redirect rule and the private-address guard.
            .expect("build the webhook HTTP client");
        Outgoing {
            chat,
            policy,
            client,
        }
    }

    pub fn policy(&self) -> &WebhookPolicy {
        &self.policy
    }

    /// One pass: plan new deliveries, then attempt every delivery that is due until none
    /// is left.
    pub async fn deliver_due(&self) -> clickclack_runtime::Result<DeliveryRun> {
        let mut run = DeliveryRun {
            planned: self.chat.plan_webhook_deliveries(&self.policy).await?,
            ..DeliveryRun::default()
        };
        loop {
            let claimed = self
                .chat
                .claim_webhook_deliveries(&self.policy, CLAIM_BATCH)
                .await?;
            if claimed.is_empty() {
                return Ok(run);
            }
            let results: Vec<_> = futures::stream::iter(claimed)
                .map(|delivery| async move {
                    let outcome = self.attempt(&delivery).await;
                    self.chat
                        .record_webhook_attempt(&self.policy, &delivery, outcome)
                        .await
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            for result in results {
                run.attempted += 1;
                match result? {
                    "delivered" => run.delivered += 1,
                    "failed" => run.failed += 1,
                    _ => run.retrying += 1,
                }
            }
        }
    }

    /// Sends one delivery and reports what came back.
    pub async fn attempt(&self, delivery: &ClaimedDelivery) -> AttemptOutcome {
        let timestamp = (now_ms() / 1000).to_string();
        let signature = sign(&delivery.secret, &timestamp, &delivery.body);
        let started = Instant::now();
        if !self.policy.allow_private_targets {
            if let Some(ip) = literal_ip(&delivery.url).filter(|ip| !is_public(*ip)) {
                return self.report(
                    delivery,
                    AttemptOutcome {
                        status: None,
                        error: Some(format!("blocked: {ip} is not a public address")),
                        duration: started.elapsed(),
                    },
                );
            }
        }
        let sent = self
            .client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("x-clickclack-timestamp", &timestamp)
            .header("x-clickclack-signature", format!("sha256={signature}"))
            .header("x-clickclack-event", &delivery.event_type)
            .header("x-clickclack-delivery", &delivery.id)
            .header("x-clickclack-webhook", &delivery.webhook_id)
            .body(delivery.body.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(response) => AttemptOutcome {
                status: Some(response.status().as_u16()),
                error: None,
                duration: started.elapsed(),
            },
            Err(e) => AttemptOutcome {
                status: None,
                error: Some(describe(&e, self.policy.timeout)),
                duration: started.elapsed(),
            },
        };
        self.report(delivery, outcome)
    }

    fn report(&self, delivery: &ClaimedDelivery, outcome: AttemptOutcome) -> AttemptOutcome {
        tracing::info!(
            delivery_id = %delivery.id,
            webhook_id = %delivery.webhook_id,
            event_type = %delivery.event_type,
            attempt = delivery.attempts + 1,
            status = outcome.status,
            error = outcome.error.as_deref(),
            duration_ms = outcome.duration.as_millis() as u64,
            "webhook attempt"
        );
        outcome
    }

    /// The background worker: a pass whenever a commit announces events, when the next
    /// retry is due, and at least every [`IDLE_POLL`]; returns when `shutdown` resolves
    /// (a pass in flight is dropped: its claims come back after their lease).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut commits = self.chat.store().commits();
        tokio::pin!(shutdown);
        tracing::info!(
            attempts = self.policy.schedule.len(),
            timeout_seconds = self.policy.timeout.as_secs(),
            "webhook worker started"
        );
        loop {
            commits.borrow_and_update();
            tokio::select! {
                () = &mut shutdown => break,
                outcome = self.deliver_due() => match outcome {
                    Ok(run) if run.attempted > 0 || run.planned > 0 => {
                        tracing::debug!(planned = run.planned, attempted = run.attempted, delivered = run.delivered, "webhook pass");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "webhook pass failed"),
                },
            }
            let wait = match self.chat.next_webhook_due_ms().await {
                Ok(Some(due)) => Duration::from_millis(due.saturating_sub(now_ms()).max(0) as u64)
                    .clamp(Duration::from_millis(50), IDLE_POLL),
                _ => IDLE_POLL,
            };
            tokio::select! {
                () = &mut shutdown => break,
                changed = commits.changed() => if changed.is_err() { break },
                () = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!("webhook worker stopped");
    }
}

/// A readable cause for a failed send, without the URL.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {}s", timeout.as_secs_f32());
    }
    let mut text = if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

/// The host of `url` when it is an IP literal.
fn literal_ip(url: &str) -> Option<IpAddr> {
    let host = reqwest::Url::parse(url).ok()?.host_str()?.to_string();
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// True for globally routable unicast addresses: not loopback, private (RFC 1918, ULA),
/// link-local, shared (100.64/10), unspecified, multicast, broadcast, documentation or
/// benchmarking ranges; IPv4-mapped IPv6 addresses are judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// A resolver that keeps only public addresses ([`is_public`]); a name with none fails.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                let blocked = found
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                return Err(
                    format!("blocked: {host} resolves to {blocked}, not a public address").into(),
                );
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses() {
        for ip in ["1.1.1.1", "93.184.216.34", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        assert_eq!(
            literal_ip("http://[::1]:8080/x"),
            Some("::1".parse().unwrap())
        );
        assert_eq!(
            literal_ip("https://10.0.0.1/x"),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(literal_ip("https://example.com/x"), None);
    }
}
