//! Maintenance on a database file for the CLI: the consistent online backup
//! (`VACUUM INTO`), the JSON export, and the list of applied migrations.
//!
//! [`backup`] and [`export`] open their own connection by location instead of going through
//! [`Store`](super::Store): they run beside a live server (WAL lets them read while it
//! writes), never migrate, and also work on a database of an older schema — a backup taken
//! before an upgrade is exactly the one you want.

use super::DbLocation;
use crate::{ids, Error, ErrorKind, Result};
use libsql::{Connection, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Row objects of one table, each with its columns in alphabetical order.
pub type ExportRows = Vec<BTreeMap<String, serde_json::Value>>;

/// The whole export: table name → rows, tables in alphabetical order.
pub type ExportTables = BTreeMap<String, ExportRows>;

/// What [`export`] writes in place of a secret column's value.
pub const REDACTED: &str = "[redacted]";

/// What a finished backup looks like.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    /// The fresh epoch given to the copy (`None` for a database without an event log).
    pub epoch: Option<String>,
    pub bytes: u64,
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens an existing database file; a missing file is an error, never a new empty database.
async fn open_existing(location: &DbLocation) -> Result<(libsql::Database, Connection)> {
    let Some(path) = location.local_path() else {
        return Err(Error::invalid(
            "backup_needs_local_file",
            format!(
                "{} has no local file: back up a remote libSQL database with its server's tools, \
                 or run this against an embedded replica",
                location.describe()
            ),
        ));
    };
    if !path.is_file() {
        return Err(Error::new(
            ErrorKind::NotFound,
            "database_missing",
            format!("database {} does not exist", path.display()),
        ));
    }
    open_file(path).await
}

async fn open_file(path: &Path) -> Result<(libsql::Database, Connection)> {
    let db = libsql::Builder::new_local(path)
        .build()
        .await
        .map_err(|e| Error::unavailable(format!("cannot open {}: {e}", path.display())))?;
    let conn = db.connect()?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok((db, conn))
}

/// Runs a statement that may return rows (pragmas) and discards them.
async fn run(conn: &Connection, sql: &str) -> Result<()> {
    let mut rows = conn.query(sql, ()).await?;
    while rows.next().await?.is_some() {}
    Ok(())
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::unavailable(format!("cannot {what} {}: {e}", path.display()))
}

fn exists_error(out: &Path) -> Error {
    Error::conflict(
        "backup_exists",
        format!("{} already exists; refusing to overwrite it", out.display()),
    )
}

/// Writes a consistent copy of the live database to `out` with `VACUUM INTO`, safe while a
/// server writes. The copy gets a new epoch, so cursors issued by the live database get
/// `resync_required` after a restore, and is a single rollback-journal file that stock
/// SQLite opens. `out` must not exist; it appears only once complete (written under a
/// temporary name beside it, then hard-linked into place without overwriting anything).
pub async fn backup(location: &DbLocation, out: &Path) -> Result<BackupReport> {
    if out.symlink_metadata().is_ok() {
        return Err(exists_error(out));
    }
    let file_name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::invalid("invalid_out", "--out must name a file"))?;
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::new(
            ErrorKind::NotFound,
            "out_dir_missing",
            format!("directory {} does not exist", dir.display()),
        ));
    }
    let temp = dir.join(format!(".{file_name}.{}.partial", ids::random_base32(8)));
    let outcome = write_backup(location, &temp, out).await;
    for leftover in [temp.clone(), journal_of(&temp)] {
        let _ = std::fs::remove_file(leftover);
    }
    outcome
}

fn journal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

