//! Failures of the declarative workflow, and how they read.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::RenameRequest;
use crate::declarative::hints::HintError;
use crate::dialect::{HazardKind, RenderError};
use crate::migration::Version;
use crate::screen::ScreenError;
use crate::store::data::{StatementError, excerpt};

/// Failures of the declarative workflow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// Its variant's name in snake_case (`<&str>::from(&error)`): a kind scripts can match on.
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum DeclarativeError {
    /// A schema file or folder could not be read.
    #[error("cannot read the schema at {}", path.display())]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A schema folder holds no `.sql` file.
    #[error("{} holds no .sql file; put the desired schema in one or more .sql files", path.display())]
    NoSqlFiles {
        /// The folder.
        path: PathBuf,
    },
    /// A schema file is not valid UTF-8.
    #[error("{} is not valid UTF-8; save it as UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A schema file holds a NUL byte, which is not SQL: SQLite would silently stop reading
    /// the file there, PostgreSQL rejects it.
    #[error(
        "{}:{line}: holds a NUL byte, which is not SQL (SQLite would stop reading the schema there and leave the rest out); remove it, and if the file was saved as UTF-16, save it as UTF-8",
        path.display()
    )]
    NulByte {
        /// The schema file.
        path: PathBuf,
        /// 1-based line of the first NUL byte.
        line: usize,
    },
    /// A rename hint in a schema file cannot be used.
    #[error("{}:{}: {}", file.display(), error.line, error.problem)]
    Hint {
        /// The schema file.
        file: PathBuf,
        /// The hint's problem and line.
        error: HintError,
    },
    /// The database rejected a statement of a schema file (on the scratch database).
    #[error("{}", located(file, cause))]
    SchemaFile {
        /// The schema file.
        file: PathBuf,
        /// The database's error, with its line in the file.
        cause: StatementError,
    },
    /// A schema file cannot be cut into statements.
    #[error("{}:{}: cannot read the SQL: {}; fix the file", file.display(), error.line, error.message)]
    Unreadable {
        /// The schema file.
        file: PathBuf,
        /// Where reading failed, and why.
        error: ScreenError,
    },
    /// A schema file holds a statement that never belongs in one: nothing of it ran.
    #[error(
        "{}:{line}: `{statement}` cannot be in a schema file: {reason}; a schema file only \
         creates and changes the objects of the schema it describes, so nothing of it ran; \
         remove the statement, or put it in a versioned migration (`godwit new`)",
        file.display()
    )]
    RefusedStatement {
        /// The schema file.
        file: PathBuf,
        /// The 1-based line the statement starts on.
        line: usize,
        /// The start of the statement.
        statement: String,
        /// Why it is refused.
        reason: String,
    },
    /// A schema file holds a statement that runs code, and no sandboxed scratch database can
    /// be made for it: nothing of it ran.
    #[error(
        "{}:{line}: `{statement}`: {runs}, which godwit runs only on a scratch database that \
         code cannot reach out of, and {reason}; nothing of the schema file ran; move the \
         statement into a versioned migration (`godwit new`), or point dev_url at a server \
         where godwit may create a role for the scratch database",
        file.display()
    )]
    NoSandbox {
        /// The schema file.
        file: PathBuf,
        /// The 1-based line the statement starts on.
        line: usize,
        /// The start of the statement.
        statement: String,
        /// What runs (`a DO block runs its body`).
        runs: String,
        /// Why no sandbox could be made.
        reason: String,
    },
    /// A migration failed while being replayed on a scratch database.
    #[error(
        "migration {version} ({name}) fails on a scratch database: {}",
        located(Path::new(origin), cause)
    )]
    Replay {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// Its file.
        origin: String,
        /// The database's error.
        cause: StatementError,
    },
    /// An applied migration has no file, so the schema the migrations produce is unknown.
    #[error(
        "migration {version} ({name}) is applied but its file is missing, so the schema the \
         migrations produce cannot be rebuilt; restore the file"
    )]
    MissingMigration {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
    },
    /// The backend cannot read its catalog into a schema model.
    #[error("cannot read the {dialect} catalog: {cause}")]
    Introspect {
        /// The dialect's name.
        dialect: &'static str,
        /// Why.
        cause: RenderError,
    },
    /// The backend cannot express the changes as SQL.
    #[error("cannot write the changes as {dialect} SQL: {cause}")]
    Render {
        /// The dialect's name.
        dialect: &'static str,
        /// Why.
        cause: RenderError,
    },
    /// A `--rename` request names nothing in the database.
    #[error(
        "--rename {request}: the database has no table, column, index or enum label `{}`; \
         write OLD_TABLE=NEW_TABLE, TABLE.OLD_COLUMN=NEW_COLUMN, OLD_INDEX=NEW_INDEX or \
         ENUM_TYPE.OLD_LABEL=NEW_LABEL",
        request.old.join(".")
    )]
    UnknownRename {
        /// The request.
        request: RenameRequest,
    },
    /// A declared rename contradicts the two schemas.
    #[error(
        "cannot rename {object}: {reason}; if the rename was done already, remove its hint or \
         --rename flag"
    )]
    ConflictingRename {
        /// What the rename is, as `column users.username to user_name`.
        object: String,
        /// Why it cannot be done.
        reason: String,
    },
    /// A `--rename` flag is not `OLD=NEW`.
    #[error(
        "--rename `{text}` is not OLD=NEW; write OLD_TABLE=NEW_TABLE, TABLE.OLD_COLUMN=NEW_COLUMN or ENUM_TYPE.OLD_LABEL=NEW_LABEL"
    )]
    BadRenameRequest {
        /// The flag's value.
        text: String,
    },
    /// Concurrent index changes were asked of a backend that cannot make them.
    #[error(
        "the {dialect} backend cannot build or drop indexes without blocking writes, so it \
         has no concurrent index changes; leave out --concurrently"
    )]
    ConcurrentIndexesUnsupported {
        /// The dialect's name.
        dialect: &'static str,
    },
    /// Rows stand in the way of a change that cannot succeed with them: a constraint they
    /// break, enum labels they hold, values the new type of their column cannot take. No
    /// consent can make that work, so nothing runs.
    #[error("{}", blocked_message(*kind, description, *rows))]
    RowsBlockChange {
        /// What the statement would have done.
        kind: HazardKind,
        /// What the refused statement does (`removes values 'sad' of type mood used by ...`).
        description: String,
        /// How many rows stand in the way.
        rows: i64,
    },
    /// The plan drops and creates what may be renames, and nobody said whether they are
    /// ([`super::Caller::renames`]). Nothing was changed.
    #[error(
        "the plan drops and creates what may be {}: {}; nothing was changed; declare the renames (a hint in the schema file, or a rename request) or consent to the loss",
        if renames.len() == 1 { "a rename" } else { "renames" },
        renames.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    PossibleRenames {
        /// The pairings that may be renames.
        renames: Vec<super::PossibleRename>,
    },
    /// Statements of the plan destroy data and nobody consented ([`super::Caller::consent`],
    /// [`super::PushOptions::accept_data_loss`]). Nothing was changed.
    #[error(
        "{statements} statement{} would destroy data; nothing was changed; consent to the loss to apply {}, or change the schema",
        if *statements == 1 { "" } else { "s" },
        if *statements == 1 { "it" } else { "them" }
    )]
    NeedsConsent {
        /// How many statements need consent.
        statements: usize,
    },
    /// The newest migration has the largest version there can be.
    #[error(
        "migration {latest} has the largest version there can be, so no migration can come after it; renumber it (versions are timestamps like 20260101120000, or small integers)"
    )]
    NoVersionLeft {
        /// The newest version.
        latest: i64,
    },
    /// A diff between sides that are not live databases was given no server to build them on.
    #[error(
        "neither side of the diff is a live database and no scratch host was given to build them on; give one (a dev database)"
    )]
    NoScratchHost,
    /// The caller answered no ([`super::Answer::No`]). Nothing was changed.
    #[error("the change was declined, so nothing was changed")]
    Declined,
    /// A statement of a change failed.
    #[error(
        "statement {} of {total} failed: {cause}, in `{sql}`; {}",
        index + 1,
        apply_note(*rolled_back, *committed, hint.as_deref())
    )]
    ApplyFailed {
        /// 0-based index of the failing statement.
        index: usize,
        /// How many statements the change has.
        total: usize,
        /// The start of the failing statement.
        sql: String,
        /// What went wrong.
        cause: ApplyCause,
        /// Whether it ran in a transaction that was rolled back.
        rolled_back: bool,
        /// Statements that ran before it and stay applied (outside its transaction, or in
        /// one that committed).
        committed: usize,
        /// The dialect's advice for this statement's failure ([`crate::dialect::Statement::failure_hint`]).
        hint: Option<String>,
    },
}

