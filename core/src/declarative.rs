//! The declarative workflow, written once over `dyn Store` and `dyn Dialect`.
//!
//! A desired schema is plain SQL DDL. Rather than parse it, godwit runs it on a scratch
//! database of the target's engine and reads the result back from the catalog, so both sides
//! of a diff are models the engine itself normalised:
//!
//! 1. [`desired_schema`]: run the schema files on a scratch store, [`introspect`] it.
//! 2. [`introspect`] the target (or [`replay_migrations`] on another scratch, for `generate`,
//!    `check` and `verify`).
//! 3. [`plan_changes`]: diff the two models and let the dialect render statements
//!    ([`plan_keeping_undeclared`] first adds back what the desired schema leaves out).
//! 4. [`measure_hazards`]: count the rows each destructive statement would touch.
//! 5. [`apply`]: run the statements, the transactional ones in one transaction.
//!
//! Renames are never guessed: they come from comments in the schema file
//! ([`crate::hints`]), from the user ([`RenameRequest`]), or from answering the questions
//! [`possible_renames`] suggests.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dialect::{
    Dialect, HazardKind, LockKind, RenderError, RenderOptions, Statement, StatementKind,
};
use crate::diff::{Change, ColumnRename, DiffOptions, EnumValueRename, Renames, diff};
use crate::error::Error;
use crate::hints::{HintError, rename_hints};
use crate::history::{self, HistoryTable, Status};
use crate::migration::{Migration, Migrations, Script, Version};
use crate::schema::{Name, Schema, Table};
use crate::store::{LockRequest, StatementError, Store, StoreError, Value, excerpt};

mod keep;

pub use self::keep::{ConstraintKind, Kept, keep_undeclared, plan_keeping_undeclared};

/// Failures of the declarative workflow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// break, enum labels they hold. No consent can make that work, so nothing runs.
    #[error("{}", blocked_message(*kind, description, *rows))]
    RowsBlockChange {
        /// What the statement would have done.
        kind: HazardKind,
        /// What the refused statement does (`removes values 'sad' of type mood used by ...`).
        description: String,
        /// How many rows stand in the way.
        rows: i64,
    },
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
        /// The dialect's advice for this statement's failure ([`Statement::failure_hint`]).
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
        _ => (
            format!("{rows} break{verb_s} it"),
            "change those rows first, or leave the constraint out of the schema",
        ),
    };
    format!("cannot apply the change: it {description}, and {why}; nothing was changed; {advice}")
}

/// `file:line: message` for a statement of a file, and its code and statement when known.
fn located(file: &Path, cause: &StatementError) -> String {
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

fn statement_error(error: StoreError) -> StatementError {
    match error {
        StoreError::Statement(error) => error,
        other => StatementError {
            statement_index: None,
            line: None,
            column: None,
            statement: None,
            message: other.to_string(),
            code: None,
            constraint: None,
        },
    }
}

/// Read the catalog of `store` into a schema model, without godwit's own tables (the history
/// table `history`, its `_meta` and `_lock` companions; in `history.schema`, or in any schema
/// when that is `None`).
pub async fn introspect(store: &mut dyn Store, history: &HistoryTable) -> Result<Schema, Error> {
    let queries = store.dialect().introspection_queries();
    // One snapshot: a migration committing between two catalog queries would otherwise give
    // the parser, say, the columns of a table the list of tables did not have.
    let results = store.query_snapshot(&queries).await?;
    let dialect = store.dialect();
    let mut schema =
        dialect
            .schema_from_catalog(results)
            .map_err(|cause| DeclarativeError::Introspect {
                dialect: dialect.name(),
                cause,
            })?;
    let own = [
        history.name.clone(),
        history.meta_name(),
        history.lock_name(),
    ];
    schema.tables.retain(|table| {
        let ours = own.contains(&table.name.name)
            && history
                .schema
                .as_ref()
                .is_none_or(|schema| table.name.schema.as_ref() == Some(schema));
        !ours
    });
    schema.normalize();
    Ok(schema)
}

/// The desired schema's SQL: one file, or the `.sql` files of a folder in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaSource {
    /// Each file's path and text, in the order they run.
    pub files: Vec<(PathBuf, String)>,
}

impl SchemaSource {
    /// Read `path`: a file, or a folder whose `.sql` files (not those of its sub-folders) are
    /// read in name order.
    pub fn load(path: &Path) -> Result<Self, DeclarativeError> {
        let read_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DeclarativeError::Read { path, source }
        };
        let metadata = std::fs::metadata(path).map_err(read_error(path))?;
        let paths = if metadata.is_dir() {
            let mut paths = Vec::new();
            for entry in std::fs::read_dir(path).map_err(read_error(path))? {
                let entry = entry.map_err(read_error(path))?;
                let file = entry.path();
                let is_sql = file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("sql"));
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if is_sql && !hidden && entry.file_type().map_err(read_error(&file))?.is_file() {
                    paths.push(file);
                }
            }
            if paths.is_empty() {
                return Err(DeclarativeError::NoSqlFiles {
                    path: path.to_path_buf(),
                });
            }
            paths.sort();
            paths
        } else {
            vec![path.to_path_buf()]
        };
        let mut files = Vec::with_capacity(paths.len());
        for file in paths {
            let bytes = std::fs::read(&file).map_err(read_error(&file))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| DeclarativeError::NotUtf8 { path: file.clone() })?;
            files.push((file, text));
        }
        Ok(SchemaSource { files })
    }

    /// Whether no file holds a statement (only blanks and comments): a desired schema with
    /// nothing in it, which more often means a file that was cut short than a wish to drop
    /// everything.
    pub fn holds_no_statements(&self) -> bool {
        self.files
            .iter()
            .all(|(_, sql)| crate::hints::statements(sql).is_some_and(|s| s.is_empty()))
    }

    /// The rename hints of every file ([`crate::hints`]), together.
    pub fn rename_hints(&self) -> Result<Renames, DeclarativeError> {
        let mut renames = Renames::default();
        for (file, sql) in &self.files {
            let found = rename_hints(sql).map_err(|error| DeclarativeError::Hint {
                file: file.clone(),
                error,
            })?;
            merge_renames(&mut renames, found);
        }
        Ok(renames)
    }
}

/// Add `more` to `renames`.
pub fn merge_renames(renames: &mut Renames, more: Renames) {
    renames.tables.extend(more.tables);
    renames.columns.extend(more.columns);
    renames.indexes.extend(more.indexes);
    renames.enum_values.extend(more.enum_values);
}

/// Open a scratch database on `host` ([`Store::open_scratch`]), run `work` on it, and close it
/// (which deletes it) whatever `work` returned.
pub async fn with_scratch<T>(
    host: &mut dyn Store,
    work: impl AsyncFnOnce(&mut dyn Store) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut scratch = host.open_scratch().await?;
    let result = work(scratch.as_mut()).await;
    if let Err(error) = scratch.close().await {
        tracing::warn!(%error, "could not remove a scratch database");
    }
    result
}

/// Run the schema files on `scratch` (an empty database) and read back what they created.
///
/// The files run whole, in order, in one transaction. A declarative file need not be in
/// dependency order (a foreign key may name a table defined further down, a folder's files may
/// refer to each other), so when that fails the transaction is rolled back and the statements
/// of all files run one at a time, in passes, each pass retrying those that failed in the one
/// before, until all have run or a pass makes no progress. The error left is reported with its
/// file and line. On an engine without transactional DDL the first failure is reported.
pub async fn desired_schema(
    scratch: &mut dyn Store,
    source: &SchemaSource,
) -> Result<Schema, Error> {
    if let Some(error) = run_files(scratch, source).await? {
        run_in_passes(scratch, source, error).await?;
    }
    introspect(scratch, &HistoryTable::default()).await
}

/// [`desired_schema`] on a scratch database that first gets the namespaces (schemas) of
/// `existing` (the target's, or those its migrations create) that the files do not create
/// themselves. A schema file may then use a namespace that exists without creating it, as with
/// sqldef; such a namespace is part of the desired schema, so a push never drops a namespace
/// the file does not mention. On engines without namespaces this is [`desired_schema`].
pub async fn desired_schema_over(
    scratch: &mut dyn Store,
    source: &SchemaSource,
    existing: &Schema,
) -> Result<Schema, Error> {
    let created: Vec<String> = source
        .files
        .iter()
        .flat_map(|(_, sql)| crate::hints::created_schemas(sql))
        .collect();
    let changes: Vec<Change> = existing
        .schemas
        .iter()
        .filter(|schema| !created.iter().any(|c| c.eq_ignore_ascii_case(schema)))
        .cloned()
        .map(Change::CreateSchema)
        .collect();
    if !changes.is_empty() {
        let dialect = scratch.dialect();
        let statements = dialect
            .render(&changes, &RenderOptions::default())
            .map_err(|cause| DeclarativeError::Render {
                dialect: dialect.name(),
                cause,
            })?;
        apply(scratch, &statements).await?;
    }
    let desired = desired_schema(scratch, source).await?;
    Ok(settle(scratch, desired, existing).await)
}

