//! MySQL rules: row changes next to DDL that commits implicitly, `ALTER TABLE`s the server
//! can only make by copying the table, `ENUM` and `SET` values removed or renumbered, and
//! renames.

use sqlparser::ast::{
    AlterTable, AlterTableAlgorithm, AlterTableLock, AlterTableOperation, ColumnDef, ColumnOption,
    DataType, EnumMember, GeneratedAs, GeneratedExpressionMode, Ident, ObjectName, Statement,
    TableConstraint,
};
use sqlparser::tokenizer::Token;

use godwit_core::lint::{Hit, Walk, plural, renamed, renamed_column, renamed_table, row_target};

use super::rules::id;

/// The MySQL rules for one statement.
pub(crate) fn check(walk: &Walk<'_>, statement: &Statement, hits: &mut Vec<Hit>) {
    match statement {
        Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
            dml_with_ddl(walk, statement, hits);
        }
        Statement::AlterTable(alter) if !walk.is_new(&alter.name) => {
            alter_table(walk, alter, hits);
        }
        Statement::RenameTable(renames) => {
            for rename in renames.iter().filter(|r| !walk.is_new(&r.old_name)) {
                hits.push(renamed_table(&rename.old_name, &rename.new_name));
            }
        }
        _ => {}
    }
}

/// Whether MySQL commits the open transaction around `statement`: anything but row changes,
/// queries, settings, transaction control and `CALL` (whose body may or may not), as godwit
/// decides which migrations run in a transaction (`MySqlDialect::transactional_script`).
pub(crate) fn commits_implicitly(statement: &Statement) -> bool {
    !matches!(
        statement,
        Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
            | Statement::Query(_)
            | Statement::Set(_)
            | Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
            | Statement::Call(_)
            | Statement::Use(_)
            | Statement::Explain { .. }
    )
}

/// The first change of existing rows in a file that also holds DDL.
fn dml_with_ddl(walk: &Walk<'_>, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some(table) = row_target(statement) else {
        return;
    };
    if walk.is_new(table) || walk.rows_changed_before().is_some() {
        return;
    }
    let Some(ddl) = walk.implicit_commit() else {
        return;
    };
    hits.push(Hit::new(
        id::DML_WITH_DDL,
        format!(
            "this migration changes rows of {table} and also runs DDL ({}:{ddl}), which MySQL \
             commits implicitly, so godwit runs it outside any transaction: if a statement \
             after this one fails, these rows stay changed while the migration is recorded as \
             failed; move the data change into a migration of its own, which runs in a \
             transaction",
            walk.origin()
        ),
    ));
}

fn alter_table(walk: &Walk<'_>, alter: &AlterTable, hits: &mut Vec<Hit>) {
    let table = &alter.name;
    let mut copies = Vec::new();
    let mut enums = Vec::new();
    // An explicit online algorithm or `LOCK=NONE` makes the server refuse a copy.
    let mut online = false;
    let primary_key_added = alter.operations.iter().any(|operation| {
        matches!(
            operation,
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::PrimaryKey(_),
                ..
            }
        )
    });
    for operation in &alter.operations {
        match operation {
            AlterTableOperation::Algorithm { algorithm, .. } => match algorithm {
                AlterTableAlgorithm::Instant | AlterTableAlgorithm::Inplace => online = true,
                AlterTableAlgorithm::Copy => copies.push(
                    "asks for ALGORITHM=COPY (or changes the engine, row format, character \
                     set or partitioning, which copy)"
                        .to_string(),
                ),
                _ => {}
            },
            AlterTableOperation::Lock {
                lock: AlterTableLock::None,
                ..
            } => online = true,
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                ..
            } => redefine(walk, table, col_name, data_type, &mut copies, &mut enums),
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                data_type,
                ..
            } => {
                redefine(walk, table, old_name, data_type, &mut copies, &mut enums);
                if walk.ident(old_name) != walk.ident(new_name) {
                    hits.push(renamed_column(table, old_name, new_name));
                }
            }
            AlterTableOperation::AddColumn { column_def, .. } => {
                if let Some(why) = added_column_copies(column_def) {
                    copies.push(why);
                }
            }
            AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                TableConstraint::Check(check) => {
                    copies.push(format!("adds the check {}", check.expr));
                }
                TableConstraint::ForeignKey(key) => copies.push(format!(
                    "adds a foreign key to {} (with foreign_key_checks on)",
                    key.foreign_table
                )),
                _ => {}
            },
            AlterTableOperation::DropPrimaryKey { .. } if !primary_key_added => {
                copies.push("drops the primary key without adding another".into());
            }
            other => hits.extend(renamed(table, other)),
        }
    }
    if !enums.is_empty() {
        hits.push(Hit::new(
            id::ENUM_VALUES_CHANGED,
            format!(
                "this ALTER TABLE {table} {}; only append values at the end of the list, and \
                 update the rows that hold a value before removing it",
                enums.join("; it also ")
            ),
        ));
    }
    if !online && !copies.is_empty() {
        hits.push(Hit::new(
            id::TABLE_COPY,
            format!(
                "this ALTER TABLE {table} {}, which MySQL and MariaDB make by copying the \
                 table while writes to it wait; say ALGORITHM=INPLACE, LOCK=NONE so that the \
                 server refuses instead of blocking, and make a change that needs a copy with \
                 an online schema change tool (pt-online-schema-change, gh-ost) on a large table",
                copies.join(", ")
            ),
        ));
    }
}

