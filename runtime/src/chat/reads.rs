//! Read state: monotonic read pointers per channel and per direct conversation. Advancing a
//! pointer emits a `channel.read` / `dm.read` event private to the reader.

use super::{access, Actor, Chat};
use crate::model::{Event, ReadReceipt};
use crate::store::events::{self, NewEvent};
use crate::store::{channels, conversations, workspaces};
use crate::{Error, Result};
use serde_json::json;

/// A read receipt and the event emitted when the pointer advanced.
#[derive(Debug, Clone)]
pub struct ReadMarked {
    pub receipt: ReadReceipt,
    /// `None` when the pointer did not move.
    pub event: Option<Event>,
}

fn check_seq(seq: i64) -> Result<()> {
    if seq < 0 {
        return Err(Error::invalid("invalid_seq", "seq must not be negative"));
    }
    Ok(())
}

/// What to do with a requested pointer: `Some(target)` when it moves (or is created).
fn advance(current: Option<&ReadReceipt>, requested: i64, last_seq: i64) -> Option<i64> {
    let target = requested.min(last_seq).max(0);
    match current {
        Some(c) if c.last_read_seq >= target => None,
        _ => Some(target),
    }
}

impl Chat {
    /// Marks a channel read up to `seq` (capped to the newest root; never moves back).
    pub async fn mark_channel_read(
        &self,
        actor: &Actor,
        channel_id: &str,
        seq: i64,
    ) -> Result<ReadMarked> {
        actor.require(super::scopes::MESSAGES_READ)?;
        check_seq(seq)?;
        let channel_id = channel_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (channel, _) = access::visible_channel(&tx, &channel_id, &user_id).await?;
                let last = channels::last_seq(&tx, &channel_id).await?;
                let current = channels::read_pointer(&tx, &channel_id, &user_id).await?;
                let Some(target) = advance(current.as_ref(), seq, last) else {
                    let receipt =
                        current.ok_or_else(|| Error::internal("read pointer vanished"))?;
                    return Ok(ReadMarked {
                        receipt,
                        event: None,
                    });
                };
                let receipt =
                    channels::set_read_pointer(&tx, &channel_id, &user_id, target).await?;
                // A first pointer at 0 records the touch but announces nothing.
                let event = if target > 0 {
                    Some(
                        events::insert(
                            &tx,
                            NewEvent::public(
                                "channel.read",
                                &channel.workspace_id,
                                json!({"channel_id": channel_id, "user_id": user_id}),
                            )
                            .channel(Some(&channel_id))
                            .seq(Some(target))
                            .private_to(vec![user_id.clone()]),
                        )
                        .await?,
                    )
                } else {
                    None
                };
                Ok(ReadMarked { receipt, event })
            })
            .await
    }

    /// Marks a direct conversation read up to `seq` (capped; never moves back).
    pub async fn mark_direct_read(
        &self,
        actor: &Actor,
        conversation_id: &str,
        seq: i64,
    ) -> Result<ReadMarked> {
        actor.require(super::scopes::DMS_READ)?;
        check_seq(seq)?;
        let conversation_id = conversation_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let workspace_id =
                    access::visible_conversation(&tx, &conversation_id, &user_id).await?;
                if workspaces::role(&tx, &workspace_id, &user_id)
                    .await?
                    .is_none()
                {
                    return Err(Error::not_found("conversation"));
                }
                let last = conversations::last_seq(&tx, &conversation_id).await?;
                let current = conversations::read_pointer(&tx, &conversation_id, &user_id).await?;
                let Some(target) = advance(current.as_ref(), seq, last) else {
                    let receipt = current.ok_or_else(|| Error::internal("read pointer vanished"))?;
                    return Ok(ReadMarked {
                        receipt,
                        event: None,
                    });
                };
                let receipt =
                    conversations::set_read_pointer(&tx, &conversation_id, &user_id, target)
                        .await?;
                // A first pointer at 0 records the touch but announces nothing.
                let event = if target > 0 {
                    Some(
                        events::insert(
                            &tx,
                            NewEvent::public(
                                "dm.read",
                                &workspace_id,
                                json!({"direct_conversation_id": conversation_id, "user_id": user_id}),
                            )
                            .seq(Some(target))
                            .private_to(vec![user_id.clone()]),
                        )
                        .await?,
                    )
                } else {
                    None
                };
                Ok(ReadMarked { receipt, event })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(seq: i64) -> ReadReceipt {
        ReadReceipt {
            scope_id: "chn_x".into(),
            user_id: "usr_x".into(),
            last_read_seq: seq,
            last_read_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn pointers_are_capped_and_monotonic() {
        assert_eq!(
            advance(None, 0, 0),
            Some(0),
            "first touch creates the pointer"
        );
        assert_eq!(advance(None, 99, 5), Some(5), "capped to the newest root");
        assert_eq!(advance(Some(&receipt(3)), 4, 5), Some(4));
        assert_eq!(advance(Some(&receipt(3)), 3, 5), None);
        assert_eq!(advance(Some(&receipt(3)), 1, 5), None);
        assert_eq!(advance(Some(&receipt(5)), 9, 5), None);
    }
}
