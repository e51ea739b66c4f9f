//! Running a migration that holds backfills: its phases one after the other, each committed
//! on its own, recorded so that a crash anywhere leaves a state the next `migrate` resumes.
//!
//! The migration is recorded as interrupted before its first phase, as a no-transaction
//! migration is. Schema steps run as one script each, in a transaction where the engine
//! allows one; the steps before a backfill commit with the backfill's progress row, the steps
//! after the last one with the migration's `applied` row. A backfill's batches each commit with
//! their progress ([`crate::backfill::run`]). So the progress rows always say which phases are
//! done ([`crate::backfill::resume_point`]).

use std::time::Instant;

use super::{Completed, Event, Migrator, Prepared, elapsed_ms, end_script_transaction};
use crate::backfill::{self, BackfillOverrides, BackfillPlan, BackfillRow};
use crate::error::Error;
use crate::history::{self, HistoryRow, Status};
use crate::migration::{Migration, Script, Version};
use crate::operation::Phase;
use crate::store::StatementError;

impl Migrator {
    /// Apply a prepared migration: as its one script, or in its phases when it holds a
    /// backfill.
    pub(super) async fn run_prepared(
        &mut self,
        prepared: Prepared,
        previous: Option<&HistoryRow>,
        backup: Option<&str>,
        applied: Vec<Version>,
        overrides: BackfillOverrides,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<Completed, Error> {
        if prepared.phases.is_empty() {
            return self
                .apply(&prepared.migration, previous, backup, applied, on_event)
                .await;
        }
        self.apply_phased(prepared, previous, backup, applied, overrides, on_event)
            .await
    }

    async fn apply_phased(
        &mut self,
        prepared: Prepared,
        previous: Option<&HistoryRow>,
        backup: Option<&str>,
        applied: Vec<Version>,
        overrides: BackfillOverrides,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<Completed, Error> {
        let Prepared {
            migration,
            phases,
            progress,
        } = prepared;
        let version = migration.version;
        on_event(&Event::Applying {
            version,
            name: migration.name.clone(),
            transactional: false,
        });
        let table = self.config.history.clone();
        let mut row = self.new_row(&migration, previous, backup, false);
        let start = Instant::now();
        let mut pending = row.clone();
        pending.status = Status::Failed;
        pending.error = Some(
            "interrupted: the process stopped while this migration ran its backfill or the \
             schema steps around it; `godwit migrate` resumes it"
                .into(),
        );
        backfill::ensure(self.store.as_mut(), &table).await?;
        let mut progress = match progress {
            Some(rows) => rows,
            None => {
                // A run from the start: rows of an earlier attempt, rolled back or recovered
                // since, belong to it.
                backfill::clear(self.store.as_mut(), &table, version).await?;
                Vec::new()
            }
        };
        history::write(self.store.as_mut(), &table, &pending).await?;

        let outcome = self
            .run_phases(
                &migration,
                phases,
                &mut progress,
                &mut row,
                start,
                overrides,
                on_event,
            )
            .await;
        match outcome {
            Ok(()) => {
                let duration_ms = elapsed_ms(start);
                on_event(&Event::Applied {
                    version,
                    name: migration.name.clone(),
                    duration_ms,
                });
                Ok(Completed {
                    version,
                    name: migration.name.clone(),
                    duration_ms,
                })
            }
            Err(cause) => {
                row.finished_at = Some(history::now_rfc3339());
                row.duration_ms = Some(i64::try_from(elapsed_ms(start)).unwrap_or(i64::MAX));
                Err(self.record_failure(&migration, row, cause, applied).await)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_phases(
        &mut self,
        migration: &Migration,
        phases: Vec<Phase>,
        progress: &mut Vec<BackfillRow>,
        row: &mut HistoryRow,
        start: Instant,
        overrides: BackfillOverrides,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<(), StatementError> {
        let table = self.config.history.clone();
        let version = migration.version;
        let mut phases = phases.into_iter().peekable();
        while let Some(phase) = phases.next() {
            match phase {
                Phase::Script(script) => {
                    // The backfill after these steps starts with them, unless it started in
                    // the attempt this run resumes.
                    let next = match phases.peek() {
                        Some(Phase::Backfill(plan))
                            if !progress.iter().any(|r| r.step == plan.step as i64) =>
                        {
                            Some(plan.clone())
                        }
                        _ => None,
                    };
                    let last = phases.peek().is_none();
                    if last {
                        row.finished_at = Some(history::now_rfc3339());
                        row.duration_ms =
                            Some(i64::try_from(elapsed_ms(start)).unwrap_or(i64::MAX));
                    }
                    let recorded = self
                        .run_schema_phase(
                            version,
                            &script,
                            next.as_ref(),
                            last.then_some(&*row),
                            on_event,
                        )
                        .await?;
                    progress.extend(recorded);
                }
                Phase::Backfill(mut plan) => {
                    plan.batch_size = overrides.batch_size.unwrap_or(plan.batch_size);
                    plan.pause = overrides.pause.unwrap_or(plan.pause);
                    let at = progress.iter().position(|r| r.step == plan.step as i64);
                    let current = match at {
                        Some(at) => progress.remove(at),
                        None => backfill::start(self.store.as_mut(), &table, version, &plan)
                            .await
                            .map_err(|e| e.into_statement_error())?,
                    };
                    let mut report = |progress| on_event(&Event::Backfill { progress });
                    backfill::run(
                        self.store.as_mut(),
                        &table,
                        version,
                        &plan,
                        current,
                        &mut report,
                    )
                    .await
                    .map_err(|failed| batch_failure(&plan, failed))?;
                }
            }
        }
        Ok(())
    }

    /// Run the schema steps of one phase, in a transaction where the engine allows one, and
    /// commit with them the progress row of the backfill `next` that follows, or the
    /// migration's `applied` row when they are its `last` phase. Returns the progress row
    /// started.
    async fn run_schema_phase(
        &mut self,
        version: Version,
        script: &Script,
        next: Option<&BackfillPlan>,
        last: Option<&HistoryRow>,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<Option<BackfillRow>, StatementError> {
        let table = self.config.history.clone();
        let transactional = super::transactional_script(self.store.dialect(), script);
        let statements = !script.sql.trim().is_empty();
        if transactional {
            self.store
                .begin()
                .await
                .map_err(|e| e.into_statement_error())?;
        }
        let ran = async {
            if statements {
                self.run_script(version, &script.sql, on_event).await?;
            }
            let started = match next {
                Some(plan) => {
                    Some(backfill::start(self.store.as_mut(), &table, version, plan).await?)
                }
                None => None,
            };
            match (last, transactional) {
                (Some(row), true) => {
                    // `false`: the script ended the transaction itself; the row goes on its own.
                    if !history::write_and_commit(self.store.as_mut(), &table, row).await? {
                        history::write(self.store.as_mut(), &table, row).await?;
                    }
                }
                (Some(row), false) => history::write(self.store.as_mut(), &table, row).await?,
                (None, true) => self.store.commit().await?,
                (None, false) => {}
            }
            Ok::<_, crate::store::StoreError>(started)
        }
        .await;
        match ran {
            Ok(started) => Ok(started),
            Err(error) => {
                if transactional {
                    if let Err(rollback_error) = self.store.rollback().await {
                        tracing::warn!(%rollback_error, "rollback after a failed phase failed");
                    }
                } else {
                    end_script_transaction(self.store.as_mut()).await;
                }
                Err(error.into_statement_error())
            }
        }
    }
}

/// The failure of a backfill's batch, saying that the batches before it stay done.
fn batch_failure(plan: &BackfillPlan, failed: backfill::BatchError) -> StatementError {
    let mut error = failed.error.into_statement_error();
    error
        .statement
        .get_or_insert(crate::store::excerpt(&failed.statement, 200));
    error.message = format!(
        "{} (in a batch of the backfill of {}; the batches before it are done and recorded, and \
         `godwit migrate` resumes after them once the cause is fixed)",
        error.message, plan.table
    );
    error
}
