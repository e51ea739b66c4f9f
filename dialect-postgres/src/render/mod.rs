//! Turning the diff's changes into PostgreSQL statements.
//!
//! The diff decides what changes and in which order; this module decides how. Most changes map
//! onto one statement. A few need the rest of the change list to be rendered right, so the
//! renderer keeps it at hand ([`Context`]):
//!
//! - hazard count queries run against the database as it is before the first statement, so
//!   they name tables and columns by their current names, found through the renames in the
//!   list;
//! - a domain or sequence that changes arrives as a drop and a create of the same name, which
//!   becomes `ALTER DOMAIN` / `ALTER SEQUENCE` (PostgreSQL refuses to drop a domain that
//!   columns use, and a new sequence would start counting again);
//! - an enum that loses labels is rebuilt, and the columns of the tables this change alters are
//!   converted to the rebuilt type (the diff alters every table with a column of that type);
//!   what else may use it (domains, functions) cannot be seen from here, so a check stops the
//!   change before anything is lost if anything remains;
//! - with [`RenderOptions::concurrent_indexes`], an index change is concurrent only when its
//!   table (or materialized view) exists before the change and after it, is not partitioned,
//!   and no foreign key this change adds or drops may rely on the index;
//! - a statement that blocks a table in use on purpose (an index change in the transaction, a
//!   constraint that checks every row) says why as a lint allowance, which a generated
//!   migration writes above it; so does the drop of a generated column made again.

mod access;
mod convert;
mod inherits;
mod persistence;
mod sql;
mod table;
mod types;

use godwit_core::dialect::{Hazard, HazardKind, RenderError, RenderOptions, Statement};
use godwit_core::diff::{Change, TableChange};
use godwit_core::schema::{CommentTarget, Function, Index, Name, Trigger, View};

pub(crate) use self::sql::{PARTITION_BY, PARTITION_OF, qualified};
use self::sql::{index_table, literal, partition_of, quote, split_qualified};
use self::types::create_enum;

/// Render `changes`, in the order the diff produced them.
pub(crate) fn render(
    changes: &[Change],
    options: &RenderOptions,
) -> Result<Vec<Statement>, RenderError> {
    let context = Context { changes, options };
    // Statements that may not run in the transaction run before it, so that the rest still
    // commits or rolls back as one: enum labels, which nothing earlier needs, and concurrent
    // index drops, which must find their index before the transaction drops its columns.
    // Concurrent index builds run after it, as they may index tables and columns it creates.
    let mut before = Vec::new();
    let mut inside = Vec::new();
    let mut after = Vec::new();
    if changes
        .iter()
        .any(|change| matches!(change, Change::CreateFunction(_)))
    {
        // Functions are created before tables (tables may use them in defaults and checks),
        // so a SQL function reading a table would fail its body check. The bodies were already
        // checked when the desired schema was applied to the scratch database, so skipping
        // the check here loses nothing; pg_dump does the same.
        inside.push(Statement::execute("SET LOCAL check_function_bodies = off"));
    }
    context.drop_foreign_keys_of_dropped_tables(&mut inside);
    let mut persistence = Some(persistence::persistence(changes));
    for change in inherits::parents_first(partitions_after_parents(changes)) {
        if let Change::AlterTable(_) = change {
            inside.extend(persistence.take().into_iter().flatten());
        }
        let mut out = Vec::new();
        context.render_change(change, &mut out)?;
        for statement in out {
            if statement.transactional {
                inside.push(statement);
            } else if let Change::CreateIndex(_) = change {
                after.push(statement);
            } else {
                before.push(statement);
            }
        }
    }
    before.extend(inside);
    before.extend(after);
    Ok(before)
}

/// The changes with every partition created after the table it is a partition of, and every
/// table after those it inherits from. The diff creates tables in name order, which need not
/// be that order.
fn partitions_after_parents(changes: &[Change]) -> Vec<&Change> {
    let mut ordered: Vec<&Change> = Vec::with_capacity(changes.len());
    let mut held: Vec<&Change> = Vec::new();
    for change in changes {
        match change {
            Change::CreateTable(table)
                if partition_of(table).is_some() || !table.inherits.is_empty() =>
            {
                held.push(change);
            }
            Change::CreateTable(_) => ordered.push(change),
            _ => {
                place_partitions(&mut held, &mut ordered);
                ordered.push(change);
            }
        }
    }
    place_partitions(&mut held, &mut ordered);
    ordered
}

