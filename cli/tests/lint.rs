//! `godwit lint` and the lint `migrate` runs first, end to end: files without a database, the
//! pending migrations of real SQLite files and of a fresh PostgreSQL database per test, every
//! output format, and the README's rules table.

mod common;

use std::process::Output;

use common::{Project, assert_code, sqlite_rows, stderr, stdout};
use serde_json::Value;

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error} in stdout:\n{}", stdout(output)))
}

/// The rule of each finding in a lint document, in order.
fn rules(document: &Value) -> Vec<String> {
    document["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {document}"))
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The state of each migration, as `status --format json` reports it.
fn states(output: &Output) -> Vec<(i64, String)> {
    assert_code(output, 0);
    json(output)["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let state = m["state"].as_str().unwrap().to_string();
            (m["version"].as_i64().unwrap(), state)
        })
        .collect()
}

fn pairs(list: &[(i64, &str)]) -> Vec<(i64, String)> {
    list.iter().map(|&(v, s)| (v, s.to_string())).collect()
}

/// One error (`DROP TABLE`, line 3) and one warning (a foreign key without an index).
const DROP_AND_CREATE: &str = "-- replace the old table\n\
                               CREATE TABLE IF NOT EXISTS kept (id INTEGER);\n\
                               DROP TABLE old;\n\
                               CREATE TABLE fresh (id INTEGER, kept_id INTEGER REFERENCES kept);\n";

#[test]
fn files_are_linted_without_a_database_in_every_format() {
    let project = Project::empty();
    project.write("change.sql", DROP_AND_CREATE);

    let output = project.run(&["lint", "--dialect", "sqlite", "change.sql"]);
    assert_code(&output, 1);
    // Each finding: where, severity, rule and message on one line, then the statement.
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].starts_with("change.sql:3:1: error[drop-table]: DROP TABLE old deletes"),
        "{text}"
    );
    assert_eq!(lines[1], "  | DROP TABLE old");
    assert!(
        lines[2].starts_with(
            "change.sql:4:1: warning[foreign-key-without-index]: foreign key fresh (kept_id)"
        ),
        "{text}"
    );
    assert_eq!(
        lines[3],
        "  | CREATE TABLE fresh (id INTEGER, kept_id INTEGER REFERENCES kept)"
    );
    assert_eq!(lines[4], "1 error, 1 warning in 1 file");
    let error = stderr(&output);
    assert!(
        error.starts_with("error: the lint found 1 error; "),
        "{error}"
    );
    assert!(error.contains("-- godwit:allow RULE"), "{error}");

    let output = project.run(&[
        "lint",
        "--dialect",
        "sqlite",
        "--format",
        "json",
        "change.sql",
    ]);
    assert_code(&output, 1);
    let document = json(&output);
    assert_eq!(document["files"], serde_json::json!(["change.sql"]));
    assert_eq!(document["errors"], 1);
    assert_eq!(document["warnings"], 1);
    let finding = &document["findings"][0];
    assert_eq!(finding["file"], "change.sql");
    assert_eq!(finding["line"], 3);
    assert_eq!(finding["column"], 1);
    assert_eq!(finding["rule"], "drop-table");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["excerpt"], "DROP TABLE old");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("DROP TABLE old")
    );
    assert_eq!(document["findings"][1]["severity"], "warning");

    let output = project.run(&[
        "lint",
        "--dialect",
        "sqlite",
        "--format",
        "github",
        "change.sql",
    ]);
    assert_code(&output, 1);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("::error file=change.sql,line=3,col=1,title=drop-table::DROP TABLE"),
        "{text}"
    );
    assert!(
        lines[1].starts_with(
            "::warning file=change.sql,line=4,col=1,title=foreign-key-without-index::foreign key"
        ),
        "{text}"
    );
}

