//! `clickclack backup --out FILE`: a consistent online copy (`VACUUM INTO`) with a new
//! epoch. Refuses to overwrite an existing file. Restore: stop the server, replace the
//! database file, delete its `-wal`/`-shm`, start.

use crate::cli::BackupArgs;
use crate::config::StoreConfig;
use crate::error::CliError;
use clickclack_runtime::store::backup;

pub async fn execute(args: BackupArgs) -> Result<(), CliError> {
    let config = StoreConfig::from_args(&args.store)?;
    let report = backup::backup(&config.db, &args.out).await?;
    tracing::info!(
        db = %config.db.describe(),
        out = %report.path.display(),
        bytes = report.bytes,
        epoch = report.epoch.as_deref().unwrap_or(""),
        "backup written"
    );
    Ok(())
}
