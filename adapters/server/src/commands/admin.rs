//! `clickclack admin …`: direct database administration. Each command opens its own store
//! (creating and migrating the database if needed), which is safe while `serve` runs on the
//! same file: WAL lets both read, and the busy timeout queues the writes.

use super::{open_chat, print_line};
use crate::cli::{AdminArgs, AdminCommand, InviteCommand, MagicLinkCommand, UserCommand};
use crate::config::StoreConfig;
use crate::error::CliError;

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
    }
}
