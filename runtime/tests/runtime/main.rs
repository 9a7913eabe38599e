//! Runtime integration tests: real libSQL on temp files, through the `Chat` use cases.

mod common;
mod dms;
mod libsql_modes;
mod messages;
mod pins;
mod reactions;
mod reads;
mod search;
mod store;
mod threads;
mod uploads;

pub use common::*;