/// The desired schema, with every object the engine spells differently once its own spelling
/// is read back taken in the spelling `existing` holds ([`crate::diff::adopt_spellings`]).
/// That needs one more scratch database, made only when some object is in both schemas and
/// spelled differently (were `existing` the second spelling, adopting it would change
/// something): a first push, or one that only adds and drops, costs nothing more. Should the
/// engine not take back its own rendering (a gap in a dialect), the desired schema stays as
/// it was read: the plan is then right, only perhaps not minimal.
async fn settle(scratch: &mut dyn Store, desired: Schema, existing: &Schema) -> Schema {
    let dialect = scratch.dialect();
    let options = dialect.diff_options();
    if crate::diff::adopt_spellings(desired.clone(), existing, existing) == desired {
        return desired;
    }
    let create = diff(&Schema::default(), &desired, &Renames::default(), options);
    let Ok(statements) = dialect.render(&create, &RenderOptions::default()) else {
        return desired;
    };
    let again = with_scratch(scratch, async |again| {
        apply(again, &statements).await?;
        introspect(again, &HistoryTable::default()).await
    })
    .await;
    match again {
        Ok(again) => crate::diff::adopt_spellings(desired, &again, existing),
        Err(error) => {
            tracing::debug!(%error, "the desired schema does not recreate itself; comparing it as read");
            desired
        }
    }
}

fn schema_file_error(file: &Path, error: StoreError) -> Error {
    match error {
        StoreError::Statement(cause) => DeclarativeError::SchemaFile {
            file: file.to_path_buf(),
            cause,
        }
        .into(),
        other => Error::Store(other),
    }
}

/// Run every file whole, in one transaction where the engine allows. `Some` is a statement's
/// failure after which the transaction was rolled back.
async fn run_files(scratch: &mut dyn Store, source: &SchemaSource) -> Result<Option<Error>, Error> {
    let transactional = scratch.dialect().capabilities().transactional_ddl;
    if transactional {
        scratch.begin().await?;
    }
    for (file, sql) in &source.files {
        if sql.trim().is_empty() {
            continue;
        }
        if let Err(error) = scratch.execute_script(sql).await {
            let error = schema_file_error(file, error);
            if !transactional || !matches!(error, Error::Declarative(_)) {
                return Err(error);
            }
            scratch.rollback().await?;
            return Ok(Some(error));
        }
    }
    if transactional {
        scratch.commit().await?;
    }
    Ok(None)
}

/// Run the statements of every file one at a time, retrying failures in passes. `first` is the
/// failure of the whole run, reported when the files cannot be cut into statements.
async fn run_in_passes(
    scratch: &mut dyn Store,
    source: &SchemaSource,
    first: Error,
) -> Result<(), Error> {
    let mut pending = Vec::new();
    for (file, sql) in &source.files {
        let Some(pieces) = crate::hints::statements(sql) else {
            return Err(first);
        };
        pending.extend(pieces.into_iter().map(|(line, sql)| (file, line, sql)));
    }
    loop {
        let mut failed = Vec::new();
        let mut first_failure = None;
        let before = pending.len();
        for (file, line, sql) in pending {
            if let Err(error) = scratch.execute_script(sql).await {
                if first_failure.is_none() {
                    first_failure = Some(match error {
                        StoreError::Statement(mut cause) => {
                            // The line is within the statement; make it a line of the file.
                            cause.line = Some(line + cause.line.unwrap_or(1) - 1);
                            schema_file_error(file, StoreError::Statement(cause))
                        }
                        other => return Err(Error::Store(other)),
                    });
                }
                failed.push((file, line, sql));
            }
        }
        match first_failure {
            None => return Ok(()),
            Some(error) if failed.len() == before => return Err(error),
            Some(_) => pending = failed,
        }
    }
}

/// Run one script the way a migration runs: in a transaction unless it says
/// `-- godwit:no-transaction` or the engine has no transactional DDL.
async fn run_script(store: &mut dyn Store, script: &Script) -> Result<(), StoreError> {
    let transactional =
        !script.directives.no_transaction && store.dialect().capabilities().transactional_ddl;
    if !transactional {
        return store.execute_script(&script.sql).await;
    }
    store.begin().await?;
    match store.execute_script(&script.sql).await {
        Ok(()) => store.commit().await,
        Err(error) => {
            if let Err(rollback) = store.rollback().await {
                tracing::warn!(%rollback, "rollback after a failed script failed");
            }
            Err(error)
        }
    }
}

fn replay_error(migration: &Migration, script: &Script, error: StoreError) -> DeclarativeError {
    DeclarativeError::Replay {
        version: migration.version,
        name: migration.name.clone(),
        origin: script.origin(),
        cause: statement_error(error),
    }
}

/// Apply every up script of `migrations` in order on `scratch` (each in a transaction unless
/// it is a no-transaction migration) and read back the schema they produce. No history is
/// written to the scratch database.
pub async fn replay_migrations(
    scratch: &mut dyn Store,
    migrations: &Migrations,
) -> Result<Schema, Error> {
    for migration in migrations {
        run_script(scratch, &migration.up)
            .await
            .map_err(|error| replay_error(migration, &migration.up, error))?;
    }
    introspect(scratch, &HistoryTable::default()).await
}

/// The changes from one schema to another and the statements that make them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePlan {
    /// What changes, in order.
    pub changes: Vec<Change>,
    /// The SQL that makes the changes, in order.
    pub statements: Vec<Statement>,
}

impl ChangePlan {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Diff `current` against `desired` and render the statements that turn one into the other.
///
/// The names in `renames` are first matched to the two schemas (exactly, then ignoring an
/// omitted schema, then ignoring case when that finds one object), so a hint or a flag written
/// as `users` finds `public.users`, and renames whose old object is gone (already done) or
/// whose old and new names are one object are dropped: pushing the same file twice changes
/// nothing the second time. A rename that contradicts the schemas (its old object is still
/// desired, or its new name is taken) is a [`DeclarativeError::ConflictingRename`].
///
/// `options` go to the dialect's renderer; asking for concurrent index changes of a dialect
/// without them is a [`DeclarativeError::ConcurrentIndexesUnsupported`], even when nothing
/// changes, so a wrong request is never silently ignored.
pub fn plan_changes(
    dialect: &dyn Dialect,
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
    options: &RenderOptions,
) -> Result<ChangePlan, Error> {
    if options.concurrent_indexes && !dialect.capabilities().concurrent_indexes {
        return Err(DeclarativeError::ConcurrentIndexesUnsupported {
            dialect: dialect.name(),
        }
        .into());
    }
    let diff_options = dialect.diff_options();
    let renames = resolve_renames(renames, current, desired, diff_options)?;
    let changes = diff(current, desired, &renames, diff_options);
    if changes.is_empty() {
        return Ok(ChangePlan::default());
    }
    let statements =
        dialect
            .render(&changes, options)
            .map_err(|cause| DeclarativeError::Render {
                dialect: dialect.name(),
                cause,
            })?;
    Ok(ChangePlan {
        changes,
        statements,
    })
}

/// The enum type of `schema` that `wanted` names, as [`find_name`] finds it.
fn enum_named<'a>(schema: &'a Schema, wanted: &Name) -> Option<&'a crate::schema::Enum> {
    let name = find_name(schema.enums.iter().map(|e| &e.name), wanted)?;
    schema.enums.iter().find(|e| &e.name == name)
}

/// Find the object `wanted` names among `names`: exactly; else, when `wanted` has no schema,
/// by name in any schema; else ignoring case. Only a single match counts.
fn find_name<'a>(names: impl Iterator<Item = &'a Name> + Clone, wanted: &Name) -> Option<&'a Name> {
    if let Some(exact) = names.clone().find(|n| *n == wanted) {
        return Some(exact);
    }
    let schema_fits = |n: &Name, fold: bool| match (&wanted.schema, &n.schema) {
        (None, _) => true,
        (Some(w), Some(s)) => {
            if fold {
                w.eq_ignore_ascii_case(s)
            } else {
                w == s
            }
        }
        (Some(_), None) => false,
    };
    let unique = |found: Vec<&'a Name>| match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    unique(
        names
            .clone()
            .filter(|n| n.name == wanted.name && schema_fits(n, false))
            .collect(),
    )
    .or_else(|| {
        unique(
            names
                .filter(|n| n.name.eq_ignore_ascii_case(&wanted.name) && schema_fits(n, true))
                .collect(),
        )
    })
}

fn find_column<'a>(table: &'a Table, wanted: &str) -> Option<&'a str> {
    if let Some(column) = table.columns.iter().find(|c| c.name == wanted) {
        return Some(&column.name);
    }
    let mut folded = table
        .columns
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(wanted));
    match (folded.next(), folded.next()) {
        (Some(one), None) => Some(&one.name),
        _ => None,
    }
}

