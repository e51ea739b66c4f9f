//! `godwit push`: make the database match a schema file, without a migration.
//!
//! Core's [`Push`] runs the pipeline; this module maps the flags to [`PushOptions`], answers
//! its questions at the terminal ([`Terminal`]) and prints what it planned and did.

use crate::cache::FileCache;
use std::collections::BTreeSet;

use godwit_core::declarative::{
    Answer, Caller, Consent, DeclarativeError, Kept, MeasuredHazard, PossibleRename, Push,
    PushOptions, PushReport, Stage,
};
use godwit_core::dialect::{RenderOptions, Statement};
use godwit_core::diff::Change;
use godwit_core::url::Redacted;
use godwit_core::{Error, LockOwner};
use serde::Serialize;

use super::scratch::{self, Host};
use crate::args::PushArgs;
use crate::backend::{self, Access};
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};
use crate::prompt;

#[derive(Serialize)]
struct JsonHazard<'a> {
    #[serde(flatten)]
    hazard: &'a MeasuredHazard,
    needs_consent: bool,
    blocks: bool,
}

#[derive(Serialize)]
struct Pushed<'a> {
    /// What --skip-drops kept rather than dropped.
    kept: &'a [Kept],
    changes: &'a [Change],
    statements: &'a [Statement],
    hazards: Vec<JsonHazard<'a>>,
    applied: bool,
}

/// Under the migration lock: read the database, normalise the schema file on a scratch
/// database, then plan and apply the difference.
pub(super) async fn run(config: &Config, args: &PushArgs, output: Output) -> Result<(), CliError> {
    let source = scratch::schema_source(config, args.schema.schema.as_deref())?;
    scratch::warn_if_empty(&source, output);
    let url = config.url()?;
    let redacted = url.redacted();
    let access = if args.dry_run {
        Access::Preview
    } else {
        Access::Create
    };
    // Before the target is opened: a dev_url of the wrong engine must not create its file.
    let mut dev = Host::dev_for(config, url).await?;
    let lock_timeout = args.lock.lock_timeout.unwrap_or(config.lock_timeout);
    let opened = backend::open(url, config, access, Some(lock_timeout)).await?;
    let mut store = opened.store;

    let mut options = PushOptions::new(lock_timeout);
    options.dry_run = args.dry_run;
    options.skip_drops = args.skip_drops;
    options.accept_data_loss = args.accept_data_loss;
    options.renames = args.renames.renames.clone();
    options.render = RenderOptions::default()
        .with_concurrent_indexes(args.indexes.concurrently)
        .with_scope(config.scope.clone());
    let owner = LockOwner::this_process(format!("godwit {}", env!("CARGO_PKG_VERSION")));
    let mut push = Push::new(store.as_mut(), &opened.history, owner);
    if let Some(dev) = dev.as_mut() {
        push = push.scratch_host(dev.store.as_mut());
    }
    let mut cache = FileCache::for_command(config, &args.cache);
    if let Some(cache) = cache.as_mut() {
        push = push.cache(cache);
    }
    let mut terminal = Terminal::new(args, output, redacted.clone());
    let result = push.run(&source, &options, &mut terminal).await;
    if let Some(failure) = terminal.failure.take() {
        return Err(failure);
    }
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            if args.dry_run
                && output.format() == Format::Human
                && matches!(
                    error,
                    Error::Declarative(DeclarativeError::RowsBlockChange { .. })
                )
            {
                output.summary("\ndry run: nothing was changed")?;
            }
            // An error on the scratch host names the host, any other the target.
            let url = match (terminal.stage, &dev) {
                (Some(Stage::BuildingDesired), Some(dev)) => dev.url.clone(),
                _ => redacted,
            };
            let error = cli_error(error, url);
            return Err(match &terminal.plan {
                Some(plan) => error.with_document(output.format(), &pushed(plan)),
                None => error,
            });
        }
    };

    if report.plan.is_empty() {
        let apart = if report.kept.is_empty() {
            String::new()
        } else {
            format!(
                ", apart from the {} kept above",
                output::count(report.kept.len(), "object")
            )
        };
        return match output.format() {
            Format::Human => output.summary(&format!(
                "no changes: the database at {redacted} matches the schema{apart}"
            )),
            Format::Json => output.json(&pushed(&report)),
        };
    }
    match output.format() {
        Format::Human if report.applied => output.summary(&format!(
            "\napplied {}",
            output::statements(report.plan.statements.len())
        )),
        Format::Human => output.summary("\ndry run: nothing was changed"),
        Format::Json => output.json(&pushed(&report)),
    }
}

/// Core's refusals as the CLI's, whose messages name the flags that answer them.
fn cli_error(error: Error, url: Redacted) -> CliError {
    match error {
        Error::Declarative(DeclarativeError::PossibleRenames { renames }) => {
            CliError::PossibleRename {
                flags: renames.iter().map(PossibleRename::flag).collect(),
            }
        }
        Error::Declarative(DeclarativeError::NeedsConsent { statements }) => {
            CliError::DataLoss { count: statements }
        }
        Error::Declarative(DeclarativeError::Declined) => CliError::Declined,
        other => CliError::engine(other, url),
    }
}

