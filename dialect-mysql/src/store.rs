//! The I/O half of the backend: one MySQL connection for work, another for the lock.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use godwit_core::backup::{Backup, BackupError, BackupRequest};
use godwit_core::url::redact;
use godwit_core::{
    Dialect, HistoryTable, Liveness, LockHolder, LockRequest, Row, StatementError, Step, Store,
    StoreError, UnlockOutcome, Value,
};
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{
    Arguments as _, AssertSqlSafe, ConnectOptions as _, Connection as _, Row as _, TypeInfo as _,
    ValueRef as _,
};

use crate::dialect::MySqlDialect;
use crate::dump::{self, DumpSource};
use crate::script;

/// How long a blocked runner waits inside one `GET_LOCK` call before it looks at its deadline
/// again: the server's wait is in whole seconds.
const LOCK_SLICE: Duration = Duration::from_secs(1);

/// How long `clear_lock` waits for a killed holder's session to end and free the lock.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// A [`Store`] on a MySQL or MariaDB database.
///
/// Migrations run on one connection, each statement of a script sent alone through the text
/// protocol (the server takes `CREATE TRIGGER` and `CREATE PROCEDURE` only so). The migration
/// lock is a `GET_LOCK` held by a second connection, opened when the lock is taken and closed
/// when it is released, so the implicit commits of DDL on the work connection never touch it,
/// and a crashed runner's lock ends with its session.
///
/// The session keeps the server's `sql_mode` and time zone: sqlx would otherwise add
/// `PIPES_AS_CONCAT` and set UTC, changing what users' migrations mean.
pub struct MySqlStore {
    conn: MySqlConnection,
    /// Kept to open the lock connection later. Holds the password: never printed.
    options: MySqlConnectOptions,
    /// The URL with its password removed, for messages.
    target: String,
    /// The connection's current database, which names its lock.
    database: Option<String>,
    lock: Option<HeldLock>,
    /// Set when this store is on a scratch database it must drop when closed.
    scratch: Option<String>,
}

/// The lock this store holds, and the session holding it.
struct HeldLock {
    conn: MySqlConnection,
    name: String,
}

// By hand, so the connect options (and their password) can never reach a log line.
impl fmt::Debug for MySqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MySqlStore")
            .field("target", &self.target)
            .field("lock", &self.lock.as_ref().map(|held| &held.name))
            .field("scratch", &self.scratch)
            .finish_non_exhaustive()
    }
}

impl MySqlStore {
    /// Connect to the database at `url` (`mysql://` or `mariadb://`).
    pub async fn connect(url: &str) -> Result<MySqlStore, StoreError> {
        let target = redact(url).to_string();
        let options = MySqlConnectOptions::from_str(url)
            .map_err(|error| StoreError::InvalidUrl {
                target: target.clone(),
                reason: error.to_string(),
            })?
            .pipes_as_concat(false)
            .no_engine_substitution(false)
            .timezone(None)
            .log_statements(tracing::log::LevelFilter::Trace);
        let mut conn = open(&options, &target).await?;
        let database = current_database(&mut conn).await?;
        Ok(MySqlStore {
            conn,
            options,
            target,
            database,
            lock: None,
            scratch: None,
        })
    }

    /// The name of the `GET_LOCK` lock guarding `table`'s migrations. Lock names are
    /// server-wide, not per database, so an unqualified history table is named with the
    /// database it lives in: runners of two databases on one server never wait for each
    /// other. A hash, as names have at most 64 characters.
    fn lock_name(&self, table: &HistoryTable) -> String {
        let key = match (&table.schema, &self.database) {
            (None, Some(database)) => {
                HistoryTable::new(Some(database.clone()), table.name.clone()).lock_key()
            }
            _ => table.lock_key(),
        };
        format!("godwit.{key:x}")
    }

    async fn run_statements(
        &mut self,
        sql: &str,
        mut on_step: Option<&mut (dyn FnMut(Step) + Send)>,
    ) -> Result<(), StoreError> {
        let statements = script::split(sql).map_err(|error| {
            StoreError::Statement(StatementError {
                statement_index: None,
                line: Some(error.line),
                column: None,
                statement: None,
                message: error.message,
                code: None,
                constraint: None,
            })
        })?;
        let total = statements.len();
        for statement in &statements {
            if let Some(on_step) = on_step.as_mut() {
                on_step(Step::statement(
                    statement.index,
                    Some(total),
                    statement.line,
                    &statement.text,
                ));
            }
            if let Err(error) = sqlx::raw_sql(AssertSqlSafe(statement.text.clone()))
                .execute(&mut self.conn)
                .await
            {
                let (message, code) = describe(&error);
                return Err(StoreError::Statement(StatementError {
                    statement_index: Some(statement.index),
                    line: Some(statement.line),
                    column: None,
                    statement: Some(statement.text.clone()),
                    message,
                    code,
                    constraint: None,
                }));
            }
        }
        Ok(())
    }

