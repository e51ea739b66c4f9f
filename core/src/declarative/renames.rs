//! Renames: matching declared renames to the two schemas, command-line requests, the drops
//! and creates that may be renames, and the renames that undo others.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DeclarativeError;
use crate::diff::{Change, ColumnRename, DiffOptions, EnumValueRename, Renames};
use crate::schema::{Name, Schema, Table};

/// Add `more` to `renames`.
pub fn merge_renames(renames: &mut Renames, more: Renames) {
    renames.tables.extend(more.tables);
    renames.columns.extend(more.columns);
    renames.indexes.extend(more.indexes);
    renames.enum_values.extend(more.enum_values);
}

/// The enum type of `schema` that `wanted` names, as [`find_name`] finds it.
fn enum_named<'a>(schema: &'a Schema, wanted: &Name) -> Option<&'a crate::schema::Enum> {
    let name = find_name(schema.enums.iter().map(|e| &e.name), wanted)?;
    schema.enums.iter().find(|e| &e.name == name)
}

/// Find the object `wanted` names among `names`: exactly; else, when `wanted` has no schema,
/// by name in any schema; else ignoring case. Only a single match counts.
fn find_name<'a>(names: impl Iterator<Item = &'a Name> + Clone, wanted: &Name) -> Option<&'a Name> {
    if let Some(exact) = names.clone().find(|n| *n == wanted) {
        return Some(exact);
    }
    let schema_fits = |n: &Name, fold: bool| match (&wanted.schema, &n.schema) {
        (None, _) => true,
        (Some(w), Some(s)) => {
            if fold {
                w.eq_ignore_ascii_case(s)
            } else {
                w == s
            }
        }
        (Some(_), None) => false,
    };
    let unique = |found: Vec<&'a Name>| match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    unique(
        names
            .clone()
            .filter(|n| n.name == wanted.name && schema_fits(n, false))
            .collect(),
    )
    .or_else(|| {
        unique(
            names
                .filter(|n| n.name.eq_ignore_ascii_case(&wanted.name) && schema_fits(n, true))
                .collect(),
        )
    })
}

fn find_column<'a>(table: &'a Table, wanted: &str) -> Option<&'a str> {
    if let Some(column) = table.columns.iter().find(|c| c.name == wanted) {
        return Some(&column.name);
    }
    let mut folded = table
        .columns
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(wanted));
    match (folded.next(), folded.next()) {
        (Some(one), None) => Some(&one.name),
        _ => None,
    }
}

fn same_name(a: &Name, b: &Name, options: DiffOptions) -> bool {
    if options.case_insensitive {
        a.name.eq_ignore_ascii_case(&b.name)
            && a.schema.as_deref().map(str::to_ascii_lowercase)
                == b.schema.as_deref().map(str::to_ascii_lowercase)
    } else {
        a == b
    }
}

