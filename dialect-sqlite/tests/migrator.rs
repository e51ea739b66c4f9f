//! The whole engine through a SQLite store: migrate, status, a failure, rollback.

use std::path::Path;

use godwit_core::{
    EmbeddedMigration, Error, Event, MigrateOptions, Migrations, Migrator, MigratorConfig,
    RollbackTarget, State, Status, Store, Value,
};
use godwit_sqlite::{SqliteOptions, SqliteStore};

const CREATE_WIDGETS: EmbeddedMigration = EmbeddedMigration {
    version: 1,
    name: "create_widgets",
    up: "CREATE TABLE widgets (\n\
         \x20   id INTEGER PRIMARY KEY,\n\
         \x20   name TEXT NOT NULL UNIQUE\n\
         );\n\
         INSERT INTO widgets (name) VALUES ('a;b');\n",
    down: Some("DROP TABLE widgets;\n"),
    operations: false,
};

const VACUUM: EmbeddedMigration = EmbeddedMigration {
    version: 2,
    name: "vacuum",
    up: "-- godwit:no-transaction\n-- VACUUM refuses to run inside a transaction.\nVACUUM;\n",
    down: None,
    operations: false,
};

const WIDGET_LOG: EmbeddedMigration = EmbeddedMigration {
    version: 3,
    name: "widget_log",
    up: "CREATE TABLE widget_log (widget_id INTEGER, event TEXT);\n\
         CREATE TRIGGER widgets_logged AFTER UPDATE ON widgets\n\
         BEGIN\n\
         \x20   INSERT INTO widget_log VALUES (NEW.id, 'renamed; to ' || NEW.name);\n\
         END;\n",
    down: Some("DROP TRIGGER widgets_logged;\nDROP TABLE widget_log;\n"),
    operations: false,
};

const BROKEN: EmbeddedMigration = EmbeddedMigration {
    version: 4,
    name: "gadgets",
    up: "CREATE TABLE gadgets (id INTEGER PRIMARY KEY);\n\
         INSERT INTO widgets (name) VALUES ('a;b');\n",
    down: Some("DROP TABLE gadgets;\n"),
    operations: false,
};

fn migrator(path: &Path, embedded: &[EmbeddedMigration]) -> Migrator {
    let store = SqliteStore::open(path, &SqliteOptions::default()).unwrap();
    Migrator::new(
        Box::new(store),
        Migrations::from_embedded(embedded).unwrap(),
        MigratorConfig::new("godwit-sqlite tests"),
    )
}

async fn rows(store: &mut dyn Store, sql: &str) -> Vec<Vec<Value>> {
    store.query(sql, &[]).await.unwrap()
}

async fn schema(store: &mut dyn Store) -> Vec<Vec<Value>> {
    rows(
        store,
        "SELECT type, name, sql FROM sqlite_master ORDER BY type, name",
    )
    .await
}

fn states(report: &godwit_core::StatusReport) -> Vec<(i64, State)> {
    report
        .entries
        .iter()
        .map(|e| (e.version.get(), e.state))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn migrate_fail_and_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let first_three = [CREATE_WIDGETS, VACUUM, WIDGET_LOG];

    // A fresh database: everything is pending, and looking creates nothing.
    let mut m = migrator(&path, &first_three);
    let status = m.status().await.unwrap();
    assert_eq!(
        states(&status),
        [
            (1, State::Pending),
            (2, State::Pending),
            (3, State::Pending)
        ]
    );
    assert!(schema(m.store_mut()).await.is_empty());

    let mut events = Vec::new();
    let report = m
        .migrate(&MigrateOptions::default(), &mut |event: &Event| {
            events.push(event.clone())
        })
        .await
        .unwrap();
    let done: Vec<i64> = report.completed.iter().map(|c| c.version.get()).collect();
    assert_eq!(done, [1, 2, 3]);
    assert_eq!(events.first(), Some(&Event::Locked));
    assert_eq!(events.get(1), Some(&Event::Planned { count: 3 }));
    let transactional: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            Event::Applying { transactional, .. } => Some(*transactional),
            _ => None,
        })
        .collect();
    assert_eq!(transactional, [true, false, true]);

    let status = m.status().await.unwrap();
    assert_eq!(
        states(&status),
        [
            (1, State::Applied),
            (2, State::Applied),
            (3, State::Applied)
        ]
    );
    let history = m.history().await.unwrap();
    assert!(history.iter().all(|r| r.status == Status::Applied));
    assert!(!history[1].transactional);
    assert_eq!(m.lock_holder().await.unwrap(), None, "the lock is released");

    // The trigger from migration 3 works, semicolons in its body included.
    let store = m.store_mut();
    store
        .execute("UPDATE widgets SET name = 'c' WHERE name = 'a;b'", &[])
        .await
        .unwrap();
    assert_eq!(
        rows(store, "SELECT event FROM widget_log").await,
        [vec![Value::from("renamed; to c")]]
    );
    store
        .execute("UPDATE widgets SET name = 'a;b' WHERE name = 'c'", &[])
        .await
        .unwrap();
    let before = schema(store).await;

    // Nothing pending: a second run does nothing.
    let report = m
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert!(report.completed.is_empty());
    drop(m);

    // Migration 4 fails in its second statement: its first is rolled back with it.
    let mut m = migrator(&path, &[CREATE_WIDGETS, VACUUM, WIDGET_LOG, BROKEN]);
    match m.migrate(&MigrateOptions::default(), &mut |_| {}).await {
        Err(Error::MigrationFailed {
            version,
            transactional,
            applied,
            cause,
            ..
        }) => {
            assert_eq!(version.get(), 4);
            assert!(transactional);
            assert!(applied.is_empty());
            assert_eq!(cause.statement_index, Some(2));
            assert_eq!(cause.line, Some(2));
            assert_eq!(cause.code.as_deref(), Some("SQLITE_CONSTRAINT_UNIQUE"));
        }
        other => panic!("expected migration 4 to fail, got {other:?}"),
    }
    assert_eq!(
        schema(m.store_mut()).await,
        before,
        "the schema is unchanged"
    );
    let status = m.status().await.unwrap();
    assert_eq!(status.entries[3].state, State::Failed);
    assert!(
        status.entries[3]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("UNIQUE constraint failed: widgets.name")),
        "{:?}",
        status.entries[3]
    );
    let failed = m.history().await.unwrap().pop().unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.error_line, Some(2));
    assert_eq!(
        failed.error_statement.as_deref(),
        Some("INSERT INTO widgets (name) VALUES ('a;b');")
    );
    assert_eq!(
        m.lock_holder().await.unwrap(),
        None,
        "a failed run releases the lock"
    );

    // Rolling back one step reverts migration 3, the newest applied one.
    let report = m
        .rollback(RollbackTarget::Steps(1), &mut |_| {})
        .await
        .unwrap();
    let undone: Vec<i64> = report.completed.iter().map(|c| c.version.get()).collect();
    assert_eq!(undone, [3]);
    let status = m.status().await.unwrap();
    assert_eq!(
        states(&status),
        [
            (1, State::Applied),
            (2, State::Applied),
            (3, State::RolledBack),
            (4, State::Failed),
        ]
    );
    let names: Vec<Vec<Value>> = rows(
        m.store_mut(),
        "SELECT name FROM sqlite_master WHERE name LIKE 'widget%' ORDER BY name",
    )
    .await;
    assert_eq!(names, [vec![Value::from("widgets")]]);
}
