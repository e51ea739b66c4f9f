//! The conformance kit for godwit dialects: the behaviour every backend must show, written
//! once over `dyn Store` and run by each dialect crate against a real database of its engine.
//!
//! A dialect crate implements [`Harness`] (a fresh, empty database per case, and the few
//! statements that must be written in its engine's SQL, [`Fixtures`]) and instantiates the
//! whole suite with one line in a test file:
//!
//! ```text
//! godwit_dialect_tests::suite!(my_dialect_harness());
//! ```
//!
//! Each case is one `#[test]`. The suite covers the versioned workflow (apply, targets,
//! rollback, repair of edited files, out-of-order, failures and what they leave), the
//! migration lock and a second runner, crash visibility of migrations that ran outside a
//! transaction, the history table's layout upgrades and names, backups, the lint gate, and
//! the declarative front doors (push with and without consent, renames, generate, verify,
//! check and diff agreeing on one schema). A new dialect passes it unchanged, or says in its
//! own crate which case it cannot pass and why.
#![warn(missing_docs)]

use std::path::Path;
use std::sync::Arc;

mod backfill;
mod operations;
#[doc(hidden)]
pub use backfill::*;
#[doc(hidden)]
pub use operations::*;

use std::path::PathBuf;
use std::time::Duration;

use godwit_core::declarative::{
    self, Answer, Caller, Check, Consent, DeclarativeError, Diff, Generate, GenerateOptions,
    Naming, PossibleRename, Push, PushOptions, PushReport, SchemaSource, Side, Stage, Verification,
    Verify,
};
use godwit_core::diff::Change;
use godwit_core::history;
use godwit_core::lint::Severity;
use godwit_core::plan::MigrateOptions;
use godwit_core::{
    BackupOptions, Checksum, Error, Event, HistoryRow, HistoryTable, LockOwner, Migrations,
    Migrator, MigratorConfig, Outcome, RecoverAction, RecoverOptions, Refusal, RepairAction,
    RollbackTarget, RunReport, State, Status, Store, Value, Version,
};
/// What a dialect gives the kit: fresh databases and its engine's spelling of a few
/// statements.
pub trait Harness: Send + Sync + 'static {
    /// A fresh, empty database for one case. `dir` is the case's own temporary folder (a
    /// file-based engine may put its database there); the database lives as long as the
    /// returned value.
    fn fresh(&self, dir: &Path) -> Box<dyn Fresh>;

    /// The statements the cases need in this engine's SQL.
    fn fixtures(&self) -> Fixtures;
}

/// A fresh database of a [`Harness`].
#[async_trait::async_trait]
pub trait Fresh: Send + Sync {
    /// A new connection to it. Cases open several, as separate runners would.
    async fn connect(&self) -> Box<dyn Store>;
}

/// The statements the cases need written in the engine's own SQL.
#[derive(Debug, Clone, Copy)]
pub struct Fixtures {
    /// A query of one text column listing every table and view, godwit's own included,
    /// schema-qualified (`schema.name`) where the engine has schemas.
    pub relations: &'static str,
    /// A migration that creates tables `item (id, name)` and `audit (item_id, note)`, a
    /// procedural body (a trigger on `item` inserting two rows into `audit`, one note holding
    /// a semicolon) and inserts one item named `x;y`, so a script splitter that cuts inside a
    /// body or a string fails it.
    pub procedural: &'static str,
    /// A migration starting with `-- godwit:no-transaction` that indexes column `v` of table
    /// `t (id, v)` as index `t_v` and then runs a statement the engine refuses inside a
    /// transaction; without the directive it must fail.
    pub outside_transaction: &'static str,
    /// A schema (namespace) the history table can be put in, where the engine has them.
    pub history_schema: Option<&'static str>,
    /// A name an unqualified history table would collide with in the system catalog, and the
    /// words the refusal names its holder with (`("pg_class", "the table pg_catalog.pg_class")`).
    pub system_name: Option<(&'static str, &'static str)>,
    /// Count queries and their expected results, checked after a layout-1 history table was
    /// upgraded (how the engine stores the history's times).
    pub upgraded_history: &'static [(&'static str, i64)],
}

/// Run one case on a fresh database of `harness`, on a runtime of its own.
pub fn run<F, Fut>(harness: impl Harness, case: F)
where
    F: FnOnce(Case) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(case(Case::new(Arc::new(harness))));
}

/// Every case of the kit as a `#[test]` over the [`Harness`] that `$harness` evaluates to.
#[macro_export]
macro_rules! suite {
    ($harness:expr) => {
        $crate::__cases!($harness; CASES);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cases {
    ($harness:expr; CASES) => {
        $crate::__cases!($harness;
            apply_all_then_again_is_a_no_op,
            migrate_to_a_target,
            rollback_by_steps_and_by_target,
            rollback_works_after_the_file_is_deleted,
            rollback_without_down_refuses_before_running_anything,
            edited_file_is_refused_then_accepted_through_repair,
            crlf_only_change_is_accepted,
            out_of_order_is_refused_then_allowed,
            failing_migration_leaves_a_failed_row_and_the_schema_unchanged,
            procedural_bodies_run_whole,
            no_transaction_migration_runs_outside_a_transaction,
            failed_no_transaction_migration_is_visible,
            failed_group_in_a_no_transaction_migration_is_recorded,
            concurrent_runner_waits_for_the_lock,
            a_layout_1_history_is_read_as_is_and_upgraded_by_migrate,
            a_layout_1_history_is_upgraded_by_rollback,
            a_newer_history_layout_is_refused,
            a_backup_comes_before_the_first_migration_and_is_recorded,
            a_history_name_held_by_something_else_is_refused,
            a_history_table_in_a_schema_stays_in_it,
            a_migration_that_ends_its_transaction_then_fails_may_be_applied,
            a_migration_that_ends_its_transaction_and_succeeds_is_recorded,
            the_lint_refuses_before_the_first_statement_unless_turned_off,
            a_retry_is_linted_unless_turned_off,
            each_statement_is_reported_as_it_starts,
            a_push_needs_consent_to_destroy_data,
            a_push_asks_whether_a_drop_and_create_is_a_rename,
            generate_verify_check_and_diff_agree,
            pending_migrations_commit_together_when_asked,
            a_run_with_nothing_pending_takes_no_lock,
            every_operation_rolls_back_to_the_schema_before,
            a_dropped_column_comes_back_with_its_default_constraints_and_index,
            operations_that_do_not_fit_change_nothing,
            a_dry_run_renders_operations_and_changes_nothing,
            a_builder_migration_runs_beside_sql_migrations,
            a_concurrent_index_runs_outside_the_transaction,
            verify_and_check_render_operations_as_migrate_does,
            a_backfill_updates_every_row_once_and_rolls_back_with_its_steps,
            a_failed_batch_resumes_after_the_batches_done,
            a_backfill_of_a_table_without_a_key_is_refused,
        );
    };
    ($harness:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::run($harness, $crate::$case);
            }
        )*
    };
}

