use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often an embedded replica pulls from its primary unless configured otherwise.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Where the database lives (decisions §4, "libSQL modes by URL"):
/// - [`DbLocation::Local`]: a file given as a path, `file:` or `sqlite://` URL (WAL, group
///   commit);
/// - [`DbLocation::Remote`]: a libSQL server at `libsql://`, `https://` or `http://`; every
///   statement goes over the network, writes are one transaction each;
/// - [`DbLocation::Replica`]: a local file kept in sync with a primary (reads are local,
///   writes are forwarded to the primary, a writer reads its own writes).
#[derive(Clone, PartialEq, Eq)]
pub enum DbLocation {
    Local {
        path: PathBuf,
    },
    Remote {
        url: String,
        auth_token: String,
    },
    Replica {
        path: PathBuf,
        sync_url: String,
        auth_token: String,
        sync_interval: Duration,
    },
}

// Hand-written so a token never reaches a log line.
impl std::fmt::Debug for DbLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn is_remote_url(v: &str) -> bool {
    ["libsql://", "https://", "http://", "wss://", "ws://"]
        .iter()
        .any(|scheme| v.len() > scheme.len() && v[..scheme.len()].eq_ignore_ascii_case(scheme))
}

impl DbLocation {
    /// Parses `--db`: `libsql://host`, `https://host` or `http://host` (remote), or
    /// `sqlite:///abs/path`, `sqlite://rel/path`, `file:path` or a bare path (local file).
    /// The token and the replica's primary come separately ([`DbLocation::with_auth_token`],
    /// [`DbLocation::with_sync_url`]).
    pub fn parse(value: &str) -> crate::Result<Self> {
        let v = value.trim();
        if v.is_empty() {
            return Err(crate::Error::invalid(
                "invalid_db",
                "database location is empty",
            ));
        }
        if is_remote_url(v) {
            return Ok(Self::Remote {
                url: v.to_string(),
                auth_token: String::new(),
            });
        }
        let path = if let Some(rest) = v.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = v.strip_prefix("file://") {
            rest
        } else if let Some(rest) = v.strip_prefix("file:") {
            rest
        } else if v.contains("://") {
            return Err(crate::Error::invalid(
                "unsupported_db",
                format!("unsupported database URL {v:?}"),
            ));
        } else {
            v
        };
        let path = path.split('?').next().unwrap_or(path);
        Ok(Self::Local {
            path: PathBuf::from(path),
        })
    }

    /// The default location inside a data directory.
    pub fn in_data_dir(data: &Path) -> Self {
        Self::Local {
            path: data.join("clickclack.db"),
        }
    }

    /// Sets the token sent to a remote server or a replica's primary
    /// (`CLICKCLACK_DB_AUTH_TOKEN`); ignored for a plain local file.
    pub fn with_auth_token(mut self, token: &str) -> Self {
        let token = token.trim().to_string();
        match &mut self {
            Self::Local { .. } => {}
            Self::Remote { auth_token, .. } | Self::Replica { auth_token, .. } => {
                *auth_token = token
            }
        }
        self
    }

    /// Turns a local file into an embedded replica of `sync_url`
    /// (`CLICKCLACK_DB_SYNC_URL`). A remote location cannot also be a replica.
    pub fn with_sync_url(self, sync_url: &str) -> crate::Result<Self> {
        let sync_url = sync_url.trim();
        if sync_url.is_empty() {
            return Ok(self);
        }
        if !is_remote_url(sync_url) {
            return Err(crate::Error::invalid(
                "invalid_db_sync_url",
                format!("sync URL {sync_url:?} must be a libsql://, https:// or http:// URL"),
            ));
        }
        match self {
            Self::Local { path } => Ok(Self::Replica {
                path,
                sync_url: sync_url.to_string(),
                auth_token: String::new(),
                sync_interval: DEFAULT_SYNC_INTERVAL,
            }),
            Self::Replica {
                path,
                auth_token,
                sync_interval,
                ..
            } => Ok(Self::Replica {
                path,
                sync_url: sync_url.to_string(),
                auth_token,
                sync_interval,
            }),
            Self::Remote { .. } => Err(crate::Error::invalid(
                "invalid_db_sync_url",
                "a sync URL needs a local database path (the embedded replica), not a remote URL",
            )),
        }
    }

