//! The README's commands, run as written: a quickstart that does not work is the first thing a
//! new user meets, so the shell blocks and the bundled example project are tested like code.
#![cfg(feature = "sqlite")]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Project, assert_code, sqlite_rows, stderr, stdout};

/// The first ```sh block after the README heading `heading`.
fn shell_block(heading: &str) -> String {
    let readme = include_str!("../../README.md");
    let section = readme
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no heading `{heading}`"))
        .1;
    let block = section
        .split_once("```sh\n")
        .unwrap_or_else(|| panic!("no sh block under `{heading}`"))
        .1;
    block
        .split_once("```")
        .expect("an unterminated block")
        .0
        .to_string()
}

/// Run `script` with bash in `dir`, with the `godwit` under test first on PATH; stop at the
/// first failing command.
fn bash(dir: &Path, script: &str) -> std::process::Output {
    let godwit = Path::new(env!("CARGO_BIN_EXE_godwit"));
    let path = std::env::join_paths(
        std::iter::once(godwit.parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let output = Command::new("bash")
        .args(["-e", "-u", "-o", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run bash");
    assert!(
        output.status.success(),
        "the README's commands failed:\n{script}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn the_readme_quickstart_and_declarative_example_run_as_written() {
    let dir = Project::empty();
    let output = bash(dir.path(), &shell_block("## Quickstart (SQLite)"));
    let out = stdout(&output);
    assert!(out.contains("create_users"), "{out}");
    // A new user's first migration gets no lint warning to learn to ignore.
    assert_eq!(stderr(&output), "");
    let db = dir.path().join("demo/godwit.db");
    // The quickstart ends with a rollback of its only migration.
    let status = sqlite_rows(&db, "SELECT status FROM godwit_migrations ORDER BY version");
    assert_eq!(status, [["rolled_back"]]);

    // The declarative example continues in the same project.
    let output = bash(
        &dir.path().join("demo"),
        &shell_block("## Declarative schemas"),
    );
    assert!(
        stdout(&output).contains("CREATE TABLE"),
        "{}",
        stdout(&output)
    );
    let columns = sqlite_rows(
        &db,
        "SELECT name FROM pragma_table_info('users') ORDER BY cid",
    );
    assert_eq!(columns, [["id"], ["email"], ["nickname"]]);
}

/// `examples/quickstart` is what "the two commands" in the README run: its config's paths are
/// relative to the config file, so it works from any directory.
#[test]
fn the_example_project_migrates_and_rolls_back_from_another_directory() {
    let project = Project::empty();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart");
    std::fs::create_dir(project.path().join("quickstart")).unwrap();
    std::fs::copy(
        example.join("godwit.toml"),
        project.path().join("quickstart/godwit.toml"),
    )
    .unwrap();
    std::fs::create_dir(project.path().join("quickstart/migrations")).unwrap();
    for entry in std::fs::read_dir(example.join("migrations")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            project
                .path()
                .join("quickstart/migrations")
                .join(entry.file_name()),
        )
        .unwrap();
    }
    let config = ["--config", "quickstart/godwit.toml"];
    let run = |command: &[&str]| project.run(&[&config[..], command].concat());

    let output = run(&["migrate"]);
    assert_code(&output, 0);
    // The example needs no lint rule turned off to migrate without a warning.
    assert_eq!(stderr(&output), "");
    assert_eq!(
        stdout(&output).matches("applying").count(),
        3,
        "{}",
        stdout(&output)
    );
    let db = project.path().join("quickstart/quickstart.db");
    assert_eq!(
        sqlite_rows(
            &db,
            "SELECT count(*) FROM godwit_migrations WHERE status = 'applied'"
        ),
        [["3"]]
    );
    let output = run(&["migrate"]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("up to date"),
        "{}",
        stdout(&output)
    );
    assert_code(&run(&["status"]), 0);
    assert_code(&run(&["rollback"]), 0);
    assert_eq!(
        sqlite_rows(
            &db,
            "SELECT count(*) FROM godwit_migrations WHERE status = 'applied'"
        ),
        [["2"]]
    );
}
