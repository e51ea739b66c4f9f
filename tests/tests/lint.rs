//! The lint engine with the rules of the dialects godwit ships, driven by SQL files.
//!
//! - `lint/<dialect>/<rule-id>/fires.sql` must yield at least one finding of that rule, and
//!   `passes.sql` none; every rule has both for every dialect it applies to. More cases go in
//!   `fires-<what>.sql` and `passes-<what>.sql` (a file runs in one transaction mode, so a rule
//!   that depends on it needs a file for each).
//! - `lint/real-world/<dialect>/*.sql` are migrations as people write them.
//!
//! Each file's findings are snapshot in `lint/snapshots/`. A file's transaction mode comes from
//! its own `-- godwit:no-transaction` directive, as when godwit runs it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use godwit_core::lint::{
    self, Catalogue, Finding, GenericLint, LintConfig, LintInput, Severity, TableChange,
};
use godwit_core::schema::{Check, Column, Index, Name, PrimaryKey, Schema, Table};
use godwit_core::{Dialect, Directives, Script};
use godwit_mysql::MySqlDialect;
use godwit_postgres::PgDialect;
use godwit_sqlite::SqliteDialect;

/// The dialects godwit ships; each needs cases for every rule its lint reports.
const DIALECTS: &[&str] = &["mysql", "postgres", "sqlite"];

/// Shared rules a dialect's engine makes moot, so its lint never reports them: their case
/// folder holds only `passes.sql`, which shows it. InnoDB indexes every foreign key itself.
const NEVER_REPORTED: &[(&str, &str)] = &[("mysql", "foreign-key-without-index")];

/// The dialect called `name`.
fn dialect(name: &str) -> &'static dyn Dialect {
    match name {
        "mysql" => &MySqlDialect,
        "postgres" => &PgDialect,
        "sqlite" => &SqliteDialect,
        other => panic!("no dialect {other}"),
    }
}

/// The rules of the dialects godwit ships.
fn catalogue() -> Catalogue {
    Catalogue::new(
        DIALECTS
            .iter()
            .map(|&name| (name, dialect(name).lint_rules())),
    )
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint")
}

fn input(sql: &str) -> LintInput<'_> {
    let directives = Directives::parse(sql).expect("the fixture's directives parse");
    LintInput {
        sql,
        transactional: !directives.no_transaction,
        origin: "test.sql",
        schema: None,
    }
}

fn lint_sql(name: &str, sql: &str) -> Vec<Finding> {
    dialect(name).lint(&input(sql), &LintConfig::default())
}

/// Lint a fixture; messages name it by its path under `tests/lint`.
fn lint_file(name: &str, path: &Path) -> Vec<Finding> {
    // Read as godwit reads a migration (a byte order mark removed, directives parsed).
    let sql = std::fs::read_to_string(path).expect("fixture is readable");
    let script =
        Script::new(sql, Some(path.to_path_buf())).expect("the fixture's directives parse");
    let origin = path
        .strip_prefix(data_dir())
        .expect("fixture under tests/lint")
        .display()
        .to_string();
    let findings = dialect(name).lint(
        &LintInput {
            sql: &script.sql,
            transactional: !script.directives.no_transaction,
            origin: &origin,
            schema: None,
        },
        &LintConfig::default(),
    );
    assert_one_finding_per_rule_and_statement(&origin, &findings);
    findings
}

/// A statement that breaks a rule in several ways gets one finding of it, which says them all.
fn assert_one_finding_per_rule_and_statement(name: &str, findings: &[Finding]) {
    let mut seen = BTreeSet::new();
    for f in findings {
        assert!(
            seen.insert((f.line, f.column, f.rule)),
            "{name}: two {} findings at {}:{}\n{}",
            f.rule,
            f.line,
            f.column,
            render(findings)
        );
    }
}

fn render(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "(no findings)\n".into();
    }
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}:{} {} [{}]\n  {}\n  | {}\n",
            f.line, f.column, f.rule, f.severity, f.message, f.excerpt
        ));
    }
    out
}

fn snapshot(name: &str, findings: &[Finding]) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("lint/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, render(findings)));
}

/// The entries of `dir` that `keep` accepts, in name order.
fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| keep(path))
        .collect();
    entries.sort();
    entries
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir, Path::is_dir)
}

