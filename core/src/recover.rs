//! Explaining failed migrations and the ways out of them, for `godwit recover`.
//!
//! [`diagnose`] is pure: history rows, the migration files and the invalid indexes the database
//! reports go in; for every migration left `failed` comes out what happened (which statement
//! failed, whether anything of the migration stayed applied and which statements ran) and the
//! [`RecoverAction`]s that fit. The [`Migrator`](crate::Migrator) carries an action out.

use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
pub use crate::dialect::InvalidIndex;
use crate::history::{HistoryRow, Status};
use crate::lint::OutlineStatement;
use crate::migration::{Migration, Migrations, Version};

/// How `recover` goes about its action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoverOptions {
    /// Retry without linting the migration first. By default a retry is linted like a
    /// `migrate` run, and an error-level finding refuses it.
    pub no_lint: bool,
}

/// A way out of a failed migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoverAction {
    /// Run the migration's up script again from its first statement.
    Retry,
    /// Run its down script to undo the statements that ran, then record it rolled back.
    RunDown,
    /// Record it rolled back without running SQL (after undoing it by hand); it is pending again.
    MarkRolledBack,
    /// Record it applied without running SQL (after completing it by hand).
    MarkApplied,
}

impl RecoverAction {
    /// Every action, in the order they are offered.
    pub const ALL: [RecoverAction; 4] = [
        RecoverAction::Retry,
        RecoverAction::RunDown,
        RecoverAction::MarkRolledBack,
        RecoverAction::MarkApplied,
    ];

    /// The command-line flag that asks for the action.
    pub fn flag(self) -> &'static str {
        match self {
            RecoverAction::Retry => "--retry",
            RecoverAction::RunDown => "--run-down",
            RecoverAction::MarkRolledBack => "--mark-rolled-back",
            RecoverAction::MarkApplied => "--mark-applied",
        }
    }
}

/// What a failed migration left in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// It ran in a transaction that was rolled back: nothing of it stayed.
    NothingApplied,
    /// It ran outside a transaction and stopped at a statement: the statements before it ran
    /// and stayed; the failing one and those after it did not run.
    PartlyApplied {
        /// The statements that ran, in order.
        ran: Vec<OutlineStatement>,
        /// The statements that did not run, the failing one first.
        not_run: Vec<OutlineStatement>,
    },
    /// It ran in a transaction that ended before it did: a `COMMIT` or `ROLLBACK` of its own
    /// (or the database, after the error) ended it, so what ran before the failure may be
    /// committed, and godwit cannot tell which statements stayed.
    EndedItsTransaction,
    /// It ran outside a transaction and godwit cannot tell which statements ran.
    Unknown {
        /// Why not.
        reason: String,
    },
}

/// A failed migration explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The migration.
    pub version: Version,
    /// Its name.
    pub name: String,
    /// Its up script's file, when it is on disk.
    pub origin: Option<String>,
    /// Whether it ran in a transaction.
    pub transactional: bool,
    /// When the failed attempt started.
    pub started_at: String,
    /// Who ran it.
    pub applied_by: Option<String>,
    /// The database's error, or why the attempt stopped.
    pub error: Option<String>,
    /// The line of the failing statement in the script.
    pub failed_line: Option<i64>,
    /// The start of the failing statement.
    pub failed_statement: Option<String>,
    /// Whether the process stopped (was killed, lost its connection) rather than getting an
    /// error back: the attempt never recorded its end.
    pub interrupted: bool,
    /// Whether the file changed since the attempt; `None` when the file is gone.
    pub file_changed: Option<bool>,
    /// What stayed applied.
    pub outcome: Outcome,
    /// Whether a down script exists (in the file or recorded).
    pub has_down: bool,
    /// Invalid indexes that this migration creates: left by its failed attempt and dropped
    /// before a retry.
    pub invalid_indexes: Vec<InvalidIndex>,
    /// The actions that fit, in the order they are offered.
    pub actions: Vec<RecoverAction>,
}

