//! # godwit-mysql
//!
//! The MySQL and MariaDB backend of godwit, the database schema migration tool: a [`Dialect`]
//! and a [`Store`] that godwit's engine ([`godwit_core::Migrator`]) drives through trait
//! objects, and a [`godwit_core::Backend`] serving `mysql://` and `mariadb://` URLs.
//!
//! Key types:
//!
//! - [`MySqlDialect`]: backtick quoting, `?` placeholders, a history table with bounded keys,
//!   and no transactional DDL.
//! - [`MySqlStore`]: one connection for migrations plus a `GET_LOCK` lock on a connection of
//!   its own, built with [`MySqlStore::connect`] from a URL.
//! - [`MySqlBackend`]: the URL schemes and how they open a store.
//!
//! MySQL commits implicitly before and after every DDL statement, so a migration's DDL can
//! never be rolled back. godwit therefore runs every migration that holds anything but DML
//! (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`, `SELECT`, `WITH`, `DO`) as it runs a
//! `-- godwit:no-transaction` one on the other engines: recorded as failed before its first
//! statement, marked applied after its last. A migration of DML alone runs in a transaction
//! with its history row, as on the other engines. A crash or a failure leaves a `failed` row naming
//! the statement that failed (those before it ran and stay), and `godwit recover` offers the
//! ways out that fit (the down script, or marking it applied or rolled back after a fix by
//! hand); godwit never claims a rollback the engine cannot do.
//!
//! Scripts are cut into statements on the client, with MySQL's lexical rules and the
//! `DELIMITER` lines MySQL users write around trigger and procedure bodies (the server does
//! not know `DELIMITER`; the `mysql` client handles it the same way).
//!
//! Passwords never leave the connection options: errors name the URL through
//! [`godwit_core::url::redact`], and [`MySqlStore`]'s `Debug` leaves the options out.
//!
//! Declarative schemas: introspection reads `information_schema` in a fixed ten queries (and
//! `SHOW CREATE TABLE` of the tables with an index whose `USING` clause no catalog column keeps);
//! rendering writes `ALTER TABLE`s that name the online-DDL algorithm each change allows
//! (`INSTANT`, or `INPLACE` with `LOCK=NONE`) and marks those only a copy of the table can make;
//! a schema file is screened against an allow-list of DDL, since MySQL cannot roll DDL back and
//! the scratch database (created and dropped by godwit, found and dropped by a later run if a
//! run dies) is the only isolation. Read against MariaDB 10.11.
//!
//! Lint: sqlparser's MySQL grammar with MySQL's own rules (`dml-with-ddl`: rows changed in a
//! migration whose DDL commits implicitly; `table-copy`: an `ALTER TABLE` only a copy of the
//! table makes, as the renderer decides it; `enum-values-changed`) besides the shared ones, and
//! the facts those need (a `NOT NULL` column added without a default is filled, InnoDB indexes
//! foreign keys itself).
//!
//! Backups: `mariadb-dump` (or `mysqldump`) from `PATH`, one `--single-transaction` snapshot
//! with routines, triggers and events, as SQL that restores into any database; the password
//! reaches the tool through an option file readable by its owner alone, never a command line.
//!
//! Not yet: MySQL 8's catalog, routines in the schema model (they are listed as unmanaged). It
//! uses sqlx for MySQL only and needs a Tokio runtime with the time driver and blocking pool
//! (`rt`) enabled.
//!
//! The crate is also a godwit plugin: built with the `plugin` feature, its `cdylib`
//! (`libgodwit_mysql.so`) exports [`MySqlBackend`] through `godwit_plugin::export_plugin!`,
//! and a godwit built without its `mysql` feature loads it (`plugins = [...]` in
//! `godwit.toml`). The plugin runs its stores on a Tokio runtime of its own.
//!
//! [`Dialect`]: godwit_core::Dialect
//! [`Store`]: godwit_core::Store
// Denied, not forbidden: the plugin's entry symbol, which `export_plugin!` writes, must be
// `#[unsafe(no_mangle)]`, and allows that alone.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod dialect;
mod dump;
mod introspect;
mod lint;
mod render;
mod screen;
mod script;
mod sql;
mod store;

pub use backend::MySqlBackend;
pub use dialect::MySqlDialect;
pub use dump::restore_command;
pub use store::MySqlStore;

#[cfg(feature = "plugin")]
godwit_plugin::export_plugin!(MySqlBackend);
