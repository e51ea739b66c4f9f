//! A throwaway PostgreSQL cluster, and the `pg` task that starts one for use by hand.
//!
//! The cluster lives in a fresh temporary directory: `initdb` into `data/`, then `postgres`
//! listening only on a unix socket in that directory, with durability turned off for speed.
//! PostgreSQL refuses to run as root, so under root both run as the `postgres` user.
//!
//! Cleanup must happen however xtask ends, and std cannot catch Ctrl-C. So a small watchdog
//! shell, in its own process group so that Ctrl-C does not reach it, waits for its stdin to
//! close: that happens when the [`Cluster`] is dropped and also when xtask dies by a signal.
//! It then stops the server (immediate shutdown) and deletes the directory.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The variable naming the PostgreSQL server the tests use.
pub(crate) const PG_URL_VAR: &str = "GODWIT_TEST_PG_URL";

/// The port number, which here only names the socket file: the server listens on no TCP port
/// and its socket directory is private, so it cannot clash with another server.
const PORT: u16 = 5433;

/// How long the server may take to accept connections before we give up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The `pg` task: start a cluster, print how to use it, and keep it until Ctrl-C.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`pg` takes no arguments, got `{arg}`"));
    }
    let mut cluster = Cluster::start()?;
    println!("{}", cluster.url());
    println!("export {PG_URL_VAR}='{}'", cluster.url());
    eprintln!("press Ctrl-C to stop PostgreSQL and delete its directory");
    // Ctrl-C ends this process without unwinding; the watchdog cleans up then. The wait only
    // returns if the server dies on its own.
    let status = cluster.wait_for_exit()?;
    Err(format!(
        "PostgreSQL exited unexpectedly ({status}); its log:\n{}",
        cluster.log()
    ))
}

/// A running throwaway cluster. Dropping it stops the server and deletes its directory.
#[derive(Debug)]
pub(crate) struct Cluster {
    url: String,
    log_path: PathBuf,
    server: Child,
    watchdog: Watchdog,
}

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
        let watchdog = Watchdog::spawn(dir.path())?;
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

        let mut cluster = Cluster {
            url: format!(
                "postgres://postgres@localhost:{PORT}/postgres?host={}",
                percent_encode(dir.as_os_str())
            ),
            log_path,
            server,
            watchdog,
        };
        cluster.wait_until_ready(&dir.join(format!(".s.PGSQL.{PORT}")))?;
        eprintln!(
            "PostgreSQL ready at {} ({:.1} s)",
            cluster.url,
            started.elapsed().as_secs_f64()
        );
        Ok(cluster)
    }

    /// The URL to connect with, through the unix socket.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Block until the server process exits.
    fn wait_for_exit(&mut self) -> Result<ExitStatus, String> {
        self.server
            .wait()
            .map_err(|e| format!("cannot wait for PostgreSQL: {e}"))
    }

    /// The server log so far, for error messages.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log_path.display()))
    }

    fn wait_until_ready(&mut self, socket: &Path) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.server.try_wait() {
                return Err(format!(
                    "PostgreSQL exited during startup ({status}); its log:\n{}",
                    self.log()
                ));
            }
            // The server logs this line once it accepts connections, after creating the socket.
            if socket.exists() && self.log().contains("ready to accept connections") {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "PostgreSQL did not accept connections within {} s; its log:\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.watchdog.clean_up();
        // The watchdog waited for the server to exit; kill it only if it somehow did not (no
        // pid file to find it by), so that reaping it cannot hang.
        if !matches!(self.server.try_wait(), Ok(Some(_))) {
            let _ = self.server.kill();
        }
        let _ = self.server.wait();
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

/// The cleanup process; see the module docs.
#[derive(Debug)]
struct Watchdog {
    /// Our end of its stdin; `None` once cleanup has run.
    stdin: Option<ChildStdin>,
    process: Child,
}

impl Watchdog {
    fn spawn(dir: &Path) -> Result<Watchdog, String> {
        let mut process = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("godwit-pg-watchdog")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            // Its own process group, so Ctrl-C in the terminal does not stop it.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot run /bin/sh: {e}"))?;
        Ok(Watchdog {
            stdin: process.stdin.take(),
            process,
        })
    }

    /// Close its stdin and wait until it has stopped the server and deleted the directory.
    fn clean_up(&mut self) {
        if let Some(stdin) = self.stdin.take() {
            drop(stdin);
            if let Err(e) = self.process.wait() {
                eprintln!("warning: cannot wait for the PostgreSQL cleanup: {e}");
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.clean_up();
    }
}

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
fn find_bindir() -> Result<PathBuf, String> {
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

/// Run a program to completion and return its stdout, or an error naming it.
fn command_output(program: impl AsRef<OsStr>, args: &[&str]) -> Result<String, String> {
    let program = program.as_ref();
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.to_string_lossy()))?;
    if !out.status.success() {
        return Err(format!(
            "`{} {}` failed ({}): {}",
            program.to_string_lossy(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| format!("{} printed non-UTF-8 output", program.to_string_lossy()))
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
