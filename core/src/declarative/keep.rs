//! `push --skip-drops`: keep what the database holds and the desired schema does not declare.
//!
//! sqldef pushes this way by default (`enable_drop: false`); godwit does when asked. Rather
//! than give the diff a mode, [`keep_undeclared`] adds the undeclared objects of the database
//! to the desired schema, so the ordinary diff finds nothing to drop and still changes what the
//! schema declares differently: a changed view or function is still dropped and created, a
//! changed column altered, because the schema declares them.
//!
//! An object is declared when the desired schema has one of its kind under its name, after the
//! declared renames, compared as the diff compares names (ignoring case on SQLite). A name the
//! desired schema gives to an object of another kind (a view where a table was, a unique
//! constraint where an index was) declares it too: keeping the old object would make the new
//! one fail to create. Constraints are also matched by what they constrain (the same columns),
//! because engines name them for the user; an unnamed check has nothing but its expression, so
//! changing one on SQLite keeps the old check beside the new.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::renames::resolve_renames;
use super::{ChangePlan, plan_changes};
use crate::dialect::{Dialect, RenderOptions};
use crate::diff::{
    DiffOptions, Keyed, Renames, after_renames, exists, holds, renamed_fk, with_renamed_labels,
};
use crate::error::Error;
use crate::schema::{Comment, Index, Name, Schema, Table, Trigger, Unique, View};

/// An object of the database that the desired schema does not declare, which
/// [`keep_undeclared`] keeps rather than drops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kept {
    /// A schema (namespace).
    Schema {
        /// Its name.
        name: String,
    },
    /// An extension.
    Extension {
        /// Its name.
        name: String,
    },
    /// An enum type.
    Enum {
        /// Its name.
        name: Name,
    },
    /// A label of an enum type the schema declares.
    EnumValue {
        /// The type.
        type_name: Name,
        /// The label.
        value: String,
    },
    /// A domain.
    Domain {
        /// Its name.
        name: Name,
    },
    /// A sequence.
    Sequence {
        /// Its name.
        name: Name,
    },
    /// A function or a procedure.
    Function {
        /// Its signature (`public.f(integer)`).
        signature: String,
        /// Whether it is a procedure.
        procedure: bool,
    },
    /// A table, with its columns, constraints and indexes.
    Table {
        /// Its name.
        name: Name,
    },
    /// A column of a table the schema declares.
    Column {
        /// The table, by its name in the schema.
        table: Name,
        /// The column.
        name: String,
    },
    /// A constraint of a table the schema declares.
    Constraint {
        /// The table, by its name in the schema.
        table: Name,
        /// What kind of constraint.
        constraint: ConstraintKind,
        /// Its name, when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// What it constrains (`(email)`, a check's expression).
        definition: String,
    },
    /// An index of a table the schema declares.
    Index {
        /// The table, by its name in the schema.
        table: Name,
        /// The index.
        name: Name,
    },
    /// A view or a materialized view.
    View {
        /// Its name.
        name: Name,
        /// Whether it is materialized.
        materialized: bool,
    },
    /// A trigger on a table or view the schema declares.
    Trigger {
        /// The table or view, by its name in the schema.
        table: Name,
        /// The trigger.
        name: String,
    },
    /// Row-level security of a table the schema declares (enabled, or forced on its owner).
    RowSecurity {
        /// The table, by its name in the schema.
        table: Name,
        /// `FORCE`: kept forced on the table's owner (else kept enabled).
        forced: bool,
    },
    /// A privilege of a role whose privileges the plan manages, which it would revoke.
    Privilege {
        /// The relation.
        on: Name,
        /// The column, for a column privilege.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<String>,
        /// The role, or `PUBLIC`.
        role: String,
        /// The privilege (`SELECT`).
        privilege: String,
        /// Whether the role may grant it on (what is kept, when only that would go).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        grant_option: bool,
    },
    /// A row-level security policy on a table the schema declares.
    Policy {
        /// The table, by its name in the schema.
        table: Name,
        /// The policy.
        name: String,
    },
}

/// The kind of a kept constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConstraintKind {
    /// A primary key.
    PrimaryKey,
    /// A unique constraint.
    Unique,
    /// A check constraint.
    Check,
    /// A foreign key.
    ForeignKey,
    /// Another constraint kept by its definition (a PostgreSQL exclusion constraint).
    Other,
}

impl fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Unique => "unique constraint",
            ConstraintKind::Check => "check constraint",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Other => "constraint",
        })
    }
}

