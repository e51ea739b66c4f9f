//! Every command end to end on SQLite files in temporary directories.
#![cfg(feature = "sqlite")]

mod common;

use std::process::Stdio;

use common::{
    Project, SLOW, assert_code, assert_fails, assert_prints, dead_owner, live_owner, stderr, stdout,
};
use serde_json::Value;

// `IF NOT EXISTS` keeps the lint quiet, so a successful `migrate` prints nothing on stderr.
const USERS_UP: &str =
    "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);";
const USERS_DOWN: &str = "DROP TABLE users;";
const POSTS_UP: &str =
    "CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, user_id INTEGER);";
const POSTS_DOWN: &str = "DROP TABLE posts;";

/// A project with two migrations, 1 and 2, each with a down script.
fn two_migrations() -> Project {
    let project = Project::new();
    project.migration(1, "create_users", USERS_UP, Some(USERS_DOWN));
    project.migration(2, "create_posts", POSTS_UP, Some(POSTS_DOWN));
    project
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error} in stdout:\n{}", stdout(output)))
}

/// The state of each migration, as `status --format json` reports it.
fn states(project: &Project) -> Vec<(i64, String)> {
    let output = project.run(&["status", "--format", "json"]);
    assert_code(&output, 0);
    common::states(&output)
}

fn state_list(pairs: &[(i64, &str)]) -> Vec<(i64, String)> {
    pairs.iter().map(|&(v, s)| (v, s.to_string())).collect()
}