/// `MODIFY` or `CHANGE` giving `column` the type `to`: a copy unless its type stays, and an
/// `ENUM` or `SET` whose values are removed or reordered.
fn redefine(
    walk: &Walk<'_>,
    table: &ObjectName,
    column: &Ident,
    to: &DataType,
    copies: &mut Vec<String>,
    enums: &mut Vec<String>,
) {
    let Some(from) = walk.column_type(table, &walk.ident(column)) else {
        copies.push(format!(
            "may change the type of column {column} to {to} (godwit knows its current type \
             from neither this file nor the live schema)"
        ));
        return;
    };
    if same_type(&from, to) {
        return;
    }
    match (values(&from), values(to)) {
        (Some(old), Some(new)) if new.starts_with(&old) => {}
        (Some(old), Some(new)) => {
            let removed: Vec<String> = old
                .iter()
                .filter(|value| !new.contains(value))
                .map(|value| format!("'{value}'"))
                .collect();
            enums.push(if removed.is_empty() {
                format!(
                    "reorders the values of column {column} ({from} to {to}): MySQL stores a \
                     value as its position in the list, so the stored values are renumbered, \
                     which changes how they sort and compare with numbers, and the table is \
                     copied"
                )
            } else {
                format!(
                    "removes {} from column {column}: rows holding one make the ALTER fail in \
                     strict mode, or lose it (it becomes '') otherwise",
                    plural("value", &removed)
                )
            });
        }
        _ => copies.push(format!(
            "changes the type of column {column} from {from} to {to}"
        )),
    }
}

/// Whether two types are one, as MySQL spells them (`INT` and `int`, `INTEGER`).
fn same_type(a: &DataType, b: &DataType) -> bool {
    let spell = |t: &DataType| {
        t.to_string()
            .to_ascii_lowercase()
            .replace("integer", "int")
            .replace(' ', "")
    };
    spell(a) == spell(b)
}

/// The values of an `ENUM` or `SET` type, in order.
fn values(data_type: &DataType) -> Option<Vec<String>> {
    match data_type {
        DataType::Enum(members, _) => Some(
            members
                .iter()
                .map(|member| match member {
                    EnumMember::Name(name) | EnumMember::NamedValue(name, _) => name.clone(),
                })
                .collect(),
        ),
        DataType::Set(values) => Some(values.clone()),
        _ => None,
    }
}

/// Why adding `column` copies the table, if it does: a stored generated value or an
/// `AUTO_INCREMENT` counter is written into every row, and a column's own check is checked
/// on every row.
fn added_column_copies(column: &ColumnDef) -> Option<String> {
    let name = &column.name;
    column.options.iter().find_map(|option| match &option.option {
        ColumnOption::Generated {
            generated_as,
            generation_expr_mode,
            ..
        } if *generated_as == GeneratedAs::ExpStored
            || *generation_expr_mode == Some(GeneratedExpressionMode::Stored) =>
        {
            Some(format!("adds the stored generated column {name}"))
        }
        ColumnOption::DialectSpecific(tokens)
            if tokens.iter().any(|token| {
                matches!(token, Token::Word(word) if word.value.eq_ignore_ascii_case("AUTO_INCREMENT"))
            }) =>
        {
            Some(format!("adds the AUTO_INCREMENT column {name}"))
        }
        ColumnOption::Check(check) => Some(format!(
            "adds column {name} with the check {}",
            check.expr
        )),
        _ => None,
    })
}