fn same_ident(a: &str, b: &str, options: DiffOptions) -> bool {
    if options.case_insensitive {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// `renames` with their names as `current` (old names) and `desired` (new names) spell them,
/// keeping only those that still have something to do: a rename whose old object is gone was
/// done by an earlier run. A rename whose old object is still in the desired schema, or whose
/// new name is already taken in the database, contradicts the schemas and is an error.
pub(super) fn resolve_renames(
    renames: &Renames,
    current: &Schema,
    desired: &Schema,
    options: DiffOptions,
) -> Result<Renames, DeclarativeError> {
    let conflict = |object: String, reason: &str| DeclarativeError::ConflictingRename {
        object,
        reason: reason.to_string(),
    };
    let still_desired = "the old name is still in the desired schema";
    let taken = "the new name already exists in the database";
    let current_tables = current.tables.iter().map(|t| &t.name);
    let desired_tables = desired.tables.iter().map(|t| &t.name);
    let mut resolved = Renames::default();
    for (old, new) in &renames.tables {
        let (Some(old), Some(new)) = (
            find_name(current_tables.clone(), old),
            find_name(desired_tables.clone(), new),
        ) else {
            continue;
        };
        if same_name(old, new, options) {
            continue;
        }
        let object = || format!("table {old} to {new}");
        if desired
            .tables
            .iter()
            .any(|t| same_name(&t.name, old, options))
        {
            return Err(conflict(object(), still_desired));
        }
        if current
            .tables
            .iter()
            .any(|t| same_name(&t.name, new, options))
        {
            return Err(conflict(object(), taken));
        }
        resolved.tables.push((old.clone(), new.clone()));
    }
    for rename in &renames.columns {
        let Some(desired_table) =
            find_name(desired_tables.clone(), &rename.table).and_then(|name| desired.table(name))
        else {
            continue;
        };
        let current_name = resolved
            .tables
            .iter()
            .find(|(_, new)| *new == desired_table.name)
            .map_or_else(|| desired_table.name.clone(), |(old, _)| old.clone());
        let Some(current_table) = current
            .tables
            .iter()
            .find(|t| same_name(&t.name, &current_name, options))
        else {
            continue;
        };
        let (Some(from), Some(to)) = (
            find_column(current_table, &rename.from),
            find_column(desired_table, &rename.to),
        ) else {
            continue;
        };
        if same_ident(from, to, options) {
            continue;
        }
        let object = || format!("column {}.{from} to {to}", desired_table.name);
        if desired_table
            .columns
            .iter()
            .any(|c| same_ident(&c.name, from, options))
        {
            return Err(conflict(object(), still_desired));
        }
        if current_table
            .columns
            .iter()
            .any(|c| same_ident(&c.name, to, options))
        {
            return Err(conflict(object(), taken));
        }
        resolved.columns.push(ColumnRename {
            table: desired_table.name.clone(),
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let current_indexes = current.indexes().map(|i| &i.name);
    let desired_indexes = desired.indexes().map(|i| &i.name);
    for (old, new) in &renames.indexes {
        let (Some(old), Some(new)) = (
            find_name(current_indexes.clone(), old),
            find_name(desired_indexes.clone(), new),
        ) else {
            continue;
        };
        if same_name(old, new, options) {
            continue;
        }
        let object = || format!("index {old} to {new}");
        if desired_indexes.clone().any(|n| same_name(n, old, options)) {
            return Err(conflict(object(), still_desired));
        }
        if current_indexes.clone().any(|n| same_name(n, new, options)) {
            return Err(conflict(object(), taken));
        }
        resolved.indexes.push((old.clone(), new.clone()));
    }
    for rename in &renames.enum_values {
        let (Some(current_type), Some(desired_type)) = (
            enum_named(current, &rename.type_name),
            enum_named(desired, &rename.type_name),
        ) else {
            continue;
        };
        // Labels are strings compared exactly, in every engine.
        let (from, to) = (&rename.from, &rename.to);
        if from == to || !current_type.values.contains(from) || !desired_type.values.contains(to) {
            continue;
        }
        let object = || format!("value '{from}' of type {} to '{to}'", desired_type.name);
        if desired_type.values.contains(from) {
            return Err(conflict(object(), still_desired));
        }
        if current_type.values.contains(to) {
            return Err(conflict(object(), taken));
        }
        resolved.enum_values.push(EnumValueRename {
            type_name: desired_type.name.clone(),
            from: from.clone(),
            to: to.clone(),
        });
    }
    Ok(resolved)
}

/// A rename asked for on the command line: `OLD=NEW`, where OLD is a table (`users`,
/// `app.users`), a column (`users.email`, `app.users.email`), an index, or a label of an enum
/// type (`mood.sad`, `app.mood.sad`), and NEW is the new name alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameRequest {
    /// The old name's parts.
    pub old: Vec<String>,
    /// The new name.
    pub new: String,
}

impl fmt::Display for RenameRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.old.join("."), self.new)
    }
}

impl std::str::FromStr for RenameRequest {
    type Err = DeclarativeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || DeclarativeError::BadRenameRequest {
            text: text.to_string(),
        };
        let (old, new) = text.split_once('=').ok_or_else(bad)?;
        let old: Vec<String> = old.split('.').map(|p| p.trim().to_string()).collect();
        let new = new.trim();
        if new.is_empty() || new.contains('=') || old.iter().any(String::is_empty) {
            return Err(bad());
        }
        let new = new.rsplit('.').next().unwrap_or(new).to_string();
        Ok(RenameRequest { old, new })
    }
}

