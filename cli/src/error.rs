//! Everything that can go wrong in the binary, and the one place that turns it into an exit
//! code.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success, including `status` with pending migrations (without `--exit-code`) and a closed stdout pipe |
//! | 1 | failure: the database or a migration script failed, or `lint` found an error-level finding |
//! | 2 | usage or configuration error: flags, config file, URL, missing backend, migration files |
//! | 3 | refused, nothing was changed: the history's state forbids `migrate`/`rollback`/`baseline` (or a database without history holds tables pending migrations create), the lint found an error in a pending migration, or `push` would lose data or drops what may be a rename, or `restore` would replace the database, without consent |
//! | 4 | the migration lock could not be taken in time, `unlock` found it held by a live run, or `restore` found the database in use |
//! | 5 | a check found differences: `check` found drift (the live schema differs from what the applied migrations produce), `status --exit-code` found migrations pending, failed, modified (or otherwise not applied as their files are), `diff --exit-code` found the schemas differ |
//!
//! With `--format json`, a failure is a JSON document on stdout too ([`CliError::document`]),
//! and its message still goes to stderr.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use godwit_core::declarative::{ApplyCause, DeclarativeError, VerifyFailure};
use godwit_core::url::{Redacted, UrlError};
use godwit_core::{
    BackupError, Error, Liveness, LockHolder, Refusal, SourceError, State, StatementError,
    StoreError,
};
use serde::Serialize;
use serde_json::json;

use crate::args::FormatFlag;
use crate::origin::UrlOrigin;
use crate::print::{self, ERROR, Format};

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
    /// A check found the database is not what it should be: `check` found drift, `status
    /// --exit-code` migrations not applied, `diff --exit-code` differences.
    Differs = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A failure of a godwit command. Its variant's name in snake_case is the `kind` of the JSON
/// error document (see [`CliError::kind`]).
#[derive(Debug, thiserror::Error, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
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
    #[strum(serialize = "invalid_url")]
    Url(#[from] UrlError),
    /// The URL's scheme is served by no backend compiled in and no plugin loaded.
    #[error("{error}; {plugins}")]
    #[strum(serialize = "invalid_url")]
    UnknownScheme {
        /// The facade's error, listing the URL forms served.
        error: UrlError,
        /// Which plugins were searched, loaded and refused.
        plugins: String,
    },
    /// The URL's backend was not compiled into this binary, and no plugin serves it.
    #[error(
        "{url} needs godwit's `{feature}` backend, and godwit was built without the `{feature}` feature; reinstall with `cargo install --path cli --features {feature}`, or load a plugin that serves it ({plugins})"
    )]
    BackendMissing {
        /// The URL, without its password.
        url: Redacted,
        /// The cargo feature to enable.
        feature: &'static str,
        /// Which plugins were searched, loaded and refused.
        plugins: String,
    },
    /// `lint --dialect` names a dialect whose backend was not compiled into this binary.
    #[error(
        "the `{feature}` dialect is not in this godwit, which was built without the `{feature}` feature; reinstall with `cargo install --path cli --features {feature}`"
    )]
    DialectMissing {
        /// The dialect and the cargo feature to enable.
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
    #[strum(serialize = "cannot_create")]
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
    #[strum(serialize = "cannot_open")]
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
    /// `status --exit-code` found migrations that are not applied as their files are.
    #[error(
        "the database is not up to date: {} of {}; `godwit migrate` applies what is pending, and `godwit recover` explains a failed migration",
        counts.iter().map(|(state, n)| format!("{n} {}", state.label())).collect::<Vec<_>>().join(", "),
        print::migrations(*total)
    )]
    NotUpToDate {
        /// How many migrations are in each state other than applied.
        counts: Vec<(State, usize)>,
        /// How many migrations there are.
        total: usize,
    },
    /// `diff --exit-code` found the two schemas differ.
    #[error(
        "the schemas differ: {} --from into --to",
        if *statements == 1 { "the statement above turns".to_string() } else { format!("the {statements} statements above turn") }
    )]
    Differences {
        /// How many statements the difference takes.
        statements: usize,
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
        "cannot tell which SQL dialect the files are in; pass --dialect sqlite, postgres or mysql, or name the database with --url, DATABASE_URL or `url` in {}",
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
        print::count(*errors, "error"),
        if *errors == 1 { "it" } else { "them" }
    )]
    LintErrors {
        /// How many error-level findings remain.
        errors: usize,
    },
    /// `migrate` found error-level findings in the pending migrations.
    #[error(
        "the lint found {} in the pending migrations, so nothing was applied:\n{findings}fix {}, put `-- godwit:allow RULE` on the line above a statement to accept its risk (`godwit lint --explain RULE` shows the safe alternative), or run again with --no-lint",
        print::count(*errors, "error"),
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
        print::count(*errors, "error")
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
    /// A failure, with the document the command had when it happened: what it did before it
    /// (the migrations a failed run applied) or what it found (the lint's findings, the
    /// drift), which `--format json` prints around the error.
    #[error(transparent)]
    Documented(Box<Documented>),
}

