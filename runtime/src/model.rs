//! Wire models: the JSON shapes of the ClickClack contract (reference §4.7, §21). Field
//! order is the emitted order; optional fields are omitted when empty.

mod auth;
mod bot;
mod conversation;
mod event;
mod message;
mod webhook;
mod workspace;

pub use auth::{Invite, MagicLink, Session};
pub use bot::{Bot, BotCommand, BotToken, CommandMenu};
pub use conversation::{DirectConversation, ReadReceipt};
pub use event::Event;
pub use message::{Message, ReactionSummary, ThreadState, Upload};
pub use webhook::{Webhook, WebhookAttempt, WebhookDelivery};
pub use workspace::{Channel, Member, User, Workspace};

pub(crate) fn is_false(v: &bool) -> bool {
    !*v
}
