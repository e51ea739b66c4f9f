//! `cargo xtask bench declarative`: introspection and `push --dry-run` on a generated
//! 1,000-table schema (5 columns, 2 indexes and a foreign key each), on SQLite and PostgreSQL,
//! reporting each command's wall time and peak memory (the process's maximum resident set).
//!
//! `godwit inspect --format json` times connecting plus reading the whole catalog into the
//! model; `godwit push --dry-run` with the same schema adds a scratch database, applying the
//! 1,000 tables to it, a second introspection and the diff (which must find nothing).
//!
//! On PostgreSQL it also counts the queries `godwit inspect` sends, on the wire
//! ([`wire::QueryCounter`]), for 100 and for 1,000 tables: introspection is meant to cost the
//! same few queries whatever the table count, and to take under a second for 1,000 tables.

mod push;
mod wire;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::measure::{Sample, measure, psql, with_database};
use crate::pg::{Cluster, PG_URL_VAR};

/// Tables in the generated schema.
const TABLES: usize = 1000;

/// Tables in the smaller schema whose query count is compared with that of [`TABLES`].
const FEW_TABLES: usize = 100;

/// The wall time PostgreSQL introspection of [`TABLES`] tables is meant to stay under.
const TARGET: Duration = Duration::from_secs(1);

/// Counted runs of each command (after one warm-up).
const RUNS: usize = 3;

/// A generated schema of `tables` tables: table `t{i}` references `t{i-1}` (the first
/// references itself).
fn schema_sql(tables: usize) -> String {
    let mut sql = String::new();
    for i in 1..=tables {
        let parent = if i == 1 { 1 } else { i - 1 };
        sql.push_str(&format!(
            "CREATE TABLE t{i} (\n    id INTEGER PRIMARY KEY,\n    parent_id INTEGER REFERENCES t{parent} (id),\n    \
             name TEXT NOT NULL,\n    score INTEGER DEFAULT 0,\n    created_at TEXT\n);\n\
             CREATE INDEX t{i}_parent ON t{i} (parent_id);\nCREATE INDEX t{i}_name ON t{i} (name, score);\n"
        ));
    }
    sql
}

fn median(samples: &mut [Sample]) -> (f64, f64) {
    samples.sort_by_key(|s| s.wall);
    let wall = samples[samples.len() / 2].wall.as_secs_f64();
    let mut rss: Vec<i64> = samples.iter().map(|s| s.max_rss_kib).collect();
    rss.sort_unstable();
    (wall, rss[rss.len() / 2] as f64 / 1024.0)
}

fn repeat(mut run: impl FnMut() -> Result<Sample, String>) -> Result<(f64, f64), String> {
    run()?;
    let mut samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        samples.push(run()?);
    }
    Ok(median(&mut samples))
}

fn godwit(binary: &Path, dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        // The desired-schema cache of the runs of this bench only: its first run starts empty.
        .env("GODWIT_CACHE_DIR", dir.join("cache"))
        .args(["--url", url])
        .args(args);
    command
}

/// Measure both commands against `url`, which already holds the schema in `schema.sql`;
/// returns the median time of `inspect`.
fn report(engine: &str, binary: &Path, dir: &Path, url: &str) -> Result<f64, String> {
    let schema = schema_path(dir, TABLES)?;
    let (inspect_s, inspect_mib) = repeat(|| {
        measure(
            &mut godwit(binary, dir, url, &["--format", "json", "inspect"]),
            "godwit inspect",
        )
    })?;
    let (push_s, push_mib) = repeat(|| {
        measure(
            &mut godwit(
                binary,
                dir,
                url,
                &["push", "--dry-run", "--schema", &schema],
            ),
            "godwit push --dry-run",
        )
    })?;
    println!(
        "{engine:<10} inspect (introspection) median {inspect_s:.3} s, peak {inspect_mib:.1} MiB | \
         push --dry-run median {push_s:.3} s, peak {push_mib:.1} MiB"
    );
    Ok(inspect_s)
}

