//! Bots (reference §21.12): bot users with `ccb_…` tokens bound to one workspace and a set
//! of scopes, their management (workspace owners and the bot's owning user), bearer
//! resolution, and command menus.
//!
//! Enforcement: [`Actor::require`] at the top of each use case checks the scope; the
//! workspace binding is checked by [`Actor::require_workspace`] where a use case names a
//! workspace and by the visibility checks in `access.rs` (a bot is a member of exactly its
//! home workspace, so any other workspace's resource answers 403
//! `bot token cannot access this workspace`).

use super::{access, Actor, Chat};
use crate::model::{Bot, BotCommand, BotToken, CommandMenu, User};
use crate::store::bots;
use crate::{clock, Error, Result};
use serde::Serialize;

/// Scope names (reference §21.12).
pub mod scopes {
    pub const WORKSPACES_READ: &str = "workspaces:read";
    pub const CHANNELS_READ: &str = "channels:read";
    pub const CHANNELS_WRITE: &str = "channels:write";
    pub const MESSAGES_READ: &str = "messages:read";
    pub const MESSAGES_WRITE: &str = "messages:write";
    pub const THREADS_READ: &str = "threads:read";
    pub const THREADS_WRITE: &str = "threads:write";
    pub const DMS_READ: &str = "dms:read";
    pub const DMS_WRITE: &str = "dms:write";
    pub const REALTIME_READ: &str = "realtime:read";
    pub const UPLOADS_WRITE: &str = "uploads:write";
    pub const PROFILE_READ: &str = "profile:read";
    pub const AGENT_ACTIVITY_WRITE: &str = "agent_activity:write";
    pub const COMMANDS_WRITE: &str = "commands:write";

    /// Every scope.
    pub const ALL: &[&str] = &[
        WORKSPACES_READ,
        CHANNELS_READ,
        CHANNELS_WRITE,
        MESSAGES_READ,
        MESSAGES_WRITE,
        THREADS_READ,
        THREADS_WRITE,
        DMS_READ,
        DMS_WRITE,
        REALTIME_READ,
        UPLOADS_WRITE,
        PROFILE_READ,
        AGENT_ACTIVITY_WRITE,
        COMMANDS_WRITE,
    ];

    /// `bot:read`: every `:read` scope.
    pub const BOT_READ: &[&str] = &[
        WORKSPACES_READ,
        CHANNELS_READ,
        MESSAGES_READ,
        THREADS_READ,
        DMS_READ,
        REALTIME_READ,
        PROFILE_READ,
    ];

    /// `bot:write`: `bot:read` plus writing messages, threads and DMs, uploads, agent
    /// activity and command menus (not `channels:write`).
    pub const BOT_WRITE: &[&str] = &[
        WORKSPACES_READ,
        CHANNELS_READ,
        MESSAGES_READ,
        THREADS_READ,
        DMS_READ,
        REALTIME_READ,
        PROFILE_READ,
        MESSAGES_WRITE,
        THREADS_WRITE,
        DMS_WRITE,
        UPLOADS_WRITE,
        AGENT_ACTIVITY_WRITE,
        COMMANDS_WRITE,
    ];

    /// The default grant of a new token.
    pub const DEFAULT: &str = "bot:write";
}

