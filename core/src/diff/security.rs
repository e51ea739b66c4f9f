//! Row-level security, policies, privileges and owners.
//!
//! None of these makes its object look changed, so this pass runs on the finished structural
//! change list, as the comments pass does: it reads from the list which relations the changes
//! create (or drop and create again, as a view whose query changes), since those come back
//! without their privileges, and which columns they drop or retype, since PostgreSQL refuses
//! both under a policy that uses the column.
//!
//! Which roles' privileges and which owners get here at all is decided before the diff
//! ([`Scope`](crate::declarative::Scope)): the diff makes the grants of its two models equal.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Privileges, Renames, mentions};
use crate::schema::{Grant, Name, Policy, Relation, RelationKind, Schema};

/// The changes that give `to`'s row-level security, policies, privileges and owners to
/// `from` once `changes` ran: `(first, last)`, to run before and after every one of them.
/// Policies in the way of a column change are dropped first, under the table's current name;
/// everything else comes last, under desired names.
pub(super) fn security_changes(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
    changes: &[Change],
) -> (Vec<Change>, Vec<Change>) {
    let mut first = Vec::new();
    let mut last = Vec::new();
    row_security(from, to, renames, &mut last);
    policies(from, to, renames, changes, &mut first, &mut last);
    let fresh = created(changes);
    owners(from, to, renames, &fresh, &mut last);
    grants(from, to, renames, changes, &fresh, &mut last);
    (first, last)
}

/// The name a table of the current database has once the declared renames ran.
fn renamed_table(name: &Name, renames: &Renames) -> Name {
    renames
        .tables
        .iter()
        .find(|(old, _)| old == name)
        .map_or_else(|| name.clone(), |(_, new)| new.clone())
}

/// What `relation` (of the current database) is called once the declared renames ran.
fn renamed_relation(relation: &Relation, renames: &Renames) -> Relation {
    match relation.kind {
        RelationKind::Table => Relation {
            kind: RelationKind::Table,
            name: renamed_table(&relation.name, renames),
        },
        _ => relation.clone(),
    }
}

/// A grant of the current database under the names it has once the declared renames ran.
pub(crate) fn renamed_grant(grant: &Grant, renames: &Renames) -> Grant {
    let on = renamed_relation(&grant.on, renames);
    let column = grant.column.as_ref().map(|column| {
        renames
            .columns
            .iter()
            .find(|r| r.table == on.name && &r.from == column)
            .map_or_else(|| column.clone(), |r| r.to.clone())
    });
    Grant {
        on,
        column,
        ..grant.clone()
    }
}

/// Whether `schema` holds `relation`, and the column a grant names, if it names one.
///
/// A sequence a column owns (`serial`, identity) is not in the model by itself: it is there
/// while the column owns it by its real name ([`Column::owned_sequence`](crate::schema::Column::owned_sequence)), while a column's
/// default calls it, or while the identity column it is named after is.
pub(crate) fn holds(schema: &Schema, relation: &Relation, column: Option<&str>) -> bool {
    let name = &relation.name;
    match relation.kind {
        RelationKind::Table => schema
            .table(name)
            .is_some_and(|t| column.is_none_or(|c| t.column(c).is_some())),
        RelationKind::View | RelationKind::MaterializedView => schema.views.iter().any(|v| {
            &v.name == name && v.materialized == (relation.kind == RelationKind::MaterializedView)
        }),
        RelationKind::Sequence => {
            schema.sequences.iter().any(|s| &s.name == name)
                || schema
                    .tables
                    .iter()
                    .filter(|t| t.name.schema == name.schema)
                    .flat_map(|t| t.columns.iter().map(move |c| (t, c)))
                    .any(|(t, c)| {
                        let owns = c.owned_sequence.as_deref() == Some(name.name.as_str());
                        let calls = c
                            .default
                            .as_deref()
                            .is_some_and(|d| d.starts_with("nextval(") && mentions(d, &name.name));
                        let identity = c.identity.is_some()
                            && format!("{}_{}_seq", t.name.name, c.name) == name.name;
                        owns || calls || identity
                    })
        }
    }
}

