//! [`Diff`]: the statements from one schema to another, each a live database, a schema source
//! or a folder of migrations. Changes nothing.

use super::check::replayed;
use super::{
    ChangePlan, DeclarativeError, SchemaCache, SchemaSource, desired_schema_cached, introspect,
    plan_changes,
};
use crate::dialect::RenderOptions;
use crate::diff::Renames;
use crate::error::Error;
use crate::history::HistoryTable;
use crate::migration::Migrations;
use crate::schema::Schema;
use crate::store::Store;

/// One side of a [`Diff`].
#[non_exhaustive]
#[derive(Debug)]
pub enum Side<'a> {
    /// A live database, read as it is (without godwit's own tables).
    Live {
        /// The connection.
        store: &'a mut dyn Store,
        /// Its history table, left out of the schema.
        history: &'a HistoryTable,
    },
    /// The schema a schema source describes, built on a scratch database.
    Schema(&'a SchemaSource),
    /// The schema a folder of migrations produces, replayed on a scratch database.
    Migrations(&'a Migrations),
}

/// The difference between two schemas, as the statements that turn one into the other.
///
/// Sides that are not live are built on scratch databases of the scratch host: the one given
/// with [`Diff::scratch_host`], else the server of a live side. Both sides must be of one
/// engine.
#[derive(Debug, Default)]
pub struct Diff<'a> {
    scratch_host: Option<&'a mut dyn Store>,
    cache: Option<&'a mut dyn SchemaCache>,
    render: RenderOptions,
}

/// A side read or still to be built.
enum Read<'a> {
    Done(Box<Schema>),
    Schema(&'a SchemaSource),
    Migrations(&'a Migrations),
}

impl<'a> Diff<'a> {
    /// A diff whose scratch databases are made on the server of a live side.
    pub fn new() -> Self {
        Diff::default()
    }

    /// Make scratch databases on `host` instead (a dev database).
    #[must_use]
    pub fn scratch_host(mut self, host: &'a mut dyn Store) -> Self {
        self.scratch_host = Some(host);
        self
    }

    /// Keep the schema a schema source describes in `cache`, and take it from there while the
    /// files and the scratch host's engine are what they were ([`SchemaCache`]).
    #[must_use]
    pub fn cache(mut self, cache: &'a mut dyn SchemaCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Render with `options` (privileges as far as its scope manages them).
    #[must_use]
    pub fn render(mut self, options: RenderOptions) -> Self {
        self.render = options;
        self
    }

    /// The statements that turn `from` into `to`. The schema file of `to` may use the
    /// namespaces of `from` without creating them, and its rename hints count.
    pub async fn run(self, from: Side<'a>, to: Side<'a>) -> Result<ChangePlan, Error> {
        let mut host = self.scratch_host;
        let mut cache = self.cache;
        let from = read(from, &mut host).await?;
        let to = read(to, &mut host).await?;
        // What is not live is built on the host; a schema source over the namespaces of
        // what `from` turned out to be.
        let mut build =
            async |side: Read<'_>, existing: &Schema| -> Result<(Schema, Renames), Error> {
                let schema = match side {
                    Read::Done(schema) => return Ok((*schema, Renames::default())),
                    Read::Schema(source) => {
                        let host = host.as_deref_mut().ok_or(DeclarativeError::NoScratchHost)?;
                        let hints = source.rename_hints()?;
                        let cache = cache.as_deref_mut();
                        let desired = desired_schema_cached(host, source, existing, cache).await?;
                        return Ok((desired, hints));
                    }
                    Read::Migrations(migrations) => {
                        let host = host.as_deref_mut().ok_or(DeclarativeError::NoScratchHost)?;
                        replayed(host, migrations, cache.as_deref_mut()).await?
                    }
                };
                Ok((schema, Renames::default()))
            };
        let (from, _) = build(from, &Schema::default()).await?;
        let (to, renames) = build(to, &from).await?;
        let host = host.ok_or(DeclarativeError::NoScratchHost)?;
        plan_changes(host.dialect(), &from, &to, &renames, &self.render)
    }
}

/// Read a live side now, keeping its connection as the scratch host when none was given.
async fn read<'a>(side: Side<'a>, host: &mut Option<&'a mut dyn Store>) -> Result<Read<'a>, Error> {
    Ok(match side {
        Side::Live { store, history } => {
            let schema = introspect(&mut *store, history).await?;
            if host.is_none() {
                *host = Some(store);
            }
            Read::Done(Box::new(schema))
        }
        Side::Schema(source) => Read::Schema(source),
        Side::Migrations(migrations) => Read::Migrations(migrations),
    })
}
