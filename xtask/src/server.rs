//! What the throwaway servers of the tests ([`crate::pg`], [`crate::mariadb`]) share: a server
//! process with its log, waited for until it accepts connections, and stopped and deleted
//! however xtask ends.
//!
//! Cleanup must happen however xtask ends, and std cannot catch Ctrl-C. So a small watchdog
//! shell, in its own process group so that Ctrl-C does not reach it, waits for its stdin to
//! close: that happens when the [`Server`] is dropped and also when xtask dies by a signal.
//! It then stops the server with the engine's script and deletes the directory.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections before we give up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running throwaway server. Dropping it stops the server and deletes its directory.
#[derive(Debug)]
pub(crate) struct Server {
    /// The engine's name, for messages (`PostgreSQL`).
    engine: &'static str,
    url: String,
    log_path: PathBuf,
    process: Child,
    watchdog: Watchdog,
}

impl Server {
    /// The server `process` of `engine`, writing to `log_path`, reached at `url`, cleaned up
    /// by `watchdog`; returned once `socket` exists and the log holds `ready_line`.
    pub(crate) fn wait_until_ready(
        engine: &'static str,
        url: String,
        log_path: PathBuf,
        process: Child,
        watchdog: Watchdog,
        (socket, ready_line): (&Path, &str),
    ) -> Result<Server, String> {
        let started = Instant::now();
        let mut server = Server {
            engine,
            url,
            log_path,
            process,
            watchdog,
        };
        let deadline = started + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.process.try_wait() {
                return Err(format!(
                    "{engine} exited during startup ({status}); its log:\n{}",
                    server.log()
                ));
            }
            // The server logs this line once it accepts connections, after creating the socket.
            if socket.exists() && server.log().contains(ready_line) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{engine} did not accept connections within {} s; its log:\n{}",
                    READY_TIMEOUT.as_secs(),
                    server.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The URL to connect with, through the unix socket.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The server log so far, for error messages.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log_path.display()))
    }

    /// A task that starts a server for use by hand: print how to use it (`var` names the
    /// variable the tests read), and keep it until Ctrl-C.
    pub(crate) fn hold(mut self, var: &str) -> Result<(), String> {
        println!("{}", self.url);
        println!("export {var}='{}'", self.url);
        eprintln!(
            "press Ctrl-C to stop {} and delete its directory",
            self.engine
        );
        // Ctrl-C ends this process without unwinding; the watchdog cleans up then. The wait
        // only returns if the server dies on its own.
        let status = self
            .process
            .wait()
            .map_err(|e| format!("cannot wait for {}: {e}", self.engine))?;
        Err(format!(
            "{} exited unexpectedly ({status}); its log:\n{}",
            self.engine,
            self.log()
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.watchdog.clean_up();
        // The watchdog waited for the server to exit; kill it only if it somehow did not (no
        // pid file to find it by), so that reaping it cannot hang.
        if !matches!(self.process.try_wait(), Ok(Some(_))) {
            let _ = self.process.kill();
        }
        let _ = self.process.wait();
    }
}

/// The cleanup process: a shell, in its own process group so that Ctrl-C does not reach it,
/// that waits for its stdin to close (when the [`Server`] is dropped, and also when xtask dies
/// by a signal), then stops the server and deletes its directory.
#[derive(Debug)]
pub(crate) struct Watchdog {
    /// Our end of its stdin; `None` once cleanup has run.
    stdin: Option<ChildStdin>,
    process: Child,
}

impl Watchdog {
    /// Run `script` with `dir` as `$1`: it must wait for its stdin to close, then stop the
    /// server and delete `dir`.
    pub(crate) fn spawn(dir: &Path, script: &str) -> Result<Watchdog, String> {
        let mut process = Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .arg("godwit-server-watchdog")
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
    pub(crate) fn clean_up(&mut self) {
        if let Some(stdin) = self.stdin.take() {
            drop(stdin);
            if let Err(e) = self.process.wait() {
                eprintln!("warning: cannot wait for the server's cleanup: {e}");
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.clean_up();
    }
}

/// Run a program to completion and return its stdout, or an error naming it.
pub(crate) fn command_output(program: impl AsRef<OsStr>, args: &[&str]) -> Result<String, String> {
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
