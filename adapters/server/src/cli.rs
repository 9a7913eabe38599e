//! The command-line definition (clap derive). Parsing only: values stay `Option`s here so
//! [`crate::config`] can layer them over the JSON file (defaults → file → env → flags).
//! Every setting is a flag with an env twin; clap resolves flag-over-env, which is exactly
//! the upper half of that order.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// The server-side commands; any other first word is a client command (see
/// [`crate::client`]).
pub const SERVER_COMMANDS: &[&str] = &[
    "serve", "migrate", "admin", "backup", "export", "version", "webhooks",
];

/// ClickClack: a realtime team chat server.
///
/// With no command, runs `serve`.
#[derive(Debug, Parser)]
#[command(
    name = "clickclack",
    version,
    propagate_version = true,
    after_help = "Client commands (talk to a running server; `clickclack <command> --help`):\n  \
login, logout, whoami, status, workspaces, channels, send, messages, threads, reply,\n  \
reactions, dms, search, events, upload\nGlobal client flags: --server --token --user --workspace \
--channel --json --plain --no-input --verbose (docs/agent-friendly-cli.md)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default when no command is given).
    Serve(ServeArgs),
    /// Create the data directory and apply pending database migrations.
    Migrate(StoreArgs),
    /// Administer the database directly; safe while `serve` runs on it.
    Admin(AdminArgs),
    /// Write a consistent copy of the live database to a new file.
    Backup(BackupArgs),
    /// Write every table as one JSON object (secrets redacted).
    Export(ExportArgs),
    /// Print the version of this binary.
    Version(VersionArgs),
    /// Outgoing event webhooks: send queued deliveries (docs/webhooks.md).
    Webhooks(WebhooksArgs),
    /// Client mode: any other command (`login`, `send`, `events tail`, …), parsed by
    /// [`crate::client::args::ClientCli`]. Holds the arguments after the program name.
    #[command(external_subcommand)]
    Client(Vec<OsString>),
}

#[derive(Debug, Clone, Default, Args)]
pub struct VersionArgs {
    /// Print `{"version": "…"}`
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub json: Option<bool>,
    /// Print only the version number
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub plain: Option<bool>,
}

