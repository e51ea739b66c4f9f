//! `push`'s and `recover`'s questions, answered on a pseudo-terminal: godwit only asks when
//! stdin and stderr are terminals, so these tests run the real binary under one (rexpect) and
//! type the answers.
#![cfg(all(unix, feature = "sqlite"))]

mod common;

use std::path::Path;

use common::{Project, assert_code, sqlite_exec, sqlite_rows};
use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};

const USERS: &str = "CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    nickname TEXT
);
";

/// How long any one answer or question may take to appear, in milliseconds; generous, as the
/// machine may be busy with other builds.
const TIMEOUT_MS: u64 = 60_000;

fn users_columns(path: &Path) -> Vec<String> {
    common::columns(path, "users")
}

/// A project whose database was pushed [`USERS`] and holds one user, and whose schema file now
/// holds `schema`.
fn project(schema: &str) -> Project {
    let project = Project::new();
    project.write("schema.sql", USERS);
    assert_code(&project.run(&["push"]), 0);
    sqlite_exec(
        &project.db(),
        "INSERT INTO users (email, nickname) VALUES ('ada@example.com', 'ada');",
    );
    project.write("schema.sql", schema);
    project
}

/// `godwit push` on a pseudo-terminal.
fn push(project: &Project) -> PtySession {
    spawn_command(project.std_command(&["push"]), Some(TIMEOUT_MS)).unwrap()
}

/// Wait for `question`, then answer it with `answer` and Enter.
#[track_caller]
fn answer(session: &mut PtySession, question: &str, answer: &str) {
    if let Err(error) = session.exp_string(question) {
        panic!("godwit did not ask `{question}`: {error}");
    }
    session.send_line(answer).unwrap();
}

/// Read everything godwit prints until it exits, and its exit code.
fn finish(mut session: PtySession) -> (String, i32) {
    let rest = session.exp_eof().unwrap();
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => (rest, code),
        other => panic!("godwit did not exit normally: {other:?}\n{rest}"),
    }
}

const RENAMED: &str = "CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    handle TEXT
);
";

#[test]
fn a_rename_confirmed_at_the_prompt_keeps_the_data() {
    let project = project(RENAMED);
    let mut session = push(&project);
    answer(
        &mut session,
        "did you rename column users.nickname to handle? [y/N]",
        "y",
    );
    answer(
        &mut session,
        "apply 1 statement to sqlite:test.db? [y/N]",
        "y",
    );
    let (out, code) = finish(session);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("applied 1 statement"), "{out}");
    assert_eq!(users_columns(&project.db()), ["id", "email", "handle"]);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT handle FROM users"),
        [["ada"]]
    );
}

#[test]
fn a_rename_denied_at_the_prompt_is_a_drop_and_an_add_that_needs_consent() {
    let project = project(RENAMED);
    let mut session = push(&project);
    answer(
        &mut session,
        "did you rename column users.nickname to handle? [y/N]",
        "n",
    );
    if let Err(error) = session.exp_string("DESTRUCTIVE: drops column users.nickname (1 row)") {
        panic!("the plan does not mark the drop: {error}");
    }
    answer(
        &mut session,
        "1 statement above destroys data (marked DESTRUCTIVE). Type yes to go on:",
        "yes",
    );
    let (out, code) = finish(session);
    assert_eq!(code, 0, "{out}");
    assert_eq!(users_columns(&project.db()), ["id", "email", "handle"]);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT handle FROM users"),
        [["NULL"]]
    );
}

#[test]
fn destroying_data_answered_no_changes_nothing_and_exits_3() {
    let project = project(&USERS.replace(",\n    nickname TEXT", ""));
    let mut session = push(&project);
    // Anything but the whole word `yes` is a no.
    answer(&mut session, "Type yes to go on:", "y");
    let (out, code) = finish(session);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("you answered no, so nothing was changed"),
        "{out}"
    );
    assert_eq!(users_columns(&project.db()), ["id", "email", "nickname"]);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT nickname FROM users"),
        [["ada"]]
    );
}

