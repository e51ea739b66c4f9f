//! Every documented exit code, one row per cause, on SQLite databases in temporary directories;
//! and the lock's code 4 on both backends, with the holder it names.
#![cfg(feature = "sqlite")]

mod common;

use common::{
    HeldLock, Project, assert_code, assert_fails, live_owner, sqlite_rows, stderr, stdout,
};

/// One way to make godwit exit with a given code.
struct Case {
    name: &'static str,
    /// Prepares the project; what it returns is kept alive while godwit runs.
    setup: fn(&Project) -> Option<HeldLock>,
    args: &'static [&'static str],
    code: i32,
    /// Text the error on stderr must contain (empty for a success).
    says: &'static str,
}

fn nothing(_: &Project) -> Option<HeldLock> {
    None
}

fn one_migration(project: &Project) -> Option<HeldLock> {
    // `IF NOT EXISTS` keeps the lint quiet, so a success prints nothing on stderr.
    project.migration(
        1,
        "create_users",
        "CREATE TABLE IF NOT EXISTS users (id INTEGER);",
        Some("DROP TABLE users;"),
    );
    None
}

fn dropping_migration(project: &Project) -> Option<HeldLock> {
    project.migration(1, "drop_users", "DROP TABLE users;", None);
    None
}

fn edited_after_applying(project: &Project) -> Option<HeldLock> {
    one_migration(project);
    assert_code(&project.run(&["migrate"]), 0);
    project.write(
        "migrations/1_create_users.up.sql",
        "CREATE TABLE users (id INTEGER, email TEXT);",
    );
    None
}

const USERS_SCHEMA: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);";

fn pushed_users(project: &Project) -> Option<HeldLock> {
    project.write("schema.sql", USERS_SCHEMA);
    assert_code(&project.run(&["push"]), 0);
    None
}

fn column_dropped_from_schema(project: &Project) -> Option<HeldLock> {
    pushed_users(project);
    project.write("schema.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);");
    None
}

fn changed_by_hand(project: &Project) -> Option<HeldLock> {
    one_migration(project);
    assert_code(&project.run(&["migrate"]), 0);
    project.write("schema.sql", "CREATE TABLE users (id INTEGER, note TEXT);");
    assert_code(&project.run(&["push"]), 0);
    None
}

fn lock_held(project: &Project) -> Option<HeldLock> {
    one_migration(project);
    Some(project.hold_lock(live_owner()))
}

/// An applied migration and `copy.db`, a copy of the database to restore.
fn copied(project: &Project) -> Option<HeldLock> {
    one_migration(project);
    assert_code(&project.run(&["migrate"]), 0);
    std::fs::copy(project.db(), project.path().join("copy.db")).unwrap();
    None
}

fn copied_and_lock_held(project: &Project) -> Option<HeldLock> {
    copied(project);
    Some(project.hold_lock(live_owner()))
}

/// The database against the schema file, failing when they differ.
const DIFF_EXIT_CODE: &[&str] = &[
    "diff",
    "--from",
    "sqlite:test.db",
    "--to",
    "schema.sql",
    "--exit-code",
];

