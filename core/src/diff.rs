//! The declarative diff: two schema models in, an ordered list of typed changes out.
//!
//! The diff knows nothing of SQL. It decides *what* changes and in *which order* dependencies
//! allow; a [`Dialect`](crate::Dialect) decides *how* (native `ALTER`, a table rebuild, a new
//! type and a cast). Renames are never guessed: they come from [`Renames`], given by the user
//! through flags or comments in the schema file.

mod comments;
mod inherits;
mod security;
mod spellings;

use std::collections::{BTreeMap, BTreeSet};

pub(crate) use self::comments::{after_renames, exists};
pub(crate) use self::security::{holds, renamed_grant};
pub use self::spellings::adopt_spellings;

use serde::{Deserialize, Serialize};

use crate::schema::{
    Check, Column, CommentTarget, Domain, Enum, Extension, ForeignKey, Function, Index, Name,
    Owner, Policy, PrimaryKey, Relation, Schema, Sequence, Table, Trigger, Unique, View,
};

/// Renames the user declared. Old names refer to the current database, new ones to the
/// desired schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renames {
    /// Tables: `(old, new)`.
    pub tables: Vec<(Name, Name)>,
    /// Columns, keyed by the table's new name.
    pub columns: Vec<ColumnRename>,
    /// Indexes: `(old, new)`.
    pub indexes: Vec<(Name, Name)>,
    /// Labels of enum types (PostgreSQL).
    #[serde(default)]
    pub enum_values: Vec<EnumValueRename>,
}

/// One enum label rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumValueRename {
    /// The enum type.
    pub type_name: Name,
    /// The current label.
    pub from: String,
    /// The desired label.
    pub to: String,
}

/// One column rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRename {
    /// The table, by its name in the desired schema.
    pub table: Name,
    /// The current column name.
    pub from: String,
    /// The desired column name.
    pub to: String,
}

/// How names compare, and what a change to a table does to what reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Identifiers are case-insensitive (SQLite): `USERS` and `users` are one table.
    pub case_insensitive: bool,
    /// Which changes of a table break the views and triggers on it that do not change
    /// themselves; the diff drops those before the change and creates them again after it,
    /// and leaves the others alone.
    pub dependants: Dependants,
}

