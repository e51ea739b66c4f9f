//! The `test` task: every test target and doc test of the workspace, with a PostgreSQL server
//! and a MySQL/MariaDB server.
//!
//! `cargo test --all-targets` does not run doc tests and `--doc` cannot be combined with other
//! target selections, hence two cargo invocations for the full suite. The whole suite also
//! checks formatting (`cargo fmt --check`) and runs clippy with warnings as errors. Every
//! invocation runs even when one before it fails, so one run reports every failure.

use std::ffi::OsString;
use std::process::Command;

use crate::mariadb::{MYSQL_URL_VAR, MariaDb};
use crate::pg::{Cluster, PG_URL_VAR};

/// Flags of `cargo test` that choose which targets to build and run.
const TARGET_FLAGS: &[&str] = &[
    "--lib",
    "--bin",
    "--bins",
    "--example",
    "--examples",
    "--test",
    "--tests",
    "--bench",
    "--benches",
    "--all-targets",
    "--doc",
];

/// The `test` task: `cargo test` with [`PG_URL_VAR`] and [`MYSQL_URL_VAR`] pointing at
/// servers.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let cargo_args = match args.split_first() {
        None => &[][..],
        Some((first, rest)) if first == "--" => rest,
        Some((first, _)) if first == "-h" || first == "--help" => {
            println!("{}", crate::usage());
            return Ok(());
        }
        Some((first, _)) => {
            return Err(format!(
                "unexpected argument `{first}`; arguments for `cargo test` go after `--`, as in \
                 `cargo xtask test -- -p godwit-core`"
            ));
        }
    };

    let (url, _cluster) = match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => {
            eprintln!("using the PostgreSQL server in {PG_URL_VAR}");
            (url, None)
        }
        _ => {
            let cluster = Cluster::start()?;
            (cluster.url().to_owned(), Some(cluster))
        }
    };
    let (mysql_url, _server) = match std::env::var(MYSQL_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => {
            eprintln!("using the MySQL server in {MYSQL_URL_VAR}");
            (url, None)
        }
        _ => {
            let server = MariaDb::start()?;
            (server.url().to_owned(), Some(server))
        }
    };

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut failed = Vec::new();
    for invocation in invocations(cargo_args) {
        let shown = format!("cargo {}", invocation.join(" "));
        eprintln!("running {shown}");
        let status = Command::new(&cargo)
            .args(&invocation)
            .current_dir(crate::project_root())
            .env(PG_URL_VAR, &url)
            .env(MYSQL_URL_VAR, &mysql_url)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            failed.push(shown);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join("; ")))
    }
}

