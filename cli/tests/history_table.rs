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
