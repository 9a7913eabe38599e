//! Visibility and permission checks shared by the use cases. Things a caller may not see
//! are "not found" (404); things a caller sees but may not change are "forbidden" (403).
//!
//! Bots: a bot user is a member of exactly its home workspace (the one its tokens are bound
//! to), so these membership checks already confine a bot token; on their failure path a bot
//! asking about another workspace's resource gets 403 `bot token cannot access this
//! workspace` instead of 404.

use super::bots::other_workspace;
use super::Actor;
use crate::model::{Channel, Message};
use crate::store::{bots, channels, conversations, messages, workspaces};
use crate::{Error, Result};
use libsql::Connection;

/// The error for a resource in `workspace_id` that `user_id` cannot see: 403 when the
/// caller is a bot whose home is another workspace, else `not_found`.
async fn hidden(conn: &Connection, workspace_id: &str, user_id: &str, not_found: Error) -> Error {
    match bots::home_workspace(conn, user_id).await {
        Ok(Some(home)) if home != workspace_id => other_workspace(),
        Ok(_) => not_found,
        Err(e) => e,
    }
}

/// The caller's role in a workspace, or 404 when not a member.
pub(crate) async fn member_role(
    conn: &Connection,
    workspace_id: &str,
    user_id: &str,
) -> Result<String> {
    match workspaces::role(conn, workspace_id, user_id).await? {
        Some(role) => Ok(role),
        None => Err(hidden(conn, workspace_id, user_id, Error::not_found("workspace")).await),
    }
}

/// Checked before a write, applied once the message is known: a bot token acting on a DM
/// message also needs the DM scope (`dms:read` / `dms:write`).
pub(crate) struct DmGate(Result<()>);

impl DmGate {
    pub(crate) fn new(actor: &Actor, dm_scope: &str) -> Self {
        Self(actor.require(dm_scope))
    }
    pub(crate) fn check(self, message: &Message) -> Result<()> {
        match message.direct_conversation_id {
            Some(_) => self.0,
            None => Ok(()),
        }
    }
}

/// A channel the caller can see, with the caller's workspace role.
pub(crate) async fn visible_channel(
    conn: &Connection,
    channel_id: &str,
    user_id: &str,
) -> Result<(Channel, String)> {
    if let Some(found) = channels::get_with_role(conn, channel_id, user_id).await? {
        return Ok(found);
    }
    Err(match channels::get(conn, channel_id).await? {
        Some(c) => hidden(conn, &c.workspace_id, user_id, Error::not_found("channel")).await,
        None => Error::not_found("channel"),
    })
}

/// A direct conversation the caller belongs to: returns its workspace id.
pub(crate) async fn visible_conversation(
    conn: &Connection,
    conversation_id: &str,
    user_id: &str,
) -> Result<String> {
    let workspace_id = crate::store::rows::query_opt(
        conn,
        "SELECT workspace_id FROM direct_conversations WHERE id = ?1",
        [conversation_id],
        |r| Ok(r.get::<String>(0)?),
    )
    .await?
    .ok_or_else(|| Error::not_found("conversation"))?;
    if !conversations::is_member(conn, conversation_id, user_id).await? {
        return Err(hidden(
            conn,
            &workspace_id,
            user_id,
            Error::not_found("conversation"),
        )
        .await);
    }
    Ok(workspace_id)
}

/// A message the caller can see (channel: workspace member; DM: conversation member), with
/// the caller's workspace role.
pub(crate) async fn visible_message(
    conn: &Connection,
    message_id: &str,
    user_id: &str,
) -> Result<(Message, String)> {
    let message = messages::get(conn, message_id)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    let Some(role) = workspaces::role(conn, &message.workspace_id, user_id).await? else {
        return Err(hidden(
            conn,
            &message.workspace_id,
            user_id,
            Error::not_found("message"),
        )
        .await);
    };
    if let Some(dm) = &message.direct_conversation_id {
        if !conversations::is_member(conn, dm, user_id).await? {
            return Err(Error::not_found("message"));
        }
    }
    Ok((message, role))
}

/// Recipients for events about a message: `Some(members)` for DM messages (private).
pub(crate) async fn recipients_for(
    conn: &Connection,
    message: &Message,
) -> Result<Option<Vec<String>>> {
    match &message.direct_conversation_id {
        Some(dm) => Ok(Some(conversations::member_ids(conn, dm).await?)),
        None => Ok(None),
    }
}
