//! Backups taken before a migration run: what a store is asked for, what it hands back, and
//! how taking or restoring one fails. The copying itself is I/O and lives in the backend
//! crates ([`Store::backup`](crate::Store::backup)); this module only names things.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::data::{LockHolder, StoreError};

/// What a [`Store::backup`](crate::Store::backup) call should produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupRequest<'a> {
    /// The directory to write into, created when missing; `None` lets the backend choose
    /// (SQLite: beside the database file; PostgreSQL: the working directory).
    pub dir: Option<&'a Path>,
    /// The UTC time of the backup as [`stamp`] spells it, for the file name.
    pub stamp: &'a str,
}

/// A backup that was written completely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// The file, as an absolute path, so the history row names it unambiguously.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// How to ask for a backup before a migration run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupOptions {
    /// The directory to write into; see [`BackupRequest::dir`].
    pub dir: Option<PathBuf>,
}

/// The compact UTC time of a backup file name (`20261125T101500.123Z`) from an RFC 3339 time
/// (`2026-11-25T10:15:00.123Z`). Milliseconds keep two runs of one second apart; the form has
/// no `:`, which some file systems refuse.
pub fn stamp(rfc3339: &str) -> String {
    rfc3339
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect()
}

/// The name of the backup file of the database `database` taken at `stamp` ([`stamp`]):
/// `<database>.<stamp>.<extension>`, with every character a file system may refuse in the
/// database's name replaced by `_`.
pub fn file_name(database: &str, stamp: &str, extension: &str) -> String {
    let name: String = database
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}.{stamp}.{extension}")
}

/// Create the new, empty file a dump tool writes `database`'s dump to (named by [`file_name`]
/// with `extension`) and return its absolute path; a file that exists is never reused. A dump
/// holds every row, so the file is created readable by its owner alone (0600 on Unix; the
/// tools write into it and keep its mode), and so is a directory created for it (0700); a
/// directory that exists keeps its permissions.
pub fn reserve_file(
    database: &str,
    request: &BackupRequest<'_>,
    extension: &str,
) -> Result<PathBuf, BackupError> {
    let dir = request.dir.unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(BackupError::io("create the backup directory", dir))?;
    let path = std::fs::canonicalize(dir)
        .map_err(BackupError::io("find the backup directory", dir))?
        .join(file_name(database, request.stamp, extension));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&path)
        .map_err(BackupError::io("create the backup file", &path))?;
    Ok(path)
}

/// `text` as one POSIX shell word, for a command godwit prints for the user to run: as it is
/// when it is plain, else in single quotes.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Taking or restoring a backup failed. When it happened before a migration run, no migration
/// ran.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// Its variant's name in snake_case (`<&str>::from(&error)`): a kind scripts can match on.
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum BackupError {
    /// The backend has no way to take backups.
    #[error("the {dialect} backend cannot take backups; back the database up with its own tools")]
    Unsupported {
        /// The backend's name.
        dialect: &'static str,
    },
    /// The database exists only in the memory of one connection.
    #[error(
        "an in-memory database cannot be backed up or restored: it lives only as long as its connection; use a database file"
    )]
    InMemory,
    /// A file or directory could not be read or written.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What godwit was doing (`create the backup file`, `read`).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The database engine failed while copying.
    #[error("copying {} to {} failed: {message}", from.display(), to.display())]
    Copy {
        /// What was copied.
        from: PathBuf,
        /// Where to.
        to: PathBuf,
        /// The engine's message.
        message: String,
        /// The engine's error code name.
        code: Option<String>,
    },
    /// A program the backup needs is not installed, or not on `PATH`.
    #[error("{program} is not on PATH; {install}")]
    ProgramMissing {
        /// The program (`pg_dump`).
        program: &'static str,
        /// How to install it.
        install: &'static str,
    },
    /// The program ran and failed; nothing was kept of what it wrote.
    #[error("{program} failed ({status}): {stderr}{}", advice.map(|a| format!("; {a}")).unwrap_or_default())]
    ProgramFailed {
        /// The program.
        program: &'static str,
        /// How it ended (`exit status: 1`).
        status: String,
        /// What it printed on stderr, without any password.
        stderr: String,
        /// What to do about a failure godwit recognises, such as a server newer than the
        /// program.
        advice: Option<&'static str>,
    },
    /// A file given to restore from is not a backup of this backend, or is damaged.
    #[error("{} is not a usable {dialect} backup: {reason}; nothing was changed", path.display())]
    NotABackup {
        /// The file.
        path: PathBuf,
        /// The backend's name.
        dialect: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The database failed outside the copy (reading godwit's lock, taking it).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another connection is using the database, so it cannot be replaced now.
    #[error("{database} is in use by {user}; nothing was changed; try again when it has finished")]
    InUse {
        /// The database.
        database: String,
        /// Who uses it.
        user: DatabaseUser,
    },
}

impl BackupError {
    /// For `map_err`: an I/O error while doing `action` on `path`, as [`BackupError::Io`].
    pub fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
        let path = path.to_path_buf();
        move |source| BackupError::Io {
            action,
            path,
            source,
        }
    }
}

/// Who was found using a database that was to be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseUser {
    /// A godwit run holds the migration lock.
    Runner(LockHolder),
    /// Another connection holds a lock on the database file.
    Connection,
}

impl fmt::Display for DatabaseUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUser::Runner(holder) => {
                write!(f, "a godwit run holding the migration lock ({holder})")
            }
            DatabaseUser::Connection => f.write_str("another connection, which holds a lock on it"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_compact_and_keep_milliseconds() {
        assert_eq!(stamp("2026-11-25T10:15:00.123Z"), "20261125T101500.123Z");
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(
            file_name("shop/eu 1", "20261125T101500.123Z", "sql"),
            "shop_eu_1.20261125T101500.123Z.sql"
        );
    }
}