/// One case's world: a fresh database and an empty migrations directory.
#[allow(missing_debug_implementations)]
pub struct Case {
    harness: Arc<dyn Harness>,
    database: Box<dyn Fresh>,
    dir: tempfile::TempDir,
}

impl Case {
    fn new(harness: Arc<dyn Harness>) -> Case {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = harness.fresh(dir.path());
        std::fs::create_dir(dir.path().join("migrations")).expect("migrations dir");
        Case {
            harness,
            database,
            dir,
        }
    }

    /// Another world of the same dialect.
    fn another(&self) -> Case {
        Case::new(Arc::clone(&self.harness))
    }

    fn fixtures(&self) -> Fixtures {
        self.harness.fixtures()
    }

    async fn store(&self) -> Box<dyn Store> {
        self.database.connect().await
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join("migrations").join(file)
    }

    fn write(&self, file: &str, sql: &str) {
        std::fs::write(self.path(file), sql).expect("write migration");
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.path(file)).expect("remove migration");
    }

    async fn migrator(&self) -> Migrator {
        self.migrator_with(HistoryTable::default()).await
    }

    /// A migrator keeping its history in `history`.
    async fn migrator_with(&self, history: HistoryTable) -> Migrator {
        let migrations =
            Migrations::from_dir(&self.dir.path().join("migrations")).expect("load migrations");
        let mut config = MigratorConfig::new("godwit behaviour suite");
        config.lock_timeout = Duration::from_secs(10);
        config.history = history;
        Migrator::new(self.store().await, migrations, config)
    }

    /// Every table and view of the database ([`Fixtures::relations`]).
    async fn relations(&self) -> Vec<String> {
        let sql = self.fixtures().relations;
        let mut store = self.store().await;
        let rows = store.query(sql, &[]).await.expect("query");
        rows.into_iter()
            .map(|row| match &row[0] {
                Value::Text(name) => name.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    async fn migrate(&self, options: MigrateOptions) -> Result<Vec<i64>, Error> {
        let report = self.migrate_reporting(&options).await?;
        Ok(report.completed.iter().map(|c| c.version.get()).collect())
    }

    /// Run `migrate`, which must fail in a migration that did not run in one transaction. The
    /// lint is off: it would refuse the transaction control such a migration holds.
    async fn migrate_fails_outside_a_transaction(&self) {
        let no_lint = MigrateOptions {
            no_lint: true,
            ..MigrateOptions::default()
        };
        let err = self.migrate(no_lint).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::MigrationFailed {
                    transactional: false,
                    ..
                }
            ),
            "{err}"
        );
    }

    async fn migrate_reporting(&self, options: &MigrateOptions) -> Result<RunReport, Error> {
        self.migrator().await.migrate(options, &mut |_| {}).await
    }

    async fn rollback(&self, target: RollbackTarget) -> Result<Vec<i64>, Error> {
        let report = self.migrator().await.rollback(target, &mut |_| {}).await?;
        Ok(report.completed.iter().map(|c| c.version.get()).collect())
    }

    async fn states(&self) -> Vec<(i64, State)> {
        let report = self.migrator().await.status().await.expect("status");
        report
            .entries
            .iter()
            .map(|e| (e.version.get(), e.state))
            .collect()
    }

    async fn history(&self) -> Vec<HistoryRow> {
        self.migrator().await.history().await.expect("history")
    }

    async fn has_table(&self, name: &str) -> bool {
        let mut store = self.store().await;
        let (sql, params) = store.dialect().table_exists_query(None, name);
        !store.query(&sql, &params).await.expect("query").is_empty()
    }

    async fn count(&self, sql: &str) -> i64 {
        match self.value(sql).await {
            Value::Int(n) => n,
            other => panic!("{sql} returned {other:?}"),
        }
    }

    /// The first column of the first row of `sql`.
    async fn value(&self, sql: &str) -> Value {
        let mut store = self.store().await;
        let rows = store.query(sql, &[]).await.expect("query");
        rows.into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .unwrap_or_else(|| panic!("{sql} returned no row"))
    }

    async fn execute(&self, sql: &str) {
        self.store()
            .await
            .execute_script(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Three ordinary migrations: tables a, b, c, each with a down script.
    fn write_abc(&self) {
        for (version, table) in [(1, "a"), (2, "b"), (3, "c")] {
            self.write(
                &format!("{version}_create_{table}.up.sql"),
                &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY, note TEXT);\n"),
            );
            self.write(
                &format!("{version}_create_{table}.down.sql"),
                &format!("DROP TABLE {table};\n"),
            );
        }
    }
}

fn v(n: i64) -> Version {
    Version::new(n).expect("positive version")
}

fn to(n: i64) -> MigrateOptions {
    MigrateOptions {
        target: Some(v(n)),
        ..MigrateOptions::default()
    }
}

#[doc(hidden)]
pub async fn apply_all_then_again_is_a_no_op(case: Case) {
    case.write_abc();
    assert_eq!(
        case.migrate(MigrateOptions::default()).await.unwrap(),
        [1, 2, 3]
    );
    assert!(case.has_table("a").await && case.has_table("b").await && case.has_table("c").await);
    assert_eq!(
        case.migrate(MigrateOptions::default()).await.unwrap(),
        Vec::<i64>::new()
    );
    let history = case.history().await;
    assert_eq!(history.len(), 3);
    assert!(
        history
            .iter()
            .all(|r| r.status == Status::Applied && r.duration_ms.is_some())
    );
    assert_eq!(
        case.states().await,
        [
            (1, State::Applied),
            (2, State::Applied),
            (3, State::Applied)
        ]
    );
}

#[doc(hidden)]
pub async fn migrate_to_a_target(case: Case) {
    case.write_abc();
    assert_eq!(case.migrate(to(2)).await.unwrap(), [1, 2]);
    assert!(!case.has_table("c").await);
    assert_eq!(
        case.states().await,
        [
            (1, State::Applied),
            (2, State::Applied),
            (3, State::Pending)
        ]
    );
    assert!(matches!(
        case.migrate(to(42)).await,
        Err(Error::UnknownVersion { .. })
    ));
    assert_eq!(case.migrate(MigrateOptions::default()).await.unwrap(), [3]);
}

#[doc(hidden)]
pub async fn rollback_by_steps_and_by_target(case: Case) {
    case.write_abc();
    case.migrate(MigrateOptions::default()).await.unwrap();
    assert_eq!(case.rollback(RollbackTarget::Steps(1)).await.unwrap(), [3]);
    assert!(!case.has_table("c").await);
    assert_eq!(case.migrate(MigrateOptions::default()).await.unwrap(), [3]);
    assert_eq!(
        case.rollback(RollbackTarget::To(v(1))).await.unwrap(),
        [3, 2]
    );
    assert!(case.has_table("a").await && !case.has_table("b").await);
    assert_eq!(
        case.states().await,
        [
            (1, State::Applied),
            (2, State::RolledBack),
            (3, State::RolledBack)
        ]
    );
    // Rolled-back rows stay for audit.
    assert_eq!(case.history().await.len(), 3);
    assert_eq!(case.rollback(RollbackTarget::All).await.unwrap(), [1]);
    assert!(!case.has_table("a").await);
    assert_eq!(
        case.rollback(RollbackTarget::Steps(1)).await.unwrap(),
        Vec::<i64>::new()
    );
}

#[doc(hidden)]
pub async fn rollback_works_after_the_file_is_deleted(case: Case) {
    case.write_abc();
    case.migrate(MigrateOptions::default()).await.unwrap();
    case.remove("3_create_c.up.sql");
    case.remove("3_create_c.down.sql");
    assert_eq!(
        case.states().await,
        [
            (1, State::Applied),
            (2, State::Applied),
            (3, State::Missing)
        ]
    );
    assert_eq!(case.rollback(RollbackTarget::Steps(1)).await.unwrap(), [3]);
    assert!(!case.has_table("c").await);
}

#[doc(hidden)]
pub async fn rollback_without_down_refuses_before_running_anything(case: Case) {
    case.write_abc();
    case.write("4_d.up.sql", "CREATE TABLE d (id INTEGER);");
    case.migrate(MigrateOptions::default()).await.unwrap();
    let err = case.rollback(RollbackTarget::Steps(2)).await.unwrap_err();
    assert!(
        matches!(err, Error::NoDownScript { version, .. } if version == v(4)),
        "{err}"
    );
    // Nothing ran: c is still there.
    assert!(case.has_table("c").await && case.has_table("d").await);
}

#[doc(hidden)]
pub async fn edited_file_is_refused_then_accepted_through_repair(case: Case) {
    case.write_abc();
    case.migrate(MigrateOptions::default()).await.unwrap();
    case.write(
        "2_create_b.up.sql",
        "CREATE TABLE b (id INTEGER PRIMARY KEY, note TEXT, extra TEXT);\n",
    );
    case.write("4_d.up.sql", "CREATE TABLE d (id INTEGER);");
    let err = case.migrate(MigrateOptions::default()).await.unwrap_err();
    assert!(
        matches!(err, Error::Refused(godwit_core::Refusal::ChecksumMismatch { version, .. }) if version == v(2)),
        "{err}"
    );
    assert!(err.to_string().contains("repair --accept-checksum 2"));
    assert!(
        !case.has_table("d").await,
        "a refused run must change nothing"
    );
    assert_eq!(case.states().await[1], (2, State::Modified));

    let row = case
        .migrator()
        .await
        .repair(RepairAction::AcceptChecksum(v(2)))
        .await
        .unwrap();
    assert!(row.previous_checksums.is_some());
    assert_eq!(case.migrate(MigrateOptions::default()).await.unwrap(), [4]);
}

#[doc(hidden)]
pub async fn crlf_only_change_is_accepted(case: Case) {
    case.write_abc();
    case.migrate(MigrateOptions::default()).await.unwrap();
    case.write(
        "1_create_a.up.sql",
        "CREATE TABLE a (id INTEGER PRIMARY KEY, note TEXT);\r\n",
    );
    assert_eq!(
        case.migrate(MigrateOptions::default()).await.unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(case.states().await[0], (1, State::Applied));
}

#[doc(hidden)]
pub async fn out_of_order_is_refused_then_allowed(case: Case) {
    case.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);");
    case.write("3_c.up.sql", "CREATE TABLE c (id INTEGER);");
    case.migrate(MigrateOptions::default()).await.unwrap();
    case.write("2_b.up.sql", "CREATE TABLE b (id INTEGER);");
    assert_eq!(case.states().await[1], (2, State::OutOfOrder));
    let err = case.migrate(MigrateOptions::default()).await.unwrap_err();
    assert!(
        matches!(err, Error::Refused(godwit_core::Refusal::OutOfOrder { ref versions, .. }) if versions == &[v(2)]),
        "{err}"
    );
    assert!(!case.has_table("b").await);
    let allowed = MigrateOptions {
        allow_out_of_order: true,
        ..MigrateOptions::default()
    };
    assert_eq!(case.migrate(allowed).await.unwrap(), [2]);
    assert!(case.has_table("b").await);
}

#[doc(hidden)]
pub async fn failing_migration_leaves_a_failed_row_and_the_schema_unchanged(case: Case) {
    case.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);");
    case.write(
        "2_broken.up.sql",
        "CREATE TABLE half (id INTEGER);\nINSERT INTO half (id) VALUES (1);\nINSERT INTO no_such_table VALUES (1);\n",
    );
    case.write("3_c.up.sql", "CREATE TABLE c (id INTEGER);");
    let err = case.migrate(MigrateOptions::default()).await.unwrap_err();
    match &err {
        Error::MigrationFailed {
            version,
            applied,
            transactional,
            cause,
            ..
        } => {
            assert_eq!(*version, v(2));
            assert_eq!(applied, &[v(1)]);
            assert!(*transactional);
            assert_eq!(cause.line, Some(3), "{cause:?}");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        !case.has_table("half").await,
        "the transaction must be rolled back"
    );
    assert!(
        !case.has_table("c").await,
        "the run stops at the first failure"
    );
    let history = case.history().await;
    let failed = history
        .iter()
        .find(|r| r.version == v(2))
        .expect("failed row");
    assert_eq!(failed.status, Status::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no_such_table"))
    );
    assert_eq!(failed.error_line, Some(3));

    // Unchanged file: refused, and the message says how to get out.
    let err = case.migrate(MigrateOptions::default()).await.unwrap_err();
    assert!(
        matches!(err, Error::Refused(godwit_core::Refusal::Failed { .. })),
        "{err}"
    );
    // Fixed file: retried.
    case.write("2_broken.up.sql", "CREATE TABLE half (id INTEGER);\n");
    assert_eq!(
        case.migrate(MigrateOptions::default()).await.unwrap(),
        [2, 3]
    );
    assert_eq!(
        case.states().await,
        [
            (1, State::Applied),
            (2, State::Applied),
            (3, State::Applied)
        ]
    );
}

#[doc(hidden)]
pub async fn procedural_bodies_run_whole(case: Case) {
    let script = case.fixtures().procedural;
    case.write("1_procedural.up.sql", script);
    case.migrate(MigrateOptions::default()).await.unwrap();
    assert_eq!(case.count("SELECT COUNT(*) FROM audit").await, 2);
    assert_eq!(
        case.count("SELECT COUNT(*) FROM item WHERE name = 'x;y'")
            .await,
        1
    );
}

#[doc(hidden)]
pub async fn no_transaction_migration_runs_outside_a_transaction(case: Case) {
    case.write("1_t.up.sql", "CREATE TABLE t (id INTEGER, v TEXT);");
    let script = case.fixtures().outside_transaction;
    case.write("2_index.up.sql", script);
    assert_eq!(
        case.migrate(MigrateOptions::default()).await.unwrap(),
        [1, 2]
    );
    let history = case.history().await;
    assert!(!history[1].transactional);
    assert_eq!(history[1].status, Status::Applied);

    // The same script without the directive must fail: proof that the directive matters. (The
    // lint would refuse it first; it is off to show what the database does.)
    case.write(
        "3_index2.up.sql",
        &script
            .replace("-- godwit:no-transaction\n", "")
            .replace("t_v", "t_v2"),
    );
    let no_lint = MigrateOptions {
        no_lint: true,
        ..MigrateOptions::default()
    };
    let err = case.migrate(no_lint).await.unwrap_err();
    assert!(
        matches!(err, Error::MigrationFailed { version, .. } if version == v(3)),
        "{err}"
    );
}

#[doc(hidden)]
pub async fn failed_no_transaction_migration_is_visible(case: Case) {
    case.write(
        "1_partial.up.sql",
        "-- godwit:no-transaction\nCREATE TABLE first (id INTEGER);\nCREATE TABLE first (id INTEGER);\n",
    );
    case.migrate_fails_outside_a_transaction().await;
    // Outside a transaction the first statement stays: the row says failed, the table exists.
    assert!(case.has_table("first").await);
    assert_eq!(case.states().await, [(1, State::Failed)]);
    let row = case
        .migrator()
        .await
        .repair(RepairAction::MarkApplied(v(1)))
        .await
        .unwrap();
    assert_eq!(row.status, Status::Applied);
    assert_eq!(case.states().await, [(1, State::Applied)]);
}

/// A no-transaction migration may group statements in its own BEGIN/COMMIT (as generated
/// SQLite rebuilds do). A failure inside the group rolls the group back, and the history
/// records that failure rather than an interrupted run.
#[doc(hidden)]
pub async fn failed_group_in_a_no_transaction_migration_is_recorded(case: Case) {
    case.write(
        "1_grouped.up.sql",
        "-- godwit:no-transaction\nCREATE TABLE before_group (id INTEGER);\nBEGIN;\n\
         CREATE TABLE in_group (id INTEGER);\nCREATE TABLE in_group (id INTEGER);\nCOMMIT;\n",
    );
    let err = case.migrate(MigrateOptions::default()).await.unwrap_err();
    assert!(matches!(err, Error::MigrationFailed { .. }), "{err}");
    assert!(case.has_table("before_group").await);
    assert!(!case.has_table("in_group").await);
    let row = &case.history().await[0];
    assert_eq!(row.status, Status::Failed);
    let error = row.error.as_deref().unwrap_or_default();
    assert!(error.contains("in_group"), "{error}");
    assert_eq!(row.error_line, Some(5));
    // The connection is usable afterwards: the lock and later runs work.
    case.write(
        "1_grouped.up.sql",
        "-- godwit:no-transaction\nCREATE TABLE IF NOT EXISTS before_group (id INTEGER);\n",
    );
    let repaired = case
        .migrator()
        .await
        .repair(RepairAction::MarkRolledBack(v(1)))
        .await
        .unwrap();
    assert_eq!(repaired.status, Status::RolledBack);
    assert_eq!(case.migrate(MigrateOptions::default()).await.unwrap(), [1]);
}

#[doc(hidden)]
pub async fn concurrent_runner_waits_for_the_lock(case: Case) {
    case.write_abc();
    let mut holder = case.store().await;
    let table = godwit_core::HistoryTable::default();
    let owner = godwit_core::LockOwner::current("holder-host", "holder");
    holder
        .lock(&godwit_core::LockRequest {
            table: &table,
            owner: &owner,
            timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
    let mut migrator = case.migrator().await;
    let mut config = MigratorConfig::new("waiter");
    config.lock_timeout = Duration::from_millis(500);
    let mut waiter = Migrator::new(case.store().await, migrator.migrations().clone(), config);
    let err = waiter
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Store(godwit_core::StoreError::LockTimeout { .. })
        ),
        "{err}"
    );
    assert!(!case.has_table("a").await);
    holder.unlock(&table).await.unwrap();
    let report = migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(report.completed.len(), 3);
}

/// The history tables exactly as layout 1 (godwit 0.1) created them.
const LAYOUT_1: &str = "CREATE TABLE godwit_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    down_checksum TEXT,
    down_script TEXT,
    transactional BIGINT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_ms BIGINT,
    error TEXT,
    error_statement TEXT,
    error_line BIGINT,
    previous_checksums TEXT,
    applied_by TEXT
);
CREATE TABLE godwit_migrations_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO godwit_migrations_meta (key, value) VALUES ('layout_version', '1');
";