fn sorted_sql_files(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir, |path| path.extension().is_some_and(|e| e == "sql"))
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_rule_has_a_firing_and_a_passing_case_for_each_of_its_dialects() {
    let expected: BTreeSet<String> = DIALECTS
        .iter()
        .flat_map(|name| {
            dialect(name)
                .lint_rules()
                .into_iter()
                .map(move |rule| format!("{name}/{}", rule.id))
        })
        .collect();
    let mut found = BTreeSet::new();
    for dialect in DIALECTS {
        for case in sorted_dirs(&data_dir().join(dialect)) {
            let rule = file_name(&case);
            let id = format!("{dialect}/{rule}");
            let never = NEVER_REPORTED.contains(&(*dialect, rule.as_str()));
            for file in ["fires.sql", "passes.sql"] {
                if never && file == "fires.sql" {
                    assert!(!case.join(file).exists(), "{id} is never reported");
                } else {
                    assert!(case.join(file).is_file(), "{id} lacks {file}");
                }
            }
            found.insert(id);
        }
    }
    let missing: Vec<_> = expected.difference(&found).collect();
    let stray: Vec<_> = found.difference(&expected).collect();
    assert!(missing.is_empty(), "rules without cases: {missing:?}");
    assert!(
        stray.is_empty(),
        "case folders that name no rule (or a dialect the rule does not apply to): {stray:?}"
    );
}

#[test]
fn rule_cases() {
    for dialect in DIALECTS {
        for case in sorted_dirs(&data_dir().join(dialect)) {
            let rule = file_name(&case);
            for file in sorted_sql_files(&case) {
                let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
                let findings = lint_file(dialect, &file);
                if stem.starts_with("fires") {
                    assert!(
                        findings.iter().any(|f| f.rule == rule),
                        "{dialect}/{rule}/{stem}.sql yields no `{rule}` finding:\n{}",
                        render(&findings)
                    );
                } else {
                    assert!(
                        stem.starts_with("passes"),
                        "{dialect}/{rule}/{stem}.sql: a case is fires*.sql or passes*.sql"
                    );
                    assert!(
                        findings.iter().all(|f| f.rule != rule),
                        "{dialect}/{rule}/{stem}.sql yields a `{rule}` finding:\n{}",
                        render(&findings)
                    );
                }
                snapshot(&format!("{dialect}__{rule}__{stem}"), &findings);
            }
        }
    }
}

#[test]
fn real_world_migrations() {
    let root = data_dir().join("real-world");
    let mut count = 0;
    for dialect_dir in sorted_dirs(&root) {
        let dialect = file_name(&dialect_dir);
        for file in sorted_sql_files(&dialect_dir) {
            let findings = lint_file(&dialect, &file);
            assert!(
                !findings.is_empty(),
                "{} mirrors a common mistake but yields no finding",
                file.display()
            );
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            snapshot(&format!("real-world__{dialect}__{stem}"), &findings);
            count += 1;
        }
    }
    assert!(
        count >= 4,
        "expected at least 4 real-world examples, found {count}"
    );
}

#[test]
fn an_allow_comment_exempts_the_statement_below_it_only() {
    let sql = "\
SET LOCAL lock_timeout = '5s';
-- godwit:allow drop-table, truncate
-- the archive was exported to cold storage (ticket 42)
DROP TABLE archive;
DROP TABLE archive_2019;

-- godwit:allow drop-table

DROP TABLE archive_2020;
DROP TABLE a; -- godwit:allow drop-table
DROP TABLE b;
";
    let lines: Vec<usize> = lint_sql("postgres", sql)
        .iter()
        .filter(|f| f.rule == "drop-table")
        .map(|f| f.line)
        .collect();
    // Line 4 is exempt; a blank line separates line 7's comment from its statement, and a
    // comment after a statement's `;` belongs to that statement, not to the next one.
    assert_eq!(lines, [5, 9, 10, 11]);
}

#[test]
fn an_allow_comment_may_open_the_file_and_is_not_an_unknown_directive() {
    let sql = "-- godwit:allow delete-without-where\nDELETE FROM carts;\n";
    assert_eq!(Directives::parse(sql), Ok(Directives::default()));
    assert!(lint_sql("sqlite", sql).is_empty());
}

#[test]
fn savepoints_and_block_bodies_are_not_transaction_control() {
    // In a transactional file: savepoints nest inside godwit's transaction, and the BEGIN ...
    // END of a trigger is its body.
    let sql = "\
SAVEPOINT copy_users;
CREATE TRIGGER users_touch AFTER UPDATE ON users
BEGIN
  UPDATE users SET updated_at = strftime('%s', 'now') WHERE id = NEW.id;
END;
ROLLBACK TO copy_users;
RELEASE copy_users;
";
    let findings = lint_sql("sqlite", sql);
    assert!(
        findings.iter().all(|f| f.rule != "explicit-transaction"),
        "{}",
        render(&findings)
    );
}