fn same_name(a: &Name, b: &Name, options: DiffOptions) -> bool {
    if options.case_insensitive {
        a.name.eq_ignore_ascii_case(&b.name)
            && a.schema.as_deref().map(str::to_ascii_lowercase)
                == b.schema.as_deref().map(str::to_ascii_lowercase)
    } else {
        a == b
    }
}

fn same_ident(a: &str, b: &str, options: DiffOptions) -> bool {
    if options.case_insensitive {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// `renames` with their names as `current` (old names) and `desired` (new names) spell them,
/// keeping only those that still have something to do: a rename whose old object is gone was
/// done by an earlier run. A rename whose old object is still in the desired schema, or whose
/// new name is already taken in the database, contradicts the schemas and is an error.
fn resolve_renames(
    renames: &Renames,
    current: &Schema,
    desired: &Schema,
    options: DiffOptions,
) -> Result<Renames, DeclarativeError> {
    let conflict = |object: String, reason: &str| DeclarativeError::ConflictingRename {
        object,
        reason: reason.to_string(),
    };
    let still_desired = "the old name is still in the desired schema";
    let taken = "the new name already exists in the database";
    let current_tables = current.tables.iter().map(|t| &t.name);
    let desired_tables = desired.tables.iter().map(|t| &t.name);
    let mut resolved = Renames::default();
    for (old, new) in &renames.tables {
        let (Some(old), Some(new)) = (
            find_name(current_tables.clone(), old),
            find_name(desired_tables.clone(), new),
        ) else {
            continue;
        };
        if same_name(old, new, options) {
            continue;
        }
        let object = || format!("table {old} to {new}");
        if desired
            .tables
            .iter()
            .any(|t| same_name(&t.name, old, options))
        {
            return Err(conflict(object(), still_desired));
        }
        if current
            .tables
            .iter()
            .any(|t| same_name(&t.name, new, options))
        {
            return Err(conflict(object(), taken));
        }
        resolved.tables.push((old.clone(), new.clone()));
    }
    for rename in &renames.columns {
        let Some(desired_table) =
            find_name(desired_tables.clone(), &rename.table).and_then(|name| desired.table(name))
        else {
            continue;
        };
        let current_name = resolved
            .tables
            .iter()
            .find(|(_, new)| *new == desired_table.name)
            .map_or_else(|| desired_table.name.clone(), |(old, _)| old.clone());
        let Some(current_table) = current
            .tables
            .iter()
            .find(|t| same_name(&t.name, &current_name, options))
        else {
            continue;
        };
        let (Some(from), Some(to)) = (
            find_column(current_table, &rename.from),
            find_column(desired_table, &rename.to),
        ) else {
            continue;
        };
        if same_ident(from, to, options) {
            continue;
        }
        let object = || format!("column {}.{from} to {to}", desired_table.name);
        if desired_table
            .columns
            .iter()
            .any(|c| same_ident(&c.name, from, options))
        {
            return Err(conflict(object(), still_desired));
        }
        if current_table
            .columns
            .iter()
            .any(|c| same_ident(&c.name, to, options))
        {
            return Err(conflict(object(), taken));
        }
        resolved.columns.push(ColumnRename {
            table: desired_table.name.clone(),
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let current_indexes = current.indexes().map(|i| &i.name);
    let desired_indexes = desired.indexes().map(|i| &i.name);
    for (old, new) in &renames.indexes {
        let (Some(old), Some(new)) = (
            find_name(current_indexes.clone(), old),
            find_name(desired_indexes.clone(), new),
        ) else {
            continue;
        };
        if same_name(old, new, options) {
            continue;
        }
        let object = || format!("index {old} to {new}");
        if desired_indexes.clone().any(|n| same_name(n, old, options)) {
            return Err(conflict(object(), still_desired));
        }
        if current_indexes.clone().any(|n| same_name(n, new, options)) {
            return Err(conflict(object(), taken));
        }
        resolved.indexes.push((old.clone(), new.clone()));
    }
    for rename in &renames.enum_values {
        let (Some(current_type), Some(desired_type)) = (
            enum_named(current, &rename.type_name),
            enum_named(desired, &rename.type_name),
        ) else {
            continue;
        };
        // Labels are strings compared exactly, in every engine.
        let (from, to) = (&rename.from, &rename.to);
        if from == to || !current_type.values.contains(from) || !desired_type.values.contains(to) {
            continue;
        }
        let object = || format!("value '{from}' of type {} to '{to}'", desired_type.name);
        if desired_type.values.contains(from) {
            return Err(conflict(object(), still_desired));
        }
        if current_type.values.contains(to) {
            return Err(conflict(object(), taken));
        }
        resolved.enum_values.push(EnumValueRename {
            type_name: desired_type.name.clone(),
            from: from.clone(),
            to: to.clone(),
        });
    }
    Ok(resolved)
}

/// A rename asked for on the command line: `OLD=NEW`, where OLD is a table (`users`,
/// `app.users`), a column (`users.email`, `app.users.email`), an index, or a label of an enum
/// type (`mood.sad`, `app.mood.sad`), and NEW is the new name alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameRequest {
    /// The old name's parts.
    pub old: Vec<String>,
    /// The new name.
    pub new: String,
}

impl fmt::Display for RenameRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.old.join("."), self.new)
    }
}

impl std::str::FromStr for RenameRequest {
    type Err = DeclarativeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || DeclarativeError::BadRenameRequest {
            text: text.to_string(),
        };
        let (old, new) = text.split_once('=').ok_or_else(bad)?;
        let old: Vec<String> = old.split('.').map(|p| p.trim().to_string()).collect();
        let new = new.trim();
        if new.is_empty() || new.contains('=') || old.iter().any(String::is_empty) {
            return Err(bad());
        }
        let new = new.rsplit('.').next().unwrap_or(new).to_string();
        Ok(RenameRequest { old, new })
    }
}

fn name_of(parts: &[String]) -> Option<Name> {
    match parts {
        [name] => Some(Name::bare(name.clone())),
        [schema, name] => Some(Name::qualified(schema.clone(), name.clone())),
        _ => None,
    }
}

/// Turn command-line rename requests into [`Renames`], deciding from the two schemas whether
/// each names a table, a column or an index. Column renames are keyed by the table's new name
/// (a table renamed by `base` or by another request counts).
pub fn resolve_requests(
    requests: &[RenameRequest],
    current: &Schema,
    desired: &Schema,
    base: &Renames,
) -> Result<Renames, DeclarativeError> {
    let current_tables = current.tables.iter().map(|t| &t.name);
    let mut renames = Renames::default();
    let mut rest = Vec::new();
    for request in requests {
        match name_of(&request.old).and_then(|n| find_name(current_tables.clone(), &n)) {
            Some(old) => renames.tables.push((
                old.clone(),
                Name {
                    schema: old.schema.clone(),
                    name: request.new.clone(),
                },
            )),
            None => rest.push(request),
        }
    }
    let new_table_name = |table: &Name| -> Name {
        base.tables
            .iter()
            .chain(&renames.tables)
            .find(|(old, _)| old == table)
            .map_or_else(|| table.clone(), |(_, new)| new.clone())
    };
    let mut columns = Vec::new();
    let mut indexes = Vec::new();
    let mut enum_values = Vec::new();
    for request in rest {
        let (table_parts, column) = request.old.split_at(request.old.len() - 1);
        let table = name_of(table_parts).and_then(|wanted| {
            find_name(current_tables.clone(), &wanted)
                .and_then(|n| current.table(n))
                .map(|t| (t, new_table_name(&t.name)))
                .or_else(|| {
                    // The table may be named by its new name; find its current one.
                    let new = find_name(desired.tables.iter().map(|t| &t.name), &wanted)?;
                    let old = base
                        .tables
                        .iter()
                        .chain(&renames.tables)
                        .find(|(_, n)| n == new)
                        .map_or(new, |(old, _)| old);
                    current.table(old).map(|t| (t, new.clone()))
                })
        });
        if let Some((table, new_table)) = table
            && let Some(from) = find_column(table, &column[0])
        {
            columns.push(ColumnRename {
                table: new_table,
                from: from.to_string(),
                to: request.new.clone(),
            });
            continue;
        }
        let index = name_of(&request.old)
            .and_then(|wanted| find_name(current.indexes().map(|i| &i.name), &wanted));
        if let Some(old) = index {
            indexes.push((
                old.clone(),
                Name {
                    schema: old.schema.clone(),
                    name: request.new.clone(),
                },
            ));
            continue;
        }
        // `TYPE.LABEL=NEW`: a label of an enum type, which keeps its name.
        let enum_type = name_of(table_parts).and_then(|wanted| enum_named(current, &wanted));
        match enum_type {
            Some(found) if found.values.contains(&column[0]) => {
                enum_values.push(EnumValueRename {
                    type_name: found.name.clone(),
                    from: column[0].clone(),
                    to: request.new.clone(),
                });
            }
            _ => {
                return Err(DeclarativeError::UnknownRename {
                    request: request.clone(),
                });
            }
        }
    }
    renames.columns = columns;
    renames.indexes = indexes;
    renames.enum_values = enum_values;
    Ok(renames)
}

