//! Reversible operations: migrations written as schema operations whose SQL and whose reverse
//! are derived, not written.
//!
//! An [`Operation`] is a transformation of the schema model ([`crate::schema::Schema`]). When an
//! operations migration runs, under the migration lock, the live schema is read from the
//! catalog, the operations are applied to a copy of it (which is where they are checked: a
//! column that does not exist, a table that already does, each an [`OperationError`] naming the
//! operation, before anything runs), and the declarative engine renders the difference both
//! ways through [`Dialect::render`](crate::Dialect::render): `live -> after` is the up script,
//! `after -> live` the exact reverse, recorded as the history row's down script. So a dropped
//! column comes back, on `rollback`, with the type, default, constraints and indexes it had
//! when it was dropped; its rows do not (the drop's hazard says so; `migrate --backup` keeps
//! them).
//!
//! Operations come from `<version>_<name>.toml` files ([`Operations::parse`]) or from a
//! [`MigrationBuilder`] in Rust; either gives a [`Migration`](crate::Migration) whose
//! [`Migration::operations`](crate::Migration::operations) are rendered by [`resolve`] when it runs.

mod builder;
mod live;
mod model;
mod render;
pub(crate) mod vocabulary;

use crate::migration::Version;

pub use self::builder::MigrationBuilder;
pub use self::live::{resolve_live, unknown_types};
pub use self::render::{Phase, Resolved, declared_types, resolve, resolve_from};
pub use self::vocabulary::{Backfill, Column, FkAction, Operation, Operations};

/// An operation cannot run against the live schema, or the engine cannot render it. Nothing
/// was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OperationError {
    /// The operation does not fit the schema it would run on.
    #[error(
        "migration {version} ({name}), operation {index} ({operation}): {problem}; \
         nothing was changed: fix {origin} and run again"
    )]
    Invalid {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// Its file, or `embedded script`.
        origin: String,
        /// The operation's 1-based position.
        index: usize,
        /// The operation (`add_column users.email`).
        operation: String,
        /// What is wrong.
        problem: String,
    },
    /// The dialect cannot render the change the operations make.
    #[error(
        "migration {version} ({name}): the {dialect} dialect cannot render its operations: {cause}; \
         nothing was changed"
    )]
    Render {
        /// The migration.
        version: Version,
        /// Its name.
        name: String,
        /// The dialect.
        dialect: &'static str,
        /// Why.
        cause: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_writes_the_toml_a_file_would_hold() {
        let migration = MigrationBuilder::new("mixed")
            .allow("drop-column")
            .create_table("t", [Column::new("id", "integer").not_null()], ["id"])
            .add_column("t", Column::new("n", "text").default("'x'"))
            .add_foreign_key("t", "t_fk", ["id"], "u", ["id"])
            .set_default("t", "n", None)
            .sql("SELECT 1", "SELECT 2")
            .build(3)
            .unwrap();
        let parsed = Operations::parse(&migration.up.sql).unwrap();
        assert_eq!(Some(parsed), migration.operations);
        assert_eq!(
            migration.up.checksum,
            crate::Checksum::of(&migration.up.sql)
        );
    }
}