#[test]
fn a_disabled_rule_does_not_run() {
    let sql = "CREATE TABLE tags (id INTEGER, user_id INTEGER REFERENCES users (id));\n\
               DELETE FROM carts;\n";
    let all: Vec<&str> = lint_sql("sqlite", sql).iter().map(|f| f.rule).collect();
    assert_eq!(all, ["foreign-key-without-index", "delete-without-where"]);
    let config = LintConfig {
        disabled: vec!["foreign-key-without-index".into()],
        ..LintConfig::default()
    };
    let rest: Vec<&str> = dialect("sqlite")
        .lint(&input(sql), &config)
        .iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(rest, ["delete-without-where"]);
}

#[test]
fn similar_rules_are_suggested_for_a_misspelt_id() {
    let catalogue = catalogue();
    assert_eq!(catalogue.similar("drop-tabel"), ["drop-table"]);
    assert_eq!(catalogue.similar("DROP_TABLE"), ["drop-table"]);
    assert_eq!(catalogue.similar("drop"), ["drop-table", "drop-column"]);
    assert!(catalogue.similar("xyz").is_empty());
}

#[test]
fn unknown_ids_in_the_configuration_are_reported() {
    let config = LintConfig {
        disabled: vec!["truncate".into(), "drop-tables".into()],
        ..LintConfig::default()
    };
    assert_eq!(
        config.unknown_rules(&catalogue()).collect::<Vec<_>>(),
        ["drop-tables"]
    );
}

#[test]
fn findings_point_at_the_first_token_of_each_statement() {
    let sql = "\
/* A block comment
   over two lines; with a semicolon */
-- a line comment after the block comment

  DELETE
    FROM carts;   UPDATE users
SET locale = 'en';

-- trailing comment
\tTRUNCATE
  sessions
;
";
    let found: Vec<(usize, usize, &str)> = lint_sql("postgres", sql)
        .iter()
        .filter(|f| f.rule != "missing-lock-timeout")
        .map(|f| (f.line, f.column, f.rule))
        .collect();
    assert_eq!(
        found,
        [
            (5, 3, "delete-without-where"),
            (6, 19, "update-without-where"),
            (10, 2, "truncate"),
        ]
    );
}

#[test]
fn an_unparsable_statement_is_one_finding_and_the_rest_is_still_linted() {
    let sql = "SELECT 1;\nCREATE TABLE (id int);\nDELETE FROM carts;\n";
    let findings = lint_sql("postgres", sql);
    let parse_errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "parse-error")
        .collect();
    assert_eq!(parse_errors.len(), 1, "{}", render(&findings));
    let error = parse_errors[0];
    assert_eq!((error.line, error.severity), (2, Severity::Warning));
    assert!(
        error.message.contains("Line: 2"),
        "names the line: {}",
        error.message
    );
    assert!(
        error
            .message
            .contains("check it by hand or add `-- godwit:allow parse-error`"),
        "{}",
        error.message
    );
    assert!(
        findings
            .iter()
            .any(|f| f.rule == "delete-without-where" && f.line == 3)
    );
}

#[test]
fn recovery_resumes_at_the_statement_after_the_broken_one() {
    // The parser stops on the `;` that ends the broken statement; the next one is intact.
    let sql = "CREATE TABLE t (a int;\nDELETE FROM carts;\nUPDATE users SET x = 1;\n";
    let found: Vec<(usize, &str)> = lint_sql("sqlite", sql)
        .iter()
        .map(|f| (f.line, f.rule))
        .collect();
    assert_eq!(
        found,
        [
            (1, "parse-error"),
            (2, "delete-without-where"),
            (3, "update-without-where"),
        ]
    );
}

#[test]
fn recovery_falls_back_to_the_next_semicolon_when_a_block_never_closes() {
    // The broken trigger opens a BEGIN block that no END closes, so its structure cannot say
    // where it ends; the statement after the first `;` past the error is linted.
    let sql = "CREATE TRIGGER t AFTER FROB ON a BEGIN SELECT 1;\nDELETE FROM carts;\n";
    let found: Vec<(usize, &str)> = lint_sql("sqlite", sql)
        .iter()
        .map(|f| (f.line, f.rule))
        .collect();
    assert_eq!(found, [(1, "parse-error"), (2, "delete-without-where")]);
}

