-- Outgoing event webhooks (decisions §4): owner-managed subscriptions of a workspace to
-- public event types, and a durable delivery queue with its attempt log.
--
-- `secret` is kept in plaintext: it is the HMAC key of every delivery (export redacts it).
-- `event_types` is a JSON array of event types, or ["*"] for all of them.
-- `position` is the event-log position up to which events were planned into deliveries;
-- a new (or re-activated) subscription starts at the log tail.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    event_types TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    position INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhooks_workspace ON webhooks(workspace_id);

-- One event for one subscription. `body` is the exact JSON that is signed and sent.
-- status: 'pending' (due at `next_attempt_ms`, Unix milliseconds), 'delivered' (a 2xx
-- answered) or 'failed' (gave up after the retry schedule). A claimed delivery's
-- `next_attempt_ms` is pushed out by a lease, so a crashed sender's claim comes back.
-- `attempt_base` is `attempts` when the schedule last restarted (a manual retry).
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    attempt_base INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER,
    last_status INTEGER,
    last_error TEXT,
    last_attempt_at TEXT,
    delivered_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_ms);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);

-- Every attempt of a delivery: HTTP status (NULL when no response) or the error.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;
