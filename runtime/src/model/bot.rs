use super::User;
use serde::Serialize;

/// A bot user as listed for its workspace: the user fields plus its owner and home
/// workspace (`owner_user_id` is omitted for service bots).
#[derive(Debug, Clone, Serialize)]
pub struct Bot {
    #[serde(flatten)]
    pub user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_user_id: Option<String>,
    pub workspace_id: String,
}

/// A bot token's metadata; the raw `ccb_…` secret is only returned once, beside it.
#[derive(Debug, Clone, Serialize)]
pub struct BotToken {
    pub id: String,
    pub bot_user_id: String,
    pub workspace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_user_id: Option<String>,
    pub name: String,
    /// Granted scopes with bundles expanded, sorted.
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// One entry of a bot's command menu.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BotCommand {
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub usage: String,
}

/// A bot's whole command menu, as the composer lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CommandMenu {
    pub bot: User,
    pub commands: Vec<BotCommand>,
}