#[test]
fn warnings_alone_exit_zero_and_a_clean_file_says_so() {
    let project = Project::empty();
    project.write(
        "create.sql",
        "CREATE TABLE fresh (id INTEGER, kept_id INTEGER REFERENCES kept);\n",
    );
    project.write("clean.sql", "CREATE TABLE IF NOT EXISTS t (id INTEGER);\n");
    let output = project.run(&["lint", "--dialect", "sqlite", "create.sql"]);
    assert_code(&output, 0);
    assert!(stdout(&output).ends_with("1 warning in 1 file\n"));
    assert_eq!(stderr(&output), "");

    let output = project.run(&["lint", "--dialect", "sqlite", "clean.sql", "create.sql"]);
    assert_code(&output, 0);
    assert!(stdout(&output).ends_with("1 warning in 2 files\n"));
    let output = project.run(&["lint", "--dialect", "sqlite", "clean.sql"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "no findings in 1 file\n");
}

#[test]
fn a_statement_no_rule_examines_is_noted_with_verbose() {
    // A DO block's body is PL/pgSQL: not linted, and no parse error.
    let project = Project::empty();
    project.write(
        "backfill.sql",
        "DO $$ BEGIN PERFORM 1; END $$;\nDELETE FROM carts WHERE id = 1;\n",
    );
    let args = ["lint", "--dialect", "postgres", "backfill.sql"];
    let output = project.run(&args);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "no findings in 1 file\n");
    assert_eq!(stderr(&output), "");
    let output = project.run(&[&["-v"][..], &args].concat());
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("backfill.sql:1: not linted: a DO block, whose body is PL/pgSQL"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_dialect_comes_from_the_flag_or_the_configured_url() {
    // SQLite ignores `PRAGMA foreign_keys` in a transaction; PostgreSQL has no PRAGMA rule, and
    // its parser does not read PRAGMA at all.
    let project = Project::new();
    project.write("pragma.sql", "PRAGMA foreign_keys = OFF;\n");
    let output = project.run(&["--format", "json", "lint", "pragma.sql"]);
    assert_eq!(rules(&json(&output)), ["pragma-in-transaction"]);
    assert!(!project.db().exists(), "linting files opened the database");

    let output = project.run(&[
        "--format",
        "json",
        "lint",
        "--dialect",
        "postgres",
        "pragma.sql",
    ]);
    assert!(!rules(&json(&output)).contains(&"pragma-in-transaction".to_string()));

    // A PostgreSQL URL is never connected to: nothing listens on port 1.
    let output = project.run(&[
        "--url",
        "postgres://nobody@127.0.0.1:1/none",
        "--format",
        "json",
        "lint",
        "pragma.sql",
    ]);
    assert!(!rules(&json(&output)).contains(&"pragma-in-transaction".to_string()));

    let bare = Project::empty();
    bare.write("pragma.sql", "PRAGMA foreign_keys = OFF;\n");
    let output = bare.run(&["lint", "pragma.sql"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("--dialect sqlite"),
        "{}",
        stderr(&output)
    );

    let output = bare.run(&["lint", "--dialect", "sqlite", "missing.sql"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("cannot read missing.sql"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn no_transaction_directives_and_allow_comments_are_honoured() {
    let project = Project::new();
    project.write(
        "outside.sql",
        "-- godwit:no-transaction\nPRAGMA foreign_keys = OFF;\n",
    );
    let output = project.run(&["lint", "outside.sql"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "no findings in 1 file\n");

    project.write(
        "allowed.sql",
        "-- the archive moved to cold storage\n-- godwit:allow drop-table\nDROP TABLE archive;\n",
    );
    let output = project.run(&["lint", "allowed.sql"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "no findings in 1 file\n");

    // A misspelt allow comment changes nothing about how the file runs: on the first line as
    // anywhere else it is a warning, and the statement it meant to exempt is still reported.
    project.write(
        "colon.sql",
        "-- godwit:allow: drop-table\nDROP TABLE archive;\n",
    );
    let output = project.run(&["lint", "colon.sql"]);
    assert_code(&output, 1);
    assert!(
        stdout(&output).contains(
            "colon.sql:1:1: warning[invalid-directive]: `godwit:allow:` is not a directive"
        ) && stdout(&output).contains("error[drop-table]"),
        "{}",
        stdout(&output)
    );

    project.write("typo.sql", "-- godwit:no-transactoin\nVACUUM;\n");
    let output = project.run(&["lint", "typo.sql"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("no-transactoin"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_config_file_disables_rules_and_rejects_unknown_ones() {
    let project = Project::new();
    project.write("change.sql", DROP_AND_CREATE);
    project.write(
        "godwit.toml",
        "url = \"sqlite:test.db\"\n\n[lint]\ndisabled = [\"drop-table\", \"foreign-key-without-index\"]\n",
    );
    let output = project.run(&["lint", "change.sql"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "no findings in 1 file\n");

    project.write(
        "godwit.toml",
        "url = \"sqlite:test.db\"\n\n[lint]\ndisabled = [\"drop-table\", \"non-idempotent\"]\n",
    );
    let output = project.run(&["lint", "change.sql"]);
    assert_code(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: godwit.toml:4:27: `non-idempotent` in `[lint] disabled` is not a lint rule; did \
         you mean `non-idempotent-create`? `godwit lint --list` lists every rule\n"
    );
    // migrate reads the same configuration, so it refuses the typo too.
    assert_code(&project.run(&["migrate"]), 2);
}

#[test]
fn explain_and_list_describe_the_rules() {
    // No configuration is needed, and a broken one does not hide the catalogue.
    let project = Project::empty();
    project.write("godwit.toml", "[lint]\ndisabled = [\"nope\"]\n");
    let output = project.run(&["lint", "--explain", "set-not-null"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "set-not-null: `ALTER COLUMN ... SET NOT NULL` scans the table under an ACCESS \
             EXCLUSIVE lock\nseverity: warning\ndialects: postgres\n\n"
        ),
        "{text}"
    );
    assert!(text.contains("Safe alternative"), "{text}");

    let output = project.run(&["--format", "json", "lint", "--explain", "drop-table"]);
    assert_code(&output, 0);
    let rule = json(&output);
    assert_eq!(rule["id"], "drop-table");
    assert_eq!(rule["severity"], "error");
    assert_eq!(rule["dialects"], serde_json::json!([]));
    assert!(
        rule["explanation"]
            .as_str()
            .unwrap()
            .contains("Safe alternative")
    );

    let output = project.run(&["lint", "--explain", "drop"]);
    assert_code(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: no lint rule is called `drop`; did you mean `drop-table` or `drop-column`? \
         `godwit lint --list` lists every rule\n"
    );
    let output = project.run(&["lint", "--explain", "xyz"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("the rules are `parse-error`, `drop-table`"),
        "{}",
        stderr(&output)
    );

    let output = project.run(&["lint", "--list"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    // One column per field: every summary starts under the header's.
    let column = text.find("WHAT IT CATCHES").unwrap();
    let catalogue = catalogue();
    for listed in catalogue.rules() {
        let rule = &listed.rule;
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("{} ", rule.id)))
            .unwrap_or_else(|| panic!("{} missing:\n{text}", rule.id));
        assert_eq!(line.find(rule.summary), Some(column), "{text}");
    }
    let output = project.run(&["--format", "json", "lint", "--list"]);
    assert_eq!(
        json(&output)["rules"].as_array().unwrap().len(),
        catalogue.rules().len()
    );
}

/// The lint rules of the dialects compiled in, as the binary lists them.
fn catalogue() -> godwit_core::lint::Catalogue {
    godwit_core::lint::Catalogue::new(
        godwit::registry()
            .backends()
            .map(|backend| (backend.name(), backend.dialect().lint_rules())),
    )
}

#[test]
fn the_format_github_is_for_lint_only() {
    let project = Project::new();
    let output = project.run(&["--format", "github", "migrate"]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains("--format human or --format json"));
    assert!(!project.db().exists());
}

/// The README's rules table is generated from the rule definitions of every dialect godwit
/// ships, so it is compared only when all are compiled in (`cargo xtask test` runs it with the
/// `mysql` feature). `UPDATE_README=1` writes the generated table into the README instead of
/// failing.
#[cfg(all(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#[test]
fn readme_rules_table_is_generated_from_the_rules() {
    const START: &str = "<!-- lint-rules:start -->\n";
    const END: &str = "<!-- lint-rules:end -->";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the markers {START:?} and {END:?} around the rules table");
    };
    let start = start + START.len();
    let generated = catalogue().markdown_table();
    if readme[start..end] == generated {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "the rules table in README.md differs from the rule definitions; regenerate it with\n  \
         UPDATE_README=1 cargo test -p godwit-cli --features mysql --test lint readme\n\
         README has:\n{}\ngenerated:\n{generated}",
        &readme[start..end]
    );
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;

    /// Migration 1 creates the tables, 2 drops one (applied with `--no-lint`), so the database has
    /// history with a statement the lint reports.
    fn applied_with_a_drop() -> Project {
        let project = Project::new();
        project.migration(
            1,
            "create",
            "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT);\n\
             CREATE TABLE IF NOT EXISTS old (id INTEGER);\n",
            None,
        );
        project.migration(2, "drop_old", "DROP TABLE old;\n", None);
        assert_code(&project.run(&["migrate", "--no-lint"]), 0);
        project
    }

    #[test]
    fn migrate_reads_directives_after_a_header_and_a_byte_order_mark() {
        // VACUUM fails inside a transaction, so this applies only when the directive below the
        // block comment is read, by the lint and by migrate alike.
        let project = Project::new();
        project.migration(
            1,
            "compact",
            "\u{feff}/* Migration: compact the database\n   author: ops */\n\
             -- godwit:no-transaction\nVACUUM;\n",
            None,
        );
        let output = project.run(&["migrate"]);
        assert_code(&output, 0);
        assert!(
            !stderr(&output).contains("lint"),
            "no finding expected: {}",
            stderr(&output)
        );
        let output = project.run(&["--format", "json", "status"]);
        assert_code(&output, 0);
        assert_eq!(states(&output), pairs(&[(1, "applied")]));
    }

    #[test]
    fn pending_migrations_are_linted_and_applied_ones_are_not() {
        let project = applied_with_a_drop();
        let output = project.run(&["lint"]);
        assert_code(&output, 0);
        assert_eq!(stdout(&output), "no pending migrations to lint\n");

        project.migration(3, "purge", "DELETE FROM users;\n", None);
        let output = project.run(&["--format", "json", "lint"]);
        assert_code(&output, 1);
        let document = json(&output);
        assert_eq!(
            document["files"],
            serde_json::json!(["migrations/3_purge.up.sql"])
        );
        assert_eq!(rules(&document), ["delete-without-where"]);

        let output = project.run(&["lint"]);
        assert_code(&output, 1);
        assert!(
            stdout(&output).starts_with(
                "migrations/3_purge.up.sql:1:1: error[delete-without-where]: DELETE FROM users"
            ),
            "{}",
            stdout(&output)
        );
        assert!(stdout(&output).ends_with("1 error in 1 pending migration\n"));
    }

    #[test]
    fn migrate_refuses_an_error_and_applies_nothing() {
        let project = Project::new();
        project.migration(
            1,
            "create",
            "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT);\n",
            None,
        );
        project.migration(
            2,
            "reset",
            "CREATE TABLE IF NOT EXISTS audit (id INTEGER);\nDELETE FROM users;\n",
            None,
        );
        let output = project.run(&["migrate"]);
        assert_code(&output, 3);
        assert_eq!(stdout(&output), "");
        let error = stderr(&output);
        assert!(
            error.starts_with(
                "error: the lint found 1 error in the pending migrations, so nothing was applied:\n\
                 migrations/2_reset.up.sql:2:1: error[delete-without-where]: DELETE FROM users"
            ),
            "{error}"
        );
        assert!(error.contains("\n  | DELETE FROM users\n"), "{error}");
        assert!(
            error.contains("-- godwit:allow RULE")
                && error.ends_with("or run again with --no-lint\n"),
            "{error}"
        );
        // Not even migration 1, which is clean: only godwit's own bookkeeping tables exist,
        // made for the lock under which the lint ran, and the history has no row.
        let tables = Project::tables(&project.db());
        assert!(
            tables
                .iter()
                .all(|table| table.starts_with("godwit_migrations")),
            "{tables:?}"
        );
        let rows = sqlite_rows(&project.db(), "SELECT count(*) FROM godwit_migrations");
        assert_eq!(rows, [["0"]]);

        // In JSON the refusal is the document, with the findings; stderr says why too.
        let output = project.run(&["--format", "json", "migrate"]);
        assert_code(&output, 3);
        let refused = json(&output);
        assert_eq!(refused["ok"], false);
        assert_eq!(refused["error"]["kind"], "lint_refused");
        assert_eq!(refused["applied"], serde_json::json!([]));
        assert_eq!(
            refused["lint"]["findings"][0]["rule"],
            "delete-without-where"
        );
        assert!(stderr(&output).contains("delete-without-where"));

        // The dry run shows the findings (and changes nothing), and exits as migrate would.
        let output = project.run(&["migrate", "--dry-run"]);
        assert_code(&output, 3);
        assert!(
            stderr(&output)
                .contains("migrate would refuse these migrations: the lint found 1 error"),
            "{}",
            stderr(&output)
        );
        let text = stdout(&output);
        assert!(
            text.contains(
                "\nlint: 1 error\nmigrations/2_reset.up.sql:2:1: error[delete-without-where]: "
            ),
            "{text}"
        );
        assert!(text.ends_with("or run again with --no-lint\n"), "{text}");
        let output = project.run(&["--format", "json", "migrate", "--dry-run"]);
        assert_code(&output, 3);
        let document = json(&output);
        assert_eq!(document["lint"]["errors"], 1);
        assert_eq!(rules(&document["lint"]), ["delete-without-where"]);
        let output = project.run(&["--format", "json", "migrate", "--dry-run", "--no-lint"]);
        assert_eq!(json(&output)["lint"], Value::Null);
        assert!(
            Project::tables(&project.db())
                .iter()
                .all(|table| table.starts_with("godwit_migrations")),
            "no migration ran"
        );

        // An allow comment accepts the risk.
        project.migration(
            2,
            "reset",
            "CREATE TABLE IF NOT EXISTS audit (id INTEGER);\n\
             -- godwit:allow delete-without-where\nDELETE FROM users;\n",
            None,
        );
        let output = project.run(&["migrate"]);
        assert_code(&output, 0);
        assert_eq!(stderr(&output), "");
        let output = project.run(&["--format", "json", "status"]);
        assert_eq!(states(&output), pairs(&[(1, "applied"), (2, "applied")]));
    }

    #[test]
    fn no_lint_applies_and_warnings_do_not_stop_migrate() {
        let project = Project::new();
        project.migration(
            1,
            "create",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, boss INTEGER REFERENCES users);\n",
            None,
        );
        project.migration(2, "purge", "DELETE FROM users;\n", None);
        let output = project.run(&["migrate", "--to", "1"]);
        assert_code(&output, 0);
        assert!(
            stderr(&output).starts_with(
                "warning: the lint found 1 warning in the pending migrations; migrate goes on:\n\
                 migrations/1_create.up.sql:1:1: warning[foreign-key-without-index]: "
            ),
            "{}",
            stderr(&output)
        );
        assert!(stdout(&output).ends_with("1 migration applied\n"));

        let output = project.run(&["--format", "json", "migrate", "--no-lint"]);
        assert_code(&output, 0);
        let document = json(&output);
        assert_eq!(document["applied"][0]["version"], 2);
        assert_eq!(document["lint"], Value::Null);
        let output = project.run(&["--format", "json", "status"]);
        assert_eq!(states(&output), pairs(&[(1, "applied"), (2, "applied")]));
    }

    #[test]
    fn migrate_reports_warnings_in_json() {
        let project = Project::new();
        project.migration(
            1,
            "create",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, boss INTEGER REFERENCES users);\n",
            None,
        );
        let output = project.run(&["--format", "json", "migrate"]);
        assert_code(&output, 0);
        assert_eq!(stderr(&output), "");
        let lint = &json(&output)["lint"];
        assert_eq!(lint["errors"], 0);
        assert_eq!(lint["warnings"], 1);
        assert_eq!(rules(lint), ["foreign-key-without-index"]);
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::common::PgProject;

    use super::*;

    /// The table names of `inspect --format json`.
    fn tables(output: &Output) -> Vec<String> {
        assert_code(output, 0);
        json(output)["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|table| table["name"]["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// PostgreSQL: `users` and `posts` with an index on `posts (user_id)`, applied; then a
    /// pending migration that adds the foreign key along that index.
    fn with_posts() -> PgProject {
        let pg = PgProject::new();
        pg.project.migration(
            1,
            "create",
            "CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY);\n\
             CREATE TABLE IF NOT EXISTS posts (id bigint PRIMARY KEY, user_id bigint);\n\
             CREATE INDEX IF NOT EXISTS posts_user_id ON posts (user_id);\n",
            None,
        );
        assert_code(&pg.run(&["migrate"]), 0);
        pg.project.migration(
            2,
            "posts_user_fk",
            "SET LOCAL lock_timeout = '5s';\n\
             ALTER TABLE posts ADD CONSTRAINT posts_user_fk\n    \
             FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n",
            None,
        );
        pg
    }

    #[test]
    fn pending_lint_knows_the_live_schema_and_skips_applied_migrations() {
        let pg = with_posts();
        // The index that covers the foreign key exists only in the database: linting the file
        // alone reports the key, linting what is pending against the database does not.
        let alone = pg.run(&[
            "--format",
            "json",
            "lint",
            "migrations/2_posts_user_fk.up.sql",
        ]);
        assert_code(&alone, 0);
        assert_eq!(rules(&json(&alone)), ["foreign-key-without-index"]);
        let output = pg.run(&["--format", "json", "lint"]);
        assert_code(&output, 0);
        let document = json(&output);
        assert_eq!(
            document["files"],
            serde_json::json!(["migrations/2_posts_user_fk.up.sql"])
        );
        assert_eq!(rules(&document), Vec::<String>::new());

        // An index built without CONCURRENTLY on an existing table is an error on PostgreSQL.
        pg.project.migration(
            3,
            "posts_index",
            "SET LOCAL lock_timeout = '5s';\nCREATE INDEX IF NOT EXISTS posts_id ON posts (id, user_id);\n",
            None,
        );
        let output = pg.run(&["--format", "json", "lint"]);
        assert_code(&output, 1);
        let document = json(&output);
        assert_eq!(rules(&document), ["index-without-concurrently"]);
        assert_eq!(
            document["findings"][0]["file"],
            "migrations/3_posts_index.up.sql"
        );
    }

    #[test]
    fn migrate_refuses_an_error_and_applies_nothing() {
        let pg = with_posts();
        pg.project.migration(
            3,
            "posts_index",
            "CREATE TABLE IF NOT EXISTS audit (id bigint);\n\
             SET LOCAL lock_timeout = '5s';\nCREATE INDEX IF NOT EXISTS posts_id ON posts (id, user_id);\n",
            None,
        );
        let output = pg.run(&["migrate"]);
        assert_code(&output, 3);
        let error = stderr(&output);
        assert!(
            error.contains(
                "migrations/3_posts_index.up.sql:3:1: error[index-without-concurrently]: "
            ),
            "{error}"
        );
        assert!(error.contains("--no-lint"), "{error}");
        let status = pg.run(&["--format", "json", "status"]);
        assert_eq!(
            states(&status),
            pairs(&[(1, "applied"), (2, "pending"), (3, "pending")])
        );
        assert_eq!(
            tables(&pg.run(&["--format", "json", "inspect"])),
            ["posts", "users"]
        );

        let output = pg.run(&["migrate", "--no-lint"]);
        assert_code(&output, 0);
        let status = pg.run(&["--format", "json", "status"]);
        assert_eq!(
            states(&status),
            pairs(&[(1, "applied"), (2, "applied"), (3, "applied")])
        );
        assert_eq!(
            tables(&pg.run(&["--format", "json", "inspect"])),
            ["audit", "posts", "users"]
        );
    }
}
