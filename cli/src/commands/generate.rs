//! `godwit generate NAME`: the difference between the migrations and the schema file, as a new
//! migration with a derived down script.

use crate::cache::FileCache;
use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use godwit_core::declarative::{DeclarativeError, Generate, GenerateOptions, Naming, StepKind};
use godwit_core::dialect::RenderOptions;
use godwit_core::migration::slugify;
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
pub(super) async fn run(
    config: &Config,
    args: &GenerateArgs,
    output: Output,
) -> Result<(), CliError> {
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
    let dir = &config.migrations;
    let migrations = if dir.exists() {
        Migrations::from_dir(dir)?
    } else {
        Migrations::default()
    };

    let mut host = Host::for_config(config).await?;
    let mut options = GenerateOptions::default();
    options.renames = args.renames.renames.clone();
    options.render = RenderOptions::default()
        .with_concurrent_indexes(args.indexes.concurrently)
        .with_scope(config.scope.clone());
    let mut cache = FileCache::for_command(config, &args.cache);
    let mut generate = Generate::new(host.store.as_mut());
    if let Some(cache) = cache.as_mut() {
        generate = generate.cache(cache);
    }
    let generation = generate
        .run(&migrations, &source, &options, &mut ())
        .await
        .map_err(|error| CliError::engine(error, host.url.clone()))?;
    scratch::warn_left_alone(&generation.left_alone, "the migration", output);
    scratch::warn_unmanaged(&generation.unmanaged, "the migration", output);
    if generation.is_empty() {
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

    fs::create_dir_all(dir).map_err(|source| CliError::Create {
        path: dir.clone(),
        source,
    })?;
    let dialect = host.store.dialect();
    let schema = schema_path.display().to_string();
    let naming = Naming {
        slug: &slug,
        description: &args.name,
        schema: &schema,
    };
    let new = generation
        .migrations(dialect, naming, SystemTime::now(), migrations.latest())
        .map_err(|error| match error {
            DeclarativeError::NoVersionLeft { latest } => CliError::NoVersionLeft { latest },
            other => CliError::Engine(other.into()),
        })?;
    let mut written = Vec::with_capacity(new.len());
    let mut scripts = Vec::with_capacity(new.len());
    for migration in new {
        let up_path = dir.join(format!("{}.up.sql", migration.stem));
        let down_path = dir.join(format!("{}.down.sql", migration.stem));
        create(&up_path, &migration.up)?;
        // The script godwit itself wrote always reads back; the lint below needs it parsed.
        if let Ok(script) = Script::new(migration.up, Some(up_path.clone())) {
            scripts.push((up_path.display().to_string(), script));
        }
        create(&down_path, &migration.down)?;
        written.push(Written {
            version: migration.version,
            kind: migration.kind,
            up: up_path,
            down: down_path,
            statements: migration.statements,
            no_transaction: migration.no_transaction,
        });
    }

    // `migrate` lints what it applies and refuses on an error; say so now, while the files
    // are being reviewed, rather than at deploy time.
    let lint_report = lint::scripts(dialect, &scripts, &config.lint);
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
            for statement in &generation.up.statements {
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
            let statements = output::statements(generation.up.statements.len());
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