#[test]
fn an_invisible_character_is_named_in_a_parse_error() {
    // A byte order mark left in the middle of a file (two files concatenated) is not removed
    // by godwit; the parser's message would show it as nothing at all.
    let findings = lint_sql("postgres", "SELECT 1;\n\u{feff}SELECT 2;\n");
    assert_eq!(findings.len(), 1, "{}", render(&findings));
    assert!(
        findings[0]
            .message
            .contains("found: U+FEFF (a byte order mark)"),
        "{}",
        findings[0].message
    );
}

#[test]
fn crlf_files_have_the_same_lines_and_columns() {
    let lf = "-- godwit:allow truncate\nTRUNCATE a;\n\n  DELETE FROM b;\nUPDATE c\nSET x = 1;\n";
    let crlf = lf.replace('\n', "\r\n");
    let strip = |findings: Vec<Finding>| -> Vec<(usize, usize, &'static str, String)> {
        findings
            .into_iter()
            .map(|f| (f.line, f.column, f.rule, f.excerpt))
            .collect()
    };
    let expected = strip(lint_sql("sqlite", lf));
    assert_eq!(
        expected.iter().map(|f| (f.0, f.1)).collect::<Vec<_>>(),
        [(4, 3), (5, 1)]
    );
    assert_eq!(strip(lint_sql("sqlite", &crlf)), expected);
}

#[test]
fn an_untokenizable_file_is_one_parse_error() {
    // A quote that never closes leaves no reliable statement boundary after it; the
    // statements before the broken one are still linted.
    let sql = "DELETE FROM carts;\nUPDATE users\nSET name = 'unterminated;\nDROP TABLE x;\n";
    let findings = lint_sql("sqlite", sql);
    let found: Vec<(usize, usize, &str)> = findings
        .iter()
        .map(|f| (f.line, f.column, f.rule))
        .collect();
    assert_eq!(
        found,
        [(1, 1, "delete-without-where"), (2, 1, "parse-error")],
        "{}",
        render(&findings)
    );
    assert!(
        findings[1]
            .message
            .contains("nothing after this point was linted"),
        "{}",
        findings[1].message
    );
    let only = lint_sql("postgres", "SELECT $$never closed");
    assert_eq!(only.len(), 1, "{}", render(&only));
    assert_eq!((only[0].rule, only[0].line), ("parse-error", 1));
}

#[test]
fn rules_for_another_dialect_do_not_run() {
    // PostgreSQL's lock rules mean nothing to SQLite, and an unknown dialect gets the rules
    // that apply everywhere.
    let sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\nDELETE FROM carts;\n";
    let sqlite: Vec<&str> = lint_sql("sqlite", sql).iter().map(|f| f.rule).collect();
    assert_eq!(sqlite, ["unsupported-alter", "delete-without-where"]);
    let other: Vec<&str> = lint::lint(&GenericLint, &input(sql), &LintConfig::default())
        .iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(other, ["delete-without-where"]);
}

#[test]
fn the_live_schema_supplies_covering_indexes_and_column_types() {
    let mut users = Table::new(
        Name::qualified("public", "users"),
        vec![
            Column::new("id", "bigint"),
            Column::new("nickname", "character varying(40)"),
        ],
    );
    users.primary_key = Some(PrimaryKey {
        name: Some("users_pkey".into()),
        ..PrimaryKey::new(vec!["id".into()])
    });
    let mut orders = Table::new(
        Name::qualified("public", "orders"),
        vec![Column::new("customer_id", "bigint")],
    );
    orders.indexes.push(Index {
        name: Name::qualified("public", "orders_customer_id_idx"),
        unique: false,
        keys: vec!["customer_id DESC".into()],
        predicate: None,
        method: None,
        definition: "CREATE INDEX orders_customer_id_idx ON public.orders USING btree \
                     (customer_id DESC)"
            .into(),
    });
    let mut schema = Schema::default();
    schema.tables = vec![orders, users];

    let sql = "\
SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE users ALTER COLUMN nickname TYPE varchar(80);
ALTER TABLE public.users ALTER COLUMN nickname TYPE text;
ALTER TABLE users ALTER COLUMN id TYPE integer;
";
    let without: Vec<(usize, &str)> = lint_sql("postgres", sql)
        .iter()
        .map(|f| (f.line, f.rule))
        .collect();
    assert_eq!(
        without,
        [
            (2, "foreign-key-without-index"),
            (4, "column-type-change"),
            // varchar(80) -> text: the file itself told the type on line 4.
            (6, "column-type-change"),
        ]
    );
    let with = dialect("postgres").lint(
        &LintInput {
            schema: Some(&schema),
            ..input(sql)
        },
        &LintConfig::default(),
    );
    let rules: Vec<(usize, &str)> = with.iter().map(|f| (f.line, f.rule)).collect();
    assert_eq!(rules, [(6, "column-type-change")]);
    assert!(
        with[0].message.contains("from BIGINT to INTEGER"),
        "{}",
        with[0].message
    );
}

