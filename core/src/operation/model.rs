//! Operations applied to the schema model: where they are checked against the live schema.
//!
//! Each operation changes a copy of the model as the engine would once it ran: dropping a
//! column also drops the indexes and constraints that use it, renaming a table moves the
//! foreign keys that reference it. What the engine would refuse, or what would leave the
//! model wrong, is refused here with the reason, before any SQL is rendered.

use super::{Backfill, Column, Operation};
use crate::backfill::{BackfillPlan, DEFAULT_BATCH_SIZE, KeyColumn};
use crate::dialect::Dialect;
use crate::diff::{ColumnRename, EnumValueRename, Renames, mentions};
use crate::schema::{
    self, Check, Enum, ForeignKey, Index, Name, PrimaryKey, Schema, Table, Unique,
};

/// How names in operations map onto the model's names.
pub(super) struct Names<'a> {
    dialect: &'a dyn Dialect,
    /// The schema an unqualified name is in (PostgreSQL `public`), on engines with schemas.
    default_schema: Option<&'static str>,
    case_insensitive: bool,
}

impl<'a> Names<'a> {
    pub(super) fn new(dialect: &'a dyn Dialect) -> Self {
        let capabilities = dialect.capabilities();
        Names {
            dialect,
            default_schema: capabilities
                .schemas
                .then(|| dialect.lint_support().facts().default_schema)
                .flatten(),
            case_insensitive: capabilities.case_insensitive_identifiers,
        }
    }

    /// The model's name for `text` (`users`, `app.users`).
    pub(super) fn name(&self, text: &str) -> Name {
        match text.split_once('.') {
            Some((schema, name)) if self.default_schema.is_some() => Name::qualified(schema, name),
            _ => match self.default_schema {
                Some(schema) => Name::qualified(schema, text),
                None => Name::bare(text),
            },
        }
    }

    /// A name in the same schema as `like`.
    fn sibling(like: &Name, name: &str) -> Name {
        Name {
            schema: like.schema.clone(),
            name: name.to_string(),
        }
    }