/// An error and the fields of the JSON document the command had when it failed.
#[derive(Debug)]
pub struct Documented {
    error: CliError,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Display for Documented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Documented {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
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
            | CliError::UnknownScheme { .. }
            | CliError::BackendMissing { .. }
            | CliError::DialectMissing { .. }
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
            CliError::Restore {
                source: BackupError::InUse { .. },
                ..
            } => Exit::Locked,
            CliError::Restore { .. } => Exit::Failure,
            #[cfg(feature = "sqlite")]
            CliError::RestoreNeedsConsent { .. } => Exit::Refused,
            CliError::DataLoss { .. }
            | CliError::PossibleRename { .. }
            | CliError::Declined
            | CliError::LintRefused { .. }
            | CliError::WouldRefuse { .. } => Exit::Refused,
            CliError::Drift { .. }
            | CliError::NotUpToDate { .. }
            | CliError::Differences { .. } => Exit::Differs,
            CliError::LockBusy { .. } | CliError::LockHeld { .. } | CliError::Busy { .. } => {
                Exit::Locked
            }
            CliError::Stdout(error) if error.kind() == io::ErrorKind::BrokenPipe => Exit::Success,
            CliError::Stdout(_) => Exit::Failure,
            CliError::Documented(documented) => documented.error.exit(),
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
                | Error::Operation(_)
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

impl CliError {
    /// This error with the fields of the document `output` would have printed, or had when it
    /// failed, which `--format json` prints around the error; without a JSON output, `self`.
    pub fn with_document(self, format: Format, document: &impl Serialize) -> CliError {
        if format != Format::Json {
            return self;
        }
        match serde_json::to_value(document) {
            Ok(serde_json::Value::Object(fields)) => CliError::Documented(Box::new(Documented {
                error: self,
                fields,
            })),
            // Every document is a struct; the error alone still says what happened.
            _ => self,
        }
    }

    /// The error without the document it carries.
    fn bare(&self) -> &CliError {
        match self {
            CliError::Documented(documented) => documented.error.bare(),
            other => other,
        }
    }

    /// What kind of failure this is, for scripts: the name of the most precise variant that
    /// says it (an engine's refusal names the refusal: `checksum_mismatch`), in snake_case.
    pub fn kind(&self) -> &'static str {
        match self.bare() {
            CliError::Source(error) => error.into(),
            CliError::Engine(error) => match error {
                Error::Source(error) => error.into(),
                Error::Refused(refusal) => refusal.into(),
                Error::Store(error) => error.into(),
                Error::Declarative(error) => error.into(),
                other => other.into(),
            },
            other => other.into(),
        }
    }

    /// The facts of this error a script may act on, beyond its message: the migration, file,
    /// line, statement and database code of a failed statement, the holder of a lock, the
    /// count of what needs consent.
    fn details(&self) -> serde_json::Value {
        match self.bare() {
            CliError::ConfigMissing { path }
            | CliError::ConfigRead { path, .. }
            | CliError::ConfigExists { path }
            | CliError::NoMigrationsDir { path }
            | CliError::Create { path, .. }
            | CliError::NoSchemaFile { path }
            | CliError::NoDatabase { path }
            | CliError::ReadFile { path, .. } => json!({ "path": path }),
            CliError::ConfigInvalid { location, .. } => json!({ "location": location }),
            CliError::NoUrl { config } | CliError::NoLintDialect { config } => {
                json!({ "config": config })
            }
            CliError::DirectoryNotDatabase { url, path, .. } => {
                json!({ "url": url.to_string(), "path": path })
            }
            CliError::Open { url, source, .. } | CliError::Database { url, source } => {
                let mut details = store_details(source);
                details["url"] = json!(url.to_string());
                details
            }
            CliError::Busy { url, .. } | CliError::Backup { url, .. } => {
                json!({ "url": url.to_string() })
            }
            CliError::LockBusy { url, source } | CliError::LockHeld { url, source } => {
                json!({ "url": url.to_string(), "holder": lock_holder(source) })
            }
            CliError::Restore {
                database, backup, ..
            } => json!({ "database": database, "backup": backup }),
            #[cfg(feature = "sqlite")]
            CliError::RestoreNeedsConsent { database } => json!({ "database": database }),
            CliError::BadMigrationName { name } => json!({ "name": name }),
            CliError::NoVersionLeft { latest } => json!({ "latest": latest }),
            CliError::MixedEngines { from, to } => json!({ "from": from, "to": to }),
            CliError::DevUrlEngine { dev, target, .. } => json!({ "dev": dev, "target": target }),
            CliError::DataLoss { count } => json!({ "statements": count }),
            CliError::PossibleRename { flags } => json!({ "renames": flags }),
            CliError::AmbiguousRecovery { versions } => json!({ "versions": versions }),
            CliError::Drift { url, applied } => {
                json!({ "url": url.to_string(), "applied": applied })
            }
            CliError::VerifyFailed(failure) => json!({
                "version": failure.version,
                "name": failure.name,
                "file": failure.origin,
                "stage": failure.stage,
            }),
            CliError::UnknownRule { id } => json!({ "rule": id }),
            CliError::LintErrors { errors }
            | CliError::LintRefused { errors, .. }
            | CliError::WouldRefuse { errors } => json!({ "errors": errors }),
            CliError::NotUpToDate { counts, total } => json!({
                "counts": counts.iter().map(|(state, n)| (state_name(*state), json!(n))).collect::<serde_json::Map<_, _>>(),
                "total": total,
            }),
            CliError::Differences { statements } => json!({ "statements": statements }),
            CliError::Engine(error) => engine_details(error),
            _ => json!({}),
        }
    }

    /// The JSON document of this failure: `ok` false, the exit code, the error (`kind`,
    /// `message`, `causes` and its details), and the fields of the document the command had.
    pub fn document(&self) -> ErrorDocument<'_> {
        let (message, causes) = chain(self);
        let details = match self.details() {
            serde_json::Value::Object(details) => details,
            _ => serde_json::Map::new(),
        };
        ErrorDocument {
            ok: false,
            exit_code: self.exit() as u8,
            error: ErrorJson {
                kind: self.kind(),
                message,
                causes,
                details,
            },
            fields: match self {
                CliError::Documented(documented) => Some(&documented.fields),
                _ => None,
            },
        }
    }
}

