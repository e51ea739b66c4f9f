//! `godwit verify`: every migration up, down and up again on a scratch database.

use godwit_core::declarative::{Verification, Verify, VerifyProblem};

use super::load_migrations;
use super::scratch::Host;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Format, Output};

/// Round-trip the migrations on a scratch database; name the first one at fault.
pub(super) async fn run(config: &Config, output: Output) -> Result<(), CliError> {
    let migrations = load_migrations(config)?;
    let mut host = Host::for_config(config).await?;
    let outcome = Verify::new(host.store.as_mut())
        .run(&migrations)
        .await
        .map_err(|error| CliError::engine(error, host.url.clone()))?;
    match output.format() {
        // A failure makes this document the error's.
        Format::Json if matches!(outcome, Verification::Failed(_)) => {}
        Format::Json => output.json(&outcome)?,
        Format::Human => match &outcome {
            Verification::Verified { migrations } => output.summary(&format!(
                "verified {}: each went up, down and up again, and each down script restored the schema before its up",
                output::migrations(*migrations)
            ))?,
            Verification::Failed(failure) => {
                if let VerifyProblem::Differs { plan } = &failure.problem {
                    output.data(&format!(
                        "the schema after migration {} differs from the one expected; these statements would turn it into the expected one:\n\n{}",
                        failure.version,
                        output::statements_text(&plan.statements, &[])
                    ))?;
                }
            }
        },
    }
    match &outcome {
        Verification::Failed(failure) => {
            Err(CliError::VerifyFailed(failure.clone()).with_document(output.format(), &outcome))
        }
        Verification::Verified { .. } => Ok(()),
    }
}
