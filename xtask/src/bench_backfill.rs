//! `bench backfill`: a backfill of 1,000,000 rows on PostgreSQL against one `UPDATE` of the
//! whole table, with and without another process updating random rows meanwhile.
//!
//! The other process is `pgbench` running `UPDATE items SET payload = ... WHERE id = :id` on
//! one connection for a fixed time that covers the measured work, its per-transaction log
//! giving the worst latency. A single `UPDATE` holds every row's lock until it commits, so a
//! writer that meets a row it changed waits for the whole statement; a backfill holds a batch's
//! rows for the length of that batch. godwit reports the longest a batch held its locks
//! (`longest_lock_ms` of its JSON progress events).
//!
//! The server is the one `GODWIT_TEST_PG_URL` names, else a throwaway cluster (which runs with
//! `fsync=off`, so commits cost less than on a real server: say which in the report).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::{median, psql, timed, with_database};
use crate::pg::{Cluster, PG_URL_VAR, find_bindir};

/// Rows in the table.
const ROWS: u64 = 1_000_000;

/// Counted runs of each side.
const RUNS: usize = 3;

/// `cargo xtask bench backfill`.
pub(crate) fn run(godwit: &Path) -> Result<(), String> {
    let pgbench = find_bindir()
        .map(|dir| dir.join("pgbench"))
        .ok()
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("pgbench"));
    let (admin_url, _cluster, server) = match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => (url, None, "the server of GODWIT_TEST_PG_URL"),
        _ => {
            let cluster = Cluster::start()?;
            (
                cluster.url().to_string(),
                Some(cluster),
                "a throwaway cluster (fsync=off)",
            )
        }
    };
    let database = format!("godwit_bench_backfill_{}", std::process::id());
    psql(&admin_url, &format!("CREATE DATABASE {database}"))?;
    let url = with_database(&admin_url, &database);
    let result = bench(godwit, &pgbench, &url);
    psql(
        &admin_url,
        &format!("DROP DATABASE {database} WITH (FORCE)"),
    )?;
    let figures = result?;
    println!("backfill of {ROWS} rows on PostgreSQL ({server}), {RUNS} runs per side, medians:");
    figures.print();
    Ok(())
}

struct Figures {
    update: Vec<f64>,
    backfill: Vec<f64>,
    update_loaded: Vec<f64>,
    backfill_loaded: Vec<f64>,
    lock_ms: Vec<f64>,
    worst_idle_ms: Vec<f64>,
    worst_update_ms: Vec<f64>,
    worst_backfill_ms: Vec<f64>,
}

impl Figures {
    fn print(mut self) {
        let update = median(&mut self.update);
        let backfill = median(&mut self.backfill);
        let update_loaded = median(&mut self.update_loaded);
        let backfill_loaded = median(&mut self.backfill_loaded);
        println!("  one UPDATE of the table         {update:>8.2} s");
        println!(
            "  godwit backfill (batches 1000)  {backfill:>8.2} s   {:.2}x the UPDATE (target 1.5x)",
            backfill / update
        );
        println!("  with a writer updating random rows meanwhile:");
        println!("    one UPDATE                    {update_loaded:>8.2} s");
        println!(
            "    godwit backfill               {backfill_loaded:>8.2} s   {:.2}x the UPDATE",
            backfill_loaded / update_loaded
        );
        println!(
            "  longest a batch held its locks  {:>8.1} ms (target < 100 ms; worst of all runs {:.1} ms)",
            median(&mut self.lock_ms),
            self.lock_ms.iter().copied().fold(0.0, f64::max)
        );
        println!("  the writer's worst latency:");
        println!(
            "    alone                         {:>8.1} ms",
            median(&mut self.worst_idle_ms)
        );
        println!(
            "    during the UPDATE             {:>8.1} ms",
            median(&mut self.worst_update_ms)
        );
        println!(
            "    during the backfill           {:>8.1} ms",
            median(&mut self.worst_backfill_ms)
        );
    }
}