fn blocked_message(kind: HazardKind, description: &str, rows: i64) -> String {
    let (rows, verb_s) = if rows == 1 {
        ("1 row".to_string(), "s")
    } else {
        (format!("{rows} rows"), "")
    };
    let (why, advice) = match kind {
        HazardKind::RemoveEnumValue => (
            format!("{rows} still hold{verb_s} them"),
            "update those rows to a value the schema keeps, or keep the values in the schema",
        ),
        HazardKind::AddConstraint => (
            format!("{rows} break{verb_s} it"),
            "change those rows first, or leave the constraint out of the schema",
        ),
        HazardKind::ConvertType => (
            format!("{rows} hold{verb_s} values it cannot convert"),
            "change those values first, or keep the column's type in the schema",
        ),
        // Rows counted apart from the data a statement loses (a type change that also
        // rounds, a rebuild that also drops a column) may fail any part of it.
        _ => (
            format!("{rows} would make it fail"),
            "change those rows first, or leave that change out of the schema",
        ),
    };
    format!("cannot apply the change: it {description}, and {why}; nothing was changed; {advice}")
}

/// `file:line: message` for a statement of a file, and its code and statement when known.
pub(super) fn located(file: &Path, cause: &StatementError) -> String {
    let mut text = match cause.line {
        Some(line) => format!("{}:{line}: {}", file.display(), cause.message),
        None => format!("{}: {}", file.display(), cause.message),
    };
    if let Some(code) = &cause.code {
        text.push_str(&format!(" [{code}]"));
    }
    if let Some(statement) = &cause.statement {
        text.push_str(&format!(" in `{}`", excerpt(statement, 80)));
    }
    text
}

