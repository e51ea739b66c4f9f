//! What a plan does that it need not do: statements that undo each other, and changes that
//! touch an object the two schemas hold alike.
//!
//! [`cancelling`] reads the statements alone. Whether touching an unchanged object is needed
//! depends on the engine (PostgreSQL refuses to change the type of a column a view reads, so
//! the view is dropped and created again around it), so [`trials`] does not judge it: it gives
//! the plan without each such change, for the caller to run on a copy of the database. A
//! trial that succeeds and reaches the desired schema shows the change was not needed.

use std::collections::BTreeSet;

use godwit_core::Dialect;
use godwit_core::dialect::{RenderOptions, Statement};
use godwit_core::diff::Change;
use godwit_core::schema::{Column, CommentTarget, Name, Schema, Table};
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, ObjectName, Statement as Ast};
use sqlparser::dialect::{Dialect as ParserDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

/// Names as the dialect's diff compares them: without case on SQLite.
struct Keys {
    case_insensitive: bool,
}

impl Keys {
    fn new(dialect: &dyn Dialect) -> Self {
        Keys {
            case_insensitive: dialect.diff_options().case_insensitive,
        }
    }

    fn ident(&self, ident: &str) -> String {
        if self.case_insensitive {
            ident.to_lowercase()
        } else {
            ident.to_string()
        }
    }

    fn name(&self, name: &Name) -> Name {
        Name {
            schema: name.schema.as_deref().map(|s| self.ident(s)),
            name: self.ident(&name.name),
        }
    }
}

/// A plan without something it does to an object the two schemas hold alike.
#[derive(Debug)]
pub struct Trial {
    /// What was left out.
    pub without: String,
    /// The statements of the plan without it.
    pub statements: Vec<Statement>,
}

/// What a column statement does, for the rules of [`cancelling`].
#[derive(Debug, Clone, PartialEq)]
enum ColumnStep {
    /// `SET DEFAULT` or `DROP DEFAULT`.
    Default,
    /// `TYPE`, to this type.
    Type(String),
}

fn parser_dialect(dialect: &dyn Dialect) -> Box<dyn ParserDialect> {
    match dialect.name() {
        "postgres" => Box::new(PostgreSqlDialect {}),
        _ => Box::new(SQLiteDialect {}),
    }
}

/// The statement `sql` as sqlparser reads it, when it reads it as one statement.
fn parse(dialect: &dyn Dialect, sql: &str) -> Option<Ast> {
    let mut parsed = Parser::parse_sql(parser_dialect(dialect).as_ref(), sql).ok()?;
    (parsed.len() == 1).then(|| parsed.remove(0))
}

fn name_of(object: &ObjectName) -> Name {
    let mut parts: Vec<String> = object
        .0
        .iter()
        .filter_map(|part| part.as_ident().map(|ident| ident.value.clone()))
        .collect();
    let name = parts.pop().unwrap_or_default();
    Name {
        schema: parts.pop(),
        name,
    }
}

/// The column steps of an `ALTER TABLE`: the table, and each column with what is done to it.
fn column_steps(statement: &Ast) -> Option<(Name, Vec<(String, ColumnStep)>)> {
    let Ast::AlterTable(alter) = statement else {
        return None;
    };
    let steps = alter
        .operations
        .iter()
        .filter_map(|operation| match operation {
            AlterTableOperation::AlterColumn { column_name, op } => {
                let step = match op {
                    AlterColumnOperation::SetDefault { .. } | AlterColumnOperation::DropDefault => {
                        ColumnStep::Default
                    }
                    AlterColumnOperation::SetDataType { data_type, .. } => {
                        ColumnStep::Type(data_type.to_string())
                    }
                    _ => return None,
                };
                Some((column_name.value.clone(), step))
            }
            _ => None,
        })
        .collect();
    Some((name_of(&alter.name), steps))
}

/// Statements of `statements` that undo or repeat another, each said in a sentence:
///
/// - the same change of the schema (`CREATE`, `ALTER`, `DROP`, `COMMENT`) twice;
/// - a column's default set or dropped, then set or dropped again with no change of the
///   column's type between them, so that the first is undone unseen;
/// - a column changed to a type it was just changed to.
pub fn cancelling(dialect: &dyn Dialect, statements: &[Statement]) -> Vec<String> {
    let keys = Keys::new(dialect);
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    // Per column (table and column keys): its last step, and the statement that took it.
    let mut last: Vec<((Name, String), ColumnStep, usize)> = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let Some(parsed) = parse(dialect, &statement.sql) else {
            continue;
        };
        let changes_schema = matches!(
            parsed,
            Ast::AlterTable(_)
                | Ast::CreateTable(_)
                | Ast::CreateView(_)
                | Ast::CreateIndex(_)
                | Ast::CreateTrigger(_)
                | Ast::Drop { .. }
                | Ast::DropTrigger(_)
                | Ast::Comment { .. }
        );
        if changes_schema && !seen.insert(statement.sql.trim().to_string()) {
            found.push(format!(
                "statement {} repeats an earlier one: {}",
                index + 1,
                statement.sql
            ));
        }
        let Some((table, steps)) = column_steps(&parsed) else {
            continue;
        };
        for (column, step) in steps {
            let key = (keys.name(&table), keys.ident(&column));
            let previous = last.iter_mut().find(|(k, _, _)| *k == key);
            match previous {
                Some((_, before, at)) => {
                    if *before == step {
                        let (n, m) = (index + 1, *at + 1);
                        found.push(match step {
                            ColumnStep::Default => format!(
                                "statement {n} changes the default of column {column} of {table} \
                                 again, undoing statement {m} with no change of the column's type \
                                 between: {}",
                                statement.sql
                            ),
                            ColumnStep::Type(_) => format!(
                                "statement {n} changes column {column} of {table} to the type \
                                 statement {m} gave it: {}",
                                statement.sql
                            ),
                        });
                    }
                    *before = step;
                    *at = index;
                }
                None => last.push((key, step, index)),
            }
        }
    }
    found
}

