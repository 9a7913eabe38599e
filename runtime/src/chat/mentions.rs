//! `@handle` mentions: resolved at write time into `mentioned_user_ids` on the
//! `message.created`, `message.updated` and `thread.reply_created` payloads (reference
//! §21.17). A mention is `@` at a word boundary followed by 2–32 of `[a-z0-9_-]`
//! (case-insensitive); it resolves only to members of the conversation (DMs) or the
//! workspace (channels), never to the author.

use crate::model::Message;
use crate::store::rows::query_all;
use crate::Result;
use libsql::Connection;
use serde_json::{json, Value};

fn is_handle_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The distinct lowercase handles mentioned in `body`, in order of first appearance.
pub(crate) fn handles(body: &str) -> Vec<String> {
    let chars: Vec<char> = body.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '@' {
            i += 1;
            continue;
        }
        let boundary = i == 0 || {
            let p = chars[i - 1];
            !(is_handle_char(p) || p == '@' || p == '.' || p == '/' || p == '\\')
        };
        let start = i + 1;
        let mut end = start;
        while end < chars.len() && is_handle_char(chars[end]) {
            end += 1;
        }
        if boundary && (2..=32).contains(&(end - start)) {
            let handle: String = chars[start..end].iter().collect::<String>().to_lowercase();
            if !out.contains(&handle) {
                out.push(handle);
            }
        }
        i = end.max(i + 1);
    }
    out
}

/// Ids of the members mentioned in `message`'s body (author excluded), ordered by first
/// mention.
pub(crate) async fn resolve(conn: &Connection, message: &Message) -> Result<Vec<String>> {
    let handles = handles(&message.body);
    if handles.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(&handles)?;
    let found: Vec<(String, String)> = match &message.direct_conversation_id {
        Some(dm) => {
            query_all(
                conn,
                "SELECT u.id, u.handle FROM users u
                 JOIN direct_conversation_members d ON d.user_id = u.id AND d.conversation_id = ?1
                 WHERE u.handle IN (SELECT value FROM json_each(?2))",
                (dm.as_str(), list),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .await?
        }
        None => {
            query_all(
                conn,
                "SELECT u.id, u.handle FROM users u
                 JOIN workspace_members m ON m.user_id = u.id AND m.workspace_id = ?1
                 WHERE u.handle IN (SELECT value FROM json_each(?2))",
                (message.workspace_id.as_str(), list),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .await?
        }
    };
    Ok(handles
        .iter()
        .filter_map(|h| found.iter().find(|(_, handle)| handle == h))
        .map(|(id, _)| id.clone())
        .filter(|id| *id != message.author_id)
        .collect())
}

/// Adds `mentioned_user_ids` to an event payload when the message mentions anyone.
pub(crate) async fn annotate(
    conn: &Connection,
    message: &Message,
    payload: &mut Value,
) -> Result<()> {
    let ids = resolve(conn, message).await?;
    if !ids.is_empty() {
        payload["mentioned_user_ids"] = json!(ids);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::handles;

    #[test]
    fn handles_need_a_word_boundary() {
        assert_eq!(
            handles("hi @Ada and @bob-2, @ada again"),
            vec!["ada", "bob-2"]
        );
        assert_eq!(handles("@ops: deploy"), vec!["ops"]);
        assert!(handles("mail ada@example.com").is_empty());
        assert!(handles("@x is too short, @@ada is not a mention").is_empty());
        assert_eq!(handles("(@ada)"), vec!["ada"]);
    }
}
