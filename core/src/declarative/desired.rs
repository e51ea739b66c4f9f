//! The desired schema: a schema file, screened, run on a scratch database and read back.
//!
//! Nothing of a schema file runs before every statement of it was screened by the dialect
//! ([`crate::screen`]): a refused statement refuses the file, and a statement that runs code
//! gets a sandboxed scratch database ([`Store::open_sandbox`]) or refuses the file. What runs
//! then runs in one transaction on engines with transactional DDL, never outside it, so even a
//! statement the screening misjudged cannot do what PostgreSQL refuses in a transaction block
//! (`DROP DATABASE`, `ALTER SYSTEM`), and SQLite refuses `ATTACH` and `VACUUM` there too.

use std::path::{Path, PathBuf};

use super::cache::{CacheKey, SchemaCache};
use super::{DeclarativeError, SchemaSource, apply, introspect};
use crate::dialect::{RenderOptions, Statement, StatementKind};
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
/// that is deleted afterwards ([`desired_schema_cached`] without a cache).
pub async fn desired_schema(
    host: &mut dyn Store,
    source: &SchemaSource,
    existing: &Schema,
) -> Result<Schema, Error> {
    desired_schema_cached(host, source, existing, None).await
}

/// The schema that `source` describes, read back from a scratch database of `host`'s engine
/// that is deleted afterwards, or from `cache` when it holds the schema these files gave on
/// an engine that normalises as `host`'s does ([`SchemaCache`]).
///
/// The files are screened first ([`SchemaSource::screen`]); when a statement runs code, the
/// scratch database is a sandboxed one ([`Store::open_sandbox`]), and where `host` cannot
/// make one the files are refused before anything runs. Files that run code are never
/// cached: what the code makes may depend on more than its text. The scratch database first
/// gets the namespaces (schemas) of `existing` (the target's, or those its migrations create)
/// that the files do not create themselves, so a schema file may use a namespace that exists
/// without creating it, as with sqldef; such a namespace is part of the desired schema, so a
/// push never drops a namespace the file does not mention.
///
/// The files run whole, in order, in one transaction. A declarative file need not be in
/// dependency order (a foreign key may name a table defined further down, a folder's files may
/// refer to each other), so when that fails the statements of all files run again in passes
/// inside a new transaction, each pass retrying those that failed in the one before, until all
/// have run or a pass makes no progress ([`Store::execute_in_passes`]); the first statement
/// left is run once more on its own, behind a savepoint, and its error reported with its file
/// and line. The schema is read inside that transaction, which is then rolled back, so the
/// same scratch database is empty again for the second reading the spellings may need. On an
/// engine without transactional DDL the first failure is reported.
pub async fn desired_schema_cached(
    host: &mut dyn Store,
    source: &SchemaSource,
    existing: &Schema,
    cache: Option<&mut (dyn SchemaCache + '_)>,
) -> Result<Schema, Error> {
    let screened = source.screen(host.dialect())?;
    let namespaces = missing_namespaces(source, existing);
    let mut cached = match cache {
        Some(cache) if screened.runs_code().is_none() => CacheKey::of(host, source, &namespaces)
            .await?
            .map(|key| (cache, key)),
        _ => None,
    };
    if let Some((cache, key)) = &mut cached
        && let Some(desired) = cache.get(key)
    {
        tracing::debug!(key = %key.as_str(), "the desired schema comes from the cache");
        return Ok(settle(host, Clean::No, desired, existing).await);
    }
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
        let prelude = namespaces_script(scratch.dialect(), &namespaces)?;
        let loaded = run_files(scratch, &screened, &prelude).await?;
        let desired = introspect(scratch, &HistoryTable::default()).await;
        let clean = match loaded {
            Loaded::Open => {
                scratch.rollback().await?;
                Clean::Yes
            }
            Loaded::Committed => Clean::No,
        };
        let desired = desired?;
        if let Some((cache, key)) = &mut cached {
            cache.put(key, &desired);
        }
        Ok(settle(scratch, clean, desired, existing).await)
    })
    .await
}

/// The namespaces of `existing` that the files do not create themselves.
fn missing_namespaces(source: &SchemaSource, existing: &Schema) -> Vec<String> {
    let created: Vec<String> = source
        .files
        .iter()
        .flat_map(|(_, sql)| crate::declarative::hints::created_schemas(sql))
        .collect();
    existing
        .schemas
        .iter()
        .filter(|schema| !created.iter().any(|c| c.eq_ignore_ascii_case(schema)))
        .cloned()
        .collect()
}