const CASES: &[Case] = &[
    Case {
        name: "success",
        setup: one_migration,
        args: &["migrate"],
        code: 0,
        says: "",
    },
    Case {
        name: "status with pending migrations",
        setup: one_migration,
        args: &["status"],
        code: 0,
        says: "",
    },
    Case {
        name: "unknown flag",
        setup: nothing,
        args: &["migrate", "--frobnicate"],
        code: 2,
        says: "--frobnicate",
    },
    Case {
        name: "repair without an action",
        setup: nothing,
        args: &["repair"],
        code: 2,
        says: "required",
    },
    Case {
        name: "unknown URL scheme",
        setup: one_migration,
        args: &["--url", "mssql://root@localhost/app", "migrate"],
        code: 2,
        says: "not a database URL godwit understands",
    },
    Case {
        name: "malformed PostgreSQL URL",
        setup: one_migration,
        args: &[
            "--url",
            "postgres://app:s3cret@127.0.0.1:99999/app",
            "status",
        ],
        code: 2,
        says: "the URL postgres://app:***@127.0.0.1:99999/app is not valid: invalid port number",
    },
    Case {
        name: "recover an unknown version",
        setup: |project| {
            // recover reads an existing database only; an empty file is an empty database.
            project.write("test.db", "");
            one_migration(project)
        },
        args: &["recover", "99"],
        code: 2,
        says: "no migration has version 99",
    },
    Case {
        name: "new after the largest version",
        setup: |project| {
            project.write("migrations/9223372036854775807_last.up.sql", "SELECT 1;\n");
            None
        },
        args: &["new", "one more"],
        code: 2,
        says: "has the largest version there can be",
    },
    Case {
        name: "missing explicit config",
        setup: nothing,
        args: &["--config", "missing.toml", "status"],
        code: 2,
        says: "missing.toml does not exist",
    },
    Case {
        name: "unknown config key",
        setup: |project| {
            project.write(
                "godwit.toml",
                "url = \"sqlite:test.db\"\nhistory_tabel = \"x\"\n",
            );
            None
        },
        args: &["status"],
        code: 2,
        says: "godwit.toml:2:1: unknown field `history_tabel`",
    },
    Case {
        name: "history table name too long for PostgreSQL",
        setup: |project| {
            project.write(
                "godwit.toml",
                &format!(
                    "url = \"sqlite:test.db\"\nhistory_table = \"{}\"\n",
                    "h".repeat(70)
                ),
            );
            None
        },
        args: &["status"],
        code: 2,
        says: "history_table is 70 bytes long; at most 58 fit",
    },
    Case {
        name: "malformed migration file name",
        setup: |project| {
            project.write(
                "migrations/create_users.up.sql",
                "CREATE TABLE users (id INTEGER);",
            );
            None
        },
        args: &["migrate"],
        code: 2,
        says: "create_users.up.sql",
    },
    Case {
        name: "unknown target version",
        setup: one_migration,
        args: &["migrate", "--to", "99"],
        code: 2,
        says: "no migration has version 99",
    },
    Case {
        name: "applied migration edited",
        setup: edited_after_applying,
        args: &["migrate"],
        code: 3,
        says: "repair --accept-checksum 1",
    },
    Case {
        name: "lock held by a live run",
        setup: lock_held,
        args: &["migrate", "--lock-timeout", "1s"],
        code: 4,
        says: "migration lock",
    },
    Case {
        name: "unlock of a live lock",
        setup: lock_held,
        args: &["unlock"],
        code: 4,
        says: "godwit unlock --force",
    },
    Case {
        name: "restore while a run holds the migration lock",
        setup: copied_and_lock_held,
        args: &["restore", "--yes", "copy.db"],
        code: 4,
        says: "is in use by a godwit run holding the migration lock",
    },
    Case {
        name: "restore without consent and without a terminal",
        setup: copied,
        args: &["restore", "copy.db"],
        code: 3,
        says: "run again with --yes",
    },
    Case {
        name: "restore of a file that is not a SQLite database",
        setup: |project| {
            copied(project);
            project.write("notes.txt", "not a database\n");
            None
        },
        args: &["restore", "--yes", "notes.txt"],
        code: 1,
        says: "is not a usable SQLite backup",
    },
    Case {
        name: "backup of an in-memory database",
        setup: one_migration,
        args: &["--url", "sqlite::memory:", "migrate", "--backup"],
        code: 1,
        says: "an in-memory database cannot be backed up",
    },
    Case {
        name: "failing SQL",
        setup: |project| {
            project.migration(
                1,
                "broken",
                "CREATE TABLE users (id INTEGER);\nSELEC 1;",
                None,
            );
            None
        },
        // The lint would refuse the typo before the database sees it.
        args: &["migrate", "--no-lint"],
        code: 1,
        says: "migration 1 (broken) failed",
    },
    Case {
        name: "lint error",
        setup: dropping_migration,
        args: &["lint"],
        code: 1,
        says: "the lint found 1 error",
    },
    Case {
        name: "lint warnings only",
        setup: |project| {
            project.migration(1, "create_users", "CREATE TABLE users (id INTEGER);", None);
            None
        },
        args: &["lint"],
        code: 0,
        says: "",
    },
    Case {
        name: "migrate refused by the lint",
        setup: dropping_migration,
        args: &["migrate"],
        code: 3,
        says: "--no-lint",
    },
    Case {
        name: "unknown lint rule",
        setup: nothing,
        args: &["lint", "--explain", "drop-tabel"],
        code: 2,
        says: "did you mean `drop-table`",
    },
    Case {
        name: "unknown lint rule in the config file",
        setup: |project| {
            project.write(
                "godwit.toml",
                "url = \"sqlite:test.db\"\n[lint]\ndisabled = [\"drop-tabel\"]\n",
            );
            None
        },
        args: &["lint"],
        code: 2,
        says: "godwit.toml:3:13: `drop-tabel` in `[lint] disabled` is not a lint rule",
    },
    Case {
        name: "GitHub annotations asked of another command",
        setup: one_migration,
        args: &["--format", "github", "status"],
        code: 2,
        says: "works with `godwit lint` only",
    },
    Case {
        name: "push with nothing to do",
        setup: pushed_users,
        args: &["push"],
        code: 0,
        says: "",
    },
    Case {
        name: "push that drops a column without consent",
        setup: column_dropped_from_schema,
        args: &["push"],
        code: 3,
        says: "--accept-data-loss",
    },
    Case {
        name: "push without a schema file",
        setup: nothing,
        args: &["push"],
        code: 2,
        says: "schema.sql does not exist",
    },
    Case {
        name: "drift",
        setup: changed_by_hand,
        args: &["check"],
        code: 5,
        says: "differs from what its applied migrations produce",
    },
    Case {
        name: "status --exit-code with a pending migration",
        setup: one_migration,
        args: &["status", "--exit-code"],
        code: 5,
        says: "the database is not up to date: 1 pending of 1 migration",
    },
    Case {
        name: "status --exit-code with a failed migration",
        setup: |project| {
            one_migration(project);
            assert_code(&project.run(&["migrate"]), 0);
            project.migration(2, "broken", "SELEC 1;", None);
            assert_code(&project.run(&["migrate", "--no-lint"]), 1);
            None
        },
        args: &["status", "--exit-code"],
        code: 5,
        says: "1 failed of 2 migrations",
    },
    Case {
        name: "status --exit-code with an edited migration",
        setup: edited_after_applying,
        args: &["status", "--exit-code"],
        code: 5,
        says: "1 modified of 1 migration",
    },
    Case {
        name: "status --exit-code with everything applied",
        setup: |project| {
            one_migration(project);
            assert_code(&project.run(&["migrate"]), 0);
            None
        },
        args: &["status", "--exit-code"],
        code: 0,
        says: "",
    },
    Case {
        name: "diff --exit-code with differences",
        setup: column_dropped_from_schema,
        args: DIFF_EXIT_CODE,
        code: 5,
        says: "the schemas differ",
    },
    Case {
        name: "diff --exit-code without differences",
        setup: pushed_users,
        args: DIFF_EXIT_CODE,
        code: 0,
        says: "",
    },
    Case {
        name: "database cannot be opened",
        setup: one_migration,
        args: &["--url", "sqlite:/nonexistent/dir/x.db", "migrate"],
        code: 1,
        says: "cannot open the database at sqlite:/nonexistent/dir/x.db",
    },
];

