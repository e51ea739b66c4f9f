//! The PostgreSQL store against a real server. Every test creates a database of its own with
//! `godwit_tests::PgDatabase::create()`, so the tests run in parallel; the server comes from
//! `GODWIT_TEST_PG_URL` (`cargo xtask test` provides one) and its absence fails loudly.

mod cache;
mod connect;
mod declarative;
mod lock;
mod migrator;
mod sandbox;
mod script;
mod values;

use async_trait::async_trait;
use godwit_core::{
    Dialect, HistoryTable, LockHolder, LockRequest, Row, Store, StoreError, UnlockOutcome, Value,
};
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

/// The machine part of the names of the scratch databases this machine makes
/// (`godwit_scratch_<machine>_<pid>_...`), read from one made and dropped on `store`.
async fn scratch_machine(store: &mut dyn Store) -> String {
    let mut scratch = store.open_scratch().await.unwrap();
    let name = database_name(scratch.as_mut()).await;
    scratch.close().await.unwrap();
    name.split('_').nth(2).unwrap().to_string()
}

/// The name of the database `store` is connected to.
async fn database_name(store: &mut dyn Store) -> String {
    let Value::Text(name) = store
        .query("SELECT current_database()::text", &[])
        .await
        .unwrap()
        .remove(0)
        .remove(0)
    else {
        panic!("no database name")
    };
    name
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

/// A store that passes everything on to a PostgreSQL store, counting the requests that send
/// SQL to the server and the scratch databases it opens, and optionally screening with
/// another dialect.
#[derive(Debug)]
struct Relay {
    store: PgStore,
    dialect: Option<Box<dyn Dialect>>,
    /// What the server says its version is when asked for a fingerprint, if not its own.
    version: Option<&'static str>,
    requests: usize,
    opened: usize,
}

impl Relay {
    fn new(store: PgStore) -> Self {
        Relay {
            store,
            dialect: None,
            version: None,
            requests: 0,
            opened: 0,
        }
    }

    fn with_dialect(mut self, dialect: impl Dialect + 'static) -> Self {
        self.dialect = Some(Box::new(dialect));
        self
    }
}

#[async_trait]
impl Store for Relay {
    fn dialect(&self) -> &dyn Dialect {
        match &self.dialect {
            Some(dialect) => dialect.as_ref(),
            None => self.store.dialect(),
        }
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        self.requests += 1;
        self.store.execute_script(sql).await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.requests += 1;
        self.store.execute(sql, params).await
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.requests += 1;
        let mut rows = self.store.query(sql, params).await?;
        if let Some(version) = self.version
            && Some(sql) == self.store.dialect().normalisation_fingerprint_query()
        {
            rows[0][0] = Value::from(version);
        }
        Ok(rows)
    }

    async fn begin(&mut self) -> Result<(), StoreError> {
        self.requests += 1;
        self.store.begin().await
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.requests += 1;
        self.store.commit().await
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        self.requests += 1;
        self.store.rollback().await
    }

    async fn lock(&mut self, request: &LockRequest<'_>) -> Result<(), StoreError> {
        self.requests += 1;
        self.store.lock(request).await
    }

    async fn unlock(&mut self, table: &HistoryTable) -> Result<(), StoreError> {
        self.requests += 1;
        self.store.unlock(table).await
    }

    async fn lock_holder(
        &mut self,
        table: &HistoryTable,
    ) -> Result<Option<LockHolder>, StoreError> {
        self.requests += 1;
        self.store.lock_holder(table).await
    }

    async fn clear_lock(
        &mut self,
        table: &HistoryTable,
        force: bool,
    ) -> Result<UnlockOutcome, StoreError> {
        self.requests += 1;
        self.store.clear_lock(table, force).await
    }

    async fn open_scratch(&mut self) -> Result<Box<dyn Store>, StoreError> {
        self.opened += 1;
        self.store.open_scratch().await
    }

    async fn open_sandbox(&mut self) -> Result<Box<dyn Store>, StoreError> {
        self.opened += 1;
        self.store.open_sandbox().await
    }

    async fn pause(&mut self, duration: std::time::Duration) {
        self.store.pause(duration).await;
    }
}
