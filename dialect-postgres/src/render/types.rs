//! Types and sequences: enums, domains, free-standing sequences.

use godwit_core::dialect::{Hazard, HazardKind, RenderError, Statement};
use godwit_core::diff::Change;
use godwit_core::schema::{Domain, Enum, Name, Sequence};

use super::Context;
use super::convert::Labels;
use super::sql::{constraint_clause, literal, qualified, quote, split_qualified};

impl Context<'_> {
    /// Whether `data_type` is an enum (or an array of one) that this change creates, alters or
    /// drops. PostgreSQL has no cast from one enum to another, so a column changing to or from
    /// such a type converts through text; the type's labels are all it holds.
    pub(super) fn enum_in_change(&self, data_type: &str) -> bool {
        self.changes.iter().any(|c| match c {
            Change::CreateEnum(e) | Change::DropEnum(e) | Change::AlterEnum { to: e, .. } => {
                enum_column(data_type, &e.name).is_some()
            }
            _ => false,
        })
    }

    /// The labels a column changing from type `from` to `to` must find its values among, when
    /// `to` is (or may be) an enum and `from` holds text or labels: those the change gives
    /// the type when it creates or alters it, or else, for a type that is not one of
    /// PostgreSQL's own, those the catalog holds when the count runs.
    pub(super) fn target_labels<'s>(&'s self, from: &str, to: &'s str) -> Option<Labels<'s>> {
        let base = |ty: &str| ty.trim_end_matches("[]").to_string();
        let holds_text = matches!(
            base(from).split('(').next().unwrap_or_default(),
            "text" | "character varying" | "character"
        ) || self.enum_in_change(from)
            || self.rebuilt_enum_column(from).is_some();
        if !holds_text {
            return None;
        }
        let changed = self.changes.iter().find_map(|c| match c {
            Change::CreateEnum(e) | Change::AlterEnum { to: e, .. } => {
                enum_column(to, &e.name).map(|_| e.values.as_slice())
            }
            _ => None,
        });
        match changed {
            Some(labels) => Some(Labels::Known(labels)),
            None if !is_builtin_type(&base(to)) => Some(Labels::Catalog(to)),
            None => None,
        }
    }

    /// Whether a column of type `data_type` holds an enum that this change rebuilds (it loses
    /// or reorders labels): `Some(true)` for an array of it. The rebuild converts the column
    /// before the column's own change runs.
    pub(super) fn rebuilt_enum_column(&self, data_type: &str) -> Option<bool> {
        self.changes.iter().find_map(|c| match c {
            Change::AlterEnum { from, to, .. } if !only_additions(from, to) => {
                enum_column(data_type, &to.name)
            }
            _ => None,
        })
    }

    /// The diff drops and recreates a changed sequence; both halves become one `ALTER`.
    pub(super) fn sequence_replaced(&self, sequence: &Sequence) -> bool {
        let created = self
            .changes
            .iter()
            .any(|c| matches!(c, Change::CreateSequence(s) if s.name == sequence.name));
        let dropped = self
            .changes
            .iter()
            .any(|c| matches!(c, Change::DropSequence(s) if s.name == sequence.name));
        created && dropped
    }

    /// The domain that replaces `domain` under the same name and base type, if any: the pair
    /// becomes `ALTER DOMAIN`, because dropping a domain in use is refused (and would change
    /// its columns' types).
    pub(super) fn replacing_domain(&self, domain: &Domain) -> Option<&Domain> {
        self.changes.iter().find_map(|c| match c {
            Change::CreateDomain(d) if d.name == domain.name && d.data_type == domain.data_type => {
                Some(d)
            }
            _ => None,
        })
    }

    pub(super) fn create_domain(&self, domain: &Domain, out: &mut Vec<Statement>) {
        let replaced = self.changes.iter().find_map(|c| match c {
            Change::DropDomain(d) if d.name == domain.name && d.data_type == domain.data_type => {
                Some(d)
            }
            _ => None,
        });
        let name = qualified(&domain.name);
        let Some(current) = replaced else {
            let mut sql = format!("CREATE DOMAIN {name} AS {}", domain.data_type);
            if let Some(default) = &domain.default {
                sql.push_str(&format!(" DEFAULT {default}"));
            }
            if !domain.nullable {
                sql.push_str(" NOT NULL");
            }
            for check in &domain.checks {
                sql.push_str(&format!(" {}", constraint_clause(check)));
            }
            out.push(Statement::execute(sql));
            return;
        };
        if current.default != domain.default {
            out.push(Statement::execute(match &domain.default {
                Some(default) => format!("ALTER DOMAIN {name} SET DEFAULT {default}"),
                None => format!("ALTER DOMAIN {name} DROP DEFAULT"),
            }));
        }
        for check in current.checks.iter().filter(|c| !domain.checks.contains(c)) {
            if let Some(constraint) = &check.name {
                out.push(Statement::execute(format!(
                    "ALTER DOMAIN {name} DROP CONSTRAINT {}",
                    quote(constraint)
                )));
            }
        }
        if current.nullable != domain.nullable {
            out.push(if domain.nullable {
                Statement::execute(format!("ALTER DOMAIN {name} DROP NOT NULL"))
            } else {
                // The columns of the domain are not known here, so nothing can be counted.
                Statement::execute(format!("ALTER DOMAIN {name} SET NOT NULL")).with_hazard(
                    Hazard::new(
                        HazardKind::AddConstraint,
                        format!(
                            "makes domain {} NOT NULL; fails on NULL values",
                            domain.name
                        ),
                        None,
                    ),
                )
            });
        }
        for check in domain.checks.iter().filter(|c| !current.checks.contains(c)) {
            out.push(
                Statement::execute(format!(
                    "ALTER DOMAIN {name} ADD {}",
                    constraint_clause(check)
                ))
                .with_hazard(Hazard::new(
                    HazardKind::AddConstraint,
                    format!(
                        "adds a check to domain {}; fails on values that violate it",
                        domain.name
                    ),
                    None,
                )),
            );
        }
    }

    /// `from` already holds the `renamed` labels under their new names; the renames run first,
    /// in place, so rows keep their values. A label is never taken for a rename unless the
    /// user declared it: a label missing from `to` is removed.
    pub(super) fn alter_enum(
        &self,
        from: &Enum,
        to: &Enum,
        renamed: &[(String, String)],
        out: &mut Vec<Statement>,
    ) -> Result<(), RenderError> {
        let name = qualified(&to.name);
        for (old, new) in renamed {
            out.push(Statement::execute(format!(
                "ALTER TYPE {name} RENAME VALUE {} TO {}",
                literal(old),
                literal(new)
            )));
        }
        if only_additions(from, to) {
            // The additions run before the transaction that holds the renames, so a neighbour
            // is named as it is then: by its old name when it is renamed.
            let as_now = |label: &String| {
                renamed
                    .iter()
                    .find(|(_, new)| new == label)
                    .map_or_else(|| label.clone(), |(old, _)| old.clone())
            };
            for (i, value) in to.values.iter().enumerate() {
                if from.values.contains(value) {
                    continue;
                }
                let position = match i.checked_sub(1).and_then(|p| to.values.get(p)) {
                    Some(previous) => format!(" AFTER {}", literal(&as_now(previous))),
                    None => to
                        .values
                        .get(1)
                        .map(|next| format!(" BEFORE {}", literal(&as_now(next))))
                        .unwrap_or_default(),
                };
                // Before PostgreSQL 12 ADD VALUE refuses to run in a transaction block, and
                // since then a label added in a transaction cannot be used before it commits
                // (by a default or a check later in the same change), so it runs first, on its
                // own. IF NOT EXISTS makes a rerun after a failure harmless.
                out.push(
                    Statement::execute(format!(
                        "ALTER TYPE {name} ADD VALUE IF NOT EXISTS {}{position}",
                        literal(value)
                    ))
                    .outside_transaction(),
                );
            }
            return Ok(());
        }
        self.rebuild_enum(from, to, out)
    }

    /// Labels are removed (or reordered): create the type anew and convert its columns.
    fn rebuild_enum(
        &self,
        from: &Enum,
        to: &Enum,
        out: &mut Vec<Statement>,
    ) -> Result<(), RenderError> {
        let removed: Vec<&String> = from
            .values
            .iter()
            .filter(|v| !to.values.contains(v))
            .collect();
        let old = Name {
            schema: to.name.schema.clone(),
            name: format!("{}__godwit_old", to.name.name),
        };
        let name = qualified(&to.name);
        out.push(Statement::execute(format!(
            "ALTER TYPE {name} RENAME TO {}",
            quote(&old.name)
        )));
        out.push(Statement::execute(create_enum(to)));
        let removed_list = removed
            .iter()
            .map(|v| literal(v))
            .collect::<Vec<_>>()
            .join(", ");
        for change in self.changes {
            let Change::AlterTable(change) = change else {
                continue;
            };
            let table = qualified(&self.current_table(&change.to.name));
            for column in &change.from.columns {
                let Some(array) = enum_column(&column.data_type, &to.name) else {
                    continue;
                };
                let Some(current) = self.current_column(&change.to.name, &column.name) else {
                    continue;
                };
                let c = quote(&current);
                let suffix = if array { "[]" } else { "" };
                if column.default.is_some() {
                    // The default is an expression of the old type, which the new one cannot
                    // take over automatically.
                    out.push(Statement::execute(format!(
                        "ALTER TABLE {table} ALTER COLUMN {c} DROP DEFAULT"
                    )));
                }
                let kept = change
                    .to
                    .column(&column.name)
                    .filter(|d| d.data_type == column.data_type);
                let Some(kept) = kept else {
                    // The table's own change gives the column another type (or drops it); as
                    // text it loses no value on the way, whatever labels the type loses.
                    out.push(Statement::execute(format!(
                        "ALTER TABLE {table} ALTER COLUMN {c} TYPE text{suffix} USING {c}::text{suffix}"
                    )));
                    continue;
                };
                let condition = if array {
                    format!("{c}::text[] && ARRAY[{removed_list}]")
                } else {
                    format!("{c}::text IN ({removed_list})")
                };
                let mut statement = Statement::execute(format!(
                    "ALTER TABLE {table} ALTER COLUMN {c} TYPE {name}{suffix} USING {c}::text{suffix}::{name}{suffix}"
                ));
                if !removed.is_empty() {
                    statement = statement.with_hazard(Hazard::new(
                        HazardKind::RemoveEnumValue,
                        format!(
                            "removes values {removed_list} of type {} used by column {} of {}",
                            to.name, column.name, change.to.name
                        ),
                        Some(format!("SELECT count(*) FROM {table} WHERE {condition}")),
                    ));
                }
                out.push(statement);
                if let Some(default) = &kept.default {
                    out.push(Statement::execute(format!(
                        "ALTER TABLE {table} ALTER COLUMN {c} SET DEFAULT {default}"
                    )));
                }
            }
        }
        let old_type = literal(&qualified(&old));
        out.push(Statement::assert_empty(
            format!(
                "SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) \
                 FROM pg_catalog.pg_depend AS d \
                 WHERE d.refclassid = 'pg_catalog.pg_type'::regclass AND d.deptype = 'n' \
                 AND d.refobjid IN (SELECT t.oid FROM pg_catalog.pg_type AS t \
                     WHERE t.oid = {old_type}::regtype OR t.typelem = {old_type}::regtype)"
            ),
            format!(
                "type {} loses values ({removed_list}), but objects this change does not alter \
                 still use it (columns of other tables, domains, functions); remove the values \
                 with a versioned migration that converts those objects",
                to.name
            ),
        ));
        out.push(Statement::execute(format!("DROP TYPE {}", qualified(&old))));
        Ok(())
    }
}