/// Append the held tables, each after the held tables it is a partition of or inherits from.
fn place_partitions<'a>(held: &mut Vec<&'a Change>, ordered: &mut Vec<&'a Change>) {
    let parents = |change: &Change| match change {
        Change::CreateTable(table) => partition_of(table)
            .map(|(parent, _)| parent.to_string())
            .into_iter()
            .chain(table.inherits.iter().map(qualified))
            .collect(),
        _ => Vec::new(),
    };
    let name = |change: &Change| match change {
        Change::CreateTable(table) => Some(qualified(&table.name)),
        _ => None,
    };
    while !held.is_empty() {
        let ready = held
            .iter()
            .position(|change| {
                let parents = parents(change);
                !held
                    .iter()
                    .any(|other| name(other).is_some_and(|n| parents.contains(&n)))
            })
            // Parents cannot form a cycle; should the catalog say otherwise, keep the order.
            .unwrap_or(0);
        ordered.push(held.remove(ready));
    }
}

fn impossible(message: impl Into<String>) -> RenderError {
    RenderError::Impossible(message.into())
}

/// The change list, for the renderings that depend on more than one change.
struct Context<'a> {
    changes: &'a [Change],
    options: &'a RenderOptions,
}

impl Context<'_> {
    fn table_created(&self, name: &Name) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c, Change::CreateTable(t) if &t.name == name))
    }

    fn table_dropped(&self, name: &Name) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c, Change::DropTable(t) if &t.name == name))
    }

    /// Whether this change creates, or drops (and maybe creates again), the view `name`.
    fn view_replaced(&self, name: &Name) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c, Change::CreateView(v) | Change::DropView(v) if &v.name == name))
    }

    fn sequence_mentioned(&self, text: &str) -> bool {
        self.changes.iter().any(|c| match c {
            Change::CreateSequence(s) | Change::DropSequence(s) => {
                split_qualified(text).is_some_and(|parts| parts.last() == Some(&s.name.name))
            }
            _ => false,
        })
    }

    /// The name a table has before any statement runs.
    fn current_table(&self, name: &Name) -> Name {
        self.changes
            .iter()
            .find_map(|c| match c {
                Change::RenameTable { from, to } if to == name => Some(from.clone()),
                _ => None,
            })
            .unwrap_or_else(|| name.clone())
    }

    /// The alteration of the table called `name` after renames, if it is altered.
    fn table_change(&self, name: &Name) -> Option<&TableChange> {
        self.changes.iter().find_map(|c| match c {
            Change::AlterTable(change) if &change.to.name == name => Some(change.as_ref()),
            _ => None,
        })
    }

    /// The name a column of `table` (desired name) has before any statement runs, or `None`
    /// when this change adds it.
    fn current_column(&self, table: &Name, column: &str) -> Option<String> {
        let Some(change) = self.table_change(table) else {
            return (!self.table_created(table)).then(|| column.to_string());
        };
        if change.added_columns.iter().any(|c| c.name == column) {
            return None;
        }
        Some(
            change
                .renamed_columns
                .iter()
                .find(|(_, new)| new == column)
                .map_or_else(|| column.to_string(), |(old, _)| old.clone()),
        )
    }

    /// `SELECT count(*) FROM <table> WHERE <condition>` over the current names, where
    /// `condition` is built from the current names of `columns`; `None` when a column does
    /// not exist yet.
    fn count_query(
        &self,
        table: &Name,
        columns: &[String],
        condition: impl FnOnce(&[String]) -> String,
    ) -> Option<String> {
        let current: Option<Vec<String>> = columns
            .iter()
            .map(|c| self.current_column(table, c).map(|c| quote(&c)))
            .collect();
        let condition = condition(&current?);
        Some(format!(
            "SELECT count(*) FROM {} WHERE {condition}",
            qualified(&self.current_table(table))
        ))
    }

    fn render_change(&self, change: &Change, out: &mut Vec<Statement>) -> Result<(), RenderError> {
        match change {
            Change::CreateSchema(schema) => {
                out.push(Statement::execute(format!(
                    "CREATE SCHEMA {}",
                    quote(schema)
                )));
            }
            Change::DropSchema(schema) => out.push(
                Statement::execute(format!("DROP SCHEMA {}", quote(schema))).with_hazard(
                    Hazard::new(
                        HazardKind::DropObject,
                        format!("drops schema {schema}"),
                        None,
                    ),
                ),
            ),
            Change::CreateExtension(extension) => {
                let schema = extension
                    .schema
                    .as_deref()
                    .map(|s| format!(" WITH SCHEMA {}", quote(s)))
                    .unwrap_or_default();
                out.push(Statement::execute(format!(
                    "CREATE EXTENSION IF NOT EXISTS {}{schema}",
                    quote(&extension.name)
                )));
            }
            Change::DropExtension(extension) => out.push(
                Statement::execute(format!("DROP EXTENSION {}", quote(&extension.name)))
                    .with_hazard(Hazard::new(
                        HazardKind::DropObject,
                        format!("drops extension {}", extension.name),
                        None,
                    )),
            ),
            Change::CreateEnum(e) => out.push(Statement::execute(create_enum(e))),
            Change::AlterEnum { from, to, renamed } => self.alter_enum(from, to, renamed, out)?,
            Change::DropEnum(e) => out.push(
                Statement::execute(format!("DROP TYPE {}", qualified(&e.name))).with_hazard(
                    Hazard::new(
                        HazardKind::DropObject,
                        format!("drops type {}", e.name),
                        None,
                    ),
                ),
            ),
            Change::CreateDomain(domain) => self.create_domain(domain, out),
            Change::DropDomain(domain) => {
                if self.replacing_domain(domain).is_none() {
                    out.push(
                        Statement::execute(format!("DROP DOMAIN {}", qualified(&domain.name)))
                            .with_hazard(Hazard::new(
                                HazardKind::DropObject,
                                format!("drops domain {}", domain.name),
                                None,
                            )),
                    );
                }
            }
            Change::CreateSequence(sequence) => {
                let verb = if self.sequence_replaced(sequence) {
                    "ALTER"
                } else {
                    "CREATE"
                };
                out.push(Statement::execute(format!(
                    "{verb} SEQUENCE {} {}",
                    qualified(&sequence.name),
                    sequence.definition
                )));
            }
            Change::DropSequence(sequence) => {
                if !self.sequence_replaced(sequence) {
                    out.push(
                        Statement::execute(format!("DROP SEQUENCE {}", qualified(&sequence.name)))
                            .with_hazard(Hazard::new(
                                HazardKind::DropObject,
                                format!("drops sequence {}", sequence.name),
                                None,
                            )),
                    );
                }
            }
            Change::CreateFunction(function) => {
                out.push(Statement::execute(function.definition.trim_end()));
            }
            Change::DropFunction(function) => {
                let mut statement =
                    Statement::execute(format!("DROP ROUTINE {}", routine(function)?));
                // A function whose result type changes is dropped and created again.
                let recreated = self.changes.iter().any(
                    |c| matches!(c, Change::CreateFunction(f) if f.signature == function.signature),
                );
                if !recreated {
                    statement = statement.with_hazard(Hazard::new(
                        HazardKind::DropObject,
                        format!("drops function {}", function.signature),
                        None,
                    ));
                }
                out.push(statement);
            }
            Change::RenameTable { from, to } => {
                let mut current = from.clone();
                if from.schema != to.schema {
                    let schema = to.schema.as_deref().ok_or_else(|| {
                        impossible(format!("table {to} has no schema to move {from} into"))
                    })?;
                    out.push(Statement::execute(format!(
                        "ALTER TABLE {} SET SCHEMA {}",
                        qualified(from),
                        quote(schema)
                    )));
                    current.schema.clone_from(&to.schema);
                }
                if from.name != to.name {
                    out.push(Statement::execute(format!(
                        "ALTER TABLE {} RENAME TO {}",
                        qualified(&current),
                        quote(&to.name)
                    )));
                }
            }
            Change::CreateTable(table) => self.create_table(table, out)?,
            Change::AlterTable(change) => self.alter_table(change, out)?,
            Change::DropTable(table) => {
                // Dropping a partitioned table drops its partitions with it.
                let parent_dropped = partition_of(table).is_some_and(|(parent, _)| {
                    self.changes
                        .iter()
                        .any(|c| matches!(c, Change::DropTable(t) if qualified(&t.name) == parent))
                });
                if !parent_dropped {
                    // A parent's rows as read include its children's, which are not dropped.
                    let only = if self.has_children(&table.name) {
                        "ONLY "
                    } else {
                        ""
                    };
                    out.push(
                        Statement::execute(format!("DROP TABLE {}", qualified(&table.name)))
                            .with_hazard(Hazard::new(
                                HazardKind::DropTable,
                                format!("drops table {} and its rows", table.name),
                                Some(format!(
                                    "SELECT count(*) FROM {only}{}",
                                    qualified(&table.name)
                                )),
                            )),
                    );
                }
            }
            Change::CreateIndex(index) if self.index_run(index) == IndexRun::Concurrently => {
                let name = qualified(&index.name);
                out.push(
                    Statement::execute(create_index(index).replacen(
                        " INDEX ",
                        " INDEX CONCURRENTLY ",
                        1,
                    ))
                    .concurrently()
                    .with_failure_hint(format!(
                        "PostgreSQL leaves the index {} behind marked INVALID; drop it with \
                         `DROP INDEX CONCURRENTLY {name}`, fix the cause, and run again",
                        index.name
                    )),
                );
            }
            Change::CreateIndex(index) => out.push(self.allow_blocking(
                index,
                Statement::execute(create_index(index)),
                "builds",
            )),
            Change::DropIndex(index) => {
                let name = qualified(&index.name);
                let mut statement = if self.index_run(index) == IndexRun::Concurrently {
                    Statement::execute(format!("DROP INDEX CONCURRENTLY {name}"))
                        .concurrently()
                        .with_failure_hint(format!(
                            "an interrupted drop may leave the index {} behind marked \
                             INVALID; run `DROP INDEX CONCURRENTLY {name}` again",
                            index.name
                        ))
                } else {
                    self.allow_blocking(
                        index,
                        Statement::execute(format!("DROP INDEX {name}")),
                        "drops",
                    )
                };
                if !self.index_recreated(index) {
                    statement = statement.with_hazard(Hazard::new(
                        HazardKind::DropObject,
                        format!("drops index {}", index.name),
                        None,
                    ));
                }
                out.push(statement);
            }
            Change::RenameIndex { from, index } => out.push(Statement::execute(format!(
                "ALTER INDEX {} RENAME TO {}",
                qualified(from),
                quote(&index.name.name)
            ))),
            Change::AddForeignKey { table, key } => self.add_foreign_key(table, key, out)?,
            // A key that only changes when it is checked is altered where it is added.
            Change::DropForeignKey { table, key }
                if self.deferral_changed(table, key).is_some() => {}
            Change::DropForeignKey { table, key } => {
                out.push(Statement::execute(format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    qualified(table),
                    quote(constraint_name(key.name.as_deref(), table, "foreign key")?)
                )));
            }
            Change::CreateView(view) => out.push(Statement::execute(view.definition.clone())),
            Change::DropView(view) => {
                let mut statement = Statement::execute(format!(
                    "DROP {} {}",
                    view_kind(view),
                    qualified(&view.name)
                ));
                if !self.view_recreated(view) {
                    statement = statement.with_hazard(Hazard::new(
                        HazardKind::DropObject,
                        format!("drops {} {}", view_kind(view).to_lowercase(), view.name),
                        None,
                    ));
                }
                out.push(statement);
            }
            Change::CreateTrigger(trigger) => {
                out.push(Statement::execute(trigger.definition.clone()));
            }
            Change::DropTrigger(trigger) => {
                let mut statement = Statement::execute(format!(
                    "DROP TRIGGER {} ON {}",
                    quote(&trigger.name),
                    qualified(&trigger.table)
                ));
                if !self.trigger_recreated(trigger) {
                    statement = statement.with_hazard(Hazard::new(
                        HazardKind::DropObject,
                        format!("drops trigger {} on {}", trigger.name, trigger.table),
                        None,
                    ));
                }
                out.push(statement);
            }
            Change::CommentColumn {
                table,
                column,
                comment,
                ..
            } => out.push(Statement::execute(format!(
                "COMMENT ON COLUMN {}.{} IS {}",
                qualified(table),
                quote(column),
                comment
                    .as_deref()
                    .map_or_else(|| "NULL".to_string(), literal)
            ))),
            Change::Comment { on, comment } => out.push(Statement::execute(format!(
                "COMMENT ON {} IS {}",
                comment_target(on)?,
                comment
                    .as_deref()
                    .map_or_else(|| "NULL".to_string(), literal)
            ))),
            other => {
                let statements = access::render(other).ok_or_else(|| {
                    impossible(format!(
                        "the PostgreSQL backend does not know how to apply this change yet: {other:?}"
                    ))
                })?;
                out.extend(statements.into_iter().map(Statement::execute));
            }
        }
        Ok(())
    }

    /// How to create or drop `index`: concurrently when asked to, and when that is possible
    /// and safe. PostgreSQL cannot build or drop an index of a partitioned table concurrently;
    /// an index of a table this change creates or drops has nobody to block. A materialized
    /// view this change creates, or drops and creates again, gets its indexes in the same
    /// transaction, so that it is never without the unique index a
    /// `REFRESH MATERIALIZED VIEW CONCURRENTLY` needs. A unique index may be what a foreign
    /// key of this change references: the key is added (or dropped) in the transaction, which
    /// needs the index built before it (or dropped after it), so such an index stays in the
    /// transaction. Which columns a key needs is not compared; any key to the index's table
    /// keeps a unique index plain, which only costs a lock.
    fn index_run(&self, index: &Index) -> IndexRun {
        let Some((table, partitioned)) = index_table(&index.definition) else {
            return IndexRun::Unread;
        };
        if self.table_created(&table) || self.table_dropped(&table) || self.view_replaced(&table) {
            return IndexRun::Unused;
        }
        if !self.options.concurrent_indexes {
            return IndexRun::Blocking(Blocking::NotAsked(table));
        }
        if partitioned {
            return IndexRun::Blocking(Blocking::Partitioned(table));
        }
        let key_relies = index.unique
            && self.changes.iter().any(|c| match c {
                Change::AddForeignKey { key, .. } | Change::DropForeignKey { key, .. } => {
                    key.references == table
                }
                _ => false,
            });
        if key_relies {
            return IndexRun::Blocking(Blocking::KeyRelies(table));
        }
        IndexRun::Concurrently
    }

    /// `statement`, which `verb`s `index` in the transaction, with the reason it blocks the
    /// sessions using its relation as a lint allowance, when it does: a generated migration
    /// says so where `index-without-concurrently` would stop `godwit migrate`.
    fn allow_blocking(&self, index: &Index, statement: Statement, verb: &str) -> Statement {
        let IndexRun::Blocking(blocking) = self.index_run(index) else {
            return statement;
        };
        let reason = match blocking {
            Blocking::NotAsked(table) => format!(
                "written without --concurrently, it {verb} the index while writes to {table} \
                 wait; for a table in use, generate with --concurrently"
            ),
            Blocking::Partitioned(table) => format!(
                "PostgreSQL cannot do this concurrently on the partitioned table {table}, so it \
                 {verb} the index while writes to it wait"
            ),
            Blocking::KeyRelies(table) => format!(
                "a foreign key this change adds or drops relies on it, so it {verb} the index in \
                 the key's transaction while writes to {table} wait"
            ),
        };
        statement.allowing_lint("index-without-concurrently", reason)
    }

    fn index_recreated(&self, index: &Index) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c, Change::CreateIndex(i) if i.name == index.name))
    }

    fn view_recreated(&self, view: &View) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c, Change::CreateView(v) if v.name == view.name))
    }

    fn trigger_recreated(&self, trigger: &Trigger) -> bool {
        self.changes.iter().any(|c| {
            matches!(c, Change::CreateTrigger(t)
                if t.name == trigger.name && self.current_table(&t.table) == trigger.table)
        })
    }
}

