//! `cargo xtask bench script`: one large migration of generated data (a few DDL statements,
//! then single-row `INSERT`s) at 5 MB and at 50 MB, on SQLite.
//!
//! - `godwit migrate` (which lints the migration first, as users run it) and `godwit migrate
//!   --no-lint` against the `sqlite3` shell running the same file in one transaction (`BEGIN;`
//!   before it, `COMMIT;` after, as godwit runs a migration; without them the shell commits
//!   every statement). Runs alternate between godwit and the shell, so that drift in the
//!   machine's speed hits both alike; medians of wall and CPU time, and the median of the
//!   per-pair ratios, are printed. Running a script is meant to take time in proportion to its
//!   length and to stay within twice the shell's time on 50 MB.
//! - `godwit lint FILE`: time and peak memory (the process's maximum resident set), against
//!   the file's size. The lint is meant to stay under five times the file's size.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::measure::{Sample, measure, median, remove};

/// The two sizes: a label and the number of `INSERT`s (about 440 bytes each).
const SIZES: &[(&str, usize)] = &[("5 MB", 12_000), ("50 MB", 120_000)];

/// Counted runs of each command (after one warm-up).
const RUNS: usize = 3;

/// The ratio to the `sqlite3` shell that `godwit migrate` is meant to stay within at 50 MB.
const TIME_TARGET: f64 = 2.0;

/// The lint's peak memory is meant to stay under this many times the file's size.
const MEMORY_TARGET: f64 = 5.0;

/// The `script` bench; `godwit` is the release binary.
pub(crate) fn run(godwit: &Path) -> Result<(), String> {
    let work = tempfile::Builder::new()
        .prefix("godwit-bench-script-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    println!(
        "one migration of single-row INSERTs after 3 DDL statements, on SQLite; median of {RUNS} \
         runs after a warm-up, godwit and sqlite3 alternating; cpu = user + system time; \
         peak = maximum resident set"
    );
    let mut largest = None;
    for &(label, inserts) in SIZES {
        let dir = work.path().join(label.replace(' ', ""));
        let script = generate(&dir, inserts)?;
        let bytes = std::fs::metadata(&script).map_err(|e| e.to_string())?.len();
        println!(
            "{label}: {:.1} MB, {inserts} INSERTs",
            bytes as f64 / 1_000_000.0
        );
        let result = bench_size(godwit, &dir, &script, bytes)?;
        result.print();
        largest = Some(result);
    }
    if let Some(result) = largest {
        result.verdict();
    }
    Ok(())
}

/// Write `dir/migrations/<version>_load.up.sql` with `inserts` rows, `dir/godwit.toml`, and
/// `dir/baseline.sql` (the same SQL in one transaction); return the migration's path.
///
/// The files are written as they are generated: a child's peak memory, as `wait4` reports it,
/// is never less than what this process held when it started the child, so holding 50 MB
/// here would show as 50 MB more in every measurement.
fn generate(dir: &Path, inserts: usize) -> Result<PathBuf, String> {
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).map_err(|e| e.to_string())?;
    let path = migrations.join("20260101000000_load.up.sql");
    let create = |path: &Path| {
        std::fs::File::create(path)
            .map(BufWriter::new)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let mut migration = create(&path)?;
    let mut baseline = create(&dir.join("baseline.sql"))?;
    let written = (|| {
        baseline.write_all(b"BEGIN;\n")?;
        write_script(inserts, &mut |chunk| {
            migration.write_all(chunk.as_bytes())?;
            baseline.write_all(chunk.as_bytes())
        })?;
        baseline.write_all(b"COMMIT;\n")?;
        migration.flush()?;
        baseline.flush()
    })();
    written.map_err(|e| format!("cannot write the generated scripts: {e}"))?;
    std::fs::write(dir.join("godwit.toml"), "migrations = \"migrations\"\n")
        .map_err(|e| e.to_string())?;
    Ok(path)
}

/// Hand the migration to `write` in pieces: a table, an index, a table whose foreign key its
/// primary key covers, then `inserts` rows.
fn write_script(
    inserts: usize,
    write: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write(
        "CREATE TABLE IF NOT EXISTS items (\n    id INTEGER PRIMARY KEY,\n    name TEXT NOT NULL,\n    \
         payload TEXT,\n    price REAL\n);\n\
         CREATE INDEX IF NOT EXISTS items_name ON items (name);\n\
         CREATE TABLE IF NOT EXISTS item_tags (\n    item_id INTEGER NOT NULL REFERENCES items (id),\n    \
         tag TEXT NOT NULL,\n    PRIMARY KEY (item_id, tag)\n);\n",
    )?;
    let padding = "lorem ipsum dolor sit amet ".repeat(13);
    for i in 1..=inserts {
        write(&format!(
            "INSERT INTO items (id, name, payload, price) VALUES ({i}, 'item {i}', '{padding}{i}', {i}.5);\n"
        ))?;
    }
    Ok(())
}

/// The medians of one size.
struct SizeResult {
    bytes: u64,
    migrate: Medians,
    no_lint: Medians,
    baseline: Medians,
    /// Median per-pair ratios of wall time to the shell's: with the lint, without it.
    ratio: (f64, f64),
    lint: Medians,
}