/// Each case exits with its code and says why on stderr; with `--format json` too, where stdout
/// is then one JSON document, of a success (`ok` true) or of the failure: `ok` false, the exit
/// code, and the error's kind and message.
#[test]
fn exit_codes() {
    for case in CASES {
        check(case, case.args);
        // A case that names its own format has no JSON variant.
        if !case.args.contains(&"--format") {
            let args = [&["--format", "json"][..], case.args].concat();
            let output = check(case, &args);
            let document: serde_json::Value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|error| {
                    panic!(
                        "{}: not one JSON document ({error}):\n{}",
                        case.name,
                        stdout(&output)
                    )
                });
            assert_eq!(document["ok"], case.code == 0, "{}: {document}", case.name);
            if case.code != 0 {
                assert_eq!(
                    document["exit_code"], case.code,
                    "{}: {document}",
                    case.name
                );
                let error = &document["error"];
                let told: Vec<&str> = std::iter::once(&error["message"])
                    .chain(error["causes"].as_array().unwrap())
                    .filter_map(serde_json::Value::as_str)
                    .collect();
                assert!(
                    error["kind"].as_str().is_some_and(|kind| !kind.is_empty())
                        && told.concat().contains(case.says),
                    "{}: {document}",
                    case.name
                );
            }
        }
    }
}

