//! Whole-process tests of `godwit migrate` against both backends: a runner killed with SIGKILL
//! at several points leaves a history that agrees with the schema, and six runners started at
//! once apply every migration exactly once.

use std::process::{Command, Stdio};
use std::time::Duration;

use godwit_core::{Store, Value};
use godwit_tests::PgDatabase;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A project directory with a config file pointing at a fresh database.
struct Project {
    backend: Backend,
    dir: tempfile::TempDir,
    url: String,
    _pg: Option<PgDatabase>,
}

impl Project {
    fn new(backend: Backend) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite:{}", dir.path().join("app.db").display()),
                None,
            ),
            Backend::Postgres => {
                let db = PgDatabase::create();
                (db.url.clone(), Some(db))
            }
        };
        std::fs::create_dir(dir.path().join("migrations")).expect("migrations dir");
        Project {
            backend,
            dir,
            url,
            _pg: pg,
        }
    }

    fn write(&self, file: &str, sql: &str) {
        std::fs::write(self.dir.path().join("migrations").join(file), sql).expect("write");
    }

    fn godwit(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_godwit"));
        command
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .arg("--url")
            .arg(&self.url)
            .stdin(Stdio::null());
        command
    }

    async fn store(&self) -> Box<dyn Store> {
        match self.backend {
            Backend::Sqlite => Box::new(
                godwit_sqlite::SqliteStore::open(
                    &self.dir.path().join("app.db"),
                    &godwit_sqlite::SqliteOptions::default(),
                )
                .expect("open sqlite"),
            ),
            Backend::Postgres => Box::new(
                godwit_postgres::PgStore::connect(
                    &self.url,
                    &godwit_postgres::PgOptions::default(),
                )
                .await
                .expect("connect postgres"),
            ),
        }
    }

    /// Applied versions according to the history table.
    async fn applied(&self, store: &mut dyn Store) -> Vec<(i64, String)> {
        let (sql, params) = store
            .dialect()
            .table_exists_query(None, "godwit_migrations");
        if store.query(&sql, &params).await.expect("exists").is_empty() {
            return Vec::new();
        }
        store
            .query(
                "SELECT version, status FROM godwit_migrations ORDER BY version",
                &[],
            )
            .await
            .expect("history")
            .into_iter()
            .map(|row| match (&row[0], &row[1]) {
                (Value::Int(v), Value::Text(s)) => (*v, s.clone()),
                other => panic!("unexpected history row {other:?}"),
            })
            .collect()
    }

    async fn count(&self, store: &mut dyn Store, table: &str) -> Option<i64> {
        let (sql, params) = store.dialect().table_exists_query(None, table);
        if store.query(&sql, &params).await.expect("exists").is_empty() {
            return None;
        }
        match store
            .query(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await
            .expect("count")[0][0]
        {
            Value::Int(n) => Some(n),
            ref other => panic!("count returned {other:?}"),
        }
    }
}

const SLOW_MIGRATIONS: i64 = 6;
const ROWS: i64 = 1_000_000;

fn write_slow_migrations(project: &Project) {
    for k in 1..=SLOW_MIGRATIONS {
        let fill = match project.backend {
            Backend::Sqlite => format!(
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {ROWS})\n\
                 INSERT INTO t{k} (x) SELECT x FROM n;\n"
            ),
            Backend::Postgres => format!(
                "INSERT INTO t{k} (x) SELECT generate_series(1, {ROWS});\nSELECT pg_sleep(0.3);\n"
            ),
        };
        project.write(
            &format!("{k}_slow_{k}.up.sql"),
            &format!("CREATE TABLE t{k} (x BIGINT);\n{fill}"),
        );
    }
}

/// After any interruption, a table exists exactly when its migration is recorded as applied,
/// and then it is complete.
async fn assert_history_matches_schema(project: &Project) {
    let mut store = project.store().await;
    let applied = project.applied(store.as_mut()).await;
    for (version, status) in &applied {
        assert_eq!(
            status, "applied",
            "migration {version} is {status} after a crash"
        );
    }
    for k in 1..=SLOW_MIGRATIONS {
        let recorded = applied.iter().any(|(v, _)| *v == k);
        let rows = project.count(store.as_mut(), &format!("t{k}")).await;
        match (recorded, rows) {
            (true, Some(n)) => assert_eq!(n, ROWS, "t{k} is incomplete"),
            (false, None) => {}
            (recorded, rows) => {
                panic!("history says applied={recorded} for {k} but table t{k} has {rows:?} rows")
            }
        }
    }
}