/// The schema file of `tables` tables in `dir`.
fn schema_path(dir: &Path, tables: usize) -> Result<String, String> {
    let path = dir.join(format!("schema_{tables}.sql"));
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| "temp path is not UTF-8".into())
}

/// Give the database at `url` the schema of `tables` tables.
fn set_up(binary: &Path, dir: &Path, url: &str, tables: usize) -> Result<(), String> {
    let schema = schema_path(dir, tables)?;
    measure(
        &mut godwit(binary, dir, url, &["push", "--yes", "--schema", &schema]),
        "godwit push (setup)",
    )
    .map(drop)
}

/// The `declarative` bench.
pub(crate) fn run(sqlite: bool, postgres: bool, binary: &Path) -> Result<(), String> {
    let work = tempfile::Builder::new()
        .prefix("godwit-bench-declarative-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    for tables in [TABLES, FEW_TABLES] {
        std::fs::write(schema_path(work.path(), tables)?, schema_sql(tables))
            .map_err(|e| e.to_string())?;
    }
    println!(
        "{TABLES} tables (5 columns, 2 indexes and a foreign key each); median of {RUNS} runs after a warm-up; \
         peak = maximum resident set of the godwit process"
    );
    if sqlite {
        let url = format!("sqlite:{}", work.path().join("bench.db").display());
        set_up(binary, work.path(), &url, TABLES)?;
        report("SQLite", binary, work.path(), &url)?;
    }
    if postgres {
        let (admin, _cluster) = match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => (url, None),
            _ => {
                let cluster = Cluster::start()?;
                (cluster.url().to_string(), Some(cluster))
            }
        };
        let mut created = Vec::new();
        let result = bench_postgres(&admin, binary, work.path(), &mut created)
            .and_then(|()| push::run(&admin, binary, work.path(), &mut created));
        for name in &created {
            let _ = psql(
                &admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
        result?;
    }
    Ok(())
}

/// Time both commands on [`TABLES`] tables, then count the queries of `inspect` on
/// [`FEW_TABLES`] and on [`TABLES`] tables. Every database made is pushed onto `created`.
fn bench_postgres(
    admin: &str,
    binary: &Path,
    dir: &Path,
    created: &mut Vec<String>,
) -> Result<(), String> {
    let mut databases = Vec::new();
    for tables in [FEW_TABLES, TABLES] {
        let name = format!("godwit_bench_declarative_{}_{tables}", std::process::id());
        psql(admin, &format!("CREATE DATABASE {name}"))?;
        created.push(name.clone());
        set_up(binary, dir, &with_database(admin, &name), tables)?;
        databases.push((tables, name));
    }
    let inspect_s = report(
        "PostgreSQL",
        binary,
        dir,
        &with_database(admin, &databases[1].1),
    )?;

    let (counter, relayed) = wire::QueryCounter::start(admin)?;
    let mut counts = Vec::new();
    for (tables, name) in &databases {
        counter.take();
        let url = with_database(&relayed, name);
        let output = godwit(binary, dir, &url, &["--format", "json", "inspect"])
            .output()
            .map_err(|e| format!("cannot run godwit inspect: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "godwit inspect through the query counter failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        counts.push((*tables, counter.take()));
    }
    let listed: Vec<String> = counts
        .iter()
        .map(|(tables, queries)| format!("{tables} tables {queries}"))
        .collect();
    println!(
        "PostgreSQL queries godwit inspect sends (connection and introspection, counted on the wire): {} ({})",
        listed.join(", "),
        if counts.windows(2).all(|pair| pair[0].1 == pair[1].1) {
            "constant"
        } else {
            "NOT constant: introspection grows with the table count"
        }
    );
    println!(
        "PostgreSQL target: introspection of {TABLES} tables under {} s: {} (inspect median {inspect_s:.3} s)",
        TARGET.as_secs(),
        if inspect_s < TARGET.as_secs_f64() {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