/// Where the database is; accepted by every server-side command.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// Data directory (database, uploads) [default: ./data]
    #[arg(long, env = "CLICKCLACK_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database: a path, `file:` or `sqlite://` URL, or a remote libSQL server
    /// (`libsql://`, `https://`) [default: DATA/clickclack.db]
    #[arg(long, env = "CLICKCLACK_DB", value_name = "PATH|URL")]
    pub db: Option<String>,
    /// Token for a remote libSQL server or a replica's primary
    #[arg(
        long,
        env = "CLICKCLACK_DB_AUTH_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub db_auth_token: Option<String>,
    /// Primary to replicate from: makes `--db` (a local path) an embedded replica
    #[arg(long, env = "CLICKCLACK_DB_SYNC_URL", value_name = "URL")]
    pub db_sync_url: Option<String>,
    /// Seconds between an embedded replica's background syncs [default: 1]
    #[arg(long, env = "CLICKCLACK_DB_SYNC_INTERVAL", value_name = "SECONDS")]
    pub db_sync_interval: Option<f64>,
    /// JSON configuration file (keys as in docs/configuration.md, e.g. addr, data, db, dev_bootstrap, uploads)
    #[arg(long, env = "CLICKCLACK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `PRAGMA synchronous` of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncArg {
    /// An acknowledged write survives power loss.
    Full,
    /// An acknowledged write survives a process crash, not power loss.
    Normal,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Listen address `[HOST]:PORT`; `:8080` means all interfaces [default: :8080]
    #[arg(long, env = "CLICKCLACK_ADDR", value_name = "[HOST]:PORT")]
    pub addr: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Seed a dev workspace and allow dev auth from loopback [default: true].
    /// Accepts `--dev-bootstrap`, `--dev-bootstrap=false`, `--dev-bootstrap=true`.
    #[arg(
        long,
        env = "CLICKCLACK_DEV_BOOTSTRAP",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub dev_bootstrap: Option<bool>,
    /// Canonical public origin, e.g. `https://chat.example.com`
    #[arg(long, env = "CLICKCLACK_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Durability of the write-ahead log [default: full]
    #[arg(long, env = "CLICKCLACK_SYNC", value_enum, ignore_case = true)]
    pub sync: Option<SyncArg>,
    /// Upload storage: `file://DIR`, `s3://bucket/prefix` or `memory://`
    /// [default: file://DATA/uploads]
    #[arg(long, env = "CLICKCLACK_UPLOADS", value_name = "URL")]
    pub uploads: Option<String>,
    /// Largest upload in bytes (413 above it) [default: 67108864 = 64 MiB]
    #[arg(long, env = "CLICKCLACK_MAX_UPLOAD_BYTES", value_name = "BYTES")]
    pub max_upload_bytes: Option<u64>,
    /// Bytes one user may keep uploaded per workspace [default: 1073741824 = 1 GiB]
    #[arg(long, env = "CLICKCLACK_UPLOAD_QUOTA_BYTES", value_name = "BYTES")]
    pub upload_quota_bytes: Option<u64>,
    /// Serve Prometheus metrics at /metrics [default: false]
    #[arg(
        long,
        env = "CLICKCLACK_METRICS_ENABLED",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub metrics_enabled: Option<bool>,
    /// Unsafe requests per caller per minute (429 above it) [default: unlimited]
    #[arg(
        long,
        env = "CLICKCLACK_RATE_LIMIT_WRITES_PER_MINUTE",
        value_name = "N"
    )]
    pub rate_limit_writes_per_minute: Option<u32>,
    /// `/api/auth/*` requests per caller per minute [default: unlimited]
    #[arg(long, env = "CLICKCLACK_RATE_LIMIT_AUTH_PER_MINUTE", value_name = "N")]
    pub rate_limit_auth_per_minute: Option<u32>,
    /// Seconds between WebSocket pings; each ping also re-checks the socket's credential
    /// and workspace membership [default: 30]
    #[arg(long, env = "CLICKCLACK_WS_PING_SECONDS", value_name = "SECONDS")]
    pub ws_ping_seconds: Option<u64>,
    /// Log lines on stderr: `text` or `json` (one object per line) [default: text]
    #[arg(long, env = "CLICKCLACK_LOG_FORMAT", value_enum, ignore_case = true)]
    pub log_format: Option<LogFormat>,
    /// Run the outgoing-webhook worker inside serve [default: true]
    #[arg(
        long,
        env = "CLICKCLACK_WEBHOOKS_WORKER",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub webhooks_worker: Option<bool>,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    /// GitHub OAuth (environment only, so the secret never shows in `ps`).
    #[arg(skip = env_setting("CLICKCLACK_GITHUB_CLIENT_ID"))]
    pub github_client_id: Option<String>,
    #[arg(skip = env_setting("CLICKCLACK_GITHUB_CLIENT_SECRET"))]
    pub github_client_secret: Option<String>,
    #[arg(skip = env_setting("CLICKCLACK_GITHUB_ALLOWED_ORG"))]
    pub github_allowed_org: Option<String>,
}

