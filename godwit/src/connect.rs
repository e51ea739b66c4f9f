//! Opening a database by URL: the scheme picks one of the backends compiled in by cargo
//! feature. A backend left out of the build is a typed error naming the feature, never a guess.

use std::path::PathBuf;
use std::time::Duration;

use godwit_core::Store;
use godwit_core::url::{self, Redacted, UrlError};

/// How [`connect`] opens a database. The defaults suit a program migrating its own database.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// SQLite: create the database file when it does not exist. Default: `true`. A program
    /// that only reads a database it expects to find sets `false`, so a mistyped path is an
    /// error rather than a new, empty database.
    pub create: bool,
    /// SQLite: how long a statement waits for another connection's write lock. `None` keeps
    /// the backend's default (5 seconds).
    pub busy_timeout: Option<Duration>,
    /// PostgreSQL: the schema to work in, created when missing and put first on the
    /// connection's `search_path`. `None` keeps the server's search path.
    pub schema: Option<String>,
    /// PostgreSQL: the `application_name` the server shows for the connection. `None` keeps
    /// `godwit`.
    pub application_name: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            create: true,
            busy_timeout: None,
            schema: None,
            application_name: None,
        }
    }
}

/// Why [`connect`] could not open a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL names no backend godwit knows, or is malformed.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The URL's backend was not compiled into this program.
    #[error(
        "{url} needs godwit's `{feature}` backend, which this program was built without; enable the `{feature}` feature of the godwit crate"
    )]
    BackendMissing {
        /// The URL, without its password.
        url: Redacted,
        /// The cargo feature to enable.
        feature: &'static str,
    },
    /// A SQLite file does not exist and [`ConnectOptions::create`] is off.
    #[error(
        "there is no SQLite database at {}; check the path, or allow creating it",
        path.display()
    )]
    NoDatabase {
        /// The path.
        path: PathBuf,
    },
    /// A SQLite URL names a directory.
    #[error(
        "{url} names the directory {}, not a SQLite database file; name a file, for example sqlite:{}",
        path.display(), path.join("app.db").display()
    )]
    DirectoryNotDatabase {
        /// The URL, without its password.
        url: Redacted,
        /// The directory.
        path: PathBuf,
    },
    /// The backend could not open the database: unreachable server, wrong credentials, a
    /// file that is not a database.
    #[error("cannot open {url}")]
    Open {
        /// The URL, without its password.
        url: Redacted,
        /// The backend's error.
        #[source]
        source: godwit_core::StoreError,
    },
}

/// Open the database `url` names with the backend that serves its scheme: `sqlite:PATH`,
/// `sqlite::memory:`, `postgres://…` (see [`godwit_core::url::parse`]).
#[cfg_attr(
    not(all(feature = "sqlite", feature = "postgres")),
    allow(
        unused_variables,
        reason = "a backend left out has no use for its options"
    )
)]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unreachable_code, reason = "with no backend, every URL is refused")
)]
pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Box<dyn Store>, ConnectError> {
    let shown = || url::redact(url);
    let opened: Result<Box<dyn Store>, godwit_core::StoreError> = match url::parse(url)? {
        // SQLite would only say it is "unable to open database file".
        #[cfg(feature = "sqlite")]
        url::Target::SqliteFile(path) if path.is_dir() => {
            return Err(ConnectError::DirectoryNotDatabase { url: shown(), path });
        }
        #[cfg(feature = "sqlite")]
        url::Target::SqliteFile(path) if !options.create && !path.exists() => {
            return Err(ConnectError::NoDatabase { path });
        }
        #[cfg(feature = "sqlite")]
        url::Target::SqliteFile(path) => {
            let mut sqlite = godwit_sqlite::SqliteOptions::default();
            if let Some(wait) = options.busy_timeout {
                sqlite = sqlite.with_busy_timeout(wait);
            }
            godwit_sqlite::SqliteStore::open(&path, &sqlite).map(|store| Box::new(store) as _)
        }
        #[cfg(feature = "sqlite")]
        url::Target::SqliteMemory => {
            godwit_sqlite::SqliteStore::open_in_memory().map(|store| Box::new(store) as _)
        }
        #[cfg(feature = "postgres")]
        url::Target::Postgres(text) => {
            let mut postgres = godwit_postgres::PgOptions::default();
            postgres.schema.clone_from(&options.schema);
            if let Some(name) = &options.application_name {
                postgres.application_name.clone_from(name);
            }
            godwit_postgres::PgStore::connect(&text, &postgres)
                .await
                .map(|store| Box::new(store) as _)
        }
        #[cfg(not(all(feature = "sqlite", feature = "postgres")))]
        missing => {
            return Err(ConnectError::BackendMissing {
                url: shown(),
                feature: missing.feature(),
            });
        }
    };
    opened.map_err(|source| ConnectError::Open {
        url: shown(),
        source,
    })
}
