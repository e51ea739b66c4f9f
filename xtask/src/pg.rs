//! A throwaway PostgreSQL cluster, and the `pg` task that starts one for use by hand.
//!
//! The cluster lives in a fresh temporary directory: `initdb` into `data/`, then `postgres`
//! listening only on a unix socket in that directory, with durability turned off for speed.
//! PostgreSQL refuses to run as root, so under root both run as the `postgres` user.
//! Its watchdog ([`crate::server`]) stops the server with an immediate shutdown and deletes
//! the directory.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::server::{Server, Watchdog, command_output};

/// The variable naming the PostgreSQL server the tests use.
pub(crate) const PG_URL_VAR: &str = "GODWIT_TEST_PG_URL";

/// The port number, which here only names the socket file: the server listens on no TCP port
/// and its socket directory is private, so it cannot clash with another server.
const PORT: u16 = 5433;

/// The `pg` task: start a cluster, print how to use it, and keep it until Ctrl-C.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`pg` takes no arguments, got `{arg}`"));
    }
    Cluster::start()?.0.hold(PG_URL_VAR)
}

/// A running throwaway cluster. Dropping it stops the server and deletes its directory.
#[derive(Debug)]
pub(crate) struct Cluster(Server);

impl Cluster {
    /// Create a cluster in a new temporary directory, start it, and wait until it accepts
    /// connections.
    pub(crate) fn start() -> Result<Cluster, String> {
        let bindir = find_bindir()?;
        let version = server_version(&bindir)?;
        let owner = server_owner()?;

        let dir = tempfile::Builder::new()
            .prefix("godwit-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        // From here the watchdog owns the directory and deletes it, whatever happens to us.
        let watchdog = Watchdog::spawn(dir.path(), WATCHDOG_SCRIPT)?;
        let dir = dir.keep();
        eprintln!(
            "starting a throwaway PostgreSQL {version} in {}",
            dir.display()
        );
        let started = Instant::now();

        if let Some(owner) = owner {
            std::os::unix::fs::chown(&dir, Some(owner.uid), Some(owner.gid))
                .map_err(|e| format!("cannot give {} to user postgres: {e}", dir.display()))?;
        }
        let data = dir.join("data");
        let initdb = as_owner(Command::new(bindir.join("initdb")), owner, &dir)
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync"])
            .args(["-E", "UTF8", "--locale=C"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bindir.join("initdb").display()))?;
        if !initdb.status.success() {
            return Err(format!(
                "initdb failed ({}):\n{}{}",
                initdb.status,
                String::from_utf8_lossy(&initdb.stdout),
                String::from_utf8_lossy(&initdb.stderr)
            ));
        }

        let log_path = dir.join("postgres.log");
        let log = File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", log_path.display()))?;
        let server = as_owner(Command::new(bindir.join("postgres")), owner, &dir)
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&dir)
            .args(["-p", &PORT.to_string()])
            .args(["-c", "listen_addresses="])
            .args(["-c", "fsync=off"])
            .args(["-c", "full_page_writes=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bindir.join("postgres").display()))?;

        let url = format!(
            "postgres://postgres@localhost:{PORT}/postgres?host={}",
            percent_encode(dir.as_os_str())
        );
        let socket = dir.join(format!(".s.PGSQL.{PORT}"));
        let server = Server::wait_until_ready(
            "PostgreSQL",
            url,
            log_path,
            server,
            watchdog,
            (&socket, "ready to accept connections"),
        )?;
        eprintln!(
            "PostgreSQL ready at {} ({:.1} s)",
            server.url(),
            started.elapsed().as_secs_f64()
        );
        Ok(Cluster(server))
    }

    /// The URL to connect with, through the unix socket.
    pub(crate) fn url(&self) -> &str {
        self.0.url()
    }
}

/// The shell that stops the server and deletes the directory (`$1`) once its stdin closes.
/// It waits for the server to remove its pid file, which happens after all server processes
/// exit, for at most 10 s.
const WATCHDOG_SCRIPT: &str = r#"
while read -r _; do :; done
pidfile="$1/data/postmaster.pid"
if [ -f "$pidfile" ]; then
    pid=$(head -n 1 "$pidfile")
    kill -QUIT "$pid" 2>/dev/null
    tries=0
    while [ -f "$pidfile" ] && kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 200 ]; do
        sleep 0.05
        tries=$((tries + 1))
    done
fi
rm -rf "$1"
"#;

/// The OS user the server runs as when we are root.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
}

