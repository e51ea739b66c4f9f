//! What MySQL does differently from the engines the kit was written for: DDL that commits
//! implicitly, DML that still rolls back, and a lock whose holder is a server session.

use std::path::Path;
use std::time::Duration;

use godwit_core::{
    Error, HistoryTable, Liveness, LockOwner, LockRequest, MigrateOptions, Migrations, Migrator,
    MigratorConfig, Outcome, Status, Store, StoreError,
};
use godwit_mysql::MySqlStore;
use godwit_tests::MySqlDatabase;

fn migrations(dir: &Path, files: &[(&str, &str)]) -> Migrations {
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql).expect("write migration");
    }
    Migrations::from_dir(dir).expect("load migrations")
}

async fn migrator(database: &MySqlDatabase, migrations: Migrations) -> Migrator {
    let store = MySqlStore::connect(&database.url).await.expect("connect");
    Migrator::new(
        Box::new(store),
        migrations,
        MigratorConfig::new("godwit mysql tests"),
    )
}

async fn count(database: &MySqlDatabase, sql: &str) -> godwit_core::Value {
    let mut store = MySqlStore::connect(&database.url).await.expect("connect");
    let rows = store.query(sql, &[]).await.expect("query");
    rows[0][0].clone()
}

#[tokio::test]
async fn a_migration_of_dml_alone_rolls_back_whole() {
    let database = MySqlDatabase::create();
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = migrations(
        dir.path(),
        &[
            ("1_t.up.sql", "CREATE TABLE t (id INT PRIMARY KEY);"),
            (
                "2_rows.up.sql",
                "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n",
            ),
        ],
    );
    let mut migrator = migrator(&database, migrations).await;
    let error = migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    match error {
        Error::MigrationFailed {
            transactional,
            cause,
            ..
        } => {
            assert!(transactional, "DML runs in a transaction");
            assert_eq!(cause.line, Some(2), "{cause:?}");
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(
        count(&database, "SELECT COUNT(*) FROM t").await,
        godwit_core::Value::Int(0)
    );
    let history = migrator.history().await.expect("history");
    assert!(!history[0].transactional, "DDL ran outside one");
    assert_eq!(history[1].status, Status::Failed);
    assert!(history[1].transactional);
    let diagnosis = migrator.diagnose().await.expect("diagnose");
    assert_eq!(diagnosis[0].outcome, Outcome::NothingApplied);
}

#[tokio::test]
async fn a_failed_ddl_migration_lists_what_ran_and_claims_no_rollback() {
    let database = MySqlDatabase::create();
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = migrations(
        dir.path(),
        &[(
            "1_tables.up.sql",
            "CREATE TABLE first (id INT);\nINSERT INTO first VALUES (1);\nCREATE TABLE first (id INT);\n",
        )],
    );
    let mut migrator = migrator(&database, migrations).await;
    let error = migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                transactional: false,
                ..
            }
        ),
        "{error}"
    );
    // The implicit commits kept the table and its row.
    assert_eq!(
        count(&database, "SELECT COUNT(*) FROM first").await,
        godwit_core::Value::Int(1)
    );
    let diagnosis = migrator.diagnose().await.expect("diagnose");
    match &diagnosis[0].outcome {
        Outcome::PartlyApplied { ran, not_run } => {
            let lines: Vec<usize> = ran.iter().map(|s| s.line).collect();
            assert_eq!(lines, [1, 2]);
            assert_eq!(not_run[0].line, 3);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!diagnosis[0].transactional);
}

