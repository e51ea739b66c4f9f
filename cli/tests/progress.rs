//! The live line of a run on a terminal: `migrate` under a pseudo-terminal (rexpect) shows which
//! migration of how many runs, and which statement, once it has run for a second; `--format
//! json` shows none.
#![cfg(all(unix, feature = "sqlite"))]

mod common;

use common::{Project, SLOW};
use rexpect::process::WaitStatus;
use rexpect::session::spawn_command;

/// How long anything may take to appear, in milliseconds; generous, as the machine may be
/// busy with other builds.
const TIMEOUT_MS: u64 = 60_000;

/// A project with a quick migration, then one whose second statement is slow.
fn project() -> Project {
    let project = Project::new();
    project.migration(
        1,
        "quick",
        "CREATE TABLE IF NOT EXISTS quick (id INTEGER);",
        None,
    );
    project.migration(
        2,
        "slow",
        &format!("CREATE TABLE IF NOT EXISTS first (id INTEGER);\n{SLOW}"),
        None,
    );
    project
}

/// Run `godwit args` on a pseudo-terminal to its end; what it printed, and its exit code.
fn on_a_terminal(project: &Project, args: &[&str], expected: &[&str]) -> (String, i32) {
    let mut session = spawn_command(project.std_command(args), Some(TIMEOUT_MS)).unwrap();
    for text in expected {
        if let Err(error) = session.exp_string(text) {
            panic!("godwit did not print `{text}`: {error}");
        }
    }
    let rest = session.exp_eof().unwrap();
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => (rest, code),
        other => panic!("godwit did not exit normally: {other:?}\n{rest}"),
    }
}

#[test]
fn a_slow_statement_gets_a_live_line_naming_it() {
    let project = project();
    let (rest, code) = on_a_terminal(
        &project,
        &["migrate", "--no-lint"],
        &[
            "applying 1 quick ... ",
            // The live line, with the time the statement has run.
            "[1s] migration 2 of 2: applying 2 slow - statement 2, line 2: CREATE TABLE",
            // Cleared, and the migration's line in its place.
            "applying 2 slow ... ",
        ],
    );
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("2 migrations applied"), "{rest}");
}

#[test]
fn json_gets_no_live_line() {
    let project = project();
    let (rest, code) = on_a_terminal(&project, &["--format", "json", "migrate", "--no-lint"], &[]);
    assert_eq!(code, 0, "{rest}");
    assert!(!rest.contains("migration 2 of 2"), "{rest}");
    let document: serde_json::Value = serde_json::from_str(&rest).unwrap();
    assert_eq!(document["applied"][1]["name"], "slow");
}

/// A project whose second migration is a backfill of 300 rows in batches of 100.
fn backfill_project() -> Project {
    let project = Project::new();
    project.migration(
        1,
        "items",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0);\n\
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)\n\
         INSERT INTO items (id) SELECT x FROM c;",
        None,
    );
    project.write(
        "migrations/2_count.toml",
        "[[op]]\nkind = \"backfill\"\ntable = \"items\"\nset = { n = \"n + 1\" }\nbatch_size = 100\n",
    );
    project
}

/// `--batch-size` and `--pause` override the file's values: 30 batches of 10 rows, 50 ms apart,
/// run for over a second, so the live line shows, as a bar counting the backfill's rows.
#[test]
fn a_backfill_on_a_terminal_shows_its_rows_as_a_bar() {
    let project = backfill_project();
    let (rest, code) = on_a_terminal(
        &project,
        &["migrate", "--batch-size", "10", "--pause", "50ms"],
        &[
            "migration 2 of 2: applying 2 count",
            "- backfill items [",
            "/300 rows (",
        ],
    );
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("2 migrations applied"), "{rest}");
}

/// Off a terminal, `-v` names the backfill's batches when it ends; the overrides hold.
#[test]
fn a_verbose_run_counts_the_batches_of_a_backfill() {
    let project = backfill_project();
    let output = project.run(&["-v", "migrate", "--batch-size", "30"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("backfilled items: 300 rows in 10 batches this run"),
        "{stdout}"
    );
}