/// The script that creates `namespaces`, run before the files in their transaction.
fn namespaces_script(dialect: &dyn crate::Dialect, namespaces: &[String]) -> Result<String, Error> {
    if namespaces.is_empty() {
        return Ok(String::new());
    }
    let changes: Vec<Change> = namespaces
        .iter()
        .cloned()
        .map(Change::CreateSchema)
        .collect();
    let statements = dialect
        .render(&changes, &RenderOptions::default())
        .map_err(|cause| DeclarativeError::Render {
            dialect: dialect.name(),
            cause,
        })?;
    Ok(one_script(&statements))
}

/// `statements` as one script, each ended on a line of its own (a statement may end in a
/// line comment).
fn one_script(statements: &[Statement]) -> String {
    let mut script = String::new();
    for statement in statements {
        script.push_str(statement.sql.trim_end());
        script.push_str("\n;\n");
    }
    script
}

/// Whether the scratch database a stage hands on is empty, ready for another build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clean {
    /// It is (its work was rolled back): use it again.
    Yes,
    /// It holds something, or it is not a scratch database but the host to make one on.
    No,
}

/// The desired schema, with every object the engine spells differently once its own spelling
/// is read back taken in the spelling `existing` holds ([`crate::diff::adopt_spellings`]).
/// That needs a second build, from the desired schema's own rendering, done only when some
/// object is in both schemas and spelled differently (were `existing` the second spelling,
/// adopting it would change something): a first push, or one that only adds and drops, costs
/// nothing more. The build runs on `store` itself when it is a `Clean` scratch database, and
/// otherwise on a scratch database made on it; as one script in a transaction that is rolled
/// back, where the rendering allows. Should the engine not take back its own rendering (a gap
/// in a dialect), the desired schema stays as it was read: the plan is then right, only
/// perhaps not minimal.
async fn settle(store: &mut dyn Store, clean: Clean, desired: Schema, existing: &Schema) -> Schema {
    let dialect = store.dialect();
    let options = dialect.diff_options();
    if crate::diff::adopt_spellings(desired.clone(), existing, existing) == desired {
        return desired;
    }
    let create = diff(&Schema::default(), &desired, &Renames::default(), options);
    let Ok(statements) = dialect.render(&create, &RenderOptions::default()) else {
        return desired;
    };
    let again = match clean {
        Clean::Yes => rebuild(store, &statements).await,
        Clean::No => with_scratch(store, async |again| rebuild(again, &statements).await).await,
    };
    match again {
        Ok(again) => crate::diff::adopt_spellings(desired, &again, existing),
        Err(error) => {
            tracing::debug!(%error, "the desired schema does not recreate itself; comparing it as read");
            desired
        }
    }
}

