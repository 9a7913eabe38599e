-- Search v2. The 0001 index stored a copy of every body and was keyed by an UNINDEXED
-- message_id, so each edit or delete scanned the whole index. It becomes an
-- external-content FTS5 table over `messages`, keyed by the message rowid (kept by
-- VACUUM and VACUUM INTO: `messages` has indexes), rebuilt from the current rows.
-- Soft deletes still blank the body, so deleted messages stop matching.

DROP TRIGGER IF EXISTS messages_fts_insert;
DROP TRIGGER IF EXISTS messages_fts_delete;
DROP TRIGGER IF EXISTS messages_fts_update;
DROP TABLE IF EXISTS messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'porter unicode61'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

-- Searches without words (`from:`, `in:`, `has:`, dates, only exclusions) walk these
-- newest first.
CREATE INDEX messages_workspace_created ON messages(workspace_id, created_at, id);
CREATE INDEX messages_author_created ON messages(author_id, created_at, id);