/// The relations `changes` create, or drop and create again: they have no privileges and are
/// owned by the role that runs the changes. A sequence dropped and created is altered in
/// place, and keeps both.
fn created(changes: &[Change]) -> BTreeSet<Relation> {
    let mut out = BTreeSet::new();
    for change in changes {
        match change {
            Change::CreateTable(t) => {
                out.insert(Relation {
                    kind: RelationKind::Table,
                    name: t.name.clone(),
                });
            }
            Change::CreateView(v) => {
                let kind = if v.materialized {
                    RelationKind::MaterializedView
                } else {
                    RelationKind::View
                };
                out.insert(Relation {
                    kind,
                    name: v.name.clone(),
                });
            }
            Change::CreateSequence(s)
                if !changes
                    .iter()
                    .any(|c| matches!(c, Change::DropSequence(d) if d.name == s.name)) =>
            {
                out.insert(Relation {
                    kind: RelationKind::Sequence,
                    name: s.name.clone(),
                });
            }
            _ => {}
        }
    }
    out
}

fn row_security(from: &Schema, to: &Schema, renames: &Renames, last: &mut Vec<Change>) {
    for table in &to.tables {
        let current = from
            .tables
            .iter()
            .find(|t| renamed_table(&t.name, renames) == table.name);
        let (enabled, forced) =
            current.map_or((false, false), |t| (t.row_security, t.force_row_security));
        let enable = (enabled != table.row_security).then_some(table.row_security);
        let force = (forced != table.force_row_security).then_some(table.force_row_security);
        if enable.is_some() || force.is_some() {
            last.push(Change::SetRowSecurity {
                table: table.name.clone(),
                enable,
                force,
            });
        }
    }
}

/// The columns of each table (desired name) that a policy may not use while the changes run:
/// those they drop or give another type, by their current and desired names.
fn pinned_columns(changes: &[Change]) -> BTreeMap<&Name, Vec<&str>> {
    let mut out: BTreeMap<&Name, Vec<&str>> = BTreeMap::new();
    for change in changes {
        if let Change::AlterTable(change) = change {
            let columns = out.entry(&change.to.name).or_default();
            columns.extend(change.dropped_columns.iter().map(|c| c.name.as_str()));
            for altered in &change.altered_columns {
                if altered.from.data_type != altered.to.data_type {
                    columns.push(&altered.from.name);
                    columns.push(&altered.to.name);
                }
            }
        }
    }
    out
}

fn policies(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
    changes: &[Change],
    first: &mut Vec<Change>,
    last: &mut Vec<Change>,
) {
    let pinned = pinned_columns(changes);
    let in_the_way = |policy: &Policy| {
        pinned.get(&policy.table).is_some_and(|columns| {
            columns.iter().any(|c| {
                [&policy.using, &policy.with_check]
                    .into_iter()
                    .flatten()
                    .any(|text| mentions(text, c))
            })
        })
    };
    // The current policies under their tables' desired names, with the originals.
    let current: BTreeMap<(Name, &str), (Policy, &Policy)> = from
        .policies
        .iter()
        .map(|p| {
            let renamed = Policy {
                table: renamed_table(&p.table, renames),
                ..p.clone()
            };
            ((renamed.table.clone(), p.name.as_str()), (renamed, p))
        })
        .collect();
    for policy in &to.policies {
        match current.get(&(policy.table.clone(), policy.name.as_str())) {
            None => last.push(Change::CreatePolicy(policy.clone())),
            Some((now, original)) => {
                // ALTER POLICY changes roles and expressions, but cannot remove an expression
                // nor change what kind of policy it is.
                let remade = now.permissive != policy.permissive
                    || now.command != policy.command
                    || (now.using.is_some() && policy.using.is_none())
                    || (now.with_check.is_some() && policy.with_check.is_none())
                    || in_the_way(now);
                if remade {
                    first.push(Change::DropPolicy((*original).clone()));
                    last.push(Change::CreatePolicy(policy.clone()));
                } else if now != policy {
                    last.push(Change::AlterPolicy {
                        from: now.clone(),
                        to: policy.clone(),
                    });
                }
            }
        }
    }
    for ((table, name), (_, original)) in &current {
        let kept = to
            .policies
            .iter()
            .any(|p| &p.table == table && p.name == *name);
        // A policy goes with its table.
        if !kept && to.table(table).is_some() {
            first.push(Change::DropPolicy((*original).clone()));
        }
    }
}