async fn write_backup(location: &DbLocation, temp: &Path, out: &Path) -> Result<BackupReport> {
    {
        let (_db, conn) = open_existing(location).await?;
        let target = temp
            .to_str()
            .ok_or_else(|| Error::invalid("invalid_out", "--out must be valid UTF-8"))?;
        conn.execute("VACUUM INTO ?1", [target]).await?;
    }
    let epoch = finish_copy(temp).await?;
    let file = std::fs::File::open(temp).map_err(|e| io_error("open", temp, e))?;
    file.sync_all().map_err(|e| io_error("sync", temp, e))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    drop(file);
    match std::fs::hard_link(temp, out) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists_error(out)),
        Err(_) => {
            // Filesystems without hard links: check, then rename (not atomic against a
            // concurrent creator of the same name, which is the best they allow).
            if out.symlink_metadata().is_ok() {
                return Err(exists_error(out));
            }
            std::fs::rename(temp, out).map_err(|e| io_error("write", out, e))?;
        }
    }
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(BackupReport {
        path: out.to_path_buf(),
        epoch,
        bytes,
    })
}

/// Checks the fresh copy, makes it a single-file (rollback journal) database and gives it
/// a new epoch.
async fn finish_copy(temp: &Path) -> Result<Option<String>> {
    let (_db, conn) = open_file(temp).await?;
    run(&conn, "PRAGMA journal_mode=DELETE").await?;
    let mut check = conn.query("PRAGMA quick_check", ()).await?;
    if let Some(row) = check.next().await? {
        let verdict = row.get::<String>(0)?;
        if verdict != "ok" {
            return Err(Error::internal(format!(
                "backup copy failed its integrity check: {verdict}"
            )));
        }
    }
    drop(check);
    if !has_table(&conn, "event_log_state").await? {
        return Ok(None);
    }
    let epoch = ids::random_base32(10);
    conn.execute("BEGIN IMMEDIATE", ()).await?;
    let renamed = rename_epoch(&conn, &epoch).await;
    match renamed {
        Ok(()) => conn.execute("COMMIT", ()).await?,
        Err(e) => {
            let _ = conn.execute("ROLLBACK", ()).await;
            return Err(e);
        }
    };
    Ok(Some(epoch))
}

/// Sets the epoch and rewrites the stored event cursors to it (their format is
/// [`super::events::format_cursor`]: `cur_<epoch>_<position, 16 digits>`), so events
/// replayed from the restored copy carry cursors the restored server accepts.
async fn rename_epoch(conn: &Connection, epoch: &str) -> Result<()> {
    conn.execute("UPDATE event_log_state SET epoch = ?1", [epoch])
        .await?;
    if has_table(conn, "events").await? {
        conn.execute(
            "UPDATE events SET cursor = 'cur_' || ?1 || '_' || printf('%016d', position)",
            [epoch],
        )
        .await?;
    }
    Ok(())
}

async fn has_table(conn: &Connection, name: &str) -> Result<bool> {
    let mut rows = conn
        .query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
        )
        .await?;
    Ok(rows.next().await?.is_some())
}

/// True for a column whose value `export` must not reveal.
pub fn is_secret_column(name: &str) -> bool {
    name.ends_with("_hash") || name == "token" || name == "storage_path" || name == "secret"
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn json_value(value: Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => i.into(),
        Value::Real(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(s) => s.into(),
        Value::Blob(b) => hex::encode(b).into(),
    }
}

/// Reads every user table — not SQLite/libSQL internals, not FTS virtual tables or their
/// shadow tables — inside one read transaction, so the tables agree with each other even
/// while a server writes. Secret columns ([`is_secret_column`]) read [`REDACTED`]; BLOBs
/// become lowercase hex.
pub async fn export(location: &DbLocation) -> Result<ExportTables> {
    let (_db, conn) = open_existing(location).await?;
    conn.execute("BEGIN", ()).await?;
    let outcome = read_tables(&conn).await;
    let _ = conn.execute("COMMIT", ()).await;
    outcome
}

async fn read_tables(conn: &Connection) -> Result<ExportTables> {
    let mut schema = Vec::new();
    let mut rows = conn
        .query(
            "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'table' ORDER BY name",
            (),
        )
        .await?;
    while let Some(row) = rows.next().await? {
        schema.push((row.get::<String>(0)?, row.get::<String>(1)?));
    }
    drop(rows);
    let virtual_tables: Vec<String> = schema
        .iter()
        .filter(|(_, sql)| {
            sql.trim_start()
                .to_ascii_uppercase()
                .starts_with("CREATE VIRTUAL TABLE")
        })
        .map(|(name, _)| format!("{name}_"))
        .collect();
    let mut tables = ExportTables::new();
    for (name, sql) in &schema {
        let internal = name.starts_with("sqlite_") || name.starts_with("libsql_");
        let is_virtual = sql
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("CREATE VIRTUAL TABLE");
        let shadow = virtual_tables.iter().any(|prefix| name.starts_with(prefix));
        if internal || is_virtual || shadow {
            continue;
        }
        tables.insert(name.clone(), read_table(conn, name).await?);
    }
    Ok(tables)
}

async fn read_table(conn: &Connection, name: &str) -> Result<ExportRows> {
    let mut rows = conn
        .query(&format!("SELECT * FROM {}", quote_ident(name)), ())
        .await?;
    let columns: Vec<String> = (0..rows.column_count())
        .map(|i| rows.column_name(i).unwrap_or_default().to_string())
        .collect();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let mut object = BTreeMap::new();
        for (i, column) in columns.iter().enumerate() {
            let value = if is_secret_column(column) {
                serde_json::Value::String(REDACTED.to_string())
            } else {
                json_value(row.get_value(i as i32)?)
            };
            object.insert(column.clone(), value);
        }
        out.push(object);
    }
    Ok(out)
}

