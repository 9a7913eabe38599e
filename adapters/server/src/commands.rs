//! One module per command, each with an `execute(args)` that resolves its settings
//! ([`crate::config`]) and does the work. [`dispatch`] is what `main` calls.

pub mod admin;
pub mod backup;
pub mod export;
pub mod migrate;
pub mod serve;
pub mod uploads;
pub mod webhooks;

use crate::cli::{Cli, Command};
use crate::config::StoreConfig;
use crate::error::CliError;
use clickclack_runtime::chat::{Chat, ChatConfig};
use clickclack_runtime::store::{Store, StoreOptions, SyncMode};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Runs a parsed command line to completion and maps the outcome to an exit code:
/// 0 success, 1 failure, 2 usage error (messages on stderr). Client commands go to
/// [`crate::client::main`], which has its own exit codes (docs/agent-friendly-cli.md).
pub fn dispatch(cli: Cli) -> ExitCode {
    let command = match cli.into_command() {
        Ok(command) => command,
        Err(e) => e.exit(),
    };
    if let Command::Client(argv) = command {
        return crate::client::main(argv);
    }
    init_tracing(log_format(&command));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(execute(command));
    runtime.shutdown_timeout(Duration::from_secs(5));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if let CliError::Usage(_) = e {
                eprintln!("\nFor more information, try '--help'.");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs one command.
pub async fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => serve::execute(args).await,
        Command::Migrate(args) => migrate::execute(args).await,
        Command::Admin(args) => admin::execute(args).await,
        Command::Backup(args) => {
            crate::client::progress::while_running("backing up", backup::execute(args)).await
        }
        Command::Export(args) => {
            crate::client::progress::while_running("exporting", export::execute(args)).await
        }
        Command::Version(args) => print_version(&args),
        Command::Webhooks(args) => webhooks::execute(args).await,
        Command::Client(_) => Err(CliError::usage(
            "client commands run through clickclack::client::main",
        )),
    }
}

/// `version`: `clickclack <version>`, or only the number (`--plain`), or JSON.
fn print_version(args: &crate::cli::VersionArgs) -> Result<(), CliError> {
    let version = env!("CARGO_PKG_VERSION");
    if args.json == Some(true) {
        print_line(&format!("{{\"version\":\"{version}\"}}"))
    } else if args.plain == Some(true) {
        print_line(version)
    } else {
        print_line(&format!("clickclack {version}"))
    }
}

/// Logs go to stderr (stdout is reserved for command output); `RUST_LOG` overrides the
/// `info` default.
fn init_tracing(format: crate::cli::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::cli::LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        crate::cli::LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

/// The log format of a command (`--log-format`/`CLICKCLACK_LOG_FORMAT`, else the config
/// file's `log_format`), known before logging starts. A config file that cannot be read
/// falls back to text here; the command itself then reports the error.
fn log_format(command: &Command) -> crate::cli::LogFormat {
    let (flag, store) = match command {
        Command::Serve(args) => (args.log_format, &args.store),
        Command::Webhooks(crate::cli::WebhooksArgs {
            command: crate::cli::WebhooksCommand::Deliver(args),
        }) => (args.log_format, &args.store),
        _ => return crate::cli::LogFormat::Text,
    };
    match flag {
        Some(format) => format,
        None => crate::config::FileConfig::for_args(store)
            .map(|file| crate::config::log_format(None, &file))
            .unwrap_or_default(),
    }
}

/// Opens (creating and migrating) the store of a server-side command.
pub(crate) async fn open_store(config: &StoreConfig, sync: SyncMode) -> Result<Store, CliError> {
    open_store_with(config, sync, None).await
}

/// Opens the store with a notifier that writes wake after commit (the server's hub).
pub(crate) async fn open_store_with(
    config: &StoreConfig,
    sync: SyncMode,
    notifier: Option<clickclack_runtime::notify::SharedNotifier>,
) -> Result<Store, CliError> {
    let mut options = StoreOptions::new(config.db.clone());
    options.sync = sync;
    if let Some(notifier) = notifier {
        options.notifier = notifier;
    }
    Store::open(options).await.map_err(|e| {
        CliError::failed(format!(
            "cannot open database {}: {}",
            config.db.describe(),
            e.message
        ))
    })
}

/// Opens the store and wraps it in a `Chat` with default settings.
pub(crate) async fn open_chat(config: &StoreConfig) -> Result<Chat, CliError> {
    let store = open_store(config, SyncMode::Full).await?;
    Ok(Chat::new(store, ChatConfig::default()))
}

/// Prints one line of command output on stdout.
pub(crate) fn print_line(line: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::failed(format!("cannot write to stdout: {e}")))
}
