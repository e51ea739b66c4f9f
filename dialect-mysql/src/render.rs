//! Turning core's changes into MySQL/MariaDB statements.
//!
//! MySQL commits around every DDL statement, so nothing here relies on a transaction: each
//! statement is a step that stands on its own. Changes of one table become `ALTER TABLE`s that
//! name the online-DDL algorithm the server can use for them (`ALGORITHM=INSTANT`, or
//! `ALGORITHM=INPLACE, LOCK=NONE`), so a change the server could only make by copying the table
//! fails instead of silently blocking writes; where a copy is the only way, the statement says
//! so with a [`HazardKind::CopyTable`] hazard. The clauses are those of MariaDB 10.11's InnoDB,
//! chosen conservatively: a change left without a clause is one the server may copy for.

use std::collections::BTreeSet;

use godwit_core::dialect::{Hazard, HazardKind, RenderError, RenderOptions, Statement};
use godwit_core::diff::{Change, TableChange};
use godwit_core::schema::{Column, FkAction, ForeignKey, Index, Name, PrimaryKey, Table};

use crate::sql::{quote, read_quoted, string_literal};

fn name(name: &Name) -> String {
    match &name.schema {
        Some(schema) => format!("{}.{}", quote(schema), quote(&name.name)),
        None => quote(&name.name),
    }
}

/// How the server can make a change without copying the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Online {
    /// Only the data dictionary changes.
    Instant,
    /// The table is rebuilt or an index built in place, while writes go on.
    InPlace,
    /// The rows are copied into a new table, and writes wait.
    Copy,
}

impl Online {
    fn clause(self) -> &'static str {
        match self {
            Online::Instant => ", ALGORITHM=INSTANT",
            Online::InPlace => ", ALGORITHM=INPLACE, LOCK=NONE",
            Online::Copy => "",
        }
    }
}

/// One `ALTER TABLE` on `table` of `specs`, as online as the slowest of them allows.
fn alter(table: &Name, specs: &[String], online: Online) -> Statement {
    let statement = Statement::execute(format!(
        "ALTER TABLE {} {}{}",
        name(table),
        specs.join(", "),
        online.clause()
    ));
    if online == Online::Copy {
        statement.with_hazard(copy_hazard(table))
    } else {
        statement
    }
}

fn copy_hazard(table: &Name) -> Hazard {
    Hazard::new(
        HazardKind::CopyTable,
        format!("copies table {table}; writes to it wait until the copy ends"),
        Some(format!("SELECT COUNT(*) FROM {}", name(table))),
    )
}

/// A column as `CREATE TABLE`, `ADD COLUMN` and `MODIFY COLUMN` write it, with the check
/// written on it, if `table` has one.
fn column_definition(column: &Column, table: &Table) -> String {
    let mut sql = format!("{} {}", quote(&column.name), column.data_type);
    if let Some(collation) = &column.collation {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    match &column.generated {
        Some(generated) => sql.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            generated.expression,
            if generated.stored {
                "STORED"
            } else {
                "VIRTUAL"
            }
        )),
        None => {
            sql.push_str(if column.nullable {
                " NULL"
            } else {
                " NOT NULL"
            });
            if let Some(default) = &column.default {
                sql.push_str(&format!(" DEFAULT {default}"));
            }
            if let Some(on_update) = &column.on_update {
                sql.push_str(&format!(" ON UPDATE {on_update}"));
            }
            if column.autoincrement {
                sql.push_str(" AUTO_INCREMENT");
            }
        }
    }
    if let Some(check) = column_check(table, &column.name) {
        sql.push_str(&format!(" CHECK ({check})"));
    }
    if let Some(comment) = &column.comment {
        sql.push_str(&format!(" COMMENT {}", string_literal(comment)));
    }
    sql
}

/// The check written on `column` of `table` (MariaDB names it after the column).
fn column_check<'t>(table: &'t Table, column: &str) -> Option<&'t str> {
    table
        .other_constraints
        .iter()
        .find(|c| c.name.as_deref() == Some(column))
        .map(|c| c.expression.as_str())
}

fn is_column_check(table: &Table, check: &godwit_core::schema::Check) -> bool {
    table.other_constraints.iter().any(|c| c == check)
}

