//! The `bench` task: how much godwit's bookkeeping costs over running the same SQL by hand.
//!
//! It generates `COUNT` small migrations (a table with three columns and an index each) and
//! times `godwit migrate` (release build) applying them to a fresh database, against the same
//! SQL executed by the engine's own shell (`sqlite3`, `psql`) with one transaction per file;
//! then `godwit migrate --single-transaction` against the same SQL in one transaction, and
//! `godwit status` and a `godwit migrate` with nothing to do on the applied database against
//! the same client running `select 1`. Runs
//! alternate between the two so that drift in the machine's speed hits both alike; the
//! medians and the median of the per-pair ratios are printed. `bench declarative` and `bench
//! script` are in their own modules, and so is `bench mysql`, which the others share this
//! module's comparison with.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::measure::{median, psql, remove, timed, with_database};
use crate::pg::{Cluster, PG_URL_VAR};
use crate::project_root;

/// How many migrations each run applies.
pub(crate) const COUNT: usize = 1000;

/// Counted runs of each side (after one warm-up pair).
const RUNS: usize = 5;

/// The commands users run all day, timed on a database with every migration applied against
/// the engine's own client running one query: `status`, and `migrate` with nothing to do.
pub(crate) const DAILY: [&[&str]; 2] = [&["status"], &["migrate"]];

/// Counted runs of each side for [`DAILY`], which take milliseconds.
pub(crate) const DAILY_RUNS: usize = 21;

