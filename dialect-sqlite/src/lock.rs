//! The migration lock as a row: SQLite has no session locks that outlive a transaction, so a
//! runner marks the database as taken in a one-row table, written under `BEGIN IMMEDIATE` so
//! that two runners cannot both find it empty.

use std::path::Path;

use godwit_core::{Liveness, LockHolder, LockOwner, StoreError};
use rusqlite::types::FromSql;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{database, is_busy};
use crate::process::{self, Machine, Process, Testimony, Witness};

/// The lock row as stored. Every field may be missing: a row written by an older godwit lacks
/// the columns added since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockRow {
    host: Option<String>,
    pid: Option<i64>,
    application: Option<String>,
    acquired_at: Option<String>,
    /// The boot id of the holder's machine.
    boot_id: Option<String>,
    /// When the holding process started, in clock ticks after boot (`/proc/<pid>/stat`).
    start_time: Option<i64>,
    /// The pid namespace its pid belongs to.
    pid_namespace: Option<String>,
    /// The identity of the witness file the holder keeps locked, when it took one.
    witness: Option<String>,
}

impl LockRow {
    /// Whether this is the row `held` describes.
    pub(crate) fn is(&self, held: &Held) -> bool {
        self.host.as_deref() == Some(held.host.as_str())
            && self.pid == Some(held.pid)
            && self.acquired_at.as_deref() == Some(held.acquired_at.as_str())
    }

    /// The row as a holder, its liveness judged from `here`. `witness` is the witness file of
    /// this lock, if the database has one.
    pub(crate) fn holder(&self, here: &Machine, witness: Option<&Path>) -> LockHolder {
        let liveness = self.liveness(
            here,
            |id| match witness.map(|path| Witness::ask(path, id, false)) {
                Some(Testimony::Held) => Some(true),
                Some(Testimony::Free(_)) => Some(false),
                Some(Testimony::Silent) | None => None,
            },
            process::start_time,
        );
        self.described(liveness)
    }

    fn described(&self, liveness: Liveness) -> LockHolder {
        LockHolder {
            host: self.host.clone(),
            pid: self.pid,
            application: self.application.clone(),
            since: self.acquired_at.clone(),
            liveness,
        }
    }

    /// Whether the holder still runs, as far as `here` can tell. `witness` asks the witness
    /// file the row names (`Some(true)`: locked, `Some(false)`: unlocked, `None`: it proves
    /// nothing); `process` reads the process table.
    fn liveness(
        &self,
        here: &Machine,
        witness: impl FnOnce(&str) -> Option<bool>,
        process: impl FnOnce(i64) -> Process,
    ) -> Liveness {
        let same_host = self.host.as_deref() == Some(here.host.as_str());
        // The boot id tells machines apart where host names cannot: containers of one machine
        // share it under names of their own, and a machine that restarted has a new one. A
        // row without one (an older godwit) is judged by its host name, as it was.
        let same_machine = match (&self.boot_id, &here.boot_id) {
            (Some(theirs), Some(ours)) => theirs == ours,
            _ => same_host,
        };
        if !same_machine {
            // Same name, other boot: every process of the boot that took the lock is gone.
            return if same_host {
                Liveness::Rebooted
            } else {
                Liveness::OtherHost
            };
        }
        if let Some(id) = &self.witness
            && let Some(held) = witness(id)
        {
            return if held {
                Liveness::Running
            } else {
                Liveness::Exited
            };
        }
        // A pid means something only in its own namespace: here it may name another process,
        // or none, while the holder runs on in a container of its own.
        if let (Some(theirs), Some(ours)) = (&self.pid_namespace, &here.pid_namespace)
            && theirs != ours
        {
            return Liveness::OtherPidNamespace;
        }
        let Some(pid) = self.pid else {
            return Liveness::Unchecked;
        };
        match process(pid) {
            Process::Unknown => Liveness::Unchecked,
            Process::Absent => Liveness::Exited,
            // Pid 1 of a new container, or any pid handed out again, runs under the holder's
            // pid but started later.
            Process::Started(started) => match self.start_time {
                Some(recorded) if recorded != started => Liveness::PidReused,
                _ => Liveness::Running,
            },
        }
    }
}

