//! The session lock: exclusive, reported, released by unlock, by drop, or by force.

use std::time::{Duration, Instant};

use godwit_core::{
    HistoryTable, Liveness, LockHolder, LockOwner, LockRequest, Store, StoreError, UnlockOutcome,
    Value,
};
use godwit_postgres::PgStore;
use godwit_tests::PgDatabase;

use crate::connect_as;

fn request<'a>(
    table: &'a HistoryTable,
    owner: &'a LockOwner,
    timeout: Duration,
) -> LockRequest<'a> {
    LockRequest {
        table,
        owner,
        timeout,
    }
}

/// The server process of the session whose application name is `application`.
async fn backend_pid(observer: &mut PgStore, application: &str) -> i64 {
    let rows = observer
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            &[Value::from(application)],
        )
        .await
        .unwrap();
    match rows.as_slice() {
        [row] => match row.as_slice() {
            [Value::Int(pid)] => *pid,
            other => panic!("unexpected row {other:?}"),
        },
        other => panic!("expected one session named {application}, found {other:?}"),
    }
}

fn assert_names(holder: &LockHolder, application: &str, pid: i64) {
    assert_eq!(holder.application.as_deref(), Some(application), "{holder}");
    assert_eq!(holder.pid, Some(pid), "{holder}");
    assert_eq!(holder.liveness, Liveness::Session, "{holder}");
    assert!(
        holder.since.as_deref().is_some_and(|s| s.ends_with('Z')),
        "{holder}"
    );
}

#[tokio::test]
async fn a_second_runner_times_out_naming_the_holder_then_gets_the_lock() {
    let db = PgDatabase::create();
    let table = HistoryTable::default();
    let owner = LockOwner::current("test-host", "lock test");
    let mut a = connect_as(&db, "runner-a").await;
    let mut b = connect_as(&db, "runner-b").await;

    assert_eq!(b.lock_holder(&table).await.unwrap(), None);
    a.lock(&request(&table, &owner, Duration::from_secs(1)))
        .await
        .unwrap();
    // Taking a lock already held by this store is a no-op, not a self-deadlock.
    a.lock(&request(&table, &owner, Duration::from_millis(10)))
        .await
        .unwrap();
    let a_pid = backend_pid(&mut b, "runner-a (lock)").await;

    let start = Instant::now();
    let error = b
        .lock(&request(&table, &owner, Duration::from_millis(300)))
        .await
        .expect_err("runner A holds the lock");
    let elapsed = start.elapsed();
    match &error {
        StoreError::LockTimeout { holder, waited } => {
            assert!(*waited >= Duration::from_millis(300), "{waited:?}");
            assert_names(holder.as_ref().expect("a holder"), "runner-a (lock)", a_pid);
        }
        other => panic!("expected a lock timeout, got {other}"),
    }
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(error.to_string().contains("runner-a (lock)"), "{error}");

    // Both runners see the same holder.
    assert_names(
        &a.lock_holder(&table).await.unwrap().unwrap(),
        "runner-a (lock)",
        a_pid,
    );

    a.unlock(&table).await.unwrap();
    b.lock(&request(&table, &owner, Duration::from_millis(300)))
        .await
        .unwrap();
    let b_pid = backend_pid(&mut a, "runner-b (lock)").await;
    assert_names(
        &a.lock_holder(&table).await.unwrap().unwrap(),
        "runner-b (lock)",
        b_pid,
    );
    b.unlock(&table).await.unwrap();
    assert_eq!(a.lock_holder(&table).await.unwrap(), None);
}

#[tokio::test]
async fn the_lock_is_independent_of_transactions() {
    let db = PgDatabase::create();
    let table = HistoryTable::default();
    let owner = LockOwner::current("test-host", "lock test");
    let mut a = connect_as(&db, "runner-a").await;
    let mut b = connect_as(&db, "runner-b").await;

    a.lock(&request(&table, &owner, Duration::from_secs(1)))
        .await
        .unwrap();
    a.begin().await.unwrap();
    a.execute_script("CREATE TABLE t (id int)").await.unwrap();
    a.rollback().await.unwrap();
    let error = b
        .lock(&request(&table, &owner, Duration::from_millis(200)))
        .await
        .expect_err("a rollback on the work connection keeps the lock");
    assert!(matches!(error, StoreError::LockTimeout { .. }), "{error}");
    a.unlock(&table).await.unwrap();
}

