//! The I/O half of a backend: one connection to one database.

use std::fmt::{self, Debug};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::backup::{Backup, BackupError, BackupRequest};
use crate::dialect::Dialect;
use crate::history::HistoryTable;
use crate::progress::Step;

/// A value bound to, or read from, a statement. Deliberately small: the history table only
/// needs integers and text, and a small set keeps the plugin protocol simple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row, columns in the order the query selected them.
pub type Row = Vec<Value>;

/// Who is running godwit: written into the lock and the history so a blocked user can find the
/// process in their way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockOwner {
    /// Host name of the machine running godwit.
    pub host: String,
    /// Process id on that host.
    pub pid: u32,
    /// A free-form label (`godwit 0.1.0`, or an integrator's service name).
    pub application: String,
}

impl LockOwner {
    /// This process, on a host the caller names.
    pub fn current(host: impl Into<String>, application: impl Into<String>) -> Self {
        LockOwner {
            host: host.into(),
            pid: std::process::id(),
            application: application.into(),
        }
    }

    /// This process on this machine: the host name the operating system reports (lossily
    /// decoded where it is not UTF-8) and this process's id.
    pub fn this_process(application: impl Into<String>) -> Self {
        LockOwner {
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            application: application.into(),
        }
    }
}

impl fmt::Display for LockOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (pid {} on {})",
            self.application, self.pid, self.host
        )
    }
}

/// A description of whoever holds the migration lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// Host of the holder, when the backend knows it (PostgreSQL: the client's address).
    pub host: Option<String>,
    /// Process id (SQLite: the godwit process; PostgreSQL: the server backend pid).
    pub pid: Option<i64>,
    /// Application name of the holder.
    pub application: Option<String>,
    /// When the lock was taken (RFC 3339), when known.
    pub since: Option<String>,
    /// Whether the holder still runs, and what that judgement rests on.
    pub liveness: Liveness,
}

impl LockHolder {
    /// Whether the holder is known to be alive: `Some(false)` means the lock is stale and safe
    /// to clear, `None` that godwit cannot tell.
    pub fn alive(&self) -> Option<bool> {
        self.liveness.alive()
    }
}

/// Whether the holder of a migration lock still runs, as far as godwit can tell from where it
/// runs, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Liveness {
    /// The holding process runs on this machine.
    Running,
    /// A database session holds the lock (PostgreSQL's session advisory lock). The server ends
    /// such a lock with its session, so it is never left behind by a run that died: its holder
    /// is alive by construction.
    Session,
    /// The holding process has exited: the lock is stale.
    Exited,
    /// A process runs under the holder's pid, but it started after the lock was taken (the pid
    /// was reused, as pid 1 is in every new container): the holder is gone, the lock stale.
    PidReused,
    /// The machine has restarted since the lock was taken (its boot id changed): the lock is
    /// stale.
    Rebooted,
    /// The holder runs on another machine, whose processes godwit cannot see.
    OtherHost,
    /// The holder runs in another pid namespace (a container) on this machine, which godwit
    /// cannot see into from here.
    OtherPidNamespace,
    /// This system gives godwit no way to check a process.
    Unchecked,
}

impl Liveness {
    /// `Some(true)` for a live holder, `Some(false)` for a stale lock, `None` when godwit
    /// cannot tell.
    pub fn alive(self) -> Option<bool> {
        match self {
            Liveness::Running | Liveness::Session => Some(true),
            Liveness::Exited | Liveness::PidReused | Liveness::Rebooted => Some(false),
            Liveness::OtherHost | Liveness::OtherPidNamespace | Liveness::Unchecked => None,
        }
    }

    /// What the holder's state is, in words for a message.
    fn describe(self) -> &'static str {
        match self {
            Liveness::Running => "process running",
            Liveness::Session => "session open",
            Liveness::Exited => "process no longer running",
            Liveness::PidReused => {
                "process gone (its pid now belongs to a process started after the lock was taken)"
            }
            Liveness::Rebooted => "process gone (the machine has restarted since)",
            Liveness::OtherHost => "on another host, where godwit cannot check whether it runs",
            Liveness::OtherPidNamespace => {
                "in another pid namespace (container) on this machine, where godwit cannot check \
                 whether it runs"
            }
            Liveness::Unchecked => "godwit cannot check processes on this system",
        }
    }
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A PostgreSQL lock is held by a server session: its pid is the server's process, its
        // host the client's address.
        let session = self.liveness == Liveness::Session;
        let mut parts = Vec::new();
        if let Some(app) = self.application.as_deref().filter(|a| !a.is_empty()) {
            parts.push(format!("application {app}"));
        }
        if let Some(pid) = self.pid {
            parts.push(if session {
                format!("server process {pid}")
            } else {
                format!("pid {pid}")
            });
        }
        if let Some(host) = &self.host {
            parts.push(if session {
                format!("client {host}")
            } else {
                format!("host {host}")
            });
        }
        if let Some(since) = &self.since {
            parts.push(format!("since {since}"));
        }
        parts.push(self.liveness.describe().to_string());
        f.write_str(&parts.join(", "))
    }
}

