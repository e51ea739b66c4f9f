//! `godwit diff --from SOURCE --to SOURCE`: the SQL from one schema to another. Changes nothing.

use crate::cache::FileCache;
use godwit_core::declarative::{Diff, SchemaSource, Side};
use godwit_core::dialect::RenderOptions;
use godwit_core::url::Redacted;
use godwit_core::{HistoryTable, Migrations, Store};

use super::scratch::{self, Host};
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

/// What a side that is not a live database is read from, loaded before anything is opened.
enum Loaded {
    Live,
    Schema(SchemaSource),
    Migrations(Migrations),
}

fn load(side: &SchemaRef, config: &Config) -> Result<Loaded, CliError> {
    Ok(match side {
        SchemaRef::Url(_) => Loaded::Live,
        SchemaRef::File(path) => Loaded::Schema(scratch::schema_source(config, Some(path))?),
        SchemaRef::Migrations(dir) => {
            if !dir.is_dir() {
                return Err(CliError::NoMigrationsDir { path: dir.clone() });
            }
            Loaded::Migrations(Migrations::from_dir(dir)?)
        }
    })
}

fn side<'a>(loaded: &'a Loaded, live: Option<&'a mut Live>) -> Side<'a> {
    match (loaded, live) {
        (_, Some(live)) => Side::Live {
            store: live.store.as_mut(),
            history: &live.history,
        },
        (Loaded::Schema(source), None) => Side::Schema(source),
        (Loaded::Migrations(migrations), None) => Side::Migrations(migrations),
        (Loaded::Live, None) => unreachable!("a live side is opened before the diff"),
    }
}

/// Print the statements that turn `--from` into `--to`; with `--exit-code`, fail (exit 5) when
/// there are any.
pub(super) async fn run(config: &Config, args: &DiffArgs, output: Output) -> Result<(), CliError> {
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
    let from_loaded = load(&args.from, config)?;
    let to_loaded = load(&args.to, config)?;
    // An error names the database it came from: the dev database that builds what is not
    // live, or else the first live side, whose server does.
    let url = dev
        .as_ref()
        .map(|dev| dev.url.clone())
        .or_else(|| from_db.as_ref().map(|live| live.url.clone()))
        .or_else(|| to_db.as_ref().map(|live| live.url.clone()))
        .expect("without a live side a host was opened");
    let mut diff = Diff::new().render(RenderOptions::default().with_scope(config.scope.clone()));
    if let Some(dev) = dev.as_mut() {
        diff = diff.scratch_host(dev.store.as_mut());
    }
    let mut cache = FileCache::for_command(config, &args.cache);
    if let Some(cache) = cache.as_mut() {
        diff = diff.cache(cache);
    }
    let plan = diff
        .run(
            side(&from_loaded, from_db.as_mut()),
            side(&to_loaded, to_db.as_mut()),
        )
        .await
        .map_err(|error| CliError::engine(error, url))?;
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
        Some(error) => Err(error.with_document(output.format(), &plan)),
        None => Ok(()),
    }
}
