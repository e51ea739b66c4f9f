//! An operations migration rendered against a schema: its up script, and the reverse.

use super::model::{self, Names};
use super::{Operation, OperationError};
use crate::backfill::{BackfillPlan, backfill_positions};
use crate::declarative::{inverse_renames, migration_script, plan_changes, statements_text};
use crate::dialect::{Dialect, RenderOptions, Statement};
use crate::diff::{Change, Renames};
use crate::migration::{Migration, Script};
use crate::schema::{Enum, Name, Schema};

/// An operations migration rendered against the schema it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolved {
    /// The migration as it runs: its up script the rendered SQL (still carrying the checksum
    /// of the operations' source, which is what the history compares), its down script the
    /// exact reverse, derived from the same schema.
    pub migration: Migration,
    /// The schema the operations leave, as the model sees it: what a dry run renders the next
    /// operations migration against.
    pub schema: Schema,
    /// The phases it runs in when it holds a backfill: the schema steps before each backfill,
    /// the backfill, and the steps after the last one (possibly empty), in order. Empty for a
    /// migration without backfills, which runs as its one up script.
    pub phases: Vec<Phase>,
}

/// One phase of a migration that holds backfills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Schema steps, run as one script.
    Script(Script),
    /// A backfill, run in batches.
    Backfill(BackfillPlan),
}

/// What the resolution of operations collects, in order.
enum Draft {
    Segment(Segment),
    Backfill(BackfillPlan),
}

