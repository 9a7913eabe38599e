//! Per-workspace rooms. A commit (or the tailer) wakes a room; the room's single reader task
//! then reads the new part of the log **once** and broadcasts it as a [`Batch`] to the
//! room's sockets, which filter it per user. The log stays the truth: a socket that lags
//! or sees a gap re-reads the log from its own cursor. Rooms nobody listens to are dropped.
//! Each event is serialized once per batch; sockets share the frame bytes.

use axum::extract::ws::Utf8Bytes;
use clickclack_runtime::chat::Chat;
use clickclack_runtime::model::Event;
use clickclack_runtime::notify::Notifier;
use clickclack_runtime::store::events::LoggedEvent;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};

/// The new part of a workspace's log, read once for every socket of the room.
#[derive(Debug)]
pub struct Batch {
    /// Events are exactly those with `after < position <= until`.
    pub after: i64,
    pub until: i64,
    pub events: Vec<Shared<LoggedEvent>>,
    /// Ephemeral events with `ephemeral_after < seq`.
    pub ephemeral_after: i64,
    pub ephemeral: Vec<Shared<Fleeting>>,
}

/// An unexpired ephemeral event: its sequence, the event and its recipients (`None` =
/// everyone who may see the workspace).
pub type Fleeting = (i64, Event, Option<Vec<String>>);

/// An event with its JSON frame, serialized once for every socket of the room.
#[derive(Debug)]
pub struct Shared<T> {
    pub item: T,
    pub frame: Utf8Bytes,
}

impl Shared<LoggedEvent> {
    fn logged(item: LoggedEvent) -> Option<Self> {
        let frame = serde_json::to_string(&item.event).ok()?.into();
        Some(Self { item, frame })
    }
}

impl Shared<Fleeting> {
    fn fleeting(item: Fleeting) -> Option<Self> {
        let frame = serde_json::to_string(&item.1).ok()?.into();
        Some(Self { item, frame })
    }
}

const BATCHES: usize = 256;
const READ_LIMIT: i64 = 1_000;

struct Room {
    wake: watch::Sender<u64>,
    batches: broadcast::Sender<Arc<Batch>>,
}

/// Wakes WebSocket waiters of a workspace and fans the log out to them.
#[derive(Default)]
pub struct Hub {
    rooms: Mutex<HashMap<String, Room>>,
    chat: OnceLock<Chat>,
    shutdown: Notify,
    closing: AtomicBool,
    sockets: AtomicUsize,
    ping_every: Option<Duration>,
}

/// How often sockets are pinged (and their access re-checked) unless configured.
pub const DEFAULT_PING_EVERY: Duration = Duration::from_secs(30);

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the ping (and access re-check) interval of the sockets.
    pub fn with_ping_every(mut self, every: Duration) -> Self {
        self.ping_every = Some(every);
        self
    }

    pub fn ping_every(&self) -> Duration {
        self.ping_every.unwrap_or(DEFAULT_PING_EVERY)
    }

    /// Gives the hub the app to read the log with (set once, before serving).
    pub fn attach(&self, chat: Chat) {
        let _ = self.chat.set(chat);
    }

    /// Subscribes to a workspace's batches, creating the room (and its reader) if needed.
    pub fn subscribe(self: &Arc<Self>, workspace_id: &str) -> broadcast::Receiver<Arc<Batch>> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        rooms.retain(|_, room| room.batches.receiver_count() > 0);
        if let Some(room) = rooms.get(workspace_id) {
            return room.batches.subscribe();
        }
        let (wake, woken) = watch::channel(0);
        let (batches, receiver) = broadcast::channel(BATCHES);
        if let Some(chat) = self.chat.get() {
            tokio::spawn(read_room(
                chat.clone(),
                workspace_id.to_string(),
                woken,
                batches.clone(),
            ));
        }
        rooms.insert(workspace_id.to_string(), Room { wake, batches });
        receiver
    }

    /// Wakes a workspace's reader (a commit or the tailer saw new events there).
    pub fn wake(&self, workspace_id: &str) {
        let rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(room) = rooms.get(workspace_id) {
            room.wake.send_modify(|wakes| *wakes += 1);
        }
    }

    /// Asks every socket to close with 1001 (server going away).
    pub fn begin_shutdown(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
        self.rooms.lock().unwrap_or_else(|p| p.into_inner()).clear();
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

/// The room's reader: on every wake, read what is new once and broadcast it. Ends when the
/// room is dropped (its wake sender goes away).
async fn read_room(
    chat: Chat,
    workspace_id: String,
    mut woken: watch::Receiver<u64>,
    batches: broadcast::Sender<Arc<Batch>>,
) {
    let mut position = chat.log_position().await.unwrap_or(0);
    let mut ephemeral = chat.ephemeral_seq().await.unwrap_or(0);
    while woken.changed().await.is_ok() {
        loop {
            let read = chat
                .fanout_read(&workspace_id, position, ephemeral, READ_LIMIT)
                .await;
            let Ok((events, fleeting)) = read else {
                tracing::warn!(%workspace_id, "fan-out read failed; sockets will re-read the log");
                break;
            };
            if events.is_empty() && fleeting.is_empty() {
                break;
            }
            let full = events.len() as i64 == READ_LIMIT;
            let until = events.last().map_or(position, |e| e.position);
            let ephemeral_until = fleeting.last().map_or(ephemeral, |e| e.0);
            let batch = Batch {
                after: position,
                until,
                events: events.into_iter().filter_map(Shared::logged).collect(),
                ephemeral_after: ephemeral,
                ephemeral: fleeting.into_iter().filter_map(Shared::fleeting).collect(),
            };
            position = until;
            ephemeral = ephemeral_until;
            if batches.send(Arc::new(batch)).is_err() {
                return;
            }
            if !full {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rooms_without_listeners_are_dropped() {
        let hub = Arc::new(Hub::new());
        let a = hub.subscribe("wsp_a");
        drop(a);
        let _b = hub.subscribe("wsp_b");
        assert_eq!(hub.rooms.lock().unwrap().len(), 1);
        hub.wake("wsp_missing");
    }
}