/// How an index change runs ([`Context::index_run`]).
#[derive(Debug, PartialEq, Eq)]
enum IndexRun {
    /// `CONCURRENTLY`, outside the transaction.
    Concurrently,
    /// In the transaction, on a relation this change creates, drops or creates again, which
    /// nobody else uses yet.
    Unused,
    /// In the transaction, while sessions using the relation wait.
    Blocking(Blocking),
    /// In the transaction; the index's definition did not say which relation it indexes, so
    /// whether anyone waits is not known.
    Unread,
}

/// Why an index change on a relation in use runs in the transaction.
#[derive(Debug, PartialEq, Eq)]
enum Blocking {
    /// Concurrent index changes were not asked for.
    NotAsked(Name),
    /// The table is partitioned.
    Partitioned(Name),
    /// A foreign key of the change references the table, and may need the unique index.
    KeyRelies(Name),
}

fn create_index(index: &Index) -> String {
    // The definition of an index on a partitioned table says `ON ONLY`, which would leave
    // the partitions without it; created without ONLY, it is created on every partition.
    index.definition.replacen(" ON ONLY ", " ON ", 1)
}

fn constraint_name<'a>(
    name: Option<&'a str>,
    table: &Name,
    what: &str,
) -> Result<&'a str, RenderError> {
    name.ok_or_else(|| {
        impossible(format!(
            "the {what} of {table} has no name, so it cannot be dropped"
        ))
    })
}

