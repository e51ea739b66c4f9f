//! `godwit rollback`: revert applied migrations, or show what would be reverted.

use godwit_core::plan::RollbackStep;
use godwit_core::{Completed, RollbackTarget, Version};
use serde::Serialize;

use super::migrate::with_newline;
use super::{RunRecord, Session, load_migrations};
use crate::args::{RollbackArgs, RollbackTo};
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};

#[derive(Serialize)]
struct RolledBack<'a> {
    rolled_back: &'a [Completed],
}

#[derive(Serialize)]
struct Reverting<'a> {
    version: Version,
    name: &'a str,
    /// `history` when the down script recorded at apply time runs, else the file's path.
    source: String,
    sql: &'a str,
}

#[derive(Serialize)]
struct DryRun<'a> {
    dry_run: bool,
    to_roll_back: Vec<Reverting<'a>>,
}

/// Rollback runs the down script recorded when a migration was applied, so that it works with
/// the file gone; a down file edited since (to fix it, often) is not what runs, and says so.
fn warn_of_edited_down_files(steps: &[RollbackStep], output: Output) {
    for step in steps.iter().filter(|step| step.file_differs) {
        output.warning(&format_args!(
            "the down file of migration {version} changed since it was applied; the down script recorded then runs. To run the file instead, record it first with `godwit repair --accept-checksum {version}`",
            version = step.row.version
        ));
    }
}

/// How far `args` asks to go: one step unless told otherwise.
fn target(args: &RollbackArgs) -> RollbackTarget {
    match (args.to, args.steps) {
        (Some(RollbackTo::Everything), _) => RollbackTarget::All,
        (Some(RollbackTo::Version(version)), _) => RollbackTarget::To(version),
        (None, steps) => RollbackTarget::Steps(steps.unwrap_or(1)),
    }
}

/// Revert applied migrations, or with `--dry-run` print them.
pub(super) async fn run(
    config: &Config,
    args: &RollbackArgs,
    output: Output,
) -> Result<(), CliError> {
    let target = target(args);
    let migrations = load_migrations(config)?;
    let mut session = Session::open(config, migrations, Some(&args.lock), Access::Existing).await?;
    if args.dry_run {
        dry_run(&mut session, target, output).await
    } else {
        revert(&mut session, target, output).await
    }
}

async fn revert(
    session: &mut Session,
    target: RollbackTarget,
    output: Output,
) -> Result<(), CliError> {
    if let Ok(steps) = session.migrator.plan_rollback(target).await {
        warn_of_edited_down_files(&steps, output);
    }
    let mut progress = output.progress();
    session
        .migrator
        .report_statements(progress.shows_statements());
    let mut record = RunRecord::default();
    let result = session
        .migrator
        .rollback(target, &mut |event| {
            record.event(event);
            progress.event(event);
        })
        .await;
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            progress.interrupt();
            return Err(session.error(error).with_document(
                output.format(),
                &RolledBack {
                    rolled_back: &record.completed,
                },
            ));
        }
    };
    progress.finish()?;
    match output.format() {
        Format::Human if report.completed.is_empty() => output.summary("nothing to roll back"),
        Format::Human => output.summary(&format!(
            "{} rolled back",
            output::migrations(report.completed.len())
        )),
        Format::Json => output.json(&RolledBack {
            rolled_back: &report.completed,
        }),
    }
}

async fn dry_run(
    session: &mut Session,
    target: RollbackTarget,
    output: Output,
) -> Result<(), CliError> {
    let steps = session
        .migrator
        .plan_rollback(target)
        .await
        .map_err(|error| session.error(error))?;
    warn_of_edited_down_files(&steps, output);
    // The script recorded when the migration ran is the one that runs, even if the file
    // changed since; say which one it is.
    let source = |step: &RollbackStep| {
        if step.recorded {
            "history".to_string()
        } else {
            step.down.origin()
        }
    };
    match output.format() {
        Format::Human => {
            if steps.is_empty() {
                return output.data("nothing to roll back; nothing would be changed\n");
            }
            let mut text = format!(
                "{} would be rolled back on {} (dry run: nothing was changed)\n",
                output::migrations(steps.len()),
                session.url
            );
            for step in &steps {
                text.push_str(&format!(
                    "\n-- {} {} (down script: {})\n{}",
                    step.row.version,
                    step.row.name,
                    source(step),
                    with_newline(&step.down.sql)
                ));
            }
            output.data(&text)
        }
        Format::Json => output.json(&DryRun {
            dry_run: true,
            to_roll_back: steps
                .iter()
                .map(|step| Reverting {
                    version: step.row.version,
                    name: &step.row.name,
                    source: source(step),
                    sql: &step.down.sql,
                })
                .collect(),
        }),
    }
}