/// What `--format json` prints for a failed command (see [`CliError::document`]).
#[derive(Debug, Serialize)]
pub struct ErrorDocument<'a> {
    ok: bool,
    exit_code: u8,
    error: ErrorJson,
    #[serde(flatten)]
    fields: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

/// The `error` of an [`ErrorDocument`].
#[derive(Debug, Serialize)]
struct ErrorJson {
    kind: &'static str,
    message: String,
    causes: Vec<String>,
    #[serde(flatten)]
    details: serde_json::Map<String, serde_json::Value>,
}

/// `state` as JSON spells it.
fn state_name(state: State) -> String {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(name)) => name,
        _ => state.label().to_string(),
    }
}

/// The facts of an engine error.
fn engine_details(error: &Error) -> serde_json::Value {
    match error {
        Error::MigrationFailed {
            version,
            name,
            origin,
            transactional,
            applied,
            cause,
        } => {
            let mut details = statement_details(cause);
            details["version"] = json!(version);
            details["name"] = json!(name);
            details["file"] = json!(origin);
            details["transactional"] = json!(transactional);
            details["applied"] = json!(applied);
            details
        }
        Error::RollbackFailed {
            version,
            name,
            rolled_back,
            cause,
        } => {
            let mut details = statement_details(cause);
            details["version"] = json!(version);
            details["name"] = json!(name);
            details["rolled_back"] = json!(rolled_back);
            details
        }
        Error::NoDownScript { version, name } => json!({ "version": version, "name": name }),
        Error::UnknownVersion { version } => json!({ "version": version }),
        Error::Refused(refusal) => refusal_details(refusal),
        Error::Store(error) => store_details(error),
        Error::HistoryTooNew { found, supported } => {
            json!({ "found": found, "supported": supported })
        }
        Error::HistoryNameTaken {
            table,
            name,
            holder,
            ..
        } => json!({ "table": table, "name": name, "holder": holder }),
        Error::Declarative(DeclarativeError::RowsBlockChange {
            kind,
            description,
            rows,
        }) => json!({ "hazard": kind, "description": description, "rows": rows }),
        Error::Declarative(DeclarativeError::ApplyFailed {
            index,
            total,
            sql,
            cause,
            rolled_back,
            committed,
            ..
        }) => {
            let mut details = match cause {
                ApplyCause::Database { error } => statement_details(error),
                ApplyCause::Check { message } => json!({ "check": message }),
                _ => json!({}),
            };
            details["statement_index"] = json!(index + 1);
            details["statements"] = json!(total);
            details["statement"] = json!(sql);
            details["rolled_back"] = json!(rolled_back);
            details["committed"] = json!(committed);
            details
        }
        Error::Declarative(DeclarativeError::SchemaFile { file, cause }) => {
            let mut details = statement_details(cause);
            details["file"] = json!(file);
            details
        }
        Error::Declarative(DeclarativeError::Replay {
            version,
            name,
            origin,
            cause,
            ..
        }) => {
            let mut details = statement_details(cause);
            details["version"] = json!(version);
            details["name"] = json!(name);
            details["file"] = json!(origin);
            details
        }
        Error::Declarative(
            DeclarativeError::RefusedStatement {
                file,
                line,
                statement,
                ..
            }
            | DeclarativeError::NoSandbox {
                file,
                line,
                statement,
                ..
            },
        ) => json!({ "file": file, "line": line, "statement": statement }),
        _ => json!({}),
    }
}