/// `cargo xtask bench [declarative] [sqlite|postgres]`, `cargo xtask bench mysql`, `cargo xtask
/// bench script`, or `cargo xtask bench backfill`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if args.first().is_some_and(|a| a == "mysql") {
        if let Some(other) = args.get(1) {
            return Err(format!(
                "`cargo xtask bench mysql` takes no more arguments (got `{other}`)"
            ));
        }
        need("mariadb")?;
        return crate::bench_mysql::run();
    }
    if args.first().is_some_and(|a| a == "backfill") {
        if let Some(other) = args.get(1) {
            return Err(format!(
                "`cargo xtask bench backfill` takes no more arguments (got `{other}`); it runs on PostgreSQL only"
            ));
        }
        need("psql")?;
        return crate::bench_backfill::run(&build()?);
    }
    if args.first().is_some_and(|a| a == "script") {
        if let Some(other) = args.get(1) {
            return Err(format!(
                "`cargo xtask bench script` takes no more arguments (got `{other}`); it runs on SQLite only"
            ));
        }
        need("sqlite3")?;
        return crate::bench_script::run(&build()?);
    }
    let declarative = args.first().is_some_and(|a| a == "declarative");
    let rest = if declarative { &args[1..] } else { args };
    let (sqlite, postgres) = match rest.first().map(String::as_str) {
        None => (true, true),
        Some("sqlite") => (true, false),
        Some("postgres") => (false, true),
        Some(other) => {
            return Err(format!(
                "unknown bench `{other}`; use `cargo xtask bench [declarative] [sqlite|postgres]`, `cargo xtask bench mysql` or `cargo xtask bench script`"
            ));
        }
    };
    for tool in [
        (sqlite && !declarative).then_some("sqlite3"),
        postgres.then_some("psql"),
    ]
    .into_iter()
    .flatten()
    {
        need(tool)?;
    }

    let godwit = build()?;
    if declarative {
        return crate::bench_declarative::run(sqlite, postgres, &godwit);
    }

    let work = tempfile::Builder::new()
        .prefix("godwit-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let (baseline_script, single_script) = generate(work.path())?;
    println!(
        "{COUNT} migrations (CREATE TABLE with 3 columns + CREATE INDEX each), {RUNS} runs per side after a warm-up pair"
    );

    if sqlite {
        let result = compare(
            || {
                let db = work.path().join("godwit.db");
                remove(&db);
                godwit_migrate(&godwit, work.path(), &format!("sqlite:{}", db.display()))
            },
            || {
                let db = work.path().join("baseline.db");
                remove(&db);
                let script = std::fs::File::open(&baseline_script)
                    .map_err(|e| format!("cannot open the baseline script: {e}"))?;
                timed(Command::new("sqlite3").arg(&db).stdin(script), "sqlite3")
            },
        )?;
        result.print("SQLite", "sqlite3");
        // godwit.db now holds the 1,000 applied migrations of the last run.
        let db = work.path().join("godwit.db");
        let url = format!("sqlite:{}", db.display());
        let select = || timed(Command::new("sqlite3").arg(&db).arg("select 1"), "sqlite3");
        for command in DAILY {
            compare_runs(
                DAILY_RUNS,
                || godwit_command(&godwit, work.path(), &url, command),
                select,
            )?
            .print_as("SQLite", &command.join(" "), "sqlite3 'select 1'");
        }
        let together = compare(
            || {
                let db = work.path().join("godwit.db");
                remove(&db);
                godwit_migrate_with(
                    &godwit,
                    work.path(),
                    &format!("sqlite:{}", db.display()),
                    &["--single-transaction"],
                )
            },
            || {
                let db = work.path().join("baseline.db");
                remove(&db);
                let script = std::fs::File::open(&single_script)
                    .map_err(|e| format!("cannot open the baseline script: {e}"))?;
                timed(Command::new("sqlite3").arg(&db).stdin(script), "sqlite3")
            },
        )?;
        together.print("SQLite, one transaction", "sqlite3");
    }

    if postgres {
        // Keep the cluster (if we started one) alive until the PostgreSQL runs are over.
        let (admin_url, _cluster) = match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => (url, None),
            _ => {
                let cluster = Cluster::start()?;
                (cluster.url().to_string(), Some(cluster))
            }
        };
        // Every run gets a fresh database; all are dropped afterwards, whatever the result.
        let created = RefCell::new(Vec::<String>::new());
        let fresh = |label: &str| -> Result<String, String> {
            let name = format!(
                "godwit_bench_{label}_{}_{}",
                std::process::id(),
                created.borrow().len()
            );
            psql(&admin_url, &format!("CREATE DATABASE {name}"))?;
            created.borrow_mut().push(name.clone());
            Ok(with_database(&admin_url, &name))
        };
        let result = compare(
            || godwit_migrate(&godwit, work.path(), &fresh("godwit")?),
            || {
                let url = fresh("psql")?;
                timed(
                    Command::new("psql")
                        .args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-f"])
                        .arg(&baseline_script)
                        .arg(&url),
                    "psql",
                )
            },
        );
        let together = result.and_then(|per_file| {
            let together = compare(
                || {
                    godwit_migrate_with(
                        &godwit,
                        work.path(),
                        &fresh("godwit")?,
                        &["--single-transaction"],
                    )
                },
                || {
                    let url = fresh("psql")?;
                    timed(
                        Command::new("psql")
                            .args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-f"])
                            .arg(&single_script)
                            .arg(&url),
                        "psql",
                    )
                },
            )?;
            // The commands users run all day, on a database with every migration applied.
            let url = fresh("daily")?;
            godwit_migrate(&godwit, work.path(), &url)?;
            let daily = DAILY
                .iter()
                .map(|command| {
                    compare_runs(
                        DAILY_RUNS,
                        || godwit_command(&godwit, work.path(), &url, command),
                        || {
                            timed(
                                Command::new("psql").args(["-q", "-X", "-c", "select 1", &url]),
                                "psql",
                            )
                        },
                    )
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok((per_file, together, daily))
        });
        for name in created.borrow().iter() {
            let _ = psql(&admin_url, &format!("DROP DATABASE IF EXISTS {name}"));
        }
        let (per_file, together, daily) = together?;
        per_file.print("PostgreSQL", "psql");
        for (command, comparison) in DAILY.iter().zip(&daily) {
            comparison.print_as("PostgreSQL", &command.join(" "), "psql -c 'select 1'");
        }
        together.print("PostgreSQL, one transaction", "psql");
    }
    Ok(())
}

/// Fail with the package to install when `tool`, which a baseline needs, is not on PATH.
fn need(tool: &str) -> Result<(), String> {
    if Command::new(tool).arg("--version").output().is_ok() {
        return Ok(());
    }
    let package = match tool {
        "psql" => "postgresql-client",
        "mariadb" => "mariadb-client",
        _ => "sqlite3",
    };
    Err(format!(
        "`{tool}` is not on PATH; the baseline needs it (Debian: apt-get update && apt-get install -y {package})"
    ))
}

/// Build godwit in release mode; return the binary. `GODWIT_BENCH_BINARY` names another
/// binary to time instead (another build, to compare before and after a change).
fn build() -> Result<PathBuf, String> {
    if let Some(binary) = std::env::var_os("GODWIT_BENCH_BINARY") {
        eprintln!("timing {}", Path::new(&binary).display());
        return Ok(PathBuf::from(binary));
    }
    eprintln!("building godwit (release)");
    cargo_release(&["-p", "godwit-cli", "--bin", "godwit"], "godwit")?;
    Ok(project_root().join("target/release/godwit"))
}

/// `cargo build --release` of what `args` select; `what` names it in the error.
pub(crate) fn cargo_release(args: &[&str], what: &str) -> Result<(), String> {
    let status = Command::new(env!("CARGO"))
        .current_dir(project_root())
        .args(["build", "--release", "--quiet"])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building {what} failed"))
    }
}

