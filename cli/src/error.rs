//! Everything that can go wrong in the binary, and the one place that turns it into an exit
//! code.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success, including `status` with pending migrations and a closed stdout pipe |
//! | 1 | failure: the database or a migration script failed, or `lint` found an error-level finding |
//! | 2 | usage or configuration error: flags, config file, URL, missing backend, migration files |
//! | 3 | refused, nothing was changed: the history's state forbids `migrate`/`rollback`/`baseline` (or a database without history holds tables pending migrations create), the lint found an error in a pending migration, or `push` would lose data or drops what may be a rename, or `restore` would replace the database, without consent |
//! | 4 | the migration lock could not be taken in time, `unlock` found it held by a live run, or `restore` found the database in use |
//! | 5 | `check` found drift: the live schema differs from what the applied migrations produce |

use std::ffi::OsString;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use godwit_core::declarative::{DeclarativeError, VerifyFailure};
use godwit_core::url::{Redacted, UrlError};
use godwit_core::{BackupError, Error, Liveness, LockHolder, SourceError, StoreError};

use crate::args::FormatFlag;
use crate::config::UrlOrigin;
use crate::output;

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// The command did what was asked.
    Success = 0,
    /// The database or a migration failed, or `lint` found an error.
    Failure = 1,
    /// The command line, configuration or migration files are wrong.
    Usage = 2,
    /// The history's state or the lint forbids the run, or a push lacks consent.
    Refused = 3,
    /// Another run holds the migration lock.
    Locked = 4,
    /// `check` found the live schema differs from the migrations.
    Drift = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A failure of a godwit command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `--config` names a file that does not exist.
    #[error(
        "config file {} does not exist; check --config, or create it with `godwit --config {} init`",
        path.display(), path.display()
    )]
    ConfigMissing {
        /// The file.
        path: PathBuf,
    },
    /// The config file exists but could not be read.
    #[error("cannot read config file {}", path.display())]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The config file is not valid TOML or has a bad key or value.
    #[error("{location}: {message}")]
    ConfigInvalid {
        /// `file:line:column`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// No flag, environment variable or config key names a database.
    #[error("no database URL; pass --url, set DATABASE_URL, or set `url` in {}", config.display())]
    NoUrl {
        /// The config file that was consulted.
        config: PathBuf,
    },
    /// The URL names no backend godwit knows.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The URL's backend was not compiled into this binary.
    #[error(
        "godwit was built without the `{feature}` feature; reinstall with `cargo install --path cli --features {feature}`"
    )]
    BackendMissing {
        /// The cargo feature to enable.
        feature: &'static str,
    },
    /// The migrations directory does not exist.
    #[error(
        "migrations directory {} does not exist; create it with `godwit init` or `godwit new NAME`, or set `migrations` in the config file",
        path.display()
    )]
    NoMigrationsDir {
        /// The directory.
        path: PathBuf,
    },
    /// The migration files are malformed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// `new` was given a name with nothing usable in a file name.
    #[error(
        "\"{name}\" cannot name a migration: it has no letters or digits; use a name like \"create users\""
    )]
    BadMigrationName {
        /// The name given.
        name: String,
    },
    /// The newest migration has the largest version there is.
    #[error(
        "migration {latest} has the largest version there can be, so no migration can come after it; renumber it (versions are timestamps like 20260101120000, or small integers)"
    )]
    NoVersionLeft {
        /// The newest version.
        latest: i64,
    },
    /// `init` found a config file already there.
    #[error(
        "{} already exists; init never overwrites it: edit it, or delete it and run init again",
        path.display()
    )]
    ConfigExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A file or directory could not be created.
    #[error("cannot create {}", path.display())]
    Create {
        /// What godwit tried to create.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The database could not be opened, for a reason the library names that this binary
    /// has no more specific message for.
    #[error(transparent)]
    Connect(godwit::ConnectError),
    /// The database could not be opened or connected to.
    #[error("cannot open the database at {url} ({origin})")]
    Open {
        /// The URL, without its password.
        url: Redacted,
        /// Where the URL came from.
        origin: UrlOrigin,
        /// The backend's error.
        #[source]
        source: StoreError,
    },
    /// The database failed while godwit used it, outside a migration script.
    #[error(
        "the database at {url} failed; check that it is reachable and that the user may read and write the history table, then run the command again"
    )]
    Database {
        /// The URL, without its password.
        url: Redacted,
        /// The backend's error.
        #[source]
        source: StoreError,
    },
    /// Another connection kept the database locked (SQLite, while a runner writes).
    #[error("the database at {url} is busy; try again when the other run has finished")]
    Busy {
        /// The URL, without its password.
        url: Redacted,
        /// The backend's error.
        #[source]
        source: StoreError,
    },
    /// Another run held the migration lock for longer than the wait allowed.
    #[error(
        "another run holds the migration lock on {url}; {}",
        wait_advice(source)
    )]
    LockBusy {
        /// The URL, without its password.
        url: Redacted,
        /// The backend's error, naming the holder.
        #[source]
        source: StoreError,
    },
    /// `unlock` refused to clear a lock whose holder may be alive.
    #[error(
        "the migration lock on {url} was left alone; {}",
        unlock_advice(source)
    )]
    LockHeld {
        /// The URL, without its password.
        url: Redacted,
        /// The backend's error, naming the holder.
        #[source]
        source: StoreError,
    },
    /// The backup before migrating failed, so no migration ran.
    #[error(
        "no migration ran: the backup of {url} failed; fix the cause and run again, or migrate without a backup (leave out --backup and --backup-dir, or pass --no-backup when the config file sets backup = true)"
    )]
    Backup {
        /// The URL, without its password.
        url: Redacted,
        /// What failed.
        #[source]
        source: BackupError,
    },
    /// `restore` could not put the backup in place; what it says tells whether anything changed.
    /// (Only SQLite databases are restored in place.)
    #[cfg(feature = "sqlite")]
    #[error("cannot restore {database} from {}", backup.display())]
    Restore {
        /// The database.
        database: String,
        /// The backup file.
        backup: PathBuf,
        /// What failed.
        #[source]
        source: BackupError,
    },
    /// `restore` would replace the database, and no terminal was there to ask.
    #[cfg(feature = "sqlite")]
    #[error(
        "restoring replaces everything in {database}; nothing was changed; run again with --yes to confirm, or in a terminal to be asked"
    )]
    RestoreNeedsConsent {
        /// The database.
        database: String,
    },
    /// The engine refused or failed; its message says what to do.
    #[error(transparent)]
    Engine(Error),
    /// The schema file of a declarative command does not exist.
    #[error(
        "schema file {} does not exist; pass --schema PATH, or set `schema_file` in the config file",
        path.display()
    )]
    NoSchemaFile {
        /// The path looked for.
        path: PathBuf,
    },
    /// `dev_url` names another engine than the database being changed.
    #[error(
        "dev_url ({dev_url}) is a {dev} database but the target is {target}; scratch databases must be of the target's engine, so point dev_url at a {target} server"
    )]
    DevUrlEngine {
        /// The dev URL, without its password.
        dev_url: Redacted,
        /// Its engine.
        dev: &'static str,
        /// The target's engine.
        target: &'static str,
    },
    /// The two sides of `diff` are databases of different engines.
    #[error("--from is a {from} database and --to a {to} one; diff compares schemas of one engine")]
    MixedEngines {
        /// The engine of --from.
        from: &'static str,
        /// The engine of --to.
        to: &'static str,
    },
    /// `push` would destroy data and was not allowed to.
    #[error(
        "{count} statement{} would destroy data (marked DESTRUCTIVE above); nothing was changed; run again with --accept-data-loss to apply {}, or change the schema file",
        if *count == 1 { "" } else { "s" },
        if *count == 1 { "it" } else { "them" }
    )]
    DataLoss {
        /// How many statements need consent.
        count: usize,
    },
    /// `push` drops and creates what may be a rename, and no terminal was there to ask.
    #[error(
        "the plan drops and creates what may be {}; nothing was changed; if it is a rename, run again with {}; if not, run again with --accept-data-loss",
        if flags.len() == 1 { "a rename" } else { "renames" },
        flags.iter().map(|f| format!("--rename {f}")).collect::<Vec<_>>().join(" ")
    )]
    PossibleRename {
        /// The `--rename` values, one per possible rename.
        flags: Vec<String>,
    },
    /// `recover` was given an action but several migrations are failed and no version.
    #[error(
        "{} migrations are failed ({}); name the one to act on, for example `godwit recover {} --retry`",
        versions.len(),
        versions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        versions[0]
    )]
    AmbiguousRecovery {
        /// The failed versions.
        versions: Vec<godwit_core::Version>,
    },
    /// The user answered no at a prompt.
    #[error("you answered no, so nothing was changed")]
    Declined,
    /// A question could not be asked or answered on the terminal.
    #[error("cannot read the answer from the terminal")]
    Prompt(#[source] io::Error),
    /// `check` found drift.
    #[error(
        "the schema of {url} differs from what its applied migrations produce ({applied} replayed; the statements above would make it match); write a migration for the change, or undo it"
    )]
    Drift {
        /// The URL, without its password.
        url: Redacted,
        /// How many applied migrations were replayed.
        applied: usize,
    },
    /// `verify` found a migration at fault.
    #[error("{0}")]
    VerifyFailed(VerifyFailure),
    /// A `--format` that one command alone prints (`github`: lint, `sql`: inspect) was given
    /// to another.
    #[error("{}", format_refusal(*format, supported))]
    FormatNotPrinted {
        /// The format given.
        format: FormatFlag,
        /// The formats the command that was run prints.
        supported: Vec<FormatFlag>,
    },
    /// `lint --explain` named no rule.
    #[error("no lint rule is called `{id}`; {}", unknown_rule_help(id))]
    UnknownRule {
        /// The id given.
        id: String,
    },
    /// `lint FILE...` cannot tell which SQL dialect the files are in.
    #[error(
        "cannot tell which SQL dialect the files are in; pass --dialect sqlite or --dialect postgres, or name the database with --url, DATABASE_URL or `url` in {}",
        config.display()
    )]
    NoLintDialect {
        /// The config file that was consulted.
        config: PathBuf,
    },
    /// A file named on the command line could not be read.
    #[error("cannot read {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// `lint` found error-level findings.
    #[error(
        "the lint found {}; fix {}, put `-- godwit:allow RULE` on the line above a statement to accept its risk, or turn a rule off with `[lint] disabled` in the config file (`godwit lint --explain RULE` shows the safe alternative)",
        output::count(*errors, "error"),
        if *errors == 1 { "it" } else { "them" }
    )]
    LintErrors {
        /// How many error-level findings remain.
        errors: usize,
    },
    /// `migrate` found error-level findings in the pending migrations.
    #[error(
        "the lint found {} in the pending migrations, so nothing was applied:\n{findings}fix {}, put `-- godwit:allow RULE` on the line above a statement to accept its risk (`godwit lint --explain RULE` shows the safe alternative), or run again with --no-lint",
        output::count(*errors, "error"),
        if *errors == 1 { "it" } else { "them" }
    )]
    LintRefused {
        /// How many error-level findings remain.
        errors: usize,
        /// Every finding, as lines of text.
        findings: String,
    },
    /// `migrate --dry-run` found what would make `migrate` refuse: its exit code says so.
    #[error(
        "migrate would refuse these migrations: the lint found {} (listed above)",
        output::count(*errors, "error")
    )]
    WouldRefuse {
        /// How many error-level findings there are.
        errors: usize,
    },
    /// A command that reads a database was pointed at a SQLite file that does not exist.
    #[error(
        "there is no SQLite database at {}; check the path (`godwit migrate` or `godwit push` creates the file)",
        path.display()
    )]
    NoDatabase {
        /// The path.
        path: PathBuf,
    },
    /// A SQLite URL names a directory.
    #[error(
        "{url} ({origin}) names the directory {}, not a SQLite database file; name a file, for example sqlite:{}",
        path.display(), path.join("app.db").display()
    )]
    DirectoryNotDatabase {
        /// The URL, without its password.
        url: Redacted,
        /// Where the URL came from.
        origin: UrlOrigin,
        /// The directory.
        path: PathBuf,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] io::Error),
    /// Standard output could not be written.
    #[error("cannot write to standard output")]
    Stdout(#[source] io::Error),
}

