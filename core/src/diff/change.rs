//! The vocabulary of the diff: the typed changes a [`Dialect`](crate::Dialect) renders as
//! SQL. What a change means is fixed here; how it runs (a native `ALTER`, a rebuild of the
//! table, a new type and a cast) is each dialect's choice.

use serde::{Deserialize, Serialize};

use crate::schema::{
    Check, Column, CommentTarget, Domain, Enum, Extension, ForeignKey, Function, Index, Name,
    Owner, Policy, PrimaryKey, Relation, Sequence, Table, Trigger, Unique, View,
};

/// A column whose definition changes (a rename, if any, is applied first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnChange {
    /// The column now (under its new name when renamed).
    pub from: Column,
    /// The column as desired.
    pub to: Column,
}

/// Everything that changes inside one existing table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableChange {
    /// The table now, renamed to its new name if it is renamed.
    pub from: Table,
    /// The table as desired.
    pub to: Table,
    /// Column renames `(old, new)`.
    pub renamed_columns: Vec<(String, String)>,
    /// Columns to add.
    pub added_columns: Vec<Column>,
    /// Columns to drop.
    pub dropped_columns: Vec<Column>,
    /// Columns whose definition changes.
    pub altered_columns: Vec<ColumnChange>,
    /// The primary key changes from the first to the second.
    pub primary_key: Option<(Option<PrimaryKey>, Option<PrimaryKey>)>,
    /// Unique constraints to add.
    pub added_uniques: Vec<Unique>,
    /// Unique constraints to drop.
    pub dropped_uniques: Vec<Unique>,
    /// Check (and other) constraints to add.
    pub added_checks: Vec<Check>,
    /// Check (and other) constraints to drop.
    pub dropped_checks: Vec<Check>,
    /// Foreign keys added to this table. They are also emitted as separate
    /// [`Change::AddForeignKey`] steps; engines that cannot add a key in place (SQLite) use
    /// these to rebuild the table instead.
    pub added_foreign_keys: Vec<ForeignKey>,
    /// Foreign keys dropped from this table (also emitted as [`Change::DropForeignKey`]).
    pub dropped_foreign_keys: Vec<ForeignKey>,
    /// `STRICT`, `WITHOUT ROWID` or a virtual table's module or arguments change (SQLite:
    /// needs a rebuild), whether it is `UNLOGGED` or which tables it inherits from
    /// (PostgreSQL), or its engine, default collation, row format or partitioning (MySQL).
    pub options_changed: bool,
    /// The table comment changes to this.
    pub comment: Option<Option<String>>,
    /// The triggers on the table that the change leaves as they are (see [`Dependants`](super::Dependants)). A
    /// dialect that changes the table by replacing it (SQLite's rebuild, whose `DROP TABLE`
    /// drops them) creates them again on the new table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_triggers: Vec<Trigger>,
    /// The tables that inherit from this one in the desired schema (PostgreSQL), which a
    /// change of it may reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Name>,
}

impl TableChange {
    /// The primary key and unique constraints that stay but change names: `(old, new)`.
    ///
    /// The diff matches these constraints by their columns, so a constraint renamed in the
    /// schema file (or named after a table that was renamed, since PostgreSQL keeps a
    /// constraint's name then) is the same constraint under a new name, renamed in place
    /// rather than dropped and created, which would check every row again.
    pub fn renamed_constraints(&self) -> Vec<(&str, &str)> {
        let renamed = |columns: &[String]| -> Vec<String> {
            columns
                .iter()
                .map(|c| {
                    self.renamed_columns
                        .iter()
                        .find(|(old, _)| old == c)
                        .map_or_else(|| c.clone(), |(_, new)| new.clone())
                })
                .collect()
        };
        let mut renames = Vec::new();
        if self.primary_key.is_none()
            && let (Some(from), Some(to)) = (&self.from.primary_key, &self.to.primary_key)
            && let (Some(old), Some(new)) = (&from.name, &to.name)
            && old != new
        {
            renames.push((old.as_str(), new.as_str()));
        }
        for to in &self.to.uniques {
            let kept = self.from.uniques.iter().find(|from| {
                renamed(&from.columns) == to.columns
                    && from.nulls_not_distinct == to.nulls_not_distinct
                    && from.on_conflict == to.on_conflict
                    && from.deferral == to.deferral
            });
            if let Some(from) = kept
                && let (Some(old), Some(new)) = (&from.name, &to.name)
                && old != new
                && !self.added_uniques.contains(to)
            {
                renames.push((old.as_str(), new.as_str()));
            }
        }
        renames
    }

    pub(super) fn is_empty(&self) -> bool {
        self.renamed_columns.is_empty()
            && self.added_columns.is_empty()
            && self.dropped_columns.is_empty()
            && self.altered_columns.is_empty()
            && self.primary_key.is_none()
            && self.added_uniques.is_empty()
            && self.dropped_uniques.is_empty()
            && self.added_checks.is_empty()
            && self.dropped_checks.is_empty()
            && self.added_foreign_keys.is_empty()
            && self.dropped_foreign_keys.is_empty()
            && !self.options_changed
            && self.comment.is_none()
            && self.renamed_constraints().is_empty()
    }
}

