//! Channel pins: list (newest pin first), pin and unpin. Any workspace member may pin a live
//! message (root or reply) of the channel; at most [`MAX_PINS`] per channel. DMs have no pins.

use super::{access, Actor, Chat};
use crate::model::{Event, Message};
use crate::store::events::{self, NewEvent};
use crate::store::{channels, messages};
use crate::{Error, Result};
use serde_json::json;
use std::collections::HashMap;

/// Most pins a channel may hold.
pub const MAX_PINS: i64 = 100;

impl Chat {
    /// The pinned messages of a channel the caller can see, hydrated, newest pin first.
    pub async fn list_pins(&self, actor: &Actor, channel_id: &str) -> Result<Vec<Message>> {
        actor.require(super::scopes::CHANNELS_READ)?;
        let conn = self.store.reader().await?;
        access::visible_channel(&conn, channel_id, actor.id()).await?;
        let ids = channels::pinned_ids(&conn, channel_id).await?;
        let mut by_id: HashMap<String, Message> = messages::by_ids(&conn, &ids)
            .await?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        let mut pins: Vec<Message> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        messages::hydrate(&conn, &mut pins, actor.id()).await?;
        Ok(pins)
    }

    /// Pins a live message of the channel: 400 `invalid_pin` for anything else, 409
    /// `already_pinned`, 409 `pin_limit` past [`MAX_PINS`].
    pub async fn pin_message(
        &self,
        actor: &Actor,
        channel_id: &str,
        message_id: &str,
    ) -> Result<Event> {
        actor.require(super::scopes::CHANNELS_WRITE)?;
        let channel_id = channel_id.to_string();
        let message_id = message_id.trim().to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (channel, _) = access::visible_channel(&tx, &channel_id, &user_id).await?;
                let invalid = || {
                    Error::invalid(
                        "invalid_pin",
                        "only live messages of this channel can be pinned",
                    )
                };
                if message_id.is_empty() {
                    return Err(invalid());
                }
                let message = messages::get(&tx, &message_id)
                    .await?
                    .ok_or_else(invalid)?;
                if message.channel_id.as_deref() != Some(channel_id.as_str())
                    || message.deleted_at.is_some()
                {
                    return Err(invalid());
                }
                if channels::pinned_by(&tx, &channel_id, &message_id)
                    .await?
                    .is_some()
                {
                    return Err(Error::conflict(
                        "already_pinned",
                        "message is already pinned",
                    ));
                }
                if channels::pin_count(&tx, &channel_id).await? >= MAX_PINS {
                    return Err(Error::conflict(
                        "pin_limit",
                        format!("a channel can have at most {MAX_PINS} pins"),
                    ));
                }
                if !channels::insert_pin(&tx, &channel_id, &message_id, &user_id).await? {
                    return Err(Error::conflict(
                        "already_pinned",
                        "message is already pinned",
                    ));
                }
                events::insert(
                    &tx,
                    NewEvent::public(
                        "pin.added",
                        &channel.workspace_id,
                        json!({"channel_id": channel_id, "message_id": message_id, "pinned_by": user_id}),
                    )
                    .channel(Some(&channel_id)),
                )
                .await
            })
            .await
    }

    /// Unpins a message: 404 when it is not pinned in the channel. `pinned_by` in the event
    /// is who pinned it; `removed_by` is the caller.
    pub async fn unpin_message(
        &self,
        actor: &Actor,
        channel_id: &str,
        message_id: &str,
    ) -> Result<Event> {
        actor.require(super::scopes::CHANNELS_WRITE)?;
        let channel_id = channel_id.to_string();
        let message_id = message_id.trim().to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (channel, _) = access::visible_channel(&tx, &channel_id, &user_id).await?;
                let pinned_by = channels::pinned_by(&tx, &channel_id, &message_id)
                    .await?
                    .ok_or_else(|| Error::not_found("pin"))?;
                channels::delete_pin(&tx, &channel_id, &message_id).await?;
                events::insert(
                    &tx,
                    NewEvent::public(
                        "pin.removed",
                        &channel.workspace_id,
                        json!({
                            "channel_id": channel_id,
                            "message_id": message_id,
                            "pinned_by": pinned_by,
                            "removed_by": user_id,
                        }),
                    )
                    .channel(Some(&channel_id)),
                )
                .await
            })
            .await
    }
}
