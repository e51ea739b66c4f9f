//! Backups with `mariadb-dump` (or `mysqldump`), the server projects' own tools for a
//! consistent logical copy: one `--single-transaction` snapshot of InnoDB tables, with
//! routines, triggers and events, as SQL that the `mariadb` (or `mysql`) client replays.
//!
//! The password never reaches a command line, where any user of the machine could read it in
//! a process listing: it goes into an option file readable by its owner alone, in a private
//! temporary directory, named by `--defaults-extra-file` and removed once the dump ends.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use godwit_core::backup::{self, Backup, BackupError, BackupRequest};
use sqlx::ConnectOptions as _;
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};

/// The tools tried, in order: MariaDB's name first, since MariaDB 11 deprecates the other and
/// a MySQL 8 `mysqldump` cannot dump a MariaDB server without extra options.
const TOOLS: &[&str] = &["mariadb-dump", "mysqldump"];

const INSTALL: &str = "install the MariaDB or MySQL client tools (Debian and Ubuntu: \
     `apt-get install mariadb-client`; macOS: `brew install mariadb`), or add the directory \
     holding mariadb-dump or mysqldump to PATH";

/// A MySQL 8 `mysqldump` asks a MariaDB server for a table MariaDB does not have.
const COLUMN_STATISTICS_ADVICE: &str = "this mysqldump is MySQL's, which cannot dump a MariaDB \
     server: install the MariaDB client tools and put mariadb-dump first on PATH";

/// Dumping events needs the EVENT privilege, which users given only table rights lack.
const EVENT_ADVICE: &str =
    "the dump reads the database's events: GRANT EVENT ON the database TO the migration user";

/// Which project's client a dump tool is: their options for TLS differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    MariaDb,
    MySql,
}

/// How the dump tool reaches the store's database: the store's connect options, which hold
/// the password. Never printed.
#[derive(Clone)]
pub(crate) struct DumpSource {
    options: MySqlConnectOptions,
}

// By hand, so the password never reaches a log line.
impl fmt::Debug for DumpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DumpSource")
            .field("host", &self.options.get_host())
            .field("user", &self.options.get_username())
            .finish_non_exhaustive()
    }
}

impl DumpSource {
    pub(crate) fn new(options: MySqlConnectOptions) -> DumpSource {
        DumpSource { options }
    }

    /// The password of the connection, if it has one.
    fn password(&self) -> Option<String> {
        let url = self.options.to_url_lossy();
        let password = url.password()?;
        Some(
            percent_encoding::percent_decode_str(password)
                .decode_utf8_lossy()
                .into_owned(),
        )
    }

    /// The dump tool's arguments after `--defaults-extra-file`: where the server is, who
    /// connects, how, and what to dump into `result`. Nothing secret.
    fn arguments(&self, flavour: Flavour, database: &str, result: &Path) -> Vec<OsString> {
        let mut args = self.connection_arguments(flavour);
        for arg in [
            // One consistent snapshot of InnoDB tables, without locking them.
            "--single-transaction",
            "--routines",
            "--triggers",
            "--events",
            // Binary values survive whatever the client's character set.
            "--hex-blob",
            "--default-character-set=utf8mb4",
            // Tablespaces belong to the server, not to one database, and reading them needs
            // the PROCESS privilege on MySQL 8.
            "--no-tablespaces",
        ] {
            args.push(arg.into());
        }
        let mut file = OsString::from("--result-file=");
        file.push(result);
        args.push(file);
        // A database name alone, not `--databases`: the dump holds no `CREATE DATABASE` or
        // `USE`, so it restores into whichever database the client is given.
        args.push("--".into());
        args.push(database.into());
        args
    }

