//! `clickclack admin uploads sweep` and the periodic sweep `serve` runs: removes expired
//! pending uploads, orphans past a grace period and uploads attached only to deleted
//! messages — rows, objects and quota ([`Chat::sweep_uploads`], docs/uploads.md).

use super::{open_chat, print_line};
use crate::cli::StoreArgs;
use crate::config::{FileConfig, StoreConfig};
use crate::error::CliError;
use clap::{Args, Subcommand};
use clickclack_runtime::chat::{Chat, SweepPolicy, SweepReport};
use clickclack_runtime::uploads::UploadStore;
use clickclack_runtime::ErrorKind;
use std::time::Duration;

/// How often `serve` sweeps by default (`CLICKCLACK_UPLOAD_SWEEP_INTERVAL_MINUTES`).
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// The first periodic sweep runs this long after the server starts.
pub const FIRST_SWEEP_DELAY: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Subcommand)]
pub enum UploadsCommand {
    /// Delete expired pending uploads, orphans past the grace period and uploads attached
    /// only to deleted messages (object, row, quota). Prints a summary, or the report as
    /// JSON with `--json`.
    Sweep(UploadsSweepArgs),
}

#[derive(Debug, Args)]
pub struct UploadsSweepArgs {
    /// Report what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Keep orphans (attached to no message) younger than this many hours [default: 24]
    #[arg(
        long,
        env = "CLICKCLACK_UPLOAD_ORPHAN_GRACE_HOURS",
        value_name = "HOURS"
    )]
    pub orphan_grace_hours: Option<u32>,
    /// Keep pending presigned uploads until this many minutes after their URL expired
    /// [default: 60]
    #[arg(long, value_name = "MINUTES")]
    pub pending_grace_minutes: Option<u32>,
    /// Keep uploads whose messages were all deleted.
    #[arg(long)]
    pub keep_deleted_attachments: bool,
    /// Upload storage: `file://DIR`, `s3://bucket/prefix` [default: the config file's
    /// `uploads`, else file://DATA/uploads]
    #[arg(long, env = "CLICKCLACK_UPLOADS", value_name = "URL")]
    pub uploads: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn execute(command: UploadsCommand) -> Result<(), CliError> {
    match command {
        UploadsCommand::Sweep(args) => sweep(args).await,
    }
}

/// The sweep policy of `serve` and of the command's defaults: the orphan grace from
/// `hours` (else `CLICKCLACK_UPLOAD_ORPHAN_GRACE_HOURS`, else 24).
pub fn policy(hours: Option<u32>, pending_minutes: Option<u32>) -> Result<SweepPolicy, CliError> {
    let hours = match hours {
        Some(h) => Some(h),
        None => env_number("CLICKCLACK_UPLOAD_ORPHAN_GRACE_HOURS")?,
    };
    let mut policy = SweepPolicy::default();
    if let Some(h) = hours {
        policy.orphan_grace = Duration::from_secs(u64::from(h) * 60 * 60);
    }
    if let Some(m) = pending_minutes {
        policy.pending_grace = Duration::from_secs(u64::from(m) * 60);
    }
    Ok(policy)
}

fn env_number(key: &str) -> Result<Option<u32>, CliError> {
    match std::env::var(key) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| CliError::usage(format!("{key} must be a non-negative integer"))),
        _ => Ok(None),
    }
}

/// How often `serve` sweeps: `CLICKCLACK_UPLOAD_SWEEP_INTERVAL_MINUTES` (0 turns the
/// periodic sweep off), default hourly.
pub fn sweep_interval() -> Result<Option<Duration>, CliError> {
    Ok(
        match env_number("CLICKCLACK_UPLOAD_SWEEP_INTERVAL_MINUTES")? {
            Some(0) => None,
            Some(m) => Some(Duration::from_secs(u64::from(m) * 60)),
            None => Some(DEFAULT_SWEEP_INTERVAL),
        },
    )
}

/// Opens the upload store named by `--uploads`, the config file or the default.
fn open_uploads(args: &UploadsSweepArgs, store: &StoreConfig) -> Result<UploadStore, CliError> {
    let file = FileConfig::for_args(&args.store)?;
    let url = args
        .uploads
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .or(file.uploads)
        .unwrap_or_else(|| format!("file://{}", store.uploads_dir().display()));
    UploadStore::open(&url).map_err(|e| {
        let message = format!("--uploads: {}", e.message);
        match e.kind {
            ErrorKind::Invalid => CliError::usage(message),
            _ => CliError::failed(message),
        }
    })
}

async fn sweep(args: UploadsSweepArgs) -> Result<(), CliError> {
    let mut policy = policy(args.orphan_grace_hours, args.pending_grace_minutes)?;
    policy.dry_run = args.dry_run;
    policy.deleted_messages = !args.keep_deleted_attachments;
    let config = StoreConfig::from_args(&args.store)?;
    let uploads = open_uploads(&args, &config)?;
    let chat = open_chat(&config).await?.with_uploads(uploads);
    let result = chat
        .sweep_uploads(clickclack_runtime::clock::now(), &policy)
        .await;
    chat.store().close().await;
    let report = result?;
    if args.json {
        let json = serde_json::to_string(&report)
            .map_err(|e| CliError::failed(format!("cannot encode the report: {e}")))?;
        print_line(&json)?;
    } else {
        print_summary(&report)?;
    }
    if report.failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{} upload object(s) could not be deleted; they stay hidden and the next sweep retries them",
            report.failures.len()
        )))
    }
}

fn print_summary(report: &SweepReport) -> Result<(), CliError> {
    let verb = if report.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for upload in &report.uploads {
        let reason = serde_json::to_value(upload.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        print_line(&format!(
            "{verb} {} ({reason}, {} bytes, workspace {})",
            upload.id, upload.byte_size, upload.workspace_id
        ))?;
    }
    print_line(&format!(
        "{verb} {} upload(s): {} expired pending, {} orphaned, {} on deleted messages, {} unfinished; {} bytes freed",
        report.removed,
        report.expired_pending,
        report.orphaned,
        report.deleted_messages,
        report.unfinished,
        report.bytes_freed
    ))
}

/// Runs [`Chat::sweep_uploads`] every `interval` (the first after [`FIRST_SWEEP_DELAY`] or
/// the interval, whichever is shorter) until `stop` resolves. Failures are logged.
pub async fn run_periodic(
    chat: Chat,
    policy: SweepPolicy,
    interval: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut wait = FIRST_SWEEP_DELAY.min(interval);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait) => {}
        }
        let sweep = chat.sweep_uploads(clickclack_runtime::clock::now(), &policy);
        tokio::select! {
            () = &mut stop => return,
            result = sweep => if let Err(e) = result {
                tracing::warn!(error = %e.message, "upload sweep failed");
            }
        }
        wait = interval;
    }
}
