//! What the migrations produce: replaying them on a scratch database, drift against the live
//! database (`check`), and the round trip of every up and down script (`verify`).

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cache::{CacheKey, SchemaCache};
use super::desired::{with_scratch, within};
use super::error::{DeclarativeError, located};
use super::{ChangePlan, Scope, introspect, plan_changes};
use crate::dialect::RenderOptions;
use crate::diff::Renames;
use crate::error::Error;
use crate::history::{self, HistoryTable, Status};
use crate::migration::{Migration, Migrations, Script, Version};
use crate::schema::Schema;
use crate::screen::StatementClass;
use crate::store::{StatementError, Store, StoreError};

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
        cause: error.into_statement_error(),
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
        let migration = &rendered(scratch, migration).await?;
        run_script(scratch, &migration.up)
            .await
            .map_err(|error| replay_error(migration, &migration.up, error))?;
    }
    introspect(scratch, &HistoryTable::default()).await
}

/// `migration` as it runs on `store`: an operations migration rendered against the schema
/// `store` holds ([`crate::operation::resolve_live`]), any other as it is.
async fn rendered(store: &mut dyn Store, migration: &Migration) -> Result<Migration, Error> {
    if migration.operations.is_none() {
        return Ok(migration.clone());
    }
    let resolved =
        crate::operation::resolve_live(store, &HistoryTable::default(), migration).await?;
    Ok(resolved.migration)
}

/// The schema `migrations` produce: from `cache` when it holds it for these scripts and an
/// engine that normalises as `host`'s does, else replayed on a scratch database of `host`
/// ([`replay_migrations`]). Only migrations whose every statement the dialect screens as
/// schema are cached: code or data changes may make what their text does not say.
pub(super) async fn replayed(
    host: &mut dyn Store,
    migrations: &Migrations,
    cache: Option<&mut (dyn SchemaCache + '_)>,
) -> Result<Schema, Error> {
    let mut cached = match cache {
        Some(cache) if only_schema(host.dialect(), migrations) => {
            CacheKey::of_migrations(host, migrations)
                .await?
                .map(|key| (cache, key))
        }
        _ => None,
    };
    if let Some((cache, key)) = &mut cached
        && let Some(schema) = cache.get(key)
    {
        tracing::debug!(%key, "the schema the migrations produce comes from the cache");
        return Ok(schema);
    }
    let schema = with_scratch(host, async |s| replay_migrations(s, migrations).await).await?;
    if let Some((cache, key)) = &mut cached {
        cache.put(key, &schema);
    }
    Ok(schema)
}

/// Whether every statement of every up script screens as schema.
fn only_schema(dialect: &dyn crate::Dialect, migrations: &Migrations) -> bool {
    migrations.iter().all(|migration| {
        dialect
            .screen_schema(&migration.up.sql)
            .is_ok_and(|statements| {
                statements.iter().all(|statement| {
                    matches!(
                        statement.class,
                        StatementClass::Schema | StatementClass::Alone
                    )
                })
            })
    })
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
/// its history produce on `scratch`; privileges and owners as far as `scope` manages them.
pub async fn drift(
    target: &mut dyn Store,
    history: &HistoryTable,
    scratch: &mut dyn Store,
    migrations: &Migrations,
    scope: &Scope,
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
        &RenderOptions::default().with_scope(scope.clone()),
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
    let mut list: Vec<Migration> = Vec::with_capacity(migrations.len());
    let mut before = Vec::with_capacity(migrations.len());
    let mut after = Vec::with_capacity(migrations.len());
    let mut schema = introspect(scratch, &table).await?;
    for migration in migrations {
        // An operations migration runs, and is undone and run again, as it was rendered on
        // the schema before it, as `migrate` records it.
        list.push(rendered(scratch, migration).await?);
        let migration = list.last().expect("just pushed");
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
        let error = error.into_statement_error();
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

/// Is the live schema what the applied migrations produce? The front door of `check`: it
/// makes and removes the scratch database [`drift`] replays the migrations on.
#[derive(Debug)]
pub struct Check<'a> {
    target: &'a mut dyn Store,
    history: &'a HistoryTable,
    scratch_host: Option<&'a mut dyn Store>,
    scope: Scope,
}

impl<'a> Check<'a> {
    /// A check of `target`, whose history table is `history`. The scratch database is made on
    /// the target's server unless [`Check::scratch_host`] names another.
    pub fn new(target: &'a mut dyn Store, history: &'a HistoryTable) -> Self {
        Check {
            target,
            history,
            scratch_host: None,
            scope: Scope::default(),
        }
    }

    /// Compare privileges and owners as far as `scope` manages them (none by default).
    #[must_use]
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Replay the migrations on a scratch database of `host` instead.
    #[must_use]
    pub fn scratch_host(mut self, host: &'a mut dyn Store) -> Self {
        self.scratch_host = Some(host);
        self
    }

    /// Compare; the report's [`DriftReport::drifted`] says whether they differ.
    pub async fn run(self, migrations: &Migrations) -> Result<DriftReport, Error> {
        // The scratch database is opened before the work borrows the target, which may be
        // its host.
        let scratch = match self.scratch_host {
            Some(host) => host.open_scratch().await?,
            None => self.target.open_scratch().await?,
        };
        within(scratch, async |scratch| {
            drift(self.target, self.history, scratch, migrations, &self.scope).await
        })
        .await
    }
}

/// Does every migration go up, down and up again? The front door of `verify`: it runs
/// [`verify`] on a scratch database of one host, removed afterwards.
#[derive(Debug)]
pub struct Verify<'a> {
    host: &'a mut dyn Store,
}

impl<'a> Verify<'a> {
    /// Scratch databases are made on `host`.
    pub fn new(host: &'a mut dyn Store) -> Self {
        Verify { host }
    }

    /// Round-trip `migrations`; a migration at fault is [`Verification::Failed`], not an
    /// error.
    pub async fn run(self, migrations: &Migrations) -> Result<Verification, Error> {
        super::with_scratch(self.host, async |s| verify(s, migrations).await).await
    }
}
