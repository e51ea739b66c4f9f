//! What MySQL does differently from the engines the kit was written for: DDL that commits
//! implicitly, DML that still rolls back, and a lock whose holder is a server session.

use std::path::Path;
use std::time::Duration;

use godwit_core::{
    Error, HistoryTable, Liveness, LockOwner, LockRequest, MigrateOptions, Migrations, Migrator,
    MigratorConfig, Outcome, Status, Store, StoreError,
};
use godwit_mysql::MySqlStore;
use godwit_tests::MySqlDatabase;

fn migrations(dir: &Path, files: &[(&str, &str)]) -> Migrations {
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql).expect("write migration");
    }
    Migrations::from_dir(dir).expect("load migrations")
}

async fn migrator(database: &MySqlDatabase, migrations: Migrations) -> Migrator {
    let store = MySqlStore::connect(&database.url).await.expect("connect");
    Migrator::new(
        Box::new(store),
        migrations,
        MigratorConfig::new("godwit mysql tests"),
    )
}

async fn count(database: &MySqlDatabase, sql: &str) -> godwit_core::Value {
    let mut store = MySqlStore::connect(&database.url).await.expect("connect");
    let rows = store.query(sql, &[]).await.expect("query");
    rows[0][0].clone()
}

#[tokio::test]
async fn a_migration_of_dml_alone_rolls_back_whole() {
    let database = MySqlDatabase::create();
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = migrations(
        dir.path(),
        &[
            ("1_t.up.sql", "CREATE TABLE t (id INT PRIMARY KEY);"),
            (
                "2_rows.up.sql",
                "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n",
            ),
        ],
    );
    let mut migrator = migrator(&database, migrations).await;
    let error = migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    match error {
        Error::MigrationFailed {
            transactional,
            cause,
            ..
        } => {
            assert!(transactional, "DML runs in a transaction");
            assert_eq!(cause.line, Some(2), "{cause:?}");
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(
        count(&database, "SELECT COUNT(*) FROM t").await,
        godwit_core::Value::Int(0)
    );
    let history = migrator.history().await.expect("history");
    assert!(!history[0].transactional, "DDL ran outside one");
    assert_eq!(history[1].status, Status::Failed);
    assert!(history[1].transactional);
    let diagnosis = migrator.diagnose().await.expect("diagnose");
    assert_eq!(diagnosis[0].outcome, Outcome::NothingApplied);
}

#[tokio::test]
async fn a_failed_ddl_migration_lists_what_ran_and_claims_no_rollback() {
    let database = MySqlDatabase::create();
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = migrations(
        dir.path(),
        &[(
            "1_tables.up.sql",
            "CREATE TABLE first (id INT);\nINSERT INTO first VALUES (1);\nCREATE TABLE first (id INT);\n",
        )],
    );
    let mut migrator = migrator(&database, migrations).await;
    let error = migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                transactional: false,
                ..
            }
        ),
        "{error}"
    );
    // The implicit commits kept the table and its row.
    assert_eq!(
        count(&database, "SELECT COUNT(*) FROM first").await,
        godwit_core::Value::Int(1)
    );
    let diagnosis = migrator.diagnose().await.expect("diagnose");
    match &diagnosis[0].outcome {
        Outcome::PartlyApplied { ran, not_run } => {
            let lines: Vec<usize> = ran.iter().map(|s| s.line).collect();
            assert_eq!(lines, [1, 2]);
            assert_eq!(not_run[0].line, 3);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!diagnosis[0].transactional);
}

#[tokio::test]
async fn the_lock_holder_is_a_named_session() {
    let database = MySqlDatabase::create();
    let table = HistoryTable::default();
    let owner = LockOwner::current("holder-host", "holder");
    let mut holder = MySqlStore::connect(&database.url).await.expect("connect");
    let mut waiter = MySqlStore::connect(&database.url).await.expect("connect");
    let request = |timeout| LockRequest {
        table: &table,
        owner: &owner,
        timeout,
    };
    holder.lock(&request(Duration::from_secs(5))).await.unwrap();
    let error = waiter
        .lock(&request(Duration::from_millis(300)))
        .await
        .unwrap_err();
    let StoreError::LockTimeout {
        holder: Some(named),
        ..
    } = error
    else {
        panic!("unexpected {error}");
    };
    assert!(named.pid.is_some(), "{named:?}");
    assert!(
        named.host.as_deref().is_some_and(|h| h.contains('@')),
        "{named:?}"
    );
    assert!(named.since.is_some(), "{named:?}");
    assert_eq!(named.liveness, Liveness::Session);
    // Without force a live session's lock stays.
    assert!(matches!(
        waiter.clear_lock(&table, false).await,
        Err(StoreError::LockHeld { .. })
    ));
    holder.unlock(&table).await.unwrap();
    assert_eq!(waiter.lock_holder(&table).await.unwrap(), None);
    waiter.lock(&request(Duration::from_secs(5))).await.unwrap();
    // Forced, the holder's session is killed and the lock freed.
    holder.clear_lock(&table, true).await.unwrap();
    assert_eq!(holder.lock_holder(&table).await.unwrap(), None);
}

#[tokio::test]
async fn runners_of_two_databases_on_one_server_do_not_share_the_lock() {
    let (first, second) = (MySqlDatabase::create(), MySqlDatabase::create());
    let table = HistoryTable::default();
    let owner = LockOwner::current("host", "runner");
    let request = LockRequest {
        table: &table,
        owner: &owner,
        timeout: Duration::from_millis(300),
    };
    let mut one = MySqlStore::connect(&first.url).await.expect("connect");
    let mut other = MySqlStore::connect(&second.url).await.expect("connect");
    one.lock(&request).await.unwrap();
    other.lock(&request).await.unwrap();
    assert!(one.lock_holder(&table).await.unwrap().is_some());
    one.unlock(&table).await.unwrap();
    other.unlock(&table).await.unwrap();
}