fn name_of(parts: &[String]) -> Option<Name> {
    match parts {
        [name] => Some(Name::bare(name.clone())),
        [schema, name] => Some(Name::qualified(schema.clone(), name.clone())),
        _ => None,
    }
}

/// The renames a run declares: the schema files' `hints`, and the caller's `requests`
/// resolved against the two schemas ([`resolve_requests`]).
pub(super) fn declared_renames(
    hints: Renames,
    requests: &[RenameRequest],
    current: &Schema,
    desired: &Schema,
) -> Result<Renames, DeclarativeError> {
    let requested = resolve_requests(requests, current, desired, &hints)?;
    let mut renames = hints;
    merge_renames(&mut renames, requested);
    Ok(renames)
}

/// Turn command-line rename requests into [`Renames`], deciding from the two schemas whether
/// each names a table, a column or an index. Column renames are keyed by the table's new name
/// (a table renamed by `base` or by another request counts).
pub fn resolve_requests(
    requests: &[RenameRequest],
    current: &Schema,
    desired: &Schema,
    base: &Renames,
) -> Result<Renames, DeclarativeError> {
    let current_tables = current.tables.iter().map(|t| &t.name);
    let mut renames = Renames::default();
    let mut rest = Vec::new();
    for request in requests {
        match name_of(&request.old).and_then(|n| find_name(current_tables.clone(), &n)) {
            Some(old) => renames.tables.push((
                old.clone(),
                Name {
                    schema: old.schema.clone(),
                    name: request.new.clone(),
                },
            )),
            None => rest.push(request),
        }
    }
    let new_table_name = |table: &Name| -> Name {
        base.tables
            .iter()
            .chain(&renames.tables)
            .find(|(old, _)| old == table)
            .map_or_else(|| table.clone(), |(_, new)| new.clone())
    };
    let mut columns = Vec::new();
    let mut indexes = Vec::new();
    let mut enum_values = Vec::new();
    for request in rest {
        let (table_parts, column) = request.old.split_at(request.old.len() - 1);
        let table = name_of(table_parts).and_then(|wanted| {
            find_name(current_tables.clone(), &wanted)
                .and_then(|n| current.table(n))
                .map(|t| (t, new_table_name(&t.name)))
                .or_else(|| {
                    // The table may be named by its new name; find its current one.
                    let new = find_name(desired.tables.iter().map(|t| &t.name), &wanted)?;
                    let old = base
                        .tables
                        .iter()
                        .chain(&renames.tables)
                        .find(|(_, n)| n == new)
                        .map_or(new, |(old, _)| old);
                    current.table(old).map(|t| (t, new.clone()))
                })
        });
        if let Some((table, new_table)) = table
            && let Some(from) = find_column(table, &column[0])
        {
            columns.push(ColumnRename {
                table: new_table,
                from: from.to_string(),
                to: request.new.clone(),
            });
            continue;
        }
        let index = name_of(&request.old)
            .and_then(|wanted| find_name(current.indexes().map(|i| &i.name), &wanted));
        if let Some(old) = index {
            indexes.push((
                old.clone(),
                Name {
                    schema: old.schema.clone(),
                    name: request.new.clone(),
                },
            ));
            continue;
        }
        // `TYPE.LABEL=NEW`: a label of an enum type, which keeps its name.
        let enum_type = name_of(table_parts).and_then(|wanted| enum_named(current, &wanted));
        match enum_type {
            Some(found) if found.values.contains(&column[0]) => {
                enum_values.push(EnumValueRename {
                    type_name: found.name.clone(),
                    from: column[0].clone(),
                    to: request.new.clone(),
                });
            }
            _ => {
                return Err(DeclarativeError::UnknownRename {
                    request: request.clone(),
                });
            }
        }
    }
    renames.columns = columns;
    renames.indexes = indexes;
    renames.enum_values = enum_values;
    Ok(renames)
}

/// A drop and a create in one plan that may be one rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PossibleRename {
    /// A table is dropped and another created.
    Table {
        /// The dropped table.
        from: Name,
        /// The created table.
        to: Name,
    },
    /// A column is dropped and another added to the same table.
    Column {
        /// The table (desired name).
        table: Name,
        /// The dropped column.
        from: String,
        /// The added column.
        to: String,
    },
    /// A label of an enum type is removed and another added.
    EnumValue {
        /// The type.
        type_name: Name,
        /// The removed label.
        from: String,
        /// The added label.
        to: String,
    },
}

