//! Channels, channel read pointers and pins.

use super::rows::{query_all, query_i64, query_opt};
use crate::model::{Channel, ReadReceipt};
use crate::{clock, ids, Error, Result};
use libsql::{Connection, Row};

const COLUMNS: &str = "c.id, c.workspace_id, c.name, c.kind, c.created_at, c.archived_at";

fn channel_from_row(r: &Row) -> Result<Channel> {
    Ok(Channel {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        created_at: r.get(4)?,
        archived_at: r.get(5)?,
        last_seq: None,
        last_read_seq: None,
        unread_count: None,
    })
}

/// Inserts a channel; a taken name in the workspace is a conflict.
pub async fn insert(
    conn: &Connection,
    workspace_id: &str,
    name: &str,
    kind: &str,
) -> Result<Channel> {
    let channel = Channel {
        id: ids::new_id("chn"),
        workspace_id: workspace_id.to_string(),
        name: name.to_string(),
        kind: kind.to_string(),
        created_at: clock::now_string(),
        archived_at: None,
        last_seq: None,
        last_read_seq: None,
        unread_count: None,
    };
    match conn
        .execute(
            "INSERT INTO channels (id, workspace_id, name, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            (channel.id.as_str(), workspace_id, name, kind, channel.created_at.as_str()),
        )
        .await
    {
        Ok(_) => Ok(channel),
        Err(e) if super::rows::is_unique_violation(&e) => Err(Error::conflict(
            "channel_name_taken",
            format!("a channel named {name:?} already exists"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// A channel by id.
pub async fn get(conn: &Connection, id: &str) -> Result<Option<Channel>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM channels c WHERE c.id = ?1"),
        [id],
        channel_from_row,
    )
    .await
}

/// A channel with the caller's workspace role, when the caller is a member of its workspace.
pub async fn get_with_role(
    conn: &Connection,
    id: &str,
    user_id: &str,
) -> Result<Option<(Channel, String)>> {
    query_opt(
        conn,
        &format!(
            "SELECT {COLUMNS}, m.role FROM channels c
             JOIN workspace_members m ON m.workspace_id = c.workspace_id AND m.user_id = ?2
             WHERE c.id = ?1"
        ),
        (id, user_id),
        |r| Ok((channel_from_row(r)?, r.get::<String>(6)?)),
    )
    .await
}

/// A channel by workspace and name.
pub async fn by_name(conn: &Connection, workspace_id: &str, name: &str) -> Result<Option<Channel>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM channels c WHERE c.workspace_id = ?1 AND c.name = ?2"),
        (workspace_id, name),
        channel_from_row,
    )
    .await
}

/// Channels of a workspace by name, with the viewer's read state and unread counts
/// (roots by others, not deleted, not agent activity).
pub async fn list_with_reads(
    conn: &Connection,
    workspace_id: &str,
    viewer: &str,
) -> Result<Vec<Channel>> {
    query_all(
        conn,
        &format!(
            "SELECT {COLUMNS},
               COALESCE((SELECT MAX(m.channel_seq) FROM messages m WHERE m.channel_id = c.id AND m.parent_message_id IS NULL), 0),
               COALESCE(r.last_read_seq, 0),
               (SELECT COUNT(*) FROM messages m WHERE m.channel_id = c.id AND m.parent_message_id IS NULL
                  AND m.channel_seq > COALESCE(r.last_read_seq, 0) AND m.deleted_at IS NULL
                  AND m.author_id <> ?2 AND m.kind = 'message')
             FROM channels c LEFT JOIN channel_reads r ON r.channel_id = c.id AND r.user_id = ?2
             WHERE c.workspace_id = ?1 ORDER BY c.name"
        ),
        (workspace_id, viewer),
        |r| {
            let mut c = channel_from_row(r)?;
            c.last_seq = Some(r.get(6)?);
            c.last_read_seq = Some(r.get(7)?);
            c.unread_count = Some(r.get(8)?);
            Ok(c)
        },
    )
    .await
}

/// Applies a patch; `archived` = Some(true) archives now, Some(false) unarchives.
pub async fn update(
    conn: &Connection,
    id: &str,
    name: Option<&str>,
    kind: Option<&str>,
    archived: Option<bool>,
) -> Result<()> {
    let archived_at: Option<String> = match archived {
        Some(true) => Some(clock::now_string()),
        _ => None,
    };
    let result = conn
        .execute(
            "UPDATE channels SET name = COALESCE(?2, name), kind = COALESCE(?3, kind),
                archived_at = CASE WHEN ?4 = 1 THEN COALESCE(archived_at, ?5) WHEN ?4 = 0 THEN NULL ELSE archived_at END
             WHERE id = ?1",
            (id, name, kind, archived.map(i64::from), archived_at),
        )
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if super::rows::is_unique_violation(&e) => Err(Error::conflict(
            "channel_name_taken",
            "a channel with that name already exists",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The newest root sequence of a channel (0 when empty).
pub async fn last_seq(conn: &Connection, channel_id: &str) -> Result<i64> {
    query_i64(
        conn,
        "SELECT MAX(channel_seq) FROM messages WHERE channel_id = ?1 AND parent_message_id IS NULL",
        [channel_id],
    )
    .await
}

/// The viewer's read pointer in a channel.
pub async fn read_pointer(
    conn: &Connection,
    channel_id: &str,
    user_id: &str,
) -> Result<Option<ReadReceipt>> {
    query_opt(
        conn,
        "SELECT channel_id, user_id, last_read_seq, last_read_at FROM channel_reads WHERE channel_id = ?1 AND user_id = ?2",
        (channel_id, user_id),
        |r| {
            Ok(ReadReceipt {
                scope_id: r.get(0)?,
                user_id: r.get(1)?,
                last_read_seq: r.get(2)?,
                last_read_at: r.get(3)?,
            })
        },
    )
    .await
}

/// Sets the viewer's read pointer.
pub async fn set_read_pointer(
    conn: &Connection,
    channel_id: &str,
    user_id: &str,
    seq: i64,
) -> Result<ReadReceipt> {
    let now = clock::now_string();
    conn.execute(
        "INSERT INTO channel_reads (channel_id, user_id, last_read_seq, last_read_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (channel_id, user_id) DO UPDATE SET last_read_seq = excluded.last_read_seq, last_read_at = excluded.last_read_at",
        (channel_id, user_id, seq, now.as_str()),
    )
    .await?;
    Ok(ReadReceipt {
        scope_id: channel_id.to_string(),
        user_id: user_id.to_string(),
        last_read_seq: seq,
        last_read_at: now,
    })
}

/// Pinned message ids of a channel, newest pin first.
pub async fn pinned_ids(conn: &Connection, channel_id: &str) -> Result<Vec<String>> {
    query_all(
        conn,
        "SELECT message_id FROM pins WHERE channel_id = ?1 ORDER BY created_at DESC, rowid DESC",
        [channel_id],
        |r| Ok(r.get::<String>(0)?),
    )
    .await
}

/// How many pins a channel has.
pub async fn pin_count(conn: &Connection, channel_id: &str) -> Result<i64> {
    query_i64(
        conn,
        "SELECT COUNT(*) FROM pins WHERE channel_id = ?1",
        [channel_id],
    )
    .await
}

/// Pins a message; false when it was already pinned.
pub async fn insert_pin(
    conn: &Connection,
    channel_id: &str,
    message_id: &str,
    user_id: &str,
) -> Result<bool> {
    Ok(conn
        .execute(
            "INSERT OR IGNORE INTO pins (channel_id, message_id, pinned_by, created_at) VALUES (?1, ?2, ?3, ?4)",
            (channel_id, message_id, user_id, clock::now_string()),
        )
        .await?
        > 0)
}

/// Unpins a message; false when it was not pinned.
pub async fn delete_pin(conn: &Connection, channel_id: &str, message_id: &str) -> Result<bool> {
    Ok(conn
        .execute(
            "DELETE FROM pins WHERE channel_id = ?1 AND message_id = ?2",
            (channel_id, message_id),
        )
        .await?
        > 0)
}

/// Who pinned a message in a channel, when it is pinned.
pub async fn pinned_by(
    conn: &Connection,
    channel_id: &str,
    message_id: &str,
) -> Result<Option<String>> {
    query_opt(
        conn,
        "SELECT pinned_by FROM pins WHERE channel_id = ?1 AND message_id = ?2",
        (channel_id, message_id),
        |r| Ok(r.get::<String>(0)?),
    )
    .await
}
