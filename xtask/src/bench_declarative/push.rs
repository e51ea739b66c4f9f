//! The PostgreSQL figures of issue 13 §1, all measured in one run against one server:
//!
//! - the floor: a 200-table schema sent by `psql` as one message (statements joined by `\;`),
//!   which runs as one transaction, into an empty database;
//! - the 20-table change itself, sent by `psql` the same way to a database holding the schema;
//! - `godwit push` of that change (the schema file is out of dependency order, as declarative
//!   files may be), against 1.3x the floor plus the change;
//! - `push` and `diff` of an unchanged 1,000-table schema, against 2x `inspect`;
//! - `generate` against 1.2x `push --dry-run`, on the same change.
//!
//! Medians of [`RUNS`] runs after a warm-up, and the queries each command sends, counted once
//! on the wire by [`QueryCounter`] (simple `Query` and extended `Execute` messages: round
//! trips, not the statements inside one message). The server should run with fsync on, as a
//! real one does: the figures then include what durable catalog writes cost.

use std::path::Path;
use std::process::Command;

use super::wire::QueryCounter;
use super::{RUNS, godwit, measure};
use crate::measure::{psql, with_database};

/// Tables of the schema the change is pushed to.
const TABLES: usize = 200;

/// Tables the change alters.
const CHANGED: usize = 20;

/// Tables of the unchanged schema.
const UNCHANGED_TABLES: usize = 1000;

/// The two tables table `i` references. Even tables reference earlier even tables; odd ones
/// the even table after them (defined further down, as a declarative file may have it) and
/// the odd table before them: the file loads in two passes, never in a cycle.
fn referenced(i: usize) -> (usize, usize) {
    let before = if i > 2 { i - 2 } else { i };
    if i % 2 == 1 {
        (i + 1, before)
    } else {
        (before, before)
    }
}

/// The statements of table `i`: 8 columns, 2 foreign keys ([`referenced`]) and 4 indexes.
/// With `inline`, the keys are in the `CREATE TABLE`; without, they come as `ALTER TABLE`
/// statements for [`ordered_keys`]. A `changed` table has one more column and index.
fn table(i: usize, inline: bool, changed: bool) -> Vec<String> {
    let (next, prev) = referenced(i);
    let keys = if inline {
        format!(
            ",\n    next_id integer REFERENCES t{next} (id),\n    prev_id integer REFERENCES t{prev} (id)"
        )
    } else {
        ",\n    next_id integer,\n    prev_id integer".into()
    };
    let extra = if changed { ",\n    note text" } else { "" };
    let mut statements = vec![format!(
        "CREATE TABLE t{i} (\n    id integer PRIMARY KEY,\n    name text NOT NULL,\n    \
         score integer DEFAULT 0,\n    created_at timestamptz NOT NULL DEFAULT now(),\n    \
         flag boolean,\n    amount numeric(12, 2){keys}{extra}\n)"
    )];
    for (index, columns) in [
        ("name", "name"),
        ("score", "score, created_at"),
        ("next", "next_id"),
        ("prev", "prev_id"),
    ] {
        statements.push(format!("CREATE INDEX t{i}_{index} ON t{i} ({columns})"));
    }
    if changed {
        statements.push(format!("CREATE INDEX t{i}_note ON t{i} (note)"));
    }
    statements
}

fn ordered_keys(i: usize) -> Vec<String> {
    let (next, prev) = referenced(i);
    vec![
        format!("ALTER TABLE t{i} ADD FOREIGN KEY (next_id) REFERENCES t{next} (id)"),
        format!("ALTER TABLE t{i} ADD FOREIGN KEY (prev_id) REFERENCES t{prev} (id)"),
    ]
}

/// The schema file godwit reads: foreign keys inline, out of dependency order. The first
/// `changed` tables have one more column and index.
fn schema_file(tables: usize, changed: usize) -> String {
    (1..=tables)
        .flat_map(|i| table(i, true, i <= changed))
        .map(|s| s + ";\n")
        .collect()
}