    fn same(&self, a: &str, b: &str) -> bool {
        if self.case_insensitive {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    }

    fn same_name(&self, a: &Name, b: &Name) -> bool {
        a.schema == b.schema && self.same(&a.name, &b.name)
    }
}

type Checked<T> = Result<T, String>;

/// Apply `operation` to `schema`, recording the renames it makes in `renames` so the diff
/// renders them as renames. An error says why the operation cannot run.
pub(super) fn apply(
    names: &Names<'_>,
    schema: &mut Schema,
    renames: &mut Renames,
    operation: &Operation,
) -> Checked<()> {
    match operation {
        Operation::CreateTable {
            table,
            columns,
            primary_key,
        } => create_table(names, schema, table, columns, primary_key),
        Operation::DropTable { table } => drop_table(names, schema, table),
        Operation::RenameTable { table, to } => rename_table(names, schema, renames, table, to),
        Operation::AddColumn { table, column } => {
            let table = find_table_mut(names, schema, table)?;
            if table.column(&column.name).is_some()
                || table
                    .columns
                    .iter()
                    .any(|c| names.same(&c.name, &column.name))
            {
                return Err(format!(
                    "table {} already has a column `{}`",
                    table.name, column.name
                ));
            }
            table.columns.push(model_column(column));
            Ok(())
        }
        Operation::DropColumn { table, column } => drop_column(names, schema, table, column),
        Operation::RenameColumn { table, column, to } => {
            rename_column(names, schema, renames, table, column, to)
        }
        Operation::SetType {
            table,
            column,
            data_type,
        } => {
            let column = find_column_mut(names, schema, table, column)?;
            column.data_type = data_type.clone();
            Ok(())
        }
        Operation::SetDefault {
            table,
            column,
            default,
        } => {
            let column = find_column_mut(names, schema, table, column)?;
            column.default = default.clone();
            Ok(())
        }
        Operation::SetNullable {
            table,
            column,
            nullable,
        } => {
            let column = find_column_mut(names, schema, table, column)?;
            column.nullable = *nullable;
            Ok(())
        }
        Operation::CreateIndex {
            name,
            table,
            columns,
            unique,
            concurrently: _,
        } => create_index(names, schema, name, table, columns, *unique),
        Operation::DropIndex {
            name,
            concurrently: _,
        } => {
            let wanted = names.name(name);
            for table in &mut schema.tables {
                if let Some(at) = table
                    .indexes
                    .iter()
                    .position(|i| names.same_name(&i.name, &wanted))
                {
                    table.indexes.remove(at);
                    return Ok(());
                }
            }
            Err(format!("there is no index {wanted}"))
        }
        Operation::AddCheck {
            table,
            name,
            expression,
        } => {
            let table = constraint_table(names, schema, table, name)?;
            table.checks.push(Check {
                name: Some(name.clone()),
                expression: names.dialect.check_definition(expression),
            });
            Ok(())
        }
        Operation::AddUnique {
            table,
            name,
            columns,
        } => {
            let table = constraint_table(names, schema, table, name)?;
            has_columns(names, table, columns)?;
            table.uniques.push(Unique {
                name: Some(name.clone()),
                columns: columns.clone(),
                nulls_not_distinct: false,
                on_conflict: None,
                deferral: schema::Deferral::default(),
            });
            Ok(())
        }
        Operation::AddForeignKey {
            table,
            name,
            columns,
            references,
            referenced_columns,
            on_delete,
            on_update,
        } => {
            let referenced = find_table(names, schema, references)?;
            has_columns(names, referenced, referenced_columns)?;
            let references = referenced.name.clone();
            if columns.len() != referenced_columns.len() || columns.is_empty() {
                return Err(format!(
                    "it names {} column(s) and {} referenced column(s); name as many of each, at least one",
                    columns.len(),
                    referenced_columns.len()
                ));
            }
            let table = constraint_table(names, schema, table, name)?;
            has_columns(names, table, columns)?;
            table.foreign_keys.push(ForeignKey {
                name: Some(name.clone()),
                columns: columns.clone(),
                references,
                referenced_columns: referenced_columns.clone(),
                on_delete: *on_delete,
                on_update: *on_update,
                deferrable: false,
                initially_deferred: false,
                match_full: false,
            });
            Ok(())
        }
        Operation::DropConstraint { table, name } => drop_constraint(names, schema, table, name),
        Operation::CreateEnum { name, values } => {
            let wanted = names.name(name);
            if schema
                .enums
                .iter()
                .any(|e| names.same_name(&e.name, &wanted))
            {
                return Err(format!("enum type {wanted} already exists"));
            }
            schema.enums.push(Enum {
                name: wanted,
                values: values.clone(),
            });
            Ok(())
        }
        Operation::DropEnum { name } => {
            let at = find_enum(names, schema, name)?;
            let found = schema.enums[at].name.clone();
            for table in &schema.tables {
                if let Some(column) = table
                    .columns
                    .iter()
                    .find(|c| mentions(&c.data_type, &found.name))
                {
                    return Err(format!(
                        "column {}.{} uses it; drop or change that column first",
                        table.name, column.name
                    ));
                }
            }
            schema.enums.remove(at);
            Ok(())
        }
        Operation::AddEnumValue { name, value } => {
            let at = find_enum(names, schema, name)?;
            let found = &mut schema.enums[at];
            if found.values.contains(value) {
                return Err(format!(
                    "enum type {} already has the label `{value}`",
                    found.name
                ));
            }
            found.values.push(value.clone());
            Ok(())
        }
        Operation::RenameEnumValue { name, from, to } => {
            let at = find_enum(names, schema, name)?;
            let found = &mut schema.enums[at];
            if found.values.contains(to) {
                return Err(format!(
                    "enum type {} already has the label `{to}`",
                    found.name
                ));
            }
            let Some(label) = found.values.iter_mut().find(|v| *v == from) else {
                return Err(format!("enum type {} has no label `{from}`", found.name));
            };
            *label = to.clone();
            renames.enum_values.push(EnumValueRename {
                type_name: found.name.clone(),
                from: from.clone(),
                to: to.clone(),
            });
            Ok(())
        }
        // A backfill changes rows, not the schema; `sql` is opaque to the model.
        Operation::Backfill(_) | Operation::Sql { .. } => Ok(()),
    }
}

/// The model's column for a declared one.
/// Check backfill `backfill` (the `step`th of its migration) against `schema`, and find the
/// key it walks: the primary key, or else a unique constraint over `NOT NULL` columns.
pub(super) fn backfill_plan(
    names: &Names<'_>,
    schema: &Schema,
    backfill: &Backfill,
    step: usize,
) -> Checked<BackfillPlan> {
    let table = find_table(names, schema, &backfill.table)?;
    if backfill.set.is_empty() {
        return Err("it sets no column: give it `set = { column = \"expression\" }`".into());
    }
    if backfill.batch_size == Some(0) {
        return Err("`batch_size` is 0: give it a number of rows, 1000 by default".into());
    }
    let column = |name: &str| table.columns.iter().find(|c| names.same(&c.name, name));
    let not_null = |columns: &[String]| {
        columns
            .iter()
            .all(|name| column(name).is_some_and(|c| !c.nullable))
    };
    let key = match (
        &table.primary_key,
        table.uniques.iter().find(|u| not_null(&u.columns)),
    ) {
        (Some(primary), _) => &primary.columns,
        (None, Some(unique)) => &unique.columns,
        (None, None) => {
            return Err(format!(
                "table {} has no primary key, nor a unique constraint over NOT NULL columns, to \
                 walk in batches; add one first (an `add_unique` operation over NOT NULL \
                 columns, or a primary key), in this migration or an earlier one",
                table.name
            ));
        }
    };
    let key: Vec<KeyColumn> = key
        .iter()
        .map(|name| KeyColumn {
            name: name.clone(),
            data_type: column(name)
                .map(|c| c.data_type.clone())
                .unwrap_or_default(),
        })
        .collect();
    let mut set = Vec::new();
    for (name, expression) in &backfill.set {
        let found =
            column(name).ok_or_else(|| format!("table {} has no column `{name}`", table.name))?;
        if key.iter().any(|k| names.same(&k.name, name)) {
            return Err(format!(
                "it sets `{name}`, a column of the key it walks the table by; a backfill may \
                 not move rows along its own walk"
            ));
        }
        set.push((
            names.dialect.quote_identifier(&found.name),
            expression.trim().to_string(),
        ));
    }
    Ok(BackfillPlan {
        step,
        table: backfill.table.clone(),
        table_sql: names
            .dialect
            .qualified_name(table.name.schema.as_deref(), &table.name.name),
        key,
        set,
        filter: backfill.filter.as_ref().map(|f| f.trim().to_string()),
        batch_size: backfill.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
        pause: backfill.pause.unwrap_or_default(),
    })
}

fn model_column(column: &Column) -> schema::Column {
    let mut model = schema::Column::new(&column.name, &column.data_type);
    model.nullable = column.nullable;
    model.default = column.default.clone();
    model
}

/// Where the table `table` names is in `schema.tables`.
fn table_at(names: &Names<'_>, schema: &Schema, table: &str) -> Checked<usize> {
    let wanted = names.name(table);
    schema
        .tables
        .iter()
        .position(|t| names.same_name(&t.name, &wanted))
        .ok_or_else(|| format!("there is no table {wanted}"))
}

fn find_table<'s>(names: &Names<'_>, schema: &'s Schema, table: &str) -> Checked<&'s Table> {
    Ok(&schema.tables[table_at(names, schema, table)?])
}

fn find_table_mut<'s>(
    names: &Names<'_>,
    schema: &'s mut Schema,
    table: &str,
) -> Checked<&'s mut Table> {
    let at = table_at(names, schema, table)?;
    Ok(&mut schema.tables[at])
}