fn view_kind(view: &View) -> &'static str {
    if view.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

/// `"schema"."name"(argument types)` for `DROP ROUTINE`, which takes functions and procedures
/// alike.
fn routine(function: &Function) -> Result<String, RenderError> {
    routine_by_signature(&function.name, &function.signature)
}

fn routine_by_signature(name: &Name, signature: &str) -> Result<String, RenderError> {
    let prefix = format!(
        "{}.{}(",
        name.schema.as_deref().unwrap_or_default(),
        name.name
    );
    let arguments = signature
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| impossible(format!("cannot read the arguments of function {signature}")))?;
    Ok(format!("{}({arguments})", qualified(name)))
}

/// A `DO` block that raises `message` when `query` returns a row.
pub(crate) fn assertion(query: &str, message: &str) -> String {
    format!(
        "DO $godwit$\nBEGIN\n    IF EXISTS ({}) THEN\n        RAISE EXCEPTION USING MESSAGE = {};\n    END IF;\nEND\n$godwit$",
        query.trim().trim_end_matches(';'),
        literal(message)
    )
}

/// The object of a `COMMENT ON` statement.
fn comment_target(on: &CommentTarget) -> Result<String, RenderError> {
    Ok(match on {
        CommentTarget::Index { name } => format!("INDEX {}", qualified(name)),
        CommentTarget::Constraint { table, name } => {
            format!("CONSTRAINT {} ON {}", quote(name), qualified(table))
        }
        CommentTarget::View { name, materialized } => format!(
            "{}VIEW {}",
            if *materialized { "MATERIALIZED " } else { "" },
            qualified(name)
        ),
        CommentTarget::Trigger { table, name } => {
            format!("TRIGGER {} ON {}", quote(name), qualified(table))
        }
        CommentTarget::Routine { name, signature } => {
            format!("ROUTINE {}", routine_by_signature(name, signature)?)
        }
        CommentTarget::Type { name } => format!("TYPE {}", qualified(name)),
        CommentTarget::Domain { name } => format!("DOMAIN {}", qualified(name)),
        CommentTarget::Sequence { name } => format!("SEQUENCE {}", qualified(name)),
        other => return Err(impossible(format!("cannot comment on {other:?}"))),
    })
}