impl CliError {
    /// An engine error of a command run against `url`: database failures gain the URL and
    /// advice, lock failures become their own kinds.
    pub fn engine(error: Error, url: Redacted) -> CliError {
        match error {
            Error::Store(source @ StoreError::LockTimeout { .. }) => {
                CliError::LockBusy { url, source }
            }
            Error::Store(source @ StoreError::LockHeld { .. }) => {
                CliError::LockHeld { url, source }
            }
            Error::Store(source @ StoreError::Busy { .. }) => CliError::Busy { url, source },
            Error::Store(source) => CliError::Database { url, source },
            Error::Backup(source) => CliError::Backup { url, source },
            Error::LintRefused { report } => CliError::LintRefused {
                errors: report.errors(),
                findings: report.text(),
            },
            other => CliError::Engine(other),
        }
    }

    /// The exit code for this error: the only place the mapping is decided.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::ConfigMissing { .. }
            | CliError::ConfigRead { .. }
            | CliError::ConfigInvalid { .. }
            | CliError::NoUrl { .. }
            | CliError::Url(_)
            | CliError::BackendMissing { .. }
            | CliError::NoMigrationsDir { .. }
            | CliError::Source(_)
            | CliError::BadMigrationName { .. }
            | CliError::NoDatabase { .. }
            | CliError::DirectoryNotDatabase { .. }
            | CliError::NoVersionLeft { .. }
            | CliError::ConfigExists { .. }
            | CliError::NoSchemaFile { .. }
            | CliError::DevUrlEngine { .. }
            | CliError::MixedEngines { .. }
            | CliError::AmbiguousRecovery { .. }
            | CliError::FormatNotPrinted { .. }
            | CliError::UnknownRule { .. }
            | CliError::NoLintDialect { .. }
            | CliError::ReadFile { .. } => Exit::Usage,
            CliError::Open {
                source: StoreError::InvalidUrl { .. },
                ..
            } => Exit::Usage,
            CliError::Open {
                source: StoreError::Busy { .. },
                ..
            } => Exit::Locked,
            CliError::Create { .. }
            | CliError::Connect(_)
            | CliError::Open { .. }
            | CliError::Database { .. }
            | CliError::Runtime(_)
            | CliError::Prompt(_)
            | CliError::VerifyFailed(_)
            | CliError::LintErrors { .. }
            | CliError::Backup { .. } => Exit::Failure,
            #[cfg(feature = "sqlite")]
            CliError::Restore {
                source: BackupError::InUse { .. },
                ..
            } => Exit::Locked,
            #[cfg(feature = "sqlite")]
            CliError::Restore { .. } => Exit::Failure,
            #[cfg(feature = "sqlite")]
            CliError::RestoreNeedsConsent { .. } => Exit::Refused,
            CliError::DataLoss { .. }
            | CliError::PossibleRename { .. }
            | CliError::Declined
            | CliError::LintRefused { .. }
            | CliError::WouldRefuse { .. } => Exit::Refused,
            CliError::Drift { .. } => Exit::Drift,
            CliError::LockBusy { .. } | CliError::LockHeld { .. } | CliError::Busy { .. } => {
                Exit::Locked
            }
            CliError::Stdout(error) if error.kind() == io::ErrorKind::BrokenPipe => Exit::Success,
            CliError::Stdout(_) => Exit::Failure,
            CliError::Engine(error) => match error {
                Error::Source(_)
                | Error::UnknownVersion { .. }
                | Error::HistoryNameTaken { .. } => Exit::Usage,
                Error::Declarative(
                    DeclarativeError::Read { .. }
                    | DeclarativeError::NoSqlFiles { .. }
                    | DeclarativeError::NotUtf8 { .. }
                    | DeclarativeError::NulByte { .. }
                    | DeclarativeError::Hint { .. }
                    | DeclarativeError::Unreadable { .. }
                    | DeclarativeError::RefusedStatement { .. }
                    | DeclarativeError::NoSandbox { .. }
                    | DeclarativeError::UnknownRename { .. }
                    | DeclarativeError::ConflictingRename { .. }
                    | DeclarativeError::BadRenameRequest { .. }
                    | DeclarativeError::ConcurrentIndexesUnsupported { .. },
                ) => Exit::Usage,
                // Asked for what the history's state does not allow: nothing was changed.
                Error::Refused(_)
                | Error::Repair(_)
                | Error::NoDownScript { .. }
                | Error::Declarative(DeclarativeError::RowsBlockChange { .. }) => Exit::Refused,
                Error::Store(StoreError::LockTimeout { .. } | StoreError::LockHeld { .. }) => {
                    Exit::Locked
                }
                _ => Exit::Failure,
            },
        }
    }
}