/// A drop and a create in one plan that may be one rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PossibleRename {
    /// A table is dropped and another created.
    Table {
        /// The dropped table.
        from: Name,
        /// The created table.
        to: Name,
    },
    /// A column is dropped and another added to the same table.
    Column {
        /// The table (desired name).
        table: Name,
        /// The dropped column.
        from: String,
        /// The added column.
        to: String,
    },
    /// A label of an enum type is removed and another added.
    EnumValue {
        /// The type.
        type_name: Name,
        /// The removed label.
        from: String,
        /// The added label.
        to: String,
    },
}

impl PossibleRename {
    /// The `--rename` value that declares this rename.
    pub fn flag(&self) -> String {
        match self {
            PossibleRename::Table { from, to } => format!("{from}={}", to.name),
            PossibleRename::Column { table, from, to } => format!("{table}.{from}={to}"),
            PossibleRename::EnumValue {
                type_name,
                from,
                to,
            } => format!("{type_name}.{from}={to}"),
        }
    }

    /// This rename as [`Renames`].
    pub fn to_renames(&self) -> Renames {
        match self {
            PossibleRename::Table { from, to } => Renames {
                tables: vec![(from.clone(), to.clone())],
                ..Renames::default()
            },
            PossibleRename::Column { table, from, to } => Renames {
                columns: vec![ColumnRename {
                    table: table.clone(),
                    from: from.clone(),
                    to: to.clone(),
                }],
                ..Renames::default()
            },
            PossibleRename::EnumValue {
                type_name,
                from,
                to,
            } => Renames {
                enum_values: vec![EnumValueRename {
                    type_name: type_name.clone(),
                    from: from.clone(),
                    to: to.clone(),
                }],
                ..Renames::default()
            },
        }
    }
}

impl fmt::Display for PossibleRename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PossibleRename::Table { from, to } => write!(f, "table {from} to {to}"),
            PossibleRename::Column { table, from, to } => {
                write!(f, "column {table}.{from} to {to}")
            }
            PossibleRename::EnumValue {
                type_name,
                from,
                to,
            } => write!(f, "value '{from}' of type {type_name} to '{to}'"),
        }
    }
}

/// The drops and creates of `changes` that may be renames, every pairing, those with matching
/// column types first. Nothing is decided here: the user says which, if any, are renames.
pub fn possible_renames(changes: &[Change]) -> Vec<PossibleRename> {
    let mut found = Vec::new();
    let dropped = changes.iter().filter_map(|c| match c {
        Change::DropTable(t) => Some(t),
        _ => None,
    });
    let created: Vec<&Table> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable(t) => Some(t),
            _ => None,
        })
        .collect();
    for from in dropped {
        let mut pairs: Vec<(bool, &Table)> = created
            .iter()
            .map(|to| {
                let shape = |t: &Table| {
                    t.columns
                        .iter()
                        .map(|c| c.data_type.to_ascii_lowercase())
                        .collect::<Vec<_>>()
                };
                (shape(from) != shape(to), *to)
            })
            .collect();
        pairs.sort_by_key(|(differs, _)| *differs);
        found.extend(pairs.into_iter().map(|(_, to)| PossibleRename::Table {
            from: from.name.clone(),
            to: to.name.clone(),
        }));
    }
    for change in changes {
        let Change::AlterTable(table) = change else {
            continue;
        };
        for dropped in &table.dropped_columns {
            let mut pairs: Vec<(bool, &str)> = table
                .added_columns
                .iter()
                .map(|added| {
                    (
                        !added.data_type.eq_ignore_ascii_case(&dropped.data_type),
                        added.name.as_str(),
                    )
                })
                .collect();
            pairs.sort_by_key(|(differs, _)| *differs);
            found.extend(pairs.into_iter().map(|(_, to)| PossibleRename::Column {
                table: table.to.name.clone(),
                from: dropped.name.clone(),
                to: to.to_string(),
            }));
        }
    }
    for change in changes {
        let Change::AlterEnum { from, to, .. } = change else {
            continue;
        };
        let added: Vec<&String> = to
            .values
            .iter()
            .filter(|v| !from.values.contains(v))
            .collect();
        for (position, removed) in from.values.iter().enumerate() {
            if to.values.contains(removed) {
                continue;
            }
            // A label added where the removed one stood comes first.
            let mut pairs: Vec<(bool, &String)> = added
                .iter()
                .map(|label| (to.values.get(position) != Some(*label), *label))
                .collect();
            pairs.sort_by_key(|(elsewhere, _)| *elsewhere);
            found.extend(
                pairs
                    .into_iter()
                    .map(|(_, label)| PossibleRename::EnumValue {
                        type_name: to.name.clone(),
                        from: removed.clone(),
                        to: label.clone(),
                    }),
            );
        }
    }
    found
}

/// A destructive statement of a plan and how many rows it touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasuredHazard {
    /// 0-based index of the statement in the plan.
    pub statement: usize,
    /// What kind of loss.
    pub kind: HazardKind,
    /// A sentence naming the object.
    pub description: String,
    /// Rows that would lose data, when the dialect can count them and the count ran.
    pub affected_rows: Option<i64>,
}

impl MeasuredHazard {
    /// Whether the statement may only run with the user's consent.
    ///
    /// Dropping a table or a column always needs it, even when empty: it removes part of the
    /// data model, not only rows. Dropping other objects (views, indexes, types) loses no row
    /// data and never needs it. The rest (narrowing a type, adding a constraint, removing enum
    /// values) needs it unless the count says no row is touched; an unknown count needs it.
    pub fn needs_consent(&self) -> bool {
        match self.kind {
            HazardKind::DropTable | HazardKind::DropColumn => true,
            HazardKind::DropObject => false,
            _ => self.affected_rows != Some(0),
        }
    }

    /// Whether the statement cannot succeed with the rows the count found, so it is refused
    /// outright instead of asked about: a removed enum label still held by rows has nothing
    /// to be converted to, and a constraint the rows break fails when it is added. Either
    /// would fail half-way through the change; consent to lose data changes neither.
    pub fn blocks(&self) -> bool {
        matches!(
            self.kind,
            HazardKind::RemoveEnumValue | HazardKind::AddConstraint
        ) && self.affected_rows.is_some_and(|rows| rows > 0)
    }
}

