//! The executor: one small async loop that carries out what the planner decided.

mod phased;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::backfill::{self, BackfillProgress, BackfillRow};
use crate::backup::{self, Backup, BackupRequest};
use crate::baseline::{self, Baseline};
use crate::dialect::Dialect;
use crate::error::Error;
use crate::error::Refusal;
use crate::history::{self, HistoryRow, HistoryTable, Status};
use crate::lint;
use crate::migration::{Migration, Migrations, Version};
use crate::operation;
use crate::plan::{
    self, MigrateOptions, Plan, RepairAction, RollbackStep, RollbackTarget, State, StatusEntry,
    StatusReport, Warning,
};
use crate::progress::Step;
use crate::recover::{self, Diagnosis, InvalidIndex, RecoverAction, RecoverOptions};
use crate::schema::Schema;
use crate::store::{
    LockHolder, LockOwner, LockRequest, StatementError, Store, StoreError, UnlockOutcome, Value,
    excerpt,
};

/// How a [`Migrator`] finds and guards its history.
#[derive(Debug, Clone)]
pub struct MigratorConfig {
    /// Where the history lives.
    pub history: HistoryTable,
    /// How long to wait for another runner's lock.
    pub lock_timeout: Duration,
    /// Who we are, for the lock and the history's `applied_by`.
    pub owner: LockOwner,
    /// Which lint rules run before `migrate` and `recover --retry` apply a script (all, by
    /// default). [`MigrateOptions::no_lint`] turns the lint off for one run.
    pub lint: lint::LintConfig,
}

impl MigratorConfig {
    /// Defaults: `godwit_migrations`, a 60 s lock wait, and this process as the lock's owner:
    /// `application` as its label, with this machine's host name and this process's id, which
    /// let a later run on the same host recognise the lock of a process that died. Override
    /// [`Self::owner`]'s fields to name the owner otherwise.
    pub fn new(application: impl Into<String>) -> Self {
        MigratorConfig {
            history: HistoryTable::default(),
            lock_timeout: Duration::from_secs(60),
            owner: LockOwner::this_process(application),
            lint: lint::LintConfig::default(),
        }
    }
}

/// Progress reported while a run goes on. Events are reports going out of the engine; nothing
/// reads them back, so they serialize only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The lock was taken.
    Locked,
    /// The scripts about to run were linted, with no error-level finding (an error refuses
    /// the run with [`Error::LintRefused`] instead). Sent only when something is pending and
    /// the lint is on.
    Linted {
        /// What the lint found: warnings, or nothing.
        report: lint::Report,
    },
    /// The plan is known: `count` migrations will run.
    Planned {
        /// How many.
        count: usize,
    },
    /// The backup asked for is complete; the first migration runs next.
    BackedUp {
        /// The backup file.
        path: std::path::PathBuf,
        /// Its size in bytes.
        bytes: u64,
    },
    /// Something to tell the user that does not stop the run.
    Warning {
        /// What.
        warning: Warning,
    },
    /// A migration started.
    Applying {
        /// Its version.
        version: Version,
        /// Its name.
        name: String,
        /// Whether it runs in a transaction.
        transactional: bool,
    },
    /// A statement of the script now running (a migration's, or a down script) started, where
    /// the store can tell (see [`Store::execute_script_in_steps`]), when the migrator was asked
    /// to report statements ([`Migrator::report_statements`]).
    Statement {
        /// The migration whose script it is.
        version: Version,
        /// Which statement, and where.
        #[serde(flatten)]
        step: Step,
    },
    /// A migration finished.
    Applied {
        /// Its version.
        version: Version,
        /// Its name.
        name: String,
        /// How long it took.
        duration_ms: u64,
    },
    /// An invalid index left by an earlier failed attempt of the migration about to run was
    /// dropped, so the new attempt builds it again instead of mistaking it for a finished one.
    DroppedInvalidIndex {
        /// The index.
        index: InvalidIndex,
    },
    /// A backfill started, resumed, or finished a batch.
    Backfill {
        /// Where it stands.
        #[serde(flatten)]
        progress: BackfillProgress,
    },
    /// A down script started.
    RollingBack {
        /// Its version.
        version: Version,
        /// Its name.
        name: String,
    },
    /// A down script finished.
    RolledBack {
        /// Its version.
        version: Version,
        /// Its name.
        name: String,
        /// How long it took.
        duration_ms: u64,
    },
}

/// One migration a run completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completed {
    /// Its version.
    pub version: Version,
    /// Its name.
    pub name: String,
    /// How long it took.
    pub duration_ms: u64,
}

/// What a `migrate` or `rollback` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// The migrations applied or rolled back, in the order they ran.
    pub completed: Vec<Completed>,
    /// Warnings raised by the plan.
    pub warnings: Vec<Warning>,
    /// The backup taken before the first migration, when one was asked for and something was
    /// pending.
    pub backup: Option<Backup>,
}

/// Runs migrations against one database. Built from any [`Store`], so integrators embed it
/// with the backend of their choice.
#[derive(Debug)]
pub struct Migrator {
    store: Box<dyn Store>,
    migrations: Migrations,
    config: MigratorConfig,
    /// Whether statements are reported as they start ([`Migrator::report_statements`]).
    statement_events: bool,
}

/// Whether `migration` runs in a transaction on `dialect`'s engine.
fn transactional(dialect: &dyn Dialect, migration: &Migration) -> bool {
    transactional_script(dialect, &migration.up)
}

/// Whether `script` runs in a transaction on `dialect`'s engine.
fn transactional_script(dialect: &dyn Dialect, script: &crate::migration::Script) -> bool {
    !script.directives.no_transaction && dialect.transactional_script(&script.sql)
}

