//! The durable event log. Positions come from a counter advanced inside the write
//! transaction, so cursor order is commit order (decisions §2.8). A cursor is
//! `cur_<epoch>_<position, 16 digits>`: opaque, string-sortable within an epoch.

use super::rows::{query_all, query_i64, query_opt};
use super::writer::{EmittedEvent, Tx};
use crate::model::Event;
use crate::{clock, ids, Error, Result};
use libsql::{Connection, Row};

/// An event to append inside a write.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: &'static str,
    pub workspace_id: String,
    pub channel_id: Option<String>,
    pub seq: Option<i64>,
    pub payload: serde_json::Value,
    /// `Some` makes the event private to exactly these users.
    pub recipients: Option<Vec<String>>,
}

impl NewEvent {
    pub fn public(kind: &'static str, workspace_id: &str, payload: serde_json::Value) -> Self {
        Self {
            kind,
            workspace_id: workspace_id.to_string(),
            channel_id: None,
            seq: None,
            payload,
            recipients: None,
        }
    }
    pub fn channel(mut self, channel_id: Option<&str>) -> Self {
        self.channel_id = channel_id.map(str::to_string);
        self
    }
    pub fn seq(mut self, seq: Option<i64>) -> Self {
        self.seq = seq;
        self
    }
    pub fn private_to(mut self, recipients: Vec<String>) -> Self {
        self.recipients = Some(recipients);
        self
    }
}

/// Formats a cursor.
pub fn format_cursor(epoch: &str, position: i64) -> String {
    format!("cur_{epoch}_{position:016}")
}

/// Parses a client cursor into a position. Empty means "from the beginning"; a cursor of
/// another epoch (or another server) is `resync_required`.
pub fn parse_cursor(epoch: &str, cursor: &str) -> Result<i64> {
    let cursor = cursor.trim();
    if cursor.is_empty() {
        return Ok(0);
    }
    let Some(rest) = cursor.strip_prefix("cur_") else {
        return Err(Error::invalid("invalid_cursor", "cursor is malformed"));
    };
    match rest.split_once('_') {
        Some((e, pos)) if e == epoch => pos
            .parse::<i64>()
            .ok()
            .filter(|p| *p >= 0)
            .ok_or_else(|| Error::invalid("invalid_cursor", "cursor is malformed")),
        _ => Err(Error::resync_required(epoch)),
    }
}

/// The epoch and the newest position.
pub async fn log_state(conn: &Connection) -> Result<(String, i64)> {
    query_opt(
        conn,
        "SELECT epoch, position FROM event_log_state WHERE id = 1",
        (),
        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
    )
    .await?
    .ok_or_else(|| Error::internal("event log state missing"))
}

/// Appends an event in the current write transaction.
pub async fn insert(tx: &Tx, event: NewEvent) -> Result<Event> {
    let (epoch, position) = query_opt(
        tx,
        "UPDATE event_log_state SET position = position + 1 WHERE id = 1 RETURNING epoch, position",
        (),
        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
    )
    .await?
    .ok_or_else(|| Error::internal("event log state missing"))?;
    let id = ids::new_id("evt");
    let cursor = format_cursor(&epoch, position);
    let created_at = clock::now_string();
    let payload_json = serde_json::to_string(&event.payload)?;
    tx.execute(
        "INSERT INTO events (id, cursor, position, workspace_id, channel_id, type, seq, payload_json, is_private, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        (
            id.as_str(),
            cursor.as_str(),
            position,
            event.workspace_id.as_str(),
            event.channel_id.clone(),
            event.kind,
            event.seq,
            payload_json,
            event.recipients.is_some(),
            created_at.as_str(),
        ),
    )
    .await?;
    if let Some(recipients) = &event.recipients {
        for user_id in recipients {
            tx.execute(
                "INSERT OR IGNORE INTO event_recipients (event_id, user_id) VALUES (?1, ?2)",
                (id.as_str(), user_id.as_str()),
            )
            .await?;
        }
    }
    tx.record(EmittedEvent {
        workspace_id: event.workspace_id.clone(),
        position,
    });
    Ok(Event {
        id,
        cursor,
        kind: event.kind.to_string(),
        workspace_id: event.workspace_id,
        channel_id: event.channel_id,
        seq: event.seq,
        created_at,
        payload: event.payload,
    })
}

/// Who reads the log: a user, and whether their credential may see direct-message events
/// (a bot token without `dms:read` may not, even for DMs its bot belongs to).
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub user_id: &'a str,
    pub sees_dms: bool,
}

