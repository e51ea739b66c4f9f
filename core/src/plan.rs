//! The planner: a pure function of the history rows, the available migrations and the user's
//! options. It decides what runs, or refuses with a typed reason, without touching a database,
//! so every rule here is unit-tested exhaustively.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::backup::BackupOptions;
use crate::error::{Error, Refusal};
use crate::history::{HistoryRow, Status};
use crate::migration::{Checksum, Migration, Migrations, Script, Version};
use crate::store::LockHolder;

/// What `status` says of one migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied, and the file matches what ran.
    Applied,
    /// Not applied yet; `migrate` will apply it.
    Pending,
    /// The last attempt failed (or was interrupted outside a transaction).
    Failed,
    /// Running now, outside a transaction: its run has not finished and a live runner holds
    /// the migration lock. (Its row says `failed` from the start, so that a crash leaves a
    /// failure behind; [`crate::Migrator::status`] tells the two apart.)
    Running,
    /// Applied, then rolled back; `migrate` will apply it again.
    RolledBack,
    /// Applied, but the file has changed since.
    Modified,
    /// Applied, but its file is gone.
    Missing,
    /// Pending, but older than the newest applied migration.
    OutOfOrder,
}

impl State {
    /// The label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Failed => "failed",
            State::Running => "running",
            State::RolledBack => "rolled back",
            State::Modified => "modified",
            State::Missing => "missing",
            State::OutOfOrder => "out of order",
        }
    }
}

/// One line of the status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    /// The version.
    pub version: Version,
    /// The name (from the file, or from the history when the file is gone).
    pub name: String,
    /// Its state.
    pub state: State,
    /// The file of the up script, when there is one on disk.
    pub origin: Option<String>,
    /// Whether a down script is available (recorded or on disk).
    pub has_down: bool,
    /// When the last run started.
    pub started_at: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// Duration of the last run in milliseconds.
    pub duration_ms: Option<i64>,
    /// The error of a failed run.
    pub error: Option<String>,
    /// Checksum recorded in the history.
    pub recorded_checksum: Option<Checksum>,
    /// Checksum of the file now.
    pub file_checksum: Option<Checksum>,
}

/// The state of every migration known to the files or the history, in version order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// One entry per version.
    pub entries: Vec<StatusEntry>,
    /// Who holds the migration lock, when someone does: a run in progress (its migration may
    /// not show as running, since a transactional one writes its row when it commits), or a
    /// stale lock the next run takes over.
    pub lock: Option<LockHolder>,
    /// The backfills not finished: running now, or interrupted and resumed by the next
    /// `migrate`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backfills: Vec<crate::backfill::BackfillRow>,
}

impl StatusReport {
    /// How many entries are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }
}

/// Options of a migrate run: [`plan_migrate`] reads what to run, the executor whether to back
/// up first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateOptions {
    /// Apply pending migrations up to and including this version only.
    pub target: Option<Version>,
    /// Apply pending migrations older than the newest applied one instead of refusing.
    pub allow_out_of_order: bool,
    /// On a database without history, run pending migrations even when they create tables it
    /// already holds, instead of refusing ([`Refusal::TablesExist`]).
    pub allow_existing_tables: bool,
    /// Back the database up before the first pending migration runs (none when nothing is
    /// pending); a failed backup applies nothing.
    pub backup: Option<BackupOptions>,
    /// Apply without linting the pending migrations first. By default the run lints them
    /// under the lock, with the rules of [`MigratorConfig::lint`](crate::MigratorConfig), and
    /// an error-level finding refuses the run before its first statement.
    pub no_lint: bool,
    /// Apply every pending migration and its history row in one transaction: all of them or
    /// none. Refused ([`Refusal::SingleTransactionUnsupported`],
    /// [`Refusal::OutsideSingleTransaction`]) on an engine without transactional DDL and when
    /// a pending migration runs outside a transaction or ends its own.
    pub single_transaction: bool,
    /// The batch size and pause of every backfill of the run, instead of its file's.
    pub backfill: crate::backfill::BackfillOverrides,
}

