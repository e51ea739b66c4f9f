//! The store: godwit's I/O on one rusqlite connection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use godwit_core::backup::{Backup, BackupError, BackupRequest, DatabaseUser};
use godwit_core::history::{HistoryTable, now_rfc3339};
use godwit_core::{
    Dialect, LockHolder, LockOwner, LockRequest, Row, Step, Store, StoreError, UnlockOutcome, Value,
};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, MAIN_DB, Statement, ToSql};

use crate::backup::{self, Blocked};
use crate::dialect::SqliteDialect;
use crate::error::{Failure, database, is_busy, is_read_only};
use crate::lock::{self, Attempt, End, Held, Site};
use crate::process::Machine;
use crate::script;

/// The longest busy timeout SQLite can be given: its milliseconds are a C `int`.
const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// How a [`SqliteStore`] uses its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// How long a statement waits for another connection's write lock before failing with
    /// `SQLITE_BUSY`. Default: 5 seconds. SQLite waits at most `i32::MAX` milliseconds (about
    /// 24 days); a longer timeout is cut to that.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl SqliteOptions {
    /// These options with `busy_timeout` changed.
    #[must_use]
    pub fn with_busy_timeout(mut self, busy_timeout: Duration) -> Self {
        self.busy_timeout = busy_timeout;
        self
    }
}

/// A [`Store`] over one SQLite connection.
///
/// Its methods are `async` to fit the [`Store`] trait but run SQLite on the calling thread;
/// see the crate documentation.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    /// The database file; `None` in memory.
    path: Option<PathBuf>,
    dialect: SqliteDialect,
    busy_timeout: Duration,
    /// This machine, against which a lock row is compared to judge its holder's liveness.
    machine: Machine,
    /// The database file with symbolic links resolved, which names the lock's witness files
    /// alike for every runner whatever path it was given; `None` in memory.
    canonical: Option<PathBuf>,
    /// The locks this store took, by lock table name: taking one again is a no-op, and
    /// `unlock` only ever removes these.
    held: BTreeMap<String, Held>,
}

impl SqliteStore {
    /// Open the database file at `path`, creating it when missing.
    pub fn open(path: &Path, options: &SqliteOptions) -> Result<SqliteStore, StoreError> {
        let connect_error = |error: rusqlite::Error| StoreError::Connect {
            target: path.display().to_string(),
            message: open_advice(path, error),
        };
        let conn = Connection::open(path).map_err(connect_error)?;
        let mut store = SqliteStore::new(conn, options).map_err(|error| StoreError::Connect {
            target: path.display().to_string(),
            message: error.to_string(),
        })?;
        store.path = Some(path.to_path_buf());
        store.canonical = Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
        // SQLite reads a file only when it first needs to, so a file that is not a database
        // would otherwise pass here and fail in the middle of the first migration.
        match store
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        {
            Ok(()) => Ok(store),
            // Another connection writes to it: a database, but busy for now.
            Err(error) if is_busy(&error) => Err(store.busy_error()),
            Err(error) => Err(connect_error(error)),
        }
    }