/// A lock a store took, identified by its whole row rather than by host and pid: two stores
/// in one process share those, and one must not release a lock the other took over.
#[derive(Debug)]
pub(crate) struct Held {
    host: String,
    pid: i64,
    acquired_at: String,
    /// The witness file kept locked for as long as the lock is held.
    witness: Option<Witness>,
}

impl Held {
    /// Give up the witness, before the row goes.
    pub(crate) fn retire_witness(&mut self) {
        if let Some(witness) = self.witness.take() {
            witness.retire();
        }
    }
}

/// What one attempt to take the lock found.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The lock is ours now.
    Acquired(Held),
    /// This store held it already.
    AlreadyHeld,
    /// Another connection held the write lock for longer than the busy timeout.
    Busy,
    /// Someone else holds it.
    Held(LockHolder),
}

/// The columns added to the lock table after its first layout, each with its type. The lock
/// table is extended only by adding nullable columns, never by changing or removing one: a row
/// an older godwit wrote reads with the new fields missing (and is judged by host and pid, as
/// that godwit judged it), and an older godwit, which names the columns it writes, keeps
/// working on the extended table.
const ADDED_COLUMNS: [(&str, &str); 4] = [
    ("boot_id", "TEXT"),
    ("start_time", "INTEGER"),
    ("pid_namespace", "TEXT"),
    ("witness", "TEXT"),
];

/// Create the lock table `table` (quoted) if missing, and add the columns an older godwit's
/// table lacks. Runs in the write transaction that takes the lock.
fn create(conn: &Connection, table: &str) -> Result<(), StoreError> {
    let added: String = ADDED_COLUMNS
        .iter()
        .map(|(name, kind)| format!(",\n    {name} {kind}"))
        .collect();
    conn.execute(
        &format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n\
             \x20   id INTEGER PRIMARY KEY CHECK (id = 1),\n\
             \x20   host TEXT,\n\
             \x20   pid INTEGER,\n\
             \x20   application TEXT,\n\
             \x20   acquired_at TEXT{added}\n\
             )"
        ),
        [],
    )
    .map_err(database)?;
    let existing: Vec<String> = conn
        .prepare(&format!("SELECT * FROM {table}"))
        .map_err(database)?
        .column_names()
        .map(str::to_lowercase)
        .collect();
    for (name, kind) in ADDED_COLUMNS {
        if !existing.iter().any(|column| column == name) {
            conn.execute(&format!("ALTER TABLE {table} ADD COLUMN {name} {kind}"), [])
                .map_err(database)?;
        }
    }
    Ok(())
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

/// The lock row in `table` (quoted), if any. Columns are read by name, so that a table of an
/// older layout reads with the missing ones as `None`: read-only commands never alter it.
pub(crate) fn read(conn: &Connection, table: &str) -> Result<Option<LockRow>, StoreError> {
    conn.query_row(&format!("SELECT * FROM {table} WHERE id = 1"), [], |row| {
        Ok(LockRow {
            host: column(row, "host")?,
            pid: column(row, "pid")?,
            application: column(row, "application")?,
            acquired_at: column(row, "acquired_at")?,
            boot_id: column(row, "boot_id")?,
            start_time: column(row, "start_time")?,
            pid_namespace: column(row, "pid_namespace")?,
            witness: column(row, "witness")?,
        })
    })
    .optional()
    .map_err(database)
}

