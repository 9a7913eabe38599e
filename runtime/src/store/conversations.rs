//! Direct conversations (1:1 and group), their members and read pointers.

use super::rows::{exists, query_all, query_i64, query_opt};
use super::users::{user_from_row, USER_COLUMNS};
use crate::model::{DirectConversation, ReadReceipt, User};
use crate::{clock, ids, Result};
use libsql::{Connection, Row};
use std::collections::HashMap;

/// True when `user_id` belongs to the conversation (closed or not).
pub async fn is_member(conn: &Connection, conversation_id: &str, user_id: &str) -> Result<bool> {
    exists(
        conn,
        "SELECT 1 FROM direct_conversation_members WHERE conversation_id = ?1 AND user_id = ?2",
        (conversation_id, user_id),
    )
    .await
}

/// Member ids of a conversation (the recipients of its private events).
pub async fn member_ids(conn: &Connection, conversation_id: &str) -> Result<Vec<String>> {
    query_all(
        conn,
        "SELECT user_id FROM direct_conversation_members WHERE conversation_id = ?1 ORDER BY user_id",
        [conversation_id],
        |r| Ok(r.get::<String>(0)?),
    )
    .await
}

const COLUMNS: &str = "d.id, d.workspace_id, d.created_at";

fn conversation_from_row(r: &Row) -> Result<DirectConversation> {
    Ok(DirectConversation {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        created_at: r.get(2)?,
        members: Vec::new(),
        last_seq: None,
        last_read_seq: None,
        unread_count: None,
        closed: false,
    })
}

/// The canonical key of a 1:1 conversation: workspace and the two member ids, sorted.
pub fn pair_key(workspace_id: &str, a: &str, b: &str) -> String {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    format!("{workspace_id}|{first}|{second}")
}

/// Inserts a conversation with its members (all open). `pair_key` is set for canonical
/// 1:1 conversations only.
pub async fn insert(
    conn: &Connection,
    workspace_id: &str,
    pair_key: Option<&str>,
    member_ids: &[String],
) -> Result<DirectConversation> {
    let id = ids::new_id("dm");
    let now = clock::now_string();
    conn.execute(
        "INSERT INTO direct_conversations (id, workspace_id, pair_key, created_at) VALUES (?1, ?2, ?3, ?4)",
        (id.as_str(), workspace_id, pair_key, now.as_str()),
    )
    .await?;
    for user_id in member_ids {
        conn.execute(
            "INSERT INTO direct_conversation_members (conversation_id, user_id, created_at) VALUES (?1, ?2, ?3)",
            (id.as_str(), user_id.as_str(), now.as_str()),
        )
        .await?;
    }
    Ok(DirectConversation {
        id,
        workspace_id: workspace_id.to_string(),
        created_at: now,
        members: Vec::new(),
        last_seq: None,
        last_read_seq: None,
        unread_count: None,
        closed: false,
    })
}

/// The id of the canonical 1:1 conversation with this pair key.
pub async fn by_pair_key(conn: &Connection, pair_key: &str) -> Result<Option<String>> {
    query_opt(
        conn,
        "SELECT id FROM direct_conversations WHERE pair_key = ?1",
        [pair_key],
        |r| Ok(r.get::<String>(0)?),
    )
    .await
}

/// A conversation as seen by `viewer` (a member): members by display name, `closed` for
/// the viewer. `None` when it does not exist or `viewer` is not a member.
pub async fn get_for(
    conn: &Connection,
    conversation_id: &str,
    viewer: &str,
) -> Result<Option<DirectConversation>> {
    let found = query_opt(
        conn,
        &format!(
            "SELECT {COLUMNS}, me.closed_at IS NOT NULL FROM direct_conversations d
             JOIN direct_conversation_members me ON me.conversation_id = d.id AND me.user_id = ?2
             WHERE d.id = ?1"
        ),
        (conversation_id, viewer),
        |r| {
            let mut c = conversation_from_row(r)?;
            c.closed = r.get::<i64>(3)? != 0;
            Ok(c)
        },
    )
    .await?;
    let Some(mut conversation) = found else {
        return Ok(None);
    };
    conversation.members = members(conn, conversation_id).await?;
    Ok(Some(conversation))
}

/// Members of a conversation as users, ordered by display name.
pub async fn members(conn: &Connection, conversation_id: &str) -> Result<Vec<User>> {
    query_all(
        conn,
        &format!(
            "SELECT {USER_COLUMNS} FROM direct_conversation_members dm JOIN users u ON u.id = dm.user_id
             WHERE dm.conversation_id = ?1 ORDER BY u.display_name, u.id"
        ),
        [conversation_id],
        |r| user_from_row(r, 0),
    )
    .await
}

