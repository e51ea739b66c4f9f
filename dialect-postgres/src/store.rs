//! The I/O half of the backend: one PostgreSQL connection for work, another for the lock.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use godwit_core::backup::{Backup, BackupError, BackupRequest};
use godwit_core::{
    Backend, Checksum, Dialect, HistoryTable, Liveness, LockHolder, LockRequest, Row,
    StatementError, Step, Store, StoreError, UnlockOutcome, Value,
};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgConnection, PgDatabaseError,
    PgErrorPosition, PgRow, PgTypeInfo, Postgres,
};
use sqlx::{
    Arguments, AssertSqlSafe, ConnectOptions as _, Connection as _, Encode, Row as _, Type,
    TypeInfo as _, ValueRef as _,
};

use crate::PgBackend;
use crate::dialect::PgDialect;
use crate::dump::{self, DumpSource};
use crate::literal;
use crate::passes;
use crate::script::{self, Site};

/// How often a blocked runner asks for the lock again. Short enough that a freed lock is taken
/// promptly, long enough not to load the server while a long migration runs elsewhere.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// How long `clear_lock` waits for a terminated holder's session to end and free the lock.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// How to connect to PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// A schema for godwit's work: created when missing and put first on the connection's
    /// `search_path`, so unqualified names in migrations land there. Pass the same schema in
    /// the migrator's [`HistoryTable`] to keep the history there too. `None` keeps the server's
    /// search path.
    pub schema: Option<String>,
    /// The `application_name` the server shows in `pg_stat_activity`, and so in the lock
    /// holder another runner sees. The lock's own connection appends ` (lock)`.
    pub application_name: String,
    /// How long to wait for the server to accept a connection.
    pub connect_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: None,
            application_name: "godwit".into(),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A [`Store`] on a PostgreSQL database.
///
/// Migrations run on one connection. The migration lock is a session-level advisory lock held
/// on a second connection, opened when the lock is taken and closed when it is released, so it
/// is independent of the work connection's transactions. Dropping the store closes both: the
/// server then releases the lock by itself, so a crashed runner never leaves it behind.
///
/// Needs a Tokio runtime with the time driver enabled (connect timeouts and lock polling).
///
/// [`Store::open_scratch`] creates a scratch database on the same server (`CREATE DATABASE`,
/// so the user needs the `CREATEDB` privilege; where it does not have it, connect the store to
/// a development server where it does and open the scratch database there). The scratch store
/// it returns must be [`Store::close`]d, which drops the database.
pub struct PgStore {
    conn: PgConnection,
    /// Kept to open the lock connection later. Holds the password: never printed.
    connect_options: PgConnectOptions,
    /// The URL with its password removed, for messages.
    target: String,
    /// How pg_dump reaches this database. Holds the password: never printed.
    dump: DumpSource,
    options: PgOptions,
    in_transaction: bool,
    /// The last statement whose values [`PgStore::inline`] wrote as literals.
    template: Option<literal::Template>,
    lock: Option<HeldLock>,
    /// Set when this store is on a scratch database it must drop when closed.
    scratch: Option<Scratch>,
}

/// A scratch database and the database it was created from, whose session drops it: a
/// database cannot be dropped from a session connected to it.
struct Scratch {
    name: String,
    origin: PgConnectOptions,
    origin_target: String,
    /// The database is a sandbox: owned by, and reached through, a role of the same name
    /// made for it, which is dropped with it.
    sandbox: bool,
}

/// The advisory lock this store holds, and the session holding it.
struct HeldLock {
    conn: PgConnection,
    key: i64,
}

// By hand, so the connect options (and their password) can never reach a log line.
impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("options", &self.options)
            .field("in_transaction", &self.in_transaction)
            .field("lock_key", &self.lock.as_ref().map(|held| held.key))
            .field("scratch", &self.scratch.as_ref().map(|s| &s.name))
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Dropping needs a round trip, which `drop` cannot await; say what was left behind.
        if let Some(scratch) = &self.scratch {
            tracing::warn!(
                database = %scratch.name,
                server = %scratch.origin_target,
                "a scratch database was not closed and is left on the server; drop it with DROP DATABASE"
            );
        }
    }
}

