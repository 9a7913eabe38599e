//! Outgoing webhooks: subscriptions (`webhooks`), the durable delivery queue
//! (`webhook_deliveries`) and its attempt log (`webhook_attempts`). Scheduling rules live
//! in `chat/webhooks.rs`; this module is the SQL. Times that are compared (`next_attempt_ms`)
//! are Unix milliseconds; times that are shown are RFC 3339 strings.

use super::events;
use super::rows::{query_all, query_opt};
use super::writer::Tx;
use crate::model::{Webhook, WebhookAttempt, WebhookDelivery};
use crate::{clock, ids, Result};
use libsql::{Connection, Row};
use serde_json::json;

/// A subscription as the sender and the planner need it (the secret included).
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub webhook_id: String,
    pub url: String,
    pub secret: String,
}

/// A delivery claimed for one attempt.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub url: String,
    pub secret: String,
    /// The exact JSON body to sign and send.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// Attempts counted by the current retry schedule before this one.
    pub scheduled_attempts: i64,
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    clock::now().timestamp_millis()
}

/// Formats Unix milliseconds like every other timestamp.
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(clock::format)
        .unwrap_or_default()
}

fn hint(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

const WEBHOOK_COLUMNS: &str =
    "id, workspace_id, url, event_types, description, active, secret, created_by, created_at, updated_at";

fn webhook_from_row(r: &Row) -> Result<Webhook> {
    let types: String = r.get(3)?;
    let secret: String = r.get(6)?;
    Ok(Webhook {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        url: r.get(2)?,
        event_types: serde_json::from_str(&types)?,
        description: r.get(4)?,
        active: r.get::<i64>(5)? != 0,
        secret_hint: hint(&secret),
        secret: None,
        created_by: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Inserts a subscription starting at the current log tail; returns it with its secret.
pub async fn insert(
    tx: &Tx,
    workspace_id: &str,
    url: &str,
    event_types: &[String],
    description: &str,
    active: bool,
    created_by: &str,
) -> Result<Webhook> {
    let id = ids::new_id("whk");
    let secret = format!("whsec_{}", ids::random_base32(32));
    let (_, tail) = events::log_state(tx).await?;
    let now = clock::now_string();
    tx.execute(
        "INSERT INTO webhooks (id, workspace_id, url, secret, event_types, description, active, position, created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        (
            id.as_str(),
            workspace_id,
            url,
            secret.as_str(),
            serde_json::to_string(event_types)?,
            description,
            active,
            tail,
            created_by,
            now.as_str(),
        ),
    )
    .await?;
    let mut webhook = get(tx, &id)
        .await?
        .ok_or_else(|| crate::Error::internal("webhook vanished after insert"))?;
    webhook.secret = Some(secret);
    Ok(webhook)
}

/// A subscription by id (without its secret).
pub async fn get(conn: &Connection, id: &str) -> Result<Option<Webhook>> {
    let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1");
    query_opt(conn, &sql, [id], webhook_from_row).await
}

/// The subscriptions of a workspace, oldest first.
pub async fn list(conn: &Connection, workspace_id: &str) -> Result<Vec<Webhook>> {
    let sql = format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = ?1 ORDER BY created_at, id"
    );
    query_all(conn, &sql, [workspace_id], webhook_from_row).await
}

/// How many subscriptions a workspace has.
pub async fn count(conn: &Connection, workspace_id: &str) -> Result<i64> {
    super::rows::query_i64(
        conn,
        "SELECT COUNT(*) FROM webhooks WHERE workspace_id = ?1",
        [workspace_id],
    )
    .await
}

/// Rewrites the editable fields. `restart_at_tail` moves the planning position to the
/// log tail (a paused subscription being resumed skips what happened meanwhile).
pub async fn update(tx: &Tx, webhook: &Webhook, restart_at_tail: bool) -> Result<Option<Webhook>> {
    let now = clock::now_string();
    tx.execute(
        "UPDATE webhooks SET url = ?2, event_types = ?3, description = ?4, active = ?5, updated_at = ?6 WHERE id = ?1",
        (
            webhook.id.as_str(),
            webhook.url.as_str(),
            serde_json::to_string(&webhook.event_types)?,
            webhook.description.as_str(),
            webhook.active,
            now.as_str(),
        ),
    )
    .await?;
    if restart_at_tail {
        let (_, tail) = events::log_state(tx).await?;
        tx.execute(
            "UPDATE webhooks SET position = ?2 WHERE id = ?1",
            (webhook.id.as_str(), tail),
        )
        .await?;
    }
    get(tx, &webhook.id).await
}

/// Deletes a subscription with its deliveries; true when it existed.
pub async fn delete(tx: &Tx, id: &str) -> Result<bool> {
    tx.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = ?1)",
        [id],
    )
    .await?;
    tx.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?1", [id])
        .await?;
    Ok(tx
        .execute("DELETE FROM webhooks WHERE id = ?1", [id])
        .await?
        > 0)
}

