//! `godwit inspect --format sql|json`: the live schema as DDL that recreates it, or as the
//! schema model; and `sql`, a format only inspect prints, refused by every other command.
#![cfg(feature = "sqlite")]

mod common;

use common::{Project, assert_code, json, stderr, stdout};

const SCHEMA: &str = "CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT DEFAULT 'untitled' CHECK (length(title) < 200)
);
CREATE INDEX posts_user ON posts (user_id);
CREATE VIEW titles AS SELECT users.email, posts.title FROM users JOIN posts ON posts.user_id = users.id;
";

/// A project whose database holds [`SCHEMA`], pushed from schema.sql.
fn inspected() -> Project {
    let project = Project::new();
    project.write("schema.sql", SCHEMA);
    assert_code(&project.run(&["push"]), 0);
    project
}

#[test]
fn format_sql_pushed_into_an_empty_database_reproduces_the_schema() {
    let project = inspected();
    let output = project.run(&["inspect", "--format", "sql"]);
    assert_code(&output, 0);
    let sql = stdout(&output);
    assert_eq!(
        sql,
        stdout(&project.run(&["inspect"])),
        "sql is the default"
    );
    project.write("inspected.sql", &sql);

    let copy = format!("sqlite:{}", project.path().join("copy.db").display());
    let push = ["--url", &copy, "push", "--schema", "inspected.sql"];
    assert_code(&project.run(&push), 0);
    let diff = project.run(&["diff", "--from", "sqlite:test.db", "--to", &copy]);
    assert_code(&diff, 0);
    assert_eq!(stdout(&diff), "-- no changes\n");
    let again = project.run(&["--url", &copy, "--format", "sql", "inspect"]);
    assert_eq!(stdout(&again), sql);
}

#[test]
fn format_json_lists_the_tables() {
    let output = inspected().run(&["--format", "json", "inspect"]);
    assert_code(&output, 0);
    let schema = json(&output);
    let tables: Vec<&str> = schema["tables"]
        .as_array()
        .expect("a tables array")
        .iter()
        .map(|table| table["name"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["posts", "users"]);
}

/// Other commands refuse `--format sql` before touching anything, and say which formats they
/// print; inspect refuses lint's `github` the same way.
#[test]
fn format_sql_is_a_usage_error_for_other_commands() {
    let project = Project::new();
    project.migration(
        1,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        None,
    );
    let refusals = [
        (
            &["migrate"][..],
            "sql",
            "use --format human or --format json here",
        ),
        (
            &["status"],
            "sql",
            "use --format human or --format json here",
        ),
        (
            &["lint"],
            "sql",
            "--format human, --format json or --format github",
        ),
        (
            &["inspect"],
            "github",
            "--format human, --format json or --format sql",
        ),
    ];
    for (args, format, says) in refusals {
        let output = project.run(&[&["--format", format][..], args].concat());
        assert_code(&output, 2);
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert!(
        stderr(&project.run(&["--format", "sql", "status"]))
            .contains("works with `godwit inspect` only")
    );
    assert!(
        !project.db().exists(),
        "a refused migrate created the database"
    );
}
