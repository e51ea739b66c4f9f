//! # godwit-core
//!
//! The engine of godwit, a database schema migration tool. It knows migrations, their
//! checksums and directives, the history table and its state machine, and how to plan and run
//! a migration; it knows no database. Backends plug in through two traits:
//!
//! - [`Dialect`]: pure SQL text and facts for one engine (quoting, placeholders, history DDL).
//! - [`Store`]: async I/O on one connection (scripts, queries, transactions, the lock).
//!
//! Key types: [`Migrations`] (loaded from a directory or embedded with `include_str!`),
//! [`Migrator`] (status, migrate, rollback, repair, unlock), and the pure planner in [`plan`].
//! A run can ask its store for a [`Backup`] before the first migration (see [`backup`]).
//!
//! Everything that decides is a pure function of what was read, so it runs without a
//! database. Here the planner decides what `migrate` would run on a database with an empty
//! history, and the lint reads what would run:
//!
//! ```
//! use godwit_core::lint::{GenericLint, LintConfig, LintInput, lint};
//! use godwit_core::plan::{MigrateOptions, plan_migrate};
//! use godwit_core::{EmbeddedMigration, Migrations};
//!
//! let migrations = Migrations::from_embedded(&[
//!     EmbeddedMigration {
//!         version: 1,
//!         name: "create_notes",
//!         up: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
//!         down: Some("DROP TABLE notes;"),
//!         operations: false,
//!     },
//!     EmbeddedMigration {
//!         version: 2,
//!         name: "purge_notes",
//!         up: "DELETE FROM notes;",
//!         down: None,
//!         operations: false,
//!     },
//! ])?;
//! let plan = plan_migrate(&[], &migrations, &MigrateOptions::default())?;
//! let pending: Vec<i64> = plan.steps.iter().map(|s| s.migration.version.get()).collect();
//! assert_eq!(pending, [1, 2]);
//!
//! let second = &plan.steps[1].migration;
//! let findings = lint(
//!     &GenericLint,
//!     &LintInput {
//!         sql: &second.up.sql,
//!         transactional: true,
//!         origin: "2_purge_notes.up.sql",
//!         schema: None,
//!     },
//!     &LintConfig::default(),
//! );
//! assert!(findings.iter().any(|f| f.rule == "delete-without-where"));
//! # Ok::<(), godwit_core::Error>(())
//! ```
//!
//! To run migrations, give a [`Migrator`] a [`Store`] from a dialect crate (`godwit-sqlite`,
//! `godwit-postgres`); the `godwit` crate bundles them and opens one by URL.
//!
//! The crate has no cargo features, no database driver, no async runtime and no `unsafe`;
//! a test in the workspace enforces that.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backend;
pub mod backfill;
pub mod backup;
pub mod baseline;
pub mod declarative;
pub mod dialect;
pub mod diff;
pub mod error;
pub mod history;
mod history_table;
pub mod lint;
pub mod migration;
pub mod migrator;
pub mod operation;
pub mod plan;
pub mod progress;
pub mod recover;
pub mod schema;
pub mod screen;
pub mod store;
pub mod url;

pub use backend::{Backend, ConnectOptions, Location, Registry};
pub use backfill::{BackfillOverrides, BackfillProgress, BackfillRow};
pub use backup::{Backup, BackupError, BackupOptions, BackupRequest};
pub use dialect::{Capabilities, Dialect, LockKind};
pub use error::{Error, Refusal, SourceError};
pub use history::{HistoryRow, HistoryTable, Status};
pub use migration::{
    Checksum, Directives, EmbeddedMigration, Migration, Migrations, Script, Version,
};
pub use migrator::{Completed, Event, Migrator, MigratorConfig, RunReport};
pub use plan::{MigrateOptions, Plan, RepairAction, RollbackTarget, State, StatusReport};
pub use progress::Step;
pub use recover::{Diagnosis, InvalidIndex, Outcome, RecoverAction, RecoverOptions};
pub use store::{
    Liveness, LockHolder, LockOwner, LockRequest, Row, StatementError, Store, StoreError,
    UnlockOutcome, Value,
};

// Both traits must stay usable as trait objects: the engine and the plugin host only ever hold
// `Box<dyn Dialect>` and `Box<dyn Store>`. This fails to compile if either stops being so.
const _: fn() = || {
    fn assert_object_safe(_: Option<Box<dyn Dialect>>, _: Option<Box<dyn Store>>) {}
    fn assert_send_sync<T: Send + Sync + ?Sized>() {}
    fn assert_send<T: Send + ?Sized>() {}
    assert_object_safe(None, None);
    assert_send_sync::<dyn Dialect>();
    assert_send::<dyn Store>();
};