fn find_column_mut<'s>(
    names: &Names<'_>,
    schema: &'s mut Schema,
    table: &str,
    column: &str,
) -> Checked<&'s mut schema::Column> {
    let table = find_table_mut(names, schema, table)?;
    let name = table.name.clone();
    table
        .columns
        .iter_mut()
        .find(|c| names.same(&c.name, column))
        .ok_or_else(|| format!("table {name} has no column `{column}`"))
}

fn find_enum(names: &Names<'_>, schema: &Schema, name: &str) -> Checked<usize> {
    let wanted = names.name(name);
    schema
        .enums
        .iter()
        .position(|e| names.same_name(&e.name, &wanted))
        .ok_or_else(|| format!("there is no enum type {wanted}"))
}

fn has_columns(names: &Names<'_>, table: &Table, columns: &[String]) -> Checked<()> {
    match columns
        .iter()
        .find(|wanted| !table.columns.iter().any(|c| names.same(&c.name, wanted)))
    {
        Some(missing) => Err(format!("table {} has no column `{missing}`", table.name)),
        None => Ok(()),
    }
}

/// Every constraint name of `table`.
fn constraint_names(table: &Table) -> impl Iterator<Item = &str> {
    (table.primary_key.iter().filter_map(|k| k.name.as_deref()))
        .chain(table.uniques.iter().filter_map(|u| u.name.as_deref()))
        .chain(table.checks.iter().filter_map(|c| c.name.as_deref()))
        .chain(table.foreign_keys.iter().filter_map(|k| k.name.as_deref()))
        .chain(
            table
                .other_constraints
                .iter()
                .filter_map(|c| c.name.as_deref()),
        )
}

