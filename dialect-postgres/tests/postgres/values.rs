//! Bound parameters and decoded columns.

use godwit_core::history::{self, HistoryRow};
use godwit_core::{Checksum, HistoryTable, Status, Store, StoreError, Value, Version};
use godwit_tests::PgDatabase;

use crate::{connect, rows, scalar};

#[tokio::test]
async fn values_round_trip_including_null_integers() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    store
        .execute_script(
            "CREATE TABLE v (big BIGINT, mid INTEGER, small SMALLINT, txt TEXT, var VARCHAR(10))",
        )
        .await
        .unwrap();
    let insert = "INSERT INTO v (big, mid, small, txt, var) VALUES ($1, $2, $3, $4, $5)";
    let full = [
        Value::Int(i64::MAX),
        Value::Int(-7),
        Value::Int(3),
        Value::from("héllo; 'quoted'"),
        Value::from("short"),
    ];
    assert_eq!(store.execute(insert, &full).await.unwrap(), 1);
    // NULL into integer columns: an untyped NULL lets the server infer each column's type.
    let nulls = [
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
    ];
    assert_eq!(store.execute(insert, &nulls).await.unwrap(), 1);

    assert_eq!(
        store
            .query(
                "SELECT big, mid, small, txt, var FROM v ORDER BY big NULLS LAST",
                &[]
            )
            .await
            .unwrap(),
        vec![full.to_vec(), nulls.to_vec()]
    );
    assert_eq!(
        store
            .query(
                "SELECT count(*) FROM v WHERE big IS NOT DISTINCT FROM $1 AND txt IS NULL",
                &[Value::Null]
            )
            .await
            .unwrap(),
        vec![vec![Value::Int(1)]]
    );
    assert_eq!(
        store
            .execute("DELETE FROM v WHERE big = $1", &[Value::Int(i64::MAX)])
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn other_column_types_decode_sensibly() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    assert_eq!(
        rows(
            &mut store,
            "SELECT current_database()::name, true, false, 'pg_class'::regclass::oid, \
             2.5::float8, 'x'::char(3), 1.5::numeric, NULL::date"
        )
        .await,
        vec![vec![
            Value::Text(db.name.clone()),
            Value::Int(1),
            Value::Int(0),
            Value::Int(1259),
            Value::from("2.5"),
            Value::from("x  "),
            Value::from("<NUMERIC value: cast it to text or bigint to read it>"),
            Value::Null,
        ]]
    );
}

#[tokio::test]
async fn query_errors_carry_the_sqlstate() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    match store.query("SELECT * FROM nowhere", &[]).await {
        Err(StoreError::Database { message, code }) => {
            assert_eq!(code.as_deref(), Some("42P01"));
            assert!(
                message.contains("relation \"nowhere\" does not exist"),
                "{message}"
            );
        }
        other => panic!("expected a database error, got {other:?}"),
    }
    // The connection is still usable afterwards.
    assert_eq!(scalar(&mut store, "SELECT 1").await, Value::Int(1));
}

#[tokio::test]
async fn history_rows_with_null_columns_round_trip() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    let table = HistoryTable::default();
    history::ensure(&mut store, &table).await.unwrap();
    let row = HistoryRow {
        version: Version::new(20_240_101_120_000).unwrap(),
        name: "create_users".into(),
        checksum: Checksum::of("CREATE TABLE users ();"),
        down_checksum: None,
        down_script: None,
        transactional: true,
        status: Status::Failed,
        started_at: "2024-01-01T12:00:00.000Z".into(),
        finished_at: None,
        duration_ms: None,
        error: Some("boom".into()),
        error_statement: None,
        error_line: None,
        previous_checksums: None,
        applied_by: None,
        backup: None,
    };
    history::write(&mut store, &table, &row).await.unwrap();
    assert_eq!(
        history::read(&mut store, &table).await.unwrap(),
        vec![row.clone()]
    );

    // Writing again replaces the row, now with every column set.
    let finished = HistoryRow {
        status: Status::Applied,
        finished_at: Some("2024-01-01T12:00:01.000Z".into()),
        duration_ms: Some(1000),
        error: None,
        error_line: Some(4),
        applied_by: Some("test (pid 1 on here)".into()),
        backup: Some("/var/backups/app.20240101T120000.000Z.dump".into()),
        ..row
    };
    history::write(&mut store, &table, &finished).await.unwrap();
    assert_eq!(
        history::read(&mut store, &table).await.unwrap(),
        vec![finished]
    );
    assert!(history::exists(&mut store, &table).await.unwrap());
}