/// A live SQLite schema of one table, `users`, with `columns` (the first an integer, the rest
/// text).
fn live_users(columns: &[&str]) -> Schema {
    let columns = columns
        .iter()
        .enumerate()
        .map(|(at, name)| Column::new(*name, if at == 0 { "INTEGER" } else { "TEXT" }))
        .collect();
    let mut schema = Schema::default();
    schema.tables = vec![Table::new(Name::qualified("main", "users"), columns)];
    schema
}

#[test]
fn a_rebuild_that_leaves_a_live_column_behind_drops_its_data() {
    let schema = live_users(&["id", "email", "nickname"]);
    let rebuild = |columns: &str| {
        format!(
            "CREATE TABLE IF NOT EXISTS users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n\
             INSERT INTO users_new SELECT {columns} FROM users;\n\
             DROP TABLE users;\n\
             ALTER TABLE users_new RENAME TO users;\n"
        )
    };
    let drops = |sql: &str| -> Vec<usize> {
        dialect("sqlite")
            .lint(
                &LintInput {
                    schema: Some(&schema),
                    ..input(sql)
                },
                &LintConfig::default(),
            )
            .iter()
            .filter(|f| f.rule == "drop-table")
            .map(|f| f.line)
            .collect()
    };
    // Every column read (a function of one counts): a rebuild.
    assert_eq!(
        drops(&rebuild("id, lower(email), nickname")),
        [] as [usize; 0]
    );
    assert_eq!(drops(&rebuild("*")), [] as [usize; 0]);
    // nickname is left behind: its data goes with the dropped table.
    assert_eq!(drops(&rebuild("id, email")), [3]);
    // Without the live schema godwit cannot tell, and takes the copy for a rebuild.
    assert!(
        lint_sql("sqlite", &rebuild("id, email"))
            .iter()
            .all(|f| f.rule != "drop-table")
    );
}

/// Rebuilds of a live table after earlier statements of the same file renamed or dropped its
/// columns, and the lines `drop-table` is reported on.
#[test]
fn a_rebuild_follows_the_columns_renamed_and_dropped_before_it() {
    let schema = live_users(&["id", "mail", "nickname"]);
    let rebuild = |before: &str, columns: &str| {
        format!(
            "{before}\n\
             CREATE TABLE IF NOT EXISTS users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n\
             INSERT OR ABORT INTO users_new SELECT {columns} FROM users;\n\
             DROP TABLE users;\n\
             ALTER TABLE users_new RENAME TO users;\n"
        )
    };
    let cases: &[(&str, &str, &[usize])] = &[
        // The copy reads the column under its new name.
        (
            "ALTER TABLE users RENAME COLUMN mail TO email;",
            "id, email, nickname",
            &[],
        ),
        (
            "ALTER TABLE users RENAME COLUMN mail TO email;",
            "id, email",
            &[4],
        ),
        // A column dropped before is no column to copy.
        ("ALTER TABLE users DROP COLUMN nickname;", "id, mail", &[]),
        ("ALTER TABLE users DROP COLUMN nickname;", "id", &[4]),
        // Renamed twice: the copy reads the last name.
        (
            "ALTER TABLE users RENAME COLUMN mail TO email;\n\
             ALTER TABLE users RENAME COLUMN email TO address;",
            "id, address, nickname",
            &[],
        ),
    ];
    for (before, columns, expected) in cases {
        let sql = rebuild(before, columns);
        let findings = dialect("sqlite").lint(
            &LintInput {
                schema: Some(&schema),
                ..input(&sql)
            },
            &LintConfig::default(),
        );
        let drops: Vec<usize> = findings
            .iter()
            .filter(|f| f.rule == "drop-table")
            .map(|f| f.line - before.lines().count() + 1)
            .collect();
        assert_eq!(drops, *expected, "{sql}\n{}", render(&findings));
    }
}

