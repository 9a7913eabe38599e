//! Client mode of the `clickclack` binary: every command that is not server-side
//! (`login`, `send`, `messages list`, `events tail`, …) talks to a running server over HTTP
//! and WebSocket. Contract: reference §14.6–14.8, decisions §4, docs/agent-friendly-cli.md.
//!
//! - [`args`]: the clap definition (global flags before or after the command).
//! - [`config`]: the stored config (scoped to its server) and event-cursor files.
//! - [`http`]: [`http::Api`], JSON requests with credentials and error mapping.
//! - [`resolve`]: workspace and channel resolution (§14.8).
//! - [`chat`]: login, whoami, workspaces, channels, messages, threads, reactions, DMs,
//!   search, upload.
//! - [`events`]: `events tail` and `messages tail` (WebSocket or long-poll, resync, cursors).
//! - [`output`], [`error`] (stable exit codes), [`progress`] (indicatif, terminals only).

pub mod args;
pub mod chat;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod output;
pub mod progress;
pub mod resolve;

use args::{ClientCli, ClientCommand, GlobalArgs};
use clap::Parser;
use config::{normalize_server, same_server, StoredConfig, DEFAULT_SERVER};
use error::Result;
use http::Api;
use output::Mode;
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

/// Runs a client command line (`argv` without the program name) and returns its exit code.
pub fn main(argv: Vec<OsString>) -> ExitCode {
    let parsed =
        ClientCli::try_parse_from(std::iter::once(OsString::from("clickclack")).chain(argv));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(error::Exit::Unexpected.code());
        }
    };
    let outcome = runtime.block_on(run(cli));
    runtime.shutdown_timeout(Duration::from_millis(200));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.code.as_deref() == Some("stdout_closed") => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit.code())
        }
    }
}

/// A workspace or channel the caller asked for, and whether it was asked explicitly
/// (flag or env; explicit ones must resolve, stored defaults fall back with a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub value: String,
    pub explicit: bool,
}

/// Everything a command needs: the API client, the output mode, the selected server and
/// the stored config.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub api: Api,
    pub mode: Mode,
    /// The selected server, normalized.
    pub server: String,
    /// The stored config, whatever server it is for.
    pub stored: Option<StoredConfig>,
    /// Whether the stored config is for [`Ctx::server`].
    pub stored_applies: bool,
    pub workspace: Option<Wanted>,
    pub channel: Option<Wanted>,
}

impl Ctx {
    /// The stored config when it belongs to the selected server.
    pub fn stored_here(&self) -> Option<&StoredConfig> {
        self.stored.as_ref().filter(|_| self.stored_applies)
    }
}

/// A flag or env value with blanks treated as unset.
fn clean(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Builds the context from the global flags and the stored config. `login` and `logout`
/// pass `with_stored_auth = false`: they never send a stored token.
pub fn context(global: &GlobalArgs, with_stored_auth: bool) -> Result<Ctx> {
    let stored = StoredConfig::load()?;
    let server = clean(global.server.clone())
        .or_else(|| stored.as_ref().map(|s| s.server.clone()))
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SERVER.to_string());
    let server = normalize_server(&server);
    let stored_applies = stored
        .as_ref()
        .is_some_and(|s| same_server(&s.server, &server));
    let here = stored.as_ref().filter(|_| stored_applies);
    let user = clean(global.user.clone());
    let token = clean(global.token.clone()).or_else(|| {
        if with_stored_auth && user.is_none() {
            here.and_then(|s| s.token.clone())
        } else {
            None
        }
    });
    let wanted = |explicit: Option<String>, stored: Option<String>| {
        clean(explicit)
            .map(|value| Wanted {
                value,
                explicit: true,
            })
            .or_else(|| {
                clean(stored).map(|value| Wanted {
                    value,
                    explicit: false,
                })
            })
    };
    let workspace = wanted(
        global.workspace.clone(),
        here.and_then(|s| s.workspace.clone()),
    );
    let channel = wanted(global.channel.clone(), here.and_then(|s| s.channel.clone()));
    let mode = mode_of(global);
    let api = Api::new(&server, token, user, global.verbose == Some(true))?;
    Ok(Ctx {
        api,
        mode,
        server,
        stored,
        stored_applies,
        workspace,
        channel,
    })
}