/// Write the migrations, a `godwit.toml`, and two baseline scripts of the same SQL: one
/// transaction per file, and one transaction for all. Returns the scripts in that order.
fn generate(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let mut baseline = String::new();
    let mut single = String::from("BEGIN;\n");
    for sql in write_migrations(dir, "TEXT")? {
        baseline.push_str("BEGIN;\n");
        baseline.push_str(&sql);
        baseline.push_str("COMMIT;\n");
        single.push_str(&sql);
    }
    single.push_str("COMMIT;\n");
    let script = dir.join("baseline.sql");
    std::fs::write(&script, baseline).map_err(|e| e.to_string())?;
    let single_script = dir.join("baseline-single.sql");
    std::fs::write(&single_script, single).map_err(|e| e.to_string())?;
    Ok((script, single_script))
}

/// Write the [`COUNT`] migrations into `dir/migrations`, and a `godwit.toml` in `dir`; return
/// each file's SQL in order. `name_type` is the type of the indexed `name` column: MySQL
/// cannot index a `TEXT` column without a prefix length, so it gets a `VARCHAR`.
pub(crate) fn write_migrations(dir: &Path, name_type: &str) -> Result<Vec<String>, String> {
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).map_err(|e| e.to_string())?;
    let files = (1..=COUNT)
        .map(|i| {
            let sql = format!(
                "CREATE TABLE bench_{i} (\n    id BIGINT PRIMARY KEY,\n    name {name_type} NOT NULL,\n    created_at TEXT\n);\n\
                 CREATE INDEX bench_{i}_name ON bench_{i} (name);\n"
            );
            let version = 20_260_101_000_000_u64 + i as u64;
            std::fs::write(migrations.join(format!("{version}_bench_{i}.up.sql")), &sql)
                .map_err(|e| e.to_string())?;
            Ok(sql)
        })
        .collect::<Result<Vec<_>, String>>()?;
    std::fs::write(dir.join("godwit.toml"), "migrations = \"migrations\"\n")
        .map_err(|e| e.to_string())?;
    Ok(files)
}

/// Time `godwit <command>` on `url`, printing nothing.
fn godwit_command(
    godwit: &Path,
    dir: &Path,
    url: &str,
    command: &[&str],
) -> Result<Duration, String> {
    timed(&mut godwit_process(godwit, dir, url, command), "godwit")
}

