//! PostgreSQL rules: locks that block traffic, table rewrites, and statements that cannot run
//! (or do not work) inside a transaction.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, AlterTypeOperation, CharacterLength, ColumnDef,
    ColumnOption, DataType, DetachPartitionMode, ExactNumberInfo, GeneratedAs,
    GeneratedExpressionMode, ObjectName, ObjectType, Statement, TableConstraint,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use godwit_core::lint::{Hit, Walk, is_serial, renamed};

use super::rules::id;

/// Functions whose value differs per row, so a default calling them is computed for every
/// existing row when the column is added.
const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    // PostgreSQL 18.
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
];

/// The PostgreSQL rules for one statement.
pub(crate) fn check(
    walk: &Walk<'_>,
    statement: &Statement,
    drop_concurrently: bool,
    hits: &mut Vec<Hit>,
) {
    if is_concurrent(statement, drop_concurrently) {
        concurrently(walk, hits);
    }
    if let Some(what) = takes_blocking_lock(walk, statement, drop_concurrently)
        && !walk.lock_timeout()
        && !walk.lock_timeout_reported()
    {
        let set = if walk.transactional() {
            "SET LOCAL lock_timeout = '5s'"
        } else {
            "SET lock_timeout = '5s'"
        };
        hits.push(Hit::new(
            id::MISSING_LOCK_TIMEOUT,
            format!(
                "{what} waits for its lock behind every running query on the table, and every \
                 query after it waits too, with no lock_timeout set in this file; start the \
                 migration with {set}"
            ),
        ));
    }
    match statement {
        Statement::CreateIndex(index) if !index.concurrently && !walk.is_new(&index.table_name) => {
            let name = index
                .name
                .as_ref()
                .map_or_else(String::new, |name| format!(" {name}"));
            hits.push(Hit::new(
                id::INDEX_WITHOUT_CONCURRENTLY,
                format!(
                    "CREATE INDEX{name} blocks every write to {} while it builds; use CREATE \
                     INDEX CONCURRENTLY in a `-- godwit:no-transaction` migration",
                    index.table_name
                ),
            ));
        }
        Statement::Drop {
            object_type: ObjectType::Index,
            names,
            ..
        } if !drop_concurrently => {
            let existing: Vec<String> = names
                .iter()
                .filter(|name| !walk.is_new_index(name))
                .map(ToString::to_string)
                .collect();
            if !existing.is_empty() {
                hits.push(Hit::new(
                    id::INDEX_WITHOUT_CONCURRENTLY,
                    format!(
                        "DROP INDEX {} takes an ACCESS EXCLUSIVE lock on its table, blocking \
                         reads and writes; use DROP INDEX CONCURRENTLY in a \
                         `-- godwit:no-transaction` migration",
                        existing.join(", ")
                    ),
                ));
            }
        }
        Statement::AlterType(alter) if walk.transactional() => {
            if let AlterTypeOperation::AddValue(add) = &alter.operation {
                hits.push(Hit::new(
                    id::ENUM_VALUE_IN_TRANSACTION,
                    format!(
                        "ALTER TYPE {} ADD VALUE {} runs in a transaction: the value cannot be \
                         used until it commits, and PostgreSQL before 12 refuses it outright; \
                         move it to its own `-- godwit:no-transaction` migration",
                        alter.name, add.value
                    ),
                ));
            }
        }
        Statement::AlterTable(alter) if !walk.is_new(&alter.name) => {
            for operation in &alter.operations {
                alter_existing_table(walk, &alter.name, operation, hits);
            }
        }
        _ => {}
    }
}

