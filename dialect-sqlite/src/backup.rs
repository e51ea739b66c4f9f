//! Backups and restores through SQLite's online backup API, which copies a live database page
//! by page under SQLite's own locks, so the copy is consistent without stopping other
//! connections for longer than one read transaction.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use godwit_core::backup::{BackupError, BackupRequest};
use rusqlite::backup::{Backup as Copier, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::error::Failure;

/// The first 16 bytes of every SQLite database file.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How a copy ended when it could not start.
pub(crate) enum Blocked {
    /// Another connection kept a lock past the patience allowed.
    Busy,
    /// The engine failed.
    Failed(Failure),
}

impl From<rusqlite::Error> for Blocked {
    fn from(error: rusqlite::Error) -> Self {
        Blocked::Failed(error.into())
    }
}

/// Copy every page of `from` into `to` in one step, so the copy is one consistent snapshot,
/// retrying while another connection holds a conflicting lock for up to `patience`.
pub(crate) fn copy(
    from: &Connection,
    to: &mut Connection,
    patience: Duration,
) -> Result<(), Blocked> {
    let started = Instant::now();
    let copier = Copier::new(from, to)?;
    loop {
        match copier.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // Busy or Locked: another connection holds a conflicting lock.
            _ if started.elapsed() >= patience => return Err(Blocked::Busy),
            _ => std::thread::sleep(Duration::from_millis(50).min(patience)),
        }
    }
}

/// Create the new, empty file a backup of the database at `database` goes to:
/// `<name>.<stamp>.backup` in the requested directory (created when missing) or beside the
/// database. Returns its absolute path; a file that exists is never reused.
pub(crate) fn reserve(
    database: &Path,
    request: &BackupRequest<'_>,
) -> Result<PathBuf, BackupError> {
    let dir = match request.dir {
        Some(dir) => {
            fs::create_dir_all(dir).map_err(BackupError::io("create the backup directory", dir))?;
            dir
        }
        None => database
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    };
    let name = database
        .file_name()
        .map_or_else(|| "database".into(), |n| n.to_string_lossy().into_owned());
    let path = fs::canonicalize(dir)
        .map_err(BackupError::io("find the backup directory", dir))?
        .join(format!("{name}.{}.backup", request.stamp));
    File::create_new(&path).map_err(BackupError::io("create the backup file", &path))?;
    Ok(path)
}

/// Check that `path` holds a SQLite database in good order: SQLite's header, then
/// `PRAGMA quick_check` on a read-only connection. Changes nothing.
pub fn check_backup(path: &Path) -> Result<(), BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: path.to_path_buf(),
        dialect: "SQLite",
        reason,
    };
    let mut header = [0_u8; 16];
    let read = File::open(path).and_then(|mut file| file.read(&mut header));
    match read {
        Ok(n) if n == HEADER.len() && &header == HEADER => {}
        Ok(_) => {
            return Err(not_a_backup(
                "it does not start with the SQLite database header".into(),
            ));
        }
        Err(error) => return Err(BackupError::io("read", path)(error)),
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| not_a_backup(Failure::from(error).message))?;
    let verdict: Vec<String> = conn
        .prepare("PRAGMA quick_check")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(|error| not_a_backup(Failure::from(error).message))?;
    if verdict != ["ok"] {
        return Err(not_a_backup(format!(
            "PRAGMA quick_check found: {}",
            verdict.join("; ")
        )));
    }
    Ok(())
}