/// `None` when we are not root and run the server as ourselves; the `postgres` user otherwise.
fn server_owner() -> Result<Option<Owner>, String> {
    if command_output("id", &["-u"])?.trim() != "0" {
        return Ok(None);
    }
    let no_user = |_| {
        format!(
            "running as root, which PostgreSQL refuses, and there is no `postgres` user to run \
             it as; create one (`useradd --system postgres`), run as another user, or set \
             {PG_URL_VAR} to use a server of yours"
        )
    };
    let id = |flag| -> Result<u32, String> {
        let out = command_output("id", &[flag, "postgres"]).map_err(no_user)?;
        out.trim()
            .parse()
            .map_err(|e| format!("`id {flag} postgres` printed `{}`: {e}", out.trim()))
    };
    Ok(Some(Owner {
        uid: id("-u")?,
        gid: id("-g")?,
    }))
}

/// Run a PostgreSQL program as `owner` (when root), from `dir` so it can read its working
/// directory.
fn as_owner(mut command: Command, owner: Option<Owner>, dir: &Path) -> Command {
    command.current_dir(dir);
    if let Some(owner) = owner {
        command.uid(owner.uid).gid(owner.gid);
    }
    command
}

/// The directory holding `initdb` and `postgres`: from PATH, else `pg_config --bindir`, else
/// the newest `/usr/lib/postgresql/<version>/bin` (Debian and Ubuntu).
pub(crate) fn find_bindir() -> Result<PathBuf, String> {
    // initdb finds postgres next to its own resolved path, so follow symlinks from PATH.
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|dir| std::fs::canonicalize(dir.join("initdb")).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf));
    let from_pg_config = || {
        command_output("pg_config", &["--bindir"])
            .ok()
            .map(|out| PathBuf::from(out.trim()))
    };
    let has_server = |dir: &PathBuf| dir.join("initdb").is_file() && dir.join("postgres").is_file();

    if let Some(dir) = on_path.chain(from_pg_config()).find(has_server) {
        return Ok(dir);
    }
    if let Some(dir) = debian_bindirs().into_iter().find(has_server) {
        return Ok(dir);
    }
    Err(format!(
        "no PostgreSQL server programs (initdb and postgres) on PATH, through \
         `pg_config --bindir`, or under /usr/lib/postgresql/*/bin; install PostgreSQL \
         (Debian/Ubuntu: `apt-get install postgresql`, macOS: `brew install postgresql`), or \
         set {PG_URL_VAR}=postgres://USER@HOST:PORT/postgres to use a server of yours"
    ))
}

/// `/usr/lib/postgresql/<version>/bin`, newest version first.
fn debian_bindirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let version = name
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// The server's version number, e.g. `15.14`, from `postgres --version`.
fn server_version(bindir: &Path) -> Result<String, String> {
    let postgres = bindir.join("postgres");
    let out = command_output(postgres.as_os_str(), &["--version"])?;
    // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
    Ok(out
        .split_whitespace()
        .nth(2)
        .unwrap_or(out.trim())
        .to_owned())
}

/// Percent-encode a socket directory for the `host` query parameter, keeping `/` readable.
fn percent_encode(value: &OsStr) -> String {
    value
        .as_bytes()
        .iter()
        .map(|&byte| {
            if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
