//! Loading a schema file fast: out-of-order files in a constant number of round trips, one
//! scratch database per build, and the desired schema kept in a cache keyed by the files and
//! the server, so an unchanged file costs no scratch database at all.

use std::collections::HashMap;
use std::time::Duration;

use godwit_core::declarative::{
    self, CacheKey, DeclarativeError, Push, PushOptions, SchemaCache, SchemaSource,
};
use godwit_core::schema::Schema;
use godwit_core::{Error, HistoryTable, LockOwner, Store, Value};
use godwit_tests::PgDatabase;

use crate::{Relay, connect, scalar, scratch_machine};

/// Desired schemas kept in memory, counting what was asked of it.
#[derive(Debug, Default)]
struct MemoryCache {
    entries: HashMap<CacheKey, Schema>,
    hits: usize,
}

impl SchemaCache for MemoryCache {
    fn get(&mut self, key: &CacheKey) -> Option<Schema> {
        let found = self.entries.get(key).cloned();
        self.hits += usize::from(found.is_some());
        found
    }

    fn put(&mut self, key: &CacheKey, schema: &Schema) {
        self.entries.insert(key.clone(), schema.clone());
    }
}

fn schema_file(dir: &tempfile::TempDir, sql: &str) -> SchemaSource {
    let file = dir.path().join("schema.sql");
    std::fs::write(&file, sql).unwrap();
    SchemaSource::load(&file).unwrap()
}

/// Out of dependency order (a key to a table further down, a view before its table), with a
/// constraint PostgreSQL spells differently once its own spelling is read back.
const SCHEMA: &str = "\
CREATE VIEW named AS SELECT id, name FROM users;
CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users (id), state varchar(10) CHECK (state IN ('draft', 'live')));
CREATE INDEX posts_user ON posts (user_id);
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
";

/// The same plan from a cached desired schema as from one built on a scratch database, and no
/// scratch database for it; a changed file is built again.
#[tokio::test]
async fn a_cached_desired_schema_gives_the_plan_a_built_one_gives() {
    let db = PgDatabase::create();
    let mut target = Relay::new(connect(&db).await);
    target
        .execute_script("CREATE TABLE users (id int PRIMARY KEY, name text)")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = schema_file(&dir, SCHEMA);
    let history = HistoryTable::default();
    let mut options = PushOptions::new(Duration::from_secs(5));
    options.dry_run = true;
    let mut cache = MemoryCache::default();
    let owner = || LockOwner::this_process("godwit-test");

    let built = Push::new(&mut target, &history, owner())
        .cache(&mut cache)
        .run(&source, &options, &mut ())
        .await
        .unwrap();
    assert_eq!((cache.entries.len(), cache.hits), (1, 0));
    let opened = target.opened;
    assert!(opened >= 1, "the first run builds on a scratch database");

    let cached = Push::new(&mut target, &history, owner())
        .cache(&mut cache)
        .run(&source, &options, &mut ())
        .await
        .unwrap();
    assert_eq!(cache.hits, 1);
    assert_eq!(cached.plan, built.plan);
    assert!(!built.plan.is_empty());
    assert_eq!(target.opened, opened, "a cache hit made a scratch database");

    let uncached = Push::new(&mut target, &history, owner())
        .run(&source, &options, &mut ())
        .await
        .unwrap();
    assert_eq!(uncached.plan, built.plan);

    // An edited file is another key: built again, and kept beside the first.
    let source = schema_file(&dir, &SCHEMA.replace("name text NOT NULL", "name text"));
    let edited = Push::new(&mut target, &history, owner())
        .cache(&mut cache)
        .run(&source, &options, &mut ())
        .await
        .unwrap();
    assert_eq!((cache.entries.len(), cache.hits), (2, 1));
    assert_ne!(edited.plan, built.plan);
}

/// Another server version (or anything else the fingerprint reads) is another key.
#[tokio::test]
async fn another_server_version_misses_the_cache() {
    let db = PgDatabase::create();
    let mut store = Relay::new(connect(&db).await);
    let dir = tempfile::tempdir().unwrap();
    let source = schema_file(&dir, SCHEMA);
    let mut cache = MemoryCache::default();
    let build = async |store: &mut Relay, cache: &mut MemoryCache| {
        declarative::desired_schema_cached(store, &source, &Schema::default(), Some(cache))
            .await
            .unwrap()
    };
    let first = build(&mut store, &mut cache).await;
    let again = build(&mut store, &mut cache).await;
    assert_eq!((cache.entries.len(), cache.hits, store.opened), (1, 1, 1));
    assert_eq!(first, again);

    store.version = Some("PostgreSQL 99.0");
    let upgraded = build(&mut store, &mut cache).await;
    assert_eq!((cache.entries.len(), cache.hits, store.opened), (2, 1, 2));
    assert_eq!(upgraded, first);
}