/// Which changes of a table break the views and triggers that read it, in an engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dependants {
    /// Any change may: they are dropped before every change of their table and created
    /// again after it. What an engine the diff knows nothing about gets.
    #[default]
    AnyChange,
    /// Only a change of a column they use: one that goes, changes its type or collation, or
    /// is made again (a generated column's expression), and the columns of a primary key
    /// that goes (a view may group by it). PostgreSQL refuses each while a view or a
    /// trigger uses the column, and keeps them through everything else. A view reading a
    /// view that is made again is made again too, since the first cannot be dropped under it.
    UsedColumns,
    /// None: the engine reads a view's text when it is used, and the triggers of a table
    /// the dialect replaces to change it go with it and are made again by the dialect, from
    /// [`TableChange::kept_triggers`] (SQLite). A view or trigger reading a view that is made
    /// again is left alone too, unless the change renames a table or a column or drops a
    /// column: SQLite then checks the whole schema, and one reading a view that is gone for
    /// the moment fails that check.
    ReadWhenUsed,
}

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
    /// needs a rebuild), or whether it is `UNLOGGED` or which tables it inherits from
    /// (PostgreSQL).
    pub options_changed: bool,
    /// The table comment changes to this.
    pub comment: Option<Option<String>>,
    /// The triggers on the table that the change leaves as they are (see [`Dependants`]). A
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

    fn is_empty(&self) -> bool {
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

/// Builds the keys names are compared by.
pub(crate) struct Keyed {
    options: DiffOptions,
}

impl Keyed {
    /// Keys for names compared as `options` say.
    pub(crate) fn new(options: DiffOptions) -> Self {
        Keyed { options }
    }

    pub(crate) fn name(&self, name: &Name) -> Name {
        if self.options.case_insensitive {
            Name {
                schema: name.schema.as_ref().map(|s| s.to_lowercase()),
                name: name.name.to_lowercase(),
            }
        } else {
            name.clone()
        }
    }

    pub(crate) fn ident(&self, ident: &str) -> String {
        if self.options.case_insensitive {
            ident.to_lowercase()
        } else {
            ident.to_string()
        }
    }
}

/// Compute the changes that turn `from` into `to`.
pub fn diff(from: &Schema, to: &Schema, renames: &Renames, options: DiffOptions) -> Vec<Change> {
    let key = Keyed { options };
    let mut early = Vec::new(); // drops of dependants, before anything else
    let mut creates = Vec::new(); // types, tables, alterations
    let mut late = Vec::new(); // indexes, foreign keys, views, triggers
    let mut final_drops = Vec::new(); // types and namespaces, once nothing uses them

    // Table renames: the current table under its desired name.
    let table_renames: BTreeMap<Name, Name> = renames
        .tables
        .iter()
        .map(|(old, new)| (key.name(old), new.clone()))
        .collect();
    let current_tables: BTreeMap<Name, Table> = from
        .tables
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if let Some(new) = table_renames.get(&key.name(&t.name)) {
                t.name = new.clone();
            }
            (key.name(&t.name), t)
        })
        .collect();
    let desired_tables: BTreeMap<Name, &Table> =
        to.tables.iter().map(|t| (key.name(&t.name), t)).collect();

    // Which tables change shape: their dependants (views, triggers) are recreated around it.
    // A table with a column of an enum that loses labels changes too, even when nothing of
    // its own does: the column moves to the rebuilt type (and its dependants must make way).
    let current_enums: Vec<(Enum, Vec<(String, String)>)> = from
        .enums
        .iter()
        .map(|e| with_renamed_labels(e, renames))
        .collect();
    let rebuilt_enums: Vec<&Name> = to
        .enums
        .iter()
        .filter(|e| {
            current_enums
                .iter()
                .any(|(c, _)| c.name == e.name && c.values.iter().any(|v| !e.values.contains(v)))
        })
        .map(|e| &e.name)
        .collect();
    let uses_rebuilt_enum = |table: &Table| {
        table
            .columns
            .iter()
            .any(|c| rebuilt_enums.iter().any(|e| mentions_type(&c.data_type, e)))
    };
    // What each table's change breaks of the views and triggers on it, by the table's key.
    let mut broken: BTreeMap<Name, Broken> = BTreeMap::new();
    let mut table_changes = Vec::new();
    for (k, desired) in &desired_tables {
        if let Some(current) = current_tables.get(k) {
            let mut change = table_change(&key, current, desired, renames, &table_renames);
            inherits::settle(&mut change, to, &table_renames);
            if !change.is_empty() || uses_rebuilt_enum(current) {
                let breaks = match options.dependants {
                    Dependants::AnyChange => Some(Broken::Everything),
                    Dependants::UsedColumns => {
                        Some(Broken::Columns(pinned_columns(&change, &rebuilt_enums)))
                    }
                    Dependants::ReadWhenUsed => None,
                };
                broken.extend(breaks.map(|b| (k.clone(), b)));
                table_changes.push(change);
            }
        }
    }
    // A renamed table's dependants name it by its old name, and a dropped table's go with it.
    for (old, new) in &renames.tables {
        if from
            .tables
            .iter()
            .any(|t| key.name(&t.name) == key.name(old))
        {
            broken.insert(key.name(old), Broken::Everything);
            broken.insert(key.name(new), Broken::Everything);
        }
    }
    let dropped_tables: Vec<&Table> = current_tables
        .iter()
        .filter(|(k, _)| !desired_tables.contains_key(*k))
        .map(|(_, t)| t)
        .collect();
    for table in &dropped_tables {
        broken.insert(key.name(&table.name), Broken::Everything);
    }
    let breaks = |text: &str, table: &Name| match broken.get(&key.name(table)) {
        Some(Broken::Everything) => true,
        Some(Broken::Columns(columns)) => columns.iter().any(|c| mentions(text, c)),
        None => false,
    };
    // Whether what reads a view that is made again must be made again with it: always where
    // the engine refuses to drop a view that others read, and on SQLite when the change
    // makes SQLite check the whole schema (see `Dependants::ReadWhenUsed`).
    let checks_schema = !renames.tables.is_empty()
        || table_changes
            .iter()
            .any(|c| !c.renamed_columns.is_empty() || !c.dropped_columns.is_empty());
    let chained = options.dependants != Dependants::ReadWhenUsed || checks_schema;
    let original_name = |t: &Name| -> Name {
        // The current database's name of a table known by its desired name.
        renames
            .tables
            .iter()
            .find(|(_, new)| key.name(new) == key.name(t))
            .map_or_else(|| t.clone(), |(old, _)| old.clone())
    };

    // Views: recreate when changed, or when a change of a table they read breaks them, or
    // when they read a recreated view and that matters.
    let desired_views: BTreeMap<Name, &View> =
        to.views.iter().map(|v| (key.name(&v.name), v)).collect();
    let mut recreated_views: BTreeSet<Name> = BTreeSet::new();
    loop {
        let before = recreated_views.len();
        for view in &from.views {
            let k = key.name(&view.name);
            let changed = match desired_views.get(&k) {
                None => true,
                Some(desired) => desired.definition != view.definition,
            };
            let depends_on_change = view.depends_on.iter().any(|d| {
                breaks(&view.query, d) || (chained && recreated_views.contains(&key.name(d)))
            });
            if changed || depends_on_change {
                recreated_views.insert(k);
            }
        }
        if recreated_views.len() == before {
            break;
        }
    }
    for view in views_in_dependency_order(&from.views, &key)
        .into_iter()
        .rev()
    {
        if recreated_views.contains(&key.name(&view.name)) {
            early.push(Change::DropView(view.clone()));
        }
    }
    // Triggers: same rule.
    let desired_triggers: BTreeMap<(Name, String), &Trigger> = to
        .triggers
        .iter()
        .map(|t| ((key.name(&t.table), key.ident(&t.name)), t))
        .collect();
    let mut kept_triggers = BTreeSet::new();
    for trigger in &from.triggers {
        let renamed_table = table_renames
            .get(&key.name(&trigger.table))
            .cloned()
            .unwrap_or_else(|| trigger.table.clone());
        let k = (key.name(&renamed_table), key.ident(&trigger.name));
        // A trigger on a view goes with the view; one whose text reads a recreated view
        // fails SQLite's check of the schema as a view would (PostgreSQL keeps a trigger's
        // code in its function, which reads nothing until it runs).
        let reads_recreated_view = chained
            && options.dependants != Dependants::UsedColumns
            && recreated_views
                .iter()
                .any(|v| mentions(&trigger.definition, &v.name));
        let unchanged = desired_triggers
            .get(&k)
            .is_some_and(|d| d.definition == trigger.definition)
            && !breaks(&trigger.definition, &trigger.table)
            && !breaks(&trigger.definition, &renamed_table)
            && !recreated_views.contains(&key.name(&trigger.table))
            && !reads_recreated_view;
        if unchanged {
            kept_triggers.insert(k);
        } else {
            early.insert(0, Change::DropTrigger(trigger.clone()));
        }
    }
    for change in &mut table_changes {
        change.kept_triggers = to
            .triggers
            .iter()
            .filter(|t| kept_triggers.contains(&(key.name(&t.table), key.ident(&t.name))))
            .filter(|t| key.name(&t.table) == key.name(&change.to.name))
            .cloned()
            .collect();
    }

    // Foreign keys and indexes of surviving tables.
    let mut fk_adds = Vec::new();
    let mut index_creates = Vec::new();
    let index_renames: BTreeMap<Name, &Name> = renames
        .indexes
        .iter()
        .map(|(old, new)| (key.name(old), new))
        .collect();
    for (k, desired) in &desired_tables {
        let Some(current) = current_tables.get(k) else {
            for fk in &desired.foreign_keys {
                fk_adds.push(Change::AddForeignKey {
                    table: desired.name.clone(),
                    key: fk.clone(),
                });
            }
            for index in &desired.indexes {
                index_creates.push(Change::CreateIndex(index.clone()));
            }
            continue;
        };
        let current_fks: Vec<ForeignKey> = current
            .foreign_keys
            .iter()
            .map(|fk| renamed_fk(&key, fk, &desired.name, renames, &table_renames))
            .collect();
        for (fk, original) in current_fks.iter().zip(&current.foreign_keys) {
            if !desired.foreign_keys.iter().any(|d| same_fk(&key, d, fk)) {
                early.push(Change::DropForeignKey {
                    table: original_name(&current.name),
                    key: original.clone(),
                });
            }
        }
        for fk in &desired.foreign_keys {
            if !current_fks.iter().any(|c| same_fk(&key, c, fk)) {
                fk_adds.push(Change::AddForeignKey {
                    table: desired.name.clone(),
                    key: fk.clone(),
                });
            }
        }
        index_changes(
            &key,
            &current.indexes,
            &desired.indexes,
            &index_renames,
            &mut early,
            &mut index_creates,
        );
    }

    // Types and namespaces that must exist before tables use them.
    for schema in &to.schemas {
        if !from.schemas.contains(schema) {
            creates.push(Change::CreateSchema(schema.clone()));
        }
    }
    for ext in &to.extensions {
        if !from.extensions.iter().any(|e| e.name == ext.name) {
            creates.push(Change::CreateExtension(ext.clone()));
        }
    }
    for desired in &to.enums {
        match current_enums.iter().find(|(e, _)| e.name == desired.name) {
            None => creates.push(Change::CreateEnum(desired.clone())),
            Some((current, renamed)) if current.values != desired.values || !renamed.is_empty() => {
                creates.push(Change::AlterEnum {
                    from: current.clone(),
                    to: desired.clone(),
                    renamed: renamed.clone(),
                });
            }
            Some(_) => {}
        }
    }
    for desired in &to.domains {
        match from.domains.iter().find(|d| d.name == desired.name) {
            None => creates.push(Change::CreateDomain(desired.clone())),
            Some(current) if current != desired => {
                early.push(Change::DropDomain(current.clone()));
                creates.push(Change::CreateDomain(desired.clone()));
            }
            Some(_) => {}
        }
    }
    for desired in &to.sequences {
        match from.sequences.iter().find(|s| s.name == desired.name) {
            None => creates.push(Change::CreateSequence(desired.clone())),
            Some(current) if current != desired => {
                final_drops.push(Change::DropSequence(current.clone()));
                creates.push(Change::CreateSequence(desired.clone()));
            }
            Some(_) => {}
        }
    }
    // Functions, each placed once the types its arguments and result name exist: before
    // domains (whose checks may call it) unless it takes or returns a new domain, and before
    // tables (whose defaults and checks may call it) unless it takes or returns a new table's
    // row type. Its body is not checked when it is created, so what the body reads does not
    // matter. A changed result type cannot be replaced in place: drop, then create.
    let new_domains: Vec<&Name> = to
        .domains
        .iter()
        .filter(|d| !from.domains.iter().any(|c| c.name == d.name))
        .map(|d| &d.name)
        .collect();
    let new_tables: Vec<&Name> = desired_tables
        .iter()
        .filter(|(k, _)| !current_tables.contains_key(*k))
        .map(|(_, t)| &t.name)
        .collect();
    let mut functions: [Vec<Change>; 3] = Default::default();
    for desired in &to.functions {
        let current = from
            .functions
            .iter()
            .find(|f| f.signature == desired.signature);
        if current.is_some_and(|c| c.definition == desired.definition) {
            continue;
        }
        let stage = if new_tables.iter().any(|t| function_uses_type(desired, t)) {
            2
        } else if new_domains.iter().any(|d| function_uses_type(desired, d)) {
            1
        } else {
            0
        };
        if let Some(current) = current.filter(|c| c.returns != desired.returns) {
            functions[stage].push(Change::DropFunction(current.clone()));
        }
        functions[stage].push(Change::CreateFunction(desired.clone()));
    }
    let [before_domains, after_domains, after_tables] = functions;
    let domains_at = creates
        .iter()
        .position(|c| matches!(c, Change::CreateDomain(_)))
        .unwrap_or(creates.len());
    creates.splice(domains_at..domains_at, before_domains);
    let sequences_at = creates
        .iter()
        .position(|c| matches!(c, Change::CreateSequence(_)))
        .unwrap_or(creates.len());
    creates.splice(sequences_at..sequences_at, after_domains);

    // Tables.
    for (old, new) in &renames.tables {
        if from
            .tables
            .iter()
            .any(|t| key.name(&t.name) == key.name(old))
        {
            creates.push(Change::RenameTable {
                from: old.clone(),
                to: new.clone(),
            });
        }
    }
    for (k, desired) in &desired_tables {
        if !current_tables.contains_key(k) {
            let mut table = (*desired).clone();
            table.foreign_keys.clear();
            table.indexes.clear();
            creates.push(Change::CreateTable(table));
        }
    }
    for change in table_changes {
        creates.push(Change::AlterTable(Box::new(change)));
    }
    for table in dropped_tables {
        let mut table = table.clone();
        table.name = original_name(&table.name);
        creates.push(Change::DropTable(table));
    }
    creates.extend(after_tables);

    late.extend(index_creates);
    late.extend(fk_adds);
    // A materialized view gets its indexes once it is created; one that stays changes its
    // indexes as a table does.
    for view in views_in_dependency_order(&to.views, &key) {
        let k = key.name(&view.name);
        let current = from.views.iter().find(|v| key.name(&v.name) == k);
        match current {
            Some(current) if !recreated_views.contains(&k) => index_changes(
                &key,
                &current.indexes,
                &view.indexes,
                &index_renames,
                &mut early,
                &mut late,
            ),
            _ => {
                late.push(Change::CreateView(View {
                    indexes: Vec::new(),
                    ..view.clone()
                }));
                late.extend(view.indexes.iter().cloned().map(Change::CreateIndex));
            }
        }
    }
    for trigger in &to.triggers {
        let k = (key.name(&trigger.table), key.ident(&trigger.name));
        if !kept_triggers.contains(&k) {
            late.push(Change::CreateTrigger(trigger.clone()));
        }
    }
    for desired in &to.tables {
        let current = current_tables.get(&key.name(&desired.name));
        for column in &desired.columns {
            let before = current
                .and_then(|t| {
                    t.columns
                        .iter()
                        .find(|c| key.ident(&c.name) == key.ident(&column.name))
                })
                .and_then(|c| c.comment.clone());
            if before != column.comment && (current.is_some() || column.comment.is_some()) {
                late.push(Change::CommentColumn {
                    table: desired.name.clone(),
                    column: column.name.clone(),
                    comment: column.comment.clone(),
                });
            }
        }
    }

    for current in &from.functions {
        if !to
            .functions
            .iter()
            .any(|f| f.signature == current.signature)
        {
            final_drops.push(Change::DropFunction(current.clone()));
        }
    }
    for current in &from.sequences {
        if !to.sequences.iter().any(|s| s.name == current.name) {
            final_drops.push(Change::DropSequence(current.clone()));
        }
    }
    for current in &from.domains {
        if !to.domains.iter().any(|d| d.name == current.name) {
            final_drops.push(Change::DropDomain(current.clone()));
        }
    }
    for current in &from.enums {
        if !to.enums.iter().any(|e| e.name == current.name) {
            final_drops.push(Change::DropEnum(current.clone()));
        }
    }
    for current in &from.extensions {
        if !to.extensions.iter().any(|e| e.name == current.name) {
            final_drops.push(Change::DropExtension(current.clone()));
        }
    }
    for schema in &from.schemas {
        if !to.schemas.contains(schema) {
            final_drops.push(Change::DropSchema(schema.clone()));
        }
    }

    let mut changes = early;
    changes.extend(creates);
    changes.extend(late);
    let (first, last) = security::security_changes(from, to, renames, &changes);
    changes.splice(0..0, first);
    changes.extend(last);
    let comments = comments::comment_changes(from, to, renames, &changes);
    changes.extend(comments);
    changes.extend(final_drops);
    changes
}

