//! Notices events that other processes wrote to the same database (a second `serve`, an
//! admin command), durable or ephemeral, and wakes local waiters for them.

use super::Hub;
use clickclack_runtime::store::{ephemeral, events, Store};
use std::sync::Arc;
use std::time::Duration;

/// How often the tailer looks for foreign events.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// Polls the event log until the hub shuts down.
pub async fn run(store: Store, hub: Arc<Hub>) {
    let (mut last, mut last_ephemeral) = match store.reader().await {
        Ok(conn) => (
            events::max_position(&conn).await.unwrap_or(0),
            ephemeral::max_seq(&conn).await.unwrap_or(0),
        ),
        Err(_) => (0, 0),
    };
    let mut ticker = tokio::time::interval(INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = hub.shutting_down() => return,
            _ = ticker.tick() => {}
        }
        let Ok(conn) = store.reader().await else {
            continue;
        };
        match events::newest_by_workspace(&conn, last).await {
            Ok(newest) => {
                for (workspace_id, position) in newest {
                    hub.wake(&workspace_id);
                    last = last.max(position);
                }
            }
            Err(e) => tracing::warn!(error = %e, "event tailer read failed"),
        }
        match ephemeral::newest_by_workspace(&conn, last_ephemeral).await {
            Ok(newest) => {
                for (workspace_id, seq) in newest {
                    hub.wake(&workspace_id);
                    last_ephemeral = last_ephemeral.max(seq);
                }
            }
            Err(e) => tracing::warn!(error = %e, "ephemeral tailer read failed"),
        }
    }
}