/// The table a new constraint called `name` goes on, refusing a name it already uses.
fn constraint_table<'s>(
    names: &Names<'_>,
    schema: &'s mut Schema,
    table: &str,
    name: &str,
) -> Checked<&'s mut Table> {
    let table = find_table_mut(names, schema, table)?;
    if constraint_names(table).any(|n| names.same(n, name)) {
        return Err(format!(
            "table {} already has a constraint `{name}`",
            table.name
        ));
    }
    Ok(table)
}

fn create_table(
    names: &Names<'_>,
    schema: &mut Schema,
    table: &str,
    columns: &[Column],
    primary_key: &[String],
) -> Checked<()> {
    let name = names.name(table);
    if schema
        .tables
        .iter()
        .any(|t| names.same_name(&t.name, &name))
        || schema.views.iter().any(|v| names.same_name(&v.name, &name))
    {
        return Err(format!("{name} already exists"));
    }
    if columns.is_empty() {
        return Err("a table needs at least one column".into());
    }
    let mut created = Table::new(name, columns.iter().map(model_column).collect());
    has_columns(names, &created, primary_key)?;
    if !primary_key.is_empty() {
        // A primary key's columns refuse NULL, whether or not the operation says so.
        for column in &mut created.columns {
            if primary_key.iter().any(|k| names.same(k, &column.name)) {
                column.nullable = false;
            }
        }
        created.primary_key = Some(PrimaryKey::new(primary_key.to_vec()));
    }
    schema.tables.push(created);
    Ok(())
}

/// Foreign keys of other tables than `table` that reference it, as `(table, key)`.
fn referencing<'s>(
    schema: &'s Schema,
    table: &'s Name,
) -> impl Iterator<Item = (&'s Table, &'s ForeignKey)> {
    schema
        .tables
        .iter()
        .filter(move |t| &t.name != table)
        .flat_map(|t| t.foreign_keys.iter().map(move |k| (t, k)))
        .filter(move |(_, k)| &k.references == table)
}

fn key_name(key: &ForeignKey) -> String {
    key.name
        .clone()
        .unwrap_or_else(|| format!("({})", key.columns.join(", ")))
}