/// An index's definition ([`crate::introspect::index_definition`]) cut into the table it is
/// on and the clause `ALTER TABLE ... ADD` and `CREATE TABLE` take (`UNIQUE KEY name (...)`).
pub(crate) fn index_clause(index: &Index) -> Result<(String, String), RenderError> {
    let unreadable = || {
        RenderError::Impossible(format!(
            "index {} has a definition godwit did not write: {}",
            index.name, index.definition
        ))
    };
    let rest = index
        .definition
        .strip_prefix("CREATE ")
        .ok_or_else(unreadable)?;
    let (kind, rest) = rest.split_once("INDEX ").ok_or_else(unreadable)?;
    let (_, rest) = read_quoted(rest).ok_or_else(unreadable)?;
    let rest = rest.strip_prefix(" ON ").ok_or_else(unreadable)?;
    let (table, rest) = read_quoted(rest).ok_or_else(unreadable)?;
    Ok((
        table,
        format!("{kind}KEY {}{rest}", quote(&index.name.name)),
    ))
}

fn key_columns(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn primary_key_clause(key: &PrimaryKey) -> String {
    let mut sql = format!("PRIMARY KEY ({})", key_columns(&key.columns));
    if let Some(comment) = &key.comment {
        sql.push_str(&format!(" COMMENT {}", string_literal(comment)));
    }
    sql
}

fn foreign_key_clause(key: &ForeignKey) -> String {
    let mut sql = String::new();
    if let Some(constraint) = &key.name {
        sql.push_str(&format!("CONSTRAINT {} ", quote(constraint)));
    }
    sql.push_str(&format!(
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        key_columns(&key.columns),
        name(&key.references),
        key_columns(&key.referenced_columns)
    ));
    // RESTRICT is what MariaDB reads back for a key that names no action.
    if key.on_delete != FkAction::Restrict {
        sql.push_str(&format!(" ON DELETE {}", key.on_delete.sql()));
    }
    if key.on_update != FkAction::Restrict {
        sql.push_str(&format!(" ON UPDATE {}", key.on_update.sql()));
    }
    sql
}

fn table_options(table: &Table) -> Vec<String> {
    let mut options = Vec::new();
    if let Some(engine) = &table.engine {
        options.push(format!("ENGINE={engine}"));
    }
    if let Some(collation) = &table.collation {
        options.push(format!("DEFAULT COLLATE={collation}"));
    }
    if let Some(format) = &table.row_format {
        options.push(format!("ROW_FORMAT={format}"));
    }
    if let Some(size) = table.key_block_size {
        options.push(format!("KEY_BLOCK_SIZE={size}"));
    }
    options
}

fn create_table(
    table: &Table,
    indexes: impl Iterator<Item = String>,
) -> Result<Statement, RenderError> {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|c| column_definition(c, table))
        .collect();
    if let Some(key) = &table.primary_key {
        lines.push(primary_key_clause(key));
    }
    lines.extend(indexes);
    for check in &table.checks {
        lines.push(check_clause(check));
    }
    let mut options = table_options(table);
    if let Some(comment) = &table.comment {
        options.push(format!("COMMENT={}", string_literal(comment)));
    }
    if let Some(partitioning) = &table.partitioning {
        options.push(partitioning.clone());
    }
    Ok(Statement::execute(format!(
        "CREATE TABLE {} (\n  {}\n){}",
        name(&table.name),
        lines.join(",\n  "),
        options.iter().map(|o| format!(" {o}")).collect::<String>()
    )))
}

fn check_clause(check: &godwit_core::schema::Check) -> String {
    match &check.name {
        Some(constraint) => format!(
            "CONSTRAINT {} CHECK ({})",
            quote(constraint),
            check.expression
        ),
        None => format!("CHECK ({})", check.expression),
    }
}

/// The base of a type and its length (`varchar(20)` is `varchar`, 20), for telling a
/// widening from a narrowing.
fn base_and_length(data_type: &str) -> (&str, Option<u64>) {
    match data_type.split_once('(') {
        Some((base, rest)) => (
            base,
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok()),
        ),
        None => (data_type, None),
    }
}

