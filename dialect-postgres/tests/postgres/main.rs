//! The PostgreSQL store against a real server. Every test creates a database of its own with
//! `godwit_tests::PgDatabase::create()`, so the tests run in parallel; the server comes from
//! `GODWIT_TEST_PG_URL` (`cargo xtask test` provides one) and its absence fails loudly.

mod connect;
mod declarative;
mod lock;
mod migrator;
mod script;
mod values;

use godwit_core::{Store, StoreError, Value};
use godwit_postgres::{PgOptions, PgStore};
use godwit_tests::PgDatabase;

/// A store on `db` whose sessions show `application` in `pg_stat_activity`.
async fn connect_as(db: &PgDatabase, application: &str) -> PgStore {
    let options = PgOptions {
        application_name: application.into(),
        ..PgOptions::default()
    };
    PgStore::connect(&db.url, &options)
        .await
        .unwrap_or_else(|error| panic!("connect to the test database {}: {error}", db.name))
}

async fn connect(db: &PgDatabase) -> PgStore {
    connect_as(db, "godwit-test").await
}

/// Rows of `sql`, which must succeed.
async fn rows(store: &mut PgStore, sql: &str) -> Vec<Vec<Value>> {
    store
        .query(sql, &[])
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// The one value `sql` returns.
async fn scalar(store: &mut PgStore, sql: &str) -> Value {
    let rows = rows(store, sql).await;
    assert_eq!(rows.len(), 1, "{sql} returned {rows:?}");
    rows[0][0].clone()
}

/// Whether `schema.name` is a table.
async fn table_exists(store: &mut PgStore, schema: &str, name: &str) -> bool {
    let found = store
        .query(
            "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2",
            &[Value::from(schema), Value::from(name)],
        )
        .await
        .expect("look up a table");
    !found.is_empty()
}

fn unwrap_statement_error(result: Result<(), StoreError>) -> godwit_core::StatementError {
    match result {
        Err(StoreError::Statement(error)) => error,
        other => panic!("expected a statement error, got {other:?}"),
    }
}