/// Run `statements` on the empty `scratch` and read back the schema they make: as one script
/// in a transaction that is rolled back when they all may run in one, else one by one.
async fn rebuild(scratch: &mut dyn Store, statements: &[Statement]) -> Result<Schema, Error> {
    let batch = scratch.dialect().capabilities().transactional_ddl
        && statements
            .iter()
            .all(|s| s.transactional && matches!(s.kind, StatementKind::Execute));
    if !batch {
        apply(scratch, statements).await?;
        return introspect(scratch, &HistoryTable::default()).await;
    }
    scratch.begin().await?;
    let read = match scratch.execute_script(&one_script(statements)).await {
        Ok(()) => introspect(scratch, &HistoryTable::default()).await,
        Err(error) => Err(Error::Store(error)),
    };
    if let Err(error) = scratch.rollback().await {
        tracing::debug!(%error, "rolling back a rebuilt schema on a scratch database failed");
    }
    read
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

/// Where [`run_files`] left what the files made.
enum Loaded {
    /// In the scratch database's open transaction, which the caller ends.
    Open,
    /// Committed: the engine has no transactional DDL, or some statements may not run in a
    /// transaction block and ran after it.
    Committed,
}

/// Run `prelude` and the screened files on `scratch`: whole, in one transaction where the
/// engine allows, then, when that fails, in passes inside a new transaction.
async fn run_files(
    scratch: &mut dyn Store,
    screened: &Screened,
    prelude: &str,
) -> Result<Loaded, Error> {
    if !scratch.dialect().capabilities().transactional_ddl {
        if !prelude.is_empty() {
            scratch.execute_script(prelude).await?;
        }
        run_committing_passes(scratch, screened).await?;
        return Ok(Loaded::Committed);
    }
    let alone = screened
        .statements()
        .any(|(_, statement)| statement.class == StatementClass::Alone);
    scratch.begin().await?;
    // Statements that cannot run in a transaction block leave the whole-file run out: the rest
    // runs in passes, and they run after it.
    let whole = if alone {
        Err(None)
    } else {
        run_whole(scratch, screened, prelude).await.map_err(Some)
    };
    let result = match whole {
        Ok(()) => Ok(()),
        Err(first @ (None | Some(Error::Declarative(_)))) => {
            restart(scratch, prelude).await?;
            run_in_passes(scratch, screened, first).await
        }
        Err(Some(other)) => Err(other),
    };
    if let Err(error) = result {
        if let Err(rollback) = scratch.rollback().await {
            tracing::debug!(%rollback, "rolling back a failed schema file on a scratch database failed");
        }
        return Err(error);
    }
    if !alone {
        return Ok(Loaded::Open);
    }
    scratch.commit().await.map_err(Error::Store)?;
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
    Ok(Loaded::Committed)
}

/// Run the screened statements on an engine where each commits as it runs (MySQL), in
/// passes: those that fail (a view before its table, a key before the table it references)
/// are run again after the others, until a pass makes no progress. Each statement that ran
/// stays run, so no statement ever runs twice, and the order of the files does not matter, as
/// on the engines that retry inside a transaction. The error is that of the first statement
/// left.
async fn run_committing_passes(scratch: &mut dyn Store, screened: &Screened) -> Result<(), Error> {
    let mut left: Vec<(&Path, &SchemaStatement)> = screened.statements().collect();
    loop {
        let mut failed = Vec::new();
        let mut first_error = None;
        for &(file, statement) in &left {
            if let Err(error) = scratch.execute_script(&statement.sql).await {
                first_error.get_or_insert_with(|| located_in_file(file, statement, error));
                failed.push((file, statement));
            }
        }
        match first_error {
            None => return Ok(()),
            Some(error) if failed.len() == left.len() => return Err(error),
            Some(_) => left = failed,
        }
    }
}

/// Roll back the transaction the whole files failed in and open another, with `prelude` run.
async fn restart(scratch: &mut dyn Store, prelude: &str) -> Result<(), Error> {
    scratch.rollback().await?;
    scratch.begin().await?;
    if !prelude.is_empty() {
        scratch.execute_script(prelude).await?;
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

async fn run_whole(
    scratch: &mut dyn Store,
    screened: &Screened,
    prelude: &str,
) -> Result<(), Error> {
    if !prelude.is_empty() {
        scratch.execute_script(prelude).await?;
    }
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

/// Run the statements of every file in passes inside the open transaction
/// ([`Store::execute_in_passes`]), then those left one at a time, each behind a savepoint,
/// in passes again: the first to fail in a pass that runs none is the error, with its file
/// and line. `first` is the failure of the whole run, reported when the files hold no
/// statement to retry.
async fn run_in_passes(
    scratch: &mut dyn Store,
    screened: &Screened,
    first: Option<Error>,
) -> Result<(), Error> {
    let pending: Vec<(&Path, &SchemaStatement)> = screened
        .statements()
        .filter(|(_, statement)| statement.class != StatementClass::Alone)
        .collect();
    if pending.is_empty() {
        return first.map_or(Ok(()), Err);
    }
    let texts: Vec<&str> = pending.iter().map(|(_, s)| s.sql.as_str()).collect();
    let left = scratch.execute_in_passes(&texts).await?;
    // What the passes could not run is run once more on its own, to learn its error; should
    // one run there after all, the others get another chance.
    let mut pending: Vec<(&Path, &SchemaStatement)> = left
        .into_iter()
        .filter_map(|index| pending.get(index).copied())
        .collect();
    let savepoint = scratch.dialect().savepoint("godwit_schema_statement");
    while !pending.is_empty() {
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
    Ok(())
}