#[test]
fn init_writes_a_working_config_and_never_overwrites_it() {
    let project = Project::empty();
    let output = project.run(&["init"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("created godwit.toml"),
        "{}",
        stdout(&output)
    );
    // The url is set already: the next step is a migration, not the url.
    assert!(
        stdout(&output).contains("next: run `godwit new NAME`")
            && !stdout(&output).contains("set `url`"),
        "{}",
        stdout(&output)
    );
    assert!(project.path().join("migrations").is_dir());
    let written = std::fs::read_to_string(project.path().join("godwit.toml")).unwrap();
    for key in [
        "url",
        "migrations",
        "history_table",
        "schema",
        "lock_timeout",
        "application_name",
        "schema_file",
        "dev_url",
        "disabled",
        "backup",
        "backup_dir",
    ] {
        assert!(
            written.contains(&format!("{key} = ")),
            "{key} is not documented:\n{written}"
        );
    }
    assert!(
        written.contains("postgres://"),
        "no PostgreSQL example:\n{written}"
    );

    // The written file is one godwit reads: its URL is the default SQLite file.
    assert_code(&project.run(&["new", "create users"]), 0);
    assert_code(&project.run(&["migrate"]), 0);
    assert!(project.path().join("godwit.db").exists());

    std::fs::write(project.path().join("godwit.toml"), "# mine\n").unwrap();
    let output = project.run(&["init"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("godwit.toml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn init_honours_config_and_reports_json() {
    let project = Project::empty();
    std::fs::create_dir(project.path().join("db")).unwrap();
    let output = project.run(&["--config", "db/godwit.toml", "--format", "json", "init"]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["config"], "db/godwit.toml");
    assert_eq!(value["migrations"], "db/migrations");
    assert!(project.path().join("db/migrations").is_dir());
}

#[test]
fn new_creates_up_and_down_files_with_increasing_versions() {
    let project = Project::new();
    let output = project.run(&["new", "Create Users!"]);
    assert_code(&output, 0);
    let mut files: Vec<String> = std::fs::read_dir(project.path().join("migrations"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let version = files[0].split('_').next().unwrap().to_string();
    assert_eq!(
        version.len(),
        14,
        "version is not YYYYMMDDHHMMSS: {version}"
    );
    assert!(version.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(files[0], format!("{version}_create_users.down.sql"));
    assert_eq!(files[1], format!("{version}_create_users.up.sql"));
    assert!(stdout(&output).contains(&files[1]), "{}", stdout(&output));
    let up = std::fs::read_to_string(project.path().join("migrations").join(&files[1])).unwrap();
    assert!(up.starts_with("-- "), "{up}");

    // A second one in the same second still sorts after the first; --no-down skips the down.
    let output = project.run(&["new", "add posts", "--no-down", "--format", "json"]);
    assert_code(&output, 0);
    let created = json(&output);
    let second = created["version"].as_i64().unwrap();
    assert!(second > version.parse::<i64>().unwrap());
    assert!(created["down"].is_null());
    let up = created["up"].as_str().unwrap();
    assert!(up.ends_with(&format!("{second}_add_posts.up.sql")), "{up}");
    assert!(project.path().join(up).exists());
    assert!(!project.path().join(up.replace(".up.", ".down.")).exists());

    // Commented templates are valid migrations.
    assert_code(&project.run(&["migrate"]), 0);
}

#[test]
fn new_rejects_a_name_without_letters() {
    let project = Project::new();
    let output = project.run(&["new", "--", "--- !"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("cannot name a migration"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn migrate_status_and_rollback() {
    let project = two_migrations();
    assert_eq!(
        states(&project),
        state_list(&[(1, "pending"), (2, "pending")])
    );

    let output = project.run(&["migrate"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("applying 1 create_users ... ok ("), "{text}");
    assert!(text.contains("applying 2 create_posts ... ok ("), "{text}");
    assert!(text.ends_with("2 migrations applied\n"), "{text}");
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));

    let output = project.run(&["up"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "database is up to date\n");

    let output = project.run(&["status"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("VERSION"), "{text}");
    assert!(text.contains("create_posts"), "{text}");
    assert!(text.contains("2 migrations: 2 applied"), "{text}");

    let output = project.run(&["rollback"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(
        text.contains("rolling back 2 create_posts ... ok ("),
        "{text}"
    );
    assert!(text.ends_with("1 migration rolled back\n"), "{text}");
    assert_eq!(
        states(&project),
        state_list(&[(1, "applied"), (2, "rolled_back")])
    );
    assert!(!Project::tables(&project.db()).contains(&"posts".to_string()));

    assert_code(&project.run(&["migrate", "--to", "2"]), 0);
    let output = project.run(&["down", "--to", "0"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).ends_with("2 migrations rolled back\n"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        states(&project),
        state_list(&[(1, "rolled_back"), (2, "rolled_back")])
    );

    let output = project.run(&["rollback"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "nothing to roll back\n");

    assert_code(&project.run(&["migrate", "--to", "1"]), 0);
    assert_eq!(
        states(&project),
        state_list(&[(1, "applied"), (2, "rolled_back")])
    );
    assert_code(&project.run(&["migrate"]), 0);
    let output = project.run(&["rollback", "--steps", "2", "--to", "1"]);
    assert_code(&output, 2);
}

#[test]
fn quiet_prints_nothing_on_success() {
    let project = two_migrations();
    let output = project.run(&["-q", "migrate"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
}

#[test]
fn dry_runs_change_nothing() {
    let project = two_migrations();
    let output = project.run(&["migrate", "--dry-run"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(
        text.contains("2 migrations would be applied to sqlite:test.db"),
        "{text}"
    );
    assert!(text.contains(USERS_UP) && text.contains(POSTS_UP), "{text}");
    // A database that does not exist yet reads as empty, and is not created.
    assert!(!project.db().exists());
    let output = project.run(&["status"]);
    assert_code(&output, 0);
    assert!(!project.db().exists());
    // Commands that read a database name a missing file instead of inventing one.
    let output = project.run(&["--url", "sqlite:tset.db", "inspect"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("there is no SQLite database at tset.db"),
        "{}",
        stderr(&output)
    );
    assert!(!project.path().join("tset.db").exists());

    let output = project.run(&["migrate", "--dry-run", "--format", "json"]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["dry_run"], true);
    assert_eq!(value["pending"][1]["version"], 2);
    assert_eq!(value["pending"][1]["sql"], POSTS_UP);
    assert_eq!(Project::tables(&project.db()), Vec::<String>::new());

    assert_code(&project.run(&["migrate"]), 0);
    let tables = Project::tables(&project.db());
    let output = project.run(&["rollback", "--steps", "2", "--dry-run"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("2 migrations would be rolled back"), "{text}");
    assert!(
        text.contains(USERS_DOWN) && text.contains(POSTS_DOWN),
        "{text}"
    );
    assert!(
        text.find(POSTS_DOWN) < text.find(USERS_DOWN),
        "newest first:\n{text}"
    );
    assert_eq!(Project::tables(&project.db()), tables);
    assert_eq!(
        states(&project),
        state_list(&[(1, "applied"), (2, "applied")])
    );
}

#[test]
fn json_output_of_status_and_migrate() {
    let project = two_migrations();
    let output = project.run(&["status", "--format", "json"]);
    assert_code(&output, 0);
    let value = json(&output);
    let first = &value["migrations"][0];
    assert_eq!(first["version"], 1);
    assert_eq!(first["name"], "create_users");
    assert_eq!(first["state"], "pending");
    assert_eq!(first["has_down"], true);
    for key in ["started_at", "finished_at", "duration_ms", "error"] {
        assert!(
            first[key].is_null(),
            "{key} of a pending migration: {first}"
        );
    }

    let output = project.run(&["migrate", "--format", "json"]);
    assert_code(&output, 0);
    let value = json(&output);
    let applied = value["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[0]["version"], 1);
    assert_eq!(applied[0]["name"], "create_users");
    assert!(applied[0]["duration_ms"].is_u64());
    assert_eq!(value["warnings"], Value::Array(Vec::new()));

    let output = project.run(&["status", "--format", "json"]);
    let second = &json(&output)["migrations"][1];
    assert_eq!(second["state"], "applied");
    assert!(second["started_at"].is_string());
    assert!(second["finished_at"].is_string());
    assert!(second["duration_ms"].is_i64());

    let output = project.run(&["rollback", "--format", "json"]);
    assert_code(&output, 0);
    assert_eq!(json(&output)["rolled_back"][0]["version"], 2);
}

/// Keys whose values differ from run to run: clock times, durations, and which process on
/// which machine ran or locked something.
const VARYING: &[&str] = &[
    "started_at",
    "finished_at",
    "duration_ms",
    "applied_by",
    "since",
    "pid",
    "host",
];

/// `value` with the value of every [`VARYING`] key replaced by `"[varies]"`. A `null` stays, so
/// a snapshot still shows which times are missing (a pending migration has none).
fn redacted(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    if VARYING.contains(&key.as_str()) && !field.is_null() {
                        *field = Value::from("[varies]");
                    } else {
                        walk(field);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

/// The JSON `godwit --format json args` prints, with what varies redacted, after checking the
/// exit code.
fn json_document(project: &Project, args: &[&str], code: i32) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let output = project.run(&all);
    assert_code(&output, code);
    redacted(json(&output))
}

/// The shapes of the JSON documents scripts read, snapshotted: renaming or dropping a key fails
/// here. One history holds applied, failed and pending migrations, then a retried one.
#[test]
fn json_documents_keep_their_keys() {
    let project = Project::new();
    project.migration(1, "create_users", USERS_UP, Some(USERS_DOWN));
    // A foreign key no index leads with: a lint warning, so the dry run shows a finding.
    project.migration(
        2,
        "create_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users);",
        Some(POSTS_DOWN),
    );
    insta::assert_json_snapshot!(
        "json_migrate_dry_run",
        json_document(&project, &["migrate", "--dry-run"], 0)
    );

    project.migration(
        3,
        "broken",
        "CREATE TABLE IF NOT EXISTS t (id INTEGER);\nSELEC 1;",
        Some("DROP TABLE t;"),
    );
    // The lint would stop the typo before it reaches the database.
    insta::assert_json_snapshot!(
        "json_migrate_failed",
        json_document(&project, &["migrate", "--no-lint"], 1)
    );
    project.migration(
        4,
        "create_tags",
        "CREATE TABLE IF NOT EXISTS tags (id INTEGER);",
        Some("DROP TABLE tags;"),
    );
    insta::assert_json_snapshot!("json_status", json_document(&project, &["status"], 0));

    // A fixed file is retried, with a warning.
    project.write(
        "migrations/3_broken.up.sql",
        "CREATE TABLE IF NOT EXISTS t (id INTEGER);",
    );
    insta::assert_json_snapshot!("json_migrate", json_document(&project, &["migrate"], 0));
    insta::assert_json_snapshot!(
        "json_rollback_dry_run",
        json_document(&project, &["rollback", "--steps", "2", "--dry-run"], 0)
    );
    insta::assert_json_snapshot!(
        "json_repair",
        json_document(&project, &["repair", "--mark-rolled-back", "4"], 0)
    );

    insta::assert_json_snapshot!(
        "json_unlock_not_locked",
        json_document(&project, &["unlock"], 0)
    );
    let _lock = project.hold_lock(dead_owner());
    insta::assert_json_snapshot!(
        "json_unlock_cleared",
        json_document(&project, &["unlock"], 0)
    );
}

/// The shapes of the documents of failures: `ok` false, the exit code, the error (its kind,
/// message, causes and facts), and the fields the command's own document has, snapshotted.
#[test]
fn json_failures_keep_their_keys() {
    let project = Project::new();
    project.migration(1, "create_users", USERS_UP, Some(USERS_DOWN));
    project.migration(2, "drop_users", "DROP TABLE users;", None);
    insta::assert_json_snapshot!(
        "json_migrate_lint_refused",
        json_document(&project, &["migrate"], 3)
    );
    insta::assert_json_snapshot!(
        "json_status_not_up_to_date",
        json_document(&project, &["status", "--exit-code"], 5)
    );
    std::fs::remove_file(project.path().join("migrations/2_drop_users.up.sql")).unwrap();

    project.write(
        "schema.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);",
    );
    assert_code(&project.run(&["push"]), 0);
    project.write("schema.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);");
    insta::assert_json_snapshot!("json_push_data_loss", json_document(&project, &["push"], 3));

    let lock = project.hold_lock(live_owner());
    let mut document = json_document(&project, &["migrate", "--lock-timeout", "1s"], 4);
    drop(lock);
    // The holder's pid, host and start are in its description too.
    document["error"]["causes"] = Value::from("[varies]");
    insta::assert_json_snapshot!("json_lock_busy", document);

    project.write(
        "godwit.toml",
        "url = \"sqlite:test.db\"\nlock_timeout = 5\n",
    );
    insta::assert_json_snapshot!(
        "json_config_invalid",
        json_document(&project, &["status"], 2)
    );
}

/// The human `status` says what happened when to a rolled back migration: when it last ran and
/// for how long, then when it was rolled back, rather than the rollback's time beside the run's
/// duration.
#[test]
fn status_tells_when_a_rolled_back_migration_ran_and_was_rolled_back() {
    let project = two_migrations();
    assert_code(&project.run(&["migrate"]), 0);
    assert_code(&project.run(&["rollback"]), 0);
    let history = common::sqlite_rows(
        &project.db(),
        "SELECT started_at, finished_at, duration_ms FROM godwit_migrations WHERE version = 2",
    );
    let [started, finished, took] = <[String; 3]>::try_from(history[0].clone()).unwrap();
    let output = project.run(&["status"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let row = lines
        .iter()
        .position(|line| line.starts_with("2 "))
        .unwrap();
    // No time in the row: the note says which is which.
    assert_eq!(
        lines[row].split_whitespace().collect::<Vec<_>>(),
        ["2", "create_posts", "rolled", "back"],
        "{text}"
    );
    let time = |at: &str| at[..19].replacen('T', " ", 1);
    assert_eq!(
        lines[row + 1],
        format!(
            "    ran {} for {took} ms, rolled back {}",
            time(&started),
            time(&finished)
        ),
        "{text}"
    );
}

/// `-v` names each statement as it starts, under its migration; without a terminal, nothing
/// is redrawn, however long a statement runs.
#[test]
fn verbose_names_each_statement_and_nothing_is_redrawn_without_a_terminal() {
    let project = Project::new();
    project.migration(
        1,
        "slow",
        &format!("CREATE TABLE IF NOT EXISTS quick (id INTEGER);\n{SLOW}"),
        None,
    );
    project.migration(2, "create_users", USERS_UP, None);
    let output = project.run(&["-v", "migrate", "--no-lint"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "applying 1 slow ...", "{text}");
    assert_eq!(
        lines[1],
        "  statement 1, line 1: CREATE TABLE IF NOT EXISTS quick (id INTEGER)"
    );
    assert!(
        lines[2].starts_with("  statement 2, line 2: CREATE TABLE IF NOT EXISTS slow AS WITH"),
        "{text}"
    );
    assert!(lines[3].starts_with("  ok ("), "{text}");
    assert_eq!(lines[4], "applying 2 create_users ...", "{text}");
    assert_eq!(
        lines[5],
        "  statement 1, line 1: CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email \
         TEXT NOT NULL)"
    );
    assert!(lines[6].starts_with("  ok ("), "{text}");
    assert_eq!(lines[7..], ["2 migrations applied"], "{text}");
    assert!(!text.contains(['\r', '\x1b']), "{text:?}");
}

/// A pending migration older than the newest applied one is refused, naming both versions,
/// until `--allow-out-of-order` says it is meant.
#[test]
fn an_out_of_order_migration_is_refused_until_allowed() {
    let project = Project::new();
    project.migration(1, "create_users", USERS_UP, Some(USERS_DOWN));
    project.migration(3, "create_posts", POSTS_UP, Some(POSTS_DOWN));
    assert_code(&project.run(&["migrate"]), 0);
    // Merged from a branch that was written before 3.
    project.migration(
        2,
        "create_tags",
        "CREATE TABLE IF NOT EXISTS tags (id INTEGER);",
        None,
    );

    let refusal = "1 pending migration is older than the newest applied migration 3: 2; apply it anyway with `--allow-out-of-order`";
    for args in [&["migrate"][..], &["migrate", "--dry-run"]] {
        assert_fails(&project.run(args), 3, refusal);
    }
    assert_eq!(
        states(&project),
        state_list(&[(1, "applied"), (2, "out_of_order"), (3, "applied")])
    );
    assert!(!Project::tables(&project.db()).contains(&"tags".to_string()));

    assert_prints(
        &project.run(&["migrate", "--allow-out-of-order"]),
        0,
        "applying 2 create_tags ... ok (",
    );
    assert_eq!(
        states(&project),
        state_list(&[(1, "applied"), (2, "applied"), (3, "applied")])
    );
    assert!(Project::tables(&project.db()).contains(&"tags".to_string()));
}

#[test]
fn a_failed_migration_is_reported_and_blocks_the_next_run() {
    let project = Project::new();
    project.migration(1, "create_users", USERS_UP, Some(USERS_DOWN));
    project.migration(2, "broken", "CREATE TABLE t (id INTEGER);\nSELEC 1;", None);

    // The lint would stop the typo before it reaches the database; this is about the database.
    let output = project.run(&["migrate", "--no-lint", "--format", "json"]);
    assert_code(&output, 1);
    // A script reads what this run applied before the failure, and the failure.
    let document = json(&output);
    // `applied` has the shape of a successful run's, so a script reads both alike.
    assert_eq!(document["applied"][0]["version"], 1);
    assert_eq!(document["applied"][0]["name"], "create_users");
    assert!(document["applied"][0]["duration_ms"].is_u64(), "{document}");
    assert_eq!(document["ok"], false);
    assert_eq!(document["exit_code"], 1);
    let failed = &document["error"];
    assert_eq!(failed["kind"], "migration_failed");
    assert_eq!(failed["version"], 2);
    assert_eq!(failed["transactional"], true);
    assert_eq!(failed["line"], 2);
    assert_eq!(failed["statement"], "SELEC 1;");
    let error = stderr(&output);
    assert!(
        error.starts_with("error: migration 2 (broken) failed"),
        "{error}"
    );
    assert!(error.contains("applied before the failure: 1"), "{error}");

    let output = project.run(&["status"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("1 applied, 1 failed"), "{text}");
    // The error is under the failed migration's row.
    let row = text
        .lines()
        .position(|line| line.starts_with("2 "))
        .unwrap();
    assert_eq!(
        text.lines().nth(row + 1),
        Some("    error: near \"SELEC\": syntax error"),
        "{text}"
    );

    let output = project.run(&["migrate"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("run `godwit recover` to see what it left behind"),
        "{}",
        stderr(&output)
    );

    // Fixing the file retries it, with a warning.
    project.write("migrations/2_broken.up.sql", "CREATE TABLE t (id INTEGER);");
    let output = project.run(&["migrate"]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("warning: migration 2 (broken) failed before"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).ends_with("1 migration applied\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_failure_ends_the_progress_line() {
    let project = Project::new();
    project.migration(1, "broken", "SELEC 1;", None);
    let output = project.run(&["migrate", "--no-lint"]);
    assert_code(&output, 1);
    assert_eq!(stdout(&output), "applying 1 broken ... failed\n");
}

/// Rollback runs the down script recorded when the migration ran. A down file fixed since is
/// named in a warning, and runs once `repair --accept-checksum` records it.
#[test]
fn a_fixed_down_file_runs_once_it_is_accepted() {
    let project = Project::new();
    project.write(
        "migrations/1_add_notes.up.sql",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
    );
    project.write("migrations/1_add_notes.down.sql", "DROP TABLE note;");
    assert_code(&project.run(&["migrate"]), 0);
    assert_code(&project.run(&["rollback"]), 1);

    project.write("migrations/1_add_notes.down.sql", "DROP TABLE notes;");
    let output = project.run(&["rollback"]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains(
            "the down file of migration 1 changed since it was applied; the down script recorded then runs"
        ),
        "{}",
        stderr(&output)
    );
    assert_code(&project.run(&["repair", "--accept-checksum", "1"]), 0);
    assert_code(&project.run(&["rollback"]), 0);
    assert!(!Project::tables(&project.db()).contains(&"notes".to_string()));
    assert_eq!(states(&project), state_list(&[(1, "rolled_back")]));
}

#[test]
fn repair_accepts_checksums_and_marks_states() {
    let project = two_migrations();
    assert_code(&project.run(&["migrate"]), 0);
    project.write(
        "migrations/1_create_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);",
    );
    assert_eq!(
        states(&project),
        state_list(&[(1, "modified"), (2, "applied")])
    );
    assert_code(&project.run(&["migrate"]), 3);

    let output = project.run(&["repair", "--accept-checksum", "1"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).starts_with("accepted the current file of migration 1 (create_users)"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        states(&project),
        state_list(&[(1, "applied"), (2, "applied")])
    );
    assert_code(&project.run(&["migrate"]), 0);

    let output = project.run(&["repair", "--mark-rolled-back", "2"]);
    assert_code(&output, 0);
    assert_eq!(
        stdout(&output),
        "recorded migration 2 (create_posts) as rolled back; no SQL was run\n"
    );
    assert_eq!(
        states(&project),
        state_list(&[(1, "applied"), (2, "rolled_back")])
    );
    // No SQL ran: the table is still there.
    assert!(Project::tables(&project.db()).contains(&"posts".to_string()));

    let output = project.run(&["repair", "--mark-applied", "2", "--format", "json"]);
    assert_code(&output, 0);
    let value = json(&output);
    assert_eq!(value["action"], "mark_applied");
    assert_eq!(value["migration"]["version"], 2);
    assert_eq!(value["migration"]["status"], "applied");

    // Asking for the state it is already in is refused, and changes nothing.
    let output = project.run(&["repair", "--mark-applied", "2"]);
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("already applied"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unlock_clears_stale_locks_and_leaves_live_ones() {
    let project = two_migrations();
    let output = project.run(&["unlock"]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output), "no lock held\n");

    {
        let _lock = project.hold_lock(dead_owner());
        let output = project.run(&["unlock"]);
        assert_code(&output, 0);
        let text = stdout(&output);
        assert!(
            text.starts_with("cleared lock held by application godwit tests (exited)"),
            "{text}"
        );
        assert!(text.contains("process no longer running"), "{text}");
    }

    {
        let _lock = project.hold_lock(live_owner());
        let output = project.run(&["unlock"]);
        assert_code(&output, 4);
        assert!(
            stderr(&output).contains("process running"),
            "{}",
            stderr(&output)
        );
        let output = project.run(&["unlock", "--force", "--format", "json"]);
        assert_code(&output, 0);
        let value = json(&output);
        assert_eq!(value["outcome"], "cleared");
        assert_eq!(value["holder"]["pid"], i64::from(std::process::id()));
        // The lock is free again for a normal run.
        assert_code(&project.run(&["migrate", "--lock-timeout", "1s"]), 0);
    }
}

#[test]
fn url_precedence_is_flag_then_environment_then_config() {
    let project = two_migrations();
    let run = |args: &[&str], env: Option<&str>| {
        let mut command = project.godwit(args);
        if let Some(url) = env {
            command.env("DATABASE_URL", url);
        }
        command.output().unwrap()
    };

    assert_code(&run(&["migrate"], Some("sqlite:env.db")), 0);
    assert!(project.path().join("env.db").exists());
    assert!(
        !project.db().exists(),
        "the config's database was used over DATABASE_URL"
    );

    assert_code(
        &run(
            &["--url", "sqlite:flag.db", "migrate"],
            Some("sqlite:env.db"),
        ),
        0,
    );
    assert!(project.path().join("flag.db").exists());
    assert!(!project.db().exists());

    assert_code(&run(&["migrate"], None), 0);
    assert!(project.db().exists());

    // Without any of them, the error says where a URL can come from.
    project.write("godwit.toml", "");
    let output = run(&["status"], None);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("pass --url, set DATABASE_URL"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn migrations_directory_and_sqlite_file_are_relative_to_the_config_file() {
    let project = Project::empty();
    std::fs::create_dir_all(project.path().join("conf/sql")).unwrap();
    project.write(
        "conf/godwit.toml",
        "url = \"sqlite:test.db\"\nmigrations = \"sql\"\n",
    );
    project.write("conf/sql/1_create_users.up.sql", USERS_UP);
    let output = project.run(&["--config", "conf/godwit.toml", "migrate"]);
    assert_code(&output, 0);
    let db = project.path().join("conf/test.db");
    assert!(Project::tables(&db).contains(&"users".to_string()));
    assert!(
        !project.db().exists(),
        "the working directory's test.db must not be used"
    );

    let output = project.run(&["--url", "sqlite:other.db", "status"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("migrations directory migrations does not exist"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let project = two_migrations();
    assert_code(&project.run(&["migrate"]), 0);
    let mut child = project
        .std_command(&["status"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end before godwit writes, as `godwit status | head -0` would.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_code(&output, 0);
    assert_eq!(stderr(&output), "");
}

#[cfg(feature = "postgres")]
#[test]
fn passwords_are_never_printed() {
    let project = Project::new();
    let url = "postgres://user:hunter2@127.0.0.1:1/db";
    for args in [
        vec!["--url", url, "migrate"],
        vec!["-vvv", "--url", url, "status"],
    ] {
        let output = project.run(&args);
        assert_code(&output, 1);
        let error = stderr(&output);
        assert!(!error.contains("hunter2"), "{error}");
        assert!(!stdout(&output).contains("hunter2"));
        assert!(
            error.contains(
                "cannot open the database at postgres://user:***@127.0.0.1:1/db (from --url)"
            ),
            "{error}"
        );
    }
}

#[test]
fn an_operations_file_from_new_ops_is_rendered_applied_and_rolled_back() {
    let project = Project::new();
    project.migration(1, "create_users", USERS_UP, Some(USERS_DOWN));
    let output = project.run(&["new", "add avatar", "--ops", "--format", "json"]);
    assert_code(&output, 0);
    let created = json(&output);
    assert!(created["down"].is_null());
    let file = project.path().join(created["up"].as_str().unwrap());
    assert!(file.to_str().unwrap().ends_with("_add_avatar.toml"));
    // The template explains every kind of operation, all commented out: as written it is an
    // operations file that does nothing.
    let template = std::fs::read_to_string(&file).unwrap();
    for kind in [
        "add_column",
        "drop_column",
        "create_index",
        "rename_enum_value",
        "sql",
    ] {
        assert!(template.contains(&format!("kind = \"{kind}\"")), "{kind}");
    }
    assert_code(&project.run(&["migrate", "--to", "1"]), 0);
    std::fs::write(
        &file,
        format!(
            "{template}\n[[op]]\nkind = \"add_column\"\ntable = \"users\"\n\
             column = {{ name = \"avatar_url\", type = \"TEXT\", default = \"''\" }}\n"
        ),
    )
    .unwrap();

    // The dry run shows the SQL the operations render to, and changes nothing.
    let output = project.run(&["migrate", "--dry-run"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("ALTER TABLE \"users\" ADD COLUMN \"avatar_url\" TEXT"),
        "{}",
        stdout(&output)
    );
    let pending = states(&project);
    assert_eq!(pending[1].1, "pending", "{pending:?}");

    assert_code(&project.run(&["migrate"]), 0);
    assert_eq!(states(&project)[1].1, "applied");
    // The file is not needed to roll back: the reverse was recorded.
    std::fs::remove_file(&file).unwrap();
    assert_code(&project.run(&["rollback", "--steps", "1"]), 0);
    assert_eq!(states(&project)[1].1, "rolled_back");
}
