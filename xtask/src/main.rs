//! Developer tasks for godwit, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! One module per task; `main` only dispatches. Every task reports failure as an `Err` message,
//! so guards such as the throwaway PostgreSQL are dropped (stopped and deleted) before the
//! process exits.

mod bench;
mod bench_backfill;
mod bench_declarative;
mod bench_mysql;
mod bench_script;
mod conformance;
mod mariadb;
mod measure;
mod pg;
mod server;
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Each task with the arguments it takes and what it does, as `--help` prints them.
const TASKS: &[(&str, &str)] = &[
    (
        "test [-- ARGS]",
        "Run all tests and doc tests with PostgreSQL (GODWIT_TEST_PG_URL, else a throwaway \
         one) and MySQL (GODWIT_TEST_MYSQL_URL, else a throwaway MariaDB); ARGS go to \
         `cargo test`",
    ),
    (
        "bench [declarative] [sqlite|postgres]",
        "Time `godwit migrate` on 1,000 generated migrations against sqlite3/psql running \
         the same SQL; with `declarative`, introspection and push --dry-run on 1,000 tables \
         (time and peak memory; on PostgreSQL also the queries introspection sends)",
    ),
    (
        "bench mysql",
        "Time `godwit migrate` on 1,000 generated migrations against the mariadb client \
         running the same SQL, status and a no-op migrate against `mariadb -e 'select 1'`, and \
         status with MySQL loaded as a plugin against compiled in (GODWIT_TEST_MYSQL_URL, else \
         a throwaway MariaDB)",
    ),
    (
        "bench backfill",
        "Time a godwit backfill of 1,000,000 rows on PostgreSQL against one UPDATE of the \
         table, alone and with pgbench updating random rows meanwhile: totals, the longest a \
         batch held its locks, and the writer's worst latency",
    ),
    (
        "bench script",
        "Time `godwit migrate` (with and without the lint) on one generated migration of \
         INSERTs, 5 MB and 50 MB, against the sqlite3 shell running it in one transaction, and \
         the peak memory of `godwit lint` on it against the file's size (needs sqlite3)",
    ),
    (
        "conformance [sqlite|postgres|mysql] [-- ARGS]",
        "Run the declarative-diff corpus in ../shared/conformance against `godwit push`; \
         ARGS go to its run.py",
    ),
    (
        "pg",
        "Start a throwaway PostgreSQL, print its URL, and keep it until Ctrl-C",
    ),
    (
        "mariadb",
        "Start a throwaway MariaDB, print its URL, and keep it until Ctrl-C",
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprintln!("error: no task given\n\n{}", usage());
        return ExitCode::from(2);
    };
    let result = match task.as_str() {
        "test" => test::run(rest),
        "pg" => pg::run(rest),
        "mariadb" => mariadb::run(rest),
        "bench" => bench::run(rest),
        "conformance" => conformance::run(rest),
        "-h" | "--help" | "help" => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        unknown => {
            eprintln!("error: unknown task `{unknown}`\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The task list, shown by `--help` and after a usage error.
fn usage() -> String {
    let width = TASKS.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut text = String::from("Usage: cargo xtask <TASK>\n\nTasks:\n");
    for (name, description) in TASKS {
        text.push_str(&format!("  {name:width$}  {description}\n"));
    }
    text.pop();
    text
}

/// The workspace root, where cargo commands run.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
