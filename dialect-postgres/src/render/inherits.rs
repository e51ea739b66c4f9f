//! Table inheritance (`INHERITS`): what a change of a parent does to its children by itself,
//! and what a child must do around it.
//!
//! PostgreSQL carries most column changes of a parent down to its children: `ADD COLUMN`,
//! `DROP COLUMN` (of the columns a child only inherits), `TYPE`, defaults and `NOT NULL`. The
//! diff sees each child change as well, so a child leaves to its parent what the parent's
//! statement does to it, and the parent says `ONLY` where the children's own state differs:
//! a default or a nullable column of its own, and a column a child keeps when the parent
//! drops it. Parents change before their children, and children are dropped before their
//! parents.

use godwit_core::diff::{Change, TableChange};
use godwit_core::schema::{Column, Name, Table};

use super::Context;
use super::sql::{literal, qualified, quote};

/// How a table's `DROP COLUMN` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ColumnDrop {
    /// Not at all: the column goes with a parent's drop.
    ThroughParent,
    /// `ALTER TABLE ONLY`: a child keeps its copy, which becomes its own.
    Only,
    /// Down to the children that only inherit it.
    Recursive,
}

impl Context<'_> {
    /// The changes of the tables `change` inherits from before and after it.
    fn staying_parents<'a>(
        &'a self,
        change: &'a TableChange,
    ) -> impl Iterator<Item = &'a TableChange> + 'a {
        change
            .to
            .inherits
            .iter()
            .filter(|p| change.from.inherits.contains(p))
            .filter_map(|p| self.table_change(p))
    }

    /// Whether a table this change alters or drops inherits from `table` now.
    pub(super) fn has_children(&self, table: &Name) -> bool {
        self.changes.iter().any(|c| match c {
            Change::AlterTable(c) => c.from.inherits.contains(table),
            Change::DropTable(t) => t.inherits.contains(table),
            _ => false,
        })
    }

    /// The changes of the tables that inherit from `table` before and after this change.
    fn staying_children<'a>(&'a self, table: &'a Name) -> impl Iterator<Item = &'a TableChange> {
        self.changes.iter().filter_map(move |c| match c {
            Change::AlterTable(c)
                if c.from.inherits.contains(table) && c.to.inherits.contains(table) =>
            {
                Some(c.as_ref())
            }
            _ => None,
        })
    }

    /// Whether a parent's `ADD COLUMN` gives `column` to the table of `change`.
    pub(super) fn added_by_parent(&self, change: &TableChange, column: &str) -> bool {
        self.staying_parents(change)
            .any(|p| p.added_columns.iter().any(|c| c.name == column))
    }

    /// The columns a child adds as its own that its parent adds too: the child's must come
    /// first, so that the parent's merges with it instead of creating it as inherited only.
    pub(super) fn children_adding_first<'a>(
        &'a self,
        change: &'a TableChange,
        column: &'a str,
    ) -> impl Iterator<Item = (&'a Name, &'a Column)> {
        self.staying_children(&change.to.name)
            .filter_map(move |child| {
                child
                    .added_columns
                    .iter()
                    .find(|c| c.name == column && !c.inherited)
                    .map(|c| (&child.to.name, c))
            })
    }

    /// How `change` drops `column`.
    pub(super) fn drop_mode(&self, change: &TableChange, column: &Column) -> ColumnDrop {
        let through_parent = column.inherited
            && self.staying_parents(change).any(|p| {
                p.dropped_columns
                    .iter()
                    .any(|c| c.name == column.name && self.drop_mode(p, c) != ColumnDrop::Only)
            });
        if through_parent {
            ColumnDrop::ThroughParent
        } else if self.staying_children(&change.to.name).any(|child| {
            child
                .altered_columns
                .iter()
                .any(|c| c.to.name == column.name && c.from.inherited && !c.to.inherited)
        }) {
            ColumnDrop::Only
        } else {
            ColumnDrop::Recursive
        }
    }

    /// The tables below `change` whose copy of `column` goes with its recursive drop.
    pub(super) fn dropped_with(&self, change: &TableChange, column: &str) -> Vec<Name> {
        let mut found = Vec::new();
        for child in self.staying_children(&change.to.name) {
            if let Some(c) = child.dropped_columns.iter().find(|c| c.name == column)
                && self.drop_mode(child, c) == ColumnDrop::ThroughParent
            {
                found.push(self.current_table(&child.to.name));
                found.extend(self.dropped_with(child, column));
            }
        }
        found
    }

    /// The column of a parent of `change` whose type change reaches `column`, as it was.
    pub(super) fn retyped_by_parent<'a>(
        &'a self,
        change: &'a TableChange,
        column: &str,
    ) -> Option<&'a Column> {
        self.staying_parents(change).find_map(|p| {
            p.altered_columns
                .iter()
                .find(|c| c.to.name == column && c.from.data_type != c.to.data_type)
                .map(|c| &c.from)
        })
    }

    /// `INHERITS (...)` for a new table.
    pub(super) fn inherits_clause(&self, table: &Table) -> String {
        if table.inherits.is_empty() {
            return String::new();
        }
        let parents: Vec<String> = table.inherits.iter().map(qualified).collect();
        format!(" INHERITS ({})", parents.join(", "))
    }

    /// What a new child must change of the columns it inherits, where it differs from its
    /// parent: `CREATE TABLE ... INHERITS` copies the parent's default and `NOT NULL`. Only a
    /// parent this change creates or alters is known here; a child of another parent is
    /// created with what that parent has.
    pub(super) fn inherited_column_overrides(&self, table: &Table) -> Vec<String> {
        let name = qualified(&table.name);
        let mut out = Vec::new();
        for column in table.columns.iter().filter(|c| c.inherited) {
            let Some(parent) = table
                .inherits
                .iter()
                .filter_map(|p| self.desired_table(p))
                .find_map(|p| p.column(&column.name))
            else {
                continue;
            };
            let alter = |action: String| {
                format!(
                    "ALTER TABLE ONLY {name} ALTER COLUMN {} {action}",
                    quote(&column.name)
                )
            };
            if parent.default != column.default {
                out.push(match &column.default {
                    Some(default) => alter(format!("SET DEFAULT {default}")),
                    None => alter("DROP DEFAULT".into()),
                });
            }
            if parent.nullable && !column.nullable {
                out.push(alter("SET NOT NULL".into()));
            }
        }
        out
    }

    /// The table called `name` as this change makes it, when it creates or alters it.
    fn desired_table(&self, name: &Name) -> Option<&Table> {
        self.changes.iter().find_map(|c| match c {
            Change::CreateTable(t) if &t.name == name => Some(t),
            Change::AlterTable(c) if &c.to.name == name => Some(&c.to),
            _ => None,
        })
    }

    /// `NO INHERIT` for the parents `change` leaves (all of them when the order of those it
    /// keeps changes, since a table's parents are in the order it joined them). The checks the
    /// table had from a parent stay as its own after it leaves; those it does not declare
    /// itself go.
    pub(super) fn leave_parents(&self, change: &TableChange) -> Vec<String> {
        let name = qualified(&change.to.name);
        let (leave, _) = parents_to_change(change);
        let own: Vec<String> = change
            .to
            .checks
            .iter()
            .filter_map(|c| c.name.as_deref().map(literal))
            .collect();
        let mut out = Vec::new();
        for parent in leave {
            out.push(format!(
                "ALTER TABLE {name} NO INHERIT {}",
                qualified(parent)
            ));
            out.push(drop_parent_checks(parent, &change.to.name, &own));
        }
        out
    }

    /// `INHERIT` for the parents `change` joins, each after the child has a copy of the
    /// parent's check constraints, which PostgreSQL requires of a table that joins.
    pub(super) fn join_parents(&self, change: &TableChange) -> Vec<String> {
        let name = qualified(&change.to.name);
        let (_, join) = parents_to_change(change);
        let mut out = Vec::new();
        for parent in join {
            out.push(copy_checks(parent, &change.to.name));
            out.push(format!("ALTER TABLE {name} INHERIT {}", qualified(parent)));
        }
        out
    }
}