/// The applied migrations, oldest first: `(name, applied_at)`.
pub async fn applied_migrations(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut rows = conn
        .query(
            "SELECT name, applied_at FROM schema_migrations ORDER BY name",
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push((row.get::<String>(0)?, row.get::<String>(1)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn backup_gets_a_new_epoch_and_rewritten_cursors() {
        use crate::chat::{Chat, ChatConfig};
        use crate::store::{events, Store, StoreOptions};
        let dir = tempfile::tempdir().unwrap();
        let live = DbLocation::in_data_dir(dir.path());
        let store = Store::open(StoreOptions::new(live.clone())).await.unwrap();
        let chat = Chat::new(store.clone(), ChatConfig::default());
        chat.bootstrap("Owner", "owner@example.com").await.unwrap();
        let old_epoch = store.epoch().to_string();

        let out = dir.path().join("copy.db");
        let report = backup(&live, &out).await.unwrap();
        let new_epoch = report.epoch.unwrap();
        assert_ne!(new_epoch, old_epoch);
        assert!(backup(&live, &out).await.is_err(), "must not overwrite");
        store.close().await;

        let copy = Store::open(StoreOptions::new(
            DbLocation::parse(out.to_str().unwrap()).unwrap(),
        ))
        .await
        .unwrap();
        assert_eq!(copy.epoch(), new_epoch);
        let conn = copy.connect().unwrap();
        let mut rows = conn
            .query("SELECT cursor, position FROM events", ())
            .await
            .unwrap();
        let mut seen = 0;
        while let Some(row) = rows.next().await.unwrap() {
            let cursor: String = row.get(0).unwrap();
            let position: i64 = row.get(1).unwrap();
            assert_eq!(events::parse_cursor(&new_epoch, &cursor).unwrap(), position);
            seen += 1;
        }
        assert!(seen > 0);
        copy.close().await;

        let tables = export(&live).await.unwrap();
        assert!(tables.contains_key("users"));
        assert!(tables.contains_key("schema_migrations"));
        assert!(!tables.keys().any(|t| t.starts_with("messages_fts")));
    }

    #[test]
    fn secret_columns() {
        assert!(is_secret_column("token_hash"));
        assert!(is_secret_column("token"));
        assert!(is_secret_column("storage_path"));
        assert!(is_secret_column("secret"));
        assert!(!is_secret_column("tokens"));
        assert!(!is_secret_column("email"));
    }

    #[test]
    fn values_map_to_json() {
        assert_eq!(json_value(Value::Null), serde_json::Value::Null);
        assert_eq!(json_value(Value::Integer(7)), serde_json::json!(7));
        assert_eq!(json_value(Value::Real(1.5)), serde_json::json!(1.5));
        assert_eq!(json_value(Value::Text("a".into())), serde_json::json!("a"));
        assert_eq!(
            json_value(Value::Blob(vec![0, 255])),
            serde_json::json!("00ff")
        );
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