/// Whether every value of `from` is a value of `to` unchanged: a longer string of the same
/// kind, a wider integer of the same signedness, a bigger text or blob.
fn widens(from: &str, to: &str) -> bool {
    const LADDERS: &[&[&str]] = &[
        &["tinyint", "smallint", "mediumint", "int", "bigint"],
        &["tinytext", "text", "mediumtext", "longtext"],
        &["tinyblob", "blob", "mediumblob", "longblob"],
        &["char", "varchar"],
        &["binary", "varbinary"],
    ];
    let unsigned = |t: &str| t.ends_with(" unsigned");
    if unsigned(from) != unsigned(to) {
        return false;
    }
    let ((from_base, from_len), (to_base, to_len)) = (base_and_length(from), base_and_length(to));
    let rank = |base: &str| {
        LADDERS
            .iter()
            .enumerate()
            .find_map(|(l, ladder)| ladder.iter().position(|b| *b == base).map(|p| (l, p)))
    };
    let integer = from_base.ends_with("int");
    match (rank(from_base), rank(to_base)) {
        (Some((l1, p1)), Some((l2, p2))) if l1 == l2 && p1 <= p2 => {
            // An integer's length is only its display width.
            integer || p1 < p2 || from_len.unwrap_or(0) <= to_len.unwrap_or(u64::MAX)
        }
        _ => {
            from_base == to_base && from_len.is_some() && from_len <= to_len && {
                // decimal(10,2) to decimal(12,2) keeps every value; a change of scale does not.
                from.split_once(',').map(|(_, s)| s) == to.split_once(',').map(|(_, s)| s)
            }
        }
    }
}

/// Statements for one column whose definition changes.
fn modify_column(
    table: &Table,
    from: &Column,
    to: &Column,
    specs: &mut Vec<String>,
    out: &mut Vec<Statement>,
) {
    let mut only_default = from.clone();
    only_default.default.clone_from(&to.default);
    if only_default == *to && to.generated.is_none() {
        // A new default applies to rows written from now on: the dictionary alone changes.
        let spec = match &to.default {
            Some(default) => format!("ALTER COLUMN {} SET DEFAULT {default}", quote(&to.name)),
            None => format!("ALTER COLUMN {} DROP DEFAULT", quote(&to.name)),
        };
        out.push(alter(&table.name, &[spec], Online::Instant));
        return;
    }
    let spec = format!("MODIFY COLUMN {}", column_definition(to, table));
    let mut same_type = from.clone();
    same_type.comment.clone_from(&to.comment);
    same_type.default.clone_from(&to.default);
    same_type.nullable = to.nullable;
    let t = name(&table.name);
    let c = quote(&to.name);
    if same_type == *to && from.nullable && !to.nullable {
        out.push(
            alter(&table.name, &[spec], Online::InPlace).with_hazard(Hazard::new(
                HazardKind::AddConstraint,
                format!("makes column {} of {} NOT NULL", to.name, table.name),
                Some(format!("SELECT COUNT(*) FROM {t} WHERE {c} IS NULL")),
            )),
        );
        return;
    }
    if same_type == *to {
        let online = if from.nullable == to.nullable {
            Online::Instant
        } else {
            Online::InPlace
        };
        out.push(alter(&table.name, &[spec], online));
        return;
    }
    // The server cannot turn a column into or out of a generated one, nor change where a
    // generated one is kept, in place: it goes and comes back, computed anew. A column that
    // held its own values loses them.
    let kind = |c: &Column| c.generated.as_ref().map(|g| g.stored);
    if kind(from) != kind(to) {
        let drop = alter(&table.name, &[format!("DROP COLUMN {c}")], Online::Copy);
        out.push(if from.generated.is_none() {
            drop.with_hazard(Hazard::new(
                HazardKind::DropColumn,
                format!(
                    "drops column {} of {} to make it a generated column",
                    to.name, table.name
                ),
                Some(format!("SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL")),
            ))
        } else {
            drop
        });
        let at = table.columns.iter().position(|x| x.name == to.name);
        let place = match at {
            Some(0) => " FIRST".to_string(),
            Some(i) => format!(" AFTER {}", quote(&table.columns[i - 1].name)),
            None => String::new(),
        };
        out.push(alter(
            &table.name,
            &[format!(
                "ADD COLUMN {}{place}",
                column_definition(to, table)
            )],
            Online::Copy,
        ));
        return;
    }
    // The AUTO_INCREMENT and key changes of a column go with the table's key change.
    if from.autoincrement != to.autoincrement {
        specs.push(spec);
        return;
    }
    let statement = alter(&table.name, &[spec], Online::Copy);
    let statement = if from.data_type != to.data_type && !widens(&from.data_type, &to.data_type) {
        statement.with_hazard(Hazard::new(
            HazardKind::NarrowType,
            format!(
                "changes column {} of {} from {} to {}, copying the table; values the new type cannot hold make it fail",
                to.name, table.name, from.data_type, to.data_type
            ),
            Some(format!("SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL")),
        ))
    } else if from.nullable && !to.nullable {
        statement.with_hazard(Hazard::new(
            HazardKind::AddConstraint,
            format!("makes column {} of {} NOT NULL", to.name, table.name),
            Some(format!("SELECT COUNT(*) FROM {t} WHERE {c} IS NULL")),
        ))
    } else {
        statement
    };
    out.push(statement);
}

