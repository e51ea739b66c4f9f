//! The migration lock as a row: SQLite has no session locks that outlive a transaction, so a
//! runner marks the database as taken in a one-row table, written under `BEGIN IMMEDIATE` so
//! that two runners cannot both find it empty.

use godwit_core::{LockHolder, LockOwner, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{database, is_busy};

/// The lock row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockRow {
    host: Option<String>,
    pid: Option<i64>,
    application: Option<String>,
    acquired_at: Option<String>,
}

impl LockRow {
    /// Whether this is the row `held` describes.
    pub(crate) fn is(&self, held: &Held) -> bool {
        self.host.as_deref() == Some(held.host.as_str())
            && self.pid == Some(held.pid)
            && self.acquired_at.as_deref() == Some(held.acquired_at.as_str())
    }

    /// The row as a holder, its liveness judged from this machine (`local_host`).
    pub(crate) fn holder(&self, local_host: &str) -> LockHolder {
        LockHolder {
            host: self.host.clone(),
            pid: self.pid,
            application: self.application.clone(),
            since: self.acquired_at.clone(),
            alive: self.alive(local_host),
        }
    }

    /// Whether the holding process still runs: known only for a holder on this machine, and
    /// only where the process table can be read.
    fn alive(&self, local_host: &str) -> Option<bool> {
        if self.host.as_deref() != Some(local_host) {
            return None;
        }
        process_alive(self.pid?)
    }
}

#[cfg(target_os = "linux")]
fn process_alive(pid: i64) -> Option<bool> {
    Some(pid > 0 && std::path::Path::new("/proc").join(pid.to_string()).exists())
}

// Without /proc there is no dependency-free way to ask whether a pid runs, and guessing "dead"
// could hand the lock to a second runner, so the holder's state is left unknown.
#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: i64) -> Option<bool> {
    None
}

/// A lock a store took, identified by its whole row rather than by host and pid: two stores
/// in one process share those, and one must not release a lock the other took over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    host: String,
    pid: i64,
    acquired_at: String,
}

/// The name of this machine, as compared with a lock row's host.
pub(crate) fn local_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// What one attempt to take the lock found.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The lock is ours now (or was already this store's).
    Acquired(Held),
    /// Another connection held the write lock for longer than the busy timeout.
    Busy,
    /// Someone else holds it.
    Held(LockHolder),
}

/// SQL for the lock table `table` (quoted).
fn create_sql(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n\
         \x20   id INTEGER PRIMARY KEY CHECK (id = 1),\n\
         \x20   host TEXT,\n\
         \x20   pid INTEGER,\n\
         \x20   application TEXT,\n\
         \x20   acquired_at TEXT\n\
         )"
    )
}

/// Whether the lock table `name` (unquoted) exists, so reads do not create it.
pub(crate) fn table_exists(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
    .map_err(database)
}

/// The lock row in `table` (quoted), if any.
pub(crate) fn read(conn: &Connection, table: &str) -> Result<Option<LockRow>, StoreError> {
    conn.query_row(
        &format!("SELECT host, pid, application, acquired_at FROM {table} WHERE id = 1"),
        [],
        |row| {
            Ok(LockRow {
                host: row.get(0)?,
                pid: row.get(1)?,
                application: row.get(2)?,
                acquired_at: row.get(3)?,
            })
        },
    )
    .optional()
    .map_err(database)
}

/// Delete the lock row of `table` (quoted), whoever holds it.
pub(crate) fn delete(conn: &Connection, table: &str) -> Result<(), StoreError> {
    conn.execute(&format!("DELETE FROM {table} WHERE id = 1"), [])
        .map(drop)
        .map_err(database)
}

/// Delete the lock row of `table` (quoted) if it is still the one `held` describes.
pub(crate) fn release(conn: &Connection, table: &str, held: &Held) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "DELETE FROM {table} WHERE id = 1 AND host = ?1 AND pid = ?2 AND acquired_at = ?3"
        ),
        params![held.host, held.pid, held.acquired_at],
    )
    .map(drop)
    .map_err(database)
}

