//! SQLite as a registry sees it: the `sqlite:` URLs and how they open a [`SqliteStore`].

use std::path::PathBuf;

use async_trait::async_trait;
use godwit_core::url::{UrlError, redact_with_schemes};
use godwit_core::{Backend, ConnectOptions, Dialect, Location, Store, StoreError};

use crate::{SqliteDialect, SqliteOptions, SqliteStore};

/// The SQLite backend: `sqlite:PATH` and `sqlite://PATH` (relative to the working directory),
/// `sqlite:///abs/path`, and `sqlite::memory:` for a private in-memory database.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteBackend;

#[async_trait]
impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &SqliteDialect
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["sqlite"]
    }

    fn url_forms(&self) -> &'static [&'static str] {
        &["sqlite:PATH", "sqlite::memory:"]
    }

    fn locate(&self, url: &str) -> Result<Location, UrlError> {
        let url = url.trim();
        let invalid = |problem: &str| UrlError::Invalid {
            shown: redact_with_schemes(url, self.schemes()).to_string(),
            problem: problem.to_string(),
        };
        // A password is most likely a URL meant for another database, and it would end up
        // in the file's path and its messages.
        if redact_with_schemes(url, self.schemes()).to_string() != url {
            return Err(invalid(
                "holds a password, but a SQLite database has none; remove it and use sqlite:PATH (for example sqlite:app.db)",
            ));
        }
        let rest = &url["sqlite:".len()..];
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(Location::Memory);
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        // Query parameters are not supported for SQLite; keep the path only.
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(invalid(
                "names no file; use sqlite:PATH (for example sqlite:app.db)",
            ));
        }
        Ok(Location::File(PathBuf::from(path)))
    }

    async fn open(
        &self,
        _url: &str,
        location: &Location,
        options: &ConnectOptions,
    ) -> Result<Box<dyn Store>, StoreError> {
        let mut sqlite = SqliteOptions::default();
        if let Some(wait) = options.busy_timeout {
            sqlite = sqlite.with_busy_timeout(wait);
        }
        let store = match location {
            Location::File(path) => SqliteStore::open(path, &sqlite)?,
            _ => SqliteStore::in_memory(&sqlite)?,
        };
        Ok(Box::new(store))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate(url: &str) -> Result<Location, UrlError> {
        SqliteBackend.locate(url)
    }

    #[test]
    fn files_and_memory() {
        assert_eq!(
            locate("sqlite:app.db").unwrap(),
            Location::File("app.db".into())
        );
        assert_eq!(
            locate("sqlite://app.db").unwrap(),
            Location::File("app.db".into())
        );
        assert_eq!(
            locate("sqlite:///tmp/app.db").unwrap(),
            Location::File("/tmp/app.db".into())
        );
        assert_eq!(
            locate("sqlite:app.db?mode=ro").unwrap(),
            Location::File("app.db".into())
        );
        assert_eq!(locate("sqlite::memory:").unwrap(), Location::Memory);
        let empty = locate("sqlite:").unwrap_err();
        assert!(empty.to_string().contains("names no file"), "{empty}");
    }

    #[test]
    fn a_url_with_a_password_is_refused_without_it() {
        for url in [
            "sqlite://user:s3cret@/app.db",
            "sqlite:app.db?password=s3cret",
            "sqlite:?password=s3cret",
        ] {
            let shown = locate(url).unwrap_err().to_string();
            assert!(
                !shown.contains("s3cret") && shown.contains("***"),
                "{shown}"
            );
        }
    }
}