/// Runs one parsed client command.
pub async fn run(cli: ClientCli) -> Result<()> {
    use args::{
        ChannelsCommand, DmsCommand, EventsCommand, MessagesCommand, ReactionsCommand,
        ThreadsCommand, WorkspacesCommand,
    };
    let global = cli.global;
    if let ClientCommand::Version = cli.command {
        return chat::version(mode_of(&global));
    }
    let with_stored_auth = !matches!(cli.command, ClientCommand::Login(_) | ClientCommand::Logout);
    let ctx = context(&global, with_stored_auth)?;
    match cli.command {
        ClientCommand::Version => unreachable!("handled above"),
        ClientCommand::Login(a) => chat::login(&ctx, a).await,
        ClientCommand::Logout => chat::logout(&ctx).await,
        ClientCommand::Whoami => chat::whoami(&ctx).await,
        ClientCommand::Status => chat::status(&ctx).await,
        ClientCommand::Workspaces { command } => match command.unwrap_or(WorkspacesCommand::List) {
            WorkspacesCommand::List => chat::workspaces_list(&ctx).await,
            WorkspacesCommand::Use { workspace } => chat::workspaces_use(&ctx, &workspace).await,
            WorkspacesCommand::Create { name, slug } => {
                chat::workspaces_create(&ctx, &name, slug.as_deref()).await
            }
        },
        ClientCommand::Channels { command } => match command.unwrap_or(ChannelsCommand::List) {
            ChannelsCommand::List => chat::channels_list(&ctx).await,
            ChannelsCommand::Use { channel } => chat::channels_use(&ctx, &channel).await,
            ChannelsCommand::Create { name, private } => {
                chat::channels_create(&ctx, &name, private == Some(true)).await
            }
        },
        ClientCommand::Send(a)
        | ClientCommand::Messages {
            command: MessagesCommand::Send(a),
        } => chat::send(&ctx, a).await,
        ClientCommand::Messages {
            command: MessagesCommand::List(a),
        } => chat::messages_list(&ctx, a).await,
        ClientCommand::Messages {
            command: MessagesCommand::Tail(a),
        } => events::messages_tail(&ctx, a).await,
        ClientCommand::Threads {
            command: ThreadsCommand::Open(a),
        } => chat::thread_open(&ctx, a).await,
        ClientCommand::Threads {
            command: ThreadsCommand::Reply(a),
        }
        | ClientCommand::Reply(a) => chat::thread_reply(&ctx, a).await,
        ClientCommand::Reactions {
            command: ReactionsCommand::Add(a),
        } => chat::react(&ctx, a, true).await,
        ClientCommand::Reactions {
            command: ReactionsCommand::Remove(a),
        } => chat::react(&ctx, a, false).await,
        ClientCommand::Dms { command } => match command.unwrap_or(DmsCommand::List) {
            DmsCommand::List => chat::dms_list(&ctx).await,
            DmsCommand::Send(a) => chat::dms_send(&ctx, a).await,
        },
        ClientCommand::Search(a) => chat::search(&ctx, a).await,
        ClientCommand::Events {
            command: EventsCommand::Tail(a),
        } => events::events_tail(&ctx, a).await,
        ClientCommand::Upload(a) => chat::upload(&ctx, a).await,
    }
}

fn mode_of(global: &GlobalArgs) -> Mode {
    if global.json == Some(true) {
        Mode::Json
    } else if global.plain == Some(true) {
        Mode::Plain
    } else {
        Mode::Human
    }
}