/// Migrations 1 (a) and 2 (b), with 1 applied and recorded by hand in a layout-1 history.
async fn layout_1_with_a_applied(case: &Case) {
    let up = "CREATE TABLE a (id INTEGER PRIMARY KEY, note TEXT);\n";
    let down = "DROP TABLE a;\n";
    case.write("1_create_a.up.sql", up);
    case.write("1_create_a.down.sql", down);
    case.write("2_create_b.up.sql", "CREATE TABLE b (id INTEGER);\n");
    case.execute(up).await;
    case.execute(LAYOUT_1).await;
    case.execute(&format!(
        "INSERT INTO godwit_migrations (version, name, checksum, down_checksum, down_script, \
         transactional, status, started_at, finished_at, duration_ms, applied_by) \
         VALUES (1, 'create_a', '{}', '{}', '{down}', 1, 'applied', '2024-01-01T00:00:00.000Z', \
         '2024-01-01T00:00:00.010Z', 10, 'godwit 0.1.0 (pid 1 on old-host)')",
        Checksum::of(up).as_str(),
        Checksum::of(down).as_str(),
    ))
    .await;
}

/// The layout version this build writes, as the `_meta` table holds it.
fn current_layout() -> Value {
    Value::from(history::LAYOUT_VERSION.to_string())
}

