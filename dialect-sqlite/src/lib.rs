//! # godwit-sqlite
//!
//! SQLite for godwit, the database schema migration tool: a [`Dialect`](godwit_core::Dialect)
//! and a [`Store`](godwit_core::Store) over [rusqlite] with its bundled SQLite, so a program
//! that embeds godwit links exactly one SQLite library and needs none installed.
//!
//! Key types:
//!
//! - [`SqliteDialect`]: SQL text for SQLite (`?N` placeholders, no schemas).
//! - [`SqliteStore`]: one connection; runs migration scripts, the history queries,
//!   `BEGIN IMMEDIATE` transactions and the migration lock.
//! - [`SqliteOptions`]: how the connection waits for other writers.
//!
//! The crate has no cargo features.
//!
//! ## Example
//!
//! Apply migrations embedded in the program, then read their state:
//!
//! ```
//! use godwit_core::{EmbeddedMigration, MigrateOptions, Migrations, Migrator, MigratorConfig};
//! use godwit_sqlite::SqliteStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let migrations = Migrations::from_embedded(&[EmbeddedMigration {
//!     version: 1,
//!     name: "create_users",
//!     up: "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
//!     down: Some("DROP TABLE users;"),
//!     operations: false,
//! }])?;
//! let store = SqliteStore::open_in_memory()?;
//! let config = MigratorConfig::new("my-service");
//! let mut migrator = Migrator::new(Box::new(store), migrations, config);
//!
//! let report = migrator.migrate(&MigrateOptions::default(), &mut |_event| {}).await?;
//! assert_eq!(report.completed.len(), 1);
//! assert_eq!(migrator.status().await?.entries[0].state, godwit_core::State::Applied);
//! # Ok(())
//! # }
//! ```
//!
//! `examples/embedded.rs` is the same with migrations kept in `.sql` files and a database on
//! disk.
//!
//! ## Scripts
//!
//! A script runs one statement at a time, split by SQLite's own parser, so trigger bodies,
//! strings and comments containing `;` are safe. A failure names the statement's index, its
//! line in the script (the line of the error token when SQLite reports one), and SQLite's
//! extended result code such as `SQLITE_CONSTRAINT_UNIQUE`.
//!
//! ## Transactions and the lock
//!
//! Transactions are `BEGIN IMMEDIATE`, which takes the write lock at once. The migration lock
//! is a row in `<history>_lock` holding the runner's host, pid, application and start time,
//! with the machine's boot id, the process's start time and pid namespace (Linux, from
//! `/proc`), and the identity of a witness file beside the database that the holder keeps
//! locked. A row whose holder is gone (its witness unlocked, its process exited, its pid now a
//! later process's, or the machine restarted since) is stale: `lock` takes it over with a
//! warning and `clear_lock` removes it. A row from another host cannot be checked and is only
//! removed with `force`. Rows of other machines are told apart by boot id, and rows an older
//! godwit wrote by host name, so keep the host name
//! [`LockOwner::this_process`](godwit_core::LockOwner::this_process) fills in.
//!
//! Each connection keeps up to 16,384 changed pages of a transaction in memory
//! (`PRAGMA cache_spill`) before writing them to the file, so that other connections can read
//! while a migration runs.
//!
//! Journal modes are left to the user: run `PRAGMA journal_mode = WAL` in a
//! `-- godwit:no-transaction` migration, or on [`SqliteStore::connection`], if you want it.
//!
//! ## Backups and restores
//!
//! [`Store::backup`](godwit_core::Store::backup) copies the database through SQLite's online
//! backup API in one step, so the copy is one snapshot even while other connections write, to
//! a new file `<database file>.<stamp>.backup` beside the database (or in the requested
//! directory). [`SqliteStore::restore`] copies a backup back over the database after
//! [`check_backup`] passes, refusing rather than waiting while a godwit run holds the
//! migration lock or another connection holds a lock on the file;
//! [`SqliteStore::check_restorable`] asks the same without changing anything.
//!
//! ## Declarative schemas
//!
//! [`SqliteDialect`] reads a database into godwit's schema model with five catalog queries
//! (`sqlite_schema` joined with the table-valued pragmas) and renders the diff's changes as
//! statements. Names compare case-insensitively, as SQLite does.
//!
//! - **Read**: tables with columns (type upper-cased, NOT NULL, default, collation, generated
//!   expression and kind, AUTOINCREMENT), primary key, UNIQUE constraints, CHECK constraints
//!   (table- and column-level, with their names), foreign keys (actions, names, `DEFERRABLE
//!   INITIALLY DEFERRED`), `STRICT` and `WITHOUT ROWID`; indexes (partial and expression ones);
//!   views; triggers; virtual tables, as their module and its arguments with canonical
//!   spacing, without their shadow tables. FTS5 arguments are read as FTS5 reads them: columns
//!   (with `UNINDEXED`) become the table's columns, and options (`content`, `content_rowid`,
//!   `tokenize`, `prefix`, `detail`, `columnsize`, ...) are spelled canonically (key spelled
//!   out, value unquoted where it can be, defaults left out, in key order), so writing the same
//!   index differently is no change. godwit's tables under the default history name are left out (godwit-core
//!   leaves out a configured one). Index and trigger definitions, CHECK and generated
//!   expressions and types are re-spelled with canonical spacing, so layout and comments do
//!   not count as changes; keyword case inside them does, and view definitions are kept
//!   verbatim because the names of a view's unaliased columns are the text of their
//!   expressions.
//! - **Changed in place** with `ALTER TABLE`: renaming tables and columns, adding a column
//!   at the end (not a key, not UNIQUE, not STORED, with a constant default, and a non-NULL
//!   one when NOT NULL), dropping a column no key, UNIQUE, foreign key, CHECK or generated
//!   expression uses.
//! - **Rebuilt** (SQLite's documented procedure, in one transaction, with foreign keys off
//!   around it and checked before commit): every other table change. Rows, rowids and
//!   AUTOINCREMENT counters are kept, indexes recreated; a rebuild whose rows do not fit the
//!   new table fails and changes nothing. Statements that may destroy data carry a hazard
//!   with a query counting the rows. A foreign key added to or dropped from an existing table
//!   is part of that table's rebuild, so the change list must also alter the table; a key
//!   change on its own is refused, as is renaming an index whose definition the change list
//!   does not carry (SQLite has no `ALTER INDEX`; the index is dropped and created again).
//! - **Reindexed**: an FTS5 table whose columns or options change is replaced, keeping what it
//!   holds. An external-content index (`content=posts`) is created again and filled from its
//!   table with FTS5's `rebuild` command once every table has changed (as is a new one over a
//!   table that exists); one that stores its text is copied, rowids included, into a new table
//!   under a temporary name that then takes its name; a contentless one (`content=''`) cannot
//!   give its text back and is dropped and created empty, with a hazard counting its rows.
//!   Triggers on other tables that write to the index are left as they are.
//! - **Recreated**: any other changed virtual table is dropped and created again (its rows are
//!   lost; the statement carries a hazard).
//! - **Not supported**: `ON CONFLICT` clauses and `ASC`/`DESC` on key columns of `CREATE
//!   TABLE` are not in the model, so a rebuild leaves them out; comments (SQLite has none);
//!   PostgreSQL-only objects (schemas, enums, domains, sequences, functions, extensions) are
//!   refused.
//!
//! ## Blocking
//!
//! SQLite is an in-process library, so the store's `async` methods do their work on the
//! calling thread and block it while a statement runs, including up to the busy timeout while
//! another connection holds the write lock. Migrations are short and usually run once at
//! startup, so this is rarely a concern; a server that must keep its runtime responsive can
//! run the migrator on a thread of its own with a current-thread runtime. Waiting for the
//! migration lock sleeps with `tokio::time::sleep`, so the store must run inside a Tokio
//! runtime with the time driver enabled.
#![warn(missing_docs)]

mod backend;
mod backup;
mod catalog;
mod dialect;
mod error;
mod lint;
mod lock;
mod process;
mod render;
mod screen;
mod script;
#[allow(unsafe_code)]
mod split;
mod sql;
mod store;
mod vtab;

pub use backend::SqliteBackend;
pub use backup::check_backup;
pub use dialect::SqliteDialect;
pub use store::{SqliteOptions, SqliteStore};
