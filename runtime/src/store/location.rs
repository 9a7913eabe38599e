use std::path::{Path, PathBuf};

/// Where the database lives. Today: a local file given as a path, `file:` or `sqlite://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbLocation {
    path: PathBuf,
}

impl DbLocation {
    /// Parses `--db`: `sqlite:///abs/path`, `sqlite://rel/path`, `file:path`, or a bare path.
    pub fn parse(value: &str) -> crate::Result<Self> {
        let v = value.trim();
        if v.is_empty() {
            return Err(crate::Error::invalid(
                "invalid_db",
                "database location is empty",
            ));
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
        Ok(Self {
            path: PathBuf::from(path),
        })
    }

    /// The default location inside a data directory.
    pub fn in_data_dir(data: &Path) -> Self {
        Self {
            path: data.join("clickclack.db"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_paths() {
        assert_eq!(
            DbLocation::parse("sqlite:///tmp/a.db").unwrap().path(),
            Path::new("/tmp/a.db")
        );
        assert_eq!(
            DbLocation::parse("sqlite://data/a.db").unwrap().path(),
            Path::new("data/a.db")
        );
        assert_eq!(
            DbLocation::parse("file:x.db?mode=rwc").unwrap().path(),
            Path::new("x.db")
        );
        assert_eq!(
            DbLocation::parse("./y.db").unwrap().path(),
            Path::new("./y.db")
        );
        assert!(DbLocation::parse("postgres://x").is_err());
        assert!(DbLocation::parse(" ").is_err());
    }
}