async fn layout_version(case: &Case) -> Value {
    case.value("SELECT value FROM godwit_migrations_meta WHERE key = 'layout_version'")
        .await
}

#[doc(hidden)]
pub async fn a_layout_1_history_is_read_as_is_and_upgraded_by_migrate(case: Case) {
    layout_1_with_a_applied(&case).await;
    // Reading does not upgrade: status works on the old layout and changes nothing.
    assert_eq!(
        case.states().await,
        [(1, State::Applied), (2, State::Pending)]
    );
    assert_eq!(case.history().await[0].backup, None);
    assert_eq!(layout_version(&case).await, Value::from("1"));

    assert_eq!(case.migrate(MigrateOptions::default()).await.unwrap(), [2]);
    assert_eq!(layout_version(&case).await, current_layout());
    let history = case.history().await;
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[0].applied_by.as_deref(),
        Some("godwit 0.1.0 (pid 1 on old-host)"),
        "the old row is kept as it was"
    );
    assert_eq!(history[0].started_at, "2024-01-01T00:00:00.000Z");
    assert_eq!(
        history[0].finished_at.as_deref(),
        Some("2024-01-01T00:00:00.010Z")
    );
    for (sql, expected) in case.fixtures().upgraded_history {
        assert_eq!(case.count(sql).await, *expected, "{sql}");
    }
    assert_eq!(history[1].status, Status::Applied);
    assert_eq!(
        case.count("SELECT COUNT(*) FROM godwit_migrations WHERE backup IS NULL")
            .await,
        2
    );
    // The upgraded table is the one this build creates: a second run changes nothing.
    assert_eq!(
        case.migrate(MigrateOptions::default()).await.unwrap(),
        Vec::<i64>::new()
    );
}