/// The parents `change` leaves and those it joins, in order.
fn parents_to_change(change: &TableChange) -> (Vec<&Name>, Vec<&Name>) {
    let (from, to) = (&change.from.inherits, &change.to.inherits);
    let kept: Vec<&Name> = from.iter().filter(|p| to.contains(p)).collect();
    if to.iter().take(kept.len()).eq(kept.iter().copied()) {
        (
            from.iter().filter(|p| !to.contains(p)).collect(),
            to.iter().skip(kept.len()).collect(),
        )
    } else {
        (from.iter().collect(), to.iter().collect())
    }
}

/// A `DO` block that drops from `child` the checks it has under the name and definition of one
/// of `parent`'s, except those called one of `own` (quoted literals).
fn drop_parent_checks(parent: &Name, child: &Name, own: &[String]) -> String {
    let (parent, child) = (literal(&qualified(parent)), literal(&qualified(child)));
    let kept = if own.is_empty() {
        String::new()
    } else {
        format!(" AND c.conname NOT IN ({})", own.join(", "))
    };
    format!(
        "DO $godwit$\nDECLARE k record;\nBEGIN\n    \
         FOR k IN SELECT c.conname FROM pg_catalog.pg_constraint AS c \
         JOIN pg_catalog.pg_constraint AS p ON p.conrelid = {parent}::regclass \
         AND p.contype = 'c' AND p.conname = c.conname \
         AND pg_catalog.pg_get_constraintdef(p.oid) = pg_catalog.pg_get_constraintdef(c.oid) \
         WHERE c.conrelid = {child}::regclass AND c.contype = 'c'{kept} LOOP\n        \
         EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {child}, k.conname);\n    \
         END LOOP;\nEND\n$godwit$"
    )
}

