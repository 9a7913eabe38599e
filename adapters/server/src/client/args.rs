//! The client-mode command line (clap derive). Global flags are accepted before the
//! command or on it; every boolean also takes `--flag=true|false`. Reference §14.6–14.8 and
//! docs/agent-friendly-cli.md.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The client env twins; an empty one counts as unset. Tests clear them.
pub const CLIENT_ENV: &[&str] = &[
    "CLICKCLACK_SERVER",
    "CLICKCLACK_TOKEN",
    "CLICKCLACK_USER_ID",
    "CLICKCLACK_WORKSPACE",
    "CLICKCLACK_CHANNEL",
];

/// The client commands and their aliases (`clickclack help <command>` is client help).
pub const CLIENT_COMMANDS: &[&str] = &[
    "login",
    "logout",
    "whoami",
    "status",
    "workspaces",
    "workspace",
    "channels",
    "channel",
    "send",
    "messages",
    "message",
    "threads",
    "thread",
    "reply",
    "reactions",
    "reaction",
    "dms",
    "dm",
    "search",
    "events",
    "upload",
];

/// ClickClack client: talk to a running server from scripts and agents.
#[derive(Debug, Parser)]
#[command(
    name = "clickclack",
    version,
    after_help = "Output: human text by default, --json for JSON on stdout, --plain for one stable \
field. Errors go to stderr as `error: …`.\nExit codes: 0 ok, 2 usage, 3 auth, 4 not found, \
5 forbidden, 10 network, 11 other.\nServer-side commands: clickclack serve|migrate|admin|backup|export \
--help. Full reference: docs/agent-friendly-cli.md."
)]
pub struct ClientCli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// Flags every client command accepts, before or after the command name.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Server base URL [default: the stored server, else http://localhost:8080]
    #[arg(long, global = true, env = "CLICKCLACK_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Session or bot token, sent as `Authorization: Bearer` [default: the stored token of
    /// the same server]
    #[arg(
        long,
        global = true,
        env = "CLICKCLACK_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Act as this user through dev auth (header `X-ClickClack-User`; dev servers only)
    #[arg(
        long = "user",
        visible_alias = "user-id",
        global = true,
        env = "CLICKCLACK_USER_ID",
        value_name = "usr_…"
    )]
    pub user: Option<String>,
    /// Workspace id, slug or name [default: the stored one, else the first visible]
    #[arg(
        long,
        global = true,
        env = "CLICKCLACK_WORKSPACE",
        value_name = "WORKSPACE"
    )]
    pub workspace: Option<String>,
    /// Channel id or name (`#` optional) [default: the stored one, else #general, else the first]
    #[arg(
        long,
        global = true,
        env = "CLICKCLACK_CHANNEL",
        value_name = "CHANNEL"
    )]
    pub channel: Option<String>,
    /// Print JSON on stdout
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub json: Option<bool>,
    /// Print one stable field (an id, a token) on stdout
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub plain: Option<bool>,
    /// Never prompt (the client never prompts; accepted for scripts)
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub no_input: Option<bool>,
    /// Log each HTTP request and its status on stderr (never tokens)
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub verbose: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Exchange a magic-link token (`admin magic-link create`) for a session and store it.
    Login(LoginArgs),
    /// Revoke the stored session on its server and delete the stored config.
    Logout,
    /// Show the signed-in user.
    Whoami,
    /// Show the server, the user and the resolved workspace and channel.
    Status,
    /// Print the version of this binary.
    Version,
    /// List, choose or create workspaces (default: list).
    #[command(visible_alias = "workspace")]
    Workspaces {
        #[command(subcommand)]
        command: Option<WorkspacesCommand>,
    },
    /// List, choose or create channels (default: list).
    #[command(visible_alias = "channel")]
    Channels {
        #[command(subcommand)]
        command: Option<ChannelsCommand>,
    },
    /// Send a message to the channel (same as `messages send`).
    Send(SendArgs),
    /// Send, list or follow channel messages.
    #[command(visible_alias = "message")]
    Messages {
        #[command(subcommand)]
        command: MessagesCommand,
    },
    /// Open a thread or reply in one.
    #[command(visible_alias = "thread")]
    Threads {
        #[command(subcommand)]
        command: ThreadsCommand,
    },
    /// Reply in a message's thread (same as `threads reply`).
    Reply(ReplyArgs),
    /// Add or remove an emoji reaction.
    #[command(visible_alias = "reaction")]
    Reactions {
        #[command(subcommand)]
        command: ReactionsCommand,
    },
    /// Direct messages (default: list).
    #[command(visible_alias = "dm")]
    Dms {
        #[command(subcommand)]
        command: Option<DmsCommand>,
    },
    /// Full-text search in the workspace.
    Search(SearchArgs),
    /// Follow the workspace event stream.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Upload a file to the workspace.
    Upload(UploadArgs),
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The `mgt_…` token from `clickclack admin magic-link create`.
    #[arg(long, value_name = "mgt_…")]
    pub magic_token: String,
    /// Store the session in the config file [default: true]
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub store: Option<bool>,
    /// Do not store the session (same as `--store=false`)
    #[arg(long)]
    pub no_store: bool,
}

