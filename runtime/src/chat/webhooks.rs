//! Outgoing event webhooks: owner-managed subscriptions of a workspace to public event
//! types, and the delivery queue behind them.
//!
//! The runtime owns everything but the HTTP call: a worker (in `clickclack-handlers`,
//! `outgoing.rs`) calls [`Chat::plan_webhook_deliveries`] (public events past each
//! subscription's position become pending delivery rows in one write transaction, so a
//! delivery survives a restart from the moment it exists), [`Chat::claim_webhook_deliveries`]
//! (due deliveries get a lease), sends them signed with [`sign`], and reports each outcome
//! to [`Chat::record_webhook_attempt`], which schedules the next attempt by the
//! [`WebhookPolicy`] or gives up. Private events (DMs, anything with recipients) and
//! ephemeral events are never delivered.

use super::{access, clamp_limit, Actor, Chat};
use crate::model::{Webhook, WebhookDelivery};
use crate::store::webhooks::{self as store, AttemptRecord, ClaimedDelivery};
use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Most subscriptions one workspace may hold.
pub const MAX_WEBHOOKS_PER_WORKSPACE: i64 = 25;
/// Most event types one subscription may list.
pub const MAX_EVENT_TYPES: usize = 50;
/// Longest subscription URL.
pub const MAX_WEBHOOK_URL_CHARS: usize = 2048;
/// Events scanned per subscription per planning transaction.
pub const PLAN_BATCH: i64 = 500;
/// The default retry schedule: the first attempt at once, then 1 min, 5 min, 30 min, 2 h,
/// 6 h and 24 h after each failure; the delivery fails after the seventh attempt.
pub const DEFAULT_RETRY_SCHEDULE: &[Duration] = &[
    Duration::from_secs(0),
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 60 * 60),
    Duration::from_secs(6 * 60 * 60),
    Duration::from_secs(24 * 60 * 60),
];

/// How deliveries are scheduled and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// `schedule[0]` is the wait before the first attempt; `schedule[n]` the wait after the
    /// n-th failed attempt. Its length is the most attempts a delivery gets.
    pub schedule: Vec<Duration>,
    /// Timeout of one HTTP attempt.
    pub timeout: Duration,
    /// Also send to loopback, private, link-local and other non-public addresses (off by
    /// default: a workspace owner must not reach the server's own network).
    pub allow_private_targets: bool,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            schedule: DEFAULT_RETRY_SCHEDULE.to_vec(),
            timeout: Duration::from_secs(10),
            allow_private_targets: false,
        }
    }
}

impl WebhookPolicy {
    /// How long a claim holds a delivery: the attempt's timeout plus a margin, after which
    /// a claim whose sender died is due again.
    pub fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(30)
    }

    /// Parses a schedule such as `0s,1m,5m,30m,2h` (a bare number is seconds).
    pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
        let mut schedule = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (digits, unit) = match part.find(|c: char| !c.is_ascii_digit()) {
                Some(i) => part.split_at(i),
                None => (part, "s"),
            };
            let n: u64 = digits
                .parse()
                .map_err(|_| format!("invalid delay {part:?}: expected e.g. 30s, 5m, 2h, 1d"))?;
            let seconds = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                _ => return Err(format!("invalid delay {part:?}: units are s, m, h, d")),
            };
            schedule.push(Duration::from_secs(n * seconds));
        }
        if schedule.is_empty() || schedule.len() > 20 {
            return Err("a retry schedule needs 1 to 20 delays".to_string());
        }
        Ok(schedule)
    }
}

/// A new subscription.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    /// Empty means every event type (`["*"]`).
    pub event_types: Vec<String>,
    pub description: String,
    /// `None` means active.
    pub active: Option<bool>,
}

/// Changes to a subscription; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// A page of deliveries, newest first.
#[derive(Debug, Clone)]
pub struct DeliveryPage {
    pub deliveries: Vec<WebhookDelivery>,
    /// Pass as `cursor` for the next (older) page; empty at the end.
    pub next_cursor: String,
    pub has_more: bool,
}

/// What an attempt got back: an HTTP status, or an error without one.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
}