/// The plan of `changes`, rendered by `dialect`, without each change that touches an object
/// `current` and `desired` hold alike (a view, trigger, index, function, type, sequence,
/// foreign key, policy, privilege or comment dropped and created again as it was), and without each statement
/// that alters a column the two hold alike. Each trial must fail, or reach a schema other
/// than `desired`, for the plan to need what it leaves out.
pub fn trials(
    dialect: &dyn Dialect,
    options: &RenderOptions,
    changes: &[Change],
    statements: &[Statement],
    current: &Schema,
    desired: &Schema,
) -> Vec<Trial> {
    let keys = Keys::new(dialect);
    let mut trials = Vec::new();
    for group in unchanged_objects(&keys, changes, current) {
        let kept: Vec<Change> = changes
            .iter()
            .enumerate()
            .filter(|(index, _)| !group.contains(index))
            .map(|(_, change)| change.clone())
            .collect();
        // A plan the dialect cannot render without the change needs it.
        if let Ok(rendered) = dialect.render(&kept, options) {
            trials.push(Trial {
                without: format!(
                    "{:?}",
                    group.iter().map(|&i| &changes[i]).collect::<Vec<_>>()
                ),
                statements: rendered,
            });
        }
    }
    for (index, statement) in statements.iter().enumerate() {
        let Some((table, steps)) = parse(dialect, &statement.sql)
            .as_ref()
            .and_then(column_steps)
        else {
            continue;
        };
        let unchanged = steps
            .iter()
            .any(|(column, _)| same_column(&keys, changes, current, desired, &table, column));
        if unchanged {
            let mut rest = statements.to_vec();
            rest.remove(index);
            trials.push(Trial {
                without: statement.sql.clone(),
                statements: rest,
            });
        }
    }
    trials
}

