use super::User;
use serde::Serialize;

/// A direct conversation (1:1 or group) with its members ordered by display name.
#[derive(Debug, Clone, Serialize)]
pub struct DirectConversation {
    pub id: String,
    pub workspace_id: String,
    pub created_at: String,
    pub members: Vec<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
    /// True when the caller closed (hid) the conversation.
    #[serde(skip_serializing_if = "super::is_false")]
    pub closed: bool,
}

/// A read pointer of one user in one channel or conversation.
#[derive(Debug, Clone, Serialize)]
pub struct ReadReceipt {
    pub scope_id: String,
    pub user_id: String,
    pub last_read_seq: i64,
    pub last_read_at: String,
}