/// A migration the plan will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The migration.
    pub migration: Migration,
    /// The row it replaces (a failed attempt whose file changed, or a rolled-back run).
    pub previous: Option<HistoryRow>,
}

/// Something the user should know that does not stop the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// An applied migration's file is gone. Its down script is still in the history.
    MissingFile {
        /// The version.
        version: Version,
        /// Its recorded name.
        name: String,
        /// Whether the history recorded its down script, so rollback still works.
        recorded_down: bool,
    },
    /// A failed migration will be retried because its file changed.
    RetryingFailed {
        /// The version.
        version: Version,
        /// Its name.
        name: String,
    },
    /// A migration holding a backfill was interrupted, or one of its batches failed: it
    /// resumes where its progress rows say it stopped, its file unchanged.
    ResumingBackfill {
        /// The version.
        version: Version,
        /// Its name.
        name: String,
    },
    /// The database holds an index left invalid by a concurrent build, and no migration of the
    /// run builds it again.
    InvalidIndex {
        /// The index.
        index: crate::recover::InvalidIndex,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::MissingFile {
                version,
                name,
                recorded_down: true,
            } => write!(
                f,
                "migration {version} ({name}) is applied but its file is missing; its recorded down script still allows rollback"
            ),
            Warning::MissingFile { version, name, .. } => write!(
                f,
                "migration {version} ({name}) is applied but its file is missing, and it has no recorded down script: it cannot be rolled back"
            ),
            Warning::RetryingFailed { version, name } => write!(
                f,
                "migration {version} ({name}) failed before and its file has changed; retrying it"
            ),
            Warning::ResumingBackfill { version, name } => write!(
                f,
                "migration {version} ({name}) stopped before it finished; resuming it where its \
                 backfill progress says it stopped"
            ),
            Warning::InvalidIndex { index } => write!(
                f,
                "{index}; queries do not use it but writes maintain it: if no build is running, \
                 `godwit recover` explains the failed migration that left it, or drop it with \
                 `DROP INDEX CONCURRENTLY {}.{}`",
                index.schema, index.name
            ),
        }
    }
}

/// What `migrate` will do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Migrations to apply, in order.
    pub steps: Vec<Step>,
    /// Things to tell the user.
    pub warnings: Vec<Warning>,
}

/// How far `rollback` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackTarget {
    /// The newest `n` applied migrations.
    Steps(usize),
    /// Every applied migration newer than this version (which stays applied).
    To(Version),
    /// Every applied migration.
    All,
}

/// A migration the rollback plan will revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackStep {
    /// Its history row.
    pub row: HistoryRow,
    /// The down script to run.
    pub down: Script,
    /// Whether `down` came from the history table (true) or from the file on disk.
    pub recorded: bool,
    /// The recorded script runs, but the down file on disk says something else now (an
    /// edited fix is not picked up until `repair --accept-checksum` records it).
    pub file_differs: bool,
}