/// The `cargo` argument lists to run for the user's `cargo test` arguments. Unless they
/// narrow the run, that is every target and the doc tests of the whole workspace. Once they
/// name packages or targets, it is one `cargo test` with exactly their choice: `--doc` fails
/// for a package without a library, and `--workspace` would silently override `-p`.
fn invocations(user_args: &[String]) -> Vec<Vec<String>> {
    // Arguments after a further `--` belong to the test binaries, not to cargo.
    let cargo_flags = user_args
        .split(|arg| arg == "--")
        .next()
        .unwrap_or_default();
    let names_packages = cargo_flags
        .iter()
        .any(|arg| arg.starts_with("-p") || arg == "--package" || arg.starts_with("--package="));
    let chooses_targets = cargo_flags.iter().any(|arg| {
        TARGET_FLAGS
            .iter()
            .any(|flag| arg == flag || arg.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
    });

    let runs: &[&[&str]] = match (names_packages, chooses_targets) {
        // The whole suite reports every failing binary, not just the first: CI shows everything.
        (false, false) => &[
            &["--workspace", "--all-targets", "--no-fail-fast"],
            &["--workspace", "--doc", "--no-fail-fast"],
        ],
        (false, true) => &[&["--workspace"]],
        (true, _) => &[&[]],
    };
    let mut invocations: Vec<Vec<String>> = runs
        .iter()
        .map(|ours| {
            std::iter::once("test")
                .chain(ours.iter().copied())
                .map(str::to_owned)
                .chain(user_args.iter().cloned())
                .collect()
        })
        .collect();
    // The single-backend builds check that a URL for a backend left out of the build names the
    // feature to turn on; the default build has both backends and cannot test that. They belong
    // to the whole suite only: user arguments are meant for the workspace runs.
    if user_args.is_empty() {
        for backend in ["sqlite", "postgres", "mysql"] {
            invocations.push(
                [
                    "test",
                    "-p",
                    "godwit-cli",
                    "--no-default-features",
                    "--features",
                    backend,
                    "--test",
                    "backends",
                ]
                .map(str::to_owned)
                .to_vec(),
            );
        }
        // The README's lint rules table lists the rules of every dialect godwit ships, so it is
        // compared in a build that has them all.
        invocations.push(
            [
                "test",
                "-p",
                "godwit-cli",
                "--features",
                "mysql",
                "--test",
                "lint",
                "readme",
            ]
            .map(str::to_owned)
            .to_vec(),
        );
        // Formatting and clippy are part of the suite, so code that drifts from either fails
        // CI rather than waiting for someone to notice.
        invocations.push(
            ["fmt", "--all", "--", "--check"]
                .map(str::to_owned)
                .to_vec(),
        );
        invocations.push(
            [
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]
            .map(str::to_owned)
            .to_vec(),
        );
    }
    invocations
}

#[cfg(test)]
mod tests {
    use super::invocations;

    fn plan(args: &[&str]) -> Vec<String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        invocations(&args).iter().map(|i| i.join(" ")).collect()
    }

    #[test]
    fn runs_all_targets_and_doc_tests_of_the_workspace() {
        assert_eq!(
            plan(&[]),
            [
                "test --workspace --all-targets --no-fail-fast",
                "test --workspace --doc --no-fail-fast",
                "test -p godwit-cli --no-default-features --features sqlite --test backends",
                "test -p godwit-cli --no-default-features --features postgres --test backends",
                "test -p godwit-cli --no-default-features --features mysql --test backends",
                "test -p godwit-cli --features mysql --test lint readme",
                "fmt --all -- --check",
                "clippy --workspace --all-targets -- -D warnings",
            ]
        );
    }

    #[test]
    fn named_packages_run_alone() {
        assert_eq!(
            plan(&["-p", "godwit-core", "--", "--nocapture"]),
            ["test -p godwit-core -- --nocapture"]
        );
        assert_eq!(
            plan(&["--package=godwit-cli"]),
            ["test --package=godwit-cli"]
        );
        assert_eq!(
            plan(&["-pgodwit-core", "--lib"]),
            ["test -pgodwit-core --lib"]
        );
    }

    #[test]
    fn chosen_targets_run_alone() {
        assert_eq!(plan(&["--test", "tidy"]), ["test --workspace --test tidy"]);
        assert_eq!(plan(&["--doc"]), ["test --workspace --doc"]);
        assert_eq!(plan(&["--bin=godwit"]), ["test --workspace --bin=godwit"]);
    }

    #[test]
    fn other_flags_go_to_both_runs() {
        assert_eq!(
            plan(&["--exclude", "xtask", "--no-fail-fast"]),
            [
                "test --workspace --all-targets --no-fail-fast --exclude xtask --no-fail-fast",
                "test --workspace --doc --no-fail-fast --exclude xtask --no-fail-fast"
            ]
        );
    }

    #[test]
    fn test_binary_arguments_choose_nothing() {
        assert_eq!(
            plan(&["--", "--test", "-p"]),
            [
                "test --workspace --all-targets --no-fail-fast -- --test -p",
                "test --workspace --doc --no-fail-fast -- --test -p"
            ]
        );
    }
}
