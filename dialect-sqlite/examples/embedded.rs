//! Embedding godwit: migrations compiled into the program with `godwit::embed_migrations!` and
//! applied to a SQLite database when the program starts.
//!
//! ```text
//! cargo run -p godwit-sqlite --example embedded [path/to/app.db]
//! ```
//!
//! Without a path, the database is `example.db` in a temporary directory removed on exit.

use std::path::PathBuf;

use godwit_core::{
    EmbeddedMigration, Event, MigrateOptions, Migrations, Migrator, MigratorConfig, Value,
};
use godwit_sqlite::{SqliteOptions, SqliteStore};

/// The program's migrations, read from the files godwit's CLI would use (so the same folder
/// works with `godwit migrate` during development) and checked when the program compiles.
const MIGRATIONS: &[EmbeddedMigration] = godwit::embed_migrations!("examples/migrations");

fn print_event(event: &Event) {
    match event {
        Event::Locked => println!("took the migration lock"),
        Event::Planned { count } => println!("{count} migration(s) to apply"),
        Event::Warning { warning } => println!("warning: {warning}"),
        Event::Applying { version, name, .. } => println!("applying {version} {name}"),
        Event::Applied {
            version,
            duration_ms,
            ..
        } => println!("applied {version} in {duration_ms} ms"),
        other => println!("{other:?}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The temporary directory is deleted when dropped, so it is held until the end of main.
    let (path, _temp_dir) = match std::env::args_os().nth(1) {
        Some(path) => (PathBuf::from(path), None),
        None => {
            let dir = tempfile::tempdir()?;
            (dir.path().join("example.db"), Some(dir))
        }
    };
    println!("database: {}", path.display());

    let migrations = Migrations::from_embedded(MIGRATIONS)?;
    let store = SqliteStore::open(&path, &SqliteOptions::default())?;
    // The owner carries this machine's host name and this process's id, which let a later run
    // recognise the lock as stale if this process dies holding it.
    let config = MigratorConfig::new("embedded-example");
    let mut migrator = Migrator::new(Box::new(store), migrations, config);

    let report = migrator
        .migrate(&MigrateOptions::default(), &mut print_event)
        .await?;
    println!("this run applied {} migration(s)", report.completed.len());

    for entry in migrator.status().await?.entries {
        println!(
            "{:>14}  {:<14} {}",
            entry.version,
            entry.name,
            entry.state.label()
        );
    }

    // The schema is ready: the program goes on with its own queries on the same connection.
    let store = migrator.store_mut();
    store
        .execute(
            "INSERT INTO notes (title, body) VALUES (?1, ?2)",
            &[Value::from("hello"), Value::from("written after migrating")],
        )
        .await?;
    let count = store.query("SELECT count(*) FROM notes", &[]).await?;
    if let Some(Value::Int(count)) = count.first().and_then(|row| row.first()) {
        println!("{count} note(s) in the database");
    }
    Ok(())
}
