//! A project in a temporary directory, and `godwit` run inside it.

#![allow(dead_code, reason = "each test crate uses a subset of the helpers")]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use godwit_core::{HistoryTable, LockOwner, LockRequest, Store, Value};
use godwit_sqlite::{SqliteOptions, SqliteStore};
use godwit_tests::PgDatabase;
use tempfile::TempDir;

/// A SQLite statement that runs for a few seconds: long enough for a live line on a terminal.
pub(crate) const SLOW: &str = "CREATE TABLE IF NOT EXISTS slow AS WITH RECURSIVE c(x) AS \
    (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 12000000) SELECT count(*) AS n FROM c;";

/// A directory with a `godwit.toml` pointing at `test.db` and an empty `migrations/`.
pub(crate) struct Project {
    dir: TempDir,
    /// The desired-schema cache of its runs, apart from the user's and other tests'.
    cache: TempDir,
}

impl Project {
    pub(crate) fn new() -> Self {
        let project = Project::empty();
        project.write("godwit.toml", "url = \"sqlite:test.db\"\n");
        std::fs::create_dir(project.path().join("migrations")).unwrap();
        project
    }

    /// A directory with nothing in it.
    pub(crate) fn empty() -> Self {
        Project {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The folder of its runs' desired-schema cache.
    pub(crate) fn cache_dir(&self) -> &Path {
        self.cache.path()
    }

    /// The SQLite file `godwit.toml` names.
    pub(crate) fn db(&self) -> PathBuf {
        self.path().join("test.db")
    }

    /// Write `contents` to `relative`.
    pub(crate) fn write(&self, relative: &str, contents: &str) {
        std::fs::write(self.path().join(relative), contents).unwrap();
    }

    /// Add a migration in `migrations/`.
    pub(crate) fn migration(&self, version: i64, name: &str, up: &str, down: Option<&str>) {
        self.write(&format!("migrations/{version}_{name}.up.sql"), up);
        if let Some(down) = down {
            self.write(&format!("migrations/{version}_{name}.down.sql"), down);
        }
    }

    /// `godwit` with `args`, run in the project with a clean, colourless environment.
    pub(crate) fn godwit(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_command(args))
    }

    /// [`Project::godwit`] as a standard library command, for control over its pipes.
    pub(crate) fn std_command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_godwit"));
        command
            .current_dir(self.path())
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .env("GODWIT_CACHE_DIR", self.cache.path())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100");
        command
    }

    /// Run `godwit args` and return what it did.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.godwit(args).output().unwrap()
    }

    /// The tables of the SQLite database at `path`.
    pub(crate) fn tables(path: &Path) -> Vec<String> {
        sqlite_rows(
            path,
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        )
        .into_iter()
        .map(|mut row| row.remove(0))
        .collect()
    }

    /// Take the migration lock of the project's database as `owner`, keeping it until the
    /// returned value is dropped.
    pub(crate) fn hold_lock(&self, owner: LockOwner) -> HeldLock {
        let store = SqliteStore::open(&self.db(), &SqliteOptions::default()).unwrap();
        HeldLock::take(runtime(), Box::new(store), &owner)
    }
}

/// A project whose commands get `--url` of a fresh PostgreSQL database.
pub(crate) struct PgProject {
    pub project: Project,
    pub db: PgDatabase,
}

impl PgProject {
    /// An empty `migrations/` and a new database; no config file.
    pub(crate) fn new() -> Self {
        let db = PgDatabase::create();
        let project = Project::empty();
        std::fs::create_dir(project.path().join("migrations")).unwrap();
        PgProject { project, db }
    }

    /// Run `godwit --url DB args`.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--url", self.db.url.as_str()];
        all.extend_from_slice(args);
        self.project.run(&all)
    }

    /// The rows of `sql` on the project's database, as text.
    pub(crate) fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        pg_rows(&self.db.url, sql)
    }

    /// Take the migration lock of the project's database on a session whose application name
    /// is [`PG_LOCK_APPLICATION`], keeping it until the returned value is dropped.
    pub(crate) fn hold_lock(&self) -> HeldLock {
        let runtime = runtime();
        let options = godwit_postgres::PgOptions {
            application_name: "godwit tests".into(),
            ..godwit_postgres::PgOptions::default()
        };
        let store = runtime
            .block_on(godwit_postgres::PgStore::connect(&self.db.url, &options))
            .unwrap();
        HeldLock::take(runtime, Box::new(store), &live_owner())
    }
}

/// The application name of the session holding a lock taken by [`PgProject::hold_lock`]: the
/// store names its lock connection after its own, with ` (lock)`.
pub(crate) const PG_LOCK_APPLICATION: &str = "godwit tests (lock)";

/// A migration lock taken in this process.
pub(crate) struct HeldLock {
    // Declared first so it drops while its runtime still exists.
    _store: Box<dyn Store>,
    _runtime: tokio::runtime::Runtime,
}

impl HeldLock {
    fn take(
        runtime: tokio::runtime::Runtime,
        mut store: Box<dyn Store>,
        owner: &LockOwner,
    ) -> Self {
        runtime
            .block_on(store.lock(&LockRequest {
                table: &HistoryTable::default(),
                owner,
                timeout: Duration::from_secs(5),
            }))
            .unwrap();
        HeldLock {
            _store: store,
            _runtime: runtime,
        }
    }
}

