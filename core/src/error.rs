//! Typed errors. Every message says what failed, where, and what to do next.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::backup::BackupError;
use crate::declarative::error::DeclarativeError;
use crate::history_table::Status;
pub use crate::migration::SourceError;
use crate::migration::{Checksum, Version};
use crate::store::data::{StatementError, StoreError};

/// The history's state does not allow the requested run. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
// Its variant's name in snake_case (`<&str>::from(&error)`): a kind scripts can match on.
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Refusal {
    /// An applied migration's file was edited after it ran.
    #[error(
        "migration {version} ({name}) was applied with checksum {recorded} but {origin} now has checksum {found}; \
         restore the file, or accept the edit with `godwit repair --accept-checksum {version}`"
    )]
    ChecksumMismatch {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// Its file.
        origin: String,
        /// Checksum in the history.
        recorded: Checksum,
        /// Checksum of the file now.
        found: Checksum,
    },
    /// Pending migrations are older than the newest applied one.
    #[error(
        "{} pending migration{} older than the newest applied migration {newest_applied}: {}; \
         apply {} anyway with `--allow-out-of-order`",
        versions.len(), if versions.len() == 1 { " is" } else { "s are" },
        versions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        if versions.len() == 1 { "it" } else { "them" }
    )]
    OutOfOrder {
        /// The pending versions older than `newest_applied`.
        versions: Vec<Version>,
        /// The newest applied version.
        newest_applied: Version,
    },
    /// A migration failed earlier and its file has not changed since.
    #[error(
        "migration {version} ({name}) failed on {failed_at}: {error}; \
         run `godwit recover` to see what it left behind and the ways out, \
         or fix the file and run migrate again (an edited file is retried)"
    )]
    Failed {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// When it failed.
        failed_at: String,
        /// The recorded error.
        error: String,
    },
    /// `recover` was asked to act on a migration that is not failed.
    #[error(
        "migration {version} ({name}) is {status}, not failed; `godwit recover` acts on failed \
         migrations only (`godwit status` shows every state)"
    )]
    NotFailed {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// Its state.
        status: Status,
    },
    /// The recovery asked for does not fit how the migration failed.
    #[error("{flag} does not fit migration {version} ({name}): {reason}")]
    RecoveryDoesNotFit {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// The flag of the action.
        flag: &'static str,
        /// Why not, and what fits instead.
        reason: String,
    },
    /// Pending migrations create tables that a database without history already holds, so
    /// they would fail (`migrate`), when the run does not allow it.
    #[error(
        "the database has no godwit history yet, but pending migrations create tables it already \
         holds: {}; they would fail on CREATE TABLE. If the database already has what those \
         migrations do, record them as applied without running them with `godwit repair \
         --mark-applied VERSION`; to start godwit from the database as it is, move them out of \
         the migrations folder and run `godwit baseline`; `--allow-existing-tables` runs them anyway",
        tables.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    TablesExist {
        /// The tables, in the order the migrations create them.
        tables: Vec<ExistingTable>,
    },
    /// `migrate --single-transaction` on an engine that cannot undo DDL in a transaction.
    #[error(
        "the {dialect} backend cannot roll DDL back with a transaction, so pending migrations \
         cannot be applied as one transaction; run migrate without --single-transaction"
    )]
    SingleTransactionUnsupported {
        /// The backend's name.
        dialect: &'static str,
    },
    /// `migrate --single-transaction` with a pending migration that runs outside a
    /// transaction, or ends the one it runs in.
    #[error(
        "migration {version} ({name}) {why}, so the pending migrations cannot be applied as one \
         transaction; apply those before it with `--single-transaction --to VERSION`, then the \
         rest without --single-transaction"
    )]
    OutsideSingleTransaction {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// What keeps it out (`says -- godwit:no-transaction`).
        why: &'static str,
    },
    /// `baseline` on a database whose history already has rows.
    #[error(
        "the history table {table} already records {}; a baseline only starts a history: \
         `godwit status` shows this one, and `godwit new` and `godwit migrate` go on from it",
        if *rows == 1 { "1 migration".to_string() } else { format!("{rows} migrations") }
    )]
    BaselineOverHistory {
        /// The history table.
        table: String,
        /// How many rows it holds.
        rows: usize,
    },
    /// `baseline` on a database that holds no table.
    #[error(
        "the database holds no tables, so there is nothing to baseline; write the first migration \
         with `godwit new NAME` and apply it with `godwit migrate`"
    )]
    BaselineEmpty,
    /// `baseline` at a version the migrations folder already has, or after migrations in it.
    #[error(
        "the migrations folder already holds migration{} {} at or before the baseline's version {version}; \
         a baseline must be the first migration, or they would be pending yet older than it, which `godwit migrate` refuses: \
         if the database already has what they do, record them with `godwit repair --mark-applied VERSION` instead of a baseline; \
         if it does not, pass `--version` older than {}, and they run after the baseline",
        plural(versions.len()),
        versions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        versions.first().map_or_else(String::new, ToString::to_string)
    )]
    BaselineNotFirst {
        /// The version asked for.
        version: Version,
        /// The migrations at or before it, oldest first.
        versions: Vec<Version>,
    },
    /// The schema changed between `baseline` reading it and recording it.
    #[error(
        "the database's schema changed while `godwit baseline` ran, so the migration it wrote no \
         longer describes it; nothing was recorded: run `godwit baseline` again"
    )]
    BaselineSchemaChanged,
    /// A migration failed earlier and its file is gone.
    #[error(
        "migration {version} ({name}) is recorded as failed and its file is missing; \
         restore the file, or record its real state with `godwit repair --mark-rolled-back {version}` \
         or `--mark-applied {version}`"
    )]
    FailedAndMissing {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
    },
}

