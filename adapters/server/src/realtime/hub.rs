//! Per-workspace wake-ups: a lazily created `watch` of the newest event position. Entries
//! nobody listens to are dropped on the next subscribe.

use clickclack_runtime::notify::Notifier;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::sync::{watch, Notify};

/// Wakes WebSocket and long-poll waiters of a workspace.
#[derive(Default)]
pub struct Hub {
    workspaces: Mutex<HashMap<String, watch::Sender<i64>>>,
    shutdown: Notify,
    closing: std::sync::atomic::AtomicBool,
    sockets: AtomicUsize,
}

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    /// A receiver that changes whenever the workspace gets a newer event.
    pub fn subscribe(&self, workspace_id: &str) -> watch::Receiver<i64> {
        let mut map = self.workspaces.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, sender| sender.receiver_count() > 0);
        map.entry(workspace_id.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Wakes every waiter of a workspace. The value is a wake counter, not a position:
    /// waiters re-read the log (and the ephemeral table) from their own cursors.
    pub fn wake(&self, workspace_id: &str) {
        let map = self.workspaces.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = map.get(workspace_id) {
            sender.send_modify(|wakes| *wakes += 1);
        }
    }

    /// Asks every socket to close with 1001 (server going away).
    pub fn begin_shutdown(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
    }

    /// Resolves when shutdown begins.
    pub async fn shutting_down(&self) {
        let notified = self.shutdown.notified();
        if self.closing.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }

    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Open sockets (for metrics and tests).
    pub fn open_sockets(&self) -> usize {
        self.sockets.load(Ordering::Relaxed)
    }

    pub(crate) fn socket_opened(&self) {
        self.sockets.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn socket_closed(&self) {
        self.sockets.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Notifier for Hub {
    fn notify(&self, workspace_id: &str, _position: i64) {
        self.wake(workspace_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_only_the_right_workspace() {
        let hub = Hub::new();
        let mut a = hub.subscribe("wsp_a");
        let b = hub.subscribe("wsp_b");
        hub.notify("wsp_a", 5);
        a.changed().await.unwrap();
        assert!(!b.has_changed().unwrap());
        hub.notify("wsp_a", 0);
        assert!(
            a.has_changed().unwrap(),
            "every commit wakes, ephemeral ones included"
        );
    }
}