/// The changes that turn `current`, the indexes of a table or materialized view that stays,
/// into `desired`: drops (of indexes removed or changed) go to `drops`, renames and creates to
/// `creates`.
fn index_changes(
    key: &Keyed,
    current: &[Index],
    desired: &[Index],
    renames: &BTreeMap<Name, &Name>,
    drops: &mut Vec<Change>,
    creates: &mut Vec<Change>,
) {
    for index in current {
        let new_name = renames.get(&key.name(&index.name)).copied();
        let target_name = new_name.unwrap_or(&index.name);
        match desired
            .iter()
            .find(|d| key.name(&d.name) == key.name(target_name))
        {
            Some(d) if same_index(key, index, d, new_name.is_some()) => {
                if new_name.is_some() {
                    creates.push(Change::RenameIndex {
                        from: index.name.clone(),
                        index: d.clone(),
                    });
                }
            }
            Some(d) => {
                drops.push(Change::DropIndex(index.clone()));
                creates.push(Change::CreateIndex(d.clone()));
            }
            None => drops.push(Change::DropIndex(index.clone())),
        }
    }
    for index in desired {
        let exists = current.iter().any(|c| {
            let target = renames.get(&key.name(&c.name)).copied().unwrap_or(&c.name);
            key.name(target) == key.name(&index.name)
        });
        if !exists {
            creates.push(Change::CreateIndex(index.clone()));
        }
    }
}