/// Column `name` of `row`, `None` when the table has no such column.
fn column<T: FromSql>(row: &rusqlite::Row<'_>, name: &str) -> rusqlite::Result<Option<T>> {
    match row.get(name) {
        Err(rusqlite::Error::InvalidColumnName(_)) => Ok(None),
        other => other,
    }
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

/// Where a lock is taken: the lock table and this machine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site<'a> {
    /// The lock table, quoted.
    pub(crate) table: &'a str,
    /// The lock's witness file, for a database in a file.
    pub(crate) witness: Option<&'a Path>,
    /// The machine the store runs on.
    pub(crate) machine: &'a Machine,
}

/// One attempt to take the lock at `site` for `owner`. `held` is the lock this store already
/// took, which makes taking it again a no-op.
pub(crate) fn try_acquire(
    conn: &Connection,
    site: Site<'_>,
    owner: &LockOwner,
    held: Option<&Held>,
    now: &str,
) -> Result<Attempt, StoreError> {
    let table = site.table;
    let attempt = in_write_transaction(conn, |conn| {
        create(conn, table)?;
        // The witness of a stale lock, found unlocked and kept: the next holder's witness.
        let mut inherited = None;
        match (read(conn, table)?, held) {
            (Some(row), Some(held)) if row.is(held) => {
                return Ok((End::Rollback, Attempt::AlreadyHeld));
            }
            (Some(row), _) => {
                let liveness = row.liveness(
                    site.machine,
                    |id| match site.witness.map(|path| Witness::ask(path, id, true)) {
                        Some(Testimony::Held) => Some(true),
                        Some(Testimony::Free(witness)) => {
                            inherited = Some(witness);
                            Some(false)
                        }
                        Some(Testimony::Silent) | None => None,
                    },
                    process::start_time,
                );
                let holder = row.described(liveness);
                if holder.alive() != Some(false) {
                    return Ok((End::Rollback, Attempt::Held(holder)));
                }
                tracing::warn!(%holder, "taking over a stale migration lock: its holder is gone");
            }
            (None, _) => {}
        }
        let held = insert(conn, site, owner, now, inherited)?;
        Ok((End::Commit, Attempt::Acquired(held)))
    })?;
    Ok(attempt.unwrap_or(Attempt::Busy))
}