    /// Where the server is, who connects and how, as the clients' arguments.
    fn connection_arguments(&self, flavour: Flavour) -> Vec<OsString> {
        let options = &self.options;
        let mut args: Vec<OsString> = vec![format!("--user={}", options.get_username()).into()];
        match options.get_socket() {
            Some(socket) => {
                let mut arg = OsString::from("--socket=");
                arg.push(socket);
                args.push(arg);
            }
            // sqlx connects over TCP even to `localhost`, which the clients would take to
            // mean the default socket.
            None => {
                args.push(format!("--host={}", options.get_host()).into());
                args.push(format!("--port={}", options.get_port()).into());
                args.push("--protocol=TCP".into());
            }
        }
        args.extend(
            tls(flavour, options.get_ssl_mode())
                .into_iter()
                .map(Into::into),
        );
        args
    }
}

/// The TLS options that say what the connection's `ssl-mode` says; the default (`PREFERRED`)
/// is left to the tool.
fn tls(flavour: Flavour, mode: MySqlSslMode) -> Vec<&'static str> {
    match (flavour, mode) {
        (_, MySqlSslMode::Preferred) => Vec::new(),
        (Flavour::MariaDb, MySqlSslMode::Disabled) => vec!["--skip-ssl"],
        (Flavour::MariaDb, MySqlSslMode::Required) => vec!["--ssl"],
        (Flavour::MariaDb, MySqlSslMode::VerifyCa | MySqlSslMode::VerifyIdentity) => {
            vec!["--ssl", "--ssl-verify-server-cert"]
        }
        (Flavour::MySql, MySqlSslMode::Disabled) => vec!["--ssl-mode=DISABLED"],
        (Flavour::MySql, MySqlSslMode::Required) => vec!["--ssl-mode=REQUIRED"],
        (Flavour::MySql, MySqlSslMode::VerifyCa) => vec!["--ssl-mode=VERIFY_CA"],
        (Flavour::MySql, MySqlSslMode::VerifyIdentity) => vec!["--ssl-mode=VERIFY_IDENTITY"],
    }
}

/// The `[client]` option file that gives the tool `password`: the value quoted, with the
/// escapes the clients' option-file reader undoes.
fn option_file(password: &str) -> String {
    let mut quoted = String::with_capacity(password.len() + 2);
    for c in password.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    format!("[client]\npassword=\"{quoted}\"\n")
}

