//! What the declarative commands share: the schema file, the stores scratch databases are
//! created on, and renames from flags.

use std::path::Path;

use godwit_core::Store;
use godwit_core::declarative::{LeftAlone, SchemaSource};
use godwit_core::schema::Unmanaged;
use godwit_core::url::Redacted;

use crate::backend;
use crate::config::{Config, DatabaseUrl};
use crate::error::CliError;
use crate::output::Output;

/// The desired schema: `--schema` (relative to the working directory) or `schema_file` from
/// the config (relative to the config file).
pub(super) fn schema_source(
    config: &Config,
    flag: Option<&Path>,
) -> Result<SchemaSource, CliError> {
    let path = flag.map_or_else(|| config.schema_file.clone(), Path::to_path_buf);
    if !path.exists() {
        return Err(CliError::NoSchemaFile { path });
    }
    SchemaSource::load(&path).map_err(|error| CliError::Engine(error.into()))
}

/// Say so when the schema files hold no statement: the plan then drops every table, which
/// still needs consent, but the likelier cause is a file cut short.
pub(super) fn warn_if_empty(source: &SchemaSource, output: Output) {
    if source.holds_no_statements() {
        let files: Vec<String> = source
            .files
            .iter()
            .map(|(path, _)| path.display().to_string())
            .collect();
        output.warning(&format_args!(
            "{} holds no statements: the desired schema is empty, so the plan drops everything godwit manages",
            files.join(", ")
        ));
    }
}

/// Say what the schema files create that godwit does not manage (row-level security,
/// privileges, rules), and that `what` leaves it out.
pub(super) fn warn_unmanaged(items: &[Unmanaged], what: &str, output: Output) {
    for item in items {
        output.warning(&format_args!(
            "the schema creates {} {}, which godwit does not manage: {what} leaves it out; set it up in a versioned migration",
            item.kind, item.object
        ));
    }
}

/// Say what the schema gives roles whose privileges godwit does not manage, and that `what`
/// leaves it alone.
pub(super) fn warn_left_alone(items: &[LeftAlone], what: &str, output: Output) {
    for item in items {
        output.warning(&format_args!(
            "the schema gives {item}, and godwit does not manage the privileges of {}: {what} \
             leaves them alone; list the role in `managed_roles` in godwit.toml to manage them",
            item.role()
        ));
    }
}

/// A connection scratch databases are created on, and its URL for messages.
#[derive(Debug)]
pub(super) struct Host {
    pub(super) store: Box<dyn Store>,
    pub(super) url: Redacted,
}

impl Host {
    /// The configured `dev_url`, if any, which must be of the `engine` being worked on. The
    /// engines are compared by URL scheme before anything is opened, so a mismatch is a usage
    /// error that touches neither server nor file.
    pub(super) async fn dev(
        config: &Config,
        engine: &'static str,
    ) -> Result<Option<Host>, CliError> {
        let Some(dev_url) = config.dev_url() else {
            return Ok(None);
        };
        let dev = backend::locate(dev_url.secret())?.0.name();
        if dev != engine {
            return Err(CliError::DevUrlEngine {
                dev_url: dev_url.redacted(),
                dev,
                target: engine,
            });
        }
        Ok(Some(Host {
            store: backend::open_scratch_host(dev_url, config).await?,
            url: dev_url.redacted(),
        }))
    }

    /// [`Host::dev`] for the engine of the database at `url`, decided from its scheme, so it
    /// can run before that database is opened (or created).
    pub(super) async fn dev_for(
        config: &Config,
        url: &DatabaseUrl,
    ) -> Result<Option<Host>, CliError> {
        Host::dev(config, backend::locate(url.secret())?.0.name()).await
    }

    /// A host for the engine of `url` when no database of it is needed: `dev_url` when set,
    /// else a connection from [`backend::open_scratch_host`].
    pub(super) async fn for_engine_of(
        config: &Config,
        url: &DatabaseUrl,
    ) -> Result<Host, CliError> {
        if let Some(dev) = Host::dev_for(config, url).await? {
            return Ok(dev);
        }
        Ok(Host {
            store: backend::open_scratch_host(url, config).await?,
            url: url.redacted(),
        })
    }

    /// A host for commands that need no target database (`generate`, `verify`, `diff`
    /// between files): `dev_url` when set, else one for the engine of the configured URL.
    pub(super) async fn for_config(config: &Config) -> Result<Host, CliError> {
        match (config.url(), config.dev_url()) {
            (Ok(url), _) => Host::for_engine_of(config, url).await,
            (Err(_), Some(dev_url)) => Ok(Host {
                store: backend::open_scratch_host(dev_url, config).await?,
                url: dev_url.redacted(),
            }),
            (Err(error), None) => Err(error),
        }
    }
}