fn alter_table(change: &TableChange, out: &mut Vec<Statement>) -> Result<(), RenderError> {
    let (from, to) = (&change.from, &change.to);
    let table = &to.name;
    let t = name(table);
    let fulltext = from
        .indexes
        .iter()
        .any(|i| i.method.as_deref() == Some("FULLTEXT"));

    let drop_checks: Vec<String> = change
        .dropped_checks
        .iter()
        .filter_map(|c| c.name.as_ref())
        .map(|n| format!("DROP CONSTRAINT {}", quote(n)))
        .collect();
    if !drop_checks.is_empty() {
        out.push(alter(table, &drop_checks, Online::Instant));
    }
    if !change.renamed_columns.is_empty() {
        let specs: Vec<String> = change
            .renamed_columns
            .iter()
            .map(|(old, new)| format!("RENAME COLUMN {} TO {}", quote(old), quote(new)))
            .collect();
        out.push(alter(table, &specs, Online::Instant));
    }

    // The key's statement: a new or dropped primary key, with the columns that gain or lose
    // AUTO_INCREMENT (which must be a key) and new columns that have it.
    let mut key_specs: Vec<String> = Vec::new();
    let mut modifies: Vec<Statement> = Vec::new();
    for altered in &change.altered_columns {
        modify_column(
            to,
            &altered.from,
            &altered.to,
            &mut key_specs,
            &mut modifies,
        );
    }
    // A check written on a column is added by writing the column again.
    let altered: BTreeSet<&str> = change
        .altered_columns
        .iter()
        .map(|c| c.to.name.as_str())
        .collect();
    for check in change
        .added_checks
        .iter()
        .filter(|c| is_column_check(to, c))
    {
        if let Some(column) = check.name.as_deref().and_then(|n| to.column(n))
            && !altered.contains(column.name.as_str())
        {
            modifies.push(alter(
                table,
                &[format!("MODIFY COLUMN {}", column_definition(column, to))],
                Online::Copy,
            ));
        }
    }

    // One statement per column, in the table's order, so one may be placed after another;
    // and the server makes a virtual column in place only on its own.
    let mut added: Vec<Statement> = Vec::new();
    for column in &change.added_columns {
        let at = to.columns.iter().position(|c| c.name == column.name);
        let place = match at {
            Some(0) => " FIRST".to_string(),
            Some(i) => format!(" AFTER {}", quote(&to.columns[i - 1].name)),
            None => String::new(),
        };
        let spec = format!("ADD COLUMN {}{place}", column_definition(column, to));
        if column.autoincrement {
            key_specs.push(spec);
            continue;
        }
        let online = if fulltext
            || column.generated.as_ref().is_some_and(|g| g.stored)
            || column_check(to, &column.name).is_some()
        {
            Online::Copy
        } else if column.generated.is_some() {
            Online::InPlace
        } else {
            Online::Instant
        };
        added.push(alter(table, &[spec], online));
    }
    out.extend(added);

    // A dropped AUTO_INCREMENT column goes with its key: neither may go first.
    let dropped_counter = change.dropped_columns.iter().find(|c| c.autoincrement);
    if let Some(column) = dropped_counter {
        key_specs.push(format!("DROP COLUMN {}", quote(&column.name)));
    }
    let mut key_online = Online::InPlace;
    if let Some((old, new)) = &change.primary_key {
        if old.is_some() {
            key_specs.push("DROP PRIMARY KEY".into());
            if new.is_none() {
                key_online = Online::Copy;
            }
        }
        if let Some(new) = new {
            key_specs.push(format!("ADD {}", primary_key_clause(new)));
        }
    }
    if !key_specs.is_empty() {
        if key_specs.iter().any(|s| !s.contains("PRIMARY KEY")) {
            key_online = Online::Copy;
        }
        // Columns first, so a key names the columns as they will be.
        key_specs.sort_by_key(|s| s.contains("PRIMARY KEY"));
        key_specs.sort_by_key(|s| !s.starts_with("DROP PRIMARY KEY"));
        let statement = alter(table, &key_specs, key_online);
        out.push(match dropped_counter {
            Some(column) => statement.with_hazard(Hazard::new(
                HazardKind::DropColumn,
                format!("drops column {} of {}", column.name, table),
                Some(format!(
                    "SELECT COUNT(*) FROM {t} WHERE {} IS NOT NULL",
                    quote(&column.name)
                )),
            )),
            None => statement,
        });
    }
    out.extend(modifies);

    for column in change.dropped_columns.iter().filter(|c| !c.autoincrement) {
        let indexed = from
            .indexes
            .iter()
            .flat_map(|i| &i.keys)
            .any(|k| read_quoted(k).is_some_and(|(c, _)| c == column.name))
            || from
                .primary_key
                .as_ref()
                .is_some_and(|k| k.columns.contains(&column.name));
        let online = if indexed || fulltext {
            Online::InPlace
        } else {
            Online::Instant
        };
        out.push(
            alter(
                table,
                &[format!("DROP COLUMN {}", quote(&column.name))],
                online,
            )
            .with_hazard(Hazard::new(
                HazardKind::DropColumn,
                format!("drops column {} of {}", column.name, table),
                Some(format!(
                    "SELECT COUNT(*) FROM {t} WHERE {} IS NOT NULL",
                    quote(&column.name)
                )),
            )),
        );
    }

    for check in change
        .added_checks
        .iter()
        .filter(|c| !is_column_check(to, c))
    {
        // The server checks every row as it copies them.
        out.push(
            alter(
                table,
                &[format!("ADD {}", check_clause(check))],
                Online::Copy,
            )
            .with_hazard(Hazard::new(
                HazardKind::AddConstraint,
                format!("adds check {} to {}", check.expression, table),
                Some(format!(
                    "SELECT COUNT(*) FROM {t} WHERE NOT ({})",
                    check.expression
                )),
            )),
        );
    }

    if change.options_changed {
        let mut options = Vec::new();
        if from.engine != to.engine
            && let Some(engine) = &to.engine
        {
            options.push(format!("ENGINE={engine}"));
        }
        if from.collation != to.collation
            && let Some(collation) = &to.collation
        {
            options.push(format!("DEFAULT COLLATE={collation}"));
        }
        if from.row_format != to.row_format {
            options.push(format!(
                "ROW_FORMAT={}",
                to.row_format.as_deref().unwrap_or("DEFAULT")
            ));
        }
        // 0 is how the server is told the table no longer names a size.
        if from.key_block_size != to.key_block_size {
            options.push(format!("KEY_BLOCK_SIZE={}", to.key_block_size.unwrap_or(0)));
        }
        // A new default collation only changes the dictionary; an engine, row format or
        // page size rebuilds the table.
        let online = if from.engine == to.engine
            && from.row_format == to.row_format
            && from.key_block_size == to.key_block_size
        {
            Online::Instant
        } else {
            Online::Copy
        };
        if !options.is_empty() {
            out.push(alter(table, &options, online));
        }
        // Rows move to the partitions they now belong to, by a copy; a row that belongs to
        // none makes it fail.
        if from.partitioning != to.partitioning {
            let clause = to
                .partitioning
                .clone()
                .unwrap_or_else(|| "REMOVE PARTITIONING".into());
            out.push(
                Statement::execute(format!("ALTER TABLE {t} {clause}"))
                    .with_hazard(copy_hazard(table)),
            );
        }
    }
    if let Some(comment) = &change.comment {
        out.push(alter(
            table,
            &[format!(
                "COMMENT={}",
                string_literal(comment.as_deref().unwrap_or(""))
            )],
            Online::Instant,
        ));
    }
    Ok(())
}

