//! Scripts, values, transactions and opening, against real database files.

use std::path::Path;
use std::time::Duration;

use godwit_core::{StatementError, Store, StoreError, Value};
use godwit_sqlite::{SqliteOptions, SqliteStore};

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path, &SqliteOptions::default()).unwrap()
}

fn temp_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("test.db"));
    (dir, store)
}

async fn script_error(store: &mut SqliteStore, sql: &str) -> StatementError {
    match store.execute_script(sql).await {
        Err(StoreError::Statement(error)) => error,
        other => panic!("expected a statement error, got {other:?}"),
    }
}

async fn tables(store: &mut SqliteStore) -> Vec<Value> {
    store
        .query(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .flatten()
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn trigger_bodies_run_as_one_statement() {
    let (_dir, mut store) = temp_store();
    store
        .execute_script(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);\n\
             CREATE TABLE audit (account_id INTEGER, note TEXT);\n\
             CREATE TRIGGER accounts_audit AFTER UPDATE ON accounts\n\
             BEGIN\n\
             \x20   INSERT INTO audit VALUES (NEW.id, 'changed; really');\n\
             \x20   UPDATE audit SET note = note || '!' WHERE account_id = NEW.id;\n\
             END;\n\
             INSERT INTO accounts VALUES (1, 10);\n\
             UPDATE accounts SET balance = 20 WHERE id = 1;\n",
        )
        .await
        .unwrap();
    let rows = store
        .query("SELECT account_id, note FROM audit", &[])
        .await
        .unwrap();
    assert_eq!(rows, [vec![Value::Int(1), Value::from("changed; really!")]]);
}

#[tokio::test(flavor = "current_thread")]
async fn semicolons_in_strings_and_comments_do_not_split() {
    let (_dir, mut store) = temp_store();
    store
        .execute_script(
            "-- a leading comment; with a semicolon\n\
             CREATE TABLE t (x TEXT);\n\
             /* a block comment;\n   over two lines; */\n\
             INSERT INTO t VALUES ('a;b'); -- trailing; comment\n\
             INSERT INTO t VALUES ('-- not a comment;'), ('/* nor this; */');\n\
             \n-- the script ends with a comment only\n",
        )
        .await
        .unwrap();
    let rows = store
        .query("SELECT x FROM t ORDER BY rowid", &[])
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            vec![Value::from("a;b")],
            vec![Value::from("-- not a comment;")],
            vec![Value::from("/* nor this; */")],
        ]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn statements_returning_rows_run_to_completion() {
    let (_dir, mut store) = temp_store();
    store
        .execute_script(
            "CREATE TABLE t (x INTEGER);\n\
             SELECT * FROM t;\n\
             PRAGMA user_version = 7;\n\
             PRAGMA user_version;\n\
             INSERT INTO t SELECT 1 UNION ALL SELECT 2;",
        )
        .await
        .unwrap();
    let version = store.query("PRAGMA user_version", &[]).await.unwrap();
    assert_eq!(version, [vec![Value::Int(7)]]);
    let count = store.query("SELECT count(*) FROM t", &[]).await.unwrap();
    assert_eq!(count, [vec![Value::Int(2)]]);
}

#[tokio::test(flavor = "current_thread")]
async fn empty_and_comment_only_scripts_do_nothing() {
    let (_dir, mut store) = temp_store();
    for script in ["", "   \n\t", "-- nothing here\n/* or here */", ";;\n;"] {
        store.execute_script(script).await.unwrap();
    }
    assert!(tables(&mut store).await.is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_syntax_error_is_located_at_its_line_and_column() {
    let (_dir, mut store) = temp_store();
    let error = script_error(
        &mut store,
        "-- create two tables\n\
         CREATE TABLE a (id INTEGER);\n\
         \n\
         CREATE TABLE b (\n\
         \x20   id INTEGER,, name TEXT\n\
         );\n\
         CREATE TABLE c (id INTEGER);\n",
    )
    .await;
    assert_eq!(error.statement_index, Some(2), "{error:?}");
    assert_eq!(error.line, Some(5), "{error:?}");
    assert_eq!(error.column, Some(16), "{error:?}");
    assert_eq!(error.code.as_deref(), Some("SQLITE_ERROR"));
    assert!(error.message.contains("syntax error"), "{error:?}");
    assert_eq!(
        error.statement.as_deref(),
        Some("CREATE TABLE b (\n    id INTEGER,, name TEXT")
    );
    assert_eq!(error.constraint, None);
    // Statements before the failure ran; none after it did.
    assert_eq!(tables(&mut store).await, [Value::from("a")]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_runtime_failure_names_the_statement_and_its_first_line() {
    let (_dir, mut store) = temp_store();
    let error = script_error(
        &mut store,
        "CREATE TABLE users (email TEXT UNIQUE);\n\
         INSERT INTO users VALUES ('a@example.com');\n\
         \n\
         -- the same address again\n\
         INSERT INTO users\n\
         VALUES ('a@example.com');\n\
         INSERT INTO users VALUES ('b@example.com');\n",
    )
    .await;
    assert_eq!(error.statement_index, Some(3), "{error:?}");
    assert_eq!(error.line, Some(5), "{error:?}");
    assert_eq!(error.column, None);
    assert_eq!(error.code.as_deref(), Some("SQLITE_CONSTRAINT_UNIQUE"));
    assert!(
        error
            .message
            .contains("UNIQUE constraint failed: users.email"),
        "{error:?}"
    );
    assert_eq!(
        error.statement.as_deref(),
        Some("INSERT INTO users\nVALUES ('a@example.com');")
    );
    let rows = store
        .query("SELECT count(*) FROM users", &[])
        .await
        .unwrap();
    assert_eq!(rows, [vec![Value::Int(1)]]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_missing_table_is_reported_at_the_statement_that_names_it() {
    let (_dir, mut store) = temp_store();
    let error = script_error(
        &mut store,
        "CREATE TABLE a (id INTEGER);\n\nINSERT INTO missing VALUES (1);\n",
    )
    .await;
    assert_eq!(error.statement_index, Some(2), "{error:?}");
    assert_eq!(error.line, Some(3), "{error:?}");
    assert!(
        error.message.contains("no such table: missing"),
        "{error:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_rolled_back_script_leaves_no_trace() {
    let (_dir, mut store) = temp_store();
    store.begin().await.unwrap();
    let error = script_error(
        &mut store,
        "CREATE TABLE kept_only_if_committed (id INTEGER);\nSELECT * FROM nowhere;",
    )
    .await;
    assert_eq!(error.statement_index, Some(2));
    store.rollback().await.unwrap();
    assert!(tables(&mut store).await.is_empty());
    // Rolling back with no transaction open (SQLite may already have ended it) is harmless.
    store.rollback().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn values_round_trip_through_parameters() {
    let (_dir, mut store) = temp_store();
    store
        .execute(
            "CREATE TABLE v (i INTEGER, t TEXT, n TEXT, r REAL, b BLOB)",
            &[],
        )
        .await
        .unwrap();
    let inserted = store
        .execute(
            "INSERT INTO v (i, t, n, r, b) VALUES (?1, ?2, ?3, 1.5, x'00ff10')",
            &[
                Value::Int(i64::MIN),
                Value::from("héllo; 'quoted' \"too\""),
                Value::Null,
            ],
        )
        .await
        .unwrap();
    assert_eq!(inserted, 1);
    let rows = store
        .query(
            "SELECT i, t, n, r, b FROM v WHERE i = ?1",
            &[Value::Int(i64::MIN)],
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        [vec![
            Value::Int(i64::MIN),
            Value::from("héllo; 'quoted' \"too\""),
            Value::Null,
            Value::from("1.5"),
            Value::from("00ff10"),
        ]]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn execute_counts_changed_rows_only() {
    let (_dir, mut store) = temp_store();
    store
        .execute("CREATE TABLE t (x INTEGER)", &[])
        .await
        .unwrap();
    let inserted = store
        .execute("INSERT INTO t VALUES (1), (2), (3)", &[])
        .await
        .unwrap();
    assert_eq!(inserted, 3);
    let updated = store
        .execute("UPDATE t SET x = x + 1 WHERE x > ?1", &[Value::Int(1)])
        .await
        .unwrap();
    assert_eq!(updated, 2);
    // DDL and queries change no rows, whatever the statement before them did.
    let created = store
        .execute("CREATE TABLE u (y INTEGER)", &[])
        .await
        .unwrap();
    assert_eq!(created, 0);
    let selected = store.execute("SELECT * FROM t", &[]).await.unwrap();
    assert_eq!(selected, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn database_errors_carry_sqlite_codes() {
    let (_dir, mut store) = temp_store();
    store
        .execute("CREATE TABLE t (x INTEGER NOT NULL)", &[])
        .await
        .unwrap();
    match store
        .execute("INSERT INTO t VALUES (?1)", &[Value::Null])
        .await
    {
        Err(StoreError::Database { message, code }) => {
            assert_eq!(code.as_deref(), Some("SQLITE_CONSTRAINT_NOTNULL"));
            assert!(
                message.contains("NOT NULL constraint failed: t.x"),
                "{message}"
            );
        }
        other => panic!("expected a database error, got {other:?}"),
    }
    match store.query("SELECT ?1, ?2", &[Value::Int(1)]).await {
        Err(StoreError::Database { message, .. }) => {
            assert!(message.contains("parameter"), "{message}");
        }
        other => panic!("expected a parameter count error, got {other:?}"),
    }
    match store.execute("SELECT 1; SELECT 2", &[]).await {
        Err(StoreError::Database { message, .. }) => {
            assert!(message.contains("Multiple statements"), "{message}");
        }
        other => panic!("expected one statement only, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn begin_takes_the_write_lock_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let mut first = open(&path);
    let impatient = SqliteOptions::default().with_busy_timeout(Duration::from_millis(50));
    let mut second = SqliteStore::open(&path, &impatient).unwrap();
    first.begin().await.unwrap();
    match second.begin().await {
        Err(StoreError::Database { code, .. }) => assert_eq!(code.as_deref(), Some("SQLITE_BUSY")),
        other => panic!("expected SQLITE_BUSY, got {other:?}"),
    }
    first.commit().await.unwrap();
    second.begin().await.unwrap();
    second.commit().await.unwrap();
}

#[test]
fn open_creates_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = open(&path);
    assert!(path.exists());
    let version: i64 = store
        .connection()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 0);
}

#[test]
fn open_explains_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("app.db");
    match SqliteStore::open(&path, &SqliteOptions::default()) {
        Err(StoreError::Connect { target, message }) => {
            assert_eq!(target, path.display().to_string());
            assert!(
                message.contains("unable to open database file"),
                "{message}"
            );
            assert!(
                message.contains(&format!(
                    "check that the directory {} exists",
                    dir.path().join("no-such-dir").display()
                )),
                "{message}"
            );
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[test]
fn open_refuses_a_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are not the pages you are looking for\n".repeat(100),
    )
    .unwrap();
    match SqliteStore::open(&path, &SqliteOptions::default()) {
        Err(StoreError::Connect { message, .. }) => {
            assert!(message.contains("file is not a database"), "{message}");
            assert!(message.contains("SQLite database file"), "{message}");
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn in_memory_stores_work() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store
        .execute_script("CREATE TABLE t (x); INSERT INTO t VALUES (42);")
        .await
        .unwrap();
    let rows = store.query("SELECT x FROM t", &[]).await.unwrap();
    assert_eq!(rows, [vec![Value::Int(42)]]);
    assert_eq!(store.dialect().name(), "sqlite");
}

/// A check of a generated migration fails the script with its message when its query finds a
/// row, and passes when it finds none; several checks can share one script.
#[tokio::test(flavor = "current_thread")]
async fn an_assertion_fails_with_its_message_only_when_its_query_finds_rows() {
    let (_dir, mut store) = temp_store();
    let dialect = store.dialect();
    let passing = dialect
        .assertion("SELECT 1 WHERE 0;", "rebuilding lost rows")
        .unwrap();
    let failing = dialect
        .assertion("SELECT 1", "rebuilding table \"t\" breaks a key")
        .unwrap();
    store.execute_script(&passing).await.unwrap();
    store.execute_script(&passing).await.unwrap();
    let error = script_error(&mut store, &failing).await;
    assert!(
        error
            .message
            .ends_with("CHECK constraint failed: rebuilding table \"t\" breaks a key"),
        "{error}"
    );
}

/// SQLite is handed one statement at a time, never the rest of the script: handed the rest,
/// it copied all of it before compiling the first statement there, so a script of n
/// statements copied about n²/2 statements' worth (minutes for 50 MB). SQLite checks its
/// length limit on what it is handed before that copy and on each statement it compiles, so a
/// limit far below the script's size and above each statement's tells the two apart without
/// timing anything.
#[tokio::test(flavor = "current_thread")]
async fn sqlite_is_handed_one_statement_at_a_time() {
    let (_dir, mut store) = temp_store();
    store
        .connection()
        .set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_SQL_LENGTH, 1_000)
        .unwrap();
    let mut script = String::from("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT);\n");
    for i in 0..2_000 {
        script.push_str(&format!(
            "INSERT INTO t VALUES ({i}, 'row {i}; with a semicolon');\n"
        ));
    }
    assert!(script.len() > 100_000);
    store.execute_script(&script).await.unwrap();
    let rows = store.query("SELECT count(*) FROM t", &[]).await.unwrap();
    assert_eq!(rows, [vec![Value::Int(2_000)]]);

    // The limit still holds for each statement, and the one over it is the one reported.
    let long = format!("SELECT 1;\nSELECT '{}';\n", "x".repeat(2_000));
    let error = script_error(&mut store, &long).await;
    assert_eq!(error.statement_index, Some(2), "{error:?}");
    assert_eq!(error.line, Some(2), "{error:?}");
    assert_eq!(error.code.as_deref(), Some("SQLITE_TOOBIG"), "{error:?}");
}