/// A migration about to run, as [`Migrator::prepare`] left it.
struct Prepared {
    /// The migration, rendered.
    migration: Migration,
    /// Its phases, when it holds a backfill ([`operation::Resolved::phases`]).
    phases: Vec<operation::Phase>,
    /// The progress rows of the attempt it resumes, when it resumes one.
    progress: Option<Vec<BackfillRow>>,
}

/// End a transaction a failed no-transaction script opened itself (`BEGIN;` ... with its
/// `COMMIT;` never reached), rolling its part back as closing the connection would. Otherwise
/// the failure would be recorded inside that transaction (on PostgreSQL, refused by the
/// aborted transaction) and lost with it, leaving the history saying the run was interrupted.
async fn end_script_transaction(store: &mut dyn Store) {
    if let Err(error) = store.rollback().await {
        tracing::debug!(%error, "no transaction left open by the failed script");
    }
}

fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Migrator {
    /// A migrator over `store` for `migrations`.
    pub fn new(store: Box<dyn Store>, migrations: Migrations, config: MigratorConfig) -> Self {
        Migrator {
            store,
            migrations,
            config,
            statement_events: false,
        }
    }

    /// Report each statement of a script as it starts ([`Event::Statement`]), where the store
    /// can tell; off by default. Each report labels its statement, a cost that a migration of
    /// many thousand small statements notices, so only a caller that shows them asks.
    pub fn report_statements(&mut self, report: bool) {
        self.statement_events = report;
    }

    /// The migrations this migrator knows.
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// The underlying store, for integrators who run their own queries afterwards.
    pub fn store_mut(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    /// Give back the store.
    pub fn into_store(self) -> Box<dyn Store> {
        self.store
    }

    /// The history rows. Creates nothing.
    pub async fn history(&mut self) -> Result<Vec<HistoryRow>, Error> {
        history::read(self.store.as_mut(), &self.config.history).await
    }

    /// The state of every migration. Read-only: takes no lock and creates no table.
    pub async fn status(&mut self) -> Result<StatusReport, Error> {
        let rows = self.history().await?;
        let mut report = plan::status(&rows, &self.migrations);
        // Who holds the lock is a courtesy here: if it cannot be read, the report says what
        // the history says.
        report.lock = self
            .store
            .lock_holder(&self.config.history)
            .await
            .ok()
            .flatten();
        // A no-transaction migration is recorded as failed before it starts, so that a crash
        // leaves a failure behind. Unfinished, with a live runner holding the lock, it is
        // running now.
        let unfinished = |e: &StatusEntry| e.state == State::Failed && e.finished_at.is_none();
        if report
            .lock
            .as_ref()
            .is_some_and(|holder| holder.alive() != Some(false))
        {
            for entry in report.entries.iter_mut().filter(|e| unfinished(e)) {
                entry.state = State::Running;
                entry.error = None;
            }
        }
        report.backfills = self
            .backfills()
            .await?
            .into_iter()
            .filter(|row| row.finished_at.is_none())
            .collect();
        Ok(report)
    }

    /// The progress of every backfill, finished or not, by migration. Read-only.
    pub async fn backfills(&mut self) -> Result<Vec<BackfillRow>, Error> {
        Ok(backfill::read(self.store.as_mut(), &self.config.history).await?)
    }

    /// Where `step`'s migration resumes, when it is a failed attempt of a migration holding a
    /// backfill, with its file unchanged: the point its progress rows give, and those rows.
    async fn resume_point(
        &mut self,
        step: &plan::Step,
    ) -> Result<Option<(backfill::ResumePoint, Vec<BackfillRow>)>, Error> {
        let migration = &step.migration;
        let Some(operations) = migration
            .operations
            .as_ref()
            .filter(|ops| ops.has_backfill())
        else {
            return Ok(None);
        };
        let resuming = step.previous.as_ref().is_some_and(|row| {
            row.status == Status::Failed && row.checksum == migration.up.checksum
        });
        if !resuming {
            return Ok(None);
        }
        let rows: Vec<BackfillRow> = self
            .backfills()
            .await?
            .into_iter()
            .filter(|row| row.version == migration.version)
            .collect();
        Ok(Some((backfill::resume_point(operations, &rows), rows)))
    }

    /// What `migrate` would do now, or its refusal. Read-only.
    ///
    /// Operations migrations come back rendered ([`operation::resolve`]) against the live
    /// schema, each after the ones before it, so their SQL can be shown and linted; an
    /// operation that does not fit the schema is an [`Error::Operation`] now, as it would be
    /// when applied. One that a pending SQL migration precedes cannot be rendered before that
    /// SQL runs: its up script then says so instead.
    pub async fn plan(&mut self, options: &MigrateOptions) -> Result<Plan, Error> {
        let rows = self.history().await?;
        let mut plan = plan::plan_migrate(&rows, &self.migrations, options)?;
        self.refuse_existing_tables(&rows, &plan.steps, options)
            .await?;
        let warnings = self.unexplained_invalid_indexes(&plan).await?;
        plan.warnings.extend(warnings);
        self.render_operations(&mut plan.steps).await?;
        Ok(plan)
    }

    /// Render the operations migrations of `steps` in place, for a plan that is only shown,
    /// and return the versions of those that can be rendered only when they run.
    async fn render_operations(&mut self, steps: &mut [plan::Step]) -> Result<Vec<Version>, Error> {
        let mut schema: Option<Schema> = None;
        let mut after_sql: Option<Version> = None;
        let mut deferred = Vec::new();
        for step in steps {
            let migration = &step.migration;
            if migration.operations.is_none() {
                after_sql.get_or_insert(migration.version);
                continue;
            }
            if let Some(sql) = after_sql {
                let migration = &mut step.migration;
                migration.up.sql = format!(
                    "-- Rendered when it runs: pending migration {sql} runs SQL first, which \
                     changes the schema these operations are rendered against.\n"
                );
                migration.operations = None;
                deferred.push(migration.version);
                continue;
            }
            let live = match schema.take() {
                Some(schema) => schema,
                None => {
                    crate::declarative::introspect(self.store.as_mut(), &self.config.history)
                        .await?
                }
            };
            // What a `sql` operation does is unknown to the model, so the migrations after one
            // cannot be rendered before it runs either.
            let opaque = migration
                .operations
                .as_ref()
                .is_some_and(|ops| ops.list.iter().any(|op| op.kind() == "sql"));
            let version = migration.version;
            let unknown = operation::unknown_types(self.store.as_mut(), migration).await;
            let start = match self.resume_point(step).await? {
                Some((backfill::ResumePoint::At { operation, .. }, _)) => operation,
                _ => 0,
            };
            let migration = &mut step.migration;
            let resolved =
                operation::resolve_from(self.store.dialect(), &live, migration, &unknown, start)?;
            *migration = resolved.migration;
            schema = Some(resolved.schema);
            if opaque {
                after_sql = Some(version);
            }
        }
        Ok(deferred)
    }

    /// `step`'s migration as it runs now: an operations migration rendered against the live
    /// schema (from where an interrupted attempt stopped, for one holding a backfill) and,
    /// unless `no_lint`, linted as rendered; any other as it is.
    async fn prepare(
        &mut self,
        step: &plan::Step,
        no_lint: bool,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<Prepared, Error> {
        let migration = &step.migration;
        if migration.operations.is_none() {
            return Ok(Prepared {
                migration: migration.clone(),
                phases: Vec::new(),
                progress: None,
            });
        }
        let resume = self.resume_point(step).await?;
        let start = match &resume {
            Some((backfill::ResumePoint::At { operation, .. }, _)) => *operation,
            _ => 0,
        };
        let live =
            crate::declarative::introspect(self.store.as_mut(), &self.config.history).await?;
        let unknown = operation::unknown_types(self.store.as_mut(), migration).await;
        let mut resolved =
            operation::resolve_from(self.store.dialect(), &live, migration, &unknown, start)?;
        if let (Some((point, _)), Some(previous)) = (&resume, &step.previous) {
            self.check_resumable(*point, &resolved, previous)?;
            if start > 0 {
                // The reverse of the whole migration was derived when it first started, from
                // the schema before it; what is rendered now covers only what is left.
                if let Some(down) = &previous.down_script {
                    resolved.migration.down = Some(
                        crate::migration::Script::new(down.clone(), None).map_err(|e| {
                            Error::CorruptHistory(format!(
                                "the recorded down script of {}: {e}",
                                migration.version
                            ))
                        })?,
                    );
                }
            }
        }
        if !no_lint {
            self.gate(&[&resolved.migration], on_event).await?;
        }
        Ok(Prepared {
            migration: resolved.migration,
            phases: resolved.phases,
            progress: resume.map(|(_, rows)| rows),
        })
    }

    /// Refuse to resume an attempt that stopped in schema steps that ran outside a
    /// transaction (MySQL's DDL, a concurrent index build): part of them may have run, which
    /// is `godwit recover`'s to sort out, as for any migration interrupted so.
    fn check_resumable(
        &self,
        point: backfill::ResumePoint,
        resolved: &operation::Resolved,
        previous: &HistoryRow,
    ) -> Result<(), Error> {
        if matches!(point, backfill::ResumePoint::At { backfill: true, .. }) {
            return Ok(());
        }
        let first = match resolved.phases.first() {
            Some(operation::Phase::Script(script)) => script,
            Some(operation::Phase::Backfill(_)) => return Ok(()),
            None => &resolved.migration.up,
        };
        if transactional_script(self.store.dialect(), first) {
            return Ok(());
        }
        Err(Refusal::Failed {
            version: previous.version,
            name: previous.name.clone(),
            failed_at: previous
                .finished_at
                .clone()
                .unwrap_or_else(|| previous.started_at.clone()),
            error: previous
                .error
                .clone()
                .unwrap_or_else(|| "unknown error".into()),
        }
        .into())
    }

    /// What `rollback` would do now. Read-only.
    pub async fn plan_rollback(
        &mut self,
        target: RollbackTarget,
    ) -> Result<Vec<RollbackStep>, Error> {
        let rows = self.history().await?;
        plan::plan_rollback(&rows, &self.migrations, target)
    }

    async fn lock(&mut self) -> Result<(), Error> {
        // Before the lock, which may create a table of its own beside the history: a refused
        // name leaves nothing behind.
        history::check_name(self.store.as_mut(), &self.config.history).await?;
        let request = LockRequest {
            table: &self.config.history,
            owner: &self.config.owner,
            timeout: self.config.lock_timeout,
        };
        self.store.lock(&request).await?;
        Ok(())
    }

    async fn release(&mut self) {
        if let Err(error) = self.store.unlock(&self.config.history).await {
            tracing::warn!(%error, "could not release the migration lock; `godwit unlock` clears it");
        }
    }

    /// Apply pending migrations under the lock, stopping at the first failure.
    pub async fn migrate(
        &mut self,
        options: &MigrateOptions,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<RunReport, Error> {
        // Before the lock, whose table SQLite creates: a database without history that is
        // refused is left without any table of godwit's. A history written by another run
        // meanwhile only makes the refusal moot.
        let rows = self.history().await?;
        if rows.is_empty() {
            let plan = plan::plan_migrate(&rows, &self.migrations, options)?;
            self.refuse_existing_tables(&rows, &plan.steps, options)
                .await?;
        } else if let Ok(plan) = plan::plan_migrate(&rows, &self.migrations, options)
            && plan.steps.is_empty()
        {
            // Nothing is pending, and another runner can only make that truer (it applies,
            // it never un-applies), so the answer needs no lock: on SQLite taking it writes
            // and syncs the lock row for nothing. A refusal is decided under the lock, where
            // a runner that is fixing what it refuses has finished.
            return self.nothing_pending(plan, on_event).await;
        }
        self.lock().await?;
        on_event(&Event::Locked);
        let result = self.migrate_locked(options, on_event).await;
        self.release().await;
        result
    }

    /// Add the warnings only the database can tell (invalid indexes no pending migration
    /// rebuilds) to `plan`, and report the plan and its warnings.
    async fn announce(
        &mut self,
        plan: &mut Plan,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<(), Error> {
        let invalid = self.unexplained_invalid_indexes(plan).await?;
        plan.warnings.extend(invalid);
        on_event(&Event::Planned {
            count: plan.steps.len(),
        });
        for warning in &plan.warnings {
            on_event(&Event::Warning {
                warning: warning.clone(),
            });
        }
        Ok(())
    }

    /// The report of a run that found nothing pending, with the warnings a locked run gives.
    async fn nothing_pending(
        &mut self,
        mut plan: Plan,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<RunReport, Error> {
        self.announce(&mut plan, on_event).await?;
        Ok(RunReport {
            completed: Vec::new(),
            warnings: plan.warnings,
            backup: None,
        })
    }

    async fn migrate_locked(
        &mut self,
        options: &MigrateOptions,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<RunReport, Error> {
        history::ensure(self.store.as_mut(), &self.config.history).await?;
        let rows = history::read(self.store.as_mut(), &self.config.history).await?;
        let mut plan = plan::plan_migrate(&rows, &self.migrations, options)?;
        self.announce(&mut plan, on_event).await?;
        if options.single_transaction {
            self.refuse_outside_one_transaction(&plan.steps)?;
        }
        // Every operations migration that can be rendered before the run starts (all but those
        // after SQL) is rendered now, so one that does not fit, or that the lint refuses as
        // rendered, refuses the run before any migration of it is applied. Each is rendered
        // again, on the live schema, as it runs; those rendered only then are linted then.
        let mut preview = plan.steps.clone();
        let deferred = self.render_operations(&mut preview).await?;
        if !options.no_lint {
            let steps: Vec<&Migration> = preview
                .iter()
                .map(|step| &step.migration)
                .filter(|migration| !deferred.contains(&migration.version))
                .collect();
            self.gate(&steps, on_event).await?;
        }
        let backup = match &options.backup {
            Some(backup) if !plan.steps.is_empty() => {
                let stamp = backup::stamp(&history::now_rfc3339());
                let request = BackupRequest {
                    dir: backup.dir.as_deref(),
                    stamp: &stamp,
                };
                let taken = self.store.backup(&request).await.map_err(Error::Backup)?;
                on_event(&Event::BackedUp {
                    path: taken.path.clone(),
                    bytes: taken.bytes,
                });
                Some(taken)
            }
            _ => None,
        };
        let recorded = backup.as_ref().map(|b| b.path.display().to_string());
        let mut report = RunReport {
            completed: Vec::new(),
            warnings: plan.warnings,
            backup,
        };
        if options.single_transaction {
            report.completed = self
                .apply_together(&plan.steps, recorded.as_deref(), on_event)
                .await?;
            return Ok(report);
        }
        for step in plan.steps {
            let applied: Vec<Version> = report.completed.iter().map(|c| c.version).collect();
            let lint = !options.no_lint && deferred.contains(&step.migration.version);
            let prepared = self
                .prepare(&step, !lint, on_event)
                .await
                .map_err(|cause| {
                    if applied.is_empty() {
                        cause
                    } else {
                        Error::StoppedAfter {
                            applied: applied.clone(),
                            cause: Box::new(cause),
                        }
                    }
                })?;
            let done = self
                .run_prepared(
                    prepared,
                    step.previous.as_ref(),
                    recorded.as_deref(),
                    applied,
                    options.backfill,
                    on_event,
                )
                .await?;
            report.completed.push(done);
        }
        Ok(report)
    }

    fn new_row(
        &self,
        migration: &Migration,
        previous: Option<&HistoryRow>,
        backup: Option<&str>,
        transactional: bool,
    ) -> HistoryRow {
        HistoryRow {
            version: migration.version,
            name: migration.name.clone(),
            checksum: migration.up.checksum.clone(),
            down_checksum: migration.down.as_ref().map(|d| d.checksum.clone()),
            down_script: migration.down.as_ref().map(|d| d.sql.clone()),
            transactional,
            status: Status::Applied,
            started_at: history::now_rfc3339(),
            finished_at: None,
            duration_ms: None,
            error: None,
            error_statement: None,
            error_line: None,
            previous_checksums: previous.and_then(|p| p.previous_checksums.clone()),
            applied_by: Some(self.config.owner.to_string()),
            backup: backup.map(str::to_string),
        }
    }

    async fn apply(
        &mut self,
        migration: &Migration,
        previous: Option<&HistoryRow>,
        backup: Option<&str>,
        applied: Vec<Version>,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<Completed, Error> {
        let transactional = transactional(self.store.dialect(), migration);
        if !transactional {
            self.drop_invalid_indexes(migration, on_event).await?;
        }
        on_event(&Event::Applying {
            version: migration.version,
            name: migration.name.clone(),
            transactional,
        });
        let table = self.config.history.clone();
        let mut row = self.new_row(migration, previous, backup, transactional);
        let start = Instant::now();

        let outcome = if transactional {
            self.store.begin().await?;
            let ran = self
                .run_script(migration.version, &migration.up.sql, on_event)
                .await;
            let ends = self.store.dialect().transaction_ends(&migration.up.sql);
            match ran {
                Ok(()) => {
                    row.finished_at = Some(history::now_rfc3339());
                    row.duration_ms = Some(i64::try_from(elapsed_ms(start)).unwrap_or(i64::MAX));
                    // A script that ended godwit's transaction committed itself, at least in
                    // part: its row says it did not run in one transaction. A transaction the
                    // script opened again (`COMMIT; BEGIN;`) commits the row with the rest;
                    // with the transaction gone the row is written on its own, durably.
                    row.transactional = ends.is_empty();
                    let recorded =
                        match history::write_and_commit(self.store.as_mut(), &table, &row).await {
                            Ok(true) => Ok(()),
                            Ok(false) => {
                                row.transactional = false;
                                history::write(self.store.as_mut(), &table, &row).await
                            }
                            Err(e) => Err(e),
                        };
                    if !row.transactional {
                        tracing::warn!(
                            version = %migration.version,
                            "the migration ended the transaction godwit ran it in (a COMMIT or ROLLBACK in its script), so it did not run as one transaction"
                        );
                    }
                    if let Err(error) = recorded {
                        let _ = self.store.rollback().await;
                        return Err(error.into());
                    }
                    Ok(())
                }
                Err(error) => {
                    let still_open = self.store.transaction_open().await;
                    let cause = error.into_statement_error();
                    // What ran before a statement of the script that ended the transaction is
                    // committed, and so is what ran after it outside any transaction: the
                    // failure must not be recorded as one that applied nothing.
                    let ended_before_failing = match cause.line {
                        Some(line) => ends.iter().any(|&end| end < line),
                        None => !ends.is_empty(),
                    };
                    if ended_before_failing || matches!(still_open, Ok(Some(false))) {
                        row.transactional = false;
                    }
                    if let Err(rollback_error) = self.store.rollback().await {
                        tracing::warn!(%rollback_error, "rollback after a failed migration failed");
                    }
                    Err(cause)
                }
            }
        } else {
            // Record the attempt before running anything: if the process dies half-way, the
            // row already says `failed`, and status/repair can see it.
            let mut pending = row.clone();
            pending.status = Status::Failed;
            // No advice in the recorded text: every message that shows it (the refusal to
            // migrate past it, `status`) already names `godwit recover`.
            pending.error = Some(
                "interrupted: the process stopped while this migration ran outside a transaction"
                    .into(),
            );
            history::write(self.store.as_mut(), &table, &pending).await?;
            match self
                .run_script(migration.version, &migration.up.sql, on_event)
                .await
            {
                Ok(()) => {
                    row.finished_at = Some(history::now_rfc3339());
                    row.duration_ms = Some(i64::try_from(elapsed_ms(start)).unwrap_or(i64::MAX));
                    history::write(self.store.as_mut(), &table, &row).await?;
                    Ok(())
                }
                Err(error) => {
                    end_script_transaction(self.store.as_mut()).await;
                    Err(error.into_statement_error())
                }
            }
        };

        match outcome {
            Ok(()) => {
                let duration_ms = elapsed_ms(start);
                on_event(&Event::Applied {
                    version: migration.version,
                    name: migration.name.clone(),
                    duration_ms,
                });
                Ok(Completed {
                    version: migration.version,
                    name: migration.name.clone(),
                    duration_ms,
                })
            }
            Err(cause) => {
                row.finished_at = Some(history::now_rfc3339());
                row.duration_ms = Some(i64::try_from(elapsed_ms(start)).unwrap_or(i64::MAX));
                // `transactional` is false too for one that ended its own transaction: part
                // of it may stay.
                Err(self.record_failure(migration, row, cause, applied).await)
            }
        }
    }

    /// Record `row` (timed, outside any transaction) as the failure `cause` of `migration`,
    /// and return the error saying so; `applied` are the migrations that stay applied.
    async fn record_failure(
        &mut self,
        migration: &Migration,
        mut row: HistoryRow,
        cause: StatementError,
        applied: Vec<Version>,
    ) -> Error {
        row.status = Status::Failed;
        row.error = Some(cause.message.clone());
        row.error_statement = cause.statement.as_deref().map(|s| excerpt(s, 200));
        row.error_line = cause.line.and_then(|l| i64::try_from(l).ok());
        let table = &self.config.history;
        if let Err(error) = history::write(self.store.as_mut(), table, &row).await {
            tracing::warn!(%error, "could not record the failure in the history table");
        }
        Error::MigrationFailed {
            version: migration.version,
            name: migration.name.clone(),
            origin: migration.up.origin(),
            transactional: row.transactional,
            applied,
            cause,
        }
    }

    /// Refuse a single-transaction run that cannot be one: the engine cannot roll DDL back,
    /// or a pending migration runs outside a transaction or ends its own.
    fn refuse_outside_one_transaction(&self, steps: &[plan::Step]) -> Result<(), Error> {
        let dialect = self.store.dialect();
        if !dialect.capabilities().transactional_ddl {
            return Err(Refusal::SingleTransactionUnsupported {
                dialect: dialect.name(),
            }
            .into());
        }
        for step in steps {
            let migration = &step.migration;
            let why = if migration.operations.is_some() {
                "is an operations migration, rendered from the live schema only when it runs"
            } else if migration.up.directives.no_transaction {
                "says `-- godwit:no-transaction`"
            } else if !dialect.transaction_ends(&migration.up.sql).is_empty() {
                "ends the transaction it runs in (COMMIT or ROLLBACK in its script)"
            } else {
                continue;
            };
            return Err(Refusal::OutsideSingleTransaction {
                version: migration.version,
                name: migration.name.clone(),
                why,
            }
            .into());
        }
        Ok(())
    }

    /// Apply `steps` and their history rows in one transaction, committed once at the end. A
    /// failure rolls every one of them back and records the failing migration as failed.
    async fn apply_together(
        &mut self,
        steps: &[plan::Step],
        backup: Option<&str>,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<Vec<Completed>, Error> {
        if steps.is_empty() {
            return Ok(Vec::new());
        }
        let table = self.config.history.clone();
        self.store.begin().await?;
        let mut completed = Vec::with_capacity(steps.len());
        for step in steps {
            let migration = &step.migration;
            on_event(&Event::Applying {
                version: migration.version,
                name: migration.name.clone(),
                transactional: true,
            });
            let mut row = self.new_row(migration, step.previous.as_ref(), backup, true);
            let start = Instant::now();
            let ran = self
                .run_script(migration.version, &migration.up.sql, on_event)
                .await;
            let duration_ms = elapsed_ms(start);
            row.finished_at = Some(history::now_rfc3339());
            row.duration_ms = Some(i64::try_from(duration_ms).unwrap_or(i64::MAX));
            let cause = match ran {
                Ok(()) => match history::write(self.store.as_mut(), &table, &row).await {
                    Ok(()) => {
                        completed.push(Completed {
                            version: migration.version,
                            name: migration.name.clone(),
                            duration_ms,
                        });
                        continue;
                    }
                    Err(error) => {
                        end_script_transaction(self.store.as_mut()).await;
                        return Err(error.into());
                    }
                },
                Err(error) => error.into_statement_error(),
            };
            // Everything before it goes with it; its failure is recorded on its own.
            end_script_transaction(self.store.as_mut()).await;
            return Err(self.record_failure(migration, row, cause, Vec::new()).await);
        }
        if let Err(error) = self.store.commit().await {
            end_script_transaction(self.store.as_mut()).await;
            return Err(error.into());
        }
        // Applied only now that they are committed.
        for done in &completed {
            on_event(&Event::Applied {
                version: done.version,
                name: done.name.clone(),
                duration_ms: done.duration_ms,
            });
        }
        Ok(completed)
    }

    /// Refuse `steps` when the history `rows` are empty and they create tables the database
    /// already holds ([`baseline::existing_tables`]), unless `options` allow it.
    async fn refuse_existing_tables(
        &mut self,
        rows: &[HistoryRow],
        steps: &[plan::Step],
        options: &MigrateOptions,
    ) -> Result<(), Error> {
        if !rows.is_empty() || options.allow_existing_tables || steps.is_empty() {
            return Ok(());
        }
        let tables = baseline::existing_tables(self.store.as_mut(), steps).await?;
        // Another runner may have applied migrations between the two reads: it writes the
        // history row with the tables (in their transaction, or before a no-transaction
        // script runs), so a history still empty now means the tables were there before.
        if tables.is_empty() || !self.history().await?.is_empty() {
            Ok(())
        } else {
            Err(Refusal::TablesExist { tables }.into())
        }
    }

    /// The baseline of the database as it is, for the caller to write as the first migration,
    /// numbered `version`: its schema and the statements that create and drop it. Read-only.
    /// Refused when the history has a row, when the migrations this migrator knows include
    /// `version` or an older one ([`baseline::check_version`]), or when the database holds no
    /// table.
    pub async fn plan_baseline(&mut self, version: Version) -> Result<Baseline, Error> {
        baseline::refuse_history(self.store.as_mut(), &self.config.history).await?;
        baseline::check_version(&self.migrations, version)?;
        baseline::plan(self.store.as_mut(), &self.config.history).await
    }

    /// Record `migration`, written from the baseline of `schema` ([`Migrator::plan_baseline`]),
    /// as applied without running it, under the lock, and return its row. Refused, recording
    /// nothing, when the history gained a row or the schema is no longer `schema` since the
    /// baseline was planned, or when the migrations this migrator knows include older ones
    /// ([`baseline::check_version`]).
    pub async fn record_baseline(
        &mut self,
        migration: &Migration,
        schema: &Schema,
    ) -> Result<HistoryRow, Error> {
        let others = self
            .migrations
            .iter()
            .filter(|m| m.version != migration.version)
            .cloned()
            .collect();
        baseline::check_version(&Migrations::from_list(others)?, migration.version)?;
        self.lock().await?;
        let result = async {
            let store = self.store.as_mut();
            let table = &self.config.history;
            baseline::refuse_history(store, table).await?;
            if crate::declarative::introspect(store, table).await? != *schema {
                return Err(Refusal::BaselineSchemaChanged.into());
            }
            history::ensure(store, table).await?;
            let by = self.config.owner.to_string();
            let mut row = plan::plan_repair(
                &[],
                &Migrations::from_list(vec![migration.clone()])?,
                RepairAction::MarkApplied(migration.version),
                &history::now_rfc3339(),
                &by,
            )?;
            row.applied_by = Some(format!("{by} (baseline)"));
            history::write(store, table, &row).await?;
            Ok(row)
        }
        .await;
        self.release().await;
        result
    }

    /// Run a script of migration `version`, telling `on_event` of each statement as it starts.
    async fn run_script(
        &mut self,
        version: Version,
        sql: &str,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<(), StoreError> {
        if !self.statement_events {
            return self.store.execute_script(sql).await;
        }
        self.store
            .execute_script_in_steps(sql, &mut |step| {
                on_event(&Event::Statement { version, step });
            })
            .await
    }

    /// Revert applied migrations, newest first, under the lock. Every down script is found
    /// before the first one runs.
    pub async fn rollback(
        &mut self,
        target: RollbackTarget,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<RunReport, Error> {
        self.lock().await?;
        on_event(&Event::Locked);
        let result = self.rollback_locked(target, on_event).await;
        self.release().await;
        result
    }

    async fn rollback_locked(
        &mut self,
        target: RollbackTarget,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<RunReport, Error> {
        let rows = history::read(self.store.as_mut(), &self.config.history).await?;
        let steps = plan::plan_rollback(&rows, &self.migrations, target)?;
        // Rows are about to be written, so a table of an older layout is upgraded first; with
        // nothing to roll back, rollback stays read-only.
        if !steps.is_empty() {
            history::ensure(self.store.as_mut(), &self.config.history).await?;
        }
        on_event(&Event::Planned { count: steps.len() });
        let mut report = RunReport::default();
        for step in steps {
            let done = self
                .run_down(step, on_event)
                .await
                .map_err(|(version, name, cause)| Error::RollbackFailed {
                    version,
                    name,
                    rolled_back: report.completed.iter().map(|c| c.version).collect(),
                    cause,
                })?;
            report.completed.push(done);
        }
        Ok(report)
    }

    /// Run one down script and record the migration rolled back, in one transaction when the
    /// script allows. A failure comes back with the migration it belongs to.
    async fn run_down(
        &mut self,
        step: RollbackStep,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<Completed, (Version, String, StatementError)> {
        let table = self.config.history.clone();
        let version = step.row.version;
        let name = step.row.name.clone();
        on_event(&Event::RollingBack {
            version,
            name: name.clone(),
        });
        let start = Instant::now();
        let transactional = !step.down.directives.no_transaction
            && self.store.dialect().transactional_script(&step.down.sql);
        let mut row = step.row;
        row.status = Status::RolledBack;
        row.finished_at = Some(history::now_rfc3339());
        row.applied_by = Some(self.config.owner.to_string());
        let result = if transactional {
            match self.store.begin().await {
                Err(error) => Err(error),
                Ok(()) => {
                    let mut result = self.run_script(version, &step.down.sql, on_event).await;
                    if result.is_ok() {
                        let store = self.store.as_mut();
                        result = match history::write_and_commit(store, &table, &row).await {
                            Ok(true) => Ok(()),
                            // The down script ended the transaction itself; what it ran is
                            // committed, and the row follows on its own.
                            Ok(false) => history::write(store, &table, &row).await,
                            Err(error) => Err(error),
                        };
                    }
                    if result.is_err() {
                        let _ = self.store.rollback().await;
                    }
                    result
                }
            }
        } else {
            match self.run_script(version, &step.down.sql, on_event).await {
                Ok(()) => history::write(self.store.as_mut(), &table, &row).await,
                Err(error) => {
                    end_script_transaction(self.store.as_mut()).await;
                    Err(error)
                }
            }
        };
        if let Err(error) = result {
            return Err((version, name, error.into_statement_error()));
        }
        let duration_ms = elapsed_ms(start);
        on_event(&Event::RolledBack {
            version,
            name: name.clone(),
            duration_ms,
        });
        Ok(Completed {
            version,
            name,
            duration_ms,
        })
    }

    /// Change the history without running SQL, under the lock. Returns the row written.
    pub async fn repair(&mut self, action: RepairAction) -> Result<HistoryRow, Error> {
        self.lock().await?;
        let result = async {
            history::ensure(self.store.as_mut(), &self.config.history).await?;
            let rows = history::read(self.store.as_mut(), &self.config.history).await?;
            let row = plan::plan_repair(
                &rows,
                &self.migrations,
                action,
                &history::now_rfc3339(),
                &self.config.owner.to_string(),
            )?;
            history::write(self.store.as_mut(), &self.config.history, &row).await?;
            Ok(row)
        }
        .await;
        self.release().await;
        result
    }

    /// Indexes a failed or interrupted concurrent build left invalid; empty on engines that
    /// build indexes atomically. Read-only.
    pub async fn invalid_indexes(&mut self) -> Result<Vec<InvalidIndex>, Error> {
        let Some(sql) = self.store.dialect().invalid_indexes_query() else {
            return Ok(Vec::new());
        };
        let rows = self.store.query(&sql, &[]).await?;
        rows.into_iter()
            .map(|row| match row.as_slice() {
                [Value::Text(schema), Value::Text(name), Value::Text(table)] => Ok(InvalidIndex {
                    schema: schema.clone(),
                    name: name.clone(),
                    table: table.clone(),
                }),
                other => Err(Error::Store(StoreError::Other(format!(
                    "the invalid-index query returned {other:?}, not three names"
                )))),
            })
            .collect()
    }

    /// Warnings for invalid indexes that no migration of `plan` is about to rebuild: the run
    /// leaves them alone, and the user should know they exist.
    async fn unexplained_invalid_indexes(&mut self, plan: &Plan) -> Result<Vec<Warning>, Error> {
        let invalid = self.invalid_indexes().await?;
        let dialect = self.store.dialect();
        let rebuilt: Vec<InvalidIndex> = plan
            .steps
            .iter()
            .filter(|step| !transactional(dialect, &step.migration))
            .flat_map(|step| recover::indexes_to_drop(dialect, &step.migration, &invalid))
            .collect();
        Ok(invalid
            .into_iter()
            .filter(|index| !rebuilt.contains(index))
            .map(|index| Warning::InvalidIndex { index })
            .collect())
    }

    /// Drop the invalid indexes that `migration` creates, left by an earlier attempt, each in
    /// its own statement outside a transaction.
    async fn drop_invalid_indexes(
        &mut self,
        migration: &Migration,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<(), Error> {
        let invalid = self.invalid_indexes().await?;
        let dialect = self.store.dialect();
        for index in recover::indexes_to_drop(dialect, migration, &invalid) {
            let sql = self.store.dialect().drop_invalid_index(&index);
            self.store.execute(&sql, &[]).await?;
            on_event(&Event::DroppedInvalidIndex { index });
        }
        Ok(())
    }

    /// Every failed migration explained, with the actions that fit. Read-only.
    pub async fn diagnose(&mut self) -> Result<Vec<Diagnosis>, Error> {
        let rows = self.history().await?;
        let invalid = self.invalid_indexes().await?;
        let dialect = self.store.dialect();
        Ok(recover::diagnose(
            &rows,
            &self.migrations,
            dialect,
            dialect.capabilities().transactional_ddl,
            &invalid,
        ))
    }

    /// Carry out `action` for the failed migration `version`, under the lock, and return its
    /// history row afterwards. Refused, with nothing changed, when the migration is not failed
    /// or the action does not fit its failure (see [`Diagnosis::unfit`]).
    pub async fn recover(
        &mut self,
        version: Version,
        action: RecoverAction,
        options: &RecoverOptions,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<HistoryRow, Error> {
        self.lock().await?;
        on_event(&Event::Locked);
        let result = self
            .recover_locked(version, action, options, on_event)
            .await;
        self.release().await;
        result
    }

    async fn recover_locked(
        &mut self,
        version: Version,
        action: RecoverAction,
        options: &RecoverOptions,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<HistoryRow, Error> {
        history::ensure(self.store.as_mut(), &self.config.history).await?;
        let rows = history::read(self.store.as_mut(), &self.config.history).await?;
        let Some(row) = rows.iter().find(|r| r.version == version).cloned() else {
            return Err(Error::UnknownVersion { version });
        };
        let invalid = self.invalid_indexes().await?;
        let dialect = self.store.dialect();
        let transactional_ddl = dialect.capabilities().transactional_ddl;
        let Some(diagnosis) = recover::diagnose(
            &rows,
            &self.migrations,
            dialect,
            transactional_ddl,
            &invalid,
        )
        .into_iter()
        .find(|d| d.version == version) else {
            return Err(Refusal::NotFailed {
                version,
                name: row.name,
                status: row.status,
            }
            .into());
        };
        if let Some(reason) = diagnosis.unfit(action) {
            return Err(Refusal::RecoveryDoesNotFit {
                version,
                name: row.name,
                flag: action.flag(),
                reason,
            }
            .into());
        }
        match action {
            RecoverAction::Retry => {
                let Some(migration) = self.migrations.get(version).cloned() else {
                    unreachable!("a retry without a file is refused by `unfit`")
                };
                let prepared = if migration.operations.is_some() {
                    // Rendered against what the failed attempt left, so the retry does only
                    // what is still missing (a backfill resumes where it stopped).
                    let step = plan::Step {
                        migration,
                        previous: Some(row.clone()),
                    };
                    self.prepare(&step, options.no_lint, on_event).await?
                } else {
                    if !options.no_lint {
                        self.gate(&[&migration], on_event).await?;
                    }
                    Prepared {
                        migration,
                        phases: Vec::new(),
                        progress: None,
                    }
                };
                self.run_prepared(
                    prepared,
                    Some(&row),
                    row.backup.as_deref(),
                    Vec::new(),
                    backfill::BackfillOverrides::default(),
                    on_event,
                )
                .await?;
            }
            RecoverAction::RunDown => {
                let step = plan::rollback_step(&row, &self.migrations)?;
                self.run_down(step, on_event)
                    .await
                    .map_err(|(version, name, cause)| Error::RollbackFailed {
                        version,
                        name,
                        rolled_back: Vec::new(),
                        cause,
                    })?;
            }
            RecoverAction::MarkRolledBack | RecoverAction::MarkApplied => {
                let repair = if action == RecoverAction::MarkApplied {
                    RepairAction::MarkApplied(version)
                } else {
                    RepairAction::MarkRolledBack(version)
                };
                let updated = plan::plan_repair(
                    &rows,
                    &self.migrations,
                    repair,
                    &history::now_rfc3339(),
                    &self.config.owner.to_string(),
                )?;
                history::write(self.store.as_mut(), &self.config.history, &updated).await?;
            }
        }
        history::read(self.store.as_mut(), &self.config.history)
            .await?
            .into_iter()
            .find(|r| r.version == version)
            .ok_or_else(|| Error::CorruptHistory(format!("the row of {version} disappeared")))
    }

    /// Lint the up scripts of `migrations`, which are about to run, knowing the live schema:
    /// an error-level finding refuses with [`Error::LintRefused`]; otherwise the findings go
    /// to `on_event`. Nothing to run is nothing to lint.
    async fn gate(
        &mut self,
        migrations: &[&Migration],
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<(), Error> {
        if migrations.is_empty() {
            return Ok(());
        }
        let report = self.lint(migrations).await;
        if report.errors() > 0 {
            return Err(Error::LintRefused { report });
        }
        on_event(&Event::Linted { report });
        Ok(())
    }

    /// Lint the up scripts of `migrations` as a run would before applying them, with the
    /// rules of [`MigratorConfig::lint`] and the database's live schema: a foreign key then
    /// counts the indexes that already cover it, and a type change knows the column's current
    /// type. Takes no lock; `migrate` lints again under its lock.
    ///
    /// Reading the live schema is cheap (a fixed handful of catalog queries, whatever the
    /// number of tables). Failing to read it costs precision, not safety: the lint then knows
    /// only what the files create, and may warn about an index that exists. So the failure is
    /// logged, not returned.
    pub async fn lint(&mut self, migrations: &[&Migration]) -> lint::Report {
        let schema = match crate::declarative::introspect(self.store.as_mut(), &self.config.history)
            .await
        {
            Ok(schema) => Some(schema),
            Err(error) => {
                tracing::warn!(
                    "cannot read the live schema ({error}); the lint knows only the indexes and \
                     column types the migration files create"
                );
                None
            }
        };
        let dialect = self.store.dialect();
        lint::Report::of_scripts(
            |input| dialect.lint(input, &self.config.lint),
            // An operations migration not yet rendered has no SQL to lint; `plan` and `migrate`
            // lint it as rendered.
            migrations
                .iter()
                .filter(|migration| migration.operations.is_none())
                .map(|migration| (migration.up.origin(), &migration.up)),
            schema.as_ref(),
        )
    }

    /// Who holds the migration lock, if anyone.
    pub async fn lock_holder(&mut self) -> Result<Option<LockHolder>, Error> {
        Ok(self.store.lock_holder(&self.config.history).await?)
    }

    /// Clear a lock left by another runner; see [`Store::clear_lock`].
    pub async fn clear_lock(&mut self, force: bool) -> Result<UnlockOutcome, Error> {
        Ok(self.store.clear_lock(&self.config.history, force).await?)
    }
}
