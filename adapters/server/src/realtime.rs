//! Server-only realtime: the [`hub::Hub`] that wakes waiters after commits, the
//! [`tailer`] that notices events written by other processes on the same database, and the
//! WebSocket endpoint [`ws`]. The hub only wakes; every waiter re-reads the durable log
//! from its own cursor, so a lost wake-up never loses an event.

pub mod hub;
pub mod tailer;
pub mod ws;

pub use hub::Hub;
