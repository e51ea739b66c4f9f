//! A throwaway MariaDB server for the MySQL tests, and the `mariadb` task that starts one for
//! use by hand.
//!
//! The server lives in a fresh temporary directory: `mariadb-install-db` into `data/`, then
//! `mariadbd` on a unix socket in that directory and a free loopback port, with durability
//! turned off for speed. The machine's own server (port 3306) is never used. Its watchdog
//! ([`crate::server`]) kills the server, whose data nobody keeps, and deletes the directory.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::server::{Server, Watchdog, command_output};

/// The variable naming the MySQL or MariaDB server the tests use.
pub(crate) const MYSQL_URL_VAR: &str = "GODWIT_TEST_MYSQL_URL";

/// Kill the server once stdin closes (its data is thrown away, so no clean shutdown is
/// owed), wait for it to exit for at most 10 s, and delete the directory (`$1`).
const WATCHDOG_SCRIPT: &str = r#"
while read -r _; do :; done
pidfile="$1/mariadbd.pid"
if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill -KILL "$pid" 2>/dev/null
    tries=0
    while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 200 ]; do
        sleep 0.05
        tries=$((tries + 1))
    done
fi
rm -rf "$1"
"#;

/// The `mariadb` task: start a server, print how to use it, and keep it until Ctrl-C.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`mariadb` takes no arguments, got `{arg}`"));
    }
    MariaDb::start()?.0.hold(MYSQL_URL_VAR)
}

/// A running throwaway server. Dropping it stops the server and deletes its directory.
#[derive(Debug)]
pub(crate) struct MariaDb(Server);

impl MariaDb {
    /// Create a server in a new temporary directory, start it, and wait until it accepts
    /// connections.
    pub(crate) fn start() -> Result<MariaDb, String> {
        let (install, mariadbd) = find_programs()?;
        let dir = tempfile::Builder::new()
            .prefix("godwit-mariadb-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        // From here the watchdog owns the directory and deletes it, whatever happens to us.
        let watchdog = Watchdog::spawn(dir.path(), WATCHDOG_SCRIPT)?;
        let dir = dir.keep();
        eprintln!("starting a throwaway MariaDB in {}", dir.display());
        let started = Instant::now();
        // mariadbd refuses to run as root unless told to, and then runs as whoever we are.
        let user = format!("--user={}", command_output("id", &["-un"])?.trim());
        let data = dir.join("data");

        let installed = Command::new(&install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(&user)
            // root with an empty password over TCP too, as the tests connect.
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", install.display()))?;
        if !installed.status.success() {
            return Err(format!(
                "mariadb-install-db failed ({}):\n{}{}",
                installed.status,
                String::from_utf8_lossy(&installed.stdout),
                String::from_utf8_lossy(&installed.stderr)
            ));
        }

        let port = free_port()?;
        let socket = dir.join("mariadbd.sock");
        let log_path = dir.join("mariadbd.log");
        let log = File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", log_path.display()))?;
        let server = Command::new(&mariadbd)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", dir.join("mariadbd.pid").display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(&user)
            .args([
                "--skip-log-bin",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--innodb-buffer-pool-size=128M",
                "--max-connections=500",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", mariadbd.display()))?;

        let url = format!("mysql://root@localhost/?socket={}", socket.display());
        let server = Server::wait_until_ready(
            "MariaDB",
            url,
            log_path,
            server,
            watchdog,
            (&socket, "ready for connections"),
        )?;
        eprintln!(
            "MariaDB ready at {} ({:.1} s)",
            server.url(),
            started.elapsed().as_secs_f64()
        );
        Ok(MariaDb(server))
    }

    /// The URL to connect with, through the unix socket.
    pub(crate) fn url(&self) -> &str {
        self.0.url()
    }
}

/// A loopback port nobody listens on now. Another process may take it before the server
/// does; the server then fails to start and says so in its log.
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// `mariadb-install-db` and `mariadbd`: from PATH, else where Debian and Fedora put them
/// (`/usr/bin`, `/usr/sbin`, `/usr/libexec`).
fn find_programs() -> Result<(PathBuf, PathBuf), String> {
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/bin", "/usr/sbin", "/usr/libexec"].map(PathBuf::from))
        .collect();
    let find = |name: &str| {
        dirs.iter()
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    };
    match (find("mariadb-install-db"), find("mariadbd")) {
        (Some(install), Some(server)) => Ok((install, server)),
        _ => Err(format!(
            "no MariaDB server programs (mariadb-install-db and mariadbd) on PATH or in \
             /usr/bin, /usr/sbin or /usr/libexec; install MariaDB (Debian/Ubuntu: \
             `apt-get install mariadb-server`, macOS: `brew install mariadb`), or set \
             {MYSQL_URL_VAR}=mysql://USER@HOST:PORT/ to use a server of yours"
        )),
    }
}