/// Groups of change indexes that drop and create again, as it was, one object of `current`.
fn unchanged_objects(keys: &Keys, changes: &[Change], current: &Schema) -> Vec<Vec<usize>> {
    let same_name = |a: &Name, b: &Name| keys.name(a) == keys.name(b);
    let mut groups = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        // The object the change creates, when `current` holds it as it is, and which changes
        // of the list drop it.
        let dropped = |is_drop: &dyn Fn(&Change) -> bool| -> Vec<usize> {
            let mut group = vec![index];
            group.extend(
                changes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| is_drop(c))
                    .map(|(i, _)| i),
            );
            group
        };
        let group = match change {
            Change::CreateView(view) => current
                .views
                .iter()
                .find(|v| same_name(&v.name, &view.name) && v.definition == view.definition)
                .map(|old| {
                    let mut group = dropped(
                        &|c| matches!(c, Change::DropView(v) if same_name(&v.name, &view.name)),
                    );
                    // Its indexes come back with it.
                    group.extend(changes.iter().enumerate().filter_map(|(i, c)| match c {
                        Change::CreateIndex(index)
                            if old.indexes.iter().any(|o| o.definition == index.definition) =>
                        {
                            Some(i)
                        }
                        _ => None,
                    }));
                    group
                }),
            Change::CreateTrigger(trigger) => current
                .triggers
                .iter()
                .any(|t| {
                    same_name(&t.table, &trigger.table)
                        && keys.ident(&t.name) == keys.ident(&trigger.name)
                        && t.definition == trigger.definition
                })
                .then(|| {
                    dropped(&|c| {
                        matches!(c, Change::DropTrigger(t) if same_name(&t.table, &trigger.table)
                            && keys.ident(&t.name) == keys.ident(&trigger.name))
                    })
                }),
            Change::CreateIndex(index) => current
                .indexes()
                .any(|i| same_name(&i.name, &index.name) && i.definition == index.definition)
                .then(|| {
                    dropped(
                        &|c| matches!(c, Change::DropIndex(i) if same_name(&i.name, &index.name)),
                    )
                }),
            Change::CreateFunction(function) => current.functions.contains(function).then(|| {
                dropped(
                    &|c| matches!(c, Change::DropFunction(f) if f.signature == function.signature),
                )
            }),
            Change::CreateDomain(domain) => current
                .domains
                .contains(domain)
                .then(|| dropped(&|c| matches!(c, Change::DropDomain(d) if d.name == domain.name))),
            Change::CreateSequence(sequence) => current.sequences.contains(sequence).then(|| {
                dropped(&|c| matches!(c, Change::DropSequence(s) if s.name == sequence.name))
            }),
            Change::CreateEnum(e) => current
                .enums
                .contains(e)
                .then(|| dropped(&|c| matches!(c, Change::DropEnum(d) if d.name == e.name))),
            Change::AddForeignKey { table, key } => current
                .tables
                .iter()
                .any(|t| same_name(&t.name, table) && t.foreign_keys.contains(key))
                .then(|| {
                    dropped(&|c| {
                        matches!(c, Change::DropForeignKey { table: t, key: k }
                            if same_name(t, table) && k == key)
                    })
                }),
            Change::Comment { on, comment } => {
                let now = current
                    .comments
                    .iter()
                    .find(|c| &c.on == on)
                    .map(|c| &c.text);
                (now == comment.as_ref() && comment_target_stays(changes, on)).then(|| vec![index])
            }
            Change::CreatePolicy(policy) => current.policies.contains(policy).then(|| {
                dropped(&|c| {
                    matches!(c, Change::DropPolicy(p)
                        if same_name(&p.table, &policy.table) && p.name == policy.name)
                })
            }),
            // Privileges granted again as the database holds them: only an object made again
            // needs them.
            Change::Grant(granted) => {
                let held = |privilege: &String, column: Option<&String>| {
                    current.grants.iter().any(|g| {
                        g.on == granted.on
                            && g.grantee == granted.grantee
                            && &g.privilege == privilege
                            && g.column.as_ref() == column
                            && g.grant_option == granted.grant_option
                    })
                };
                let all_held = granted.privileges.iter().all(|privilege| {
                    if granted.columns.is_empty() {
                        held(privilege, None)
                    } else {
                        granted.columns.iter().all(|c| held(privilege, Some(c)))
                    }
                });
                all_held.then(|| vec![index])
            }
            Change::CommentColumn {
                table,
                column,
                comment,
                ..
            } => current
                .tables
                .iter()
                .find(|t| same_name(&t.name, table))
                .and_then(|t| column_of(keys, t, column))
                .is_some_and(|c| &c.comment == comment)
                .then(|| vec![index]),
            _ => None,
        };
        groups.extend(group);
    }
    groups
}