/// A non-blank environment variable.
fn env_setting(key: &str) -> Option<String> {
    std::env::var(key)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: Option<AdminCommand>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the first user, workspace `ClickClack` and #general (idempotent); prints the user id.
    Bootstrap(BootstrapArgs),
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Workspace invites.
    Invite {
        #[command(subcommand)]
        command: InviteCommand,
    },
    /// Magic sign-in links.
    #[command(name = "magic-link")]
    MagicLink {
        #[command(subcommand)]
        command: MagicLinkCommand,
    },
    /// The durable event log.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Bots and their `ccb_…` tokens.
    Bot {
        #[command(subcommand)]
        command: AdminBotCommand,
    },
    /// Upload files: sweep expired, orphaned and deleted ones.
    Uploads {
        #[command(subcommand)]
        command: crate::commands::uploads::UploadsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminBotCommand {
    /// Create a bot user (role `bot`) with a first token; prints JSON
    /// `{bot, bot_token, token}`, or only the raw token with `--plain`.
    Create(BotCreateArgs),
}

#[derive(Debug, Args)]
pub struct BotCreateArgs {
    /// The workspace the bot joins (its tokens are bound to it).
    #[arg(long, value_name = "wsp_…")]
    pub workspace: String,
    /// The acting user; must be an owner of the workspace.
    #[arg(long, value_name = "usr_…")]
    pub created_by: String,
    /// The owning user (a member); omitted → a service bot.
    #[arg(long, value_name = "usr_…")]
    pub owner: Option<String>,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Handle (2–32 of `a-z0-9_-`, `@` optional), unique.
    #[arg(long)]
    pub handle: String,
    /// Avatar URL (http or https).
    #[arg(long)]
    pub avatar_url: Option<String>,
    /// Name of the first token.
    #[arg(long, default_value = "default")]
    pub token_name: String,
    /// Scopes and bundles, comma-separated (`bot:read`, `bot:write`, `bot:admin`,
    /// `messages:write`, …).
    #[arg(long, default_value = "bot:write")]
    pub scopes: String,
    /// Print only the raw token.
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// Print `{bot, bot_token, token}` as JSON (the default).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Delete old events of a workspace (clients behind the pruned range resync); prints
    /// how many were removed. Needs at least one bound; several bounds must all hold.
    Prune(EventsPruneArgs),
}

#[derive(Debug, Args)]
pub struct EventsPruneArgs {
    /// The workspace whose events to prune.
    #[arg(long, value_name = "wsp_…")]
    pub workspace: String,
    /// Only events older than this many days.
    #[arg(long, value_name = "N")]
    pub older_than_days: Option<u32>,
    /// Only events created before this RFC 3339 time.
    #[arg(long, value_name = "RFC3339")]
    pub before: Option<String>,
    /// Always keep the newest N events of the workspace.
    #[arg(long, value_name = "N")]
    pub keep_latest: Option<u32>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Display name of the first user.
    #[arg(long, default_value = "Owner")]
    pub name: String,
    /// Email of the first user (local identity).
    #[arg(long, default_value = "")]
    pub email: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints the new `usr_…` id. A duplicate email fails.
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    /// Display name.
    #[arg(long, default_value = "Local User")]
    pub name: String,
    /// Email (local identity); must be unique.
    #[arg(long)]
    pub email: String,
    /// Add the user to this workspace as a member.
    #[arg(long, value_name = "wsp_…")]
    pub workspace: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Create an invite by the first user; prints the `tok_…` token.
    Create(InviteCreateArgs),
}

#[derive(Debug, Args)]
pub struct InviteCreateArgs {
    /// The workspace to invite to.
    #[arg(long, value_name = "wsp_…")]
    pub workspace: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum MagicLinkCommand {
    /// Create a 15-minute magic link; prints the `mgt_…` token.
    Create(MagicLinkCreateArgs),
}

#[derive(Debug, Args)]
pub struct MagicLinkCreateArgs {
    /// Email to sign in as (the user is created on first use).
    #[arg(long)]
    pub email: String,
    /// Display name for a user created on first use.
    #[arg(long, default_value = "")]
    pub name: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to create; it must not exist.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output file, or `-` for stdout.
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    pub out: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The settings env twins; an empty one counts as unset.
pub const SETTINGS_ENV: &[&str] = &[
    "CLICKCLACK_ADDR",
    "CLICKCLACK_DATA",
    "CLICKCLACK_DB",
    "CLICKCLACK_CONFIG",
    "CLICKCLACK_DEV_BOOTSTRAP",
    "CLICKCLACK_PUBLIC_URL",
    "CLICKCLACK_SYNC",
    "CLICKCLACK_METRICS_ENABLED",
    "CLICKCLACK_RATE_LIMIT_WRITES_PER_MINUTE",
    "CLICKCLACK_RATE_LIMIT_AUTH_PER_MINUTE",
    "CLICKCLACK_LOG_FORMAT",
    "CLICKCLACK_WEBHOOKS_WORKER",
    "CLICKCLACK_WEBHOOK_RETRY_SCHEDULE",
    "CLICKCLACK_WEBHOOK_TIMEOUT_SECONDS",
    "CLICKCLACK_WEBHOOK_ALLOW_PRIVATE_TARGETS",
];

impl Cli {
    /// Parses the process arguments (exiting with 2 on a usage error), treating an empty
    /// `CLICKCLACK_*` setting as unset. Call from `main` before any thread starts: it
    /// edits the process environment.
    pub fn parse_process() -> Cli {
        for var in SETTINGS_ENV {
            if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
                std::env::remove_var(var);
            }
        }
        Cli::parse_args(std::env::args_os().collect())
    }

    /// The dispatch rule: `serve|migrate|admin|backup|export|version` (and `--help`,
    /// `--version`) are parsed here; no argument means `serve`; anything else — including
    /// global client flags before the command, e.g. `--server URL send hi` — is client mode.
    pub fn parse_args(args: Vec<OsString>) -> Cli {
        if is_client_invocation(&args) {
            return Cli {
                command: Some(Command::Client(args.into_iter().skip(1).collect())),
            };
        }
        Cli::parse_from(args)
    }

    /// The command to run: no command means `serve` with settings from the environment.
    pub fn into_command(self) -> Result<Command, clap::Error> {
        match self.command {
            Some(command) => Ok(command),
            None => Ok(Command::Serve(ServeArgs::from_env()?)),
        }
    }
}

/// Whether `args` (with the program name first) is a client-mode invocation.
pub fn is_client_invocation(args: &[OsString]) -> bool {
    let Some(first) = args.get(1).and_then(|a| a.to_str()) else {
        return args.len() > 1; // a non-UTF-8 first word is not a server command
    };
    if SERVER_COMMANDS.contains(&first) || matches!(first, "-h" | "--help" | "-V" | "--version") {
        return false;
    }
    if first == "help" {
        // `help send` is client help; `help`, `help serve` are server help.
        return args
            .get(2)
            .and_then(|a| a.to_str())
            .is_some_and(|c| crate::client::args::CLIENT_COMMANDS.contains(&c));
    }
    true
}

/// Parses just the serve settings from the environment (for a bare `clickclack`).
#[derive(Debug, Parser)]
#[command(name = "clickclack")]
struct ServeFromEnv {
    #[command(flatten)]
    args: ServeArgs,
}

impl ServeArgs {
    /// Serve settings taken from `CLICKCLACK_*` variables only (an unparsable variable is
    /// a usage error).
    pub fn from_env() -> Result<ServeArgs, clap::Error> {
        ServeFromEnv::try_parse_from(["clickclack"]).map(|parsed| parsed.args)
    }
}

/// The format of log lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `message`, fields, `target`).
    Json,
}

impl LogFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// Outgoing-webhook delivery settings (serve's worker and `webhooks deliver`).
#[derive(Debug, Clone, Default, Args)]
pub struct WebhookArgs {
    /// Waits before each delivery attempt, e.g. `0s,1m,5m,30m`; its length is the most
    /// attempts [default: 0s,1m,5m,30m,2h,6h,24h]
    #[arg(long, env = "CLICKCLACK_WEBHOOK_RETRY_SCHEDULE", value_name = "DELAYS")]
    pub webhook_retry_schedule: Option<String>,
    /// Timeout of one delivery attempt in seconds [default: 10]
    #[arg(
        long,
        env = "CLICKCLACK_WEBHOOK_TIMEOUT_SECONDS",
        value_name = "SECONDS"
    )]
    pub webhook_timeout_seconds: Option<u64>,
    /// Let webhooks reach loopback, private and link-local addresses [default: false]
    #[arg(
        long,
        env = "CLICKCLACK_WEBHOOK_ALLOW_PRIVATE_TARGETS",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = BoolishValueParser::new(),
    )]
    pub webhook_allow_private_targets: Option<bool>,
}

#[derive(Debug, Args)]
pub struct WebhooksArgs {
    #[command(subcommand)]
    pub command: WebhooksCommand,
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Send due webhook deliveries; with `--once`, one pass then exit (for a scheduled job,
    /// e.g. beside a Lambda deploy), else keep running until SIGINT/SIGTERM.
    Deliver(WebhooksDeliverArgs),
}

#[derive(Debug, Args)]
pub struct WebhooksDeliverArgs {
    /// One pass (plan new events, attempt what is due), print a summary, exit.
    #[arg(long)]
    pub once: bool,
    /// Log lines on stderr: `text` or `json` [default: text]
    #[arg(long, env = "CLICKCLACK_LOG_FORMAT", value_enum, ignore_case = true)]
    pub log_format: Option<LogFormat>,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}
