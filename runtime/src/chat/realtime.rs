//! Realtime use cases: reading the durable log from a cursor, long-polling until something
//! past the cursor exists, and publishing/reading ephemeral events (typing, presence,
//! agent progress) that live ~30 s and are never replayed after expiry.

use super::{access, clamp_limit, Actor, Chat};
use crate::model::Event;
use crate::store::{channels, conversations, ephemeral, events, workspaces};
use crate::{clock, Error, Result};
use serde_json::{json, Value};
use std::time::Duration;

/// A page of the event log for one caller.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Unexpired ephemeral events visible to the caller (cursor `""`).
    pub ephemeral: Vec<Event>,
    /// Newest visible cursor captured before the page query (when asked for).
    pub tail_cursor: Option<String>,
    pub epoch: String,
}

/// `POST /api/realtime/ephemeral` input.
#[derive(Debug, Clone, Default)]
pub struct EphemeralInput {
    pub workspace_id: String,
    pub channel_id: Option<String>,
    pub direct_conversation_id: Option<String>,
    pub kind: String,
    pub payload: Value,
    /// The one recipient of `agent.progress`.
    pub target_user_id: Option<String>,
}

/// Ephemeral event types.
pub const EPHEMERAL_TYPES: &[&str] = &[
    "typing.started",
    "typing.stopped",
    "presence.changed",
    "agent.progress",
];
const MAX_EPHEMERAL_PAYLOAD: usize = 4096;