/// The current state of every migration.
pub fn status(rows: &[HistoryRow], migrations: &Migrations) -> StatusReport {
    let by_version: BTreeMap<Version, &HistoryRow> = rows.iter().map(|r| (r.version, r)).collect();
    let newest_applied = newest_applied(rows);
    let mut versions: Vec<Version> = by_version.keys().copied().collect();
    versions.extend(migrations.iter().map(|m| m.version));
    versions.sort();
    versions.dedup();

    let entries = versions
        .into_iter()
        .map(|version| {
            let row = by_version.get(&version).copied();
            let file = migrations.get(version);
            let pending_state = if newest_applied.is_some_and(|newest| version < newest) {
                State::OutOfOrder
            } else {
                State::Pending
            };
            let state = match (row, file) {
                (None, _) => pending_state,
                (Some(row), file) => match row.status {
                    Status::Failed => State::Failed,
                    Status::RolledBack => State::RolledBack,
                    Status::Applied => match file {
                        None => State::Missing,
                        Some(m) if m.up.checksum != row.checksum => State::Modified,
                        Some(_) => State::Applied,
                    },
                },
            };
            StatusEntry {
                version,
                name: file
                    .map(|m| m.name.clone())
                    .or_else(|| row.map(|r| r.name.clone()))
                    .unwrap_or_default(),
                state,
                origin: file.and_then(|m| m.up.path.as_ref().map(|p| p.display().to_string())),
                has_down: row.is_some_and(|r| r.down_script.is_some())
                    || file.is_some_and(|m| m.down.is_some()),
                started_at: row.map(|r| r.started_at.clone()),
                finished_at: row.and_then(|r| r.finished_at.clone()),
                duration_ms: row.and_then(|r| r.duration_ms),
                error: row.and_then(|r| r.error.clone()),
                recorded_checksum: row.map(|r| r.checksum.clone()),
                file_checksum: file.map(|m| m.up.checksum.clone()),
            }
        })
        .collect();
    StatusReport {
        entries,
        lock: None,
        backfills: Vec::new(),
    }
}

fn newest_applied(rows: &[HistoryRow]) -> Option<Version> {
    rows.iter()
        .filter(|r| r.status == Status::Applied)
        .map(|r| r.version)
        .max()
}

/// Decide what `migrate` runs, or refuse.
///
/// Refusals, in the order they are checked: an applied migration whose file changed; a failed
/// migration whose file did not change (or is gone); pending migrations older than the newest
/// applied one without `allow_out_of_order`. A missing file of an applied migration is only a
/// warning.
pub fn plan_migrate(
    rows: &[HistoryRow],
    migrations: &Migrations,
    options: &MigrateOptions,
) -> Result<Plan, Error> {
    if let Some(target) = options.target
        && migrations.get(target).is_none()
        && !rows.iter().any(|r| r.version == target)
    {
        return Err(Error::UnknownVersion { version: target });
    }
    let by_version: BTreeMap<Version, &HistoryRow> = rows.iter().map(|r| (r.version, r)).collect();
    let mut plan = Plan::default();

    for row in rows {
        let file = migrations.get(row.version);
        match (row.status, file) {
            (Status::Applied, Some(m)) if m.up.checksum != row.checksum => {
                return Err(Refusal::ChecksumMismatch {
                    version: row.version,
                    name: m.name.clone(),
                    origin: m.up.origin(),
                    recorded: row.checksum.clone(),
                    found: m.up.checksum.clone(),
                }
                .into());
            }
            (Status::Applied, None) => plan.warnings.push(Warning::MissingFile {
                version: row.version,
                name: row.name.clone(),
                recorded_down: row.down_script.is_some(),
            }),
            (Status::Failed, Some(m)) if m.up.checksum == row.checksum && !resumable(m) => {
                return Err(Refusal::Failed {
                    version: row.version,
                    name: row.name.clone(),
                    failed_at: row
                        .finished_at
                        .clone()
                        .unwrap_or_else(|| row.started_at.clone()),
                    error: row.error.clone().unwrap_or_else(|| "unknown error".into()),
                }
                .into());
            }
            (Status::Failed, None) => {
                return Err(Refusal::FailedAndMissing {
                    version: row.version,
                    name: row.name.clone(),
                }
                .into());
            }
            _ => {}
        }
    }

    let newest_applied = newest_applied(rows);
    let mut out_of_order = Vec::new();
    for migration in migrations {
        if options
            .target
            .is_some_and(|target| migration.version > target)
        {
            break;
        }
        let previous = by_version.get(&migration.version).copied();
        if previous.is_some_and(|row| row.status == Status::Applied) {
            continue;
        }
        if let Some(row) = previous.filter(|row| row.status == Status::Failed) {
            plan.warnings
                .push(if row.checksum == migration.up.checksum {
                    Warning::ResumingBackfill {
                        version: row.version,
                        name: row.name.clone(),
                    }
                } else {
                    Warning::RetryingFailed {
                        version: row.version,
                        name: row.name.clone(),
                    }
                });
        }
        if newest_applied.is_some_and(|newest| migration.version < newest) {
            out_of_order.push(migration.version);
        }
        plan.steps.push(Step {
            migration: migration.clone(),
            previous: previous.cloned(),
        });
    }
    if let (false, false, Some(newest)) = (
        out_of_order.is_empty(),
        options.allow_out_of_order,
        newest_applied,
    ) {
        return Err(Refusal::OutOfOrder {
            versions: out_of_order,
            newest_applied: newest,
        }
        .into());
    }
    Ok(plan)
}

