//! Messages (roots, replies, DM messages), thread state, reactions, attachments and paging.

use super::rows::{exists, query_all, query_i64, query_opt};
use super::users::{user_from_row, USER_COLUMNS};
use crate::model::{Message, ReactionSummary, ThreadState, Upload};
use crate::{clock, ids, Result};
use libsql::{Connection, Row, Value};
use std::collections::HashMap;

const COLUMNS: &str = "m.id, m.workspace_id, m.channel_id, m.direct_conversation_id, m.author_id, m.parent_message_id,
    m.thread_root_id, m.channel_seq, m.thread_seq, m.body, m.body_format, m.kind, m.turn_id, m.quoted_message_id,
    m.quoted_body_snapshot, m.quoted_author_id, m.created_at, m.edited_at, m.deleted_at, m.client_nonce";

fn select(filter: &str) -> String {
    format!("SELECT {COLUMNS}, {USER_COLUMNS} FROM messages m JOIN users u ON u.id = m.author_id WHERE {filter}")
}

fn message_from_row(r: &Row) -> Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        channel_id: r.get(2)?,
        direct_conversation_id: r.get(3)?,
        author_id: r.get(4)?,
        parent_message_id: r.get(5)?,
        thread_root_id: r.get(6)?,
        channel_seq: r.get(7)?,
        thread_seq: r.get(8)?,
        body: r.get(9)?,
        body_format: r.get(10)?,
        kind: r.get(11)?,
        turn_id: r.get(12)?,
        quoted_message_id: r.get(13)?,
        quoted_body_snapshot: r.get(14)?,
        quoted_author_id: r.get(15)?,
        quoted_author: None,
        created_at: r.get(16)?,
        edited_at: r.get(17)?,
        deleted_at: r.get(18)?,
        client_nonce: r.get(19)?,
        author: Some(user_from_row(r, 20)?),
        attachments: Vec::new(),
        reactions: Vec::new(),
        thread_state: None,
    })
}

/// What to insert; sequences are assigned by the caller inside the same transaction.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub workspace_id: String,
    pub channel_id: Option<String>,
    pub direct_conversation_id: Option<String>,
    pub author_id: String,
    pub parent_message_id: Option<String>,
    pub thread_root_id: Option<String>,
    pub channel_seq: Option<i64>,
    pub thread_seq: Option<i64>,
    pub body: String,
    pub kind: String,
    pub turn_id: Option<String>,
    pub nonce: Option<String>,
    pub quoted_message_id: Option<String>,
    pub quoted_body_snapshot: Option<String>,
    pub quoted_author_id: Option<String>,
}

/// Inserts a message and returns it read back with its author.
pub async fn insert(conn: &Connection, new: NewMessage) -> Result<Message> {
    let id = ids::new_id("msg");
    let root = new.thread_root_id.clone().unwrap_or_else(|| id.clone());
    let kind = if new.kind.is_empty() {
        "message".to_string()
    } else {
        new.kind
    };
    conn.execute(
        "INSERT INTO messages (id, workspace_id, channel_id, direct_conversation_id, author_id, parent_message_id,
            thread_root_id, channel_seq, thread_seq, body, body_format, kind, turn_id, client_nonce,
            quoted_message_id, quoted_body_snapshot, quoted_author_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'markdown', ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        vec![
            Value::from(id.clone()),
            Value::from(new.workspace_id),
            Value::from(new.channel_id),
            Value::from(new.direct_conversation_id),
            Value::from(new.author_id),
            Value::from(new.parent_message_id),
            Value::from(root),
            Value::from(new.channel_seq),
            Value::from(new.thread_seq),
            Value::from(new.body),
            Value::from(kind),
            Value::from(new.turn_id),
            Value::from(new.nonce),
            Value::from(new.quoted_message_id),
            Value::from(new.quoted_body_snapshot),
            Value::from(new.quoted_author_id),
            Value::from(clock::now_string()),
        ],
    )
    .await?;
    get(conn, &id)
        .await?
        .ok_or_else(|| crate::Error::internal("inserted message vanished"))
}

/// A message by id (with its author, not hydrated).
pub async fn get(conn: &Connection, id: &str) -> Result<Option<Message>> {
    query_opt(conn, &select("m.id = ?1"), [id], message_from_row).await
}

/// The message an author sent with a client nonce.
pub async fn by_nonce(conn: &Connection, author_id: &str, nonce: &str) -> Result<Option<Message>> {
    query_opt(
        conn,
        &select("m.author_id = ?1 AND m.client_nonce = ?2"),
        (author_id, nonce),
        message_from_row,
    )
    .await
}

