//! The declarative commands end to end: `push`, `generate`, `diff`, `inspect`, `check` and
//! `verify` on SQLite files in temporary directories and on a fresh PostgreSQL database per
//! test, including PostgreSQL's concurrent index changes.
#![cfg(all(feature = "sqlite", feature = "postgres"))]

mod common;

use std::path::Path;

use common::{
    PgProject, Project, assert_code, assert_push_changes_nothing, catalog, columns, exec, json,
    live_owner, sqlite_exec, sqlite_rows, stderr, stdout,
};
use godwit_tests::PgDatabase;
use serde_json::Value as Json;

const USERS: &str = "CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    nickname TEXT
);
CREATE INDEX users_email ON users (email);
";

/// A project whose schema.sql holds `schema`, not yet pushed.
fn with_schema(schema: &str) -> Project {
    let project = Project::new();
    project.write("schema.sql", schema);
    project
}

/// A project whose database was pushed `schema` and holds one user.
fn pushed(schema: &str) -> Project {
    let project = with_schema(schema);
    assert_code(&project.run(&["push"]), 0);
    sqlite_exec(
        &project.db(),
        "INSERT INTO users (email, nickname) VALUES ('ada@example.com', 'ada');",
    );
    project
}

#[test]
fn push_creates_tables_and_a_second_push_changes_nothing() {
    let project = with_schema(USERS);
    let output = project.run(&["push"]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("CREATE TABLE"), "{out}");
    assert!(out.contains("applied 2 statements"), "{out}");
    assert_eq!(columns(&project.db(), "users"), ["id", "email", "nickname"]);
    // An unmanaged database gets no godwit table from push: it would not be in the schema file.
    assert_eq!(Project::tables(&project.db()), ["users"]);

    assert_push_changes_nothing(&project);
}

/// QA's report: a rebuild dropped `ON CONFLICT REPLACE`, the application's upsert then failed,
/// and a second push saw nothing to fix.
#[test]
fn a_rebuild_keeps_on_conflict_replace_and_a_second_push_changes_nothing() {
    let project = with_schema(
        "CREATE TABLE settings (key TEXT PRIMARY KEY ON CONFLICT REPLACE, \
         value TEXT NOT NULL DEFAULT '', updated_at TEXT);",
    );
    sqlite_exec(
        &project.db(),
        "CREATE TABLE settings (key TEXT PRIMARY KEY ON CONFLICT REPLACE, value TEXT);
         INSERT INTO settings VALUES ('a', '1'), ('b', '2');",
    );
    let output = project.run(&["push", "--accept-data-loss"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("\"key\" TEXT PRIMARY KEY ON CONFLICT REPLACE"),
        "{}",
        stdout(&output)
    );
    sqlite_exec(
        &project.db(),
        "INSERT INTO settings (key, value) VALUES ('a', '3')",
    );
    assert_eq!(
        sqlite_rows(
            &project.db(),
            "SELECT key, value FROM settings ORDER BY key"
        ),
        [["a", "3"], ["b", "2"]]
    );

    assert_push_changes_nothing(&project);
}

#[test]
fn push_works_without_a_config_file_or_migrations() {
    // How the conformance runner calls it: an absolute URL, a schema file, no project.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("conformance.db");
    let schema = dir.path().join("desired.sql");
    std::fs::write(&schema, USERS).unwrap();
    let url = format!("sqlite://{}", db.display());
    let run = || {
        assert_cmd::Command::cargo_bin("godwit")
            .unwrap()
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .args(["push", "--url", &url, "--schema"])
            .arg(&schema)
            .args(["--yes", "--accept-data-loss"])
            .output()
            .unwrap()
    };
    assert_code(&run(), 0);
    assert_eq!(columns(&db, "users"), ["id", "email", "nickname"]);
    assert_code(&run(), 0);
    assert!(!dir.path().join("migrations").exists());
}

#[test]
fn dropping_a_column_needs_consent() {
    let project = pushed(USERS);
    project.write("schema.sql", &USERS.replace(",\n    nickname TEXT", ""));
    let before = catalog(&project.db());

    let output = project.run(&["push"]);
    assert_code(&output, 3);
    assert!(
        stdout(&output).contains("-- DESTRUCTIVE: drops column users.nickname (1 row)"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("--accept-data-loss"),
        "{}",
        stderr(&output)
    );
    assert_eq!(catalog(&project.db()), before);

    assert_code(&project.run(&["push", "--accept-data-loss"]), 0);
    assert_eq!(columns(&project.db(), "users"), ["id", "email"]);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT email FROM users"),
        [["ada@example.com"]]
    );
}

#[test]
fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let project = pushed(USERS);
    project.write(
        "schema.sql",
        &format!("{USERS}CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\n"),
    );
    let before = catalog(&project.db());
    let output = project.run(&["push", "--dry-run"]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("CREATE TABLE \"posts\""), "{out}");
    assert!(out.contains("dry run: nothing was changed"), "{out}");
    assert_eq!(catalog(&project.db()), before);

    let output = project.run(&["--format", "json", "push", "--dry-run"]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["applied"], false);
    assert_eq!(value["changes"][0]["change"], "create_table");
    assert!(
        value["statements"][0]["sql"]
            .as_str()
            .unwrap()
            .contains("posts")
    );
    assert_eq!(catalog(&project.db()), before);
}

