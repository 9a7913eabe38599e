//! `clickclack export [--out FILE|-]`: every table as one pretty-printed JSON object
//! (keys = table names, values = arrays of row objects with sorted keys, secrets
//! redacted), read in one transaction. A file is written under a temporary name and
//! renamed into place, so a failed export never leaves a partial file or replaces a good one.

use crate::cli::ExportArgs;
use crate::config::StoreConfig;
use crate::error::CliError;
use clickclack_runtime::ids;
use clickclack_runtime::store::backup::{self, ExportTables};
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub async fn execute(args: ExportArgs) -> Result<(), CliError> {
    let config = StoreConfig::from_args(&args.store)?;
    let tables = backup::export(&config.db).await?;
    let rows: usize = tables.values().map(Vec::len).sum();
    if args.out.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        write_json(&mut out, &tables)
            .map_err(|e| CliError::failed(format!("cannot write to stdout: {e}")))?;
    } else {
        write_file(&args.out, &tables)?;
    }
    tracing::info!(
        db = %config.db.describe(),
        out = %args.out.display(),
        tables = tables.len(),
        rows,
        "export written"
    );
    Ok(())
}

fn write_json(out: &mut impl Write, tables: &ExportTables) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, tables)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes `<dir>/.<name>.<random>.tmp`, syncs it, renames it over `out`.
fn write_file(out: &Path, tables: &ExportTables) -> Result<(), CliError> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::usage("--out must name a file or be -"))?;
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temp = dir.join(format!(".{name}.{}.tmp", ids::random_base32(8)));
    let written = (|| {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        let mut writer = BufWriter::new(file);
        write_json(&mut writer, tables)?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&temp, out)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(CliError::failed(format!(
            "cannot write {}: {e}",
            out.display()
        )));
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