/// Spawn `godwit migrate` and return it once its progress output shows `marker` (the progress
/// line of a migration is flushed before the migration starts).
fn migrate_until(project: &Project, marker: &str) -> std::process::Child {
    use std::io::Read;
    let mut child = project
        .godwit()
        .arg("migrate")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn godwit");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut seen = Vec::new();
    let mut chunk = [0u8; 512];
    while !String::from_utf8_lossy(&seen).contains(marker) {
        let n = stdout.read(&mut chunk).expect("read godwit's output");
        assert!(
            n > 0,
            "godwit ended before printing {marker:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&chunk[..n]);
    }
    // Keep the pipe open: a runner that goes on must not meet a closed stdout.
    child.stdout = Some(stdout);
    child
}

/// Spawn `godwit migrate` and SIGKILL it while migration `victim` runs. The kill point is read
/// from the runner's own progress line (`applying <version> ...` is flushed before the migration
/// starts), never guessed from the clock, so it lands mid-migration whatever the machine's speed.
fn kill_while_running(project: &Project, victim: i64) {
    let mut child = migrate_until(project, &format!("applying {victim} slow_{victim} "));
    // Let the migration get into its work; each one takes far longer than this.
    std::thread::sleep(Duration::from_millis(30));
    // `kill` sends SIGKILL on Unix: no destructor, no rollback handler runs.
    child.kill().expect("kill godwit");
    child.wait().expect("reap godwit");
}

async fn crash_at_several_points(backend: Backend) {
    let project = Project::new(backend);
    write_slow_migrations(&project);
    for victim in [1, 2, 4, 6] {
        kill_while_running(&project, victim);
        assert_history_matches_schema(&project).await;
        let mut store = project.store().await;
        let applied = project.applied(store.as_mut()).await;
        assert_eq!(
            applied.len() as i64,
            victim - 1,
            "killed while migration {victim} ran, so exactly those before it are applied"
        );
    }
    let output = project
        .godwit()
        .arg("migrate")
        .output()
        .expect("run godwit");
    assert!(
        output.status.success(),
        "the run after the crashes failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_history_matches_schema(&project).await;
    let mut store = project.store().await;
    assert_eq!(
        project.applied(store.as_mut()).await.len() as i64,
        SLOW_MIGRATIONS
    );
}

async fn six_runners_at_once(backend: Backend) {
    const MIGRATIONS: i64 = 12;
    let project = Project::new(backend);
    project.write("1_log.up.sql", "CREATE TABLE applied_log (version BIGINT NOT NULL);\nINSERT INTO applied_log VALUES (1);\n");
    for k in 2..=MIGRATIONS {
        project.write(
            &format!("{k}_step_{k}.up.sql"),
            &format!("CREATE TABLE s{k} (id BIGINT);\nINSERT INTO applied_log VALUES ({k});\n"),
        );
    }
    let children: Vec<_> = (0..6)
        .map(|_| {
            project
                .godwit()
                .args(["migrate", "--lock-timeout", "60s"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn godwit")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        let code = output.status.code();
        assert!(
            code == Some(0) || code == Some(4),
            "a runner exited with {code:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut store = project.store().await;
    let applied = project.applied(store.as_mut()).await;
    assert_eq!(applied.len() as i64, MIGRATIONS);
    assert!(applied.iter().all(|(_, s)| s == "applied"));
    let rows = store
        .query(
            "SELECT version, COUNT(*) FROM applied_log GROUP BY version ORDER BY version",
            &[],
        )
        .await
        .expect("log");
    assert_eq!(rows.len() as i64, MIGRATIONS, "every migration ran");
    for row in rows {
        assert_eq!(
            row[1],
            Value::Int(1),
            "migration {:?} ran more than once",
            row[0]
        );
    }
}

#[tokio::test]
async fn sqlite_crash_at_several_points() {
    crash_at_several_points(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_crash_at_several_points() {
    crash_at_several_points(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_six_runners_at_once() {
    six_runners_at_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_six_runners_at_once() {
    six_runners_at_once(Backend::Postgres).await;
}

/// The state `godwit --format json status` gives migration `version`.
fn json_state(project: &Project, version: i64) -> String {
    let output = project
        .godwit()
        .args(["--format", "json", "status"])
        .output()
        .expect("run status");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("status JSON");
    value["migrations"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["version"] == version))
        .map(|m| m["state"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("no migration {version} in {value}"))
}

/// A no-transaction migration's row says failed from its start (so a crash leaves a failure
/// behind); while its runner lives and holds the lock, `status` says it is running.
#[tokio::test]
async fn postgres_status_shows_a_no_transaction_migration_running() {
    let project = Project::new(Backend::Postgres);
    project.write(
        "1_slow.up.sql",
        "-- godwit:no-transaction\nSELECT pg_sleep(3);\n",
    );
    let mut child = migrate_until(&project, "applying 1 slow");
    assert_eq!(json_state(&project, 1), "running");
    assert!(child.wait().expect("wait for godwit").success());
    assert_eq!(json_state(&project, 1), "applied");
}
