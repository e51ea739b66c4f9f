//! Opening a database: the URL's scheme picks a backend compiled in with its cargo feature, or
//! a plugin loaded ([`crate::plugins`]). A backend left out of the build is a typed error
//! naming the feature and the plugins searched.

use std::time::Duration;

use std::sync::Arc;

use godwit::{ConnectError, ConnectOptions};
use godwit_core::url::UrlError;
use godwit_core::{Backend, Dialect, HistoryTable, Location, Store};

use crate::config::{Config, DatabaseUrl};
use crate::error::CliError;

/// An open database and where its history lives.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The connection.
    pub store: Box<dyn Store>,
    /// The history table, qualified with the configured schema where the backend has schemas.
    pub history: HistoryTable,
}

/// What a command may do to a SQLite file that does not exist yet. (A PostgreSQL database is
/// never created by opening it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Create it: the commands that change the schema (`migrate`, `push`).
    Create,
    /// Refuse: the commands that read or repair a database. A mistyped path would otherwise
    /// become an empty database that says every migration is pending.
    Existing,
    /// Read it as an empty database, in memory, and create nothing: the dry runs, which show
    /// what the first run would do.
    Preview,
}

/// Open the database `url` names, with the settings of `config`. `lock_wait` is how long a
/// command that takes the migration lock waits for it: on SQLite, another run's migration can
/// keep the database busy for that long, and waiting for it then is waiting for the lock.
#[cfg_attr(
    not(feature = "sqlite"),
    allow(unused_variables, reason = "only SQLite waits for a busy database")
)]
pub(crate) async fn open(
    url: &DatabaseUrl,
    config: &Config,
    access: Access,
    lock_wait: Option<Duration>,
) -> Result<Opened, CliError> {
    let (backend, location) = locate(url.secret())?;
    tracing::debug!(url = %url.redacted(), backend = backend.name(), "opening the database");
    let mut options = ConnectOptions::default();
    options.create = access == Access::Create;
    let mut location = location;
    let history_schema = match &location {
        Location::File(path) => {
            warn_unused_by_file_databases(config);
            // Every statement of a run that takes the lock (before it: the lint reads the
            // schema) waits for a busy database as long as for the lock.
            #[cfg(feature = "sqlite")]
            {
                let default = godwit_sqlite::SqliteOptions::default().busy_timeout;
                options.busy_timeout = lock_wait.map(|wait| wait.max(default));
            }
            if access == Access::Preview && !path.exists() {
                location = Location::Memory;
            }
            // A database file is one schema, where godwit keeps its history.
            None
        }
        Location::Memory => {
            warn_unused_by_file_databases(config);
            None
        }
        _ => {
            options.schema.clone_from(&config.schema);
            options
                .application_name
                .clone_from(&config.application_name);
            config
                .history_schema
                .clone()
                .or_else(|| config.schema.clone())
        }
    };
    let store = godwit::open(backend.as_ref(), url.secret(), &location, &options)
        .await
        .map_err(|error| connect_error(error, url))?;
    Ok(Opened {
        store,
        history: HistoryTable::new(history_schema, config.history_table.clone()),
    })
}

/// A connection that can create scratch databases of `url`'s engine. A database file is not
/// opened (nor created): its engine's scratch databases are in memory, so an in-memory
/// database serves. A server is connected to, where scratch databases will be created.
pub(crate) async fn open_scratch_host(
    url: &DatabaseUrl,
    config: &Config,
) -> Result<Box<dyn Store>, CliError> {
    let (backend, location) = locate(url.secret())?;
    if let Location::File(_) = location {
        warn_unused_by_file_databases(config);
        return godwit::open(
            backend.as_ref(),
            url.secret(),
            &Location::Memory,
            &ConnectOptions::default(),
        )
        .await
        .map_err(|error| connect_error(error, url));
    }
    Ok(open(url, config, Access::Existing, None).await?.store)
}

/// The dialect called `name` (`lint --dialect`), when its backend is compiled in.
pub(crate) fn dialect_named(name: &'static str) -> Result<&'static dyn Dialect, CliError> {
    crate::plugins::registry()
        .backends()
        .find(|backend| backend.name() == name)
        .map(|backend| backend.dialect())
        .ok_or(CliError::DialectMissing { feature: name })
}

/// The backend serving `url`'s scheme, and what the URL points at.
pub(crate) fn locate(url: &str) -> Result<(Arc<dyn Backend>, Location), CliError> {
    crate::plugins::locate(url).map_err(|error| match error {
        ConnectError::Url(error @ UrlError::UnknownScheme { .. }) => CliError::UnknownScheme {
            error,
            plugins: crate::plugins::searched_sentence(),
        },
        ConnectError::Url(error) => CliError::Url(error),
        ConnectError::BackendMissing { url, feature } => CliError::BackendMissing {
            url,
            feature,
            plugins: crate::plugins::searched_sentence(),
        },
        other => CliError::Connect(other),
    })
}

/// The CLI's error for `error`, naming where the URL came from.
fn connect_error(error: ConnectError, url: &DatabaseUrl) -> CliError {
    match error {
        ConnectError::Url(error) => CliError::Url(error),
        ConnectError::BackendMissing { url, feature } => CliError::BackendMissing {
            url,
            feature,
            plugins: crate::plugins::searched_sentence(),
        },
        ConnectError::NoDatabase { path } => CliError::NoDatabase { path },
        ConnectError::DirectoryNotDatabase { path, .. } => CliError::DirectoryNotDatabase {
            url: url.redacted(),
            origin: url.origin().clone(),
            path,
        },
        ConnectError::Open { source, .. } => CliError::Open {
            url: url.redacted(),
            origin: url.origin().clone(),
            source,
        },
        // A variant added to the facade: its own message says what went wrong.
        other => CliError::Connect(other),
    }
}

/// Warn about settings a database file has no use for, rather than failing: one config file
/// often serves a SQLite database in development and PostgreSQL in production.
fn warn_unused_by_file_databases(config: &Config) {
    let unused = [
        ("schema", config.schema.is_some()),
        ("application_name", config.application_name.is_some()),
    ];
    for (key, set) in unused {
        if set {
            tracing::warn!(
                "`{key}` in the config file applies to PostgreSQL only; ignored for SQLite"
            );
        }
    }
    if let Some(schema) = &config.history_schema
        && !schema.eq_ignore_ascii_case("main")
    {
        tracing::warn!(
            "the schema `{schema}` of history_table applies to PostgreSQL only; SQLite keeps the history in the table {} of the database file",
            config.history_table
        );
    }
}
