//! `godwit inspect`: the live schema, as SQL that recreates it or as the schema model in JSON.

use godwit_core::declarative::{self, DeclarativeError};

use crate::backend::{self, Access};
use crate::config::Config;
use crate::error::CliError;
use crate::output::{Format, Output};

/// Read the catalog and print it.
pub(super) async fn run(config: &Config, output: Output) -> Result<(), CliError> {
    let url = config.url()?;
    let opened = backend::open(url, config, Access::Existing, None).await?;
    let mut store = opened.store;
    let engine_error = |error| CliError::engine(error, url.redacted());
    let schema = declarative::introspect(store.as_mut(), &opened.history)
        .await
        .map_err(engine_error)?;
    match output.format() {
        Format::Human => {
            let dialect = store.dialect();
            let sql = dialect.render_schema(&schema).map_err(|cause| {
                engine_error(
                    DeclarativeError::Render {
                        dialect: dialect.name(),
                        cause,
                    }
                    .into(),
                )
            })?;
            if sql.trim().is_empty() {
                output.data("-- the database holds no schema objects\n")
            } else {
                output.data(&sql)
            }
        }
        Format::Json => output.json(&schema),
    }
}
