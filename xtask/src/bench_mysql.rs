//! `cargo xtask bench mysql`: the `bench` figures on MySQL/MariaDB, and what loading the
//! dialect as a plugin costs.
//!
//! - `godwit migrate` (release build, the `mysql` feature compiled in) applying the generated
//!   migrations to a fresh database, against the `mariadb` client running the same SQL as one
//!   plain script. MySQL commits around every DDL statement, so a transaction per file, as the
//!   other engines' baselines have, is not something the client could do either.
//! - `godwit status` and a `godwit migrate` with nothing to do on the applied database, against
//!   `mariadb -e 'select 1'`.
//! - `godwit status` on that database by a godwit built without the `mysql` feature that loads
//!   the MySQL plugin (`libgodwit_mysql.so`), against the build with the dialect compiled in:
//!   the plugin's overhead, meant to stay within [`PLUGIN_TARGET`].
//!
//! The server is the one `GODWIT_TEST_MYSQL_URL` names, else a throwaway MariaDB. Every run
//! gets a database of its own, all dropped afterwards whatever the result.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bench::{
    COUNT, Comparison, DAILY, DAILY_RUNS, cargo_release, compare_runs, godwit_process,
    write_migrations,
};
use crate::mariadb::{MYSQL_URL_VAR, MariaDb};
use crate::measure::{percent_decode, timed, with_database};
use crate::project_root;

/// Counted runs of each side of `migrate` (after one warm-up pair). Fewer than on the other
/// engines: MySQL creates a file per table and syncs each commit, so on a server that flushes
/// its log at every commit one run of godwit takes minutes (four commits per migration: the
/// history row before, each DDL statement, the row after). A run's 1,000 migrations already
/// average out one statement's noise.
const RUNS: usize = 2;

/// The plugin's `status` is meant to stay within this many times the compiled-in dialect's.
const PLUGIN_TARGET: f64 = 1.2;