impl Diagnosis {
    /// Why `action` does not fit this failure, or `None` when it does.
    pub fn unfit(&self, action: RecoverAction) -> Option<String> {
        match action {
            RecoverAction::Retry if self.origin.is_none() => Some(
                "its file is missing, so there is no up script to run again; restore the file"
                    .into(),
            ),
            RecoverAction::RunDown if matches!(self.outcome, Outcome::NothingApplied) => Some(
                "it ran in a transaction that was rolled back, so nothing of it is applied and \
                 there is nothing to undo; use --retry or --mark-rolled-back"
                    .into(),
            ),
            RecoverAction::RunDown if !self.has_down => Some(
                "it has no down script; undo its statements by hand, then use --mark-rolled-back"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// The statements of `migration`'s up script in `dialect`.
fn statements(dialect: &dyn Dialect, migration: &Migration) -> Vec<OutlineStatement> {
    dialect.outline(&migration.up.sql)
}

/// The invalid indexes among `invalid` that `migration` creates, matched by index and table
/// name so an unrelated invalid index (another tool's build in progress) is never touched.
pub fn indexes_to_drop(
    dialect: &dyn Dialect,
    migration: &Migration,
    invalid: &[InvalidIndex],
) -> Vec<InvalidIndex> {
    let created: Vec<_> = statements(dialect, migration)
        .into_iter()
        .filter_map(|s| s.creates_index)
        .collect();
    invalid
        .iter()
        .filter(|index| {
            created
                .iter()
                .any(|c| c.name == index.name && c.table == index.table)
        })
        .cloned()
        .collect()
}

/// Explain every failed migration of `rows`. `dialect` is the migrations' dialect, used to cut
/// scripts into statements, and `transactional_ddl` whether it runs migrations in transactions
/// ([`Capabilities::transactional_ddl`](crate::dialect::Capabilities)); `invalid` are the
/// invalid indexes the database reports.
pub fn diagnose(
    rows: &[HistoryRow],
    migrations: &Migrations,
    dialect: &dyn Dialect,
    transactional_ddl: bool,
    invalid: &[InvalidIndex],
) -> Vec<Diagnosis> {
    rows.iter()
        .filter(|row| row.status == Status::Failed)
        .map(|row| {
            let file = migrations.get(row.version);
            diagnose_row(row, file, dialect, transactional_ddl, invalid)
        })
        .collect()
}

fn diagnose_row(
    row: &HistoryRow,
    file: Option<&Migration>,
    dialect: &dyn Dialect,
    transactional_ddl: bool,
    invalid: &[InvalidIndex],
) -> Diagnosis {
    // The attempt writes its end time when the database answers with an error; a row without
    // one was written before a non-transactional migration started and never finished.
    let interrupted = row.finished_at.is_none();
    let file_changed = file.map(|m| m.up.checksum != row.checksum);
    // The executor records a migration that ended its own transaction as not transactional;
    // its unchanged file says it was run in one.
    let ended_its_transaction = !row.transactional
        && !interrupted
        && transactional_ddl
        && file.is_some_and(|m| m.up.checksum == row.checksum && !m.up.directives.no_transaction);
    let outcome = if row.transactional {
        Outcome::NothingApplied
    } else if ended_its_transaction {
        Outcome::EndedItsTransaction
    } else {
        partial_outcome(row, file, dialect, interrupted)
    };
    let invalid_indexes = file.map_or_else(Vec::new, |m| indexes_to_drop(dialect, m, invalid));
    let mut diagnosis = Diagnosis {
        version: row.version,
        name: row.name.clone(),
        origin: file.map(|m| m.up.origin()),
        transactional: row.transactional,
        started_at: row.started_at.clone(),
        applied_by: row.applied_by.clone(),
        error: row.error.clone(),
        failed_line: row.error_line,
        failed_statement: row.error_statement.clone(),
        interrupted,
        file_changed,
        outcome,
        has_down: row.down_script.is_some() || file.is_some_and(|m| m.down.is_some()),
        invalid_indexes,
        actions: Vec::new(),
    };
    diagnosis.actions = RecoverAction::ALL
        .into_iter()
        .filter(|action| diagnosis.unfit(*action).is_none())
        .collect();
    diagnosis
}

fn partial_outcome(
    row: &HistoryRow,
    file: Option<&Migration>,
    dialect: &dyn Dialect,
    interrupted: bool,
) -> Outcome {
    let unknown = |reason: &str| Outcome::Unknown {
        reason: reason.to_string(),
    };
    if interrupted {
        return unknown(
            "the process stopped while it ran; any of its statements may have run: compare the \
             schema with the script",
        );
    }
    let Some(file) = file else {
        return unknown("its file is missing, so its statements cannot be listed");
    };
    if file.up.checksum != row.checksum {
        return unknown(
            "its file changed since the attempt, so the statements that ran are no longer \
             known: compare the schema with the script that ran",
        );
    }
    let Some(line) = row.error_line.and_then(|l| usize::try_from(l).ok()) else {
        return unknown("the database did not say which statement failed");
    };
    let (ran, not_run) = statements(dialect, file)
        .into_iter()
        .partition(|statement| statement.line < line);
    Outcome::PartlyApplied { ran, not_run }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::test_support::Script;
    use crate::history::HistoryRow;

    /// A dialect with the lint's generic grammar, which reads the scripts here as the
    /// engines do.
    const GENERIC: Script = Script { checks: false };
    use crate::migration::{Checksum, EmbeddedMigration};

    const SCRIPT: &str = "-- godwit:no-transaction\n\
        CREATE INDEX CONCURRENTLY users_email ON users (email);\n\
        CREATE INDEX CONCURRENTLY \"Orders_Day\" ON orders (day);\n\
        ALTER TABLE users ADD COLUMN x int;\n";

    fn migrations(down: Option<&'static str>) -> Migrations {
        Migrations::from_embedded(&[EmbeddedMigration {
            version: 7,
            name: "indexes",
            up: SCRIPT,
            down,
            operations: false,
        }])
        .unwrap()
    }

    fn failed(transactional: bool) -> HistoryRow {
        HistoryRow {
            version: Version::new(7).unwrap(),
            name: "indexes".into(),
            checksum: Checksum::of(SCRIPT),
            down_checksum: None,
            down_script: None,
            transactional,
            status: Status::Failed,
            started_at: "2026-11-25T10:00:00.000Z".into(),
            finished_at: Some("2026-11-25T10:00:01.000Z".into()),
            duration_ms: Some(1000),
            error: Some("could not create unique index".into()),
            error_statement: Some("CREATE INDEX CONCURRENTLY \"Orders_Day\"".into()),
            error_line: Some(3),
            previous_checksums: None,
            applied_by: None,
            backup: None,
        }
    }

    fn index(name: &str, table: &str) -> InvalidIndex {
        InvalidIndex {
            schema: "public".into(),
            name: name.into(),
            table: table.into(),
        }
    }

    #[test]
    fn a_transactional_failure_applied_nothing_and_cannot_run_down() {
        let diagnosis = diagnose(
            &[failed(true)],
            &migrations(Some("DROP INDEX x;")),
            &GENERIC,
            true,
            &[],
        );
        assert_eq!(diagnosis.len(), 1);
        assert_eq!(diagnosis[0].outcome, Outcome::NothingApplied);
        assert_eq!(
            diagnosis[0].actions,
            [
                RecoverAction::Retry,
                RecoverAction::MarkRolledBack,
                RecoverAction::MarkApplied
            ]
        );
        assert!(diagnosis[0].unfit(RecoverAction::RunDown).is_some());
    }

    #[test]
    fn a_partial_failure_lists_what_ran_and_offers_its_down_script() {
        let diagnosis = &diagnose(
            &[failed(false)],
            &migrations(Some("DROP INDEX CONCURRENTLY users_email;")),
            &GENERIC,
            true,
            &[],
        )[0];
        let Outcome::PartlyApplied { ran, not_run } = &diagnosis.outcome else {
            panic!("expected a partial outcome, got {:?}", diagnosis.outcome);
        };
        assert_eq!(ran.iter().map(|s| s.line).collect::<Vec<_>>(), [2]);
        assert_eq!(not_run.iter().map(|s| s.line).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(diagnosis.actions, RecoverAction::ALL);
        assert_eq!(diagnosis.file_changed, Some(false));
    }

    #[test]
    fn a_migration_that_ended_its_own_transaction_may_be_applied() {
        const ENDS: &str = "CREATE TABLE a (x int);\n\
            -- godwit:allow explicit-transaction\n\
            COMMIT;\n\
            CREATE TABLE b (x int);\n\
            SELECT * FROM missing;\n";
        let migrations = Migrations::from_embedded(&[EmbeddedMigration {
            version: 7,
            name: "indexes",
            up: ENDS,
            down: Some("DROP TABLE IF EXISTS b; DROP TABLE IF EXISTS a;"),
            operations: false,
        }])
        .unwrap();
        // The executor records it as not transactional.
        let mut row = failed(false);
        row.checksum = Checksum::of(ENDS);
        row.error_line = Some(5);
        let d = &diagnose(&[row.clone()], &migrations, &GENERIC, true, &[])[0];
        assert_eq!(d.outcome, Outcome::EndedItsTransaction);
        assert_eq!(d.actions, RecoverAction::ALL);
        // The same row from an engine without transactional DDL is an ordinary partial run.
        let d = &diagnose(&[row], &migrations, &GENERIC, false, &[])[0];
        assert!(
            matches!(d.outcome, Outcome::PartlyApplied { .. }),
            "{:?}",
            d.outcome
        );
    }

    #[test]
    fn without_a_down_script_run_down_is_not_offered() {
        let diagnosis = &diagnose(&[failed(false)], &migrations(None), &GENERIC, true, &[])[0];
        assert!(!diagnosis.actions.contains(&RecoverAction::RunDown));
        assert!(
            diagnosis
                .unfit(RecoverAction::RunDown)
                .unwrap()
                .contains("no down script")
        );
    }

    #[test]
    fn interrupted_changed_or_missing_files_make_the_outcome_unknown() {
        let mut interrupted = failed(false);
        interrupted.finished_at = None;
        let d = &diagnose(&[interrupted], &migrations(None), &GENERIC, true, &[])[0];
        assert!(d.interrupted);
        assert!(matches!(d.outcome, Outcome::Unknown { .. }));

        let mut changed = failed(false);
        changed.checksum = Checksum::of("something else");
        let d = &diagnose(&[changed], &migrations(None), &GENERIC, true, &[])[0];
        assert_eq!(d.file_changed, Some(true));
        assert!(matches!(d.outcome, Outcome::Unknown { .. }));

        let mut gone = failed(false);
        gone.version = Version::new(8).unwrap();
        let d = &diagnose(&[gone], &migrations(None), &GENERIC, true, &[])[0];
        assert_eq!(d.file_changed, None);
        assert!(matches!(d.outcome, Outcome::Unknown { .. }));
        assert!(!d.actions.contains(&RecoverAction::Retry));
    }

    #[test]
    fn only_invalid_indexes_the_migration_creates_are_dropped() {
        let invalid = [
            index("users_email", "users"),
            index("Orders_Day", "orders"),
            index("orders_day", "orders"),
            index("users_email", "other_table"),
            index("unrelated", "users"),
        ];
        let dropped = indexes_to_drop(&GENERIC, migrations(None).iter().next().unwrap(), &invalid);
        assert_eq!(
            dropped,
            [index("users_email", "users"), index("Orders_Day", "orders")]
        );
    }

    #[test]
    fn applied_and_rolled_back_rows_need_no_recovery() {
        let mut applied = failed(true);
        applied.status = Status::Applied;
        assert!(diagnose(&[applied], &migrations(None), &GENERIC, true, &[]).is_empty());
    }
}