/// The push's caller at a terminal: asks when someone is there to answer, prints the plan,
/// and keeps what the error of a refused push documents.
struct Terminal<'a> {
    args: &'a PushArgs,
    output: Output,
    url: Redacted,
    stage: Option<Stage>,
    /// The plan as last seen, for the document of an error.
    plan: Option<PushReport>,
    warned: bool,
    /// A failure of the terminal itself (a prompt or stdout), which ends the command.
    failure: Option<CliError>,
}

impl<'a> Terminal<'a> {
    fn new(args: &'a PushArgs, output: Output, url: Redacted) -> Self {
        Terminal {
            args,
            output,
            url,
            stage: None,
            plan: None,
            warned: false,
            failure: None,
        }
    }

    /// Say once what the schema creates that the push leaves out.
    fn warn_unmanaged(&mut self, plan: &PushReport) {
        if !std::mem::replace(&mut self.warned, true) {
            scratch::warn_left_alone(&plan.left_alone, "push", self.output);
            scratch::warn_unmanaged(&plan.unmanaged, "push", self.output);
        }
    }

    fn print(&mut self, plan: &PushReport) -> Result<(), CliError> {
        let output = self.output;
        for rename in &plan.possible_renames {
            output.warning(&format!(
                "the plan drops and creates what may be a rename of {rename}; if it is, pass --rename {}",
                rename.flag()
            ));
        }
        for object in &plan.kept {
            output.summary(&format!("kept: {object} (not in the schema; --skip-drops)"))?;
        }
        if output.format() == Format::Human && !plan.plan.is_empty() {
            output.data(&format!(
                "{} to make {} match the schema:\n\n{}",
                output::statements(plan.plan.statements.len()),
                self.url,
                output::statements_text(&plan.plan.statements, &plan.hazards)
            ))?;
        }
        Ok(())
    }

    fn fail(&mut self, error: CliError) {
        self.failure.get_or_insert(error);
    }
}

impl Caller for Terminal<'_> {
    fn stage(&mut self, stage: Stage) {
        self.stage = Some(stage);
    }

    fn renames(
        &mut self,
        possible: &[PossibleRename],
        plan: &PushReport,
    ) -> Option<Vec<PossibleRename>> {
        self.warn_unmanaged(plan);
        self.plan = Some(plan.clone());
        if !prompt::interactive() {
            return None;
        }
        match ask_renames(possible) {
            Ok(chosen) => Some(chosen.into_iter().cloned().collect()),
            Err(error) => {
                self.fail(error);
                None
            }
        }
    }

    fn planned(&mut self, plan: &PushReport) {
        self.warn_unmanaged(plan);
        self.plan = Some(plan.clone());
        if let Err(error) = self.print(plan) {
            self.fail(error);
        }
    }

    fn consent(&mut self, question: Consent) -> Answer {
        let answer = match question {
            Consent::DataLoss { .. } if !prompt::interactive() => return Answer::Unanswered,
            Consent::DataLoss { statements } => prompt::confirm_typed(&format!(
                "{} above {} data (marked DESTRUCTIVE).",
                output::statements(statements),
                if statements == 1 {
                    "destroys"
                } else {
                    "destroy"
                }
            )),
            Consent::Apply { .. } if self.args.yes || !prompt::interactive() => {
                return Answer::Yes;
            }
            Consent::Apply { statements } => prompt::confirm(&format!(
                "apply {} to {}?",
                output::statements(statements),
                self.url
            )),
            _ => return Answer::Unanswered,
        };
        match answer {
            Ok(true) => Answer::Yes,
            Ok(false) => Answer::No,
            Err(error) => {
                self.fail(error);
                Answer::No
            }
        }
    }
}

/// Ask about each possible rename, skipping pairings whose table or column an earlier answer
/// already took.
fn ask_renames(possible: &[PossibleRename]) -> Result<Vec<&PossibleRename>, CliError> {
    let mut taken = BTreeSet::new();
    let mut chosen = Vec::new();
    for rename in possible {
        let (from, to) = match rename {
            PossibleRename::Table { from, to } => (format!("table {from}"), format!("table {to}")),
            PossibleRename::Column { table, from, to } => (
                format!("column {table}.{from}"),
                format!("column {table}.{to}"),
            ),
            PossibleRename::EnumValue {
                type_name,
                from,
                to,
            } => (
                format!("label {type_name}.{from}"),
                format!("label {type_name}.{to}"),
            ),
            _ => continue,
        };
        if taken.contains(&from) || taken.contains(&to) {
            continue;
        }
        if prompt::confirm(&format!("did you rename {rename}?"))? {
            taken.insert(from);
            taken.insert(to);
            chosen.push(rename);
        }
    }
    Ok(chosen)
}

/// The JSON document of a push: what it would change or changed, and whether it was applied.
/// A refused or failed push carries it in its error's document, `applied` false.
fn pushed(report: &PushReport) -> Pushed<'_> {
    Pushed {
        kept: &report.kept,
        changes: &report.plan.changes,
        statements: &report.plan.statements,
        hazards: report
            .hazards
            .iter()
            .map(|hazard| JsonHazard {
                hazard,
                needs_consent: hazard.needs_consent(),
                blocks: hazard.blocks(),
            })
            .collect(),
        applied: report.applied,
    }
}
