//! Output modes. stdout holds only a command's output (human text, JSON, or one plain
//! field); everything else goes to stderr.

use super::error::{ClientError, Exit, Result};
use serde_json::Value;
use std::io::Write;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Text for people (tab-separated lines for lists).
    Human,
    /// JSON on stdout: the API's JSON or the documented shape.
    Json,
    /// One stable field (an id, a token).
    Plain,
}

/// The error for a closed stdout (`… | head`): the command stops quietly with exit 0.
pub fn stdout_closed() -> ClientError {
    let mut e = ClientError::new(Exit::Unexpected, "stdout closed");
    e.code = Some("stdout_closed".to_string());
    e
}

fn write_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                stdout_closed()
            } else {
                ClientError::unexpected(format!("cannot write to stdout: {e}"))
            }
        })
}

/// One line on stdout.
pub fn line(text: &str) -> Result<()> {
    write_out(&format!("{text}\n"))
}

/// Pretty JSON (2-space indent) on stdout.
pub fn json(value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ClientError::unexpected(format!("cannot encode JSON: {e}")))?;
    line(&text)
}

/// One compact JSON value on one line (JSON lines for streams).
pub fn json_line(value: &Value) -> Result<()> {
    let text = serde_json::to_string(value)
        .map_err(|e| ClientError::unexpected(format!("cannot encode JSON: {e}")))?;
    line(&text)
}

/// A warning or note on stderr.
pub fn note(text: &str) {
    eprintln!("{text}");
}

/// Text made safe for one tab-separated line: newlines and tabs escaped as `\n`, `\t`.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// `value[key]` as a string ("" when missing).
pub fn s<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A message as one human line: `<seq>\t<id>\t<author display name>\t<body>`.
pub fn message_line(message: &Value) -> String {
    let seq = message
        .get("channel_seq")
        .and_then(Value::as_i64)
        .map(|n| n.to_string())
        .unwrap_or_else(|| "-".to_string());
    let author = message
        .get("author")
        .map(|a| s(a, "display_name"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| s(message, "author_id"));
    let body = if message.get("deleted_at").is_some_and(|d| !d.is_null()) {
        "[deleted]".to_string()
    } else {
        one_line(s(message, "body"))
    };
    format!("{seq}\t{}\t{author}\t{body}", s(message, "id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_lines_escape_newlines() {
        let m = json!({"id": "msg_1", "channel_seq": 3, "author": {"display_name": "Ann"}, "body": "a\nb\tc"});
        assert_eq!(message_line(&m), "3\tmsg_1\tAnn\ta\\nb\\tc");
        let d = json!({"id": "msg_2", "author_id": "usr_1", "body": "", "deleted_at": "2026-01-01T00:00:00Z"});
        assert_eq!(message_line(&d), "-\tmsg_2\tusr_1\t[deleted]");
    }
}
