//! The engine driving this store end to end.

use std::time::Duration;

use godwit_core::{
    EmbeddedMigration, Error, Event, HistoryTable, MigrateOptions, Migrations, Migrator,
    MigratorConfig, RollbackTarget, State, Status, Store, Value, Version,
};
use godwit_postgres::{PgOptions, PgStore};
use godwit_tests::PgDatabase;

use crate::{connect, table_exists};

const CREATE_ACCOUNTS: EmbeddedMigration = EmbeddedMigration {
    version: 1,
    name: "create_accounts",
    up: "CREATE TABLE accounts (id BIGINT PRIMARY KEY, email TEXT NOT NULL);\n\
         DO $$\n\
         BEGIN\n\
           IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'accounts_email_key') THEN\n\
             EXECUTE 'CREATE UNIQUE INDEX accounts_email_key ON accounts (email)';\n\
           END IF;\n\
         END\n\
         $$;\n",
    down: Some("DROP TABLE accounts;\n"),
    operations: false,
};

const INDEX_CONCURRENTLY: EmbeddedMigration = EmbeddedMigration {
    version: 2,
    name: "index_accounts_concurrently",
    up: "-- godwit:no-transaction\n\
         CREATE INDEX CONCURRENTLY accounts_id_email ON accounts (id, email);\n\
         COMMENT ON INDEX accounts_id_email IS 'built concurrently';\n",
    down: Some("-- godwit:no-transaction\nDROP INDEX CONCURRENTLY accounts_id_email;\n"),
    operations: false,
};

const DOOMED: EmbeddedMigration = EmbeddedMigration {
    version: 3,
    name: "doomed",
    up: "CREATE TABLE doomed (id int);\nINSERT INTO doomed VALUES ('not a number');\n",
    down: None,
    operations: false,
};

fn migrator(
    store: Box<dyn Store>,
    embedded: &[EmbeddedMigration],
    history: HistoryTable,
) -> Migrator {
    let mut config = MigratorConfig::new("godwit-postgres tests");
    config.history = history;
    config.lock_timeout = Duration::from_secs(5);
    Migrator::new(store, Migrations::from_embedded(embedded).unwrap(), config)
}

fn versions(completed: &[godwit_core::Completed]) -> Vec<i64> {
    completed.iter().map(|c| c.version.get()).collect()
}

#[tokio::test]
async fn migrate_roll_back_and_record_a_failure() {
    let db = PgDatabase::create();
    let mut events = Vec::new();
    let mut on_event = |event: &Event| events.push(event.clone());

    let mut run = migrator(
        Box::new(connect(&db).await),
        &[CREATE_ACCOUNTS, INDEX_CONCURRENTLY],
        HistoryTable::default(),
    );
    let report = run
        .migrate(&MigrateOptions::default(), &mut on_event)
        .await
        .unwrap();
    assert_eq!(versions(&report.completed), vec![1, 2]);
    let status = run.status().await.unwrap();
    assert_eq!(status.count(State::Applied), 2, "{status:?}");
    let history = run.history().await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|r| (r.status, r.transactional))
            .collect::<Vec<_>>(),
        vec![(Status::Applied, true), (Status::Applied, false)]
    );
    assert!(history.iter().all(|r| r.duration_ms.is_some()));
    let store = run.store_mut();
    let indexes = store
        .query(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'accounts' ORDER BY indexname",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        indexes,
        vec![
            vec!["accounts_email_key".into()],
            vec!["accounts_id_email".into()],
            vec!["accounts_pkey".into()],
        ]
    );

    // One step back: the no-transaction down script drops the index concurrently.
    let report = run
        .rollback(RollbackTarget::Steps(1), &mut on_event)
        .await
        .unwrap();
    assert_eq!(versions(&report.completed), vec![2]);
    let status = run.status().await.unwrap();
    assert_eq!(
        status.entries.iter().map(|e| e.state).collect::<Vec<_>>(),
        vec![State::Applied, State::RolledBack]
    );
    let remaining = run
        .store_mut()
        .query(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'accounts_id_email'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(remaining, vec![vec![Value::Int(0)]]);

    // A failing migration: the one before it is re-applied, the failure is recorded, and its
    // transaction leaves nothing behind.
    let mut run = migrator(
        run.into_store(),
        &[CREATE_ACCOUNTS, INDEX_CONCURRENTLY, DOOMED],
        HistoryTable::default(),
    );
    match run.migrate(&MigrateOptions::default(), &mut on_event).await {
        Err(Error::MigrationFailed {
            version,
            transactional,
            applied,
            cause,
            ..
        }) => {
            assert_eq!(version, Version::new(3).unwrap());
            assert!(transactional);
            assert_eq!(applied, vec![Version::new(2).unwrap()]);
            assert_eq!(cause.code.as_deref(), Some("22P02"), "{cause}");
            assert_eq!(cause.line, Some(2), "{cause}");
        }
        other => panic!("expected the migration to fail, got {other:?}"),
    }
    let history = run.history().await.unwrap();
    let failed = history
        .iter()
        .find(|r| r.version.get() == 3)
        .expect("a history row for 3");
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.error_line, Some(2));
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("invalid input syntax")),
        "{failed:?}"
    );
    assert_eq!(
        failed.error_statement.as_deref(),
        Some("INSERT INTO doomed VALUES ('not a number')")
    );
    let status = run.status().await.unwrap();
    assert_eq!(
        status.entries.iter().map(|e| e.state).collect::<Vec<_>>(),
        vec![State::Applied, State::Applied, State::Failed]
    );
    let mut store = connect(&db).await;
    assert!(!table_exists(&mut store, "public", "doomed").await);
    assert!(table_exists(&mut store, "public", "accounts").await);
    // The lock was released after the failure.
    assert_eq!(run.lock_holder().await.unwrap(), None);
    assert!(events.iter().any(|e| matches!(e, Event::RolledBack { .. })));
}

#[tokio::test]
async fn a_schema_option_keeps_history_and_tables_in_that_schema() {
    let db = PgDatabase::create();
    let options = PgOptions {
        schema: Some("app".into()),
        ..PgOptions::default()
    };
    let store = PgStore::connect(&db.url, &options).await.unwrap();
    let history = HistoryTable::new(Some("app".into()), "godwit_migrations");
    let mut run = migrator(Box::new(store), &[CREATE_ACCOUNTS], history.clone());
    run.migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(run.status().await.unwrap().count(State::Applied), 1);

    let mut observer = connect(&db).await;
    assert!(table_exists(&mut observer, "app", "godwit_migrations").await);
    assert!(table_exists(&mut observer, "app", "godwit_migrations_meta").await);
    assert!(table_exists(&mut observer, "app", "accounts").await);
    assert!(!table_exists(&mut observer, "public", "godwit_migrations").await);
    assert!(!table_exists(&mut observer, "public", "accounts").await);
    assert!(
        godwit_core::history::exists(&mut observer, &history)
            .await
            .unwrap()
    );
}