    /// A private database in memory, gone when the store is dropped. For tests and tools.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::in_memory(&SqliteOptions::default())
    }

    pub(crate) fn in_memory(options: &SqliteOptions) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(|error| StoreError::Connect {
            target: ":memory:".into(),
            message: Failure::from(error).message,
        })?;
        SqliteStore::new(conn, options)
    }

    fn new(conn: Connection, options: &SqliteOptions) -> Result<SqliteStore, StoreError> {
        // SQLite counts the wait in milliseconds in a C int (rusqlite panics beyond it); a
        // longer wait is as good as endless, so it is cut to the longest SQLite can count.
        let busy_timeout = options.busy_timeout.min(MAX_BUSY_TIMEOUT);
        conn.busy_timeout(busy_timeout).map_err(database)?;
        // When a write transaction has changed more pages than the cache holds, SQLite writes
        // some to the database file before it commits, and for that takes the file's exclusive
        // lock: from then on until the commit no other connection can read, so `status` and a
        // second runner fail on a busy database for as long as a large migration runs. Up to
        // this many changed pages (64 MiB at the default page size) stay in memory instead,
        // and readers read the state before the transaction; beyond it memory stays bounded
        // and readers wait.
        conn.execute_batch("PRAGMA cache_spill = 16384")
            .map_err(database)?;
        Ok(SqliteStore {
            conn,
            path: None,
            dialect: SqliteDialect,
            busy_timeout,
            machine: Machine::current(),
            canonical: None,
            held: BTreeMap::new(),
        })
    }

    /// The underlying connection, for integrators who run their own statements and for tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn refuse_in_transaction(&self, what: &str) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            Ok(())
        } else {
            Err(StoreError::Other(format!(
                "cannot {what} while a transaction is open on the same connection; \
                 commit or roll back first"
            )))
        }
    }

    /// One attempt at the lock, with SQLite's own wait for the write lock cut to what is
    /// left of the lock timeout, so a busy database cannot stretch the wait past it.
    fn attempt_lock(
        &self,
        request: &LockRequest<'_>,
        table: &str,
        remaining: Duration,
    ) -> Result<Attempt, StoreError> {
        self.conn
            .busy_timeout(self.busy_timeout.min(remaining))
            .map_err(database)?;
        let name = request.table.lock_name();
        let witness = self.witness_path(&name);
        let site = Site {
            table,
            witness: witness.as_deref(),
            machine: &self.machine,
        };
        let attempt = lock::try_acquire(
            &self.conn,
            site,
            request.owner,
            self.held.get(&name),
            &now_rfc3339(),
        );
        self.conn
            .busy_timeout(self.busy_timeout)
            .map_err(database)?;
        attempt
    }

    fn execute_now(&self, sql: &str, params: &[Value]) -> rusqlite::Result<u64> {
        let mut statement = prepare_bound(&self.conn, sql, params)?;
        let before = self.conn.total_changes();
        let mut rows = statement.raw_query();
        while rows.next()?.is_some() {}
        // `changes()` keeps the count of the last INSERT, UPDATE or DELETE even after DDL or a
        // query ran, so it only answers for a statement that changed something.
        Ok(if self.conn.total_changes() == before {
            0
        } else {
            self.conn.changes()
        })
    }

    fn query_now(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut statement = prepare_bound(&self.conn, sql, params).map_err(database)?;
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(database)? {
            let values = (0..columns)
                .map(|i| row.get_ref(i).map_err(database).and_then(read_value))
                .collect::<Result<Row, StoreError>>()?;
            out.push(values);
        }
        Ok(out)
    }

    /// Copy the database into the new file `path`, without the lock rows this store holds: a
    /// restored database must not look locked by a run that ended long ago, or, on another
    /// machine, by one whose liveness cannot be checked.
    fn copy_to(&self, database: &Path, path: PathBuf) -> Result<Backup, BackupError> {
        let failed = |failure: Failure| BackupError::Copy {
            from: database.to_path_buf(),
            to: path.clone(),
            message: failure.message,
            code: failure.code,
        };
        let mut copy = Connection::open(&path).map_err(|e| failed(e.into()))?;
        match backup::copy(&self.conn, &mut copy, self.busy_timeout) {
            Ok(()) => {}
            Err(Blocked::Failed(failure)) => return Err(failed(failure)),
            Err(Blocked::Busy) => return Err(failed(self.busy_failure())),
        }
        for (name, held) in &self.held {
            lock::release(&copy, &self.dialect.qualified_name(None, name), held)?;
        }
        copy.close().map_err(|(_, e)| failed(e.into()))?;
        let bytes = std::fs::metadata(&path)
            .map_err(BackupError::io("read the size of", &path))?
            .len();
        Ok(Backup { path, bytes })
    }

    /// Refuse, without changing anything, when the database cannot be restored into now: a
    /// godwit run holds its migration lock (unless the lock is known to be stale), or another
    /// connection holds a lock on the file (in WAL mode every open connection holds one).
    /// Nothing waits: a busy database is refused at once.
    pub fn check_restorable(&mut self, history: &HistoryTable) -> Result<(), BackupError> {
        let file = self.database_file()?;
        let name = history.lock_name();
        if lock::table_exists(&self.conn, &name)?
            && let Some(row) = lock::read(&self.conn, &self.dialect.qualified_name(None, &name))?
        {
            let holder = row.holder(&self.machine, self.witness_path(&name).as_deref());
            if holder.alive() != Some(false) {
                return Err(BackupError::InUse {
                    database: file,
                    user: DatabaseUser::Runner(holder),
                });
            }
        }
        self.conn.busy_timeout(Duration::ZERO).map_err(database)?;
        let probe = self.lock_file().and_then(|()| self.release_file());
        self.conn
            .busy_timeout(self.busy_timeout)
            .map_err(database)?;
        match probe {
            Ok(()) => Ok(()),
            Err(error) if is_busy(&error) => Err(BackupError::InUse {
                database: file,
                user: DatabaseUser::Connection,
            }),
            Err(error) => Err(database(error).into()),
        }
    }

    /// Replace the whole database with the SQLite database in `backup`, through the backup API,
    /// after [`check_backup`](crate::check_backup) passes.
    ///
    /// Refuses ([`BackupError::InUse`]) rather than waits when a godwit run holds the migration
    /// lock of `history` or another connection holds a lock on the file. While it copies it
    /// holds the migration lock as `owner` (in a database godwit manages) and SQLite's
    /// exclusive lock, so no runner, reader or writer sees a half-restored database. The lock
    /// row goes with the old content.
    pub async fn restore(
        &mut self,
        backup: &Path,
        history: &HistoryTable,
        owner: &LockOwner,
    ) -> Result<(), BackupError> {
        let file = self.database_file()?;
        backup::check_backup(backup)?;
        let locked = lock::table_exists(&self.conn, &history.lock_name())?;
        if locked {
            let request = LockRequest {
                table: history,
                owner,
                timeout: Duration::ZERO,
            };
            match self.lock(&request).await {
                Ok(()) => {}
                Err(StoreError::LockTimeout { holder, .. }) => {
                    return Err(BackupError::InUse {
                        database: file,
                        user: holder.map_or(DatabaseUser::Connection, DatabaseUser::Runner),
                    });
                }
                Err(error) => return Err(error.into()),
            }
        }
        let copied = self.copy_from(backup);
        if copied.is_ok() {
            // The lock row went with the old content.
            if let Some(mut held) = self.held.remove(&history.lock_name()) {
                held.retire_witness();
            }
        } else if locked && let Err(error) = self.unlock(history).await {
            tracing::warn!(%error, "could not release the migration lock; `godwit unlock` clears it");
        }
        copied.map_err(|blocked| match blocked {
            Blocked::Busy => BackupError::InUse {
                database: file,
                user: DatabaseUser::Connection,
            },
            Blocked::Failed(failure) => BackupError::Copy {
                from: backup.to_path_buf(),
                to: self.path.clone().unwrap_or_default(),
                message: failure.message,
                code: failure.code,
            },
        })
    }

    /// Copy `backup` over this database without waiting for other connections, holding the
    /// file's exclusive lock from before the copy until the restored content is all in the
    /// database file.
    fn copy_from(&mut self, backup: &Path) -> Result<(), Blocked> {
        let source = backup::open_backup(backup)?;
        self.conn.busy_timeout(Duration::ZERO)?;
        let copied = match self.lock_file() {
            Ok(()) => {
                let copied = backup::copy(&source, &mut self.conn, Duration::ZERO).and_then(|()| {
                    // In WAL mode the copy lands in the WAL. Moving it into the database file
                    // while no one else can read leaves the file complete on its own, should
                    // it be copied without its -wal; in other modes this does nothing.
                    self.conn
                        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                        .map_err(Blocked::from)
                });
                let released = self.release_file().map_err(Blocked::from);
                copied.and(released)
            }
            Err(error) if is_busy(&error) => Err(Blocked::Busy),
            Err(error) => Err(error.into()),
        };
        self.conn.busy_timeout(self.busy_timeout)?;
        copied
    }

    /// Take SQLite's exclusive lock on the file and keep it until
    /// [`release_file`](Self::release_file), so no other connection reads or writes meanwhile;
    /// busy when another connection holds a lock (the caller sets the busy timeout).
    ///
    /// `BEGIN EXCLUSIVE` alone does not do it in WAL mode, where it keeps other writers out but
    /// not readers, not even one in an open read transaction. In the exclusive locking mode a
    /// write transaction takes the file's exclusive lock in WAL mode too. A connection to a WAL
    /// database holds a shared lock on the file for as long as it is open (it is how SQLite
    /// learns which connection closes last), so there any other open connection is busy, idle
    /// or not. A checkpoint is no probe: a reader that began while the WAL was empty reads the
    /// database file alone, and `wal_checkpoint(TRUNCATE)` does not wait for it.
    fn lock_file(&self) -> rusqlite::Result<()> {
        // The WAL must be open before the locking mode changes, or SQLite keeps its index in
        // this process's memory and the mode cannot go back to normal.
        self.conn
            .query_row("PRAGMA schema_version", [], |_| Ok(()))?;
        self.conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE")?;
        let locked = self.conn.execute_batch("BEGIN EXCLUSIVE; ROLLBACK");
        if locked.is_err() {
            // A failed BEGIN can leave a lower lock held in this mode; a read in the normal
            // mode lets it go.
            self.conn.execute_batch("PRAGMA locking_mode = NORMAL")?;
            self.conn
                .query_row("PRAGMA schema_version", [], |_| Ok(()))?;
        }
        locked
    }

    /// Let go of the lock [`lock_file`](Self::lock_file) took. In the normal locking mode SQLite
    /// drops it at the end of the next transaction, in WAL mode only of a write transaction.
    fn release_file(&self) -> rusqlite::Result<()> {
        self.conn
            .execute_batch("PRAGMA locking_mode = NORMAL; BEGIN IMMEDIATE; ROLLBACK")
    }

    /// The database file, for messages; an in-memory database has none to back up or restore.
    fn database_file(&self) -> Result<String, BackupError> {
        self.path
            .as_ref()
            .map(|path| path.display().to_string())
            .ok_or(BackupError::InMemory)
    }

    /// `error` with what a failed write to a read-only database needs said: SQLite's message
    /// ("attempt to write a readonly database") names neither the file nor the folder that
    /// cannot be written, nor what to do. Other errors are returned as they are.
    fn explain(&self, error: StoreError) -> StoreError {
        let explained = |message: String, code: &Option<String>| match (&self.path, code.as_deref())
        {
            (Some(path), Some(code)) if is_read_only(code) => {
                self.read_only_advice(path, code, message)
            }
            _ => message,
        };
        match error {
            StoreError::Database { message, code } => StoreError::Database {
                message: explained(message, &code),
                code,
            },
            StoreError::Statement(mut statement) => {
                statement.message = explained(statement.message, &statement.code);
                StoreError::Statement(statement)
            }
            other => other,
        }
    }

    /// SQLite's `message` about a read-only database, followed by what cannot be written and
    /// what to do: the folder, when SQLite could not create its journal there; the file, when
    /// SQLite could only open it for reading; else all the files SQLite writes.
    fn read_only_advice(&self, path: &Path, code: &str, message: String) -> String {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // `.` would say little; the folder's full path says which one.
        let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
        let file = path.display();
        let folder = folder.display();
        if code == "SQLITE_READONLY_DIRECTORY" {
            format!(
                "{message}: the folder {folder} is read-only to this user, and SQLite must create \
                 the journal of {file} in it to write; give this user write permission on {folder}"
            )
        } else if self.conn.is_readonly(MAIN_DB).unwrap_or(false) {
            format!(
                "{message}: {file} is read-only to this user, or on a read-only file system; \
                 give this user write permission on {file}"
            )
        } else {
            format!(
                "{message}: this user cannot write {file}, or the journal files SQLite keeps \
                 beside it (-journal, -wal, -shm) in {folder}; give this user write permission \
                 on them and on {folder}"
            )
        }
    }

    fn busy_failure(&self) -> Failure {
        Failure {
            message: format!(
                "another connection kept the database locked for more than {} ms; \
                 a migration may be running, try again when it has finished",
                self.busy_timeout.as_millis()
            ),
            code: Some("SQLITE_BUSY".into()),
            offset: None,
        }
    }

    fn busy_error(&self) -> StoreError {
        StoreError::Busy {
            message: self.busy_failure().message,
        }
    }

    /// The holder the lock row of `name` (the lock table, unquoted) names, read without the
    /// write lock and without waiting for one; `None` when there is no row or it cannot be
    /// read now.
    fn read_holder(&self, name: &str) -> Option<LockHolder> {
        self.conn.busy_timeout(Duration::ZERO).ok()?;
        let row = lock::read(&self.conn, &self.dialect.qualified_name(None, name));
        let _ = self.conn.busy_timeout(self.busy_timeout);
        row.ok()
            .flatten()
            .map(|row| row.holder(&self.machine, self.witness_path(name).as_deref()))
    }

    /// The witness file of the lock table `name` (unquoted): beside the database, named after
    /// it as SQLite names its journal. An in-memory database has none.
    fn witness_path(&self, name: &str) -> Option<PathBuf> {
        self.canonical.as_ref().map(|database| {
            let mut path = database.clone().into_os_string();
            path.push("-");
            path.push(name);
            PathBuf::from(path)
        })
    }
}

