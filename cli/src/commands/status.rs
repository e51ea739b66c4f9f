//! `godwit status`: the state of every migration. Reads only.

use godwit_core::plan::{StatusEntry, Warning};
use godwit_core::{BackfillRow, InvalidIndex, LockHolder, State, StatusReport};
use serde::Serialize;

use super::{Session, load_migrations};
use crate::args::StatusArgs;
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};

#[derive(Serialize)]
struct Status<'a> {
    migrations: &'a [StatusEntry],
    /// Indexes left invalid by a failed concurrent build (PostgreSQL).
    invalid_indexes: &'a [InvalidIndex],
    /// Who holds the migration lock (a run in progress, or a stale lock), or `null`.
    lock: Option<&'a LockHolder>,
    /// Backfills not finished: running, or interrupted (the next `migrate` resumes them).
    backfills: &'a [BackfillRow],
}

/// Print every migration's state. Pending migrations are not a failure, unless `--exit-code`
/// makes every state but applied one.
pub(super) async fn run(
    config: &Config,
    args: &StatusArgs,
    output: Output,
) -> Result<(), CliError> {
    let migrations = load_migrations(config)?;
    let mut session = Session::open(config, migrations, None, Access::Preview).await?;
    let report = session
        .migrator
        .status()
        .await
        .map_err(|error| session.error(error))?;
    let invalid = session
        .migrator
        .invalid_indexes()
        .await
        .map_err(|error| session.error(error))?;
    if output.format() == Format::Human {
        for index in &invalid {
            output.warning(&Warning::InvalidIndex {
                index: index.clone(),
            });
        }
    }
    let document = Status {
        migrations: &report.entries,
        invalid_indexes: &invalid,
        lock: report.lock.as_ref(),
        backfills: &report.backfills,
    };
    let not_up_to_date = not_up_to_date(&report).filter(|_| args.exit_code);
    match output.format() {
        Format::Human if report.entries.is_empty() => output.data(&format!(
            "no migration files in {} and none recorded in the database; create one with `godwit new NAME`\n",
            config.migrations.display()
        ))?,
        Format::Human => output.data(&output::status_table(&report))?,
        // A gate that fails makes this document the error's.
        Format::Json if not_up_to_date.is_some() => {}
        Format::Json => output.json(&document)?,
    }
    match not_up_to_date {
        Some(error) => Err(error.with_document(output.format(), &document)),
        None => Ok(()),
    }
}

/// What keeps the database from being up to date, when something does: every state but
/// applied, counted.
fn not_up_to_date(report: &StatusReport) -> Option<CliError> {
    let counts: Vec<(State, usize)> = output::STATES
        .iter()
        .filter(|&&state| state != State::Applied)
        .map(|&state| (state, report.count(state)))
        .filter(|&(_, count)| count > 0)
        .collect();
    (!counts.is_empty()).then_some(CliError::NotUpToDate {
        counts,
        total: report.entries.len(),
    })
}
