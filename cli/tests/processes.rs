//! Whole-process tests of `godwit migrate` against both backends: a runner killed with SIGKILL
//! at several points leaves a history that agrees with the schema, one killed outside a
//! transaction leaves a failed row that `recover` gets past, six runners started at once
//! apply every migration exactly once, and a backfill killed again and again resumes without
//! updating a row twice or missing one.

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
        self.command(Command::new(env!("CARGO_BIN_EXE_godwit")))
    }

    /// `godwit` as pid 1 of a new pid namespace with its own `/proc`, as in a container. It
    /// dies with `unshare`, so killing the child kills godwit with SIGKILL.
    fn godwit_in_container(&self) -> Command {
        let mut command = Command::new("unshare");
        command
            .args(["--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"])
            .arg(env!("CARGO_BIN_EXE_godwit"));
        self.command(command)
    }

    fn command(&self, mut command: Command) -> Command {
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

/// Run `godwit args` to the end; it must succeed. Returns its stdout.
fn run_ok(project: &Project, args: &[&str]) -> String {
    let output = project.godwit().args(args).output().expect("run godwit");
    assert!(
        output.status.success(),
        "godwit {} exited with {:?}: {}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Spawn `godwit migrate` and return it once its progress output shows `marker` (the progress
/// line of a migration is flushed before the migration starts).
fn migrate_until(project: &Project, marker: &str) -> std::process::Child {
    run_until(project.godwit().arg("migrate"), marker)
}

/// Spawn `command` and return it once its standard output shows `marker`.
fn run_until(command: &mut Command, marker: &str) -> std::process::Child {
    use std::io::Read;
    let mut child = command
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
    run_ok(&project, &["migrate"]);
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
        let stderr = String::from_utf8_lossy(&output.stderr);
        // A runner that finds the lock taken waits for it, then finds nothing left to do: every
        // runner exits 0. The whole run takes a second or so, so a 60 s wait ends in a lock
        // timeout only on a machine stalled for a minute; that is the one other outcome
        // accepted, recognised by its own message. Exit code 4 alone would also let through a
        // "database is busy" error, which means a waiting runner gave up instead of waiting:
        // a bug, and this test's reason to exist.
        let timed_out = output.status.code() == Some(4)
            && stderr.contains("another run holds the migration lock")
            && stderr.contains("timed out after 60s waiting for the migration lock");
        assert!(
            output.status.success() || timed_out,
            "a runner exited with {:?}: {stderr}",
            output.status.code()
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

/// How long the slow statement of [`write_knobbed_migrations`] runs, read from table `knob`
/// when the statement starts: forever for the crash, nothing once the test turns it down.
fn knob_forever(backend: Backend) -> &'static str {
    match backend {
        // Rows of a recursive count; SIGKILL stops SQLite with the process.
        Backend::Sqlite => "1000000000000",
        // Seconds of pg_sleep; the server cancels it once it notices its client died.
        Backend::Postgres => "3600",
    }
}

/// Migration 1 creates `knob`; 2 runs outside a transaction, creating `started`, then running a
/// statement as slow as the knob says, then creating `finished`; 3 is an ordinary one after it.
/// Migration 2 can run again after an interruption (`IF NOT EXISTS`).
fn write_knobbed_migrations(project: &Project) {
    project.write(
        "1_knob.up.sql",
        &format!(
            "CREATE TABLE knob (n BIGINT NOT NULL);\nINSERT INTO knob (n) VALUES ({});\n",
            knob_forever(project.backend)
        ),
    );
    let slow = match project.backend {
        Backend::Sqlite => {
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < (SELECT n FROM knob))\n\
             SELECT count(*) FROM n;\n"
        }
        Backend::Postgres => "SELECT pg_sleep(n) FROM knob;\n",
    };
    project.write(
        "2_slow_outside.up.sql",
        &format!(
            "-- godwit:no-transaction\n\
             CREATE TABLE IF NOT EXISTS started (id BIGINT);\n\
             {slow}\
             CREATE TABLE IF NOT EXISTS finished (id BIGINT);\n"
        ),
    );
    project.write("3_after.up.sql", "CREATE TABLE after_slow (id BIGINT);\n");
}

/// A no-transaction migration killed half-way leaves a failed row behind; `migrate` refuses to
/// run it again unasked and points at `godwit recover`, whose retry completes it.
async fn crash_outside_a_transaction(backend: Backend) {
    let project = Project::new(backend);
    write_knobbed_migrations(&project);
    let mut child = migrate_until(&project, "applying 2 slow_outside ");
    let mut store = project.store().await;
    // `started` is committed by the script's first statement, so once it shows, the slow
    // statement runs (or is about to): the migration's row already says failed.
    while project.count(store.as_mut(), "started").await.is_none() {
        assert!(
            child.try_wait().expect("poll godwit").is_none(),
            "godwit ended before migration 2 started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("kill godwit");
    child.wait().expect("reap godwit");
    if backend == Backend::Postgres {
        // The killed runner's statement must not run on after it: a second runner could take
        // the lock (released with the dead lock session) while it still changes the schema.
        // godwit's sessions ask the server to check for a dead client every second.
        let started = std::time::Instant::now();
        loop {
            let running = store
                .query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND pid <> pg_backend_pid() AND state = 'active'",
                    &[],
                )
                .await
                .expect("read pg_stat_activity");
            if running[0][0] == Value::Int(0) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the killed runner's statement still runs on the server"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    assert_eq!(
        project.applied(store.as_mut()).await,
        [(1, "applied".to_string()), (2, "failed".to_string())]
    );
    let error = store
        .query(
            "SELECT error FROM godwit_migrations WHERE version = 2 AND finished_at IS NULL",
            &[],
        )
        .await
        .expect("history");
    assert!(
        matches!(&error[..], [row] if matches!(&row[0], Value::Text(e) if e.starts_with("interrupted"))),
        "migration 2 is not recorded as interrupted: {error:?}"
    );
    // The runner is dead, so the row is shown as it is written, not as running.
    assert_eq!(json_state(&project, 2), "failed");

    let output = project
        .godwit()
        .arg("migrate")
        .output()
        .expect("run godwit");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("migration 2 (slow_outside) failed on")
            && stderr.contains("interrupted")
            && stderr.contains("run `godwit recover`"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("godwit recover").count(),
        1,
        "the advice is given once: {stderr}"
    );
    assert_eq!(project.count(store.as_mut(), "finished").await, None);
    assert_eq!(project.count(store.as_mut(), "after_slow").await, None);

    let text = run_ok(&project, &["recover"]);
    assert!(text.contains("the process stopped while it ran"), "{text}");
    assert!(text.contains("godwit recover 2 --retry"), "{text}");

    // What made the statement slow is outside the file; with it gone, a retry completes it.
    store
        .execute("UPDATE knob SET n = 0", &[])
        .await
        .expect("turn the knob down");
    run_ok(&project, &["recover", "2", "--retry"]);
    let text = run_ok(&project, &["migrate"]);
    assert!(text.contains("applying 3 after "), "{text}");
    assert_eq!(
        project.applied(store.as_mut()).await,
        [1, 2, 3].map(|v| (v, "applied".to_string()))
    );
    for table in ["started", "finished", "after_slow"] {
        assert_eq!(
            project.count(store.as_mut(), table).await,
            Some(0),
            "{table}"
        );
    }
}

const BACKFILL_ROWS: i64 = 200_000;

/// A table of [`BACKFILL_ROWS`] rows whose `counter` is 0, and an operations migration whose
/// backfill adds 1 to every row's counter, and then makes a new column `NOT NULL` once the
/// backfill filled it: a row updated twice, or missed, shows in the counters.
fn write_backfill(project: &Project) {
    let fill = match project.backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {BACKFILL_ROWS})\n\
             INSERT INTO items (id) SELECT x FROM n;\n"
        ),
        Backend::Postgres => {
            format!("INSERT INTO items (id) SELECT generate_series(1, {BACKFILL_ROWS});\n")
        }
    };
    project.write(
        "1_items.up.sql",
        &format!(
            "CREATE TABLE items (id BIGINT PRIMARY KEY, counter BIGINT NOT NULL DEFAULT 0);\n{fill}"
        ),
    );
    project.write(
        "2_count_items.toml",
        "[[op]]\nkind = \"add_column\"\ntable = \"items\"\ncolumn = { name = \"seen\", type = \"BIGINT\" }\n\n\
         [[op]]\nkind = \"backfill\"\ntable = \"items\"\n\
         set = { counter = \"counter + 1\", seen = \"1\" }\nbatch_size = 1000\n\n\
         [[op]]\nkind = \"set_nullable\"\ntable = \"items\"\ncolumn = \"seen\"\nnullable = false\n",
    );
}

/// Spawn `godwit migrate` reporting its backfill's progress as JSON lines on stderr, and
/// SIGKILL it after `batches` batches were reported, `delay` later: the kill lands anywhere in
/// a batch, its transaction, or the pause after it. Returns the rows the last report said
/// were done, or `None` when the run ended first.
fn kill_during_backfill(project: &Project, batches: usize, delay: Duration) -> Option<i64> {
    use std::io::{BufRead, BufReader};
    let mut child = project
        .godwit()
        .args(["--format", "json", "migrate"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn godwit");
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut reports = 0;
    for line in stderr.lines() {
        let line = line.expect("read godwit's stderr");
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if event["event"] != "backfill" {
            continue;
        }
        let done = event["rows_done"].as_i64();
        if event["finished"] == true {
            break;
        }
        reports += 1;
        if reports > batches {
            std::thread::sleep(delay);
            child.kill().expect("kill godwit");
            child.wait().expect("reap godwit");
            return done;
        }
    }
    child.wait().expect("reap godwit");
    None
}

/// SIGKILL a backfill of 200,000 rows at pseudo-random points (the seed is printed), then let
/// `migrate` finish it: every row was updated exactly once, the progress row agrees, and the
/// steps after the backfill ran.
async fn backfill_killed_again_and_again(backend: Backend) {
    let project = Project::new(backend);
    write_backfill(&project);
    run_ok(&project, &["migrate", "--to", "1"]);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos() as u64;
    println!("kill points seeded with {seed}");
    let mut state = seed | 1;
    let mut next = |bound: u64| {
        // xorshift: reproducible from the printed seed, no dependency for it.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    let mut killed_mid_walk = 0;
    let mut last_done = 0;
    for _ in 0..8 {
        let batches = next(30) as usize;
        let delay = Duration::from_millis(next(8));
        match kill_during_backfill(&project, batches, delay) {
            Some(done) => {
                assert!(
                    done >= last_done,
                    "progress went back from {last_done} to {done}"
                );
                last_done = done;
                if done > 0 && done < BACKFILL_ROWS {
                    killed_mid_walk += 1;
                }
                let status = json_status(&project);
                let backfills = status["backfills"].as_array().expect("backfills in status");
                assert_eq!(backfills.len(), 1, "{status}");
                assert!(backfills[0]["rows_done"].as_i64() >= Some(done), "{status}");
            }
            None => break,
        }
    }
    assert!(
        killed_mid_walk >= 3,
        "only {killed_mid_walk} kills landed inside the walk (seed {seed})"
    );
    run_ok(&project, &["migrate"]);

    let mut store = project.store().await;
    assert_eq!(
        project.applied(store.as_mut()).await,
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
    let counters = store
        .query(
            "SELECT counter, count(*) FROM items GROUP BY counter ORDER BY counter",
            &[],
        )
        .await
        .expect("counters");
    assert_eq!(
        counters,
        [vec![Value::Int(1), Value::Int(BACKFILL_ROWS)]],
        "every row's counter must be 1 (seed {seed})"
    );
    let progress = store
        .query(
            "SELECT rows_done, rows_estimated, finished_at IS NOT NULL FROM godwit_backfills",
            &[],
        )
        .await
        .expect("progress");
    assert_eq!(
        progress,
        [vec![
            Value::Int(BACKFILL_ROWS),
            Value::Int(BACKFILL_ROWS),
            Value::Int(1)
        ]]
    );
    // The step after the backfill ran: the column refuses NULL now.
    assert!(
        store
            .execute("INSERT INTO items (id) VALUES (0)", &[])
            .await
            .is_err(),
        "`seen` must be NOT NULL after the migration"
    );
    let output = project
        .godwit()
        .args(["--format", "json", "backfill", "--status"])
        .output()
        .expect("backfill --status");
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(listed["backfills"][0]["state"], "finished", "{listed}");
    assert_eq!(listed["backfills"][0]["table"], "items", "{listed}");
}

/// The guide's examples in `examples/operations` (a data migration with a backfill between
/// schema steps, and a large-table backfill in batches with a pause), run as a user would:
/// applied, rolled back, applied again.
async fn operations_example_end_to_end(backend: Backend) {
    let project = Project::new(backend);
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/operations/migrations");
    for entry in std::fs::read_dir(example).expect("the example's migrations") {
        let entry = entry.expect("entry");
        std::fs::copy(
            entry.path(),
            project
                .dir
                .path()
                .join("migrations")
                .join(entry.file_name()),
        )
        .expect("copy");
    }
    let check = || async {
        let mut store = project.store().await;
        let roles = store
            .query(
                "SELECT role, count(*) FROM users GROUP BY role ORDER BY role",
                &[],
            )
            .await
            .expect("roles");
        assert_eq!(
            roles,
            [
                vec![Value::from("admin"), Value::Int(2)],
                vec![Value::from("member"), Value::Int(2)]
            ]
        );
        assert_eq!(
            store
                .query(
                    "SELECT count(*) FROM orders WHERE total_cents = CAST(total * 100 AS BIGINT)",
                    &[]
                )
                .await
                .expect("cents"),
            [vec![Value::Int(5000)]]
        );
        let progress = store
            .query(
                "SELECT table_name, rows_done FROM godwit_backfills ORDER BY version",
                &[],
            )
            .await
            .expect("progress");
        assert_eq!(
            progress,
            [
                vec![Value::from("users"), Value::Int(4)],
                vec![Value::from("orders"), Value::Int(5000)]
            ]
        );
    };
    let output = run_ok(&project, &["migrate"]);
    assert_eq!(output.matches("applying").count(), 3, "{output}");
    check().await;
    run_ok(&project, &["rollback", "--steps", "2"]);
    let mut store = project.store().await;
    for column in ["SELECT role FROM users", "SELECT total_cents FROM orders"] {
        assert!(
            store.query(column, &[]).await.is_err(),
            "{column} after rollback"
        );
    }
    run_ok(&project, &["migrate"]);
    check().await;
}

/// A `#[tokio::test]` per backend, each running `scenario` on it.
macro_rules! on_each_backend {
    ($scenario:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $scenario(Backend::Sqlite).await;
        }

        #[tokio::test]
        async fn $postgres() {
            $scenario(Backend::Postgres).await;
        }
    };
}

on_each_backend!(
    crash_outside_a_transaction: sqlite_crash_outside_a_transaction,
    postgres_crash_outside_a_transaction
);
on_each_backend!(
    crash_at_several_points: sqlite_crash_at_several_points,
    postgres_crash_at_several_points
);
on_each_backend!(
    six_runners_at_once: sqlite_six_runners_at_once,
    postgres_six_runners_at_once
);
on_each_backend!(
    backfill_killed_again_and_again: sqlite_backfill_killed_again_and_again,
    postgres_backfill_killed_again_and_again
);
on_each_backend!(
    operations_example_end_to_end: sqlite_operations_example_end_to_end,
    postgres_operations_example_end_to_end
);

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

/// `godwit --format json status`, which must succeed.
fn json_status(project: &Project) -> serde_json::Value {
    let output = project
        .godwit()
        .args(["--format", "json", "status"])
        .output()
        .expect("run status");
    assert!(
        output.status.success(),
        "status exited with {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("status JSON")
}

/// The pid the SQLite lock row records, if there is a row.
async fn sqlite_lock_pid(project: &Project) -> Option<Value> {
    let mut store = project.store().await;
    let (sql, params) = store
        .dialect()
        .table_exists_query(None, "godwit_migrations_lock");
    if store.query(&sql, &params).await.expect("exists").is_empty() {
        return None;
    }
    store
        .query("SELECT pid FROM godwit_migrations_lock", &[])
        .await
        .expect("lock row")
        .pop()
        .map(|mut row| row.remove(0))
}

/// A run as pid 1 of a container, killed with SIGKILL, leaves its lock row behind ("pid 1").
/// The next run is pid 1 of a new container: under that pid runs the new run itself, yet the
/// lock's holder is gone, and the new run takes the lock over instead of waiting for itself.
#[tokio::test]
async fn sqlite_a_runner_killed_as_pid_1_of_a_container_leaves_no_lock_in_the_way() {
    let project = Project::new(Backend::Sqlite);
    project.write(
        "1_slow.up.sql",
        "CREATE TABLE t (x BIGINT);\n\
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000000000)\n\
         SELECT count(*) FROM n;\n",
    );
    let mut child = run_until(
        project.godwit_in_container().args(["migrate", "--no-lint"]),
        "applying 1 slow ",
    );
    child.kill().expect("kill unshare, and godwit with it");
    child.wait().expect("reap unshare");
    assert_eq!(sqlite_lock_pid(&project).await, Some(Value::Int(1)));

    // Seen from outside any container, the lock is stale: `status` says so. The kernel kills
    // the container's pid 1 after reaping unshare (--kill-child), and its witness file is let
    // go only once that process has exited: on a busy machine that can take a moment.
    let mut status = json_status(&project);
    for _ in 0..100 {
        if status["lock"]["liveness"] != "running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        status = json_status(&project);
    }
    assert_eq!(status["lock"]["pid"], 1, "{status}");
    assert_eq!(status["lock"]["liveness"], "exited", "{status}");

    project.write("1_slow.up.sql", "CREATE TABLE t (x BIGINT);\n");
    let output = project
        .godwit_in_container()
        .args(["migrate", "--no-lint", "--lock-timeout", "60s"])
        .output()
        .expect("run godwit in a container");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("taking over a stale migration lock"),
        "{stderr}"
    );
    let mut store = project.store().await;
    assert_eq!(
        project.applied(store.as_mut()).await,
        [(1, "applied".to_string())]
    );
    assert_eq!(sqlite_lock_pid(&project).await, None);
}

/// While a runner spends seconds in one migration that has changed megabytes, `status` reads
/// the history and names the run holding the lock (SQLite would otherwise keep the file
/// locked for writing from the first megabytes on, and every reader would wait out its busy
/// timeout and fail), and a second runner waits for the lock as long as `--lock-timeout`
/// says, then applies its own migration once.
#[tokio::test]
async fn sqlite_status_and_a_second_runner_work_while_a_long_migration_runs() {
    let project = Project::new(Backend::Sqlite);
    project.write(
        "1_fill.up.sql",
        "CREATE TABLE log (version BIGINT NOT NULL);\n\
         CREATE TABLE filler (x BIGINT, pad TEXT);\n\
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)\n\
         INSERT INTO filler SELECT x, printf('%100d', x) FROM n;\n\
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000000)\n\
         SELECT count(*) FROM n;\n",
    );
    let mut first = migrate_until(&project, "applying 1 fill ");
    project.write("2_after.up.sql", "INSERT INTO log (version) VALUES (2);\n");
    let second = project
        .godwit()
        .args(["migrate", "--lock-timeout", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the second runner");
    let mut saw_the_run = false;
    while first.try_wait().expect("poll the first runner").is_none() {
        let status = json_status(&project);
        if status["lock"]["liveness"] == "running" {
            saw_the_run = true;
            assert_eq!(status["migrations"][0]["state"], "pending", "{status}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(first.wait().expect("wait").success());
    assert!(saw_the_run, "status never ran while the migration did");
    let output = second
        .wait_with_output()
        .expect("wait for the second runner");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("applying 2 after "));
    let mut store = project.store().await;
    assert_eq!(
        project.applied(store.as_mut()).await,
        [1, 2].map(|v| (v, "applied".to_string()))
    );
    assert_eq!(project.count(store.as_mut(), "log").await, Some(1));
}

/// Another connection keeps the database locked for writing longer than SQLite's busy timeout
/// (5 s): a runner with a longer `--lock-timeout` waits it out instead of failing at the 5 s
/// mark, then migrates.
#[tokio::test]
async fn sqlite_a_runner_waits_for_a_busy_database_as_long_as_its_lock_timeout() {
    let project = Project::new(Backend::Sqlite);
    project.write("1_t.up.sql", "CREATE TABLE t (id BIGINT);\n");
    let mut blocker = project.store().await;
    blocker
        .execute_script("BEGIN EXCLUSIVE")
        .await
        .expect("lock the database");
    let runner = project
        .godwit()
        .args(["migrate", "--lock-timeout", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn godwit");
    tokio::time::sleep(Duration::from_secs(7)).await;
    blocker.execute_script("COMMIT").await.expect("unlock");
    let output = runner.wait_with_output().expect("wait for godwit");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        project.applied(blocker.as_mut()).await,
        [(1, "applied".to_string())]
    );
}