/// A connect error that says what to do about the usual causes.
fn open_advice(path: &Path, error: rusqlite::Error) -> String {
    let code = error.sqlite_error_code();
    let message = Failure::from(error).message;
    match code {
        Some(ErrorCode::CannotOpen) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            format!(
                "{message}; check that the directory {} exists and that you may write to it",
                dir.display()
            )
        }
        Some(ErrorCode::NotADatabase) => {
            format!("{message}; check that the path names a SQLite database file")
        }
        _ => message,
    }
}

/// Bind a godwit value without copying it.
struct Bind<'a>(&'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

fn prepare_bound<'c>(
    conn: &'c Connection,
    sql: &str,
    params: &[Value],
) -> rusqlite::Result<Statement<'c>> {
    let mut statement = conn.prepare(sql)?;
    let expected = statement.parameter_count();
    if params.len() != expected {
        return Err(rusqlite::Error::InvalidParameterCount(
            params.len(),
            expected,
        ));
    }
    for (index, value) in params.iter().enumerate() {
        statement.raw_bind_parameter(index + 1, Bind(value))?;
    }
    Ok(statement)
}

/// A column as a godwit value. godwit's own tables hold only integers and text; a REAL is
/// given as its decimal text and a BLOB as lowercase hex, so integrators' queries still read.
fn read_value(value: ValueRef<'_>) -> Result<Value, StoreError> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Real(v) => Value::Text(v.to_string()),
        ValueRef::Text(bytes) => {
            Value::Text(
                String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::Database {
                    message: "a TEXT column holds bytes that are not UTF-8".into(),
                    code: None,
                })?,
            )
        }
        ValueRef::Blob(bytes) => Value::Text(bytes.iter().map(|b| format!("{b:02x}")).collect()),
    })
}