impl fmt::Display for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kept::Schema { name } => write!(f, "schema {name}"),
            Kept::Extension { name } => write!(f, "extension {name}"),
            Kept::Enum { name } => write!(f, "enum type {name}"),
            Kept::EnumValue { type_name, value } => {
                write!(f, "label '{value}' of enum type {type_name}")
            }
            Kept::Domain { name } => write!(f, "domain {name}"),
            Kept::Sequence { name } => write!(f, "sequence {name}"),
            Kept::Function {
                signature,
                procedure,
            } => {
                let kind = if *procedure { "procedure" } else { "function" };
                write!(f, "{kind} {signature}")
            }
            Kept::Table { name } => write!(f, "table {name}"),
            Kept::Column { table, name } => write!(f, "column {table}.{name}"),
            Kept::Constraint {
                table,
                constraint,
                name,
                definition,
            } => match name {
                Some(name) => write!(f, "{constraint} {name} on {table}"),
                None => write!(f, "{constraint} {definition} on {table}"),
            },
            Kept::Index { table, name } => write!(f, "index {name} on {table}"),
            Kept::View {
                name,
                materialized: true,
            } => write!(f, "materialized view {name}"),
            Kept::View { name, .. } => write!(f, "view {name}"),
            Kept::Trigger { table, name } => write!(f, "trigger {name} on {table}"),
            Kept::RowSecurity {
                table,
                forced: false,
            } => write!(f, "row-level security on {table}"),
            Kept::RowSecurity { table, .. } => {
                write!(f, "row-level security forced on the owner of {table}")
            }
            Kept::Policy { table, name } => write!(f, "policy {name} on {table}"),
            Kept::Privilege {
                on,
                column,
                role,
                privilege,
                grant_option,
            } => {
                write!(f, "privilege {privilege}")?;
                if let Some(column) = column {
                    write!(f, " ({column})")?;
                }
                write!(f, " on {on} to {role}")?;
                if *grant_option {
                    f.write_str(" with grant option")?;
                }
                Ok(())
            }
        }
    }
}

/// `desired` with the objects of `current` it does not declare added back, and the list of
/// those objects, so that a diff from `current` to the result drops nothing the schema left
/// out. `renames` are those of the diff, matched to the two schemas as [`plan_changes`]
/// matches them ([`plan_keeping_undeclared`] does both): a renamed table, column, index or
/// enum label is declared under its new name and not kept under its old one.
///
/// Kept columns and labels go back where they stand now among the declared ones, so no table
/// is rebuilt and no type recreated to move them. A kept foreign key follows the declared
/// renames of the table and columns it references, as the database will.
pub fn keep_undeclared(
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
    options: DiffOptions,
) -> (Schema, Vec<Kept>) {
    let key = Keyed::new(options);
    let declared = Declared::new(&key, desired);
    let mut merged = desired.clone();
    let mut kept = Vec::new();

    keep_each(
        &current.schemas,
        &mut merged.schemas,
        &mut kept,
        |schema| (desired.schemas.iter()).any(|s| key.ident(s) == key.ident(schema)),
        |schema| Kept::Schema {
            name: schema.clone(),
        },
    );
    keep_each(
        &current.extensions,
        &mut merged.extensions,
        &mut kept,
        |extension| {
            (desired.extensions.iter()).any(|e| key.ident(&e.name) == key.ident(&extension.name))
        },
        |extension| Kept::Extension {
            name: extension.name.clone(),
        },
    );
    for current_type in &current.enums {
        let Some(desired_type) = merged
            .enums
            .iter_mut()
            .find(|e| key.name(&e.name) == key.name(&current_type.name))
        else {
            if !declared.types.contains(&key.name(&current_type.name)) {
                merged.enums.push(current_type.clone());
                kept.push(Kept::Enum {
                    name: current_type.name.clone(),
                });
            }
            continue;
        };
        // The labels as the diff sees them: renamed ones under their new names.
        let (renamed_type, _) = with_renamed_labels(current_type, renames);
        for label in interleave(
            &mut desired_type.values,
            &renamed_type.values,
            |declared, label| declared.iter().position(|d| d == label),
        ) {
            kept.push(Kept::EnumValue {
                type_name: desired_type.name.clone(),
                value: label,
            });
        }
    }
    keep_each(
        &current.domains,
        &mut merged.domains,
        &mut kept,
        |domain| declared.types.contains(&key.name(&domain.name)),
        |domain| Kept::Domain {
            name: domain.name.clone(),
        },
    );
    keep_each(
        &current.sequences,
        &mut merged.sequences,
        &mut kept,
        |sequence| declared.relations.contains(&key.name(&sequence.name)),
        |sequence| Kept::Sequence {
            name: sequence.name.clone(),
        },
    );
    keep_each(
        &current.functions,
        &mut merged.functions,
        &mut kept,
        |function| (desired.functions.iter()).any(|f| f.signature == function.signature),
        |function| Kept::Function {
            signature: function.signature.clone(),
            procedure: function.returns.is_none(),
        },
    );

    let table_renames: BTreeMap<Name, Name> = renames
        .tables
        .iter()
        .map(|(old, new)| (key.name(old), new.clone()))
        .collect();
    let new_name = |name: &Name| {
        table_renames
            .get(&key.name(name))
            .cloned()
            .unwrap_or_else(|| name.clone())
    };
    let tables = Tables {
        key: &key,
        declared: &declared,
        renames,
        table_renames: &table_renames,
    };
    for table in &current.tables {
        let name = new_name(&table.name);
        if let Some(target) = merged
            .tables
            .iter_mut()
            .find(|t| key.name(&t.name) == key.name(&name))
        {
            kept.extend(tables.keep_parts(table, target));
        } else if !declared.relations.contains(&key.name(&name)) {
            // Its options stay; its columns, constraints and indexes come back through the
            // rules for a declared table, so that none of them takes a name the schema uses.
            let mut whole = Table::new(table.name.clone(), Vec::new());
            whole.comment.clone_from(&table.comment);
            whole.strict = table.strict;
            whole.without_rowid = table.without_rowid;
            whole.virtual_table.clone_from(&table.virtual_table);
            whole.other_constraints = table
                .other_constraints
                .iter()
                .filter(|c| c.name.is_none())
                .cloned()
                .collect();
            tables.keep_parts(table, &mut whole);
            merged.tables.push(whole);
            kept.push(Kept::Table {
                name: table.name.clone(),
            });
        }
    }
    for view in &current.views {
        let same = |v: &&mut View| key.name(&v.name) == key.name(&view.name);
        if let Some(target) = merged.views.iter_mut().find(same) {
            // Indexes stay only on what is still a materialized view.
            if target.materialized {
                kept.extend(keep_indexes(
                    &key,
                    &declared,
                    renames,
                    &view.indexes,
                    &target.name,
                    &mut target.indexes,
                ));
            }
        } else if !declared.relations.contains(&key.name(&view.name)) {
            // Its indexes come back through the rule for a declared view, so that none of them
            // takes a name the schema uses.
            let mut whole = View {
                indexes: Vec::new(),
                ..view.clone()
            };
            keep_indexes(
                &key,
                &declared,
                renames,
                &view.indexes,
                &view.name,
                &mut whole.indexes,
            );
            merged.views.push(whole);
            kept.push(Kept::View {
                name: view.name.clone(),
                materialized: view.materialized,
            });
        }
    }
    for trigger in &current.triggers {
        let table = new_name(&trigger.table);
        let same = |t: &Trigger| {
            key.name(&t.table) == key.name(&table) && key.ident(&t.name) == key.ident(&trigger.name)
        };
        if desired.triggers.iter().any(same) {
            continue;
        }
        let on = |schema: &Schema| {
            (schema.tables.iter().map(|t| &t.name))
                .chain(schema.views.iter().map(|v| &v.name))
                .any(|n| key.name(n) == key.name(&table))
        };
        // A trigger whose table the schema turns into something else goes with it.
        if !on(&merged) {
            continue;
        }
        // One on a kept table or view is part of it, and not named on its own.
        if on(desired) {
            kept.push(Kept::Trigger {
                table: table.clone(),
                name: trigger.name.clone(),
            });
        }
        merged.triggers.push(Trigger {
            table,
            ..trigger.clone()
        });
    }
    keep_row_security(current, desired, &mut merged, &mut kept, &new_name);
    // A kept object keeps its comment: without it, the diff would remove the comment from an
    // object that stays.
    for comment in &current.comments {
        let on = after_renames(&comment.on, renames, &[]);
        if exists(&merged, &on)
            && !exists(desired, &on)
            && !desired.comments.iter().any(|c| c.on == on)
        {
            merged.comments.push(Comment {
                on,
                text: comment.text.clone(),
            });
        }
    }
    merged.normalize();
    (merged, kept)
}