#[tokio::test]
async fn the_lock_holder_is_a_named_session() {
    let database = MySqlDatabase::create();
    let table = HistoryTable::default();
    let owner = LockOwner::current("holder-host", "holder");
    let mut holder = MySqlStore::connect(&database.url).await.expect("connect");
    let mut waiter = MySqlStore::connect(&database.url).await.expect("connect");
    let request = |timeout| LockRequest {
        table: &table,
        owner: &owner,
        timeout,
    };
    holder.lock(&request(Duration::from_secs(5))).await.unwrap();
    let error = waiter
        .lock(&request(Duration::from_millis(300)))
        .await
        .unwrap_err();
    let StoreError::LockTimeout {
        holder: Some(named),
        ..
    } = error
    else {
        panic!("unexpected {error}");
    };
    assert!(named.pid.is_some(), "{named:?}");
    assert!(
        named.host.as_deref().is_some_and(|h| h.contains('@')),
        "{named:?}"
    );
    assert!(named.since.is_some(), "{named:?}");
    assert_eq!(named.liveness, Liveness::Session);
    // Without force a live session's lock stays.
    assert!(matches!(
        waiter.clear_lock(&table, false).await,
        Err(StoreError::LockHeld { .. })
    ));
    holder.unlock(&table).await.unwrap();
    assert_eq!(waiter.lock_holder(&table).await.unwrap(), None);
    waiter.lock(&request(Duration::from_secs(5))).await.unwrap();
    // Forced, the holder's session is killed and the lock freed.
    holder.clear_lock(&table, true).await.unwrap();
    assert_eq!(holder.lock_holder(&table).await.unwrap(), None);
}

#[tokio::test]
async fn runners_of_two_databases_on_one_server_do_not_share_the_lock() {
    let (first, second) = (MySqlDatabase::create(), MySqlDatabase::create());
    let table = HistoryTable::default();
    let owner = LockOwner::current("host", "runner");
    let request = LockRequest {
        table: &table,
        owner: &owner,
        timeout: Duration::from_millis(300),
    };
    let mut one = MySqlStore::connect(&first.url).await.expect("connect");
    let mut other = MySqlStore::connect(&second.url).await.expect("connect");
    one.lock(&request).await.unwrap();
    other.lock(&request).await.unwrap();
    assert!(one.lock_holder(&table).await.unwrap().is_some());
    one.unlock(&table).await.unwrap();
    other.unlock(&table).await.unwrap();
}

/// `url` with `user` and `password` in place of its credentials.
fn with_credentials(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    let encoded: String = password
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{scheme}://{user}:{encoded}@{host}")
}

/// The `mariadb` (or `mysql`) client's connection arguments for the test server's admin
/// URL, as a user would restore a dump.
fn client_arguments(url: &str) -> Vec<String> {
    use std::str::FromStr as _;
    let options = sqlx::mysql::MySqlConnectOptions::from_str(url).expect("admin URL");
    let mut args = vec![format!("--user={}", options.get_username())];
    match options.get_socket() {
        Some(socket) => args.push(format!("--socket={}", socket.display())),
        None => args.extend([
            format!("--host={}", options.get_host()),
            format!("--port={}", options.get_port()),
            "--protocol=TCP".into(),
        ]),
    }
    args
}