/// How often a waiting poll re-reads the log when no local wake-up arrives (writes made by
/// other processes on the same database).
const REPOLL: Duration = Duration::from_millis(250);

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Chat {
    /// Events after `after_cursor` visible to the caller (privacy applied in SQL), oldest
    /// first; `limit` (200, ≤ 500) counts only durable events. Also returns the caller's
    /// unexpired ephemeral events.
    pub async fn events(
        &self,
        actor: &Actor,
        workspace_id: &str,
        after_cursor: &str,
        limit: Option<i64>,
        include_tail: bool,
    ) -> Result<EventPage> {
        actor.require(super::scopes::REALTIME_READ)?;
        actor.require_workspace(workspace_id)?;
        let epoch = self.store.epoch().to_string();
        let position = events::parse_cursor(&epoch, after_cursor)?;
        let limit = clamp_limit(limit, 200, 500);
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        let tail_cursor = if include_tail {
            let tail = events::tail(&conn, workspace_id, actor.viewer()).await?;
            Some(if tail == 0 {
                String::new()
            } else {
                events::format_cursor(&epoch, tail)
            })
        } else {
            None
        };
        let events = events::after(&conn, workspace_id, actor.viewer(), position, limit)
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        let ephemeral = ephemeral::visible_after(&conn, workspace_id, actor.id(), 0)
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        Ok(EventPage {
            events,
            ephemeral,
            tail_cursor,
            epoch,
        })
    }

    /// Only the durable events after `after_cursor` visible to the caller, with their log
    /// positions (what a WebSocket drain sends; no ephemeral or tail reads).
    pub async fn durable_events(
        &self,
        actor: &Actor,
        workspace_id: &str,
        after_cursor: &str,
        limit: i64,
    ) -> Result<Vec<(i64, Event)>> {
        actor.require(super::scopes::REALTIME_READ)?;
        actor.require_workspace(workspace_id)?;
        let position = events::parse_cursor(self.store.epoch(), after_cursor)?;
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        events::after(&conn, workspace_id, actor.viewer(), position, limit).await
    }

    /// How many visible events wait after `after_cursor`, counting at most `cap + 1` (so a
    /// result above `cap` means "too many").
    pub async fn pending_events(
        &self,
        actor: &Actor,
        workspace_id: &str,
        after_cursor: &str,
        cap: i64,
    ) -> Result<i64> {
        actor.require(super::scopes::REALTIME_READ)?;
        actor.require_workspace(workspace_id)?;
        let position = events::parse_cursor(self.store.epoch(), after_cursor)?;
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        events::count_after(&conn, workspace_id, actor.viewer(), position, cap).await
    }

    /// Like [`Chat::events`], but when nothing is past the cursor waits up to `wait` for a
    /// durable event or a new ephemeral one, waking on local commits and re-reading the log
    /// periodically (other processes).
    pub async fn wait_for_events(
        &self,
        actor: &Actor,
        workspace_id: &str,
        after_cursor: &str,
        limit: Option<i64>,
        include_tail: bool,
        wait: Duration,
    ) -> Result<EventPage> {
        actor.require(super::scopes::REALTIME_READ)?;
        actor.require_workspace(workspace_id)?;
        let deadline = tokio::time::Instant::now() + wait;
        let mut commits = self.store.commits();
        let start_seq = {
            let conn = self.store.reader().await?;
            ephemeral::max_seq(&conn).await?
        };
        loop {
            commits.borrow_and_update();
            let page = self
                .events(actor, workspace_id, after_cursor, limit, include_tail)
                .await?;
            let fresh_ephemeral = self.ephemeral_after(actor, workspace_id, start_seq).await?;
            if !page.events.is_empty()
                || !fresh_ephemeral.is_empty()
                || tokio::time::Instant::now() >= deadline
            {
                return Ok(page);
            }
            let until = (tokio::time::Instant::now() + REPOLL).min(deadline);
            tokio::select! {
                _ = commits.changed() => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// Unexpired ephemeral events after `seq` visible to the caller, with their sequence.
    pub async fn ephemeral_after(
        &self,
        actor: &Actor,
        workspace_id: &str,
        seq: i64,
    ) -> Result<Vec<(i64, Event)>> {
        actor.require(super::scopes::REALTIME_READ)?;
        actor.require_workspace(workspace_id)?;
        let conn = self.store.reader().await?;
        ephemeral::visible_after(&conn, workspace_id, actor.id(), seq).await
    }

    /// The newest ephemeral sequence in the database.
    pub async fn ephemeral_seq(&self) -> Result<i64> {
        let conn = self.store.reader().await?;
        ephemeral::max_seq(&conn).await
    }

    /// The log position a cursor stands for (`""` = 0); another epoch is `resync_required`.
    pub fn cursor_position(&self, cursor: &str) -> Result<i64> {
        events::parse_cursor(self.store.epoch(), cursor)
    }

    /// System read for a shared fan-out: every event of the workspace after `position` and
    /// unexpired ephemeral events after `ephemeral_seq`, with recipients. Callers filter per
    /// subscriber with [`events::LoggedEvent::visible_to`]; never hand this to a client as is.
    pub async fn fanout_read(
        &self,
        workspace_id: &str,
        position: i64,
        ephemeral_seq: i64,
        limit: i64,
    ) -> Result<(
        Vec<events::LoggedEvent>,
        Vec<(i64, Event, Option<Vec<String>>)>,
    )> {
        let conn = self.store.reader().await?;
        let logged = events::after_all(&conn, workspace_id, position, limit).await?;
        let fleeting = ephemeral::all_after(&conn, workspace_id, ephemeral_seq).await?;
        Ok((logged, fleeting))
    }

    /// The newest event position in the whole log.
    pub async fn log_position(&self) -> Result<i64> {
        let conn = self.store.reader().await?;
        events::max_position(&conn).await
    }

    /// Publishes an ephemeral event. DM typing reaches only conversation members;
    /// `agent.progress` is for bots and reaches exactly one target.
    pub async fn publish_ephemeral(&self, actor: &Actor, input: EphemeralInput) -> Result<Event> {
        let kind = input.kind.trim().to_string();
        if !EPHEMERAL_TYPES.contains(&kind.as_str()) {
            return Err(Error::invalid(
                "unsupported_ephemeral_type",
                "unsupported ephemeral event type",
            ));
        }
        let mut payload = match input.payload {
            Value::Null => json!({}),
            Value::Object(map) => Value::Object(map),
            _ => {
                return Err(Error::invalid(
                    "invalid_payload",
                    "payload must be a JSON object",
                ))
            }
        };
        if payload.to_string().len() > MAX_EPHEMERAL_PAYLOAD {
            return Err(Error::too_large(
                "payload_too_large",
                "ephemeral payload is larger than 4 KiB",
            ));
        }
        let workspace_id = input.workspace_id.trim().to_string();
        if workspace_id.is_empty() {
            return Err(Error::invalid(
                "workspace_id_required",
                "workspace_id is required",
            ));
        }
        let channel_id = clean(input.channel_id);
        let dm_id = clean(input.direct_conversation_id);
        if channel_id.is_some() && dm_id.is_some() {
            return Err(Error::invalid(
                "invalid_scope",
                "use channel_id or direct_conversation_id, not both",
            ));
        }
        actor.require(if kind == "agent.progress" {
            super::scopes::AGENT_ACTIVITY_WRITE
        } else {
            super::scopes::REALTIME_READ
        })?;
        actor.require_workspace(&workspace_id)?;
        let target = clean(input.target_user_id);
        let user_id = actor.id().to_string();
        let is_bot = actor.user.kind == "bot";
        payload["user_id"] = json!(user_id);
        if let Some(dm) = &dm_id {
            payload["direct_conversation_id"] = json!(dm);
        }
        let conn = self.store.reader().await?;
        if workspaces::role(&conn, &workspace_id, &user_id)
            .await?
            .is_none()
        {
            return Err(Error::forbidden(
                "not_a_member",
                "you are not a member of this workspace",
            ));
        }
        if let Some(channel_id) = &channel_id {
            let visible = channels::get(&conn, channel_id)
                .await?
                .is_some_and(|c| c.workspace_id == workspace_id);
            if !visible {
                return Err(Error::not_found("channel"));
            }
        }
        let mut recipients = match &dm_id {
            Some(dm) => {
                let home = access::visible_conversation(&conn, dm, &user_id).await?;
                if home != workspace_id {
                    return Err(Error::not_found("conversation"));
                }
                Some(conversations::member_ids(&conn, dm).await?)
            }
            None => None,
        };
        if kind == "agent.progress" {
            if !is_bot {
                return Err(Error::forbidden(
                    "bot_only",
                    "agent.progress is only for bots",
                ));
            }
            let Some(target) = target else {
                return Err(Error::invalid(
                    "target_required",
                    "agent.progress needs exactly one target_user_id",
                ));
            };
            if workspaces::role(&conn, &workspace_id, &target)
                .await?
                .is_none()
            {
                return Err(Error::not_found("target user"));
            }
            recipients = Some(vec![target]);
        }
        drop(conn);
        let event = Event {
            id: ephemeral::new_id(),
            cursor: String::new(),
            kind,
            workspace_id,
            channel_id,
            seq: None,
            created_at: clock::now_string(),
            payload,
        };
        let stored = event.clone();
        self.store
            .write(move |tx| async move {
                ephemeral::insert(&tx, &stored, recipients.as_deref()).await?;
                Ok(())
            })
            .await?;
        Ok(event)
    }
}
