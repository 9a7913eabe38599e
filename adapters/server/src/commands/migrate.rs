//! `clickclack migrate`: create the data directory, open the database and apply pending
//! migrations; prints every applied migration as `<name>\t<applied_at>`.

use super::{open_store, print_line};
use crate::cli::StoreArgs;
use crate::config::StoreConfig;
use crate::error::CliError;
use clickclack_runtime::store::backup::applied_migrations;
use clickclack_runtime::store::SyncMode;

pub async fn execute(args: StoreArgs) -> Result<(), CliError> {
    let config = StoreConfig::from_args(&args)?;
    config.create_dirs()?;
    let store = open_store(&config, SyncMode::Full).await?;
    let applied = match store.connect() {
        Ok(conn) => applied_migrations(&conn).await,
        Err(e) => Err(e),
    };
    store.close().await;
    let applied = applied?;
    for (name, applied_at) in &applied {
        print_line(&format!("{name}\t{applied_at}"))?;
    }
    tracing::info!(
        db = %config.db.describe(),
        migrations = applied.len(),
        epoch = store.epoch(),
        "database schema is current"
    );
    Ok(())
}