/// One step of a migration from one schema to another, in the order they must run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// Drop a trigger (removed, changed, or on a table being rebuilt or dropped).
    DropTrigger(Trigger),
    /// Drop a view (removed, changed, or depending on something that changes).
    DropView(View),
    /// Drop a foreign key.
    DropForeignKey {
        /// The table holding it (current name).
        table: Name,
        /// The key.
        key: ForeignKey,
    },
    /// Drop an index.
    DropIndex(Index),
    /// Create a schema.
    CreateSchema(String),
    /// Create an extension.
    CreateExtension(Extension),
    /// Create an enum type.
    CreateEnum(Enum),
    /// Change an enum's labels.
    AlterEnum {
        /// The type now, with the labels of `renamed` under their new names.
        from: Enum,
        /// As desired.
        to: Enum,
        /// Labels renamed first: `(old, new)`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        renamed: Vec<(String, String)>,
    },
    /// Create a domain.
    CreateDomain(Domain),
    /// Create a sequence.
    CreateSequence(Sequence),
    /// Create or replace a function.
    CreateFunction(Function),
    /// Rename a table.
    RenameTable {
        /// Current name.
        from: Name,
        /// New name.
        to: Name,
    },
    /// Create a table. Its foreign keys follow as separate [`Change::AddForeignKey`] steps, so
    /// tables that reference each other can be created in any order.
    CreateTable(Table),
    /// Change an existing table.
    AlterTable(Box<TableChange>),
    /// Drop a table.
    DropTable(Table),
    /// Create an index.
    CreateIndex(Index),
    /// Rename an index. Engines without `ALTER INDEX ... RENAME` recreate `index`.
    RenameIndex {
        /// Current name.
        from: Name,
        /// The index as desired, under its new name.
        index: Index,
    },
    /// Add a foreign key.
    AddForeignKey {
        /// The table (new name).
        table: Name,
        /// The key.
        key: ForeignKey,
    },
    /// Create a view.
    CreateView(View),
    /// Create a trigger.
    CreateTrigger(Trigger),
    /// Set or remove a column comment.
    CommentColumn {
        /// The table.
        table: Name,
        /// The column.
        column: String,
        /// The new comment.
        comment: Option<String>,
        /// The column as desired, comment included, for an engine that sets a comment by
        /// restating the whole column (MySQL's `MODIFY COLUMN`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        desired: Option<Box<Column>>,
    },
    /// Set or remove the comment on an object other than a table or a column.
    Comment {
        /// The object.
        on: CommentTarget,
        /// The new comment; `None` removes it.
        comment: Option<String>,
    },
    /// Drop a function.
    DropFunction(Function),
    /// Drop a sequence.
    DropSequence(Sequence),
    /// Drop a domain.
    DropDomain(Domain),
    /// Drop an enum type.
    DropEnum(Enum),
    /// Drop an extension.
    DropExtension(Extension),
    /// Drop a schema.
    DropSchema(String),
    /// Turn a table's row-level security on or off (`enable`), or make it bind the table's
    /// owner or not (`force`); `None` leaves that switch as it is.
    SetRowSecurity {
        /// The table (desired name).
        table: Name,
        /// `ENABLE` or `DISABLE ROW LEVEL SECURITY`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enable: Option<bool>,
        /// `FORCE` or `NO FORCE ROW LEVEL SECURITY`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        force: Option<bool>,
    },
    /// Create a row-level security policy.
    CreatePolicy(Policy),
    /// Change a policy's roles and expressions in place (`ALTER POLICY`).
    AlterPolicy {
        /// The policy now (on its table's desired name).
        from: Policy,
        /// As desired.
        to: Policy,
    },
    /// Drop a policy (on its table's current name).
    DropPolicy(Policy),
    /// Grant privileges.
    Grant(Privileges),
    /// Revoke privileges, or only the right to grant them on.
    Revoke {
        /// What is revoked.
        privileges: Privileges,
        /// `REVOKE GRANT OPTION FOR`: the grantee keeps the privileges.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        grant_option_only: bool,
    },
    /// Give a relation to another owner (`ALTER ... OWNER TO`).
    SetOwner(Owner),
}

/// Privileges of one role on one relation, or on some of its columns, as one `GRANT` or
/// `REVOKE` names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Privileges {
    /// The relation (desired name).
    pub on: Relation,
    /// The privileges (`SELECT`, `UPDATE`).
    pub privileges: Vec<String>,
    /// The columns, for column privileges; empty for the whole relation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// The role, or `PUBLIC`.
    pub grantee: String,
    /// `WITH GRANT OPTION`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grant_option: bool,
}