/// The same schema in an order the server accepts: tables, then their keys.
fn ordered(tables: usize) -> Vec<String> {
    (1..=tables)
        .flat_map(|i| table(i, false, false))
        .chain((1..=tables).flat_map(ordered_keys))
        .collect()
}

/// [`ordered`] as one psql message (`\;` joins statements into one query string, which the
/// server runs as one transaction).
fn one_message(tables: usize) -> String {
    ordered(tables).join(" \\;\n") + ";\n"
}

/// The change, as one psql message.
fn change_message(changed: usize) -> String {
    let statements: Vec<String> = (1..=changed)
        .flat_map(|i| {
            [
                format!("ALTER TABLE t{i} ADD COLUMN note text"),
                format!("CREATE INDEX t{i}_note ON t{i} (note)"),
            ]
        })
        .collect();
    statements.join(" \\;\n") + ";\n"
}

fn psql_file(url: &str, file: &Path) -> Result<f64, String> {
    measure(
        Command::new("psql")
            .args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(file)
            .arg(url),
        "psql",
    )
    .map(|sample| sample.wall.as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    crate::measure::median(&mut values)
}

/// Databases made on the server, dropped at the end whatever happened.
struct Databases<'a> {
    admin: &'a str,
    names: &'a mut Vec<String>,
}

impl Databases<'_> {
    fn fresh(&mut self, label: &str) -> Result<(String, String), String> {
        let name = format!(
            "godwit_bench_push_{label}_{}_{}",
            std::process::id(),
            self.names.len()
        );
        psql(self.admin, &format!("CREATE DATABASE {name}"))?;
        self.names.push(name.clone());
        Ok((with_database(self.admin, &name), name))
    }

    fn drop(&mut self, name: &str) {
        let _ = psql(
            self.admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        self.names.retain(|n| n != name);
    }
}

/// One timed godwit command: median seconds over [`RUNS`] runs after a warm-up, each run
/// prepared by `prepare` (untimed), which returns the URL to run against.
fn timed(
    what: &str,
    mut prepare: impl FnMut() -> Result<String, String>,
    mut command: impl FnMut(&str) -> Command,
) -> Result<f64, String> {
    let mut walls = Vec::with_capacity(RUNS);
    for run in 0..=RUNS {
        let url = prepare()?;
        let sample = measure(&mut command(&url), what)?;
        if run > 0 {
            walls.push(sample.wall.as_secs_f64());
        }
    }
    Ok(median(walls))
}

