//! The stored client config (`$XDG_CONFIG_HOME/clickclack/config.json`), the event-cursor
//! files (`$XDG_STATE_HOME/clickclack/cursors/`), and server URL comparison.
//!
//! The config is scoped to its server: its token, workspace and channel are used only when
//! the stored `server` is the selected one ([`same_server`]), so a token never reaches
//! another server. Files are written atomically (a temporary file in the same directory,
//! then a rename), the directory 0700 and the files 0600.

use super::error::{ClientError, Result};
use clickclack_runtime::ids;
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The server when neither a flag, the environment nor the stored config names one.
pub const DEFAULT_SERVER: &str = "http://localhost:8080";

/// `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConfig {
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

fn home() -> Option<PathBuf> {
    env_dir("HOME")
}

/// `$XDG_CONFIG_HOME/clickclack` (else `~/.config/clickclack`).
pub fn config_dir() -> Result<PathBuf> {
    env_dir("XDG_CONFIG_HOME")
        .or_else(|| home().map(|h| h.join(".config")))
        .map(|d| d.join("clickclack"))
        .ok_or_else(|| {
            ClientError::unexpected("cannot find a config directory: set HOME or XDG_CONFIG_HOME")
        })
}

/// `$XDG_STATE_HOME/clickclack` (else `~/.local/state/clickclack`).
pub fn state_dir() -> Result<PathBuf> {
    env_dir("XDG_STATE_HOME")
        .or_else(|| home().map(|h| h.join(".local").join("state")))
        .map(|d| d.join("clickclack"))
        .ok_or_else(|| {
            ClientError::unexpected("cannot find a state directory: set HOME or XDG_STATE_HOME")
        })
}

/// The config file's path.
pub fn config_path() -> Result<PathBuf> {
    Ok(config_dir()?.join("config.json"))
}

impl StoredConfig {
    /// Reads the stored config; a missing file is `None`, an unreadable or invalid one an
    /// error (exit 11) so it is never silently replaced.
    pub fn load() -> Result<Option<StoredConfig>> {
        let path = config_path()?;
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ClientError::unexpected(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        let mut config: StoredConfig = serde_json::from_str(&text).map_err(|e| {
            ClientError::unexpected(format!(
                "invalid config file {}: {e} (fix or delete it)",
                path.display()
            ))
        })?;
        let blank = |v: &mut Option<String>| {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *v = None;
            }
        };
        blank(&mut config.token);
        blank(&mut config.workspace);
        blank(&mut config.channel);
        Ok(Some(config))
    }

    /// Writes the config atomically, mode 0600, in a 0700 directory.
    pub fn save(&self) -> Result<PathBuf> {
        let path = config_path()?;
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| ClientError::unexpected(format!("cannot encode the config: {e}")))?;
        text.push('\n');
        write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }

    /// Deletes the config file; a missing one is fine. Returns whether one existed.
    pub fn delete() -> Result<bool> {
        let path = config_path()?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ClientError::unexpected(format!(
                "cannot delete {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Creates `dir` (and parents) with mode 0700 for the parts it creates.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `bytes` to `path` through `<dir>/.<name>.<random>.tmp` (mode 0600), synced and
/// renamed into place: readers see the old file or the new one, never a partial one. A
/// symlink at `path` is kept (its target is replaced); a read-only target is refused.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |what: &str, e: std::io::Error| {
        ClientError::unexpected(format!("cannot {what} {}: {e}", path.display()))
    };
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let link = fs::read_link(path).map_err(|e| fail("read the link", e))?;
            match path.parent() {
                Some(parent) if link.is_relative() => parent.join(link),
                _ => link,
            }
        }
        _ => path.to_path_buf(),
    };
    if let Ok(meta) = fs::metadata(&target) {
        if meta.permissions().readonly() {
            return Err(ClientError::unexpected(format!(
                "refusing to replace read-only {}",
                target.display()
            )));
        }
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir).map_err(|e| fail("create the directory for", e))?;
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let temp = dir.join(format!(".{name}.{}.tmp", ids::random_base32(10)));
    let written = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &target)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(fail("write", e));
    }
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A server URL made comparable: scheme and host lowercased, no trailing `/` on the path.
/// Text without a scheme gets `http://`.
pub fn normalize_server(url: &str) -> String {
    let url = url.trim();
    let with_scheme = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let (scheme, rest) = with_scheme
        .split_once("://")
        .unwrap_or(("http", &with_scheme));
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    format!(
        "{}://{}{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase(),
        path.trim_end_matches('/')
    )
}

/// Whether two server URLs name the same server (scheme and host case-insensitive, path
/// without trailing `/`).
pub fn same_server(a: &str, b: &str) -> bool {
    normalize_server(a) == normalize_server(b)
}

/// The host part of a server URL (no port), for cursor file names.
pub fn server_host(url: &str) -> String {
    let normalized = normalize_server(url);
    let rest = normalized
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(&normalized);
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    sanitize(host)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `$XDG_STATE_HOME/clickclack/cursors/<server-host>_<workspace>.cursor`.
pub fn cursor_path(server: &str, workspace_id: &str) -> Result<PathBuf> {
    Ok(state_dir()?.join("cursors").join(format!(
        "{}_{}.cursor",
        server_host(server),
        sanitize(workspace_id)
    )))
}

/// The stored cursor, if any (an empty or unreadable file counts as none).
pub fn load_cursor(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let cursor = text.trim();
    (!cursor.is_empty()).then(|| cursor.to_string())
}

/// Stores the cursor atomically.
pub fn save_cursor(path: &Path, cursor: &str) -> Result<()> {
    write_atomic(path, format!("{cursor}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_compare_by_scheme_host_and_path() {
        assert!(same_server(
            "http://LOCALHOST:8080/",
            "http://localhost:8080"
        ));
        assert!(same_server(
            "HTTPS://Chat.Example.com/cc/",
            "https://chat.example.com/cc"
        ));
        assert!(same_server("localhost:8080", "http://localhost:8080"));
        assert!(!same_server(
            "http://localhost:8080",
            "http://localhost:8081"
        ));
        assert!(!same_server(
            "http://localhost:8080",
            "https://localhost:8080"
        ));
        assert!(!same_server("https://a.example/x", "https://a.example/X"));
    }

    #[test]
    fn server_hosts() {
        assert_eq!(server_host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(
            server_host("https://Chat.Example.com/cc"),
            "chat.example.com"
        );
        assert_eq!(server_host("http://[::1]:80"), "--1");
    }

    #[test]
    fn atomic_writes_are_private_and_keep_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a").join("b.json");
        write_atomic(&nested, b"one").unwrap();
        assert_eq!(fs::read_to_string(&nested).unwrap(), "one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&nested).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let real = dir.path().join("real.json");
            fs::write(&real, "old").unwrap();
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink(&real, &link).unwrap();
            write_atomic(&link, b"new").unwrap();
            assert!(fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink());
            assert_eq!(fs::read_to_string(&real).unwrap(), "new");
            let mut perms = fs::metadata(&real).unwrap().permissions();
            perms.set_readonly(true);
            fs::set_permissions(&real, perms).unwrap();
            assert!(write_atomic(&real, b"x").is_err());
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("a"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