/// Refuse a plan that [`MeasuredHazard::blocks`] on the target's rows. Call it after
/// [`measure_hazards`] and before [`apply`], so that nothing runs.
pub fn refuse_blocked(hazards: &[MeasuredHazard]) -> Result<(), DeclarativeError> {
    match hazards.iter().find(|hazard| hazard.blocks()) {
        Some(hazard) => Err(DeclarativeError::RowsBlockChange {
            kind: hazard.kind,
            description: hazard.description.clone(),
            rows: hazard.affected_rows.unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

impl fmt::Display for MeasuredHazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)?;
        match self.affected_rows {
            Some(1) => f.write_str(" (1 row)"),
            Some(rows) => write!(f, " ({rows} rows)"),
            None => Ok(()),
        }
    }
}

/// Run the count query of every hazardous statement of `plan` on `store` (the target, before
/// anything runs). A count that fails (it may read a column the plan creates first) is left
/// unknown, which [`MeasuredHazard::needs_consent`] treats as touching rows.
pub async fn measure_hazards(
    store: &mut dyn Store,
    plan: &ChangePlan,
) -> Result<Vec<MeasuredHazard>, Error> {
    let mut measured = Vec::new();
    for (index, statement) in plan.statements.iter().enumerate() {
        let Some(hazard) = &statement.hazard else {
            continue;
        };
        let affected_rows = match &hazard.count_query {
            None => None,
            Some(sql) => match store.query(sql, &[]).await {
                Ok(rows) => {
                    rows.first()
                        .and_then(|row| row.first())
                        .and_then(|value| match value {
                            Value::Int(n) => Some(*n),
                            Value::Text(text) => text.trim().parse().ok(),
                            Value::Null => Some(0),
                        })
                }
                Err(error) => {
                    tracing::debug!(%error, sql, "the count of a hazard failed; treated as unknown");
                    None
                }
            },
        };
        measured.push(MeasuredHazard {
            statement: index,
            kind: hazard.kind,
            description: hazard.description.clone(),
            affected_rows,
        });
    }
    Ok(measured)
}

/// Take the migration lock for a declarative change when taking it leaves nothing behind, and
/// say whether it was taken (release it with [`Store::unlock`]).
///
/// A session lock (PostgreSQL) is always taken. A row lock (SQLite) lives in a table; a
/// database without that table is not run by `godwit migrate`, and creating the table would
/// add an object the schema file does not have, so there the lock is not taken: the change
/// still runs in one write transaction, which keeps other writers out while it runs.
pub async fn lock_for_change(
    store: &mut dyn Store,
    request: &LockRequest<'_>,
) -> Result<bool, Error> {
    if store.dialect().capabilities().lock == LockKind::Row {
        let (sql, params) = store
            .dialect()
            .table_exists_query(request.table.schema.as_deref(), &request.table.lock_name());
        if store.query(&sql, &params).await?.is_empty() {
            return Ok(false);
        }
    }
    store.lock(request).await?;
    Ok(true)
}

/// Run `statements` on `store`.
///
/// Each run of consecutive transactional statements goes in one transaction; the
/// non-transactional ones (which the dialect puts before or after the transactional ones) run
/// on their own. On an engine without transactional DDL everything runs in order, unwrapped.
/// `Execute` statements run as scripts; `AssertEmpty` queries that return a row roll the
/// transaction back. The first failure stops the run, and the error says which statement
/// failed, whether its changes were rolled back, and the dialect's advice for it
/// ([`Statement::failure_hint`]).
pub async fn apply(store: &mut dyn Store, statements: &[Statement]) -> Result<(), Error> {
    let transactions = store.dialect().capabilities().transactional_ddl;
    let total = statements.len();
    let failed = |index: usize, cause: ApplyCause, rolled_back: bool, committed: usize| {
        Error::from(DeclarativeError::ApplyFailed {
            index,
            total,
            sql: excerpt(&statements[index].sql, 80),
            cause,
            rolled_back,
            committed,
            hint: statements[index].failure_hint.clone(),
        })
    };
    let mut index = 0;
    while index < total {
        if !(transactions && statements[index].transactional) {
            run_statement(store, &statements[index])
                .await
                .map_err(|cause| failed(index, cause, false, index))?;
            index += 1;
            continue;
        }
        let group = statements[index..]
            .iter()
            .position(|s| !s.transactional)
            .map_or(total, |end| index + end);
        store.begin().await?;
        for (at, statement) in statements.iter().enumerate().take(group).skip(index) {
            if let Err(cause) = run_statement(store, statement).await {
                if let Err(rollback) = store.rollback().await {
                    tracing::warn!(%rollback, "rollback after a failed statement failed");
                }
                restore_after_failure(store, statements).await;
                // Settings of the connection before the transaction are set back, not kept.
                let kept = statements[..index]
                    .iter()
                    .filter(|s| !s.session_setting)
                    .count();
                return Err(failed(at, cause, true, kept));
            }
        }
        store.commit().await?;
        index = group;
    }
    Ok(())
}

/// After a rolled-back transaction, still run the non-transactional statements that follow the
/// last transactional one: they restore connection state the leading ones changed (SQLite's
/// `PRAGMA foreign_keys = ON` after a rebuild), which must not stay changed because of a failure.
/// Concurrent statements are changes of their own, not restorations, so they do not run.
async fn restore_after_failure(store: &mut dyn Store, statements: &[Statement]) {
    let trailing = statements
        .iter()
        .rposition(|s| s.transactional)
        .map_or(statements.len(), |last| last + 1);
    for statement in statements[trailing..].iter().filter(|s| !s.concurrent) {
        if let Err(error) = run_statement(store, statement).await {
            tracing::warn!(?error, sql = %statement.sql, "restoring after a failed change failed");
        }
    }
}

async fn run_statement(store: &mut dyn Store, statement: &Statement) -> Result<(), ApplyCause> {
    let database = |error: StoreError| ApplyCause::Database {
        error: statement_error(error),
    };
    match &statement.kind {
        StatementKind::AssertEmpty { message } => {
            let rows = store.query(&statement.sql, &[]).await.map_err(database)?;
            if rows.is_empty() {
                Ok(())
            } else {
                Err(ApplyCause::Check {
                    message: message.clone(),
                })
            }
        }
        _ => store.execute_script(&statement.sql).await.map_err(database),
    }
}

/// The renames that undo `renames`: for a down script, rendered as the diff from the desired
/// schema back to the current one.
pub fn inverse_renames(renames: &Renames) -> Renames {
    let old_table = |new: &Name| {
        renames
            .tables
            .iter()
            .find(|(_, n)| n == new)
            .map_or_else(|| new.clone(), |(old, _)| old.clone())
    };
    Renames {
        tables: renames
            .tables
            .iter()
            .map(|(old, new)| (new.clone(), old.clone()))
            .collect(),
        columns: renames
            .columns
            .iter()
            .map(|c| ColumnRename {
                table: old_table(&c.table),
                from: c.to.clone(),
                to: c.from.clone(),
            })
            .collect(),
        indexes: renames
            .indexes
            .iter()
            .map(|(old, new)| (new.clone(), old.clone()))
            .collect(),
        enum_values: renames
            .enum_values
            .iter()
            .map(|r| EnumValueRename {
                type_name: r.type_name.clone(),
                from: r.to.clone(),
                to: r.from.clone(),
            })
            .collect(),
    }
}

/// Which part of a generated change a [`MigrationStep`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Concurrent statements that run before the rest (dropping an index before its column
    /// goes).
    ConcurrentBefore,
    /// The rest, in one transaction where its statements allow.
    Main,
    /// Concurrent statements that run once the rest committed (building an index on a column
    /// the rest added).
    ConcurrentAfter,
}

/// One migration of a generated change: up statements, and the down statements that undo them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStep<'a> {
    /// Which part of the change it is.
    pub kind: StepKind,
    /// What its up script runs.
    pub up: &'a [Statement],
    /// What its down script runs.
    pub down: Vec<Statement>,
}

/// `statements` cut into the concurrent statements before the others, the others, and the
/// concurrent statements after them.
fn phases(statements: &[Statement]) -> [&[Statement]; 3] {
    let lead = statements
        .iter()
        .position(|s| !s.concurrent)
        .unwrap_or(statements.len());
    let trail = statements
        .iter()
        .rposition(|s| !s.concurrent)
        .map_or(lead, |last| last + 1);
    [
        &statements[..lead],
        &statements[lead..trail],
        &statements[trail..],
    ]
}

/// Cut a change, given as its `up` statements and the `down` statements that revert it, into
/// the migrations that `godwit generate` writes, oldest first.
///
/// A migration has one transaction mode for the whole file, and a failed no-transaction
/// migration is retried whole. So the concurrent statements ([`Statement::concurrent`]) at the
/// start and the end of `up` each get a no-transaction migration of their own, and the rest
/// keeps its transaction, committing with its history row: a failed concurrent index build
/// then leaves the main change applied and recorded, and a retry runs only the index builds.
/// A change without concurrent statements is one migration, as before.
///
/// The down statements are cut the same way and given in reverse (the concurrent ones at the
/// end of `down` undo the ones at the start of `up`, and so on), so that rolling the
/// migrations back newest first runs exactly `down`, in order, even where the two are not
/// mirror images.
pub fn migration_steps<'a>(up: &'a [Statement], down: &[Statement]) -> Vec<MigrationStep<'a>> {
    let [up_before, up_main, up_after] = phases(up);
    let [down_first, down_main, down_last] = phases(down);
    let mut steps: Vec<MigrationStep<'a>> = Vec::new();
    // In rollback order, each step takes the down statements not taken by a newer step.
    let mut pending: Vec<Statement> = Vec::new();
    for (kind, up, down) in [
        (StepKind::ConcurrentAfter, up_after, down_first),
        (StepKind::Main, up_main, down_main),
        (StepKind::ConcurrentBefore, up_before, down_last),
    ] {
        pending.extend_from_slice(down);
        if !up.is_empty() {
            steps.push(MigrationStep {
                kind,
                up,
                down: std::mem::take(&mut pending),
            });
        }
    }
    if let Some(oldest) = steps.last_mut() {
        oldest.down.append(&mut pending);
    }
    steps.reverse();
    steps
}

