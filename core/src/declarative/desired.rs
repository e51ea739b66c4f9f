//! The desired schema: a schema file, screened, run on a scratch database and read back.
//!
//! Nothing of a schema file runs before every statement of it was screened by the dialect
//! ([`crate::screen`]): a refused statement refuses the file, and a statement that runs code
//! gets a sandboxed scratch database ([`Store::open_sandbox`]) or refuses the file. What runs
//! then runs in one transaction on engines with transactional DDL, never outside it, so even a
//! statement the screening misjudged cannot do what PostgreSQL refuses in a transaction block
//! (`DROP DATABASE`, `ALTER SYSTEM`), and SQLite refuses `ATTACH` and `VACUUM` there too.

use std::path::{Path, PathBuf};

use super::{DeclarativeError, SchemaSource, apply, introspect};
use crate::dialect::RenderOptions;
use crate::diff::{Change, Renames, diff};
use crate::error::Error;
use crate::history::HistoryTable;
use crate::schema::Schema;
use crate::screen::{SchemaStatement, StatementClass};
use crate::store::{Store, StoreError, excerpt};

/// A schema source whose statements the dialect screened: none of them is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screened {
    /// Each file's path, text and statements, in the order they run.
    files: Vec<ScreenedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ScreenedFile {
    path: PathBuf,
    sql: String,
    statements: Vec<SchemaStatement>,
}

impl SchemaSource {
    /// Screen every statement with the dialect's rules ([`crate::Dialect::screen_schema`]). A
    /// file that cannot be cut into statements, or a statement that never belongs in a schema
    /// file, is an error naming the file, the line and the statement.
    pub fn screen(&self, dialect: &dyn crate::Dialect) -> Result<Screened, DeclarativeError> {
        let mut files = Vec::with_capacity(self.files.len());
        for (path, sql) in &self.files {
            let statements =
                dialect
                    .screen_schema(sql)
                    .map_err(|error| DeclarativeError::Unreadable {
                        file: path.clone(),
                        error,
                    })?;
            if let Some(refused) = statements
                .iter()
                .find_map(|statement| match &statement.class {
                    StatementClass::Refused { reason } => Some((statement, reason)),
                    _ => None,
                })
            {
                let (statement, reason) = refused;
                return Err(DeclarativeError::RefusedStatement {
                    file: path.clone(),
                    line: statement.line,
                    statement: excerpt(&statement.sql, 80),
                    reason: reason.clone(),
                });
            }
            files.push(ScreenedFile {
                path: path.clone(),
                sql: sql.clone(),
                statements,
            });
        }
        Ok(Screened { files })
    }
}

impl Screened {
    /// Every statement with its file, in the order they run.
    fn statements(&self) -> impl Iterator<Item = (&Path, &SchemaStatement)> {
        self.files.iter().flat_map(|file| {
            file.statements
                .iter()
                .map(move |statement| (file.path.as_path(), statement))
        })
    }

    /// The first statement that runs code as it is read, with its file and what runs: the
    /// reason the files need a sandboxed scratch database.
    pub fn runs_code(&self) -> Option<(&Path, &SchemaStatement, &str)> {
        self.files.iter().find_map(|file| {
            file.statements
                .iter()
                .find_map(|statement| match &statement.class {
                    StatementClass::RunsCode { reason } => {
                        Some((file.path.as_path(), statement, reason.as_str()))
                    }
                    _ => None,
                })
        })
    }
}

/// Open a scratch database on `host` ([`Store::open_scratch`]), run `work` on it, and close it
/// (which deletes it) whatever `work` returned.
pub async fn with_scratch<T>(
    host: &mut dyn Store,
    work: impl AsyncFnOnce(&mut dyn Store) -> Result<T, Error>,
) -> Result<T, Error> {
    let scratch = host.open_scratch().await?;
    within(scratch, work).await
}

/// Run `work` on `scratch`, then close it (which deletes it) whatever `work` returned.
pub(super) async fn within<T>(
    mut scratch: Box<dyn Store>,
    work: impl AsyncFnOnce(&mut dyn Store) -> Result<T, Error>,
) -> Result<T, Error> {
    let result = work(scratch.as_mut()).await;
    if let Err(error) = scratch.close().await {
        tracing::warn!(%error, "could not remove a scratch database");
    }
    result
}

/// The schema that `source` describes, read back from a scratch database of `host`'s engine
/// that is deleted afterwards.
///
/// The files are screened first ([`SchemaSource::screen`]); when a statement runs code, the
/// scratch database is a sandboxed one ([`Store::open_sandbox`]), and where `host` cannot
/// make one the files are refused before anything runs. The scratch database first gets the
/// namespaces (schemas) of `existing` (the target's, or those its migrations create) that the
/// files do not create themselves, so a schema file may use a namespace that exists without
/// creating it, as with sqldef; such a namespace is part of the desired schema, so a push
/// never drops a namespace the file does not mention.
///
/// The files run whole, in order, in one transaction. A declarative file need not be in
/// dependency order (a foreign key may name a table defined further down, a folder's files may
/// refer to each other), so when that fails the statements of all files run again one at a
/// time, in passes, each pass retrying those that failed in the one before, until all have run
/// or a pass makes no progress; the error left is reported with its file and line. The passes
/// run inside one transaction too, each statement behind a savepoint. On an engine without
/// transactional DDL the first failure is reported.
pub async fn desired_schema(
    host: &mut dyn Store,
    source: &SchemaSource,
    existing: &Schema,
) -> Result<Schema, Error> {
    let screened = source.screen(host.dialect())?;
    let scratch = match screened.runs_code() {
        None => host.open_scratch().await?,
        Some((file, statement, runs)) => {
            host.open_sandbox().await.map_err(|error| match error {
                StoreError::NoSandbox { reason } => DeclarativeError::NoSandbox {
                    file: file.to_path_buf(),
                    line: statement.line,
                    statement: excerpt(&statement.sql, 80),
                    runs: runs.to_string(),
                    reason,
                }
                .into(),
                other => Error::Store(other),
            })?
        }
    };
    within(scratch, async |scratch| {
        create_namespaces(scratch, source, existing).await?;
        run_files(scratch, &screened).await?;
        let desired = introspect(scratch, &HistoryTable::default()).await?;
        Ok(settle(scratch, desired, existing).await)
    })
    .await
}