impl PossibleRename {
    /// The `--rename` value that declares this rename.
    pub fn flag(&self) -> String {
        match self {
            PossibleRename::Table { from, to } => format!("{from}={}", to.name),
            PossibleRename::Column { table, from, to } => format!("{table}.{from}={to}"),
            PossibleRename::EnumValue {
                type_name,
                from,
                to,
            } => format!("{type_name}.{from}={to}"),
        }
    }

    /// This rename as [`Renames`].
    pub fn to_renames(&self) -> Renames {
        match self {
            PossibleRename::Table { from, to } => Renames {
                tables: vec![(from.clone(), to.clone())],
                ..Renames::default()
            },
            PossibleRename::Column { table, from, to } => Renames {
                columns: vec![ColumnRename {
                    table: table.clone(),
                    from: from.clone(),
                    to: to.clone(),
                }],
                ..Renames::default()
            },
            PossibleRename::EnumValue {
                type_name,
                from,
                to,
            } => Renames {
                enum_values: vec![EnumValueRename {
                    type_name: type_name.clone(),
                    from: from.clone(),
                    to: to.clone(),
                }],
                ..Renames::default()
            },
        }
    }
}

impl fmt::Display for PossibleRename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PossibleRename::Table { from, to } => write!(f, "table {from} to {to}"),
            PossibleRename::Column { table, from, to } => {
                write!(f, "column {table}.{from} to {to}")
            }
            PossibleRename::EnumValue {
                type_name,
                from,
                to,
            } => write!(f, "value '{from}' of type {type_name} to '{to}'"),
        }
    }
}

/// The drops and creates of `changes` that may be renames, every pairing, those with matching
/// column types first. Nothing is decided here: the user says which, if any, are renames.
pub fn possible_renames(changes: &[Change]) -> Vec<PossibleRename> {
    let mut found = Vec::new();
    let dropped = changes.iter().filter_map(|c| match c {
        Change::DropTable(t) => Some(t),
        _ => None,
    });
    let created: Vec<&Table> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable(t) => Some(t),
            _ => None,
        })
        .collect();
    for from in dropped {
        let mut pairs: Vec<(bool, &Table)> = created
            .iter()
            .map(|to| {
                let shape = |t: &Table| {
                    t.columns
                        .iter()
                        .map(|c| c.data_type.to_ascii_lowercase())
                        .collect::<Vec<_>>()
                };
                (shape(from) != shape(to), *to)
            })
            .collect();
        pairs.sort_by_key(|(differs, _)| *differs);
        found.extend(pairs.into_iter().map(|(_, to)| PossibleRename::Table {
            from: from.name.clone(),
            to: to.name.clone(),
        }));
    }
    for change in changes {
        let Change::AlterTable(table) = change else {
            continue;
        };
        for dropped in &table.dropped_columns {
            let mut pairs: Vec<(bool, &str)> = table
                .added_columns
                .iter()
                .map(|added| {
                    (
                        !added.data_type.eq_ignore_ascii_case(&dropped.data_type),
                        added.name.as_str(),
                    )
                })
                .collect();
            pairs.sort_by_key(|(differs, _)| *differs);
            found.extend(pairs.into_iter().map(|(_, to)| PossibleRename::Column {
                table: table.to.name.clone(),
                from: dropped.name.clone(),
                to: to.to_string(),
            }));
        }
    }
    for change in changes {
        let Change::AlterEnum { from, to, .. } = change else {
            continue;
        };
        let added: Vec<&String> = to
            .values
            .iter()
            .filter(|v| !from.values.contains(v))
            .collect();
        for (position, removed) in from.values.iter().enumerate() {
            if to.values.contains(removed) {
                continue;
            }
            // A label added where the removed one stood comes first.
            let mut pairs: Vec<(bool, &String)> = added
                .iter()
                .map(|label| (to.values.get(position) != Some(*label), *label))
                .collect();
            pairs.sort_by_key(|(elsewhere, _)| *elsewhere);
            found.extend(
                pairs
                    .into_iter()
                    .map(|(_, label)| PossibleRename::EnumValue {
                        type_name: to.name.clone(),
                        from: removed.clone(),
                        to: label.clone(),
                    }),
            );
        }
    }
    found
}