/// A `DO` block that copies onto `child` the check constraints of `parent` it has not got
/// under their names. The parent may be unchanged, so its constraints are read from the
/// catalog when the block runs.
fn copy_checks(parent: &Name, child: &Name) -> String {
    let (parent, child) = (literal(&qualified(parent)), literal(&qualified(child)));
    format!(
        "DO $godwit$\nDECLARE k record;\nBEGIN\n    \
         FOR k IN SELECT p.conname, pg_catalog.pg_get_constraintdef(p.oid) AS definition \
         FROM pg_catalog.pg_constraint AS p \
         WHERE p.conrelid = {parent}::regclass AND p.contype = 'c' AND NOT p.connoinherit \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS c \
         WHERE c.conrelid = {child}::regclass AND c.conname = p.conname) LOOP\n        \
         EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', {child}, k.conname, k.definition);\n    \
         END LOOP;\nEND\n$godwit$"
    )
}

/// The changes with parents created and altered before their children, and children dropped
/// before their parents. The diff orders tables by name, which need not be that order; and it
/// creates tables before it alters any, while a new child must find its parents' columns as
/// they will be.
pub(super) fn parents_first(changes: Vec<&Change>) -> Vec<&Change> {
    let mut ordered = changes;
    let mut i = 0;
    while i < ordered.len() {
        let last_parent_change = match ordered[i] {
            Change::CreateTable(t) => ordered.iter().rposition(
                |c| matches!(c, Change::AlterTable(c) if t.inherits.contains(&c.to.name)),
            ),
            _ => None,
        };
        match last_parent_change {
            Some(at) if at > i => {
                let child = ordered.remove(i);
                ordered.insert(at, child);
            }
            _ => i += 1,
        }
    }
    let mut start = 0;
    while start < ordered.len() {
        let same_kind = |c: &Change, d: &Change| {
            std::mem::discriminant(c) == std::mem::discriminant(d)
                && matches!(c, Change::AlterTable(_) | Change::DropTable(_))
        };
        let end = (start + 1..ordered.len())
            .find(|&i| !same_kind(ordered[start], ordered[i]))
            .unwrap_or(ordered.len());
        let run = &mut ordered[start..end];
        let tables: Vec<(Name, Vec<Name>)> = run
            .iter()
            .map(|c| match c {
                Change::AlterTable(c) => {
                    let mut parents = c.from.inherits.clone();
                    parents.extend(c.to.inherits.iter().cloned());
                    (c.to.name.clone(), parents)
                }
                Change::DropTable(t) => (t.name.clone(), t.inherits.clone()),
                _ => (Name::bare(""), Vec::new()),
            })
            .collect();
        let depth = |name: &Name| depth(name, &tables, 0);
        let drops = matches!(run.first(), Some(Change::DropTable(_)));
        run.sort_by_key(|c| {
            let name = match c {
                Change::AlterTable(c) => &c.to.name,
                Change::DropTable(t) => &t.name,
                _ => return 0,
            };
            let d = depth(name) as i64;
            if drops { -d } else { d }
        });
        start = end;
    }
    ordered
}

/// How many of `tables` stand above `name` through inheritance.
fn depth(name: &Name, tables: &[(Name, Vec<Name>)], seen: usize) -> usize {
    if seen > tables.len() {
        // Inheritance has no cycles; should the catalog say otherwise, stop.
        return seen;
    }
    tables
        .iter()
        .find(|(t, _)| t == name)
        .map_or(0, |(_, parents)| {
            parents
                .iter()
                .filter(|p| tables.iter().any(|(t, _)| t == *p))
                .map(|p| 1 + depth(p, tables, seen + 1))
                .max()
                .unwrap_or(0)
        })
}