#[tokio::test]
async fn different_history_tables_have_different_locks() {
    let db = PgDatabase::create();
    let owner = LockOwner::current("test-host", "lock test");
    let first = HistoryTable::default();
    let second = HistoryTable::new(Some("other".into()), "godwit_migrations");
    let mut a = connect_as(&db, "runner-a").await;
    let mut b = connect_as(&db, "runner-b").await;
    a.lock(&request(&first, &owner, Duration::from_secs(1)))
        .await
        .unwrap();
    b.lock(&request(&second, &owner, Duration::from_millis(200)))
        .await
        .unwrap();
    assert_eq!(
        b.lock_holder(&first)
            .await
            .unwrap()
            .unwrap()
            .application
            .as_deref(),
        Some("runner-a (lock)")
    );
    assert_eq!(
        a.lock_holder(&second)
            .await
            .unwrap()
            .unwrap()
            .application
            .as_deref(),
        Some("runner-b (lock)")
    );
}

#[tokio::test]
async fn dropping_a_runner_frees_its_lock() {
    let db = PgDatabase::create();
    let table = HistoryTable::default();
    let owner = LockOwner::current("test-host", "lock test");
    let mut a = connect_as(&db, "runner-a").await;
    let mut b = connect_as(&db, "runner-b").await;
    a.lock(&request(&table, &owner, Duration::from_secs(1)))
        .await
        .unwrap();
    drop(a);
    // The server ends A's sessions when their sockets close, and the lock goes with them.
    b.lock(&request(&table, &owner, Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(
        b.lock_holder(&table)
            .await
            .unwrap()
            .unwrap()
            .application
            .as_deref(),
        Some("runner-b (lock)")
    );
}

#[tokio::test]
async fn clear_lock_refuses_a_live_holder_unless_forced() {
    let db = PgDatabase::create();
    let table = HistoryTable::default();
    let owner = LockOwner::current("test-host", "lock test");
    let mut a = connect_as(&db, "runner-a").await;
    let mut b = connect_as(&db, "runner-b").await;

    assert_eq!(
        b.clear_lock(&table, false).await.unwrap(),
        UnlockOutcome::NotLocked
    );
    assert_eq!(
        b.clear_lock(&table, true).await.unwrap(),
        UnlockOutcome::NotLocked
    );

    a.lock(&request(&table, &owner, Duration::from_secs(1)))
        .await
        .unwrap();
    let a_pid = backend_pid(&mut b, "runner-a (lock)").await;
    match b.clear_lock(&table, false).await {
        Err(StoreError::LockHeld { holder }) => assert_names(&holder, "runner-a (lock)", a_pid),
        other => panic!("expected LockHeld, got {other:?}"),
    }
    // Still held after the refusal.
    assert!(b.lock_holder(&table).await.unwrap().is_some());

    match b.clear_lock(&table, true).await {
        Ok(UnlockOutcome::Cleared { holder }) => assert_names(&holder, "runner-a (lock)", a_pid),
        other => panic!("expected Cleared, got {other:?}"),
    }
    assert_eq!(b.lock_holder(&table).await.unwrap(), None);
    b.lock(&request(&table, &owner, Duration::from_millis(300)))
        .await
        .unwrap();

    // A's session was terminated; releasing what it no longer holds is not an error, and A's
    // work connection is unaffected.
    a.unlock(&table).await.unwrap();
    assert_eq!(
        a.query("SELECT 1", &[]).await.unwrap(),
        vec![vec![Value::Int(1)]]
    );
}

#[tokio::test]
async fn clear_lock_by_the_holder_itself_releases_it() {
    let db = PgDatabase::create();
    let table = HistoryTable::default();
    let owner = LockOwner::current("test-host", "lock test");
    let mut a = connect_as(&db, "runner-a").await;
    a.lock(&request(&table, &owner, Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(matches!(
        a.clear_lock(&table, true).await.unwrap(),
        UnlockOutcome::Cleared { .. }
    ));
    assert_eq!(a.lock_holder(&table).await.unwrap(), None);
    // The work connection survived: the store did not terminate itself.
    assert_eq!(
        a.query("SELECT 1", &[]).await.unwrap(),
        vec![vec![Value::Int(1)]]
    );
}

#[tokio::test]
async fn unlocking_without_the_lock_is_fine() {
    let db = PgDatabase::create();
    let table = HistoryTable::default();
    let owner = LockOwner::current("test-host", "lock test");
    let mut a = connect_as(&db, "runner-a").await;
    let mut b = connect_as(&db, "runner-b").await;
    a.unlock(&table).await.unwrap();
    b.lock(&request(&table, &owner, Duration::from_secs(1)))
        .await
        .unwrap();
    // A does not hold it, so A's unlock leaves B's lock alone.
    a.unlock(&table).await.unwrap();
    assert_eq!(
        a.lock_holder(&table)
            .await
            .unwrap()
            .unwrap()
            .application
            .as_deref(),
        Some("runner-b (lock)")
    );
}