/// Next root sequence of a channel.
pub async fn next_channel_seq(conn: &Connection, channel_id: &str) -> Result<i64> {
    Ok(query_i64(
        conn,
        "SELECT MAX(channel_seq) FROM messages WHERE channel_id = ?1 AND channel_seq IS NOT NULL",
        [channel_id],
    )
    .await?
        + 1)
}

/// Next root sequence of a direct conversation.
pub async fn next_direct_seq(conn: &Connection, conversation_id: &str) -> Result<i64> {
    Ok(query_i64(
        conn,
        "SELECT MAX(channel_seq) FROM messages WHERE direct_conversation_id = ?1 AND channel_seq IS NOT NULL",
        [conversation_id],
    )
    .await?
        + 1)
}

/// Next reply sequence of a thread.
pub async fn next_thread_seq(conn: &Connection, root_id: &str) -> Result<i64> {
    Ok(query_i64(
        conn,
        "SELECT MAX(thread_seq) FROM messages WHERE thread_root_id = ?1 AND thread_seq IS NOT NULL",
        [root_id],
    )
    .await?
        + 1)
}

/// Where a page of roots comes from.
#[derive(Debug, Clone, Copy)]
pub enum Timeline<'a> {
    Channel(&'a str),
    Direct(&'a str),
}

impl Timeline<'_> {
    fn filter(&self) -> (&'static str, String) {
        match self {
            Timeline::Channel(id) => (
                "m.channel_id = ?1 AND m.parent_message_id IS NULL",
                id.to_string(),
            ),
            Timeline::Direct(id) => (
                "m.direct_conversation_id = ?1 AND m.parent_message_id IS NULL",
                id.to_string(),
            ),
        }
    }
}

/// Which window of a timeline to read (reference §21.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    Latest,
    Before(i64),
    After(i64),
    Around(i64),
}

/// A window of roots, oldest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub messages: Vec<Message>,
    pub has_older: bool,
    pub has_newer: bool,
}

async fn fetch(
    conn: &Connection,
    timeline: Timeline<'_>,
    cond: &str,
    order: &str,
    seq: i64,
    limit: i64,
) -> Result<Vec<Message>> {
    let (filter, id) = timeline.filter();
    let sql = format!(
        "{} AND {cond} ORDER BY m.channel_seq {order} LIMIT ?3",
        select(filter)
    );
    query_all(conn, &sql, (id, seq, limit), message_from_row).await
}

/// Reads a window of roots.
pub async fn page(
    conn: &Connection,
    timeline: Timeline<'_>,
    request: PageRequest,
    limit: i64,
) -> Result<Page> {
    let mut messages = match request {
        PageRequest::Latest => rev(fetch(conn, timeline, "?2 = ?2", "DESC", 0, limit).await?),
        PageRequest::Before(s) => {
            rev(fetch(conn, timeline, "m.channel_seq < ?2", "DESC", s, limit).await?)
        }
        PageRequest::After(s) => {
            fetch(conn, timeline, "m.channel_seq > ?2", "ASC", s, limit).await?
        }
        PageRequest::Around(s) => {
            let older = fetch(conn, timeline, "m.channel_seq <= ?2", "DESC", s, limit).await?;
            let newer = fetch(conn, timeline, "m.channel_seq > ?2", "ASC", s, limit).await?;
            let mut want_old = ((limit + 1) / 2) as usize;
            let mut want_new = limit as usize - want_old;
            if older.len() < want_old {
                want_new = limit as usize - older.len();
            } else if newer.len() < want_new {
                want_old = limit as usize - newer.len();
            }
            let mut out = rev(older.into_iter().take(want_old).collect());
            out.extend(newer.into_iter().take(want_new));
            out
        }
    };
    messages.dedup_by(|a, b| a.id == b.id);
    let (Some(oldest), Some(newest)) = (
        messages.first().and_then(|m| m.channel_seq),
        messages.last().and_then(|m| m.channel_seq),
    ) else {
        return Ok(Page {
            messages,
            has_older: false,
            has_newer: false,
        });
    };
    let (filter, id) = timeline.filter();
    let has_older = exists(
        conn,
        &format!("SELECT 1 FROM messages m WHERE {filter} AND m.channel_seq < ?2 LIMIT 1"),
        (id.clone(), oldest),
    )
    .await?;
    let has_newer = exists(
        conn,
        &format!("SELECT 1 FROM messages m WHERE {filter} AND m.channel_seq > ?2 LIMIT 1"),
        (id, newest),
    )
    .await?;
    Ok(Page {
        messages,
        has_older,
        has_newer,
    })
}

