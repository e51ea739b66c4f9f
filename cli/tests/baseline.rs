//! `godwit baseline` on databases that have tables and no history, and `migrate`'s refusal to
//! recreate the tables of such a database, on SQLite files and PostgreSQL.

mod common;

use common::{PgProject, Project, assert_code, assert_fails, json, states, stderr, stdout};
use godwit_tests::PgDatabase;

/// An application's schema, with rows, as another tool left it.
const SQLITE_APP: &str = "\
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT);
CREATE INDEX posts_user ON posts (user_id);
CREATE VIEW titles AS SELECT title FROM posts;
INSERT INTO users (email, name) VALUES ('a@example.com', 'A'), ('b@example.com', 'B');
INSERT INTO posts (user_id, title) VALUES (1, 'hello');";

const PG_APP: &str = "\
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, mood mood);
CREATE TABLE posts (id serial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), title text);
CREATE INDEX posts_user ON posts (user_id);
CREATE VIEW titles AS SELECT title FROM posts;
INSERT INTO users (email, mood) VALUES ('a@example.com', 'happy'), ('b@example.com', NULL);
INSERT INTO posts (user_id, title) VALUES (1, 'hello');";

/// A SQLite project whose database holds [`SQLITE_APP`].
fn sqlite_app() -> Project {
    let project = Project::new();
    common::sqlite_exec(&project.db(), SQLITE_APP);
    project
}

