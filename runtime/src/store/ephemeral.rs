//! Ephemeral events (typing, presence, agent progress): kept ~30 s in `ephemeral_events`
//! so pollers and other instances see them; `seq` orders them per database.

use super::rows::{query_all, query_i64};
use super::writer::{EmittedEvent, Tx};
use crate::model::Event;
use crate::{clock, Result};
use libsql::Connection;

/// How long an ephemeral event stays visible.
pub const TTL_MS: i64 = 30_000;

fn now_ms() -> i64 {
    clock::now().timestamp_millis()
}

/// `eph_` + UTC time `YYYYMMDDhhmmss.nnnnnnnnn` (reference §2.1), plus a random tail so ids
/// stay unique under load.
pub fn new_id() -> String {
    let now = clock::now();
    format!(
        "eph_{}{}",
        now.format("%Y%m%d%H%M%S.%f"),
        crate::ids::random_base32(4)
    )
}

/// Stores an ephemeral event (purging expired ones) and wakes waiters after commit.
pub async fn insert(tx: &Tx, event: &Event, recipients: Option<&[String]>) -> Result<i64> {
    let now = now_ms();
    tx.execute(
        "DELETE FROM ephemeral_events WHERE expires_at_ms < ?1",
        [now],
    )
    .await?;
    let recipients_json = recipients.map(serde_json::to_string).transpose()?;
    tx.execute(
        "INSERT INTO ephemeral_events (id, workspace_id, channel_id, type, payload_json, recipients_json, created_at, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (
            event.id.as_str(),
            event.workspace_id.as_str(),
            event.channel_id.clone(),
            event.kind.as_str(),
            serde_json::to_string(&event.payload)?,
            recipients_json,
            event.created_at.as_str(),
            now + TTL_MS,
        ),
    )
    .await?;
    let seq = tx.last_insert_rowid();
    tx.record(EmittedEvent {
        workspace_id: event.workspace_id.clone(),
        position: 0,
    });
    Ok(seq)
}

/// Unexpired ephemeral events of a workspace after `seq` that `viewer` may see, oldest first.
pub async fn visible_after(
    conn: &Connection,
    workspace_id: &str,
    viewer: &str,
    seq: i64,
) -> Result<Vec<(i64, Event)>> {
    query_all(
        conn,
        "SELECT seq, id, type, workspace_id, channel_id, created_at, payload_json FROM ephemeral_events
         WHERE workspace_id = ?1 AND seq > ?3 AND expires_at_ms >= ?4
           AND (recipients_json IS NULL OR EXISTS (SELECT 1 FROM json_each(recipients_json) WHERE value = ?2))
         ORDER BY seq LIMIT 500",
        (workspace_id, viewer, seq, now_ms()),
        |r| {
            let payload: String = r.get(6)?;
            Ok((
                r.get::<i64>(0)?,
                Event {
                    id: r.get(1)?,
                    cursor: String::new(),
                    kind: r.get(2)?,
                    workspace_id: r.get(3)?,
                    channel_id: r.get(4)?,
                    seq: None,
                    created_at: r.get(5)?,
                    payload: serde_json::from_str(&payload)?,
                },
            ))
        },
    )
    .await
}

/// Every unexpired ephemeral event of a workspace after `seq` with its recipients (`None`
/// = everyone in the workspace), for a shared fan-out read.
pub async fn all_after(
    conn: &Connection,
    workspace_id: &str,
    seq: i64,
) -> Result<Vec<(i64, Event, Option<Vec<String>>)>> {
    query_all(
        conn,
        "SELECT seq, id, type, workspace_id, channel_id, created_at, payload_json, recipients_json FROM ephemeral_events
         WHERE workspace_id = ?1 AND seq > ?2 AND expires_at_ms >= ?3 ORDER BY seq LIMIT 500",
        (workspace_id, seq, now_ms()),
        |r| {
            let payload: String = r.get(6)?;
            let recipients: Option<String> = r.get(7)?;
            Ok((
                r.get::<i64>(0)?,
                Event {
                    id: r.get(1)?,
                    cursor: String::new(),
                    kind: r.get(2)?,
                    workspace_id: r.get(3)?,
                    channel_id: r.get(4)?,
                    seq: None,
                    created_at: r.get(5)?,
                    payload: serde_json::from_str(&payload)?,
                },
                recipients.and_then(|s| serde_json::from_str(&s).ok()),
            ))
        },
    )
    .await
}

/// The newest ephemeral sequence (0 when none).
pub async fn max_seq(conn: &Connection) -> Result<i64> {
    query_i64(conn, "SELECT MAX(seq) FROM ephemeral_events", ()).await
}

/// Workspaces with ephemeral events after `seq`, with their newest seq (for tailers).
pub async fn newest_by_workspace(conn: &Connection, seq: i64) -> Result<Vec<(String, i64)>> {
    query_all(
        conn,
        "SELECT workspace_id, MAX(seq) FROM ephemeral_events WHERE seq > ?1 GROUP BY workspace_id",
        [seq],
        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
    )
    .await
}
