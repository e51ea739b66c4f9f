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
//! The crate has no cargo features, no database driver, no async runtime and no `unsafe`;
//! a test in the workspace enforces that.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backend;
pub mod backup;
pub mod baseline;
pub mod declarative;
pub mod dialect;
pub mod diff;
pub mod error;
pub mod history;
pub mod lint;
pub mod migration;
pub mod migrator;
pub mod plan;
pub mod progress;
pub mod recover;
pub mod schema;
pub mod screen;
pub mod store;
pub mod url;

pub use backend::{Backend, ConnectOptions, Location, Registry};
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
