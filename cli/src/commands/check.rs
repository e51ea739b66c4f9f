//! `godwit check`: is the live schema what the applied migrations produce? Drift exits 5.

use godwit_core::declarative::{self, DriftReport};
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
pub async fn run(config: &Config, output: Output) -> Result<(), CliError> {
    let migrations = load_migrations(config)?;
    let url = config.url()?;
    let redacted = url.redacted();
    let mut dev = Host::dev_for(config, url).await?;
    let opened = backend::open(url, config, Access::Existing, None).await?;
    let mut store = opened.store;
    let (host, host_url) = match dev.as_mut() {
        Some(dev) => (dev.store.as_mut(), dev.url.clone()),
        None => (store.as_mut(), redacted.clone()),
    };
    let mut scratch = host
        .open_scratch()
        .await
        .map_err(|error| CliError::engine(error.into(), host_url))?;
    let result = declarative::drift(
        store.as_mut(),
        &opened.history,
        scratch.as_mut(),
        &migrations,
        &config.scope,
    )
    .await;
    if let Err(error) = scratch.close().await {
        tracing::warn!(%error, "could not remove a scratch database");
    }
    let report = result.map_err(|error| CliError::engine(error, redacted.clone()))?;

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
            output,
            &Checked {
                drift: true,
                report: &report,
            },
        ))
    } else {
        Ok(())
    }
}
