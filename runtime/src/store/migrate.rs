//! Embedded migrations, applied once each in lexical order, each in its own transaction.

use crate::{Error, Result};
use libsql::Connection;

/// Every migration file, embedded at compile time (`migrations/NNNN_name.sql`).
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial.sql",
        include_str!("../../../migrations/0001_initial.sql"),
    ),
    (
        "0002_ephemeral.sql",
        include_str!("../../../migrations/0002_ephemeral.sql"),
    ),
    (
        "0003_search.sql",
        include_str!("../../../migrations/0003_search.sql"),
    ),
    (
        "0004_uploads.sql",
        include_str!("../../../migrations/0004_uploads.sql"),
    ),
    (
        "0005_bots.sql",
        include_str!("../../../migrations/0005_bots.sql"),
    ),
    (
        "0006_webhooks.sql",
        include_str!("../../../migrations/0006_webhooks.sql"),
    ),
];

async fn ensure_table(conn: &Connection) -> Result<()> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
        (),
    )
    .await?;
    Ok(())
}

async fn is_applied(conn: &Connection, name: &str) -> Result<bool> {
    let mut rows = conn
        .query("SELECT 1 FROM schema_migrations WHERE name = ?1", [name])
        .await?;
    Ok(rows.next().await?.is_some())
}

/// Applies pending migrations. Safe to run concurrently from several processes: each file
/// runs inside `BEGIN IMMEDIATE` and is re-checked under the write lock.
pub async fn run(conn: &Connection) -> Result<()> {
    ensure_table(conn).await?;
    for (name, sql) in MIGRATIONS {
        if is_applied(conn, name).await? {
            continue;
        }
        conn.execute("BEGIN IMMEDIATE", ()).await?;
        let outcome = async {
            if is_applied(conn, name).await? {
                return Ok(());
            }
            conn.execute_batch(sql).await?;
            conn.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
                (*name, crate::clock::now_string()),
            )
            .await?;
            Ok::<(), Error>(())
        }
        .await;
        match outcome {
            Ok(()) => {
                conn.execute("COMMIT", ()).await?;
                tracing::info!(migration = %name, "applied migration");
            }
            Err(e) => {
                let _ = conn.execute("ROLLBACK", ()).await;
                return Err(Error::internal(format!("migration {name} failed: {e}")));
            }
        }
    }
    Ok(())
}

/// Fails unless every embedded migration has been applied (hosts that do not migrate).
pub async fn check(conn: &Connection) -> Result<()> {
    ensure_table(conn).await?;
    for (name, _) in MIGRATIONS {
        if !is_applied(conn, name).await? {
            return Err(Error::unavailable(format!(
                "database schema is not current: migration {name} is missing; run `clickclack migrate`"
            )));
        }
    }
    Ok(())
}