/// The names of the files in the project's migrations folder.
fn files(project: &Project) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(project.path().join("migrations"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sqlite_baseline_records_the_schema_without_running_it() {
    let project = sqlite_app();
    let output = project.run(&["baseline", "--version", "100"]);
    assert_prints_all(
        &output,
        &[
            "created ",
            "100_baseline.up.sql",
            "100_baseline.down.sql",
            "recorded migration 100 baseline as applied",
            "2 tables",
            "commit both files",
        ],
    );
    assert_eq!(
        files(&project),
        ["100_baseline.down.sql", "100_baseline.up.sql"]
    );
    let up =
        std::fs::read_to_string(project.path().join("migrations/100_baseline.up.sql")).unwrap();
    assert!(up.contains("CREATE TABLE \"users\""), "{up}");
    assert!(up.contains("CREATE VIEW"), "{up}");

    // Recorded with the file's checksum, without running: the rows are where they were.
    assert_eq!(
        states(&project.run(&["--format", "json", "status"])),
        [(100, "applied".to_string())]
    );
    assert_eq!(
        common::sqlite_rows(&project.db(), "SELECT COUNT(*) FROM users"),
        [["2"]]
    );
    let applied_by = common::sqlite_rows(&project.db(), "SELECT applied_by FROM godwit_migrations");
    assert!(applied_by[0][0].ends_with("(baseline)"), "{applied_by:?}");
    common::assert_prints(&project.run(&["migrate"]), 0, "up to date");

    // A new database gets the same schema from the migration, and loses it with the down.
    let fresh = format!("sqlite:{}", project.path().join("fresh.db").display());
    assert_code(&project.run(&["--url", &fresh, "migrate"]), 0);
    let inspect = |url: &str| stdout(&project.run(&["--url", url, "inspect"]));
    let live = format!("sqlite:{}", project.db().display());
    assert_eq!(inspect(&fresh), inspect(&live));
    assert_code(&project.run(&["--url", &fresh, "rollback"]), 0);
    assert_eq!(
        inspect(&fresh).trim(),
        "-- the database holds no schema objects"
    );

    // A second baseline is refused: the history has its row now.
    let again = project.run(&["baseline", "--version", "200"]);
    assert_fails(&again, 3, "already records 1 migration");
    assert_eq!(
        files(&project),
        ["100_baseline.down.sql", "100_baseline.up.sql"]
    );
}

#[track_caller]
fn assert_prints_all(output: &std::process::Output, parts: &[&str]) {
    assert_code(output, 0);
    let printed = stdout(output);
    for part in parts {
        assert!(printed.contains(part), "{part:?} not in stdout:\n{printed}");
    }
}

#[test]
fn baseline_prints_one_json_document() {
    let project = sqlite_app();
    let output = project.run(&["--format", "json", "baseline", "--version", "7"]);
    assert_code(&output, 0);
    let document = json(&output);
    assert_eq!(document["version"], 7);
    assert_eq!(document["name"], "baseline");
    assert_eq!(document["tables"], 2);
    assert_eq!(document["recorded"], true);
    assert_eq!(document["transactional"], true);
    assert_eq!(document["lint"]["errors"], 0);
    assert!(
        document["up"]
            .as_str()
            .unwrap()
            .ends_with("7_baseline.up.sql"),
        "{document}"
    );
    assert!(
        document["down"]
            .as_str()
            .unwrap()
            .ends_with("7_baseline.down.sql")
    );
}

#[test]
fn baseline_refuses_what_it_cannot_start_and_changes_nothing() {
    // No tables: nothing to baseline.
    let empty = Project::new();
    common::sqlite_exec(&empty.db(), "CREATE TABLE t (id INTEGER); DROP TABLE t;");
    assert_fails(&empty.run(&["baseline"]), 3, "holds no tables");
    assert!(files(&empty).is_empty());
    assert!(
        !Project::tables(&empty.db())
            .iter()
            .any(|t| t.starts_with("godwit"))
    );

    // A missing database file is named, not created.
    let missing = Project::new();
    assert_code(&missing.run(&["baseline"]), 2);
    assert!(!missing.db().exists());

    // A migration at or before the baseline's version would be out of order after it.
    let project = sqlite_app();
    project.migration(5, "add_notes", "CREATE TABLE notes (id INTEGER);", None);
    let output = project.run(&["baseline", "--version", "5"]);
    assert_fails(
        &output,
        3,
        "migration 5 at or before the baseline's version 5",
    );
    assert_fails(&output, 3, "`--version` older than 5");
    assert_eq!(files(&project), ["5_add_notes.up.sql"]);
    assert!(
        !Project::tables(&project.db())
            .iter()
            .any(|t| t.starts_with("godwit"))
    );

    // Before it, the newer migration stays pending and runs after the baseline.
    assert_code(&project.run(&["baseline", "--version", "4"]), 0);
    assert_eq!(
        states(&project.run(&["--format", "json", "status"])),
        [(4, "applied".to_string()), (5, "pending".to_string())]
    );
    assert_code(&project.run(&["migrate"]), 0);
    assert!(Project::tables(&project.db()).contains(&"notes".to_string()));
}

#[test]
fn sqlite_migrate_suggests_baseline_instead_of_recreating_tables() {
    let project = sqlite_app();
    project.migration(
        1,
        "init",
        "CREATE TABLE audit (id INTEGER);\nCREATE TABLE Users (id INTEGER PRIMARY KEY);\n",
        None,
    );
    for args in [
        &["migrate"][..],
        &["migrate", "--dry-run"],
        &["migrate", "--no-lint"],
    ] {
        let output = project.run(args);
        assert_fails(&output, 3, "`users` (");
        assert_fails(&output, 3, "1_init.up.sql:2)");
        assert_fails(&output, 3, "godwit baseline");
        assert_fails(&output, 3, "--allow-existing-tables");
    }
    let tables = Project::tables(&project.db());
    assert!(
        !tables
            .iter()
            .any(|t| t == "audit" || t.starts_with("godwit")),
        "{tables:?}"
    );

    // The override runs it, and the database says why it fails.
    assert_fails(
        &project.run(&["migrate", "--allow-existing-tables"]),
        1,
        "already exists",
    );

    // A migration that drops the table first, or creates it only if missing, runs as written.
    let project = sqlite_app();
    project.migration(
        1,
        "init",
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);\n\
         DROP TABLE posts;\nCREATE TABLE posts (id INTEGER);\n",
        None,
    );
    // (The lint would refuse the drop; that is not what this test is about.)
    assert_code(&project.run(&["migrate", "--no-lint"]), 0);
}

#[test]
fn postgres_baseline_records_the_schema_without_running_it() {
    let pg = PgProject::new();
    common::exec(&pg.db.url, PG_APP);
    let output = pg.run(&["baseline", "--version", "100"]);
    assert_prints_all(
        &output,
        &["recorded migration 100 baseline as applied", "2 tables"],
    );
    assert_eq!(
        states(&pg.run(&["--format", "json", "status"])),
        [(100, "applied".to_string())]
    );
    assert_eq!(pg.rows("SELECT COUNT(*) FROM users"), [["2"]]);
    assert_eq!(
        pg.rows("SELECT checksum FROM godwit_migrations")[0][0],
        godwit_core::Checksum::of(
            &std::fs::read_to_string(pg.project.path().join("migrations/100_baseline.up.sql"))
                .unwrap()
        )
        .as_str()
    );
    common::assert_prints(&pg.run(&["migrate"]), 0, "up to date");

    let fresh = PgDatabase::create();
    let on = |url: &str, args: &[&str]| {
        let mut all = vec!["--url", url];
        all.extend_from_slice(args);
        pg.project.run(&all)
    };
    assert_code(&on(&fresh.url, &["migrate"]), 0);
    assert_eq!(
        stdout(&on(&fresh.url, &["inspect"])),
        stdout(&on(&pg.db.url, &["inspect"]))
    );
    assert_code(&on(&fresh.url, &["rollback"]), 0);
    assert_eq!(
        stdout(&on(&fresh.url, &["inspect"])).trim(),
        "-- the database holds no schema objects"
    );

    assert_fails(
        &pg.run(&["baseline", "--version", "200"]),
        3,
        "already records",
    );
    let empty = PgProject::new();
    assert_fails(&empty.run(&["baseline"]), 3, "holds no tables");
}

/// Policies are schema and go into the baseline; privileges name roles the server of a new
/// database need not have, and are named and left out.
#[test]
fn postgres_baseline_keeps_policies_and_names_the_privileges_it_leaves_out() {
    let pg = PgProject::new();
    common::exec(
        &pg.db.url,
        "CREATE TABLE notes (id int, author text);
         ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own ON notes USING (author = current_user);
         GRANT SELECT, INSERT ON notes TO PUBLIC;",
    );
    let output = pg.run(&["baseline", "--version", "100"]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains(
            "the database has privileges INSERT, SELECT on public.notes to PUBLIC, which godwit \
             does not manage: the baseline leaves it out"
        ),
        "{}",
        stderr(&output)
    );
    let up =
        std::fs::read_to_string(pg.project.path().join("migrations/100_baseline.up.sql")).unwrap();
    assert!(up.contains("ENABLE ROW LEVEL SECURITY"), "{up}");
    assert!(up.contains("CREATE POLICY \"own\""), "{up}");
    assert!(!up.contains("GRANT"), "{up}");
}

#[test]
fn postgres_migrate_suggests_baseline_instead_of_recreating_tables() {
    let pg = PgProject::new();
    common::exec(&pg.db.url, PG_APP);
    common::exec(
        &pg.db.url,
        "CREATE SCHEMA other; CREATE TABLE other.audit (id int);",
    );
    pg.project.migration(
        1,
        "init",
        "CREATE TABLE audit (id int);\nCREATE TABLE public.posts (id int);\n",
        None,
    );
    let output = pg.run(&["migrate"]);
    // `audit` exists in another schema only, where an unqualified name is not created.
    assert_fails(&output, 3, "`public.posts` (");
    assert!(
        !common::stderr(&output).contains("`audit`"),
        "{}",
        common::stderr(&output)
    );
    assert_eq!(
        pg.rows("SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'godwit%'"),
        [["0"]]
    );

    pg.project.write(
        "migrations/1_init.up.sql",
        "CREATE TABLE audit (id int);\nCREATE TABLE IF NOT EXISTS posts (id int);\n",
    );
    assert_code(&pg.run(&["migrate"]), 0);
    assert_eq!(pg.rows("SELECT COUNT(*) FROM public.audit"), [["0"]]);
}
