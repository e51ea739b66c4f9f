//! Tables: the current ones matched to the desired ones through declared renames, what
//! changes inside each that stays ([`table_change`]), their foreign keys and indexes, and the
//! order tables are renamed, created, changed and dropped in.

use std::collections::BTreeMap;

use super::{Change, ColumnChange, Keyed, Renames, TableChange, inherits, types::Enums};
use crate::schema::{Check, Column, ForeignKey, Index, Name, PrimaryKey, Schema, Table, Unique};

/// The tables of both sides, by the keys names compare by.
pub(super) struct Tables<'a> {
    /// Declared renames of tables, by the current name's key: the desired name.
    pub(super) renames: BTreeMap<Name, Name>,
    /// The current tables, renamed to their desired names where renamed.
    pub(super) current: BTreeMap<Name, Table>,
    /// The desired tables.
    pub(super) desired: BTreeMap<Name, &'a Table>,
}

impl<'a> Tables<'a> {
    /// Match `from`'s tables to `to`'s, applying the declared table renames.
    pub(super) fn matched(key: &Keyed, from: &Schema, to: &'a Schema, renames: &Renames) -> Self {
        let table_renames: BTreeMap<Name, Name> = renames
            .tables
            .iter()
            .map(|(old, new)| (key.name(old), new.clone()))
            .collect();
        let current = from
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
        let desired = to.tables.iter().map(|t| (key.name(&t.name), t)).collect();
        Tables {
            renames: table_renames,
            current,
            desired,
        }
    }

    /// What changes in each table that stays, for the tables that change.
    pub(super) fn changes(
        &self,
        key: &Keyed,
        to: &Schema,
        renames: &Renames,
        enums: &Enums<'_>,
    ) -> Vec<TableChange> {
        let mut changes = Vec::new();
        for (k, desired) in &self.desired {
            if let Some(current) = self.current.get(k) {
                let mut change = table_change(key, current, desired, renames, &self.renames);
                inherits::settle(&mut change, to, &self.renames);
                if !change.is_empty() || enums.used_by(current) {
                    changes.push(change);
                }
            }
        }
        changes
    }

    /// The current tables the desired schema does not have (under their desired names).
    pub(super) fn dropped(&self) -> Vec<&Table> {
        self.current
            .iter()
            .filter(|(k, _)| !self.desired.contains_key(*k))
            .map(|(_, t)| t)
            .collect()
    }

    /// The names of the desired tables that do not exist yet.
    pub(super) fn new_names(&self) -> Vec<&'a Name> {
        self.desired
            .iter()
            .filter(|(k, _)| !self.current.contains_key(*k))
            .map(|(_, t)| &t.name)
            .collect()
    }

    /// Drop the foreign keys and indexes of the tables that stay that go or change, into
    /// `early`, and return the indexes and foreign keys to create, in that order; a new
    /// table gets all of its own.
    pub(super) fn keys_and_indexes(
        &self,
        key: &Keyed,
        renames: &Renames,
        index_renames: &BTreeMap<Name, &Name>,
        early: &mut Vec<Change>,
    ) -> (Vec<Change>, Vec<Change>) {
        let mut fk_adds = Vec::new();
        let mut index_creates = Vec::new();
        for (k, desired) in &self.desired {
            let Some(current) = self.current.get(k) else {
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
                .map(|fk| renamed_fk(key, fk, &desired.name, renames, &self.renames))
                .collect();
            for (fk, original) in current_fks.iter().zip(&current.foreign_keys) {
                if !desired.foreign_keys.iter().any(|d| same_fk(key, d, fk)) {
                    early.push(Change::DropForeignKey {
                        table: original_name(key, renames, &current.name),
                        key: original.clone(),
                    });
                }
            }
            for fk in &desired.foreign_keys {
                if !current_fks.iter().any(|c| same_fk(key, c, fk)) {
                    fk_adds.push(Change::AddForeignKey {
                        table: desired.name.clone(),
                        key: fk.clone(),
                    });
                }
            }
            index_changes(
                key,
                &current.indexes,
                &desired.indexes,
                index_renames,
                early,
                &mut index_creates,
            );
        }
        (index_creates, fk_adds)
    }

    /// Rename, create (without foreign keys and indexes, which come once every table
    /// exists), change and drop tables, in that order, into `creates`.
    pub(super) fn create_alter_drop(
        &self,
        key: &Keyed,
        from: &Schema,
        renames: &Renames,
        changes: Vec<TableChange>,
        creates: &mut Vec<Change>,
    ) {
        for (old, new) in declared_renames(key, from, renames) {
            creates.push(Change::RenameTable {
                from: old.clone(),
                to: new.clone(),
            });
        }
        for (k, desired) in &self.desired {
            if !self.current.contains_key(k) {
                let mut table = (*desired).clone();
                table.foreign_keys.clear();
                table.indexes.clear();
                creates.push(Change::CreateTable(table));
            }
        }
        for change in changes {
            creates.push(Change::AlterTable(Box::new(change)));
        }
        for table in self.dropped() {
            let mut table = table.clone();
            table.name = original_name(key, renames, &table.name);
            creates.push(Change::DropTable(table));
        }
    }

    /// Set, change or remove the comments of columns, into `late`: every column comment of
    /// a new table, and those that differ on a table that stays.
    pub(super) fn column_comments(&self, key: &Keyed, to: &Schema, late: &mut Vec<Change>) {
        for desired in &to.tables {
            let current = self.current.get(&key.name(&desired.name));
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
                        desired: Some(Box::new(column.clone())),
                    });
                }
            }
        }
    }
}

/// The declared table renames whose old table exists in `from`.
pub(super) fn declared_renames<'r>(
    key: &Keyed,
    from: &Schema,
    renames: &'r Renames,
) -> impl Iterator<Item = &'r (Name, Name)> {
    renames.tables.iter().filter(move |(old, _)| {
        from.tables
            .iter()
            .any(|t| key.name(&t.name) == key.name(old))
    })
}

/// The current database's name of a table known by its desired name.
fn original_name(key: &Keyed, renames: &Renames, table: &Name) -> Name {
    renames
        .tables
        .iter()
        .find(|(_, new)| key.name(new) == key.name(table))
        .map_or_else(|| table.clone(), |(old, _)| old.clone())
}

/// The declared index renames, by the current name's key: the desired name.
pub(super) fn index_renames<'r>(key: &Keyed, renames: &'r Renames) -> BTreeMap<Name, &'r Name> {
    renames
        .indexes
        .iter()
        .map(|(old, new)| (key.name(old), new))
        .collect()
}

/// The changes that turn `current`, the indexes of a table or materialized view that stays,
/// into `desired`: drops (of indexes removed or changed) go to `drops`, renames and creates to
/// `creates`.
pub(super) fn index_changes(
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

/// What changes inside `current`, a table that stays, to make it `desired`.
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
            (
                cols,
                p.on_conflict,
                p.descending,
                p.deferral,
                p.comment.clone(),
            )
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
            || current.unlogged != desired.unlogged
            || current.engine != desired.engine
            || current.collation != desired.collation
            || current.row_format != desired.row_format
            || current.key_block_size != desired.key_block_size
            || current.partitioning != desired.partitioning,
        comment: (current.comment != desired.comment).then(|| desired.comment.clone()),
        kept_triggers: Vec::new(),
        children: Vec::new(),
        from,
        to: desired.clone(),
    }
}
