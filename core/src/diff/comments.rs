//! Comments on objects other than tables and columns.
//!
//! The structural diff never sees these comments, so a comment can never make an object look
//! changed and be rebuilt. This pass runs on the finished change list instead: a comment is
//! set when the desired one differs from the current one, or when the changes create its
//! object (a recreated object comes back without its comment); it is removed when its object
//! stays and the desired schema has no comment for it. An object that is dropped takes its
//! comment with it.
//!
//! Names are compared exactly: only engines with case-sensitive names keep such comments.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Renames};
use crate::schema::{CommentTarget, Schema};

/// The comment changes that follow `changes`, which turn `from` into `to`.
pub(super) fn comment_changes(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
    changes: &[Change],
) -> Vec<Change> {
    let created = created_objects(from, changes);
    let current: BTreeMap<CommentTarget, &str> = from
        .comments
        .iter()
        .map(|c| (after_renames(&c.on, renames, changes), c.text.as_str()))
        .collect();
    let mut out = Vec::new();
    for comment in &to.comments {
        if created.contains(&comment.on) || current.get(&comment.on) != Some(&comment.text.as_str())
        {
            out.push(Change::Comment {
                on: comment.on.clone(),
                comment: Some(comment.text.clone()),
            });
        }
    }
    for on in current.keys() {
        let kept = !to.comments.iter().any(|c| &c.on == on);
        if kept && !created.contains(on) && exists(to, on) {
            out.push(Change::Comment {
                on: on.clone(),
                comment: None,
            });
        }
    }
    out
}

/// What `on` (an object of the current database) is called once the declared renames ran.
pub(crate) fn after_renames(
    on: &CommentTarget,
    renames: &Renames,
    changes: &[Change],
) -> CommentTarget {
    let table = |name: &crate::schema::Name| {
        renames
            .tables
            .iter()
            .find(|(old, _)| old == name)
            .map_or_else(|| name.clone(), |(_, new)| new.clone())
    };
    match on {
        CommentTarget::Index { name } => CommentTarget::Index {
            name: renames
                .indexes
                .iter()
                .find(|(old, _)| old == name)
                .map_or_else(|| name.clone(), |(_, new)| new.clone()),
        },
        CommentTarget::Constraint { table: t, name } => {
            let t = table(t);
            let renamed = changes.iter().find_map(|c| match c {
                Change::AlterTable(change) if change.to.name == t => change
                    .renamed_constraints()
                    .into_iter()
                    .find(|(old, _)| old == name)
                    .map(|(_, new)| new.to_string()),
                _ => None,
            });
            CommentTarget::Constraint {
                table: t,
                name: renamed.unwrap_or_else(|| name.clone()),
            }
        }
        CommentTarget::Trigger { table: t, name } => CommentTarget::Trigger {
            table: table(t),
            name: name.clone(),
        },
        other => other.clone(),
    }
}

/// The objects `changes` create, or drop and create again, so that they have no comment.
/// `CREATE OR REPLACE` (functions, unless their result type changes) and the `ALTER` that
/// replaces a changed domain or sequence keep the object, and its comment.
fn created_objects(from: &Schema, changes: &[Change]) -> BTreeSet<CommentTarget> {
    let mut created = BTreeSet::new();
    let mut constraint = |table: &crate::schema::Name, name: Option<&String>| {
        if let Some(name) = name {
            created.insert(CommentTarget::Constraint {
                table: table.clone(),
                name: name.clone(),
            });
        }
    };
    let mut objects = Vec::new();
    for change in changes {
        match change {
            Change::CreateTable(t) => {
                constraint(
                    &t.name,
                    t.primary_key.as_ref().and_then(|k| k.name.as_ref()),
                );
                for u in &t.uniques {
                    constraint(&t.name, u.name.as_ref());
                }
                for c in t.checks.iter().chain(&t.other_constraints) {
                    constraint(&t.name, c.name.as_ref());
                }
            }
            Change::AddForeignKey { table, key } => constraint(table, key.name.as_ref()),
            Change::AlterTable(change) => {
                let t = &change.to.name;
                if let Some((_, Some(key))) = &change.primary_key {
                    constraint(t, key.name.as_ref());
                }
                for u in &change.added_uniques {
                    constraint(t, u.name.as_ref());
                }
                for c in &change.added_checks {
                    constraint(t, c.name.as_ref());
                }
            }
            Change::CreateIndex(index) => objects.push(CommentTarget::Index {
                name: index.name.clone(),
            }),
            Change::CreateView(view) => objects.push(CommentTarget::View {
                name: view.name.clone(),
                materialized: view.materialized,
            }),
            Change::CreateTrigger(trigger) => objects.push(CommentTarget::Trigger {
                table: trigger.table.clone(),
                name: trigger.name.clone(),
            }),
            Change::CreateFunction(f)
                if !from.functions.iter().any(|c| c.signature == f.signature)
                    || changes.iter().any(
                        |c| matches!(c, Change::DropFunction(d) if d.signature == f.signature),
                    ) =>
            {
                objects.push(CommentTarget::Routine {
                    name: f.name.clone(),
                    signature: f.signature.clone(),
                });
            }
            Change::CreateEnum(e) => objects.push(CommentTarget::Type {
                name: e.name.clone(),
            }),
            // Removing a label rebuilds the type under a new identity.
            Change::AlterEnum { from: a, to: b, .. }
                if a.values.iter().any(|v| !b.values.contains(v)) =>
            {
                objects.push(CommentTarget::Type {
                    name: b.name.clone(),
                });
            }
            Change::CreateDomain(d) if !from.domains.iter().any(|c| c.name == d.name) => {
                objects.push(CommentTarget::Domain {
                    name: d.name.clone(),
                });
            }
            Change::CreateSequence(s) if !from.sequences.iter().any(|c| c.name == s.name) => {
                objects.push(CommentTarget::Sequence {
                    name: s.name.clone(),
                });
            }
            _ => {}
        }
    }
    created.extend(objects);
    created
}

