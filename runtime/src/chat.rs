//! Use cases. Every method takes the calling [`Actor`], validates input, authorizes inside
//! the runtime (so every host enforces the same rules), writes through the group-commit
//! writer and returns wire models. One file per resource.

mod access;
mod auth;
mod bots;
mod channels;
mod dms;
mod hooks;
mod mentions;
mod messages;
mod oauth;
mod pins;
mod reactions;
mod reads;
mod realtime;
mod search;
mod threads;
mod uploads;
pub mod webhooks;
mod workspaces;

pub use auth::{BootstrapResult, ConsumedMagicLink};
pub use bots::{
    clean_commands, expand_scopes, scopes, BotGrant, CreatedBot, MintedToken, NewBot, MAX_COMMANDS,
};
pub use channels::ChannelPatch;
pub use dms::{OpenedConversation, MAX_DM_MEMBERS};
pub use messages::{MessagePage, NewPost, PageQuery, Posted};
pub use oauth::DEFAULT_WORKSPACE_SLUG;
pub use pins::MAX_PINS;
pub use reactions::ReactionChange;
pub use reads::ReadMarked;
pub use realtime::{EphemeralInput, EventPage, EPHEMERAL_TYPES};
pub use search::{
    parse_query, Highlight, ParsedQuery, SearchPage, SearchQuery, SearchResult, Term,
};
pub use threads::{Thread, ThreadQuery, ThreadReply};
pub use uploads::{
    clean_filename, content_disposition, is_inline, safe_content_type, Attached, CreatedUpload,
    NewUpload, PresignedUpload, SweepFailure, SweepPolicy, SweepReason, SweepReport, SweptUpload,
    UploadDetails, UploadDownload, UploadDraft, UploadExtras, UploadStart,
    DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_ORPHAN_GRACE, DEFAULT_PENDING_GRACE,
    DEFAULT_UPLOAD_QUOTA_BYTES, MAX_UPLOADS_PER_MESSAGE, OCTET_STREAM,
};
pub use webhooks::{NewWebhook, WebhookPatch, WebhookPolicy};
pub use workspaces::MemberPage;

use crate::model::User;
use crate::store::Store;
use crate::uploads::UploadStore;
use std::sync::Arc;

/// Who is calling: a resolved user, and what its bot token grants when it called with one.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    /// Set for callers authenticated by a `ccb_…` token (reference §21.12).
    pub bot: Option<BotGrant>,
}

impl Actor {
    pub fn new(user: User) -> Self {
        Self { user, bot: None }
    }
    /// A bot user calling with a token.
    pub fn with_bot(user: User, grant: BotGrant) -> Self {
        Self {
            user,
            bot: Some(grant),
        }
    }
    pub fn id(&self) -> &str {
        &self.user.id
    }
    /// 403 `bot token is missing scope <scope>` for a bot token without `scope`; callers
    /// without a bot token pass.
    pub fn require(&self, scope: &str) -> crate::Result<()> {
        match &self.bot {
            Some(grant) if !grant.has(scope) => Err(crate::Error::forbidden(
                "missing_scope",
                format!("bot token is missing scope {scope}"),
            )),
            _ => Ok(()),
        }
    }
    /// Who reads the event log: this user, seeing direct-message events unless this is a
    /// bot token without `dms:read`.
    pub fn viewer(&self) -> crate::store::events::Viewer<'_> {
        crate::store::events::Viewer {
            user_id: self.id(),
            sees_dms: self.require(bots::scopes::DMS_READ).is_ok(),
        }
    }
    /// 403 `bot token cannot access this workspace` for a bot token bound elsewhere.
    pub fn require_workspace(&self, workspace_id: &str) -> crate::Result<()> {
        match &self.bot {
            Some(grant) if grant.workspace_id != workspace_id.trim() => {
                Err(bots::other_workspace())
            }
            _ => Ok(()),
        }
    }
}

/// Tunables of the use cases.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    pub session_ttl: chrono::Duration,
    pub magic_link_ttl: chrono::Duration,
    /// Longest message body in characters.
    pub max_body_chars: usize,
    /// Hard cap of one upload in bytes (413 `upload_too_large`).
    pub max_upload_bytes: u64,
    /// Bytes one user may keep uploaded in one workspace (413 `upload_quota_exceeded`).
    pub upload_quota_bytes: u64,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::days(30),
            magic_link_ttl: chrono::Duration::minutes(15),
            max_body_chars: 40_000,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            upload_quota_bytes: DEFAULT_UPLOAD_QUOTA_BYTES,
        }
    }
}

/// The application: a store, an optional upload store, and configuration. Cheap to clone.
#[derive(Clone)]
pub struct Chat {
    store: Store,
    config: Arc<ChatConfig>,
    uploads: Option<UploadStore>,
}

impl Chat {
    pub fn new(store: Store, config: ChatConfig) -> Self {
        Self {
            store,
            config: Arc::new(config),
            uploads: None,
        }
    }

    /// Stores upload bytes in `uploads`; without one, upload routes answer 503
    /// `uploads_unconfigured`.
    pub fn with_uploads(mut self, uploads: UploadStore) -> Self {
        self.uploads = Some(uploads);
        self
    }

    /// The upload store, when configured.
    pub fn uploads(&self) -> Option<&UploadStore> {
        self.uploads.as_ref()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &ChatConfig {
        &self.config
    }
}

/// Clamp a requested page size: missing or ≤ 0 → `default`, above `max` → `max`.
pub fn clamp_limit(limit: Option<i64>, default: i64, max: i64) -> i64 {
    match limit {
        Some(l) if l > 0 => l.min(max),
        _ => default,
    }
}