#[tokio::test]
async fn a_backup_restores_into_a_fresh_database_and_never_shows_the_password() {
    let (database, restored) = (MySqlDatabase::create(), MySqlDatabase::create());
    // A user with a password that needs every escape the option file has.
    let user = format!("u{}", &database.name[database.name.len() - 12..]);
    let password = r#"p"w\#d 'x;y"#;
    let mut admin = MySqlStore::connect(&database.url).await.expect("connect");
    // The restored trigger runs with its definer's rights, so the user is granted both
    // databases.
    for host in ["%", "localhost"] {
        admin
            .execute_script(&format!(
                "CREATE USER '{user}'@'{host}' IDENTIFIED BY 'p\"w\\\\#d ''x;y';\n\
                 GRANT ALL ON `{}`.* TO '{user}'@'{host}';\n\
                 GRANT ALL ON `{}`.* TO '{user}'@'{host}';",
                database.name, restored.name
            ))
            .await
            .expect("create the user");
    }
    let url = with_credentials(&database.url, &user, password);

    let dir = tempfile::tempdir().expect("temp dir");
    let backups = dir.path().join("backups");
    let files = tempfile::tempdir().expect("temp dir");
    let migrations = migrations(
        files.path(),
        &[(
            "1_items.up.sql",
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, \
                   raw VARBINARY(4), touched INT NOT NULL DEFAULT 0);\n\
                 INSERT INTO items VALUES (1, 'caf\u{e9}', 0x00ff, 0), (2, 'it''s', NULL, 0);\n\
                 CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW \
                   SET NEW.touched = OLD.touched + 1;\n\
                 DELIMITER //\n\
                 CREATE PROCEDURE item_count(OUT n INT)\nBEGIN\n  SELECT COUNT(*) INTO n FROM items;\nEND//\n\
                 DELIMITER ;\n",
        )],
    );
    let store = MySqlStore::connect(&url)
        .await
        .expect("connect as the user");
    let mut migrator = Migrator::new(
        Box::new(store),
        migrations,
        MigratorConfig::new("godwit mysql tests"),
    );
    migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await
        .expect("migrate");
    std::fs::write(
        files.path().join("2_note.up.sql"),
        "ALTER TABLE items ADD COLUMN note TEXT NULL;\n",
    )
    .expect("write migration");
    let store = MySqlStore::connect(&url)
        .await
        .expect("connect as the user");
    let mut migrator = Migrator::new(
        Box::new(store),
        Migrations::from_dir(files.path()).expect("load migrations"),
        MigratorConfig::new("godwit mysql tests"),
    );
    let options = MigrateOptions {
        backup: Some(godwit_core::BackupOptions {
            dir: Some(backups.clone()),
        }),
        ..MigrateOptions::default()
    };
    let report = migrator
        .migrate(&options, &mut |_| {})
        .await
        .expect("migrate with a backup");
    let backup = report.backup.expect("a backup was taken");
    assert_eq!(
        backup.path.parent(),
        Some(backups.canonicalize().unwrap().as_path())
    );
    let file_name = backup
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        file_name.starts_with(&format!("{}.", database.name)) && file_name.ends_with("Z.sql"),
        "{file_name}"
    );
    let dump = std::fs::read_to_string(&backup.path).expect("read the dump");
    assert_eq!(backup.bytes, dump.len() as u64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&backup.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the dump is its owner's alone");
    }
    // Taken before migration 2: the table has no `note` yet.
    assert!(dump.contains("CREATE TABLE `items`"), "{dump}");
    assert!(!dump.contains("`note`"), "{dump}");
    assert!(!dump.contains(password), "the dump holds no password");

    // Restored with the client as a user would, into another database.
    let restore = std::process::Command::new("mariadb")
        .args(client_arguments(&godwit_tests::mysql_admin_url()))
        .arg(&restored.name)
        .stdin(std::fs::File::open(&backup.path).unwrap())
        .output()
        .expect("run the mariadb client");
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let mut copy = MySqlStore::connect(&restored.url).await.expect("connect");
    let rows = copy
        .query("SELECT id, name, HEX(raw) FROM items ORDER BY id", &[])
        .await
        .expect("read the rows");
    assert_eq!(
        format!("{rows:?}"),
        format!(
            "{:?}",
            [
                vec![
                    godwit_core::Value::Int(1),
                    godwit_core::Value::from("caf\u{e9}"),
                    godwit_core::Value::from("00FF")
                ],
                vec![
                    godwit_core::Value::Int(2),
                    godwit_core::Value::from("it's"),
                    godwit_core::Value::Null
                ],
            ]
        )
    );
    // The trigger and the procedure came along, and the history with them.
    copy.execute_script("UPDATE items SET name = 'x' WHERE id = 1;\nCALL item_count(@n);")
        .await
        .expect("the trigger and the procedure exist");
    let touched = copy
        .query("SELECT touched, @n FROM items WHERE id = 1", &[])
        .await
        .expect("read");
    assert_eq!(
        touched[0],
        [godwit_core::Value::Int(1), godwit_core::Value::Int(2)]
    );
    let versions = copy
        .query("SELECT COUNT(*) FROM godwit_migrations", &[])
        .await
        .expect("the history was dumped");
    assert_eq!(versions[0][0], godwit_core::Value::Int(1));

    for host in ["%", "localhost"] {
        admin
            .execute_script(&format!("DROP USER '{user}'@'{host}';"))
            .await
            .expect("drop the user");
    }
}
