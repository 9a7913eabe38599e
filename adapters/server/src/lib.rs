//! # clickclack (the server binary)
//!
//! The `clickclack` command: the long-lived host of the ClickClack app. It parses the
//! command line, resolves settings and runs one command; the HTTP app itself is
//! `clickclack_handlers::router()` and the domain is `clickclack_runtime`.
//!
//! Where things live:
//! - [`cli`]: the clap definition (commands, flags and their `CLICKCLACK_*` env twins).
//!   New flags go there, and into [`config`] if they have a JSON key.
//! - [`config`]: settings precedence — defaults → JSON file → env → explicit flags.
//! - [`commands`]: [`commands::dispatch`] (exit codes, logging to stderr) and one module per
//!   command: [`commands::serve`] (with the testable [`commands::serve::run`] entry point
//!   taking a listener and a shutdown future), [`commands::migrate`], [`commands::admin`],
//!   [`commands::backup`], [`commands::export`], [`commands::webhooks`] (`webhooks deliver`;
//!   `serve` runs the same outgoing-webhook worker, `clickclack_handlers::outgoing`, as a
//!   background task). New commands get a module there and a variant in [`cli::Command`].
//! - [`error`]: [`error::CliError`], usage (exit 2) or failure (exit 1).
//! - [`client`]: client mode — every command that is not server-side (`login`, `send`,
//!   `messages list`, `events tail`, …) talks to a running server over HTTP/WebSocket with
//!   stable exit codes (2 usage, 3 auth, 4 not found, 5 forbidden, 10 network, 11 other).
//!   [`cli::Cli::parse_args`] applies the dispatch rule; client flags live in
//!   [`client::args`]. Operator/agent docs: `docs/agent-friendly-cli.md`.
//! - [`realtime`]: the server-only realtime parts — the wake-up [`realtime::Hub`], the
//!   [`realtime::tailer`] for events written by other processes, and the WebSocket endpoint
//!   [`realtime::ws`].
//!
//! Backup and export work on the database through `clickclack_runtime::store::backup`.
//! Documentation for operators: `docs/cli.md`, `docs/configuration.md`.

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod error;
pub mod realtime;
