//! `UNLOGGED` tables that become logged, and logged ones that become unlogged.
//!
//! A logged table may not reference an unlogged one, and PostgreSQL checks that at each
//! `SET LOGGED` / `SET UNLOGGED`, against the keys the table has then. So the tables that
//! become unlogged go first, each before the tables it references, and then the tables that
//! become logged, each after the tables it references. Keys this change drops are gone by
//! then, and keys it adds come after.

use godwit_core::dialect::Statement;
use godwit_core::diff::{Change, TableChange};

use super::sql::qualified;

/// The statements that change the persistence of the tables `changes` alters, in an order
/// their foreign keys allow.
pub(super) fn persistence(changes: &[Change]) -> Vec<Statement> {
    let altered: Vec<&TableChange> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AlterTable(c) if c.from.unlogged != c.to.unlogged => Some(c.as_ref()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for unlogged in [true, false] {
        let mut pending: Vec<&TableChange> = altered
            .iter()
            .copied()
            .filter(|c| c.to.unlogged == unlogged)
            .collect();
        while !pending.is_empty() {
            // Becoming unlogged: nothing still logged may reference it, so the tables that
            // reference it go first. Becoming logged: what it references must be logged, so
            // it waits for those.
            let blocked = |c: &TableChange| {
                pending.iter().any(|other| {
                    other.to.name != c.to.name
                        && if unlogged {
                            references(other, c)
                        } else {
                            references(c, other)
                        }
                })
            };
            // Keys between tables form no cycle that blocks all of them unless the schema
            // itself is impossible; then keep the order and let PostgreSQL say why.
            let next = pending.iter().position(|c| !blocked(c)).unwrap_or(0);
            let change = pending.remove(next);
            out.push(Statement::execute(format!(
                "ALTER TABLE {} SET {}",
                qualified(&change.to.name),
                if unlogged { "UNLOGGED" } else { "LOGGED" }
            )));
        }
    }
    out
}

/// Whether the table of `from` has a foreign key to the table of `to`.
fn references(from: &TableChange, to: &TableChange) -> bool {
    from.to
        .foreign_keys
        .iter()
        .any(|k| k.references == to.to.name)
}