/// A schema file with nothing in it (cut short, say) is named in a warning, and the drops it
/// plans still need consent.
#[test]
fn an_empty_schema_file_is_named_and_its_drops_need_consent() {
    let project = pushed(USERS);
    project.write("schema.sql", "-- written by a script that failed\n\n");
    let output = project.run(&["push"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("schema.sql holds no statements: the desired schema is empty"),
        "{}",
        stderr(&output)
    );
    assert_eq!(columns(&project.db(), "users"), ["id", "email", "nickname"]);
}

#[test]
fn push_reports_json_and_hazards() {
    let project = pushed(USERS);
    project.write("schema.sql", &USERS.replace(",\n    nickname TEXT", ""));
    let output = project.run(&["--format", "json", "push", "--accept-data-loss"]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["applied"], true);
    let hazard = &value["hazards"][0];
    assert_eq!(hazard["kind"], "drop_column");
    assert_eq!(hazard["affected_rows"], 1);
    assert_eq!(hazard["needs_consent"], true);
    let statement = hazard["statement"].as_u64().unwrap() as usize;
    assert!(
        value["statements"][statement]["hazard"].is_object(),
        "{value}"
    );
}

#[test]
fn a_drop_and_add_that_may_be_a_rename_stops_without_a_terminal() {
    let project = pushed(USERS);
    project.write("schema.sql", &USERS.replace("nickname TEXT", "handle TEXT"));
    let before = catalog(&project.db());
    let output = project.run(&["push", "--yes"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("--rename users.nickname=handle"),
        "{}",
        stderr(&output)
    );
    assert_eq!(catalog(&project.db()), before);
}

#[test]
fn a_rename_flag_keeps_the_data() {
    let project = pushed(USERS);
    project.write("schema.sql", &USERS.replace("nickname TEXT", "handle TEXT"));
    let output = project.run(&["push", "--rename", "users.nickname=handle"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("RENAME COLUMN"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT email, handle FROM users"),
        [["ada@example.com", "ada"]]
    );

    // A table rename by flag, too.
    project.write(
        "schema.sql",
        &USERS
            .replace("nickname TEXT", "handle TEXT")
            .replace("users", "people"),
    );
    assert_code(
        &project.run(&[
            "push",
            "--rename",
            "users=people",
            "--rename",
            "users_email=people_email",
        ]),
        0,
    );
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT email, handle FROM people"),
        [["ada@example.com", "ada"]]
    );
    assert_code(&project.run(&["push"]), 0);
}

#[test]
fn godwit_rename_comments_keep_the_data() {
    let project = pushed(USERS);
    project.write(
        "schema.sql",
        "-- godwit:renamed-from users\n\
         CREATE TABLE accounts (\n\
         \x20   id INTEGER PRIMARY KEY,\n\
         \x20   email TEXT NOT NULL,\n\
         \x20   -- godwit:renamed-from nickname\n\
         \x20   handle TEXT\n\
         );\n\
         -- godwit:renamed-from users_email\n\
         CREATE INDEX accounts_email ON accounts (email);\n",
    );
    let output = project.run(&["push"]);
    assert_code(&output, 0);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT email, handle FROM accounts"),
        [["ada@example.com", "ada"]]
    );
    assert_eq!(
        sqlite_rows(
            &project.db(),
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
        ),
        [["accounts_email"]]
    );
    // The hints stay in the file; the second push has nothing left to rename.
    let output = project.run(&["push"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("no changes"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn sqldef_rename_comments_keep_the_data() {
    let project = pushed(USERS);
    project.write(
        "schema.sql",
        "CREATE TABLE members ( -- @renamed from=users\n\
         \x20   id INTEGER PRIMARY KEY,\n\
         \x20   email TEXT NOT NULL,\n\
         \x20   alias TEXT -- @renamed from=nickname\n\
         );\n\
         CREATE INDEX members_email /* @renamed from=users_email */ ON members (email);\n",
    );
    assert_code(&project.run(&["push"]), 0);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT email, alias FROM members"),
        [["ada@example.com", "ada"]]
    );
    assert!(stdout(&project.run(&["push"])).contains("no changes"));
}

#[test]
fn schema_file_problems_name_the_file_and_line() {
    let project = with_schema("CREATE TABLE users (id INTEGER);\n\nCREATE TABLE broken (;\n");
    let output = project.run(&["push"]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("schema.sql:3:"),
        "{}",
        stderr(&output)
    );
    assert!(Project::tables(&project.db()).is_empty());

    project.write(
        "schema.sql",
        "CREATE TABLE users (id INTEGER);\n-- godwit:renamed-from x\n",
    );
    let output = project.run(&["push"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("schema.sql:2:"),
        "{}",
        stderr(&output)
    );

    let output = project.run(&["push", "--schema", "missing.sql"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("missing.sql does not exist"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_schema_file_need_not_be_in_dependency_order() {
    let project = with_schema(
        "CREATE VIEW post_titles AS SELECT title FROM posts;\n\
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), title TEXT);\n\
         CREATE INDEX posts_user ON posts (user_id);\n\
         CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    let output = project.run(&["push"]);
    assert_code(&output, 0);
    assert_eq!(Project::tables(&project.db()), ["posts", "users"]);
    assert!(stdout(&project.run(&["push"])).contains("no changes"));

    // A real error is still reported at its line once nothing else can run.
    project.write(
        "schema.sql",
        "CREATE VIEW v AS SELECT id FROM later;\nCREATE TABLE later (id INTEGER);\nCREATE TABLE bad (id INTEGR PRIMARY KEY, FOREIGN KEY);\n",
    );
    let output = project.run(&["push"]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("schema.sql:3:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_schema_folder_runs_in_name_order() {
    let project = Project::new();
    std::fs::create_dir(project.path().join("schema")).unwrap();
    project.write(
        "schema/20_posts.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n",
    );
    project.write(
        "schema/10_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    project.write(
        "godwit.toml",
        "url = \"sqlite:test.db\"\nschema_file = \"schema\"\n",
    );
    assert_code(&project.run(&["push"]), 0);
    assert_eq!(Project::tables(&project.db()), ["posts", "users"]);
}

#[test]
fn push_waits_for_the_migration_lock_of_a_managed_database() {
    let project = with_schema(USERS);
    project.migration(
        1,
        "start",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        None,
    );
    assert_code(&project.run(&["migrate"]), 0);
    let _lock = project.hold_lock(live_owner());
    let output = project.run(&["push", "--accept-data-loss", "--lock-timeout", "1s"]);
    assert_code(&output, 4);
    assert_eq!(columns(&project.db(), "users"), ["id"]);
}

#[test]
fn generate_writes_up_and_down_and_then_finds_no_changes() {
    let project = with_schema(USERS);
    let output = project.run(&["generate", "create users"]);
    assert_code(&output, 0);
    let mut files: Vec<String> = std::fs::read_dir(project.path().join("migrations"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].ends_with("_create_users.down.sql"), "{files:?}");
    assert!(files[1].ends_with("_create_users.up.sql"), "{files:?}");
    let up = std::fs::read_to_string(project.path().join("migrations").join(&files[1])).unwrap();
    assert!(up.contains("CREATE TABLE \"users\""), "{up}");
    // `generate` touches no database: the SQLite file named by the URL was not created.
    assert!(!project.db().exists());

    assert_code(&project.run(&["migrate"]), 0);
    assert_eq!(columns(&project.db(), "users"), ["id", "email", "nickname"]);
    let output = project.run(&["generate", "again"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("no changes"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        std::fs::read_dir(project.path().join("migrations"))
            .unwrap()
            .count(),
        2
    );

    // A change with a rename hint: the up renames, the down renames back.
    project.write(
        "schema.sql",
        &USERS.replace(
            "    nickname TEXT",
            "    -- godwit:renamed-from nickname\n    handle TEXT",
        ),
    );
    let output = project.run(&["--format", "json", "generate", "rename nickname"]);
    assert_code(&output, 0);
    let value = json(&output);
    let read = |key: &str| {
        std::fs::read_to_string(project.path().join(value[key].as_str().unwrap())).unwrap()
    };
    let (up, down) = (read("up"), read("down"));
    assert!(
        up.contains("RENAME COLUMN \"nickname\" TO \"handle\""),
        "{up}"
    );
    assert!(
        down.contains("RENAME COLUMN \"handle\" TO \"nickname\""),
        "{down}"
    );
    sqlite_exec(
        &project.db(),
        "INSERT INTO users (email, nickname) VALUES ('ada@example.com', 'ada');",
    );
    assert_code(&project.run(&["migrate"]), 0);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT handle FROM users"),
        [["ada"]]
    );
    assert_code(&project.run(&["rollback"]), 0);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT nickname FROM users"),
        [["ada"]]
    );
    assert_code(&project.run(&["verify"]), 0);
}

/// The checks `push` runs after a SQLite rebuild are SQL in a generated migration too: a new
/// foreign key that rows already break stops the migration, and the table stays as it was.
#[test]
fn a_generated_rebuild_checks_its_foreign_keys_when_it_runs() {
    let project = with_schema(
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\
         CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER);\n",
    );
    assert_code(&project.run(&["generate", "tables"]), 0);
    assert_code(&project.run(&["migrate"]), 0);
    sqlite_exec(
        &project.db(),
        "INSERT INTO users VALUES (1); INSERT INTO notes VALUES (1, 1), (2, 999);",
    );
    project.write(
        "schema.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\
         CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n",
    );
    assert_code(&project.run(&["generate", "notes reference users"]), 0);
    let output = project.run(&["migrate", "--no-lint"]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("CHECK constraint failed: rebuilding table notes would leave more rows breaking a foreign key"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        sqlite_rows(
            &project.db(),
            "SELECT sql FROM sqlite_master WHERE name = 'notes'"
        ),
        [
            [
                "CREATE TABLE \"notes\" (\n    \"id\" INTEGER PRIMARY KEY,\n    \"user_id\" INTEGER\n)"
            ]
        ]
    );
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT count(*) FROM notes"),
        [["2"]]
    );
}

/// A column renamed, made NOT NULL and given a check: SQLite rebuilds the table. The
/// migration godwit writes passes the lint `migrate` runs, which once refused its
/// `DROP TABLE` of the old copy, and the rows keep their values.
#[test]
fn a_generated_rebuild_passes_the_lint_and_keeps_the_rows() {
    let project =
        with_schema("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);\n");
    assert_code(&project.run(&["generate", "users"]), 0);
    assert_code(&project.run(&["migrate"]), 0);
    sqlite_exec(
        &project.db(),
        "INSERT INTO users (name, age) VALUES ('ada', 36), ('alan', 41);",
    );
    project.write(
        "schema.sql",
        "CREATE TABLE users (\n\
         \x20   id INTEGER PRIMARY KEY,\n\
         \x20   -- godwit:renamed-from name\n\
         \x20   handle TEXT NOT NULL,\n\
         \x20   age INTEGER CHECK (age > 0)\n\
         );\n",
    );
    let output = project.run(&["--format", "json", "generate", "handle"]);
    assert_code(&output, 0);
    let generated = json(&output);
    assert_eq!(generated["lint"]["errors"], 0, "{generated:#}");
    let up =
        std::fs::read_to_string(project.path().join(generated["up"].as_str().unwrap())).unwrap();
    assert!(
        up.contains(
            "-- lint drop-table allowed: rebuilding table users: every row was copied into \
             \"_godwit_new_users\" above with every column (the check above compares the row \
             counts), which takes its name below\n\
             -- godwit:allow drop-table\n\
             DROP TABLE \"users\";\n"
        ),
        "{up}"
    );

    let output = project.run(&["migrate"]);
    assert_code(&output, 0);
    assert_eq!(
        sqlite_rows(
            &project.db(),
            "SELECT id, handle, age FROM users ORDER BY id"
        ),
        [["1", "ada", "36"], ["2", "alan", "41"]]
    );
    assert!(stdout(&project.run(&["generate", "again"])).contains("no changes"));
    assert_code(&project.run(&["check"]), 0);
}

/// Data the schema file gives up is the user's to let go: the generated migration keeps the
/// lint's finding, `migrate` refuses it and changes nothing, and the user's allow comment
/// above the statement lets it run.
#[test]
fn a_generated_drop_of_data_waits_for_the_users_allow_comment() {
    let project = with_schema(USERS);
    assert_code(&project.run(&["generate", "users"]), 0);
    assert_code(&project.run(&["migrate"]), 0);
    sqlite_exec(
        &project.db(),
        "INSERT INTO users (email, nickname) VALUES ('ada@example.com', 'ada');",
    );
    project.write("schema.sql", &USERS.replace(",\n    nickname TEXT", ""));
    let output = project.run(&["--format", "json", "generate", "drop nickname"]);
    assert_code(&output, 0);
    let generated = json(&output);
    assert_eq!(generated["lint"]["errors"], 1, "{generated:#}");
    assert_eq!(generated["lint"]["findings"][0]["rule"], "drop-column");
    let path = project.path().join(generated["up"].as_str().unwrap());

    let output = project.run(&["migrate"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("error[drop-column]"),
        "{}",
        stderr(&output)
    );
    assert_eq!(columns(&project.db(), "users"), ["id", "email", "nickname"]);

    let up = std::fs::read_to_string(&path).unwrap();
    let statement = "ALTER TABLE \"users\" DROP COLUMN \"nickname\";";
    assert!(up.contains(statement), "{up}");
    std::fs::write(
        &path,
        up.replace(
            statement,
            &format!("-- godwit:allow drop-column\n{statement}"),
        ),
    )
    .unwrap();
    assert_code(&project.run(&["migrate"]), 0);
    assert_eq!(columns(&project.db(), "users"), ["id", "email"]);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT email FROM users"),
        [["ada@example.com"]]
    );
}

#[test]
fn inspect_output_pushed_to_an_empty_database_gives_the_same_schema() {
    let project = pushed(&format!(
        "{USERS}CREATE TABLE posts (\n    id INTEGER PRIMARY KEY,\n    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n    title TEXT DEFAULT 'untitled' CHECK (length(title) < 200)\n);\n\
         CREATE VIEW user_posts AS SELECT users.email, posts.title FROM users JOIN posts ON posts.user_id = users.id;\n\
         CREATE TRIGGER users_email_lower AFTER INSERT ON users BEGIN\n    UPDATE users SET email = lower(email) WHERE id = new.id;\nEND;\n"
    ));
    let output = project.run(&["inspect"]);
    assert_code(&output, 0);
    let sql = stdout(&output);
    assert!(sql.contains("CREATE TRIGGER"), "{sql}");
    project.write("inspected.sql", &sql);

    let copy = project.path().join("copy.db");
    let url = format!("sqlite:{}", copy.display());
    assert_code(
        &project.run(&["push", "--url", &url, "--schema", "inspected.sql"]),
        0,
    );
    let again = project.run(&["inspect", "--url", &url]);
    assert_code(&again, 0);
    assert_eq!(stdout(&again), sql);
    let output = project.run(&["diff", "--from", "sqlite:test.db", "--to", &url]);
    assert_eq!(stdout(&output), "-- no changes\n");

    let output = project.run(&["--format", "json", "inspect"]);
    assert_code(&output, 0);
    let tables: Vec<String> = json(&output)["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tables, ["posts", "users"]);
}

const PG_SCHEMA: &str = "CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    mood mood,
    nickname varchar(40)
);
CREATE INDEX users_lower_email ON users (lower(email));
CREATE TABLE posts (
    id serial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title text NOT NULL DEFAULT 'untitled'
);
CREATE VIEW user_posts AS SELECT u.email, p.title FROM users u JOIN posts p ON p.user_id = u.id;
CREATE MATERIALIZED VIEW post_counts AS SELECT user_id, count(*) AS posts FROM posts GROUP BY user_id;
CREATE UNIQUE INDEX post_counts_user ON post_counts (user_id);
";

#[test]
fn postgres_push_is_idempotent_and_renames_keep_data() {
    let pg = PgProject::new();
    pg.project.write("schema.sql", PG_SCHEMA);
    let output = pg.run(&["push"]);
    assert_code(&output, 0);
    let output = pg.run(&["push"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("no changes"),
        "{}",
        stdout(&output)
    );

    pg.rows("INSERT INTO users (email, nickname) VALUES ('ada@example.com', 'ada') RETURNING id");
    pg.project.write(
        "schema.sql",
        &PG_SCHEMA.replace(
            "    nickname varchar(40)",
            "    -- godwit:renamed-from nickname\n    handle varchar(40)",
        ),
    );
    let output = pg.run(&["push"]);
    assert_code(&output, 0);
    assert_eq!(
        pg.rows("SELECT email, handle FROM users"),
        [["ada@example.com", "ada"]]
    );
    assert!(stdout(&pg.run(&["push"])).contains("no changes"));

    // Dropping the column needs consent, and nothing changes without it.
    pg.project.write(
        "schema.sql",
        &PG_SCHEMA.replace(",\n    nickname varchar(40)", ""),
    );
    let output = pg.run(&["push"]);
    assert_code(&output, 3);
    assert_eq!(pg.rows("SELECT handle FROM users"), [["ada"]]);
    assert_code(&pg.run(&["push", "--accept-data-loss"]), 0);
    assert_eq!(pg.rows("SELECT email FROM users"), [["ada@example.com"]]);
}

/// An enum type and a table that uses it.
const MOODS: &str = "CREATE TYPE mood AS ENUM ('happy', 'meh', 'sad');
CREATE TABLE people (id int PRIMARY KEY, mood mood NOT NULL DEFAULT 'happy');
";

/// A database pushed [`MOODS`], whose `people` hold `rows` (`(1, 'sad'), ...`).
fn pushed_moods(rows: &str) -> PgProject {
    let pg = PgProject::new();
    pg.project.write("schema.sql", MOODS);
    assert_code(&pg.run(&["push"]), 0);
    pg.rows(&format!("INSERT INTO people VALUES {rows} RETURNING id"));
    pg
}

/// Removing an enum label that rows still hold has nothing to convert those rows to: push
/// refuses with the count, even with consent to lose data, and works once the rows moved.
#[test]
fn postgres_removing_enum_values_rows_hold_is_refused_with_the_count() {
    let pg = pushed_moods("(1, 'happy'), (2, 'sad'), (3, 'sad')");
    pg.project
        .write("schema.sql", &MOODS.replace(", 'meh', 'sad'", ", 'meh'"));

    for flags in [
        &["push"][..],
        &["push", "--accept-data-loss"],
        &["push", "--dry-run"],
    ] {
        let output = pg.run(flags);
        assert_code(&output, 3);
        let error = stderr(&output);
        assert!(
            error.contains("removes values 'sad' of type")
                && error.contains("2 rows still hold them")
                && error.contains("nothing was changed"),
            "{flags:?}: {error}"
        );
    }
    let plan = stdout(&pg.run(&["push", "--dry-run"]));
    assert!(plan.contains("-- REFUSED: removes values 'sad'"), "{plan}");
    let value = json(&pg.run(&["--format", "json", "push", "--dry-run"]));
    let hazard = &value["hazards"][0];
    assert_eq!(hazard["kind"], "remove_enum_value", "{value}");
    assert_eq!(hazard["affected_rows"], 2, "{value}");
    assert_eq!(hazard["blocks"], true, "{value}");
    assert_eq!(
        pg.rows("SELECT enum_range(NULL::mood)::text"),
        [["{happy,meh,sad}"]]
    );

    // Once no row holds the label, removing it loses nothing and needs no consent.
    pg.rows("UPDATE people SET mood = 'meh' WHERE mood = 'sad' RETURNING id");
    assert_code(&pg.run(&["push"]), 0);
    assert_eq!(
        pg.rows("SELECT id::text, mood::text FROM people ORDER BY id"),
        [["1", "happy"], ["2", "meh"], ["3", "meh"]]
    );
    assert_eq!(
        pg.rows("SELECT enum_range(NULL::mood)::text"),
        [["{happy,meh}"]]
    );
    assert!(stdout(&pg.run(&["push"])).contains("no changes"));
}

/// With --skip-drops, a label the schema removes stays (rows may hold it), in its place, and
/// new ones are added around it: the type is altered, never rebuilt.
#[test]
fn postgres_skip_drops_keeps_enum_labels_the_schema_removes() {
    let pg = pushed_moods("(1, 'sad')");
    pg.project.write(
        "schema.sql",
        &MOODS.replace("'meh', 'sad'", "'sad', 'angry'"),
    );

    let output = pg.run(&["push", "--skip-drops"]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(
        out.contains(
            "kept: label 'meh' of enum type public.mood (not in the schema; --skip-drops)"
        ),
        "{out}"
    );
    assert!(out.contains("ADD VALUE IF NOT EXISTS 'angry'"), "{out}");
    assert_eq!(
        pg.rows("SELECT enum_range(NULL::mood)::text"),
        [["{happy,meh,sad,angry}"]]
    );
    assert_eq!(pg.rows("SELECT mood::text FROM people"), [["sad"]]);
    assert!(stdout(&pg.run(&["push", "--skip-drops"])).contains("no changes"));
}

/// An enum label that changes is a rename only when the user says so: a hint or --rename
/// keeps the rows' values; without either, and without a terminal, push stops and names the
/// flag.
#[test]
fn postgres_enum_label_renames_are_declared_never_guessed() {
    const TICKETS: &str = "CREATE TYPE state AS ENUM ('open', 'pending', 'closed');
CREATE TABLE tickets (id int PRIMARY KEY, state state NOT NULL);
";
    let pg = PgProject::new();
    pg.project.write("schema.sql", TICKETS);
    assert_code(&pg.run(&["push"]), 0);
    pg.rows("INSERT INTO tickets VALUES (1, 'open'), (2, 'pending') RETURNING id");
    let states = || pg.rows("SELECT state::text FROM tickets ORDER BY id");

    pg.project
        .write("schema.sql", &TICKETS.replace("'pending'", "'waiting'"));
    let output = pg.run(&["push"]);
    assert_code(&output, 3);
    let error = stderr(&output);
    assert!(
        error.contains("--rename public.state.pending=waiting"),
        "{error}"
    );
    assert_eq!(states(), [["open"], ["pending"]]);

    assert_code(&pg.run(&["push", "--rename", "state.pending=waiting"]), 0);
    assert_eq!(states(), [["open"], ["waiting"]]);

    // Both hint forms, sqldef's beside the label and godwit's above it.
    pg.project.write(
        "schema.sql",
        "CREATE TYPE state AS ENUM (\n  'new' /* @renamed from=open */,\n  \
         -- godwit:renamed-from waiting\n  'on hold',\n  'closed'\n);\n\
         CREATE TABLE tickets (id int PRIMARY KEY, state state NOT NULL);\n",
    );
    let output = pg.run(&["push"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("RENAME VALUE"),
        "{}",
        stdout(&output)
    );
    assert_eq!(states(), [["new"], ["on hold"]]);
    assert!(stdout(&pg.run(&["push"])).contains("no changes"));
}

/// Expressions PostgreSQL prints differently once its own printing is read back.
const RESPELLED: &str = "
CREATE DOMAIN code AS varchar(5) CHECK (VALUE IN ('a', 'b'));
CREATE TABLE tickets (
    id int PRIMARY KEY,
    status varchar(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    code code
);
CREATE INDEX open_tickets_id ON tickets (id) WHERE status IN ('open', 'new');
CREATE VIEW open_tickets AS SELECT id FROM tickets WHERE status NOT IN ('closed');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER tickets_touch BEFORE UPDATE ON tickets
    FOR EACH ROW WHEN (NEW.status IN ('open', 'new')) EXECUTE FUNCTION touch();
";

#[test]
fn postgres_expressions_the_server_respells_are_not_changes() {
    let pg = PgProject::new();
    pg.project.write("schema.sql", RESPELLED);
    assert_code(&pg.run(&["push"]), 0);
    let output = pg.run(&["push"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("no changes"),
        "{}",
        stdout(&output)
    );

    // A database built from the same file by hand holds the first spelling: a real change
    // next to those objects touches only what changed.
    let by_hand = PgProject::new();
    exec(&by_hand.db.url, RESPELLED);
    by_hand.project.write(
        "schema.sql",
        &RESPELLED.replace("    code code\n", "    code code,\n    note text\n"),
    );
    let output = by_hand.run(&["push", "--dry-run"]);
    assert_code(&output, 0);
    let plan = stdout(&output);
    assert!(plan.contains("ADD COLUMN \"note\" text"), "{plan}");
    for untouched in ["CONSTRAINT", "INDEX", "DOMAIN"] {
        assert!(!plan.contains(untouched), "{plan}");
    }
}

/// Row-level security and policies are pushed; privileges of roles outside `managed_roles`
/// are named, never pushed (nor revoked) silently.
#[test]
fn postgres_security_is_pushed_and_unmanaged_privileges_are_named() {
    let pg = PgProject::new();
    pg.project.write(
        "schema.sql",
        "CREATE TABLE notes (id int, owner text);
         ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own_notes ON notes USING (owner = current_user);
         GRANT SELECT ON notes TO PUBLIC;",
    );
    let output = pg.run(&["push"]);
    assert_code(&output, 0);
    let warnings = stderr(&output);
    assert!(
        warnings.contains(
            "the schema gives SELECT on public.notes to PUBLIC, and godwit does not manage the \
             privileges of PUBLIC: push leaves them alone; list the role in `managed_roles`"
        ),
        "{warnings}"
    );
    assert_eq!(
        pg.rows(
            "SELECT relrowsecurity::text, (relacl IS NULL)::text, \
             (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) \
             FROM pg_class AS c WHERE relname = 'notes'"
        ),
        [["true", "true", "1"]]
    );
    let again = pg.run(&["push"]);
    assert!(stdout(&again).contains("no changes"), "{}", stdout(&again));
}

/// The privileges of each role on `notes` and its columns, as `role privilege[ (column)]`.
const NOTES_PRIVILEGES: &str = "SELECT role || ' ' || privilege FROM ( \
     SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END \
         AS role, a.privilege_type AS privilege \
     FROM pg_class AS c CROSS JOIN LATERAL aclexplode(c.relacl) AS a \
     WHERE c.relname = 'notes' AND a.grantee <> c.relowner \
     UNION ALL \
     SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END, \
         a.privilege_type || ' (' || t.attname || ')' \
     FROM pg_class AS c JOIN pg_attribute AS t ON t.attrelid = c.oid \
     CROSS JOIN LATERAL aclexplode(t.attacl) AS a WHERE c.relname = 'notes') AS p ORDER BY 1";

/// `managed_roles` and `[manage]` in godwit.toml decide whose privileges push changes: those
/// roles get what the schema says, every other role keeps what it holds.
#[test]
fn postgres_managed_roles_in_godwit_toml_decide_whose_privileges_push_changes() {
    let pg = PgProject::new();
    pg.rows(
        "DO $$ BEGIN CREATE ROLE godwit_cli_reader NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    );
    exec(
        &pg.db.url,
        "CREATE TABLE notes (id int, body text); GRANT INSERT ON notes TO PUBLIC;
         GRANT SELECT ON notes TO godwit_cli_reader;",
    );
    pg.project
        .write("godwit.toml", "managed_roles = [\"PUBLIC\"]\n");
    pg.project.write(
        "schema.sql",
        "CREATE TABLE notes (id int, body text);
         GRANT SELECT, UPDATE (body) ON notes TO PUBLIC;
         GRANT UPDATE ON notes TO godwit_cli_reader;",
    );
    // A revoke is a drop.
    let kept = pg.run(&["push", "--skip-drops", "--dry-run"]);
    assert!(
        stdout(&kept).contains(
            "kept: privilege INSERT on public.notes to PUBLIC (not in the schema; --skip-drops)"
        ),
        "{}",
        stdout(&kept)
    );
    assert!(!stdout(&kept).contains("REVOKE"), "{}", stdout(&kept));
    let output = pg.run(&["push", "--accept-data-loss"]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("the schema gives UPDATE on public.notes to godwit_cli_reader"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        pg.rows(NOTES_PRIVILEGES),
        [
            ["PUBLIC SELECT"],
            ["PUBLIC UPDATE (body)"],
            ["godwit_cli_reader SELECT"]
        ]
    );
    let again = pg.run(&["push"]);
    assert!(stdout(&again).contains("no changes"), "{}", stdout(&again));

    // A rule without `drop` grants and never revokes; the first rule that matches decides.
    pg.project.write(
        "godwit.toml",
        "managed_roles = [\"PUBLIC\"]\n\n[manage]\n\
         privilege = [{ target = \"godwit_cli_.*\" }, { target = \".*\", drop = true }]\n",
    );
    assert_code(&pg.run(&["push"]), 0);
    assert_eq!(
        pg.rows(NOTES_PRIVILEGES),
        [
            ["PUBLIC SELECT"],
            ["PUBLIC UPDATE (body)"],
            ["godwit_cli_reader SELECT"],
            ["godwit_cli_reader UPDATE"]
        ]
    );

    pg.project.write(
        "godwit.toml",
        "[manage]\nprivilege = [{ target = \"godwit_cli_(\" }]\n",
    );
    let output = pg.run(&["push"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output)
            .contains("the privilege rule target `godwit_cli_(` is not a regular expression"),
        "{}",
        stderr(&output)
    );
}

/// A materialized view with the unique index `REFRESH MATERIALIZED VIEW CONCURRENTLY` needs.
const TOTALS: &str = "CREATE TABLE sales (id int PRIMARY KEY, region text NOT NULL, amount int);
CREATE MATERIALIZED VIEW region_totals AS
    SELECT region, sum(amount) AS total FROM sales GROUP BY region;
CREATE UNIQUE INDEX region_totals_region ON region_totals (region);
";

/// Push creates a materialized view's index, keeps it, and `--skip-drops` keeps one the schema
/// leaves out.
#[test]
fn postgres_push_indexes_a_materialized_view_so_it_refreshes_concurrently() {
    let pg = PgProject::new();
    pg.project.write("schema.sql", TOTALS);
    assert_code(&pg.run(&["push"]), 0);
    assert_eq!(
        pg.rows("SELECT indexname::text FROM pg_indexes WHERE tablename = 'region_totals'"),
        [["region_totals_region"]]
    );
    let again = pg.run(&["push"]);
    assert_code(&again, 0);
    assert!(stdout(&again).contains("no changes"), "{}", stdout(&again));
    pg.rows("INSERT INTO sales VALUES (1, 'north', 5), (2, 'north', 7)");
    pg.rows("REFRESH MATERIALIZED VIEW CONCURRENTLY region_totals");
    assert_eq!(
        pg.rows("SELECT region, total::text FROM region_totals"),
        [["north", "12"]]
    );

    pg.rows("CREATE INDEX region_totals_total ON region_totals (total)");
    let kept = pg.run(&["push", "--skip-drops"]);
    assert_code(&kept, 0);
    assert!(
        stdout(&kept).contains(
            "kept: index public.region_totals_total on public.region_totals \
             (not in the schema; --skip-drops)"
        ),
        "{}",
        stdout(&kept)
    );
    assert_code(&pg.run(&["push"]), 0);
    assert_eq!(
        pg.rows("SELECT indexname::text FROM pg_indexes WHERE tablename = 'region_totals'"),
        [["region_totals_region"]]
    );
}

#[test]
fn postgres_inspect_output_pushed_to_an_empty_database_gives_the_same_schema() {
    let pg = PgProject::new();
    pg.project.write("schema.sql", PG_SCHEMA);
    assert_code(&pg.run(&["push"]), 0);
    let output = pg.run(&["inspect"]);
    assert_code(&output, 0);
    let sql = stdout(&output);
    assert!(
        sql.contains("CREATE UNIQUE INDEX post_counts_user ON public.post_counts"),
        "{sql}"
    );
    pg.project.write("inspected.sql", &sql);

    let copy = PgDatabase::create();
    let pushed = pg
        .project
        .run(&["--url", &copy.url, "push", "--schema", "inspected.sql"]);
    assert_code(&pushed, 0);
    let again = pg.project.run(&["--url", &copy.url, "inspect"]);
    assert_code(&again, 0);
    assert_eq!(stdout(&again), sql);
}

#[test]
fn postgres_generate_writes_migrations_that_reach_the_schema() {
    let pg = PgProject::new();
    pg.project.write("schema.sql", PG_SCHEMA);
    let output = pg.run(&["generate", "initial"]);
    assert_code(&output, 0);
    assert_code(&pg.run(&["migrate"]), 0);
    let output = pg.run(&["generate", "again"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("no changes"),
        "{}",
        stdout(&output)
    );
    let output = pg.run(&["check"]);
    assert_code(&output, 0);
    assert_code(&pg.run(&["verify"]), 0);
    // push agrees that the database matches the schema file.
    assert!(stdout(&pg.run(&["push"])).contains("no changes"));
}

/// A generated PostgreSQL migration that renames a column, adds an index, a unique
/// constraint, a check and a foreign key to a table with rows passes the lint `migrate` runs
/// (each blocking statement says why in the file), and keeps the rows.
#[test]
fn postgres_generated_migrations_pass_the_lint_and_keep_the_rows() {
    const TEAMS: &str = "CREATE TABLE teams (id int PRIMARY KEY, name text);\n";
    let pg = PgProject::new();
    pg.project.write(
        "schema.sql",
        &format!("{TEAMS}CREATE TABLE accounts (id int PRIMARY KEY, email text, team int);\n"),
    );
    assert_code(&pg.run(&["generate", "tables"]), 0);
    assert_code(&pg.run(&["migrate"]), 0);
    pg.rows(
        "WITH t AS (INSERT INTO teams VALUES (1, 'a') RETURNING id) \
         INSERT INTO accounts VALUES (1, 'a@example.com', 1), (2, 'b@example.com', NULL) \
         RETURNING id",
    );
    pg.project.write(
        "schema.sql",
        &format!(
            "{TEAMS}CREATE TABLE accounts (\n\
             \x20   id int PRIMARY KEY,\n\
             \x20   -- godwit:renamed-from email\n\
             \x20   address text NOT NULL UNIQUE,\n\
             \x20   team int REFERENCES teams CHECK (team > 0)\n\
             );\n\
             CREATE INDEX accounts_team ON accounts (team);\n"
        ),
    );
    let output = pg.run(&["--format", "json", "generate", "address"]);
    assert_code(&output, 0);
    let generated = json(&output);
    assert_eq!(generated["lint"]["errors"], 0, "{generated:#}");
    let up =
        std::fs::read_to_string(pg.project.path().join(generated["up"].as_str().unwrap())).unwrap();
    for allowed in [
        "-- godwit:allow index-without-concurrently\nCREATE INDEX accounts_team",
        "-- godwit:allow constraint-without-not-valid\nALTER TABLE \"public\".\"accounts\" ADD CONSTRAINT",
        "-- lint index-without-concurrently allowed: written without --concurrently",
    ] {
        assert!(up.contains(allowed), "{allowed}\n\n{up}");
    }

    assert_code(&pg.run(&["migrate"]), 0);
    assert_eq!(
        pg.rows("SELECT id::text, address, coalesce(team::text, '-') FROM accounts ORDER BY id"),
        [["1", "a@example.com", "1"], ["2", "b@example.com", "-"]]
    );
    assert!(stdout(&pg.run(&["generate", "again"])).contains("no changes"));
    assert_code(&pg.run(&["check"]), 0);
}

#[test]
fn concurrent_index_changes_are_a_usage_error_on_sqlite() {
    let project = with_schema(USERS);
    for command in [
        &["push", "--concurrently"][..],
        &["generate", "x", "--concurrently"],
    ] {
        let output = project.run(command);
        assert_code(&output, 2);
        let error = stderr(&output);
        assert!(
            error.contains("sqlite backend cannot build or drop indexes without blocking writes"),
            "{error}"
        );
        assert!(error.contains("leave out --concurrently"), "{error}");
    }
    assert!(Project::tables(&project.db()).is_empty());
    assert_eq!(
        std::fs::read_dir(project.path().join("migrations"))
            .unwrap()
            .count(),
        0
    );
}

const PG_ACCOUNTS: &str = "CREATE TABLE accounts (id int PRIMARY KEY, email text, team int);\n";

/// The name and validity of each index of the table `table`.
fn pg_indexes(pg: &PgProject, table: &str) -> Vec<Vec<String>> {
    pg.rows(&format!(
        "SELECT c.relname::text, i.indisvalid::int FROM pg_index AS i \
         JOIN pg_class AS c ON c.oid = i.indexrelid \
         WHERE i.indrelid = 'public.{table}'::regclass AND NOT i.indisprimary ORDER BY 1"
    ))
}

#[test]
fn postgres_push_concurrently_builds_indexes_of_existing_tables_outside_the_transaction() {
    let pg = PgProject::new();
    pg.project.write("schema.sql", PG_ACCOUNTS);
    assert_code(&pg.run(&["push"]), 0);
    pg.rows(
        "INSERT INTO accounts VALUES (1, 'a@example.com', 1), (2, 'b@example.com', 1) RETURNING id",
    );
    pg.project.write(
        "schema.sql",
        &format!(
            "{PG_ACCOUNTS}CREATE UNIQUE INDEX accounts_email ON accounts (email);\n\
             CREATE TABLE teams (id int PRIMARY KEY, name text);\n\
             CREATE INDEX teams_name ON teams (name);\n"
        ),
    );
    let output = pg.run(&["push", "--concurrently", "--dry-run"]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(
        out.contains(
            "-- runs concurrently, on its own outside the transaction\n\
             -- if it fails: PostgreSQL leaves the index public.accounts_email behind marked INVALID"
        ),
        "{out}"
    );
    assert!(
        out.contains("CREATE UNIQUE INDEX CONCURRENTLY accounts_email ON public.accounts"),
        "{out}"
    );
    // Nobody writes to a table created by the same push: its index is built in the transaction.
    assert!(
        out.contains("CREATE INDEX teams_name ON public.teams"),
        "{out}"
    );
    assert!(pg_indexes(&pg, "accounts").is_empty());

    let output = pg.run(&["push", "--concurrently"]);
    assert_code(&output, 0);
    assert_eq!(pg_indexes(&pg, "accounts"), [["accounts_email", "1"]]);
    assert_eq!(pg_indexes(&pg, "teams"), [["teams_name", "1"]]);

    // Dropped concurrently too, before the transaction.
    pg.project.write("schema.sql", PG_ACCOUNTS);
    let output = pg.run(&["push", "--concurrently", "--accept-data-loss"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("DROP INDEX CONCURRENTLY \"public\".\"accounts_email\""),
        "{}",
        stdout(&output)
    );
    assert!(pg_indexes(&pg, "accounts").is_empty());
    assert!(stdout(&pg.run(&["push", "--concurrently"])).contains("no changes"));
}

#[test]
fn postgres_a_failed_concurrent_build_names_the_invalid_index_and_keeps_the_rest() {
    let pg = PgProject::new();
    pg.project.write("schema.sql", PG_ACCOUNTS);
    assert_code(&pg.run(&["push"]), 0);
    pg.rows("INSERT INTO accounts VALUES (1, 'same@example.com', 1), (2, 'same@example.com', 1) RETURNING id");
    let schema = PG_ACCOUNTS.replace("team int", "team int, note text")
        + "CREATE UNIQUE INDEX accounts_email ON accounts (email);\n";
    pg.project.write("schema.sql", &schema);

    let output = pg.run(&["push", "--concurrently"]);
    assert_code(&output, 1);
    let error = stderr(&output);
    assert!(error.contains("statement 2 of 2 failed"), "{error}");
    assert!(error.contains("[23505]"), "{error}");
    assert!(
        error.contains(
            "it ran outside a transaction: PostgreSQL leaves the index public.accounts_email \
             behind marked INVALID; drop it with `DROP INDEX CONCURRENTLY \"public\".\"accounts_email\"`, \
             fix the cause, and run again; the statement before it stays applied"
        ),
        "{error}"
    );
    // The column came in the transaction, which committed before the build started.
    assert_eq!(pg.rows("SELECT count(note) FROM accounts"), [["0"]]);
    assert_eq!(pg_indexes(&pg, "accounts"), [["accounts_email", "0"]]);

    // The INVALID index is not part of the schema: the next push tries to build it again and
    // stops on its name with the same advice, instead of reporting no changes.
    let output = pg.run(&["push", "--concurrently"]);
    assert_code(&output, 1);
    let error = stderr(&output);
    assert!(error.contains("already exists"), "{error}");
    assert!(error.contains("DROP INDEX CONCURRENTLY"), "{error}");

    pg.rows("DROP INDEX CONCURRENTLY accounts_email");
    pg.rows("UPDATE accounts SET email = 'other@example.com' WHERE id = 2 RETURNING id");
    assert_code(&pg.run(&["push", "--concurrently"]), 0);
    assert_eq!(pg_indexes(&pg, "accounts"), [["accounts_email", "1"]]);
}

/// The migration files of `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    files
}

#[test]
fn postgres_generate_concurrently_puts_index_changes_in_migrations_of_their_own() {
    let pg = PgProject::new();
    pg.project.migration(
        1,
        "accounts",
        "CREATE TABLE accounts (id int PRIMARY KEY, email text, team int);\n\
         CREATE INDEX accounts_team ON accounts (team);",
        Some("DROP TABLE accounts;"),
    );
    assert_code(&pg.run(&["migrate"]), 0);
    pg.project.write(
        "schema.sql",
        "CREATE TABLE accounts (id int PRIMARY KEY, email text, age int);\n\
         CREATE INDEX accounts_age ON accounts (age);\n\
         CREATE TABLE teams (id int PRIMARY KEY, name text);\n\
         CREATE INDEX teams_name ON teams (name);\n",
    );
    let output = pg.run(&["--format", "json", "generate", "ages", "--concurrently"]);
    assert_code(&output, 0);
    let value = json(&output);
    let kinds: Vec<&str> = value["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["concurrent_before", "main", "concurrent_after"]);
    let names = files(&pg.project.path().join("migrations"));
    let stems: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_suffix(".up.sql"))
        .map(|n| n.split_once('_').unwrap().1)
        .collect();
    assert_eq!(
        stems,
        [
            "accounts",
            "ages_pre_concurrently",
            "ages",
            "ages_concurrently"
        ]
    );
    let read = |i: usize, key: &str| {
        let path = value["migrations"][i][key].as_str().unwrap();
        std::fs::read_to_string(pg.project.path().join(path)).unwrap()
    };
    let (before, main, after) = (read(0, "up"), read(1, "up"), read(2, "up"));
    assert!(before.contains("-- godwit:no-transaction\n"), "{before}");
    assert!(
        before.contains("DROP INDEX CONCURRENTLY \"public\".\"accounts_team\";"),
        "{before}"
    );
    assert!(!main.contains("godwit:no-transaction"), "{main}");
    assert!(main.contains("DROP COLUMN \"team\""), "{main}");
    assert!(
        main.contains("CREATE INDEX teams_name ON public.teams"),
        "{main}"
    );
    assert!(after.contains("-- godwit:no-transaction\n"), "{after}");
    assert!(
        after.contains(
            "-- if it fails: PostgreSQL leaves the index public.accounts_age behind marked INVALID"
        ),
        "{after}"
    );
    assert!(
        after.contains("CREATE INDEX CONCURRENTLY accounts_age ON public.accounts"),
        "{after}"
    );
    // Each down undoes its own up: the last migration's down drops the index it built.
    assert!(
        read(2, "down").contains("DROP INDEX CONCURRENTLY \"public\".\"accounts_age\";"),
        "{}",
        read(2, "down")
    );
    assert!(
        read(0, "down").contains("CREATE INDEX CONCURRENTLY accounts_team"),
        "{}",
        read(0, "down")
    );

    // The generated drop of `team` is what the lint's drop-column rule exists to stop; the
    // test accepted that loss above, so it skips the lint rather than editing the file.
    assert_code(&pg.run(&["migrate", "--no-lint"]), 0);
    assert_eq!(pg_indexes(&pg, "accounts"), [["accounts_age", "1"]]);
    assert_code(&pg.run(&["check"]), 0);
    let output = pg.run(&["generate", "again", "--concurrently"]);
    assert!(
        stdout(&output).contains("no changes"),
        "{}",
        stdout(&output)
    );
    assert_code(&pg.run(&["verify"]), 0);
    assert_code(&pg.run(&["rollback", "--steps", "3"]), 0);
    assert_eq!(pg_indexes(&pg, "accounts"), [["accounts_team", "1"]]);
    assert_code(&pg.run(&["check"]), 0);
}

/// What the suite below needs of a backend: a project whose commands reach its database.
trait Backend {
    fn project(&self) -> &Project;
    /// `godwit args` against the backend's database.
    fn godwit(&self, args: &[&str]) -> std::process::Output;
    /// Run one statement on the database.
    fn exec(&self, sql: &str);
    /// The rows of `sql` on the database, as text.
    fn rows(&self, sql: &str) -> Vec<Vec<String>>;
    /// The database's URL.
    fn url(&self) -> String;
    /// A URL of another, empty database of the same engine.
    fn other_url(&self) -> String;
    /// Whether the database has no table (or does not exist yet).
    fn is_empty(&self) -> bool;
}

struct Sqlite(Project);

impl Backend for Sqlite {
    fn project(&self) -> &Project {
        &self.0
    }

    fn godwit(&self, args: &[&str]) -> std::process::Output {
        self.0.run(args)
    }

    fn exec(&self, sql: &str) {
        sqlite_exec(&self.0.db(), sql);
    }

    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        sqlite_rows(&self.0.db(), sql)
    }

    fn url(&self) -> String {
        "sqlite:test.db".into()
    }

    fn other_url(&self) -> String {
        "sqlite:other.db".into()
    }

    fn is_empty(&self) -> bool {
        !self.0.db().exists() || Project::tables(&self.0.db()).is_empty()
    }
}

struct Postgres {
    pg: PgProject,
    other: PgDatabase,
}

impl Postgres {
    fn new() -> Self {
        Postgres {
            pg: PgProject::new(),
            other: PgDatabase::create(),
        }
    }
}

impl Backend for Postgres {
    fn project(&self) -> &Project {
        &self.pg.project
    }

    fn godwit(&self, args: &[&str]) -> std::process::Output {
        self.pg.run(args)
    }

    fn exec(&self, sql: &str) {
        self.pg.rows(sql);
    }

    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        self.pg.rows(sql)
    }

    fn url(&self) -> String {
        self.pg.db.url.clone()
    }

    fn other_url(&self) -> String {
        self.other.url.clone()
    }

    fn is_empty(&self) -> bool {
        self.pg
            .rows("SELECT 1 FROM pg_tables WHERE schemaname = 'public'")
            .is_empty()
    }
}

/// One test per backend for each shared test function.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&super::Sqlite(super::Project::new()));
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                super::$name(&super::Postgres::new());
            })*
        }
    };
}

on_both_backends!(
    diff_compares_databases_schema_files_and_migrations,
    check_exits_5_on_drift_and_0_in_sync,
    verify_round_trips_on_a_scratch_database_and_names_the_migration_at_fault,
    skip_drops_keeps_what_the_schema_leaves_out_with_its_rows,
);

/// `push --skip-drops` leaves in the database what the schema file no longer declares, rows
/// and all, names it, and still adds what is new; a second push finds nothing to do.
fn skip_drops_keeps_what_the_schema_leaves_out_with_its_rows(backend: &dyn Backend) {
    let project = backend.project();
    project.write(
        "schema.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nickname TEXT);\n\
         CREATE TABLE old_stuff (id INTEGER PRIMARY KEY, note TEXT);\n",
    );
    assert_code(&backend.godwit(&["push"]), 0);
    backend.exec("INSERT INTO users (id, email, nickname) VALUES (1, 'ada@example.com', 'ada')");
    backend.exec("INSERT INTO old_stuff (id, note) VALUES (1, 'keep me')");
    project.write(
        "schema.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, age INTEGER);\n",
    );

    let output = backend.godwit(&["push", "--skip-drops"]);
    assert_code(&output, 0);
    let out = stdout(&output);
    // PostgreSQL names them in their schema (`public.old_stuff`).
    let kept = |kind: &str, name: &str| {
        out.lines().any(|line| {
            line.starts_with(&format!("kept: {kind} "))
                && line.ends_with(&format!("{name} (not in the schema; --skip-drops)"))
        })
    };
    assert!(
        kept("table", "old_stuff") && kept("column", "users.nickname"),
        "{out}"
    );
    assert!(out.contains("ADD COLUMN \"age\""), "{out}");
    assert!(!out.contains("DROP"), "{out}");
    assert_eq!(
        backend.rows("SELECT email, nickname, age FROM users"),
        [["ada@example.com", "ada", "NULL"]]
    );
    assert_eq!(backend.rows("SELECT note FROM old_stuff"), [["keep me"]]);

    let output = backend.godwit(&["push", "--skip-drops"]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(
        out.contains("no changes") && out.contains("apart from the 2 objects kept above"),
        "{out}"
    );
    let value = json(&backend.godwit(&["--format", "json", "push", "--skip-drops"]));
    let kinds: Vec<&str> = value["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["table", "column"], "{value}");
    assert_eq!(value["changes"], Json::Array(Vec::new()), "{value}");

    // The flags contradict each other.
    let output = backend.godwit(&["push", "--skip-drops", "--accept-data-loss"]);
    assert_code(&output, 2);
}

/// The first migration of the suite, in SQL both engines take.
fn users_migration(project: &Project) {
    project.migration(
        1,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);",
        Some("DROP TABLE users;"),
    );
}

fn diff_compares_databases_schema_files_and_migrations(backend: &dyn Backend) {
    let project = backend.project();
    users_migration(project);
    project.write(
        "schema.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nickname TEXT);\n\
         CREATE INDEX users_email ON users (email);\n",
    );
    let output = backend.godwit(&[
        "diff",
        "--from",
        "migrations:migrations",
        "--to",
        "schema.sql",
    ]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("ADD COLUMN \"nickname\""), "{out}");
    assert!(out.contains("CREATE INDEX users_email ON "), "{out}");
    assert!(backend.is_empty(), "diff changed the database");

    let output = backend.godwit(&[
        "--format",
        "json",
        "diff",
        "--from",
        "schema.sql",
        "--to",
        "schema.sql",
    ]);
    assert_code(&output, 0);
    assert_eq!(json(&output)["changes"], Json::Array(Vec::new()));

    // The live database as one side.
    let url = backend.url();
    assert_code(&backend.godwit(&["migrate"]), 0);
    let output = backend.godwit(&["diff", "--from", &url, "--to", "migrations:migrations"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "-- no changes\n");
    let output = backend.godwit(&["diff", "--from", &url, "--to", "schema.sql"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("ADD COLUMN \"nickname\""),
        "{}",
        stdout(&output)
    );
    assert_code(&backend.godwit(&["push"]), 0);
    let output = backend.godwit(&["diff", "--from", &url, "--to", "migrations:migrations"]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("DROP COLUMN \"nickname\""), "{out}");
    assert!(
        out.contains("DROP INDEX ") && out.contains("\"users_email\""),
        "{out}"
    );

    // Two databases.
    let output = backend.godwit(&["diff", "--from", &backend.other_url(), "--to", &url]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(
        out.contains("CREATE TABLE ") && out.contains("\"users\""),
        "{out}"
    );
}

fn check_exits_5_on_drift_and_0_in_sync(backend: &dyn Backend) {
    let project = backend.project();
    users_migration(project);
    project.migration(2, "later", "CREATE TABLE later (id INTEGER);", None);
    assert_code(&backend.godwit(&["migrate", "--to", "1"]), 0);
    let output = backend.godwit(&["check"]);
    assert_code(&output, 0);
    assert!(stdout(&output).contains("no drift"), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("migration 2 is not applied"),
        "{}",
        stderr(&output)
    );

    backend.exec("ALTER TABLE users ADD COLUMN note TEXT");
    backend.exec("CREATE INDEX users_email ON users (email)");
    let output = backend.godwit(&["check"]);
    assert_code(&output, 5);
    let out = stdout(&output);
    assert!(out.contains("DROP COLUMN \"note\""), "{out}");
    assert!(
        out.contains("DROP INDEX ") && out.contains("\"users_email\""),
        "{out}"
    );
    assert!(
        stderr(&output).contains("differs from what its applied migrations produce"),
        "{}",
        stderr(&output)
    );

    let output = backend.godwit(&["--format", "json", "check"]);
    assert_code(&output, 5);
    let value = json(&output);
    assert_eq!(value["drift"], true);
    assert_eq!(value["applied"], serde_json::json!([1]));

    backend.exec("DROP INDEX users_email");
    backend.exec("ALTER TABLE users DROP COLUMN note");
    assert_code(&backend.godwit(&["check"]), 0);
}

fn verify_round_trips_on_a_scratch_database_and_names_the_migration_at_fault(
    backend: &dyn Backend,
) {
    let project = backend.project();
    users_migration(project);
    project.migration(
        2,
        "posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);\n\
         CREATE INDEX posts_user ON posts (user_id);",
        Some("DROP TABLE posts;"),
    );
    let output = backend.godwit(&["verify"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("verified 2 migrations"),
        "{}",
        stdout(&output)
    );
    assert!(backend.is_empty(), "verify touched the target database");

    // A down script that fails.
    project.migration(
        3,
        "add_note",
        "ALTER TABLE users ADD COLUMN note TEXT;",
        Some("ALTER TABLE users DROP COLUMN not_there;"),
    );
    let output = backend.godwit(&["verify"]);
    assert_code(&output, 1);
    let error = stderr(&output);
    assert!(
        error.contains("the down script of migration 3 (add_note) failed"),
        "{error}"
    );
    assert!(error.contains("3_add_note.down.sql:1"), "{error}");
    assert!(error.contains("not_there"), "{error}");

    // A down script that runs but leaves the column behind.
    project.write("migrations/3_add_note.down.sql", "SELECT 1;");
    let output = backend.godwit(&["verify"]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("down script of migration 3 (add_note) does not restore"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("DROP COLUMN \"note\""),
        "{}",
        stdout(&output)
    );

    project.migration(4, "no_down", "CREATE TABLE t (id INTEGER);", None);
    let output = backend.godwit(&["--format", "json", "verify"]);
    assert_code(&output, 1);
    let value = json(&output);
    assert_eq!(value["outcome"], "failed");
    assert_eq!(value["version"], 4);
    assert_eq!(value["problem"]["problem"], "no_down_script");
}

#[test]
fn postgres_verify_runs_no_transaction_migrations_and_enums() {
    let pg = PgProject::new();
    pg.project.migration(
        1,
        "users",
        "CREATE TYPE mood AS ENUM ('happy', 'sad');\n\
         CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, mood mood);",
        Some("DROP TABLE users;\nDROP TYPE mood;"),
    );
    pg.project.migration(
        2,
        "email_index",
        "-- godwit:no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);",
        Some("-- godwit:no-transaction\nDROP INDEX CONCURRENTLY users_email;"),
    );
    let output = pg.run(&["verify"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("verified 2 migrations"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn diff_refuses_databases_of_two_engines() {
    let pg = PgProject::new();
    let output = pg.run(&["diff", "--from", &pg.db.url, "--to", "sqlite:other.db"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("diff compares schemas of one engine"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn generate_warns_when_migrate_would_refuse_what_it_wrote() {
    let project = with_schema(USERS);
    assert_code(&project.run(&["generate", "create users"]), 0);
    assert_code(&project.run(&["migrate"]), 0);

    // Dropping a column is written (generate changes no database) and flagged at once.
    project.write(
        "schema.sql",
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    email TEXT NOT NULL\n);\n\
         CREATE INDEX users_email ON users (email);\n",
    );
    let output = project.run(&["generate", "drop nickname"]);
    assert_code(&output, 0);
    let warning = stderr(&output);
    assert!(
        warning.contains("`godwit migrate` will refuse these migrations")
            && warning.contains("error[drop-column]"),
        "{warning}"
    );
    let output = project.run(&["migrate"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("drop-column"),
        "{}",
        stderr(&output)
    );

    // JSON carries the same findings.
    project.write(
        "schema.sql",
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY\n);\n",
    );
    let value = json(&project.run(&["--format", "json", "generate", "drop email"]));
    assert!(value["lint"]["errors"].as_u64().unwrap() >= 1, "{value}");
}
