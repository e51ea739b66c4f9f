//! The normalised desired schema, kept between runs.
//!
//! Reading a schema file back from a scratch database costs what creating its schema costs
//! the engine; the edit-push-edit loop of development pays it on every run, though the file
//! changed only now and then. [`SchemaCache`] keeps what a file gave, under a [`CacheKey`]
//! that names everything the result depends on: the files' text, the namespaces created
//! before them, godwit's version, the dialect, and what the dialect's fingerprint query says
//! of the server ([`crate::Dialect::normalisation_fingerprint_query`]: on PostgreSQL its
//! version and start, configuration, role, search path, encoding and the extensions it
//! offers). A change to any of them is another key, so an entry is never used for a file or a
//! server it was not made for. Files that run code are never cached (see
//! [`super::desired_schema_cached`]), nor are failures. `generate` keeps the schema its
//! migrations produce the same way, when every statement of them screens as schema (no
//! code, no data), since only then does their text alone decide what they make. Where entries live is the caller's:
//! core does no I/O (the CLI keeps them in files under the user's cache folder).

use std::fmt::{self, Debug, Write as _};

use sha2::{Digest, Sha256};

use super::SchemaSource;
use crate::error::Error;
use crate::migration::Migrations;
use crate::schema::Schema;
use crate::store::Store;

/// Bumped when what a key covers changes, so older entries are never read as current.
const FORMAT: &str = "godwit desired schema cache 1";

/// Where normalised desired schemas are kept between runs, by [`CacheKey`].
pub trait SchemaCache: Send + Debug {
    /// The schema stored under `key`, if any. An entry that cannot be read is a miss.
    fn get(&mut self, key: &CacheKey) -> Option<Schema>;

    /// Keep `schema` under `key`. The cache only saves time: a failure to store is the
    /// implementation's to log, never an error of the run.
    fn put(&mut self, key: &CacheKey, schema: &Schema);
}

/// What a cached desired schema was made from, as a SHA-256 digest in hex (64 characters,
/// usable as a file name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// The digest, in lowercase hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key of `source`'s desired schema built on a scratch database of `host`, after
    /// `namespaces` were created on it; `None` when the dialect has no fingerprint query,
    /// which turns caching off. The fingerprint costs one query on `host`.
    pub(super) async fn of(
        host: &mut dyn Store,
        source: &SchemaSource,
        namespaces: &[String],
    ) -> Result<Option<CacheKey>, Error> {
        let texts = source.files.iter().map(|(_, sql)| sql.as_str());
        CacheKey::over(host, "schema", texts, namespaces).await
    }

    /// The key of the schema `migrations` produce replayed on a scratch database of `host`
    /// ([`super::replay_migrations`]); `None` as for [`CacheKey::of`].
    pub(super) async fn of_migrations(
        host: &mut dyn Store,
        migrations: &Migrations,
    ) -> Result<Option<CacheKey>, Error> {
        // The version and the directives decide how a script runs, beside its text.
        let texts: Vec<String> = migrations
            .iter()
            .map(|m| format!("{} {:?}\n{}", m.version, m.up.directives, m.up.sql))
            .collect();
        CacheKey::over(host, "migrations", texts.iter().map(String::as_str), &[]).await
    }

    async fn over(
        host: &mut dyn Store,
        kind: &str,
        texts: impl ExactSizeIterator<Item = &str>,
        namespaces: &[String],
    ) -> Result<Option<CacheKey>, Error> {
        let Some(query) = host.dialect().normalisation_fingerprint_query() else {
            return Ok(None);
        };
        let rows = host.query(query, &[]).await?;
        let mut key = KeyHasher(Sha256::new());
        key.text(FORMAT);
        key.text(env!("CARGO_PKG_VERSION"));
        key.text(host.dialect().name());
        key.text(kind);
        key.count(rows.len());
        for row in &rows {
            key.count(row.len());
            for value in row {
                key.text(&format!("{value:?}"));
            }
        }
        key.count(namespaces.len());
        for namespace in namespaces {
            key.text(namespace);
        }
        key.count(texts.len());
        for text in texts {
            key.text(text);
        }
        Ok(Some(key.finish()))
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every part is fed with its length first, so no two lists of parts feed the same bytes.
struct KeyHasher(Sha256);

impl KeyHasher {
    fn count(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn text(&mut self, text: &str) {
        self.count(text.len());
        self.0.update(text.as_bytes());
    }

    fn finish(self) -> CacheKey {
        let mut hex = String::with_capacity(64);
        for byte in self.0.finalize() {
            let _ = write!(hex, "{byte:02x}");
        }
        CacheKey(hex)
    }
}