/// SQLite drops a column whose index the file dropped before, and refuses one that an index
/// still covers at that point.
#[test]
fn dropping_a_column_follows_the_indexes_dropped_before_it() {
    let mut schema = live_users(&["id", "nickname"]);
    schema.tables[0].indexes.push(Index {
        name: Name::qualified("main", "users_nickname"),
        unique: false,
        keys: vec!["nickname".into()],
        predicate: None,
        method: None,
        definition: "CREATE INDEX users_nickname ON users (nickname)".into(),
    });
    let cases: &[(&str, bool)] = &[
        ("ALTER TABLE users DROP COLUMN nickname;", true),
        (
            "DROP INDEX users_nickname;\nALTER TABLE users DROP COLUMN nickname;",
            false,
        ),
        (
            "DROP INDEX IF EXISTS main.Users_Nickname;\nALTER TABLE users DROP COLUMN nickname;",
            false,
        ),
        // Another index made after the drop covers it again.
        (
            "DROP INDEX users_nickname;\nCREATE INDEX users_nick ON users (nickname);\n\
             ALTER TABLE users DROP COLUMN nickname;",
            true,
        ),
        // An index made after the column is dropped does not count.
        (
            "DROP INDEX users_nickname;\nALTER TABLE users DROP COLUMN nickname;\n\
             CREATE INDEX users_id ON users (id, nickname);",
            false,
        ),
        // Renamed, the column keeps its index.
        (
            "ALTER TABLE users RENAME COLUMN nickname TO handle;\n\
             ALTER TABLE users DROP COLUMN handle;",
            true,
        ),
    ];
    for (sql, refused) in cases {
        let findings = dialect("sqlite").lint(
            &LintInput {
                schema: Some(&schema),
                ..input(sql)
            },
            &LintConfig::default(),
        );
        assert_eq!(
            findings.iter().any(|f| f.rule == "unsupported-alter"),
            *refused,
            "{sql}\n{}",
            render(&findings)
        );
    }
}

/// Files and the line `missing-lock-timeout` is reported on (`None`: not reported).
#[test]
fn lock_timeout_cases() {
    let cases: &[(&str, Option<usize>)] = &[
        // A foreign key locks the table it references, even from a new table.
        (
            "CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, \
             user_id bigint REFERENCES users (id));",
            Some(1),
        ),
        (
            "CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, user_id bigint,\n\
             FOREIGN KEY (user_id) REFERENCES users (id));",
            Some(1),
        ),
        (
            "CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, user_id bigint);\n\
             ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) \
             REFERENCES users (id) NOT VALID;",
            Some(2),
        ),
        (
            "CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY);\n\
             CREATE TABLE IF NOT EXISTS orders (user_id bigint REFERENCES users (id));",
            None,
        ),
        // Setting it back to the default or resetting it turns it off again.
        (
            "SET LOCAL lock_timeout = '5s';\nSET LOCAL lock_timeout = DEFAULT;\n\
             ALTER TABLE users ADD COLUMN bio text;",
            Some(3),
        ),
        (
            "SET lock_timeout TO '5s';\nRESET lock_timeout;\nALTER TABLE users ADD COLUMN bio text;",
            Some(3),
        ),
        (
            "SET lock_timeout = '5s';\nRESET ALL;\nALTER TABLE users ADD COLUMN bio text;",
            Some(3),
        ),
        (
            "SET lock_timeout = '5s';\nSET lock_timeout = 0;\nALTER TABLE users ADD COLUMN bio text;",
            Some(3),
        ),
        // set_config() sets it too; its third argument makes it transaction-local.
        (
            "SELECT set_config('lock_timeout', '5s', true);\nALTER TABLE users ADD COLUMN bio text;",
            None,
        ),
        (
            "-- godwit:no-transaction\nSELECT set_config('lock_timeout', '5s', false);\n\
             ALTER TABLE users ADD COLUMN bio text;",
            None,
        ),
        (
            "-- godwit:no-transaction\nSELECT set_config('lock_timeout', '5s', true);\n\
             ALTER TABLE users ADD COLUMN bio text;",
            Some(3),
        ),
        // In a no-transaction file SET LOCAL lasts until the file's own transaction ends.
        (
            "-- godwit:no-transaction\nBEGIN;\nSET LOCAL lock_timeout = '5s';\n\
             ALTER TABLE users ADD COLUMN a int;\nCOMMIT;",
            None,
        ),
        (
            "-- godwit:no-transaction\nBEGIN;\nSET LOCAL lock_timeout = '5s';\nCOMMIT;\n\
             ALTER TABLE users ADD COLUMN a int;",
            Some(5),
        ),
        (
            "-- godwit:no-transaction\nSET LOCAL lock_timeout = '5s';\n\
             ALTER TABLE users ADD COLUMN a int;",
            Some(3),
        ),
    ];
    for (sql, expected) in cases {
        let findings = lint_sql("postgres", sql);
        let found = findings
            .iter()
            .find(|f| f.rule == "missing-lock-timeout")
            .map(|f| f.line);
        assert_eq!(found, *expected, "{sql}\n{}", render(&findings));
    }
}