/// Why a command refuses `format`, and the formats it prints instead.
/// What to do after waiting in vain for the lock, by what is known of its holder: a stale lock
/// is never suggested where none can exist (PostgreSQL's dies with its session), nor
/// `godwit unlock` where it would refuse.
fn wait_advice(source: &StoreError) -> &'static str {
    match lock_holder(source).map(|holder| holder.liveness) {
        Some(Liveness::Session) => {
            "wait for it to finish, or raise --lock-timeout; the lock ends with the session holding it, so it is never left behind"
        }
        Some(Liveness::OtherHost | Liveness::OtherPidNamespace | Liveness::Unchecked) => {
            "wait for it to finish, or raise --lock-timeout; godwit cannot check whether its holder still runs, so if you know it is gone, clear the lock with `godwit unlock --force`"
        }
        Some(Liveness::Exited | Liveness::PidReused | Liveness::Rebooted) => {
            "its holder is gone and the next run takes the lock over, but another connection kept the database busy meanwhile; run again, or raise --lock-timeout"
        }
        _ => "wait for it to finish, or raise --lock-timeout",
    }
}

/// Why `unlock` left a lock alone, and what can be done about it.
fn unlock_advice(source: &StoreError) -> &'static str {
    match lock_holder(source).map(|holder| holder.liveness) {
        Some(Liveness::Session) => {
            "a PostgreSQL migration lock ends with the session holding it, so it is never stale: let the run finish, or end the session (rolling back its open transaction) with `godwit unlock --force`"
        }
        Some(Liveness::Running) => {
            "its holder is running: let it finish, or stop it; `godwit unlock --force` clears the lock even so, and lets a second run start beside it"
        }
        Some(Liveness::Exited | Liveness::PidReused | Liveness::Rebooted) => {
            "its holder is gone, but another connection kept the database busy; run `godwit unlock` again when it is free"
        }
        _ => {
            "godwit cannot check whether its holder still runs; once you are sure it is gone, use `godwit unlock --force`"
        }
    }
}