/// Row-level security that `current` has on a table `merged` keeps, and policies on such a
/// table that `desired` does not declare: turning security off is a drop, as sqldef has it.
/// `new_name` gives a current table's name after the declared renames.
fn keep_row_security(
    current: &Schema,
    desired: &Schema,
    merged: &mut Schema,
    kept: &mut Vec<Kept>,
    new_name: &dyn Fn(&Name) -> Name,
) {
    for table in &current.tables {
        let name = new_name(&table.name);
        let declared = desired.table(&name).is_some();
        let Some(target) = merged.tables.iter_mut().find(|t| t.name == name) else {
            continue;
        };
        for (has, wants, forced) in [
            (table.row_security, &mut target.row_security, false),
            (
                table.force_row_security,
                &mut target.force_row_security,
                true,
            ),
        ] {
            if has && !*wants {
                *wants = true;
                if declared {
                    kept.push(Kept::RowSecurity {
                        table: name.clone(),
                        forced,
                    });
                }
            }
        }
    }
    for policy in &current.policies {
        let table = new_name(&policy.table);
        let declared = |p: &crate::schema::Policy| p.table == table && p.name == policy.name;
        if merged.table(&table).is_none() || desired.policies.iter().any(declared) {
            continue;
        }
        if desired.table(&table).is_some() {
            kept.push(Kept::Policy {
                table: table.clone(),
                name: policy.name.clone(),
            });
        }
        merged.policies.push(crate::schema::Policy {
            table,
            ..policy.clone()
        });
    }
}

/// [`plan_changes`] that drops nothing the desired schema leaves out: the renames are matched
/// to the schemas once, [`keep_undeclared`] adds the undeclared objects to `desired`, and the
/// plan turns `current` into that. Returns the plan and what was kept.
pub fn plan_keeping_undeclared(
    dialect: &dyn Dialect,
    current: &Schema,
    desired: &Schema,
    renames: &Renames,
    options: &RenderOptions,
) -> Result<(ChangePlan, Vec<Kept>), Error> {
    let diff_options = dialect.diff_options();
    // Matched against `desired` as given: objects added back could make a name that finds one
    // object there find two, and a rename dropped then would drop its old object.
    let renames = resolve_renames(renames, current, desired, diff_options)?;
    let (merged, mut kept) = keep_undeclared(current, desired, &renames, diff_options);
    // Privileges the scope may not revoke under --skip-drops are kept too, those on kept
    // relations included (and not named: they are part of them), so that the plan's own
    // settling finds nothing more to keep.
    let revoking = options.scope.settle(current, &merged, &renames, false);
    let merged = options.scope.settle(current, &merged, &renames, true);
    kept.extend(
        (merged.grants.iter())
            .filter(|grant| !revoking.grants.contains(grant) && holds(desired, &grant.on, None))
            .map(|grant| Kept::Privilege {
                on: grant.on.name.clone(),
                column: grant.column.clone(),
                role: grant.grantee.clone(),
                privilege: grant.privilege.clone(),
                grant_option: grant.grant_option,
            }),
    );
    let plan = plan_changes(dialect, current, &merged, &renames, options)?;
    Ok((plan, kept))
}