#[test]
fn a_validated_not_null_check_in_the_live_schema_spares_set_not_null() {
    let table = |check: &str| {
        let mut users = Table::new(
            Name::qualified("public", "users"),
            vec![Column::new("email", "text")],
        );
        users.checks.push(Check {
            name: Some("users_email_not_null".into()),
            expression: check.into(),
        });
        let mut schema = Schema::default();
        schema.tables = vec![users];
        schema
    };
    let sql =
        "SET LOCAL lock_timeout = '5s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n";
    let rules = |schema: &Schema| -> Vec<&'static str> {
        dialect("postgres")
            .lint(
                &LintInput {
                    schema: Some(schema),
                    ..input(sql)
                },
                &LintConfig::default(),
            )
            .iter()
            .map(|f| f.rule)
            .collect()
    };
    // As pg_get_constraintdef prints them.
    assert!(rules(&table("CHECK ((email IS NOT NULL))")).is_empty());
    assert_eq!(
        rules(&table("CHECK ((email IS NOT NULL)) NOT VALID")),
        ["set-not-null"]
    );
    assert_eq!(
        rules(&table("CHECK ((length(email) > 3))")),
        ["set-not-null"]
    );
}

#[test]
fn findings_serialize_with_snake_case_severity() {
    let findings = lint_sql("sqlite", "DELETE FROM carts;");
    let json = serde_json::to_value(&findings).unwrap();
    assert_eq!(json[0]["rule"], "delete-without-where");
    assert_eq!(json[0]["severity"], "error");
    assert_eq!(json[0]["line"], 1);
    assert_eq!(json[0]["excerpt"], "DELETE FROM carts");
}

#[test]
fn long_statements_are_excerpted_on_one_line() {
    let sql = format!(
        "UPDATE users\nSET bio = '{}',\n    locale = 'en';\n",
        "x".repeat(200)
    );
    let excerpt = &lint_sql("sqlite", &sql)[0].excerpt;
    assert!(
        excerpt.starts_with("UPDATE users SET bio = 'xxx"),
        "{excerpt}"
    );
    assert!(!excerpt.contains('\n'));
    assert_eq!(excerpt.chars().count(), 80);
    assert!(excerpt.ends_with('…'));
}

#[test]
fn rule_ids_are_unique_kebab_case_and_documented() {
    let mut seen = BTreeSet::new();
    let catalogue = catalogue();
    for listed in catalogue.rules() {
        let rule = &listed.rule;
        assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
        assert!(
            !rule.id.is_empty()
                && !rule.id.starts_with('-')
                && !rule.id.ends_with('-')
                && !rule.id.contains("--")
                && rule.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "`{}` is not kebab-case",
            rule.id
        );
        assert!(!rule.summary.is_empty() && !rule.summary.contains('\n'));
        assert!(
            rule.explanation.lines().count() > 3,
            "{} needs an explanation with the safe alternative",
            rule.id
        );
        assert!(
            rule.explanation.contains("Safe alternative"),
            "{}: say what to do instead",
            rule.id
        );
        for dialect in &listed.dialects {
            assert!(
                DIALECTS.contains(dialect),
                "{}: unknown dialect {dialect}",
                rule.id
            );
        }
        assert_eq!(catalogue.rule(rule.id), Some(listed));
    }
    assert_eq!(catalogue.rule("no-such-rule"), None);
}

#[test]
fn the_markdown_table_lists_every_rule_once() {
    let catalogue = catalogue();
    let table = catalogue.markdown_table();
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("| rule | severity | dialects | what it catches |")
    );
    assert_eq!(lines.next(), Some("|---|---|---|---|"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), catalogue.rules().len());
    for id in catalogue.ids() {
        let cell = format!("| `{id}` |");
        let count = rows.iter().filter(|row| row.starts_with(&cell)).count();
        assert_eq!(count, 1, "{id} appears {count} times");
    }
    assert!(table.contains("| `set-not-null` | warning | postgres |"));
    assert!(table.contains("| `drop-table` | error | all |"));
}

/// A creation that can fail.
fn creates(schema: Option<&str>, name: &str, line: usize) -> TableChange {
    TableChange::Creates {
        schema: schema.map(str::to_string),
        name: name.into(),
        line,
    }
}