fn lock_holder(source: &StoreError) -> Option<&LockHolder> {
    match source {
        StoreError::LockHeld { holder } => Some(holder),
        StoreError::LockTimeout { holder, .. } => holder.as_ref(),
        _ => None,
    }
}

fn format_refusal(format: FormatFlag, supported: &[FormatFlag]) -> String {
    let what = match format {
        FormatFlag::Github => {
            "prints lint findings as GitHub workflow annotations and works with `godwit lint` only"
        }
        FormatFlag::Sql => "prints the live schema as SQL DDL and works with `godwit inspect` only",
        FormatFlag::Human | FormatFlag::Json => "is not printed by this command",
    };
    let flag = |format: &FormatFlag| {
        let value = clap::ValueEnum::to_possible_value(format).expect("no format is skipped");
        format!("--format {}", value.get_name())
    };
    let mut choices: Vec<String> = supported.iter().map(flag).collect();
    let last = choices.pop().unwrap_or_default();
    let choices = if choices.is_empty() {
        last
    } else {
        format!("{} or {last}", choices.join(", "))
    };
    format!("{} {what}; use {choices} here", flag(&format))
}

/// What to say after an unknown lint rule id: the ids it may be a typo of, else every id.
pub fn unknown_rule_help(id: &str) -> String {
    // The same suggestions as for an unknown id in a `-- godwit:allow` comment.
    let similar = godwit_core::lint::similar_rules(id);
    // `a`, `b` or `c`
    let either = |ids: Vec<&str>| {
        let mut quoted: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
        let last = quoted.pop().unwrap_or_default();
        if quoted.is_empty() {
            last
        } else {
            format!("{} or {last}", quoted.join(", "))
        }
    };
    if similar.is_empty() {
        let all = godwit_core::lint::rules().iter().map(|rule| rule.id);
        format!("the rules are {}", either(all.collect()))
    } else {
        format!(
            "did you mean {}? `godwit lint --list` lists every rule",
            either(similar)
        )
    }
}