/// The process of `godwit <command>` on `url` in `dir`, printing nothing, for a caller to
/// adjust before timing it.
pub(crate) fn godwit_process(godwit: &Path, dir: &Path, url: &str, command: &[&str]) -> Command {
    let mut process = Command::new(godwit);
    process
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .args(["--quiet", "--url", url])
        .args(command);
    process
}

fn godwit_migrate(godwit: &Path, dir: &Path, url: &str) -> Result<Duration, String> {
    godwit_migrate_with(godwit, dir, url, &[])
}

fn godwit_migrate_with(
    godwit: &Path,
    dir: &Path,
    url: &str,
    flags: &[&str],
) -> Result<Duration, String> {
    godwit_command(godwit, dir, url, &[&["migrate"], flags].concat())
}

/// Timings of the two sides, run in alternation.
pub(crate) struct Comparison {
    godwit: Vec<Duration>,
    baseline: Vec<Duration>,
}

fn compare(
    godwit: impl FnMut() -> Result<Duration, String>,
    baseline: impl FnMut() -> Result<Duration, String>,
) -> Result<Comparison, String> {
    compare_runs(RUNS, godwit, baseline)
}

/// [`compare`] with `runs` counted runs per side.
pub(crate) fn compare_runs(
    runs: usize,
    mut godwit: impl FnMut() -> Result<Duration, String>,
    mut baseline: impl FnMut() -> Result<Duration, String>,
) -> Result<Comparison, String> {
    godwit()?;
    baseline()?;
    let mut result = Comparison {
        godwit: Vec::new(),
        baseline: Vec::new(),
    };
    for _ in 0..runs {
        result.godwit.push(godwit()?);
        result.baseline.push(baseline()?);
    }
    Ok(result)
}

impl Comparison {
    pub(crate) fn print(&self, engine: &str, tool: &str) {
        self.print_as(engine, "migrate", tool);
    }

    /// Print the figures of `godwit <command>` against `tool`.
    pub(crate) fn print_as(&self, engine: &str, command: &str, tool: &str) {
        let secs = |v: &[Duration]| -> Vec<f64> { v.iter().map(Duration::as_secs_f64).collect() };
        let mut ratios = self.ratios();
        let (min, max) = ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        println!(
            "{engine:<10} godwit {command} median {:.3} s | {tool} median {:.3} s | ratio median {:.2}x (min {min:.2}x, max {max:.2}x)",
            median(&mut secs(&self.godwit)),
            median(&mut secs(&self.baseline)),
            median(&mut ratios),
        );
    }

    /// The median of the per-pair ratios, godwit's time over the baseline's.
    pub(crate) fn ratio(&self) -> f64 {
        median(&mut self.ratios())
    }

    fn ratios(&self) -> Vec<f64> {
        self.godwit
            .iter()
            .zip(&self.baseline)
            .map(|(g, b)| g.as_secs_f64() / b.as_secs_f64())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn database_is_replaced() {
        assert_eq!(
            with_database("postgres://p@localhost:5433/postgres?host=/tmp/x", "b"),
            "postgres://p@localhost:5433/b?host=/tmp/x"
        );
    }

    #[test]
    fn generated_files_match_the_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let (script, single) = generate(dir.path()).unwrap();
        let files = std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .count();
        assert_eq!(files, COUNT);
        let baseline = std::fs::read_to_string(script).unwrap();
        assert_eq!(baseline.matches("BEGIN;").count(), COUNT);
        assert_eq!(baseline.matches("CREATE INDEX").count(), COUNT);
        let single = std::fs::read_to_string(single).unwrap();
        assert_eq!(single.matches("BEGIN;").count(), 1);
        assert_eq!(single.matches("CREATE INDEX").count(), COUNT);
    }
}