/// What `unlock` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UnlockOutcome {
    /// Nobody held the lock.
    NotLocked,
    /// A lock was cleared; `holder` is who had it.
    Cleared {
        /// Who held the lock that was cleared.
        holder: LockHolder,
    },
}

/// A statement of a script that the database rejected, located in the script's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementError {
    /// 1-based index of the statement in the script, when the backend executes statement by
    /// statement.
    pub statement_index: Option<usize>,
    /// 1-based line in the script where the failing statement (or the error position) is.
    pub line: Option<usize>,
    /// 1-based column of the error position, when the database reports one.
    pub column: Option<usize>,
    /// The start of the failing statement, for messages.
    pub statement: Option<String>,
    /// The database's message.
    pub message: String,
    /// SQLSTATE or the engine's error code name.
    pub code: Option<String>,
    /// The violated constraint, when the database names one.
    pub constraint: Option<String>,
}

impl fmt::Display for StatementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(line) = self.line {
            write!(f, " at line {line}")?;
            if let Some(column) = self.column {
                write!(f, ", column {column}")?;
            }
        }
        if let Some(stmt) = &self.statement {
            write!(f, " in `{}`", excerpt(stmt, 80))?;
        }
        Ok(())
    }
}

/// The first `max` characters of the first lines of `sql`, on one line.
pub fn excerpt(sql: &str, max: usize) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// Failures of a [`Store`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// Its variant's name in snake_case (`<&str>::from(&error)`): a kind scripts can match on.
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum StoreError {
    /// The database could not be reached or refused the credentials.
    #[error("cannot connect to {target}: {message}")]
    Connect {
        /// The database, with any password removed.
        target: String,
        /// The driver's message.
        message: String,
    },
    /// The URL cannot be read: a usage error, not a failure of the database.
    #[error("the URL {target} is not valid: {reason}")]
    InvalidUrl {
        /// The URL, with any password removed.
        target: String,
        /// What is wrong, and the form expected.
        reason: String,
    },
    /// A statement of a migration script failed.
    #[error("{0}")]
    Statement(StatementError),
    /// A query godwit issued itself failed.
    #[error("database error: {message}")]
    Database {
        /// The database's message.
        message: String,
        /// SQLSTATE or the engine's error code name.
        code: Option<String>,
    },
    /// The migration lock was not free within the wait allowed.
    #[error("timed out after {}s waiting for the migration lock held by {}", waited.as_secs(), holder.as_ref().map_or_else(|| "another runner".to_string(), ToString::to_string))]
    LockTimeout {
        /// Who holds it, when known.
        holder: Option<LockHolder>,
        /// How long godwit waited.
        waited: Duration,
    },
    /// `unlock` refused to clear a lock whose holder is alive or cannot be checked.
    #[error("the migration lock is held by {holder}")]
    LockHeld {
        /// Who holds it.
        holder: LockHolder,
    },
    /// Another connection kept the database locked for longer than the backend waits (SQLite
    /// while another runner writes): nothing was done, and trying again later may succeed.
    #[error("{message}")]
    Busy {
        /// What was busy, and for how long.
        message: String,
    },
    /// No scratch database can be made that code in a schema file cannot reach out of
    /// ([`Store::open_sandbox`]).
    #[error("{reason}")]
    NoSandbox {
        /// Why, as a sentence fragment (`the role app may not create roles`).
        reason: String,
    },
    /// Anything else the backend wants to report.
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// The failure as a statement's error: itself when it is one, else its message alone.
    pub(crate) fn into_statement_error(self) -> StatementError {
        match self {
            StoreError::Statement(error) => error,
            other => StatementError {
                statement_index: None,
                line: None,
                column: None,
                statement: None,
                message: other.to_string(),
                code: None,
                constraint: None,
            },
        }
    }
}

/// A request to take the migration lock.
#[derive(Debug, Clone)]
pub struct LockRequest<'a> {
    /// The history table the lock protects (the lock's identity derives from it).
    pub table: &'a HistoryTable,
    /// Who is asking.
    pub owner: &'a LockOwner,
    /// How long to wait for a holder to let go before giving up with
    /// [`StoreError::LockTimeout`].
    pub timeout: Duration,
}

/// I/O against one connection to one database. Object safe: godwit's engine only ever sees a
/// `Box<dyn Store>`; constructors live on the concrete types outside this trait.
///
/// Every method maps onto one request/response message, so a store can live behind a C-ABI
/// plugin boundary.
#[async_trait]
pub trait Store: Send + Debug {
    /// The dialect of this store's database.
    fn dialect(&self) -> &dyn Dialect;

    /// Run a script of one or more statements exactly as written (triggers, `DO` blocks and
    /// dollar quotes included), in the current transaction if one is open. A failure names the
    /// statement and its line within `sql`.
    async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError>;

