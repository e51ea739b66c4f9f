//! `godwit diff --from SOURCE --to SOURCE`: the SQL from one schema to another. Changes nothing.

use godwit_core::declarative;
use godwit_core::dialect::RenderOptions;
use godwit_core::diff::Renames;
use godwit_core::schema::Schema;
use godwit_core::url::Redacted;
use godwit_core::{HistoryTable, Migrations, Store};

use super::scratch::{self, Host, on_scratch};
use crate::args::{DiffArgs, SchemaRef};
use crate::backend::{self, Access};
use crate::config::{Config, DatabaseUrl};
use crate::error::CliError;
use crate::output::{self, Format, Output};

/// A database named by one side.
struct Live {
    store: Box<dyn Store>,
    history: HistoryTable,
    url: Redacted,
}

async fn open(side: &SchemaRef, config: &Config) -> Result<Option<Live>, CliError> {
    let SchemaRef::Url(text) = side else {
        return Ok(None);
    };
    let url = DatabaseUrl::diff_source(text.clone());
    let opened = backend::open(&url, config, Access::Preview, None).await?;
    Ok(Some(Live {
        store: opened.store,
        history: opened.history,
        url: url.redacted(),
    }))
}

async fn live_schema(live: &mut Option<Live>) -> Result<Option<Schema>, CliError> {
    let Some(live) = live else {
        return Ok(None);
    };
    declarative::introspect(live.store.as_mut(), &live.history)
        .await
        .map(Some)
        .map_err(|error| CliError::engine(error, live.url.clone()))
}

/// The schema of a file or migrations side, built on a scratch database of `host`.
/// A schema file may use the namespaces of `existing` without creating them.
async fn scratch_schema(
    side: &SchemaRef,
    existing: &Schema,
    config: &Config,
    host: &mut dyn Store,
    url: &Redacted,
) -> Result<(Schema, Renames), CliError> {
    match side {
        SchemaRef::File(path) => {
            let source = scratch::schema_source(config, Some(path))?;
            let hints = scratch::hints(&source)?;
            let schema = scratch::desired_on(host, url, &source, existing).await?;
            Ok((schema, hints))
        }
        SchemaRef::Migrations(dir) => {
            if !dir.is_dir() {
                return Err(CliError::NoMigrationsDir { path: dir.clone() });
            }
            let migrations = Migrations::from_dir(dir)?;
            let schema = on_scratch(host, url, async |s| {
                declarative::replay_migrations(s, &migrations).await
            })
            .await?;
            Ok((schema, Renames::default()))
        }
        SchemaRef::Url(_) => unreachable!("live sides are read before scratch ones"),
    }
}

/// Print the statements that turn `--from` into `--to`; with `--exit-code`, fail (exit 5) when
/// there are any.
pub async fn run(config: &Config, args: &DiffArgs, output: Output) -> Result<(), CliError> {
    let mut from_db = open(&args.from, config).await?;
    let mut to_db = open(&args.to, config).await?;
    let engines = (
        from_db.as_ref().map(|l| l.store.dialect().name()),
        to_db.as_ref().map(|l| l.store.dialect().name()),
    );
    let mut dev = match engines {
        (Some(from), Some(to)) if from != to => {
            return Err(CliError::MixedEngines { from, to });
        }
        (Some(engine), _) | (None, Some(engine)) => Host::dev(config, engine).await?,
        (None, None) => Some(Host::for_config(config).await?),
    };
    let from_live = live_schema(&mut from_db).await?;
    let to_live = live_schema(&mut to_db).await?;

    let (host, host_url) = match (dev.as_mut(), from_db.as_mut(), to_db.as_mut()) {
        (Some(dev), ..) => (dev.store.as_mut(), dev.url.clone()),
        (None, Some(live), _) | (None, None, Some(live)) => (live.store.as_mut(), live.url.clone()),
        (None, None, None) => unreachable!("without a live side a host was opened"),
    };
    let from = match from_live {
        Some(schema) => schema,
        None => {
            let none = Schema::default();
            scratch_schema(&args.from, &none, config, host, &host_url)
                .await?
                .0
        }
    };
    let (to, renames) = match to_live {
        Some(schema) => (schema, Renames::default()),
        None => scratch_schema(&args.to, &from, config, host, &host_url).await?,
    };
    let plan = declarative::plan_changes(
        host.dialect(),
        &from,
        &to,
        &renames,
        &RenderOptions::default().with_scope(config.scope.clone()),
    )
    .map_err(|error| CliError::engine(error, host_url.clone()))?;
    // With --exit-code, differences are the failure, and the plan its document.
    let differences = (args.exit_code && !plan.is_empty()).then_some(CliError::Differences {
        statements: plan.statements.len(),
    });
    match output.format() {
        Format::Human if plan.is_empty() => output.data("-- no changes\n")?,
        Format::Human => output.data(&output::statements_text(&plan.statements, &[]))?,
        Format::Json if differences.is_some() => {}
        Format::Json => output.json(&plan)?,
    }
    match differences {
        Some(error) => Err(error.with_document(output, &plan)),
        None => Ok(()),
    }
}
