//! # clickclack-runtime
//!
//! Everything ClickClack knows without HTTP: the domain, the libSQL store, the event log,
//! and the use cases that enforce who may do what. Both hosts (the `clickclack` server and
//! the Lambda `bootstrap`) run exactly this code through `clickclack-handlers`.
//!
//! Where things live:
//! - [`ids`], [`clock`]: prefixed ULIDs, secrets and their hashes, slugs; RFC 3339 timestamps.
//! - [`model`]: the wire shapes (serde) of users, workspaces, channels, messages, events, ….
//! - [`store`]: opening a database by URL, embedded migrations, the group-commit writer
//!   ([`store::Store::write`]), pooled readers, and SQL grouped by aggregate
//!   (`store/messages.rs`, `store/events.rs`, …).
//! - [`chat`]: use cases on [`chat::Chat`] — validate → authorize → write → notify. New
//!   behaviour goes here, one file per resource (`chat/messages.rs`, `chat/threads.rs`, …).
//! - [`uploads`]: the object store behind uploads, chosen by URL (`file://`, `s3://`,
//!   `memory://`); the upload use cases are in `chat/uploads.rs`.
//! - [`notify`]: the [`notify::Notifier`] that writes call after commit (the server's hub).
//! - [`error`]: the one [`Error`] type; handlers map its [`ErrorKind`] to HTTP in one place.

pub mod chat;
pub mod clock;
pub mod error;
pub mod ids;
pub mod model;
pub mod notify;
pub mod store;
pub mod uploads;

pub use error::{Error, ErrorKind, Result};
