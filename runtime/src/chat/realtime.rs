//! The pull side of realtime: reading the durable log from a cursor, optionally waiting
//! (long-poll) until something past the cursor exists.

use super::{access, clamp_limit, Actor, Chat};
use crate::model::Event;
use crate::store::events;
use crate::Result;
use std::time::Duration;

/// A page of the event log for one caller.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Newest visible cursor captured before the page query (when asked for).
    pub tail_cursor: Option<String>,
    pub epoch: String,
}

/// How often a waiting poll re-reads the log when no local wake-up arrives (writes made by
/// other processes on the same database).
const REPOLL: Duration = Duration::from_millis(250);

impl Chat {
    /// Events after `after_cursor` visible to the caller (privacy applied in SQL), oldest
    /// first. `limit` defaults to 200 and is clamped to 500.
    pub async fn events(
        &self,
        actor: &Actor,
        workspace_id: &str,
        after_cursor: &str,
        limit: Option<i64>,
        include_tail: bool,
    ) -> Result<EventPage> {
        let epoch = self.store.epoch().to_string();
        let position = events::parse_cursor(&epoch, after_cursor)?;
        let limit = clamp_limit(limit, 200, 500);
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        let tail_cursor = if include_tail {
            let tail = events::tail(&conn, workspace_id, actor.id()).await?;
            Some(if tail == 0 {
                String::new()
            } else {
                events::format_cursor(&epoch, tail)
            })
        } else {
            None
        };
        let events = events::after(&conn, workspace_id, actor.id(), position, limit)
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        Ok(EventPage {
            events,
            tail_cursor,
            epoch,
        })
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
        let position = events::parse_cursor(self.store.epoch(), after_cursor)?;
        let conn = self.store.reader().await?;
        access::member_role(&conn, workspace_id, actor.id()).await?;
        events::count_after(&conn, workspace_id, actor.id(), position, cap).await
    }

    /// Like [`Chat::events`], but when nothing is past the cursor waits up to `wait` for an
    /// event, waking on local commits and re-reading the log periodically.
    pub async fn wait_for_events(
        &self,
        actor: &Actor,
        workspace_id: &str,
        after_cursor: &str,
        limit: Option<i64>,
        include_tail: bool,
        wait: Duration,
    ) -> Result<EventPage> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut positions = self.store.positions();
        loop {
            positions.borrow_and_update();
            let page = self
                .events(actor, workspace_id, after_cursor, limit, include_tail)
                .await?;
            if !page.events.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(page);
            }
            let nap = tokio::time::Instant::now() + REPOLL;
            let until = nap.min(deadline);
            tokio::select! {
                _ = positions.changed() => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }
}