/// Create the namespaces of `existing` that the files do not create themselves.
async fn create_namespaces(
    scratch: &mut dyn Store,
    source: &SchemaSource,
    existing: &Schema,
) -> Result<(), Error> {
    let created: Vec<String> = source
        .files
        .iter()
        .flat_map(|(_, sql)| crate::declarative::hints::created_schemas(sql))
        .collect();
    let changes: Vec<Change> = existing
        .schemas
        .iter()
        .filter(|schema| !created.iter().any(|c| c.eq_ignore_ascii_case(schema)))
        .cloned()
        .map(Change::CreateSchema)
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    let dialect = scratch.dialect();
    let statements = dialect
        .render(&changes, &RenderOptions::default())
        .map_err(|cause| DeclarativeError::Render {
            dialect: dialect.name(),
            cause,
        })?;
    apply(scratch, &statements).await
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

/// Run the screened files on `scratch`: whole, in one transaction where the engine allows,
/// then, when that fails, statement by statement in passes inside a new transaction.
async fn run_files(scratch: &mut dyn Store, screened: &Screened) -> Result<(), Error> {
    if !scratch.dialect().capabilities().transactional_ddl {
        for file in &screened.files {
            if !file.sql.trim().is_empty() {
                scratch
                    .execute_script(&file.sql)
                    .await
                    .map_err(|error| schema_file_error(&file.path, error))?;
            }
        }
        return Ok(());
    }
    let alone = screened
        .statements()
        .any(|(_, statement)| statement.class == StatementClass::Alone);
    scratch.begin().await?;
    // Statements that cannot run in a transaction block leave the whole-file run out: the rest
    // runs statement by statement, and they run after it.
    let whole = if alone {
        Err(None)
    } else {
        run_whole(scratch, screened).await.map_err(Some)
    };
    let result = match whole {
        Ok(()) => Ok(()),
        Err(first @ (None | Some(Error::Declarative(_)))) => {
            scratch.rollback().await?;
            scratch.begin().await?;
            run_in_passes(scratch, screened, first).await
        }
        Err(Some(other)) => Err(other),
    };
    match result {
        Ok(()) => scratch.commit().await.map_err(Error::Store)?,
        Err(error) => {
            if let Err(rollback) = scratch.rollback().await {
                tracing::debug!(%rollback, "rolling back a failed schema file on a scratch database failed");
            }
            return Err(error);
        }
    }
    // Screened as schema, and refused in a transaction block by the engine: each on its own.
    for (file, statement) in screened
        .statements()
        .filter(|(_, statement)| statement.class == StatementClass::Alone)
    {
        scratch
            .execute_script(&statement.sql)
            .await
            .map_err(|error| located_in_file(file, statement, error))?;
    }
    Ok(())
}

/// `error` of `statement` of `file`, its line made a line of the file.
fn located_in_file(file: &Path, statement: &SchemaStatement, error: StoreError) -> Error {
    match error {
        StoreError::Statement(mut cause) => {
            cause.line = Some(statement.line + cause.line.unwrap_or(1) - 1);
            schema_file_error(file, StoreError::Statement(cause))
        }
        other => Error::Store(other),
    }
}

async fn run_whole(scratch: &mut dyn Store, screened: &Screened) -> Result<(), Error> {
    for file in &screened.files {
        if file.sql.trim().is_empty() {
            continue;
        }
        scratch
            .execute_script(&file.sql)
            .await
            .map_err(|error| schema_file_error(&file.path, error))?;
    }
    Ok(())
}

/// Run the statements of every file one at a time inside the open transaction, each behind a
/// savepoint so a failure undoes only itself, retrying failures in passes. `first` is the
/// failure of the whole run, reported when the files hold no statement to retry.
async fn run_in_passes(
    scratch: &mut dyn Store,
    screened: &Screened,
    first: Option<Error>,
) -> Result<(), Error> {
    let savepoint = scratch.dialect().savepoint("godwit_schema_statement");
    let mut pending: Vec<(&Path, &SchemaStatement)> = screened
        .statements()
        .filter(|(_, statement)| statement.class != StatementClass::Alone)
        .collect();
    if pending.is_empty() {
        return first.map_or(Ok(()), Err);
    }
    loop {
        let mut failed = Vec::new();
        let mut first_failure = None;
        let before = pending.len();
        for (file, statement) in pending {
            scratch.execute_script(&savepoint.set).await?;
            match scratch.execute_script(&statement.sql).await {
                Ok(()) => scratch.execute_script(&savepoint.release).await?,
                Err(error) => {
                    scratch.execute_script(&savepoint.rollback_to).await?;
                    scratch.execute_script(&savepoint.release).await?;
                    if first_failure.is_none() {
                        first_failure = Some(match located_in_file(file, statement, error) {
                            store @ Error::Store(_) => return Err(store),
                            located => located,
                        });
                    }
                    failed.push((file, statement));
                }
            }
        }
        match first_failure {
            None => return Ok(()),
            Some(error) if failed.len() == before => return Err(error),
            Some(_) => pending = failed,
        }
    }
}
