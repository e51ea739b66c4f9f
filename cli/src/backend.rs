//! Opening a database: the URL's scheme picks a backend compiled in with its cargo feature.
//! A backend left out of the build is a typed error naming the feature.

use std::time::Duration;

use godwit_core::url::{self, Target};
use godwit_core::{HistoryTable, Store};

use crate::config::{Config, DatabaseUrl};
use crate::error::CliError;

/// An open database and where its history lives.
#[derive(Debug)]
pub struct Opened {
    /// The connection.
    pub store: Box<dyn Store>,
    /// The history table, qualified with the configured schema where the backend has schemas.
    pub history: HistoryTable,
}

/// What a command may do to a SQLite file that does not exist yet. (A PostgreSQL database is
/// never created by opening it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
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
#[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
pub async fn open(
    url: &DatabaseUrl,
    config: &Config,
    access: Access,
    lock_wait: Option<Duration>,
) -> Result<Opened, CliError> {
    let target = url::parse(url.secret())?;
    tracing::debug!(url = %url.redacted(), backend = target.feature(), "opening the database");
    let (store, schema) = match target {
        // SQLite would only say it is "unable to open database file".
        #[cfg(feature = "sqlite")]
        Target::SqliteFile(path) if path.is_dir() => {
            return Err(CliError::DirectoryNotDatabase {
                url: url.redacted(),
                origin: url.origin().clone(),
                path,
            });
        }
        #[cfg(feature = "sqlite")]
        Target::SqliteFile(path) if !path.exists() && access != Access::Create => {
            if access == Access::Existing {
                return Err(CliError::NoDatabase { path });
            }
            (sqlite::open_in_memory(config), None)
        }
        #[cfg(feature = "sqlite")]
        Target::SqliteFile(path) => (sqlite::open_file(&path, config, lock_wait), None),
        #[cfg(feature = "sqlite")]
        Target::SqliteMemory => (sqlite::open_in_memory(config), None),
        #[cfg(feature = "postgres")]
        Target::Postgres(text) => (
            postgres::connect(&text, config).await,
            config
                .history_schema
                .clone()
                .or_else(|| config.schema.clone()),
        ),
        #[cfg(not(all(feature = "sqlite", feature = "postgres")))]
        missing => {
            return Err(CliError::BackendMissing {
                feature: missing.feature(),
            });
        }
    };
    let store = store.map_err(|source| CliError::Open {
        url: url.redacted(),
        origin: url.origin().clone(),
        source,
    })?;
    Ok(Opened {
        store,
        history: HistoryTable::new(schema, config.history_table.clone()),
    })
}

/// A connection that can create scratch databases of `url`'s engine. A SQLite file is not
/// opened (nor created): its scratch databases are in memory, so an in-memory database serves.
/// A PostgreSQL server is connected to, where scratch databases will be created.
pub async fn open_scratch_host(
    url: &DatabaseUrl,
    config: &Config,
) -> Result<Box<dyn Store>, CliError> {
    #[cfg(feature = "sqlite")]
    if let Target::SqliteFile(_) = url::parse(url.secret())? {
        return sqlite::open_in_memory(config).map_err(|source| CliError::Open {
            url: url.redacted(),
            origin: url.origin().clone(),
            source,
        });
    }
    Ok(open(url, config, Access::Existing, None).await?.store)
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::Path;
    use std::time::Duration;

    use godwit_core::{Store, StoreError};
    use godwit_sqlite::{SqliteOptions, SqliteStore};

    use crate::config::Config;

    /// Warn about settings SQLite has no use for, rather than failing: one config file often
    /// serves a SQLite database in development and PostgreSQL in production.
    fn check(config: &Config) {
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
        // A SQLite file is one schema, `main`, where godwit keeps its history.
        if let Some(schema) = &config.history_schema
            && !schema.eq_ignore_ascii_case("main")
        {
            tracing::warn!(
                "the schema `{schema}` of history_table applies to PostgreSQL only; SQLite keeps the history in the table {} of the database file",
                config.history_table
            );
        }
    }

    pub(super) fn open_file(
        path: &Path,
        config: &Config,
        lock_wait: Option<Duration>,
    ) -> Result<Box<dyn Store>, StoreError> {
        check(config);
        let mut options = SqliteOptions::default();
        // Every statement of a run that takes the lock (before it: the lint reads the schema)
        // waits for a busy database as long as for the lock.
        if let Some(wait) = lock_wait {
            let busy_timeout = options.busy_timeout.max(wait);
            options = options.with_busy_timeout(busy_timeout);
        }
        Ok(Box::new(SqliteStore::open(path, &options)?))
    }

    pub(super) fn open_in_memory(config: &Config) -> Result<Box<dyn Store>, StoreError> {
        check(config);
        Ok(Box::new(SqliteStore::open_in_memory()?))
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use godwit_core::{Store, StoreError};
    use godwit_postgres::{PgOptions, PgStore};

    use crate::config::Config;

    pub(super) async fn connect(url: &str, config: &Config) -> Result<Box<dyn Store>, StoreError> {
        let mut options = PgOptions::default();
        options.schema.clone_from(&config.schema);
        if let Some(name) = &config.application_name {
            options.application_name.clone_from(name);
        }
        Ok(Box::new(PgStore::connect(url, &options).await?))
    }
}
