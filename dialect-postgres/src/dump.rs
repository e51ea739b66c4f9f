//! Backups with `pg_dump`, and the `pg_restore` command that restores one.
//!
//! PostgreSQL has no backup API a client library can drive; `pg_dump` is the server project's
//! own tool for a consistent copy (one repeatable-read snapshot), and its custom format is what
//! `pg_restore` reads.

use std::fmt;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use godwit_core::Backend;
use godwit_core::backup::{self, Backup, BackupError, BackupRequest};
use percent_encoding::percent_decode_str;
use url::Url;

use crate::PgBackend;

const PG_DUMP: &str = "pg_dump";

const INSTALL: &str = "install the PostgreSQL client tools of the server's major version or newer \
     (Debian and Ubuntu: `apt-get install postgresql-client`; macOS: `brew install libpq`), \
     or add the directory holding pg_dump to PATH";

/// `pg_dump` refuses a server newer than itself; its message says so but not what to do.
const VERSION_ADVICE: &str = "pg_dump must be of the server's major version or newer: install \
     that version's client tools (for example postgresql-client-17) and put its pg_dump first on PATH";

/// How `pg_dump` reaches the store's database: the URL as the user wrote it, minus the
/// password, which goes through `PGPASSWORD` so that it never shows in a process listing.
#[derive(Clone)]
pub(crate) struct DumpSource {
    /// The URL without a password, safe to pass as an argument.
    url: Url,
    /// The password from the URL, if it had one; otherwise pg_dump reads `PGPASSWORD` and
    /// `~/.pgpass` itself, as sqlx did.
    password: Option<String>,
}

// By hand, so the password never reaches a log line.
impl fmt::Debug for DumpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DumpSource")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl DumpSource {
    /// The source for `url`, or `None` when the URL does not parse (the connection then failed
    /// first).
    pub(crate) fn from_url(url: &str) -> Option<DumpSource> {
        let mut url = Url::parse(url).ok()?;
        let mut password = url
            .password()
            .map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned());
        url.set_password(None).ok()?;
        if let Some(query) = url.query().map(str::to_string) {
            let mut kept = Vec::new();
            for pair in query.split('&') {
                match url::form_urlencoded::parse(pair.as_bytes()).next() {
                    Some((key, value)) if key == "password" => password = Some(value.into_owned()),
                    // The other parameters keep their text as written: libpq decodes `%XX`
                    // but not `+`, so re-encoding them could change their meaning.
                    _ => kept.push(pair),
                }
            }
            url.set_query((!kept.is_empty()).then(|| kept.join("&")).as_deref());
        }
        Some(DumpSource { url, password })
    }

    /// The same server and credentials, on the database `name`.
    pub(crate) fn for_database(&self, name: &str) -> DumpSource {
        let mut url = self.url.clone();
        url.set_path(&format!("/{name}"));
        if let Some(query) = url.query().map(str::to_string) {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.starts_with("dbname="))
                .collect();
            url.set_query((!kept.is_empty()).then(|| kept.join("&")).as_deref());
        }
        DumpSource {
            url,
            password: self.password.clone(),
        }
    }
}