/// Code a schema file runs may make what its text does not say: such a file is never cached.
#[tokio::test]
async fn files_that_run_code_are_not_cached() {
    let db = PgDatabase::create();
    let mut store = Relay::new(connect(&db).await);
    let dir = tempfile::tempdir().unwrap();
    let source = schema_file(
        &dir,
        "DO $$ BEGIN EXECUTE 'CREATE TABLE t' || extract(epoch FROM now())::int || ' ()'; END $$;\n",
    );
    let mut cache = MemoryCache::default();
    for _ in 0..2 {
        declarative::desired_schema_cached(
            &mut store,
            &source,
            &Schema::default(),
            Some(&mut cache),
        )
        .await
        .unwrap();
    }
    assert!(cache.entries.is_empty());
    assert_eq!(store.opened, 2);
}

/// The passes run on the server: a file out of order costs the same few requests however
/// many statements it holds, and its statements stay in the caller's transaction.
#[tokio::test]
async fn passes_run_out_of_order_statements_in_one_request() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    store.begin().await.unwrap();
    let failed = store
        .execute_in_passes(&[
            "CREATE VIEW v AS SELECT id FROM c",
            "CREATE TABLE c (id int PRIMARY KEY, b_id int REFERENCES b (id))",
            "CREATE TABLE broken (id intgr)",
            "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id))",
            "CREATE TABLE a (id int PRIMARY KEY)",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $godwit_statement_0$ SELECT 1 $godwit_statement_0$",
        ])
        .await
        .unwrap();
    assert_eq!(failed, [2]);
    let made = "SELECT count(*) FROM pg_catalog.pg_class WHERE relname IN ('a', 'b', 'c', 'v')";
    assert_eq!(scalar(&mut store, made).await, Value::Int(4));
    store.rollback().await.unwrap();
    assert_eq!(scalar(&mut store, made).await, Value::Int(0));
}

/// An error in the middle of a file out of order still names its line of the file, and the
/// database it came from is left empty.
#[tokio::test]
async fn an_error_in_the_middle_of_a_file_names_its_line() {
    let db = PgDatabase::create();
    let mut store = Relay::new(connect(&db).await);
    let dir = tempfile::tempdir().unwrap();
    let source = schema_file(
        &dir,
        "CREATE TABLE b (a_id int REFERENCES a (id));\n\
         \n\
         CREATE TABLE broken (\n    id intgr\n);\n\
         CREATE TABLE a (id int PRIMARY KEY);\n",
    );
    let error = declarative::desired_schema(&mut store, &source, &Schema::default())
        .await
        .unwrap_err();
    match &error {
        Error::Declarative(DeclarativeError::SchemaFile { cause, .. }) => {
            assert_eq!(cause.line, Some(4), "{error}");
            assert!(cause.message.contains("intgr"), "{error}");
        }
        other => panic!("expected a schema file error, got {other}"),
    }
    assert!(error.to_string().contains("schema.sql:4"), "{error}");
}

/// A scratch database a killed run left is dropped by the next run that builds a schema.
#[tokio::test]
async fn a_later_build_drops_the_scratch_database_a_killed_run_left() {
    let db = PgDatabase::create();
    let mut store = Relay::new(connect(&db).await);
    // godwit_scratch_<machine>_<pid>_...: this machine's tag, and a pid above Linux's largest.
    let machine = scratch_machine(&mut store).await;
    let dead = format!("godwit_scratch_{machine}_4194999_0_0");
    store
        .execute_script(&format!("CREATE DATABASE \"{dead}\""))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = schema_file(&dir, SCHEMA);
    let mut cache = MemoryCache::default();
    declarative::desired_schema_cached(&mut store, &source, &Schema::default(), Some(&mut cache))
        .await
        .unwrap();
    let exists = format!("SELECT count(*) FROM pg_catalog.pg_database WHERE datname = '{dead}'");
    assert_eq!(
        scalar(&mut connect(&db).await, &exists).await,
        Value::Int(0)
    );
}