/// Whether `ty`, as `format_type` prints it, is one of PostgreSQL's own types rather than one
/// a schema may define (an enum): those with arguments or several words, and the one-word
/// names of the core types.
fn is_builtin_type(ty: &str) -> bool {
    ty.contains(['(', ' '])
        || matches!(
            ty,
            "boolean"
                | "smallint"
                | "integer"
                | "bigint"
                | "numeric"
                | "real"
                | "money"
                | "text"
                | "bytea"
                | "date"
                | "interval"
                | "uuid"
                | "json"
                | "jsonb"
                | "xml"
                | "inet"
                | "cidr"
                | "macaddr"
                | "macaddr8"
                | "tsvector"
                | "tsquery"
                | "point"
                | "line"
                | "lseg"
                | "box"
                | "path"
                | "polygon"
                | "circle"
                | "oid"
                | "name"
                | "int4range"
                | "int8range"
                | "numrange"
                | "tsrange"
                | "tstzrange"
                | "daterange"
        )
}

/// Whether `to` only adds labels to `from` (whose renamed labels carry their new names): every
/// current label stays, in the same relative order, so `ADD VALUE` makes the change.
fn only_additions(from: &Enum, to: &Enum) -> bool {
    let mut remaining = from.values.iter().peekable();
    for value in &to.values {
        if remaining.peek() == Some(&value) {
            remaining.next();
        }
    }
    remaining.peek().is_none() && from.values.iter().all(|v| to.values.contains(v))
}