impl AttemptOutcome {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// `hex(HMAC-SHA256(secret, "<timestamp>.<body>"))`: the value after `sha256=` in
/// `X-ClickClack-Signature`.
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut message = Vec::with_capacity(timestamp.len() + 1 + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'.');
    message.extend_from_slice(body.as_bytes());
    hex::encode(hmac_sha256(secret.as_bytes(), &message))
}

/// HMAC-SHA256 (RFC 2104) over `sha2`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn validate_url(url: &str) -> Result<String> {
    let url = url.trim();
    let invalid = |why: &str| Error::invalid("invalid_webhook_url", format!("webhook url {why}"));
    if url.is_empty() {
        return Err(invalid("is required"));
    }
    if url.chars().count() > MAX_WEBHOOK_URL_CHARS {
        return Err(invalid("is too long"));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid("must be an absolute http(s) URL"));
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err(invalid("must use http or https"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if authority.contains('@') {
        return Err(invalid("must not contain credentials"));
    }
    if host.is_empty() || host.starts_with(':') {
        return Err(invalid("needs a host"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("must not contain spaces"));
    }
    Ok(url.to_string())
}

fn validate_types(types: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in types.iter().map(|t| t.trim()) {
        let well_formed = t == "*"
            || (!t.is_empty()
                && t.len() <= 64
                && t.split('.').all(|part| {
                    !part.is_empty()
                        && part
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                }));
        if !well_formed {
            return Err(Error::invalid(
                "invalid_event_types",
                format!("invalid event type {t:?}: use e.g. \"message.created\" or \"*\""),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    if out.len() > MAX_EVENT_TYPES {
        return Err(Error::invalid(
            "invalid_event_types",
            format!("at most {MAX_EVENT_TYPES} event types"),
        ));
    }
    if out.is_empty() || out.iter().any(|t| t == "*") {
        return Ok(vec!["*".to_string()]);
    }
    Ok(out)
}

fn validate_description(description: &str) -> Result<String> {
    let description = description.trim();
    if description.chars().count() > 200 {
        return Err(Error::invalid(
            "invalid_description",
            "description is at most 200 characters",
        ));
    }
    Ok(description.to_string())
}

/// The caller must own the webhook's workspace: not a member → 404, member → 403.
async fn require_owner(conn: &libsql::Connection, workspace_id: &str, user_id: &str) -> Result<()> {
    let role = access::member_role(conn, workspace_id, user_id).await?;
    if role != "owner" {
        return Err(Error::forbidden(
            "owner_required",
            "only workspace owners manage webhooks",
        ));
    }
    Ok(())
}

/// A webhook whose workspace the caller owns.
async fn owned_webhook(conn: &libsql::Connection, id: &str, user_id: &str) -> Result<Webhook> {
    let webhook = store::get(conn, id.trim())
        .await?
        .ok_or_else(|| Error::not_found("webhook"))?;
    match require_owner(conn, &webhook.workspace_id, user_id).await {
        Err(e) if e.kind == crate::ErrorKind::NotFound => Err(Error::not_found("webhook")),
        other => other.map(|()| webhook),
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Chat {
    /// Subscribes a workspace (owner only) to event types; the answer carries the secret,
    /// the only time it is shown. Delivery starts with the next event (no history).
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        workspace_id: &str,
        input: NewWebhook,
    ) -> Result<Webhook> {
        let url = validate_url(&input.url)?;
        let types = validate_types(&input.event_types)?;
        let description = validate_description(&input.description)?;
        let workspace_id = workspace_id.trim().to_string();
        let user_id = actor.id().to_string();
        let active = input.active.unwrap_or(true);
        self.store
            .write(move |tx| async move {
                require_owner(&tx, &workspace_id, &user_id).await?;
                if store::count(&tx, &workspace_id).await? >= MAX_WEBHOOKS_PER_WORKSPACE {
                    return Err(Error::conflict(
                        "webhook_limit",
                        format!(
                            "a workspace can have at most {MAX_WEBHOOKS_PER_WORKSPACE} webhooks"
                        ),
                    ));
                }
                let webhook = store::insert(
                    &tx,
                    &workspace_id,
                    &url,
                    &types,
                    &description,
                    active,
                    &user_id,
                )
                .await?;
                tracing::info!(webhook_id = %webhook.id, %workspace_id, "webhook created");
                Ok(webhook)
            })
            .await
    }

    /// The subscriptions of a workspace (owner only), oldest first, without secrets.
    pub async fn list_webhooks(&self, actor: &Actor, workspace_id: &str) -> Result<Vec<Webhook>> {
        let conn = self.store.reader().await?;
        require_owner(&conn, workspace_id.trim(), actor.id()).await?;
        store::list(&conn, workspace_id.trim()).await
    }

    /// One subscription (owner of its workspace only).
    pub async fn get_webhook(&self, actor: &Actor, webhook_id: &str) -> Result<Webhook> {
        let conn = self.store.reader().await?;
        owned_webhook(&conn, webhook_id, actor.id()).await
    }

    /// Changes url, event types, description or the active flag. Resuming a paused
    /// subscription starts it at the log tail.
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        webhook_id: &str,
        patch: WebhookPatch,
    ) -> Result<Webhook> {
        let url = patch.url.as_deref().map(validate_url).transpose()?;
        let types = patch
            .event_types
            .as_deref()
            .map(validate_types)
            .transpose()?;
        let description = patch
            .description
            .as_deref()
            .map(validate_description)
            .transpose()?;
        let webhook_id = webhook_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let mut webhook = owned_webhook(&tx, &webhook_id, &user_id).await?;
                let was_active = webhook.active;
                if let Some(url) = url {
                    webhook.url = url;
                }
                if let Some(types) = types {
                    webhook.event_types = types;
                }
                if let Some(description) = description {
                    webhook.description = description;
                }
                if let Some(active) = patch.active {
                    webhook.active = active;
                }
                let resumed = webhook.active && !was_active;
                store::update(&tx, &webhook, resumed)
                    .await?
                    .ok_or_else(|| Error::not_found("webhook"))
            })
            .await
    }

    /// Deletes a subscription and its delivery log.
    pub async fn delete_webhook(&self, actor: &Actor, webhook_id: &str) -> Result<()> {
        let webhook_id = webhook_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let webhook = owned_webhook(&tx, &webhook_id, &user_id).await?;
                store::delete(&tx, &webhook.id).await?;
                tracing::info!(webhook_id = %webhook.id, "webhook deleted");
                Ok(())
            })
            .await
    }

    /// The delivery log of a subscription, newest first. `cursor` is the previous page's
    /// `next_cursor`.
    pub async fn list_webhook_deliveries(
        &self,
        actor: &Actor,
        webhook_id: &str,
        cursor: &str,
        limit: Option<i64>,
    ) -> Result<DeliveryPage> {
        let conn = self.store.reader().await?;
        let webhook = owned_webhook(&conn, webhook_id, actor.id()).await?;
        let cursor = cursor.trim();
        if !cursor.is_empty() && !crate::ids::has_prefix(cursor, "whd") {
            return Err(Error::invalid("invalid_cursor", "cursor is malformed"));
        }
        let limit = clamp_limit(limit, 50, 200);
        let mut deliveries = store::deliveries(&conn, &webhook.id, cursor, limit + 1).await?;
        let has_more = deliveries.len() as i64 > limit;
        deliveries.truncate(limit as usize);
        let next_cursor = if has_more {
            deliveries.last().map(|d| d.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(DeliveryPage {
            deliveries,
            next_cursor,
            has_more,
        })
    }

    /// Makes a delivery due now with a fresh retry schedule (a failed one comes back, a
    /// delivered one is sent again).
    pub async fn retry_webhook_delivery(
        &self,
        actor: &Actor,
        webhook_id: &str,
        delivery_id: &str,
    ) -> Result<WebhookDelivery> {
        let webhook_id = webhook_id.to_string();
        let delivery_id = delivery_id.trim().to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let webhook = owned_webhook(&tx, &webhook_id, &user_id).await?;
                if !store::retry(&tx, &webhook.id, &delivery_id, store::now_ms()).await? {
                    return Err(Error::not_found("delivery"));
                }
                store::delivery(&tx, &webhook.id, &delivery_id)
                    .await?
                    .ok_or_else(|| Error::not_found("delivery"))
            })
            .await
    }

    /// Worker step: turns new public events into pending deliveries for every active
    /// subscription (each transaction scans at most [`PLAN_BATCH`] events per
    /// subscription; loops until caught up). Returns how many deliveries were queued.
    pub async fn plan_webhook_deliveries(&self, policy: &WebhookPolicy) -> Result<u64> {
        let first = policy.schedule.first().copied().unwrap_or_default();
        let mut total = 0;
        loop {
            let first_ms = store::now_ms().saturating_add(ms(first));
            let (inserted, more) = self
                .store
                .write(move |tx| async move { store::plan(&tx, PLAN_BATCH, first_ms).await })
                .await?;
            total += inserted;
            if !more {
                return Ok(total);
            }
        }
    }

    /// Worker step: claims up to `limit` due deliveries for one attempt each.
    pub async fn claim_webhook_deliveries(
        &self,
        policy: &WebhookPolicy,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>> {
        let lease = ms(policy.lease());
        self.store
            .write(
                move |tx| async move { store::claim_due(&tx, store::now_ms(), lease, limit).await },
            )
            .await
    }

    /// Worker step: records an attempt's outcome and schedules the next one (or marks the
    /// delivery delivered, or failed once the schedule is used up). Returns the new status.
    pub async fn record_webhook_attempt(
        &self,
        policy: &WebhookPolicy,
        delivery: &ClaimedDelivery,
        outcome: AttemptOutcome,
    ) -> Result<&'static str> {
        let attempts_now = delivery.scheduled_attempts + 1;
        let (new_status, next_attempt_ms) = if outcome.succeeded() {
            ("delivered", None)
        } else {
            match policy.schedule.get(attempts_now as usize) {
                Some(wait) => ("pending", Some(store::now_ms().saturating_add(ms(*wait)))),
                None => ("failed", None),
            }
        };
        let error = if outcome.succeeded() {
            None
        } else {
            Some(
                outcome
                    .error
                    .clone()
                    .unwrap_or_else(|| match outcome.status {
                        Some(s) => format!("HTTP {s}"),
                        None => "no response".to_string(),
                    }),
            )
        };
        let record = AttemptRecord {
            status: outcome.status.map(i64::from),
            error,
            duration_ms: ms(outcome.duration),
            new_status,
            next_attempt_ms,
        };
        let id = delivery.id.clone();
        let claimed = delivery.attempts;
        self.store
            .write(move |tx| async move { store::record_attempt(&tx, &id, claimed, &record).await })
            .await?;
        Ok(new_status)
    }

    /// When the earliest pending delivery is due (Unix milliseconds), if any.
    pub async fn next_webhook_due_ms(&self) -> Result<Option<i64>> {
        let conn = self.store.reader().await?;
        store::next_due_ms(&conn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn urls_and_types() {
        assert!(validate_url("https://example.com/hook").is_ok());
        assert!(validate_url("http://127.0.0.1:9000").is_ok());
        for bad in [
            "",
            "ftp://example.com",
            "example.com/hook",
            "https://",
            "https:///path",
            "https://u:p@example.com",
            "https://exa mple.com",
        ] {
            assert_eq!(
                validate_url(bad).unwrap_err().code,
                "invalid_webhook_url",
                "{bad}"
            );
        }
        assert_eq!(validate_types(&[]).unwrap(), vec!["*"]);
        assert_eq!(
            validate_types(&["message.created".into(), "message.created".into()]).unwrap(),
            vec!["message.created"]
        );
        assert!(validate_types(&["Message Created".into()]).is_err());
    }

    #[test]
    fn schedules() {
        assert_eq!(
            WebhookPolicy::parse_schedule("0, 1m,2h,1d,5").unwrap(),
            vec![
                Duration::ZERO,
                Duration::from_secs(60),
                Duration::from_secs(7200),
                Duration::from_secs(86_400),
                Duration::from_secs(5)
            ]
        );
        assert!(WebhookPolicy::parse_schedule("soon").is_err());
        assert!(WebhookPolicy::parse_schedule("1w").is_err());
        assert!(WebhookPolicy::parse_schedule("").is_err());
    }
}