#[doc(hidden)]
pub async fn a_layout_1_history_is_upgraded_by_rollback(case: Case) {
    layout_1_with_a_applied(&case).await;
    assert_eq!(case.rollback(RollbackTarget::Steps(1)).await.unwrap(), [1]);
    assert!(!case.has_table("a").await);
    assert_eq!(layout_version(&case).await, current_layout());
    assert_eq!(case.states().await[0], (1, State::RolledBack));
}

#[doc(hidden)]
pub async fn a_newer_history_layout_is_refused(case: Case) {
    case.write_abc();
    assert_eq!(case.migrate(to(1)).await.unwrap(), [1]);
    let newer = history::LAYOUT_VERSION + 1;
    case.execute(&format!(
        "UPDATE godwit_migrations_meta SET value = '{newer}' WHERE key = 'layout_version'"
    ))
    .await;
    let err = case.migrate(MigrateOptions::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::HistoryTooNew { found, supported }
                if found == newer && supported == history::LAYOUT_VERSION
        ),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade godwit"), "{err}");
    assert!(!case.has_table("b").await, "a refused run changes nothing");
}

/// A history table name that belongs to something else is refused before anything is created,
/// by every command that writes the history, naming what holds it.
#[doc(hidden)]
pub async fn a_history_name_held_by_something_else_is_refused(case: Case) {
    case.write_abc();
    case.execute(
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\
         CREATE VIEW user_ids AS SELECT id FROM users;\n\
         CREATE TABLE audit_meta (id INTEGER);",
    )
    .await;
    let mut names = vec![
        ("users", "the table "),
        ("user_ids", "the view "),
        // The history's companion `_meta` table is checked too.
        ("audit", "the table "),
    ];
    if let Some(held) = case.fixtures().system_name {
        names.push(held);
    }
    let before = case.relations().await;
    for (name, holder) in names {
        let history = HistoryTable::new(None, name);
        let mut migrator = case.migrator_with(history.clone()).await;
        let err = migrator
            .migrate(&MigrateOptions::default(), &mut |_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::HistoryNameTaken { .. }),
            "{name}: {err}"
        );
        let message = err.to_string();
        assert!(message.contains(holder), "{message}");
        assert!(message.contains("choose another name"), "{message}");
        let err = migrator
            .repair(RepairAction::MarkApplied(v(1)))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::HistoryNameTaken { .. }),
            "{name}: {err}"
        );
        assert_eq!(case.relations().await, before, "{name}: nothing is created");
    }
}

/// A history table in a named schema lives there, and only there.
#[doc(hidden)]
pub async fn a_history_table_in_a_schema_stays_in_it(case: Case) {
    case.write_abc();
    let schema = case.fixtures().history_schema.map(str::to_string);
    let history = HistoryTable::new(schema, "hist");
    let mut migrator = case.migrator_with(history.clone()).await;
    migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap();
    let relations = case.relations().await;
    let expected = match case.fixtures().history_schema {
        Some(schema) => format!("{schema}.hist"),
        None => "hist".to_string(),
    };
    assert!(relations.contains(&expected), "{relations:?}");
    assert!(
        !relations.iter().any(|r| r.contains("godwit_migrations")),
        "{relations:?}"
    );
    // Run again: the table found there is godwit's own.
    let report = case
        .migrator_with(history)
        .await
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert!(report.completed.is_empty());
}

/// A migration that ends the transaction godwit ran it in (`COMMIT;` in its script) and then
/// fails left part of itself committed: the history and `recover` say so, and offer the ways
/// out of a failed no-transaction migration, its down script included.
#[doc(hidden)]
pub async fn a_migration_that_ends_its_transaction_then_fails_may_be_applied(case: Case) {
    ends_its_transaction_then_fails(&case, "COMMIT;\nCREATE TABLE b (x INTEGER);\n").await;
    // A transaction of its own after the COMMIT is not godwit's either.
    ends_its_transaction_then_fails(
        &case.another(),
        "COMMIT;\nBEGIN;\nCREATE TABLE b (x INTEGER);\n",
    )
    .await;
}