/// The first of [`TOOLS`] found in the directories of `path` (as `PATH` lists them).
fn find_tool(path: &std::ffi::OsStr) -> Result<(&'static str, PathBuf), BackupError> {
    TOOLS
        .iter()
        .find_map(|tool| {
            std::env::split_paths(path)
                .map(|dir| dir.join(tool))
                .find(|candidate| is_executable(candidate))
                .map(|found| (*tool, found))
        })
        .ok_or(BackupError::ProgramMissing {
            program: "mariadb-dump (or mysqldump)",
            install: INSTALL,
        })
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Whose client `tool` is, from what its `--version` prints.
fn flavour(tool: &Path, name: &'static str) -> Result<Flavour, BackupError> {
    let output = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(BackupError::io("run", Path::new(name)))?;
    Ok(
        if String::from_utf8_lossy(&output.stdout).contains("MariaDB") {
            Flavour::MariaDb
        } else {
            Flavour::MySql
        },
    )
}

/// Dump `database` as SQL to a new file `<database>.<stamp>.sql` in the requested directory
/// (created when missing) or the working directory. The tool runs on a blocking thread, so
/// the runtime stays responsive while a large database is copied.
pub(crate) async fn dump(
    source: &DumpSource,
    database: &str,
    request: &BackupRequest<'_>,
) -> Result<Backup, BackupError> {
    let path = backup::reserve_file(database, request, "sql")?;
    let source = source.clone();
    let database = database.to_string();
    let result = path.clone();
    let ran = tokio::task::spawn_blocking(move || run(&source, &database, &result)).await;
    let finished = match ran {
        Ok(outcome) => outcome,
        Err(join) => Err(BackupError::io("run", Path::new(TOOLS[0]))(
            std::io::Error::other(join),
        )),
    }
    .and_then(|()| {
        fs::metadata(&path)
            .map(|meta| meta.len())
            .map_err(BackupError::io("read the size of", &path))
    });
    match finished {
        Ok(bytes) => Ok(Backup { path, bytes }),
        Err(error) => {
            if let Err(remove) = fs::remove_file(&path) {
                tracing::warn!(error = %remove, path = %path.display(), "could not remove an incomplete backup file");
            }
            Err(error)
        }
    }
}

/// Run the dump tool into `result`, with the password in an option file that is gone when
/// this returns.
fn run(source: &DumpSource, database: &str, result: &Path) -> Result<(), BackupError> {
    let (name, tool) = find_tool(&std::env::var_os("PATH").unwrap_or_default())?;
    let flavour = flavour(&tool, name)?;
    // Created readable by its owner alone (0700), and removed with what it holds on drop.
    let secrets = tempfile::Builder::new()
        .prefix("godwit-mysql-dump")
        .tempdir()
        .map_err(BackupError::io(
            "create a private directory in",
            &std::env::temp_dir(),
        ))?;
    let defaults = secrets.path().join("client.cnf");
    let password = source.password();
    write_private(&defaults, &option_file(password.as_deref().unwrap_or("")))
        .map_err(BackupError::io("write the password file", &defaults))?;
    let mut defaults_arg = OsString::from("--defaults-extra-file=");
    defaults_arg.push(&defaults);
    let output = Command::new(&tool)
        // The clients read it only as their first argument.
        .arg(defaults_arg)
        .args(source.arguments(flavour, database, result))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(BackupError::io("run", Path::new(name)))?;
    if output.status.success() {
        return Ok(());
    }
    let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if let Some(password) = password.filter(|p| !p.is_empty()) {
        stderr = stderr.replace(&password, "***");
    }
    Err(BackupError::ProgramFailed {
        program: name,
        status: output.status.to_string(),
        advice: advice(&stderr),
        stderr,
    })
}

/// What to do about a dump failure godwit recognises from its message.
fn advice(stderr: &str) -> Option<&'static str> {
    if stderr.contains("COLUMN_STATISTICS") {
        Some(COLUMN_STATISTICS_ADVICE)
    } else if stderr.contains("Access denied") && stderr.to_ascii_lowercase().contains("events") {
        Some(EVENT_ADVICE)
    } else {
        None
    }
}

