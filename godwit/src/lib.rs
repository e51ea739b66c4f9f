//! # godwit
//!
//! The one dependency a program needs to migrate its database as it starts: godwit's engine
//! (everything of [`godwit_core`], re-exported here), the backends chosen by cargo feature,
//! [`embed_migrations!`] to carry the migrations inside the binary, and [`connect`] to open
//! whichever compiled-in backend a URL names.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use godwit::{ConnectOptions, MigrateOptions, Migrations, Migrator, MigratorConfig};
//!
//! # let dir = tempfile::tempdir().unwrap();
//! # let url = format!("sqlite:{}", dir.path().join("app.db").display());
//! // In a program: `Migrations::from_embedded(godwit::embed_migrations!("migrations"))`.
//! let migrations = Migrations::from_embedded(&[godwit::EmbeddedMigration {
//!     version: 20240101120000,
//!     name: "create_notes",
//!     up: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
//!     down: Some("DROP TABLE notes;"),
//!     operations: false,
//! }])?;
//! let store = godwit::connect(&url, &ConnectOptions::default()).await?;
//! let mut migrator = Migrator::new(store, migrations, MigratorConfig::new("my-service"));
//! let report = migrator.migrate(&MigrateOptions::default(), &mut |_| {}).await?;
//! assert_eq!(report.completed.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Features
//!
//! - `macros` (default): [`embed_migrations!`].
//! - `sqlite`: SQLite through rusqlite's bundled library ([`sqlite`]).
//! - `postgres`: PostgreSQL through sqlx ([`postgres`]).
//! - `mysql`: MySQL and MariaDB through sqlx ([`mysql`]); the versioned workflow only, so far.
//!
//! Programs that bring their own [`Store`] need none of them; `godwit-core` alone is the
//! engine without any backend.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod connect;

pub use connect::{ConnectError, connect, locate, open, registry};
pub use godwit_core::*;
#[cfg(feature = "macros")]
pub use godwit_macros::embed_migrations;
/// The MySQL/MariaDB backend.
#[cfg(feature = "mysql")]
pub use godwit_mysql as mysql;
/// The PostgreSQL backend.
#[cfg(feature = "postgres")]
pub use godwit_postgres as postgres;
/// The SQLite backend.
#[cfg(feature = "sqlite")]
pub use godwit_sqlite as sqlite;
