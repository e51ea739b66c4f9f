//! `godwit repair`: change the history by hand, without running SQL.

use godwit_core::{HistoryRow, RepairAction};
use serde::Serialize;

use super::{Session, load_migrations};
use crate::args::RepairArgs;
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{Format, Output};

#[derive(Serialize)]
struct Repaired<'a> {
    action: &'static str,
    migration: &'a HistoryRow,
}

/// Apply the one repair `args` names and say what changed.
pub(super) async fn run(
    config: &Config,
    args: &RepairArgs,
    output: Output,
) -> Result<(), CliError> {
    let action = args.action.0;
    let migrations = load_migrations(config)?;
    let mut session = Session::open(config, migrations, Some(&args.lock), Access::Existing).await?;
    let row = session
        .migrator
        .repair(action)
        .await
        .map_err(|error| session.error(error))?;
    let (name, sentence) = match action {
        RepairAction::AcceptChecksum(_) => (
            "accept_checksum",
            format!(
                "accepted the current file of migration {} ({}): its recorded checksum is now {}; the old one is kept in the history",
                row.version, row.name, row.checksum
            ),
        ),
        RepairAction::MarkRolledBack(_) => (
            "mark_rolled_back",
            format!(
                "recorded migration {} ({}) as rolled back; no SQL was run",
                row.version, row.name
            ),
        ),
        RepairAction::MarkApplied(_) => (
            "mark_applied",
            format!(
                "recorded migration {} ({}) as applied; no SQL was run",
                row.version, row.name
            ),
        ),
    };
    match output.format() {
        Format::Human => output.summary(&sentence),
        Format::Json => output.json(&Repaired {
            action: name,
            migration: &row,
        }),
    }
}