/// The names the desired schema uses, by the keys the diff compares them by.
struct Declared {
    /// Tables, views, sequences, indexes and the constraints an index implements: one
    /// namespace in PostgreSQL.
    relations: BTreeSet<Name>,
    /// Enum types and domains.
    types: BTreeSet<Name>,
}

impl Declared {
    fn new(key: &Keyed, desired: &Schema) -> Self {
        let mut relations = BTreeSet::new();
        relations.extend(desired.indexes().map(|i| key.name(&i.name)));
        for table in &desired.tables {
            relations.insert(key.name(&table.name));
            let constraints = (table.primary_key.iter().map(|k| &k.name))
                .chain(table.uniques.iter().map(|u| &u.name))
                .chain(table.other_constraints.iter().map(|c| &c.name));
            for name in constraints.flatten() {
                relations.insert(key.name(&Name {
                    schema: table.name.schema.clone(),
                    name: name.clone(),
                }));
            }
        }
        relations.extend(desired.views.iter().map(|v| key.name(&v.name)));
        relations.extend(desired.sequences.iter().map(|s| key.name(&s.name)));
        let types = (desired.enums.iter().map(|e| key.name(&e.name)))
            .chain(desired.domains.iter().map(|d| key.name(&d.name)))
            .collect();
        Declared { relations, types }
    }
}

/// What keeping the parts of a table needs.
struct Tables<'a> {
    key: &'a Keyed,
    declared: &'a Declared,
    renames: &'a Renames,
    table_renames: &'a BTreeMap<Name, Name>,
}

impl Tables<'_> {
    /// Add to `target` (the desired table that `current` becomes) the columns, constraints and
    /// indexes of `current` that it does not declare, and list them.
    fn keep_parts(&self, current: &Table, target: &mut Table) -> Vec<Kept> {
        let key = self.key;
        let table = target.name.clone();
        let renamed = |column: &String| {
            self.renames
                .columns
                .iter()
                .find(|r| {
                    key.name(&r.table) == key.name(&table)
                        && key.ident(&r.from) == key.ident(column)
                })
                .map_or(column, |r| &r.to)
                .clone()
        };
        let renamed_all = |columns: &[String]| columns.iter().map(renamed).collect::<Vec<_>>();
        let same_columns = |a: &[String], b: &[String]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| key.ident(x) == key.ident(y))
        };
        let same_name = |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if key.ident(a) == key.ident(b));
        // A constraint an index implements may not take the name of another relation.
        let relation_taken = |name: &Option<String>| {
            name.as_ref().is_some_and(|name| {
                self.declared.relations.contains(&key.name(&Name {
                    schema: table.schema.clone(),
                    name: name.clone(),
                }))
            })
        };
        let mut kept = Vec::new();
        let mut constraint = |constraint, name: &Option<String>, definition: String| {
            kept.push(Kept::Constraint {
                table: table.clone(),
                constraint,
                name: name.clone(),
                definition,
            });
        };

        let columns: Vec<_> = (current.columns.iter())
            .map(|c| {
                let mut c = c.clone();
                c.name = renamed(&c.name);
                c
            })
            .collect();
        let kept_columns = interleave(&mut target.columns, &columns, |declared, column| {
            (declared.iter()).position(|d| key.ident(&d.name) == key.ident(&column.name))
        });

        if target.primary_key.is_none()
            && let Some(pk) = &current.primary_key
            && !relation_taken(&pk.name)
        {
            let mut pk = pk.clone();
            pk.columns = renamed_all(&pk.columns);
            constraint(
                ConstraintKind::PrimaryKey,
                &pk.name,
                parenthesized(&pk.columns),
            );
            target.primary_key = Some(pk);
        }
        for unique in &current.uniques {
            let columns = renamed_all(&unique.columns);
            let declared = target
                .uniques
                .iter()
                .any(|d| same_name(&d.name, &unique.name) || same_columns(&d.columns, &columns));
            if !declared && !relation_taken(&unique.name) {
                constraint(
                    ConstraintKind::Unique,
                    &unique.name,
                    parenthesized(&columns),
                );
                target.uniques.push(Unique {
                    columns,
                    ..unique.clone()
                });
            }
        }
        for check in &current.checks {
            if !(target.checks.iter()).any(|d| d == check || same_name(&d.name, &check.name)) {
                constraint(
                    ConstraintKind::Check,
                    &check.name,
                    format!("({})", check.expression),
                );
                target.checks.push(check.clone());
            }
        }
        // Unnamed entries are options of the table (partitioning), not constraints.
        for other in current
            .other_constraints
            .iter()
            .filter(|c| c.name.is_some())
        {
            let declared =
                (target.other_constraints.iter()).any(|d| same_name(&d.name, &other.name));
            if !declared && !relation_taken(&other.name) {
                constraint(ConstraintKind::Other, &other.name, other.expression.clone());
                target.other_constraints.push(other.clone());
            }
        }
        for fk in &current.foreign_keys {
            let fk = renamed_fk(key, fk, &table, self.renames, self.table_renames);
            let declared = target.foreign_keys.iter().any(|d| {
                same_name(&d.name, &fk.name)
                    || (same_columns(&d.columns, &fk.columns)
                        && (key.name(&d.references) == key.name(&fk.references)
                            || (d.name.is_none() && fk.name.is_none())))
            });
            if !declared {
                let definition = format!(
                    "{} REFERENCES {} {}",
                    parenthesized(&fk.columns),
                    fk.references,
                    parenthesized(&fk.referenced_columns)
                );
                constraint(ConstraintKind::ForeignKey, &fk.name, definition);
                target.foreign_keys.push(fk);
            }
        }
        kept.extend(keep_indexes(
            key,
            self.declared,
            self.renames,
            &current.indexes,
            &table,
            &mut target.indexes,
        ));
        let columns = kept_columns.into_iter().map(|c| Kept::Column {
            table: table.clone(),
            name: c.name,
        });
        columns.chain(kept).collect()
    }
}

