//! `godwit push`: make the database match a schema file, without a migration.

use std::collections::BTreeSet;

use godwit_core::declarative::{
    self, ChangePlan, Kept, MeasuredHazard, PossibleRename, SchemaSource,
};
use godwit_core::dialect::{RenderOptions, Statement};
use godwit_core::diff::{Change, Renames};
use godwit_core::url::Redacted;
use godwit_core::{HistoryTable, LockOwner, LockRequest, Store};
use serde::Serialize;

use super::scratch::{self, Host};
use crate::args::PushArgs;
use crate::backend::{self, Access};
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};
use crate::prompt;

#[derive(Serialize)]
struct JsonHazard<'a> {
    #[serde(flatten)]
    hazard: &'a MeasuredHazard,
    needs_consent: bool,
    blocks: bool,
}

#[derive(Serialize)]
struct Pushed<'a> {
    /// What --skip-drops kept rather than dropped.
    kept: &'a [Kept],
    changes: &'a [Change],
    statements: &'a [Statement],
    hazards: Vec<JsonHazard<'a>>,
    applied: bool,
}

/// The database being pushed to.
struct Target<'a> {
    store: &'a mut dyn Store,
    history: &'a HistoryTable,
    url: &'a Redacted,
}

impl Target<'_> {
    fn error(&self, error: godwit_core::Error) -> CliError {
        CliError::engine(error, self.url.clone())
    }
}

/// Under the migration lock: read the database, normalise the schema file on a scratch
/// database, then plan and apply the difference.
pub async fn run(config: &Config, args: &PushArgs, output: Output) -> Result<(), CliError> {
    let source = scratch::schema_source(config, args.schema.schema.as_deref())?;
    scratch::warn_if_empty(&source, output);
    let hints = scratch::hints(&source)?;
    let url = config.url()?;
    let redacted = url.redacted();
    let access = if args.dry_run {
        Access::Preview
    } else {
        Access::Create
    };
    // Before the target is opened: a dev_url of the wrong engine must not create its file.
    let mut dev = Host::dev_for(config, url).await?;
    let lock_timeout = args.lock.lock_timeout.unwrap_or(config.lock_timeout);
    // A dry run takes the lock too, to read a schema no run is changing.
    let opened = backend::open(url, config, access, Some(lock_timeout)).await?;
    let mut store = opened.store;

    let owner = LockOwner::this_process(format!("godwit {}", env!("CARGO_PKG_VERSION")));
    let request = LockRequest {
        table: &opened.history,
        owner: &owner,
        timeout: lock_timeout,
    };
    let locked = declarative::lock_for_change(store.as_mut(), &request)
        .await
        .map_err(|error| CliError::engine(error, redacted.clone()))?;
    let mut target = Target {
        store: store.as_mut(),
        history: &opened.history,
        url: &redacted,
    };
    let options = RenderOptions::default()
        .with_concurrent_indexes(args.indexes.concurrently)
        .with_scope(config.scope.clone());
    let result = push(
        &mut target,
        dev.as_mut(),
        &source,
        &hints,
        args,
        &options,
        output,
    )
    .await;
    if locked && let Err(error) = store.unlock(&opened.history).await {
        tracing::warn!(%error, "could not release the migration lock; `godwit unlock` clears it");
    }
    result
}

