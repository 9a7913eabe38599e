//! Visibility and permission checks shared by the use cases. Things a caller may not see
//! are "not found" (404); things a caller sees but may not change are "forbidden" (403).

use crate::model::{Channel, Message};
use crate::store::{channels, conversations, messages, workspaces};
use crate::{Error, Result};
use libsql::Connection;

/// The caller's role in a workspace, or 404 when not a member.
pub(crate) async fn member_role(
    conn: &Connection,
    workspace_id: &str,
    user_id: &str,
) -> Result<String> {
    workspaces::role(conn, workspace_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("workspace"))
}

/// A channel the caller can see, with the caller's workspace role.
pub(crate) async fn visible_channel(
    conn: &Connection,
    channel_id: &str,
    user_id: &str,
) -> Result<(Channel, String)> {
    channels::get_with_role(conn, channel_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("channel"))
}

/// A direct conversation the caller belongs to: returns its workspace id.
pub(crate) async fn visible_conversation(
    conn: &Connection,
    conversation_id: &str,
    user_id: &str,
) -> Result<String> {
    if !conversations::is_member(conn, conversation_id, user_id).await? {
        return Err(Error::not_found("conversation"));
    }
    super::super::store::rows::query_opt(
        conn,
        "SELECT workspace_id FROM direct_conversations WHERE id = ?1",
        [conversation_id],
        |r| Ok(r.get::<String>(0)?),
    )
    .await?
    .ok_or_else(|| Error::not_found("conversation"))
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
    let role = workspaces::role(conn, &message.workspace_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
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