    /// How often a replica pulls from its primary; ignored otherwise.
    pub fn with_sync_interval(mut self, interval: Duration) -> Self {
        if let Self::Replica { sync_interval, .. } = &mut self {
            *sync_interval = interval.max(Duration::from_millis(10));
        }
        self
    }

    /// The local database file (a plain file or a replica's copy); `None` for remote.
    pub fn local_path(&self) -> Option<&Path> {
        match self {
            Self::Local { path } | Self::Replica { path, .. } => Some(path),
            Self::Remote { .. } => None,
        }
    }

    /// True when every statement travels to a server (remote), so group commit is off.
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Remote { .. })
    }

    /// True for a plain local file: the only mode where WAL pragmas, group commit and
    /// `VACUUM INTO` backups apply.
    pub fn is_local_file(&self) -> bool {
        matches!(self, Self::Local { .. })
    }

    /// A description for logs and errors; never includes the token.
    pub fn describe(&self) -> String {
        match self {
            Self::Local { path } => path.display().to_string(),
            Self::Remote { url, .. } => format!("remote {}", strip_query(url)),
            Self::Replica { path, sync_url, .. } => {
                format!("replica {} of {}", path.display(), strip_query(sync_url))
            }
        }
    }
}

/// A URL without its query string (which may carry an `authToken`).
fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(v: &str) -> PathBuf {
        DbLocation::parse(v)
            .unwrap()
            .local_path()
            .unwrap()
            .to_path_buf()
    }

    #[test]
    fn parses_urls_and_paths() {
        assert_eq!(local("sqlite:///tmp/a.db"), Path::new("/tmp/a.db"));
        assert_eq!(local("sqlite://data/a.db"), Path::new("data/a.db"));
        assert_eq!(local("file:x.db?mode=rwc"), Path::new("x.db"));
        assert_eq!(local("./y.db"), Path::new("./y.db"));
        assert!(DbLocation::parse("postgres://x").is_err());
        assert!(DbLocation::parse(" ").is_err());
    }

    #[test]
    fn remote_urls_and_tokens() {
        let remote = DbLocation::parse("libsql://chat-org.turso.io")
            .unwrap()
            .with_auth_token(" secret ");
        assert!(remote.is_remote());
        assert_eq!(remote.local_path(), None);
        assert_eq!(
            remote,
            DbLocation::Remote {
                url: "libsql://chat-org.turso.io".into(),
                auth_token: "secret".into()
            }
        );
        assert!(DbLocation::parse("HTTPS://db.example.com")
            .unwrap()
            .is_remote());
        assert!(DbLocation::parse("http://127.0.0.1:8080")
            .unwrap()
            .is_remote());
        // The token never shows in logs.
        assert!(!format!("{remote:?}").contains("secret"));
        assert!(remote.with_sync_url("libsql://other").is_err());
    }

    #[test]
    fn a_local_path_with_a_sync_url_is_a_replica() {
        let replica = DbLocation::parse("/var/cc/replica.db")
            .unwrap()
            .with_sync_url("libsql://primary.example")
            .unwrap()
            .with_auth_token("t")
            .with_sync_interval(Duration::from_secs(5));
        assert_eq!(
            replica,
            DbLocation::Replica {
                path: "/var/cc/replica.db".into(),
                sync_url: "libsql://primary.example".into(),
                auth_token: "t".into(),
                sync_interval: Duration::from_secs(5),
            }
        );
        assert!(!replica.is_remote() && !replica.is_local_file());
        assert_eq!(
            replica.describe(),
            "replica /var/cc/replica.db of libsql://primary.example"
        );
        // An empty sync URL leaves a local file alone; a non-URL is refused.
        let file = DbLocation::parse("a.db").unwrap();
        assert_eq!(file.clone().with_sync_url(" ").unwrap(), file);
        assert!(file.with_sync_url("primary.db").is_err());
    }
}