/// Render `changes` in order.
pub(crate) fn render(
    changes: &[Change],
    _options: &RenderOptions,
) -> Result<Vec<Statement>, RenderError> {
    // A table created here gets its indexes and column comments in its CREATE TABLE: an
    // AUTO_INCREMENT column must be a key when it is made.
    let created: Vec<&Table> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable(table) => Some(table),
            _ => None,
        })
        .collect();
    let mut created_indexes: Vec<(&Index, String, String)> = Vec::new();
    for change in changes {
        if let Change::CreateIndex(index) = change {
            let (table, clause) = index_clause(index)?;
            if created.iter().any(|t| t.name.name == table) {
                created_indexes.push((index, table, clause));
            }
        }
    }
    let created_index = |index: &Index| created_indexes.iter().any(|(i, _, _)| *i == index);
    // An index that is not made again is dropped last, after the new ones are made: a
    // foreign key may need it until another index can serve it. (Views and triggers do not
    // depend on indexes.) Its columns may have gone by then,
    // taking it with them, hence IF EXISTS.
    let remade = |index: &Index| {
        changes.iter().any(|c| {
            matches!(c, Change::CreateIndex(new) if new.name == index.name
                && index_clause(new).ok().map(|(t, _)| t) == index_clause(index).ok().map(|(t, _)| t))
        })
    };
    let mut late_drops = Vec::new();
    // The tables dropped here lose their foreign keys before anything else, so that they may
    // go in any order, and the columns their keys reference may change or go first.
    let mut out = Vec::new();
    for change in changes {
        if let Change::DropTable(table) = change {
            for key in table.foreign_keys.iter().filter_map(|k| k.name.as_ref()) {
                out.push(Statement::execute(format!(
                    "ALTER TABLE {} DROP FOREIGN KEY {}",
                    name(&table.name),
                    quote(key)
                )));
            }
        }
    }
    for change in changes {
        match change {
            Change::DropIndex(index) if !remade(index) => {
                let (table, _) = index_clause(index)?;
                late_drops.push(Statement::execute(format!(
                    "ALTER TABLE {} DROP INDEX IF EXISTS {}{}",
                    quote(&table),
                    quote(&index.name.name),
                    Online::InPlace.clause()
                )));
            }

            Change::CreateTable(table) => {
                let indexes = created_indexes
                    .iter()
                    .filter(|(_, on, _)| *on == table.name.name)
                    .map(|(_, _, clause)| clause.clone());
                out.push(create_table(table, indexes)?);
            }
            Change::AlterTable(change) => alter_table(change, &mut out)?,
            Change::DropTable(_) => out.push(drop_table(change)?),
            Change::RenameTable { from, to } => out.push(Statement::execute(format!(
                "RENAME TABLE {} TO {}",
                name(from),
                name(to)
            ))),
            Change::CreateIndex(index) if created_index(index) => {}
            Change::CreateIndex(index) => {
                let (table, clause) = index_clause(index)?;
                // FULLTEXT and SPATIAL indexes are built in place, but not while writes go on.
                // A long UNIQUE key is kept as a hash in a hidden column, which the server
                // adds by copying.
                let online = match index.method.as_deref() {
                    Some("FULLTEXT" | "SPATIAL") => ", ALGORITHM=INPLACE, LOCK=SHARED",
                    Some("HASH") => "",
                    _ => Online::InPlace.clause(),
                };
                out.push(Statement::execute(format!(
                    "ALTER TABLE {} ADD {clause}{online}",
                    quote(&table)
                )));
            }
            Change::DropIndex(index) => {
                let (table, _) = index_clause(index)?;
                out.push(Statement::execute(format!(
                    "ALTER TABLE {} DROP INDEX {}{}",
                    quote(&table),
                    quote(&index.name.name),
                    Online::InPlace.clause()
                )));
            }
            Change::RenameIndex { from, index } => {
                let (table, _) = index_clause(index)?;
                out.push(Statement::execute(format!(
                    "ALTER TABLE {} RENAME INDEX {} TO {}{}",
                    quote(&table),
                    quote(&from.name),
                    quote(&index.name.name),
                    Online::Instant.clause()
                )));
            }
            // The server checks every row of an added key unless foreign_key_checks is off,
            // and then copies the table.
            Change::AddForeignKey { table, key } => out.push(
                Statement::execute(format!(
                    "ALTER TABLE {} ADD {}",
                    name(table),
                    foreign_key_clause(key)
                ))
                .with_hazard(copy_hazard(table)),
            ),
            Change::DropForeignKey { table, key } => {
                let Some(constraint) = &key.name else {
                    return Err(RenderError::Impossible(format!(
                        "a foreign key of {table} has no name, and MySQL drops keys by name"
                    )));
                };
                out.push(Statement::execute(format!(
                    "ALTER TABLE {} DROP FOREIGN KEY {}{}",
                    name(table),
                    quote(constraint),
                    Online::InPlace.clause()
                )));
            }
            Change::CreateView(view) => out.push(Statement::execute(view.definition.clone())),
            Change::DropView(view) => out.push(
                Statement::execute(format!("DROP VIEW {}", name(&view.name))).with_hazard(
                    Hazard::new(
                        HazardKind::DropObject,
                        format!("drops view {}", view.name),
                        None,
                    ),
                ),
            ),
            Change::CreateTrigger(trigger) => {
                out.push(Statement::execute(trigger.definition.clone()));
            }
            Change::DropTrigger(trigger) => out.push(Statement::execute(format!(
                "DROP TRIGGER {}",
                quote(&trigger.name)
            ))),
            Change::CommentColumn {
                table,
                column,
                desired,
                ..
            } => {
                if created.iter().any(|t| &t.name == table) {
                    continue;
                }
                let Some(desired) = desired else {
                    return Err(RenderError::Impossible(format!(
                        "the comment of column {column} of {table} changes, and MySQL needs the whole column to change it"
                    )));
                };
                // The check written on the column is written again with it; the table's
                // other facts do not matter to one column.
                let mut holder = Table::new(table.clone(), Vec::new());
                holder.other_constraints = changes
                    .iter()
                    .find_map(|c| match c {
                        Change::AlterTable(change) if &change.to.name == table => {
                            Some(change.to.other_constraints.clone())
                        }
                        _ => None,
                    })
                    .unwrap_or_default();
                out.push(alter(
                    table,
                    &[format!(
                        "MODIFY COLUMN {}",
                        column_definition(desired, &holder)
                    )],
                    Online::Instant,
                ));
            }
            // Events are the only code the MySQL model holds (`event <name>`).
            Change::CreateFunction(event) if event.signature.starts_with("event ") => {
                out.push(Statement::execute(event.definition.clone()));
            }
            Change::DropFunction(event) if event.signature.starts_with("event ") => {
                out.push(Statement::execute(format!(
                    "DROP EVENT IF EXISTS {}",
                    name(&event.name)
                )));
            }
            other => {
                return Err(RenderError::Impossible(format!(
                    "MySQL has no such object: {}",
                    serde_name(other)
                )));
            }
        }
    }
    out.append(&mut late_drops);
    Ok(out)
}

