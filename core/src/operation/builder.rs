//! [`MigrationBuilder`]: operations migrations written in Rust.

use super::{Backfill, Column, FkAction, Operation, Operations};
use crate::migration::{Migration, Script, SourceError, Version};

/// Builds an operations migration in Rust: the reverse of each operation is derived when it
/// runs, as for a `.toml` operations file.
///
/// ```
/// use godwit_core::operation::{Column, MigrationBuilder};
///
/// let migration = MigrationBuilder::new("add_avatar")
///     .add_column("users", Column::new("avatar_url", "TEXT"))
///     .create_index("idx_users_email", "users", ["email"])
///     .build(20240102000000)
///     .unwrap();
/// assert_eq!(migration.name, "add_avatar");
/// assert!(migration.down.is_none()); // derived when it runs
/// ```
///
/// The migration runs through [`Migrator`](crate::Migrator) beside SQL migrations
/// ([`Migrations::from_list`](crate::Migrations::from_list)). Its checksum is that of the
/// operations' TOML text, so changing an applied builder's operations is an edit the history
/// notices, as with a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct MigrationBuilder {
    name: String,
    operations: Operations,
}

impl MigrationBuilder {
    /// An empty migration called `name` (`add_avatar`).
    pub fn new(name: impl Into<String>) -> Self {
        MigrationBuilder {
            name: name.into(),
            operations: Operations::default(),
        }
    }

    /// Add any operation.
    pub fn operation(mut self, operation: Operation) -> Self {
        self.operations.list.push(operation);
        self
    }

    /// Accept the risk a lint rule warns of in the rendered statements (`drop-column`).
    pub fn allow(mut self, rule: impl Into<String>) -> Self {
        self.operations.allow.push(rule.into());
        self
    }

    /// Create a table with `columns` and a primary key on `primary_key` (none when empty).
    pub fn create_table<I: IntoIterator<Item = S>, S: Into<String>>(
        self,
        table: impl Into<String>,
        columns: impl IntoIterator<Item = Column>,
        primary_key: I,
    ) -> Self {
        self.operation(Operation::CreateTable {
            table: table.into(),
            columns: columns.into_iter().collect(),
            primary_key: strings(primary_key),
        })
    }

    /// Drop a table.
    pub fn drop_table(self, table: impl Into<String>) -> Self {
        self.operation(Operation::DropTable {
            table: table.into(),
        })
    }

    /// Rename a table.
    pub fn rename_table(self, table: impl Into<String>, to: impl Into<String>) -> Self {
        self.operation(Operation::RenameTable {
            table: table.into(),
            to: to.into(),
        })
    }

    /// Add a column.
    pub fn add_column(self, table: impl Into<String>, column: Column) -> Self {
        self.operation(Operation::AddColumn {
            table: table.into(),
            column,
        })
    }

    /// Drop a column, with the indexes and constraints that use it.
    pub fn drop_column(self, table: impl Into<String>, column: impl Into<String>) -> Self {
        self.operation(Operation::DropColumn {
            table: table.into(),
            column: column.into(),
        })
    }

    /// Rename a column.
    pub fn rename_column(
        self,
        table: impl Into<String>,
        column: impl Into<String>,
        to: impl Into<String>,
    ) -> Self {
        self.operation(Operation::RenameColumn {
            table: table.into(),
            column: column.into(),
            to: to.into(),
        })
    }

    /// Change a column's type.
    pub fn set_type(
        self,
        table: impl Into<String>,
        column: impl Into<String>,
        data_type: impl Into<String>,
    ) -> Self {
        self.operation(Operation::SetType {
            table: table.into(),
            column: column.into(),
            data_type: data_type.into(),
        })
    }

    /// Set (`Some`) or remove (`None`) a column's default.
    pub fn set_default(
        self,
        table: impl Into<String>,
        column: impl Into<String>,
        default: Option<&str>,
    ) -> Self {
        self.operation(Operation::SetDefault {
            table: table.into(),
            column: column.into(),
            default: default.map(str::to_string),
        })
    }

