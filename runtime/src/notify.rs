//! The wake-up hook that writes call after commit. Waking is an optimisation: waiters always
//! re-read the event log from their own cursor, so a lost notification loses nothing.

use std::sync::Arc;

/// Called by the writer after a batch commits, once per workspace that got events, with the
/// newest event position of that workspace in the batch.
pub trait Notifier: Send + Sync + 'static {
    fn notify(&self, workspace_id: &str, position: i64);
}

/// Does nothing (Lambda, CLI commands).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopNotifier;

impl Notifier for NoopNotifier {
    fn notify(&self, _workspace_id: &str, _position: i64) {}
}

/// Shared handle to a notifier.
pub type SharedNotifier = Arc<dyn Notifier>;