/// The rules for a `CONCURRENTLY` statement, which PostgreSQL refuses in a transaction block.
pub(crate) fn concurrently(walk: &Walk<'_>, hits: &mut Vec<Hit>) {
    if walk.transactional() {
        hits.push(Hit::new(
            id::CONCURRENTLY_IN_TRANSACTION,
            "PostgreSQL refuses CONCURRENTLY inside a transaction block, and this migration \
             runs in one; add `-- godwit:no-transaction` to the file's leading comments"
                .into(),
        ));
    }
    if let Some(first) = walk.first_concurrently() {
        hits.push(Hit::new(
            id::MULTIPLE_CONCURRENTLY,
            format!(
                "another CONCURRENTLY statement in this file (the first is at {}:{first}): \
                 if this one fails, the earlier ones stay done and a failed build leaves an \
                 invalid index behind; put each in its own migration",
                walk.origin()
            ),
        ));
    }
}

fn alter_existing_table(
    walk: &Walk<'_>,
    table: &ObjectName,
    operation: &AlterTableOperation,
    hits: &mut Vec<Hit>,
) {
    match operation {
        AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetNotNull,
        } if !walk.not_null_validated(table, &walk.ident(column_name)) => {
            hits.push(Hit::new(
                id::SET_NOT_NULL,
                format!(
                    "SET NOT NULL on {table}.{column_name} scans the whole table under an ACCESS \
                     EXCLUSIVE lock; first add CHECK ({column_name} IS NOT NULL) NOT VALID and \
                     validate it in an earlier migration (PostgreSQL 12+ then skips the scan)"
                ),
            ));
        }
        AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetDataType { data_type, .. },
        } => {
            let current = walk.column_type(table, &walk.ident(column_name));
            let note = match &current {
                Some(current) if no_rewrite(current, data_type) => return,
                Some(current) => format!("from {current} "),
                None => String::new(),
            };
            let mut message = format!(
                "changing {table}.{column_name} {note}to {data_type} rewrites the table and its \
                 indexes under an ACCESS EXCLUSIVE lock; add a new column, backfill it and \
                 switch over instead"
            );
            if current.is_none() {
                message.push_str(
                    " (godwit does not know the current type: widening varchar(n) to a longer \
                     varchar or text needs no rewrite, so allow this statement if that is \
                     the case)",
                );
            }
            hits.push(Hit::new(id::COLUMN_TYPE_CHANGE, message));
        }
        AlterTableOperation::AddColumn { column_def, .. } => {
            add_column(table, column_def, hits);
        }
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => add_constraint(table, constraint, *not_valid, hits),
        AlterTableOperation::ValidateConstraint { name } if walk.transactional() => {
            if let Some(pending) = walk.not_valid(table, name) {
                hits.push(Hit::new(
                    id::CONSTRAINT_WITHOUT_NOT_VALID,
                    format!(
                        "VALIDATE CONSTRAINT {name} runs in the same transaction as its ADD ... \
                         NOT VALID ({}:{}), whose lock is held until commit, so the rows are \
                         checked under that lock anyway; validate in a later migration",
                        walk.origin(),
                        pending.line
                    ),
                ));
            }
        }
        other => hits.extend(renamed(table, other)),
    }
}