async fn ends_its_transaction_then_fails(case: &Case, script: &str) {
    case.write(
        "1_ends.up.sql",
        &format!(
            "CREATE TABLE a (x INTEGER);\n-- godwit:allow explicit-transaction\n{script}\
             SELECT x FROM missing_table;\n"
        ),
    );
    case.write(
        "1_ends.down.sql",
        "DROP TABLE IF EXISTS b;\nDROP TABLE IF EXISTS a;\n",
    );
    case.migrate_fails_outside_a_transaction().await;
    assert!(case.has_table("a").await, "the part before COMMIT stays");
    let row = &case.history().await[0];
    assert_eq!((row.status, row.transactional), (Status::Failed, false));
    let diagnosis = case.migrator().await.diagnose().await.unwrap();
    assert_eq!(diagnosis[0].outcome, Outcome::EndedItsTransaction);
    assert!(diagnosis[0].actions.contains(&RecoverAction::RunDown));

    let row = case
        .migrator()
        .await
        .recover(
            v(1),
            RecoverAction::RunDown,
            &RecoverOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(row.status, Status::RolledBack);
    assert!(!case.has_table("a").await && !case.has_table("b").await);
}

/// A migration that commits part way and succeeds is recorded applied, durably, as a
/// migration that did not run in one transaction, and the run goes on with the next one.
#[doc(hidden)]
pub async fn a_migration_that_ends_its_transaction_and_succeeds_is_recorded(case: Case) {
    case.write(
        "1_ends.up.sql",
        "CREATE TABLE a (x INTEGER);\n-- godwit:allow explicit-transaction\nCOMMIT;\n\
         CREATE TABLE b (x INTEGER);\n",
    );
    case.write("2_next.up.sql", "CREATE TABLE c (x INTEGER);\n");
    assert_eq!(
        case.migrate(MigrateOptions::default()).await.unwrap(),
        [1, 2]
    );
    assert!(case.has_table("a").await && case.has_table("b").await && case.has_table("c").await);
    let history = case.history().await;
    assert_eq!(
        history
            .iter()
            .map(|row| (row.version.get(), row.status, row.transactional))
            .collect::<Vec<_>>(),
        [(1, Status::Applied, false), (2, Status::Applied, true)]
    );
    assert_eq!(
        case.migrate(MigrateOptions::default()).await.unwrap(),
        Vec::<i64>::new()
    );
}

#[doc(hidden)]
pub async fn a_backup_comes_before_the_first_migration_and_is_recorded(case: Case) {
    case.write_abc();
    let dir = case.dir.path().join("backups");
    let wanted = Some(BackupOptions {
        dir: Some(dir.clone()),
    });
    let options = MigrateOptions {
        backup: wanted.clone(),
        ..to(2)
    };
    let mut events = Vec::new();
    let report = case
        .migrator()
        .await
        .migrate(&options, &mut |event| events.push(event.clone()))
        .await
        .unwrap();
    let backup = report.backup.expect("a backup");
    assert_eq!(
        backup.path.parent(),
        Some(dir.canonicalize().unwrap().as_path())
    );
    assert_eq!(backup.bytes, std::fs::metadata(&backup.path).unwrap().len());
    let backed_up = events
        .iter()
        .position(|e| matches!(e, Event::BackedUp { path, .. } if *path == backup.path))
        .expect("a BackedUp event");
    let first_applying = events
        .iter()
        .position(|e| matches!(e, Event::Applying { .. }))
        .expect("an Applying event");
    assert!(backed_up < first_applying, "{events:?}");
    let recorded = backup.path.display().to_string();
    assert!(
        case.history()
            .await
            .iter()
            .all(|row| row.backup.as_deref() == Some(recorded.as_str()))
    );

    // The next run records its own backup; a run with nothing pending takes none.
    let options = MigrateOptions {
        backup: wanted,
        ..MigrateOptions::default()
    };
    let report = case.migrate_reporting(&options).await.unwrap();
    let second = report.backup.expect("a second backup");
    assert_ne!(second.path, backup.path);
    assert_eq!(
        case.history().await[2].backup,
        Some(second.path.display().to_string())
    );
    let report = case.migrate_reporting(&options).await.unwrap();
    assert_eq!(report.backup, None);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

/// The engine lints what it is about to apply, so a program embedding it refuses the files
/// `godwit migrate` refuses; `no_lint` is the same way out for both.
#[doc(hidden)]
pub async fn the_lint_refuses_before_the_first_statement_unless_turned_off(case: Case) {
    case.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);");
    case.write("2_purge.up.sql", "DELETE FROM a;");
    let error = case.migrate(MigrateOptions::default()).await.unwrap_err();
    let Error::LintRefused { report } = &error else {
        panic!("expected the lint to refuse, got {error}")
    };
    assert_eq!(report.errors(), 1, "{error}");
    let (file, finding) = report
        .findings()
        .find(|(_, finding)| finding.severity == Severity::Error)
        .expect("an error");
    assert!(file.ends_with("2_purge.up.sql"), "{file}");
    assert_eq!(finding.rule, "delete-without-where");
    assert!(!case.has_table("a").await, "nothing was applied");
    assert!(case.history().await.is_empty());

    let no_lint = MigrateOptions {
        no_lint: true,
        ..MigrateOptions::default()
    };
    assert_eq!(case.migrate(no_lint).await.unwrap(), [1, 2]);
}

/// `recover --retry` runs a script again: it is linted first, as a `migrate` run would lint it.
#[doc(hidden)]
pub async fn a_retry_is_linted_unless_turned_off(case: Case) {
    case.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);");
    case.write(
        "2_move.up.sql",
        "DELETE FROM a;\nINSERT INTO archive (id) VALUES (1);\n",
    );
    let no_lint = MigrateOptions {
        no_lint: true,
        ..MigrateOptions::default()
    };
    assert!(matches!(
        case.migrate(no_lint).await.unwrap_err(),
        Error::MigrationFailed { .. }
    ));
    case.execute("CREATE TABLE archive (id INTEGER)").await;

    let mut migrator = case.migrator().await;
    let error = migrator
        .recover(
            v(2),
            RecoverAction::Retry,
            &RecoverOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::LintRefused { .. }), "{error}");
    assert_eq!(case.states().await[1], (2, State::Failed));

    let options = RecoverOptions { no_lint: true };
    let row = migrator
        .recover(v(2), RecoverAction::Retry, &options, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(row.status, Status::Applied);
}

