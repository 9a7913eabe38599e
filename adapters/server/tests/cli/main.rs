//! CLI tests: they run the built `clickclack` binary (and `serve::run` in-process) against
//! temp data directories. Helpers live in `common.rs`.

mod admin;
mod client;
mod common;
mod dump;
mod durability;
mod parse;
mod serve;
mod uploads;
mod webhooks;
mod ws;