/// Where a statement failed and what the database said of it.
fn statement_details(cause: &StatementError) -> serde_json::Value {
    json!({
        "statement_index": cause.statement_index,
        "line": cause.line,
        "column": cause.column,
        "statement": cause.statement,
        "database_message": cause.message,
        "code": cause.code,
        "constraint": cause.constraint,
    })
}

/// The database's code of a store error, where it has one.
fn store_details(error: &StoreError) -> serde_json::Value {
    match error {
        StoreError::Statement(cause) => statement_details(cause),
        StoreError::Database {
            code: Some(code), ..
        } => json!({ "code": code }),
        _ => json!({}),
    }
}

fn refusal_details(refusal: &Refusal) -> serde_json::Value {
    match refusal {
        Refusal::ChecksumMismatch {
            version,
            name,
            origin,
            recorded,
            found,
        } => json!({
            "version": version, "name": name, "file": origin,
            "recorded_checksum": recorded, "file_checksum": found,
        }),
        Refusal::OutOfOrder {
            versions,
            newest_applied,
        } => json!({ "versions": versions, "newest_applied": newest_applied }),
        Refusal::Failed {
            version,
            name,
            failed_at,
            error,
        } => json!({
            "version": version, "name": name, "failed_at": failed_at, "failure": error,
        }),
        Refusal::NotFailed {
            version,
            name,
            status,
        } => json!({ "version": version, "name": name, "status": status }),
        Refusal::RecoveryDoesNotFit {
            version,
            name,
            flag,
            reason,
        } => json!({ "version": version, "name": name, "action": flag, "reason": reason }),
        Refusal::FailedAndMissing { version, name } => {
            json!({ "version": version, "name": name })
        }
        _ => json!({}),
    }
}