/// Run `case` with `args` on a project of its own and check the exit code and stderr.
fn check(case: &Case, args: &[&str]) -> std::process::Output {
    let project = Project::new();
    let _kept = (case.setup)(&project);
    let output = project.run(args);
    assert_eq!(
        output.status.code(),
        Some(case.code),
        "{}: godwit {}\nstderr:\n{}",
        case.name,
        args.join(" "),
        stderr(&output)
    );
    let error = stderr(&output);
    if case.code == 0 {
        assert!(
            error.is_empty(),
            "{}: stderr not empty:\n{error}",
            case.name
        );
    } else {
        assert!(
            error.contains(case.says),
            "{}: stderr lacks {:?}:\n{error}",
            case.name,
            case.says
        );
    }
    output
}

/// Who holds the lock is the first thing a blocked user needs: the error names the process,
/// its application and since when, as the lock row records them.
#[test]
fn lock_errors_name_the_holder() {
    let project = Project::new();
    let _lock = lock_held(&project);
    let since = &sqlite_rows(
        &project.db(),
        "SELECT acquired_at FROM godwit_migrations_lock",
    )[0][0];
    let owner = live_owner();
    let holder = format!(
        "held by application godwit tests, pid {}, host {}, since {since}, process running",
        owner.pid, owner.host
    );
    let output = project.run(&["migrate", "--lock-timeout", "1s"]);
    assert_fails(
        &output,
        4,
        "another run holds the migration lock on sqlite:test.db; wait for it to finish, or raise --lock-timeout\n",
    );
    assert_fails(
        &output,
        4,
        &format!("timed out after 1s waiting for the migration lock {holder}"),
    );
    let output = project.run(&["unlock"]);
    assert_fails(&output, 4, &format!("the migration lock is {holder}"));
    assert_fails(&output, 4, "its holder is running");
}

/// On PostgreSQL the lock is a session's advisory lock: `unlock` finds none, or refuses to end
/// a live session without `--force`, which terminates it. Errors name the session.
#[cfg(feature = "postgres")]
#[test]
fn postgres_unlock_and_lock_errors_name_the_session() {
    use common::{PG_LOCK_APPLICATION, PgProject, json, stdout};

    let pg = PgProject::new();
    one_migration(&pg.project);
    let output = pg.run(&["unlock"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "no lock held\n");

    let lock = pg.hold_lock();
    // The holder as the server describes it (the lock session's start is the lock's age).
    let session = || {
        pg.rows(&format!(
            "SELECT pid::text, to_char(backend_start AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = '{PG_LOCK_APPLICATION}'"
        ))
    };
    let [pid, since] = <[String; 2]>::try_from(session().remove(0)).unwrap();
    let named = [
        format!("application {PG_LOCK_APPLICATION}, server process {pid}, "),
        format!(", since {since}, session open"),
    ];
    for args in [&["migrate", "--lock-timeout", "1s"][..], &["unlock"]] {
        let output = pg.run(args);
        for says in &named {
            assert_fails(&output, 4, says);
        }
    }
    // A session lock dies with its session: nothing suggests a stale one.
    let output = pg.run(&["migrate", "--lock-timeout", "1s"]);
    assert_fails(&output, 4, "it is never left behind");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("unlock"), "{stderr}");
    let output = pg.run(&["unlock"]);
    assert_fails(&output, 4, "so it is never stale");
    assert_fails(&output, 4, "godwit unlock --force");
    assert_eq!(session().len(), 1, "a refused unlock ended the session");

    let output = pg.run(&["--format", "json", "unlock", "--force"]);
    assert_code(&output, 0);
    let cleared = json(&output);
    assert_eq!(cleared["outcome"], "cleared");
    assert_eq!(cleared["holder"]["pid"].to_string(), pid);
    assert_eq!(cleared["holder"]["application"], PG_LOCK_APPLICATION);
    assert!(session().is_empty(), "the holding session is still there");
    drop(lock);
    assert_code(&pg.run(&["migrate", "--lock-timeout", "1s"]), 0);
}
