//! A schema file describes schema and nothing else: the reports of a schema file reaching out
//! of its scratch database through `push --dry-run` and `diff`, replayed through the binary.
//! Each test checks the refusal and that what the file aimed at is untouched.
#![cfg(all(feature = "sqlite", feature = "postgres"))]

mod common;

use common::{PgProject, Project, assert_code, assert_fails, pg_rows, sqlite_exec, sqlite_rows};
use godwit_tests::{PgDatabase, pg_admin_url};

/// A project whose `app.db` holds a `users` table with two rows.
fn sqlite_app() -> Project {
    let project = Project::new();
    sqlite_exec(
        &project.db(),
        "CREATE TABLE users (id INTEGER PRIMARY KEY); INSERT INTO users VALUES (1), (2);",
    );
    project
}

fn user_count(project: &Project) -> Vec<Vec<String>> {
    sqlite_rows(&project.db(), "SELECT count(*) FROM users")
}

#[test]
fn a_dry_run_cannot_attach_the_real_sqlite_file() {
    let project = sqlite_app();
    let db = project.db();
    project.write(
        "schema.sql",
        &format!(
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\nATTACH DATABASE '{}' AS real;\nDELETE FROM real.users;\n",
            db.display()
        ),
    );
    let output = project.run(&["push", "--dry-run"]);
    assert_fails(&output, 2, "schema.sql:2: `ATTACH DATABASE");
    assert_fails(&output, 2, "nothing of it ran");
    assert_eq!(user_count(&project), [["2"]]);
}

#[test]
fn diff_cannot_drop_a_table_of_the_real_sqlite_file() {
    let project = sqlite_app();
    let db = project.db();
    project.write(
        "schema.sql",
        &format!(
            "ATTACH '{}' AS real;\nDROP TABLE real.users;\n",
            db.display()
        ),
    );
    let from = format!("sqlite:{}", db.display());
    let output = project.run(&["diff", "--from", &from, "--to", "schema.sql"]);
    assert_fails(&output, 2, "schema.sql:1: `ATTACH");
    assert_eq!(user_count(&project), [["2"]]);

    // Without the ATTACH, `real` names nothing the scratch database has.
    project.write("schema.sql", "DROP TABLE real.users;\n");
    let output = project.run(&["diff", "--from", &from, "--to", "schema.sql"]);
    assert_code(&output, 1);
    assert_eq!(user_count(&project), [["2"]]);
}

/// Whether database `name` exists on the test server.
fn database_exists(name: &str) -> bool {
    !pg_rows(
        &pg_admin_url(),
        &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
    )
    .is_empty()
}

#[test]
fn a_dry_run_cannot_drop_another_postgres_database() {
    let project = PgProject::new();
    let victim = PgDatabase::create();
    project.project.write(
        "schema.sql",
        &format!(
            "CREATE TABLE users (id int PRIMARY KEY);\nDROP DATABASE \"{}\";\n",
            victim.name
        ),
    );
    let output = project.run(&["push", "--dry-run", "--schema", "schema.sql"]);
    assert_fails(&output, 2, "schema.sql:2: `DROP DATABASE");
    assert!(database_exists(&victim.name));
}

/// The scratch databases and sandbox roles named after process `pid`.
fn left_behind(pid: u32) -> Vec<Vec<String>> {
    pg_rows(
        &pg_admin_url(),
        &format!(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'godwit\\_scratch\\_%\\_{pid}\\_%' \
             UNION ALL SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'godwit\\_scratch\\_%\\_{pid}\\_%'"
        ),
    )
}

#[test]
fn a_do_block_runs_in_a_sandbox_that_cannot_reach_other_databases() {
    let project = PgProject::new();
    let victim = PgDatabase::create();
    project.project.write(
        "escape.sql",
        &format!(
            "CREATE TABLE users (id int PRIMARY KEY);\n\
             DO $$ BEGIN EXECUTE 'ALTER DATABASE \"{}\" RENAME TO gone'; END $$;\n",
            victim.name
        ),
    );
    let child = project
        .project
        .std_command(&[
            "--url",
            &project.db.url,
            "push",
            "--dry-run",
            "--schema",
            "escape.sql",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert_fails(&output, 1, "must be owner of database");
    assert!(database_exists(&victim.name));
    assert!(left_behind(pid).is_empty(), "{:?}", left_behind(pid));

    // A DO block that stays inside its database works as before.
    project.project.write(
        "schema.sql",
        "CREATE TABLE users (id int PRIMARY KEY);\n\
         DO $$ BEGIN EXECUTE 'CREATE TABLE audit (at timestamptz)'; END $$;\n",
    );
    let output = project.run(&["push", "--schema", "schema.sql"]);
    assert_code(&output, 0);
    assert_eq!(
        project.rows("SELECT count(*) FROM pg_tables WHERE tablename IN ('users', 'audit')"),
        [["2"]]
    );
}