/// `statements` as the text of a migration file.
///
/// When every statement may run in a transaction the script is the statements in order, and
/// `godwit migrate` wraps it in its transaction. When some may not (SQLite's
/// `PRAGMA foreign_keys` around a table rebuild), the script opens with
/// `-- godwit:no-transaction` and wraps each run of transactional statements in its own
/// `BEGIN;` ... `COMMIT;`, so it runs as `push` would. Hazards and failure hints are noted
/// above their statement. Check queries become the dialect's [`Dialect::assertion`], SQL that
/// fails the migration as the check would fail a push; a dialect without one gets them as
/// comments for the reader to run.
pub fn migration_script(dialect: &dyn Dialect, statements: &[Statement]) -> String {
    let mut text = String::new();
    let wrap = statements.iter().any(|s| !s.transactional);
    if wrap && statements.iter().all(|s| !s.transactional) {
        text.push_str(
            "-- godwit:no-transaction\n\
             -- These statements cannot run inside a transaction.\n",
        );
    } else if wrap {
        text.push_str(
            "-- godwit:no-transaction\n\
             -- Some statements cannot run inside a transaction; the others are grouped in\n\
             -- BEGIN/COMMIT below.\n",
        );
    }
    let mut open = false;
    for statement in statements {
        if wrap && statement.transactional != open {
            text.push_str(if open { "\nCOMMIT;\n" } else { "\nBEGIN;\n" });
            open = statement.transactional;
        }
        text.push('\n');
        if let Some(hazard) = &statement.hazard {
            text.push_str(&format!("-- hazard: {}\n", hazard.description));
        }
        if let Some(hint) = &statement.failure_hint {
            text.push_str(&format!("-- if it fails: {hint}\n"));
        }
        let sql = statement.sql.trim_end();
        match &statement.kind {
            StatementKind::AssertEmpty { message } => match dialect.assertion(sql, message) {
                Some(check) => {
                    text.push_str(&format!("-- check: {message}\n{check};\n"));
                }
                None => {
                    text.push_str(&format!(
                        "-- check ({message}): this query must return no rows\n"
                    ));
                    for line in sql.lines() {
                        text.push_str(&format!("-- {line}\n"));
                    }
                }
            },
            _ => {
                text.push_str(sql);
                if !sql.ends_with(';') {
                    text.push(';');
                }
                text.push('\n');
            }
        }
    }
    if open {
        text.push_str("\nCOMMIT;\n");
    }
    text
}

/// What `check` found: the migrations applied to the live database, and the changes that
/// would turn the live schema into the one they produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    /// The versions replayed (those the history records as applied).
    pub applied: Vec<Version>,
    /// Migrations with a file that the history does not record as applied.
    pub not_applied: Vec<Version>,
    /// From the live schema to the migrations' schema; empty when there is no drift.
    pub plan: ChangePlan,
}

impl DriftReport {
    /// Whether the live schema differs from what the applied migrations produce.
    pub fn drifted(&self) -> bool {
        !self.plan.is_empty()
    }
}

/// Compare the live schema of `target` with the schema the migrations recorded as applied in
/// its history produce on `scratch`.
pub async fn drift(
    target: &mut dyn Store,
    history: &HistoryTable,
    scratch: &mut dyn Store,
    migrations: &Migrations,
) -> Result<DriftReport, Error> {
    let rows = history::read(target, history).await?;
    let mut applied = Vec::new();
    for row in rows.iter().filter(|r| r.status == Status::Applied) {
        match migrations.get(row.version) {
            Some(migration) => applied.push(migration.clone()),
            None => {
                return Err(DeclarativeError::MissingMigration {
                    version: row.version,
                    name: row.name.clone(),
                }
                .into());
            }
        }
    }
    let versions: Vec<Version> = applied.iter().map(|m| m.version).collect();
    let not_applied = migrations
        .iter()
        .map(|m| m.version)
        .filter(|v| !versions.contains(v))
        .collect();
    let expected = replay_migrations(scratch, &Migrations::from_list(applied)?).await?;
    let live = introspect(target, history).await?;
    let plan = plan_changes(
        target.dialect(),
        &live,
        &expected,
        &Renames::default(),
        &RenderOptions::default(),
    )?;
    Ok(DriftReport {
        applied: versions,
        not_applied,
        plan,
    })
}

/// Which pass of `verify` found a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyStage {
    /// Applying the up scripts the first time.
    Up,
    /// Running the down scripts, newest first.
    Down,
    /// Applying the up scripts again after every down script ran.
    Reapply,
}

impl fmt::Display for VerifyStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifyStage::Up => "up",
            VerifyStage::Down => "down",
            VerifyStage::Reapply => "up (again, after the downs)",
        })
    }
}

/// What went wrong with one migration in `verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
#[non_exhaustive]
pub enum VerifyProblem {
    /// The script failed.
    Failed {
        /// The database's error.
        error: StatementError,
    },
    /// The migration has no down script.
    NoDownScript,
    /// The schema after the script is not the one expected; `plan` turns the schema found
    /// into the one expected.
    Differs {
        /// The missing changes.
        plan: ChangePlan,
    },
}