/// Each statement of a script is reported as it starts, in order, at the line of its first
/// keyword: of a migration run in a transaction, of one run outside any, and of down scripts.
#[doc(hidden)]
pub async fn each_statement_is_reported_as_it_starts(case: Case) {
    case.write(
        "1_two.up.sql",
        "-- two tables\nCREATE TABLE a (id INTEGER);\n\nCREATE TABLE b (\n  id INTEGER\n);\n",
    );
    case.write("1_two.down.sql", "DROP TABLE b;\nDROP TABLE a;\n");
    case.write(
        "2_alone.up.sql",
        "-- godwit:no-transaction\nCREATE TABLE c (id INTEGER);\nCREATE TABLE d (id INTEGER);",
    );
    case.write("2_alone.down.sql", "DROP TABLE d; DROP TABLE c;");
    // (version, statement, line, label) of each statement, which must come between its
    // migration's start and end.
    fn steps(events: &[Event]) -> Vec<(i64, usize, Option<usize>, String)> {
        let mut running = None;
        let mut steps = Vec::new();
        for event in events {
            match event {
                Event::Applying { version, .. } | Event::RollingBack { version, .. } => {
                    running = Some(*version);
                }
                Event::Applied { .. } | Event::RolledBack { .. } => running = None,
                Event::Statement { version, step } => {
                    assert_eq!(running, Some(*version), "{events:?}");
                    // Every script has two statements: a store that counts them says so.
                    assert!(step.total.is_none_or(|total| total == 2), "{step:?}");
                    steps.push((
                        version.get(),
                        step.index,
                        step.line,
                        step.label.clone().unwrap_or_default(),
                    ));
                }
                _ => {}
            }
        }
        steps
    }
    let migrator = async || {
        let mut migrator = case.migrator().await;
        migrator.report_statements(true);
        migrator
    };
    // Unasked, a migrator reports none.
    let mut events = Vec::new();
    case.migrator()
        .await
        .migrate(&to(1), &mut |event| events.push(event.clone()))
        .await
        .unwrap();
    assert_eq!(steps(&events), []);
    case.migrator()
        .await
        .rollback(RollbackTarget::All, &mut |_| {})
        .await
        .unwrap();

    let mut events = Vec::new();
    migrator()
        .await
        .migrate(&MigrateOptions::default(), &mut |event| {
            events.push(event.clone());
        })
        .await
        .unwrap();
    let statement = |version, index, line, label: &str| (version, index, Some(line), label.into());
    assert_eq!(
        steps(&events),
        [
            statement(1, 1, 2, "CREATE TABLE a (id INTEGER)"),
            statement(1, 2, 4, "CREATE TABLE b ( id INTEGER )"),
            statement(2, 1, 2, "CREATE TABLE c (id INTEGER)"),
            statement(2, 2, 3, "CREATE TABLE d (id INTEGER)"),
        ]
    );
    let mut events = Vec::new();
    migrator()
        .await
        .rollback(RollbackTarget::All, &mut |event| events.push(event.clone()))
        .await
        .unwrap();
    assert_eq!(
        steps(&events),
        [
            statement(2, 1, 1, "DROP TABLE d"),
            statement(2, 2, 1, "DROP TABLE c"),
            statement(1, 1, 1, "DROP TABLE b"),
            statement(1, 2, 2, "DROP TABLE a"),
        ]
    );
}

/// `single_transaction`: every pending migration and its history row commit together; a
/// failure leaves none of them applied and only the failing one recorded, as failed; a
/// migration that must run outside a transaction is refused before anything runs.
#[doc(hidden)]
pub async fn pending_migrations_commit_together_when_asked(case: Case) {
    let together = MigrateOptions {
        single_transaction: true,
        ..MigrateOptions::default()
    };
    case.write_abc();
    case.write(
        "4_broken.up.sql",
        "CREATE TABLE d (id INTEGER);\nSELECT * FROM missing;\n",
    );
    let error = case.migrate(together.clone()).await.unwrap_err();
    let Error::MigrationFailed {
        version, applied, ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!((version.get(), applied.len()), (4, 0), "{error}");
    for table in ["a", "b", "c", "d"] {
        assert!(!case.has_table(table).await, "{table} was rolled back");
    }
    let history = case.history().await;
    assert_eq!(
        history
            .iter()
            .map(|row| (row.version.get(), row.status))
            .collect::<Vec<_>>(),
        [(4, Status::Failed)]
    );

    case.write("4_broken.up.sql", "CREATE TABLE d (id INTEGER);\n");
    assert_eq!(case.migrate(together.clone()).await.unwrap(), [1, 2, 3, 4]);
    assert!(
        case.states()
            .await
            .iter()
            .all(|(_, state)| *state == State::Applied)
    );

    let script = case.fixtures().outside_transaction;
    case.write("5_t.up.sql", "CREATE TABLE t (id INTEGER, v TEXT);");
    case.write("6_index.up.sql", script);
    let error = case.migrate(together).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Refused(Refusal::OutsideSingleTransaction { version, .. }) if version.get() == 6
        ),
        "{error}"
    );
    assert!(!case.has_table("t").await, "a refused run changes nothing");
}

