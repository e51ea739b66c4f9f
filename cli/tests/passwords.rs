//! No password leaves godwit, whatever shape the URL that holds it has and wherever it came
//! from: every message and every log line, up to `-vvv`, shows it as `***`.

mod common;

use common::{Project, stderr, stdout};

/// The password in every URL below; nothing godwit prints may contain it.
const SECRET: &str = "s3cret-Pw9Zq";

/// URLs that hold [`SECRET`] in the shapes users mistype them in. Hosts are local and closed,
/// so a URL godwit accepts fails at once.
fn urls() -> Vec<String> {
    [
        "postgres:/user:{}@127.0.0.1:1/db",
        "postgres//user:{}@127.0.0.1:1/db",
        "postgres:user:{}@127.0.0.1:1/db",
        "postgres://us@er:{}@127.0.0.1:1/db",
        "postgres://user:{}%40x@127.0.0.1:1/db",
        "postgres://user:{}@127.0.0.1:1/db?sslpassword={}",
        "postgres://user@127.0.0.1:1/db?password={}&sslpassword={}",
        "postgres://user@127.0.0.1:1/db?Password={}",
        "mysql://root:{}@127.0.0.1:1/db",
        "mssql://root:{}@127.0.0.1:1/db",
        "host=127.0.0.1 port=1 user=u password={}",
        "sqlite://user:{}@/app.db",
        "sqlite:app.db?password={}",
    ]
    .iter()
    .map(|shape| shape.replace("{}", SECRET))
    .collect()
}

/// Where a URL can come from: how to give it, and the command that reads it.
#[derive(Debug, Clone, Copy)]
enum Source {
    Flag,
    DatabaseUrl,
    ConfigUrl,
    DevUrlEnv,
    ConfigDevUrl,
}

const SOURCES: [Source; 5] = [
    Source::Flag,
    Source::DatabaseUrl,
    Source::ConfigUrl,
    Source::DevUrlEnv,
    Source::ConfigDevUrl,
];

/// Run a command reading `url` from `source` at `verbosity` and check nothing printed holds
/// the password, while the URL is shown (redacted) or the run did not need to name it.
fn check(source: Source, url: &str, verbosity: Option<&str>) {
    let project = Project::new();
    project.write("schema.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n");
    let toml_url = url.replace('\\', "\\\\").replace('"', "\\\"");
    let mut args: Vec<&str> = verbosity.into_iter().collect();
    let mut command = match source {
        Source::Flag => {
            args.extend(["--url", url, "status"]);
            project.std_command(&args)
        }
        Source::DatabaseUrl => {
            project.write("godwit.toml", "");
            args.push("status");
            let mut command = project.std_command(&args);
            command.env("DATABASE_URL", url);
            command
        }
        Source::ConfigUrl => {
            project.write("godwit.toml", &format!("url = \"{toml_url}\"\n"));
            args.push("status");
            project.std_command(&args)
        }
        // The dev database is read by the declarative commands, beside a SQLite target.
        Source::DevUrlEnv => {
            args.extend(["push", "--dry-run"]);
            let mut command = project.std_command(&args);
            command.env("GODWIT_DEV_URL", url);
            command
        }
        Source::ConfigDevUrl => {
            project.write(
                "godwit.toml",
                &format!("url = \"sqlite:test.db\"\ndev_url = \"{toml_url}\"\n"),
            );
            args.extend(["push", "--dry-run"]);
            project.std_command(&args)
        }
    };
    if !matches!(source, Source::DevUrlEnv) {
        command.env_remove("GODWIT_DEV_URL");
    }
    let output = command.output().unwrap();
    let (out, err) = (stdout(&output), stderr(&output));
    let context = format!("{source:?} {verbosity:?} {url}\nstdout:\n{out}\nstderr:\n{err}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{context}");
    assert!(!output.status.success(), "{context}");
    assert!(err.contains("***"), "the URL is not shown: {context}");
}

#[test]
fn no_source_and_no_verbosity_prints_a_password() {
    for source in SOURCES {
        for url in urls() {
            for verbosity in [None, Some("-v"), Some("-vv"), Some("-vvv")] {
                check(source, &url, verbosity);
            }
        }
    }
}

#[test]
fn arguments_clap_rejects_are_shown_without_their_passwords() {
    let project = Project::new();
    let url = format!("postgres://user:{SECRET}@127.0.0.1:1/db");
    for args in [
        vec!["status", url.as_str()],
        vec!["status", "--url"],
        vec!["--lock-timeout", url.as_str(), "status"],
    ] {
        let output = project.run(&args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains(SECRET), "{args:?}: {err}");
    }
    let output = project.run(&["status", &url]);
    assert!(
        stderr(&output).contains("postgres://user:***@127.0.0.1:1/db"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_diff_source_that_is_a_mistyped_url_is_refused_without_its_password() {
    let project = Project::new();
    let url = format!("postgres:/user:{SECRET}@127.0.0.1:1/db");
    for args in [
        ["diff", "--from", "sqlite::memory:", "--to", url.as_str()],
        ["diff", "--from", url.as_str(), "--to", "sqlite::memory:"],
    ] {
        let output = project.run(&args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(!err.contains(SECRET), "{err}");
        assert!(
            err.contains("`postgres:/user:***@127.0.0.1:1/db` names no server"),
            "{err}"
        );
    }
}
