//! # godwit-postgres
//!
//! The PostgreSQL backend of godwit, the database schema migration tool: a [`Dialect`] and a
//! [`Store`] that godwit's engine ([`godwit_core::Migrator`]) drives through trait objects.
//!
//! Key types:
//!
//! - [`PgDialect`]: `$n` placeholders, schema-aware table lookups, transactional DDL.
//! - [`PgStore`]: one connection for migrations plus a session-level advisory lock on a
//!   connection of its own, built with [`PgStore::connect`] from a URL and [`PgOptions`].
//!
//! How scripts run: inside a transaction a script goes to the server whole, through the simple
//! query protocol, so `DO` blocks, functions with nested dollar quotes and many statements run
//! exactly as written. A `-- godwit:no-transaction` script is cut into statements and each is
//! sent alone, because PostgreSQL refuses `CREATE INDEX CONCURRENTLY` inside the implicit
//! transaction a multi-statement query string forms. Either way, an error is located in the
//! script the user wrote: statement, line, column, SQLSTATE and constraint.
//!
//! The lock is a PostgreSQL advisory lock held by its own session, so it is independent of the
//! migration's transactions and cannot go stale: when a runner dies, the server ends its
//! session and frees the lock.
//!
//! Declarative schemas: [`PgDialect`] reads a database's schema into godwit's model with a
//! fixed dozen catalog queries (one per kind of object, whatever the number of tables), taking
//! every text from the server's own deparsers (`format_type`, `pg_get_expr`, `pg_get_*def`), so
//! two databases holding the same schema give equal models. It renders core's changes as
//! PostgreSQL statements with hazards (and the queries that count the rows at stake).
//! [`PgStore`] opens scratch databases on the same server to normalise a desired schema
//! (`CREATE DATABASE`, so the user needs `CREATEDB`; otherwise point godwit at a development
//! server where it has it). Managed: schemas, extensions, enums, domains, sequences, functions
//! and procedures, tables (columns with defaults, collations, identity, stored generated
//! expressions and `serial`; primary keys, unique, check, exclusion and foreign keys;
//! partitioning), indexes, views, materialized views and their indexes, triggers and
//! comments. Not managed: privileges, row security policies, rules, composite and range types,
//! aggregates, operators, foreign tables, table storage options and tablespaces.
//! Introspection needs PostgreSQL 12 or newer (generated columns); turning a generated column
//! into an ordinary one needs 13.
//!
//! Backups: [`Store::backup`](godwit_core::Store::backup) runs `pg_dump --format=custom` (it
//! must be on `PATH`, of the server's major version or newer) into a new file
//! `<database>.<stamp>.dump`, giving it the URL without its password and the password through
//! `PGPASSWORD`. godwit does not restore PostgreSQL databases; [`restore_command`] prints the
//! `pg_restore` command that does.
//!
//! Passwords never leave the connection options: errors name the URL through
//! [`godwit_core::url::redact`], and [`PgStore`]'s `Debug` leaves the options out.
//!
//! The crate has no cargo features. It uses sqlx for PostgreSQL only (no SQLite library) and
//! needs a Tokio runtime with the time driver enabled.
//!
//! ```no_run
//! use godwit_core::{EmbeddedMigration, MigrateOptions, Migrations, Migrator, MigratorConfig};
//! use godwit_postgres::{PgOptions, PgStore};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let migrations = Migrations::from_embedded(&[EmbeddedMigration {
//!     version: 1,
//!     name: "create_users",
//!     up: "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL);",
//!     down: Some("DROP TABLE users;"),
//!     operations: false,
//! }])?;
//! let options = PgOptions {
//!     application_name: "billing-service".into(),
//!     ..PgOptions::default()
//! };
//! let store = PgStore::connect("postgres://app@localhost:5432/billing", &options).await?;
//! let config = MigratorConfig::new("billing-service");
//! let mut migrator = Migrator::new(Box::new(store), migrations, config);
//! let report = migrator
//!     .migrate(&MigrateOptions::default(), &mut |event| eprintln!("{event:?}"))
//!     .await?;
//! println!("applied {} migrations", report.completed.len());
//! # Ok(())
//! # }
//! ```
//!
//! [`Dialect`]: godwit_core::Dialect
//! [`Store`]: godwit_core::Store
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod dialect;
mod dump;
mod introspect;
mod lint;
mod literal;
mod passes;
mod render;
mod screen;
mod script;
mod sequence;
mod store;

pub use backend::PgBackend;
pub use dialect::PgDialect;
pub use dump::restore_command;
pub use store::{PgOptions, PgStore};