/// Whether `function` takes or returns the type called `name`, going by the words of its
/// argument list and result as the engine prints them. A parameter that happens to share the
/// type's name only places the function later than needed.
fn function_uses_type(function: &Function, name: &Name) -> bool {
    let arguments = function
        .signature
        .split_once('(')
        .map_or("", |(_, arguments)| arguments);
    mentions_type(arguments, name)
        || mentions_type(function.returns.as_deref().unwrap_or_default(), name)
}

/// Whether the type text `text`, as the engine prints it, has the word `name` in it (`mood`,
/// `app.mood[]`, `SETOF mood`).
fn mentions_type(text: &str, name: &Name) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .any(|word| word == name.name)
}

/// What a table's change breaks of the views and triggers on it.
enum Broken {
    /// All of them.
    Everything,
    /// Those that use one of these columns (current and new names).
    Columns(Vec<String>),
}

/// The columns of `change` that views and triggers pin where they stop a column they use
/// from changing (`Dependants::UsedColumns`): those that go, change type or collation, or
/// are made again; those of an enum that loses labels, which move to the rebuilt type; and
/// those of a primary key that goes or changes. Each by its current and its new name.
fn pinned_columns(change: &TableChange, rebuilt_enums: &[&Name]) -> Vec<String> {
    let mut columns: Vec<String> = change
        .dropped_columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let retyped = change.altered_columns.iter().filter(|c| {
        c.from.data_type != c.to.data_type
            || c.from.collation != c.to.collation
            || c.from.generated != c.to.generated
    });
    columns.extend(retyped.map(|c| c.to.name.clone()));
    columns.extend(
        change
            .from
            .columns
            .iter()
            .filter(|c| rebuilt_enums.iter().any(|e| mentions_type(&c.data_type, e)))
            .map(|c| c.name.clone()),
    );
    if let Some((Some(key), _)) = &change.primary_key {
        columns.extend(key.columns.iter().cloned());
    }
    let originals: Vec<String> = change
        .renamed_columns
        .iter()
        .filter(|(_, new)| columns.contains(new))
        .map(|(old, _)| old.clone())
        .collect();
    columns.extend(originals);
    columns
}

/// Whether SQL text `text` (a view's query, a trigger's definition, as the engine prints
/// them) may use the column or view called `name`: it has the name as a word, whatever its
/// case. A name that is not one word is looked for anywhere. Saying yes wrongly only makes
/// again an object that could have stayed.
pub(crate) fn mentions(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    if name.chars().all(word) {
        text.split(|c: char| !word(c))
            .any(|w| w.eq_ignore_ascii_case(name))
    } else {
        text.to_lowercase().contains(&name.to_lowercase())
    }
}

/// A current foreign key of `table` (by its desired name) as it reads after the declared
/// renames: its own columns, the referenced table, and the referenced table's columns.
pub(crate) fn renamed_fk(
    key: &Keyed,
    fk: &ForeignKey,
    table: &Name,
    renames: &Renames,
    table_renames: &BTreeMap<Name, Name>,
) -> ForeignKey {
    let mut fk = fk.clone();
    if let Some(new) = table_renames.get(&key.name(&fk.references)) {
        fk.references = new.clone();
    }
    let rename =
        |on: &Name, column: &mut String| {
            if let Some(r) = renames.columns.iter().find(|r| {
                key.name(&r.table) == key.name(on) && key.ident(&r.from) == key.ident(column)
            }) {
                column.clone_from(&r.to);
            }
        };
    for column in &mut fk.columns {
        rename(table, column);
    }
    let references = fk.references.clone();
    for column in &mut fk.referenced_columns {
        rename(&references, column);
    }
    fk
}

fn same_fk(key: &Keyed, a: &ForeignKey, b: &ForeignKey) -> bool {
    let cols = |c: &[String]| c.iter().map(|s| key.ident(s)).collect::<Vec<_>>();
    // Engine-generated names differ between databases; compare names only when both sides
    // carry a name the user is likely to have chosen (PostgreSQL always names constraints).
    a.name.as_ref().map(|n| key.ident(n)) == b.name.as_ref().map(|n| key.ident(n))
        && cols(&a.columns) == cols(&b.columns)
        && key.name(&a.references) == key.name(&b.references)
        && cols(&a.referenced_columns) == cols(&b.referenced_columns)
        && a.on_delete == b.on_delete
        && a.on_update == b.on_update
        && a.deferrable == b.deferrable
        && a.initially_deferred == b.initially_deferred
        && a.match_full == b.match_full
}

