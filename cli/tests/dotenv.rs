//! `.env` in the working directory and `${VAR}` in godwit.toml, through the binary.

mod common;

use common::Project;

/// A project whose godwit.toml is `config`, with one migration creating `t`.
fn with_config(config: &str) -> Project {
    let project = Project::empty();
    project.write("godwit.toml", config);
    std::fs::create_dir(project.path().join("migrations")).unwrap();
    project.migration(1, "create_t", "CREATE TABLE t (id INTEGER);", None);
    project
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn dotenv_supplies_the_database_url() {
    let project = with_config("");
    project.write(".env", "# local\nDATABASE_URL=sqlite:from_dotenv.db\n");
    project.godwit(&["migrate"]).assert().success();
    let tables = Project::tables(&project.path().join("from_dotenv.db"));
    assert!(tables.contains(&"t".to_string()), "{tables:?}");
}

#[test]
fn a_variable_set_in_the_environment_wins_over_dotenv() {
    let project = with_config("");
    project.write(".env", "DATABASE_URL=sqlite:from_dotenv.db\n");
    project
        .godwit(&["migrate"])
        .env("DATABASE_URL", "sqlite:from_env.db")
        .assert()
        .success();
    assert!(project.path().join("from_env.db").exists());
    assert!(!project.path().join("from_dotenv.db").exists());
}

#[test]
fn no_dotenv_leaves_the_file_unread() {
    let project = with_config("");
    project.write(".env", "DATABASE_URL=sqlite:from_dotenv.db\n");
    let output = project.run(&["--no-dotenv", "migrate"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no database URL"),
        "{}",
        stderr(&output)
    );
    assert!(!project.path().join("from_dotenv.db").exists());
}

#[test]
fn config_values_name_variables_with_defaults() {
    let project = with_config("url = \"sqlite:${DB_FILE:-fallback.db}\"\n");
    project.godwit(&["migrate"]).assert().success();
    assert!(project.path().join("fallback.db").exists());

    project.write(".env", "DB_FILE=chosen.db\n");
    project.godwit(&["migrate"]).assert().success();
    assert!(project.path().join("chosen.db").exists());
}

#[test]
fn an_unset_variable_is_a_configuration_error_naming_it() {
    let project = with_config("url = \"${DATABASE_URL}\"\n");
    let output = project.run(&["--no-dotenv", "status"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(error.contains("godwit.toml:1:7"), "{error}");
    assert!(error.contains("`url` uses ${DATABASE_URL}"), "{error}");
    assert!(error.contains("not set in the environment"), "{error}");

    let malformed = with_config("url = \"sqlite:${DB_FILE\"\n");
    let output = malformed.run(&["status"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no closing `}`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_password_from_dotenv_is_never_printed() {
    // Port 1 refuses the connection at once, so the error message quotes the URL.
    let project = with_config("url = \"postgres://app:${DB_PASSWORD}@127.0.0.1:1/app\"\n");
    project.write(".env", "DB_PASSWORD=hunter2-secret\n");
    for args in [
        &["status"][..],
        &["-vv", "status"],
        &["--format", "json", "status"],
    ] {
        let output = project.run(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&output)
        );
        let all = format!(
            "{}{}",
            stderr(&output),
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(!all.contains("hunter2"), "{args:?}: {all}");
        assert!(
            all.contains("postgres://app:***@127.0.0.1:1/app"),
            "{args:?}: {all}"
        );
    }

    // A whole URL from `.env`, malformed so that it cannot be parsed as one.
    let project = with_config("url = \"${APP_DB}\"\n");
    project.write(".env", "APP_DB=postgres//app:hunter2-secret@db/app\n");
    let output = project.run(&["-vv", "status"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(!stderr(&output).contains("hunter2"), "{}", stderr(&output));
}

#[test]
fn a_broken_dotenv_is_located_without_its_text() {
    let project = with_config("");
    project.write(
        ".env",
        "DATABASE_URL=\"postgres://app:hunter2-secret@db/app\n",
    );
    let output = project.run(&["status"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(error.contains(".env:1:1"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
}
