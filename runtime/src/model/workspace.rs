use serde::Serialize;

/// A person or bot. `handle` is omitted when unset.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: String,
    pub display_name: String,
    pub avatar_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub handle: String,
    pub kind: String,
    pub created_at: String,
}

/// A workspace; `role` is the caller's role when listed for a caller.
#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// One row of the workspace member directory.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub workspace_id: String,
    pub user: User,
    pub role: String,
    pub joined_at: String,
}

/// A channel. The read fields are present in listings for the caller.
#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub kind: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
}