/// The message of `error` and the messages of its causes, each said once: some errors both
/// print their cause and expose it as a source.
pub(crate) fn chain(error: &dyn std::error::Error) -> (String, Vec<String>) {
    let message = error.to_string();
    let mut causes = Vec::new();
    let mut shown = message.clone();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !shown.contains(&text) {
            causes.push(text.clone());
        }
        shown = text;
        source = cause.source();
    }
    (message, causes)
}

/// Print `error` and its causes on stderr: `error: ...`, then `caused by: ...` per cause.
pub(crate) fn print_error(error: &dyn std::error::Error) {
    let (message, causes) = chain(error);
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "{ERROR}error:{ERROR:#} {message}");
    for cause in causes {
        let _ = writeln!(stderr, "caused by: {cause}");
    }
}

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
pub(crate) fn unknown_rule_help(id: &str) -> String {
    // The same suggestions as for an unknown id in a `-- godwit:allow` comment.
    let catalogue = crate::plugins::registry().lint_catalogue();
    let similar = catalogue.similar(id);
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
        format!("the rules are {}", either(catalogue.ids().collect()))
    } else {
        format!(
            "did you mean {}? `godwit lint --list` lists every rule",
            either(similar)
        )
    }
}

/// Finish a command: print the error, if any, and give the exit code. A closed stdout pipe
/// (`godwit status | head -1`) is a success and prints nothing. In `format` JSON, the error is
/// also the one document on stdout; the command printed none, since it failed.
pub(crate) fn finish(result: Result<(), CliError>, format: Format) -> ExitCode {
    match result {
        Ok(()) => Exit::Success.into(),
        Err(error) => {
            let exit = error.exit();
            if exit != Exit::Success {
                // Stdout is what failed; nothing more can be written there.
                if format == Format::Json && !matches!(error, CliError::Stdout(_)) {
                    let _ = print::print_document(&error.document());
                }
                print_error(&error);
            }
            exit.into()
        }
    }
}

/// Finish on a command line clap rejected (exit code 2), or on `--help`/`--version` (0). A
/// rejected command line that asks for `--format json` gets its JSON document too.
pub(crate) fn finish_clap(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        // A closed pipe while printing help leaves nothing to report.
        let _ = error.print();
        return Exit::Success.into();
    }
    // clap quotes the arguments it rejects: a URL given where none is expected
    // (`godwit migrate postgres://user:pw@host/db`) would print its password.
    let shown = hide_passwords(&error.render().ansi().to_string(), std::env::args_os());
    if asks_for_json(std::env::args_os()) {
        let plain = hide_passwords(&error.render().to_string(), std::env::args_os());
        let message = plain.lines().next().unwrap_or_default();
        let _ = print::print_document(&json!({
            "ok": false,
            "exit_code": Exit::Usage as u8,
            "error": {
                "kind": "usage",
                "message": message.strip_prefix("error: ").unwrap_or(message),
                "causes": [],
            },
        }));
    }
    let _ = write!(anstream::stderr(), "{shown}");
    Exit::Usage.into()
}

/// Whether a command line clap could not read asks for `--format json` (`--format json` or
/// `--format=json`, anywhere, as a global option may be).
fn asks_for_json(args: impl IntoIterator<Item = OsString>) -> bool {
    let args: Vec<OsString> = args.into_iter().collect();
    args.iter().any(|arg| arg == "--format=json")
        || args
            .windows(2)
            .any(|pair| pair[0] == "--format" && pair[1] == "json")
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
            let redacted = crate::plugins::registry().redact(&candidate).to_string();
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
        crate::plugins::registry().redact("postgres://u:pw@h/db")
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