fn rev(mut v: Vec<Message>) -> Vec<Message> {
    v.reverse();
    v
}

/// Replies of a thread by `thread_seq`: the first `limit`, or the latest `limit` when `latest`.
pub async fn replies(
    conn: &Connection,
    root_id: &str,
    limit: i64,
    latest: bool,
) -> Result<Vec<Message>> {
    let order = if latest { "DESC" } else { "ASC" };
    let sql = format!(
        "{} ORDER BY m.thread_seq {order} LIMIT ?2",
        select("m.thread_root_id = ?1 AND m.parent_message_id IS NOT NULL")
    );
    let mut out = query_all(conn, &sql, (root_id, limit), message_from_row).await?;
    if latest {
        out.reverse();
    }
    Ok(out)
}

/// Messages by ids (any order).
pub async fn by_ids(conn: &Connection, ids: &[String]) -> Result<Vec<Message>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = select(&format!("m.id IN ({})", placeholders(ids.len(), 1)));
    query_all(conn, &sql, ids.to_vec(), message_from_row).await
}

/// Sets a new body and `edited_at`.
pub async fn update_body(conn: &Connection, id: &str, body: &str) -> Result<()> {
    conn.execute(
        "UPDATE messages SET body = ?2, edited_at = ?3 WHERE id = ?1",
        (id, body, clock::now_string()),
    )
    .await?;
    Ok(())
}

/// Soft delete: blank the body, set `deleted_at`, keep the row and its sequence slot.
pub async fn soft_delete(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE messages SET body = '', deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        (id, clock::now_string()),
    )
    .await?;
    conn.execute("DELETE FROM pins WHERE message_id = ?1", [id])
        .await?;
    Ok(())
}

/// Creates the zero thread state of a new root.
pub async fn insert_thread_state(conn: &Connection, root_id: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO thread_state (root_message_id) VALUES (?1)",
        [root_id],
    )
    .await?;
    Ok(())
}

fn thread_state_from_row(r: &Row) -> Result<ThreadState> {
    let ids: String = r.get(3)?;
    Ok(ThreadState {
        root_message_id: r.get(0)?,
        reply_count: r.get(1)?,
        last_reply_at: r.get(2)?,
        last_reply_author_ids: serde_json::from_str(&ids).unwrap_or_default(),
    })
}

/// The thread state of a root (zero state when missing).
pub async fn thread_state(conn: &Connection, root_id: &str) -> Result<ThreadState> {
    Ok(query_opt(
        conn,
        "SELECT root_message_id, reply_count, last_reply_at, last_reply_author_ids_json FROM thread_state WHERE root_message_id = ?1",
        [root_id],
        thread_state_from_row,
    )
    .await?
    .unwrap_or_else(|| ThreadState::empty(root_id)))
}

/// Records a reply: count + 1, last reply time, author first in a distinct list of 3.
pub async fn bump_thread_state(
    conn: &Connection,
    root_id: &str,
    author_id: &str,
    at: &str,
) -> Result<ThreadState> {
    let mut state = thread_state(conn, root_id).await?;
    state.reply_count += 1;
    state.last_reply_at = Some(at.to_string());
    state.last_reply_author_ids.retain(|id| id != author_id);
    state.last_reply_author_ids.insert(0, author_id.to_string());
    state.last_reply_author_ids.truncate(3);
    conn.execute(
        "INSERT INTO thread_state (root_message_id, reply_count, last_reply_at, last_reply_author_ids_json)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (root_message_id) DO UPDATE SET reply_count = excluded.reply_count,
            last_reply_at = excluded.last_reply_at, last_reply_author_ids_json = excluded.last_reply_author_ids_json",
        (
            root_id,
            state.reply_count,
            at,
            serde_json::to_string(&state.last_reply_author_ids)?,
        ),
    )
    .await?;
    Ok(state)
}

/// Adds a reaction; false when it already existed.
pub async fn insert_reaction(
    conn: &Connection,
    message_id: &str,
    user_id: &str,
    emoji: &str,
) -> Result<bool> {
    Ok(conn
        .execute(
            "INSERT OR IGNORE INTO reactions (message_id, user_id, emoji, created_at) VALUES (?1, ?2, ?3, ?4)",
            (message_id, user_id, emoji, clock::now_string()),
        )
        .await?
        > 0)
}