/// The type names `migration`'s operations declare, for the engine to confirm it knows them
/// ([`Dialect::type_check_query`]), without the enum types the migration creates itself.
pub fn declared_types(migration: &Migration) -> Vec<String> {
    let Some(operations) = &migration.operations else {
        return Vec::new();
    };
    let created: Vec<&str> = operations
        .list
        .iter()
        .filter_map(|op| match op {
            Operation::CreateEnum { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let mut types: Vec<String> = Vec::new();
    for op in &operations.list {
        let declared: Vec<&str> = match op {
            Operation::CreateTable { columns, .. } => {
                columns.iter().map(|c| c.data_type.as_str()).collect()
            }
            Operation::AddColumn { column, .. } => vec![column.data_type.as_str()],
            Operation::SetType { data_type, .. } => vec![data_type.as_str()],
            _ => Vec::new(),
        };
        for data_type in declared {
            if !created.contains(&data_type) && !types.iter().any(|t| t == data_type) {
                types.push(data_type.to_string());
            }
        }
    }
    types
}

/// The type an operation declares that is among `unknown`, if any.
fn unknown_type<'a>(op: &'a Operation, unknown: &[String]) -> Option<&'a str> {
    let is_unknown = |t: &str| unknown.iter().any(|u| u == t);
    match op {
        Operation::CreateTable { columns, .. } => columns
            .iter()
            .map(|c| c.data_type.as_str())
            .find(|t| is_unknown(t)),
        Operation::AddColumn { column, .. } => {
            Some(column.data_type.as_str()).filter(|t| is_unknown(t))
        }
        Operation::SetType { data_type, .. } => Some(data_type.as_str()).filter(|t| is_unknown(t)),
        _ => None,
    }
}

/// Why `dialect` cannot run `op` at all, whatever the schema.
fn unsupported(dialect: &dyn Dialect, op: &Operation) -> Option<String> {
    if op.concurrently() && !dialect.capabilities().concurrent_indexes {
        return Some(format!(
            "the {} engine cannot build or drop an index concurrently; remove `concurrently`",
            dialect.name()
        ));
    }
    let enum_op = matches!(
        op,
        Operation::CreateEnum { .. }
            | Operation::DropEnum { .. }
            | Operation::AddEnumValue { .. }
            | Operation::RenameEnumValue { .. }
    );
    if enum_op {
        // Whether the engine has enum types is the dialect's to say: ask it to render one.
        let probe = Change::CreateEnum(Enum {
            name: Name::bare("probe"),
            values: vec!["a".into()],
        });
        if let Err(cause) = dialect.render(&[probe], &RenderOptions::default()) {
            return Some(format!(
                "the {} engine has no enum types ({cause})",
                dialect.name()
            ));
        }
    }
    None
}

/// The statements of one run of model operations, and of their reverse.
struct Segment {
    up: Vec<Statement>,
    down: Vec<Statement>,
}

/// Render `migration`'s operations against `live`, the schema they run on.
///
/// Each operation is applied to a copy of `live` and checked there; `unknown_types` are type
/// names the engine said it does not know ([`declared_types`]). Then the difference is planned
/// and rendered both ways, as `push` and `generate` do, the renames the operations make passed
/// on so they render as renames. A `sql` operation is opaque: its own up and down run in its
/// place, and the operations after it are rendered from the schema before it.
///
/// A migration without operations comes back unchanged.
pub fn resolve(
    dialect: &dyn Dialect,
    live: &Schema,
    migration: &Migration,
    unknown_types: &[String],
) -> Result<Resolved, OperationError> {
    resolve_from(dialect, live, migration, unknown_types, 0)
}

/// [`resolve`] the operations from the one at index `start` on, for a migration that resumes
/// where an earlier attempt stopped ([`crate::backfill::resume_point`]): `live` already holds
/// what the operations before `start` did, so they are neither checked nor rendered again.
pub fn resolve_from(
    dialect: &dyn Dialect,
    live: &Schema,
    migration: &Migration,
    unknown_types: &[String],
    start: usize,
) -> Result<Resolved, OperationError> {
    let Some(operations) = &migration.operations else {
        return Ok(Resolved {
            migration: migration.clone(),
            schema: live.clone(),
            phases: Vec::new(),
        });
    };
    let invalid = |index: usize, op: &Operation, problem: String| OperationError::Invalid {
        version: migration.version,
        name: migration.name.clone(),
        origin: migration.up.origin(),
        index: index + 1,
        operation: op.to_string(),
        problem,
    };
    let options = RenderOptions::default()
        .with_concurrent_indexes(operations.list.iter().any(Operation::concurrently));
    let names = Names::new(dialect);
    let backfills: Vec<usize> = backfill_positions(operations).collect();
    let mut drafts: Vec<Draft> = Vec::new();
    let mut before = live.clone();
    let mut after = live.clone();
    let mut renames = Renames::default();
    for (index, op) in operations.list.iter().enumerate().skip(start) {
        if let Some(problem) = unsupported(dialect, op) {
            return Err(invalid(index, op, problem));
        }
        if let Some(data_type) = unknown_type(op, unknown_types) {
            return Err(invalid(
                index,
                op,
                format!(
                    "the {} engine knows no type `{data_type}`; check its spelling, or create it first",
                    dialect.name()
                ),
            ));
        }
        if let Operation::Sql { up, down } = op {
            drafts.push(Draft::Segment(segment(
                dialect, migration, &before, &after, &renames, &options,
            )?));
            drafts.push(Draft::Segment(Segment {
                up: vec![Statement::execute(up.trim())],
                down: vec![Statement::execute(down.trim())],
            }));
            before = after.clone();
            renames = Renames::default();
            continue;
        }
        if let Operation::Backfill(backfill) = op {
            let step = backfills.iter().position(|&at| at == index).unwrap_or(0);
            let plan = model::backfill_plan(&names, &after, backfill, step)
                .map_err(|problem| invalid(index, op, problem))?;
            drafts.push(Draft::Segment(segment(
                dialect, migration, &before, &after, &renames, &options,
            )?));
            drafts.push(Draft::Backfill(plan));
            before = after.clone();
            renames = Renames::default();
            continue;
        }
        model::apply(&names, &mut after, &mut renames, op)
            .map_err(|problem| invalid(index, op, problem))?;
        after.normalize();
    }
    drafts.push(Draft::Segment(segment(
        dialect, migration, &before, &after, &renames, &options,
    )?));

    let allow = |statements: Vec<Statement>| -> Vec<Statement> {
        statements
            .into_iter()
            .map(|mut statement| {
                for rule in &operations.allow {
                    statement = statement.allowing_lint(rule, "the operations accept it (`allow`)");
                }
                statement
            })
            .collect()
    };
    let origin = migration.up.origin();
    let script = |text: String| {
        Script::new(text, migration.up.path.clone()).map_err(|error| OperationError::Render {
            version: migration.version,
            name: migration.name.clone(),
            dialect: dialect.name(),
            cause: error.to_string(),
        })
    };
    // A migration with a backfill runs in phases, each committed on its own. Its up script,
    // which a dry run prints and the lint reads, is the phases in order as one script that
    // runs outside a transaction, the phases that run in one grouped in BEGIN/COMMIT and a
    // backfill shown as the statement each of its batches runs.
    let mut phases = Vec::new();
    let mut shown = String::new();
    let mut pending: Vec<Statement> = Vec::new();
    let phase = |statements: Vec<Statement>, shown: &mut String| {
        let statements = allow(statements);
        let text = migration_script(dialect, &statements);
        let phase = script(text)?;
        if !statements.is_empty() {
            let own_transaction =
                !phase.directives.no_transaction && dialect.transactional_script(&phase.sql);
            if own_transaction {
                shown.push_str("\nBEGIN;\n");
                shown.push_str(&statements_text(dialect, &statements, false));
                shown.push_str("\nCOMMIT;\n");
            } else {
                let wrap = statements.iter().any(|s| !s.transactional);
                shown.push_str(&statements_text(dialect, &statements, wrap));
            }
        }
        Ok::<_, OperationError>(phase)
    };
    for draft in &drafts {
        match draft {
            Draft::Segment(segment) => pending.extend(segment.up.iter().cloned()),
            Draft::Backfill(plan) => {
                phases.push(Phase::Script(phase(
                    std::mem::take(&mut pending),
                    &mut shown,
                )?));
                shown.push_str(&plan.describe(dialect));
                phases.push(Phase::Backfill(plan.clone()));
            }
        }
    }
    let shown = if phases.is_empty() {
        // Without a backfill the migration runs as its one script, and has no phases.
        migration_script(dialect, &allow(pending))
    } else {
        phases.push(Phase::Script(phase(pending, &mut shown)?));
        format!(
            "-- godwit:no-transaction\n-- It runs in phases, each committed on its own: the \
             schema steps before a backfill, the backfill in batches, the steps after it.\n{shown}"
        )
    };
    let down: Vec<Statement> = allow(
        drafts
            .iter()
            .rev()
            .flat_map(|draft| match draft {
                Draft::Segment(segment) => segment.down.clone(),
                // Data changes have no reverse: the schema steps' reverse is all there is.
                Draft::Backfill(_) => Vec::new(),
            })
            .collect(),
    );
    let up_text = format!(
        "-- Rendered by godwit from the operations in {origin}, against the schema it ran on.\n{shown}"
    );
    let down_text = format!(
        "-- The reverse of the operations in {origin}, derived from the schema they ran on.\n{}",
        migration_script(dialect, &down)
    );
    let mut up_script = script(up_text)?;
    // The history compares the source's checksum: the operations, not what they rendered to
    // on one database.
    up_script.checksum = migration.up.checksum.clone();
    Ok(Resolved {
        migration: Migration {
            version: migration.version,
            name: migration.name.clone(),
            up: up_script,
            down: Some(script(down_text)?),
            operations: None,
        },
        schema: after,
        phases,
    })
}

/// Plan and render `before -> after` and back.
fn segment(
    dialect: &dyn Dialect,
    migration: &Migration,
    before: &Schema,
    after: &Schema,
    renames: &Renames,
    options: &RenderOptions,
) -> Result<Segment, OperationError> {
    let render = |error: crate::Error| OperationError::Render {
        version: migration.version,
        name: migration.name.clone(),
        dialect: dialect.name(),
        cause: error.to_string(),
    };
    if before == after && renames == &Renames::default() {
        return Ok(Segment {
            up: Vec::new(),
            down: Vec::new(),
        });
    }
    let up = plan_changes(dialect, before, after, renames, options).map_err(render)?;
    let down =
        plan_changes(dialect, after, before, &inverse_renames(renames), options).map_err(render)?;
    Ok(Segment {
        up: up.statements,
        down: down.statements,
    })
}