/// Whether a column of type `data_type` holds enum `name` (`Some(false)`) or an array of it
/// (`Some(true)`), by the way `format_type` prints it: bare when visible on the search path,
/// qualified otherwise, quoted when needed.
fn enum_column(data_type: &str, name: &Name) -> Option<bool> {
    let (base, array) = match data_type.strip_suffix("[]") {
        Some(base) => (base, true),
        None => (data_type, false),
    };
    let parts = split_qualified(base)?;
    let matches = match parts.as_slice() {
        [bare] => *bare == name.name,
        [schema, bare] => Some(schema.as_str()) == name.schema.as_deref() && *bare == name.name,
        _ => false,
    };
    matches.then_some(array)
}

pub(super) fn create_enum(e: &Enum) -> String {
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        qualified(&e.name),
        e.values
            .iter()
            .map(|v| literal(v))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_columns_match_as_format_type_prints_them() {
        let mood = Name::qualified("public", "mood");
        assert_eq!(enum_column("mood", &mood), Some(false));
        assert_eq!(enum_column("mood[]", &mood), Some(true));
        assert_eq!(enum_column("public.mood", &mood), Some(false));
        assert_eq!(enum_column("app.mood", &mood), None);
        assert_eq!(enum_column("text", &mood), None);
        let odd = Name::qualified("app", "Mood");
        assert_eq!(enum_column("app.\"Mood\"", &odd), Some(false));
    }
}