/// The owner this test process takes locks as: alive for as long as the test runs.
pub(crate) fn live_owner() -> LockOwner {
    LockOwner::current(host(), "godwit tests")
}

/// An owner whose process has exited, so its lock is stale.
pub(crate) fn dead_owner() -> LockOwner {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    LockOwner {
        host: host(),
        pid: child.id(),
        application: "godwit tests (exited)".into(),
    }
}

fn host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Run `sql` on the SQLite file at `path`.
pub(crate) fn sqlite_exec(path: &Path, sql: &str) {
    let mut store = SqliteStore::open(path, &SqliteOptions::default()).unwrap();
    runtime().block_on(store.execute_script(sql)).unwrap();
}

/// A value as text; `NULL` for null.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Int(n) => n.to_string(),
        Value::Text(t) => t.clone(),
    }
}

/// The rows of `sql` on the SQLite file at `path`, as text.
pub(crate) fn sqlite_rows(path: &Path, sql: &str) -> Vec<Vec<String>> {
    let mut store = SqliteStore::open(path, &SqliteOptions::default()).unwrap();
    runtime().block_on(rows_of(&mut store, sql))
}

/// The rows of `sql` on the PostgreSQL database at `url`, as text.
pub(crate) fn pg_rows(url: &str, sql: &str) -> Vec<Vec<String>> {
    runtime().block_on(async {
        let mut store =
            godwit_postgres::PgStore::connect(url, &godwit_postgres::PgOptions::default())
                .await
                .unwrap();
        rows_of(&mut store, sql).await
    })
}

async fn rows_of(store: &mut dyn Store, sql: &str) -> Vec<Vec<String>> {
    let rows = store
        .query(sql, &[])
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
    rows.into_iter()
        .map(|row| row.iter().map(text).collect())
        .collect()
}

/// The whole catalog of a SQLite file, to compare before and after.
pub(crate) fn catalog(path: &Path) -> Vec<Vec<String>> {
    sqlite_rows(
        path,
        "SELECT type, name, sql FROM sqlite_master ORDER BY type, name",
    )
}

/// A push now finds nothing to do, and leaves the catalog as it was.
pub(crate) fn assert_push_changes_nothing(project: &Project) {
    let before = catalog(&project.db());
    assert_prints(&project.run(&["push"]), 0, "no changes");
    assert_eq!(catalog(&project.db()), before);
}

/// stdout as one JSON document.
pub(crate) fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error} in stdout:\n{}", stdout(output)))
}

/// The state of each migration in the output of `status --format json`, as (version, state).
pub(crate) fn states(output: &Output) -> Vec<(i64, String)> {
    json(output)["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["version"].as_i64().unwrap(),
                m["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The columns of a SQLite table, in order.
pub(crate) fn columns(path: &Path, table: &str) -> Vec<String> {
    sqlite_rows(
        path,
        &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
    )
    .into_iter()
    .map(|row| row[0].clone())
    .collect()
}

/// stdout as text.
pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// stderr as text.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The exit code, with the output in the panic message when it is not `expected`.
#[track_caller]
pub(crate) fn assert_code(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// A connection to the database at `url` (`sqlite:PATH` or `postgres://...`), for checking
/// what a command did.
pub(crate) async fn connect(url: &str) -> Box<dyn Store> {
    godwit::connect(url, &godwit::ConnectOptions::default())
        .await
        .unwrap_or_else(|error| panic!("no test connection to {url}: {error}"))
}

/// Run the script `sql` on the database at `url`.
pub(crate) fn exec(url: &str, sql: &str) {
    runtime().block_on(async { connect(url).await.execute_script(sql).await.unwrap() });
}

/// Run the script `sql` on the database at `url`, which must fail; returns the error.
pub(crate) fn exec_err(url: &str, sql: &str) -> String {
    runtime().block_on(async {
        match connect(url).await.execute_script(sql).await {
            Ok(()) => panic!("`{sql}` succeeded but was expected to fail"),
            Err(error) => error.to_string(),
        }
    })
}

/// The rows of `sql` on the database at `url`, each value as text (`NULL` for null).
pub(crate) fn rows(url: &str, sql: &str) -> Vec<Vec<String>> {
    let rows = runtime().block_on(async { connect(url).await.query(sql, &[]).await.unwrap() });
    rows.into_iter()
        .map(|row| {
            row.iter()
                .map(|value| match value {
                    Value::Null => "NULL".to_string(),
                    Value::Int(n) => n.to_string(),
                    Value::Text(t) => t.clone(),
                })
                .collect()
        })
        .collect()
}

/// The exit code is `expected` and stdout contains `prints`.
#[track_caller]
pub(crate) fn assert_prints(output: &Output, expected: i32, prints: &str) {
    assert_code(output, expected);
    let printed = stdout(output);
    assert!(
        printed.contains(prints),
        "{prints:?} not in stdout:\n{printed}"
    );
}

/// The exit code is `expected` and stderr contains `says`.
#[track_caller]
pub(crate) fn assert_fails(output: &Output, expected: i32, says: &str) {
    assert_code(output, expected);
    let error = stderr(output);
    assert!(error.contains(says), "{says:?} not in stderr:\n{error}");
}