#[derive(Debug, Subcommand)]
pub enum WorkspacesCommand {
    /// List the workspaces you belong to.
    List,
    /// Make a workspace the stored default for this server.
    Use {
        /// Workspace id, slug or name.
        workspace: String,
    },
    /// Create a workspace (you become its owner).
    Create {
        /// Display name.
        name: String,
        /// URL slug [default: from the name]
        #[arg(long)]
        slug: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChannelsCommand {
    /// List the channels of the workspace.
    List,
    /// Make a channel (and its workspace) the stored default for this server.
    Use {
        /// Channel id or name.
        channel: String,
    },
    /// Create a channel in the workspace.
    Create {
        /// Channel name (slugified by the server; `#` optional).
        name: String,
        /// Create a private channel
        #[arg(
            long,
            value_name = "BOOL",
            num_args = 0..=1,
            require_equals = true,
            default_missing_value = "true",
            action = ArgAction::Set,
            value_parser = BoolishValueParser::new(),
        )]
        private: Option<bool>,
    },
}

/// Where a message body comes from. Precedence: `--body` (non-blank) > `--file` >
/// `--stdin` > the remaining words.
#[derive(Debug, Clone, Default, Args)]
pub struct BodyArgs {
    /// Message text (wins over every other source)
    #[arg(long, value_name = "TEXT")]
    pub body: Option<String>,
    /// Read the message from a file (`-` reads standard input)
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Read the message from standard input
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub stdin: Option<bool>,
    /// Quote this message (`quoted_message_id`)
    #[arg(long, value_name = "msg_…")]
    pub reply_to: Option<String>,
    /// Idempotency key: a retry with the same nonce never posts twice [default: random]
    #[arg(long, value_name = "NONCE")]
    pub nonce: Option<String>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub body: BodyArgs,
    /// The message, as words joined by spaces (after `--` it may start with `-`).
    #[arg(value_name = "BODY")]
    pub words: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum MessagesCommand {
    /// Send a message to the channel.
    Send(SendArgs),
    /// List channel messages (thread roots), oldest first.
    List(MessagesListArgs),
    /// Print channel messages as they arrive.
    Tail(MessagesTailArgs),
}

#[derive(Debug, Args)]
pub struct MessagesListArgs {
    /// How many messages (the server caps it at 200)
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    /// Only messages after this channel sequence number (oldest first from there)
    #[arg(long, value_name = "SEQ")]
    pub after_seq: Option<i64>,
    /// Only messages before this channel sequence number
    #[arg(long, value_name = "SEQ", conflicts_with = "after_seq")]
    pub before_seq: Option<i64>,
}

/// How to follow events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// WebSocket when the server offers it (`/api/capabilities`), else long-poll.
    #[default]
    Auto,
    /// WebSocket `/api/realtime/ws`.
    Ws,
    /// Long-poll `/api/realtime/events?wait=25`.
    Poll,
}

/// Stop conditions and transport, shared by the followers.
#[derive(Debug, Clone, Default, Args)]
pub struct FollowArgs {
    /// Stop after this many seconds (exit 0) [default: run until interrupted]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// How to receive events
    #[arg(long, value_enum, default_value_t = Transport::Auto)]
    pub transport: Transport,
}

#[derive(Debug, Args)]
pub struct MessagesTailArgs {
    /// Stop after printing this many messages
    #[arg(long, visible_alias = "max-events", value_name = "N")]
    pub max_messages: Option<u64>,
    /// Also print thread replies in the channel
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub replies: Option<bool>,
    #[command(flatten)]
    pub follow: FollowArgs,
}

#[derive(Debug, Subcommand)]
pub enum ThreadsCommand {
    /// Show a thread: the root and its replies.
    Open(ThreadOpenArgs),
    /// Reply in a thread.
    Reply(ReplyArgs),
}

#[derive(Debug, Args)]
pub struct ThreadOpenArgs {
    /// The root message (or any reply in the thread).
    #[arg(value_name = "msg_…")]
    pub message: String,
    /// How many replies
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The thread's root message.
    #[arg(value_name = "msg_…")]
    pub message: String,
    #[command(flatten)]
    pub body: BodyArgs,
    /// The reply, as words joined by spaces.
    #[arg(value_name = "BODY")]
    pub words: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReactionsCommand {
    /// React to a message.
    Add(ReactArgs),
    /// Take your reaction back.
    Remove(ReactArgs),
}

#[derive(Debug, Args)]
pub struct ReactArgs {
    #[arg(value_name = "msg_…")]
    pub message: String,
    /// The emoji, e.g. 👍 or :tada:
    pub emoji: String,
}

#[derive(Debug, Subcommand)]
pub enum DmsCommand {
    /// List your open direct conversations in the workspace.
    List,
    /// Send a direct message (opens or reuses the 1:1 conversation).
    Send(DmSendArgs),
}

#[derive(Debug, Args)]
pub struct DmSendArgs {
    /// The recipient: `@handle`, handle, display name or `usr_…` id.
    #[arg(value_name = "USER")]
    pub to: String,
    #[command(flatten)]
    pub body: BodyArgs,
    /// The message, as words joined by spaces.
    #[arg(value_name = "BODY")]
    pub words: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query (words joined by spaces; the server's operators apply).
    #[arg(value_name = "QUERY", required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// How many results
    #[arg(long)]
    pub limit: Option<i64>,
    /// `relevance` or `newest`
    #[arg(long)]
    pub sort: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print workspace events as JSON lines, resuming from the stored cursor.
    Tail(EventsTailArgs),
}

#[derive(Debug, Args)]
pub struct EventsTailArgs {
    /// Start from the beginning of the log instead of the stored cursor (or the tail)
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub from_start: Option<bool>,
    /// Stop after printing this many events
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// Also print ephemeral events (typing, presence, progress; never stored)
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub ephemeral: Option<bool>,
    #[command(flatten)]
    pub follow: FollowArgs,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The file to upload.
    pub file: PathBuf,
}
