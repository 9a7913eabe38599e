use serde::Serialize;

/// An outgoing webhook subscription of a workspace. `secret` (`whsec_…`) is present only
/// in the answer that created the subscription; afterwards only `secret_hint` (its last
/// four characters) is shown.
#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    /// Event types delivered (`["*"]` means every public event type).
    pub event_types: Vec<String>,
    pub description: String,
    pub active: bool,
    pub secret_hint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

/// One event queued for one webhook, with its delivery state.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (gave up).
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// HTTP status of the last attempt; `null` when it got no response.
    pub last_status: Option<i64>,
    /// Why the last attempt failed (`null` after a 2xx).
    pub last_error: Option<String>,
    pub last_attempt_at: Option<String>,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<WebhookAttempt>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookAttempt {
    pub attempt: i64,
    /// HTTP status of the answer; `null` when there was none (connect error, timeout).
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub attempted_at: String,
}
