use serde::Serialize;

/// A session; `token` is the raw secret and only known right after creation.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: String,
    pub token: String,
    pub user_id: String,
    pub created_at: String,
    pub expires_at: String,
}

/// A magic link as returned when it is created (with its raw token).
#[derive(Debug, Clone, Serialize)]
pub struct MagicLink {
    pub id: String,
    pub token: String,
    pub email: String,
    pub display_name: String,
    pub created_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_at: Option<String>,
}

/// A workspace invite as returned when it is created (with its raw token).
#[derive(Debug, Clone, Serialize)]
pub struct Invite {
    pub id: String,
    pub workspace_id: String,
    pub token: String,
    pub created_by: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
}
