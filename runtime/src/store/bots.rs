//! Bot users, their `ccb_…` tokens (SHA-256 hashed) and their command menus.

use super::rows::{query_all, query_opt};
use super::users::{user_from_row, USER_COLUMNS};
use crate::model::{Bot, BotCommand, BotToken, CommandMenu, User};
use crate::{clock, ids, Error, Result};
use libsql::{Connection, Row};

const TOKEN_COLUMNS: &str =
    "t.id, t.bot_user_id, t.workspace_id, t.owner_user_id, t.name, t.scopes_json,
     t.created_by, t.created_at, t.last_used_at, t.revoked_at";

fn token_from_row(r: &Row, at: i32) -> Result<BotToken> {
    let scopes: String = r.get(at + 5)?;
    Ok(BotToken {
        id: r.get(at)?,
        bot_user_id: r.get(at + 1)?,
        workspace_id: r.get(at + 2)?,
        owner_user_id: r.get(at + 3)?,
        name: r.get(at + 4)?,
        scopes: serde_json::from_str(&scopes)?,
        created_by: r.get(at + 6)?,
        created_at: r.get(at + 7)?,
        last_used_at: r.get(at + 8)?,
        revoked_at: r.get(at + 9)?,
    })
}

/// Inserts a bot user (kind `bot`) and makes it a member of `workspace_id` with role `bot`.
/// A taken handle is 409 `handle_taken`.
pub async fn insert_bot(
    conn: &Connection,
    workspace_id: &str,
    display_name: &str,
    handle: &str,
    avatar_url: &str,
    owner_user_id: Option<&str>,
) -> Result<Bot> {
    let user = User {
        id: ids::new_id("usr"),
        display_name: display_name.to_string(),
        avatar_url: avatar_url.to_string(),
        handle: handle.to_string(),
        kind: "bot".into(),
        created_at: clock::now_string(),
    };
    let inserted = conn
        .execute(
            "INSERT INTO users (id, display_name, avatar_url, handle, kind, owner_user_id, created_at)
             VALUES (?1, ?2, ?3, ?4, 'bot', ?5, ?6)",
            (
                user.id.as_str(),
                user.display_name.as_str(),
                user.avatar_url.as_str(),
                user.handle.as_str(),
                owner_user_id,
                user.created_at.as_str(),
            ),
        )
        .await;
    match inserted {
        Ok(_) => {}
        Err(e) if super::rows::is_unique_violation(&e) => {
            return Err(Error::conflict("handle_taken", "handle is already taken"))
        }
        Err(e) => return Err(e.into()),
    }
    super::workspaces::add_member(conn, workspace_id, &user.id, "bot").await?;
    Ok(Bot {
        user,
        owner_user_id: owner_user_id.map(str::to_string),
        workspace_id: workspace_id.to_string(),
    })
}

/// Inserts a token for a bot; returns its metadata and the raw secret (`ccb_…`).
pub async fn insert_token(
    conn: &Connection,
    bot: &Bot,
    name: &str,
    scopes: &[String],
    created_by: &str,
) -> Result<(BotToken, String)> {
    let raw = ids::new_secret("ccb");
    let token = BotToken {
        id: ids::new_id("btk"),
        bot_user_id: bot.user.id.clone(),
        workspace_id: bot.workspace_id.clone(),
        owner_user_id: bot.owner_user_id.clone(),
        name: name.to_string(),
        scopes: scopes.to_vec(),
        created_by: created_by.to_string(),
        created_at: clock::now_string(),
        last_used_at: None,
        revoked_at: None,
    };
    conn.execute(
        "INSERT INTO bot_tokens (id, token_hash, bot_user_id, workspace_id, owner_user_id, name,
             scopes_json, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        (
            token.id.as_str(),
            ids::hash_secret(&raw),
            token.bot_user_id.as_str(),
            token.workspace_id.as_str(),
            token.owner_user_id.as_deref(),
            token.name.as_str(),
            serde_json::to_string(&token.scopes)?,
            token.created_by.as_str(),
            token.created_at.as_str(),
        ),
    )
    .await?;
    Ok((token, raw))
}

/// A bot that is still a member of its workspace (deleted bots are gone).
pub async fn get(conn: &Connection, bot_user_id: &str) -> Result<Option<Bot>> {
    query_opt(
        conn,
        &format!(
            "SELECT {USER_COLUMNS}, u.owner_user_id, m.workspace_id FROM users u
             JOIN workspace_members m ON m.user_id = u.id AND m.role = 'bot'
             WHERE u.id = ?1 AND u.kind = 'bot' LIMIT 1"
        ),
        [bot_user_id],
        bot_from_row,
    )
    .await
}

fn bot_from_row(r: &Row) -> Result<Bot> {
    Ok(Bot {
        user: user_from_row(r, 0)?,
        owner_user_id: r.get(6)?,
        workspace_id: r.get(7)?,
    })
}

/// The bots of a workspace, oldest first.
pub async fn list(conn: &Connection, workspace_id: &str) -> Result<Vec<Bot>> {
    query_all(
        conn,
        &format!(
            "SELECT {USER_COLUMNS}, u.owner_user_id, m.workspace_id FROM users u
             JOIN workspace_members m ON m.user_id = u.id AND m.role = 'bot'
             WHERE m.workspace_id = ?1 AND u.kind = 'bot' ORDER BY u.created_at, u.id"
        ),
        [workspace_id],
        bot_from_row,
    )
    .await
}

