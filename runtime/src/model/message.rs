use super::User;
use serde::Serialize;

/// A channel root, a thread reply or a DM message (reference §3.1).
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    pub workspace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_conversation_id: Option<String>,
    pub author_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_message_id: Option<String>,
    pub thread_root_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_seq: Option<i64>,
    pub body: String,
    pub body_format: String,
    /// `message` (omitted), `agent_commentary` or `agent_tool`.
    #[serde(skip_serializing_if = "is_plain_kind")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_body_snapshot: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_author_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_author: Option<User>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Upload>,
    pub reactions: Vec<ReactionSummary>,
    /// Present on roots in pages and single reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_state: Option<ThreadState>,
    /// The client nonce; internal, never serialized on the message.
    #[serde(skip)]
    pub client_nonce: Option<String>,
}

fn is_plain_kind(kind: &str) -> bool {
    kind == "message"
}

impl Message {
    /// True for channel or DM roots.
    pub fn is_root(&self) -> bool {
        self.parent_message_id.is_none()
    }
}

/// Thread summary of a root.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ThreadState {
    pub root_message_id: String,
    pub reply_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reply_at: Option<String>,
    pub last_reply_author_ids: Vec<String>,
}

impl ThreadState {
    /// The state of a root nobody has replied to.
    pub fn empty(root_message_id: &str) -> Self {
        Self {
            root_message_id: root_message_id.to_string(),
            reply_count: 0,
            last_reply_at: None,
            last_reply_author_ids: Vec::new(),
        }
    }
}

/// One emoji on a message: how many reacted and whether the caller did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReactionSummary {
    pub emoji: String,
    pub count: i64,
    pub reacted_by_me: bool,
}

/// Upload metadata (never the storage path).
#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    pub id: String,
    pub workspace_id: String,
    pub owner_id: String,
    pub filename: String,
    pub content_type: String,
    pub byte_size: i64,
    /// Pixels, for images (derived from the file's header when it parses, else what the
    /// client sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    /// Milliseconds, for audio and video, as the client sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    pub created_at: String,
}
