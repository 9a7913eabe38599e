-- Short-lived typing / presence / progress events, kept ~30 s so pollers and other
-- instances see them. Never replayed after expiry.
CREATE TABLE ephemeral_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id TEXT,
    type TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    recipients_json TEXT,
    created_at TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX ephemeral_events_workspace ON ephemeral_events(workspace_id, seq);
CREATE INDEX ephemeral_events_expiry ON ephemeral_events(expires_at_ms);
