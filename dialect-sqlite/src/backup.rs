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
/// `<name>.<stamp>.backup` in the requested directory (created when missing, readable by its
/// owner alone) or beside the database. Returns its absolute path; a file that exists is never
/// reused.
///
/// The file gets the database file's permission bits from the start, whatever the umask: a
/// copy must not let read what the database does not, and SQLite gives the copy's journal
/// files the copy's bits.
pub(crate) fn reserve(
    database: &Path,
    request: &BackupRequest<'_>,
) -> Result<PathBuf, BackupError> {
    let dir = match request.dir {
        Some(dir) => {
            create_private_dir(dir).map_err(BackupError::io("create the backup directory", dir))?;
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
    let permissions = fs::metadata(database)
        .map_err(BackupError::io("read the permissions of", database))?
        .permissions();
    create_new_with(&path, permissions)
        .map_err(BackupError::io("create the backup file", &path))?;
    Ok(path)
}

/// Create `dir` and its missing parents, readable by their owner alone (0700 on Unix);
/// directories that exist keep their permissions.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Create the file `path`, which must not exist, with `permissions`. On Unix it is created
/// with them, so it is never more open than asked for, then given them exactly, since the
/// umask may have taken some away.
fn create_new_with(path: &Path, permissions: fs::Permissions) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(permissions.mode() & 0o777);
    }
    options.open(path)?.set_permissions(permissions)
}

/// Remove what is left of a backup that failed: the file and the journal files SQLite keeps
/// beside it (`-journal`, or `-wal` and `-shm` when the database copied is in WAL mode, since
/// the copy then is too). A file that is not there is no error.
pub(crate) fn remove_incomplete(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match fs::remove_file(&file) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

/// Open the backup at `path` to read it, as an immutable file: SQLite then takes no locks
/// and keeps no `-wal` or `-shm` file beside it. A backup of a WAL database is itself in WAL
/// mode, and a read-only connection to it would otherwise create both files and, unable to
/// write, leave them behind. Nothing writes to a backup while godwit reads it.
pub(crate) fn open_backup(path: &Path) -> rusqlite::Result<Connection> {
    let uri = immutable_uri(path).ok_or_else(|| rusqlite::Error::InvalidPath(path.into()))?;
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
}

/// `file:///absolute/path?immutable=1`, the path percent-encoded as SQLite's URI rules ask;
/// `None` for a path that has no absolute form (empty, or relative to a working directory
/// that is gone).
fn immutable_uri(path: &Path) -> Option<String> {
    let absolute = std::path::absolute(path).ok()?;
    let mut uri = url::Url::from_file_path(absolute).ok()?;
    uri.set_query(Some("immutable=1"));
    Some(uri.into())
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
    let conn = open_backup(path).map_err(|error| not_a_backup(Failure::from(error).message))?;
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
