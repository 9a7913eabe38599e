-- Uploads by URL (decisions §4) and upload hardening (reference §21.4): client metadata,
-- retry-safe nonces, presigned (pending) uploads. `storage_path` keeps the object key,
-- relative to the configured upload store (`--uploads`); it is never serialized.
ALTER TABLE uploads ADD COLUMN width INTEGER;
ALTER TABLE uploads ADD COLUMN height INTEGER;
ALTER TABLE uploads ADD COLUMN duration_ms INTEGER;
ALTER TABLE uploads ADD COLUMN client_nonce TEXT;
-- 'ready' (bytes stored and checked) or 'pending' (presigned PUT not completed yet).
ALTER TABLE uploads ADD COLUMN status TEXT NOT NULL DEFAULT 'ready';
-- Unix milliseconds after which a pending upload's presigned URL is dead; NULL when ready.
ALTER TABLE uploads ADD COLUMN pending_expires_at_ms INTEGER;
-- 1 when the stored object itself carries the safe Content-Type and Content-Disposition,
-- so a download may redirect to a presigned GET instead of streaming through the API.
ALTER TABLE uploads ADD COLUMN direct_download INTEGER NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX uploads_owner_nonce ON uploads(owner_id, client_nonce)
    WHERE client_nonce IS NOT NULL;
CREATE INDEX uploads_workspace_owner ON uploads(workspace_id, owner_id);
CREATE INDEX message_attachments_upload ON message_attachments(upload_id);