    /// Drop the scratch databases of runs that ended without dropping them (killed, or
    /// interrupted): those whose lock no session holds. Failing to is not this run's
    /// failure: it is logged and left.
    async fn drop_scratch_left_by_dead_runs(&mut self) {
        let names: Vec<String> = match sqlx::query_scalar(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA \
             WHERE SCHEMA_NAME LIKE 'godwit\\_scratch\\_%' AND IS_USED_LOCK(SCHEMA_NAME) IS NULL",
        )
        .persistent(false)
        .fetch_all(&mut self.conn)
        .await
        {
            Ok(names) => names,
            Err(error) => {
                tracing::debug!(%error, "could not list scratch databases");
                return;
            }
        };
        for name in names {
            let drop = format!("DROP DATABASE IF EXISTS {}", crate::sql::quote(&name));
            match sqlx::raw_sql(AssertSqlSafe(drop))
                .execute(&mut self.conn)
                .await
            {
                Ok(_) => tracing::info!(
                    database = %name,
                    "dropped a scratch database an interrupted godwit run left behind"
                ),
                Err(error) => tracing::warn!(
                    database = %name,
                    %error,
                    "a scratch database an interrupted godwit run left behind could not be dropped"
                ),
            }
        }
    }

    async fn simple(&mut self, sql: &'static str) -> Result<(), StoreError> {
        sqlx::raw_sql(sql)
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(database_error)
    }
}

/// A name no other scratch database has: this process, the time, and a counter. At most
/// 64 characters, as database and lock names are.
fn scratch_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "godwit_scratch_{}_{nanos:x}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The database `conn` works in, `None` when it has none (a URL without one).
async fn current_database(conn: &mut MySqlConnection) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT DATABASE()")
        .persistent(false)
        .fetch_one(conn)
        .await
        .map_err(database_error)
}

async fn open(options: &MySqlConnectOptions, target: &str) -> Result<MySqlConnection, StoreError> {
    options
        .connect()
        .await
        .map_err(|error| StoreError::Connect {
            target: target.to_string(),
            message: error.to_string(),
        })
}

/// The server's message and SQLSTATE (with MySQL's error number, which says more).
fn describe(error: &sqlx::Error) -> (String, Option<String>) {
    match error.as_database_error() {
        Some(db) => {
            let number = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|e| e.number());
            let code = match (db.code(), number) {
                (Some(state), Some(number)) => Some(format!("{state} ({number})")),
                (state, _) => state.map(|s| s.to_string()),
            };
            (db.message().to_string(), code)
        }
        None => (error.to_string(), None),
    }
}

fn database_error(error: sqlx::Error) -> StoreError {
    let (message, code) = describe(&error);
    StoreError::Database { message, code }
}

fn arguments(params: &[Value]) -> Result<MySqlArguments, StoreError> {
    let mut arguments = MySqlArguments::default();
    for param in params {
        let added = match param {
            Value::Null => arguments.add(None::<String>),
            Value::Int(n) => arguments.add(*n),
            Value::Text(text) => arguments.add(text.clone()),
        };
        added.map_err(|error| StoreError::Other(format!("cannot bind a parameter: {error}")))?;
    }
    Ok(arguments)
}

