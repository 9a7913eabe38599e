//! Reactions: add and remove the caller's emoji on a message they can see. A no-op (adding
//! twice, removing a missing reaction) emits no event.

use super::{access, Actor, Chat};
use crate::model::{Event, Message, ReactionSummary};
use crate::store::events::{self, NewEvent};
use crate::store::messages;
use crate::store::Tx;
use crate::{Error, Result};
use serde_json::json;

/// Longest emoji (name or sequence) in characters.
const MAX_EMOJI_CHARS: usize = 64;

/// The outcome of a reaction change.
#[derive(Debug, Clone)]
pub struct ReactionChange {
    /// `reaction.added|removed`; `None` when nothing changed.
    pub event: Option<Event>,
    /// The message's reactions for the caller, after the change.
    pub reactions: Vec<ReactionSummary>,
}

impl ReactionChange {
    /// True when the reaction set changed (an event was emitted).
    pub fn changed(&self) -> bool {
        self.event.is_some()
    }
}

/// Trims and validates an emoji: required, ≤ 64 characters, no whitespace or control
/// characters inside.
fn clean_emoji(raw: &str) -> Result<String> {
    let emoji = raw.trim();
    if emoji.is_empty() {
        return Err(Error::invalid("emoji_required", "emoji is required"));
    }
    if emoji.chars().count() > MAX_EMOJI_CHARS {
        return Err(Error::invalid(
            "invalid_emoji",
            format!("emoji is longer than {MAX_EMOJI_CHARS} characters"),
        ));
    }
    if emoji.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            "invalid_emoji",
            "emoji must not contain whitespace or control characters",
        ));
    }
    Ok(emoji.to_string())
}

impl Chat {
    /// Adds the caller's reaction. Already reacted → no event.
    pub async fn add_reaction(
        &self,
        actor: &Actor,
        message_id: &str,
        emoji: &str,
    ) -> Result<ReactionChange> {
        self.change_reaction(actor, message_id, emoji, true).await
    }

    /// Removes the caller's reaction. Not reacted → no event.
    pub async fn remove_reaction(
        &self,
        actor: &Actor,
        message_id: &str,
        emoji: &str,
    ) -> Result<ReactionChange> {
        self.change_reaction(actor, message_id, emoji, false).await
    }

    async fn change_reaction(
        &self,
        actor: &Actor,
        message_id: &str,
        emoji: &str,
        add: bool,
    ) -> Result<ReactionChange> {
        actor.require(super::scopes::MESSAGES_WRITE)?;
        let dm_gate = access::DmGate::new(actor, super::scopes::DMS_WRITE);
        let emoji = clean_emoji(emoji)?;
        let message_id = message_id.to_string();
        let user_id = actor.id().to_string();
        self.store
            .write(move |tx| async move {
                let (message, _) = access::visible_message(&tx, &message_id, &user_id).await?;
                dm_gate.check(&message)?;
                if message.deleted_at.is_some() {
                    return Err(Error::conflict("message_deleted", "message was deleted"));
                }
                let changed = if add {
                    messages::insert_reaction(&tx, &message_id, &user_id, &emoji).await?
                } else {
                    messages::delete_reaction(&tx, &message_id, &user_id, &emoji).await?
                };
                let event = if changed {
                    let kind = if add {
                        "reaction.added"
                    } else {
                        "reaction.removed"
                    };
                    Some(reaction_event(&tx, kind, &message, &emoji, &user_id).await?)
                } else {
                    None
                };
                let reactions = messages::reaction_summaries(&tx, &message_id, &user_id).await?;
                Ok(ReactionChange { event, reactions })
            })
            .await
    }
}

/// `reaction.added|removed`: on the message's channel with its `channel_seq`; private for
/// DM messages.
async fn reaction_event(
    tx: &Tx,
    kind: &'static str,
    message: &Message,
    emoji: &str,
    user_id: &str,
) -> Result<Event> {
    let payload = json!({"message_id": message.id, "emoji": emoji, "user_id": user_id});
    let mut event = NewEvent::public(kind, &message.workspace_id, payload)
        .channel(message.channel_id.as_deref())
        .seq(message.channel_seq);
    if let Some(recipients) = access::recipients_for(tx, message).await? {
        event = event.private_to(recipients);
    }
    events::insert(tx, event).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_are_trimmed_and_checked() {
        assert_eq!(clean_emoji("  👍 ").unwrap(), "👍");
        assert_eq!(clean_emoji(":lobster:").unwrap(), ":lobster:");
        assert_eq!(clean_emoji("👩‍👩‍👧").unwrap(), "👩‍👩‍👧", "ZWJ sequences are fine");
        assert_eq!(clean_emoji(" \t").unwrap_err().code, "emoji_required");
        assert_eq!(clean_emoji("a b").unwrap_err().code, "invalid_emoji");
        assert_eq!(clean_emoji("a\u{7}b").unwrap_err().code, "invalid_emoji");
        assert_eq!(
            clean_emoji(&"x".repeat(65)).unwrap_err().code,
            "invalid_emoji"
        );
        assert!(clean_emoji(&"x".repeat(64)).is_ok());
    }
}