/// Whether the object `on` is one the change list leaves in place; a comment on an object it
/// creates again must be set again.
fn comment_target_stays(changes: &[Change], on: &CommentTarget) -> bool {
    !changes.iter().any(|change| match (change, on) {
        (Change::CreateView(v), CommentTarget::View { name, .. }) => &v.name == name,
        (Change::CreateIndex(i), CommentTarget::Index { name }) => &i.name == name,
        (Change::CreateTrigger(t), CommentTarget::Trigger { table, name }) => {
            &t.table == table && &t.name == name
        }
        (Change::CreateFunction(f), CommentTarget::Routine { signature, .. }) => {
            &f.signature == signature
        }
        _ => false,
    })
}

fn column_of<'t>(keys: &Keys, table: &'t Table, column: &str) -> Option<&'t Column> {
    table
        .columns
        .iter()
        .find(|c| keys.ident(&c.name) == keys.ident(column))
}

/// Whether the column `column` of `table`, as a statement names them (by their names before
/// or after the renames of `changes`), is the same column in `current` and `desired`, its
/// comment aside (a comment has statements of its own).
fn same_column(
    keys: &Keys,
    changes: &[Change],
    current: &Schema,
    desired: &Schema,
    table: &Name,
    column: &str,
) -> bool {
    // The table's names before and after, from the renames of the list.
    let (old_table, new_table) = changes
        .iter()
        .find_map(|c| match c {
            Change::RenameTable { from, to }
                if names(keys, table, from) || names(keys, table, to) =>
            {
                Some((from.clone(), to.clone()))
            }
            _ => None,
        })
        .unwrap_or_else(|| (table.clone(), table.clone()));
    let find = |schema: &'_ Schema, name: &Name| {
        let found = schema.tables.iter().find(|t| names(keys, name, &t.name));
        found.cloned()
    };
    let (Some(before), Some(after)) = (find(current, &old_table), find(desired, &new_table)) else {
        return false;
    };
    let renamed = changes.iter().find_map(|c| match c {
        Change::AlterTable(t) if keys.name(&t.to.name) == keys.name(&after.name) => t
            .renamed_columns
            .iter()
            .find(|(old, new)| {
                keys.ident(old) == keys.ident(column) || keys.ident(new) == keys.ident(column)
            })
            .cloned(),
        _ => None,
    });
    let (old_column, new_column) =
        renamed.unwrap_or_else(|| (column.to_string(), column.to_string()));
    match (
        column_of(keys, &before, &old_column),
        column_of(keys, &after, &new_column),
    ) {
        (Some(before), Some(after)) => {
            let mut before = before.clone();
            before.name.clone_from(&after.name);
            before.comment.clone_from(&after.comment);
            &before == after
        }
        _ => false,
    }
}

/// Whether `written`, a table name as a statement writes it (qualified or not), names `table`.
fn names(keys: &Keys, written: &Name, table: &Name) -> bool {
    keys.name(written) == keys.name(table)
        || written.schema.is_none() && keys.ident(&written.name) == keys.ident(&table.name)
}