/// Whether a failed attempt of `migration` may be run again with its file unchanged: one that
/// holds a backfill resumes where its progress rows say it stopped. Whether it really can
/// (the phase it stopped in ran in a transaction, or was the backfill) is decided when it
/// runs, from those rows.
fn resumable(migration: &Migration) -> bool {
    migration
        .operations
        .as_ref()
        .is_some_and(crate::operation::Operations::has_backfill)
}

/// Decide what `rollback` reverts, newest first, or refuse before anything runs.
pub fn plan_rollback(
    rows: &[HistoryRow],
    migrations: &Migrations,
    target: RollbackTarget,
) -> Result<Vec<RollbackStep>, Error> {
    let mut applied: Vec<&HistoryRow> = rows
        .iter()
        .filter(|r| r.status == Status::Applied)
        .collect();
    applied.sort_by_key(|r| std::cmp::Reverse(r.version));
    let chosen: Vec<&HistoryRow> = match target {
        RollbackTarget::Steps(n) => applied.into_iter().take(n).collect(),
        RollbackTarget::All => applied,
        RollbackTarget::To(version) => {
            if migrations.get(version).is_none() && !rows.iter().any(|r| r.version == version) {
                return Err(Error::UnknownVersion { version });
            }
            applied
                .into_iter()
                .filter(|r| r.version > version)
                .collect()
        }
    };
    chosen
        .into_iter()
        .map(|row| rollback_step(row, migrations))
        .collect()
}

/// How to undo the migration of `row`: its down script as recorded in the history when it ran,
/// or else the file's. An error when neither exists.
pub fn rollback_step(row: &HistoryRow, migrations: &Migrations) -> Result<RollbackStep, Error> {
    let file_down = migrations.get(row.version).and_then(|m| m.down.as_ref());
    let (down, recorded) = match &row.down_script {
        Some(sql) => {
            let path = file_down.and_then(|d| d.path.clone());
            (Script::new(sql.clone(), path)?, true)
        }
        None => match migrations.get(row.version).and_then(|m| m.down.clone()) {
            Some(script) => (script, false),
            None => {
                return Err(Error::NoDownScript {
                    version: row.version,
                    name: row.name.clone(),
                });
            }
        },
    };
    let file_differs = recorded && file_down.is_some_and(|file| file.checksum != down.checksum);
    Ok(RollbackStep {
        row: row.clone(),
        down,
        recorded,
        file_differs,
    })
}

/// A change `repair` makes to the history without running any SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairAction {
    /// Record the file's current checksum for an applied migration, keeping the old one.
    AcceptChecksum(Version),
    /// Record that a migration is not applied (after undoing it by hand).
    MarkRolledBack(Version),
    /// Record that a migration is applied (after completing it by hand).
    MarkApplied(Version),
}

