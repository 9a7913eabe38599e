//! `clickclack webhooks deliver [--once]`: send queued outgoing-webhook deliveries from a
//! process of its own — for hosts without a long-lived server (a Lambda deploy runs it as
//! a scheduled job against the same database), or a dedicated worker beside servers
//! started with `--webhooks-worker=false`. `serve` runs the same worker in-process.

use super::serve::Signals;
use crate::cli::{WebhooksArgs, WebhooksCommand, WebhooksDeliverArgs};
use crate::config::{webhook_policy, FileConfig, StoreConfig};
use crate::error::CliError;
use clickclack_handlers::outgoing::Outgoing;
use clickclack_runtime::chat::{Chat, ChatConfig};
use clickclack_runtime::store::SyncMode;

pub async fn execute(args: WebhooksArgs) -> Result<(), CliError> {
    match args.command {
        WebhooksCommand::Deliver(args) => deliver(args).await,
    }
}

/// With `--once`: one pass, then a JSON summary on stdout
/// (`{"planned":…,"attempted":…,"delivered":…,"retrying":…,"failed":…}`); exits 1 when
/// the pass itself fails (not when a receiver does). Without: the worker loop until
/// SIGINT/SIGTERM.
async fn deliver(args: WebhooksDeliverArgs) -> Result<(), CliError> {
    let file = FileConfig::for_args(&args.store)?;
    let store_config = StoreConfig::resolve(&args.store, &file)?;
    let policy = webhook_policy(&args.webhooks, &file)?;
    let signals = Signals::install()?;
    let store = super::open_store(&store_config, SyncMode::Full).await?;
    let outgoing = Outgoing::new(Chat::new(store.clone(), ChatConfig::default()), policy);
    let outcome = if args.once {
        match outgoing.deliver_due().await {
            Ok(run) => {
                tracing::info!(
                    planned = run.planned,
                    attempted = run.attempted,
                    delivered = run.delivered,
                    retrying = run.retrying,
                    failed = run.failed,
                    "webhook pass done"
                );
                let summary = serde_json::to_string(&run)
                    .map_err(|e| CliError::failed(format!("cannot print the summary: {e}")))?;
                super::print_line(&summary)
            }
            Err(e) => Err(CliError::failed(format!(
                "webhook delivery failed: {}",
                e.message
            ))),
        }
    } else {
        outgoing.run(signals.recv()).await;
        Ok(())
    };
    store.close().await;
    outcome
}