async fn push(
    target: &mut Target<'_>,
    dev: Option<&mut Host>,
    source: &SchemaSource,
    hints: &Renames,
    args: &PushArgs,
    options: &RenderOptions,
    output: Output,
) -> Result<(), CliError> {
    let current = declarative::introspect(target.store, target.history)
        .await
        .map_err(|error| target.error(error))?;
    let desired = match dev {
        Some(dev) => dev.desired(source, &current).await?,
        None => scratch::desired_on(target.store, target.url, source, &current).await?,
    };
    let desired = &desired;
    scratch::warn_unmanaged(desired, &current, &options.scope, "push", output);
    let mut renames = scratch::renames(hints, &args.renames.renames, &current, desired)?;
    let dialect = target.store.dialect();
    let plan_for = |renames: &Renames| {
        if args.skip_drops {
            declarative::plan_keeping_undeclared(dialect, &current, desired, renames, options)
        } else {
            declarative::plan_changes(dialect, &current, desired, renames, options)
                .map(|plan| (plan, Vec::new()))
        }
    };
    let (mut plan, mut kept) = plan_for(&renames).map_err(|error| target.error(error))?;

    let possible = if args.accept_data_loss {
        Vec::new()
    } else {
        declarative::possible_renames(&plan.changes)
    };
    if !possible.is_empty() {
        if args.dry_run {
            for rename in &possible {
                output.warning(&format!(
                    "the plan drops and creates what may be a rename of {rename}; if it is, pass --rename {}",
                    rename.flag()
                ));
            }
        } else if prompt::interactive() {
            let chosen = ask_renames(&possible)?;
            if !chosen.is_empty() {
                for rename in chosen {
                    declarative::merge_renames(&mut renames, rename.to_renames());
                }
                (plan, kept) = plan_for(&renames).map_err(|error| target.error(error))?;
            }
        } else {
            return Err(CliError::PossibleRename {
                flags: possible.iter().map(PossibleRename::flag).collect(),
            }
            .with_document(output, &pushed(&kept, &plan, &[], false)));
        }
    }

    for object in &kept {
        output.summary(&format!("kept: {object} (not in the schema; --skip-drops)"))?;
    }
    if plan.is_empty() {
        let apart = if kept.is_empty() {
            String::new()
        } else {
            format!(
                ", apart from the {} kept above",
                output::count(kept.len(), "object")
            )
        };
        return match output.format() {
            Format::Human => output.summary(&format!(
                "no changes: the database at {} matches the schema{apart}",
                target.url
            )),
            Format::Json => output.json(&pushed(&kept, &plan, &[], false)),
        };
    }

    let hazards = declarative::measure_hazards(target.store, &plan)
        .await
        .map_err(|error| target.error(error))?;
    let needing_consent = hazards.iter().filter(|h| h.needs_consent()).count();
    if output.format() == Format::Human {
        output.data(&format!(
            "{} to make {} match the schema:\n\n{}",
            output::statements(plan.statements.len()),
            target.url,
            output::statements_text(&plan.statements, &hazards)
        ))?;
    }
    // Rows that would make a statement fail (a constraint they break, an enum label they
    // hold) stop the run, dry or not: the dry run says what the real one would do.
    let unapplied = || pushed(&kept, &plan, &hazards, false);
    let blocked = declarative::refuse_blocked(&hazards).map_err(|error| {
        target
            .error(error.into())
            .with_document(output, &unapplied())
    });
    if args.dry_run {
        match output.format() {
            Format::Human => output.summary("\ndry run: nothing was changed")?,
            // A refusal's document is the error's.
            Format::Json if blocked.is_err() => {}
            Format::Json => output.json(&unapplied())?,
        }
        return blocked;
    }
    blocked?;

    if needing_consent > 0 && !args.accept_data_loss {
        if !prompt::interactive() {
            return Err(CliError::DataLoss {
                count: needing_consent,
            }
            .with_document(output, &unapplied()));
        }
        let question = format!(
            "{} above {} data (marked DESTRUCTIVE).",
            output::statements(needing_consent),
            if needing_consent == 1 {
                "destroys"
            } else {
                "destroy"
            }
        );
        if !prompt::confirm_typed(&question)? {
            return Err(CliError::Declined);
        }
    } else if !args.yes && prompt::interactive() {
        let question = format!(
            "apply {} to {}?",
            output::statements(plan.statements.len()),
            target.url
        );
        if !prompt::confirm(&question)? {
            return Err(CliError::Declined);
        }
    }

    declarative::apply(target.store, &plan.statements)
        .await
        .map_err(|error| target.error(error).with_document(output, &unapplied()))?;
    match output.format() {
        Format::Human => output.summary(&format!(
            "\napplied {}",
            output::statements(plan.statements.len())
        )),
        Format::Json => output.json(&pushed(&kept, &plan, &hazards, true)),
    }
}

/// Ask about each possible rename, skipping pairings whose table or column an earlier answer
/// already took.
fn ask_renames(possible: &[PossibleRename]) -> Result<Vec<&PossibleRename>, CliError> {
    let mut taken = BTreeSet::new();
    let mut chosen = Vec::new();
    for rename in possible {
        let (from, to) = match rename {
            PossibleRename::Table { from, to } => (format!("table {from}"), format!("table {to}")),
            PossibleRename::Column { table, from, to } => (
                format!("column {table}.{from}"),
                format!("column {table}.{to}"),
            ),
            PossibleRename::EnumValue {
                type_name,
                from,
                to,
            } => (
                format!("label {type_name}.{from}"),
                format!("label {type_name}.{to}"),
            ),
            _ => continue,
        };
        if taken.contains(&from) || taken.contains(&to) {
            continue;
        }
        if prompt::confirm(&format!("did you rename {rename}?"))? {
            taken.insert(from);
            taken.insert(to);
            chosen.push(rename);
        }
    }
    Ok(chosen)
}

/// The JSON document of a push: what it would change or changed, and whether it was applied.
/// A refused or failed push carries it in its error's document, `applied` false.
fn pushed<'a>(
    kept: &'a [Kept],
    plan: &'a ChangePlan,
    hazards: &'a [MeasuredHazard],
    applied: bool,
) -> Pushed<'a> {
    Pushed {
        kept,
        changes: &plan.changes,
        statements: &plan.statements,
        hazards: hazards
            .iter()
            .map(|hazard| JsonHazard {
                hazard,
                needs_consent: hazard.needs_consent(),
                blocks: hazard.blocks(),
            })
            .collect(),
        applied,
    }
}