fn bench(godwit: &Path, pgbench: &Path, url: &str) -> Result<Figures, String> {
    psql(
        url,
        &format!(
            "CREATE TABLE items (id BIGINT PRIMARY KEY, counter BIGINT NOT NULL DEFAULT 0, \
             payload TEXT NOT NULL DEFAULT ''); \
             INSERT INTO items (id) SELECT generate_series(1, {ROWS})"
        ),
    )?;
    // On its own: `psql -c` runs several statements in one transaction, VACUUM in none.
    psql(url, "VACUUM ANALYZE items")?;
    let work = tempfile::Builder::new()
        .prefix("godwit-bench-backfill-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    std::fs::create_dir(work.path().join("migrations"))
        .map_err(|e| format!("cannot create the migrations folder: {e}"))?;
    std::fs::write(
        work.path().join("migrations/1_count.toml"),
        "[[op]]\nkind = \"backfill\"\ntable = \"items\"\nset = { counter = \"counter + 1\" }\n",
    )
    .map_err(|e| format!("cannot write the migration: {e}"))?;
    let script = work.path().join("writer.sql");
    std::fs::write(
        &script,
        format!("\\set id random(1, {ROWS})\nUPDATE items SET payload = 'w' WHERE id = :id;\n"),
    )
    .map_err(|e| format!("cannot write the writer's script: {e}"))?;

    let update = || {
        let took = timed(
            Command::new("psql").args([
                "-q",
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                "UPDATE items SET counter = counter + 1",
                url,
            ]),
            "psql",
        )?;
        // Each side leaves a dead copy of every row: vacuum it away so runs start alike.
        psql(url, "VACUUM items")?;
        Ok::<_, String>((took.as_secs_f64(), 0.0))
    };
    let backfill = || {
        psql(
            url,
            "DROP TABLE IF EXISTS godwit_migrations, godwit_migrations_meta, godwit_backfills",
        )?;
        let (took, lock_ms) = godwit_backfill(godwit, work.path(), url)?;
        psql(url, "VACUUM items")?;
        Ok::<_, String>((took, lock_ms))
    };

    let mut figures = Figures {
        update: Vec::new(),
        backfill: Vec::new(),
        update_loaded: Vec::new(),
        backfill_loaded: Vec::new(),
        lock_ms: Vec::new(),
        worst_idle_ms: Vec::new(),
        worst_update_ms: Vec::new(),
        worst_backfill_ms: Vec::new(),
    };
    // A warm-up pair, then the counted runs, alternating so drift hits both sides alike.
    update()?;
    backfill()?;
    for _ in 0..RUNS {
        figures.update.push(update()?.0);
        let (took, lock_ms) = backfill()?;
        figures.backfill.push(took);
        figures.lock_ms.push(lock_ms);
    }
    let slowest = figures
        .update
        .iter()
        .chain(&figures.backfill)
        .copied()
        .fold(0.0, f64::max);
    // The writer runs for longer than the slowest side took without it, twice over, so it
    // covers the work it meets from start to end; its worst latency is taken over all of it.
    let window = Duration::from_secs_f64(slowest * 2.0 + 2.0);
    for _ in 0..RUNS {
        let (took, worst) = under_load(pgbench, &script, url, work.path(), window, &update)?;
        figures.update_loaded.push(took.0);
        figures.worst_update_ms.push(worst);
        let (took, worst) = under_load(pgbench, &script, url, work.path(), window, &backfill)?;
        figures.backfill_loaded.push(took.0);
        figures.lock_ms.push(took.1);
        figures.worst_backfill_ms.push(worst);
        let (_, worst) = under_load(
            pgbench,
            &script,
            url,
            work.path(),
            Duration::from_secs(3),
            &|| Ok((0.0, 0.0)),
        )?;
        figures.worst_idle_ms.push(worst);
    }
    Ok(figures)
}

/// `godwit migrate` of the backfill: its wall time in seconds, and the longest a batch held
/// its locks, from its last JSON progress event.
fn godwit_backfill(godwit: &Path, dir: &Path, url: &str) -> Result<(f64, f64), String> {
    let start = Instant::now();
    let mut child = Command::new(godwit)
        .current_dir(dir)
        .args(["--format", "json", "--url", url, "migrate"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run godwit: {e}"))?;
    let mut lock_ms = 0.0;
    let mut other = String::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            match field(&line, "\"longest_lock_ms\":") {
                Some(ms) => lock_ms = ms,
                None => other.push_str(&line),
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for godwit failed: {e}"))?;
    if !status.success() {
        return Err(format!("godwit migrate failed ({status}): {other}"));
    }
    Ok((start.elapsed().as_secs_f64(), lock_ms))
}

/// The number after `key` in a JSON line, if the line has it.
fn field(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Run `work` while `pgbench` updates random rows for `window`: what `work` returns, and the
/// writer's worst latency in milliseconds.
fn under_load(
    pgbench: &Path,
    script: &Path,
    url: &str,
    dir: &Path,
    window: Duration,
    work: &dyn Fn() -> Result<(f64, f64), String>,
) -> Result<((f64, f64), f64), String> {
    let logs = dir.join("pgbench");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let mut writer: Child = Command::new(pgbench)
        .current_dir(&logs)
        .args(["-n", "-c", "1", "-l", "-T"])
        .arg(window.as_secs().max(1).to_string())
        .arg("-f")
        .arg(script)
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", pgbench.display()))?;
    // Let the writer connect and settle before the work starts.
    std::thread::sleep(Duration::from_millis(500));
    let result = work();
    let status = writer
        .wait()
        .map_err(|e| format!("waiting for pgbench failed: {e}"))?;
    let result = result?;
    if !status.success() {
        let mut message = String::new();
        if let Some(mut stderr) = writer.stderr.take() {
            use std::io::Read;
            let _ = stderr.read_to_string(&mut message);
        }
        return Err(format!("pgbench failed ({status}): {message}"));
    }
    // Each line of pgbench's log: client, transaction, latency in microseconds, ...
    let mut worst_us = 0u64;
    for entry in std::fs::read_dir(&logs).map_err(|e| format!("cannot read pgbench's log: {e}"))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for line in text.lines() {
            if let Some(latency) = line.split_whitespace().nth(2).and_then(|t| t.parse().ok()) {
                worst_us = worst_us.max(latency);
            }
        }
    }
    Ok((result, worst_us as f64 / 1000.0))
}