/// Expands scope names and bundles (`bot:read`, `bot:write`, `bot:admin`) into a sorted,
/// deduplicated list. Empty input means `bot:write`; an unknown name is 400.
pub fn expand_scopes(requested: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let requested: Vec<&str> = requested
        .iter()
        .flat_map(|s| s.split([',', ' ']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let requested = if requested.is_empty() {
        vec![scopes::DEFAULT]
    } else {
        requested
    };
    for name in requested {
        let expanded: &[&str] = match name {
            "bot:read" => scopes::BOT_READ,
            "bot:write" => scopes::BOT_WRITE,
            "bot:admin" => scopes::ALL,
            other => match scopes::ALL.iter().find(|s| **s == other) {
                Some(s) => std::slice::from_ref(s),
                None => {
                    return Err(Error::invalid(
                        "invalid_scope",
                        format!("unknown bot scope {other:?}"),
                    ))
                }
            },
        };
        out.extend(expanded.iter().map(|s| s.to_string()));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// What a bot token grants: its workspace and scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotGrant {
    pub token_id: String,
    pub workspace_id: String,
    pub scopes: Vec<String>,
}

impl BotGrant {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// 403 for a bot token in another workspace.
pub(crate) fn other_workspace() -> Error {
    Error::forbidden(
        "bot_workspace_forbidden",
        "bot token cannot access this workspace",
    )
}

/// Input of a bot create.
#[derive(Debug, Clone, Default)]
pub struct NewBot {
    pub name: String,
    pub handle: String,
    pub avatar_url: Option<String>,
    /// Scopes and bundles; empty → `bot:write`.
    pub scopes: Vec<String>,
    /// Name of the first token; empty → `default`.
    pub token_name: Option<String>,
    /// The owning user (CLI `--owner`); `None` makes a service bot. Over HTTP the caller
    /// owns the bot.
    pub owner_user_id: Option<String>,
}

/// A created bot with its first token; `token` is the raw secret, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedBot {
    pub bot: Bot,
    pub bot_token: BotToken,
    pub token: String,
}

/// A minted token; `token` is the raw secret, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct MintedToken {
    pub bot_token: BotToken,
    pub token: String,
}

/// Most commands in one bot's menu.
pub const MAX_COMMANDS: usize = 50;

fn clean_handle(handle: &str) -> Result<String> {
    let h = handle.trim().trim_start_matches('@').to_lowercase();
    let valid = (2..=32).contains(&h.len())
        && h.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return Err(Error::invalid(
            "invalid_handle",
            "handle must be 2-32 characters of a-z, 0-9, _ or -",
        ));
    }
    Ok(h)
}

fn clean_bot_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name_required", "bot name is required"));
    }
    if name.chars().count() > 80 {
        return Err(Error::invalid(
            "name_too_long",
            "bot name is longer than 80 characters",
        ));
    }
    Ok(name.to_string())
}

fn clean_avatar(avatar: Option<&str>) -> Result<String> {
    let a = avatar.unwrap_or("").trim();
    if !a.is_empty() && !a.starts_with("https://") && !a.starts_with("http://") {
        return Err(Error::invalid(
            "invalid_avatar_url",
            "avatar_url must be an http(s) URL",
        ));
    }
    if a.len() > 2048 {
        return Err(Error::invalid(
            "invalid_avatar_url",
            "avatar_url is too long",
        ));
    }
    Ok(a.to_string())
}

fn clean_token_name(name: Option<&str>) -> Result<String> {
    let name = name.unwrap_or("").trim();
    if name.chars().count() > 80 {
        return Err(Error::invalid(
            "name_too_long",
            "token name is longer than 80 characters",
        ));
    }
    Ok(if name.is_empty() { "default" } else { name }.to_string())
}