fn add_column(table: &ObjectName, column: &ColumnDef, hits: &mut Vec<Hit>) {
    let name = &column.name;
    let mut volatile = Vec::new();
    for option in &column.options {
        match &option.option {
            ColumnOption::Default(expr) => {
                volatile.extend(volatile_calls(&expr.to_string()).map(|f| format!("{f}()")));
            }
            ColumnOption::Generated {
                generated_as: GeneratedAs::Always | GeneratedAs::ByDefault,
                generation_expr: None,
                ..
            } => volatile.push("an identity sequence".into()),
            // A stored generated value is computed for every row; a virtual one (PostgreSQL
            // 18's default) is computed when read and rewrites nothing.
            ColumnOption::Generated {
                generated_as,
                generation_expr: Some(expr),
                generation_expr_mode,
                ..
            } if *generated_as == GeneratedAs::ExpStored
                || *generation_expr_mode == Some(GeneratedExpressionMode::Stored) =>
            {
                hits.push(Hit::new(
                    id::VOLATILE_DEFAULT,
                    format!(
                        "adding stored generated column {name} to {table} computes {expr} for \
                         every existing row, rewriting the table under an ACCESS EXCLUSIVE lock; \
                         on PostgreSQL 18 make it VIRTUAL, or add a plain column, backfill it in \
                         batches and keep it up to date with a trigger"
                    ),
                ));
            }
            ColumnOption::Check(check) => hits.push(Hit::new(
                id::CONSTRAINT_WITHOUT_NOT_VALID,
                format!(
                    "adding column {name} with CHECK ({}) checks every existing row of {table} \
                     under an ACCESS EXCLUSIVE lock, and a column constraint cannot be NOT \
                     VALID; add the column without it, then ADD CONSTRAINT ... CHECK (...) NOT \
                     VALID and VALIDATE CONSTRAINT in a later migration",
                    check.expr
                ),
            )),
            ColumnOption::ForeignKey(fk) => hits.push(Hit::new(
                id::CONSTRAINT_WITHOUT_NOT_VALID,
                format!(
                    "adding column {name} with REFERENCES {} checks every existing row of \
                     {table} while blocking writes, and a column constraint cannot be NOT \
                     VALID; add the column without it, then ADD CONSTRAINT ... FOREIGN KEY ... \
                     NOT VALID and VALIDATE CONSTRAINT in a later migration",
                    fk.foreign_table
                ),
            )),
            ColumnOption::Unique(_) | ColumnOption::PrimaryKey(_) => hits.push(Hit::new(
                id::INDEX_WITHOUT_CONCURRENTLY,
                format!(
                    "adding column {name} with a UNIQUE or PRIMARY KEY constraint builds its \
                     index under an ACCESS EXCLUSIVE lock on {table}; add the column, build a \
                     unique index CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX"
                ),
            )),
            _ => {}
        }
    }
    if is_serial(&column.data_type.to_string()) {
        volatile.push(format!("the {} sequence", column.data_type));
    }
    if !volatile.is_empty() {
        hits.push(Hit::new(
            id::VOLATILE_DEFAULT,
            format!(
                "adding column {name} to {table} with a value from {} computes it for every \
                 existing row, rewriting the table under an ACCESS EXCLUSIVE lock; add the \
                 column without it, SET DEFAULT afterwards, and backfill in batches",
                volatile.join(" and ")
            ),
        ));
    }
}

fn add_constraint(
    table: &ObjectName,
    constraint: &TableConstraint,
    not_valid: bool,
    hits: &mut Vec<Hit>,
) {
    let kind = match constraint {
        TableConstraint::Exclude(_) => {
            hits.push(Hit::new(
                id::INDEX_WITHOUT_CONCURRENTLY,
                format!(
                    "adding an EXCLUDE constraint to {table} builds its index under an ACCESS \
                     EXCLUSIVE lock, blocking reads and writes for the whole build, and \
                     PostgreSQL cannot build one concurrently; add it while the table is small \
                     or traffic is stopped, or enforce the rule in a trigger"
                ),
            ));
            return;
        }
        TableConstraint::ForeignKey(_) => "FOREIGN KEY",
        TableConstraint::Check(_) => "CHECK",
        TableConstraint::Unique(_) | TableConstraint::PrimaryKey(_) => {
            let kind = if matches!(constraint, TableConstraint::Unique(_)) {
                "UNIQUE"
            } else {
                "PRIMARY KEY"
            };
            hits.push(Hit::new(
                id::INDEX_WITHOUT_CONCURRENTLY,
                format!(
                    "adding a {kind} constraint to {table} builds its index under an ACCESS \
                     EXCLUSIVE lock; build a unique index CONCURRENTLY first, then ADD \
                     CONSTRAINT ... {kind} USING INDEX"
                ),
            ));
            return;
        }
        _ => return,
    };
    if !not_valid {
        hits.push(Hit::new(
            id::CONSTRAINT_WITHOUT_NOT_VALID,
            format!(
                "adding a {kind} constraint to {table} checks every existing row while blocking \
                 writes; add it NOT VALID, then VALIDATE CONSTRAINT in a later migration"
            ),
        ));
    }
}