/// The workspace a bot user belongs to (its home), if any.
pub async fn home_workspace(conn: &Connection, user_id: &str) -> Result<Option<String>> {
    query_opt(
        conn,
        "SELECT m.workspace_id FROM workspace_members m JOIN users u ON u.id = m.user_id
         WHERE m.user_id = ?1 AND u.kind = 'bot' LIMIT 1",
        [user_id],
        |r| Ok(r.get::<String>(0)?),
    )
    .await
}

/// A token by id.
pub async fn get_token(conn: &Connection, id: &str) -> Result<Option<BotToken>> {
    query_opt(
        conn,
        &format!("SELECT {TOKEN_COLUMNS} FROM bot_tokens t WHERE t.id = ?1"),
        [id],
        |r| token_from_row(r, 0),
    )
    .await
}

/// Every token of a bot, newest first.
pub async fn list_tokens(conn: &Connection, bot_user_id: &str) -> Result<Vec<BotToken>> {
    query_all(
        conn,
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM bot_tokens t WHERE t.bot_user_id = ?1
             ORDER BY t.created_at DESC, t.id DESC"
        ),
        [bot_user_id],
        |r| token_from_row(r, 0),
    )
    .await
}

/// A live (unrevoked) token by its raw secret, with its bot user.
pub async fn by_secret(conn: &Connection, raw: &str) -> Result<Option<(BotToken, User)>> {
    query_opt(
        conn,
        &format!(
            "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS} FROM bot_tokens t JOIN users u ON u.id = t.bot_user_id
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL"
        ),
        [ids::hash_secret(raw)],
        |r| Ok((token_from_row(r, 0)?, user_from_row(r, 10)?)),
    )
    .await
}

/// Records a use of a token.
pub async fn touch_token(conn: &Connection, id: &str, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE bot_tokens SET last_used_at = ?2 WHERE id = ?1",
        (id, at),
    )
    .await?;
    Ok(())
}

/// Revokes one token (idempotent).
pub async fn revoke_token(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE bot_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        (id, clock::now_string()),
    )
    .await?;
    Ok(())
}

/// Revokes every token of a bot.
pub async fn revoke_all(conn: &Connection, bot_user_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE bot_tokens SET revoked_at = ?2 WHERE bot_user_id = ?1 AND revoked_at IS NULL",
        (bot_user_id, clock::now_string()),
    )
    .await?;
    Ok(())
}

/// Replaces a bot's whole command menu in a workspace.
pub async fn replace_commands(
    conn: &Connection,
    bot_user_id: &str,
    workspace_id: &str,
    commands: &[BotCommand],
) -> Result<()> {
    conn.execute(
        "DELETE FROM bot_commands WHERE bot_user_id = ?1 AND workspace_id = ?2",
        (bot_user_id, workspace_id),
    )
    .await?;
    let now = clock::now_string();
    for (position, c) in commands.iter().enumerate() {
        conn.execute(
            "INSERT INTO bot_commands (bot_user_id, workspace_id, name, description, usage, position, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            (
                bot_user_id,
                workspace_id,
                c.name.as_str(),
                c.description.as_str(),
                c.usage.as_str(),
                position as i64,
                now.as_str(),
            ),
        )
        .await?;
    }
    Ok(())
}

/// The command menus of every bot still in a workspace, bots by name, commands in order.
pub async fn menus(conn: &Connection, workspace_id: &str) -> Result<Vec<CommandMenu>> {
    let rows = query_all(
        conn,
        &format!(
            "SELECT {USER_COLUMNS}, c.name, c.description, c.usage FROM bot_commands c
             JOIN users u ON u.id = c.bot_user_id
             JOIN workspace_members m ON m.user_id = c.bot_user_id AND m.workspace_id = c.workspace_id
             WHERE c.workspace_id = ?1
             ORDER BY u.display_name, u.id, c.position"
        ),
        [workspace_id],
        |r| {
            Ok((
                user_from_row(r, 0)?,
                BotCommand {
                    name: r.get(6)?,
                    description: r.get(7)?,
                    usage: r.get(8)?,
                },
            ))
        },
    )
    .await?;
    let mut menus: Vec<CommandMenu> = Vec::new();
    for (bot, command) in rows {
        match menus.last_mut() {
            Some(menu) if menu.bot.id == bot.id => menu.commands.push(command),
            _ => menus.push(CommandMenu {
                bot,
                commands: vec![command],
            }),
        }
    }
    Ok(menus)
}

/// Removes a user from a workspace and drops its command menu there.
pub async fn remove_from_workspace(
    conn: &Connection,
    workspace_id: &str,
    user_id: &str,
) -> Result<()> {
    conn.execute(
        "DELETE FROM bot_commands WHERE bot_user_id = ?1 AND workspace_id = ?2",
        (user_id, workspace_id),
    )
    .await?;
    conn.execute(
        "DELETE FROM workspace_members WHERE user_id = ?1 AND workspace_id = ?2",
        (user_id, workspace_id),
    )
    .await?;
    Ok(())
}