/// Add to `target`, the indexes of the desired table or materialized view `on`, the indexes
/// of `current` (those it has now) whose names, after the declared renames, the schema does
/// not use, and list them.
fn keep_indexes(
    key: &Keyed,
    declared: &Declared,
    renames: &Renames,
    current: &[Index],
    on: &Name,
    target: &mut Vec<Index>,
) -> Vec<Kept> {
    let mut kept = Vec::new();
    for index in current {
        let name = (renames.indexes.iter())
            .find(|(old, _)| key.name(old) == key.name(&index.name))
            .map_or(&index.name, |(_, new)| new);
        if !declared.relations.contains(&key.name(name)) {
            target.push(index.clone());
            kept.push(Kept::Index {
                table: on.clone(),
                name: index.name.clone(),
            });
        }
    }
    kept
}

/// Add to `merged` each object of `current` that is not `declared`, and list it as `kept`
/// describes it.
fn keep_each<T: Clone>(
    current: &[T],
    merged: &mut Vec<T>,
    kept: &mut Vec<Kept>,
    declared: impl Fn(&T) -> bool,
    describe: impl Fn(&T) -> Kept,
) {
    for object in current.iter().filter(|o| !declared(o)) {
        merged.push(object.clone());
        kept.push(describe(object));
    }
}

/// `(a, b)`.
fn parenthesized(columns: &[String]) -> String {
    format!("({})", columns.join(", "))
}

