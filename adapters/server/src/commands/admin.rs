//! `clickclack admin …`: direct database administration. Each command opens its own store
//! (creating and migrating the database if needed), which is safe while `serve` runs on the
//! same file: WAL lets both read, and the busy timeout queues the writes.

use super::{open_chat, print_line};
use crate::cli::{
    AdminArgs, AdminBotCommand, AdminCommand, BotCreateArgs, EventsCommand, EventsPruneArgs,
    InviteCommand, MagicLinkCommand, UserCommand,
};
use crate::config::StoreConfig;
use crate::error::CliError;
use clickclack_runtime::chat::NewBot;
use clickclack_runtime::store::events::{self, PruneBounds};

pub async fn execute(args: AdminArgs) -> Result<(), CliError> {
    let Some(command) = args.command else {
        return Err(CliError::usage("admin requires a subcommand"));
    };
    match command {
        AdminCommand::Bootstrap(a) => {
            let config = StoreConfig::from_args(&a.store)?;
            config.create_dirs()?;
            let chat = open_chat(&config).await?;
            let result = chat.bootstrap(&a.name, &a.email).await;
            chat.store().close().await;
            let boot = result?;
            if let Some(ws) = &boot.workspace {
                tracing::info!(user_id = %boot.user.id, workspace_id = %ws.id, "bootstrapped workspace");
            }
            print_line(&boot.user.id)
        }
        AdminCommand::User {
            command: UserCommand::Create(a),
        } => {
            if a.email.trim().is_empty() {
                return Err(CliError::usage(
                    "usage: clickclack admin user create --name NAME --email EMAIL",
                ));
            }
            let chat = open_chat(&StoreConfig::from_args(&a.store)?).await?;
            let result = chat
                .admin_create_user(&a.name, &a.email, a.workspace.as_deref())
                .await;
            chat.store().close().await;
            print_line(&result?.id)
        }
        AdminCommand::Invite {
            command: InviteCommand::Create(a),
        } => {
            let chat = open_chat(&StoreConfig::from_args(&a.store)?).await?;
            let result = chat.admin_create_invite(&a.workspace).await;
            chat.store().close().await;
            print_line(&result?.token)
        }
        AdminCommand::MagicLink {
            command: MagicLinkCommand::Create(a),
        } => {
            let chat = open_chat(&StoreConfig::from_args(&a.store)?).await?;
            let result = chat.request_magic_link(&a.email, &a.name).await;
            chat.store().close().await;
            let link = result?;
            tracing::info!(magic_link_id = %link.id, expires_at = %link.expires_at, "magic link created");
            print_line(&link.token)
        }
        AdminCommand::Events {
            command: EventsCommand::Prune(a),
        } => prune_events(a).await,
        AdminCommand::Bot {
            command: AdminBotCommand::Create(a),
        } => create_bot(a).await,
        AdminCommand::Uploads { command } => super::uploads::execute(command).await,
    }
}

/// `admin bot create`: the creator must own the workspace; prints the created bot as JSON
/// or, with `--plain`, only the raw token (shown once).
async fn create_bot(a: BotCreateArgs) -> Result<(), CliError> {
    if a.workspace.trim().is_empty() || a.created_by.trim().is_empty() {
        return Err(CliError::usage(
            "usage: clickclack admin bot create --workspace wsp_… --created-by usr_… \
--name NAME --handle HANDLE [--owner usr_…] [--scopes bot:write] [--plain|--json]",
        ));
    }
    let chat = open_chat(&StoreConfig::from_args(&a.store)?).await?;
    let result = chat
        .admin_create_bot(
            &a.created_by,
            &a.workspace,
            NewBot {
                name: a.name,
                handle: a.handle,
                avatar_url: a.avatar_url,
                scopes: vec![a.scopes],
                token_name: Some(a.token_name),
                owner_user_id: a.owner,
            },
        )
        .await;
    chat.store().close().await;
    let created = result?;
    tracing::info!(bot_user_id = %created.bot.user.id, bot_token_id = %created.bot_token.id, "bot created");
    if a.plain {
        print_line(&created.token)
    } else {
        let json = serde_json::to_string(&created)
            .map_err(|e| CliError::failed(format!("cannot encode the bot: {e}")))?;
        print_line(&json)
    }
}

const PRUNE_USAGE: &str = "usage: clickclack admin events prune --workspace wsp_… \
[--older-than-days N] [--before RFC3339] [--keep-latest N] (at least one bound)";

/// `admin events prune`: with both `--before` and `--older-than-days` the earlier cutoff
/// applies (every bound must hold); prints the number of removed events.
async fn prune_events(a: EventsPruneArgs) -> Result<(), CliError> {
    if a.workspace.trim().is_empty()
        || (a.older_than_days.is_none() && a.before.is_none() && a.keep_latest.is_none())
    {
        return Err(CliError::usage(PRUNE_USAGE));
    }
    let mut cutoffs = Vec::new();
    if let Some(before) = &a.before {
        let at = clickclack_runtime::clock::parse(before.trim()).ok_or_else(|| {
            CliError::usage(format!("invalid --before {before:?}: expected RFC 3339"))
        })?;
        cutoffs.push(at);
    }
    if let Some(days) = a.older_than_days {
        cutoffs.push(
            clickclack_runtime::clock::now()
                - std::time::Duration::from_secs(u64::from(days) * 86_400),
        );
    }
    let bounds = PruneBounds {
        // Both bounds must hold: the earlier cutoff wins.
        before: cutoffs
            .into_iter()
            .min()
            .map(clickclack_runtime::clock::format),
        keep_latest: a.keep_latest.map(i64::from),
    };
    let chat = open_chat(&StoreConfig::from_args(&a.store)?).await?;
    let result = events::prune(chat.store(), &a.workspace, bounds).await;
    chat.store().close().await;
    let removed = result?;
    tracing::info!(workspace_id = %a.workspace.trim(), removed, "events pruned");
    print_line(&removed.to_string())
}
