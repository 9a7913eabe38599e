-- ClickClack schema v1. Table and column names follow the reference schema (§3);
-- secrets are stored as SHA-256 hashes in *_hash columns.

CREATE TABLE event_log_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL,
    epoch TEXT NOT NULL
);
INSERT INTO event_log_state (id, position, epoch)
VALUES (1, 0, lower(hex(randomblob(5))));

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    avatar_url TEXT NOT NULL DEFAULT '',
    handle TEXT,
    kind TEXT NOT NULL DEFAULT 'human',
    owner_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX users_handle_unique ON users(handle) WHERE handle IS NOT NULL AND handle <> '';

CREATE TABLE identities (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    provider_subject TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (provider, provider_subject)
);
CREATE INDEX identities_email ON identities(email);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members(user_id);

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    archived_at TEXT,
    UNIQUE (workspace_id, name)
);

CREATE TABLE direct_conversations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    pair_key TEXT UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE direct_conversation_members (
    conversation_id TEXT NOT NULL REFERENCES direct_conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    closed_at TEXT,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX direct_conversation_members_user ON direct_conversation_members(user_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id TEXT REFERENCES channels(id) ON DELETE CASCADE,
    direct_conversation_id TEXT REFERENCES direct_conversations(id) ON DELETE CASCADE,
    author_id TEXT NOT NULL REFERENCES users(id),
    parent_message_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
    thread_root_id TEXT NOT NULL,
    channel_seq INTEGER,
    thread_seq INTEGER,
    body TEXT NOT NULL,
    body_format TEXT NOT NULL DEFAULT 'markdown',
    kind TEXT NOT NULL DEFAULT 'message',
    turn_id TEXT,
    client_nonce TEXT,
    quoted_message_id TEXT REFERENCES messages(id) ON DELETE SET NULL,
    quoted_body_snapshot TEXT,
    quoted_author_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    edited_at TEXT,
    deleted_at TEXT,
    CHECK ((channel_id IS NULL) <> (direct_conversation_id IS NULL))
);
CREATE UNIQUE INDEX messages_channel_seq ON messages(channel_id, channel_seq)
    WHERE channel_id IS NOT NULL AND channel_seq IS NOT NULL;
CREATE UNIQUE INDEX messages_direct_seq ON messages(direct_conversation_id, channel_seq)
    WHERE direct_conversation_id IS NOT NULL AND channel_seq IS NOT NULL;
CREATE UNIQUE INDEX messages_thread_seq ON messages(thread_root_id, thread_seq)
    WHERE thread_seq IS NOT NULL;
CREATE UNIQUE INDEX messages_author_nonce ON messages(author_id, client_nonce)
    WHERE client_nonce IS NOT NULL;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    message_id UNINDEXED,
    workspace_id UNINDEXED,
    body,
    tokenize = 'porter unicode61'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (message_id, workspace_id, body)
    VALUES (new.id, new.workspace_id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE message_id = old.id;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    DELETE FROM messages_fts WHERE message_id = old.id;
    INSERT INTO messages_fts (message_id, workspace_id, body)
    VALUES (new.id, new.workspace_id, new.body);
END;

CREATE TABLE thread_state (
    root_message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    reply_count INTEGER NOT NULL DEFAULT 0,
    last_reply_at TEXT,
    last_reply_author_ids_json TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE pins (
    channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    pinned_by TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    cursor TEXT NOT NULL UNIQUE,
    position INTEGER NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id TEXT,
    type TEXT NOT NULL,
    seq INTEGER,
    payload_json TEXT NOT NULL,
    is_private INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX events_workspace_position ON events(workspace_id, position);

CREATE TABLE event_recipients (
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id)
) WITHOUT ROWID;

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    byte_size INTEGER NOT NULL,
    storage_path TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (message_id, upload_id)
);

CREATE TABLE invites (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    accepted_at TEXT
);

CREATE TABLE auth_magic_links (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE channel_reads (
    channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_read_seq INTEGER NOT NULL,
    last_read_at TEXT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE direct_reads (
    conversation_id TEXT NOT NULL REFERENCES direct_conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_read_seq INTEGER NOT NULL,
    last_read_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
