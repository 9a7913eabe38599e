//! Runtime integration tests: real libSQL on temp files, through the `Chat` use cases.

mod common;
mod messages;
mod store;

pub use common::*;
