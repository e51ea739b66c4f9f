//! SQLite rules: `ALTER TABLE` forms SQLite cannot run, and settings that do nothing or fail
//! inside the transaction godwit wraps a migration in.

use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, Expr, GeneratedAs, GeneratedExpressionMode,
    ObjectName, ObjectNamePart, Statement, UnaryOperator, Value,
};

use godwit_core::lint::{Hit, Walk, id as shared, plural};

use super::id;

/// Pragmas that SQLite ignores or refuses inside a transaction whatever value they set.
/// `journal_mode` is handled apart: only a switch to or from WAL fails there.
const TRANSACTION_SENSITIVE_PRAGMAS: &[&str] = &["foreign_keys", "synchronous"];

/// The SQLite rules for one statement.
pub(crate) fn check(walk: &Walk<'_>, statement: &Statement, hits: &mut Vec<Hit>) {
    match statement {
        Statement::AlterTable(alter) => {
            if alter.operations.len() > 1 {
                hits.push(Hit::new(
                    id::UNSUPPORTED_ALTER,
                    format!(
                        "this ALTER TABLE {} has {} operations, and SQLite runs exactly one per \
                         statement; write one ALTER TABLE per operation",
                        alter.name,
                        alter.operations.len()
                    ),
                ));
            }
            for operation in &alter.operations {
                if let AlterTableOperation::DropColumn {
                    if_exists: true,
                    column_names,
                    ..
                } = operation
                {
                    hits.push(Hit::new(
                        id::UNSUPPORTED_ALTER,
                        format!(
                            "SQLite has no DROP COLUMN IF EXISTS and rejects this statement as a \
                             syntax error; write DROP COLUMN {} (a migration runs once, so \
                             whether the column exists is known)",
                            column_names
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            let problems: Vec<String> = alter
                .operations
                .iter()
                .filter_map(|operation| unsupported(walk, &alter.name, operation))
                .collect();
            if !problems.is_empty() {
                hits.push(Hit::new(
                    id::UNSUPPORTED_ALTER,
                    format!(
                        "SQLite's ALTER TABLE cannot {}; rebuild {} instead (create the new \
                         table, copy the rows, drop the old one, rename the new one, with foreign \
                         keys off outside the transaction): `godwit generate` and `godwit push` \
                         write and run that rebuild safely",
                        problems.join(", nor "),
                        alter.name
                    ),
                ));
            }
        }
        Statement::Pragma {
            name,
            value: Some(value),
            ..
        } if walk.transactional() => {
            let pragma = last_part(name);
            // SQLite runs `BEGIN; PRAGMA journal_mode = TRUNCATE; COMMIT` fine; a switch to WAL
            // fails. A switch from WAL to another mode fails too, but whether the database is
            // in WAL mode when the migration runs is not in the file, so that is not reported.
            let to_wal = pragma == "journal_mode"
                && matches!(&value.value, Value::SingleQuotedString(mode) | Value::DoubleQuotedString(mode)
                    if mode.eq_ignore_ascii_case("wal"));
            if to_wal || TRANSACTION_SENSITIVE_PRAGMAS.contains(&pragma.as_str()) {
                let effect = if pragma == "foreign_keys" {
                    "is silently ignored"
                } else {
                    "fails"
                };
                hits.push(Hit::new(
                    shared::PRAGMA_IN_TRANSACTION,
                    format!(
                        "PRAGMA {pragma} {effect} inside a transaction, and this migration runs \
                         in one; add `-- godwit:no-transaction` to the file's leading comments"
                    ),
                ));
            }
        }
        _ => {}
    }
}

/// Why SQLite cannot run `operation`, phrased to follow "SQLite's ALTER TABLE cannot".
fn unsupported(
    walk: &Walk<'_>,
    table: &ObjectName,
    operation: &AlterTableOperation,
) -> Option<String> {
    match operation {
        AlterTableOperation::RenameTable { .. } | AlterTableOperation::RenameColumn { .. } => None,
        AlterTableOperation::AddColumn { column_def, .. } => add_column(walk, table, column_def),
        AlterTableOperation::DropColumn { column_names, .. } => {
            let indexed: Vec<String> = column_names
                .iter()
                .filter(|column| walk.is_indexed(table, &walk.ident(column)))
                .map(ToString::to_string)
                .collect();
            (!indexed.is_empty()).then(|| {
                format!(
                    "drop {}, which an index, the primary key or a unique constraint uses",
                    plural("column", &indexed)
                )
            })
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            Some(format!("change column {column_name} ({op})"))
        }
        AlterTableOperation::AddConstraint { constraint, .. } => {
            Some(format!("add a constraint ({constraint})"))
        }
        AlterTableOperation::DropConstraint { name, .. } => Some(format!("drop constraint {name}")),
        AlterTableOperation::DropPrimaryKey { .. } => Some("drop the primary key".into()),
        AlterTableOperation::DropForeignKey { name, .. } => {
            Some(format!("drop foreign key {name}"))
        }
        other => Some(format!("{other}")),
    }
}

fn add_column(walk: &Walk<'_>, table: &ObjectName, column: &ColumnDef) -> Option<String> {
    let name = &column.name;
    // With foreign keys on (SQLite's default in godwit's connections), SQLite refuses a new
    // REFERENCES column whose default is not NULL once the table has a row.
    let references = column
        .options
        .iter()
        .any(|o| matches!(o.option, ColumnOption::ForeignKey(_)));
    let default = column.options.iter().find_map(|o| match &o.option {
        ColumnOption::Default(expr) if !is_null(expr) => Some(expr),
        _ => None,
    });
    if let (true, Some(default)) = (references, default)
        && !walk.is_new(table)
    {
        return Some(format!(
            "add REFERENCES column {name} with the non-NULL default {default} once the table \
             has rows"
        ));
    }
    for option in &column.options {
        match &option.option {
            ColumnOption::PrimaryKey(_) => {
                return Some(format!("add column {name} as a PRIMARY KEY"));
            }
            ColumnOption::Unique(_) => return Some(format!("add UNIQUE column {name}")),
            ColumnOption::Generated {
                generated_as,
                generation_expr_mode,
                ..
            } if *generated_as == GeneratedAs::ExpStored
                || *generation_expr_mode == Some(GeneratedExpressionMode::Stored) =>
            {
                return Some(format!("add STORED generated column {name}"));
            }
            ColumnOption::Default(expr) if !is_constant(expr) && !walk.is_new(table) => {
                return Some(format!(
                    "add column {name} with the non-constant default {expr} once the table has \
                     rows"
                ));
            }
            _ => {}
        }
    }
    None
}

/// `NULL`, possibly parenthesised.
fn is_null(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => v.value == Value::Null,
        Expr::Nested(inner) => is_null(inner),
        _ => false,
    }
}

/// A default SQLite can store for existing rows: a literal, possibly signed or parenthesised.
fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) => true,
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        }
        | Expr::Nested(expr) => is_constant(expr),
        _ => false,
    }
}

fn last_part(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => ident.value.to_lowercase(),
        Some(other) => other.to_string().to_lowercase(),
        None => String::new(),
    }
}