/// Private events with no channel are about direct messages (DM messages, reactions,
/// thread replies, `dm.read`).
fn is_dm_event(private: bool, channel_id: Option<&str>) -> bool {
    private && channel_id.is_none()
}

/// The visibility condition with the viewer at `?2` and `sees_dms` (0/1) at `?{dms}`.
fn visible(dms: usize) -> String {
    format!(
        "(e.is_private = 0 OR EXISTS (SELECT 1 FROM event_recipients r WHERE r.event_id = e.id AND r.user_id = ?2)) \
         AND (?{dms} = 1 OR NOT (e.is_private = 1 AND e.channel_id IS NULL))"
    )
}

fn event_from_row(r: &Row) -> Result<Event> {
    let payload: String = r.get(7)?;
    Ok(Event {
        id: r.get(0)?,
        cursor: r.get(1)?,
        kind: r.get(2)?,
        workspace_id: r.get(3)?,
        channel_id: r.get(4)?,
        seq: r.get(5)?,
        created_at: r.get(6)?,
        payload: serde_json::from_str(&payload)?,
    })
}

/// Events of a workspace visible to `viewer` after `position`, oldest first. Also returns
/// the position of the last event *scanned*, so callers can advance past invisible ones.
pub async fn after(
    conn: &Connection,
    workspace_id: &str,
    viewer: Viewer<'_>,
    position: i64,
    limit: i64,
) -> Result<Vec<(i64, Event)>> {
    let sql = format!(
        "SELECT e.id, e.cursor, e.type, e.workspace_id, e.channel_id, e.seq, e.created_at, e.payload_json, e.position
         FROM events e WHERE e.workspace_id = ?1 AND e.position > ?3 AND {}
         ORDER BY e.position LIMIT ?4",
        visible(5)
    );
    let params = (
        workspace_id,
        viewer.user_id,
        position,
        limit,
        i64::from(viewer.sees_dms),
    );
    query_all(conn, &sql, params, |r| {
        Ok((r.get::<i64>(8)?, event_from_row(r)?))
    })
    .await
}

/// The newest position of an event in the workspace visible to `viewer` (0 when none).
pub async fn tail(conn: &Connection, workspace_id: &str, viewer: Viewer<'_>) -> Result<i64> {
    let sql = format!(
        "SELECT MAX(e.position) FROM events e WHERE e.workspace_id = ?1 AND {}",
        visible(3)
    );
    let params = (workspace_id, viewer.user_id, i64::from(viewer.sees_dms));
    query_i64(conn, &sql, params).await
}

/// An event as stored, with its position and (for private events) its recipients.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub position: i64,
    pub event: Event,
    pub recipients: Option<Vec<String>>,
}

impl LoggedEvent {
    /// True when `viewer` may see the event.
    pub fn visible_to(&self, viewer: Viewer<'_>) -> bool {
        let recipient = self
            .recipients
            .as_ref()
            .is_none_or(|r| r.iter().any(|u| u == viewer.user_id));
        recipient
            && (viewer.sees_dms
                || !is_dm_event(self.recipients.is_some(), self.event.channel_id.as_deref()))
    }
}

/// Every event of a workspace after `position` (private ones with their recipients),
/// oldest first: the shared read of a fan-out, filtered per subscriber afterwards.
pub async fn after_all(
    conn: &Connection,
    workspace_id: &str,
    position: i64,
    limit: i64,
) -> Result<Vec<LoggedEvent>> {
    query_all(
        conn,
        "SELECT e.id, e.cursor, e.type, e.workspace_id, e.channel_id, e.seq, e.created_at, e.payload_json, e.position,
                e.is_private, (SELECT group_concat(r.user_id, ',') FROM event_recipients r WHERE r.event_id = e.id)
         FROM events e WHERE e.workspace_id = ?1 AND e.position > ?2 ORDER BY e.position LIMIT ?3",
        (workspace_id, position, limit),
        |r| {
            let private = r.get::<i64>(9)? != 0;
            let recipients = private.then(|| {
                r.get::<Option<String>>(10)
                    .ok()
                    .flatten()
                    .map(|s| s.split(',').map(str::to_string).collect())
                    .unwrap_or_default()
            });
            Ok(LoggedEvent {
                position: r.get(8)?,
                event: event_from_row(r)?,
                recipients,
            })
        },
    )
    .await
}

