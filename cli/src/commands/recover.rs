//! `godwit recover`: explain failed migrations and carry out the way out the user picks.

use godwit_core::{Diagnosis, Event, HistoryRow, Outcome, RecoverAction, RecoverOptions, Version};
use serde::Serialize;

use super::{Session, lint, load_migrations};
use crate::args::RecoverArgs;
use crate::backend::Access;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{Format, Output};
use crate::prompt;

#[derive(Serialize)]
struct Explained<'a> {
    failed: &'a [Diagnosis],
}

#[derive(Serialize)]
struct Recovered<'a> {
    action: RecoverAction,
    /// The failure as explained before the action; absent when another runner failed the
    /// migration between the explanation and the lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnosis: Option<&'a Diagnosis>,
    migration: &'a HistoryRow,
}

/// Explain the failed migrations; carry out the action the flags name or, in a terminal, the
/// one the user picks.
pub(super) async fn run(
    config: &Config,
    args: &RecoverArgs,
    output: Output,
) -> Result<(), CliError> {
    let migrations = load_migrations(config)?;
    let mut session = Session::open(config, migrations, Some(&args.lock), Access::Existing).await?;
    let failed = session
        .migrator
        .diagnose()
        .await
        .map_err(|error| session.error(error))?;
    let chosen = match args.version {
        Some(version) => failed.iter().find(|d| d.version == version),
        None if failed.len() == 1 => failed.first(),
        None => None,
    };
    let Some(action) = args.action() else {
        if let (Some(version), None) = (args.version, chosen) {
            return not_failed(&mut session, version, output).await;
        }
        return explain(&mut session, &failed, chosen, output).await;
    };
    let options = RecoverOptions {
        no_lint: args.no_lint,
    };
    let diagnosis = match (chosen, args.version) {
        (Some(diagnosis), _) => diagnosis,
        // The engine refuses with the migration's real state (or says it is unknown).
        (None, Some(version)) => {
            return act(&mut session, version, action, &options, None, output).await;
        }
        (None, None) if failed.is_empty() => {
            return nothing_failed(output);
        }
        (None, None) => {
            return Err(CliError::AmbiguousRecovery {
                versions: failed.iter().map(|d| d.version).collect(),
            });
        }
    };
    if output.format() == Format::Human {
        output.data(&describe(diagnosis))?;
    }
    act(
        &mut session,
        diagnosis.version,
        action,
        &options,
        Some(diagnosis),
        output,
    )
    .await
}

/// The answer to `recover VERSION` for a migration that is not failed: its state, or a usage
/// error when godwit knows no migration of that version.
async fn not_failed(
    session: &mut Session,
    version: Version,
    output: Output,
) -> Result<(), CliError> {
    let report = session
        .migrator
        .status()
        .await
        .map_err(|error| session.error(error))?;
    let Some(entry) = report.entries.iter().find(|e| e.version == version) else {
        return Err(session.error(godwit_core::Error::UnknownVersion { version }));
    };
    match output.format() {
        Format::Human => output.summary(&format!(
            "migration {version} ({}) is {}, not failed; nothing to recover",
            entry.name,
            entry.state.label()
        )),
        Format::Json => output.json(&Explained { failed: &[] }),
    }
}

fn nothing_failed(output: Output) -> Result<(), CliError> {
    match output.format() {
        Format::Human => output.summary("no migration is failed; nothing to recover"),
        Format::Json => output.json(&Explained { failed: &[] }),
    }
}

/// Print what failed and how to get out; in a terminal, offer the actions for one migration.
async fn explain(
    session: &mut Session,
    failed: &[Diagnosis],
    chosen: Option<&Diagnosis>,
    output: Output,
) -> Result<(), CliError> {
    if failed.is_empty() {
        return nothing_failed(output);
    }
    if output.format() == Format::Json {
        return output.json(&Explained { failed });
    }
    let text: Vec<String> = failed.iter().map(describe).collect();
    output.data(&text.join("\n"))?;
    match chosen {
        Some(diagnosis) if prompt::interactive() => {
            match prompt::choose("What now?", &diagnosis.actions, |a| action_text(*a))? {
                Some(action) => {
                    // Chosen at the prompt: a retry is linted, as `migrate` would.
                    let options = RecoverOptions::default();
                    act(
                        session,
                        diagnosis.version,
                        action,
                        &options,
                        Some(diagnosis),
                        output,
                    )
                    .await
                }
                None => output.summary("nothing changed"),
            }
        }
        _ => output.summary("nothing changed; run again with one of the actions above"),
    }
}

