//! `godwit generate NAME`: the difference between the migrations and the schema file, as a new
//! migration with a derived down script.

use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use godwit_core::declarative::{self, StepKind, migration_script};
use godwit_core::dialect::RenderOptions;
use godwit_core::migration::{next_version, slugify};
use godwit_core::{Migrations, Script, Version};
use serde::Serialize;

use super::lint;
use super::new::create;
use super::scratch::{self, Host};
use crate::args::GenerateArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};

/// One migration written.
#[derive(Serialize)]
struct Written {
    version: Version,
    kind: StepKind,
    up: PathBuf,
    down: PathBuf,
    statements: usize,
    no_transaction: bool,
}

#[derive(Serialize)]
struct Generated<'a> {
    created: bool,
    // The first migration written, as before changes could take several.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    up: Option<&'a PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    down: Option<&'a PathBuf>,
    statements: usize,
    no_transaction: bool,
    /// Every migration written, oldest first.
    migrations: &'a [Written],
    /// The lint's findings on the written up scripts, as `migrate` will see them.
    #[serde(skip_serializing_if = "Option::is_none")]
    lint: Option<lint::ReportJson<'a>>,
}

/// Replay the migrations and normalise the schema file on scratch databases, and write what
/// turns one into the other as `<version>_<slug>.up.sql` and `.down.sql` (and, with
/// `--concurrently`, the concurrent index statements as migrations of their own).
pub async fn run(config: &Config, args: &GenerateArgs, output: Output) -> Result<(), CliError> {
    let slug = slugify(&args.name);
    if slug.is_empty() {
        return Err(CliError::BadMigrationName {
            name: args.name.clone(),
        });
    }
    let schema_path = args
        .schema
        .schema
        .clone()
        .unwrap_or_else(|| config.schema_file.clone());
    let source = scratch::schema_source(config, Some(&schema_path))?;
    scratch::warn_if_empty(&source, output);
    let hints = scratch::hints(&source)?;
    let dir = &config.migrations;
    let migrations = if dir.exists() {
        Migrations::from_dir(dir)?
    } else {
        Migrations::default()
    };

    let mut host = Host::for_config(config).await?;
    let current = host
        .scratch(async |s| declarative::replay_migrations(s, &migrations).await)
        .await?;
    let desired = host.desired(&source, &current).await?;
    scratch::warn_unmanaged(&desired, &current, &config.scope, "the migration", output);
    let renames = scratch::renames(&hints, &args.renames.renames, &current, &desired)?;
    let dialect = host.store.dialect();
    let engine_error = |error| CliError::engine(error, host.url.clone());
    let options = RenderOptions::default()
        .with_concurrent_indexes(args.indexes.concurrently)
        .with_scope(config.scope.clone());
    let up = declarative::plan_changes(dialect, &current, &desired, &renames, &options)
        .map_err(engine_error)?;
    if up.is_empty() {
        return match output.format() {
            Format::Human => output.summary(&format!(
                "no changes: the migrations in {} already produce the schema in {}; nothing was written",
                dir.display(),
                schema_path.display()
            )),
            Format::Json => output.json(&Generated {
                created: false,
                version: None,
                up: None,
                down: None,
                statements: 0,
                no_transaction: false,
                migrations: &[],
                lint: None,
            }),
        };
    }
    let down = declarative::plan_changes(
        dialect,
        &desired,
        &current,
        &declarative::inverse_renames(&renames),
        &options,
    )
    .map_err(engine_error)?;

    fs::create_dir_all(dir).map_err(|source| CliError::Create {
        path: dir.clone(),
        source,
    })?;
    let steps = declarative::migration_steps(&up.statements, &down.statements);
    let dialect_name = dialect.name();
    let mut latest = migrations.latest();
    let mut written = Vec::with_capacity(steps.len());
    let mut scripts = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        let version =
            next_version(SystemTime::now(), latest).ok_or_else(|| CliError::NoVersionLeft {
                latest: latest.map_or(i64::MAX, Version::get),
            })?;
        latest = Some(version);
        let step_slug = match (steps.len(), step.kind) {
            (1, _) | (_, StepKind::Main) => slug.clone(),
            (_, StepKind::ConcurrentBefore) => format!("{slug}_pre_concurrently"),
            (_, StepKind::ConcurrentAfter) => format!("{slug}_concurrently"),
        };
        let part = if steps.len() == 1 {
            String::new()
        } else {
            format!(
                "-- Part {} of {} of one change; each part is applied and recorded on its own.\n",
                index + 1,
                steps.len()
            )
        };
        let stem = format!("{version}_{step_slug}");
        let up_path = dir.join(format!("{stem}.up.sql"));
        let down_path = dir.join(format!("{stem}.down.sql"));
        let up_sql = format!(
            "-- Migration {version} {step_slug}: {name}\n\
             -- Generated by `godwit generate` from {schema}; review it before applying it.\n\
             {part}{up}",
            name = args.name.trim(),
            schema = schema_path.display(),
            up = migration_script(dialect, step.up),
        );
        create(&up_path, &up_sql)?;
        // The script godwit itself wrote always reads back; the lint below needs it parsed.
        if let Ok(script) = Script::new(up_sql, Some(up_path.clone())) {
            scripts.push((up_path.display().to_string(), script));
        }
        create(
            &down_path,
            &format!(
                "-- Revert migration {version} {step_slug}.\n\
                 -- Generated by `godwit generate`: the reverse of the .up.sql file.\n{}",
                migration_script(dialect, &step.down)
            ),
        )?;
        written.push(Written {
            version,
            kind: step.kind,
            up: up_path,
            down: down_path,
            statements: step.up.len(),
            no_transaction: step.up.iter().any(|s| !s.transactional),
        });
    }

    // `migrate` lints what it applies and refuses on an error; say so now, while the files
    // are being reviewed, rather than at deploy time.
    let lint_report = lint::scripts(dialect_name, &scripts, &config.lint);
    match output.format() {
        Format::Human => {
            if lint_report.errors() > 0 {
                output.warning(&format!(
                    "`godwit migrate` will refuse these migrations until the lint's errors are \
                     fixed or allowed with `-- godwit:allow RULE` above the statement:\n{}",
                    lint_report.text().trim_end()
                ));
            }
            for migration in &written {
                output.data(&format!(
                    "created {}\ncreated {}\n",
                    migration.up.display(),
                    migration.down.display()
                ))?;
            }
            for statement in &up.statements {
                if let Some(hazard) = &statement.hazard {
                    output.warning(&format!(
                        "the up script destroys data: {}",
                        hazard.description
                    ));
                }
            }
            for migration in written.iter().filter(|m| m.no_transaction) {
                output.warning(&if migration.kind == StepKind::Main {
                    format!(
                        "some statements of migration {} cannot run in a transaction, so it says `-- godwit:no-transaction` and groups the others in BEGIN/COMMIT",
                        migration.version
                    )
                } else {
                    format!(
                        "migration {} runs concurrently, outside a transaction (`-- godwit:no-transaction`); if it fails, its script says how to clean up",
                        migration.version
                    )
                });
            }
            let statements = output::statements(up.statements.len());
            output.summary(&match written.len() {
                1 => format!(
                    "{statements} in the up script; review both files, then run `godwit migrate`"
                ),
                n => format!(
                    "{statements} in the up scripts of {n} migrations; review the files, then run `godwit migrate`"
                ),
            })
        }
        Format::Json => {
            let first = &written[0];
            output.json(&Generated {
                created: true,
                version: Some(first.version),
                up: Some(&first.up),
                down: Some(&first.down),
                statements: first.statements,
                no_transaction: first.no_transaction,
                migrations: &written,
                lint: Some(lint_report.json()),
            })
        }
    }
}