/// Write `text` to the new file `path`, readable and writable by its owner alone.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// The command that restores the dump `backup` into the database at `url`, for the user to
/// run: the `mariadb` client reading the file, with `--password` alone when the URL has one,
/// so that the client asks for it and it shows neither in the command nor in a process
/// listing. The dump drops and recreates each table it holds.
pub fn restore_command(url: &str, backup: &Path) -> String {
    use std::str::FromStr as _;
    let options = MySqlConnectOptions::from_str(url).unwrap_or_else(|_| MySqlConnectOptions::new());
    let source = DumpSource::new(options.clone());
    let mut words = vec!["mariadb".to_string()];
    words.extend(
        source
            .connection_arguments(Flavour::MariaDb)
            .iter()
            .map(|arg| backup::shell_word(&arg.to_string_lossy())),
    );
    if source.password().is_some() {
        words.push("--password".into());
    }
    words.push(backup::shell_word(
        options.get_database().unwrap_or("DATABASE"),
    ));
    words.push("<".into());
    words.push(backup::shell_word(&backup.display().to_string()));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;

    fn source(url: &str) -> DumpSource {
        DumpSource::new(MySqlConnectOptions::from_str(url).expect("a URL"))
    }

    #[test]
    fn the_password_is_in_no_argument() {
        let source = source("mysql://app:s3cr%40t%20pw@db.example:3307/shop?ssl-mode=required");
        assert_eq!(source.password().as_deref(), Some("s3cr@t pw"));
        let args = source.arguments(Flavour::MariaDb, "shop", Path::new("/b/shop.sql"));
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args.iter().all(|a| !a.contains("s3cr")), "{args:?}");
        assert_eq!(
            args,
            [
                "--user=app",
                "--host=db.example",
                "--port=3307",
                "--protocol=TCP",
                "--ssl",
                "--single-transaction",
                "--routines",
                "--triggers",
                "--events",
                "--hex-blob",
                "--default-character-set=utf8mb4",
                "--no-tablespaces",
                "--result-file=/b/shop.sql",
                "--",
                "shop",
            ]
        );
        assert!(!format!("{source:?}").contains("s3cr"));
    }

    #[test]
    fn restore_commands_ask_for_the_password_and_quote_their_words() {
        assert_eq!(
            restore_command(
                "mysql://app:s3cret@db:3306/shop",
                Path::new("/backups/it's here.sql")
            ),
            r"mariadb --user=app --host=db --port=3306 --protocol=TCP --password shop < '/backups/it'\''s here.sql'"
        );
        assert_eq!(
            restore_command("mariadb://root@127.0.0.1/app", Path::new("app.sql")),
            "mariadb --user=root --host=127.0.0.1 --port=3306 --protocol=TCP app < app.sql"
        );
    }

    #[test]
    fn a_socket_replaces_host_and_port() {
        let args = source("mysql://root@localhost/shop?socket=/run/mysqld/mysqld.sock").arguments(
            Flavour::MySql,
            "shop",
            Path::new("f.sql"),
        );
        assert_eq!(args[1], "--socket=/run/mysqld/mysqld.sock");
        assert!(!args.iter().any(|a| a == "--protocol=TCP"));
    }

    #[test]
    fn tls_options_follow_each_clients_spelling() {
        assert_eq!(
            tls(Flavour::MySql, MySqlSslMode::Preferred),
            [] as [&str; 0]
        );
        assert_eq!(
            tls(Flavour::MariaDb, MySqlSslMode::Disabled),
            ["--skip-ssl"]
        );
        assert_eq!(
            tls(Flavour::MySql, MySqlSslMode::VerifyIdentity),
            ["--ssl-mode=VERIFY_IDENTITY"]
        );
    }

    #[test]
    fn option_files_escape_what_the_clients_unescape() {
        assert_eq!(
            option_file(r#"a"b\c#d"#),
            "[client]\npassword=\"a\\\"b\\\\c#d\"\n"
        );
    }

    // Whether a file may be run is in its mode bits.
    #[cfg(unix)]
    #[test]
    fn mariadb_dump_is_preferred_and_its_absence_says_what_to_install() {
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let path = std::env::join_paths([first.path(), second.path()]).unwrap();
        let missing = find_tool(&path).unwrap_err();
        assert!(
            matches!(missing, BackupError::ProgramMissing { .. }),
            "{missing}"
        );
        assert!(
            missing
                .to_string()
                .contains("apt-get install mariadb-client"),
            "{missing}"
        );
        let tool = |dir: &Path, name: &str, mode: u32| {
            let file = dir.join(name);
            fs::write(&file, "#!/bin/sh\n").unwrap();
            fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
            file
        };
        // Not executable: not a tool.
        tool(first.path(), "mariadb-dump", 0o644);
        let mysqldump = tool(second.path(), "mysqldump", 0o755);
        assert_eq!(find_tool(&path).unwrap(), ("mysqldump", mysqldump));
        let mariadb_dump = tool(second.path(), "mariadb-dump", 0o755);
        assert_eq!(find_tool(&path).unwrap(), ("mariadb-dump", mariadb_dump));
    }

    #[test]
    fn known_failures_get_advice() {
        assert_eq!(
            advice(
                "mysqldump: Couldn't execute 'SELECT COLUMN_NAME, JSON_EXTRACT(HISTOGRAM, ...) \
                 FROM information_schema.COLUMN_STATISTICS': Unknown table"
            ),
            Some(COLUMN_STATISTICS_ADVICE)
        );
        assert_eq!(
            advice(
                "mariadb-dump: Couldn't execute 'show events': Access denied for user 'app'@'%' \
                 to database 'shop' (1044)"
            ),
            Some(EVENT_ADVICE)
        );
        assert_eq!(advice("mariadb-dump: Got error: 2002"), None);
    }
}
