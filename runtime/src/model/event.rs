use serde::Serialize;

/// A realtime event (durable, or ephemeral with an empty cursor).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub id: String,
    pub cursor: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub workspace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    pub created_at: String,
    pub payload: serde_json::Value,
}