/// Turns public events past each active subscription's position into pending deliveries
/// (due at `first_attempt_ms`) and advances the positions, scanning at most `batch` events
/// per subscription. Private events are skipped (they never leave the server). Returns
/// (deliveries inserted, whether a subscription has more events to scan).
pub async fn plan(tx: &Tx, batch: i64, first_attempt_ms: i64) -> Result<(u64, bool)> {
    let subscriptions = query_all(
        tx,
        "SELECT id, workspace_id, event_types, position FROM webhooks WHERE active = 1",
        (),
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<i64>(3)?,
            ))
        },
    )
    .await?;
    let now = clock::now_string();
    let mut inserted = 0;
    let mut more = false;
    for (webhook_id, workspace_id, types, position) in subscriptions {
        let types: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
        let all = types.iter().any(|t| t == "*");
        let logged = events::after_all(tx, &workspace_id, position, batch).await?;
        let Some(last) = logged.last().map(|e| e.position) else {
            continue;
        };
        more |= logged.len() as i64 >= batch;
        for entry in logged {
            if entry.recipients.is_some() {
                continue;
            }
            if !all && !types.contains(&entry.event.kind) {
                continue;
            }
            let id = ids::new_id("whd");
            let body = json!({
                "type": entry.event.kind,
                "webhook_id": webhook_id,
                "delivery_id": id,
                "event": entry.event,
            })
            .to_string();
            inserted += tx
                .execute(
                    "INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, status, next_attempt_ms, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
                    (
                        id.as_str(),
                        webhook_id.as_str(),
                        entry.event.id.as_str(),
                        entry.event.kind.as_str(),
                        body,
                        first_attempt_ms,
                        now.as_str(),
                    ),
                )
                .await?;
        }
        tx.execute(
            "UPDATE webhooks SET position = ?2 WHERE id = ?1 AND position < ?2",
            (webhook_id.as_str(), last),
        )
        .await?;
    }
    Ok((inserted, more))
}

/// Claims up to `limit` due deliveries of active subscriptions: pushes their next attempt
/// `lease_ms` out (so other senders skip them, and a crashed sender's claim comes back)
/// and returns them with their target.
pub async fn claim_due(
    tx: &Tx,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<ClaimedDelivery>> {
    let claimed = query_all(
        tx,
        "UPDATE webhook_deliveries SET next_attempt_ms = ?2
         WHERE id IN (
            SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
            WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1 AND w.active = 1
            ORDER BY d.next_attempt_ms, d.id LIMIT ?3)
         RETURNING id, webhook_id, event_type, body, attempts, attempt_base",
        (now_ms, now_ms + lease_ms, limit),
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<i64>(4)?,
                r.get::<i64>(5)?,
            ))
        },
    )
    .await?;
    let mut out = Vec::with_capacity(claimed.len());
    for (id, webhook_id, event_type, body, attempts, base) in claimed {
        let Some(target) = target(tx, &webhook_id).await? else {
            continue;
        };
        out.push(ClaimedDelivery {
            id,
            webhook_id,
            event_type,
            url: target.url,
            secret: target.secret,
            body,
            attempts,
            scheduled_attempts: attempts - base,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Where and with which key a subscription's deliveries go.
pub async fn target(conn: &Connection, webhook_id: &str) -> Result<Option<WebhookTarget>> {
    query_opt(
        conn,
        "SELECT id, url, secret FROM webhooks WHERE id = ?1",
        [webhook_id],
        |r| {
            Ok(WebhookTarget {
                webhook_id: r.get(0)?,
                url: r.get(1)?,
                secret: r.get(2)?,
            })
        },
    )
    .await
}

/// The outcome of one attempt, as recorded.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// `delivered`, `pending` or `failed` after this attempt.
    pub new_status: &'static str,
    /// For `pending`: when the next attempt is due.
    pub next_attempt_ms: Option<i64>,
}

/// Records attempt number `claimed_attempts + 1` of a delivery. Does nothing (false) when
/// the delivery moved on meanwhile (another sender recorded this attempt first).
pub async fn record_attempt(
    tx: &Tx,
    delivery_id: &str,
    claimed_attempts: i64,
    record: &AttemptRecord,
) -> Result<bool> {
    let now = clock::now_string();
    let delivered_at = (record.new_status == "delivered").then(|| now.clone());
    let changed = tx
        .execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?3, next_attempt_ms = ?4,
                last_status = ?5, last_error = ?6, last_attempt_at = ?7, delivered_at = COALESCE(?8, delivered_at)
             WHERE id = ?1 AND attempts = ?2 AND status = 'pending'",
            (
                delivery_id,
                claimed_attempts,
                record.new_status,
                record.next_attempt_ms,
                record.status,
                record.error.clone(),
                now.as_str(),
                delivered_at,
            ),
        )
        .await?;
    if changed == 0 {
        return Ok(false);
    }
    tx.execute(
        "INSERT OR IGNORE INTO webhook_attempts (delivery_id, attempt, status, error, duration_ms, attempted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            delivery_id,
            claimed_attempts + 1,
            record.status,
            record.error.clone(),
            record.duration_ms,
            now.as_str(),
        ),
    )
    .await?;
    Ok(true)
}