impl PgStore {
    /// Drop the scratch databases that runs on this machine left when they were killed or
    /// interrupted (a scratch database is dropped by the run that made it, which a signal
    /// can stop first). Failing to is not this run's failure: it is logged and left.
    async fn drop_scratch_left_by_dead_runs(&mut self) {
        let names: Vec<String> = match sqlx::query_scalar(
            "SELECT datname::text FROM pg_catalog.pg_database WHERE datname LIKE 'godwit\\_scratch\\_%'",
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
        for name in names.iter().filter(|name| left_by_dead_run(name)) {
            match drop_database(&mut self.conn, name).await {
                Ok(()) => tracing::info!(
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
        // A sandbox's role outlives its database when the run is killed between the two drops.
        let roles: Vec<String> = sqlx::query_scalar(
            "SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname LIKE 'godwit\\_scratch\\_%'",
        )
        .persistent(false)
        .fetch_all(&mut self.conn)
        .await
        .unwrap_or_default();
        for role in roles.iter().filter(|role| left_by_dead_run(role)) {
            if let Err(error) = drop_role(&mut self.conn, role).await {
                tracing::warn!(%role, %error, "a sandbox role an interrupted godwit run left behind could not be dropped");
            }
        }
    }

    /// Connect to the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
    /// with the usual `sslmode`, `host=/socket/dir` and other parameters).
    ///
    /// Errors are [`StoreError::Connect`], naming the URL without its password and saying
    /// what to check.
    pub async fn connect(url: &str, options: &PgOptions) -> Result<PgStore, StoreError> {
        let target = godwit_core::url::redact_with_schemes(url, PgBackend.schemes()).to_string();
        let invalid = |reason: String| StoreError::InvalidUrl {
            target: target.clone(),
            reason: format!("{reason}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"),
        };
        let connect_options = PgConnectOptions::from_str(&for_sqlx(url)).map_err(|error| {
            invalid(match error {
                sqlx::Error::Configuration(inner) => inner.to_string(),
                other => other.to_string(),
            })
        })?;
        // sqlx fills in a missing host with `localhost`; godwit does not guess which server to
        // change, and pg_dump would not be given the same one.
        let dump = DumpSource::from_url(url).ok_or_else(|| invalid(incomplete(url)))?;
        PgStore::connect_with(connect_options, target, dump, options).await
    }

    async fn connect_with(
        connect_options: PgConnectOptions,
        target: String,
        dump: DumpSource,
        options: &PgOptions,
    ) -> Result<PgStore, StoreError> {
        let mut conn = open(
            &connect_options,
            &options.application_name,
            options.connect_timeout,
            &target,
        )
        .await?;
        if let Some(schema) = &options.schema {
            use_schema(&mut conn, schema)
                .await
                .map_err(|error| StoreError::Connect {
                    target: target.clone(),
                    message: format!(
                        "cannot use schema `{schema}`: {}; create it, or grant CREATE on the database",
                        Failure::of(&error).message
                    ),
                })?;
        }
        Ok(PgStore {
            conn,
            connect_options,
            target,
            dump,
            options: options.clone(),
            in_transaction: false,
            template: None,
            lock: None,
            scratch: None,
        })
    }

    /// Another scratch database on the server this scratch database was made on.
    async fn scratch_on_origin(&mut self, sandbox: bool) -> Result<Box<dyn Store>, StoreError> {
        let Some(scratch) = &self.scratch else {
            unreachable!("only a scratch store has an origin");
        };
        let mut origin = PgStore::connect_with(
            scratch.origin.clone(),
            scratch.origin_target.clone(),
            self.dump.clone(),
            &self.options,
        )
        .await?;
        let opened = if sandbox {
            origin.open_sandbox().await
        } else {
            origin.open_scratch().await
        };
        // The scratch store drops its database through a session of its own: this one's
        // work is done.
        drop(origin);
        opened
    }

    /// Create a scratch database and open a store on it. With `sandbox` (whether the
    /// connecting role is a superuser), the database is owned by a new role of the same name
    /// and opened by logging in as it.
    async fn create_scratch(
        &mut self,
        sandbox: Option<bool>,
    ) -> Result<Box<dyn Store>, StoreError> {
        if self.in_transaction {
            return Err(StoreError::Other(
                "cannot create a scratch database inside a transaction (CREATE DATABASE refuses to run in one); commit or roll back first"
                    .into(),
            ));
        }
        // From template0, so whatever was added to template1 stays out of the normalised
        // schema; with this database's encoding and locale, so text behaves the same.
        let (encoding, collate, ctype): (String, String, String) = sqlx::query_as(
            "SELECT pg_catalog.pg_encoding_to_char(encoding)::text, datcollate::text, datctype::text \
             FROM pg_catalog.pg_database WHERE datname = current_database()",
        )
        .persistent(false)
        .fetch_one(&mut self.conn)
        .await
        .map_err(database_error)?;
        self.drop_scratch_left_by_dead_runs().await;
        let name = scratch_name();
        let quoted = PgDialect.quote_identifier(&name);
        let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
        let mut connect = self.connect_options.clone().database(&name);
        let mut owner = String::new();
        if let Some(superuser) = sandbox {
            let password = sandbox_password()?;
            let mut create = format!(
                "CREATE ROLE {quoted} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE \
                 NOREPLICATION NOBYPASSRLS",
                literal(&password)
            );
            // Without superuser, giving a database to another role needs membership in it
            // (the ADMIN option that PostgreSQL 16 gives a role's creator is not enough).
            if !superuser {
                create.push_str(&format!("; GRANT {quoted} TO CURRENT_USER"));
            }
            sqlx::raw_sql(AssertSqlSafe(create))
                .execute(&mut self.conn)
                .await
                .map_err(|error| StoreError::NoSandbox {
                    reason: format!(
                        "creating the role a sandbox is reached through on {} failed: {}",
                        self.target,
                        Failure::of(&error).message
                    ),
                })?;
            owner = format!(" OWNER {quoted}");
            connect = connect.username(&name).password(&password);
        }
        let create = format!(
            "CREATE DATABASE {quoted}{owner} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}",
            literal(&encoding),
            literal(&collate),
            literal(&ctype)
        );
        if let Err(error) = sqlx::raw_sql(AssertSqlSafe(create))
            .execute(&mut self.conn)
            .await
        {
            self.drop_scratch(&name, sandbox.is_some()).await;
            let failure = Failure::of(&error);
            let advice = if failure.code.as_deref() == Some("42501") {
                "; grant the user CREATEDB (ALTER ROLE ... CREATEDB), or give godwit a development database URL on a server where it may create databases"
            } else {
                ""
            };
            return Err(StoreError::Other(format!(
                "cannot create scratch database {name} on {}: {}{advice}",
                self.target, failure.message
            )));
        }
        // The catalog's deparsers qualify names by the search path, so both sides of a diff
        // must read with the same one, whatever per-database or per-role settings say.
        let search_path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
            .persistent(false)
            .fetch_one(&mut self.conn)
            .await
            .map_err(database_error)?;
        let target = format!("scratch database {name} on {}", self.target);
        let dump = self.dump.for_database(&name);
        let connected = match PgStore::connect_with(connect, target, dump, &self.options).await {
            Ok(mut store) => sqlx::query("SELECT set_config('search_path', $1, false)")
                .bind(&search_path)
                .persistent(false)
                .execute(&mut store.conn)
                .await
                .map(|_| store)
                .map_err(database_error),
            Err(StoreError::Connect { message, .. }) if sandbox.is_some() => {
                Err(StoreError::NoSandbox {
                    reason: format!(
                        "{} refused a login of role {name}, made for the scratch database: \
                         {message}; let roles named godwit_scratch_* log in to their own \
                         database with a password (pg_hba.conf)",
                        self.target
                    ),
                })
            }
            Err(error) => Err(error),
        };
        match connected {
            Ok(mut store) => {
                store.scratch = Some(Scratch {
                    name,
                    origin: self.connect_options.clone(),
                    origin_target: self.target.clone(),
                    sandbox: sandbox.is_some(),
                });
                Ok(Box::new(store))
            }
            Err(error) => {
                self.drop_scratch(&name, sandbox.is_some()).await;
                Err(error)
            }
        }
    }

    /// Drop a scratch database this store made, and its sandbox role, after a failure.
    async fn drop_scratch(&mut self, name: &str, sandbox: bool) {
        if let Err(error) = drop_database(&mut self.conn, name).await {
            tracing::warn!(database = %name, %error, "could not drop a scratch database after a failure");
        }
        if sandbox && let Err(error) = drop_role(&mut self.conn, name).await {
            tracing::warn!(role = %name, %error, "could not drop a sandbox role after a failure");
        }
    }

    /// Send `sql` as one query string (the simple protocol), which runs `DO` blocks, functions
    /// and several statements exactly as written. Statements that completed are counted, so a
    /// runtime error without a position still names the statement that failed, and `on_step`
    /// learns which one runs: the server runs them in order and reports each as it completes.
    async fn execute_whole(
        &mut self,
        sql: &str,
        mut on_step: Option<&mut (dyn FnMut(Step) + Send)>,
    ) -> Result<(), StoreError> {
        // Naming the statements takes a token list of the whole script, which is tens of times
        // its size: a data migration of tens of megabytes runs without steps.
        let statements = match on_step {
            Some(_) if sql.len() <= STEPPED_SCRIPT_MAX => script::split(sql).ok(),
            _ => None,
        };
        let mut completed = 0;
        announce(&mut on_step, statements.as_deref(), completed);
        let error = {
            let mut results = sqlx::raw_sql(AssertSqlSafe(sql)).execute_many(&mut self.conn);
            loop {
                match std::future::poll_fn(|cx| results.as_mut().poll_next(cx)).await {
                    None => return Ok(()),
                    Some(Ok(_)) => {
                        completed += 1;
                        announce(&mut on_step, statements.as_deref(), completed);
                    }
                    Some(Err(error)) => break error,
                }
            }
        };
        let failure = Failure::of(&error);
        let statements = statements.or_else(|| script::split(sql).ok());
        let site = script::site_in_script(sql, statements.as_deref(), completed, failure.position);
        Err(StoreError::Statement(failure.located(site)))
    }

    /// Send each statement of `sql` on its own, telling `on_step` of each as it starts. Outside
    /// a transaction this is what PostgreSQL requires for `CREATE INDEX CONCURRENTLY` and
    /// friends: several statements in one query string form an implicit transaction block,
    /// which those commands refuse.
    async fn execute_each(
        &mut self,
        sql: &str,
        mut on_step: Option<&mut (dyn FnMut(Step) + Send)>,
    ) -> Result<(), StoreError> {
        let statements = match script::split(sql) {
            Ok(statements) => statements,
            Err(error) => {
                // The server, not the tokenizer, is the judge of SQL: a script the tokenizer
                // cannot read still gets its chance as one query string.
                tracing::warn!(%error, "cannot split the script into statements; sending it whole");
                return self.execute_whole(sql, None).await;
            }
        };
        for (done, statement) in statements.iter().enumerate() {
            announce(&mut on_step, Some(&statements), done);
            if let Err(error) = sqlx::raw_sql(AssertSqlSafe(statement.text))
                .execute(&mut self.conn)
                .await
            {
                let failure = Failure::of(&error);
                let site = script::site_in_statement(statement, failure.position);
                return Err(StoreError::Statement(failure.located(site)));
            }
        }
        Ok(())
    }

    /// `sql` with `params` written in as literals ([`literal`]), on the template kept from the
    /// last call when `sql` is the same statement.
    fn inline(&mut self, sql: &str, params: &[Value]) -> Option<String> {
        if !self.template.as_ref().is_some_and(|t| t.is_of(sql)) {
            self.template = Some(literal::Template::parse(sql)?);
        }
        self.template.as_ref()?.fill(params)
    }

    async fn simple(&mut self, sql: &'static str) -> Result<(), StoreError> {
        sqlx::raw_sql(sql)
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(database_error)
    }
}

/// The longest script whose statements are named as they run when it is sent whole.
const STEPPED_SCRIPT_MAX: usize = 1 << 20;

/// Tell `on_step` that the statement after the first `done` of `statements` starts, if the
/// script's statements are known and there is one.
fn announce(
    on_step: &mut Option<&mut (dyn FnMut(Step) + Send)>,
    statements: Option<&[script::Statement<'_>]>,
    done: usize,
) {
    if let (Some(on_step), Some(statements)) = (on_step, statements)
        && let Some(statement) = statements.get(done)
    {
        on_step(Step::statement(
            statement.index,
            Some(statements.len()),
            statement.line,
            statement.text,
        ));
    }
}

/// `url` as sqlx is given it: without the parameters sqlx does not know whose name says they
/// hold a secret (`sslpassword`, `Password`, `passwd`), because sqlx logs every parameter it
/// ignores with its value. sqlx would ignore them anyway; godwit says so, by name only.
fn for_sqlx(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // sqlx refuses it too, with a message that holds no part of it.
        return url.to_string();
    };
    let (kept, secret): (Vec<_>, Vec<_>) = parsed
        .query_pairs()
        .into_owned()
        .partition(|(name, _)| name == "password" || !godwit_core::url::is_secret_parameter(name));
    if secret.is_empty() {
        return url.to_string();
    }
    for (name, _) in &secret {
        tracing::warn!(
            parameter = %name,
            "ignoring a connection parameter godwit cannot use; remove it from the URL"
        );
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.into()
}

/// A database name no other scratch database has: machine, process, time and a counter
/// (`godwit_scratch_<machine>_<pid>_<time>_<n>`, within PostgreSQL's 63 bytes).
fn scratch_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{SCRATCH_PREFIX}{}_{}_{:x}_{}",
        machine_tag(),
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

const SCRATCH_PREFIX: &str = "godwit_scratch_";

/// This machine, as the first eight hex digits of its host name's checksum (stable across
/// builds, as the history's lock keys are).
fn machine_tag() -> String {
    let host = gethostname::gethostname();
    Checksum::of(&host.to_string_lossy()).as_str()[..8].to_string()
}

/// Whether scratch database `name` was left by a godwit run on this machine whose process is
/// gone (killed, or interrupted before it could drop it). Only a process known dead counts:
/// another machine's runs, and runs on systems where that cannot be told, are left alone.
fn left_by_dead_run(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(SCRATCH_PREFIX) else {
        return false;
    };
    let mut parts = rest.split('_');
    let (Some(machine), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    machine == machine_tag() && pid != std::process::id() && process_gone(pid)
}

#[cfg(target_os = "linux")]
fn process_gone(pid: u32) -> bool {
    !std::path::Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(not(target_os = "linux"))]
fn process_gone(_pid: u32) -> bool {
    false
}

/// Drop database `name` from a session on another database of the server, ending the
/// sessions still connected to it (the scratch store's own among them).
async fn drop_database(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .persistent(false)
        .fetch_one(&mut *conn)
        .await?;
    let quoted = PgDialect.quote_identifier(name);
    let statement = if version >= 130_000 {
        format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    } else {
        // Before PostgreSQL 13 there is no FORCE: end the sessions first.
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .persistent(false)
        .execute(&mut *conn)
        .await?;
        format!("DROP DATABASE IF EXISTS {quoted}")
    };
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(&mut *conn)
        .await
        .map(drop)
}

/// Drop the role a sandbox was reached through, once its database is gone.
async fn drop_role(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let statement = format!("DROP ROLE IF EXISTS {}", PgDialect.quote_identifier(name));
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(&mut *conn)
        .await
        .map(drop)
}

/// A password for a sandbox role: 32 random bytes as hex. It lives as long as the role,
/// which is dropped with its scratch database.
fn sandbox_password() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| StoreError::NoSandbox {
        reason: format!("the system gave no random bytes for its role's password ({error})"),
    })?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Open a connection, bounded by `timeout`, with errors that say what to fix.
async fn open(
    options: &PgConnectOptions,
    application_name: &str,
    timeout: Duration,
    target: &str,
) -> Result<PgConnection, StoreError> {
    // Migrations are expected to run long and their text is the user's own: sqlx's statement
    // and slow-statement logs would only repeat whole scripts into the user's terminal.
    let options = options
        .clone()
        .application_name(application_name)
        .disable_statement_logging();
    let message = match tokio::time::timeout(timeout, options.connect()).await {
        Ok(Ok(mut conn)) => {
            check_for_a_dead_client(&mut conn).await;
            return Ok(conn);
        }
        Ok(Err(error)) => connect_message(&error, &options, target),
        Err(_) => format!(
            "no answer from {} within {} s; check that the server is up and reachable from here",
            endpoint(&options),
            timeout.as_secs_f32()
        ),
    };
    Err(StoreError::Connect {
        target: target.to_string(),
        message,
    })
}

/// Ask the server to notice within a second when godwit goes away mid-statement.
///
/// A server notices a closed client only when it next talks to it, so a statement of a godwit
/// killed by SIGKILL would otherwise run on to its end: the lock connection closes at once
/// (its advisory lock is released), and a second runner could start while the first one's
/// statement is still changing the schema. With `client_connection_check_interval`
/// (PostgreSQL 14+, on platforms with the kernel support it needs) the orphaned statement is
/// cancelled within the interval instead. Where the setting is refused, godwit carries on
/// without it.
async fn check_for_a_dead_client(conn: &mut PgConnection) {
    if conn
        .server_version_num()
        .is_none_or(|version| version < 140_000)
    {
        return;
    }
    let set = sqlx::query("SELECT set_config('client_connection_check_interval', '1000', false)")
        .persistent(false)
        .execute(&mut *conn)
        .await;
    if let Err(error) = set {
        tracing::debug!(%error, "the server does not check for dead clients");
    }
}

/// What a URL sqlx accepts but [`DumpSource::from_url`] does not lacks: a host before the
/// path, the only part whose absence it refuses.
fn incomplete(url: &str) -> String {
    let Ok(url) = url::Url::parse(url) else {
        return "it is incomplete".into();
    };
    if url.query_pairs().any(|(key, _)| key == "host") {
        return "it names its host only in the host= parameter; put a host before the path \
                too, as in postgres://USER@localhost/DATABASE?host=/socket/dir"
            .into();
    }
    if url.path().trim_start_matches('/').is_empty() {
        "it is incomplete: it names no host and no database".into()
    } else {
        "it is incomplete: it names no host".into()
    }
}

/// Where `options` points, for messages.
fn endpoint(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(dir) => format!("the socket in {}", dir.display()),
        None if options.get_host().starts_with('/') => {
            format!("the socket in {}", options.get_host())
        }
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

/// An actionable message for a failed connection attempt. None of the inputs carries the
/// password: server messages never echo it, the endpoint is host and port only, and `target`
/// is the URL without its password (read for its `sslrootcert`).
fn connect_message(error: &sqlx::Error, options: &PgConnectOptions, target: &str) -> String {
    if let Some(message) = tls_message(error, options, target) {
        return message;
    }
    match error {
        sqlx::Error::Database(db) => {
            let message = db.message();
            match db.code().as_deref() {
                Some("28P01") => format!(
                    "{message}; check the user name and password in the URL (or PGPASSWORD, ~/.pgpass)"
                ),
                Some("28000") => format!(
                    "{message}; check the user name, and that the server's pg_hba.conf admits this user from this host"
                ),
                Some("3D000") => format!(
                    "{message}; create it (for example `createdb {}`) or fix the database name in the URL",
                    options.get_database().unwrap_or("DATABASE")
                ),
                Some("53300") => {
                    format!("{message}; the server has no free connection slots, try again later")
                }
                Some("57P03") => format!(
                    "{message}; the server is starting up or shutting down, try again shortly"
                ),
                Some(code) => format!("{message} [{code}]"),
                None => message.to_string(),
            }
        }
        sqlx::Error::Io(io) => format!(
            "cannot reach {}: {io}; check the host and port, and that the server is running and accepts connections",
            endpoint(options)
        ),
        sqlx::Error::Tls(tls) => format!(
            "TLS negotiation with {} failed: {tls}; check sslmode and the certificates named in the URL",
            endpoint(options)
        ),
        other => other.to_string(),
    }
}

/// The CA certificate file the connection trusts, as libpq and sqlx take it: the URL's
/// `sslrootcert` parameter (sqlx also reads `ssl-root-cert`), else `PGSSLROOTCERT`.
fn root_cert(target: &str) -> Option<String> {
    let from_url = url::Url::parse(target).ok().and_then(|url| {
        url.query_pairs()
            .find(|(key, _)| key == "sslrootcert" || key == "ssl-root-cert")
            .map(|(_, value)| value.into_owned())
    });
    from_url.or_else(|| std::env::var("PGSSLROOTCERT").ok())
}

/// A readable message for a connection that failed over TLS: a certificate the client refused
/// (sqlx hands on rustls's error, which prints webpki's reasons as Rust debug output such as
/// `Other(OtherError(CaUsedAsEndEntity))`), or an `sslrootcert` file that is not there. `None`
/// for any other failure.
fn tls_message(error: &sqlx::Error, options: &PgConnectOptions, target: &str) -> Option<String> {
    let server = endpoint(options);
    let root = root_cert(target);
    let trusted = match &root {
        Some(path) => format!("sslrootcert is {path}"),
        None => "sslrootcert is not set, so only well-known public CAs are trusted".into(),
    };
    let cause: &(dyn std::error::Error + 'static) = match error {
        sqlx::Error::Io(io) => {
            if io.kind() == std::io::ErrorKind::NotFound
                && let Some(path) = root
                    .as_deref()
                    .filter(|p| !std::path::Path::new(p).exists())
            {
                return Some(format!(
                    "cannot connect to {server} over TLS: sslrootcert names {path}, which does not \
                     exist; point sslrootcert at the certificate of the CA that issued the \
                     server's certificate"
                ));
            }
            io.get_ref()?
        }
        sqlx::Error::Tls(tls) => tls.as_ref(),
        _ => return None,
    };
    let rustls::Error::InvalidCertificate(refused) = cause.downcast_ref::<rustls::Error>()? else {
        return None;
    };
    let (why, fix) = match refused {
        rustls::CertificateError::Other(other)
            if matches!(
                other.0.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ) =>
        {
            (
                "the server presents a CA certificate (basicConstraints CA:TRUE) as its own, which \
                 TLS clients refuse"
                    .to_string(),
                format!(
                    "give the server (its ssl_cert_file) a certificate issued by that CA, and keep \
                     the CA's certificate in sslrootcert ({trusted})"
                ),
            )
        }
        rustls::CertificateError::UnknownIssuer => (
            "the server's certificate is not issued by a CA this connection trusts".to_string(),
            format!(
                "point sslrootcert at the certificate of the CA that issued it ({trusted})"
            ),
        ),
        rustls::CertificateError::Other(other) => (
            format!("the server's certificate was refused ({})", other.0),
            format!("check the server's certificate and sslrootcert ({trusted})"),
        ),
        other => (
            format!("the server's certificate was refused: {other}"),
            format!("check the server's certificate, the host name in the URL and sslrootcert ({trusted})"),
        ),
    };
    Some(format!("cannot connect to {server} over TLS: {why}; {fix}"))
}

/// Create `schema` when missing and put it first on the search path.
async fn use_schema(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    // Look before creating: `CREATE SCHEMA IF NOT EXISTS` checks the CREATE privilege even when
    // the schema exists, and a user without it should still be able to use an existing schema.
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
    )
    .bind(schema)
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        let create = format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            PgDialect.quote_identifier(schema)
        );
        sqlx::raw_sql(AssertSqlSafe(create))
            .execute(&mut *conn)
            .await?;
    }
    // Keep the rest of the path, so extensions and types in `public` stay visible.
    sqlx::query(
        "SELECT set_config('search_path', \
         concat_ws(', ', quote_ident($1), NULLIF(current_setting('search_path'), '')), false)",
    )
    .bind(schema)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What the server said about a failure, in the terms godwit reports.
struct Failure {
    message: String,
    code: Option<String>,
    constraint: Option<String>,
    /// 1-based character offset into the query string that was sent.
    position: Option<usize>,
}

impl Failure {
    fn of(error: &sqlx::Error) -> Failure {
        let Some(db) = error.as_database_error() else {
            return Failure {
                message: error.to_string(),
                code: None,
                constraint: None,
                position: None,
            };
        };
        match db.try_downcast_ref::<PgDatabaseError>() {
            Some(pg) => Failure {
                message: describe(pg),
                code: Some(pg.code().to_string()),
                constraint: pg.constraint().map(str::to_string),
                // An internal position points into a query of a function body or `DO` block,
                // not into the script; the failing statement's line is the best place then.
                position: match pg.position() {
                    Some(PgErrorPosition::Original(position)) => Some(position),
                    _ => None,
                },
            },
            None => Failure {
                message: db.message().to_string(),
                code: db.code().map(|code| code.into_owned()),
                constraint: db.constraint().map(str::to_string),
                position: None,
            },
        }
    }

    fn located(self, site: Site<'_>) -> StatementError {
        StatementError {
            statement_index: site.statement.map(|s| s.index),
            line: site.line,
            column: site.column,
            statement: site.statement.map(|s| s.text.to_string()),
            message: self.message,
            code: self.code,
            constraint: self.constraint,
        }
    }
}

/// The server's message with its detail, hint and context on one line: the detail names the
/// duplicate key, the context names the line of a failing `DO` block.
fn describe(error: &PgDatabaseError) -> String {
    let mut extras = Vec::new();
    if let Some(detail) = error.detail() {
        extras.push(format!("detail: {detail}"));
    }
    if let Some(hint) = error.hint() {
        extras.push(format!("hint: {hint}"));
    }
    if let Some(context) = error.r#where() {
        extras.push(format!("context: {}", context.replace('\n', "; ")));
    }
    if extras.is_empty() {
        error.message().to_string()
    } else {
        format!("{} ({})", error.message(), extras.join("; "))
    }
}

fn database_error(error: sqlx::Error) -> StoreError {
    let failure = Failure::of(&error);
    StoreError::Database {
        message: failure.message,
        code: failure.code,
    }
}

/// A `NULL` parameter of no declared type. Declared as `text`, a `NULL` bound for a `bigint`
/// column is refused ("column is of type bigint but expression is of type text"); with type
/// OID 0 the server infers the type from where the parameter is used, as it does for literals.
struct UntypedNull;

impl Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

fn arguments(params: &[Value]) -> Result<PgArguments, StoreError> {
    let mut arguments = PgArguments::default();
    for (index, param) in params.iter().enumerate() {
        let added = match param {
            Value::Null => Arguments::add(&mut arguments, UntypedNull),
            Value::Int(value) => Arguments::add(&mut arguments, *value),
            Value::Text(value) => Arguments::add(&mut arguments, value.as_str()),
        };
        added.map_err(|error| StoreError::Database {
            message: format!("cannot bind parameter ${}: {error}", index + 1),
            code: None,
        })?;
    }
    Ok(arguments)
}

/// Read one row into godwit's small value set.
fn decode_row(row: &PgRow) -> Result<Row, sqlx::Error> {
    (0..row.len())
        .map(|index| decode_column(row, index))
        .collect()
}

fn decode_column(row: &PgRow, index: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let ty = raw.type_info().into_owned();
    let value = if <i64 as Type<Postgres>>::compatible(&ty) {
        Value::Int(row.try_get::<i64, _>(index)?)
    } else if <i32 as Type<Postgres>>::compatible(&ty) {
        Value::Int(i64::from(row.try_get::<i32, _>(index)?))
    } else if <i16 as Type<Postgres>>::compatible(&ty) {
        Value::Int(i64::from(row.try_get::<i16, _>(index)?))
    } else if <String as Type<Postgres>>::compatible(&ty) {
        Value::Text(row.try_get::<String, _>(index)?)
    } else if <bool as Type<Postgres>>::compatible(&ty) {
        Value::Int(i64::from(row.try_get::<bool, _>(index)?))
    } else if <Oid as Type<Postgres>>::compatible(&ty) {
        Value::Int(i64::from(row.try_get::<Oid, _>(index)?.0))
    } else if <f64 as Type<Postgres>>::compatible(&ty) {
        Value::Text(row.try_get::<f64, _>(index)?.to_string())
    } else {
        // Results arrive in binary form, so other types have no portable reading here; say
        // what the column was rather than inventing a value.
        Value::Text(format!(
            "<{} value: cast it to text or bigint to read it>",
            ty.name()
        ))
    };
    Ok(value)
}

/// The advisory lock's two 32-bit halves, as `pg_locks` shows a lock taken with one `bigint`
/// key: `classid` holds the high half and `objid` the low half, both unsigned.
fn key_halves(key: i64) -> (i64, i64) {
    let key = key as u64;
    (i64::from((key >> 32) as u32), i64::from(key as u32))
}

/// The session holding an advisory lock, by the key's halves (`$1`, `$2`). Advisory locks are
/// per database, so the same key used in other databases on the server is no concern.
const HOLDER_SQL: &str = "\
SELECT l.pid, a.application_name,
       COALESCE(a.client_hostname, host(a.client_addr)),
       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
FROM pg_catalog.pg_locks AS l
LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.classid::bigint = $1 AND l.objid::bigint = $2
ORDER BY l.pid
LIMIT 1";

/// A row of [`HOLDER_SQL`]: pid, application name, client host, session start.
type HolderRow = (Option<i32>, Option<String>, Option<String>, Option<String>);

/// Who holds the advisory lock `key` in the current database.
async fn find_holder(conn: &mut PgConnection, key: i64) -> Result<Option<LockHolder>, StoreError> {
    let (classid, objid) = key_halves(key);
    let row: Option<HolderRow> = sqlx::query_as(HOLDER_SQL)
        .bind(classid)
        .bind(objid)
        .persistent(false)
        .fetch_optional(conn)
        .await
        .map_err(database_error)?;
    Ok(row.map(|(pid, application, host, since)| LockHolder {
        host,
        pid: pid.map(i64::from),
        application: application.filter(|name| !name.is_empty()),
        // The lock connection opens just before the lock is taken, so its start is the
        // lock's age.
        since,
        // A session lock lives exactly as long as its session: a dead holder has none.
        liveness: Liveness::Session,
    }))
}

#[async_trait]
impl Store for PgStore {
    fn dialect(&self) -> &dyn Dialect {
        &PgDialect
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        if self.in_transaction {
            self.execute_whole(sql, None).await
        } else {
            self.execute_each(sql, None).await
        }
    }

    async fn execute_script_in_steps(
        &mut self,
        sql: &str,
        on_step: &mut (dyn FnMut(Step) + Send),
    ) -> Result<(), StoreError> {
        if self.in_transaction {
            self.execute_whole(sql, Some(on_step)).await
        } else {
            self.execute_each(sql, Some(on_step)).await
        }
    }

    /// One message: a `DO` block runs the passes on the server ([`passes`]).
    async fn execute_in_passes(&mut self, statements: &[&str]) -> Result<Vec<usize>, StoreError> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::raw_sql(AssertSqlSafe(passes::message(statements)))
            .fetch_all(&mut self.conn)
            .await
            .map_err(database_error)?;
        let result: String = match rows.last() {
            Some(row) => row.try_get(0).map_err(database_error)?,
            None => String::new(),
        };
        passes::failed(&result).map_err(StoreError::Other)
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        // One message with the values inlined, rather than parse-then-execute ([`literal`]).
        if let Some(inlined) = self.inline(sql, params) {
            let result = sqlx::raw_sql(AssertSqlSafe(inlined))
                .execute(&mut self.conn)
                .await
                .map_err(database_error)?;
            return Ok(result.rows_affected());
        }
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

    async fn query_snapshot(&mut self, queries: &[String]) -> Result<Vec<Vec<Row>>, StoreError> {
        // Outside a transaction every query would read the catalog as committed when it
        // starts. One REPEATABLE READ transaction gives all of them the snapshot taken by the
        // first; READ ONLY, because nothing here writes. Inside the caller's transaction they
        // run in it, as it is.
        let own = !self.in_transaction;
        if own {
            self.simple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?;
        }
        let mut results = Vec::with_capacity(queries.len());
        let mut failed = None;
        for sql in queries {
            match self.query(sql, &[]).await {
                Ok(rows) => results.push(rows),
                Err(error) => {
                    failed = Some(error);
                    break;
                }
            }
        }
        // A failed query aborted the transaction, and COMMIT of an aborted one rolls it back:
        // either way it ends here, and the first error is the one to tell.
        let ended = if own {
            self.simple("COMMIT").await
        } else {
            Ok(())
        };
        if let Some(error) = failed {
            return Err(error);
        }
        ended?;
        Ok(results)
    }

    async fn begin(&mut self) -> Result<(), StoreError> {
        self.simple("BEGIN").await?;
        self.in_transaction = true;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        // A failed COMMIT ends the transaction too (the server rolls it back).
        self.in_transaction = false;
        self.simple("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        self.in_transaction = false;
        self.simple("ROLLBACK").await
    }

    async fn transaction_open(&mut self) -> Result<Option<bool>, StoreError> {
        if !self.in_transaction {
            return Ok(Some(false));
        }
        // sqlx keeps the server's transaction status (ReadyForQuery) to itself, so the server is
        // asked: it refuses a savepoint outside a transaction block (25P01, also within one
        // query string, an implicit block) and inside a failed one (25P02, still open).
        let asked = sqlx::raw_sql(
            "SAVEPOINT godwit_transaction_check; RELEASE SAVEPOINT godwit_transaction_check",
        )
        .execute(&mut self.conn)
        .await;
        match asked {
            Ok(_) => Ok(Some(true)),
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("25P02") => {
                Ok(Some(true))
            }
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("25P01") => {
                self.in_transaction = false;
                Ok(Some(false))
            }
            Err(other) => Err(database_error(other)),
        }
    }

    /// One query string: the check [`Store::transaction_open`] makes, the row, `COMMIT`. When
    /// the script ended the transaction, the `SAVEPOINT` that opens the string fails (an
    /// implicit block refuses it), and the server skips the rest of the string: nothing ran.
    async fn commit_with(&mut self, sql: &str, params: &[Value]) -> Result<bool, StoreError> {
        if !self.in_transaction {
            return Ok(false);
        }
        let Some(row) = self.inline(sql, params) else {
            if self.transaction_open().await? == Some(false) {
                return Ok(false);
            }
            self.execute(sql, params).await?;
            self.commit().await?;
            return Ok(true);
        };
        let message = format!(
            "SAVEPOINT godwit_transaction_check; RELEASE SAVEPOINT godwit_transaction_check;\n{row};\nCOMMIT"
        );
        match sqlx::raw_sql(AssertSqlSafe(message))
            .execute(&mut self.conn)
            .await
        {
            Ok(_) => {
                self.in_transaction = false;
                Ok(true)
            }
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("25P01") => {
                self.in_transaction = false;
                Ok(false)
            }
            Err(other) => Err(database_error(other)),
        }
    }

    async fn lock(&mut self, request: &LockRequest<'_>) -> Result<(), StoreError> {
        let key = request.table.lock_key();
        match &self.lock {
            Some(held) if held.key == key => return Ok(()),
            Some(_) => {
                return Err(StoreError::Other(
                    "this store already holds the migration lock of another history table; release it first"
                        .into(),
                ));
            }
            None => {}
        }
        let application = format!("{} (lock)", self.options.application_name);
        let mut conn = open(
            &self.connect_options,
            &application,
            self.options.connect_timeout,
            &self.target,
        )
        .await?;
        let start = Instant::now();
        loop {
            let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut conn)
                .await
                .map_err(database_error)?;
            if taken {
                self.lock = Some(HeldLock { conn, key });
                return Ok(());
            }
            let waited = start.elapsed();
            if waited >= request.timeout {
                let holder = find_holder(&mut conn, key).await?;
                if let Err(error) = conn.close().await {
                    tracing::debug!(%error, "closing an unused lock connection failed");
                }
                return Err(StoreError::LockTimeout { holder, waited });
            }
            tokio::time::sleep(LOCK_POLL.min(request.timeout - waited)).await;
        }
    }

    async fn unlock(&mut self, table: &HistoryTable) -> Result<(), StoreError> {
        let key = table.lock_key();
        let Some(HeldLock { mut conn, .. }) = self.lock.take_if(|held| held.key == key) else {
            return Ok(());
        };
        // Ending the session releases the lock whatever happens here (even when another
        // runner has terminated it), so failures are only worth a debug line.
        let released = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await;
        if let Err(error) = released {
            tracing::debug!(%error, "pg_advisory_unlock failed; closing the session releases the lock");
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
        find_holder(&mut self.conn, table.lock_key()).await
    }

    async fn clear_lock(
        &mut self,
        table: &HistoryTable,
        force: bool,
    ) -> Result<UnlockOutcome, StoreError> {
        let key = table.lock_key();
        let Some(holder) = find_holder(&mut self.conn, key).await? else {
            return Ok(UnlockOutcome::NotLocked);
        };
        // A session lock is never stale: its holder is, by construction, a live session.
        if !force {
            return Err(StoreError::LockHeld { holder });
        }
        if self.lock.as_ref().is_some_and(|held| held.key == key) {
            self.unlock(table).await?;
            return Ok(UnlockOutcome::Cleared { holder });
        }
        let Some(pid) = holder.pid else {
            return Err(StoreError::Other(
                "the migration lock is held by a prepared transaction; finish it with COMMIT PREPARED or ROLLBACK PREPARED"
                    .into(),
            ));
        };
        let signalled: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1::integer)")
            .bind(pid)
            .persistent(false)
            .fetch_one(&mut self.conn)
            .await
            .map_err(database_error)?;
        if !signalled {
            return Err(StoreError::Other(format!(
                "could not terminate server process {pid}, which holds the migration lock; run unlock again"
            )));
        }
        // Termination is asynchronous: wait until the session is gone, so the caller can take
        // the lock as soon as this returns.
        let deadline = Instant::now() + RELEASE_WAIT;
        while find_holder(&mut self.conn, key)
            .await?
            .is_some_and(|now| now.pid == Some(pid))
        {
            if Instant::now() >= deadline {
                return Err(StoreError::Other(format!(
                    "terminated server process {pid}, but it still holds the migration lock after {} s; run unlock again",
                    RELEASE_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(UnlockOutcome::Cleared { holder })
    }

    async fn open_scratch(&mut self) -> Result<Box<dyn Store>, StoreError> {
        if self.scratch.as_ref().is_some_and(|scratch| scratch.sandbox) {
            // A sandbox's role may not create databases: another scratch database comes from
            // the server the sandbox was made on.
            return self.scratch_on_origin(false).await;
        }
        self.create_scratch(None).await
    }

    /// A scratch database owned by a role made for it (`LOGIN`, a random password, and no
    /// attribute or membership besides), opened by logging in as that role: code run there can
    /// read, change and call nothing its owner could not, and it owns nothing but the scratch
    /// database. `SET ROLE` would not do, as the code could `RESET ROLE`. The connecting role
    /// must be a superuser or have `CREATEROLE`, and the server must let the new role log in
    /// the way this store does (the same host and method, with a password); otherwise the
    /// error is [`StoreError::NoSandbox`], saying which.
    async fn open_sandbox(&mut self) -> Result<Box<dyn Store>, StoreError> {
        if self.scratch.is_some() {
            return self.scratch_on_origin(true).await;
        }
        let (role, superuser, createrole): (String, bool, bool) = sqlx::query_as(
            "SELECT rolname::text, rolsuper, rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user",
        )
        .persistent(false)
        .fetch_one(&mut self.conn)
        .await
        .map_err(database_error)?;
        if !superuser && !createrole {
            return Err(StoreError::NoSandbox {
                reason: format!(
                    "role {role} on {} may not create the role a sandbox is reached through (it needs CREATEROLE)",
                    self.target
                ),
            });
        }
        self.create_scratch(Some(superuser)).await
    }

    /// A dump in pg_dump's custom format (`pg_dump --format=custom`), which `pg_restore`
    /// reads; pg_dump must be on `PATH`, of the server's major version or newer.
    async fn backup(&mut self, request: &BackupRequest<'_>) -> Result<Backup, BackupError> {
        let database = self
            .connect_options
            .get_database()
            .unwrap_or(self.connect_options.get_username())
            .to_string();
        dump::dump(
            &self.dump,
            &database,
            &self.options.application_name,
            request,
        )
        .await
    }

    async fn pause(&mut self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    async fn close(&mut self) -> Result<(), StoreError> {
        if let Some(HeldLock { conn, .. }) = self.lock.take()
            && let Err(error) = conn.close().await
        {
            tracing::debug!(%error, "closing the lock connection failed; the server releases its lock anyway");
        }
        let Some(scratch) = &self.scratch else {
            return Ok(());
        };
        let mut admin = open(
            &scratch.origin,
            &self.options.application_name,
            self.options.connect_timeout,
            &scratch.origin_target,
        )
        .await?;
        let dropped = match drop_database(&mut admin, &scratch.name).await {
            Ok(()) if scratch.sandbox => drop_role(&mut admin, &scratch.name).await,
            other => other,
        };
        dropped.map_err(|error| {
            StoreError::Other(format!(
                "cannot drop scratch database {} on {}: {}; drop it by hand with DROP DATABASE",
                scratch.name,
                scratch.origin_target,
                Failure::of(&error).message
            ))
        })?;
        if let Err(error) = admin.close().await {
            tracing::debug!(%error, "closing the session that dropped a scratch database failed");
        }
        // This store's own session ended with its database; it is closed for good.
        self.scratch = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_split_as_pg_locks_shows_them() {
        // Checked against `SELECT pg_advisory_lock(-1234567890123)` and `pg_locks`.
        assert_eq!(
            key_halves(-1_234_567_890_123),
            (4_294_967_008, 2_382_691_125)
        );
        assert_eq!(key_halves(0x0000_0001_0000_0002), (1, 2));
        assert_eq!(key_halves(-1), (0xffff_ffff, 0xffff_ffff));
    }

    #[test]
    fn sqlx_is_not_given_secrets_it_would_log() {
        assert_eq!(
            for_sqlx("postgres://u@h/db?sslpassword=s3cret&sslmode=require&Password=s3cret"),
            "postgres://u@h/db?sslmode=require"
        );
        assert_eq!(
            for_sqlx("postgres://u@h/db?passwd=s3cret"),
            "postgres://u@h/db"
        );
        // sqlx's own `password` stays, and a URL without secrets is passed as written.
        for url in [
            "postgres://u@h/db?password=s3cret",
            "postgres://u:s3cret@h/db?options=-c%20search_path%3Dapp",
        ] {
            assert_eq!(for_sqlx(url), url);
        }
    }

    #[test]
    fn connect_messages_name_the_endpoint_not_the_password() {
        let options =
            PgConnectOptions::from_str("postgres://me:hunter2@db.example:6543/app").unwrap();
        let refused = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
        let message = connect_message(&refused, &options, "postgres://me:***@db.example:6543/app");
        assert!(
            message.starts_with("cannot reach db.example:6543: connection refused"),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    }

    // Built as sqlx hands them on (rustls's error inside an I/O error of the handshake), since
    // the test server's certificate is not one webpki refuses this way. Checked by hand
    // against a server whose certificate has basicConstraints CA:TRUE.
    #[test]
    fn refused_certificates_are_told_in_words_naming_server_and_sslrootcert() {
        let options = PgConnectOptions::from_str("postgres://me@db.example:6543/app").unwrap();
        let target =
            "postgres://me@db.example:6543/app?sslmode=verify-full&sslrootcert=/etc/ca.pem";
        let refused = |error: rustls::CertificateError| {
            let tls = rustls::Error::InvalidCertificate(error);
            sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, tls))
        };
        let ca_as_leaf = rustls::CertificateError::Other(rustls::OtherError(std::sync::Arc::new(
            webpki::Error::CaUsedAsEndEntity,
        )));
        let message = connect_message(&refused(ca_as_leaf), &options, target);
        assert!(
            message.starts_with(
                "cannot connect to db.example:6543 over TLS: the server presents a CA certificate"
            ),
            "{message}"
        );
        assert!(message.contains("sslrootcert is /etc/ca.pem"), "{message}");
        assert!(!message.contains("OtherError"), "{message}");

        let unknown = rustls::CertificateError::UnknownIssuer;
        let message = connect_message(&refused(unknown), &options, target);
        assert!(
            message.contains("not issued by a CA this connection trusts"),
            "{message}"
        );

        // The root certificate file is read before the handshake; a missing one is named.
        let missing = sqlx::Error::Io(std::io::ErrorKind::NotFound.into());
        let target = "postgres://me@db.example/app?sslmode=verify-ca&sslrootcert=/no/such/ca.pem";
        let message = connect_message(&missing, &options, target);
        assert!(
            message.contains("sslrootcert names /no/such/ca.pem, which does not exist"),
            "{message}"
        );
    }
}