/// How many events after `position` are visible to `viewer`, counting at most `cap + 1`.
pub async fn count_after(
    conn: &Connection,
    workspace_id: &str,
    viewer: Viewer<'_>,
    position: i64,
    cap: i64,
) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM events e WHERE e.workspace_id = ?1 AND e.position > ?3 AND {} LIMIT ?4)",
        visible(5)
    );
    let params = (
        workspace_id,
        viewer.user_id,
        position,
        cap + 1,
        i64::from(viewer.sees_dms),
    );
    query_i64(conn, &sql, params).await
}

/// The newest position per workspace among events after `position` (for tailers).
pub async fn newest_by_workspace(conn: &Connection, position: i64) -> Result<Vec<(String, i64)>> {
    query_all(
        conn,
        "SELECT workspace_id, MAX(position) FROM events WHERE position > ?1 GROUP BY workspace_id",
        [position],
        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
    )
    .await
}

/// The newest position in the whole log (0 when empty).
pub async fn max_position(conn: &Connection) -> Result<i64> {
    query_i64(conn, "SELECT MAX(position) FROM events", ()).await
}

/// Deletes events of a workspace at or below `position`; returns how many went.
pub async fn prune_through(tx: &Tx, workspace_id: &str, position: i64) -> Result<u64> {
    Ok(tx
        .execute(
            "DELETE FROM events WHERE workspace_id = ?1 AND position <= ?2",
            (workspace_id, position),
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_sort() {
        let a = format_cursor("abcde12345", 9);
        let b = format_cursor("abcde12345", 10);
        assert!(a < b);
        assert_eq!(parse_cursor("abcde12345", &b).unwrap(), 10);
        assert_eq!(parse_cursor("abcde12345", "").unwrap(), 0);
        let other = parse_cursor("zzzzz00000", &b).unwrap_err();
        assert_eq!(other.code, "resync_required");
        assert_eq!(
            parse_cursor("abcde12345", "nonsense").unwrap_err().code,
            "invalid_cursor"
        );
    }
}

/// The newest event-log position (`event_log_state.position`), read on a pooled connection.
pub async fn current_position(store: &super::Store) -> Result<i64> {
    let conn = store.reader().await?;
    Ok(log_state(&conn).await?.1)
}

/// Which events `prune` removes from one workspace. Every set bound must hold for an
/// event to go; at least one of `before` / `keep_latest` is required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneBounds {
    /// Events created strictly before this RFC 3339 UTC time.
    pub before: Option<String>,
    /// Never the newest N events of the workspace.
    pub keep_latest: Option<i64>,
}

/// Deletes old events of a workspace in one write transaction; returns how many went.
/// An unknown workspace is 404; no bound at all is 400 `prune_bound_required`.
pub async fn prune(store: &super::Store, workspace_id: &str, bounds: PruneBounds) -> Result<u64> {
    if bounds.before.is_none() && bounds.keep_latest.is_none() {
        return Err(Error::invalid(
            "prune_bound_required",
            "give --older-than-days, --before or --keep-latest",
        ));
    }
    if bounds.keep_latest.is_some_and(|n| n < 0) {
        return Err(Error::invalid(
            "invalid_keep_latest",
            "keep-latest must not be negative",
        ));
    }
    let before = match &bounds.before {
        Some(at) => Some(clock::format(clock::parse(at).ok_or_else(|| {
            Error::invalid("invalid_before", "before must be an RFC 3339 time")
        })?)),
        None => None,
    };
    let workspace_id = workspace_id.trim().to_string();
    store
        .write(move |tx| async move {
            if !super::workspaces::by_id_exists(&tx, &workspace_id).await? {
                return Err(Error::not_found("workspace"));
            }
            // The highest position that may go: below the kept tail, and created before
            // the cutoff. Positions increase with commit time, so this is a prefix.
            let mut through = i64::MAX;
            if let Some(keep) = bounds.keep_latest.filter(|n| *n > 0) {
                // The keep-th newest event stays, and everything after it.
                let kept = query_opt(
                    &tx,
                    "SELECT position FROM events WHERE workspace_id = ?1
                     ORDER BY position DESC LIMIT 1 OFFSET ?2",
                    (workspace_id.as_str(), keep - 1),
                    |r| Ok(r.get::<i64>(0)?),
                )
                .await?;
                through = kept.map_or(0, |p| p - 1);
            }
            if let Some(before) = &before {
                through = through.min(
                    query_i64(
                        &tx,
                        "SELECT COALESCE(MAX(position), 0) FROM events
                         WHERE workspace_id = ?1 AND julianday(created_at) < julianday(?2)",
                        (workspace_id.as_str(), before.as_str()),
                    )
                    .await?,
                );
            }
            if through <= 0 {
                return Ok(0);
            }
            prune_through(&tx, &workspace_id, through).await
        })
        .await
}