fn drop_table(names: &Names<'_>, schema: &mut Schema, table: &str) -> Checked<()> {
    let name = find_table(names, schema, table)?.name.clone();
    if let Some((other, key)) = referencing(schema, &name).next() {
        return Err(format!(
            "foreign key {} of table {} references it; drop that constraint first",
            key_name(key),
            other.name
        ));
    }
    if let Some(view) = schema.views.iter().find(|v| v.depends_on.contains(&name)) {
        return Err(format!(
            "view {} reads it; drop the view first (with a `sql` operation)",
            view.name
        ));
    }
    schema.tables.retain(|t| t.name != name);
    // What lives and dies with the table.
    schema.triggers.retain(|t| t.table != name);
    schema.policies.retain(|p| p.table != name);
    schema.grants.retain(|g| g.on.name != name);
    schema.owners.retain(|o| o.on.name != name);
    Ok(())
}

fn rename_table(
    names: &Names<'_>,
    schema: &mut Schema,
    renames: &mut Renames,
    table: &str,
    to: &str,
) -> Checked<()> {
    let from = find_table(names, schema, table)?.name.clone();
    let new = Names::sibling(&from, to);
    if schema.tables.iter().any(|t| names.same_name(&t.name, &new))
        || schema.views.iter().any(|v| names.same_name(&v.name, &new))
    {
        return Err(format!("{new} already exists"));
    }
    for table in &mut schema.tables {
        if table.name == from {
            table.name = new.clone();
        }
        for key in &mut table.foreign_keys {
            if key.references == from {
                key.references = new.clone();
            }
        }
    }
    for trigger in &mut schema.triggers {
        if trigger.table == from {
            trigger.table = new.clone();
        }
    }
    for policy in &mut schema.policies {
        if policy.table == from {
            policy.table = new.clone();
        }
    }
    for grant in &mut schema.grants {
        if grant.on.name == from {
            grant.on.name = new.clone();
        }
    }
    for owner in &mut schema.owners {
        if owner.on.name == from {
            owner.on.name = new.clone();
        }
    }
    renames.tables.push((from, new));
    Ok(())
}

fn drop_column(names: &Names<'_>, schema: &mut Schema, table: &str, column: &str) -> Checked<()> {
    let found = find_table(names, schema, table)?;
    let name = found.name.clone();
    let Some(column) = found
        .columns
        .iter()
        .find(|c| names.same(&c.name, column))
        .map(|c| c.name.clone())
    else {
        return Err(format!("table {name} has no column `{column}`"));
    };
    if found.columns.len() == 1 {
        return Err(format!(
            "`{column}` is the only column of {name}; drop the table instead"
        ));
    }
    if let Some((other, key)) = referencing(schema, &name)
        .find(|(_, k)| k.referenced_columns.iter().any(|c| names.same(c, &column)))
    {
        return Err(format!(
            "foreign key {} of table {} references it; drop that constraint first",
            key_name(key),
            other.name
        ));
    }
    if let Some(view) = schema
        .views
        .iter()
        .find(|v| v.depends_on.contains(&name) && mentions(&v.query, &column))
    {
        return Err(format!(
            "view {} may read it; drop the view first (with a `sql` operation)",
            view.name
        ));
    }
    let Some(table) = schema.tables.iter_mut().find(|t| t.name == name) else {
        unreachable!("the table was found above")
    };
    let uses = |columns: &[String]| columns.iter().any(|c| names.same(c, &column));
    table.columns.retain(|c| c.name != column);
    // The engine drops what uses the column with it (PostgreSQL), or must be told to
    // (SQLite, which rebuilds the table without them): either way they are gone after.
    if table.primary_key.as_ref().is_some_and(|k| uses(&k.columns)) {
        table.primary_key = None;
    }
    table.uniques.retain(|u| !uses(&u.columns));
    table.foreign_keys.retain(|k| !uses(&k.columns));
    table.checks.retain(|c| !mentions(&c.expression, &column));
    table
        .other_constraints
        .retain(|c| !mentions(&c.expression, &column));
    table.indexes.retain(|index: &Index| {
        !index.keys.iter().any(|k| mentions(k, &column))
            && !index
                .predicate
                .as_deref()
                .is_some_and(|p| mentions(p, &column))
    });
    schema
        .grants
        .retain(|g| !(g.on.name == name && g.column.as_deref() == Some(column.as_str())));
    Ok(())
}