/// Medians of several runs of one command.
struct Medians {
    wall: f64,
    cpu: f64,
    peak_mib: f64,
}

impl Medians {
    fn of(samples: &[Sample]) -> Self {
        let pick = |value: fn(&Sample) -> f64| {
            let mut values: Vec<f64> = samples.iter().map(value).collect();
            median(&mut values)
        };
        Medians {
            wall: pick(|s| s.wall.as_secs_f64()),
            cpu: pick(|s| s.cpu.as_secs_f64()),
            peak_mib: pick(|s| s.max_rss_kib as f64 / 1024.0),
        }
    }
}

fn bench_size(godwit: &Path, dir: &Path, script: &Path, bytes: u64) -> Result<SizeResult, String> {
    let db = dir.join("bench.db");
    let url = format!("sqlite:{}", db.display());
    let migrate = |extra: &[&str]| -> Result<Sample, String> {
        remove(&db);
        measure(
            Command::new(godwit)
                .current_dir(dir)
                .env_remove("DATABASE_URL")
                .args(["--quiet", "--url", &url, "migrate"])
                .args(extra),
            "godwit migrate",
        )
    };
    let shell = || -> Result<Sample, String> {
        remove(&db);
        let input = std::fs::File::open(dir.join("baseline.sql"))
            .map_err(|e| format!("cannot open the baseline script: {e}"))?;
        measure(Command::new("sqlite3").arg(&db).stdin(input), "sqlite3")
    };
    let lint = || {
        measure(
            Command::new(godwit)
                .current_dir(dir)
                .env_remove("DATABASE_URL")
                .args(["--quiet", "lint", "--dialect", "sqlite"])
                .arg(script),
            "godwit lint",
        )
    };

    let (mut with, mut without, mut base, mut linted) = (vec![], vec![], vec![], vec![]);
    for run in 0..=RUNS {
        let samples = (migrate(&[])?, migrate(&["--no-lint"])?, shell()?, lint()?);
        // The first round warms the page cache and is not counted.
        if run > 0 {
            with.push(samples.0);
            without.push(samples.1);
            base.push(samples.2);
            linted.push(samples.3);
        }
    }
    let ratio = |side: &[Sample]| {
        let mut ratios: Vec<f64> = side
            .iter()
            .zip(&base)
            .map(|(g, b)| g.wall.as_secs_f64() / b.wall.as_secs_f64())
            .collect();
        median(&mut ratios)
    };
    Ok(SizeResult {
        bytes,
        ratio: (ratio(&with), ratio(&without)),
        migrate: Medians::of(&with),
        no_lint: Medians::of(&without),
        baseline: Medians::of(&base),
        lint: Medians::of(&linted),
    })
}

impl SizeResult {
    fn print(&self) {
        let line = |what: &str, m: &Medians| {
            format!(
                "  {what:<24} wall {:>6.2} s  cpu {:>6.2} s  peak {:>7.1} MiB",
                m.wall, m.cpu, m.peak_mib
            )
        };
        println!(
            "{} | ratio to sqlite3 {:.2}x",
            line("godwit migrate", &self.migrate),
            self.ratio.0
        );
        println!(
            "{} | ratio to sqlite3 {:.2}x",
            line("godwit migrate --no-lint", &self.no_lint),
            self.ratio.1
        );
        println!("{}", line("sqlite3 (BEGIN; ...; COMMIT;)", &self.baseline));
        println!(
            "{} | peak / file size {:.1}x",
            line("godwit lint", &self.lint),
            self.memory_ratio()
        );
    }

    fn memory_ratio(&self) -> f64 {
        self.lint.peak_mib * 1024.0 * 1024.0 / self.bytes as f64
    }

    /// Whether the targets are met, on the largest size.
    fn verdict(&self) {
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        println!(
            "target: godwit migrate within {TIME_TARGET}x of sqlite3 on the largest script: {} \
             ({:.2}x; without the lint {:.2}x)",
            met(self.ratio.0 <= TIME_TARGET),
            self.ratio.0,
            self.ratio.1
        );
        println!(
            "target: godwit lint's peak memory within {MEMORY_TARGET}x the file's size: {} ({:.1}x)",
            met(self.memory_ratio() <= MEMORY_TARGET),
            self.memory_ratio()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_has_the_rows_and_the_size_asked_for() {
        let mut sql = String::new();
        write_script(1_000, &mut |chunk| {
            sql.push_str(chunk);
            Ok(())
        })
        .unwrap();
        assert_eq!(sql.matches("INSERT INTO items").count(), 1_000);
        assert_eq!(sql.matches("CREATE ").count(), 3);
        let per_row = sql.len() / 1_000;
        assert!((400..480).contains(&per_row), "{per_row} bytes per row");
    }

    #[test]
    fn the_baseline_is_the_migration_in_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let migration = std::fs::read_to_string(generate(dir.path(), 10).unwrap()).unwrap();
        let baseline = std::fs::read_to_string(dir.path().join("baseline.sql")).unwrap();
        assert_eq!(baseline, format!("BEGIN;\n{migration}COMMIT;\n"));
        assert_eq!(migration.matches("INSERT INTO items").count(), 10);
    }
}
