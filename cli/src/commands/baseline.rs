//! `godwit baseline`: the schema of a database that has no history yet, written as the first
//! migration and recorded as applied without running it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use godwit_core::declarative::{Scope, migration_script};
use godwit_core::migration::next_version;
use godwit_core::schema::Schema;
use godwit_core::{Migrations, Version};
use serde::Serialize;

use super::Session;
use super::lint;
use super::new::create;
use crate::args::BaselineArgs;
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};

/// The name part of the migration's files.
const NAME: &str = "baseline";

/// What `--format json` prints.
#[derive(Serialize)]
struct Recorded<'a> {
    version: Version,
    name: &'a str,
    up: &'a Path,
    down: &'a Path,
    /// Statements of the up script.
    statements: usize,
    tables: usize,
    /// Whether the up script runs in one transaction on a new database.
    transactional: bool,
    /// Recorded as applied, without running.
    recorded: bool,
    /// Objects the database holds that godwit does not manage, left out of the migration.
    left_out: Vec<String>,
    /// The lint's findings on the up script, as `migrate` will see them on a new database.
    lint: lint::ReportJson<'a>,
}

/// Write the database's schema as `<version>_baseline.up.sql` and `.down.sql`, and record it.
pub(super) async fn run(
    config: &Config,
    args: &BaselineArgs,
    output: Output,
) -> Result<(), CliError> {
    let dir = &config.migrations;
    let migrations = if dir.exists() {
        Migrations::from_dir(dir)?
    } else {
        Migrations::default()
    };
    let version = match args.version {
        Some(version) => version,
        None => next_version(SystemTime::now(), None)
            .ok_or(CliError::NoVersionLeft { latest: i64::MAX })?,
    };
    let mut session = Session::open(config, migrations, Some(&args.lock), Access::Existing).await?;
    let plan = session
        .migrator
        .plan_baseline(version)
        .await
        .map_err(|error| session.error(error))?;
    // Privileges and owners name roles of the server, which the server of a new database need
    // not have: no role is in the default scope, so the baseline leaves them out.
    let roles = Scope::default().left_alone(&Schema::default(), &plan.schema);
    let left_out: Vec<String> = (plan.schema.unmanaged.iter())
        .map(|item| format!("{} {}", item.kind, item.object))
        .chain(roles.iter().map(|item| format!("{} {item}", item.kind())))
        .collect();
    for item in &left_out {
        output.warning(&format_args!(
            "the database has {item}, which godwit does not manage: the baseline leaves it out; \
             add it to a migration by hand"
        ));
    }

    let dialect = session.migrator.store_mut().dialect();
    let up_sql = format!(
        "-- Migration {version} {NAME}: the schema the database held when `godwit baseline` ran.\n\
         -- It was recorded there as applied without running; `godwit migrate` creates it on a\n\
         -- new database.\n{}",
        migration_script(dialect, &plan.up.statements)
    );
    let down_sql = format!(
        "-- Revert migration {version} {NAME}.\n\
         -- Written by `godwit baseline`: drops everything the baseline creates, and every row in it.\n{}",
        migration_script(dialect, &plan.down.statements)
    );
    fs::create_dir_all(dir).map_err(|source| CliError::Create {
        path: dir.clone(),
        source,
    })?;
    let up = dir.join(format!("{version}_{NAME}.up.sql"));
    let down = dir.join(format!("{version}_{NAME}.down.sql"));
    create(&up, &up_sql)?;
    if let Err(error) = create(&down, &down_sql) {
        remove(&[&up]);
        return Err(error);
    }

    // Recorded as `migrate` will read it, so the checksums are the ones it computes.
    let recorded = async {
        let written = Migrations::from_dir(dir)?;
        let Some(migration) = written.get(version) else {
            unreachable!("the migration just written is in its folder")
        };
        session
            .migrator
            .record_baseline(migration, &plan.schema)
            .await
            .map_err(|error| session.error(error))?;
        Ok::<_, CliError>(migration.clone())
    }
    .await;
    let migration = match recorded {
        Ok(migration) => migration,
        Err(error) => {
            // Files that were never recorded would be pending, and create what exists.
            remove(&[&up, &down]);
            output.warning(&format_args!(
                "removed {} and {}, as nothing was recorded",
                up.display(),
                down.display()
            ));
            return Err(error);
        }
    };

    let lint_report = lint::scripts(
        session.migrator.store_mut().dialect(),
        &[(up.display().to_string(), migration.up.clone())],
        &config.lint,
    );
    let tables = plan.schema.tables.len();
    let statements = plan.up.statements.len();
    match output.format() {
        Format::Human => {
            if lint_report.errors() > 0 {
                output.warning(&format!(
                    "`godwit migrate` on a new database will refuse the baseline until the \
                     lint's errors are fixed or allowed with `-- godwit:allow RULE` above the \
                     statement:\n{}",
                    lint_report.text().trim_end()
                ));
            }
            output.data(&format!(
                "created {}\ncreated {}\n",
                up.display(),
                down.display()
            ))?;
            output.summary(&format!(
                "recorded migration {version} {NAME} as applied to {}, without running it ({}, {} in the up script)\n\
                 commit both files: `godwit migrate` creates this schema on a new database, and goes on from it here",
                session.url,
                output::count(tables, "table"),
                output::statements(statements),
            ))
        }
        Format::Json => output.json(&Recorded {
            version,
            name: NAME,
            up: &up,
            down: &down,
            statements,
            tables,
            transactional: !migration.up.directives.no_transaction,
            recorded: true,
            left_out,
            lint: lint_report.json(),
        }),
    }
}

/// Remove files this run created and could not record; one that cannot be removed is named in
/// the log, as the error that led here matters more.
fn remove(paths: &[&PathBuf]) {
    for path in paths {
        if let Err(error) = fs::remove_file(path) {
            tracing::warn!(path = %path.display(), %error, "cannot remove a file baseline wrote");
        }
    }
}