/// Validates a command menu: names `/`-stripped, lowercased, 1–32 of `[a-z0-9_-]`, unique;
/// descriptions 1–200 characters; usage at most 200; at most [`MAX_COMMANDS`].
pub fn clean_commands(commands: Vec<BotCommand>) -> Result<Vec<BotCommand>> {
    if commands.len() > MAX_COMMANDS {
        return Err(Error::invalid(
            "too_many_commands",
            format!("a command menu can have at most {MAX_COMMANDS} commands"),
        ));
    }
    let mut out: Vec<BotCommand> = Vec::with_capacity(commands.len());
    for c in commands {
        let name = c.name.trim().trim_start_matches('/').to_lowercase();
        let valid = (1..=32).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            return Err(Error::invalid(
                "invalid_command",
                "command name must be 1-32 characters of a-z, 0-9, _ or -",
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(Error::invalid(
                "invalid_command",
                format!("command {name:?} is listed twice"),
            ));
        }
        let description = c.description.trim().to_string();
        if description.is_empty() || description.chars().count() > 200 {
            return Err(Error::invalid(
                "invalid_command",
                "command description must be 1-200 characters",
            ));
        }
        let usage = c.usage.trim().to_string();
        if usage.chars().count() > 200 {
            return Err(Error::invalid(
                "invalid_command",
                "command usage is longer than 200 characters",
            ));
        }
        out.push(BotCommand {
            name,
            description,
            usage,
        });
    }
    Ok(out)
}

fn no_bots(actor: &Actor) -> Result<()> {
    if actor.user.kind == "bot" {
        return Err(Error::forbidden("bot_forbidden", "bots cannot manage bots"));
    }
    Ok(())
}

/// A bot the caller may manage: a workspace owner of its workspace or its owning user.
async fn manageable(conn: &libsql::Connection, actor: &Actor, bot_id: &str) -> Result<Bot> {
    no_bots(actor)?;
    let bot = bots::get(conn, bot_id)
        .await?
        .ok_or_else(|| Error::not_found("bot"))?;
    let role = access::member_role(conn, &bot.workspace_id, actor.id())
        .await
        .map_err(|_| Error::not_found("bot"))?;
    if role != "owner" && bot.owner_user_id.as_deref() != Some(actor.id()) {
        return Err(Error::forbidden(
            "owner_required",
            "only a workspace owner or the bot's owner can manage this bot",
        ));
    }
    Ok(bot)
}

async fn require_owner(conn: &libsql::Connection, workspace_id: &str, user_id: &str) -> Result<()> {
    if access::member_role(conn, workspace_id, user_id).await? != "owner" {
        return Err(Error::forbidden(
            "owner_required",
            "only a workspace owner can manage bots",
        ));
    }
    Ok(())
}

impl Chat {
    /// `POST /api/workspaces/{id}/bots`: a workspace owner creates a bot they own, with a
    /// first token.
    pub async fn create_bot(
        &self,
        actor: &Actor,
        workspace_id: &str,
        mut new: NewBot,
    ) -> Result<CreatedBot> {
        no_bots(actor)?;
        new.owner_user_id = Some(actor.id().to_string());
        self.insert_bot(actor.id(), workspace_id, new).await
    }

    /// `clickclack admin bot create`: `created_by` must be a workspace owner; `owner` (when
    /// given) must be a member.
    pub async fn admin_create_bot(
        &self,
        created_by: &str,
        workspace_id: &str,
        new: NewBot,
    ) -> Result<CreatedBot> {
        self.insert_bot(created_by, workspace_id, new).await
    }

    async fn insert_bot(
        &self,
        created_by: &str,
        workspace_id: &str,
        new: NewBot,
    ) -> Result<CreatedBot> {
        let name = clean_bot_name(&new.name)?;
        let handle = clean_handle(&new.handle)?;
        let avatar = clean_avatar(new.avatar_url.as_deref())?;
        let scopes = expand_scopes(&new.scopes)?;
        let token_name = clean_token_name(new.token_name.as_deref())?;
        let owner = new
            .owner_user_id
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty());
        let workspace_id = workspace_id.trim().to_string();
        let created_by = created_by.trim().to_string();
        self.store
            .write(move |tx| async move {
                require_owner(&tx, &workspace_id, &created_by).await?;
                if let Some(owner) = &owner {
                    if crate::store::workspaces::role(&tx, &workspace_id, owner)
                        .await?
                        .is_none()
                    {
                        return Err(Error::invalid(
                            "not_a_member",
                            format!("owner {owner} is not a member of this workspace"),
                        ));
                    }
                }
                let bot = bots::insert_bot(
                    &tx,
                    &workspace_id,
                    &name,
                    &handle,
                    &avatar,
                    owner.as_deref(),
                )
                .await?;
                let (bot_token, token) =
                    bots::insert_token(&tx, &bot, &token_name, &scopes, &created_by).await?;
                Ok(CreatedBot {
                    bot,
                    bot_token,
                    token,
                })
            })
            .await
    }

    /// `GET /api/workspaces/{id}/bots`: workspace owners only.
    pub async fn list_bots(&self, actor: &Actor, workspace_id: &str) -> Result<Vec<Bot>> {
        no_bots(actor)?;
        let conn = self.store.reader().await?;
        require_owner(&conn, workspace_id, actor.id()).await?;
        bots::list(&conn, workspace_id).await
    }

    /// `GET /api/bots/{id}/tokens`: every token of a bot, newest first.
    pub async fn list_bot_tokens(&self, actor: &Actor, bot_id: &str) -> Result<Vec<BotToken>> {
        let conn = self.store.reader().await?;
        let bot = manageable(&conn, actor, bot_id).await?;
        bots::list_tokens(&conn, &bot.user.id).await
    }

    /// `POST /api/bots/{id}/tokens`: mints a token; the raw secret is returned once.
    pub async fn create_bot_token(
        &self,
        actor: &Actor,
        bot_id: &str,
        name: Option<&str>,
        scopes: &[String],
    ) -> Result<MintedToken> {
        let name = clean_token_name(name)?;
        let scopes = expand_scopes(scopes)?;
        let bot_id = bot_id.to_string();
        let actor = actor.clone();
        self.store
            .write(move |tx| async move {
                let bot = manageable(&tx, &actor, &bot_id).await?;
                let (bot_token, token) =
                    bots::insert_token(&tx, &bot, &name, &scopes, actor.id()).await?;
                Ok(MintedToken { bot_token, token })
            })
            .await
    }

    /// `POST /api/bot-tokens/{id}/revoke`: idempotent; the token answers 401 afterwards.
    pub async fn revoke_bot_token(&self, actor: &Actor, token_id: &str) -> Result<BotToken> {
        let token_id = token_id.to_string();
        let actor = actor.clone();
        self.store
            .write(move |tx| async move {
                no_bots(&actor)?;
                let token = bots::get_token(&tx, &token_id)
                    .await?
                    .ok_or_else(|| Error::not_found("bot token"))?;
                manageable(&tx, &actor, &token.bot_user_id)
                    .await
                    .map_err(|e| match e.kind {
                        crate::ErrorKind::NotFound => Error::not_found("bot token"),
                        _ => e,
                    })?;
                bots::revoke_token(&tx, &token_id).await?;
                bots::get_token(&tx, &token_id)
                    .await?
                    .ok_or_else(|| Error::not_found("bot token"))
            })
            .await
    }

    /// `DELETE /api/bots/{id}`: revokes every token, drops the command menu and the
    /// membership. The user row stays so the bot's messages keep their author.
    pub async fn delete_bot(&self, actor: &Actor, bot_id: &str) -> Result<Bot> {
        let bot_id = bot_id.to_string();
        let actor = actor.clone();
        self.store
            .write(move |tx| async move {
                let bot = manageable(&tx, &actor, &bot_id).await?;
                bots::revoke_all(&tx, &bot.user.id).await?;
                bots::remove_from_workspace(&tx, &bot.workspace_id, &bot.user.id).await?;
                Ok(bot)
            })
            .await
    }

    /// `PUT /api/bots/self/commands`: a bot token with `commands:write` replaces its menu.
    pub async fn set_bot_commands(
        &self,
        actor: &Actor,
        commands: Vec<BotCommand>,
    ) -> Result<Vec<BotCommand>> {
        let Some(grant) = &actor.bot else {
            return Err(Error::forbidden(
                "bot_token_required",
                "only a bot token can set its command menu",
            ));
        };
        actor.require(scopes::COMMANDS_WRITE)?;
        let commands = clean_commands(commands)?;
        let workspace_id = grant.workspace_id.clone();
        let bot_id = actor.id().to_string();
        let stored = commands.clone();
        self.store
            .write(move |tx| async move {
                access::member_role(&tx, &workspace_id, &bot_id).await?;
                bots::replace_commands(&tx, &bot_id, &workspace_id, &stored).await
            })
            .await?;
        Ok(commands)
    }

    /// `GET /api/workspaces/{id}/commands`: every bot's menu, for workspace members.
    pub async fn list_commands(
        &self,
        actor: &Actor,
        workspace_id: &str,
    ) -> Result<Vec<CommandMenu>> {
        actor.require(scopes::WORKSPACES_READ)?;
        actor.require_workspace(workspace_id)?;
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        bots::menus(&conn, workspace_id).await
    }

    /// The actor of a live `ccb_…` token (`None` when unknown or revoked). Records the use
    /// at most once a minute per token.
    pub async fn bot_actor(&self, token: &str) -> Result<Option<Actor>> {
        let conn = self.store.reader().await?;
        let Some((bot_token, user)) = bots::by_secret(&conn, token.trim()).await? else {
            return Ok(None);
        };
        drop(conn);
        let stale = bot_token
            .last_used_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .is_none_or(|t| {
                chrono::Utc::now().signed_duration_since(t) > chrono::Duration::minutes(1)
            });
        if stale {
            let id = bot_token.id.clone();
            self.store
                .write(move |tx| async move {
                    bots::touch_token(&tx, &id, &clock::now_string()).await
                })
                .await?;
        }
        Ok(Some(Actor::with_bot(
            user,
            BotGrant {
                token_id: bot_token.id,
                workspace_id: bot_token.workspace_id,
                scopes: bot_token.scopes,
            },
        )))
    }

    /// The actor of a bearer token: a bot token (`ccb_…`) first, then a session.
    pub async fn bearer_actor(&self, token: &str) -> Result<Option<Actor>> {
        let token = token.trim();
        if token.starts_with("ccb_") {
            return self.bot_actor(token).await;
        }
        Ok(self.session_user(token).await?.map(Actor::new))
    }

    /// `GET /api/me`: the caller (bots need `profile:read`).
    pub fn me(&self, actor: &Actor) -> Result<User> {
        actor.require(scopes::PROFILE_READ)?;
        Ok(actor.user.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bundles_expand_and_unknown_scopes_fail() {
        assert_eq!(expand_scopes(&[]).unwrap().len(), scopes::BOT_WRITE.len());
        assert_eq!(
            expand_scopes(&v(&["bot:admin"])).unwrap().len(),
            scopes::ALL.len()
        );
        let read = expand_scopes(&v(&["bot:read"])).unwrap();
        assert!(read.iter().all(|s| s.ends_with(":read")));
        assert_eq!(read.len(), 7);
        assert!(!expand_scopes(&v(&["bot:write"]))
            .unwrap()
            .contains(&"channels:write".to_string()));
        assert_eq!(
            expand_scopes(&v(&["messages:read,messages:read", " dms:read "])).unwrap(),
            v(&["dms:read", "messages:read"])
        );
        assert_eq!(
            expand_scopes(&v(&["messages:delete"])).unwrap_err().code,
            "invalid_scope"
        );
    }

    #[test]
    fn command_menus_are_validated() {
        let c = |n: &str, d: &str| BotCommand {
            name: n.into(),
            description: d.into(),
            usage: String::new(),
        };
        let ok = clean_commands(vec![c("/Deploy", " ship it ")]).unwrap();
        assert_eq!(ok, vec![c("deploy", "ship it")]);
        assert!(clean_commands(vec![c("de ploy", "x")]).is_err());
        assert!(clean_commands(vec![c("a", "")]).is_err());
        assert!(clean_commands(vec![c("a", "x"), c("/a", "y")]).is_err());
        assert!(clean_commands((0..51).map(|i| c(&format!("c{i}"), "x")).collect()).is_err());
    }
}