/// Dump `database` in `pg_dump`'s custom format to a new file `<database>.<stamp>.dump` in the
/// requested directory (created when missing) or the working directory. `pg_dump` runs on a
/// blocking thread, so the runtime stays responsive while a large database is copied.
pub(crate) async fn dump(
    source: &DumpSource,
    database: &str,
    application_name: &str,
    request: &BackupRequest<'_>,
) -> Result<Backup, BackupError> {
    let path = backup::reserve_file(database, request, "dump")?;
    let command = command(source, application_name, &path);
    let password = source.password.clone();
    let ran = tokio::task::spawn_blocking(move || {
        let mut command = command;
        command.output()
    })
    .await;
    let outcome = match ran {
        Ok(Ok(output)) if output.status.success() => Ok(()),
        Ok(Ok(output)) => {
            let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
            if let Some(password) = password.filter(|p| !p.is_empty()) {
                stderr = stderr.replace(&password, "***");
            }
            Err(BackupError::ProgramFailed {
                program: PG_DUMP,
                status: output.status.to_string(),
                advice: advice(&stderr),
                stderr,
            })
        }
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::NotFound => {
            Err(BackupError::ProgramMissing {
                program: PG_DUMP,
                install: INSTALL,
            })
        }
        Ok(Err(error)) => Err(BackupError::io("run", Path::new(PG_DUMP))(error)),
        Err(join) => Err(BackupError::io("run", Path::new(PG_DUMP))(
            std::io::Error::other(join),
        )),
    };
    let finished = outcome.and_then(|()| {
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

/// What to do about a pg_dump failure godwit recognises from its message.
fn advice(stderr: &str) -> Option<&'static str> {
    stderr
        .contains("server version mismatch")
        .then_some(VERSION_ADVICE)
}

fn command(source: &DumpSource, application_name: &str, path: &Path) -> Command {
    let mut command = Command::new(PG_DUMP);
    command
        .arg("--format=custom")
        // Never wait for a password on a terminal nobody watches.
        .arg("--no-password")
        .arg("--file")
        .arg(path)
        .arg("--dbname")
        .arg(source.url.as_str())
        .env("PGAPPNAME", format!("{application_name} (backup)"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(password) = &source.password {
        command.env("PGPASSWORD", password);
    }
    command
}

/// The command that restores the dump `backup` into the database at `url`, for the user to run:
/// `pg_restore --clean --if-exists --dbname URL FILE`, with the URL's password replaced by
/// `***` and both arguments quoted for a POSIX shell.
pub fn restore_command(url: &str, backup: &Path) -> String {
    format!(
        "pg_restore --clean --if-exists --dbname {} {}",
        backup::shell_word(
            &godwit_core::url::redact_with_schemes(url, PgBackend.schemes()).to_string()
        ),
        backup::shell_word(&backup.display().to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let source =
            DumpSource::from_url("postgres://app:s3cr%40t@db.example:5432/shop?sslmode=require")
                .unwrap();
        assert_eq!(
            source.url.as_str(),
            "postgres://app@db.example:5432/shop?sslmode=require"
        );
        assert_eq!(source.password.as_deref(), Some("s3cr@t"));
        assert!(!format!("{source:?}").contains("s3cr"));

        let source = DumpSource::from_url(
            "postgres://db.example/shop?user=app&password=pw&options=-c%20a=b",
        )
        .unwrap();
        assert_eq!(
            source.url.as_str(),
            "postgres://db.example/shop?user=app&options=-c%20a=b"
        );
        assert_eq!(source.password.as_deref(), Some("pw"));
    }

    #[test]
    fn another_database_keeps_server_and_credentials() {
        let source = DumpSource::from_url("postgres://app:pw@h/shop?dbname=shop&sslmode=disable")
            .unwrap()
            .for_database("scratch_1");
        assert_eq!(
            source.url.as_str(),
            "postgres://app@h/scratch_1?sslmode=disable"
        );
        assert_eq!(source.password.as_deref(), Some("pw"));
    }

    #[test]
    fn a_server_newer_than_pg_dump_gets_advice() {
        // pg_dump 15 against a PostgreSQL 17 server, as it reports it.
        let stderr = "pg_dump: error: aborting because of server version mismatch\n\
                      pg_dump: detail: server version: 17.2; pg_dump version: 15.20";
        assert_eq!(advice(stderr), Some(VERSION_ADVICE));
        assert_eq!(
            advice(
                "pg_dump: error: connection to server failed: FATAL: password authentication failed"
            ),
            None
        );
    }

    #[test]
    fn restore_commands_hide_the_password_and_quote_their_words() {
        assert_eq!(
            restore_command(
                "postgres://app:pw@h:5432/shop",
                Path::new("/backups/it's here.dump")
            ),
            r"pg_restore --clean --if-exists --dbname 'postgres://app:***@h:5432/shop' '/backups/it'\''s here.dump'"
        );
        assert_eq!(
            restore_command("postgres://app@h/shop", Path::new("/b/shop.dump")),
            "pg_restore --clean --if-exists --dbname postgres://app@h/shop /b/shop.dump"
        );
    }
}