/// The queries one run of `command` sends, through the counting relay.
fn counted(
    counter: &QueryCounter,
    relayed: &str,
    database: &str,
    what: &str,
    mut command: impl FnMut(&str) -> Command,
) -> Result<usize, String> {
    counter.take();
    measure(&mut command(&with_database(relayed, database)), what)?;
    Ok(counter.take())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// Run the §1 figures on the server at `admin`; every database made is pushed onto `created`.
pub(super) fn run(
    admin: &str,
    binary: &Path,
    dir: &Path,
    created: &mut Vec<String>,
) -> Result<(), String> {
    let write = |name: &str, text: String| -> Result<std::path::PathBuf, String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {name}: {e}"))?;
        Ok(path)
    };
    let floor_file = write("floor.sql", one_message(TABLES))?;
    let change_file = write("change.sql", change_message(CHANGED))?;
    let changed_schema = write("changed.sql", schema_file(TABLES, CHANGED))?;
    let unchanged_schema = write("unchanged.sql", schema_file(UNCHANGED_TABLES, 0))?;
    let unchanged_floor = write("unchanged_floor.sql", one_message(UNCHANGED_TABLES))?;
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).map_err(|e| e.to_string())?;
    std::fs::write(
        migrations.join("1_schema.up.sql"),
        ordered(TABLES).join(";\n") + ";\n",
    )
    .map_err(|e| e.to_string())?;
    let path = |p: &Path| p.to_str().map(str::to_string).ok_or("path is not UTF-8");
    let changed_arg = path(&changed_schema)?;
    let unchanged_arg = path(&unchanged_schema)?;
    let mut dbs = Databases {
        admin,
        names: created,
    };
    let fsync = Command::new("psql")
        .args(["-X", "-A", "-t", "-c", "SHOW fsync", admin])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "PostgreSQL push figures (fsync={fsync}): {TABLES} tables (8 columns, 2 foreign keys, 4 indexes each), \
         {CHANGED} of them changed (a column and an index); median of {RUNS} runs after a warm-up"
    );

    // The floor and the change, by psql.
    let mut floor = Vec::new();
    let mut change = Vec::new();
    for run in 0..=RUNS {
        let (url, name) = dbs.fresh("floor")?;
        let f = psql_file(&url, &floor_file)?;
        let c = psql_file(&url, &change_file)?;
        dbs.drop(&name);
        if run > 0 {
            floor.push(f);
            change.push(c);
        }
    }
    let (floor, change) = (median(floor), median(change));
    // Each figure is printed as it is measured too, so an interrupted run keeps what it got.
    println!("  (measured: floor {floor:.3} s, change {change:.3} s)");

    // push of the change: each run on a fresh database holding the schema.
    let mut previous: Option<String> = None;
    let mut fresh_base = |dbs: &mut Databases<'_>| -> Result<String, String> {
        if let Some(name) = previous.take() {
            dbs.drop(&name);
        }
        let (url, name) = dbs.fresh("base")?;
        psql_file(&url, &floor_file)?;
        previous = Some(name);
        Ok(url)
    };
    let push_changed = |url: &str| {
        let mut command = godwit(
            binary,
            dir,
            url,
            &["push", "--yes", "--schema", &changed_arg],
        );
        command.arg("--quiet");
        command
    };
    let push_s = timed("godwit push", || fresh_base(&mut dbs), push_changed)?;
    println!("  (measured: push {push_s:.3} s)");
    let push_nocache_s = timed(
        "godwit push --no-cache",
        || fresh_base(&mut dbs),
        |url| {
            let mut command = push_changed(url);
            command.arg("--no-cache");
            command
        },
    )
    .ok();
    let dry = |url: &str| {
        godwit(
            binary,
            dir,
            url,
            &["push", "--dry-run", "--schema", &changed_arg],
        )
    };
    let generate = |url: &str| {
        let _ = std::fs::read_dir(&migrations).map(|entries| {
            for entry in entries.flatten() {
                if !entry.file_name().to_string_lossy().starts_with("1_") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        });
        godwit(
            binary,
            dir,
            url,
            &["generate", "change", "--schema", &changed_arg],
        )
    };
    let base_url = fresh_base(&mut dbs)?;
    let base_name = previous_name(&base_url);
    let dry_s = timed("godwit push --dry-run", || Ok(base_url.clone()), dry)?;
    println!("  (measured: push --no-cache {push_nocache_s:?} s, push --dry-run {dry_s:.3} s)");
    let generate_s = timed("godwit generate", || Ok(base_url.clone()), generate)?;
    println!("  (measured: generate {generate_s:.3} s)");

    // The unchanged 1,000 tables.
    let (big_url, big_name) = dbs.fresh("unchanged")?;
    psql_file(&big_url, &unchanged_floor)?;
    let inspect = |url: &str| godwit(binary, dir, url, &["--format", "json", "inspect"]);
    let push_same = |url: &str| godwit(binary, dir, url, &["push", "--schema", &unchanged_arg]);
    let diff_same = |url: &str| {
        godwit(
            binary,
            dir,
            url,
            &["diff", "--from", url, "--to", &unchanged_arg],
        )
    };
    let inspect_s = timed("godwit inspect", || Ok(big_url.clone()), inspect)?;
    println!("  (measured: inspect of {UNCHANGED_TABLES} tables {inspect_s:.3} s)");
    let push_same_s = timed("godwit push (unchanged)", || Ok(big_url.clone()), push_same)?;
    println!("  (measured: push unchanged {push_same_s:.3} s)");
    let diff_same_s = timed("godwit diff (unchanged)", || Ok(big_url.clone()), diff_same)?;

    // Round trips, counted once each through the relay.
    let (counter, relayed) = QueryCounter::start(admin)?;
    let (count_url, count_name) = dbs.fresh("count")?;
    psql_file(&count_url, &floor_file)?;
    let push_q = counted(&counter, &relayed, &count_name, "godwit push", push_changed)?;
    let (miss_url, miss_name) = dbs.fresh("count")?;
    psql_file(&miss_url, &floor_file)?;
    let push_nocache_q = counted(
        &counter,
        &relayed,
        &miss_name,
        "godwit push --no-cache",
        |url| {
            let mut command = push_changed(url);
            command.arg("--no-cache");
            command
        },
    )
    .ok();
    let dry_q = counted(&counter, &relayed, &base_name, "godwit push --dry-run", dry)?;
    let generate_q = counted(&counter, &relayed, &base_name, "godwit generate", generate)?;
    let inspect_q = counted(&counter, &relayed, &big_name, "godwit inspect", inspect)?;
    let push_same_q = counted(&counter, &relayed, &big_name, "godwit push", push_same)?;
    let diff_same_q = counted(&counter, &relayed, &big_name, "godwit diff", diff_same)?;

    println!("  floor: psql, the schema as one message         median {floor:.3} s (1 query)");
    println!("  the change alone: psql, one message            median {change:.3} s (1 query)");
    let bound = 1.3 * (floor + change);
    println!(
        "  push of the change                             median {push_s:.3} s, {push_q} queries; \
         {:.2}x floor+change; target <= 1.3x: {}",
        push_s / (floor + change),
        verdict(push_s <= bound)
    );
    // A cache hit after the warm-up is the figure of a push repeated; the edit-push-edit loop
    // of development changes the file each time, which is a miss: --no-cache measures that.
    if let (Some(nocache), Some(queries)) = (push_nocache_s, push_nocache_q) {
        println!(
            "  push of the change, --no-cache (a changed file) median {nocache:.3} s, {queries} queries; \
             {:.2}x floor+change; target <= 1.3x: {}",
            nocache / (floor + change),
            verdict(nocache <= bound)
        );
    }
    println!(
        "  inspect, {UNCHANGED_TABLES} tables                            median {inspect_s:.3} s, {inspect_q} queries"
    );
    println!(
        "  push, {UNCHANGED_TABLES} tables unchanged                     median {push_same_s:.3} s, {push_same_q} queries; \
         {:.2}x inspect; target <= 2x: {}",
        push_same_s / inspect_s,
        verdict(push_same_s <= 2.0 * inspect_s)
    );
    println!(
        "  diff, {UNCHANGED_TABLES} tables unchanged                     median {diff_same_s:.3} s, {diff_same_q} queries; \
         {:.2}x inspect; target <= 2x: {}",
        diff_same_s / inspect_s,
        verdict(diff_same_s <= 2.0 * inspect_s)
    );
    println!(
        "  push --dry-run of the change                   median {dry_s:.3} s, {dry_q} queries"
    );
    println!(
        "  generate of the change                         median {generate_s:.3} s, {generate_q} queries; \
         {:.2}x push --dry-run; target <= 1.2x: {}",
        generate_s / dry_s,
        verdict(generate_s <= 1.2 * dry_s)
    );
    Ok(())
}

/// The database name of a URL made by [`with_database`].
fn previous_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    base.rsplit('/').next().unwrap_or(base).to_string()
}
