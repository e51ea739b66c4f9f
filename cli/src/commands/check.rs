//! `godwit check`: is the live schema what the applied migrations produce? Drift exits 5.

use godwit_core::declarative::{Check, DriftReport};
use serde::Serialize;

use super::load_migrations;
use super::scratch::Host;
use crate::backend::{self, Access};
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};

#[derive(Serialize)]
struct Checked<'a> {
    drift: bool,
    #[serde(flatten)]
    report: &'a DriftReport,
}

/// Replay the applied migrations on a scratch database and compare with the live schema.
pub(super) async fn run(config: &Config, output: Output) -> Result<(), CliError> {
    let migrations = load_migrations(config)?;
    let url = config.url()?;
    let redacted = url.redacted();
    let mut dev = Host::dev_for(config, url).await?;
    let opened = backend::open(url, config, Access::Existing, None).await?;
    let mut store = opened.store;
    let mut check = Check::new(store.as_mut(), &opened.history).scope(config.scope.clone());
    if let Some(dev) = dev.as_mut() {
        check = check.scratch_host(dev.store.as_mut());
    }
    let report = check
        .run(&migrations)
        .await
        .map_err(|error| CliError::engine(error, redacted.clone()))?;

    if !report.not_applied.is_empty() {
        output.warning(&format!(
            "{} not applied to the database; check compares it with the applied ones only",
            match report.not_applied.len() {
                1 => format!("migration {} is", report.not_applied[0]),
                n => format!("{n} migrations are"),
            }
        ));
    }
    let applied = report.applied.len();
    match output.format() {
        Format::Human if !report.drifted() => {
            return output.summary(&format!(
                "no drift: the schema of {redacted} is what its applied migrations produce ({})",
                output::migrations(applied)
            ));
        }
        Format::Human => output.data(&format!(
            "drift: the schema of {redacted} is not what its applied migrations produce ({}); \
             these statements would make it so:\n\n{}",
            output::migrations(applied),
            output::statements_text(&report.plan.statements, &[])
        ))?,
        // Drift makes this document the failure's.
        Format::Json if report.drifted() => {}
        Format::Json => output.json(&Checked {
            drift: false,
            report: &report,
        })?,
    }
    if report.drifted() {
        Err(CliError::Drift {
            url: redacted,
            applied,
        }
        .with_document(
            output.format(),
            &Checked {
                drift: true,
                report: &report,
            },
        ))
    } else {
        Ok(())
    }
}
