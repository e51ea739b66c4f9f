//! The rules that apply to every dialect: destructive statements, foreign keys without an
//! index, `NOT NULL` columns without a default, and non-idempotent `CREATE`s.

use sqlparser::ast::{
    AlterTableOperation, CascadeOption, ColumnDef, ColumnOption, CreateIndex, CreateTable, Delete,
    Expr, FromTable, Ident, ObjectName, ObjectType, RenameTableNameKind, Statement,
    TableConstraint, TableFactor, TableWithJoins, Truncate, Update, Value,
};

use sqlparser::tokenizer::Token;

use super::api::Hit;
use super::context::Walk;
use super::rules::id;

/// The dialect-independent rules.
pub(crate) fn check(walk: &Walk<'_>, statement: &Statement, hits: &mut Vec<Hit>) {
    match statement {
        Statement::Drop {
            object_type: ObjectType::Table,
            if_exists,
            names,
            cascade,
            ..
        } => drop_table(walk, names, *if_exists, *cascade, hits),
        Statement::Truncate(truncate) => truncate_table(walk, truncate, hits),
        Statement::Delete(delete) => delete_without_where(walk, delete, hits),
        Statement::Update(update) => update_without_where(walk, update, hits),
        Statement::CreateTable(create) => create_table(walk, create, hits),
        Statement::CreateIndex(index) => create_index(walk, index, hits),
        Statement::CreateVirtualTable {
            name,
            if_not_exists: false,
            ..
        } => non_idempotent_create(walk, format!("CREATE VIRTUAL TABLE {name}"), hits),
        Statement::Vacuum(_) => vacuum(walk, hits),
        Statement::Drop {
            object_type: ObjectType::Schema,
            names,
            cascade: true,
            ..
        } => hits.push(Hit::new(
            id::DROP_TABLE,
            format!(
                "DROP SCHEMA {} CASCADE drops every table in it with all their rows, and every \
                 object anywhere that depends on them; drop the tables one by one once nothing \
                 uses them, then the empty schema without CASCADE",
                names
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback {
            savepoint: None, ..
        } if walk.transactional() => explicit_transaction(walk, statement, hits),
        Statement::AlterTable(alter) => {
            drop_columns(walk, &alter.name, &alter.operations, hits);
            add_columns_not_null(walk, &alter.name, &alter.operations, hits);
            for operation in &alter.operations {
                alter_table(walk, &alter.name, operation, hits);
            }
        }
        _ => {}
    }
}

fn drop_table(
    walk: &Walk<'_>,
    names: &[ObjectName],
    if_exists: bool,
    cascade: bool,
    hits: &mut Vec<Hit>,
) {
    let existing: Vec<String> = names
        .iter()
        .filter(|name| !walk.is_new(name) && !walk.is_rebuilt(name))
        .map(ToString::to_string)
        .collect();
    if existing.is_empty() {
        return;
    }
    let (what, them, is) = if existing.len() == 1 {
        ("the table", "it", "is")
    } else {
        ("the tables", "them", "are")
    };
    let mut message = format!(
        "DROP TABLE {} deletes {what} and every row in {them}, and breaks deployed code that \
         still reads {them}",
        existing.join(", ")
    );
    if cascade {
        message.push_str(&format!(
            "; CASCADE also drops the views and foreign keys that depend on {them}"
        ));
    }
    if !if_exists {
        message.push_str(&format!(
            "; without IF EXISTS it also fails if {what} {is} already gone"
        ));
    }
    message.push_str(&format!(
        "; stop using {them} in a released version first, then allow this statement"
    ));
    hits.push(Hit::new(id::DROP_TABLE, message));
}

fn truncate_table(walk: &Walk<'_>, truncate: &Truncate, hits: &mut Vec<Hit>) {
    let existing: Vec<String> = truncate
        .table_names
        .iter()
        .filter(|target| !walk.is_new(&target.name))
        .map(|target| target.name.to_string())
        .collect();
    if existing.is_empty() {
        return;
    }
    if !walk.facts().has_truncate {
        hits.push(Hit::new(
            id::TRUNCATE,
            format!(
                "{} has no TRUNCATE and rejects this statement; to empty {} on purpose, \
                 write DELETE without WHERE and allow it",
                walk.facts().engine,
                existing.join(", ")
            ),
        ));
        return;
    }
    let cascade = if matches!(truncate.cascade, Some(CascadeOption::Cascade)) {
        ", and CASCADE also empties every table with a foreign key to it"
    } else {
        ""
    };
    hits.push(Hit::new(
        id::TRUNCATE,
        format!(
            "TRUNCATE {} deletes every row{cascade}; delete only the rows you mean to with \
             DELETE ... WHERE",
            existing.join(", ")
        ),
    ));
}

/// The table a DML statement targets, when it is a plain table.
fn target(table: &TableWithJoins) -> Option<&ObjectName> {
    match &table.relation {
        TableFactor::Table { name, .. } => Some(name),
        _ => None,
    }
}

fn delete_without_where(walk: &Walk<'_>, delete: &Delete, hits: &mut Vec<Hit>) {
    if delete.selection.is_some() {
        return;
    }
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    let Some(table) = from.first().and_then(target) else {
        return;
    };
    if walk.is_new(table) {
        return;
    }
    hits.push(Hit::new(
        id::DELETE_WITHOUT_WHERE,
        format!(
            "DELETE FROM {table} has no WHERE clause and deletes every row; add the condition \
             that selects the rows to remove"
        ),
    ));
}

fn update_without_where(walk: &Walk<'_>, update: &Update, hits: &mut Vec<Hit>) {
    if update.selection.is_some() {
        return;
    }
    let Some(table) = target(&update.table) else {
        return;
    };
    if walk.is_new(table) {
        return;
    }
    hits.push(Hit::new(
        id::UPDATE_WITHOUT_WHERE,
        format!(
            "UPDATE {table} has no WHERE clause: it rewrites every row and locks them all until \
             the migration commits; backfill in batches by key range, or add the missing \
             condition"
        ),
    ));
}

fn create_table(walk: &Walk<'_>, create: &CreateTable, hits: &mut Vec<Hit>) {
    if !create.if_not_exists && !create.or_replace {
        non_idempotent_create(walk, format!("CREATE TABLE {}", create.name), hits);
    }
    for column in &create.columns {
        column_foreign_keys(walk, &create.name, column, hits);
    }
    for constraint in &create.constraints {
        if let TableConstraint::ForeignKey(fk) = constraint {
            let columns: Vec<String> = fk.columns.iter().map(|c| walk.ident(c)).collect();
            foreign_key(walk, &create.name, &columns, &fk.foreign_table, hits);
        }
    }
}

fn create_index(walk: &Walk<'_>, index: &CreateIndex, hits: &mut Vec<Hit>) {
    if index.if_not_exists || !walk.committed_before_a_failure() {
        return;
    }
    let message = match &index.name {
        Some(name) => format!(
            "CREATE INDEX {name} is committed before a later statement of this migration that \
             can fail, and running the migration again after such a failure fails here because \
             the index exists; write CREATE INDEX IF NOT EXISTS"
        ),
        None => format!(
            "this CREATE INDEX on {} has no name and is committed before a later statement of \
             this migration that can fail, so running the migration again after such a failure \
             builds a second identical index; name it and write CREATE INDEX IF NOT EXISTS",
            index.table_name
        ),
    };
    hits.push(Hit::new(id::NON_IDEMPOTENT_CREATE, message));
}

/// `what` (`CREATE TABLE t`) without `IF NOT EXISTS`, reported when a failure after it leaves
/// the table behind for a run of the migration again to fail on.
fn non_idempotent_create(walk: &Walk<'_>, what: String, hits: &mut Vec<Hit>) {
    if walk.committed_before_a_failure() {
        hits.push(Hit::new(
            id::NON_IDEMPOTENT_CREATE,
            format!(
                "{what} is committed before a later statement of this migration that can fail, \
                 and running the migration again after such a failure fails here because the \
                 table exists; write it with IF NOT EXISTS"
            ),
        ));
    }
}

/// `VACUUM`, which some engines refuse inside a transaction
/// ([`super::LintFacts::vacuum_inside_transaction_fails`]).
pub(crate) fn vacuum(walk: &Walk<'_>, hits: &mut Vec<Hit>) {
    if !walk.transactional() || !walk.facts().vacuum_inside_transaction_fails {
        return;
    }
    let engine = walk.facts().engine;
    hits.push(Hit::new(
        id::PRAGMA_IN_TRANSACTION,
        format!(
            "{engine} refuses VACUUM inside a transaction, and this migration runs in one; add \
             `-- godwit:no-transaction` to the file's leading comments"
        ),
    ));
}

/// `BEGIN`, `COMMIT`, `END` or `ROLLBACK` in a file godwit already runs in a transaction.
fn explicit_transaction(walk: &Walk<'_>, statement: &Statement, hits: &mut Vec<Hit>) {
    let message = match statement {
        Statement::StartTransaction { begin, .. } => {
            let keyword = if *begin { "BEGIN" } else { "START TRANSACTION" };
            if walk.facts().begin_inside_transaction_fails {
                format!(
                    "{} refuses {keyword} inside the transaction godwit runs this migration \
                     in, so the migration fails",
                    walk.facts().engine
                )
            } else {
                format!(
                    "{keyword} starts no transaction of its own inside the one godwit runs this \
                     migration in, and the COMMIT that pairs with it commits godwit's \
                     transaction part-way, so a later failure leaves the statements before it \
                     applied"
                )
            }
        }
        Statement::Commit { end, .. } => format!(
            "{} commits the transaction godwit runs this migration in part-way: if a later \
             statement fails, the statements before it stay applied while the migration is \
             recorded as failed",
            if *end { "END" } else { "COMMIT" }
        ),
        _ => "ROLLBACK ends the transaction godwit runs this migration in: the statements \
              before it are undone and the ones after it run outside any transaction"
            .into(),
    };
    hits.push(Hit::new(
        id::EXPLICIT_TRANSACTION,
        format!(
            "{message}; delete it (godwit already runs the whole file in one transaction), or \
             add `-- godwit:no-transaction` to the file's leading comments to manage \
             transactions yourself"
        ),
    ));
}

/// One finding naming every column an `ALTER TABLE` drops.
fn drop_columns(
    walk: &Walk<'_>,
    table: &ObjectName,
    operations: &[AlterTableOperation],
    hits: &mut Vec<Hit>,
) {
    if walk.is_new(table) {
        return;
    }
    let columns: Vec<String> = operations
        .iter()
        .flat_map(|operation| match operation {
            AlterTableOperation::DropColumn { column_names, .. } => column_names.as_slice(),
            _ => &[],
        })
        .map(ToString::to_string)
        .collect();
    if columns.is_empty() {
        return;
    }
    let it = if columns.len() == 1 { "it" } else { "them" };
    hits.push(Hit::new(
        id::DROP_COLUMN,
        format!(
            "dropping {} from {table} deletes the data and breaks deployed code that still \
             reads or writes {it}; stop using {it} in a released version first, then allow this \
             statement",
            plural("column", &columns)
        ),
    ));
}

fn alter_table(
    walk: &Walk<'_>,
    table: &ObjectName,
    operation: &AlterTableOperation,
    hits: &mut Vec<Hit>,
) {
    match operation {
        AlterTableOperation::AddColumn { column_def, .. } => {
            column_foreign_keys(walk, table, column_def, hits);
        }
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::ForeignKey(fk),
            ..
        } => {
            let columns: Vec<String> = fk.columns.iter().map(|c| walk.ident(c)).collect();
            foreign_key(walk, table, &columns, &fk.foreign_table, hits);
        }
        _ => {}
    }
}

/// One finding naming every `NOT NULL` column without a default that an `ALTER TABLE` adds to
/// an existing table.
fn add_columns_not_null(
    walk: &Walk<'_>,
    table: &ObjectName,
    operations: &[AlterTableOperation],
    hits: &mut Vec<Hit>,
) {
    if walk.is_new(table) {
        return;
    }
    let columns: Vec<String> = operations
        .iter()
        .filter_map(|operation| match operation {
            AlterTableOperation::AddColumn { column_def, .. } => Some(column_def),
            _ => None,
        })
        .filter(|column| needs_a_value(column))
        .map(|column| column.name.to_string())
        .collect();
    if columns.is_empty() {
        return;
    }
    let (names, it) = match columns.as_slice() {
        [one] => (format!("NOT NULL column {one}"), "it"),
        many => (format!("NOT NULL columns {}", many.join(", ")), "them"),
    };
    let later = if !walk.facts().sets_not_null_in_place {
        format!(
            "or add {it} nullable ({} adds NOT NULL to an existing column only by rebuilding \
             the table)",
            walk.facts().engine
        )
    } else {
        format!("or add {it} nullable, backfill, then set NOT NULL")
    };
    let effect = if walk.facts().fills_new_not_null_columns {
        format!(
            "fills every existing row with the type's implicit default (0, '', a zero date), \
             which {} writes without a warning and is rarely the value meant",
            walk.facts().engine
        )
    } else {
        "fails as soon as the table has a row".to_string()
    };
    hits.push(Hit::new(
        id::ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT,
        format!(
            "adding {names} to {table} without a DEFAULT {effect}, so an empty development \
             database hides it; add a DEFAULT, {later}"
        ),
    ));
}

/// A column that is `NOT NULL` (or the primary key) with nothing to fill existing rows: no
/// default other than `NULL`, no generated, identity or `AUTO_INCREMENT` value, no `serial`
/// type.
fn needs_a_value(column: &ColumnDef) -> bool {
    let not_null = column.options.iter().any(|o| {
        matches!(
            o.option,
            ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
        )
    });
    let filled = column.options.iter().any(|o| {
        match &o.option {
        ColumnOption::Default(expr) => !is_null(expr),
        ColumnOption::Generated { .. } | ColumnOption::Identity(_) => true,
        // MySQL's AUTO_INCREMENT numbers every existing row.
        ColumnOption::DialectSpecific(tokens) => tokens.iter().any(|token| {
            matches!(token, Token::Word(word) if word.value.eq_ignore_ascii_case("AUTO_INCREMENT"))
        }),
        _ => false,
    }
    }) || is_serial(&column.data_type.to_string());
    not_null && !filled
}

/// Column-level `REFERENCES`. A column that is itself the primary key or unique is covered
/// by that constraint's index, which the walk collected with the others.
fn column_foreign_keys(
    walk: &Walk<'_>,
    table: &ObjectName,
    column: &ColumnDef,
    hits: &mut Vec<Hit>,
) {
    for option in &column.options {
        if let ColumnOption::ForeignKey(fk) = &option.option {
            let columns = [walk.ident(&column.name)];
            foreign_key(walk, table, &columns, &fk.foreign_table, hits);
        }
    }
}

fn foreign_key(
    walk: &Walk<'_>,
    table: &ObjectName,
    columns: &[String],
    references: &ObjectName,
    hits: &mut Vec<Hit>,
) {
    if columns.is_empty() || walk.facts().indexes_foreign_keys || walk.is_covered(table, columns) {
        return;
    }
    let list = columns.join(", ");
    hits.push(Hit::new(
        id::FOREIGN_KEY_WITHOUT_INDEX,
        format!(
            "foreign key {table} ({list}) -> {references} has no index led by its columns, so \
             every delete or key update in {references} scans {table}; add an index on \
             {table} ({list})"
        ),
    ));
}

/// `NULL` (possibly parenthesised).
fn is_null(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => v.value == Value::Null,
        Expr::Nested(inner) => is_null(inner),
        _ => false,
    }
}

/// PostgreSQL's `serial` pseudo-types, which add a `nextval` default.
pub fn is_serial(data_type: &str) -> bool {
    matches!(
        data_type.to_ascii_lowercase().as_str(),
        "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
    )
}

/// `column a` or `columns a, b`.
pub fn plural(noun: &str, items: &[String]) -> String {
    match items {
        [one] => format!("{noun} {one}"),
        many => format!("{noun}s {}", many.join(", ")),
    }
}

/// The [`super::RENAME`] finding of an `ALTER TABLE table` operation that renames the table
/// or one of its columns.
pub fn renamed(table: &ObjectName, operation: &AlterTableOperation) -> Option<Hit> {
    match operation {
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => Some(renamed_column(table, old_column_name, new_column_name)),
        AlterTableOperation::RenameTable {
            table_name: RenameTableNameKind::To(new) | RenameTableNameKind::As(new),
        } => Some(renamed_table(table, new)),
        _ => None,
    }
}

/// A [`super::RENAME`] finding: `table`'s column `from` renamed to `to`.
pub fn renamed_column(table: &ObjectName, from: &Ident, to: &Ident) -> Hit {
    Hit::new(
        id::RENAME,
        format!(
            "renaming {table}.{from} to {to} breaks deployed code that still uses {from}; add \
             the new column, keep both in sync, move the code over, then drop the old one"
        ),
    )
}

/// A [`super::RENAME`] finding: table `from` renamed to `to`.
pub fn renamed_table(from: &ObjectName, to: &ObjectName) -> Hit {
    Hit::new(
        id::RENAME,
        format!(
            "renaming table {from} to {to} breaks deployed code that still uses {from}; for \
             example rename it and create a view named {from} until no running version uses \
             the old name"
        ),
    )
}