async fn act(
    session: &mut Session,
    version: Version,
    action: RecoverAction,
    options: &RecoverOptions,
    diagnosis: Option<&Diagnosis>,
    output: Output,
) -> Result<(), CliError> {
    let mut progress = output.progress();
    session
        .migrator
        .report_statements(progress.shows_statements());
    let result = session
        .migrator
        .recover(version, action, options, &mut |event| {
            if let Event::Linted { report } = event {
                lint::Report(report.clone()).warn(output);
            }
            progress.event(event);
        })
        .await;
    let row = match result {
        Ok(row) => row,
        Err(error) => {
            progress.interrupt();
            return Err(session.error(error));
        }
    };
    progress.finish()?;
    match output.format() {
        Format::Human => output.summary(&match action {
            RecoverAction::Retry => format!("migration {version} ({}) is now applied", row.name),
            RecoverAction::RunDown => format!(
                "migration {version} ({}) was undone by its down script and is recorded as rolled \
                 back; `godwit migrate` runs it again",
                row.name
            ),
            RecoverAction::MarkRolledBack => format!(
                "recorded migration {version} ({}) as rolled back; no SQL was run; \
                 `godwit migrate` runs it again",
                row.name
            ),
            RecoverAction::MarkApplied => format!(
                "recorded migration {version} ({}) as applied; no SQL was run",
                row.name
            ),
        }),
        Format::Json => output.json(&Recovered {
            action,
            diagnosis,
            migration: &row,
        }),
    }
}

/// What the action does, as offered to the user.
fn action_text(action: RecoverAction) -> &'static str {
    match action {
        RecoverAction::Retry => "run the up script again from its first statement",
        RecoverAction::RunDown => {
            "run the down script to undo what ran, then record it rolled back; the down script \
             must cope with the statements that did not run (IF EXISTS)"
        }
        RecoverAction::MarkRolledBack => {
            "record it rolled back without running SQL, after undoing its changes by hand; \
             migrate runs it again"
        }
        RecoverAction::MarkApplied => {
            "record it applied without running SQL, after completing it by hand"
        }
    }
}

/// One failed migration explained for people.
fn describe(d: &Diagnosis) -> String {
    let mut text = format!("migration {} ({}) failed", d.version, d.name);
    if let Some(origin) = &d.origin {
        text.push_str(&format!(" in {origin}"));
    }
    text.push('\n');
    text.push_str(&format!("  started {}", d.started_at));
    if let Some(by) = &d.applied_by {
        text.push_str(&format!(" by {by}"));
    }
    text.push('\n');
    if let Some(error) = &d.error {
        text.push_str(&format!("  error: {error}\n"));
    }
    if let Some(statement) = &d.failed_statement {
        let line = d
            .failed_line
            .map_or_else(String::new, |l| format!(" (line {l})"));
        text.push_str(&format!("  failing statement{line}: {statement}\n"));
    }
    match &d.outcome {
        Outcome::NothingApplied => text.push_str(
            "  it ran in a transaction, which was rolled back: nothing of it is applied\n",
        ),
        Outcome::PartlyApplied { ran, not_run } => {
            text.push_str(
                "  it ran outside a transaction, so what ran before the failure stayed\n",
            );
            if ran.is_empty() {
                text.push_str("  no statement ran before the failing one\n");
            } else {
                text.push_str("  these statements ran and stayed applied:\n");
                for statement in ran {
                    text.push_str(&format!(
                        "    line {}: {}\n",
                        statement.line, statement.excerpt
                    ));
                }
            }
            text.push_str("  these did not run:\n");
            for statement in not_run {
                text.push_str(&format!(
                    "    line {}: {}\n",
                    statement.line, statement.excerpt
                ));
            }
            if !ran.is_empty() {
                text.push_str(
                    "  a retry runs the statements that ran again: make them idempotent \
                     (IF NOT EXISTS) or undo them first\n",
                );
            }
        }
        Outcome::EndedItsTransaction => text.push_str(
            "  it ran in a transaction that ended before it did (a COMMIT or ROLLBACK in its script), so what ran before the failure may be applied: compare the schema with the script\n",
        ),
        Outcome::Unknown { reason } => {
            text.push_str(&format!("  it ran outside a transaction and {reason}\n"));
        }
    }
    for index in &d.invalid_indexes {
        text.push_str(&format!(
            "  {index}: left by this migration; a retry drops it first\n"
        ));
    }
    match d.file_changed {
        Some(true) => text.push_str("  its file has changed since; a retry runs the new file\n"),
        Some(false) => text.push_str("  its file has not changed since\n"),
        None => text.push_str("  its file is missing\n"),
    }
    text.push_str("  ways out:\n");
    let commands: Vec<String> = d
        .actions
        .iter()
        .map(|a| format!("godwit recover {} {}", d.version, a.flag()))
        .collect();
    let width = commands.iter().map(String::len).max().unwrap_or(0);
    for (command, action) in commands.iter().zip(&d.actions) {
        text.push_str(&format!(
            "    {command:<width$}  {}\n",
            action_text(*action)
        ));
    }
    text
}
