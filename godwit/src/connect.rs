//! Opening a database by URL: the scheme picks one of the backends compiled in by cargo
//! feature ([`registry`]). A backend left out of the build is a typed error naming the
//! feature, never a guess.

use std::path::PathBuf;
use std::sync::Arc;

use godwit_core::backend::scheme;
use godwit_core::url::{Redacted, UrlError, redact_with_schemes};
use godwit_core::{Backend, ConnectOptions, Location, Registry, Store};

/// The backends godwit has, by cargo feature, and the URL schemes each serves: what tells a
/// URL of a backend left out of this build from one godwit does not know.
const FEATURES: &[(&str, &[&str])] = &[
    ("sqlite", &["sqlite"]),
    ("postgres", &["postgres", "postgresql"]),
    ("mysql", &["mysql", "mariadb"]),
];

/// The backends compiled into this build.
pub fn registry() -> Registry {
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(unused_mut, reason = "with no backend, nothing is added")
    )]
    let mut registry = Registry::new();
    #[cfg(feature = "sqlite")]
    registry.add(Arc::new(godwit_sqlite::SqliteBackend));
    #[cfg(feature = "postgres")]
    registry.add(Arc::new(godwit_postgres::PgBackend));
    #[cfg(feature = "mysql")]
    registry.add(Arc::new(godwit_mysql::MySqlBackend));
    registry
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
    /// A database file does not exist and [`ConnectOptions::create`] is off.
    #[error(
        "there is no database file at {}; check the path, or allow creating it",
        path.display()
    )]
    NoDatabase {
        /// The path.
        path: PathBuf,
    },
    /// A file database's URL names a directory.
    #[error(
        "{url} names the directory {}, not a database file; name a file in it, for example {}",
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

/// The backend serving `url`'s scheme, and what the URL points at.
pub fn locate(url: &str) -> Result<(Arc<dyn Backend>, Location), ConnectError> {
    registry().locate(url).map_err(|error| {
        let missing = scheme(url).and_then(|scheme| {
            FEATURES
                .iter()
                .find(|(_, schemes)| schemes.contains(&scheme.as_str()))
        });
        match (error, missing) {
            (UrlError::UnknownScheme { .. }, Some((feature, schemes))) => {
                ConnectError::BackendMissing {
                    url: redact_with_schemes(url, schemes),
                    feature,
                }
            }
            (error, _) => ConnectError::Url(error),
        }
    })
}

/// Open the database `url` names with the backend that serves its scheme: `sqlite:PATH`,
/// `sqlite::memory:`, `postgres://…`.
pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Box<dyn Store>, ConnectError> {
    let (backend, location) = locate(url)?;
    open(backend.as_ref(), url, &location, options).await
}

/// Open the database at `location` with `backend` (what [`locate`] found for `url`; a file
/// backend's [`Location::Memory`] for a private, empty database of its engine).
pub async fn open(
    backend: &dyn Backend,
    url: &str,
    location: &Location,
    options: &ConnectOptions,
) -> Result<Box<dyn Store>, ConnectError> {
    if let Location::File(path) = location {
        // The engine would only say it is "unable to open database file".
        if path.is_dir() {
            return Err(ConnectError::DirectoryNotDatabase {
                url: registry().redact(url),
                path: path.clone(),
            });
        }
        if !options.create && !path.exists() {
            return Err(ConnectError::NoDatabase { path: path.clone() });
        }
    }
    backend
        .open(url, location, options)
        .await
        .map_err(|source| ConnectError::Open {
            url: registry().redact(url),
            source,
        })
}
