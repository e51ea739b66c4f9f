//! `godwit migrate`: apply pending migrations, or show what would be applied.

use godwit_core::plan::{Plan, Warning};
use godwit_core::{
    BackfillOverrides, Backup, BackupOptions, Completed, Error, Event, MigrateOptions, Version,
};
use serde::Serialize;

use super::lint::{self, ReportJson};
use super::{RunRecord, Session, load_migrations};
use crate::args::{BackupArgs, MigrateArgs};
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, JsonWarning, Output};

/// What `--format json` prints for a run: what it applied, and (as the fields of the error's
/// document, when it failed or the lint refused it) what it applied before that.
#[derive(Serialize)]
struct Applied<'a> {
    applied: &'a [Completed],
    warnings: Vec<JsonWarning<'a>>,
    /// The lint's findings; `null` with `--no-lint`.
    lint: Option<ReportJson<'a>>,
    backup: Option<&'a Backup>,
}

#[derive(Serialize)]
struct Pending<'a> {
    version: Version,
    name: &'a str,
    origin: String,
    sql: &'a str,
}

#[derive(Serialize)]
struct DryRun<'a> {
    dry_run: bool,
    pending: Vec<Pending<'a>>,
    warnings: Vec<JsonWarning<'a>>,
    /// The lint's findings; `null` with `--no-lint`.
    lint: Option<ReportJson<'a>>,
}

/// Apply pending migrations, or with `--dry-run` print them.
pub(super) async fn run(
    config: &Config,
    args: &MigrateArgs,
    output: Output,
) -> Result<(), CliError> {
    let options = MigrateOptions {
        target: args.to,
        allow_out_of_order: args.allow_out_of_order,
        allow_existing_tables: args.allow_existing_tables,
        backup: backup_options(config, &args.backup),
        no_lint: args.no_lint,
        single_transaction: args.single_transaction,
        backfill: BackfillOverrides {
            batch_size: args.batch_size,
            pause: args.pause,
        },
    };
    let migrations = load_migrations(config)?;
    let (access, lock) = if args.dry_run {
        (Access::Preview, None)
    } else {
        (Access::Create, Some(&args.lock))
    };
    let mut session = Session::open(config, migrations, lock, access).await?;
    if args.dry_run {
        dry_run(&mut session, &options, output).await
    } else {
        apply(&mut session, &options, output).await
    }
}

async fn apply(
    session: &mut Session,
    options: &MigrateOptions,
    output: Output,
) -> Result<(), CliError> {
    // The migrator lints what it is about to apply, under its lock: an error-level finding
    // refuses the run before its first statement; what it reports here are the warnings.
    let mut lint_report = None;
    let mut progress = output.progress();
    session
        .migrator
        .report_statements(progress.shows_statements());
    let mut record = RunRecord::default();
    let result = session
        .migrator
        .migrate(options, &mut |event| {
            record.event(event);
            if let Event::Linted { report } = event {
                let report = lint::Report(report.clone());
                report.warn(output);
                lint_report = Some(report);
            }
            progress.event(event);
        })
        .await;
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            progress.interrupt();
            // A refusal by the lint carries the findings: the document shows them as `lint`.
            let refused = match &error {
                Error::LintRefused { report } => Some(lint::Report(report.clone())),
                _ => None,
            };
            let lint = lint_report.as_ref().or(refused.as_ref());
            return Err(session.error(error).with_document(
                output.format(),
                &Applied {
                    applied: &record.completed,
                    warnings: output::json_warnings(&record.warnings),
                    lint: lint.map(lint::Report::json),
                    backup: record.backup.as_ref(),
                },
            ));
        }
    };
    progress.finish()?;
    match output.format() {
        Format::Human if report.completed.is_empty() && options.backup.is_some() => {
            output.summary("database is up to date; no backup taken, as nothing was pending")
        }
        Format::Human if report.completed.is_empty() => output.summary("database is up to date"),
        Format::Human => output.summary(&format!(
            "{} applied",
            output::migrations(report.completed.len())
        )),
        Format::Json => output.json(&Applied {
            applied: &report.completed,
            warnings: output::json_warnings(&report.warnings),
            lint: lint_report.as_ref().map(lint::Report::json),
            backup: report.backup.as_ref(),
        }),
    }
}

