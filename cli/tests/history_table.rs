//! `history_table` in the config file: `SCHEMA.TABLE` names a schema, and a name held by
//! something other than a godwit history table is refused before anything is created.

mod common;

use common::{PgProject, Project, assert_code, assert_fails, stderr};

/// The tables and views outside the system schemas, as `schema.name`.
fn pg_relations(pg: &PgProject) -> Vec<String> {
    pg.rows(
        "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'v') \
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .into_iter()
    .map(|mut row| row.remove(0))
    .collect()
}

#[test]
fn postgres_history_table_names_are_resolved_as_queries_resolve_them() {
    let pg = PgProject::new();
    pg.project
        .migration(1, "a", "CREATE TABLE a (x int);", None);
    common::exec(&pg.db.url, "CREATE TABLE users (id int)");
    let before = pg_relations(&pg);
    for (name, holder) in [
        (
            "pg_class",
            "`pg_class` already names the table pg_catalog.pg_class",
        ),
        ("users", "`users` already names the table public.users"),
    ] {
        pg.project
            .write("godwit.toml", &format!("history_table = \"{name}\"\n"));
        for command in ["migrate", "status"] {
            let output = pg.run(&[command]);
            if command == "status" && name == "pg_class" {
                // Read-only: nothing called pg_class is in the current schema, no history.
                assert_code(&output, 0);
                continue;
            }
            assert_fails(&output, 2, holder);
            assert_fails(&output, 2, "choose another name for the history table");
        }
        assert_eq!(pg_relations(&pg), before, "{name}: nothing is created");
    }

    pg.project
        .write("godwit.toml", "history_table = \"audit.hist\"\n");
    assert_code(&pg.run(&["migrate"]), 0);
    let after = pg_relations(&pg);
    for table in ["audit.hist", "audit.hist_meta", "public.a"] {
        assert!(after.iter().any(|r| r == table), "{table}: {after:?}");
    }
    assert!(
        !after.iter().any(|r| r.contains("audit.hist\"")),
        "{after:?}"
    );
    let output = pg.run(&["status"]);
    assert_code(&output, 0);
    assert!(common::stdout(&output).contains("applied"));
}

#[test]
fn sqlite_keeps_a_dotted_history_table_in_the_file_and_says_so() {
    let project = Project::new();
    project.migration(1, "a", "CREATE TABLE a (x int);", None);
    project.write(
        "godwit.toml",
        "url = \"sqlite:test.db\"\nhistory_table = \"public.hist\"\n",
    );
    let output = project.run(&["migrate"]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("the schema `public` of history_table applies to PostgreSQL only"),
        "{}",
        stderr(&output)
    );
    let tables = Project::tables(&project.db());
    assert!(tables.contains(&"hist".to_string()), "{tables:?}");
    assert!(!tables.iter().any(|t| t.contains('.')), "{tables:?}");
}

#[test]
fn sqlite_refuses_the_name_of_an_application_table() {
    let project = Project::new();
    project.migration(1, "a", "CREATE TABLE a (x int);", None);
    common::sqlite_exec(&project.db(), "CREATE TABLE users (id INTEGER)");
    project.write(
        "godwit.toml",
        "url = \"sqlite:test.db\"\nhistory_table = \"users\"\n",
    );
    for command in ["migrate", "status"] {
        let output = project.run(&[command]);
        assert_fails(&output, 2, "`users` already names the table users");
    }
    assert_eq!(Project::tables(&project.db()), ["users"]);

    // A godwit history whose `_meta` table was replaced by another is refused by readers too.
    project.write(
        "godwit.toml",
        "url = \"sqlite:test.db\"\nhistory_table = \"hist\"\n",
    );
    assert_code(&project.run(&["migrate"]), 0);
    common::sqlite_exec(
        &project.db(),
        "DROP TABLE hist_meta; CREATE TABLE hist_meta (id INTEGER)",
    );
    for command in ["migrate", "status"] {
        let output = project.run(&[command]);
        assert_fails(&output, 2, "`hist_meta` already names the table hist_meta");
    }
}

/// A history of layout 2 as godwit 0.1 created it on PostgreSQL, its times as text, with
/// migration 1 applied and a failed attempt of migration 2 recorded.
const PG_LAYOUT_2: &str = "\
CREATE TABLE godwit_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
    down_checksum TEXT, down_script TEXT, transactional BIGINT NOT NULL, status TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, duration_ms BIGINT, error TEXT,
    error_statement TEXT, error_line BIGINT, previous_checksums TEXT, applied_by TEXT,
    backup TEXT
);
CREATE TABLE godwit_migrations_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO godwit_migrations_meta VALUES ('layout_version', '2');";

#[test]
fn postgres_history_times_become_timestamptz_keeping_every_row() {
    let pg = PgProject::new();
    let up = "CREATE TABLE a (x int);";
    pg.project.migration(1, "a", up, None);
    pg.project
        .migration(2, "b", "CREATE TABLE b (x int);", None);
    common::exec(&pg.db.url, up);
    common::exec(&pg.db.url, PG_LAYOUT_2);
    common::exec(
        &pg.db.url,
        &format!(
            "INSERT INTO godwit_migrations (version, name, checksum, transactional, status, \
             started_at, finished_at, duration_ms, error) VALUES \
             (1, 'a', '{}', 1, 'applied', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.250Z', 250, NULL), \
             (2, 'b', 'old', 1, 'failed', '2024-01-02T10:00:00.000Z', NULL, NULL, 'boom')",
            godwit_core::Checksum::of(up).as_str()
        ),
    );
    let time_types = || {
        pg.rows(
            "SELECT column_name || ' ' || data_type FROM information_schema.columns \
             WHERE table_name = 'godwit_migrations' AND column_name LIKE '%ed_at' ORDER BY 1",
        )
        .concat()
    };
    let entries = |pg: &PgProject| {
        let status = common::json(&pg.run(&["--format", "json", "status"]));
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["version"].as_i64().unwrap(),
                    m["started_at"].clone(),
                    m["finished_at"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };

    // Reading changes nothing: status reads the text as it is.
    let before = entries(&pg);
    assert_eq!(before[0].1, "2024-01-01T00:00:00.000Z");
    assert_eq!(before[0].2, "2024-01-01T00:00:00.250Z");
    assert_eq!(time_types(), ["finished_at text", "started_at text"]);

    // Repairing the failed migration writes a row, so the table is upgraded first.
    assert_code(&pg.run(&["repair", "--mark-rolled-back", "2"]), 0);
    assert_eq!(
        time_types(),
        [
            "finished_at timestamp with time zone",
            "started_at timestamp with time zone"
        ]
    );
    assert_eq!(
        pg.rows("SELECT value FROM godwit_migrations_meta WHERE key = 'layout_version'"),
        [["3"]]
    );
    let after = entries(&pg);
    assert_eq!(after[0], before[0], "the applied row reads as before");
    assert_eq!(after[1].1, before[1].1, "the failed row keeps its start");
    assert_eq!(
        pg.rows("SELECT (finished_at - started_at)::text FROM godwit_migrations WHERE version = 1"),
        [["00:00:00.25"]]
    );

    // New rows are written as timestamps and read back as RFC 3339 text.
    assert_code(&pg.run(&["migrate"]), 0);
    let last = entries(&pg).pop().unwrap();
    let started = last.1.as_str().unwrap().to_string();
    assert!(
        started.len() == 24 && started.ends_with('Z') && started.as_bytes()[10] == b'T',
        "{started}"
    );
}
