//! Channels: list with unread counts, create, patch (rename/kind/archive are owner-only).

use super::{access, Actor, Chat};
use crate::model::{Channel, Event};
use crate::store::channels;
use crate::store::events::{self, NewEvent};
use crate::{ids, Error, Result};
use serde_json::json;

/// `PATCH /api/channels/{id}`: absent fields keep their value.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub archived: Option<bool>,
}

fn channel_name(raw: &str) -> Result<String> {
    let name = ids::slug(raw);
    if name.len() > 80 {
        return Err(Error::invalid(
            "name_too_long",
            "channel name is longer than 80 characters",
        ));
    }
    Ok(name)
}

fn channel_kind(raw: &str) -> Result<String> {
    match raw.trim() {
        "" | "public" => Ok("public".into()),
        "private" => Ok("private".into()),
        other => Err(Error::invalid(
            "invalid_kind",
            format!("channel kind {other:?} is not public or private"),
        )),
    }
}

impl Chat {
    /// Channels of a workspace by name, with the caller's read state.
    pub async fn list_channels(&self, actor: &Actor, workspace_id: &str) -> Result<Vec<Channel>> {
        actor.require(super::scopes::CHANNELS_READ)?;
        actor.require_workspace(workspace_id)?;
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        channels::list_with_reads(&conn, workspace_id, actor.id()).await
    }

    /// Creates a channel (name slugified, blank → `general`; kind `public` by default).
    pub async fn create_channel(
        &self,
        actor: &Actor,
        workspace_id: &str,
        name: &str,
        kind: &str,
    ) -> Result<(Channel, Event)> {
        actor.require(super::scopes::CHANNELS_WRITE)?;
        actor.require_workspace(workspace_id)?;
        let name = match channel_name(name)? {
            n if n.is_empty() => "general".to_string(),
            n => n,
        };
        let kind = channel_kind(kind)?;
        let workspace_id = workspace_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                access::member_role(&tx, &workspace_id, &user_id).await?;
                let channel = channels::insert(&tx, &workspace_id, &name, &kind).await?;
                let event = events::insert(
                    &tx,
                    NewEvent::public(
                        "channel.created",
                        &workspace_id,
                        json!({"channel_id": channel.id}),
                    )
                    .channel(Some(&channel.id)),
                )
                .await?;
                Ok((channel, event))
            })
            .await
    }

    /// Renames, changes kind or (un)archives a channel. Workspace owners only.
    pub async fn update_channel(
        &self,
        actor: &Actor,
        channel_id: &str,
        patch: ChannelPatch,
    ) -> Result<(Channel, Event)> {
        actor.require(super::scopes::CHANNELS_WRITE)?;
        let name = match patch.name.as_deref().map(channel_name).transpose()? {
            Some(n) if n.is_empty() => None,
            other => other,
        };
        let kind = match patch.kind.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(k) => Some(channel_kind(k)?),
        };
        let archived = patch.archived;
        let channel_id = channel_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (channel, role) = access::visible_channel(&tx, &channel_id, &user_id).await?;
                if role != "owner" {
                    return Err(Error::forbidden(
                        "owner_required",
                        "only workspace owners can rename, archive or change a channel",
                    ));
                }
                channels::update(&tx, &channel_id, name.as_deref(), kind.as_deref(), archived)
                    .await?;
                let updated = channels::get(&tx, &channel_id)
                    .await?
                    .ok_or_else(|| Error::not_found("channel"))?;
                let event = events::insert(
                    &tx,
                    NewEvent::public(
                        "channel.updated",
                        &channel.workspace_id,
                        json!({"channel_id": channel_id}),
                    )
                    .channel(Some(&channel_id)),
                )
                .await?;
                Ok((updated, event))
            })
            .await
    }
}
