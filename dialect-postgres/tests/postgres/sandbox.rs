//! A schema file runs on a scratch database and reaches nothing else: statements that act on
//! the server are refused before anything runs, what runs runs in one transaction (also when
//! retried statement by statement), and code runs only in a sandbox whose role owns nothing
//! but the scratch database.

use godwit_core::declarative::{self, DeclarativeError, SchemaSource};
use godwit_core::schema::Schema;
use godwit_core::{Capabilities, Dialect, Error, HistoryTable, Store, Value};
use godwit_postgres::{PgDialect, PgOptions, PgStore};
use godwit_tests::PgDatabase;

use crate::{Relay, connect, scalar};

fn schema_file(sql: &str) -> (tempfile::TempDir, SchemaSource) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    std::fs::write(&file, sql).unwrap();
    let source = SchemaSource::load(&file).unwrap();
    (dir, source)
}

async fn database_exists(store: &mut PgStore, name: &str) -> bool {
    let found = store
        .query(
            "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1",
            &[Value::from(name)],
        )
        .await
        .unwrap();
    !found.is_empty()
}

/// Every kind of statement the PostgreSQL screening refuses, on a line of its own after a
/// table: the file is refused naming that line, and no scratch database is even made.
#[tokio::test]
async fn refused_statements_stop_the_file_before_anything_runs() {
    let db = PgDatabase::create();
    let victim = PgDatabase::create();
    let refused = [
        format!("DROP DATABASE \"{}\"", victim.name),
        format!("ALTER DATABASE \"{}\" RENAME TO gone", victim.name),
        "CREATE DATABASE other".into(),
        "CREATE ROLE intruder SUPERUSER".into(),
        "ALTER ROLE postgres NOLOGIN".into(),
        "DROP OWNED BY postgres".into(),
        "CREATE TABLESPACE ts LOCATION '/tmp'".into(),
        "ALTER SYSTEM SET fsync = off".into(),
        "COPY (SELECT 1) TO PROGRAM 'touch /tmp/godwit-escaped'".into(),
        "COPY users FROM '/etc/passwd'".into(),
        "LOAD 'auto_explain'".into(),
        "COMMIT".into(),
        "SET ROLE postgres".into(),
        "GRANT pg_read_server_files TO PUBLIC".into(),
        format!("GRANT CONNECT ON DATABASE \"{}\" TO PUBLIC", victim.name),
        "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw".into(),
        "INSERT INTO users VALUES (1)".into(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity".into(),
    ];
    for statement in refused {
        let (_dir, source) = schema_file(&format!(
            "CREATE TABLE users (id int PRIMARY KEY);\n{statement};\n"
        ));
        let mut store = Relay::new(connect(&db).await);
        let error = declarative::desired_schema(&mut store, &source, &Schema::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Declarative(DeclarativeError::RefusedStatement { line: 2, .. })
            ),
            "{statement}: {error}"
        );
        assert_eq!(store.opened, 0, "{statement} opened a scratch database");
    }
    assert!(database_exists(&mut connect(&db).await, &victim.name).await);
    assert!(!std::path::Path::new("/tmp/godwit-escaped").exists());
}

/// Even a statement the screening let through cannot run outside the transaction: statements
/// out of dependency order are retried one by one inside it, where PostgreSQL refuses
/// `DROP DATABASE`.
/// PostgreSQL without the screening: what a statement that slipped through would meet.
#[derive(Debug)]
struct Trusting;

impl Dialect for Trusting {
    fn name(&self) -> &'static str {
        PgDialect.name()
    }

    fn capabilities(&self) -> Capabilities {
        PgDialect.capabilities()
    }

    fn placeholder(&self, index: usize) -> String {
        PgDialect.placeholder(index)
    }

    fn table_exists_query(&self, schema: Option<&str>, name: &str) -> (String, Vec<Value>) {
        PgDialect.table_exists_query(schema, name)
    }

    fn quote_identifier(&self, ident: &str) -> String {
        PgDialect.quote_identifier(ident)
    }

    fn history_table_ddl(&self, table: &HistoryTable) -> Vec<String> {
        PgDialect.history_table_ddl(table)
    }
}

