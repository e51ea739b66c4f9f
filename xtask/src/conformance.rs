//! The `conformance` task: run the declarative-diff corpus in `../shared/conformance` (cases
//! from a peer project's public test suite) against `godwit push`.
//!
//! The corpus runner (`run.py`, Python standard library only) applies each case's current
//! schema, runs godwit with the desired one, compares a normalised catalog with the desired
//! schema applied directly, and requires a second run to change nothing. It prints one line per
//! case and ends with `N passed, M failed`. This task builds godwit (with the MySQL backend,
//! which is off by default), provides a PostgreSQL or MariaDB server when none is configured,
//! and passes the right command template.

use std::path::PathBuf;
use std::process::Command;

use crate::mariadb::MariaDb;
use crate::pg::{Cluster, PG_URL_VAR};
use crate::project_root;

/// Where the corpus is, unless `GODWIT_CONFORMANCE_DIR` says otherwise.
const DEFAULT_CORPUS: &str = "../shared/conformance";

/// The server the MySQL corpus runs on, as the corpus runner names it: a user that may create
/// and drop databases. Without it a throwaway MariaDB is started.
const MYSQL_ADMIN_VAR: &str = "MYSQL_ADMIN_URL";

/// Servers a run keeps alive until it ends.
#[expect(dead_code, reason = "held only so that dropping it stops the server")]
enum Server {
    Pg(Cluster),
    MariaDb(MariaDb),
}

/// `cargo xtask conformance [sqlite|postgres|mysql] [-- RUN.PY ARGS]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (ours, passthrough) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let dialects: Vec<&str> = match ours {
        [] => vec!["sqlite", "postgres", "mysql"],
        [d] if ["sqlite", "postgres", "mysql"].contains(&d.as_str()) => vec![d.as_str()],
        other => {
            return Err(format!(
                "unexpected arguments {other:?}; use `cargo xtask conformance [sqlite|postgres|mysql] [-- RUN.PY ARGS]`"
            ));
        }
    };
    let corpus = std::env::var_os("GODWIT_CONFORMANCE_DIR")
        .map_or_else(|| project_root().join(DEFAULT_CORPUS), PathBuf::from);
    let runner = corpus.join("run.py");
    if !runner.is_file() {
        return Err(format!(
            "no conformance runner at {}; set GODWIT_CONFORMANCE_DIR to the corpus folder",
            runner.display()
        ));
    }

    eprintln!("building godwit");
    let status = Command::new(env!("CARGO"))
        .current_dir(project_root())
        .args(["build", "--quiet", "-p", "godwit-cli", "--bin", "godwit"])
        .args(["--features", "mysql"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building godwit failed".into());
    }
    let godwit = project_root().join("target/debug/godwit");
    // The runner gives a case's `enable_drop` as `{enable_drop}` (true or false) and runs the
    // template with `sh` in the case's own folder: cases that forbid drops push with
    // --skip-drops, the others consent to losing data, as the peer tool's own tests do. The
    // case's other options (`managed_roles`, `manage`) become the godwit.toml godwit reads
    // there.
    let options = project_root().join("xtask/conformance/godwit_toml.py");
    let tool = format!(
        "python3 {} {{options_file}} > godwit.toml && \
         {} push --url {{url}} --schema {{schema_file}} --yes \
         $(test {{enable_drop}} = true && echo --accept-data-loss || echo --skip-drops)",
        options.display(),
        godwit.display()
    );

    let mut failed = Vec::new();
    for dialect in dialects {
        let mut command = Command::new("python3");
        command
            .arg(&runner)
            .args(["--dialect", dialect, "--tool", &tool])
            .args(["-j", "2"])
            .args(passthrough);
        // Only the corpus's own skip list applies (cases the server cannot evaluate as
        // written): a case that needs a feature godwit lacks is run, and counts as failed.
        // Keep a throwaway server alive for the run that needs it.
        let configured = |var: &str| std::env::var(var).ok().filter(|u| !u.trim().is_empty());
        let _server = match dialect {
            "postgres" => {
                let (url, cluster) = match configured(PG_URL_VAR) {
                    Some(url) => (url, None),
                    None => {
                        let cluster = Cluster::start()?;
                        (cluster.url().to_string(), Some(Server::Pg(cluster)))
                    }
                };
                command.env("PG_ADMIN_URL", url);
                cluster
            }
            "mysql" => {
                let (url, server) = match configured(MYSQL_ADMIN_VAR) {
                    Some(url) => (url, None),
                    None => {
                        let server = MariaDb::start()?;
                        (server.url().to_string(), Some(Server::MariaDb(server)))
                    }
                };
                command.env(MYSQL_ADMIN_VAR, url);
                server
            }
            _ => None,
        };
        eprintln!("running the {dialect} corpus");
        let status = command
            .status()
            .map_err(|e| format!("cannot run python3 (needed by the corpus runner): {e}"))?;
        if !status.success() {
            failed.push(dialect);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("conformance failures in: {}", failed.join(", ")))
    }
}