/// The `mysql` bench. It builds what it compares itself: two godwit binaries, with and without
/// the `mysql` feature, and the plugin.
pub(crate) fn run() -> Result<(), String> {
    if std::env::var_os("GODWIT_BENCH_BINARY").is_some() {
        return Err(
            "GODWIT_BENCH_BINARY names one binary, but `cargo xtask bench mysql` compares two \
             builds (with the mysql feature, and without it loading the plugin) and builds both \
             itself; unset GODWIT_BENCH_BINARY"
                .into(),
        );
    }
    let work = tempfile::Builder::new()
        .prefix("godwit-bench-mysql-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let builds = Builds::make(work.path())?;
    let script = generate(work.path())?;

    // Keep the server (if we started one) alive until the runs are over.
    let (admin_url, _server) = match std::env::var(MYSQL_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => (url, None),
        _ => {
            let server = MariaDb::start()?;
            (server.url().to_string(), Some(server))
        }
    };
    let admin = Client::from_url(&admin_url)?;
    println!(
        "{COUNT} migrations (CREATE TABLE with 3 columns + CREATE INDEX each), {RUNS} runs per side after a warm-up pair"
    );

    let created = RefCell::new(Vec::<String>::new());
    let result = measure(work.path(), &builds, &script, &admin_url, &admin, &created);
    for name in created.borrow().iter() {
        let _ = admin.execute(&format!("DROP DATABASE IF EXISTS `{name}`"));
    }
    let figures = result?;
    figures.print();
    Ok(())
}

/// What the bench runs: godwit with the dialect compiled in, and godwit without it with a
/// folder holding only the plugin.
struct Builds {
    compiled_in: PathBuf,
    host: PathBuf,
    plugins: PathBuf,
}

impl Builds {
    /// Build the three artifacts and copy them into `dir`: the two binaries share one output
    /// path, which the second build would overwrite.
    fn make(dir: &Path) -> Result<Builds, String> {
        let release = project_root().join("target/release");
        let keep = |from: &Path, to: &Path| {
            std::fs::copy(from, to)
                .map(|_| ())
                .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
        };
        eprintln!("building godwit with the mysql feature (release)");
        cargo_release(
            &["-p", "godwit-cli", "--bin", "godwit", "--features", "mysql"],
            "godwit with the mysql feature",
        )?;
        let compiled_in = dir.join("godwit-mysql");
        keep(&release.join("godwit"), &compiled_in)?;

        eprintln!("building the MySQL plugin (release)");
        cargo_release(
            &["-p", "godwit-mysql", "--features", "plugin"],
            "the MySQL plugin",
        )?;
        let library = format!(
            "{}godwit_mysql{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        );
        let plugins = dir.join("plugins");
        std::fs::create_dir_all(&plugins).map_err(|e| e.to_string())?;
        keep(&release.join(&library), &plugins.join(&library))?;

        // The same backends as the first build but MySQL, so that the plugin is the only
        // difference between them.
        eprintln!("building godwit without the mysql feature (release)");
        cargo_release(
            &[
                "-p",
                "godwit-cli",
                "--bin",
                "godwit",
                "--no-default-features",
                "--features",
                "sqlite,postgres,plugins",
            ],
            "godwit without the mysql feature",
        )?;
        let host = dir.join("godwit-host");
        keep(&release.join("godwit"), &host)?;
        Ok(Builds {
            compiled_in,
            host,
            plugins,
        })
    }
}

/// Write the migrations and `godwit.toml` into `dir`, and the baseline: the same SQL as one
/// plain script, which the client runs statement by statement. Returns the script.
fn generate(dir: &Path) -> Result<PathBuf, String> {
    let script = dir.join("baseline.sql");
    std::fs::write(&script, write_migrations(dir, "VARCHAR(255)")?.concat())
        .map_err(|e| e.to_string())?;
    Ok(script)
}

/// What one run of the bench measured.
struct Figures {
    migrate: Comparison,
    daily: Vec<Comparison>,
    plugin: Comparison,
}

impl Figures {
    fn print(&self) {
        self.migrate.print("MySQL", "mariadb");
        for (command, comparison) in DAILY.iter().zip(&self.daily) {
            comparison.print_as("MySQL", &command.join(" "), "mariadb -e 'select 1'");
        }
        self.plugin
            .print_as("MySQL", "status as a plugin", "godwit status compiled in");
        let ratio = self.plugin.ratio();
        println!(
            "MySQL      the plugin's status is {ratio:.2}x the compiled-in dialect's: {} (target: within {PLUGIN_TARGET:.1}x)",
            if ratio <= PLUGIN_TARGET {
                "met"
            } else {
                "NOT met"
            }
        );
    }
}

/// Run every comparison; record each database created in `created`, for the caller to drop.
fn measure(
    dir: &Path,
    builds: &Builds,
    script: &Path,
    admin_url: &str,
    admin: &Client,
    created: &RefCell<Vec<String>>,
) -> Result<Figures, String> {
    let fresh = |label: &str| -> Result<String, String> {
        let name = format!(
            "godwit_bench_{label}_{}_{}",
            std::process::id(),
            created.borrow().len()
        );
        admin.execute(&format!("CREATE DATABASE `{name}`"))?;
        created.borrow_mut().push(name.clone());
        Ok(with_database(admin_url, &name))
    };
    // The compiled-in build sees no plugin: none in its environment, and an empty default
    // folder (on Linux, where the default folder follows XDG_DATA_HOME).
    let data_home = dir.join("data");
    let compiled_in = |url: &str, command: &[&str]| {
        timed(
            godwit_process(&builds.compiled_in, dir, url, command)
                .env_remove("GODWIT_PLUGIN_PATH")
                .env("XDG_DATA_HOME", &data_home),
            "godwit",
        )
    };
    let applied = RefCell::new(None::<String>);
    let migrate = compare_runs(
        RUNS,
        || {
            let url = fresh("godwit")?;
            let took = compiled_in(&url, &["migrate"])?;
            applied.replace(Some(url));
            Ok(took)
        },
        || {
            let url = fresh("mariadb")?;
            let script = std::fs::File::open(script)
                .map_err(|e| format!("cannot open the baseline script: {e}"))?;
            timed(Client::from_url(&url)?.command().stdin(script), "mariadb")
        },
    )?;
    // The commands users run all day, on the database the last run of godwit migrated.
    let url = applied
        .into_inner()
        .ok_or("no run of godwit migrate finished")?;
    let client = Client::from_url(&url)?;
    let daily = DAILY
        .iter()
        .map(|command| {
            compare_runs(
                DAILY_RUNS,
                || compiled_in(&url, command),
                || timed(client.command().args(["-e", "select 1"]), "mariadb"),
            )
        })
        .collect::<Result<Vec<_>, String>>()?;
    // Without the plugin, the host must fail: one that served MySQL itself would compare the
    // compiled-in dialect with itself.
    let host = |plugins: Option<&Path>| {
        let mut process = godwit_process(&builds.host, dir, &url, &["status"]);
        process.env("XDG_DATA_HOME", &data_home);
        match plugins {
            Some(folder) => process.env("GODWIT_PLUGIN_PATH", folder),
            None => process.env_remove("GODWIT_PLUGIN_PATH"),
        };
        timed(&mut process, "godwit (MySQL as a plugin)")
    };
    if host(None).is_ok() {
        return Err(format!(
            "{} served MySQL without the plugin; it must be built without the mysql feature",
            builds.host.display()
        ));
    }
    let plugin = compare_runs(
        DAILY_RUNS,
        || host(Some(&builds.plugins)),
        || compiled_in(&url, &["status"]),
    )?;
    Ok(Figures {
        migrate,
        daily,
        plugin,
    })
}

/// How to reach a server with the `mariadb` client, read from a `mysql://` or `mariadb://`
/// URL.
#[derive(Debug, PartialEq)]
struct Client {
    /// Connection options, then the database when the URL names one.
    args: Vec<String>,
    /// Given to the client in its environment (`MYSQL_PWD`), never on its command line.
    password: Option<String>,
}

impl Client {
    /// Read `scheme://[user[:password]@]host[:port][/database][?socket=PATH]`.
    fn from_url(url: &str) -> Result<Client, String> {
        let invalid =
            |why: &str| format!("cannot read the MySQL URL `{url}` for the mariadb client: {why}");
        let rest = url
            .strip_prefix("mysql://")
            .or_else(|| url.strip_prefix("mariadb://"))
            .ok_or_else(|| invalid("it must start with mysql:// or mariadb://"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
        let (credentials, address) = match authority.rsplit_once('@') {
            Some((credentials, address)) => (Some(credentials), address),
            None => (None, authority),
        };
        let mut args = Vec::new();
        let mut password = None;
        if let Some(credentials) = credentials {
            let (user, pass) = match credentials.split_once(':') {
                Some((user, pass)) => (user, Some(pass)),
                None => (credentials, None),
            };
            args.push(format!(
                "--user={}",
                percent_decode(user).map_err(|e| invalid(&e))?
            ));
            password = pass
                .map(percent_decode)
                .transpose()
                .map_err(|e| invalid(&e))?;
        }
        // A bracketed IPv6 address holds colons of its own.
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, Some(port)),
            _ => (address, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !host.is_empty() {
            args.push(format!("--host={host}"));
        }
        if let Some(port) = port {
            args.push(format!("--port={port}"));
        }
        // Other options, such as ssl-mode, concern the connection godwit makes; the client
        // follows its own configuration.
        for pair in query.split('&') {
            if let Some(("socket", socket)) = pair.split_once('=') {
                let socket = percent_decode(socket).map_err(|e| invalid(&e))?;
                args.push(format!("--socket={socket}"));
            }
        }
        args.push("--batch".into());
        if !database.is_empty() {
            args.push(percent_decode(database).map_err(|e| invalid(&e))?);
        }
        Ok(Client { args, password })
    }

    /// The `mariadb` client connected as the URL says, ready for more arguments.
    fn command(&self) -> Command {
        let mut command = Command::new("mariadb");
        command.args(&self.args);
        match &self.password {
            Some(password) => command.env("MYSQL_PWD", password),
            None => command.env_remove("MYSQL_PWD"),
        };
        command
    }

    /// Run one SQL statement, which must succeed.
    fn execute(&self, sql: &str) -> Result<(), String> {
        timed(self.command().args(["-e", sql]), "mariadb").map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_arguments_follow_the_url() {
        let cases: &[(&str, &[&str], Option<&str>)] = &[
            (
                "mysql://root@127.0.0.1:3306/test",
                &[
                    "--user=root",
                    "--host=127.0.0.1",
                    "--port=3306",
                    "--batch",
                    "test",
                ],
                None,
            ),
            (
                "mariadb://app:p%40ss%3Aw@db.example:3307/",
                &["--user=app", "--host=db.example", "--port=3307", "--batch"],
                Some("p@ss:w"),
            ),
            (
                "mysql://root@localhost/bench?socket=%2Ftmp%2Fm.sock&ssl-mode=disabled",
                &[
                    "--user=root",
                    "--host=localhost",
                    "--socket=/tmp/m.sock",
                    "--batch",
                    "bench",
                ],
                None,
            ),
            (
                "mysql://root@[::1]:3306/x",
                &["--user=root", "--host=::1", "--port=3306", "--batch", "x"],
                None,
            ),
        ];
        for (url, args, password) in cases {
            let client = Client::from_url(url).unwrap();
            assert_eq!(client.args, *args, "{url}");
            assert_eq!(client.password.as_deref(), *password, "{url}");
        }
    }

    #[test]
    fn unreadable_urls_are_refused() {
        for url in ["postgres://root@localhost/x", "mysql://r:%zz@localhost/x"] {
            assert!(Client::from_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn the_baseline_is_the_migrations_as_one_plain_script() {
        let dir = tempfile::tempdir().unwrap();
        let script = std::fs::read_to_string(generate(dir.path()).unwrap()).unwrap();
        assert!(!script.contains("BEGIN"));
        assert_eq!(script.matches("CREATE INDEX").count(), COUNT);
        // MySQL cannot index a TEXT column without a prefix length.
        assert_eq!(script.matches("name VARCHAR(255) NOT NULL").count(), COUNT);
        let files = std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .count();
        assert_eq!(files, COUNT);
    }
}