/// A row as godwit's values: integers as integers, everything else as its text.
fn decode_row(row: &MySqlRow) -> Result<Row, sqlx::Error> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let type_name = raw.type_info().name().to_string();
            if type_name.contains("INT") || type_name == "BOOLEAN" {
                if type_name.ends_with("UNSIGNED") {
                    let n: u64 = row.try_get_unchecked(i)?;
                    return Ok(
                        i64::try_from(n).map_or_else(|_| Value::Text(n.to_string()), Value::Int)
                    );
                }
                return Ok(Value::Int(row.try_get_unchecked::<i64, _>(i)?));
            }
            let bytes: Vec<u8> = row.try_get_unchecked(i)?;
            Ok(Value::Text(String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect()
}

/// Who holds the lock `name`: its session's id, user, client host, and since when it has been
/// idle, which is since it took the lock (the lock connection sends nothing after `GET_LOCK`).
async fn find_holder(
    conn: &mut MySqlConnection,
    name: &str,
) -> Result<Option<LockHolder>, StoreError> {
    let row = sqlx::query(
        "SELECT p.ID, p.USER, p.HOST, \
         DATE_FORMAT(UTC_TIMESTAMP() - INTERVAL p.TIME SECOND, '%Y-%m-%dT%H:%i:%sZ') \
         FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
    )
    .bind(name)
    .persistent(false)
    .fetch_optional(conn)
    .await
    .map_err(database_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let values = decode_row(&row).map_err(database_error)?;
    let text = |value: &Value| match value {
        Value::Text(text) => Some(text.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Null => None,
    };
    Ok(Some(LockHolder {
        host: match (text(&values[1]), text(&values[2])) {
            (Some(user), Some(host)) => Some(format!("{user}@{host}")),
            (user, host) => user.or(host),
        },
        pid: match values[0] {
            Value::Int(id) => Some(id),
            _ => None,
        },
        application: None,
        since: text(&values[3]),
        liveness: Liveness::Session,
    }))
}

#[async_trait]
impl Store for MySqlStore {
    fn dialect(&self) -> &dyn Dialect {
        &MySqlDialect
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        self.run_statements(sql, None).await
    }

    async fn execute_script_in_steps(
        &mut self,
        sql: &str,
        on_step: &mut (dyn FnMut(Step) + Send),
    ) -> Result<(), StoreError> {
        self.run_statements(sql, Some(on_step)).await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        // Not persistent: a migration may change the tables a cached plan was made for.
        let result = sqlx::query_with(AssertSqlSafe(sql), arguments(params)?)
            .persistent(false)
            .execute(&mut self.conn)
            .await
            .map_err(database_error)?;
        Ok(result.rows_affected())
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let rows = sqlx::query_with(AssertSqlSafe(sql), arguments(params)?)
            .persistent(false)
            .fetch_all(&mut self.conn)
            .await
            .map_err(database_error)?;
        rows.iter()
            .map(decode_row)
            .collect::<Result<_, _>>()
            .map_err(database_error)
    }

    async fn begin(&mut self) -> Result<(), StoreError> {
        self.simple("START TRANSACTION").await
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.simple("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        self.simple("ROLLBACK").await
    }

    async fn lock(&mut self, request: &LockRequest<'_>) -> Result<(), StoreError> {
        let name = self.lock_name(request.table);
        match &self.lock {
            Some(held) if held.name == name => return Ok(()),
            Some(_) => {
                return Err(StoreError::Other(
                    "this store already holds the migration lock of another history table; release it first"
                        .into(),
                ));
            }
            None => {}
        }
        let mut conn = open(&self.options, &self.target).await?;
        let start = Instant::now();
        loop {
            let waited = start.elapsed();
            let left = request.timeout.saturating_sub(waited);
            // GET_LOCK waits in seconds (fractions on MariaDB, whole ones on MySQL): ask in
            // slices, so the deadline is kept to within one.
            let slice = left.min(LOCK_SLICE).as_secs_f64();
            let taken: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
                .bind(&name)
                .bind(slice)
                .persistent(false)
                .fetch_one(&mut conn)
                .await
                .map_err(database_error)?;
            if taken == Some(1) {
                self.lock = Some(HeldLock { conn, name });
                return Ok(());
            }
            let waited = start.elapsed();
            if waited >= request.timeout {
                let holder = find_holder(&mut conn, &name).await?;
                if let Err(error) = conn.close().await {
                    tracing::debug!(%error, "closing an unused lock connection failed");
                }
                return Err(StoreError::LockTimeout { holder, waited });
            }
        }
    }

    async fn unlock(&mut self, table: &HistoryTable) -> Result<(), StoreError> {
        let name = self.lock_name(table);
        let Some(HeldLock { mut conn, .. }) = self.lock.take_if(|held| held.name == name) else {
            return Ok(());
        };
        // Ending the session releases the lock whatever happens here.
        let released = sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(&name)
            .persistent(false)
            .execute(&mut conn)
            .await;
        if let Err(error) = released {
            tracing::debug!(%error, "RELEASE_LOCK failed; closing the session releases the lock");
        }
        if let Err(error) = conn.close().await {
            tracing::debug!(%error, "closing the lock connection failed; the server releases its lock anyway");
        }
        Ok(())
    }

    async fn lock_holder(
        &mut self,
        table: &HistoryTable,
    ) -> Result<Option<LockHolder>, StoreError> {
        let name = self.lock_name(table);
        find_holder(&mut self.conn, &name).await
    }

    async fn clear_lock(
        &mut self,
        table: &HistoryTable,
        force: bool,
    ) -> Result<UnlockOutcome, StoreError> {
        let name = self.lock_name(table);
        let Some(holder) = find_holder(&mut self.conn, &name).await? else {
            return Ok(UnlockOutcome::NotLocked);
        };
        // A session lock is never stale: its holder is, by construction, a live session.
        if !force {
            return Err(StoreError::LockHeld { holder });
        }
        let Some(id) = holder.pid else {
            return Err(StoreError::LockHeld { holder });
        };
        sqlx::query("KILL CONNECTION ?")
            .bind(id)
            .persistent(false)
            .execute(&mut self.conn)
            .await
            .map_err(database_error)?;
        let start = Instant::now();
        while find_holder(&mut self.conn, &name).await?.is_some() {
            if start.elapsed() >= RELEASE_WAIT {
                return Err(StoreError::Other(format!(
                    "killed connection {id}, which holds the migration lock, but the server has not ended it after {}s",
                    RELEASE_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(UnlockOutcome::Cleared { holder })
    }

    /// A new database on this server, with this database's default charset and collation
    /// (a column's collation is read from what its table and database default to), on a
    /// session of its own. The session holds a `GET_LOCK` lock named after the database from
    /// before it exists until it is dropped: a run that dies leaves a database whose lock
    /// nobody holds, which the next run drops, whatever machine it runs on.
    async fn open_scratch(&mut self) -> Result<Box<dyn Store>, StoreError> {
        self.drop_scratch_left_by_dead_runs().await;
        let (charset, collation): (String, String) =
            sqlx::query_as("SELECT @@character_set_database, @@collation_database")
                .persistent(false)
                .fetch_one(&mut self.conn)
                .await
                .map_err(database_error)?;
        let name = scratch_name();
        let mut conn = open(&self.options, &self.target).await?;
        let taken: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
            .bind(&name)
            .persistent(false)
            .fetch_one(&mut conn)
            .await
            .map_err(database_error)?;
        if taken != Some(1) {
            return Err(StoreError::Other(format!(
                "cannot take the lock that marks scratch database {name} as in use"
            )));
        }
        let create = format!(
            "CREATE DATABASE {} CHARACTER SET {charset} COLLATE {collation}",
            crate::sql::quote(&name)
        );
        sqlx::raw_sql(AssertSqlSafe(create))
            .execute(&mut conn)
            .await
            .map_err(|error| {
                let (message, _) = describe(&error);
                StoreError::Other(format!(
                    "cannot create scratch database {name} on {}: {message}; \
                     grant CREATE and DROP on databases named godwit_scratch_%, \
                     or give a dev_url where the user may",
                    self.target
                ))
            })?;
        sqlx::raw_sql(AssertSqlSafe(format!("USE {}", crate::sql::quote(&name))))
            .execute(&mut conn)
            .await
            .map_err(database_error)?;
        Ok(Box::new(MySqlStore {
            conn,
            options: self.options.clone().database(&name),
            target: format!("{} (scratch database {name})", self.target),
            database: Some(name.clone()),
            lock: None,
            scratch: Some(name),
        }))
    }

    /// A scratch database in which the only code a screened schema file holds, events, can
    /// never run: one on a server whose event scheduler is off. Triggers run only on changes
    /// of rows, which a schema file cannot hold.
    async fn open_sandbox(&mut self) -> Result<Box<dyn Store>, StoreError> {
        let scheduler: String = sqlx::query_scalar("SELECT CAST(@@GLOBAL.event_scheduler AS CHAR)")
            .persistent(false)
            .fetch_one(&mut self.conn)
            .await
            .map_err(database_error)?;
        if !matches!(scheduler.to_ascii_uppercase().as_str(), "OFF" | "DISABLED") {
            return Err(StoreError::NoSandbox {
                reason: format!(
                    "the event scheduler of {} is {scheduler}, so an event in a scratch database would run; \
                     give a dev_url on a server whose event_scheduler is OFF",
                    self.target
                ),
            });
        }
        self.open_scratch().await
    }

    async fn pause(&mut self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    /// A SQL dump by `mariadb-dump` (or `mysqldump`), which the `mariadb` client replays into
    /// any database; the tool must be on `PATH`.
    async fn backup(&mut self, request: &BackupRequest<'_>) -> Result<Backup, BackupError> {
        let Some(database) = &self.database else {
            return Err(BackupError::Store(StoreError::Other(format!(
                "{} names no database to back up; put the database in the URL's path",
                self.target
            ))));
        };
        dump::dump(&DumpSource::new(self.options.clone()), database, request).await
    }

    async fn close(&mut self) -> Result<(), StoreError> {
        if let Some(name) = self.scratch.take() {
            let quoted = crate::sql::quote(&name);
            sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {quoted}")))
                .execute(&mut self.conn)
                .await
                .map_err(database_error)?;
            // Ending the session would release it too; the store may live on a while.
            if let Err(error) = sqlx::query("SELECT RELEASE_LOCK(?)")
                .bind(&name)
                .persistent(false)
                .execute(&mut self.conn)
                .await
            {
                tracing::debug!(%error, "releasing a dropped scratch database's lock failed");
            }
        }
        Ok(())
    }
}