#[test]
fn destroying_data_answered_yes_applies_the_plan() {
    let project = project(&USERS.replace(",\n    nickname TEXT", ""));
    let mut session = push(&project);
    answer(&mut session, "Type yes to go on:", "yes");
    let (out, code) = finish(session);
    assert_eq!(code, 0, "{out}");
    assert_eq!(users_columns(&project.db()), ["id", "email"]);
    assert_eq!(
        sqlite_rows(&project.db(), "SELECT email FROM users"),
        [["ada@example.com"]]
    );
}

#[test]
fn a_change_without_data_loss_still_asks_to_apply_in_a_terminal() {
    let schema = USERS.replace("nickname TEXT", "nickname TEXT,\n    age INTEGER");
    let project = project(&schema);
    let mut session = push(&project);
    answer(
        &mut session,
        "apply 1 statement to sqlite:test.db? [y/N]",
        "",
    );
    let (out, code) = finish(session);
    assert_eq!(code, 3, "the default answer is no: {out}");
    assert_eq!(users_columns(&project.db()), ["id", "email", "nickname"]);

    let mut session = push(&project);
    answer(
        &mut session,
        "apply 1 statement to sqlite:test.db? [y/N]",
        "yes",
    );
    let (out, code) = finish(session);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        users_columns(&project.db()),
        ["id", "email", "nickname", "age"]
    );

    // --yes skips the question: nothing is left to answer, and the run ends by itself.
    project.write(
        "schema.sql",
        &schema.replace("age INTEGER", "age INTEGER,\n    city TEXT"),
    );
    let session = spawn_command(project.std_command(&["push", "--yes"]), Some(TIMEOUT_MS)).unwrap();
    let (out, code) = finish(session);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("[y/N]"), "{out}");
    assert_eq!(
        users_columns(&project.db()),
        ["id", "email", "nickname", "age", "city"]
    );
}

/// A project whose only migration failed in its transaction because table `audit` is missing.
fn failed_migration() -> Project {
    let project = Project::new();
    project.migration(
        1,
        "needs_audit",
        "CREATE TABLE IF NOT EXISTS a (id INTEGER);\nINSERT INTO audit VALUES (1);\n",
        None,
    );
    assert_code(&project.run(&["migrate"]), 1);
    project
}

fn history_status(project: &Project) -> String {
    sqlite_rows(
        &project.db(),
        "SELECT status FROM godwit_migrations WHERE version = 1",
    )[0][0]
        .clone()
}

#[test]
fn recover_offers_the_actions_that_fit_and_carries_out_the_one_picked() {
    let project = failed_migration();
    sqlite_exec(&project.db(), "CREATE TABLE audit (id INTEGER);");
    let mut session = spawn_command(project.std_command(&["recover"]), Some(TIMEOUT_MS)).unwrap();
    // A transactional failure: retry, mark rolled back, mark applied; no down script to run.
    session
        .exp_string("1) run the up script again from its first statement")
        .unwrap();
    session.exp_string("3) record it applied").unwrap();
    answer(&mut session, "What now? [1-3, or Enter for nothing]", "1");
    let (rest, code) = finish(session);
    assert_eq!(code, 0, "{rest}");
    assert!(
        rest.contains("migration 1 (needs_audit) is now applied"),
        "{rest}"
    );
    assert_eq!(history_status(&project), "applied");
}

#[test]
fn recover_changes_nothing_when_the_answer_is_empty() {
    let project = failed_migration();
    let mut session = spawn_command(project.std_command(&["recover"]), Some(TIMEOUT_MS)).unwrap();
    answer(&mut session, "What now? [1-3, or Enter for nothing]", "");
    let (rest, code) = finish(session);
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("nothing changed"), "{rest}");
    assert_eq!(history_status(&project), "failed");
}