/// Write the lock row for `owner`, with what tells its process from a later one under the
/// same pid. The witness (`inherited`, or a new one) is taken only for this process: a lock
/// taken on behalf of another pid must not be kept alive by the store's own process.
fn insert(
    conn: &Connection,
    site: Site<'_>,
    owner: &LockOwner,
    now: &str,
    inherited: Option<Witness>,
) -> Result<Held, StoreError> {
    let pid = i64::from(owner.pid);
    let witness = if owner.pid == std::process::id() {
        inherited.or_else(|| site.witness.and_then(Witness::take))
    } else {
        None
    };
    let start_time = match process::start_time(pid) {
        Process::Started(started) => Some(started),
        Process::Absent | Process::Unknown => None,
    };
    conn.execute(
        &format!(
            "INSERT OR REPLACE INTO {} (id, host, pid, application, acquired_at, boot_id, \
             start_time, pid_namespace, witness) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            site.table
        ),
        params![
            owner.host,
            pid,
            owner.application,
            now,
            site.machine.boot_id,
            start_time,
            site.machine.pid_namespace,
            witness.as_ref().map(Witness::id),
        ],
    )
    .map_err(database)?;
    Ok(Held {
        host: owner.host.clone(),
        pid,
        acquired_at: now.to_string(),
        witness,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(host: &str, boot: &str, namespace: &str) -> Machine {
        Machine {
            host: host.into(),
            boot_id: Some(boot.into()),
            pid_namespace: Some(namespace.into()),
        }
    }

    /// A row as this godwit writes it: pid 1 started at tick 100, witness `w`.
    fn row(host: &str, boot: &str, namespace: &str) -> LockRow {
        LockRow {
            host: Some(host.into()),
            pid: Some(1),
            application: Some("test".into()),
            acquired_at: None,
            boot_id: Some(boot.into()),
            start_time: Some(100),
            pid_namespace: Some(namespace.into()),
            witness: Some("w".into()),
        }
    }

    /// The row as an older godwit wrote it: host, pid, application and time only.
    fn old_row(host: &str) -> LockRow {
        LockRow {
            boot_id: None,
            start_time: None,
            pid_namespace: None,
            witness: None,
            ..row(host, "", "")
        }
    }

    fn judge(row: &LockRow, here: &Machine, witness: Option<bool>, process: Process) -> Liveness {
        row.liveness(here, |_| witness, |_| process)
    }

    #[test]
    fn a_witness_settles_it_on_the_same_machine_whatever_the_namespace() {
        let here = machine("box", "boot-1", "pid:[2]");
        // The holder ran as pid 1 of another namespace: the pid here says nothing of it.
        let theirs = row("box", "boot-1", "pid:[1]");
        let alive = Process::Started(100);
        assert_eq!(judge(&theirs, &here, Some(true), alive), Liveness::Running);
        assert_eq!(judge(&theirs, &here, Some(false), alive), Liveness::Exited);
        // Containers have host names of their own; the boot id shows the machine is one.
        let named = row("container-7", "boot-1", "pid:[1]");
        assert_eq!(judge(&named, &here, Some(false), alive), Liveness::Exited);
        // Without a witness, another namespace cannot be looked into.
        assert_eq!(
            judge(&theirs, &here, None, Process::Absent),
            Liveness::OtherPidNamespace
        );
    }

    #[test]
    fn a_reused_pid_is_no_holder() {
        let here = machine("box", "boot-1", "pid:[1]");
        let ours = row("box", "boot-1", "pid:[1]");
        assert_eq!(
            judge(&ours, &here, None, Process::Started(100)),
            Liveness::Running
        );
        assert_eq!(
            judge(&ours, &here, None, Process::Started(250)),
            Liveness::PidReused
        );
        assert_eq!(judge(&ours, &here, None, Process::Absent), Liveness::Exited);
        assert_eq!(
            judge(&ours, &here, None, Process::Unknown),
            Liveness::Unchecked
        );
    }

    #[test]
    fn another_boot_is_a_restart_here_and_another_machine_elsewhere() {
        let here = machine("box", "boot-2", "pid:[1]");
        let alive = Process::Started(100);
        assert_eq!(
            judge(&row("box", "boot-1", "pid:[1]"), &here, Some(true), alive),
            Liveness::Rebooted
        );
        assert_eq!(
            judge(
                &row("elsewhere", "boot-1", "pid:[1]"),
                &here,
                Some(true),
                alive
            ),
            Liveness::OtherHost
        );
    }

    #[test]
    fn an_older_row_is_judged_by_host_and_pid() {
        let here = machine("box", "boot-1", "pid:[1]");
        assert_eq!(
            judge(&old_row("elsewhere"), &here, None, Process::Absent),
            Liveness::OtherHost
        );
        assert_eq!(
            judge(&old_row("box"), &here, None, Process::Started(5)),
            Liveness::Running
        );
        assert_eq!(
            judge(&old_row("box"), &here, None, Process::Absent),
            Liveness::Exited
        );
    }

    #[test]
    fn a_held_lock_is_its_whole_row() {
        let held = Held {
            host: "here".into(),
            pid: 7,
            acquired_at: "2024-01-01T00:00:00.000Z".into(),
            witness: None,
        };
        let mut ours = old_row("here");
        ours.pid = Some(7);
        ours.acquired_at = Some(held.acquired_at.clone());
        assert!(ours.is(&held));
        let mut retaken = ours.clone();
        retaken.acquired_at = Some("2024-01-01T00:00:01.000Z".into());
        assert!(!retaken.is(&held), "same process, later acquisition");
        assert!(!old_row("here").is(&held));
    }
}