#[test]
fn creations_that_can_fail_and_names_set_free_are_read_in_order() {
    let sql = "CREATE TABLE Users (id int);\n\
               CREATE TABLE IF NOT EXISTS posts (id int);\n\
               CREATE TEMPORARY TABLE scratch (id int);\n\
               DROP TABLE IF EXISTS app.\"Old\", legacy;\n\
               ALTER TABLE things RENAME TO stuff;\n\
               CREATE TABLE app.\"Tags\" (id int);\n";
    assert_eq!(
        PgDialect.table_changes(sql),
        [
            creates(None, "users", 1),
            TableChange::Frees {
                schema: Some("app".into()),
                name: "Old".into()
            },
            TableChange::Frees {
                schema: None,
                name: "legacy".into()
            },
            TableChange::Frees {
                schema: None,
                name: "things".into()
            },
            creates(Some("app"), "Tags", 6),
        ]
    );
    // SQLite compares names without case, quoted or not.
    assert_eq!(
        SqliteDialect.table_changes(
            "CREATE TABLE \"Users\" (id);\nCREATE VIRTUAL TABLE docs USING fts5(body);"
        ),
        [creates(None, "users", 1), creates(None, "docs", 2)]
    );
}

#[test]
fn statements_that_end_a_transaction_are_found_with_their_lines() {
    let script = "CREATE TABLE a (x int);\nCOMMIT;\nBEGIN;\nSAVEPOINT s;\n\
                  ROLLBACK TO SAVEPOINT s;\nEND;\nROLLBACK;\n\
                  CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ COMMIT $$;\n";
    assert_eq!(PgDialect.transaction_ends(script), [2, 6, 7]);
    assert_eq!(
        SqliteDialect.transaction_ends("CREATE TABLE a (x);\nEND TRANSACTION;\n"),
        [2]
    );
    assert!(
        SqliteDialect
            .transaction_ends("CREATE TABLE a (x);\n")
            .is_empty()
    );
}

#[test]
fn mysql_reads_enum_values_and_column_types_from_the_live_schema() {
    // As MariaDB's introspection names and spells them.
    let mut orders = Table::new(
        Name::bare("orders"),
        vec![
            Column::new("id", "int(11)"),
            Column::new("state", "enum('new','paid','shipped')"),
            Column::new("note", "varchar(40)"),
        ],
    );
    orders.primary_key = Some(PrimaryKey::new(vec!["id".into()]));
    let mut schema = Schema::default();
    schema.tables = vec![orders];
    let sql = "\
ALTER TABLE orders MODIFY COLUMN state ENUM('new', 'paid', 'shipped', 'returned') NOT NULL;
ALTER TABLE orders MODIFY COLUMN State ENUM('new', 'shipped', 'paid', 'returned') NOT NULL;
ALTER TABLE `orders` MODIFY note VARCHAR(40) NOT NULL;
ALTER TABLE orders MODIFY note VARCHAR(80) NOT NULL;
";
    let lint = |schema: Option<&Schema>| -> Vec<(usize, &'static str)> {
        dialect("mysql")
            .lint(
                &LintInput {
                    schema,
                    ..input(sql)
                },
                &LintConfig::default(),
            )
            .iter()
            .map(|f| (f.line, f.rule))
            .collect()
    };
    // Without the live schema the values are unknown, and every MODIFY may change a type.
    assert_eq!(
        lint(None),
        [
            (1, "table-copy"),
            // Line 1 told line 2 the values; line 3 told line 4 the type.
            (2, "enum-values-changed"),
            (3, "table-copy"),
            (4, "table-copy"),
        ]
    );
    // With it: appending a value and restating a type are in place; a reorder and a longer
    // VARCHAR are not.
    assert_eq!(
        lint(Some(&schema)),
        [(2, "enum-values-changed"), (4, "table-copy")]
    );
}

#[test]
fn a_mysql_migration_is_reported_once_for_mixing_rows_and_ddl() {
    let sql = "\
INSERT INTO countries VALUES ('GB');
ALTER TABLE users ADD COLUMN country CHAR(2) NULL, ALGORITHM=INSTANT;
-- godwit:allow update-without-where
UPDATE users SET country = 'GB';
";
    let found: Vec<(usize, &str)> = lint_sql("mysql", sql)
        .iter()
        .map(|f| (f.line, f.rule))
        .collect();
    assert_eq!(found, [(1, "dml-with-ddl")]);
    // The same statements without the DDL run in one transaction.
    let data_only =
        "INSERT INTO countries VALUES ('GB');\nUPDATE users SET country = 'GB' WHERE id = 1;\n";
    assert!(lint_sql("mysql", data_only).is_empty());
}