fn owners(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
    fresh: &BTreeSet<Relation>,
    last: &mut Vec<Change>,
) {
    for owner in &to.owners {
        let now = from
            .owners
            .iter()
            .find(|o| renamed_relation(&o.on, renames) == owner.on);
        if fresh.contains(&owner.on) || now.is_none_or(|o| o.role != owner.role) {
            last.push(Change::SetOwner(owner.clone()));
        }
    }
}

/// A grant without its grant option, which is what tells two grants apart.
type GrantKey = (Relation, Option<String>, String, String);

fn key(grant: &Grant) -> GrantKey {
    (
        grant.on.clone(),
        grant.column.clone(),
        grant.grantee.clone(),
        grant.privilege.clone(),
    )
}

fn grants(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
    changes: &[Change],
    fresh: &BTreeSet<Relation>,
    last: &mut Vec<Change>,
) {
    let dropped_columns: BTreeSet<(&Name, &str)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AlterTable(change) => Some(change),
            _ => None,
        })
        .flat_map(|c| {
            c.dropped_columns
                .iter()
                .map(|d| (&c.to.name, d.name.as_str()))
        })
        .collect();
    // What stays of the current grants: those on relations and columns the changes keep.
    let current: BTreeMap<GrantKey, bool> = from
        .grants
        .iter()
        .map(|g| renamed_grant(g, renames))
        .filter(|g| !fresh.contains(&g.on) && holds(to, &g.on, g.column.as_deref()))
        .filter(|g| {
            g.column
                .as_deref()
                .is_none_or(|c| !dropped_columns.contains(&(&g.on.name, c)))
        })
        .map(|g| (key(&g), g.grant_option))
        .collect();
    let desired: BTreeMap<GrantKey, bool> =
        to.grants.iter().map(|g| (key(g), g.grant_option)).collect();
    let mut granted = Vec::new();
    let mut revoked = Vec::new();
    let mut options_revoked = Vec::new();
    for (k, &option) in &desired {
        match current.get(k) {
            None => granted.push((k, option)),
            Some(false) if option => granted.push((k, true)),
            Some(true) if !option => options_revoked.push((k, true)),
            Some(_) => {}
        }
    }
    for (k, &option) in &current {
        if !desired.contains_key(k) {
            revoked.push((k, option));
        }
    }
    last.extend(
        grouped(revoked)
            .into_iter()
            .map(|privileges| Change::Revoke {
                privileges,
                grant_option_only: false,
            }),
    );
    last.extend(
        grouped(options_revoked)
            .into_iter()
            .map(|privileges| Change::Revoke {
                privileges,
                grant_option_only: true,
            }),
    );
    last.extend(grouped(granted).into_iter().map(Change::Grant));
}

/// Grants as statements name them: the privileges of one role on one relation together, and
/// the columns of one privilege together.
fn grouped(grants: Vec<(&GrantKey, bool)>) -> Vec<Privileges> {
    let mut groups: BTreeMap<(&Relation, &String, bool, Option<&String>), Vec<String>> =
        BTreeMap::new();
    for ((on, column, grantee, privilege), option) in grants {
        match column {
            None => groups
                .entry((on, grantee, option, None))
                .or_default()
                .push(privilege.clone()),
            Some(column) => groups
                .entry((on, grantee, option, Some(privilege)))
                .or_default()
                .push(column.clone()),
        }
    }
    groups
        .into_iter()
        .map(|((on, grantee, grant_option, privilege), items)| {
            let (privileges, columns) = match privilege {
                None => (items, Vec::new()),
                Some(privilege) => (vec![privilege.clone()], items),
            };
            Privileges {
                on: on.clone(),
                privileges,
                columns,
                grantee: grantee.clone(),
                grant_option,
            }
        })
        .collect()
}
