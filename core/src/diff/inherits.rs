//! Table inheritance (PostgreSQL `INHERITS`) in a table's change.
//!
//! A child table has its parents' columns whether or not it declared them; the columns it did
//! not declare are [`Column::inherited`](crate::schema::Column::inherited). Whether a column
//! is the child's own decides one thing only: whether the child keeps it when a parent drops
//! it. So a difference in that mark alone is a change only where it decides that: a column
//! the child has only through a parent, which the desired schema gives to the child alone
//! (no desired parent has it), must become the child's own before the parent drops it. The
//! other way, a column the child declared that the desired schema has it inherit, no
//! statement can make, and nothing needs to: while a parent has the column, the child has it
//! either way.

use std::collections::BTreeMap;

use super::TableChange;
use crate::schema::{Name, Schema};

/// Settle `change` against the desired schema `to`: its current parents under their
/// desired names, the tables that will inherit from it, and its inheritance marks compared
/// only where they matter.
pub(super) fn settle(change: &mut TableChange, to: &Schema, table_renames: &BTreeMap<Name, Name>) {
    for parent in &mut change.from.inherits {
        if let Some(new) = table_renames.get(parent) {
            parent.clone_from(new);
        }
    }
    change.options_changed |= change.from.inherits != change.to.inherits;
    change.children = to
        .tables
        .iter()
        .filter(|t| t.inherits.contains(&change.to.name))
        .map(|t| t.name.clone())
        .collect();
    let parents_have = |column: &str| {
        change
            .to
            .inherits
            .iter()
            .filter_map(|p| to.table(p))
            .any(|p| p.column(column).is_some())
    };
    change.altered_columns.retain(|c| {
        let mut from = c.from.clone();
        from.inherited = c.to.inherited;
        from.name.clone_from(&c.to.name);
        from.comment.clone_from(&c.to.comment);
        from != c.to || (c.from.inherited && !c.to.inherited && !parents_have(&c.to.name))
    });
}

#[cfg(test)]
mod tests {
    use super::super::{DiffOptions, Renames, diff};
    use super::*;
    use crate::diff::Change;
    use crate::schema::{Column, Table};

    fn table(name: &str, parents: &[&str], columns: &[(&str, bool)]) -> Table {
        let mut t = Table::new(
            Name::bare(name),
            columns
                .iter()
                .map(|(n, inherited)| Column {
                    inherited: *inherited,
                    ..Column::new(*n, "integer")
                })
                .collect(),
        );
        t.inherits = parents.iter().map(|p| Name::bare(*p)).collect();
        t
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    fn changes(from: &Schema, to: &Schema) -> Vec<TableChange> {
        diff(from, to, &Renames::default(), DiffOptions::default())
            .into_iter()
            .filter_map(|c| match c {
                Change::AlterTable(change) => Some(*change),
                _ => None,
            })
            .collect()
    }

    /// A child that declared a column the parent also has is no different, for the diff,
    /// from one that inherits it: the parent keeps it, so the child has it either way.
    #[test]
    fn declaring_an_inherited_column_is_no_change() {
        let parent = table("p", &[], &[("a", false)]);
        let from = schema(vec![parent.clone(), table("c", &["p"], &[("a", true)])]);
        let to = schema(vec![parent, table("c", &["p"], &[("a", false)])]);
        assert!(changes(&from, &to).is_empty());
    }

    /// A column the parent drops and the child keeps must become the child's own first.
    #[test]
    fn a_column_kept_from_a_parent_that_drops_it_is_a_change() {
        let from = schema(vec![
            table("p", &[], &[("a", false), ("b", false)]),
            table("c", &["p"], &[("a", true), ("b", true)]),
        ]);
        let to = schema(vec![
            table("p", &[], &[("a", false)]),
            table("c", &["p"], &[("a", true), ("b", false)]),
        ]);
        let found = changes(&from, &to);
        let child = found.iter().find(|c| c.to.name.name == "c").unwrap();
        assert_eq!(child.altered_columns.len(), 1);
        assert_eq!(child.altered_columns[0].to.name, "b");
        let parent = found.iter().find(|c| c.to.name.name == "p").unwrap();
        assert_eq!(parent.children, [Name::bare("c")]);
        assert_eq!(parent.dropped_columns[0].name, "b");
    }

    #[test]
    fn joining_or_leaving_a_parent_changes_the_table() {
        let parent = table("p", &[], &[("a", false)]);
        let from = schema(vec![parent.clone(), table("c", &[], &[("a", false)])]);
        let to = schema(vec![parent, table("c", &["p"], &[("a", false)])]);
        let found = changes(&from, &to);
        assert_eq!(found.len(), 1);
        assert!(found[0].options_changed);
        assert!(changes(&to, &from)[0].options_changed);
    }
}