/// Two indexes are the same when their definitions match; a renamed index is compared on its
/// shape, since its definition text contains its old name.
fn same_index(key: &Keyed, current: &Index, desired: &Index, renamed: bool) -> bool {
    if renamed {
        current.unique == desired.unique
            && current
                .keys
                .iter()
                .map(|k| key.ident(k))
                .eq(desired.keys.iter().map(|k| key.ident(k)))
            && current.predicate == desired.predicate
            && current.method == desired.method
    } else {
        current.definition == desired.definition
    }
}

/// `current` with the labels `renames` renames under their new names, and those renames as
/// `(old, new)` in the order given.
pub(crate) fn with_renamed_labels(
    current: &Enum,
    renames: &Renames,
) -> (Enum, Vec<(String, String)>) {
    let mut renamed_type = current.clone();
    let mut renamed = Vec::new();
    for rename in renames
        .enum_values
        .iter()
        .filter(|r| r.type_name == current.name)
    {
        if let Some(label) = renamed_type.values.iter_mut().find(|v| **v == rename.from) {
            label.clone_from(&rename.to);
            renamed.push((rename.from.clone(), rename.to.clone()));
        }
    }
    (renamed_type, renamed)
}
fn table_change(
    key: &Keyed,
    current: &Table,
    desired: &Table,
    renames: &Renames,
    table_renames: &BTreeMap<Name, Name>,
) -> TableChange {
    let column_renames: Vec<(String, String)> = renames
        .columns
        .iter()
        .filter(|r| key.name(&r.table) == key.name(&desired.name))
        .filter(|r| {
            current
                .columns
                .iter()
                .any(|c| key.ident(&c.name) == key.ident(&r.from))
        })
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect();
    let mut from = current.clone();
    for column in &mut from.columns {
        if let Some((_, new)) = column_renames
            .iter()
            .find(|(old, _)| key.ident(old) == key.ident(&column.name))
        {
            column.name.clone_from(new);
        }
    }
    let find = |columns: &[Column], name: &str| -> Option<Column> {
        columns
            .iter()
            .find(|c| key.ident(&c.name) == key.ident(name))
            .cloned()
    };
    let added_columns: Vec<Column> = desired
        .columns
        .iter()
        .filter(|c| find(&from.columns, &c.name).is_none())
        .cloned()
        .collect();
    let dropped_columns: Vec<Column> = from
        .columns
        .iter()
        .filter(|c| find(&desired.columns, &c.name).is_none())
        .cloned()
        .collect();
    let altered_columns: Vec<ColumnChange> = desired
        .columns
        .iter()
        .filter_map(|to| {
            let from = find(&from.columns, &to.name)?;
            let mut comparable = from.clone();
            comparable.name.clone_from(&to.name);
            comparable.comment.clone_from(&to.comment);
            if comparable.owned_sequence.is_some() && to.owned_sequence.is_some() {
                // Both draw from a sequence of their own, whose name is the engine's choice.
                comparable.owned_sequence.clone_from(&to.owned_sequence);
                comparable.default.clone_from(&to.default);
            }
            (comparable != *to).then(|| ColumnChange {
                from,
                to: to.clone(),
            })
        })
        .collect();
    let rename_cols = |cols: &[String]| -> Vec<String> {
        cols.iter()
            .map(|c| {
                column_renames
                    .iter()
                    .find(|(old, _)| key.ident(old) == key.ident(c))
                    .map_or_else(|| key.ident(c), |(_, new)| key.ident(new))
            })
            .collect()
    };
    // A key is the same key when its columns and clauses are; its name alone changing is a
    // rename (`TableChange::renamed_constraints`).
    let pk_key = |pk: &Option<PrimaryKey>, renamed: bool| {
        pk.as_ref().map(|p| {
            let cols = if renamed {
                rename_cols(&p.columns)
            } else {
                p.columns.iter().map(|c| key.ident(c)).collect::<Vec<_>>()
            };
            (cols, p.on_conflict, p.descending, p.deferral)
        })
    };
    let primary_key = (pk_key(&current.primary_key, true) != pk_key(&desired.primary_key, false))
        .then(|| (current.primary_key.clone(), desired.primary_key.clone()));
    let unique_key = |u: &Unique, renamed: bool| {
        let cols = if renamed {
            rename_cols(&u.columns)
        } else {
            u.columns.iter().map(|c| key.ident(c)).collect()
        };
        (cols, u.nulls_not_distinct, u.on_conflict, u.deferral)
    };
    let added_uniques = desired
        .uniques
        .iter()
        .filter(|d| {
            !current
                .uniques
                .iter()
                .any(|c| unique_key(c, true) == unique_key(d, false))
        })
        .cloned()
        .collect();
    let dropped_uniques = current
        .uniques
        .iter()
        .filter(|c| {
            !desired
                .uniques
                .iter()
                .any(|d| unique_key(c, true) == unique_key(d, false))
        })
        .cloned()
        .collect();
    let all_checks = |t: &Table| -> Vec<Check> {
        t.checks
            .iter()
            .chain(&t.other_constraints)
            .cloned()
            .collect()
    };
    let (current_checks, desired_checks) = (all_checks(current), all_checks(desired));
    let added_checks = desired_checks
        .iter()
        .filter(|d| !current_checks.contains(d))
        .cloned()
        .collect();
    let dropped_checks = current_checks
        .iter()
        .filter(|c| !desired_checks.contains(c))
        .cloned()
        .collect();
    let current_fks: Vec<ForeignKey> = current
        .foreign_keys
        .iter()
        .map(|fk| renamed_fk(key, fk, &desired.name, renames, table_renames))
        .collect();
    let added_foreign_keys = desired
        .foreign_keys
        .iter()
        .filter(|d| !current_fks.iter().any(|c| same_fk(key, c, d)))
        .cloned()
        .collect();
    let dropped_foreign_keys = current
        .foreign_keys
        .iter()
        .zip(&current_fks)
        .filter(|(_, c)| !desired.foreign_keys.iter().any(|d| same_fk(key, c, d)))
        .map(|(original, _)| original.clone())
        .collect();
    TableChange {
        renamed_columns: column_renames,
        added_foreign_keys,
        dropped_foreign_keys,
        added_columns,
        dropped_columns,
        altered_columns,
        primary_key,
        added_uniques,
        dropped_uniques,
        added_checks,
        dropped_checks,
        options_changed: current.strict != desired.strict
            || current.without_rowid != desired.without_rowid
            || current.virtual_table != desired.virtual_table
            || current.unlogged != desired.unlogged,
        comment: (current.comment != desired.comment).then(|| desired.comment.clone()),
        kept_triggers: Vec::new(),
        children: Vec::new(),
        from,
        to: desired.clone(),
    }
}