/// Makes a delivery due now with a fresh retry schedule; false when it does not exist.
pub async fn retry(tx: &Tx, webhook_id: &str, delivery_id: &str, now_ms: i64) -> Result<bool> {
    Ok(tx
        .execute(
            "UPDATE webhook_deliveries SET status = 'pending', attempt_base = attempts, next_attempt_ms = ?3
             WHERE id = ?2 AND webhook_id = ?1",
            (webhook_id, delivery_id, now_ms),
        )
        .await?
        > 0)
}

/// When the earliest pending delivery of an active subscription is due.
pub async fn next_due_ms(conn: &Connection) -> Result<Option<i64>> {
    Ok(query_opt(
        conn,
        "SELECT MIN(d.next_attempt_ms) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND w.active = 1",
        (),
        |r| Ok(r.get::<Option<i64>>(0)?),
    )
    .await?
    .flatten())
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_type, status, attempts, last_status, last_error, last_attempt_at, next_attempt_ms, delivered_at, created_at";

fn delivery_from_row(r: &Row) -> Result<WebhookDelivery> {
    let status: String = r.get(4)?;
    let next: Option<i64> = r.get(9)?;
    Ok(WebhookDelivery {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        event_id: r.get(2)?,
        event_type: r.get(3)?,
        next_attempt_at: next.filter(|_| status == "pending").map(format_ms),
        status,
        attempts: r.get(5)?,
        last_status: r.get(6)?,
        last_error: r.get(7)?,
        last_attempt_at: r.get(8)?,
        delivered_at: r.get(10)?,
        created_at: r.get(11)?,
        attempt_log: Vec::new(),
    })
}

/// One delivery of a subscription, with its attempt log.
pub async fn delivery(
    conn: &Connection,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<Option<WebhookDelivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ?1 AND id = ?2"
    );
    let mut found = query_all(conn, &sql, (webhook_id, delivery_id), delivery_from_row).await?;
    attach_attempts(conn, &mut found).await?;
    Ok(found.pop())
}

/// Deliveries of a subscription newest first, strictly older than `before` (a delivery
/// id; empty for the newest), at most `limit`, with their attempt logs.
pub async fn deliveries(
    conn: &Connection,
    webhook_id: &str,
    before: &str,
    limit: i64,
) -> Result<Vec<WebhookDelivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE webhook_id = ?1 AND (?2 = '' OR id < ?2) ORDER BY id DESC LIMIT ?3"
    );
    let mut page = query_all(conn, &sql, (webhook_id, before, limit), delivery_from_row).await?;
    attach_attempts(conn, &mut page).await?;
    Ok(page)
}

async fn attach_attempts(conn: &Connection, deliveries: &mut [WebhookDelivery]) -> Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = deliveries.iter().map(|d| d.id.as_str()).collect();
    let attempts = query_all(
        conn,
        "SELECT delivery_id, attempt, status, error, duration_ms, attempted_at FROM webhook_attempts
         WHERE delivery_id IN (SELECT value FROM json_each(?1)) ORDER BY delivery_id, attempt",
        [serde_json::to_string(&ids)?],
        |r| {
            Ok((
                r.get::<String>(0)?,
                WebhookAttempt {
                    attempt: r.get(1)?,
                    status: r.get(2)?,
                    error: r.get(3)?,
                    duration_ms: r.get(4)?,
                    attempted_at: r.get(5)?,
                },
            ))
        },
    )
    .await?;
    for (delivery_id, attempt) in attempts {
        if let Some(d) = deliveries.iter_mut().find(|d| d.id == delivery_id) {
            d.attempt_log.push(attempt);
        }
    }
    Ok(())
}
