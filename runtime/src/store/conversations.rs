//! Direct conversations (1:1 and group), their members and read pointers.

use super::rows::{exists, query_all};
use crate::Result;
use libsql::Connection;

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