fn drop_table(change: &Change) -> Result<Statement, RenderError> {
    let Change::DropTable(table) = change else {
        return Err(RenderError::Impossible("not a table drop".into()));
    };
    Ok(
        Statement::execute(format!("DROP TABLE {}", name(&table.name))).with_hazard(Hazard::new(
            HazardKind::DropTable,
            format!("drops table {}", table.name),
            Some(format!("SELECT COUNT(*) FROM {}", name(&table.name))),
        )),
    )
}

fn serde_name(change: &Change) -> String {
    format!("{change:?}")
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_keeps_every_value() {
        assert!(widens("varchar(10)", "varchar(20)"));
        assert!(widens("int(11)", "bigint(20)"));
        assert!(widens("text", "longtext"));
        assert!(widens("decimal(10,2)", "decimal(12,2)"));
        assert!(!widens("varchar(20)", "varchar(10)"));
        assert!(!widens("int(11)", "int(10) unsigned"));
        assert!(!widens("bigint(20)", "int(11)"));
        assert!(!widens("decimal(10,2)", "decimal(10,3)"));
        assert!(!widens("varchar(10)", "int(11)"));
    }

    #[test]
    fn index_definitions_cut_into_clauses() {
        let definition = crate::introspect::index_definition(
            "t",
            "a`b",
            true,
            None,
            &["`x`(5) DESC".into(), "`y`".into()],
            "",
            true,
        );
        let index = Index {
            name: Name::bare("a`b"),
            unique: true,
            keys: Vec::new(),
            predicate: None,
            method: None,
            definition,
        };
        assert_eq!(
            index_clause(&index).unwrap(),
            (
                "t".to_string(),
                "UNIQUE KEY `a``b` (`x`(5) DESC, `y`) IGNORED".to_string()
            )
        );
    }
}