/// The row `repair` writes for `action`, or why it cannot. `now` and `by` are stamped in.
pub fn plan_repair(
    rows: &[HistoryRow],
    migrations: &Migrations,
    action: RepairAction,
    now: &str,
    by: &str,
) -> Result<HistoryRow, Error> {
    let find = |version: Version| rows.iter().find(|r| r.version == version);
    match action {
        RepairAction::AcceptChecksum(version) => {
            let row = find(version).ok_or(Error::UnknownVersion { version })?;
            let file = migrations.get(version).ok_or_else(|| {
                Error::Repair(format!(
                    "migration {version} has no file, so there is no new checksum to accept; restore the file first"
                ))
            })?;
            // The down script counts too: rollback runs the recorded one, so a fixed down file
            // takes effect only once it is accepted.
            let recorded_down = row
                .down_checksum
                .clone()
                .or_else(|| row.down_script.as_deref().map(Checksum::of));
            let down_changed = file
                .down
                .as_ref()
                .is_some_and(|down| recorded_down.as_ref() != Some(&down.checksum));
            if file.up.checksum == row.checksum && !down_changed {
                return Err(Error::Repair(format!(
                    "migration {version} ({}) already matches its files; nothing to accept",
                    row.name
                )));
            }
            let mut updated = row.clone();
            let mut audit = Vec::new();
            if file.up.checksum != row.checksum {
                audit.push(format!("{} replaced {now}", row.checksum));
            }
            if down_changed {
                let old = recorded_down
                    .as_ref()
                    .map_or("none", |checksum| checksum.as_str());
                audit.push(format!("down {old} replaced {now}"));
            }
            let audit = audit.join("\n");
            updated.previous_checksums = Some(match &row.previous_checksums {
                Some(old) => format!("{old}\n{audit}"),
                None => audit,
            });
            updated.checksum = file.up.checksum.clone();
            updated.name = file.name.clone();
            if let Some(down) = &file.down {
                updated.down_checksum = Some(down.checksum.clone());
                updated.down_script = Some(down.sql.clone());
            }
            Ok(updated)
        }
        RepairAction::MarkRolledBack(version) => {
            let row = find(version).ok_or_else(|| {
                Error::Repair(format!(
                    "migration {version} has no history row; it is already not applied"
                ))
            })?;
            if row.status == Status::RolledBack {
                return Err(Error::Repair(format!(
                    "migration {version} ({}) is already rolled back",
                    row.name
                )));
            }
            let mut updated = row.clone();
            updated.status = Status::RolledBack;
            updated.finished_at = Some(now.to_string());
            updated.applied_by = Some(by.to_string());
            Ok(updated)
        }
        RepairAction::MarkApplied(version) => {
            let row = find(version);
            if row.is_some_and(|r| r.status == Status::Applied) {
                return Err(Error::Repair(format!(
                    "migration {version} is already applied"
                )));
            }
            let file = migrations.get(version);
            let (name, checksum, down) = match (file, row) {
                (Some(m), _) => (m.name.clone(), m.up.checksum.clone(), m.down.clone()),
                (None, Some(r)) => {
                    let down = r
                        .down_script
                        .clone()
                        .map(|sql| Script::new(sql, None))
                        .transpose()?;
                    (r.name.clone(), r.checksum.clone(), down)
                }
                (None, None) => return Err(Error::UnknownVersion { version }),
            };
            Ok(HistoryRow {
                version,
                name,
                checksum,
                down_checksum: down.as_ref().map(|d| d.checksum.clone()),
                down_script: down.map(|d| d.sql),
                transactional: file.is_none_or(|m| !m.up.directives.no_transaction),
                status: Status::Applied,
                started_at: row.map_or_else(|| now.to_string(), |r| r.started_at.clone()),
                finished_at: Some(now.to_string()),
                duration_ms: None,
                error: None,
                error_statement: None,
                error_line: None,
                previous_checksums: row.and_then(|r| r.previous_checksums.clone()),
                applied_by: Some(format!("{by} (repair --mark-applied)")),
                backup: row.and_then(|r| r.backup.clone()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::EmbeddedMigration;

    const M: &[EmbeddedMigration] = &[
        EmbeddedMigration {
            version: 1,
            name: "one",
            up: "CREATE TABLE one (id int);",
            down: Some("DROP TABLE one;"),
            operations: false,
        },
        EmbeddedMigration {
            version: 2,
            name: "two",
            up: "CREATE TABLE two (id int);",
            down: None,
            operations: false,
        },
        EmbeddedMigration {
            version: 3,
            name: "three",
            up: "CREATE TABLE three (id int);",
            down: Some("DROP TABLE three;"),
            operations: false,
        },
    ];

    fn migrations() -> Migrations {
        Migrations::from_embedded(M).unwrap()
    }

    fn v(n: i64) -> Version {
        Version::new(n).unwrap()
    }

    fn row(version: i64, status: Status) -> HistoryRow {
        let m = migrations();
        let file = m.get(v(version));
        HistoryRow {
            version: v(version),
            name: file.map_or_else(|| format!("gone{version}"), |m| m.name.clone()),
            checksum: file.map_or_else(|| Checksum::of("gone"), |m| m.up.checksum.clone()),
            down_checksum: file.and_then(|m| m.down.as_ref().map(|d| d.checksum.clone())),
            down_script: file.and_then(|m| m.down.as_ref().map(|d| d.sql.clone())),
            transactional: true,
            status,
            started_at: "t0".into(),
            finished_at: Some("t1".into()),
            duration_ms: Some(1),
            error: (status == Status::Failed).then(|| "boom".into()),
            error_statement: None,
            error_line: None,
            previous_checksums: None,
            applied_by: None,
            backup: None,
        }
    }

    fn versions(plan: &Plan) -> Vec<i64> {
        plan.steps
            .iter()
            .map(|s| s.migration.version.get())
            .collect()
    }

    #[test]
    fn fresh_database_applies_everything_in_order() {
        let plan = plan_migrate(&[], &migrations(), &MigrateOptions::default()).unwrap();
        assert_eq!(versions(&plan), [1, 2, 3]);
        assert!(plan.warnings.is_empty());
    }

    #[test]
    fn applied_migrations_are_skipped_and_a_second_run_is_empty() {
        let rows = [row(1, Status::Applied), row(2, Status::Applied)];
        let plan = plan_migrate(&rows, &migrations(), &MigrateOptions::default()).unwrap();
        assert_eq!(versions(&plan), [3]);
        let rows = [
            row(1, Status::Applied),
            row(2, Status::Applied),
            row(3, Status::Applied),
        ];
        let plan = plan_migrate(&rows, &migrations(), &MigrateOptions::default()).unwrap();
        assert!(plan.steps.is_empty());
    }

    #[test]
    fn target_stops_early_and_must_exist() {
        let options = MigrateOptions {
            target: Some(v(2)),
            ..Default::default()
        };
        assert_eq!(
            versions(&plan_migrate(&[], &migrations(), &options).unwrap()),
            [1, 2]
        );
        let options = MigrateOptions {
            target: Some(v(9)),
            ..Default::default()
        };
        assert!(matches!(
            plan_migrate(&[], &migrations(), &options),
            Err(Error::UnknownVersion { .. })
        ));
    }

    #[test]
    fn edited_applied_file_is_refused_with_both_checksums() {
        let mut edited = row(1, Status::Applied);
        edited.checksum = Checksum::of("something else");
        let err = plan_migrate(&[edited], &migrations(), &MigrateOptions::default()).unwrap_err();
        match err {
            Error::Refused(Refusal::ChecksumMismatch {
                version,
                recorded,
                found,
                ..
            }) => {
                assert_eq!(version, v(1));
                assert_eq!(recorded, Checksum::of("something else"));
                assert_eq!(found, migrations().get(v(1)).unwrap().up.checksum);
            }
            other => panic!("unexpected {other:?}"),
        }
        let text = plan_migrate(
            &[{
                let mut r = row(1, Status::Applied);
                r.checksum = Checksum::of("x");
                r
            }],
            &migrations(),
            &MigrateOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(text.contains("godwit repair --accept-checksum 1"), "{text}");
    }

    #[test]
    fn out_of_order_is_refused_unless_allowed() {
        let rows = [row(1, Status::Applied), row(3, Status::Applied)];
        let err = plan_migrate(&rows, &migrations(), &MigrateOptions::default()).unwrap_err();
        assert!(matches!(
            err,
            Error::Refused(Refusal::OutOfOrder { ref versions, newest_applied })
                if versions == &[v(2)] && newest_applied == v(3)
        ));
        let options = MigrateOptions {
            allow_out_of_order: true,
            ..Default::default()
        };
        assert_eq!(
            versions(&plan_migrate(&rows, &migrations(), &options).unwrap()),
            [2]
        );
        let report = status(&rows, &migrations());
        assert_eq!(report.entries[1].state, State::OutOfOrder);
    }

    #[test]
    fn missing_file_of_applied_migration_warns() {
        let rows = [row(1, Status::Applied), row(7, Status::Applied)];
        let ms = migrations();
        // Version 7 is newer than everything on disk, so 2 and 3 are out of order.
        let options = MigrateOptions {
            allow_out_of_order: true,
            ..Default::default()
        };
        let plan = plan_migrate(&rows, &ms, &options).unwrap();
        assert_eq!(versions(&plan), [2, 3]);
        assert_eq!(
            plan.warnings,
            [Warning::MissingFile {
                version: v(7),
                name: "gone7".into(),
                recorded_down: false,
            }]
        );
        assert!(
            plan.warnings[0]
                .to_string()
                .ends_with("it has no recorded down script: it cannot be rolled back")
        );
        assert_eq!(status(&rows, &ms).entries[3].state, State::Missing);
    }

    #[test]
    fn failed_migration_is_retried_only_after_the_file_changed() {
        let rows = [row(1, Status::Applied), row(2, Status::Failed)];
        let err = plan_migrate(&rows, &migrations(), &MigrateOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Refused(Refusal::Failed { .. })));
        assert!(err.to_string().contains("`godwit recover`"));

        let mut changed = row(2, Status::Failed);
        changed.checksum = Checksum::of("the broken version");
        let rows = [row(1, Status::Applied), changed];
        let plan = plan_migrate(&rows, &migrations(), &MigrateOptions::default()).unwrap();
        assert_eq!(versions(&plan), [2, 3]);
        assert!(plan.steps[0].previous.is_some());
        assert!(matches!(plan.warnings[0], Warning::RetryingFailed { .. }));

        let rows = [row(9, Status::Failed)];
        assert!(matches!(
            plan_migrate(&rows, &migrations(), &MigrateOptions::default()),
            Err(Error::Refused(Refusal::FailedAndMissing { .. }))
        ));
    }

    #[test]
    fn rolled_back_migrations_are_pending_again() {
        let rows = [row(1, Status::Applied), row(2, Status::RolledBack)];
        let plan = plan_migrate(&rows, &migrations(), &MigrateOptions::default()).unwrap();
        assert_eq!(versions(&plan), [2, 3]);
        assert_eq!(
            status(&rows, &migrations()).entries[1].state,
            State::RolledBack
        );
    }

    #[test]
    fn status_covers_every_state() {
        let mut modified = row(2, Status::Applied);
        modified.checksum = Checksum::of("old");
        let rows = [row(1, Status::Failed), modified];
        let report = status(&rows, &migrations());
        let states: Vec<State> = report.entries.iter().map(|e| e.state).collect();
        assert_eq!(states, [State::Failed, State::Modified, State::Pending]);
        assert_eq!(report.count(State::Pending), 1);
    }

    #[test]
    fn rollback_uses_the_recorded_down_script_first() {
        let mut r3 = row(3, Status::Applied);
        r3.down_script = Some("DROP TABLE three; -- as applied".into());
        let rows = [row(1, Status::Applied), r3];
        let steps = plan_rollback(&rows, &migrations(), RollbackTarget::Steps(1)).unwrap();
        assert_eq!(steps.len(), 1);
        assert!(steps[0].recorded);
        assert!(steps[0].down.sql.contains("as applied"));

        let mut r1 = row(1, Status::Applied);
        r1.down_script = None;
        let steps = plan_rollback(&[r1], &migrations(), RollbackTarget::All).unwrap();
        assert!(!steps[0].recorded);
        assert_eq!(steps[0].down.sql, "DROP TABLE one;");
    }

    #[test]
    fn rollback_refuses_before_running_when_a_down_is_missing() {
        let rows = [
            row(1, Status::Applied),
            row(2, Status::Applied),
            row(3, Status::Applied),
        ];
        let err = plan_rollback(&rows, &migrations(), RollbackTarget::Steps(2)).unwrap_err();
        assert!(matches!(err, Error::NoDownScript { version, .. } if version == v(2)));
        let steps = plan_rollback(&rows, &migrations(), RollbackTarget::To(v(2))).unwrap();
        assert_eq!(steps.len(), 1);
        assert!(matches!(
            plan_rollback(&rows, &migrations(), RollbackTarget::To(v(8))),
            Err(Error::UnknownVersion { .. })
        ));
        assert!(
            plan_rollback(&[], &migrations(), RollbackTarget::Steps(1))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn repair_accept_checksum_keeps_the_old_one() {
        let mut edited = row(1, Status::Applied);
        edited.checksum = Checksum::of("old");
        let updated = plan_repair(
            &[edited],
            &migrations(),
            RepairAction::AcceptChecksum(v(1)),
            "now",
            "me",
        )
        .unwrap();
        assert_eq!(
            updated.checksum,
            migrations().get(v(1)).unwrap().up.checksum
        );
        assert!(
            updated
                .previous_checksums
                .unwrap()
                .starts_with(Checksum::of("old").as_str())
        );
        assert!(
            plan_repair(
                &[row(1, Status::Applied)],
                &migrations(),
                RepairAction::AcceptChecksum(v(1)),
                "now",
                "me"
            )
            .is_err()
        );
        // A down script edited alone is accepted too: it is what rollback will run.
        let mut down_edited = row(1, Status::Applied);
        down_edited.down_script = Some("DROP TABLE wrong;".into());
        down_edited.down_checksum = Some(Checksum::of("DROP TABLE wrong;"));
        let updated = plan_repair(
            &[down_edited],
            &migrations(),
            RepairAction::AcceptChecksum(v(1)),
            "now",
            "me",
        )
        .unwrap();
        let file = migrations().get(v(1)).unwrap().down.clone().unwrap();
        assert_eq!(updated.down_script.as_deref(), Some(file.sql.as_str()));
        assert_eq!(updated.down_checksum, Some(file.checksum));
        assert!(updated.previous_checksums.unwrap().starts_with("down "));
    }

    #[test]
    fn repair_marks() {
        let rows = [row(2, Status::Failed)];
        let rb = plan_repair(
            &rows,
            &migrations(),
            RepairAction::MarkRolledBack(v(2)),
            "n",
            "me",
        )
        .unwrap();
        assert_eq!(rb.status, Status::RolledBack);
        let ap = plan_repair(
            &rows,
            &migrations(),
            RepairAction::MarkApplied(v(2)),
            "n",
            "me",
        )
        .unwrap();
        assert_eq!(ap.status, Status::Applied);
        assert_eq!(ap.error, None);
        let fresh = plan_repair(
            &[],
            &migrations(),
            RepairAction::MarkApplied(v(3)),
            "n",
            "me",
        )
        .unwrap();
        assert_eq!(fresh.down_script.as_deref(), Some("DROP TABLE three;"));
        assert!(
            plan_repair(
                &[],
                &migrations(),
                RepairAction::MarkRolledBack(v(3)),
                "n",
                "me"
            )
            .is_err()
        );
        assert!(
            plan_repair(
                &[],
                &migrations(),
                RepairAction::MarkApplied(v(42)),
                "n",
                "me"
            )
            .is_err()
        );
    }
}
