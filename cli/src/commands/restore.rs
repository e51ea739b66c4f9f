//! `godwit restore`: put a backup taken by `migrate --backup` back in place of the database.

use std::path::Path;

use godwit_core::BackupError;
use serde::Serialize;

use crate::args::RestoreArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::output::Output;

#[derive(Serialize)]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(
        dead_code,
        reason = "only SQLite, PostgreSQL and MySQL backups are restored"
    )
)]
struct Restored<'a> {
    restored: bool,
    database: String,
    backup: &'a Path,
    /// The command that restores it, when godwit leaves that to the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<String>,
}

/// Restore the configured database from `args.backup`: SQLite in place, PostgreSQL and MySQL
/// by printing the command that restores it.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(
        unused_variables,
        reason = "only SQLite, PostgreSQL and MySQL backups are restored"
    )
)]
pub(super) async fn run(
    config: &Config,
    args: &RestoreArgs,
    output: Output,
) -> Result<(), CliError> {
    let url = config.url()?;
    let (backend, location) = crate::backend::locate(url.secret())?;
    let refused = |source| CliError::Restore {
        database: url.redacted().to_string(),
        backup: args.backup.clone(),
        source,
    };
    match (backend.name(), location) {
        #[cfg(feature = "sqlite")]
        ("sqlite", godwit_core::Location::File(path)) => {
            sqlite::restore(config, url, &path, args, output).await
        }
        #[cfg(feature = "sqlite")]
        ("sqlite", _) => Err(refused(BackupError::InMemory)),
        #[cfg(feature = "postgres")]
        ("postgres", _) => postgres::print(url, &args.backup, output),
        #[cfg(feature = "mysql")]
        ("mysql", _) => mysql::print(url, &args.backup, output),
        (dialect, _) => Err(refused(BackupError::Unsupported { dialect })),
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::Path;

    use godwit_core::{BackupError, HistoryTable, LockOwner};
    use godwit_sqlite::{SqliteOptions, SqliteStore};

    use super::Restored;
    use crate::args::RestoreArgs;
    use crate::config::{Config, DatabaseUrl};
    use crate::error::CliError;
    use crate::output::{Format, Output};
    use crate::prompt;

    /// Check the backup and that nobody uses the database, ask, then copy. Every refusal comes
    /// before the database is touched.
    pub(super) async fn restore(
        config: &Config,
        url: &DatabaseUrl,
        database: &Path,
        args: &RestoreArgs,
        output: Output,
    ) -> Result<(), CliError> {
        let shown = database.display().to_string();
        let failed = |source: BackupError| CliError::Restore {
            database: shown.clone(),
            backup: args.backup.clone(),
            source,
        };
        godwit_sqlite::check_backup(&args.backup).map_err(failed)?;
        let history = HistoryTable::new(None, config.history_table.clone());
        // A missing database file is restored into without being created first, so a "no" at
        // the prompt leaves nothing behind.
        let mut store = if database.exists() {
            let mut store = open(url, database)?;
            store.check_restorable(&history).map_err(failed)?;
            Some(store)
        } else {
            None
        };
        if !args.yes {
            if !prompt::interactive() {
                return Err(CliError::RestoreNeedsConsent { database: shown });
            }
            let question = format!(
                "this replaces everything in {shown} with the contents of {}.",
                args.backup.display()
            );
            if !prompt::confirm_typed(&question)? {
                return Err(CliError::Declined);
            }
        }
        let store = match store.as_mut() {
            Some(store) => store,
            None => store.insert(open(url, database)?),
        };
        let owner = LockOwner::this_process(format!("godwit {}", env!("CARGO_PKG_VERSION")));
        store
            .restore(&args.backup, &history, &owner)
            .await
            .map_err(failed)?;
        match output.format() {
            Format::Human => {
                output.summary(&format!("restored {shown} from {}", args.backup.display()))
            }
            Format::Json => output.json(&Restored {
                restored: true,
                database: shown.clone(),
                backup: &args.backup,
                command: None,
            }),
        }
    }

    fn open(url: &DatabaseUrl, database: &Path) -> Result<SqliteStore, CliError> {
        SqliteStore::open(database, &SqliteOptions::default()).map_err(|source| CliError::Open {
            url: url.redacted(),
            origin: url.origin().clone(),
            source,
        })
    }
}

/// Print `command`, which restores `backup` into the configured database and which godwit
/// leaves to the user of `engine` (`PostgreSQL`), and change nothing. `password` says where
/// the command's password comes from, `note` what the restore does to what the database holds.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn print_command(
    url: &crate::config::DatabaseUrl,
    backup: &Path,
    output: Output,
    engine: &str,
    command: String,
    password: &str,
    note: &str,
) -> Result<(), CliError> {
    use crate::output::Format;
    if !backup.is_file() {
        output.warning(&format!("{} is not a file here", backup.display()));
    }
    match output.format() {
        Format::Human => output.data(&format!(
            "godwit does not restore {engine} databases itself; nothing was changed. To restore \
             {} from {}, run ({password}):\n\n  {command}\n\n{note}\n",
            url.redacted(),
            backup.display()
        )),
        Format::Json => output.json(&Restored {
            restored: false,
            database: url.redacted().to_string(),
            backup,
            command: Some(command),
        }),
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use std::path::Path;

    use crate::config::DatabaseUrl;
    use crate::error::CliError;
    use crate::output::Output;

    /// godwit leaves a PostgreSQL restore to pg_restore, whose options depend on what else lives
    /// in the database; it prints the command and changes nothing.
    pub(super) fn print(url: &DatabaseUrl, backup: &Path, output: Output) -> Result<(), CliError> {
        super::print_command(
            url,
            backup,
            output,
            "PostgreSQL",
            godwit_postgres::restore_command(url.secret(), backup),
            "with the password in place of ***, or in PGPASSWORD",
            "--clean drops and recreates the objects the dump holds; objects created after the \
             backup stay, so to start afresh restore into a new, empty database instead",
        )
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use std::path::Path;

    use crate::config::DatabaseUrl;
    use crate::error::CliError;
    use crate::output::Output;

    /// godwit leaves a MySQL restore to the `mariadb` client, which replays the dump's SQL; it
    /// prints the command and changes nothing.
    pub(super) fn print(url: &DatabaseUrl, backup: &Path, output: Output) -> Result<(), CliError> {
        super::print_command(
            url,
            backup,
            output,
            "MySQL",
            godwit::mysql::restore_command(url.secret(), backup),
            "the client asks for the password; `mysql` takes the same arguments",
            "the dump drops and recreates each table it holds; tables created after the backup \
             stay, so to start afresh restore into a new, empty database instead",
        )
    }
}