/// Removes a reaction; false when there was none.
pub async fn delete_reaction(
    conn: &Connection,
    message_id: &str,
    user_id: &str,
    emoji: &str,
) -> Result<bool> {
    Ok(conn
        .execute(
            "DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3",
            (message_id, user_id, emoji),
        )
        .await?
        > 0)
}

fn placeholders(n: usize, start: usize) -> String {
    (0..n)
        .map(|i| format!("?{}", i + start))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fills reactions (for `viewer`), thread state of roots, attachments of live messages and
/// quoted authors.
pub async fn hydrate(conn: &Connection, messages: &mut [Message], viewer: &str) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    let list = placeholders(ids.len(), 2);
    let mut params: Vec<Value> = vec![Value::from(viewer.to_string())];
    params.extend(ids.iter().cloned().map(Value::from));

    let mut reactions: HashMap<String, Vec<ReactionSummary>> = HashMap::new();
    for (message_id, summary) in query_all(
        conn,
        &format!(
            "SELECT message_id, emoji, COUNT(*), MAX(user_id = ?1) FROM reactions WHERE message_id IN ({list})
             GROUP BY message_id, emoji ORDER BY MIN(rowid)"
        ),
        params.clone(),
        |r| {
            Ok((
                r.get::<String>(0)?,
                ReactionSummary {
                    emoji: r.get(1)?,
                    count: r.get(2)?,
                    reacted_by_me: r.get::<i64>(3)? != 0,
                },
            ))
        },
    )
    .await?
    {
        reactions.entry(message_id).or_default().push(summary);
    }

    let mut states: HashMap<String, ThreadState> = query_all(
        conn,
        &format!(
            "SELECT root_message_id, reply_count, last_reply_at, last_reply_author_ids_json FROM thread_state
             WHERE ?1 = ?1 AND root_message_id IN ({list})"
        ),
        params.clone(),
        thread_state_from_row,
    )
    .await?
    .into_iter()
    .map(|s| (s.root_message_id.clone(), s))
    .collect();

    let mut attachments: HashMap<String, Vec<Upload>> = HashMap::new();
    for (message_id, upload) in query_all(
        conn,
        &format!(
            "SELECT a.message_id, {}
             FROM message_attachments a JOIN uploads u ON u.id = a.upload_id
             WHERE ?1 = ?1 AND a.message_id IN ({list}) ORDER BY a.created_at, a.rowid",
            super::uploads::ATTACHMENT_COLUMNS
        ),
        params,
        |r| {
            Ok((
                r.get::<String>(0)?,
                super::uploads::attachment_from_row(r, 1)?,
            ))
        },
    )
    .await?
    {
        attachments.entry(message_id).or_default().push(upload);
    }

    let quoted: Vec<String> = messages
        .iter()
        .filter_map(|m| m.quoted_author_id.clone())
        .collect();
    let mut quoted_users = HashMap::new();
    if !quoted.is_empty() {
        for user in query_all(
            conn,
            &format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.id IN ({})",
                placeholders(quoted.len(), 1)
            ),
            quoted,
            |r| user_from_row(r, 0),
        )
        .await?
        {
            quoted_users.insert(user.id.clone(), user);
        }
    }

    for m in messages.iter_mut() {
        m.reactions = reactions.remove(&m.id).unwrap_or_default();
        if m.is_root() {
            m.thread_state = Some(
                states
                    .remove(&m.id)
                    .unwrap_or_else(|| ThreadState::empty(&m.id)),
            );
        }
        m.attachments = if m.deleted_at.is_some() {
            Vec::new()
        } else {
            attachments.remove(&m.id).unwrap_or_default()
        };
        m.quoted_author = m
            .quoted_author_id
            .as_ref()
            .and_then(|id| quoted_users.get(id).cloned());
    }
    Ok(())
}

/// The reaction summaries of one message for `viewer`.
pub async fn reaction_summaries(
    conn: &Connection,
    message_id: &str,
    viewer: &str,
) -> Result<Vec<ReactionSummary>> {
    query_all(
        conn,
        "SELECT emoji, COUNT(*), MAX(user_id = ?2) FROM reactions WHERE message_id = ?1 GROUP BY emoji ORDER BY MIN(rowid)",
        (message_id, viewer),
        |r| {
            Ok(ReactionSummary {
                emoji: r.get(0)?,
                count: r.get(1)?,
                reacted_by_me: r.get::<i64>(2)? != 0,
            })
        },
    )
    .await
}
