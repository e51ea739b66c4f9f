//! `core::declarative::apply` against a real SQLite file: a change that fails inside its
//! transaction leaves the data intact and still restores the connection state that its leading
//! non-transactional statements changed.

use godwit_core::declarative::{apply, introspect, plan_changes};
use godwit_core::dialect::RenderOptions;
use godwit_core::diff::Renames;
use godwit_core::{HistoryTable, Store, Value};
use godwit_sqlite::{SqliteOptions, SqliteStore};

async fn scalar(store: &mut dyn Store, sql: &str) -> i64 {
    match store.query(sql, &[]).await.unwrap()[0][0] {
        Value::Int(n) => n,
        ref other => panic!("{sql} returned {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_rebuild_rolls_back_and_turns_foreign_keys_back_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut target =
        SqliteStore::open(&dir.path().join("app.db"), &SqliteOptions::default()).unwrap();
    target
        .execute_script(
            "PRAGMA foreign_keys = ON;\n\
             CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n\
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);\n\
             INSERT INTO parent VALUES (1, NULL), (2, 'b');\n\
             INSERT INTO child VALUES (10, 1), (20, 2);\n",
        )
        .await
        .unwrap();
    let mut scratch = SqliteStore::open_in_memory().unwrap();
    scratch
        .execute_script(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);\n",
        )
        .await
        .unwrap();
    let history = HistoryTable::default();
    let current = introspect(&mut target, &history).await.unwrap();
    let desired = introspect(&mut scratch, &history).await.unwrap();
    let plan = plan_changes(
        target.dialect(),
        &current,
        &desired,
        &Renames::default(),
        &RenderOptions::default(),
    )
    .unwrap();
    assert!(
        plan.statements.iter().any(|s| !s.transactional),
        "a NOT NULL change on SQLite is a rebuild with foreign keys off: {plan:#?}"
    );

    // Parent 1 has a NULL name, so copying into the NOT NULL table fails.
    let error = apply(&mut target, &plan.statements).await.unwrap_err();
    assert!(error.to_string().contains("rolled back"), "{error}");

    assert_eq!(scalar(&mut target, "SELECT count(*) FROM parent").await, 2);
    assert_eq!(scalar(&mut target, "SELECT count(*) FROM child").await, 2);
    assert_eq!(scalar(&mut target, "PRAGMA foreign_keys").await, 1);
    assert_eq!(introspect(&mut target, &history).await.unwrap(), current);
}
