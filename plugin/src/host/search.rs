//! Where a program finds its plugins: the ones its configuration names, every library in the
//! folders of `GODWIT_PLUGIN_PATH`, and every library in the default folder
//! ([`default_dir`]). Each file is loaded once, the first place it is found.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::host::{LoadError, PluginBackend, load};

/// The environment variable naming plugin folders, separated as `PATH` is.
pub const PLUGIN_PATH_VAR: &str = "GODWIT_PLUGIN_PATH";

/// Where a plugin was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// Named in the configuration (`plugins = [...]`).
    Config,
    /// In a folder of [`PLUGIN_PATH_VAR`].
    Env,
    /// In the default folder.
    Default,
}

/// One plugin file found, loaded or refused.
#[derive(Debug)]
#[non_exhaustive]
pub struct Found {
    /// The file, or for a name not found, the name.
    pub path: PathBuf,
    /// Where it was found.
    pub source: Source,
    /// The plugin, or why it was refused.
    pub result: Result<PluginBackend, LoadError>,
}

/// Where to look.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SearchPath {
    /// The configuration's entries (a path, or a plugin's name to look for in the folders),
    /// and the folder relative paths are read from (the configuration file's).
    pub named: Vec<String>,
    /// That folder.
    pub base: PathBuf,
    /// The folders of [`PLUGIN_PATH_VAR`].
    pub env_dirs: Vec<PathBuf>,
    /// The default folder, when the platform has one.
    pub default_dir: Option<PathBuf>,
}

impl SearchPath {
    /// The configuration's `entries` (relative to `base`), the folders of `env_value` (the
    /// value of [`PLUGIN_PATH_VAR`]), and [`default_dir`].
    pub fn new(entries: &[String], base: &Path, env_value: Option<&OsStr>) -> Self {
        SearchPath {
            named: entries.to_vec(),
            base: base.to_path_buf(),
            env_dirs: env_value
                .map(|value| {
                    std::env::split_paths(value)
                        .filter(|dir| !dir.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            default_dir: default_dir(),
        }
    }

    /// The folders searched, in order.
    pub fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.env_dirs
            .iter()
            .map(PathBuf::as_path)
            .chain(self.default_dir.as_deref())
    }

    /// Find and load every plugin. A folder that does not exist holds none.
    pub fn load(&self) -> Vec<Found> {
        let mut files: Vec<(PathBuf, Source)> = Vec::new();
        let mut found = Vec::new();
        for entry in &self.named {
            match self.resolve(entry) {
                Some(path) => files.push((path, Source::Config)),
                None => found.push(Found {
                    path: PathBuf::from(entry),
                    source: Source::Config,
                    result: Err(LoadError::NotFound {
                        name: entry.clone(),
                        searched: self.dirs().map(Path::to_path_buf).collect(),
                    }),
                }),
            }
        }
        for dir in &self.env_dirs {
            files.extend(
                libraries_in(dir)
                    .into_iter()
                    .map(|path| (path, Source::Env)),
            );
        }
        if let Some(dir) = &self.default_dir {
            files.extend(
                libraries_in(dir)
                    .into_iter()
                    .map(|path| (path, Source::Default)),
            );
        }
        let mut seen: Vec<PathBuf> = Vec::new();
        for (path, source) in files {
            let key = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let result = load(&path);
            found.push(Found {
                path,
                source,
                result,
            });
        }
        found
    }

    /// The file a configuration entry names: a path (it has a folder or the platform's
    /// library suffix), or a plugin's name (`mysql`, `godwit-mysql`) found in the folders as
    /// the platform names its library (`libgodwit_mysql.so`).
    fn resolve(&self, entry: &str) -> Option<PathBuf> {
        let as_path = Path::new(entry);
        if as_path.components().count() > 1 || entry.ends_with(std::env::consts::DLL_SUFFIX) {
            return Some(self.base.join(as_path));
        }
        let stem = entry.replace('-', "_");
        let names = [stem.clone(), format!("godwit_{stem}")].map(|stem| {
            format!(
                "{}{stem}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            )
        });
        self.dirs()
            .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
            .find(|path| path.is_file())
    }
}

/// The libraries in `dir`, by name; none when it cannot be read.
fn libraries_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .file_name()
                    .and_then(OsStr::to_str)
                    .is_some_and(|name| name.ends_with(std::env::consts::DLL_SUFFIX))
        })
        .collect();
    paths.sort();
    paths
}

/// The default plugin folder: `godwit/plugins` in the platform's folder for a user's data
/// (`$XDG_DATA_HOME`, else `~/.local/share`, on Linux and other Unix; `~/Library/Application
/// Support` on macOS; `%APPDATA%` on Windows). `None` when the environment names no home.
pub fn default_dir() -> Option<PathBuf> {
    let env_dir = |name: &str| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    let data = if cfg!(windows) {
        env_dir("APPDATA")
    } else if cfg!(target_os = "macos") {
        env_dir("HOME").map(|home| home.join("Library").join("Application Support"))
    } else {
        env_dir("XDG_DATA_HOME")
            .or_else(|| env_dir("HOME").map(|home| home.join(".local").join("share")))
    };
    data.map(|data| data.join("godwit").join("plugins"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(name: &str) -> String {
        format!(
            "{}{name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
    }

    #[test]
    fn an_entry_is_a_path_from_the_config_folder_or_a_name_in_the_folders() {
        let dir = tempfile::tempdir().unwrap();
        let env_dir = dir.path().join("env");
        let default = dir.path().join("default");
        std::fs::create_dir_all(&env_dir).unwrap();
        std::fs::create_dir_all(&default).unwrap();
        std::fs::write(default.join(library("godwit_mysql")), "").unwrap();
        std::fs::write(env_dir.join(library("oracle")), "").unwrap();
        let search = SearchPath {
            named: Vec::new(),
            base: dir.path().join("project"),
            env_dirs: vec![env_dir.clone()],
            default_dir: Some(default.clone()),
        };
        assert_eq!(
            search.resolve("plugins/x.so"),
            Some(dir.path().join("project/plugins/x.so"))
        );
        let bare = library("godwit_mysql");
        assert_eq!(
            search.resolve(&bare),
            Some(dir.path().join("project").join(&bare))
        );
        assert_eq!(
            search.resolve("mysql"),
            Some(default.join(library("godwit_mysql")))
        );
        assert_eq!(
            search.resolve("godwit-mysql"),
            Some(default.join(library("godwit_mysql")))
        );
        assert_eq!(
            search.resolve("oracle"),
            Some(env_dir.join(library("oracle")))
        );
        assert_eq!(search.resolve("db2"), None);
        assert_eq!(
            libraries_in(&env_dir),
            vec![env_dir.join(library("oracle"))]
        );
        assert_eq!(
            libraries_in(&dir.path().join("missing")),
            Vec::<PathBuf>::new()
        );
    }
}