/// A run with nothing pending answers without the lock: it neither waits for a runner that
/// holds it nor writes anything.
#[doc(hidden)]
pub async fn a_run_with_nothing_pending_takes_no_lock(case: Case) {
    case.write_abc();
    case.migrate(MigrateOptions::default()).await.unwrap();
    let mut holder = case.store().await;
    let table = HistoryTable::default();
    let owner = LockOwner::current("holder-host", "holder");
    holder
        .lock(&godwit_core::LockRequest {
            table: &table,
            owner: &owner,
            timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
    let mut config = MigratorConfig::new("no-op");
    config.lock_timeout = Duration::from_millis(200);
    let migrations = case.migrator().await.migrations().clone();
    let report = Migrator::new(case.store().await, migrations, config)
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert!(report.completed.is_empty());
    holder.unlock(&table).await.unwrap();
}

/// A caller that answers every question the same way, and remembers what it was asked.
#[derive(Default)]
struct Answering {
    consent: Option<Answer>,
    renames: Option<Vec<PossibleRename>>,
    asked: Vec<Consent>,
    stages: Vec<Stage>,
}

impl Caller for Answering {
    fn stage(&mut self, stage: Stage) {
        self.stages.push(stage);
    }

    fn renames(&mut self, _: &[PossibleRename], _: &PushReport) -> Option<Vec<PossibleRename>> {
        self.renames.clone()
    }

    fn consent(&mut self, question: Consent) -> Answer {
        self.asked.push(question);
        self.consent.unwrap_or(Answer::Unanswered)
    }
}

impl Case {
    /// `sql` as the schema file.
    fn schema(&self, sql: &str) -> SchemaSource {
        let path = self.dir.path().join("schema.sql");
        std::fs::write(&path, sql).expect("write schema");
        SchemaSource::load(&path).expect("load schema")
    }

    async fn push(
        &self,
        schema: &SchemaSource,
        options: &PushOptions,
        caller: &mut dyn Caller,
    ) -> Result<PushReport, Error> {
        let mut store = self.store().await;
        let history = HistoryTable::default();
        Push::new(
            store.as_mut(),
            &history,
            LockOwner::this_process("behaviour suite"),
        )
        .run(schema, options, caller)
        .await
    }

    async fn column_names(&self, table: &str) -> Vec<String> {
        let mut store = self.store().await;
        let schema = declarative::introspect(store.as_mut(), &HistoryTable::default())
            .await
            .expect("introspect");
        let table = schema
            .tables
            .iter()
            .find(|t| t.name.name == table)
            .expect("table");
        table.columns.iter().map(|c| c.name.clone()).collect()
    }
}

fn push_options() -> PushOptions {
    PushOptions::new(Duration::from_secs(10))
}

/// Through the library alone: a push that drops a column refuses without consent, changes
/// nothing in a dry run, and applies once the caller consents; inspected, the database then
/// has what the schema says, a second push is a no-op and a diff finds nothing.
#[doc(hidden)]
pub async fn a_push_needs_consent_to_destroy_data(case: Case) {
    let first = case.schema("CREATE TABLE t (id integer PRIMARY KEY, name text, note text);\n");
    let report = case.push(&first, &push_options(), &mut ()).await.unwrap();
    assert!(report.applied);
    case.store()
        .await
        .execute_script("INSERT INTO t (id, name, note) VALUES (1, 'a', 'kept?')")
        .await
        .unwrap();

    let fewer = case.schema("CREATE TABLE t (id integer PRIMARY KEY, name text);\n");
    let refused = case
        .push(&fewer, &push_options(), &mut ())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            Error::Declarative(DeclarativeError::NeedsConsent { statements: 1 })
        ),
        "{refused:?}"
    );
    let mut dry = push_options();
    dry.dry_run = true;
    let mut watcher = Answering::default();
    let report = case.push(&fewer, &dry, &mut watcher).await.unwrap();
    assert!(!report.applied);
    assert_eq!(report.needing_consent(), 1);
    assert!(watcher.asked.is_empty(), "a dry run asks nothing");
    let mut declining = Answering {
        consent: Some(Answer::No),
        ..Answering::default()
    };
    let declined = case
        .push(&fewer, &push_options(), &mut declining)
        .await
        .unwrap_err();
    assert!(matches!(
        declined,
        Error::Declarative(DeclarativeError::Declined)
    ));
    assert_eq!(case.column_names("t").await, ["id", "name", "note"]);

    let mut consenting = Answering {
        consent: Some(Answer::Yes),
        ..Answering::default()
    };
    let report = case
        .push(&fewer, &push_options(), &mut consenting)
        .await
        .unwrap();
    assert!(report.applied);
    assert_eq!(consenting.asked, [Consent::DataLoss { statements: 1 }]);
    assert_eq!(
        consenting.stages,
        [
            Stage::Locking,
            Stage::Reading,
            Stage::BuildingDesired,
            Stage::Planning,
            Stage::MeasuringHazards,
            Stage::Applying
        ]
    );
    assert_eq!(case.column_names("t").await, ["id", "name"]);
    assert_eq!(case.count("SELECT count(*) FROM t").await, 1);

    let again = case.push(&fewer, &push_options(), &mut ()).await.unwrap();
    assert!(again.plan.is_empty() && !again.applied);
    let mut store = case.store().await;
    let history = HistoryTable::default();
    let plan = Diff::new()
        .run(
            Side::Live {
                store: store.as_mut(),
                history: &history,
            },
            Side::Schema(&fewer),
        )
        .await
        .unwrap();
    assert!(plan.is_empty(), "diff after a push: {plan:?}");
}

/// Through the library alone: a drop and create that may be a rename is refused until the
/// caller says what it is; named a rename, the column keeps its values.
#[doc(hidden)]
pub async fn a_push_asks_whether_a_drop_and_create_is_a_rename(case: Case) {
    let first = case.schema("CREATE TABLE t (id integer PRIMARY KEY, name text);\n");
    case.push(&first, &push_options(), &mut ()).await.unwrap();
    case.store()
        .await
        .execute_script("INSERT INTO t (id, name) VALUES (1, 'kept')")
        .await
        .unwrap();

    let renamed = case.schema("CREATE TABLE t (id integer PRIMARY KEY, title text);\n");
    let refused = case
        .push(&renamed, &push_options(), &mut ())
        .await
        .unwrap_err();
    let Error::Declarative(DeclarativeError::PossibleRenames { renames }) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(renames.len(), 1);
    let mut caller = Answering {
        renames: Some(renames),
        ..Answering::default()
    };
    let report = case
        .push(&renamed, &push_options(), &mut caller)
        .await
        .unwrap();
    assert!(report.applied);
    assert_eq!(report.needing_consent(), 0);
    assert_eq!(caller.asked, [Consent::Apply { statements: 1 }]);
    assert_eq!(
        case.count("SELECT count(*) FROM t WHERE title = 'kept'")
            .await,
        1
    );
}

/// Through the library alone: generate writes migrations for a schema, verify round-trips
/// them, migrate applies them, and then check finds no drift and diff no difference.
#[doc(hidden)]
pub async fn generate_verify_check_and_diff_agree(case: Case) {
    let schema = case.schema(
        "CREATE TABLE a (id integer PRIMARY KEY, name text NOT NULL);\n\
         CREATE TABLE b (id integer PRIMARY KEY, a_id integer REFERENCES a (id));\n\
         CREATE INDEX b_a ON b (a_id);\n",
    );
    let mut host = case.store().await;
    let generation = Generate::new(host.as_mut())
        .run(
            &Migrations::default(),
            &schema,
            &GenerateOptions::default(),
            &mut (),
        )
        .await
        .unwrap();
    assert!(!generation.is_empty());
    let naming = Naming {
        slug: "start",
        description: "start",
        schema: "schema.sql",
    };
    let written = generation
        .migrations(host.dialect(), naming, std::time::SystemTime::now(), None)
        .unwrap();
    for migration in &written {
        case.write(&format!("{}.up.sql", migration.stem), &migration.up);
        case.write(&format!("{}.down.sql", migration.stem), &migration.down);
    }
    let migrations =
        Migrations::from_dir(&case.dir.path().join("migrations")).expect("load migrations");
    let verified = Verify::new(host.as_mut()).run(&migrations).await.unwrap();
    assert!(
        matches!(verified, Verification::Verified { .. }),
        "{verified:?}"
    );
    drop(host);

    case.migrate(MigrateOptions::default()).await.unwrap();
    let mut store = case.store().await;
    let history = HistoryTable::default();
    let drift = Check::new(store.as_mut(), &history)
        .run(&migrations)
        .await
        .unwrap();
    assert!(!drift.drifted(), "{drift:?}");
    let plan = Diff::new()
        .run(
            Side::Live {
                store: store.as_mut(),
                history: &history,
            },
            Side::Schema(&schema),
        )
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan:?}");
    let plan = Diff::new()
        .run(
            Side::Live {
                store: store.as_mut(),
                history: &history,
            },
            Side::Migrations(&Migrations::default()),
        )
        .await
        .unwrap();
    assert!(
        plan.changes.len() == 2
            && plan
                .changes
                .iter()
                .all(|change| matches!(change, Change::DropTable(_))),
        "drops both tables: {plan:?}"
    );
}
