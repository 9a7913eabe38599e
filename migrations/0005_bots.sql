-- Bots (reference §21.12, decisions §3). A bot is a `users` row with kind 'bot' (and
-- `owner_user_id` for user-owned bots) that is a member of exactly one workspace with role
-- 'bot'. Its tokens (`ccb_…`) are stored as SHA-256 hashes, bound to that workspace, with
-- the granted scopes (bundles expanded) as a JSON array.
CREATE TABLE bot_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    bot_user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    owner_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    scopes_json TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX bot_tokens_bot ON bot_tokens(bot_user_id);

-- A bot's command menu in its workspace, replaced whole by `PUT /api/bots/self/commands`.
CREATE TABLE bot_commands (
    bot_user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    usage TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (bot_user_id, workspace_id, name)
);
CREATE INDEX bot_commands_workspace ON bot_commands(workspace_id);