/// Finish a command: print the error, if any, and give the exit code. A closed stdout pipe
/// (`godwit status | head -1`) is a success and prints nothing.
pub fn finish(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => Exit::Success.into(),
        Err(error) => {
            let exit = error.exit();
            if exit != Exit::Success {
                output::print_error(&error);
            }
            exit.into()
        }
    }
}

/// Finish on a command line clap rejected (exit code 2), or on `--help`/`--version` (0).
pub fn finish_clap(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        // A closed pipe while printing help leaves nothing to report.
        let _ = error.print();
        return Exit::Success.into();
    }
    // clap quotes the arguments it rejects: a URL given where none is expected
    // (`godwit migrate postgres://user:pw@host/db`) would print its password.
    let shown = hide_passwords(&error.render().ansi().to_string(), std::env::args_os());
    let _ = write!(anstream::stderr(), "{shown}");
    Exit::Usage.into()
}

/// `text` with each of `args` (or the value after its first `=`, as in `--url=...`) that holds
/// a password replaced by its redacted form.
fn hide_passwords(text: &str, args: impl IntoIterator<Item = OsString>) -> String {
    let mut text = text.to_string();
    for arg in args {
        let arg = arg.to_string_lossy().into_owned();
        let value = arg.split_once('=').map(|(_, value)| value.to_string());
        // The value first: redacted alone, it keeps more of what the user typed.
        for candidate in value.into_iter().chain(std::iter::once(arg)) {
            let redacted = godwit_core::url::redact(&candidate).to_string();
            if redacted != candidate && !candidate.is_empty() {
                text = text.replace(&candidate, &redacted);
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use godwit_core::{Refusal, Version};

    use super::*;

    fn url() -> Redacted {
        godwit_core::url::redact("postgres://u:pw@h/db")
    }

    #[test]
    fn engine_errors_map_to_their_codes() {
        let version = Version::new(1).unwrap();
        let cases = [
            (Error::UnknownVersion { version }, Exit::Usage),
            (
                Error::Refused(Refusal::FailedAndMissing {
                    version,
                    name: "x".into(),
                }),
                Exit::Refused,
            ),
            (
                Error::Store(StoreError::LockTimeout {
                    holder: None,
                    waited: std::time::Duration::from_secs(1),
                }),
                Exit::Locked,
            ),
            (
                Error::Store(StoreError::Busy {
                    message: "locked".into(),
                }),
                Exit::Locked,
            ),
            (
                Error::Store(StoreError::Other("boom".into())),
                Exit::Failure,
            ),
            (Error::Repair("no".into()), Exit::Refused),
            (
                Error::Declarative(DeclarativeError::RowsBlockChange {
                    kind: godwit_core::dialect::HazardKind::RemoveEnumValue,
                    description: "removes values 'sad' of type mood".into(),
                    rows: 2,
                }),
                Exit::Refused,
            ),
        ];
        for (error, exit) in cases {
            let shown = error.to_string();
            let error = CliError::engine(error, url());
            assert_eq!(error.exit(), exit, "{shown}");
        }
    }

    #[test]
    fn database_errors_name_the_url_without_its_password() {
        let error = CliError::engine(Error::Store(StoreError::Other("boom".into())), url());
        let shown = error.to_string();
        assert!(shown.contains("postgres://u:***@h/db"), "{shown}");
        assert!(!shown.contains("pw"), "{shown}");
    }

    #[test]
    fn rejected_arguments_are_shown_without_their_passwords() {
        let args = [
            "godwit",
            "--url=postgres:/u:s3cret@h/db",
            "status",
            "u:s3cret@h/db",
        ];
        let text = "unexpected argument 'u:s3cret@h/db' found; --url=postgres:/u:s3cret@h/db";
        let shown = hide_passwords(text, args.map(OsString::from));
        assert_eq!(
            shown,
            "unexpected argument 'u:***@h/db' found; --url=postgres:/u:***@h/db"
        );
    }

    #[test]
    fn a_closed_pipe_is_success() {
        let error = CliError::Stdout(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(error.exit(), Exit::Success);
    }
}