/// The first migration `verify` found at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyFailure {
    /// The migration.
    pub version: Version,
    /// Its name.
    pub name: String,
    /// Its script's file.
    pub origin: String,
    /// The pass.
    pub stage: VerifyStage,
    /// What went wrong.
    pub problem: VerifyProblem,
}

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (version, name) = (self.version, &self.name);
        match &self.problem {
            VerifyProblem::Failed { error } => write!(
                f,
                "the {} script of migration {version} ({name}) failed: {}",
                self.stage,
                located(Path::new(&self.origin), error)
            ),
            VerifyProblem::NoDownScript => write!(
                f,
                "migration {version} ({name}) has no down script; write its .down.sql file"
            ),
            VerifyProblem::Differs { .. } if self.stage == VerifyStage::Down => write!(
                f,
                "the down script of migration {version} ({name}) does not restore the schema \
                 before it; {} misses these changes",
                self.origin
            ),
            VerifyProblem::Differs { .. } => write!(
                f,
                "migration {version} ({name}) gives another schema when applied again after \
                 its down script; its down script leaves something behind"
            ),
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verification {
    /// Every migration went up, down and up again, each down restoring the schema before its
    /// up.
    Verified {
        /// How many migrations.
        migrations: usize,
    },
    /// The first migration at fault.
    Failed(VerifyFailure),
}

/// Round-trip `migrations` on `scratch`: apply every up script (recording the schema before
/// and after each), run every down script newest first (each must restore the schema from
/// before its up), then apply every up script again (each must give the schema it gave the
/// first time). Stops at the first migration at fault.
pub async fn verify(
    scratch: &mut dyn Store,
    migrations: &Migrations,
) -> Result<Verification, Error> {
    let table = HistoryTable::default();
    let list: Vec<&Migration> = migrations.iter().collect();
    let mut before = Vec::with_capacity(list.len());
    let mut after = Vec::with_capacity(list.len());
    let mut schema = introspect(scratch, &table).await?;
    for migration in &list {
        before.push(schema);
        if let Err(problem) = run_and_compare(scratch, &table, &migration.up, None).await? {
            return Ok(failure(migration, &migration.up, VerifyStage::Up, problem));
        }
        schema = introspect(scratch, &table).await?;
        after.push(schema.clone());
    }
    for (index, migration) in list.iter().enumerate().rev() {
        let Some(down) = &migration.down else {
            return Ok(failure(
                migration,
                &migration.up,
                VerifyStage::Down,
                VerifyProblem::NoDownScript,
            ));
        };
        if let Err(problem) = run_and_compare(scratch, &table, down, Some(&before[index])).await? {
            return Ok(failure(migration, down, VerifyStage::Down, problem));
        }
    }
    for (index, migration) in list.iter().enumerate() {
        let expected = Some(&after[index]);
        if let Err(problem) = run_and_compare(scratch, &table, &migration.up, expected).await? {
            return Ok(failure(
                migration,
                &migration.up,
                VerifyStage::Reapply,
                problem,
            ));
        }
    }
    Ok(Verification::Verified {
        migrations: list.len(),
    })
}

fn failure(
    migration: &Migration,
    script: &Script,
    stage: VerifyStage,
    problem: VerifyProblem,
) -> Verification {
    Verification::Failed(VerifyFailure {
        version: migration.version,
        name: migration.name.clone(),
        origin: script.origin(),
        stage,
        problem,
    })
}

/// One step of [`verify`]: run `script`, then, when `expected` is given, compare the scratch
/// database with it. The inner `Err` is the problem found; the outer one a failure of godwit.
async fn run_and_compare(
    scratch: &mut dyn Store,
    table: &HistoryTable,
    script: &Script,
    expected: Option<&Schema>,
) -> Result<Result<(), VerifyProblem>, Error> {
    if let Err(error) = run_script(scratch, script).await {
        let error = statement_error(error);
        return Ok(Err(VerifyProblem::Failed { error }));
    }
    let Some(expected) = expected else {
        return Ok(Ok(()));
    };
    let found = introspect(scratch, table).await?;
    let plan = plan_changes(
        scratch.dialect(),
        &found,
        expected,
        &Renames::default(),
        &RenderOptions::default(),
    )?;
    Ok(if plan.is_empty() {
        Ok(())
    } else {
        Err(VerifyProblem::Differs { plan })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LockKind;
    use crate::dialect::{Capabilities, Hazard};

    /// A dialect for scripts: `checks` says whether it can turn a check into SQL.
    #[derive(Debug)]
    struct Script {
        checks: bool,
    }

    impl Dialect for Script {
        fn name(&self) -> &'static str {
            "script"
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new(LockKind::Row)
        }
        fn placeholder(&self, _: usize) -> String {
            "?".into()
        }
        fn table_exists_query(&self, _: Option<&str>, _: &str) -> (String, Vec<Value>) {
            (String::new(), Vec::new())
        }
        fn assertion(&self, query: &str, message: &str) -> Option<String> {
            self.checks
                .then(|| format!("SELECT fail({message:?}) WHERE EXISTS ({query})"))
        }
    }

    const PLAIN: Script = Script { checks: false };
    use crate::schema::{Column, Index};

    fn renames() -> Renames {
        Renames {
            tables: vec![(Name::bare("accounts"), Name::bare("users"))],
            columns: vec![
                ColumnRename {
                    table: Name::bare("users"),
                    from: "username".into(),
                    to: "user_name".into(),
                },
                ColumnRename {
                    table: Name::bare("posts"),
                    from: "body".into(),
                    to: "text".into(),
                },
            ],
            indexes: vec![(Name::bare("old_idx"), Name::bare("new_idx"))],
            enum_values: vec![EnumValueRename {
                type_name: Name::bare("mood"),
                from: "sad".into(),
                to: "unhappy".into(),
            }],
        }
    }

    #[test]
    fn inverse_renames_swap_names_and_key_columns_by_the_old_table() {
        let inverse = inverse_renames(&renames());
        assert_eq!(
            inverse.tables,
            [(Name::bare("users"), Name::bare("accounts"))]
        );
        assert_eq!(
            inverse.columns,
            [
                ColumnRename {
                    table: Name::bare("accounts"),
                    from: "user_name".into(),
                    to: "username".into(),
                },
                ColumnRename {
                    table: Name::bare("posts"),
                    from: "text".into(),
                    to: "body".into(),
                }
            ]
        );
        assert_eq!(
            inverse.indexes,
            [(Name::bare("new_idx"), Name::bare("old_idx"))]
        );
        assert_eq!(
            inverse.enum_values,
            [EnumValueRename {
                type_name: Name::bare("mood"),
                from: "unhappy".into(),
                to: "sad".into(),
            }]
        );
        assert_eq!(inverse_renames(&inverse), renames());
    }

    #[test]
    fn a_folder_is_read_in_name_order_without_sub_folders_or_other_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("20_posts.sql"),
            "CREATE TABLE posts (id int);",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("10_users.sql"),
            "CREATE TABLE users (id int);",
        )
        .unwrap();
        std::fs::write(dir.path().join("README.md"), "not sql").unwrap();
        std::fs::write(dir.path().join(".10_swap.sql"), "editor backup").unwrap();
        std::fs::create_dir(dir.path().join("old.sql")).unwrap();
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        std::fs::write(
            dir.path().join("nested/05_x.sql"),
            "CREATE TABLE x (id int);",
        )
        .unwrap();
        let source = SchemaSource::load(dir.path()).unwrap();
        let names: Vec<String> = source
            .files
            .iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["10_users.sql", "20_posts.sql"]);
        assert_eq!(source.files[0].1, "CREATE TABLE users (id int);");
    }

    #[test]
    fn a_single_file_is_read_and_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("schema.sql");
        std::fs::write(&file, "CREATE TABLE t (id int);").unwrap();
        assert_eq!(SchemaSource::load(&file).unwrap().files.len(), 1);

        let missing = dir.path().join("nope.sql");
        let error = SchemaSource::load(&missing).unwrap_err().to_string();
        assert!(error.contains("nope.sql"), "{error}");

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let error = SchemaSource::load(&empty).unwrap_err();
        assert!(
            matches!(error, DeclarativeError::NoSqlFiles { .. }),
            "{error}"
        );

        std::fs::write(dir.path().join("latin1.sql"), b"-- caf\xe9\n").unwrap();
        let error = SchemaSource::load(&dir.path().join("latin1.sql")).unwrap_err();
        assert!(matches!(error, DeclarativeError::NotUtf8 { .. }), "{error}");
    }

    #[test]
    fn hint_errors_name_the_file_and_line() {
        let source = SchemaSource {
            files: vec![
                ("a.sql".into(), "CREATE TABLE a (id int);".into()),
                (
                    "b.sql".into(),
                    "CREATE TABLE b (id int);\n-- godwit:renamed-from x\n".into(),
                ),
            ],
        };
        let error = source.rename_hints().unwrap_err().to_string();
        assert!(error.starts_with("b.sql:2: "), "{error}");
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    fn table(schema: Option<&str>, name: &str, columns: &[&str]) -> Table {
        Table::new(
            Name {
                schema: schema.map(str::to_string),
                name: name.into(),
            },
            columns.iter().map(|c| Column::new(*c, "text")).collect(),
        )
    }

    #[test]
    fn renames_resolve_to_the_spelling_of_each_schema_and_drop_when_done() {
        let current = schema(vec![table(Some("public"), "accounts", &["id", "UserName"])]);
        let desired = schema(vec![table(Some("public"), "users", &["id", "user_name"])]);
        let wanted = Renames {
            tables: vec![(Name::bare("accounts"), Name::bare("users"))],
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "username".into(),
                to: "user_name".into(),
            }],
            ..Renames::default()
        };
        let resolved =
            resolve_renames(&wanted, &current, &desired, DiffOptions::default()).unwrap();
        assert_eq!(
            resolved.tables,
            [(
                Name::qualified("public", "accounts"),
                Name::qualified("public", "users")
            )]
        );
        assert_eq!(
            resolved.columns,
            [ColumnRename {
                table: Name::qualified("public", "users"),
                from: "UserName".into(),
                to: "user_name".into(),
            }]
        );
        // Once applied, the same hints resolve to nothing.
        let resolved =
            resolve_renames(&wanted, &desired, &desired, DiffOptions::default()).unwrap();
        assert_eq!(resolved, Renames::default());
    }

    #[test]
    fn renames_that_contradict_the_schemas_are_errors() {
        let rename = Renames {
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "username".into(),
                to: "user_name".into(),
            }],
            ..Renames::default()
        };
        // The old column is still wanted.
        let current = schema(vec![table(None, "users", &["username"])]);
        let desired = schema(vec![table(None, "users", &["username", "user_name"])]);
        let error = resolve_renames(&rename, &current, &desired, DiffOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("column users.username to user_name"),
            "{error}"
        );
        assert!(error.contains("still in the desired schema"), "{error}");
        // The new name is taken.
        let current = schema(vec![table(None, "users", &["username", "user_name"])]);
        let desired = schema(vec![table(None, "users", &["user_name"])]);
        let error = resolve_renames(&rename, &current, &desired, DiffOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("already exists in the database"), "{error}");
        // Only case differs: on a case-sensitive engine that is a rename, not a conflict.
        let quoted = Renames {
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "UserName".into(),
                to: "username".into(),
            }],
            ..Renames::default()
        };
        let current = schema(vec![table(None, "users", &["UserName"])]);
        let desired = schema(vec![table(None, "users", &["username"])]);
        let resolved =
            resolve_renames(&quoted, &current, &desired, DiffOptions::default()).unwrap();
        assert_eq!(resolved.columns.len(), 1);
    }

    #[test]
    fn rename_requests_are_tables_columns_or_indexes() {
        let mut users = table(None, "users", &["id", "username"]);
        users.indexes.push(Index {
            name: Name::bare("users_idx"),
            unique: false,
            keys: vec!["username".into()],
            predicate: None,
            method: None,
            definition: "CREATE INDEX users_idx ON users (username)".into(),
        });
        let current = schema(vec![users, table(None, "posts", &["id"])]);
        let desired = schema(vec![table(None, "people", &["id", "login"])]);
        let requests: Vec<RenameRequest> = [
            "users=people",
            "people.username=login",
            "users_idx=people_idx",
        ]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
        let renames = resolve_requests(&requests, &current, &desired, &Renames::default()).unwrap();
        assert_eq!(
            renames.tables,
            [(Name::bare("users"), Name::bare("people"))]
        );
        assert_eq!(
            renames.columns,
            [ColumnRename {
                table: Name::bare("people"),
                from: "username".into(),
                to: "login".into(),
            }]
        );
        assert_eq!(
            renames.indexes,
            [(Name::bare("users_idx"), Name::bare("people_idx"))]
        );
        // The column may also be named by the table's old name.
        let requests = [
            "users=people".parse().unwrap(),
            "users.username=login".parse().unwrap(),
        ];
        let renames = resolve_requests(&requests, &current, &desired, &Renames::default()).unwrap();
        assert_eq!(renames.columns[0].table, Name::bare("people"));

        let unknown = ["ghost.col=x".parse().unwrap()];
        let error =
            resolve_requests(&unknown, &current, &desired, &Renames::default()).unwrap_err();
        assert!(error.to_string().contains("ghost.col"), "{error}");
        assert!("nothing".parse::<RenameRequest>().is_err());
        assert!("a=".parse::<RenameRequest>().is_err());
        assert!("a..b=c".parse::<RenameRequest>().is_err());
    }

    #[test]
    fn possible_renames_pair_drops_with_creates() {
        let from = schema(vec![
            table(None, "old", &["id"]),
            table(None, "t", &["id", "username"]),
        ]);
        let to = schema(vec![
            table(None, "new", &["id"]),
            table(None, "t", &["id", "user_name"]),
        ]);
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        let found = possible_renames(&changes);
        assert_eq!(
            found,
            [
                PossibleRename::Table {
                    from: Name::bare("old"),
                    to: Name::bare("new")
                },
                PossibleRename::Column {
                    table: Name::bare("t"),
                    from: "username".into(),
                    to: "user_name".into()
                }
            ]
        );
        assert_eq!(found[0].flag(), "old=new");
        assert_eq!(found[1].flag(), "t.username=user_name");
    }

    fn hazard(kind: HazardKind, affected_rows: Option<i64>) -> MeasuredHazard {
        MeasuredHazard {
            statement: 0,
            kind,
            description: "x".into(),
            affected_rows,
        }
    }

    #[test]
    fn consent_depends_on_the_kind_and_the_count() {
        assert!(hazard(HazardKind::DropTable, Some(0)).needs_consent());
        assert!(hazard(HazardKind::DropColumn, Some(0)).needs_consent());
        assert!(!hazard(HazardKind::DropObject, None).needs_consent());
        assert!(!hazard(HazardKind::AddConstraint, Some(0)).needs_consent());
        assert!(hazard(HazardKind::AddConstraint, Some(3)).needs_consent());
        assert!(hazard(HazardKind::NarrowType, None).needs_consent());
    }

    #[test]
    fn enum_values_held_and_constraints_broken_by_rows_block_a_plan() {
        assert!(hazard(HazardKind::RemoveEnumValue, Some(2)).blocks());
        assert!(!hazard(HazardKind::RemoveEnumValue, Some(0)).blocks());
        // An unknown count is asked about, not refused: the count query may read what the
        // plan creates first.
        assert!(!hazard(HazardKind::RemoveEnumValue, None).blocks());
        assert!(hazard(HazardKind::AddConstraint, Some(3)).blocks());
        assert!(!hazard(HazardKind::AddConstraint, Some(0)).blocks());
        assert!(!hazard(HazardKind::NarrowType, Some(3)).blocks());
        assert!(!hazard(HazardKind::DropColumn, Some(3)).blocks());
        let held = [
            hazard(HazardKind::DropColumn, Some(1)),
            hazard(HazardKind::RemoveEnumValue, Some(2)),
        ];
        let refusal = refuse_blocked(&held).unwrap_err().to_string();
        assert!(refusal.contains("2 rows still hold them"), "{refusal}");
        assert!(refuse_blocked(&held[..1]).is_ok());
    }

    fn concurrent(sql: &str) -> Statement {
        Statement::execute(sql)
            .concurrently()
            .with_failure_hint(format!("undo {sql}"))
    }

    /// The down statements of `steps`, in the order a rollback of all of them runs them.
    fn rollback_order(steps: &[MigrationStep<'_>]) -> Vec<Statement> {
        steps.iter().rev().flat_map(|s| s.down.clone()).collect()
    }

    #[test]
    fn concurrent_statements_get_migrations_of_their_own() {
        let up = [
            concurrent("DROP INDEX CONCURRENTLY gone"),
            Statement::execute("ALTER TABLE t ADD c int"),
            concurrent("CREATE INDEX CONCURRENTLY new ON t (c)"),
        ];
        let down = [
            concurrent("DROP INDEX CONCURRENTLY new"),
            Statement::execute("ALTER TABLE t DROP c"),
            concurrent("CREATE INDEX CONCURRENTLY gone ON t (x)"),
        ];
        let steps = migration_steps(&up, &down);
        let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::ConcurrentBefore,
                StepKind::Main,
                StepKind::ConcurrentAfter
            ]
        );
        // Each step's down undoes its up: the down's concurrent drops undo the builds after.
        for (step, (u, d)) in steps.iter().zip([(0, 2), (1, 1), (2, 0)]) {
            assert_eq!(step.up, &up[u..=u]);
            assert_eq!(step.down, &down[d..=d]);
        }
        assert_eq!(rollback_order(&steps), down);

        let script = migration_script(&PLAIN, steps[2].up);
        assert!(
            script.starts_with(
                "-- godwit:no-transaction\n-- These statements cannot run inside a transaction.\n"
            ),
            "{script}"
        );
        assert!(
            script.contains(
                "-- if it fails: undo CREATE INDEX CONCURRENTLY new ON t (c)\n\
                 CREATE INDEX CONCURRENTLY new ON t (c);\n"
            ),
            "{script}"
        );
        assert!(!script.contains("BEGIN"), "{script}");
    }

    #[test]
    fn a_change_without_concurrent_statements_is_one_migration() {
        let up = [Statement::execute("CREATE TABLE a (id int)")];
        let down = [Statement::execute("DROP TABLE a")];
        let steps = migration_steps(&up, &down);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].kind, StepKind::Main);
        assert_eq!(steps[0].up, &up[..]);
        assert_eq!(steps[0].down, down);

        // Only concurrent statements: one migration too, whatever their order.
        let up = [
            concurrent("DROP INDEX CONCURRENTLY a"),
            concurrent("CREATE INDEX CONCURRENTLY a ON t (y)"),
        ];
        let down = [
            concurrent("DROP INDEX CONCURRENTLY a"),
            concurrent("CREATE INDEX CONCURRENTLY a ON t (x)"),
        ];
        let steps = migration_steps(&up, &down);
        assert_eq!(steps.len(), 1);
        assert_eq!(rollback_order(&steps), down);
    }

    #[test]
    fn a_rollback_of_every_step_runs_the_whole_down_in_order() {
        // The down is no mirror of the up: its concurrent statements at the end have no
        // concurrent step before the main one to undo.
        let up = [
            Statement::execute("ALTER TABLE t ADD c int"),
            concurrent("CREATE INDEX CONCURRENTLY new ON t (c)"),
        ];
        let down = [
            Statement::execute("ALTER TABLE t DROP c"),
            concurrent("CREATE INDEX CONCURRENTLY other ON t (x)"),
        ];
        let steps = migration_steps(&up, &down);
        assert_eq!(steps.len(), 2);
        assert!(steps[1].down.is_empty());
        assert_eq!(rollback_order(&steps), down);
    }

    #[test]
    fn a_failed_concurrent_statement_reports_its_hint() {
        let error = DeclarativeError::ApplyFailed {
            index: 2,
            total: 3,
            sql: "CREATE UNIQUE INDEX CONCURRENTLY u ON t (a)".into(),
            cause: ApplyCause::Check {
                message: "duplicate".into(),
            },
            rolled_back: false,
            committed: 2,
            hint: Some("drop the INVALID index u".into()),
        }
        .to_string();
        assert!(
            error.ends_with(
                "it ran outside a transaction: drop the INVALID index u; the 2 statements \
                 before it stay applied"
            ),
            "{error}"
        );
    }

    #[test]
    fn scripts_group_transactional_statements_when_some_cannot_be() {
        let plain = migration_script(
            &PLAIN,
            &[
                Statement::execute("CREATE TABLE a (id int)"),
                Statement::execute("DROP TABLE b;").with_hazard(Hazard::new(
                    HazardKind::DropTable,
                    "drops table b",
                    None,
                )),
            ],
        );
        assert_eq!(
            plain,
            "\nCREATE TABLE a (id int);\n\n-- hazard: drops table b\nDROP TABLE b;\n"
        );
        let statements = [
            Statement::execute("PRAGMA foreign_keys = OFF").outside_transaction(),
            Statement::execute("ALTER TABLE a RENAME TO b"),
            Statement::assert_empty("PRAGMA foreign_key_check", "foreign keys hold"),
            Statement::execute("PRAGMA foreign_keys = ON").outside_transaction(),
        ];
        let wrapped = migration_script(&PLAIN, &statements);
        assert!(
            wrapped.starts_with("-- godwit:no-transaction\n"),
            "{wrapped}"
        );
        assert!(
            wrapped.contains(
                "PRAGMA foreign_keys = OFF;\n\nBEGIN;\n\nALTER TABLE a RENAME TO b;\n\n\
                 -- check (foreign keys hold): this query must return no rows\n\
                 -- PRAGMA foreign_key_check\n\nCOMMIT;\n\nPRAGMA foreign_keys = ON;\n"
            ),
            "{wrapped}"
        );
        let directives = crate::migration::Directives::parse(&wrapped).unwrap();
        assert!(directives.no_transaction);

        // A dialect that can enforce the check in SQL does.
        let enforced = migration_script(&Script { checks: true }, &statements);
        assert!(
            enforced.contains(
                "-- check: foreign keys hold\n\
                 SELECT fail(\"foreign keys hold\") WHERE EXISTS (PRAGMA foreign_key_check);\n"
            ),
            "{enforced}"
        );
    }
}