fn apply_note(rolled_back: bool, committed: usize, hint: Option<&str>) -> String {
    if rolled_back {
        // Only statements outside the transaction can have run before it.
        let kept = match committed {
            0 => String::new(),
            1 => "; the statement before it ran outside the transaction and stays applied".into(),
            n => format!(
                "; the {n} statements before it ran outside the transaction and stay applied"
            ),
        };
        return format!(
            "its transaction was rolled back, so its changes were undone (data intact){kept}"
        );
    }
    let kept = match committed {
        0 => String::new(),
        1 => "; the statement before it stays applied".into(),
        n => format!("; the {n} statements before it stay applied"),
    };
    match hint {
        Some(hint) => format!("it ran outside a transaction: {hint}{kept}"),
        None => format!(
            "it ran outside a transaction, so check the database for a partial change before \
             running again{kept}"
        ),
    }
}

/// Why a statement of a change failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApplyCause {
    /// The database rejected it.
    Database {
        /// The database's error.
        error: StatementError,
    },
    /// A check query (such as a foreign key check after a table rebuild) returned rows.
    Check {
        /// What the check guards.
        message: String,
    },
}

impl fmt::Display for ApplyCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyCause::Database { error } => {
                f.write_str(&error.message)?;
                if let Some(code) = &error.code {
                    write!(f, " [{code}]")?;
                }
                Ok(())
            }
            ApplyCause::Check { message } => write!(f, "check failed: {message}"),
        }
    }
}