/// Whether the object `on` is in `schema`, so that its comment can be removed. An index that
/// implements a constraint has the constraint's name; a sequence a column owns is not in the
/// model, so its comment is never removed (it goes when its column does).
pub(crate) fn exists(schema: &Schema, on: &CommentTarget) -> bool {
    match on {
        CommentTarget::Constraint { table, name } => schema.table(table).is_some_and(|t| {
            let name = Some(name);
            t.primary_key
                .as_ref()
                .is_some_and(|k| k.name.as_ref() == name)
                || t.uniques.iter().any(|u| u.name.as_ref() == name)
                || t.checks
                    .iter()
                    .chain(&t.other_constraints)
                    .any(|c| c.name.as_ref() == name)
                || t.foreign_keys.iter().any(|k| k.name.as_ref() == name)
        }),
        CommentTarget::View { name, materialized } => schema
            .views
            .iter()
            .any(|v| &v.name == name && v.materialized == *materialized),
        CommentTarget::Trigger { table, name } => schema
            .triggers
            .iter()
            .any(|t| &t.table == table && &t.name == name),
        CommentTarget::Routine { signature, .. } => {
            schema.functions.iter().any(|f| &f.signature == signature)
        }
        CommentTarget::Type { name } => schema.enums.iter().any(|e| &e.name == name),
        CommentTarget::Domain { name } => schema.domains.iter().any(|d| &d.name == name),
        CommentTarget::Index { name } => {
            schema.indexes().any(|i| &i.name == name)
                || schema.tables.iter().any(|t| {
                    t.name.schema == name.schema
                        && (t.primary_key.as_ref().and_then(|k| k.name.as_ref())
                            == Some(&name.name)
                            || t.uniques
                                .iter()
                                .any(|u| u.name.as_ref() == Some(&name.name)))
                })
        }
        CommentTarget::Sequence { name } => schema.sequences.iter().any(|s| &s.name == name),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DiffOptions, diff};
    use super::*;
    use crate::schema::{Column, Comment, Index, Name, Table};

    fn schema(index_definition: Option<&str>, comment: Option<&str>) -> Schema {
        let mut table = Table::new(Name::bare("t"), vec![Column::new("id", "integer")]);
        if let Some(definition) = index_definition {
            table.indexes.push(Index {
                name: Name::bare("i"),
                unique: false,
                keys: vec!["id".into()],
                predicate: None,
                method: None,
                definition: definition.into(),
            });
        }
        let mut schema = Schema {
            tables: vec![table],
            ..Schema::default()
        };
        if let Some(text) = comment {
            schema.comments.push(Comment {
                on: CommentTarget::Index {
                    name: Name::bare("i"),
                },
                text: text.into(),
            });
        }
        schema
    }

    fn comments(from: &Schema, to: &Schema) -> Vec<Option<String>> {
        diff(from, to, &Renames::default(), DiffOptions::default())
            .into_iter()
            .filter_map(|c| match c {
                Change::Comment { comment, .. } => Some(comment),
                _ => None,
            })
            .collect()
    }

    const PLAIN: &str = "CREATE INDEX i ON t (id)";

    #[test]
    fn a_new_comment_is_a_comment_not_a_rebuild() {
        let changes = diff(
            &schema(Some(PLAIN), None),
            &schema(Some(PLAIN), Some("by id")),
            &Renames::default(),
            DiffOptions::default(),
        );
        assert_eq!(
            changes,
            [Change::Comment {
                on: CommentTarget::Index {
                    name: Name::bare("i")
                },
                comment: Some("by id".into()),
            }]
        );
    }

    #[test]
    fn a_recreated_object_gets_its_unchanged_comment_back() {
        let from = schema(Some(PLAIN), Some("by id"));
        let to = schema(Some("CREATE INDEX i ON t (id DESC)"), Some("by id"));
        assert_eq!(comments(&from, &to), [Some("by id".to_string())]);
    }

    #[test]
    fn a_comment_is_removed_from_a_kept_object_but_not_from_a_dropped_one() {
        let from = schema(Some(PLAIN), Some("by id"));
        assert_eq!(comments(&from, &schema(Some(PLAIN), None)), [None]);
        assert!(comments(&from, &schema(None, None)).is_empty());
    }
}
