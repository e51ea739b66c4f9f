//! The desired-schema cache of `push`, `generate` and `diff` ([`SchemaCache`]): one JSON
//! file per key in `<cache folder>/desired/`, written whole under a temporary name and then
//! renamed, so a reader never sees half a file and runs in parallel never mix two.
//!
//! Core's key covers the files, the namespaces created before them, godwit's version and the
//! server; a file also records the binary that wrote it (its size and modification time),
//! so a rebuilt godwit of the same version, whose normalisation may differ, reads none of
//! an older build's entries. Anything unreadable is a miss; the newest [`KEEP`] entries are
//! kept, so the folder stays a few files however often the schema changes.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use godwit_core::declarative::{CacheKey, SchemaCache};
use godwit_core::schema::Schema;
use serde::{Deserialize, Serialize};

use crate::args::CacheArgs;
use crate::config::Config;

/// How many entries stay after a new one is written.
const KEEP: usize = 16;

/// Desired schemas kept as files in a folder.
#[derive(Debug)]
pub(crate) struct FileCache {
    dir: PathBuf,
    binary: String,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    binary: String,
    schema: Schema,
}

impl FileCache {
    /// The cache a command uses: the configured folder's, unless `--no-cache` said none or no
    /// folder can be named.
    pub(crate) fn for_command(config: &Config, args: &CacheArgs) -> Option<FileCache> {
        if args.no_cache {
            return None;
        }
        config.cache_dir.as_deref().map(FileCache::new)
    }

    /// The cache in `root` (the configured cache folder).
    pub(crate) fn new(root: &Path) -> FileCache {
        FileCache {
            dir: root.join("desired"),
            binary: binary_identity(),
        }
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    fn write(&self, key: &CacheKey, schema: &Schema) -> std::io::Result<()> {
        let entry = Entry {
            binary: self.binary.clone(),
            schema: schema.clone(),
        };
        let json = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        std::fs::create_dir_all(&self.dir)?;
        let temporary = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, self.path(key)).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
    }

    /// Remove all but the [`KEEP`] newest entries (and temporary files left by a crash).
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .filter_map(|entry| {
                let modified = entry.metadata().ok()?.modified().ok()?;
                Some((modified, entry.path()))
            })
            .collect();
        files.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        for (_, path) in files.into_iter().skip(KEEP) {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl SchemaCache for FileCache {
    fn get(&mut self, key: &CacheKey) -> Option<Schema> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        match serde_json::from_slice::<Entry>(&bytes) {
            Ok(entry) if entry.binary == self.binary => Some(entry.schema),
            Ok(_) => None,
            Err(error) => {
                tracing::debug!(%error, %key, "ignoring a desired-schema cache entry that cannot be read");
                None
            }
        }
    }

    fn put(&mut self, key: &CacheKey, schema: &Schema) {
        match self.write(key, schema) {
            Ok(()) => self.prune(),
            Err(error) => tracing::debug!(
                %error,
                dir = %self.dir.display(),
                "could not keep the desired schema in the cache; the next run builds it again"
            ),
        }
    }
}

/// This binary's size and modification time, or its version alone where they cannot be read.
fn binary_identity() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let metadata = std::env::current_exe().and_then(std::fs::metadata);
    match metadata {
        Ok(metadata) => {
            let modified = metadata
                .modified()
                .ok()
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_nanos());
            format!("{version} {} {modified}", metadata.len())
        }
        Err(_) => version.to_string(),
    }
}