/// Views ordered so that every view comes after the views it reads.
fn views_in_dependency_order<'a>(views: &'a [View], key: &Keyed) -> Vec<&'a View> {
    let mut ordered: Vec<&View> = Vec::with_capacity(views.len());
    let mut placed: BTreeSet<Name> = BTreeSet::new();
    let names: BTreeSet<Name> = views.iter().map(|v| key.name(&v.name)).collect();
    while ordered.len() < views.len() {
        let before = ordered.len();
        for view in views {
            let k = key.name(&view.name);
            if placed.contains(&k) {
                continue;
            }
            let ready = view.depends_on.iter().all(|d| {
                let d = key.name(d);
                d == k || !names.contains(&d) || placed.contains(&d)
            });
            if ready {
                placed.insert(k);
                ordered.push(view);
            }
        }
        if ordered.len() == before {
            // A cycle cannot exist among valid views; keep the rest in name order.
            for view in views {
                if placed.insert(key.name(&view.name)) {
                    ordered.push(view);
                }
            }
        }
    }
    ordered
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::schema::{Column, FkAction, OnConflict};

    fn table(name: &str, columns: &[(&str, &str)]) -> Table {
        Table::new(
            Name::bare(name),
            columns.iter().map(|(n, t)| Column::new(*n, *t)).collect(),
        )
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    /// The kind of each change, as its JSON names it.
    pub(crate) fn kinds(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                serde_json::to_value(c).unwrap()["change"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    /// An index on one column of `table`.
    pub(crate) fn index(name: &str, table: &str, col: &str) -> Index {
        Index {
            name: Name::bare(name),
            unique: false,
            keys: vec![col.into()],
            predicate: None,
            method: None,
            definition: format!("CREATE INDEX {name} ON {table} ({col})"),
        }
    }

    /// A view of everything in `on`.
    pub(crate) fn view(name: &str, on: &str) -> View {
        View {
            name: Name::bare(name),
            materialized: false,
            query: format!("SELECT * FROM {on}"),
            definition: format!("CREATE VIEW {name} AS SELECT * FROM {on}"),
            depends_on: vec![Name::bare(on)],
            indexes: Vec::new(),
        }
    }

    #[test]
    fn identical_schemas_have_no_changes() {
        let s = schema(vec![table("a", &[("id", "integer")])]);
        assert!(diff(&s, &s, &Renames::default(), DiffOptions::default()).is_empty());
    }

    /// A virtual table's module and arguments are compared as the table's options: only a
    /// difference in them changes the table.
    #[test]
    fn a_virtual_table_changes_when_its_module_arguments_do() {
        let fts = |arguments: &[&str]| {
            let mut t = table("docs", &[("title", "")]);
            t.virtual_table = Some(crate::schema::VirtualTable {
                module: "fts5".into(),
                arguments: arguments.iter().map(|a| a.to_string()).collect(),
            });
            schema(vec![t])
        };
        let (a, b) = (fts(&["content=posts"]), fts(&["content=articles"]));
        assert!(diff(&a, &a, &Renames::default(), DiffOptions::default()).is_empty());
        let changes = diff(&a, &b, &Renames::default(), DiffOptions::default());
        match changes.as_slice() {
            [Change::AlterTable(change)] => assert!(change.options_changed),
            other => panic!("{other:?}"),
        }
    }

    /// A sequence a column owns is named by the engine: two columns owning one are alike
    /// whatever its name and the default that names it; owning one or not is a change.
    #[test]
    fn owned_sequences_compare_by_whether_there_is_one() {
        let serial = |sequence: Option<&str>| {
            let mut t = table("orders", &[("id", "integer")]);
            t.columns[0].owned_sequence = sequence.map(str::to_string);
            t.columns[0].default = sequence.map(|s| format!("nextval('{s}'::regclass)"));
            schema(vec![t])
        };
        let (standard, numbered) = (
            serial(Some("orders_id_seq")),
            serial(Some("orders_id_seq1")),
        );
        assert!(
            diff(
                &numbered,
                &standard,
                &Renames::default(),
                DiffOptions::default()
            )
            .is_empty()
        );
        let changes = diff(
            &serial(None),
            &standard,
            &Renames::default(),
            DiffOptions::default(),
        );
        match changes.as_slice() {
            [Change::AlterTable(change)] => assert_eq!(change.altered_columns.len(), 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn new_tables_get_their_foreign_keys_and_indexes_afterwards() {
        let mut child = table("child", &[("id", "integer"), ("parent_id", "integer")]);
        child.foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["parent_id".into()],
            references: Name::bare("parent"),
            referenced_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            deferrable: false,
            initially_deferred: false,
            match_full: false,
        });
        child
            .indexes
            .push(index("child_parent", "child", "parent_id"));
        let to = schema(vec![child, table("parent", &[("id", "integer")])]);
        let changes = diff(
            &Schema::default(),
            &to,
            &Renames::default(),
            DiffOptions::default(),
        );
        assert_eq!(
            kinds(&changes),
            [
                "create_table",
                "create_table",
                "create_index",
                "add_foreign_key"
            ]
        );
        match &changes[0] {
            Change::CreateTable(t) => assert!(t.foreign_keys.is_empty() && t.indexes.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn column_add_drop_and_alter() {
        let from = schema(vec![table(
            "t",
            &[("id", "integer"), ("old", "text"), ("n", "integer")],
        )]);
        let mut to = schema(vec![table(
            "t",
            &[("id", "integer"), ("n", "bigint"), ("new", "text")],
        )]);
        to.tables[0].columns[0].nullable = false;
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        let Change::AlterTable(change) = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!(change.added_columns[0].name, "new");
        assert_eq!(change.dropped_columns[0].name, "old");
        let altered: Vec<&str> = change
            .altered_columns
            .iter()
            .map(|c| c.to.name.as_str())
            .collect();
        assert_eq!(altered, ["id", "n"]);
    }

    #[test]
    fn renames_are_applied_not_guessed() {
        let from = schema(vec![table(
            "accounts",
            &[("id", "integer"), ("username", "text")],
        )]);
        let to = schema(vec![table(
            "users",
            &[("id", "integer"), ("user_name", "text")],
        )]);
        // Without renames: drop and create.
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&changes), ["create_table", "drop_table"]);
        // With renames: rename table and column, nothing dropped.
        let renames = Renames {
            tables: vec![(Name::bare("accounts"), Name::bare("users"))],
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "username".into(),
                to: "user_name".into(),
            }],
            ..Renames::default()
        };
        let changes = diff(&from, &to, &renames, DiffOptions::default());
        assert_eq!(kinds(&changes), ["rename_table", "alter_table"]);
        let Change::AlterTable(change) = &changes[1] else {
            panic!()
        };
        assert_eq!(
            change.renamed_columns,
            [("username".into(), "user_name".into())]
        );
        assert!(change.added_columns.is_empty() && change.dropped_columns.is_empty());
        assert!(change.altered_columns.is_empty());
    }

    #[test]
    fn views_on_a_changed_table_are_recreated_in_dependency_order() {
        let mut from = schema(vec![table("t", &[("id", "integer")])]);
        from.views = vec![view("v2", "v1"), view("v1", "t")];
        let mut to = schema(vec![table("t", &[("id", "integer"), ("x", "text")])]);
        to.views = from.views.clone();
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(
            kinds(&changes),
            [
                "drop_view",
                "drop_view",
                "alter_table",
                "create_view",
                "create_view"
            ]
        );
        let names: Vec<String> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropView(v) | Change::CreateView(v) => Some(v.name.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["v2", "v1", "v1", "v2"]);
    }

    #[test]
    fn unchanged_views_on_unchanged_tables_stay() {
        let mut from = schema(vec![
            table("t", &[("id", "integer")]),
            table("u", &[("id", "integer")]),
        ]);
        from.views = vec![view("v", "t")];
        let mut to = schema(vec![
            table("t", &[("id", "integer")]),
            table("u", &[("id", "bigint")]),
        ]);
        to.views = from.views.clone();
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&changes), ["alter_table"]);
    }

    #[test]
    fn a_materialized_view_gets_its_indexes_after_it_and_changes_them_in_place() {
        let plain = |from: &Schema, to: &Schema| {
            kinds(&diff(from, to, &Renames::default(), DiffOptions::default()))
        };
        let mut from = schema(vec![table("t", &[("id", "integer"), ("n", "integer")])]);
        from.views = vec![View {
            materialized: true,
            indexes: vec![index("mv_id", "mv", "id")],
            ..view("mv", "t")
        }];
        let empty = Schema::default();
        assert_eq!(
            plain(&empty, &from),
            ["create_table", "create_view", "create_index"]
        );
        let created = diff(&empty, &from, &Renames::default(), DiffOptions::default());
        assert!(matches!(&created[1], Change::CreateView(v) if v.indexes.is_empty()));

        let mut to = from.clone();
        to.views[0].indexes = vec![index("mv_n", "mv", "n"), index("mv_renamed", "mv", "id")];
        let renames = Renames {
            indexes: vec![(Name::bare("mv_id"), Name::bare("mv_renamed"))],
            ..Renames::default()
        };
        let changes = diff(&from, &to, &renames, DiffOptions::default());
        assert_eq!(kinds(&changes), ["rename_index", "create_index"]);
        to.views[0].indexes.clear();
        assert_eq!(plain(&from, &to), ["drop_index"]);

        // Recreated for its own change or for its table's: the index comes back after it.
        let mut to = from.clone();
        to.views[0].definition.push_str(" WHERE id > 0");
        assert_eq!(
            plain(&from, &to),
            ["drop_view", "create_view", "create_index"]
        );
        let mut to = from.clone();
        to.tables[0].columns.push(Column::new("x", "text"));
        assert_eq!(
            plain(&from, &to),
            ["drop_view", "alter_table", "create_view", "create_index"]
        );
    }

    #[test]
    fn indexes_are_renamed_when_declared_and_replaced_when_changed() {
        let mut from = schema(vec![table("t", &[("a", "text"), ("b", "text")])]);
        from.tables[0].indexes = vec![index("old_a", "t", "a"), index("ib", "t", "b")];
        let mut to = from.clone();
        to.tables[0].indexes = vec![index("new_a", "t", "a"), index("ib", "t", "a")];
        let renames = Renames {
            indexes: vec![(Name::bare("old_a"), Name::bare("new_a"))],
            ..Renames::default()
        };
        let changes = diff(&from, &to, &renames, DiffOptions::default());
        assert_eq!(
            kinds(&changes),
            ["drop_index", "rename_index", "create_index"]
        );
    }

    #[test]
    fn names_compare_case_insensitively_when_asked() {
        let from = schema(vec![table("USERS", &[("ID", "integer")])]);
        let to = schema(vec![table("users", &[("id", "integer")])]);
        assert!(
            diff(
                &from,
                &to,
                &Renames::default(),
                DiffOptions {
                    case_insensitive: true,
                    ..DiffOptions::default()
                }
            )
            .is_empty()
        );
        assert!(!diff(&from, &to, &Renames::default(), DiffOptions::default()).is_empty());
    }

    fn fk(column: &str, references: &str, referenced: &str) -> ForeignKey {
        ForeignKey {
            name: None,
            columns: vec![column.into()],
            references: Name::bare(references),
            referenced_columns: vec![referenced.into()],
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
            deferrable: false,
            initially_deferred: false,
            match_full: false,
        }
    }

    #[test]
    fn conflict_clauses_and_a_descending_key_change_the_table() {
        let base = || {
            let mut t = table("t", &[("id", "INTEGER"), ("k", "TEXT")]);
            t.primary_key = Some(PrimaryKey::new(vec!["id".into()]));
            t.columns[1].nullable = false;
            t.uniques.push(Unique {
                name: None,
                columns: vec!["k".into()],
                nulls_not_distinct: false,
                on_conflict: None,
                deferral: Default::default(),
            });
            t
        };
        type Edit = fn(&mut Table);
        let cases: [(Edit, &str); 4] = [
            (
                |t| t.primary_key.as_mut().unwrap().on_conflict = Some(OnConflict::Replace),
                "primary key",
            ),
            (
                |t| t.primary_key.as_mut().unwrap().descending = true,
                "primary key",
            ),
            (
                |t| t.uniques[0].on_conflict = Some(OnConflict::Ignore),
                "unique",
            ),
            (
                |t| t.columns[1].not_null_conflict = Some(OnConflict::Fail),
                "column",
            ),
        ];
        for (edit, expected) in cases {
            let mut to = base();
            edit(&mut to);
            let changes = diff(
                &schema(vec![base()]),
                &schema(vec![to.clone()]),
                &Renames::default(),
                DiffOptions::default(),
            );
            let [Change::AlterTable(change)] = changes.as_slice() else {
                panic!("{to:?}: {changes:?}")
            };
            let parts: Vec<&str> = [
                ("primary key", change.primary_key.is_some()),
                (
                    "unique",
                    change.added_uniques.len() == 1 && change.dropped_uniques.len() == 1,
                ),
                ("column", change.altered_columns.len() == 1),
            ]
            .into_iter()
            .filter_map(|(part, changed)| changed.then_some(part))
            .collect();
            assert_eq!(parts, [expected], "{to:?}");
            assert!(change.renamed_constraints().is_empty(), "{to:?}");
        }
    }

    #[test]
    fn a_foreign_key_alone_changes_the_table_too() {
        let parent = table("p", &[("id", "integer")]);
        let from = schema(vec![parent.clone(), table("c", &[("p_id", "integer")])]);
        let mut to = from.clone();
        to.tables[0].foreign_keys.push(fk("p_id", "p", "id"));
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&changes), ["alter_table", "add_foreign_key"]);
        let Change::AlterTable(change) = &changes[0] else {
            panic!()
        };
        assert_eq!(change.added_foreign_keys.len(), 1);
        let back = diff(&to, &from, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&back), ["drop_foreign_key", "alter_table"]);
    }

    #[test]
    fn renaming_a_referenced_column_keeps_the_foreign_key() {
        let mut child = table("c", &[("p_id", "integer")]);
        child.foreign_keys.push(fk("p_id", "p", "id"));
        let from = schema(vec![child.clone(), table("p", &[("id", "integer")])]);
        let mut renamed_child = child;
        renamed_child.foreign_keys[0].referenced_columns = vec!["key".into()];
        let to = schema(vec![renamed_child, table("p", &[("key", "integer")])]);
        let renames = Renames {
            columns: vec![ColumnRename {
                table: Name::bare("p"),
                from: "id".into(),
                to: "key".into(),
            }],
            ..Renames::default()
        };
        let changes = diff(&from, &to, &renames, DiffOptions::default());
        assert_eq!(kinds(&changes), ["alter_table"], "{changes:#?}");
    }

    #[test]
    fn changed_triggers_are_dropped_first_and_created_last() {
        let trig = |def: &str| Trigger {
            name: "tr".into(),
            table: Name::bare("t"),
            definition: def.into(),
        };
        let mut from = schema(vec![table("t", &[("id", "integer")])]);
        from.triggers = vec![trig("CREATE TRIGGER tr ... 1")];
        let mut to = from.clone();
        to.triggers = vec![trig("CREATE TRIGGER tr ... 2")];
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        assert_eq!(kinds(&changes), ["drop_trigger", "create_trigger"]);
    }

    /// A table `t` with columns `a` and `b`, a view and a trigger on each column, and a view
    /// reading the view on `a`.
    fn with_dependants() -> Schema {
        let mut s = schema(vec![table("t", &[("a", "integer"), ("b", "integer")])]);
        s.views = vec![
            View {
                query: "SELECT t.a FROM t".into(),
                ..view("on_a", "t")
            },
            View {
                query: "SELECT t.b FROM t".into(),
                ..view("on_b", "t")
            },
            View {
                query: "SELECT on_a.a FROM on_a".into(),
                ..view("on_on_a", "on_a")
            },
        ];
        s.triggers = ["a", "b"]
            .map(|c| Trigger {
                name: format!("when_{c}"),
                table: Name::bare("t"),
                definition: format!("CREATE TRIGGER when_{c} ... WHEN (new.{c} > 0) ..."),
            })
            .to_vec();
        s
    }

    fn dependants(dependants: Dependants) -> DiffOptions {
        DiffOptions {
            dependants,
            ..DiffOptions::default()
        }
    }

    /// The names of the views and triggers that `changes` drops.
    fn dropped(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::DropView(v) => Some(v.name.name.clone()),
                Change::DropTrigger(t) => Some(t.name.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn which_table_changes_remake_views_and_triggers_depends_on_the_engine() {
        let from = with_dependants();
        // Column a changes type, and a column is added.
        let mut to = from.clone();
        to.tables[0].columns[0].data_type = "bigint".into();
        to.tables[0].columns.push(Column::new("c", "text"));
        let remade = |options| dropped(&diff(&from, &to, &Renames::default(), options));
        assert_eq!(
            remade(dependants(Dependants::AnyChange)),
            ["when_b", "when_a", "on_on_a", "on_b", "on_a"]
        );
        // What uses a, and what reads what uses it.
        assert_eq!(
            remade(dependants(Dependants::UsedColumns)),
            ["when_a", "on_on_a", "on_a"]
        );
        let none: [&str; 0] = [];
        assert_eq!(remade(dependants(Dependants::ReadWhenUsed)), none);
        // The triggers left alone ride on the table's change, for a dialect that rebuilds it.
        let changes = diff(
            &from,
            &to,
            &Renames::default(),
            dependants(Dependants::UsedColumns),
        );
        let kept: Vec<&str> = changes
            .iter()
            .find_map(|c| match c {
                Change::AlterTable(t) => Some(t.kept_triggers.iter().map(|t| t.name.as_str())),
                _ => None,
            })
            .unwrap()
            .collect();
        assert_eq!(kept, ["when_b"]);
        // Dropping b breaks what uses b; a rename breaks what names the table.
        let mut to = from.clone();
        to.tables[0].columns.pop();
        to.views.retain(|v| v.name.name != "on_b");
        to.triggers.retain(|t| t.name != "when_b");
        assert_eq!(
            dropped(&diff(
                &from,
                &to,
                &Renames::default(),
                dependants(Dependants::UsedColumns)
            )),
            ["when_b", "on_b"]
        );
    }

    /// SQLite reads a view when it is used, so one reading a view made again can stay, unless
    /// the change has SQLite check the whole schema (a rename, a dropped column) while the
    /// view it reads is gone.
    #[test]
    fn a_view_reading_a_remade_view_stays_unless_the_schema_is_checked_meanwhile() {
        let from = with_dependants();
        let mut to = from.clone();
        to.views[0].definition.push_str(" WHERE a > 0");
        let options = dependants(Dependants::ReadWhenUsed);
        assert_eq!(
            dropped(&diff(&from, &to, &Renames::default(), options)),
            ["on_a"]
        );
        let mut renamed = to.clone();
        renamed.tables[0].columns[1].name = "bb".into();
        let renames = Renames {
            columns: vec![ColumnRename {
                table: Name::bare("t"),
                from: "b".into(),
                to: "bb".into(),
            }],
            ..Renames::default()
        };
        assert_eq!(
            dropped(&diff(&from, &renamed, &renames, options)),
            ["on_on_a", "on_a"]
        );
    }

    #[test]
    fn a_column_is_mentioned_as_a_word_in_any_case() {
        assert!(mentions("SELECT t.id, t.n FROM t", "n"));
        assert!(!mentions("SELECT t.id, t.name FROM t", "n"));
        assert!(mentions("SELECT \"Mixed\" FROM t", "mixed"));
        assert!(mentions("SELECT \"two words\" FROM t", "Two Words"));
    }
}
