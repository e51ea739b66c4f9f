//! `godwit backfill --status`: the progress of every backfill. Reads only.

use godwit_core::BackfillRow;
use serde::Serialize;

use super::{Session, load_migrations};
use crate::args::BackfillArgs;
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};

#[derive(Serialize)]
struct Backfills<'a> {
    backfills: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(flatten)]
    row: &'a BackfillRow,
    /// `finished`, `running` or `interrupted`.
    state: &'static str,
}

/// Print every backfill's progress (`--status`, which clap requires: without it the command
/// prints its help).
pub(super) async fn run(
    config: &Config,
    args: &BackfillArgs,
    output: Output,
) -> Result<(), CliError> {
    debug_assert!(args.status, "clap prints the help without --status");
    let migrations = load_migrations(config)?;
    let mut session = Session::open(config, migrations, None, Access::Preview).await?;
    let holder = session
        .migrator
        .lock_holder()
        .await
        .map_err(|error| session.error(error))?;
    // A live holder of the lock is the run that is at the unfinished backfills.
    let running = holder.is_some_and(|h| h.alive() != Some(false));
    let rows = session
        .migrator
        .backfills()
        .await
        .map_err(|error| session.error(error))?;
    match output.format() {
        Format::Human if rows.is_empty() => output.data(
            "no backfill has run on this database; a backfill is an operation (`kind = \"backfill\"`) \
             of an operations file, run by `godwit migrate`\n",
        ),
        Format::Human => output.data(&output::backfills_table(&rows, running)),
        Format::Json => output.json(&Backfills {
            backfills: rows
                .iter()
                .map(|row| Entry {
                    row,
                    state: output::backfill_state(row, running),
                })
                .collect(),
        }),
    }
}
