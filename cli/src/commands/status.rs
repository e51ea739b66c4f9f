//! `godwit status`: the state of every migration. Reads only.

use godwit_core::plan::{StatusEntry, Warning};
use godwit_core::{InvalidIndex, LockHolder};
use serde::Serialize;

use super::{Session, load_migrations};
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
}

/// Print every migration's state. Pending migrations are not a failure.
pub async fn run(config: &Config, output: Output) -> Result<(), CliError> {
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
    match output.format() {
        Format::Human if report.entries.is_empty() => output.data(&format!(
            "no migration files in {} and none recorded in the database; create one with `godwit new NAME`\n",
            config.migrations.display()
        )),
        Format::Human => output.data(&output::status_table(&report)),
        Format::Json => output.json(&Status {
            migrations: &report.entries,
            invalid_indexes: &invalid,
            lock: report.lock.as_ref(),
        }),
    }
}