fn rename_column(
    names: &Names<'_>,
    schema: &mut Schema,
    renames: &mut Renames,
    table: &str,
    column: &str,
    to: &str,
) -> Checked<()> {
    let found = find_table_mut(names, schema, table)?;
    let name = found.name.clone();
    if found.columns.iter().any(|c| names.same(&c.name, to)) {
        return Err(format!("table {name} already has a column `{to}`"));
    }
    let Some(renamed) = found
        .columns
        .iter_mut()
        .find(|c| names.same(&c.name, column))
    else {
        return Err(format!("table {name} has no column `{column}`"));
    };
    let from = std::mem::replace(&mut renamed.name, to.to_string());
    let rename = |columns: &mut Vec<String>| {
        for c in columns.iter_mut().filter(|c| **c == from) {
            *c = to.to_string();
        }
    };
    if let Some(key) = &mut found.primary_key {
        rename(&mut key.columns);
    }
    for unique in &mut found.uniques {
        rename(&mut unique.columns);
    }
    for key in &mut found.foreign_keys {
        rename(&mut key.columns);
    }
    for table in &mut schema.tables {
        for key in table
            .foreign_keys
            .iter_mut()
            .filter(|k| k.references == name)
        {
            rename(&mut key.referenced_columns);
        }
    }
    renames.columns.push(ColumnRename {
        table: name,
        from,
        to: to.to_string(),
    });
    Ok(())
}

fn create_index(
    names: &Names<'_>,
    schema: &mut Schema,
    name: &str,
    table: &str,
    columns: &[String],
    unique: bool,
) -> Checked<()> {
    let found = find_table(names, schema, table)?;
    has_columns(names, found, columns)?;
    if columns.is_empty() {
        return Err("an index needs at least one column".into());
    }
    let index_name = Names::sibling(&found.name, name);
    if schema
        .indexes()
        .any(|i| names.same_name(&i.name, &index_name))
    {
        return Err(format!("index {index_name} already exists"));
    }
    let dialect = names.dialect;
    let keys: Vec<String> = columns
        .iter()
        .map(|c| dialect.quote_identifier(c))
        .collect();
    let definition = format!(
        "CREATE {}INDEX {} ON {} ({})",
        if unique { "UNIQUE " } else { "" },
        dialect.quote_identifier(name),
        dialect.qualified_name(found.name.schema.as_deref(), &found.name.name),
        keys.join(", ")
    );
    let table_name = found.name.clone();
    let Some(table) = schema.tables.iter_mut().find(|t| t.name == table_name) else {
        unreachable!("the table was found above")
    };
    table.indexes.push(Index {
        name: index_name,
        unique,
        keys: columns.to_vec(),
        predicate: None,
        method: None,
        definition,
    });
    Ok(())
}

fn drop_constraint(names: &Names<'_>, schema: &mut Schema, table: &str, name: &str) -> Checked<()> {
    let table = find_table_mut(names, schema, table)?;
    let named = |n: &Option<String>| n.as_deref().is_some_and(|n| names.same(n, name));
    let before = table.checks.len() + table.uniques.len() + table.foreign_keys.len();
    table.checks.retain(|c| !named(&c.name));
    table.uniques.retain(|u| !named(&u.name));
    table.foreign_keys.retain(|k| !named(&k.name));
    if table.checks.len() + table.uniques.len() + table.foreign_keys.len() < before {
        return Ok(());
    }
    let known: Vec<&str> = constraint_names(table).collect();
    Err(if known.is_empty() {
        format!(
            "table {} has no named check, unique or foreign-key constraint",
            table.name
        )
    } else {
        format!(
            "table {} has no check, unique or foreign-key constraint `{name}` (it has: {})",
            table.name,
            known.join(", ")
        )
    })
}