    /// Allow or refuse NULL in a column.
    pub fn set_nullable(
        self,
        table: impl Into<String>,
        column: impl Into<String>,
        nullable: bool,
    ) -> Self {
        self.operation(Operation::SetNullable {
            table: table.into(),
            column: column.into(),
            nullable,
        })
    }

    /// Create an index on `columns`.
    pub fn create_index<I: IntoIterator<Item = S>, S: Into<String>>(
        self,
        name: impl Into<String>,
        table: impl Into<String>,
        columns: I,
    ) -> Self {
        self.operation(Operation::CreateIndex {
            name: name.into(),
            table: table.into(),
            columns: strings(columns),
            unique: false,
            concurrently: false,
        })
    }

    /// Drop an index.
    pub fn drop_index(self, name: impl Into<String>) -> Self {
        self.operation(Operation::DropIndex {
            name: name.into(),
            concurrently: false,
        })
    }

    /// Add a check constraint.
    pub fn add_check(
        self,
        table: impl Into<String>,
        name: impl Into<String>,
        expression: impl Into<String>,
    ) -> Self {
        self.operation(Operation::AddCheck {
            table: table.into(),
            name: name.into(),
            expression: expression.into(),
        })
    }

    /// Add a unique constraint.
    pub fn add_unique<I: IntoIterator<Item = S>, S: Into<String>>(
        self,
        table: impl Into<String>,
        name: impl Into<String>,
        columns: I,
    ) -> Self {
        self.operation(Operation::AddUnique {
            table: table.into(),
            name: name.into(),
            columns: strings(columns),
        })
    }

    /// Add a foreign key from `columns` to `referenced_columns` of `references`, with no
    /// action on delete or update.
    pub fn add_foreign_key<
        I: IntoIterator<Item = S>,
        J: IntoIterator<Item = S>,
        S: Into<String>,
    >(
        self,
        table: impl Into<String>,
        name: impl Into<String>,
        columns: I,
        references: impl Into<String>,
        referenced_columns: J,
    ) -> Self {
        self.operation(Operation::AddForeignKey {
            table: table.into(),
            name: name.into(),
            columns: strings(columns),
            references: references.into(),
            referenced_columns: strings(referenced_columns),
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
        })
    }

    /// Drop a check, unique or foreign-key constraint.
    pub fn drop_constraint(self, table: impl Into<String>, name: impl Into<String>) -> Self {
        self.operation(Operation::DropConstraint {
            table: table.into(),
            name: name.into(),
        })
    }

    /// Run `up`, and `down` on rollback: SQL the operations cannot express.
    pub fn sql(self, up: impl Into<String>, down: impl Into<String>) -> Self {
        self.operation(Operation::Sql {
            up: up.into(),
            down: down.into(),
        })
    }

    /// Update rows of a large table in batches, each committed with its progress
    /// ([`crate::backfill`]); the operations before it run, and commit, first, and those after
    /// it once it is done.
    pub fn backfill(self, backfill: Backfill) -> Self {
        self.operation(Operation::Backfill(backfill))
    }

    /// The operations so far.
    pub fn operations(&self) -> &Operations {
        &self.operations
    }

    /// The migration, numbered `version`.
    pub fn build(self, version: i64) -> Result<Migration, SourceError> {
        let origin = format!("migration builder `{}`", self.name);
        let version = Version::new(version).ok_or_else(|| SourceError::InvalidVersion {
            origin: origin.clone(),
            value: version.to_string(),
        })?;
        let text =
            toml::to_string(&self.operations).map_err(|error| SourceError::InvalidOperations {
                origin,
                message: error.to_string(),
            })?;
        Ok(Migration {
            version,
            name: self.name,
            up: Script::operations(text, None),
            down: None,
            operations: Some(self.operations),
        })
    }
}

fn strings<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Vec<String> {
    items.into_iter().map(Into::into).collect()
}