/// How a unit of work in a write transaction wants it to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Keep what it wrote.
    Commit,
    /// It only looked; undo nothing but end the transaction.
    Rollback,
}

/// Run `work` in a `BEGIN IMMEDIATE` transaction and end it as `work` asks; an error rolls
/// back. `None` means another connection kept the write lock past the busy timeout.
pub(crate) fn in_write_transaction<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<(End, T), StoreError>,
) -> Result<Option<T>, StoreError> {
    match conn.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {}
        Err(error) if is_busy(&error) => return Ok(None),
        Err(error) => return Err(database(error)),
    }
    match work(conn) {
        Ok((End::Commit, value)) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(Some(value)),
            Err(error) => {
                // A failed COMMIT (readers still busy in rollback-journal mode) leaves the
                // transaction open; end it so the connection is usable for the next attempt.
                let _ = conn.execute_batch("ROLLBACK");
                if is_busy(&error) {
                    Ok(None)
                } else {
                    Err(database(error))
                }
            }
        },
        Ok((End::Rollback, value)) => {
            conn.execute_batch("ROLLBACK").map_err(database)?;
            Ok(Some(value))
        }
        Err(error) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

/// One attempt to take the lock in `table` (quoted) for `owner`. `held` is the lock this
/// store already took, which makes taking it again a no-op.
pub(crate) fn try_acquire(
    conn: &Connection,
    table: &str,
    owner: &LockOwner,
    held: Option<&Held>,
    local_host: &str,
    now: &str,
) -> Result<Attempt, StoreError> {
    let attempt = in_write_transaction(conn, |conn| {
        conn.execute(&create_sql(table), []).map_err(database)?;
        let insert = || -> Result<Held, StoreError> {
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO {table} (id, host, pid, application, acquired_at) \
                     VALUES (1, ?1, ?2, ?3, ?4)"
                ),
                params![owner.host, owner.pid, owner.application, now],
            )
            .map_err(database)?;
            Ok(Held {
                host: owner.host.clone(),
                pid: i64::from(owner.pid),
                acquired_at: now.to_string(),
            })
        };
        match (read(conn, table)?, held) {
            (None, _) => Ok((End::Commit, Attempt::Acquired(insert()?))),
            (Some(row), Some(held)) if row.is(held) => {
                Ok((End::Rollback, Attempt::Acquired(held.clone())))
            }
            (Some(row), _) => {
                let holder = row.holder(local_host);
                if holder.alive == Some(false) {
                    tracing::warn!(
                        %holder,
                        "taking over a stale migration lock: its process no longer runs"
                    );
                    Ok((End::Commit, Attempt::Acquired(insert()?)))
                } else {
                    Ok((End::Rollback, Attempt::Held(holder)))
                }
            }
        }
    })?;
    Ok(attempt.unwrap_or(Attempt::Busy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(host: &str, pid: i64) -> LockRow {
        LockRow {
            host: Some(host.into()),
            pid: Some(pid),
            application: Some("test".into()),
            acquired_at: None,
        }
    }

    #[test]
    fn liveness_is_known_only_on_this_host() {
        assert_eq!(row("elsewhere", 1).alive("here"), None);
        #[cfg(target_os = "linux")]
        {
            let ours = i64::from(std::process::id());
            assert_eq!(row("here", ours).alive("here"), Some(true));
            assert_eq!(row("here", 999_999_999).alive("here"), Some(false));
            assert_eq!(row("here", -4).alive("here"), Some(false));
        }
    }

    #[test]
    fn a_held_lock_is_its_whole_row() {
        let held = Held {
            host: "here".into(),
            pid: 7,
            acquired_at: "2024-01-01T00:00:00.000Z".into(),
        };
        let mut ours = row("here", 7);
        ours.acquired_at = Some(held.acquired_at.clone());
        assert!(ours.is(&held));
        let mut retaken = ours.clone();
        retaken.acquired_at = Some("2024-01-01T00:00:01.000Z".into());
        assert!(!retaken.is(&held), "same process, later acquisition");
        assert!(!row("here", 7).is(&held));
    }
}
