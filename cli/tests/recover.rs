//! `godwit recover` end to end: a transactional and a non-transactional failure on SQLite,
//! and on PostgreSQL the invalid index a failed `CREATE INDEX CONCURRENTLY` leaves, reported by
//! `status`, `migrate` and `recover` and dropped before a retry.

mod common;

use common::{Project, assert_code, exec, exec_err, rows, stderr, stdout};
use godwit_tests::PgDatabase;

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

fn sqlite_url(project: &Project) -> String {
    format!("sqlite:{}", project.db().display())
}

/// The status of `version` in the history table.
fn history_status(url: &str, version: i64) -> String {
    rows(
        url,
        &format!("SELECT status FROM godwit_migrations WHERE version = {version}"),
    )[0][0]
        .clone()
}

#[test]
fn a_transactional_failure_applied_nothing_and_can_be_retried() {
    let project = Project::new();
    let url = sqlite_url(&project);
    project.migration(1, "base", "CREATE TABLE base (id INTEGER);", None);
    project.migration(
        2,
        "needs_audit",
        "CREATE TABLE a (id INTEGER);\nINSERT INTO audit VALUES (1);\n",
        Some("DROP TABLE a;"),
    );
    assert_code(&project.run(&["migrate"]), 1);

    let output = project.run(&["recover"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(
        text.contains("migration 2 (needs_audit) failed in"),
        "{text}"
    );
    assert!(text.contains("no such table: audit"), "{text}");
    assert!(
        text.contains("failing statement (line 2): INSERT INTO audit"),
        "{text}"
    );
    assert!(text.contains("nothing of it is applied"), "{text}");
    assert!(text.contains("godwit recover 2 --retry"), "{text}");
    assert!(!text.contains("--run-down"), "{text}");
    assert!(text.contains("nothing changed; run again with one of the actions above"));

    let explained = json(&project.run(&["recover", "--format", "json"]));
    let failed = &explained["failed"][0];
    assert_eq!(failed["version"], 2);
    assert_eq!(failed["transactional"], true);
    assert_eq!(failed["outcome"]["kind"], "nothing_applied");
    assert_eq!(
        failed["actions"],
        serde_json::json!(["retry", "mark_rolled_back", "mark_applied"])
    );

    // Undoing what was never applied is refused, and changes nothing.
    let output = project.run(&["recover", "--run-down"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("--run-down does not fit migration 2 (needs_audit)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(history_status(&url, 2), "failed");
    assert!(!Project::tables(&project.db()).contains(&"a".to_string()));

    // The cause was outside the file: once it is gone, a retry of the same file succeeds.
    exec(&url, "CREATE TABLE audit (id INTEGER);");
    let output = project.run(&["recover", "--retry"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("applying 2 needs_audit ... ok"),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("migration 2 (needs_audit) is now applied"));
    assert_eq!(history_status(&url, 2), "applied");
    assert_eq!(rows(&url, "SELECT id FROM audit"), [["1"]]);

    let output = project.run(&["recover"]);
    assert_code(&output, 0);
    assert!(stdout(&output).contains("no migration is failed; nothing to recover"));
}

/// The file of the report: its own COMMIT ends the transaction godwit runs it in.
const ENDS_ITS_TRANSACTION: &str = "CREATE TABLE a (x INTEGER);\n\
-- godwit:allow explicit-transaction\n\
COMMIT;\n\
CREATE TABLE b (x INTEGER);\n\
SELECT x FROM missing_table;\n";

/// `recover` after a migration that committed part of itself never says nothing was applied.
fn check_ended_its_transaction(project: &Project, url_args: &[&str]) {
    project.migration(1, "ends", ENDS_ITS_TRANSACTION, None);
    let run = |args: &[&str]| project.run(&[url_args, args].concat());
    assert_code(&run(&["migrate"]), 1);
    let output = run(&["recover"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(!text.contains("nothing of it is applied"), "{text}");
    assert!(
        text.contains("it ran in a transaction that ended before it did (a COMMIT or ROLLBACK in its script), so what ran before the failure may be applied"),
        "{text}"
    );
    let explained = json(&run(&["recover", "--format", "json"]));
    let failed = &explained["failed"][0];
    assert_eq!(failed["transactional"], false);
    assert_eq!(failed["outcome"]["kind"], "ended_its_transaction");
    // The ways out of a failed no-transaction migration without a down script.
    assert_eq!(
        failed["actions"],
        serde_json::json!(["retry", "mark_rolled_back", "mark_applied"])
    );
}

#[test]
fn a_migration_that_ended_its_own_transaction_is_not_said_to_have_applied_nothing() {
    let project = Project::new();
    check_ended_its_transaction(&project, &[]);
    assert!(Project::tables(&project.db()).contains(&"a".to_string()));

    let pg = PgDatabase::create();
    let project = Project::empty();
    std::fs::create_dir(project.path().join("migrations")).unwrap();
    check_ended_its_transaction(&project, &["--url", &pg.url]);
    assert_eq!(
        rows(
            &pg.url,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'a'"
        ),
        [["1"]]
    );
}

const PARTIAL: &str = "-- godwit:no-transaction\n\
CREATE TABLE a (id INTEGER);\n\
CREATE TABLE b (id INTEGER);\n\
INSERT INTO missing VALUES (1);\n\
CREATE TABLE c (id INTEGER);\n";

#[test]
fn a_partial_failure_lists_what_ran_and_its_down_script_undoes_it() {
    let project = Project::new();
    let url = sqlite_url(&project);
    project.migration(
        1,
        "three_tables",
        PARTIAL,
        Some("DROP TABLE IF EXISTS c;\nDROP TABLE IF EXISTS b;\nDROP TABLE IF EXISTS a;\n"),
    );
    assert_code(&project.run(&["migrate"]), 1);
    let tables = Project::tables(&project.db());
    assert!(tables.contains(&"b".to_string()) && !tables.contains(&"c".to_string()));

    let output = project.run(&["recover"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("it ran outside a transaction"), "{text}");
    let ran = text.split("these statements ran").nth(1).unwrap();
    let (ran, not_run) = ran.split_once("these did not run").unwrap();
    assert!(ran.contains("line 2: CREATE TABLE a") && ran.contains("line 3: CREATE TABLE b"));
    assert!(not_run.contains("line 4: INSERT INTO missing"));
    assert!(not_run.contains("line 5: CREATE TABLE c"));
    for flag in [
        "--retry",
        "--run-down",
        "--mark-rolled-back",
        "--mark-applied",
    ] {
        assert!(text.contains(&format!("godwit recover 1 {flag}")), "{text}");
    }

    let explained = json(&project.run(&["recover", "--format", "json"]));
    let outcome = &explained["failed"][0]["outcome"];
    assert_eq!(outcome["kind"], "partly_applied");
    assert_eq!(outcome["ran"].as_array().unwrap().len(), 2);
    assert_eq!(outcome["not_run"][0]["line"], 4);

    let output = project.run(&["recover", "1", "--run-down"]);
    assert_code(&output, 0);
    assert!(stdout(&output).contains("rolling back 1 three_tables ... ok"));
    let tables = Project::tables(&project.db());
    assert!(!tables.iter().any(|t| t == "a" || t == "b"), "{tables:?}");
    assert_eq!(history_status(&url, 1), "rolled_back");

    // Rolled back means pending again: with the cause fixed, migrate completes it.
    exec(&url, "CREATE TABLE missing (id INTEGER);");
    assert_code(&project.run(&["migrate"]), 0);
    assert_eq!(history_status(&url, 1), "applied");
}

#[test]
fn marking_changes_only_the_history_and_mistakes_are_refused() {
    let project = Project::new();
    let url = sqlite_url(&project);
    project.migration(1, "ok", "CREATE TABLE ok (id INTEGER);", None);
    project.migration(2, "partial", PARTIAL, None);
    assert_code(&project.run(&["migrate"]), 1);

    // Not failed, and not known: refused with the real state, or a usage error.
    let output = project.run(&["recover", "1", "--retry"]);
    assert_code(&output, 3);
    assert!(stderr(&output).contains("migration 1 (ok) is applied, not failed"));
    assert_code(&project.run(&["recover", "9", "--mark-applied"]), 2);
    // No down script: run-down is not offered, and refused.
    let output = project.run(&["recover"]);
    assert!(
        !stdout(&output).contains("--run-down"),
        "{}",
        stdout(&output)
    );
    let output = project.run(&["recover", "--run-down"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("it has no down script"),
        "{}",
        stderr(&output)
    );
    // Two actions at once are a usage error.
    assert_code(&project.run(&["recover", "--retry", "--mark-applied"]), 2);

    // Completed by hand, then recorded: no SQL runs (table c would otherwise be created).
    exec(&url, "CREATE TABLE missing (id INTEGER);");
    let output = project.run(&["recover", "--mark-applied", "--format", "json"]);
    assert_code(&output, 0);
    let recovered = json(&output);
    assert_eq!(recovered["action"], "mark_applied");
    assert_eq!(recovered["migration"]["status"], "applied");
    assert_eq!(recovered["diagnosis"]["outcome"]["kind"], "partly_applied");
    assert!(!Project::tables(&project.db()).contains(&"c".to_string()));
    assert_eq!(history_status(&url, 2), "applied");
}

/// A PostgreSQL project whose table `t` holds a duplicate, so a unique index on it fails.
struct PgIndexProject {
    project: Project,
    db: PgDatabase,
}

impl PgIndexProject {
    fn new() -> Self {
        let db = PgDatabase::create();
        let project = Project::empty();
        project.write("godwit.toml", &format!("url = \"{}\"\n", db.url));
        std::fs::create_dir(project.path().join("migrations")).unwrap();
        project.migration(
            1,
            "t",
            "CREATE TABLE t (x int);\nINSERT INTO t VALUES (1), (1), (2);\n",
            None,
        );
        // IF NOT EXISTS is what makes an invalid index dangerous: without the drop, a retry
        // would skip the broken index and record success.
        project.migration(
            2,
            "unique_x",
            "-- godwit:no-transaction\n\
             CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_x ON t (x);\n",
            Some("DROP INDEX CONCURRENTLY IF EXISTS t_x;"),
        );
        PgIndexProject { project, db }
    }

    fn index_valid(&self, name: &str) -> Vec<Vec<String>> {
        rows(
            &self.db.url,
            &format!(
                "SELECT i.indisvalid::text FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = '{name}'"
            ),
        )
    }
}

#[test]
fn postgres_invalid_index_is_reported_and_dropped_before_a_retry() {
    let pg = PgIndexProject::new();
    let project = &pg.project;
    assert_code(&project.run(&["migrate"]), 1);
    assert_eq!(
        pg.index_valid("t_x"),
        [["false"]],
        "the failed build left an invalid index"
    );

    let output = project.run(&["status"]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("index public.t_x on t is invalid"),
        "{}",
        stderr(&output)
    );
    let status = json(&project.run(&["status", "--format", "json"]));
    assert_eq!(
        status["invalid_indexes"],
        serde_json::json!([{"schema": "public", "name": "t_x", "table": "t"}])
    );

    let output = project.run(&["recover"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("could not create unique index"), "{text}");
    assert!(
        text.contains("no statement ran before the failing one"),
        "{text}"
    );
    assert!(
        text.contains("index public.t_x on t is invalid")
            && text.contains("a retry drops it first"),
        "{text}"
    );

    exec(
        &pg.db.url,
        "DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t WHERE x = 1);",
    );
    let output = project.run(&["recover", "--retry"]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("dropped invalid index public.t_x on t"),
        "{}",
        stderr(&output)
    );
    assert_eq!(pg.index_valid("t_x"), [["true"]]);
    assert_eq!(history_status(&pg.db.url, 2), "applied");
}

#[test]
fn postgres_migrate_drops_only_the_invalid_indexes_its_migration_builds() {
    let pg = PgIndexProject::new();
    let project = &pg.project;
    assert_code(&project.run(&["migrate"]), 1);
    // Another invalid index, not godwit's: reported, never dropped.
    exec(
        &pg.db.url,
        "CREATE TABLE u (y int); INSERT INTO u VALUES (1), (1);",
    );
    let error = exec_err(&pg.db.url, "CREATE UNIQUE INDEX CONCURRENTLY u_y ON u (y)");
    assert!(error.contains("could not create unique index"), "{error}");
    assert_eq!(pg.index_valid("u_y"), [["false"]]);

    // Fixing the data and editing the file makes migrate retry it.
    exec(
        &pg.db.url,
        "DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t WHERE x = 1);",
    );
    project.write(
        "migrations/2_unique_x.up.sql",
        "-- godwit:no-transaction\n\
         -- duplicates removed by hand\n\
         CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_x ON t (x);\n",
    );
    let output = project.run(&["migrate", "--dry-run"]);
    assert_code(&output, 0);
    let warnings = stderr(&output);
    assert!(
        warnings.contains("index public.u_y on u is invalid"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("t_x"),
        "the index the run rebuilds is no warning: {warnings}"
    );

    let output = project.run(&["migrate"]);
    assert_code(&output, 0);
    let warnings = stderr(&output);
    assert!(
        warnings.contains("dropped invalid index public.t_x on t"),
        "{warnings}"
    );
    assert!(
        warnings.contains("index public.u_y on u is invalid"),
        "{warnings}"
    );
    assert_eq!(pg.index_valid("t_x"), [["true"]]);
    assert_eq!(
        pg.index_valid("u_y"),
        [["false"]],
        "an unrelated index is left alone"
    );
}
