//! Reversible operations from Rust: a `MigrationBuilder` migration run by the `Migrator` beside
//! a SQL migration, rolled back to the schema before it, and applied again.
//!
//! ```text
//! cargo run -p godwit-sqlite --example operations [path/to/app.db]
//! ```
//!
//! Without a path, the database is `operations.db` in a temporary directory removed on exit.
//! `tests/examples.rs` runs it on every `cargo test`.

use std::path::{Path, PathBuf};

use godwit_core::operation::{Column, MigrationBuilder};
use godwit_core::{
    MigrateOptions, Migration, Migrations, Migrator, MigratorConfig, RollbackTarget, Script,
    Version,
};
use godwit_sqlite::{SqliteOptions, SqliteStore};

/// The program's migrations: one written in SQL, one built from operations whose SQL and
/// reverse godwit derives from the database when it runs.
fn migrations() -> Result<Migrations, Box<dyn std::error::Error>> {
    let create_users = Migration {
        version: Version::new(1).ok_or("version")?,
        name: "create_users".into(),
        up: Script::new(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);",
            None,
        )?,
        down: Some(Script::new("DROP TABLE users;", None)?),
        operations: None,
    };
    let add_avatar = MigrationBuilder::new("add_avatar")
        .add_column("users", Column::new("avatar_url", "TEXT").default("''"))
        .create_index("idx_users_email", "users", ["email"])
        .build(2)?;
    Ok(Migrations::from_list(vec![create_users, add_avatar])?)
}

/// Migrate the database at `path`, roll the operations back and apply them again, printing
/// what godwit rendered.
pub(crate) async fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStore::open(path, &SqliteOptions::default())?;
    let mut migrator = Migrator::new(
        Box::new(store),
        migrations()?,
        MigratorConfig::new("operations-example"),
    );

    // The SQL migration first, so the operations below are rendered against its table.
    let first = MigrateOptions {
        target: Version::new(1),
        ..MigrateOptions::default()
    };
    migrator.migrate(&first, &mut |_| {}).await?;

    // What would run, rendered against the database as it is; nothing changes yet.
    for step in migrator.plan(&MigrateOptions::default()).await?.steps {
        println!(
            "-- {} {}\n{}",
            step.migration.version, step.migration.name, step.migration.up.sql
        );
    }

    let report = migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await?;
    println!("applied {} migration(s)", report.completed.len());
    assert_eq!(report.completed.len(), 1);
    let history = migrator.history().await?;
    let row = history.last().ok_or("no history")?;
    println!(
        "recorded down script of {}:\n{}",
        row.name,
        row.down_script.as_deref().unwrap_or_default()
    );

    migrator
        .rollback(RollbackTarget::Steps(1), &mut |_| {})
        .await?;
    let columns = migrator
        .store_mut()
        .query(
            "SELECT name FROM pragma_table_info('users') ORDER BY cid",
            &[],
        )
        .await?;
    println!("after rollback, users has {} column(s)", columns.len());
    assert_eq!(columns.len(), 2, "the rollback removes avatar_url");

    let again = migrator
        .migrate(&MigrateOptions::default(), &mut |_| {})
        .await?;
    println!("applied {} migration(s) again", again.completed.len());
    assert_eq!(again.completed.len(), 1);
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The temporary directory is deleted when dropped, so it is held until the end of main.
    let (path, _temp_dir) = match std::env::args_os().nth(1) {
        Some(path) => (PathBuf::from(path), None),
        None => {
            let dir = tempfile::tempdir()?;
            (dir.path().join("operations.db"), Some(dir))
        }
    };
    run(&path).await
}