/// Any failure of the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// Its variant's name in snake_case (`<&str>::from(&error)`): a kind scripts can match on.
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Error {
    /// The migrations could not be loaded.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The history's state forbids the run; nothing was changed.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The database failed outside a migration script.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An operations migration does not fit the live schema, or cannot be rendered; nothing
    /// of it ran.
    #[error(transparent)]
    Operation(#[from] crate::operation::OperationError),
    /// A migration script failed. Earlier migrations of the run stay applied.
    #[error(
        "migration {version} ({name}) failed in {origin}: {cause}{}",
        progress_note(applied)
    )]
    MigrationFailed {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// The script's file, or `embedded script`.
        origin: String,
        /// Whether the migration ran in a transaction (so nothing of it stayed).
        transactional: bool,
        /// Versions applied in this run before the failure.
        applied: Vec<Version>,
        /// The database's error, located in the script.
        cause: StatementError,
    },
    /// A migration could not start after earlier migrations of the run were applied, which
    /// stay applied: an operations migration after SQL is rendered (checked and linted) only
    /// when the SQL before it has run.
    #[error(
        "{cause} (applied before it in this run, and still applied: {})",
        versions(applied)
    )]
    StoppedAfter {
        /// Versions applied in this run before it.
        applied: Vec<Version>,
        /// Why it could not start.
        cause: Box<Error>,
    },
    /// The lint found error-level findings in a migration about to run; nothing was applied.
    #[error(
        "the lint found {} error{} in the pending migrations, so nothing was applied:\n{}fix {}, put `-- godwit:allow RULE` on the line above a statement to accept its risk (in an operations file, `allow = [\"RULE\"]`; `godwit lint --explain RULE` shows the safe alternative), or run again with the lint off (`--no-lint`)",
        report.errors(),
        plural(report.errors()),
        report.text(),
        if report.errors() == 1 { "it" } else { "them" }
    )]
    LintRefused {
        /// Every finding of every script about to run, warnings included.
        report: crate::lint::Report,
    },
    /// A down script failed during rollback.
    #[error(
        "rollback of migration {version} ({name}) failed: {cause}{}",
        rollback_note(rolled_back)
    )]
    RollbackFailed {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// Versions rolled back in this run before the failure.
        rolled_back: Vec<Version>,
        /// The database's error, located in the script.
        cause: StatementError,
    },
    /// Some migration to roll back has no down script; nothing was run.
    #[error(
        "migration {version} ({name}) has no down script, so it cannot be rolled back; \
         write {name}'s .down.sql file, or record a manual revert with `godwit repair --mark-rolled-back {version}`"
    )]
    NoDownScript {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
    },
    /// A version given by the user is not a known migration.
    #[error("no migration has version {version}; `godwit status` lists the versions")]
    UnknownVersion {
        /// The version asked for.
        version: Version,
    },
    /// `repair` was asked for something that does not fit the history.
    #[error("{0}")]
    Repair(String),
    /// The history table was written by a newer godwit.
    #[error(
        "the history table uses layout version {found}, newer than the {supported} this godwit understands; upgrade godwit"
    )]
    HistoryTooNew {
        /// Layout version found.
        found: i64,
        /// Highest layout this build understands.
        supported: i64,
    },
    /// Upgrading the history table to a newer layout failed; its transaction was rolled back,
    /// so the table keeps its old layout and every row.
    #[error(
        "cannot upgrade the history table {table} from layout {from} to {to}: {source}; nothing was changed (the upgrade runs in one transaction, and the next run tries again): fix what the database reports (a row edited by hand?) and run again"
    )]
    HistoryUpgrade {
        /// The history table.
        table: String,
        /// The layout it has.
        from: i64,
        /// The layout the failed step leads to.
        to: i64,
        /// The database's error.
        source: StoreError,
    },
    /// The history table's name (or its `_meta` table's) belongs to something that is not a
    /// godwit history table: an application table, a view, a system catalog.
    #[error(
        "the history table {table} cannot be used: `{name}` already names {holder}, which is not a godwit history table{}; nothing was created; choose another name for the history table (`history_table` in godwit.toml)",
        reason.as_ref().map(|reason| format!(" ({reason})")).unwrap_or_default()
    )]
    HistoryNameTaken {
        /// The history table, as configured.
        table: String,
        /// The name that is taken: the history table's or its `_meta` table's.
        name: String,
        /// What holds it, as the database describes it.
        holder: String,
        /// Why it is not godwit's, when a table where godwit would keep its own has the name.
        reason: Option<String>,
    },
    /// The history table holds a row godwit cannot read.
    #[error("the history table holds an unreadable row: {0}; fix or remove it by hand")]
    CorruptHistory(String),
    /// The backup asked for before the first migration failed, so no migration ran.
    #[error("no migration ran because the backup before them failed: {0}")]
    Backup(BackupError),
    /// The declarative workflow (push, generate, diff, check, verify) failed.
    #[error(transparent)]
    Declarative(#[from] DeclarativeError),
}

/// `s` after a count other than one.
fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn versions(list: &[Version]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn progress_note(applied: &[Version]) -> String {
    if applied.is_empty() {
        String::new()
    } else {
        format!(
            " (applied before the failure: {})",
            applied
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn rollback_note(done: &[Version]) -> String {
    if done.is_empty() {
        String::new()
    } else {
        format!(
            " (rolled back before the failure: {})",
            done.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// A table a pending migration creates that the database already holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingTable {
    /// The table, as the migration names it (folded as the engine folds it).
    pub table: String,
    /// The migration that creates it.
    pub version: Version,
    /// Where: the up script's file and the statement's line.
    pub origin: String,
}

impl fmt::Display for ExistingTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({})", self.table, self.origin)
    }
}