async fn dry_run(
    session: &mut Session,
    options: &MigrateOptions,
    output: Output,
) -> Result<(), CliError> {
    let plan = session
        .migrator
        .plan(options)
        .await
        .map_err(|error| session.error(error))?;
    let lint_report = if options.no_lint {
        None
    } else {
        Some(lint::pending(session, &plan.steps).await)
    };
    // The dry run exits as migrate would: 3 when the lint would stop it.
    match lint_report.as_ref().map(lint::Report::errors) {
        Some(errors) if errors > 0 => {
            if output.format() == Format::Human {
                show_dry_run(session, options, &plan, lint_report.as_ref(), output)?;
            }
            Err(CliError::WouldRefuse { errors }
                .with_document(output.format(), &dry_run_json(&plan, lint_report.as_ref())))
        }
        _ => show_dry_run(session, options, &plan, lint_report.as_ref(), output),
    }
}

fn dry_run_json<'a>(plan: &'a Plan, lint_report: Option<&'a lint::Report>) -> DryRun<'a> {
    DryRun {
        dry_run: true,
        pending: plan
            .steps
            .iter()
            .map(|step| Pending {
                version: step.migration.version,
                name: &step.migration.name,
                origin: step.migration.up.origin(),
                sql: &step.migration.up.sql,
            })
            .collect(),
        warnings: output::json_warnings(&plan.warnings),
        lint: lint_report.map(lint::Report::json),
    }
}

fn show_dry_run(
    session: &Session,
    options: &MigrateOptions,
    plan: &Plan,
    lint_report: Option<&lint::Report>,
    output: Output,
) -> Result<(), CliError> {
    match output.format() {
        Format::Human => {
            warn_all(&plan.warnings, output);
            if plan.steps.is_empty() {
                return output.data("database is up to date; nothing would be applied\n");
            }
            let mut text = format!(
                "{} would be applied to {} (dry run: nothing was changed)\n",
                output::migrations(plan.steps.len()),
                session.url
            );
            if let Some(backup) = &options.backup {
                text.push_str(&match &backup.dir {
                    Some(dir) => format!("a backup would be taken first, into {}\n", dir.display()),
                    None => "a backup would be taken first\n".to_string(),
                });
            }
            for step in &plan.steps {
                let migration = &step.migration;
                text.push_str(&format!(
                    "\n-- {} {} ({})\n{}",
                    migration.version,
                    migration.name,
                    migration.up.origin(),
                    with_newline(&migration.up.sql)
                ));
            }
            if let Some(report) = lint_report {
                text.push_str(&report.dry_run_text());
            }
            output.data(&text)
        }
        Format::Json => output.json(&dry_run_json(plan, lint_report)),
    }
}

/// Whether and where to back up first: the flags, then `backup` and `backup_dir` in the config
/// file. `--backup-dir` asks for a backup by itself.
fn backup_options(config: &Config, args: &BackupArgs) -> Option<BackupOptions> {
    let wanted = !args.no_backup && (args.backup || args.backup_dir.is_some() || config.backup);
    wanted.then(|| BackupOptions {
        dir: args
            .backup_dir
            .clone()
            .or_else(|| config.backup_dir.clone()),
    })
}

fn warn_all(warnings: &[Warning], output: Output) {
    for warning in warnings {
        output.warning(warning);
    }
}

/// `sql` ending in exactly one line break, so scripts print as separate blocks.
pub(super) fn with_newline(sql: &str) -> String {
    format!("{}\n", sql.trim_end())
}