/// Open conversations of `viewer` in a workspace, oldest first, with members, read state
/// and unread counts (roots by others, not deleted, not agent activity).
pub async fn list_open_with_reads(
    conn: &Connection,
    workspace_id: &str,
    viewer: &str,
) -> Result<Vec<DirectConversation>> {
    let mut list = query_all(
        conn,
        &format!(
            "SELECT {COLUMNS},
               COALESCE((SELECT MAX(m.channel_seq) FROM messages m WHERE m.direct_conversation_id = d.id AND m.parent_message_id IS NULL), 0),
               COALESCE(r.last_read_seq, 0),
               (SELECT COUNT(*) FROM messages m WHERE m.direct_conversation_id = d.id AND m.parent_message_id IS NULL
                  AND m.channel_seq > COALESCE(r.last_read_seq, 0) AND m.deleted_at IS NULL
                  AND m.author_id <> ?2 AND m.kind = 'message')
             FROM direct_conversations d
             JOIN direct_conversation_members me ON me.conversation_id = d.id AND me.user_id = ?2
             LEFT JOIN direct_reads r ON r.conversation_id = d.id AND r.user_id = ?2
             WHERE d.workspace_id = ?1 AND me.closed_at IS NULL
             ORDER BY d.created_at, d.id"
        ),
        (workspace_id, viewer),
        |r| {
            let mut c = conversation_from_row(r)?;
            c.last_seq = Some(r.get(3)?);
            c.last_read_seq = Some(r.get(4)?);
            c.unread_count = Some(r.get(5)?);
            Ok(c)
        },
    )
    .await?;
    if list.is_empty() {
        return Ok(list);
    }
    let mut by_conversation: HashMap<String, Vec<User>> = HashMap::new();
    for (conversation_id, user) in query_all(
        conn,
        &format!(
            "SELECT dm.conversation_id, {USER_COLUMNS} FROM direct_conversation_members dm
             JOIN users u ON u.id = dm.user_id
             JOIN direct_conversations d ON d.id = dm.conversation_id
             JOIN direct_conversation_members me ON me.conversation_id = dm.conversation_id AND me.user_id = ?2
             WHERE d.workspace_id = ?1 AND me.closed_at IS NULL
             ORDER BY u.display_name, u.id"
        ),
        (workspace_id, viewer),
        |r| Ok((r.get::<String>(0)?, user_from_row(r, 1)?)),
    )
    .await?
    {
        by_conversation
            .entry(conversation_id)
            .or_default()
            .push(user);
    }
    for c in &mut list {
        c.members = by_conversation.remove(&c.id).unwrap_or_default();
    }
    Ok(list)
}

/// Closes (hides) a conversation for one member; closing again keeps the first time.
pub async fn close_for(conn: &Connection, conversation_id: &str, user_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE direct_conversation_members SET closed_at = COALESCE(closed_at, ?3)
         WHERE conversation_id = ?1 AND user_id = ?2",
        (conversation_id, user_id, clock::now_string()),
    )
    .await?;
    Ok(())
}

/// Reopens a conversation for one member.
pub async fn reopen_for(conn: &Connection, conversation_id: &str, user_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE direct_conversation_members SET closed_at = NULL WHERE conversation_id = ?1 AND user_id = ?2",
        (conversation_id, user_id),
    )
    .await?;
    Ok(())
}

/// Reopens a conversation for every member (a new root message resurfaces it).
pub async fn reopen_all(conn: &Connection, conversation_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE direct_conversation_members SET closed_at = NULL WHERE conversation_id = ?1 AND closed_at IS NOT NULL",
        [conversation_id],
    )
    .await?;
    Ok(())
}

/// The newest root sequence of a conversation (0 when empty).
pub async fn last_seq(conn: &Connection, conversation_id: &str) -> Result<i64> {
    query_i64(
        conn,
        "SELECT MAX(channel_seq) FROM messages WHERE direct_conversation_id = ?1 AND parent_message_id IS NULL",
        [conversation_id],
    )
    .await
}

/// The viewer's read pointer in a conversation.
pub async fn read_pointer(
    conn: &Connection,
    conversation_id: &str,
    user_id: &str,
) -> Result<Option<ReadReceipt>> {
    query_opt(
        conn,
        "SELECT conversation_id, user_id, last_read_seq, last_read_at FROM direct_reads WHERE conversation_id = ?1 AND user_id = ?2",
        (conversation_id, user_id),
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
    conversation_id: &str,
    user_id: &str,
    seq: i64,
) -> Result<ReadReceipt> {
    let now = clock::now_string();
    conn.execute(
        "INSERT INTO direct_reads (conversation_id, user_id, last_read_seq, last_read_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_read_seq = excluded.last_read_seq, last_read_at = excluded.last_read_at",
        (conversation_id, user_id, seq, now.as_str()),
    )
    .await?;
    Ok(ReadReceipt {
        scope_id: conversation_id.to_string(),
        user_id: user_id.to_string(),
        last_read_seq: seq,
        last_read_at: now,
    })
}