/// The renames that undo `renames`: for a down script, rendered as the diff from the desired
/// schema back to the current one.
pub fn inverse_renames(renames: &Renames) -> Renames {
    let old_table = |new: &Name| {
        renames
            .tables
            .iter()
            .find(|(_, n)| n == new)
            .map_or_else(|| new.clone(), |(old, _)| old.clone())
    };
    Renames {
        tables: renames
            .tables
            .iter()
            .map(|(old, new)| (new.clone(), old.clone()))
            .collect(),
        columns: renames
            .columns
            .iter()
            .map(|c| ColumnRename {
                table: old_table(&c.table),
                from: c.to.clone(),
                to: c.from.clone(),
            })
            .collect(),
        indexes: renames
            .indexes
            .iter()
            .map(|(old, new)| (new.clone(), old.clone()))
            .collect(),
        enum_values: renames
            .enum_values
            .iter()
            .map(|r| EnumValueRename {
                type_name: r.type_name.clone(),
                from: r.to.clone(),
                to: r.from.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;
    use crate::schema::{Column, Index};

    fn renames() -> Renames {
        Renames {
            tables: vec![(Name::bare("accounts"), Name::bare("users"))],
            columns: vec![
                ColumnRename {
                    table: Name::bare("users"),
                    from: "username".into(),
                    to: "user_name".into(),
                },
                ColumnRename {
                    table: Name::bare("posts"),
                    from: "body".into(),
                    to: "text".into(),
                },
            ],
            indexes: vec![(Name::bare("old_idx"), Name::bare("new_idx"))],
            enum_values: vec![EnumValueRename {
                type_name: Name::bare("mood"),
                from: "sad".into(),
                to: "unhappy".into(),
            }],
        }
    }

    #[test]
    fn inverse_renames_swap_names_and_key_columns_by_the_old_table() {
        let inverse = inverse_renames(&renames());
        assert_eq!(
            inverse.tables,
            [(Name::bare("users"), Name::bare("accounts"))]
        );
        assert_eq!(
            inverse.columns,
            [
                ColumnRename {
                    table: Name::bare("accounts"),
                    from: "user_name".into(),
                    to: "username".into(),
                },
                ColumnRename {
                    table: Name::bare("posts"),
                    from: "text".into(),
                    to: "body".into(),
                }
            ]
        );
        assert_eq!(
            inverse.indexes,
            [(Name::bare("new_idx"), Name::bare("old_idx"))]
        );
        assert_eq!(
            inverse.enum_values,
            [EnumValueRename {
                type_name: Name::bare("mood"),
                from: "unhappy".into(),
                to: "sad".into(),
            }]
        );
        assert_eq!(inverse_renames(&inverse), renames());
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    fn table(schema: Option<&str>, name: &str, columns: &[&str]) -> Table {
        Table::new(
            Name {
                schema: schema.map(str::to_string),
                name: name.into(),
            },
            columns.iter().map(|c| Column::new(*c, "text")).collect(),
        )
    }

    #[test]
    fn renames_resolve_to_the_spelling_of_each_schema_and_drop_when_done() {
        let current = schema(vec![table(Some("public"), "accounts", &["id", "UserName"])]);
        let desired = schema(vec![table(Some("public"), "users", &["id", "user_name"])]);
        let wanted = Renames {
            tables: vec![(Name::bare("accounts"), Name::bare("users"))],
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "username".into(),
                to: "user_name".into(),
            }],
            ..Renames::default()
        };
        let resolved =
            resolve_renames(&wanted, &current, &desired, DiffOptions::default()).unwrap();
        assert_eq!(
            resolved.tables,
            [(
                Name::qualified("public", "accounts"),
                Name::qualified("public", "users")
            )]
        );
        assert_eq!(
            resolved.columns,
            [ColumnRename {
                table: Name::qualified("public", "users"),
                from: "UserName".into(),
                to: "user_name".into(),
            }]
        );
        // Once applied, the same hints resolve to nothing.
        let resolved =
            resolve_renames(&wanted, &desired, &desired, DiffOptions::default()).unwrap();
        assert_eq!(resolved, Renames::default());
    }

    #[test]
    fn renames_that_contradict_the_schemas_are_errors() {
        let rename = Renames {
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "username".into(),
                to: "user_name".into(),
            }],
            ..Renames::default()
        };
        // The old column is still wanted.
        let current = schema(vec![table(None, "users", &["username"])]);
        let desired = schema(vec![table(None, "users", &["username", "user_name"])]);
        let error = resolve_renames(&rename, &current, &desired, DiffOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("column users.username to user_name"),
            "{error}"
        );
        assert!(error.contains("still in the desired schema"), "{error}");
        // The new name is taken.
        let current = schema(vec![table(None, "users", &["username", "user_name"])]);
        let desired = schema(vec![table(None, "users", &["user_name"])]);
        let error = resolve_renames(&rename, &current, &desired, DiffOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("already exists in the database"), "{error}");
        // Only case differs: on a case-sensitive engine that is a rename, not a conflict.
        let quoted = Renames {
            columns: vec![ColumnRename {
                table: Name::bare("users"),
                from: "UserName".into(),
                to: "username".into(),
            }],
            ..Renames::default()
        };
        let current = schema(vec![table(None, "users", &["UserName"])]);
        let desired = schema(vec![table(None, "users", &["username"])]);
        let resolved =
            resolve_renames(&quoted, &current, &desired, DiffOptions::default()).unwrap();
        assert_eq!(resolved.columns.len(), 1);
    }

    #[test]
    fn rename_requests_are_tables_columns_or_indexes() {
        let mut users = table(None, "users", &["id", "username"]);
        users.indexes.push(Index {
            name: Name::bare("users_idx"),
            unique: false,
            keys: vec!["username".into()],
            predicate: None,
            method: None,
            definition: "CREATE INDEX users_idx ON users (username)".into(),
        });
        let current = schema(vec![users, table(None, "posts", &["id"])]);
        let desired = schema(vec![table(None, "people", &["id", "login"])]);
        let requests: Vec<RenameRequest> = [
            "users=people",
            "people.username=login",
            "users_idx=people_idx",
        ]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
        let renames = resolve_requests(&requests, &current, &desired, &Renames::default()).unwrap();
        assert_eq!(
            renames.tables,
            [(Name::bare("users"), Name::bare("people"))]
        );
        assert_eq!(
            renames.columns,
            [ColumnRename {
                table: Name::bare("people"),
                from: "username".into(),
                to: "login".into(),
            }]
        );
        assert_eq!(
            renames.indexes,
            [(Name::bare("users_idx"), Name::bare("people_idx"))]
        );
        // The column may also be named by the table's old name.
        let requests = [
            "users=people".parse().unwrap(),
            "users.username=login".parse().unwrap(),
        ];
        let renames = resolve_requests(&requests, &current, &desired, &Renames::default()).unwrap();
        assert_eq!(renames.columns[0].table, Name::bare("people"));

        let unknown = ["ghost.col=x".parse().unwrap()];
        let error =
            resolve_requests(&unknown, &current, &desired, &Renames::default()).unwrap_err();
        assert!(error.to_string().contains("ghost.col"), "{error}");
        assert!("nothing".parse::<RenameRequest>().is_err());
        assert!("a=".parse::<RenameRequest>().is_err());
        assert!("a..b=c".parse::<RenameRequest>().is_err());
    }

    #[test]
    fn possible_renames_pair_drops_with_creates() {
        let from = schema(vec![
            table(None, "old", &["id"]),
            table(None, "t", &["id", "username"]),
        ]);
        let to = schema(vec![
            table(None, "new", &["id"]),
            table(None, "t", &["id", "user_name"]),
        ]);
        let changes = diff(&from, &to, &Renames::default(), DiffOptions::default());
        let found = possible_renames(&changes);
        assert_eq!(
            found,
            [
                PossibleRename::Table {
                    from: Name::bare("old"),
                    to: Name::bare("new")
                },
                PossibleRename::Column {
                    table: Name::bare("t"),
                    from: "username".into(),
                    to: "user_name".into()
                }
            ]
        );
        assert_eq!(found[0].flag(), "old=new");
        assert_eq!(found[1].flag(), "t.username=user_name");
    }
}
