//! `godwit unlock`: clear a migration lock left by a run that died.

use godwit_core::{Migrations, UnlockOutcome};

use super::Session;
use crate::args::UnlockArgs;
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{Format, Output};

/// Clear the lock: only a stale one unless `--force`.
pub(super) async fn run(
    config: &Config,
    args: &UnlockArgs,
    output: Output,
) -> Result<(), CliError> {
    // The lock lives beside the history; the migration files play no part.
    let mut session = Session::open(config, Migrations::default(), None, Access::Preview).await?;
    let outcome = session
        .migrator
        .clear_lock(args.force)
        .await
        .map_err(|error| session.error(error))?;
    match output.format() {
        Format::Human => output.summary(&match &outcome {
            UnlockOutcome::NotLocked => "no lock held".to_string(),
            UnlockOutcome::Cleared { holder } => format!("cleared lock held by {holder}"),
        }),
        Format::Json => output.json(&outcome),
    }
}