    /// Run a script as [`Store::execute_script`] does, calling `on_step` as each of its
    /// statements starts, where the store can tell which one runs. The default sends nothing
    /// to `on_step`: a store that hands the database the whole script at once learns nothing
    /// until it ends.
    async fn execute_script_in_steps(
        &mut self,
        sql: &str,
        on_step: &mut (dyn FnMut(Step) + Send),
    ) -> Result<(), StoreError> {
        let _ = on_step;
        self.execute_script(sql).await
    }

    /// Run one statement with bound parameters; returns the number of rows affected.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;

    /// Run one query with bound parameters and return its rows.
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;

    /// Run the read-only `queries`, without parameters, so that all of them see one snapshot
    /// of the database, and return their rows in order. Introspection reads the catalog this
    /// way: a schema another connection changes between two of its queries would otherwise be
    /// read half before and half after the change. Inside an open transaction they run in it.
    ///
    /// The default runs them one after another, each on its own: enough for a database no
    /// other connection changes meanwhile (a scratch database), not for a live one, so a store
    /// of a database others write to overrides it.
    async fn query_snapshot(&mut self, queries: &[String]) -> Result<Vec<Vec<Row>>, StoreError> {
        let mut results = Vec::with_capacity(queries.len());
        for sql in queries {
            results.push(self.query(sql, &[]).await?);
        }
        Ok(results)
    }

    /// Open a transaction. On SQLite this takes the write lock at once (`BEGIN IMMEDIATE`).
    async fn begin(&mut self) -> Result<(), StoreError>;

    /// Commit the open transaction.
    async fn commit(&mut self) -> Result<(), StoreError>;

    /// Roll back the open transaction.
    async fn rollback(&mut self) -> Result<(), StoreError>;

    /// Whether the transaction [`Store::begin`] opened is still open (a failed one waiting for
    /// its rollback counts), asked after a migration's script ran in it: a script may end it
    /// itself (`COMMIT;` under `-- godwit:allow explicit-transaction`), and then what it ran is
    /// committed whatever happens next. `Some(false)`: it is over. `None`: the store cannot
    /// tell; the default, which keeps the assumption that it is open.
    async fn transaction_open(&mut self) -> Result<Option<bool>, StoreError> {
        Ok(None)
    }

    /// Take the migration lock, waiting up to `request.timeout`.
    async fn lock(&mut self, request: &LockRequest<'_>) -> Result<(), StoreError>;

    /// Release the lock this store took. Releasing a lock not held is not an error.
    async fn unlock(&mut self, table: &HistoryTable) -> Result<(), StoreError>;

    /// Who holds the migration lock now, if anyone.
    async fn lock_holder(&mut self, table: &HistoryTable)
    -> Result<Option<LockHolder>, StoreError>;

    /// Clear a lock left by another runner. Without `force` only a lock known to be stale is
    /// cleared; a live or unknown holder gives [`StoreError::LockHeld`].
    async fn clear_lock(
        &mut self,
        table: &HistoryTable,
        force: bool,
    ) -> Result<UnlockOutcome, StoreError>;

    /// Open a new, empty scratch database of the same engine (SQLite: in memory; PostgreSQL: a
    /// temporary database on the same server), for normalising a desired schema and replaying
    /// migrations. The caller must [`Store::close`] it, which deletes it.
    async fn open_scratch(&mut self) -> Result<Box<dyn Store>, StoreError> {
        Err(StoreError::Other(format!(
            "the {} backend cannot create scratch databases",
            self.dialect().name()
        )))
    }

    /// Open a scratch database, as [`Store::open_scratch`] does, on a connection that can
    /// reach nothing beyond it: code a schema file runs as it is read (a PostgreSQL `DO`
    /// block) can then change, read and call nothing outside the scratch database. The caller
    /// must [`Store::close`] it. The default refuses with [`StoreError::NoSandbox`]: a backend
    /// that cannot sandbox has its schema files' code refused, never run unconfined.
    async fn open_sandbox(&mut self) -> Result<Box<dyn Store>, StoreError> {
        Err(StoreError::NoSandbox {
            reason: format!(
                "the {} backend cannot make such a scratch database",
                self.dialect().name()
            ),
        })
    }

    /// Write a consistent copy of the whole database to a new file, and return it only once
    /// it is complete. The file is never one that existed before; a failed backup leaves no
    /// file behind. The default refuses with [`BackupError::Unsupported`].
    async fn backup(&mut self, request: &BackupRequest<'_>) -> Result<Backup, BackupError> {
        let _ = request;
        Err(BackupError::Unsupported {
            dialect: self.dialect().name(),
        })
    }

    /// Close the connection; a scratch database is deleted. Closing twice is harmless.
    async fn close(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::LockOwner;
    use crate::MigratorConfig;

    #[test]
    fn a_migrator_names_this_process_as_the_lock_owner() {
        let config = MigratorConfig::new("my-service");
        assert_eq!(config.owner.pid, std::process::id());
        assert_eq!(
            config.owner.host,
            gethostname::gethostname().to_string_lossy()
        );
        assert_eq!(config.owner.application, "my-service");
        let named = LockOwner::current("build-host", "my-service");
        assert_eq!(
            (named.host.as_str(), named.pid),
            ("build-host", std::process::id())
        );
    }
}