#[tokio::test]
async fn statements_retried_in_passes_stay_inside_the_transaction() {
    let db = PgDatabase::create();
    let victim = PgDatabase::create();
    let (_dir, source) = schema_file(&format!(
        "CREATE TABLE b (a_id int REFERENCES a (id));\n\
         CREATE TABLE a (id int PRIMARY KEY);\n\
         DROP DATABASE \"{}\";\n",
        victim.name
    ));
    let mut store = Relay::new(connect(&db).await).with_dialect(Trusting);
    let error = declarative::desired_schema(&mut store, &source, &Schema::default())
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot run inside a transaction block"),
        "{error}"
    );
    assert!(database_exists(&mut connect(&db).await, &victim.name).await);

    // Without the DROP DATABASE the passes find the order and commit.
    let (_dir, source) = schema_file(
        "CREATE TABLE b (a_id int REFERENCES a (id));\nCREATE TABLE a (id int PRIMARY KEY);\n",
    );
    let desired = declarative::desired_schema(&mut store, &source, &Schema::default())
        .await
        .unwrap();
    assert_eq!(desired.tables.len(), 2);
}

/// `url` with its user replaced by `user`.
fn as_user(url: &str, user: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_username(user).unwrap();
    url.to_string()
}

/// A role that may create databases but not roles gets scratch databases, and no sandbox: a
/// DO block is refused naming the line, and nothing of the file runs.
#[tokio::test]
async fn a_role_that_cannot_create_roles_has_its_code_refused() {
    let db = PgDatabase::create();
    let role = format!("{}_app", db.name);
    let mut admin = connect(&db).await;
    admin
        .execute_script(&format!("CREATE ROLE \"{role}\" LOGIN CREATEDB"))
        .await
        .unwrap();
    let mut store = PgStore::connect(&as_user(&db.url, &role), &PgOptions::default())
        .await
        .unwrap();
    let (_dir, source) = schema_file(
        "CREATE TABLE users (id int PRIMARY KEY);\n\
         DO $$ BEGIN EXECUTE 'CREATE TABLE audit (at timestamptz)'; END $$;\n",
    );
    let error = declarative::desired_schema(&mut store, &source, &Schema::default())
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            Error::Declarative(DeclarativeError::NoSandbox { line: 2, .. })
        ),
        "{message}"
    );
    assert!(message.contains("may not create the role"), "{message}");

    let (_dir, source) = schema_file("CREATE TABLE users (id int PRIMARY KEY);\n");
    let desired = declarative::desired_schema(&mut store, &source, &Schema::default())
        .await
        .unwrap();
    assert_eq!(desired.tables.len(), 1);
    drop(store);
    admin
        .execute_script(&format!("DROP ROLE \"{role}\""))
        .await
        .unwrap();
}

/// A DO block runs as the sandbox's role: it may build the scratch database, it may not read
/// server files or touch another database, and the role is gone afterwards.
#[tokio::test]
async fn code_runs_as_a_role_that_owns_only_the_scratch_database() {
    let db = PgDatabase::create();
    let victim = PgDatabase::create();
    let mut store = connect(&db).await;
    for escape in [
        format!("ALTER DATABASE \"{}\" SET work_mem = 1024", victim.name),
        "COPY (SELECT 1) TO ''/tmp/godwit-escaped''".into(),
        "CREATE ROLE intruder".into(),
    ] {
        let (_dir, source) = schema_file(&format!(
            "CREATE TABLE users (id int PRIMARY KEY);\nDO $$ BEGIN EXECUTE '{escape}'; END $$;\n"
        ));
        let error = declarative::desired_schema(&mut store, &source, &Schema::default())
            .await
            .unwrap_err();
        assert!(
            ["permission denied", "must be owner", "must be superuser"]
                .iter()
                .any(|refusal| error.to_string().contains(refusal)),
            "{escape}: {error}"
        );
    }
    assert!(!std::path::Path::new("/tmp/godwit-escaped").exists());
    assert_eq!(
        scalar(
            &mut store,
            &format!(
                "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase \
                 WHERE d.datname = '{}'",
                victim.name
            )
        )
        .await,
        Value::Int(0)
    );
    assert_eq!(
        scalar(
            &mut store,
            "SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'"
        )
        .await,
        Value::Int(0)
    );
}

/// `CREATE INDEX CONCURRENTLY` cannot run in a transaction block: it runs on its own once the
/// rest of the file has committed, in whatever order the file has it.
#[tokio::test]
async fn a_concurrent_index_runs_alone_after_the_rest() {
    let db = PgDatabase::create();
    let mut store = connect(&db).await;
    let (_dir, source) = schema_file(
        "CREATE INDEX CONCURRENTLY username ON users (name);\n\
         CREATE TABLE users (id bigint PRIMARY KEY, name text);\n",
    );
    let desired = declarative::desired_schema(&mut store, &source, &Schema::default())
        .await
        .unwrap();
    assert_eq!(desired.tables.len(), 1);
    assert_eq!(
        desired.tables[0].indexes.len(),
        1,
        "{:?}",
        desired.tables[0]
    );
}