/// Names of volatile functions called in a default expression. The expression is read back
/// as tokens, so a function name inside a string literal is not a call.
fn volatile_calls(expr: &str) -> impl Iterator<Item = String> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, expr)
        .tokenize()
        .unwrap_or_default();
    let significant: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut calls = Vec::new();
    for pair in significant.windows(2) {
        if let [Token::Word(word), Token::LParen] = pair {
            let name = word.value.to_ascii_lowercase();
            if VOLATILE_FUNCTIONS.contains(&name.as_str()) && !calls.contains(&name) {
                calls.push(name);
            }
        }
    }
    calls.into_iter()
}

/// Whether the statement is a `CONCURRENTLY` operation that PostgreSQL refuses in a
/// transaction block.
pub(crate) fn is_concurrent(statement: &Statement, drop_concurrently: bool) -> bool {
    match statement {
        Statement::CreateIndex(index) => index.concurrently,
        Statement::Drop {
            object_type: ObjectType::Index,
            ..
        } => drop_concurrently,
        Statement::AlterTable(alter) => alter.operations.iter().any(|operation| {
            matches!(
                operation,
                AlterTableOperation::DetachPartitionOf {
                    mode: Some(DetachPartitionMode::Concurrently),
                    ..
                }
            )
        }),
        _ => false,
    }
}

/// What the statement locks, when it takes a lock that blocks reads or writes of a table that
/// existed before this file.
pub(crate) fn takes_blocking_lock(
    walk: &Walk<'_>,
    statement: &Statement,
    drop_concurrently: bool,
) -> Option<String> {
    match statement {
        Statement::AlterTable(alter) if !walk.is_new(&alter.name) => {
            // Validation and a concurrent detach take locks that let reads and writes go on.
            let blocking = alter.operations.iter().any(|operation| {
                !matches!(
                    operation,
                    AlterTableOperation::ValidateConstraint { .. }
                        | AlterTableOperation::DetachPartitionOf {
                            mode: Some(DetachPartitionMode::Concurrently),
                            ..
                        }
                )
            });
            blocking.then(|| format!("ALTER TABLE {}", alter.name))
        }
        // A foreign key takes a SHARE ROW EXCLUSIVE lock on the table it references, which
        // blocks writes there even when the referencing table is new.
        Statement::AlterTable(alter) => alter
            .operations
            .iter()
            .filter_map(|operation| match operation {
                AlterTableOperation::AddConstraint {
                    constraint: TableConstraint::ForeignKey(fk),
                    ..
                } => Some(&fk.foreign_table),
                _ => None,
            })
            .find(|referenced| !walk.is_new(referenced))
            .map(|referenced| locks_referenced(&alter.name, referenced)),
        Statement::CreateTable(create) => create
            .columns
            .iter()
            .flat_map(|column| &column.options)
            .filter_map(|option| match &option.option {
                ColumnOption::ForeignKey(fk) => Some(&fk.foreign_table),
                _ => None,
            })
            .chain(
                create
                    .constraints
                    .iter()
                    .filter_map(|constraint| match constraint {
                        TableConstraint::ForeignKey(fk) => Some(&fk.foreign_table),
                        _ => None,
                    }),
            )
            .find(|referenced| !walk.is_new(referenced))
            .map(|referenced| locks_referenced(&create.name, referenced)),
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => names
            .iter()
            .find(|name| !walk.is_new(name))
            .map(|name| format!("DROP TABLE {name}")),
        Statement::Drop {
            object_type: ObjectType::Index,
            names,
            ..
        } if !drop_concurrently => names
            .iter()
            .find(|name| !walk.is_new_index(name))
            .map(|name| format!("DROP INDEX {name}")),
        Statement::CreateIndex(index) if !index.concurrently && !walk.is_new(&index.table_name) => {
            Some(format!("CREATE INDEX on {}", index.table_name))
        }
        Statement::Truncate(truncate) => truncate
            .table_names
            .iter()
            .find(|target| !walk.is_new(&target.name))
            .map(|target| format!("TRUNCATE {}", target.name)),
        Statement::CreateTrigger(trigger) if !walk.is_new(&trigger.table_name) => {
            Some(format!("CREATE TRIGGER on {}", trigger.table_name))
        }
        _ => None,
    }
}