/// Put the items of `current` that `declared` lacks (`position` finds an item in it) into it,
/// each right after the item it follows in `current` (or first), so that the items both hold
/// keep their order and nothing moves; returns the items added.
fn interleave<T: Clone>(
    declared: &mut Vec<T>,
    current: &[T],
    position: impl Fn(&[T], &T) -> Option<usize>,
) -> Vec<T> {
    let mut added = Vec::new();
    let mut at = 0;
    for item in current {
        match position(declared, item) {
            Some(found) => at = found + 1,
            None => {
                declared.insert(at, item.clone());
                added.push(item.clone());
                at += 1;
            }
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{index, kinds, view};
    use crate::diff::{Change, ColumnRename, Dependants, EnumValueRename, diff};
    use crate::schema::{
        Check, Column, CommentTarget, Domain, Enum, Extension, ForeignKey, Function, Index,
        PrimaryKey, Sequence, View,
    };

    const EXACT: DiffOptions = DiffOptions {
        case_insensitive: false,
        dependants: Dependants::AnyChange,
    };

    fn table(name: &str, columns: &[&str]) -> Table {
        Table::new(
            Name::bare(name),
            columns.iter().map(|c| Column::new(*c, "text")).collect(),
        )
    }

    fn with_tables(tables: Vec<Table>) -> Schema {
        let mut schema = Schema {
            tables,
            ..Schema::default()
        };
        schema.normalize();
        schema
    }

    /// What `keep_undeclared` keeps, as text, and the kinds of the changes the diff then makes.
    fn push(
        current: &Schema,
        desired: &Schema,
        renames: &Renames,
        options: DiffOptions,
    ) -> (Vec<String>, Vec<Change>) {
        let (merged, kept) = keep_undeclared(current, desired, renames, options);
        let changes = diff(current, &merged, renames, options);
        (kept.iter().map(ToString::to_string).collect(), changes)
    }

    #[test]
    fn an_undeclared_table_is_kept_and_a_new_one_created() {
        let current = with_tables(vec![
            table("users", &["id"]),
            table("old_stuff", &["id", "note"]),
        ]);
        let desired = with_tables(vec![table("users", &["id"]), table("posts", &["id"])]);
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(kept, ["table old_stuff"]);
        assert_eq!(kinds(&changes), ["create_table"]);
    }

    /// A virtual table stays one, with its module and arguments, and so does not change.
    #[test]
    fn an_undeclared_virtual_table_is_kept_as_it_is() {
        let mut docs = table("docs", &["title"]);
        docs.virtual_table = Some(crate::schema::VirtualTable {
            module: "fts5".into(),
            arguments: vec!["content=posts".into()],
        });
        let current = with_tables(vec![table("posts", &["title"]), docs]);
        let desired = with_tables(vec![table("posts", &["title"])]);
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(kept, ["table docs"]);
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn an_undeclared_column_stays_in_its_place_and_new_ones_are_added() {
        let current = with_tables(vec![table("users", &["id", "nickname", "email"])]);
        let desired = with_tables(vec![table("users", &["id", "email", "age"])]);
        let (merged, kept) = keep_undeclared(&current, &desired, &Renames::default(), EXACT);
        let names: Vec<&str> = merged.tables[0]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["id", "nickname", "email", "age"]);
        assert_eq!(
            kept,
            [Kept::Column {
                table: Name::bare("users"),
                name: "nickname".into()
            }]
        );
        let changes = diff(&current, &merged, &Renames::default(), EXACT);
        let [Change::AlterTable(change)] = changes.as_slice() else {
            panic!("{changes:?}")
        };
        assert_eq!(change.added_columns.len(), 1);
        assert!(change.dropped_columns.is_empty() && change.altered_columns.is_empty());
    }

    #[test]
    fn a_column_declared_differently_is_still_altered() {
        let current = with_tables(vec![table("users", &["id", "age"])]);
        let mut desired = current.clone();
        desired.tables[0].columns[1].data_type = "integer".into();
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert!(kept.is_empty(), "{kept:?}");
        assert_eq!(kinds(&changes), ["alter_table"]);
    }

    #[test]
    fn undeclared_indexes_are_kept_and_changed_ones_replaced() {
        let mut current = with_tables(vec![table("users", &["id", "email", "name"])]);
        current.tables[0].indexes = vec![
            index("users_email", "users", "email"),
            index("users_name", "users", "name"),
        ];
        let mut desired = current.clone();
        desired.tables[0].indexes = vec![index("users_name", "users", "id")];
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(kept, ["index users_email on users"]);
        assert_eq!(kinds(&changes), ["drop_index", "create_index"]);
        assert!(matches!(&changes[0], Change::DropIndex(i) if i.name.name == "users_name"));
    }

    #[test]
    fn undeclared_views_are_kept_and_changed_ones_recreated() {
        let mut current = with_tables(vec![table("users", &["id", "name"])]);
        current.views = vec![view("names", "users"), view("ids", "users")];
        let mut desired = current.clone();
        desired.views = vec![View {
            definition: "CREATE VIEW ids AS SELECT id + 1 AS id FROM users".into(),
            ..view("ids", "users")
        }];
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(kept, ["view names"]);
        assert_eq!(kinds(&changes), ["drop_view", "create_view"]);
        assert!(matches!(&changes[0], Change::DropView(v) if v.name.name == "ids"));
    }

    #[test]
    fn undeclared_indexes_of_a_materialized_view_are_kept_and_come_back_when_it_is_recreated() {
        let mut current = with_tables(vec![table("users", &["id", "name"])]);
        current.views = vec![View {
            materialized: true,
            definition: "CREATE MATERIALIZED VIEW names AS SELECT * FROM users".into(),
            indexes: vec![index("names_id", "names", "id")],
            ..view("names", "users")
        }];
        let mut desired = current.clone();
        desired.views[0].indexes.clear();
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(kept, ["index names_id on names"]);
        assert!(changes.is_empty(), "{changes:?}");

        desired.views[0].definition.push_str(" WHERE id > 0");
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(kept, ["index names_id on names"]);
        assert_eq!(
            kinds(&changes),
            ["drop_view", "create_view", "create_index"]
        );

        // A plain view in its place has no indexes to keep.
        desired.views[0] = view("names", "users");
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert!(kept.is_empty(), "{kept:?}");
        assert_eq!(kinds(&changes), ["drop_view", "create_view"]);
    }

    #[test]
    fn a_name_the_schema_gives_to_another_kind_of_object_is_declared() {
        let mut current = with_tables(vec![table("users", &["id"])]);
        current.views = vec![view("report", "users")];
        let mut desired = with_tables(vec![table("users", &["id"]), table("report", &["id"])]);
        desired.tables[1].indexes = vec![index("users", "report", "id")];
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert!(kept.is_empty(), "{kept:?}");
        assert_eq!(
            kinds(&changes),
            ["drop_view", "create_table", "create_index"]
        );
    }

    fn mood(values: &[&str]) -> Enum {
        Enum {
            name: Name::qualified("public", "mood"),
            values: values.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn removed_enum_labels_are_kept_where_they_stand_and_new_ones_added() {
        let current = Schema {
            enums: vec![mood(&["happy", "meh", "sad"])],
            ..Schema::default()
        };
        let desired = Schema {
            enums: vec![mood(&["happy", "sad", "angry"])],
            ..Schema::default()
        };
        let (merged, kept) = keep_undeclared(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(merged.enums, [mood(&["happy", "meh", "sad", "angry"])]);
        assert_eq!(
            kept.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["label 'meh' of enum type public.mood"]
        );
        // Only an addition: the type is altered in place, never rebuilt.
        let changes = diff(&current, &merged, &Renames::default(), EXACT);
        let [Change::AlterEnum { from, to, .. }] = changes.as_slice() else {
            panic!("{changes:?}")
        };
        assert!(from.values.iter().all(|v| to.values.contains(v)));
    }

    #[test]
    fn renamed_objects_are_declared_under_their_new_names() {
        let mut current = with_tables(vec![table("accounts", &["id", "username", "bio"])]);
        current.tables[0].indexes = vec![index("old_idx", "accounts", "id")];
        current.enums = vec![mood(&["happy", "sad"])];
        let mut desired = with_tables(vec![table("users", &["id", "user_name"])]);
        desired.tables[0].indexes = vec![index("new_idx", "users", "id")];
        desired.enums = vec![mood(&["happy", "unhappy"])];
        let renames = Renames {
            tables: vec![(Name::bare("accounts"), Name::bare("users"))],
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "username".into(),
                to: "user_name".into(),
            }],
            indexes: vec![(Name::bare("old_idx"), Name::bare("new_idx"))],
            enum_values: vec![EnumValueRename {
                type_name: Name::qualified("public", "mood"),
                from: "sad".into(),
                to: "unhappy".into(),
            }],
        };
        let (kept, changes) = push(&current, &desired, &renames, EXACT);
        assert_eq!(kept, ["column users.bio"]);
        assert_eq!(
            kinds(&changes),
            ["alter_enum", "rename_table", "alter_table", "rename_index"]
        );
        let Change::AlterTable(change) = &changes[2] else {
            panic!("{changes:?}")
        };
        assert!(change.dropped_columns.is_empty() && change.added_columns.is_empty());
    }

    #[test]
    fn names_compare_without_case_where_the_engine_ignores_it() {
        let mut current = with_tables(vec![table("USERS", &["ID", "Nickname"])]);
        current.tables[0].indexes = vec![index("Users_Id", "USERS", "ID")];
        let mut desired = with_tables(vec![table("users", &["id"])]);
        desired.tables[0].indexes = vec![Index {
            name: Name::bare("users_id"),
            ..current.tables[0].indexes[0].clone()
        }];
        let insensitive = DiffOptions {
            case_insensitive: true,
            ..DiffOptions::default()
        };
        let (kept, changes) = push(&current, &desired, &Renames::default(), insensitive);
        assert_eq!(kept, ["column users.Nickname"]);
        assert!(changes.is_empty(), "{changes:?}");
        // Where case matters, USERS is another table, and kept.
        let (kept, _) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(kept, ["table USERS"]);
    }

    fn fk(name: Option<&str>, column: &str, references: &str) -> ForeignKey {
        ForeignKey {
            name: name.map(Into::into),
            columns: vec![column.into()],
            references: Name::bare(references),
            referenced_columns: vec!["id".into()],
            on_delete: crate::schema::FkAction::NoAction,
            on_update: crate::schema::FkAction::NoAction,
            deferrable: false,
            initially_deferred: false,
            match_full: false,
        }
    }

    fn unique(name: Option<&str>, column: &str) -> Unique {
        Unique {
            name: name.map(Into::into),
            columns: vec![column.into()],
            nulls_not_distinct: false,
            on_conflict: None,
            deferral: Default::default(),
        }
    }

    #[test]
    fn undeclared_constraints_are_kept_and_changed_ones_replaced() {
        let mut posts = table("posts", &["id", "user_id", "slug", "title"]);
        posts.primary_key = Some(PrimaryKey::new(vec!["id".into()]));
        posts.uniques = vec![unique(Some("posts_slug_key"), "slug")];
        posts.checks = vec![
            Check {
                name: Some("title_ck".into()),
                expression: "CHECK (title <> '')".into(),
            },
            Check {
                name: Some("slug_ck".into()),
                expression: "CHECK (slug <> '')".into(),
            },
        ];
        posts.foreign_keys = vec![fk(Some("posts_user_fk"), "user_id", "users")];
        let current = with_tables(vec![posts.clone(), table("users", &["id"])]);
        let mut desired = current.clone();
        let declared = &mut desired.tables[0];
        declared.primary_key = None;
        declared.uniques.clear();
        declared.foreign_keys.clear();
        declared.checks = vec![Check {
            name: Some("title_ck".into()),
            expression: "CHECK (length(title) > 1)".into(),
        }];
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(
            kept,
            [
                "primary key (id) on posts",
                "unique constraint posts_slug_key on posts",
                "check constraint slug_ck on posts",
                "foreign key posts_user_fk on posts",
            ]
        );
        let [Change::AlterTable(change)] = changes.as_slice() else {
            panic!("{changes:?}")
        };
        assert_eq!(change.dropped_checks[0].name.as_deref(), Some("title_ck"));
        assert_eq!(change.added_checks[0].name.as_deref(), Some("title_ck"));
        assert!(change.primary_key.is_none() && change.dropped_uniques.is_empty());
        assert!(change.dropped_foreign_keys.is_empty());
    }

    #[test]
    fn an_unnamed_constraint_on_the_same_columns_is_declared() {
        let mut current = with_tables(vec![table("t", &["a", "p"]), table("p", &["id"])]);
        current.tables[1].foreign_keys = vec![fk(None, "p", "p")];
        current.tables[1].uniques = vec![unique(None, "a")];
        let mut desired = current.clone();
        desired.tables[1].foreign_keys[0].on_delete = crate::schema::FkAction::Cascade;
        desired.tables[1].uniques[0].on_conflict = Some(crate::schema::OnConflict::Ignore);
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert!(kept.is_empty(), "{kept:?}");
        assert_eq!(
            kinds(&changes),
            ["drop_foreign_key", "alter_table", "add_foreign_key"]
        );
    }

    #[test]
    fn a_kept_foreign_key_follows_the_renames_of_what_it_references() {
        let mut current = with_tables(vec![table("a", &["id"]), table("b", &["a_id"])]);
        current.tables[1].foreign_keys = vec![fk(Some("b_a_fk"), "a_id", "a")];
        let desired = with_tables(vec![table("a2", &["key"])]);
        let renames = Renames {
            tables: vec![(Name::bare("a"), Name::bare("a2"))],
            columns: vec![ColumnRename {
                table: Name::bare("a2"),
                from: "id".into(),
                to: "key".into(),
            }],
            ..Renames::default()
        };
        let (merged, kept) = keep_undeclared(&current, &desired, &renames, EXACT);
        assert_eq!(kept.len(), 1, "{kept:?}");
        let b = merged.table(&Name::bare("b")).unwrap();
        assert_eq!(b.foreign_keys[0].references, Name::bare("a2"));
        assert_eq!(b.foreign_keys[0].referenced_columns, ["key"]);
        let changes = diff(&current, &merged, &renames, EXACT);
        assert_eq!(kinds(&changes), ["rename_table", "alter_table"]);
    }

    /// Everything the model holds, each kind once.
    fn everything() -> Schema {
        let mut users = table("users", &["id", "email"]);
        users.indexes = vec![index("users_email", "users", "email")];
        users.row_security = true;
        users.force_row_security = true;
        let name = |n: &str| Name::qualified("app", n);
        let mut schema = with_tables(vec![users]);
        schema.schemas = vec!["app".into()];
        schema.extensions = vec![Extension {
            name: "pgcrypto".into(),
            schema: Some("public".into()),
        }];
        schema.enums = vec![mood(&["happy"])];
        schema.domains = vec![Domain {
            name: name("email"),
            data_type: "text".into(),
            nullable: true,
            default: None,
            checks: Vec::new(),
        }];
        schema.sequences = vec![Sequence {
            name: name("tickets"),
            definition: "AS bigint".into(),
        }];
        schema.functions = vec![Function {
            signature: "app.touch()".into(),
            name: name("touch"),
            returns: Some("trigger".into()),
            definition: "CREATE OR REPLACE FUNCTION app.touch() ...".into(),
        }];
        schema.views = vec![View {
            materialized: true,
            indexes: vec![index("emails_id", "emails", "id")],
            ..view("emails", "users")
        }];
        schema.triggers = vec![Trigger {
            name: "users_touch".into(),
            table: Name::bare("users"),
            definition: "CREATE TRIGGER users_touch ...".into(),
        }];
        schema.comments = vec![Comment {
            on: CommentTarget::Index {
                name: Name::bare("users_email"),
            },
            text: "lookups".into(),
        }];
        schema.policies = vec![crate::schema::Policy {
            table: Name::bare("users"),
            name: "own".into(),
            permissive: true,
            command: crate::schema::PolicyCommand::All,
            roles: vec!["PUBLIC".into()],
            using: Some("(email = CURRENT_USER)".into()),
            with_check: None,
        }];
        schema
    }

    #[test]
    fn an_empty_schema_keeps_everything_and_changes_nothing() {
        let current = everything();
        let (merged, kept) =
            keep_undeclared(&current, &Schema::default(), &Renames::default(), EXACT);
        assert_eq!(merged, current);
        assert!(diff(&current, &merged, &Renames::default(), EXACT).is_empty());
        let kept: Vec<String> = kept.iter().map(ToString::to_string).collect();
        assert_eq!(
            kept,
            [
                "schema app",
                "extension pgcrypto",
                "enum type public.mood",
                "domain app.email",
                "sequence app.tickets",
                "function app.touch()",
                "table users",
                "materialized view emails",
            ]
        );
    }

    #[test]
    fn a_declared_table_keeps_its_undeclared_trigger_and_index_comment() {
        let current = everything();
        let mut desired = current.clone();
        desired.triggers.clear();
        desired.comments.clear();
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(kept, ["trigger users_touch on users"]);
        // The comment of a declared index is the schema's to remove.
        assert_eq!(kinds(&changes), ["comment"]);
    }

    #[test]
    fn a_declared_table_keeps_its_row_security_and_policies() {
        let current = everything();
        let mut desired = current.clone();
        desired.tables[0].row_security = false;
        desired.tables[0].force_row_security = false;
        desired.policies.clear();
        let (kept, changes) = push(&current, &desired, &Renames::default(), EXACT);
        assert_eq!(
            kept,
            [
                "row-level security on users",
                "row-level security forced on the owner of users",
                "policy own on users"
            ]
        );
        assert_eq!(kinds(&changes), Vec::<String>::new());
    }

    #[test]
    fn kept_objects_serialise_with_their_kind() {
        let kept = Kept::Constraint {
            table: Name::bare("t"),
            constraint: ConstraintKind::Check,
            name: None,
            definition: "(a > 0)".into(),
        };
        assert_eq!(kept.to_string(), "check constraint (a > 0) on t");
        assert_eq!(
            serde_json::to_value(&kept).unwrap(),
            serde_json::json!({
                "kind": "constraint",
                "table": {"name": "t"},
                "constraint": "check",
                "definition": "(a > 0)",
            })
        );
    }
}