/// 100 to 250 ms, varied by the clock so that runners who started waiting together do not
/// retry in step.
fn retry_delay() -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(100 + u64::from(nanos % 151))
}

#[async_trait]
impl Store for SqliteStore {
    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        script::execute(&self.conn, sql, None)
            .map_err(|error| self.explain(StoreError::Statement(error)))
    }

    async fn execute_script_in_steps(
        &mut self,
        sql: &str,
        on_step: &mut (dyn FnMut(Step) + Send),
    ) -> Result<(), StoreError> {
        script::execute(&self.conn, sql, Some(on_step))
            .map_err(|error| self.explain(StoreError::Statement(error)))
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.execute_now(sql, params)
            .map_err(|error| self.explain(database(error)))
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.query_now(sql, params)
            .map_err(|error| self.explain(error))
    }

    async fn query_snapshot(&mut self, queries: &[String]) -> Result<Vec<Vec<Row>>, StoreError> {
        // A deferred BEGIN asks for no write lock: the first query takes SQLite's read lock
        // (in WAL mode, a snapshot) and keeps it to the end, so every query reads one state of
        // the database, and a runner's migration is held up for no longer than the reads.
        let own = self.conn.is_autocommit();
        if own {
            self.conn
                .execute_batch("BEGIN DEFERRED")
                .map_err(database)?;
        }
        let results = queries
            .iter()
            .map(|sql| self.query_now(sql, &[]))
            .collect::<Result<Vec<_>, _>>();
        // Ending a read transaction cannot lose anything; the first error is the one to tell.
        let ended = if own {
            self.conn.execute_batch("COMMIT").map_err(database)
        } else {
            Ok(())
        };
        let results = results?;
        ended?;
        Ok(results)
    }

    async fn begin(&mut self) -> Result<(), StoreError> {
        // IMMEDIATE takes the write lock now: a deferred transaction that reads first and
        // writes later can fail with SQLITE_BUSY when another writer got in between, and no
        // amount of waiting fixes that.
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|error| self.explain(database(error)))
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(|error| self.explain(database(error)))
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        // SQLite rolls back by itself after some errors (disk full, I/O, an ON CONFLICT
        // ROLLBACK constraint); the transaction the caller wants gone is then already gone.
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("ROLLBACK").map_err(database)
    }

    async fn transaction_open(&mut self) -> Result<Option<bool>, StoreError> {
        // Autocommit mode is SQLite's own word that no transaction is open.
        Ok(Some(!self.conn.is_autocommit()))
    }

    async fn lock(&mut self, request: &LockRequest<'_>) -> Result<(), StoreError> {
        self.refuse_in_transaction("take the migration lock")?;
        let table = self
            .dialect
            .qualified_name(None, &request.table.lock_name());
        let started = Instant::now();
        // A timeout past what the clock can count is a wait without end, not a panic.
        let deadline = started.checked_add(request.timeout);
        let time_left = || {
            deadline.map_or(Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            })
        };
        let mut last_holder: Option<LockHolder> = None;
        loop {
            let remaining = time_left();
            let attempt = self.attempt_lock(request, &table, remaining);
            match attempt.map_err(|error| self.explain(error))? {
                Attempt::Acquired(held) => {
                    self.held.insert(request.table.lock_name(), held);
                    return Ok(());
                }
                Attempt::AlreadyHeld => return Ok(()),
                // Another connection writes (a runner in a migration, most likely): the lock
                // row can still be read, and names whom a timeout would be waiting for.
                Attempt::Busy if last_holder.is_none() => {
                    last_holder = self.read_holder(&request.table.lock_name());
                }
                Attempt::Busy => {}
                Attempt::Held(holder) => last_holder = Some(holder),
            }
            let remaining = time_left();
            if remaining.is_zero() {
                return Err(StoreError::LockTimeout {
                    holder: last_holder,
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(retry_delay().min(remaining)).await;
        }
    }

    async fn unlock(&mut self, table: &HistoryTable) -> Result<(), StoreError> {
        let name = table.lock_name();
        let Some(held) = self.held.get_mut(&name) else {
            return Ok(());
        };
        held.retire_witness();
        lock::release(&self.conn, &self.dialect.qualified_name(None, &name), held)
            .map_err(|error| self.explain(error))?;
        self.held.remove(&name);
        Ok(())
    }

    async fn lock_holder(
        &mut self,
        table: &HistoryTable,
    ) -> Result<Option<LockHolder>, StoreError> {
        let name = table.lock_name();
        if !lock::table_exists(&self.conn, &name)? {
            return Ok(None);
        }
        let row = lock::read(&self.conn, &self.dialect.qualified_name(None, &name))?;
        let witness = self.witness_path(&name);
        Ok(row.map(|row| row.holder(&self.machine, witness.as_deref())))
    }

    async fn clear_lock(
        &mut self,
        table: &HistoryTable,
        force: bool,
    ) -> Result<UnlockOutcome, StoreError> {
        let name = table.lock_name();
        if !lock::table_exists(&self.conn, &name)? {
            return Ok(UnlockOutcome::NotLocked);
        }
        self.refuse_in_transaction("clear the migration lock")?;
        let quoted = self.dialect.qualified_name(None, &name);
        let held = self.held.get(&name);
        let machine = &self.machine;
        let witness = self.witness_path(&name);
        let cleared = lock::in_write_transaction(&self.conn, |conn| {
            let Some(row) = lock::read(conn, &quoted)? else {
                return Ok((End::Rollback, (UnlockOutcome::NotLocked, false)));
            };
            let holder = row.holder(machine, witness.as_deref());
            if !force && holder.alive() != Some(false) {
                return Err(StoreError::LockHeld { holder });
            }
            lock::delete(conn, &quoted)?;
            let was_ours = held.is_some_and(|held| row.is(held));
            Ok((End::Commit, (UnlockOutcome::Cleared { holder }, was_ours)))
        })
        .map_err(|error| self.explain(error))?;
        let Some((outcome, was_ours)) = cleared else {
            // The database stayed write-locked: a holder in the middle of a migration cannot
            // be unlocked under it, forced or not.
            return Err(match self.read_holder(&name) {
                Some(holder) => StoreError::LockHeld { holder },
                None => self.busy_error(),
            });
        };
        if was_ours && let Some(mut held) = self.held.remove(&name) {
            held.retire_witness();
        }
        Ok(outcome)
    }

    /// A consistent copy through SQLite's online backup API, in one step, so it is one
    /// snapshot even while other connections write; it waits for their locks up to the busy
    /// timeout.
    async fn pause(&mut self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    async fn backup(&mut self, request: &BackupRequest<'_>) -> Result<Backup, BackupError> {
        let database = self.path.clone().ok_or(BackupError::InMemory)?;
        let path = backup::reserve(&database, request)?;
        let taken = self.copy_to(&database, path.clone());
        if taken.is_err()
            && let Err(error) = backup::remove_incomplete(&path)
        {
            tracing::warn!(%error, path = %path.display(), "could not remove an incomplete backup file");
        }
        taken
    }

    /// A private in-memory database with this store's busy timeout. Dropping it frees it, so
    /// `close` has nothing to do. It allows no attached database, so nothing run on it can
    /// reach a database file (`ATTACH`, and `VACUUM INTO`, which attaches its output).
    async fn open_scratch(&mut self) -> Result<Box<dyn Store>, StoreError> {
        let options = SqliteOptions::default().with_busy_timeout(self.busy_timeout);
        let store = SqliteStore::in_memory(&options)?;
        store
            .conn
            .set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)
            .map_err(database)?;
        Ok(Box::new(store))
    }

    /// A scratch database is a sandbox already: private, in memory, with no way to attach a
    /// file, and SQLite loads no extension unless the program enables it, which godwit never
    /// does.
    async fn open_sandbox(&mut self) -> Result<Box<dyn Store>, StoreError> {
        self.open_scratch().await
    }
}