/// What takes the lock when a foreign key of `table` references the existing `referenced`.
fn locks_referenced(table: &ObjectName, referenced: &ObjectName) -> String {
    format!(
        "the foreign key from {table} to {referenced}, which locks {referenced} against writes,"
    )
}

/// Whether changing a column from `from` to `to` is one of the changes PostgreSQL makes
/// without rewriting the table.
fn no_rewrite(from: &DataType, to: &DataType) -> bool {
    match (Shape::of(from), Shape::of(to)) {
        (Shape::Varchar(Some(n)), Shape::Varchar(Some(m))) => m >= n,
        (Shape::Varchar(_) | Shape::Text, Shape::Varchar(None) | Shape::Text) => true,
        (Shape::Numeric(Some((p, s))), Shape::Numeric(Some((q, t)))) => s == t && q >= p,
        (Shape::Numeric(_), Shape::Numeric(None)) => true,
        _ => from == to,
    }
}

/// The few type families whose widening needs no rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `varchar(n)`, or unbounded `varchar`.
    Varchar(Option<u64>),
    Text,
    /// `numeric(p, s)`, or unconstrained `numeric`.
    Numeric(Option<(u64, i64)>),
    Other,
}

impl Shape {
    fn of(data_type: &DataType) -> Shape {
        match data_type {
            DataType::Varchar(length) | DataType::CharacterVarying(length) => {
                Shape::Varchar(match length {
                    Some(CharacterLength::IntegerLength { length, .. }) => Some(*length),
                    _ => None,
                })
            }
            DataType::Text => Shape::Text,
            DataType::Numeric(info) | DataType::Decimal(info) => Shape::Numeric(match info {
                ExactNumberInfo::None => None,
                ExactNumberInfo::Precision(p) => Some((*p, 0)),
                ExactNumberInfo::PrecisionAndScale(p, s) => Some((*p, *s)),
            }),
            _ => Shape::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_type(sql: &str) -> DataType {
        sqlparser::parser::Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_data_type())
            .unwrap()
    }

    #[test]
    fn widenings_that_need_no_rewrite() {
        let safe = [
            ("varchar(20)", "varchar(40)"),
            ("character varying(20)", "text"),
            ("varchar(20)", "varchar"),
            ("text", "varchar"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric"),
            ("integer", "integer"),
        ];
        for (from, to) in safe {
            assert!(
                no_rewrite(&data_type(from), &data_type(to)),
                "{from} -> {to}"
            );
        }
        let rewrites = [
            ("varchar(40)", "varchar(20)"),
            ("text", "varchar(20)"),
            ("numeric(10,2)", "numeric(12,3)"),
            ("integer", "bigint"),
            ("varchar(20)", "integer"),
        ];
        for (from, to) in rewrites {
            assert!(
                !no_rewrite(&data_type(from), &data_type(to)),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn volatile_calls_are_read_from_tokens() {
        let calls: Vec<String> = volatile_calls("(random() * 10)::int").collect();
        assert_eq!(calls, ["random"]);
        let calls: Vec<String> = volatile_calls("'random()'").collect();
        assert!(calls.is_empty());
        let calls: Vec<String> = volatile_calls("nextval('s'::regclass)").collect();
        assert_eq!(calls, ["nextval"]);
    }
}
