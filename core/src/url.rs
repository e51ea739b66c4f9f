//! Database URLs: which backend a URL names, and how to print one without its password.

use std::fmt;
use std::path::PathBuf;

/// What a database URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (`sqlite::memory:`).
    SqliteMemory,
    /// A PostgreSQL server; the URL as given.
    Postgres(String),
}

impl Target {
    /// The cargo feature that compiles this target's backend in.
    pub fn feature(&self) -> &'static str {
        match self {
            Target::SqliteFile(_) | Target::SqliteMemory => "sqlite",
            Target::Postgres(_) => "postgres",
        }
    }
}

/// A URL godwit cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL names no backend godwit knows.
    #[error(
        "`{shown}` is not a database URL godwit understands; use sqlite:PATH, sqlite::memory: or postgres://USER@HOST/DB"
    )]
    UnknownScheme {
        /// The URL with any password removed.
        shown: String,
    },
    /// `sqlite:` with nothing after it.
    #[error("`{shown}` names no file; use sqlite:PATH (for example sqlite:app.db)")]
    EmptyPath {
        /// The URL as given.
        shown: String,
    },
}

/// Work out which backend `url` names.
///
/// `sqlite:PATH` and `sqlite://PATH` are relative to the working directory,
/// `sqlite:///abs/path` is absolute, and `sqlite::memory:` is a private in-memory database.
pub fn parse(url: &str) -> Result<Target, UrlError> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(Target::SqliteMemory);
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        // Query parameters are not supported for SQLite; keep the path only.
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(UrlError::EmptyPath {
                shown: url.to_string(),
            });
        }
        return Ok(Target::SqliteFile(PathBuf::from(path)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_string()));
    }
    Err(UrlError::UnknownScheme {
        shown: redact(url).to_string(),
    })
}

/// A URL with its password replaced by `***`, for every message and log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hide the password of `url`, both in the user-info part and in a `password=` parameter.
pub fn redact(url: &str) -> Redacted {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let userinfo = &out[authority_start..authority_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = authority_start + colon + 1;
                out.replace_range(start..authority_start + at, "***");
            }
        }
    }
    let lower = out.to_ascii_lowercase();
    if let Some(i) = lower.find("password=") {
        let start = i + "password=".len();
        let end = out[start..].find('&').map_or(out.len(), |j| start + j);
        out.replace_range(start..end, "***");
    }
    Redacted(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(
            parse("sqlite:app.db").unwrap(),
            Target::SqliteFile("app.db".into())
        );
        assert_eq!(
            parse("sqlite://app.db").unwrap(),
            Target::SqliteFile("app.db".into())
        );
        assert_eq!(
            parse("sqlite:///tmp/app.db").unwrap(),
            Target::SqliteFile("/tmp/app.db".into())
        );
        assert_eq!(parse("sqlite::memory:").unwrap(), Target::SqliteMemory);
        assert!(matches!(
            parse("postgresql://u@h/db").unwrap(),
            Target::Postgres(_)
        ));
        assert!(matches!(parse("sqlite:"), Err(UrlError::EmptyPath { .. })));
        let err = parse("mysql://root:hunter2@h/db").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://me:s3cr%40t@db.example:5432/app?sslmode=require").to_string(),
            "postgres://me:***@db.example:5432/app?sslmode=require"
        );
        assert_eq!(
            redact("postgres://me@h/app").to_string(),
            "postgres://me@h/app"
        );
        assert_eq!(
            redact("postgres://h/app?user=me&password=pw&x=1").to_string(),
            "postgres://h/app?user=me&password=***&x=1"
        );
        assert_eq!(
            redact("postgres://me:p@ss@h/app").to_string(),
            "postgres://me:***@h/app"
        );
    }
}
