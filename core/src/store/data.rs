//! The data the store contract speaks in: values, the lock's owner and holder, and the
//! errors of a store. It depends on nothing of the trait, so the backup types and the history
//! can use it without a loop back to [`super::Store`].

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::history_table::HistoryTable;

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

/// Failures of a [`super::Store`].
#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
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
    /// ([`super::Store::open_sandbox`]).
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
